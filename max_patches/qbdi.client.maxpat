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
			100.0,
			100.0,
			900.0,
			560.0
		],
		"gridsize": [
			15.0,
			15.0
		],
		"default_fontsize": 12.0,
		"openinpresentation": 1,
		"description": "qbdi.client: improvise with a qbdi server from any Max patch (no Live needed).",
		"digest": "Query-Based Deep Improvisation client",
		"tags": "qbdi improvisation osc",
		"style": "",
		"boxes": [
			{
				"box": {
					"comment": "messages: note list, dictionary, improvise, free N, queryb, interpolate N, settings",
					"id": "obj-1",
					"index": 1,
					"maxclass": "inlet",
					"numinlets": 0,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						20.0,
						30.0,
						30.0
					]
				}
			},
			{
				"box": {
					"id": "obj-2",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"patching_rect": [
						120.0,
						20.0,
						91.0,
						22.0
					],
					"text": "patcherargs"
				}
			},
			{
				"box": {
					"id": "obj-3",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						120.0,
						55.0,
						98.0,
						22.0
					],
					"text": "prepend args"
				}
			},
			{
				"box": {
					"id": "obj-4",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						320.0,
						20.0,
						170.0,
						22.0
					],
					"text": "udpreceive 7501 @defer 1"
				}
			},
			{
				"box": {
					"id": "obj-5",
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
						150.0,
						520.0,
						22.0
					],
					"saved_object_attributes": {
						"filename": "qbdi.client.js",
						"parameter_enable": 0
					},
					"text": "js qbdi.client.js"
				}
			},
			{
				"box": {
					"id": "obj-6",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"outlettype": [],
					"patching_rect": [
						20.0,
						230.0,
						160.0,
						22.0
					],
					"text": "udpsend 127.0.0.1 7400"
				}
			},
			{
				"box": {
					"comment": "notes: pitch start duration velocity ...",
					"id": "obj-7",
					"index": 1,
					"maxclass": "outlet",
					"numinlets": 1,
					"numoutlets": 0,
					"outlettype": [],
					"patching_rect": [
						200.0,
						300.0,
						30.0,
						30.0
					]
				}
			},
			{
				"box": {
					"comment": "notes: dictionary NAME ({notes: [...]} like Live)",
					"id": "obj-8",
					"index": 2,
					"maxclass": "outlet",
					"numinlets": 1,
					"numoutlets": 0,
					"outlettype": [],
					"patching_rect": [
						300.0,
						300.0,
						30.0,
						30.0
					]
				}
			},
			{
				"box": {
					"comment": "status: connected, server, rtt, models, result, settings, warning",
					"id": "obj-9",
					"index": 3,
					"maxclass": "outlet",
					"numinlets": 1,
					"numoutlets": 0,
					"outlettype": [],
					"patching_rect": [
						400.0,
						300.0,
						30.0,
						30.0
					]
				}
			},
			{
				"box": {
					"comment": "errors: error CODE MESSAGE",
					"id": "obj-10",
					"index": 4,
					"maxclass": "outlet",
					"numinlets": 1,
					"numoutlets": 0,
					"outlettype": [],
					"patching_rect": [
						500.0,
						300.0,
						30.0,
						30.0
					]
				}
			},
			{
				"box": {
					"background": 1,
					"bgcolor": [
						0.16,
						0.16,
						0.16,
						1.0
					],
					"id": "obj-11",
					"maxclass": "panel",
					"numinlets": 1,
					"numoutlets": 0,
					"outlettype": [],
					"patching_rect": [
						600.0,
						20.0,
						240.0,
						64.0
					],
					"presentation": 1,
					"presentation_rect": [
						0.0,
						0.0,
						240.0,
						64.0
					]
				}
			},
			{
				"box": {
					"fontface": 1,
					"id": "obj-12",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						600.0,
						100.0,
						100.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						4.0,
						2.0,
						100.0,
						18.0
					],
					"text": "qbdi.client",
					"textcolor": [
						0.9,
						0.9,
						0.9,
						1.0
					]
				}
			},
			{
				"box": {
					"id": "obj-13",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						600.0,
						130.0,
						70.0,
						22.0
					],
					"presentation": 1,
					"presentation_rect": [
						4.0,
						22.0,
						70.0,
						22.0
					],
					"text": "improvise"
				}
			},
			{
				"box": {
					"id": "obj-14",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						680.0,
						130.0,
						50.0,
						22.0
					],
					"presentation": 1,
					"presentation_rect": [
						78.0,
						22.0,
						50.0,
						22.0
					],
					"text": "free 4"
				}
			},
			{
				"box": {
					"id": "obj-15",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						740.0,
						130.0,
						50.0,
						22.0
					],
					"presentation": 1,
					"presentation_rect": [
						132.0,
						22.0,
						50.0,
						22.0
					],
					"text": "reroll"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-16",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						600.0,
						170.0,
						230.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						4.0,
						46.0,
						232.0,
						18.0
					],
					"text": "not connected",
					"textcolor": [
						0.9,
						0.9,
						0.9,
						1.0
					]
				}
			},
			{
				"box": {
					"id": "obj-17",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						360.0,
						560.0,
						20.0
					],
					"text": "[qbdi.client SERVER_PORT REPLY_PORT @host H @rate 256 ...]: see qbdi.client.maxhelp"
				}
			}
		],
		"lines": [
			{
				"patchline": {
					"destination": [
						"obj-5",
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
						"obj-5",
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
						"obj-5",
						0
					],
					"source": [
						"obj-2",
						1
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
						"obj-4",
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
						"obj-5",
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
						"obj-5",
						1
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
						"obj-5",
						2
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
						"obj-5",
						3
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
						"obj-5",
						4
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
						"obj-5",
						5
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
						"obj-13",
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
						"obj-14",
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
						"obj-15",
						0
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
						"obj-5",
						6
					]
				}
			}
		]
	}
}
