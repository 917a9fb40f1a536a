{
	"patcher": {
		"fileversion": 1,
		"appversion": {
			"major": 8,
			"minor": 6,
			"revision": 5,
			"architecture": "x64",
			"modernui": 1
		},
		"classnamespace": "box",
		"rect": [
			80.0,
			80.0,
			1240.0,
			760.0
		],
		"gridsize": [
			15.0,
			15.0
		],
		"default_fontsize": 12.0,
		"openinpresentation": 1,
		"devicewidth": 560.0,
		"description": "Query-Based Deep Improvisation: improvise on the clip in Detail View with a qbdi server.",
		"tags": "qbdi improvisation vae midi",
		"style": "",
		"dependency_cache": [],
		"latency": 0,
		"is_mpe": 0,
		"minimum_live_version": "",
		"minimum_max_version": "",
		"platform_compatibility": 0,
		"autosave": 0,
		"project": {
			"version": 1,
			"creationdate": 3590052786,
			"modificationdate": 3590052786,
			"viewrect": [
				0.0,
				0.0,
				300.0,
				500.0
			],
			"autoorganize": 1,
			"hideprojectwindow": 1,
			"showdependencies": 1,
			"autolocalize": 0,
			"contents": {
				"patchers": {}
			},
			"layout": {},
			"searchpath": {},
			"detailsvisible": 0,
			"amxdtype": 1835887981,
			"readonly": 0,
			"devpathtype": 0,
			"devpath": ".",
			"sortmode": 0,
			"viewmode": 0,
			"includepackages": 0
		},
		"boxes": [
			{
				"box": {
					"id": "obj-1",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"bang",
						"int",
						"int"
					],
					"patching_rect": [
						20.0,
						20.0,
						119.0,
						22.0
					],
					"text": "live.thisdevice"
				}
			},
			{
				"box": {
					"id": "obj-2",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						55.0,
						70.0,
						22.0
					],
					"text": "deferlow"
				}
			},
			{
				"box": {
					"id": "obj-3",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"bang",
						"bang"
					],
					"patching_rect": [
						20.0,
						90.0,
						49.0,
						22.0
					],
					"text": "t b b"
				}
			},
			{
				"box": {
					"id": "obj-4",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						125.0,
						42.0,
						22.0
					],
					"text": "init"
				}
			},
			{
				"box": {
					"id": "obj-5",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						200.0,
						20.0,
						170.0,
						22.0
					],
					"text": "udpreceive 7401 @defer 1"
				}
			},
			{
				"box": {
					"id": "obj-6",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 7,
					"outlettype": [
						"",
						"",
						"",
						"",
						"",
						"",
						""
					],
					"patching_rect": [
						20.0,
						400.0,
						500.0,
						22.0
					],
					"saved_object_attributes": {
						"filename": "qbdi_device.js",
						"parameter_enable": 0
					},
					"text": "js qbdi_device.js"
				}
			},
			{
				"box": {
					"id": "obj-7",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"outlettype": [],
					"patching_rect": [
						20.0,
						470.0,
						160.0,
						22.0
					],
					"text": "udpsend 127.0.0.1 7400"
				}
			},
			{
				"box": {
					"id": "obj-8",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"patching_rect": [
						560.0,
						470.0,
						260.0,
						22.0
					],
					"saved_object_attributes": {
						"autostart": 1,
						"defer": 0,
						"watch": 0
					},
					"text": "node.script qbdi_launcher.js @autostart 1"
				}
			},
			{
				"box": {
					"id": "obj-9",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						560.0,
						510.0,
						112.0,
						22.0
					],
					"text": "prepend server"
				}
			},
			{
				"box": {
					"id": "obj-10",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"outlettype": [],
					"patching_rect": [
						720.0,
						510.0,
						147.0,
						22.0
					],
					"text": "print qbdi-launcher"
				}
			},
			{
				"box": {
					"id": "obj-11",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 6,
					"outlettype": [
						"",
						"",
						"",
						"",
						"",
						""
					],
					"patching_rect": [
						300.0,
						470.0,
						260.0,
						22.0
					],
					"text": "route seed menu model_name loaded thru"
				}
			},
			{
				"box": {
					"id": "obj-12",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"bang"
					],
					"patching_rect": [
						200.0,
						55.0,
						49.0,
						22.0
					],
					"text": "t a b"
				}
			},
			{
				"box": {
					"fontface": 1,
					"id": "obj-13",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						600.0,
						150.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						6.0,
						2.0,
						150.0,
						20.0
					],
					"text": "QBDI Improviser"
				}
			},
			{
				"box": {
					"id": "obj-14",
					"ignoreclick": 1,
					"maxclass": "led",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						"int"
					],
					"patching_rect": [
						20.0,
						640.0,
						16.0,
						16.0
					],
					"presentation": 1,
					"presentation_rect": [
						6.0,
						146.0,
						16.0,
						16.0
					]
				}
			},
			{
				"box": {
					"id": "obj-15",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						40.0,
						640.0,
						420.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						26.0,
						144.0,
						530.0,
						20.0
					],
					"text": "○ no server"
				}
			},
			{
				"box": {
					"id": "obj-16",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						"bang"
					],
					"patching_rect": [
						200.0,
						125.0,
						84.0,
						22.0
					],
					"text": "delay 4000"
				}
			},
			{
				"box": {
					"id": "obj-17",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						200.0,
						160.0,
						560.0,
						22.0
					],
					"text": "set ○ ⚠ qbdi_device.js not found: keep the .js files next to the device (Max Console)"
				}
			},
			{
				"box": {
					"id": "obj-18",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						540.0,
						510.0,
						42.0,
						22.0
					],
					"text": "stop"
				}
			},
			{
				"box": {
					"annotation": "The model the server improvises with; the list comes from the server.",
					"annotation_name": "Model",
					"fontsize": 10.0,
					"id": "obj-19",
					"items": [
						"default"
					],
					"maxclass": "umenu",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"int",
						"",
						""
					],
					"patching_rect": [
						20.0,
						150.0,
						90.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						70.0,
						22.0,
						92.0,
						18.0
					],
					"varname": "model_menu"
				}
			},
			{
				"box": {
					"fontsize": 9.5,
					"id": "obj-20",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1100.0,
						42.0,
						60.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						6.0,
						24.0,
						60.0,
						15.0
					],
					"text": "Model"
				}
			},
			{
				"box": {
					"id": "obj-21",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						""
					],
					"patching_rect": [
						20.0,
						540.0,
						150.0,
						22.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Model Name",
							"parameter_shortname": "Model",
							"parameter_type": 3,
							"parameter_mmin": 0.0,
							"parameter_mmax": 127.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								"default"
							],
							"parameter_invisible": 1,
							"parameter_info": "The model this device asks for, saved with the Live set."
						}
					},
					"saved_object_attributes": {
						"parameter_enable": 1,
						"initial": [
							"default"
						]
					},
					"text": "pattr qbdi_model_name",
					"varname": "qbdi_model_name"
				}
			},
			{
				"box": {
					"id": "obj-22",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						570.0,
						147.0,
						22.0
					],
					"text": "prepend model_saved"
				}
			},
			{
				"box": {
					"id": "obj-23",
					"maxclass": "live.menu",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						140.0,
						150.0,
						90.0,
						15.0
					],
					"presentation": 1,
					"presentation_rect": [
						70.0,
						42.0,
						92.0,
						15.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Query Range",
							"parameter_shortname": "Query",
							"parameter_type": 2,
							"parameter_mmin": 0.0,
							"parameter_mmax": 2.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 0,
							"parameter_enum": [
								"clip",
								"loop",
								"selection"
							],
							"parameter_info": "Which notes of the clip are the query: the whole clip, its loop, or the selected notes."
						}
					},
					"varname": "query_range"
				}
			},
			{
				"box": {
					"fontsize": 9.5,
					"id": "obj-24",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1100.0,
						64.0,
						60.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						6.0,
						42.0,
						60.0,
						15.0
					],
					"text": "Query"
				}
			},
			{
				"box": {
					"id": "obj-25",
					"maxclass": "live.menu",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						260.0,
						150.0,
						90.0,
						15.0
					],
					"presentation": 1,
					"presentation_rect": [
						70.0,
						60.0,
						92.0,
						15.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Sampling",
							"parameter_shortname": "Sampling",
							"parameter_type": 2,
							"parameter_mmin": 0.0,
							"parameter_mmax": 1.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 0,
							"parameter_enum": [
								"threshold",
								"sample"
							],
							"parameter_info": "threshold: notes above Threshold; sample: draw notes at Temperature."
						}
					},
					"varname": "sampling"
				}
			},
			{
				"box": {
					"fontsize": 9.5,
					"id": "obj-26",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1100.0,
						86.0,
						60.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						6.0,
						60.0,
						60.0,
						15.0
					],
					"text": "Sampling"
				}
			},
			{
				"box": {
					"id": "obj-27",
					"maxclass": "live.menu",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						380.0,
						150.0,
						90.0,
						15.0
					],
					"presentation": 1,
					"presentation_rect": [
						70.0,
						78.0,
						92.0,
						15.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Z",
							"parameter_shortname": "Z",
							"parameter_type": 2,
							"parameter_mmin": 0.0,
							"parameter_mmax": 1.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 0,
							"parameter_enum": [
								"mean",
								"sample"
							],
							"parameter_info": "Encoder output: its mean (repeatable) or a sample."
						}
					},
					"varname": "z"
				}
			},
			{
				"box": {
					"fontsize": 9.5,
					"id": "obj-28",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1100.0,
						108.0,
						60.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						6.0,
						78.0,
						60.0,
						15.0
					],
					"text": "Z"
				}
			},
			{
				"box": {
					"id": "obj-29",
					"maxclass": "live.menu",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						500.0,
						150.0,
						90.0,
						15.0
					],
					"presentation": 1,
					"presentation_rect": [
						70.0,
						96.0,
						92.0,
						15.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Allocation",
							"parameter_shortname": "Alloc",
							"parameter_type": 2,
							"parameter_mmin": 0.0,
							"parameter_mmax": 1.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 0,
							"parameter_enum": [
								"query",
								"frame"
							],
							"parameter_info": "Bits shared out once per query, or for every bar."
						}
					},
					"varname": "allocation"
				}
			},
			{
				"box": {
					"fontsize": 9.5,
					"id": "obj-30",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1100.0,
						130.0,
						60.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						6.0,
						96.0,
						60.0,
						15.0
					],
					"text": "Allocation"
				}
			},
			{
				"box": {
					"id": "obj-31",
					"maxclass": "live.menu",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						620.0,
						150.0,
						90.0,
						15.0
					],
					"presentation": 1,
					"presentation_rect": [
						70.0,
						114.0,
						92.0,
						15.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Source",
							"parameter_shortname": "Source",
							"parameter_type": 2,
							"parameter_mmin": 0.0,
							"parameter_mmax": 2.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								1
							],
							"parameter_invisible": 0,
							"parameter_enum": [
								"posterior",
								"empirical",
								"prior"
							],
							"parameter_info": "Where the channel's statistics come from."
						}
					},
					"varname": "source"
				}
			},
			{
				"box": {
					"fontsize": 9.5,
					"id": "obj-32",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1100.0,
						152.0,
						60.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						6.0,
						114.0,
						60.0,
						15.0
					],
					"text": "Source"
				}
			},
			{
				"box": {
					"id": "obj-33",
					"maxclass": "live.dial",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						20.0,
						240.0,
						44.0,
						48.0
					],
					"presentation": 1,
					"presentation_rect": [
						170.0,
						20.0,
						44.0,
						48.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Rate",
							"parameter_shortname": "Rate",
							"parameter_type": 0,
							"parameter_mmin": 0.0,
							"parameter_mmax": 4096.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								256
							],
							"parameter_invisible": 0,
							"parameter_unitstyle": 9,
							"parameter_units": "%d bit",
							"parameter_exponent": 2.0,
							"parameter_info": "Bits per bar frame that survive from the query: 0 keeps nothing, high keeps almost all."
						}
					},
					"varname": "rate"
				}
			},
			{
				"box": {
					"id": "obj-34",
					"maxclass": "live.dial",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						140.0,
						240.0,
						44.0,
						48.0
					],
					"presentation": 1,
					"presentation_rect": [
						220.0,
						20.0,
						44.0,
						48.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Threshold",
							"parameter_shortname": "Thresh",
							"parameter_type": 0,
							"parameter_mmin": 0.01,
							"parameter_mmax": 0.99,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0.5
							],
							"parameter_invisible": 0,
							"parameter_unitstyle": 1,
							"parameter_exponent": 1.0,
							"parameter_info": "Note probability above which a note sounds (Sampling: threshold)."
						}
					},
					"varname": "threshold"
				}
			},
			{
				"box": {
					"id": "obj-35",
					"maxclass": "live.dial",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						260.0,
						240.0,
						44.0,
						48.0
					],
					"presentation": 1,
					"presentation_rect": [
						270.0,
						20.0,
						44.0,
						48.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Temperature",
							"parameter_shortname": "Temp",
							"parameter_type": 0,
							"parameter_mmin": 0.01,
							"parameter_mmax": 10.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								1.0
							],
							"parameter_invisible": 0,
							"parameter_unitstyle": 1,
							"parameter_exponent": 3.0,
							"parameter_info": "Sampling temperature (Sampling: sample): lower is tamer."
						}
					},
					"varname": "temperature"
				}
			},
			{
				"box": {
					"id": "obj-36",
					"maxclass": "live.text",
					"mode": 1,
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"parameter_enable": 1,
					"patching_rect": [
						380.0,
						240.0,
						44.0,
						15.0
					],
					"presentation": 1,
					"presentation_rect": [
						170.0,
						74.0,
						44.0,
						15.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Full Rate",
							"parameter_shortname": "Full",
							"parameter_type": 2,
							"parameter_mmin": 0.0,
							"parameter_mmax": 1.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 0,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_info": "Bypass the channel: the query passes at full rate."
						}
					},
					"text": "Full",
					"texton": "Full",
					"varname": "rate_full"
				}
			},
			{
				"box": {
					"id": "obj-37",
					"maxclass": "live.text",
					"mode": 1,
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"parameter_enable": 1,
					"patching_rect": [
						500.0,
						240.0,
						44.0,
						15.0
					],
					"presentation": 1,
					"presentation_rect": [
						220.0,
						74.0,
						44.0,
						15.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Structure",
							"parameter_shortname": "Struct",
							"parameter_type": 2,
							"parameter_mmin": 0.0,
							"parameter_mmax": 1.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 0,
							"parameter_enum": [
								"free",
								"lock"
							],
							"parameter_info": "lock: bars that repeat in the query repeat in the improvisation."
						}
					},
					"text": "free",
					"texton": "lock",
					"varname": "structure"
				}
			},
			{
				"box": {
					"id": "obj-38",
					"maxclass": "live.numbox",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						20.0,
						330.0,
						60.0,
						15.0
					],
					"presentation": 1,
					"presentation_rect": [
						170.0,
						106.0,
						60.0,
						15.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Seed",
							"parameter_shortname": "Seed",
							"parameter_type": 0,
							"parameter_mmin": 0.0,
							"parameter_mmax": 16777215.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 0,
							"parameter_unitstyle": 0,
							"parameter_exponent": 1.0,
							"parameter_info": "Same seed and settings, same notes. Re-roll picks a new one."
						}
					},
					"varname": "seed"
				}
			},
			{
				"box": {
					"fontsize": 9.5,
					"id": "obj-39",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1100.0,
						174.0,
						60.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						170.0,
						92.0,
						60.0,
						14.0
					],
					"text": "Seed"
				}
			},
			{
				"box": {
					"id": "obj-40",
					"maxclass": "live.numbox",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						140.0,
						330.0,
						44.0,
						15.0
					],
					"presentation": 1,
					"presentation_rect": [
						234.0,
						106.0,
						40.0,
						15.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Bars",
							"parameter_shortname": "Bars",
							"parameter_type": 0,
							"parameter_mmin": 1.0,
							"parameter_mmax": 512.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								8
							],
							"parameter_invisible": 0,
							"parameter_unitstyle": 0,
							"parameter_exponent": 1.0,
							"parameter_info": "Length of a free improvisation, in bars."
						}
					},
					"varname": "bars"
				}
			},
			{
				"box": {
					"fontsize": 9.5,
					"id": "obj-41",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1100.0,
						196.0,
						60.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						234.0,
						92.0,
						40.0,
						14.0
					],
					"text": "Bars"
				}
			},
			{
				"box": {
					"id": "obj-42",
					"maxclass": "live.numbox",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						260.0,
						330.0,
						44.0,
						15.0
					],
					"presentation": 1,
					"presentation_rect": [
						278.0,
						106.0,
						40.0,
						15.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Continue Bars",
							"parameter_shortname": "Cont",
							"parameter_type": 0,
							"parameter_mmin": 1.0,
							"parameter_mmax": 512.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								4
							],
							"parameter_invisible": 0,
							"parameter_unitstyle": 0,
							"parameter_exponent": 1.0,
							"parameter_info": "Bars the Continue button adds after the query."
						}
					},
					"varname": "continue_bars"
				}
			},
			{
				"box": {
					"fontsize": 9.5,
					"id": "obj-43",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1100.0,
						218.0,
						60.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						278.0,
						92.0,
						44.0,
						14.0
					],
					"text": "Continue"
				}
			},
			{
				"box": {
					"id": "obj-44",
					"maxclass": "live.numbox",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						500.0,
						330.0,
						30.0,
						15.0
					],
					"presentation": 1,
					"presentation_rect": [
						322.0,
						106.0,
						24.0,
						15.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Variations",
							"parameter_shortname": "Vars",
							"parameter_type": 0,
							"parameter_mmin": 1.0,
							"parameter_mmax": 8.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								1
							],
							"parameter_invisible": 1,
							"parameter_unitstyle": 0,
							"parameter_exponent": 1.0,
							"parameter_info": "Clips one press writes, with consecutive seeds (Seed, Seed+1, ...), each named with its seed."
						}
					},
					"varname": "variations"
				}
			},
			{
				"box": {
					"fontsize": 9.5,
					"id": "obj-45",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1100.0,
						240.0,
						60.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						322.0,
						92.0,
						28.0,
						14.0
					],
					"text": "Vars"
				}
			},
			{
				"box": {
					"id": "obj-46",
					"maxclass": "live.text",
					"mode": 1,
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"parameter_enable": 1,
					"patching_rect": [
						20.0,
						420.0,
						44.0,
						15.0
					],
					"presentation": 1,
					"presentation_rect": [
						330.0,
						2.0,
						62.0,
						15.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Install",
							"parameter_shortname": "Install",
							"parameter_type": 2,
							"parameter_mmin": 0.0,
							"parameter_mmax": 1.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								1
							],
							"parameter_invisible": 1,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_info": "On: the first run copies the server into ~/Documents/qbdi and the scripts into the Max package qbdi (it says so first), so collected and frozen sets find them; an update replaces those folders. Off: nothing is copied."
						}
					},
					"text": "Install",
					"texton": "Install",
					"varname": "install"
				}
			},
			{
				"box": {
					"id": "obj-47",
					"maxclass": "live.numbox",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						380.0,
						330.0,
						60.0,
						15.0
					],
					"presentation": 1,
					"presentation_rect": [
						234.0,
						124.0,
						50.0,
						15.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Server Port",
							"parameter_shortname": "Port",
							"parameter_type": 0,
							"parameter_mmin": 1024.0,
							"parameter_mmax": 65535.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								7400
							],
							"parameter_invisible": 1,
							"parameter_unitstyle": 0,
							"parameter_exponent": 1.0,
							"parameter_info": "UDP port of the qbdi server (default 7400)."
						}
					},
					"varname": "server_port"
				}
			},
			{
				"box": {
					"fontsize": 9.5,
					"id": "obj-48",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1100.0,
						262.0,
						60.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						170.0,
						124.0,
						62.0,
						14.0
					],
					"text": "Server port"
				}
			},
			{
				"box": {
					"id": "obj-49",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						175.0,
						147.0,
						22.0
					],
					"text": "prepend model_index"
				}
			},
			{
				"box": {
					"id": "obj-50",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						140.0,
						175.0,
						147.0,
						22.0
					],
					"text": "prepend query_range"
				}
			},
			{
				"box": {
					"id": "obj-51",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						260.0,
						175.0,
						126.0,
						22.0
					],
					"text": "prepend sampling"
				}
			},
			{
				"box": {
					"id": "obj-52",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						380.0,
						175.0,
						77.0,
						22.0
					],
					"text": "prepend z"
				}
			},
			{
				"box": {
					"id": "obj-53",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						500.0,
						175.0,
						140.0,
						22.0
					],
					"text": "prepend allocation"
				}
			},
			{
				"box": {
					"id": "obj-54",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						620.0,
						175.0,
						112.0,
						22.0
					],
					"text": "prepend source"
				}
			},
			{
				"box": {
					"id": "obj-55",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						265.0,
						98.0,
						22.0
					],
					"text": "prepend rate"
				}
			},
			{
				"box": {
					"id": "obj-56",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						380.0,
						265.0,
						133.0,
						22.0
					],
					"text": "prepend rate_full"
				}
			},
			{
				"box": {
					"id": "obj-57",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						140.0,
						265.0,
						133.0,
						22.0
					],
					"text": "prepend threshold"
				}
			},
			{
				"box": {
					"id": "obj-58",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						260.0,
						265.0,
						147.0,
						22.0
					],
					"text": "prepend temperature"
				}
			},
			{
				"box": {
					"id": "obj-59",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						500.0,
						265.0,
						133.0,
						22.0
					],
					"text": "prepend structure"
				}
			},
			{
				"box": {
					"id": "obj-60",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						355.0,
						98.0,
						22.0
					],
					"text": "prepend seed"
				}
			},
			{
				"box": {
					"id": "obj-61",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						140.0,
						355.0,
						98.0,
						22.0
					],
					"text": "prepend bars"
				}
			},
			{
				"box": {
					"id": "obj-62",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						260.0,
						355.0,
						161.0,
						22.0
					],
					"text": "prepend continue_bars"
				}
			},
			{
				"box": {
					"id": "obj-63",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						500.0,
						355.0,
						140.0,
						22.0
					],
					"text": "prepend variations"
				}
			},
			{
				"box": {
					"id": "obj-64",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						380.0,
						355.0,
						147.0,
						22.0
					],
					"text": "prepend server_port"
				}
			},
			{
				"box": {
					"id": "obj-65",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						445.0,
						119.0,
						22.0
					],
					"text": "prepend install"
				}
			},
			{
				"box": {
					"id": "obj-66",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						300.0,
						510.0,
						91.0,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-67",
					"maxclass": "live.text",
					"mode": 0,
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"parameter_enable": 1,
					"patching_rect": [
						700.0,
						20.0,
						80.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						350.0,
						20.0,
						110.0,
						22.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Improvise",
							"parameter_shortname": "Improvise",
							"parameter_type": 2,
							"parameter_mmin": 0.0,
							"parameter_mmax": 1.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 2,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_info": "Improvise on the clip in Detail View (Variations clips)."
						}
					},
					"text": "Improvise",
					"texton": "Improvise",
					"varname": "improvise"
				}
			},
			{
				"box": {
					"id": "obj-68",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						700.0,
						60.0,
						133.0,
						22.0
					],
					"text": "prepend improvise"
				}
			},
			{
				"box": {
					"id": "obj-69",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						700.0,
						95.0,
						70.0,
						22.0
					],
					"text": "deferlow"
				}
			},
			{
				"box": {
					"id": "obj-70",
					"maxclass": "live.text",
					"mode": 0,
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"parameter_enable": 1,
					"patching_rect": [
						790.0,
						20.0,
						80.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						350.0,
						48.0,
						110.0,
						22.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Continue",
							"parameter_shortname": "Continue",
							"parameter_type": 2,
							"parameter_mmin": 0.0,
							"parameter_mmax": 1.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 2,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_info": "Improvise and continue past the query by Continue Bars."
						}
					},
					"text": "Continue",
					"texton": "Continue",
					"varname": "continue_clip"
				}
			},
			{
				"box": {
					"id": "obj-71",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						790.0,
						60.0,
						161.0,
						22.0
					],
					"text": "prepend continue_clip"
				}
			},
			{
				"box": {
					"id": "obj-72",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						790.0,
						95.0,
						70.0,
						22.0
					],
					"text": "deferlow"
				}
			},
			{
				"box": {
					"id": "obj-73",
					"maxclass": "live.text",
					"mode": 0,
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"parameter_enable": 1,
					"patching_rect": [
						880.0,
						20.0,
						80.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						350.0,
						76.0,
						110.0,
						22.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Re-roll",
							"parameter_shortname": "Re-roll",
							"parameter_type": 2,
							"parameter_mmin": 0.0,
							"parameter_mmax": 1.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 2,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_info": "New seed, same settings, improvise again."
						}
					},
					"text": "Re-roll",
					"texton": "Re-roll",
					"varname": "reroll"
				}
			},
			{
				"box": {
					"id": "obj-74",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						880.0,
						60.0,
						112.0,
						22.0
					],
					"text": "prepend reroll"
				}
			},
			{
				"box": {
					"id": "obj-75",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						880.0,
						95.0,
						70.0,
						22.0
					],
					"text": "deferlow"
				}
			},
			{
				"box": {
					"id": "obj-76",
					"maxclass": "live.text",
					"mode": 0,
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"parameter_enable": 1,
					"patching_rect": [
						970.0,
						20.0,
						80.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						350.0,
						104.0,
						110.0,
						22.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Free Improvise",
							"parameter_shortname": "Free",
							"parameter_type": 2,
							"parameter_mmin": 0.0,
							"parameter_mmax": 1.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 2,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_info": "Improvise Bars bars with no query."
						}
					},
					"text": "Free",
					"texton": "Free",
					"varname": "free"
				}
			},
			{
				"box": {
					"id": "obj-77",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						970.0,
						60.0,
						98.0,
						22.0
					],
					"text": "prepend free"
				}
			},
			{
				"box": {
					"id": "obj-78",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						970.0,
						95.0,
						70.0,
						22.0
					],
					"text": "deferlow"
				}
			},
			{
				"box": {
					"id": "obj-79",
					"maxclass": "live.text",
					"mode": 0,
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"parameter_enable": 1,
					"patching_rect": [
						1060.0,
						20.0,
						80.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						396.0,
						2.0,
						64.0,
						15.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Diagnose",
							"parameter_shortname": "Diagnose",
							"parameter_type": 2,
							"parameter_mmin": 0.0,
							"parameter_mmax": 1.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 2,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_info": "Check everything the device needs; a report goes to the Max Console and ~/Documents/qbdi/qbdi-diagnose.txt."
						}
					},
					"text": "Diagnose",
					"texton": "Diagnose",
					"varname": "diagnose"
				}
			},
			{
				"box": {
					"id": "obj-80",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1060.0,
						60.0,
						126.0,
						22.0
					],
					"text": "prepend diagnose"
				}
			},
			{
				"box": {
					"id": "obj-81",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1060.0,
						95.0,
						70.0,
						22.0
					],
					"text": "deferlow"
				}
			},
			{
				"box": {
					"id": "obj-82",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						"int"
					],
					"patching_rect": [
						900.0,
						560.0,
						56.0,
						22.0
					],
					"text": "midiin"
				}
			},
			{
				"box": {
					"id": "obj-83",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"int",
						"int"
					],
					"patching_rect": [
						900.0,
						590.0,
						49.0,
						22.0
					],
					"text": "t i i"
				}
			},
			{
				"box": {
					"id": "obj-84",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						900.0,
						650.0,
						70.0,
						22.0
					],
					"text": "gate 1 1"
				}
			},
			{
				"box": {
					"id": "obj-85",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"outlettype": [],
					"patching_rect": [
						900.0,
						760.0,
						63.0,
						22.0
					],
					"text": "midiout"
				}
			},
			{
				"box": {
					"id": "obj-86",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 4,
					"outlettype": [
						"",
						"",
						"",
						""
					],
					"patching_rect": [
						960.0,
						600.0,
						90.0,
						22.0
					],
					"text": "route m t n"
				}
			},
			{
				"box": {
					"id": "obj-87",
					"maxclass": "newobj",
					"numinlets": 3,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						960.0,
						730.0,
						84.0,
						22.0
					],
					"text": "pack 0 0 0"
				}
			},
			{
				"box": {
					"id": "obj-88",
					"maxclass": "newobj",
					"numinlets": 4,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						""
					],
					"patching_rect": [
						960.0,
						650.0,
						190.0,
						22.0
					],
					"text": "pipe 0 0 0 0 @delaytime 0 ticks"
				}
			},
			{
				"box": {
					"id": "obj-89",
					"maxclass": "newobj",
					"numinlets": 4,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						""
					],
					"patching_rect": [
						1040.0,
						670.0,
						190.0,
						22.0
					],
					"text": "pipe 0 0 0 0 @delaytime 0 ticks"
				}
			},
			{
				"box": {
					"id": "obj-90",
					"maxclass": "newobj",
					"numinlets": 4,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						""
					],
					"patching_rect": [
						1120.0,
						690.0,
						90.0,
						22.0
					],
					"text": "pipe 0 0 0 0"
				}
			},
			{
				"box": {
					"id": "obj-91",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"bang",
						"bang"
					],
					"patching_rect": [
						1260.0,
						480.0,
						49.0,
						22.0
					],
					"text": "t b b"
				}
			},
			{
				"box": {
					"id": "obj-92",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 9,
					"outlettype": [
						"int",
						"int",
						"float",
						"float",
						"float",
						"",
						"int",
						"float",
						""
					],
					"patching_rect": [
						1300.0,
						505.0,
						77.0,
						22.0
					],
					"text": "transport"
				}
			},
			{
				"box": {
					"id": "obj-93",
					"maxclass": "newobj",
					"numinlets": 3,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1260.0,
						530.0,
						91.0,
						22.0
					],
					"text": "pack 0 0 0."
				}
			},
			{
				"box": {
					"id": "obj-94",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1260.0,
						555.0,
						105.0,
						22.0
					],
					"text": "prepend stamp"
				}
			},
			{
				"box": {
					"id": "obj-95",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 8,
					"outlettype": [
						"",
						"",
						"",
						"int",
						"int",
						"",
						"int",
						""
					],
					"patching_rect": [
						1000.0,
						590.0,
						77.0,
						22.0
					],
					"text": "midiparse"
				}
			},
			{
				"box": {
					"id": "obj-96",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"bang"
					],
					"patching_rect": [
						1000.0,
						620.0,
						49.0,
						22.0
					],
					"text": "t l b"
				}
			},
			{
				"box": {
					"id": "obj-97",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 9,
					"outlettype": [
						"int",
						"int",
						"float",
						"float",
						"float",
						"",
						"int",
						"float",
						""
					],
					"patching_rect": [
						1060.0,
						650.0,
						77.0,
						22.0
					],
					"text": "transport"
				}
			},
			{
				"box": {
					"id": "obj-98",
					"maxclass": "newobj",
					"numinlets": 3,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1000.0,
						680.0,
						91.0,
						22.0
					],
					"text": "pack 0 0 0."
				}
			},
			{
				"box": {
					"id": "obj-99",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1000.0,
						710.0,
						98.0,
						22.0
					],
					"text": "prepend note"
				}
			},
			{
				"box": {
					"id": "obj-100",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						"bang"
					],
					"patching_rect": [
						1200.0,
						560.0,
						245.0,
						22.0
					],
					"text": "metro 32n @quantize 32n @active 1"
				}
			},
			{
				"box": {
					"id": "obj-101",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"bang",
						"bang"
					],
					"patching_rect": [
						1200.0,
						590.0,
						49.0,
						22.0
					],
					"text": "t b b"
				}
			},
			{
				"box": {
					"id": "obj-102",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 9,
					"outlettype": [
						"int",
						"int",
						"float",
						"float",
						"float",
						"",
						"int",
						"float",
						""
					],
					"patching_rect": [
						1240.0,
						620.0,
						77.0,
						22.0
					],
					"text": "transport"
				}
			},
			{
				"box": {
					"id": "obj-103",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"int",
						"int"
					],
					"patching_rect": [
						1320.0,
						650.0,
						84.0,
						22.0
					],
					"text": "unpack 0 0"
				}
			},
			{
				"box": {
					"id": "obj-104",
					"maxclass": "newobj",
					"numinlets": 6,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1200.0,
						680.0,
						140.0,
						22.0
					],
					"text": "pack 1 0 0. 0. 0 0"
				}
			},
			{
				"box": {
					"id": "obj-105",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1200.0,
						710.0,
						105.0,
						22.0
					],
					"text": "prepend clock"
				}
			},
			{
				"box": {
					"id": "obj-106",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						"bang"
					],
					"patching_rect": [
						1500.0,
						560.0,
						140.0,
						22.0
					],
					"text": "metro 50 @active 1"
				}
			},
			{
				"box": {
					"id": "obj-107",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"bang",
						"bang"
					],
					"patching_rect": [
						1500.0,
						590.0,
						49.0,
						22.0
					],
					"text": "t b b"
				}
			},
			{
				"box": {
					"id": "obj-108",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 9,
					"outlettype": [
						"int",
						"int",
						"float",
						"float",
						"float",
						"",
						"int",
						"float",
						""
					],
					"patching_rect": [
						1540.0,
						620.0,
						77.0,
						22.0
					],
					"text": "transport"
				}
			},
			{
				"box": {
					"id": "obj-109",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"int",
						"int"
					],
					"patching_rect": [
						1620.0,
						650.0,
						84.0,
						22.0
					],
					"text": "unpack 0 0"
				}
			},
			{
				"box": {
					"id": "obj-110",
					"maxclass": "newobj",
					"numinlets": 6,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1500.0,
						680.0,
						140.0,
						22.0
					],
					"text": "pack 0 0 0. 0. 0 0"
				}
			},
			{
				"box": {
					"id": "obj-111",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1500.0,
						710.0,
						105.0,
						22.0
					],
					"text": "prepend clock"
				}
			},
			{
				"box": {
					"annotation": "On: the device improvises with you bar by bar on Live's transport, with the Rate, Sampling, Seed, Model and Structure of the clip controls.",
					"annotation_name": "Play Along",
					"id": "obj-112",
					"maxclass": "live.text",
					"mode": 1,
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"parameter_enable": 1,
					"patching_rect": [
						1200.0,
						420.0,
						90.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						470.0,
						20.0,
						84.0,
						22.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Play Along",
							"parameter_shortname": "Play",
							"parameter_type": 2,
							"parameter_mmin": 0.0,
							"parameter_mmax": 1.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 0,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_info": "Play along: each bar you play into this track is sent at its bar line, and the improvisation plays out of the device during the next bar. Press Play in Live."
						}
					},
					"text": "Play Along",
					"texton": "Play Along",
					"varname": "play_along"
				}
			},
			{
				"box": {
					"annotation": "Pass your playing through to the instrument (thru) or only the answers (mute), while Play Along is on.",
					"annotation_name": "Play Input",
					"id": "obj-113",
					"maxclass": "live.menu",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						1300.0,
						420.0,
						60.0,
						15.0
					],
					"presentation": 1,
					"presentation_rect": [
						506.0,
						48.0,
						48.0,
						15.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Play Input",
							"parameter_shortname": "Input",
							"parameter_type": 2,
							"parameter_mmin": 0.0,
							"parameter_mmax": 1.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 0,
							"parameter_enum": [
								"thru",
								"mute"
							],
							"parameter_info": "thru: what you play also passes on to the instrument; mute: only the answers do."
						}
					},
					"varname": "play_input"
				}
			},
			{
				"box": {
					"fontsize": 9.5,
					"id": "obj-114",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1100.0,
						284.0,
						60.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						470.0,
						48.0,
						34.0,
						15.0
					],
					"text": "Input"
				}
			},
			{
				"box": {
					"annotation": "echo answers the bar you played in the next bar; ahead plays the bar it predicts from your recent bars.",
					"annotation_name": "Play Mode",
					"id": "obj-115",
					"maxclass": "live.menu",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						1400.0,
						420.0,
						60.0,
						15.0
					],
					"presentation": 1,
					"presentation_rect": [
						506.0,
						66.0,
						48.0,
						15.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Play Mode",
							"parameter_shortname": "Mode",
							"parameter_type": 2,
							"parameter_mmin": 0.0,
							"parameter_mmax": 1.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 0,
							"parameter_enum": [
								"echo",
								"ahead"
							],
							"parameter_info": "echo: the bar you just played comes back, improvised, one bar later; ahead: the bar the model predicts next."
						}
					},
					"varname": "play_mode"
				}
			},
			{
				"box": {
					"fontsize": 9.5,
					"id": "obj-116",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1100.0,
						306.0,
						60.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						470.0,
						66.0,
						34.0,
						15.0
					],
					"text": "Mode"
				}
			},
			{
				"box": {
					"annotation": "How many recent bars the rate-limited channel codes against: short follows your last phrase, long a whole section.",
					"annotation_name": "Play Window",
					"id": "obj-117",
					"maxclass": "live.numbox",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						1500.0,
						420.0,
						44.0,
						15.0
					],
					"presentation": 1,
					"presentation_rect": [
						506.0,
						84.0,
						48.0,
						15.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Play Window",
							"parameter_shortname": "Window",
							"parameter_type": 0,
							"parameter_mmin": 1.0,
							"parameter_mmax": 16.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								8
							],
							"parameter_invisible": 1,
							"parameter_unitstyle": 0,
							"parameter_exponent": 1.0,
							"parameter_info": "Bars of your recent playing the channel's statistics come from (1-16)."
						}
					},
					"varname": "play_window"
				}
			},
			{
				"box": {
					"fontsize": 9.5,
					"id": "obj-118",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1100.0,
						328.0,
						60.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						470.0,
						84.0,
						34.0,
						15.0
					],
					"text": "Window"
				}
			},
			{
				"box": {
					"id": "obj-119",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1200.0,
						445.0,
						140.0,
						22.0
					],
					"text": "prepend play_along"
				}
			},
			{
				"box": {
					"id": "obj-120",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"bang"
					],
					"patching_rect": [
						1200.0,
						470.0,
						49.0,
						22.0
					],
					"text": "t a b"
				}
			},
			{
				"box": {
					"id": "obj-121",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1300.0,
						445.0,
						140.0,
						22.0
					],
					"text": "prepend play_input"
				}
			},
			{
				"box": {
					"id": "obj-122",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1400.0,
						445.0,
						133.0,
						22.0
					],
					"text": "prepend play_mode"
				}
			},
			{
				"box": {
					"id": "obj-123",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1500.0,
						445.0,
						147.0,
						22.0
					],
					"text": "prepend play_window"
				}
			},
			{
				"box": {
					"id": "obj-124",
					"maxclass": "live.numbox",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						1160.0,
						60.0,
						40.0,
						15.0
					],
					"presentation": 1,
					"presentation_rect": [
						520.0,
						124.0,
						34.0,
						15.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Steps",
							"parameter_shortname": "Steps",
							"parameter_type": 0,
							"parameter_mmin": 2.0,
							"parameter_mmax": 16.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								5
							],
							"parameter_invisible": 0,
							"parameter_unitstyle": 0,
							"parameter_exponent": 1.0,
							"parameter_info": "Clips Interpolate writes, from the selected clip (step 1) to the next clip on its track (the last step), 2-16."
						}
					},
					"varname": "interpolate_steps"
				}
			},
			{
				"box": {
					"fontsize": 9.5,
					"id": "obj-125",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1100.0,
						350.0,
						60.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						470.0,
						124.0,
						48.0,
						15.0
					],
					"text": "Steps"
				}
			},
			{
				"box": {
					"id": "obj-126",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1160.0,
						85.0,
						189.0,
						22.0
					],
					"text": "prepend interpolate_steps"
				}
			},
			{
				"box": {
					"id": "obj-127",
					"maxclass": "live.text",
					"mode": 0,
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"parameter_enable": 1,
					"patching_rect": [
						1160.0,
						20.0,
						80.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						470.0,
						104.0,
						84.0,
						18.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Interpolate",
							"parameter_shortname": "Interp",
							"parameter_type": 2,
							"parameter_mmin": 0.0,
							"parameter_mmax": 1.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 2,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_info": "Morph the clip in Detail View into the next clip on its track: Steps new clips, written after the second one; neither clip is changed."
						}
					},
					"text": "Interpolate",
					"texton": "Interpolate",
					"varname": "interpolate"
				}
			},
			{
				"box": {
					"id": "obj-128",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1160.0,
						100.0,
						147.0,
						22.0
					],
					"text": "prepend interpolate"
				}
			},
			{
				"box": {
					"id": "obj-129",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1160.0,
						130.0,
						70.0,
						22.0
					],
					"text": "deferlow"
				}
			},
			{
				"box": {
					"id": "obj-130",
					"linecount": 3,
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						700.0,
						600.0,
						48.0
					],
					"text": "Reads the Detail View clip, asks the qbdi server (127.0.0.1:7400),\nwrites the improvisation into the next empty slot (Session) or after the clip (Arrangement).\nThe launcher (node.script) starts the server when it does not answer."
				}
			}
		],
		"lines": [
			{
				"patchline": {
					"destination": [
						"obj-2",
						0
					],
					"source": [
						"obj-1",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-3",
						0
					],
					"source": [
						"obj-2",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-4",
						0
					],
					"source": [
						"obj-3",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-4",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-12",
						0
					],
					"source": [
						"obj-5",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-12",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-7",
						0
					],
					"source": [
						"obj-6",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-5",
						0
					],
					"source": [
						"obj-6",
						3
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-8",
						0
					],
					"source": [
						"obj-6",
						4
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-9",
						0
					],
					"source": [
						"obj-8",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-10",
						0
					],
					"source": [
						"obj-8",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-9",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-11",
						0
					],
					"source": [
						"obj-6",
						5
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-15",
						0
					],
					"source": [
						"obj-6",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-14",
						0
					],
					"source": [
						"obj-6",
						2
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-16",
						0
					],
					"source": [
						"obj-3",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-17",
						0
					],
					"source": [
						"obj-16",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-15",
						0
					],
					"source": [
						"obj-17",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-18",
						0
					],
					"source": [
						"obj-11",
						3
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-16",
						0
					],
					"source": [
						"obj-18",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-22",
						0
					],
					"source": [
						"obj-21",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-22",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-49",
						0
					],
					"source": [
						"obj-19",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-49",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-50",
						0
					],
					"source": [
						"obj-23",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-50",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-51",
						0
					],
					"source": [
						"obj-25",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-51",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-52",
						0
					],
					"source": [
						"obj-27",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-52",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-53",
						0
					],
					"source": [
						"obj-29",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-53",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-54",
						0
					],
					"source": [
						"obj-31",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-54",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-55",
						0
					],
					"source": [
						"obj-33",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-55",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-56",
						0
					],
					"source": [
						"obj-36",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-56",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-57",
						0
					],
					"source": [
						"obj-34",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-57",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-58",
						0
					],
					"source": [
						"obj-35",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-58",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-59",
						0
					],
					"source": [
						"obj-37",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-59",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-60",
						0
					],
					"source": [
						"obj-38",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-60",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-61",
						0
					],
					"source": [
						"obj-40",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-61",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-62",
						0
					],
					"source": [
						"obj-42",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-62",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-63",
						0
					],
					"source": [
						"obj-44",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-63",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-64",
						0
					],
					"source": [
						"obj-47",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-64",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-65",
						0
					],
					"source": [
						"obj-46",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-65",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-66",
						0
					],
					"source": [
						"obj-11",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-38",
						0
					],
					"source": [
						"obj-66",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-19",
						0
					],
					"source": [
						"obj-11",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-21",
						0
					],
					"source": [
						"obj-11",
						2
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-68",
						0
					],
					"source": [
						"obj-67",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-69",
						0
					],
					"source": [
						"obj-68",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-69",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-71",
						0
					],
					"source": [
						"obj-70",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-72",
						0
					],
					"source": [
						"obj-71",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-72",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-74",
						0
					],
					"source": [
						"obj-73",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-75",
						0
					],
					"source": [
						"obj-74",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-75",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-77",
						0
					],
					"source": [
						"obj-76",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-78",
						0
					],
					"source": [
						"obj-77",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-78",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-80",
						0
					],
					"source": [
						"obj-79",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-81",
						0
					],
					"source": [
						"obj-80",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-81",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-83",
						0
					],
					"source": [
						"obj-82",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-84",
						1
					],
					"source": [
						"obj-83",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-85",
						0
					],
					"source": [
						"obj-84",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-84",
						0
					],
					"source": [
						"obj-11",
						4
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-86",
						0
					],
					"source": [
						"obj-6",
						6
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-88",
						0
					],
					"source": [
						"obj-86",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-87",
						0
					],
					"source": [
						"obj-88",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-87",
						1
					],
					"source": [
						"obj-88",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-87",
						2
					],
					"source": [
						"obj-88",
						2
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-89",
						0
					],
					"source": [
						"obj-86",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-87",
						0
					],
					"source": [
						"obj-89",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-87",
						1
					],
					"source": [
						"obj-89",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-87",
						2
					],
					"source": [
						"obj-89",
						2
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-90",
						0
					],
					"source": [
						"obj-86",
						2
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-87",
						0
					],
					"source": [
						"obj-90",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-87",
						1
					],
					"source": [
						"obj-90",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-87",
						2
					],
					"source": [
						"obj-90",
						2
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-85",
						0
					],
					"source": [
						"obj-87",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-92",
						0
					],
					"source": [
						"obj-91",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-93",
						1
					],
					"source": [
						"obj-92",
						6
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-93",
						2
					],
					"source": [
						"obj-92",
						7
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-93",
						0
					],
					"source": [
						"obj-91",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-94",
						0
					],
					"source": [
						"obj-93",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-94",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-91",
						0
					],
					"source": [
						"obj-12",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-95",
						0
					],
					"source": [
						"obj-83",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-96",
						0
					],
					"source": [
						"obj-95",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-97",
						0
					],
					"source": [
						"obj-96",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-98",
						2
					],
					"source": [
						"obj-97",
						7
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-98",
						0
					],
					"source": [
						"obj-96",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-99",
						0
					],
					"source": [
						"obj-98",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-99",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-101",
						0
					],
					"source": [
						"obj-100",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-102",
						0
					],
					"source": [
						"obj-101",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-104",
						1
					],
					"source": [
						"obj-102",
						6
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-104",
						2
					],
					"source": [
						"obj-102",
						7
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-104",
						3
					],
					"source": [
						"obj-102",
						4
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-103",
						0
					],
					"source": [
						"obj-102",
						5
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-104",
						4
					],
					"source": [
						"obj-103",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-104",
						5
					],
					"source": [
						"obj-103",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-104",
						0
					],
					"source": [
						"obj-101",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-105",
						0
					],
					"source": [
						"obj-104",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-105",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-107",
						0
					],
					"source": [
						"obj-106",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-108",
						0
					],
					"source": [
						"obj-107",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-110",
						1
					],
					"source": [
						"obj-108",
						6
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-110",
						2
					],
					"source": [
						"obj-108",
						7
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-110",
						3
					],
					"source": [
						"obj-108",
						4
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-109",
						0
					],
					"source": [
						"obj-108",
						5
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-110",
						4
					],
					"source": [
						"obj-109",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-110",
						5
					],
					"source": [
						"obj-109",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-110",
						0
					],
					"source": [
						"obj-107",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-111",
						0
					],
					"source": [
						"obj-110",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-111",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-119",
						0
					],
					"source": [
						"obj-112",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-120",
						0
					],
					"source": [
						"obj-119",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-120",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-91",
						0
					],
					"source": [
						"obj-120",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-121",
						0
					],
					"source": [
						"obj-113",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-121",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-122",
						0
					],
					"source": [
						"obj-115",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-122",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-123",
						0
					],
					"source": [
						"obj-117",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-123",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-126",
						0
					],
					"source": [
						"obj-124",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-126",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-128",
						0
					],
					"source": [
						"obj-127",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-129",
						0
					],
					"source": [
						"obj-128",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-129",
						0
					]
				}
			}
		],
		"parameters": {
			"obj-21": [
				"Model Name",
				"Model",
				0
			],
			"obj-23": [
				"Query Range",
				"Query",
				0
			],
			"obj-25": [
				"Sampling",
				"Sampling",
				0
			],
			"obj-27": [
				"Z",
				"Z",
				0
			],
			"obj-29": [
				"Allocation",
				"Alloc",
				0
			],
			"obj-31": [
				"Source",
				"Source",
				0
			],
			"obj-33": [
				"Rate",
				"Rate",
				0
			],
			"obj-34": [
				"Threshold",
				"Thresh",
				0
			],
			"obj-35": [
				"Temperature",
				"Temp",
				0
			],
			"obj-36": [
				"Full Rate",
				"Full",
				0
			],
			"obj-37": [
				"Structure",
				"Struct",
				0
			],
			"obj-38": [
				"Seed",
				"Seed",
				0
			],
			"obj-40": [
				"Bars",
				"Bars",
				0
			],
			"obj-42": [
				"Continue Bars",
				"Cont",
				0
			],
			"obj-44": [
				"Variations",
				"Vars",
				0
			],
			"obj-46": [
				"Install",
				"Install",
				0
			],
			"obj-47": [
				"Server Port",
				"Port",
				0
			],
			"obj-67": [
				"Improvise",
				"Improvise",
				0
			],
			"obj-70": [
				"Continue",
				"Continue",
				0
			],
			"obj-73": [
				"Re-roll",
				"Re-roll",
				0
			],
			"obj-76": [
				"Free Improvise",
				"Free",
				0
			],
			"obj-79": [
				"Diagnose",
				"Diagnose",
				0
			],
			"obj-112": [
				"Play Along",
				"Play",
				0
			],
			"obj-113": [
				"Play Input",
				"Input",
				0
			],
			"obj-115": [
				"Play Mode",
				"Mode",
				0
			],
			"obj-117": [
				"Play Window",
				"Window",
				0
			],
			"obj-124": [
				"Steps",
				"Steps",
				0
			],
			"obj-127": [
				"Interpolate",
				"Interp",
				0
			]
		}
	}
}
