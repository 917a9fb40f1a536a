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
			60.0,
			60.0,
			1100.0,
			860.0
		],
		"gridsize": [
			15.0,
			15.0
		],
		"default_fontsize": 12.0,
		"description": "Help for qbdi.client",
		"tags": "qbdi",
		"style": "",
		"boxes": [
			{
				"box": {
					"fontface": 1,
					"fontsize": 20.0,
					"id": "obj-1",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						10.0,
						300.0,
						30.0
					],
					"text": "qbdi.client"
				}
			},
			{
				"box": {
					"id": "obj-2",
					"linecount": 4,
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						45.0,
						620.0,
						62.0
					],
					"text": "Improvise with a qbdi server from any Max patch. Start the server first, in a terminal:\n    qbdi serve\n(or open the QBDI Improviser device in Live once: its launcher starts the server).\nThen click the phrase, then improvise. The improvisation plays through makenote/noteout."
				}
			},
			{
				"box": {
					"id": "obj-3",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 4,
					"outlettype": [
						"",
						"",
						"",
						""
					],
					"patching_rect": [
						20.0,
						560.0,
						300.0,
						22.0
					],
					"text": "qbdi.client"
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
						130.0,
						620.0,
						22.0
					],
					"text": "query 60 0 0.5 96 62 0.5 0.5 80 64 1 0.5 90 67 1.5 0.5 84 69 2 1 100 67 3 0.5 76 64 3.5 0.5 70 62 4 1 92 64 5 0.5 80 60 5.5 0.5 74 62 6 2 88"
				}
			},
			{
				"box": {
					"id": "obj-5",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						110.0,
						500.0,
						20.0
					],
					"text": "1. a short built-in phrase: pitch start duration velocity (beats)"
				}
			},
			{
				"box": {
					"id": "obj-6",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						165.0,
						300.0,
						20.0
					],
					"text": "2. messages (click them)"
				}
			},
			{
				"box": {
					"id": "obj-7",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						190.0,
						130.0,
						22.0
					],
					"text": "improvise"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-8",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						155.0,
						190.0,
						190.0,
						20.0
					],
					"text": "improvise on the query"
				}
			},
			{
				"box": {
					"id": "obj-9",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						210.0,
						130.0,
						22.0
					],
					"text": "improvise 60 0 1 100 67 1 1 90"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-10",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						155.0,
						210.0,
						190.0,
						20.0
					],
					"text": "query and improvise at once"
				}
			},
			{
				"box": {
					"id": "obj-11",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						230.0,
						130.0,
						22.0
					],
					"text": "48 0 2 100 55 2 2 80"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-12",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						155.0,
						230.0,
						190.0,
						20.0
					],
					"text": "a plain list is a query too"
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
						20.0,
						250.0,
						130.0,
						22.0
					],
					"text": "free 4"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-14",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						155.0,
						250.0,
						190.0,
						20.0
					],
					"text": "free improvisation, 4 bars"
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
						20.0,
						270.0,
						130.0,
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
						155.0,
						270.0,
						190.0,
						20.0
					],
					"text": "new seed, improvise again"
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
						20.0,
						290.0,
						130.0,
						22.0
					],
					"text": "queryb 57 0 2 90 64 0 2 80 53 2 2 90 60 2 2 80"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-18",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						155.0,
						290.0,
						190.0,
						20.0
					],
					"text": "clip B of a morph"
				}
			},
			{
				"box": {
					"id": "obj-19",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						310.0,
						130.0,
						22.0
					],
					"text": "interpolate 5"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-20",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						155.0,
						310.0,
						190.0,
						20.0
					],
					"text": "morph the query into clip B: 5 steps"
				}
			},
			{
				"box": {
					"id": "obj-21",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						330.0,
						130.0,
						22.0
					],
					"text": "rate 256"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-22",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						155.0,
						330.0,
						190.0,
						20.0
					],
					"text": "bits per bar that survive"
				}
			},
			{
				"box": {
					"id": "obj-23",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						350.0,
						130.0,
						22.0
					],
					"text": "rate full"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-24",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						155.0,
						350.0,
						190.0,
						20.0
					],
					"text": "no channel: full rate"
				}
			},
			{
				"box": {
					"id": "obj-25",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						370.0,
						130.0,
						22.0
					],
					"text": "threshold 0.5"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-26",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						155.0,
						370.0,
						190.0,
						20.0
					],
					"text": "note threshold (sampling threshold)"
				}
			},
			{
				"box": {
					"id": "obj-27",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						390.0,
						130.0,
						22.0
					],
					"text": "temperature 0.8"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-28",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						155.0,
						390.0,
						190.0,
						20.0
					],
					"text": "temperature (sampling sample)"
				}
			},
			{
				"box": {
					"id": "obj-29",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						410.0,
						130.0,
						22.0
					],
					"text": "sampling threshold"
				}
			},
			{
				"box": {
					"id": "obj-30",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						430.0,
						130.0,
						22.0
					],
					"text": "sampling sample"
				}
			},
			{
				"box": {
					"id": "obj-31",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						450.0,
						130.0,
						22.0
					],
					"text": "z mean"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-32",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						155.0,
						450.0,
						190.0,
						20.0
					],
					"text": "encoder mean"
				}
			},
			{
				"box": {
					"id": "obj-33",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						470.0,
						130.0,
						22.0
					],
					"text": "z sample"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-34",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						155.0,
						470.0,
						190.0,
						20.0
					],
					"text": "encoder sample"
				}
			},
			{
				"box": {
					"id": "obj-35",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						490.0,
						130.0,
						22.0
					],
					"text": "seed 42"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-36",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						155.0,
						490.0,
						190.0,
						20.0
					],
					"text": "same seed, same notes"
				}
			},
			{
				"box": {
					"id": "obj-37",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						350.0,
						190.0,
						130.0,
						22.0
					],
					"text": "allocation query"
				}
			},
			{
				"box": {
					"id": "obj-38",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						350.0,
						210.0,
						130.0,
						22.0
					],
					"text": "allocation frame"
				}
			},
			{
				"box": {
					"id": "obj-39",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						350.0,
						230.0,
						130.0,
						22.0
					],
					"text": "source posterior"
				}
			},
			{
				"box": {
					"id": "obj-40",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						350.0,
						250.0,
						130.0,
						22.0
					],
					"text": "source empirical"
				}
			},
			{
				"box": {
					"id": "obj-41",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						350.0,
						270.0,
						130.0,
						22.0
					],
					"text": "source prior"
				}
			},
			{
				"box": {
					"id": "obj-42",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						350.0,
						290.0,
						130.0,
						22.0
					],
					"text": "structure free"
				}
			},
			{
				"box": {
					"id": "obj-43",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						350.0,
						310.0,
						130.0,
						22.0
					],
					"text": "structure lock"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-44",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						485.0,
						310.0,
						190.0,
						20.0
					],
					"text": "repeat what repeats"
				}
			},
			{
				"box": {
					"id": "obj-45",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						350.0,
						330.0,
						130.0,
						22.0
					],
					"text": "continue 4"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-46",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						485.0,
						330.0,
						190.0,
						20.0
					],
					"text": "continue 4 bars past the query"
				}
			},
			{
				"box": {
					"id": "obj-47",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						350.0,
						350.0,
						130.0,
						22.0
					],
					"text": "bars 8"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-48",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						485.0,
						350.0,
						190.0,
						20.0
					],
					"text": "length of free improvisation"
				}
			},
			{
				"box": {
					"id": "obj-49",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						350.0,
						370.0,
						130.0,
						22.0
					],
					"text": "beats_per_bar 4"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-50",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						485.0,
						370.0,
						190.0,
						20.0
					],
					"text": "meter (default 4)"
				}
			},
			{
				"box": {
					"id": "obj-51",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						350.0,
						390.0,
						130.0,
						22.0
					],
					"text": "length_beats 16"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-52",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						485.0,
						390.0,
						190.0,
						20.0
					],
					"text": "query length (default: to its last note)"
				}
			},
			{
				"box": {
					"id": "obj-53",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						350.0,
						410.0,
						130.0,
						22.0
					],
					"text": "model pop"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-54",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						485.0,
						410.0,
						190.0,
						20.0
					],
					"text": "an installed model"
				}
			},
			{
				"box": {
					"id": "obj-55",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						350.0,
						430.0,
						130.0,
						22.0
					],
					"text": "model default"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-56",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						485.0,
						430.0,
						190.0,
						20.0
					],
					"text": "the server's default model"
				}
			},
			{
				"box": {
					"id": "obj-57",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						350.0,
						450.0,
						130.0,
						22.0
					],
					"text": "ping"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-58",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						485.0,
						450.0,
						190.0,
						20.0
					],
					"text": "is the server there?"
				}
			},
			{
				"box": {
					"id": "obj-59",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						350.0,
						470.0,
						130.0,
						22.0
					],
					"text": "diagnose"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-60",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						485.0,
						470.0,
						190.0,
						20.0
					],
					"text": "check everything: Max Console"
				}
			},
			{
				"box": {
					"id": "obj-61",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						350.0,
						490.0,
						130.0,
						22.0
					],
					"text": "status"
				}
			},
			{
				"box": {
					"id": "obj-62",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						680.0,
						190.0,
						130.0,
						22.0
					],
					"text": "models"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-63",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						815.0,
						190.0,
						190.0,
						20.0
					],
					"text": "list installed models"
				}
			},
			{
				"box": {
					"id": "obj-64",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						680.0,
						210.0,
						130.0,
						22.0
					],
					"text": "settings"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-65",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						815.0,
						210.0,
						190.0,
						20.0
					],
					"text": "print current settings"
				}
			},
			{
				"box": {
					"id": "obj-66",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						680.0,
						230.0,
						130.0,
						22.0
					],
					"text": "host 127.0.0.1"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-67",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						815.0,
						230.0,
						190.0,
						20.0
					],
					"text": "where the server is"
				}
			},
			{
				"box": {
					"id": "obj-68",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						680.0,
						250.0,
						130.0,
						22.0
					],
					"text": "port 7400"
				}
			},
			{
				"box": {
					"id": "obj-69",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						680.0,
						270.0,
						130.0,
						22.0
					],
					"text": "replyport 7501"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-70",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						815.0,
						270.0,
						190.0,
						20.0
					],
					"text": "fixed reply port"
				}
			},
			{
				"box": {
					"id": "obj-71",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						680.0,
						290.0,
						130.0,
						22.0
					],
					"text": "timeout 20000"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-72",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						815.0,
						290.0,
						190.0,
						20.0
					],
					"text": "ms to wait for a result"
				}
			},
			{
				"box": {
					"id": "obj-73",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						680.0,
						310.0,
						130.0,
						22.0
					],
					"text": "heartbeat 0"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-74",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						815.0,
						310.0,
						190.0,
						20.0
					],
					"text": "stop pinging every 5 s"
				}
			},
			{
				"box": {
					"id": "obj-75",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						680.0,
						330.0,
						130.0,
						22.0
					],
					"text": "clear"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-76",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						815.0,
						330.0,
						190.0,
						20.0
					],
					"text": "forget the query"
				}
			},
			{
				"box": {
					"id": "obj-77",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						680.0,
						350.0,
						130.0,
						22.0
					],
					"text": "quit"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-78",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						815.0,
						350.0,
						190.0,
						20.0
					],
					"text": "stops the server!"
				}
			},
			{
				"box": {
					"data": {
						"notes": [
							{
								"pitch": 48,
								"start_time": 0.0,
								"duration": 1.0,
								"velocity": 100
							},
							{
								"pitch": 55,
								"start_time": 1.0,
								"duration": 1.0,
								"velocity": 80
							},
							{
								"pitch": 52,
								"start_time": 2.0,
								"duration": 2.0,
								"velocity": 90
							}
						]
					},
					"id": "obj-79",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 5,
					"outlettype": [
						"dictionary",
						"",
						"",
						"",
						""
					],
					"patching_rect": [
						680.0,
						130.0,
						220.0,
						22.0
					],
					"saved_object_attributes": {
						"embed": 1,
						"parameter_enable": 0,
						"parameter_mappable": 0
					},
					"text": "dict qbdi.help.query @embed 1"
				}
			},
			{
				"box": {
					"id": "obj-80",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						680.0,
						100.0,
						40.0,
						22.0
					],
					"text": "bang"
				}
			},
			{
				"box": {
					"id": "obj-81",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						730.0,
						100.0,
						340.0,
						20.0
					],
					"text": "or a [dict] like Live's notes: {notes: [{pitch, start_time, duration, velocity}]}"
				}
			},
			{
				"box": {
					"id": "obj-82",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						360.0,
						600.0,
						98.0,
						22.0
					],
					"text": "loadmess 120"
				}
			},
			{
				"box": {
					"id": "obj-83",
					"maxclass": "number",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"bang"
					],
					"patching_rect": [
						360.0,
						630.0,
						50.0,
						22.0
					]
				}
			},
			{
				"box": {
					"id": "obj-84",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						"float"
					],
					"patching_rect": [
						360.0,
						660.0,
						77.0,
						22.0
					],
					"text": "!/ 60000."
				}
			},
			{
				"box": {
					"id": "obj-85",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						415.0,
						630.0,
						90.0,
						20.0
					],
					"text": "tempo (bpm)"
				}
			},
			{
				"box": {
					"id": "obj-86",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"patching_rect": [
						20.0,
						600.0,
						200.0,
						22.0
					],
					"text": "zl iter 4 @zlmaxsize 32767"
				}
			},
			{
				"box": {
					"id": "obj-87",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"patching_rect": [
						20.0,
						630.0,
						49.0,
						22.0
					],
					"text": "t l l"
				}
			},
			{
				"box": {
					"id": "obj-88",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"patching_rect": [
						120.0,
						660.0,
						70.0,
						22.0
					],
					"text": "zl nth 2"
				}
			},
			{
				"box": {
					"id": "obj-89",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						"float"
					],
					"patching_rect": [
						120.0,
						690.0,
						56.0,
						22.0
					],
					"text": "* 500."
				}
			},
			{
				"box": {
					"id": "obj-90",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20.0,
						690.0,
						70.0,
						22.0
					],
					"text": "$1 $4 $3"
				}
			},
			{
				"box": {
					"id": "obj-91",
					"maxclass": "newobj",
					"numinlets": 4,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						""
					],
					"patching_rect": [
						20.0,
						720.0,
						140.0,
						22.0
					],
					"text": "pipe 0 0 0. 0"
				}
			},
			{
				"box": {
					"id": "obj-92",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						"float"
					],
					"patching_rect": [
						100.0,
						750.0,
						56.0,
						22.0
					],
					"text": "* 500."
				}
			},
			{
				"box": {
					"id": "obj-93",
					"maxclass": "newobj",
					"numinlets": 3,
					"numoutlets": 2,
					"outlettype": [
						"float",
						"float"
					],
					"patching_rect": [
						20.0,
						780.0,
						126.0,
						22.0
					],
					"text": "makenote 100 500"
				}
			},
			{
				"box": {
					"id": "obj-94",
					"maxclass": "newobj",
					"numinlets": 3,
					"numoutlets": 0,
					"outlettype": [],
					"patching_rect": [
						20.0,
						810.0,
						63.0,
						22.0
					],
					"text": "noteout"
				}
			},
			{
				"box": {
					"id": "obj-95",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						180.0,
						780.0,
						400.0,
						20.0
					],
					"text": "3. the improvisation plays (noteout: pick a synth, e.g. the system's)"
				}
			},
			{
				"box": {
					"id": "obj-96",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"outlettype": [],
					"patching_rect": [
						560.0,
						600.0,
						119.0,
						22.0
					],
					"text": "print qbdi-dict"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-97",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						560.0,
						625.0,
						140.0,
						20.0
					],
					"text": "dict out (Live's shape)"
				}
			},
			{
				"box": {
					"id": "obj-98",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"outlettype": [],
					"patching_rect": [
						710.0,
						600.0,
						133.0,
						22.0
					],
					"text": "print qbdi-status"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-99",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						710.0,
						625.0,
						140.0,
						20.0
					],
					"text": "status"
				}
			},
			{
				"box": {
					"id": "obj-100",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"outlettype": [],
					"patching_rect": [
						860.0,
						600.0,
						126.0,
						22.0
					],
					"text": "print qbdi-error"
				}
			},
			{
				"box": {
					"fontsize": 10.0,
					"id": "obj-101",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						860.0,
						625.0,
						140.0,
						20.0
					],
					"text": "errors"
				}
			},
			{
				"box": {
					"id": "obj-102",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						535.0,
						500.0,
						20.0
					],
					"text": "outlets: notes as a list | notes as a dict | status | errors"
				}
			}
		],
		"lines": [
			{
				"patchline": {
					"destination": [
						"obj-3",
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
						"obj-3",
						0
					],
					"source": [
						"obj-7",
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
						"obj-9",
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
						"obj-11",
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
						"obj-13",
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
						"obj-15",
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
						"obj-17",
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
						"obj-19",
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
						"obj-21",
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
						"obj-23",
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
						"obj-25",
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
						"obj-27",
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
						"obj-29",
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
						"obj-30",
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
						"obj-31",
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
						"obj-33",
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
						"obj-35",
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
						"obj-37",
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
						"obj-38",
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
						"obj-39",
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
						"obj-40",
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
						"obj-41",
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
						"obj-42",
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
						"obj-43",
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
						"obj-45",
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
						"obj-47",
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
						"obj-49",
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
						"obj-51",
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
						"obj-53",
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
						"obj-55",
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
						"obj-57",
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
						"obj-59",
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
						"obj-61",
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
						"obj-62",
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
						"obj-64",
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
						"obj-66",
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
						"obj-68",
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
						"obj-69",
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
						"obj-71",
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
						"obj-73",
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
						"obj-75",
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
						"obj-77",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-79",
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
						"obj-3",
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
						"obj-86",
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
						"obj-87",
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
						"obj-88",
						0
					],
					"source": [
						"obj-87",
						1
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
						"obj-88",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-91",
						3
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
						"obj-90",
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
						"obj-91",
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
						"obj-93",
						1
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
						"obj-92",
						0
					],
					"source": [
						"obj-91",
						2
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
						"obj-94",
						1
					],
					"source": [
						"obj-93",
						1
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
						0
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
						"obj-89",
						1
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
						"obj-92",
						1
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
						"obj-96",
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
						"obj-98",
						0
					],
					"source": [
						"obj-3",
						2
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-100",
						0
					],
					"source": [
						"obj-3",
						3
					]
				}
			}
		]
	}
}
