#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Generate qbdi's Max patchers from one definition (Python standard library only).

    python max_patches/build_patches.py           # (re)write the files below
    python max_patches/build_patches.py --check   # exit 1 if a committed file differs

Writes, next to this script:
    QBDI Improviser.maxpat    the Max for Live device's patcher, for reading and diffing
    QBDI Improviser.amxd      the same JSON in an unfrozen .amxd container (MIDI Effect)
    qbdi.client.maxpat        the plain-Max abstraction ([qbdi.client], also as a bpatcher)
    qbdi.client.maxhelp       its help patch

    python max_patches/build_patches.py --list    # the files a release ships (qbdi_scripts.js), one a line

The JavaScript the patchers load is written by hand and listed once, in qbdi_scripts.js (read here, by
the device's loader, the installer and build/build.sh); every [js] and [node.script] written here must
name a listed script. The [js] boxes take their inlet and outlet counts from the scripts'
``inlets = N; outlets = M;`` lines.
File formats: shared/notes/m4l.md sections 1 and 2; what Max itself writes: the device audit.
"""

from __future__ import annotations

import argparse
import json
import re
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

DEVICE_NAME = "QBDI Improviser"
MIDI_EFFECT = b"mmmm"
MIDI_EFFECT_AMXDTYPE = 1835887981  # b"mmmm" read as a big-endian int
APPVERSION = {"major": 8, "minor": 6, "revision": 5, "architecture": "x64", "modernui": 1}

# Live parameter types and unit styles (m4l.md section 2)
FLOAT, INT, ENUM, BLOB = 0, 1, 2, 3
UNIT_INT, UNIT_FLOAT, UNIT_CUSTOM = 0, 1, 9
STORED_ONLY = 1
HIDDEN = 2          # action buttons: no automation lane, not stored (Ableton's guideline for live.text buttons)

# ---- inlets and outlets of the objects used ----------------------------------------------------
UI_IO: dict[str, tuple[int, int, list[str]]] = {
    "live.dial": (1, 2, ["", "float"]),
    "live.numbox": (1, 2, ["", "float"]),
    "live.menu": (1, 3, ["", "", "float"]),
    "live.text": (1, 2, ["", ""]),
    "comment": (1, 0, []),
    "message": (2, 1, [""]),
    "led": (1, 1, ["int"]),
    "umenu": (1, 3, ["int", "", ""]),
    "panel": (1, 0, []),
    "number": (1, 2, ["", "bang"]),
    "inlet": (0, 1, [""]),
    "outlet": (1, 0, []),
}

FIXED_IO: dict[str, tuple[int, int, list[str]]] = {
    "live.thisdevice": (1, 3, ["bang", "int", "int"]),
    "udpreceive": (1, 1, [""]),
    "udpsend": (1, 0, []),
    "deferlow": (1, 1, [""]),
    "defer": (1, 1, [""]),
    "prepend": (1, 1, [""]),
    "node.script": (1, 2, ["", ""]),
    "patcherargs": (1, 2, ["", ""]),
    "loadbang": (1, 1, ["bang"]),
    "loadmess": (1, 1, [""]),
    "print": (1, 0, []),
    "midiin": (1, 1, ["int"]),
    "midiout": (1, 0, []),
    "midiparse": (1, 8, ["", "", "", "int", "int", "", "int", ""]),   # as Max 8 saves it
    "transport": (2, 9, ["int", "int", "float", "float", "float", "", "int", "float", ""]),
    "metro": (2, 1, ["bang"]),
    "makenote": (3, 2, ["float", "float"]),
    "noteout": (3, 0, []),
    "*": (2, 1, ["float"]),
    "!/": (2, 1, ["float"]),
    "dict": (2, 5, ["dictionary", "", "", "", ""]),   # 5 outlets, as Max 8.6 saves it (CPU Reporter.amxd)
    "delay": (2, 1, ["bang"]),
    "qbdi.client": (1, 4, ["", "", "", ""]),
    "pattr": (1, 3, ["", "", ""]),
}


def shipped_list() -> dict[str, Any]:
    """qbdi_scripts.js's list (its object literal is JSON): SCRIPTS, PATCHERS, HELP, DEVICES, DEVICE_MODULES."""
    text = (HERE / "qbdi_scripts.js").read_text(encoding="utf-8")
    found = re.search(r"^var qbdiScripts = (\{.*?^\});", text, re.M | re.S)
    if not found:
        raise SystemExit("qbdi_scripts.js: no 'var qbdiScripts = {...};' list")
    return json.loads(found.group(1))


def shipped() -> list[str]:
    """Every file of max_patches/ a release ships, in the list's order."""
    listed = shipped_list()
    return listed["SCRIPTS"] + listed["PATCHERS"] + listed["HELP"] + listed["DEVICES"]


def js_io(script: str) -> tuple[int, int]:
    """``inlets = N; outlets = M;`` of a Max [js] script."""
    text = (HERE / script).read_text(encoding="utf-8")
    ins = re.search(r"^inlets\s*=\s*(\d+)\s*;", text, re.M)
    outs = re.search(r"^outlets\s*=\s*(\d+)\s*;", text, re.M)
    if not ins or not outs:
        raise SystemExit(f"{script}: no 'inlets = N;' / 'outlets = M;' line")
    return int(ins.group(1)), int(outs.group(1))


def object_io(text: str) -> tuple[int, int, list[str]]:
    """Inlets, outlets and outlet types of a [newobj] from its text (Max 8)."""
    words = text.split()
    attrs = [i for i, w in enumerate(words) if w.startswith("@")]
    words = words[:attrs[0]] if attrs else words     # "@name value..." are attributes, not arguments
    cls, args = words[0], words[1:]
    if cls in ("js", "node.script") and args[0] not in shipped_list()["SCRIPTS"]:
        raise SystemExit(f"build_patches.py: [{cls} {args[0]}] is not in qbdi_scripts.js's SCRIPTS")
    if cls == "js":
        n_in, n_out = js_io(args[0])
        return n_in, n_out, [""] * n_out
    if cls == "route":   # Max saves [route a b c] with 2 inlets (the right one sets the first selector)
        return 2, len(args) + 1, [""] * (len(args) + 1)
    if cls in ("t", "trigger"):
        kinds = {"b": "bang", "i": "int", "f": "float"}
        return 1, len(args), [kinds.get(a, "") for a in args]
    if cls == "zl":
        return 2, 2, ["", ""]
    if cls == "pack":
        return len(args), 1, [""]
    if cls == "unpack":
        return 1, len(args), ["float" if "." in a else "int" for a in args]
    if cls == "gate":  # [gate N initial]: control inlet + data inlet, N outlets
        return 2, int(args[0]) if args else 1, [""] * (int(args[0]) if args else 1)
    if cls == "pipe":  # the last argument is the delay time; the others are the values piped
        n_values = max(1, len(args) - 1)
        return n_values + 1, n_values, [""] * n_values
    if cls in FIXED_IO:
        return FIXED_IO[cls]
    raise SystemExit(f"build_patches.py: add the inlets/outlets of [{cls}] to the tables")


# ---- patcher model -------------------------------------------------------------------------------
def is_parameter(fields: dict[str, Any]) -> bool:
    """A Live parameter: UI objects say so at box level, [pattr] in its saved_object_attributes."""
    return bool(fields.get("parameter_enable") or fields.get("saved_object_attributes", {}).get("parameter_enable"))


@dataclass
class Box:
    id: str
    fields: dict[str, Any]

    @property
    def numinlets(self) -> int:
        return self.fields["numinlets"]

    @property
    def numoutlets(self) -> int:
        return self.fields["numoutlets"]


@dataclass
class Patcher:
    rect: list[float]
    attrs: dict[str, Any] = field(default_factory=dict)
    boxes: list[Box] = field(default_factory=list)
    lines: list[tuple[str, int, str, int]] = field(default_factory=list)

    def _add(self, fields: dict[str, Any]) -> Box:
        box = Box(f"obj-{len(self.boxes) + 1}", fields)
        fields["id"] = box.id
        self.boxes.append(box)
        return box

    @staticmethod
    def _common(fields: dict[str, Any], rect, present) -> dict[str, Any]:
        fields["patching_rect"] = [float(v) for v in rect]
        if present is not None:
            fields["presentation"] = 1
            fields["presentation_rect"] = [float(v) for v in present]
        return fields

    def obj(self, text: str, x: float, y: float, w: float | None = None, present=None, **extra) -> Box:
        n_in, n_out, types = object_io(text)
        width = w or max(40, 7 * len(text) + 14)
        fields = {"maxclass": "newobj", "text": text, "numinlets": n_in, "numoutlets": n_out, "outlettype": types}
        fields.update({k: v for k, v in extra.items() if v is not None})
        return self._add(self._common(fields, [x, y, width, 22], present))

    def msg(self, text: str, x: float, y: float, w: float | None = None, present=None) -> Box:
        width = w or max(30, 7 * len(text) + 14)
        n_in, n_out, types = UI_IO["message"]
        fields = {"maxclass": "message", "text": text, "numinlets": n_in, "numoutlets": n_out, "outlettype": types}
        return self._add(self._common(fields, [x, y, width, 22], present))

    def comment(self, text: str, x: float, y: float, w: float = 200, h: float = 20, present=None, **extra) -> Box:
        fields = {"maxclass": "comment", "text": text, "numinlets": 1, "numoutlets": 0}
        lines = text.count("\n") + 1
        if lines > 1:
            fields["linecount"] = lines
        fields.update(extra)
        return self._add(self._common(fields, [x, y, w, max(h, 14 * lines + 6)], present))

    def ui(self, maxclass: str, rect, present=None, **extra) -> Box:
        n_in, n_out, types = UI_IO[maxclass]
        fields = {"maxclass": maxclass, "numinlets": n_in, "numoutlets": n_out, "outlettype": types}
        fields.update(extra)
        return self._add(self._common(fields, rect, present))

    def param(self, maxclass: str, rect, present, *, varname: str, longname: str, shortname: str,
              ptype: int, mmin: float = 0, mmax: float = 1, initial: float = 0, unitstyle: int | None = None,
              enum: list[str] | None = None, units: str | None = None, exponent: float = 1.0,
              invisible: int = 0, info: str = "", **extra) -> Box:
        """A live.* object as a real Live parameter (saved_attribute_attributes.valueof)."""
        valueof: dict[str, Any] = {
            "parameter_longname": longname,
            "parameter_shortname": shortname,
            "parameter_type": ptype,
            "parameter_mmin": float(mmin),
            "parameter_mmax": float(len(enum) - 1 if enum else mmax),
            "parameter_initial_enable": 1,
            "parameter_initial": [initial],
            "parameter_invisible": invisible,
        }
        if enum is not None:
            valueof["parameter_enum"] = list(enum)
        if unitstyle is not None:
            valueof["parameter_unitstyle"] = unitstyle
        if units is not None:
            valueof["parameter_units"] = units
        if ptype == FLOAT:
            valueof["parameter_exponent"] = float(exponent)
        if info:
            valueof["parameter_info"] = info
        fields = {"parameter_enable": 1, "varname": varname,
                  "saved_attribute_attributes": {"valueof": valueof}}
        fields.update(extra)
        return self.ui(maxclass, rect, present, **fields)

    def connect(self, src: Box, outlet: int, dst: Box, inlet: int) -> None:
        if not 0 <= outlet < src.numoutlets:
            raise SystemExit(f"{src.fields.get('text', src.fields['maxclass'])}: no outlet {outlet}")
        if not 0 <= inlet < dst.numinlets:
            raise SystemExit(f"{dst.fields.get('text', dst.fields['maxclass'])}: no inlet {inlet}")
        self.lines.append((src.id, outlet, dst.id, inlet))

    def chain(self, *boxes: Box) -> None:
        """Outlet 0 of each box -> inlet 0 of the next, in order."""
        for src, dst in zip(boxes, boxes[1:]):
            self.connect(src, 0, dst, 0)

    def parameters(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for b in self.boxes:
            if is_parameter(b.fields):
                v = b.fields["saved_attribute_attributes"]["valueof"]
                out[b.id] = [v["parameter_longname"], v["parameter_shortname"], 0]
        return out

    def to_json(self) -> dict[str, Any]:
        patcher: dict[str, Any] = {
            "fileversion": 1,
            "appversion": dict(APPVERSION),
            "classnamespace": "box",
            "rect": [float(v) for v in self.rect],
            "gridsize": [15.0, 15.0],
            "default_fontsize": 12.0,
        }
        patcher.update(self.attrs)
        patcher["boxes"] = [{"box": dict(sorted(b.fields.items()))} for b in self.boxes]
        patcher["lines"] = [{"patchline": {"destination": [d, i], "source": [s, o]}} for s, o, d, i in self.lines]
        if any(is_parameter(b.fields) for b in self.boxes):
            patcher["parameters"] = self.parameters()
        return {"patcher": patcher}


# ---- the Max for Live device --------------------------------------------------------------------
def device() -> Patcher:
    p = Patcher([80, 80, 1240, 760], {
        "openinpresentation": 1,
        "devicewidth": 560.0,
        "description": "Query-Based Deep Improvisation: improvise on the clip in Detail View with a qbdi server.",
        "tags": "qbdi improvisation vae midi",
        "style": "",
        "dependency_cache": [],           # what Max writes for a device whose files it has not resolved
        "latency": 0,
        "is_mpe": 0,
        "minimum_live_version": "",       # "" as every Max-saved device writes them (the audit, finding 10)
        "minimum_max_version": "",
        "platform_compatibility": 0,
        "autosave": 0,
        "project": {
            "version": 1, "creationdate": 3590052786, "modificationdate": 3590052786,
            "viewrect": [0.0, 0.0, 300.0, 500.0], "autoorganize": 1, "hideprojectwindow": 1,
            "showdependencies": 1, "autolocalize": 0, "contents": {"patchers": {}}, "layout": {},
            "searchpath": {}, "detailsvisible": 0, "amxdtype": MIDI_EFFECT_AMXDTYPE, "readonly": 0,
            "devpathtype": 0, "devpath": ".", "sortmode": 0, "viewmode": 0, "includepackages": 0,
        },
    })

    # -- the engine: live.thisdevice -> deferlow -> init; udpreceive -> js -> udpsend ------------
    thisdev = p.obj("live.thisdevice", 20, 20)
    defer_init = p.obj("deferlow", 20, 55)
    init_both = p.obj("t b b", 20, 90)
    init = p.msg("init", 20, 125)
    recv = p.obj("udpreceive 7401 @defer 1", 200, 20, 170)
    js = p.obj("js qbdi_device.js", 20, 400, 500,
               saved_object_attributes={"filename": "qbdi_device.js", "parameter_enable": 0})
    send = p.obj("udpsend 127.0.0.1 7400", 20, 470, 160)
    launcher = p.obj("node.script qbdi_launcher.js @autostart 1", 560, 470, 260,
                     saved_object_attributes={"autostart": 1, "defer": 0, "watch": 0})
    to_server_msg = p.obj("prepend server", 560, 510)
    launcher_log = p.obj("print qbdi-launcher", 720, 510)
    ui_route = p.obj("route seed menu model_name loaded thru", 300, 470, 260)

    p.connect(thisdev, 0, defer_init, 0)
    p.connect(defer_init, 0, init_both, 0)
    p.connect(init_both, 0, init, 0)
    p.connect(init, 0, js, 0)
    # every reply reaches the script with a fresh [transport] reading just before it (Play Along
    # hands its answers over to Max's scheduler against it): [t a b] bangs the stamp first
    recv_stamp = p.obj("t a b", 200, 55)
    p.connect(recv, 0, recv_stamp, 0)
    p.connect(recv_stamp, 0, js, 0)
    p.connect(js, 0, send, 0)
    p.connect(js, 3, recv, 0)
    p.connect(js, 4, launcher, 0)
    p.connect(launcher, 0, to_server_msg, 0)
    p.connect(launcher, 1, launcher_log, 0)
    p.connect(to_server_msg, 0, js, 0)
    p.connect(js, 5, ui_route, 0)

    # -- presentation: title, status, LED -----------------------------------------------------
    p.comment("QBDI Improviser", 20, 600, 150, present=[6, 2, 150, 20], fontface=1)
    led = p.ui("led", [20, 640, 16, 16], present=[6, 146, 16, 16], ignoreclick=1)
    status = p.comment("○ no server", 40, 640, 420, present=[26, 144, 530, 20])
    p.connect(js, 1, status, 0)
    p.connect(js, 2, led, 0)

    # If [js] cannot find qbdi_device.js nothing would say so: the patch says it unless the script
    # answers "loaded" within 4 s of init (live.thisdevice -> t b b: the timer starts first).
    no_js = p.obj("delay 4000", 200, 125)
    no_js_text = p.msg("set ○ ⚠ qbdi_device.js not found: keep the .js files next to the device (Max Console)",
                       200, 160, 560)
    stop_timer = p.msg("stop", 540, 510)
    p.connect(init_both, 1, no_js, 0)
    p.connect(no_js, 0, no_js_text, 0)
    p.connect(no_js_text, 0, status, 0)
    p.connect(ui_route, 3, stop_timer, 0)
    p.connect(stop_timer, 0, no_js, 0)

    # -- parameters: dials, menus, toggles -> [prepend key] -> js ---------------------------------
    def wire(box: Box, key: str) -> None:
        x, y = box.fields["patching_rect"][:2]
        p.chain(box, p.obj(f"prepend {key}", x, y + 25), js)

    labels = [0]

    def label(text: str, present, w: float = 60) -> None:
        labels[0] += 1
        p.comment(text, 1100, 20 + 22 * labels[0], w, present=present, fontsize=9.5)

    # Patching view: controls on a grid, each with its [prepend] under it.
    def at(row: int, col: int, w: float = 60, h: float = 15) -> list[float]:
        return [20 + 120 * col, 150 + 90 * row, w, h]

    # menus: left column of the device
    # Model: a [umenu] the server's list fills, and the chosen name kept with the Live set in a
    # [pattr] Blob parameter (a live.menu would store an index into a list that changes).
    model = p.ui("umenu", at(0, 0, 90, 20), [70, 22, 92, 18], items=["default"], varname="model_menu",
                 fontsize=10.0, annotation_name="Model",
                 annotation="The model the server improvises with; the list comes from the server.")
    label("Model", [6, 24, 60, 15])
    model_store = p.obj("pattr qbdi_model_name", 20, 540, 150, parameter_enable=None,
                        saved_object_attributes={"parameter_enable": 1, "initial": ["default"]},
                        saved_attribute_attributes={"valueof": {
                            "parameter_longname": "Model Name", "parameter_shortname": "Model",
                            "parameter_type": BLOB, "parameter_mmin": 0.0, "parameter_mmax": 127.0,
                            "parameter_initial_enable": 1, "parameter_initial": ["default"],
                            "parameter_invisible": STORED_ONLY,
                            "parameter_info": "The model this device asks for, saved with the Live set."}},
                        varname="qbdi_model_name")
    p.chain(model_store, p.obj("prepend model_saved", 20, 570), js)
    query_range = p.param("live.menu", at(0, 1, 90), [70, 42, 92, 15], varname="query_range",
                          longname="Query Range", shortname="Query", ptype=ENUM,
                          enum=["clip", "loop", "selection"], initial=0,
                          info="Which notes of the clip are the query: the whole clip, its loop, "
                               "or the selected notes.")
    label("Query", [6, 42, 60, 15])
    sampling = p.param("live.menu", at(0, 2, 90), [70, 60, 92, 15], varname="sampling", longname="Sampling",
                       shortname="Sampling", ptype=ENUM, enum=["threshold", "sample"], initial=0,
                       info="threshold: notes above Threshold; sample: draw notes at Temperature.")
    label("Sampling", [6, 60, 60, 15])
    zmode = p.param("live.menu", at(0, 3, 90), [70, 78, 92, 15], varname="z", longname="Z",
                    shortname="Z", ptype=ENUM, enum=["mean", "sample"], initial=0,
                    info="Encoder output: its mean (repeatable) or a sample.")
    label("Z", [6, 78, 60, 15])
    allocation = p.param("live.menu", at(0, 4, 90), [70, 96, 92, 15], varname="allocation",
                         longname="Allocation", shortname="Alloc", ptype=ENUM, enum=["query", "frame"], initial=0,
                         info="Bits shared out once per query, or for every bar.")
    label("Allocation", [6, 96, 60, 15])
    source = p.param("live.menu", at(0, 5, 90), [70, 114, 92, 15], varname="source", longname="Source",
                     shortname="Source", ptype=ENUM, enum=["posterior", "empirical", "prior"], initial=1,
                     info="Where the channel's statistics come from.")
    label("Source", [6, 114, 60, 15])

    # dials, toggles and number boxes: middle of the device
    rate = p.param("live.dial", at(1, 0, 44, 48), [170, 20, 44, 48], varname="rate", longname="Rate",
                   shortname="Rate", ptype=FLOAT, mmin=0, mmax=4096, initial=256, unitstyle=UNIT_CUSTOM,
                   units="%d bit", exponent=2.0,
                   info="Bits per bar frame that survive from the query: 0 keeps nothing, high keeps almost all.")
    threshold = p.param("live.dial", at(1, 1, 44, 48), [220, 20, 44, 48], varname="threshold",
                        longname="Threshold", shortname="Thresh", ptype=FLOAT, mmin=0.01, mmax=0.99, initial=0.5,
                        unitstyle=UNIT_FLOAT, info="Note probability above which a note sounds (Sampling: threshold).")
    temperature = p.param("live.dial", at(1, 2, 44, 48), [270, 20, 44, 48], varname="temperature",
                          longname="Temperature", shortname="Temp", ptype=FLOAT, mmin=0.01, mmax=10, initial=1.0,
                          unitstyle=UNIT_FLOAT, exponent=3.0,
                          info="Sampling temperature (Sampling: sample): lower is tamer.")
    full = p.param("live.text", at(1, 3, 44), [170, 74, 44, 15], varname="rate_full", longname="Full Rate",
                   shortname="Full", ptype=ENUM, enum=["off", "on"], initial=0, mode=1, text="Full", texton="Full",
                   info="Bypass the channel: the query passes at full rate.")
    structure = p.param("live.text", at(1, 4, 44), [220, 74, 44, 15], varname="structure",
                        longname="Structure", shortname="Struct", ptype=ENUM, enum=["free", "lock"], initial=0,
                        mode=1, text="free", texton="lock",
                        info="lock: bars that repeat in the query repeat in the improvisation.")
    seed = p.param("live.numbox", at(2, 0), [170, 106, 60, 15], varname="seed", longname="Seed",
                   shortname="Seed", ptype=FLOAT, mmin=0, mmax=16777215, initial=0, unitstyle=UNIT_INT,
                   info="Same seed and settings, same notes. Re-roll picks a new one.")
    label("Seed", [170, 92, 60, 14])
    bars = p.param("live.numbox", at(2, 1, 44), [234, 106, 40, 15], varname="bars", longname="Bars",
                   shortname="Bars", ptype=FLOAT, mmin=1, mmax=512, initial=8, unitstyle=UNIT_INT,
                   info="Length of a free improvisation, in bars.")
    label("Bars", [234, 92, 40, 14])
    cont = p.param("live.numbox", at(2, 2, 44), [278, 106, 40, 15], varname="continue_bars",
                   longname="Continue Bars", shortname="Cont", ptype=FLOAT, mmin=1, mmax=512, initial=4,
                   unitstyle=UNIT_INT, info="Bars the Continue button adds after the query.")
    label("Continue", [278, 92, 44, 14])
    variations = p.param("live.numbox", at(2, 4, 30), [322, 106, 24, 15], varname="variations",
                         longname="Variations", shortname="Vars", ptype=FLOAT, mmin=1, mmax=8, initial=1,
                         unitstyle=UNIT_INT, invisible=STORED_ONLY,
                         info="Clips one press writes, with consecutive seeds (Seed, Seed+1, ...), each named "
                              "with its seed.")
    label("Vars", [322, 92, 28, 14])
    # Install: the first run copies the server and the scripts into the fixed places (docs/DEVICE.md,
    # "Where the files live"); it says so first, and this toggle keeps it from doing so
    install = p.param("live.text", at(3, 0, 44), [330, 2, 62, 15], varname="install", longname="Install",
                      shortname="Install", ptype=ENUM, enum=["off", "on"], initial=1, mode=1, text="Install",
                      texton="Install", invisible=STORED_ONLY,
                      info="On: the first run copies the server into ~/Documents/qbdi and the scripts into the Max "
                           "package qbdi (it says so first), so collected and frozen sets find them; an update "
                           "replaces those folders. Off: nothing is copied.")
    port = p.param("live.numbox", at(2, 3), [234, 124, 50, 15], varname="server_port",
                   longname="Server Port", shortname="Port", ptype=FLOAT, mmin=1024, mmax=65535, initial=7400,
                   unitstyle=UNIT_INT, invisible=STORED_ONLY,
                   info="UDP port of the qbdi server (default 7400).")
    label("Server port", [170, 124, 62, 14])

    for box, key in ((model, "model_index"), (query_range, "query_range"), (sampling, "sampling"), (zmode, "z"),
                     (allocation, "allocation"), (source, "source"), (rate, "rate"), (full, "rate_full"),
                     (threshold, "threshold"), (temperature, "temperature"), (structure, "structure"),
                     (seed, "seed"), (bars, "bars"), (cont, "continue_bars"), (variations, "variations"),
                     (port, "server_port"), (install, "install")):
        wire(box, key)

    # feedback into the UI: new seed after Re-roll, the model list, the model to remember
    seed_set = p.obj("prepend set", 300, 510)
    p.connect(ui_route, 0, seed_set, 0)
    p.connect(seed_set, 0, seed, 0)
    p.connect(ui_route, 1, model, 0)
    p.connect(ui_route, 2, model_store, 0)

    # buttons: live.text (button mode) -> [prepend msg] -> [deferlow] -> js (Live API on the low thread).
    # Hidden: no automation lane or clip envelope can fire them during playback, and a press is no
    # parameter change in Live's undo history (docs/DEVICE.md, "Buttons").
    for i, (name, longname, msg, info, rect) in enumerate((
        ("Improvise", "Improvise", "improvise", "Improvise on the clip in Detail View (Variations clips).",
         [350, 20, 110, 22]),
        ("Continue", "Continue", "continue_clip", "Improvise and continue past the query by Continue Bars.",
         [350, 48, 110, 22]),
        ("Re-roll", "Re-roll", "reroll", "New seed, same settings, improvise again.", [350, 76, 110, 22]),
        ("Free", "Free Improvise", "free", "Improvise Bars bars with no query.", [350, 104, 110, 22]),
        ("Diagnose", "Diagnose", "diagnose", "Check everything the device needs; a report goes to the Max Console "
         "and ~/Documents/qbdi/qbdi-diagnose.txt.", [396, 2, 64, 15]),
    )):
        btn = p.param("live.text", [700 + 90 * i, 20, 80, 20], rect, varname=msg,
                      longname=longname, shortname=name, ptype=ENUM, enum=["off", "on"], initial=0, mode=0,
                      text=name, texton=name, info=info, invisible=HIDDEN)
        press_to_js(p, btn, msg, js, 700 + 90 * i, 60, 95)

    play_along(p, js, ui_route, wire, label, recv_stamp)
    interpolate_controls(p, js, wire, label)

    p.comment("Reads the Detail View clip, asks the qbdi server (127.0.0.1:7400),\n"
              "writes the improvisation into the next empty slot (Session) or after the clip (Arrangement).\n"
              "The launcher (node.script) starts the server when it does not answer.", 20, 700, 600)
    return p


def press_to_js(p: Patcher, btn: Box, msg: str, js: Box, x: float, y: float, low_y: float) -> None:
    """A button's press -> [prepend MSG] (at x, y) -> [deferlow] (at x, low_y) -> js: the Live API runs
    on the low thread."""
    p.chain(btn, p.obj(f"prepend {msg}", x, y), p.obj("deferlow", x, low_y), js)


def play_along(p: Patcher, js: Box, ui_route: Box, wire, label, recv_stamp: Box) -> None:
    """Play Along (docs/DEVICE.md): the track's MIDI input, Live's transport, the answers out.

    Live's transport reaches the script through [transport]: in a Live device every unnamed
    transport object follows Live's transport (https://docs.cycling74.com/userguide/m4l/live_timing),
    so its ticks outlet is the song time x 480, with the tempo, the time signature and the
    playing state. Two metros bang it: [metro 32n @quantize 32n @active 1] on Live's 32nd grid
    (a tempo-relative metro runs while the transport runs), and a fixed [metro 50 @active 1], which
    runs when it stops, so the script hears stop, tempo and meter changes. Each bang fills a
    [pack]'s cold inlets, then bangs its left one: one complete "clock" message per bang, whatever
    order [transport] writes its outlets in.

    js decides, Max's scheduler plays (qbdi_schedule.js): [js] runs on the low-priority queue
    (https://docs.cycling74.com/max7/vignettes/jsthreading), so the script hands each answer over
    to [pipe]s when it arrives, each event with a delay in ticks against a fresh [transport]
    reading ("stamp", taken by [t a b] just before each reply and each Play Along toggle). A pipe
    fed from the queue outputs on the scheduler thread
    (https://docs.cycling74.com/max8/vignettes/audio_sampleaccurate) and its delay can be
    tempo-relative (https://docs.cycling74.com/reference/pipe). [route m t n]: m, the answers in
    ticks; t, the offs on the answer's bar line (a tie clears this pipe alone); n, a 0 ms pipe for
    offs owed now (a pipe in ticks stands still while the transport is stopped, same page). Each
    pipe's three outlets -> one [pack 0 0 0] -> the [midiout] the pass-through [gate] feeds: both
    streams leave from the scheduler thread, each message as one 3-byte list (no [iter]).
    """
    # A MIDI Effect blocks MIDI unless the patch forwards it: everything played passes through a
    # [gate], open unless Play Along mutes the input (open too when qbdi_device.js is missing).
    midi_in = p.obj("midiin", 900, 560)
    split = p.obj("t i i", 900, 590)
    thru = p.obj("gate 1 1", 900, 650)
    midi_out = p.obj("midiout", 900, 760)
    p.connect(midi_in, 0, split, 0)
    p.connect(split, 0, thru, 1)
    p.connect(thru, 0, midi_out, 0)
    p.connect(ui_route, 4, thru, 0)

    # the answers: js -> [route m t n] -> pipes -> [pack 0 0 0] -> [midiout]
    to_pipes = p.obj("route m t n", 960, 600, 90)
    bytes_out = p.obj("pack 0 0 0", 960, 730)
    p.connect(js, 6, to_pipes, 0)
    for i, text in enumerate(("pipe 0 0 0 0 @delaytime 0 ticks", "pipe 0 0 0 0 @delaytime 0 ticks", "pipe 0 0 0 0")):
        pipe = p.obj(text, 960 + 80 * i, 650 + 20 * i, 190 if "@" in text else 90)
        p.connect(to_pipes, i, pipe, 0)
        for k in range(3):
            p.connect(pipe, k, bytes_out, k)
    p.connect(bytes_out, 0, midi_out, 0)

    # the fresh reading: "stamp 0 PLAYING TICKS" just before a reply or a toggle change
    stamper = p.obj("t b b", 1260, 480)
    stamp_clock = p.obj("transport", 1300, 505)
    stamp_pack = p.obj("pack 0 0 0.", 1260, 530)
    stamp_pre = p.obj("prepend stamp", 1260, 555)
    p.connect(stamper, 1, stamp_clock, 0)
    p.connect(stamp_clock, 6, stamp_pack, 1)    # state: 1 playing
    p.connect(stamp_clock, 7, stamp_pack, 2)    # ticks
    p.connect(stamper, 0, stamp_pack, 0)
    p.connect(stamp_pack, 0, stamp_pre, 0)
    p.connect(stamp_pre, 0, js, 0)
    p.connect(recv_stamp, 1, stamper, 0)

    # notes played -> "note PITCH VELOCITY TICKS", stamped with the song time as they arrive
    parse = p.obj("midiparse", 1000, 590)
    stamp = p.obj("t l b", 1000, 620)
    note_clock = p.obj("transport", 1060, 650)
    note = p.obj("pack 0 0 0.", 1000, 680)
    note_pre = p.obj("prepend note", 1000, 710)
    p.connect(split, 1, parse, 0)
    p.connect(parse, 0, stamp, 0)
    p.connect(stamp, 1, note_clock, 0)
    p.connect(note_clock, 7, note, 2)
    p.connect(stamp, 0, note, 0)
    p.connect(note, 0, note_pre, 0)
    p.connect(note_pre, 0, js, 0)

    # Live's transport -> "clock GRID PLAYING TICKS TEMPO NUM DEN"
    for i, (text, grid) in enumerate((("metro 32n @quantize 32n @active 1", 1), ("metro 50 @active 1", 0))):
        x = 1200 + 300 * i
        metro = p.obj(text, x, 560)
        order = p.obj("t b b", x, 590)
        transport = p.obj("transport", x + 40, 620)
        signature = p.obj("unpack 0 0", x + 120, 650)
        pack = p.obj(f"pack {grid} 0 0. 0. 0 0", x, 680)
        pre = p.obj("prepend clock", x, 710)
        p.connect(metro, 0, order, 0)
        p.connect(order, 1, transport, 0)
        p.connect(transport, 6, pack, 1)       # state: 1 playing
        p.connect(transport, 7, pack, 2)       # ticks: song time x 480
        p.connect(transport, 4, pack, 3)       # tempo
        p.connect(transport, 5, signature, 0)  # time signature
        p.connect(signature, 0, pack, 4)
        p.connect(signature, 1, pack, 5)
        p.connect(order, 0, pack, 0)
        p.connect(pack, 0, pre, 0)
        p.connect(pre, 0, js, 0)

    # the controls: right column of the device
    toggle = p.param("live.text", [1200, 420, 90, 20], [470, 20, 84, 22], varname="play_along",
                     longname="Play Along", shortname="Play", ptype=ENUM, enum=["off", "on"], initial=0, mode=1,
                     text="Play Along", texton="Play Along",
                     info="Play along: each bar you play into this track is sent at its bar line, and the "
                          "improvisation plays out of the device during the next bar. Press Play in Live.",
                     annotation_name="Play Along",
                     annotation="On: the device improvises with you bar by bar on Live's transport, with the "
                                "Rate, Sampling, Seed, Model and Structure of the clip controls.")
    source_of_input = p.param("live.menu", [1300, 420, 60, 15], [506, 48, 48, 15], varname="play_input",
                              longname="Play Input", shortname="Input", ptype=ENUM, enum=["thru", "mute"], initial=0,
                              info="thru: what you play also passes on to the instrument; mute: only the answers do.",
                              annotation_name="Play Input",
                              annotation="Pass your playing through to the instrument (thru) or only the answers "
                                         "(mute), while Play Along is on.")
    label("Input", [470, 48, 34, 15])
    mode = p.param("live.menu", [1400, 420, 60, 15], [506, 66, 48, 15], varname="play_mode", longname="Play Mode",
                   shortname="Mode", ptype=ENUM, enum=["echo", "ahead"], initial=0,
                   info="echo: the bar you just played comes back, improvised, one bar later; ahead: the bar the "
                        "model predicts next.",
                   annotation_name="Play Mode",
                   annotation="echo answers the bar you played in the next bar; ahead plays the bar it predicts "
                              "from your recent bars.")
    label("Mode", [470, 66, 34, 15])
    window = p.param("live.numbox", [1500, 420, 44, 15], [506, 84, 48, 15], varname="play_window",
                     longname="Play Window", shortname="Window", ptype=FLOAT, mmin=1, mmax=16, initial=8,
                     unitstyle=UNIT_INT, invisible=STORED_ONLY,
                     info="Bars of your recent playing the channel's statistics come from (1-16).",
                     annotation_name="Play Window",
                     annotation="How many recent bars the rate-limited channel codes against: short follows "
                                "your last phrase, long a whole section.")
    label("Window", [470, 84, 34, 15])
    toggle_pre = p.obj("prepend play_along", 1200, 445)
    toggle_stamp = p.obj("t a b", 1200, 470)
    p.chain(toggle, toggle_pre, toggle_stamp, js)
    p.connect(toggle_stamp, 1, stamper, 0)
    for box, key in ((source_of_input, "play_input"), (mode, "play_mode"), (window, "play_window")):
        wire(box, key)


def interpolate_controls(p: Patcher, js: Box, wire, label) -> None:
    """Interpolate (docs/DEVICE.md): a button that morphs the Detail View clip into the next clip on its
    track, and Steps (2-16), the clips it writes; under Play Along in the right column."""
    steps = p.param("live.numbox", [1160, 60, 40, 15], [520, 124, 34, 15], varname="interpolate_steps",
                    longname="Steps", shortname="Steps", ptype=FLOAT, mmin=2, mmax=16, initial=5,
                    unitstyle=UNIT_INT,
                    info="Clips Interpolate writes, from the selected clip (step 1) to the next clip on its "
                         "track (the last step), 2-16.")
    label("Steps", [470, 124, 48, 15])
    wire(steps, "interpolate_steps")
    btn = p.param("live.text", [1160, 20, 80, 20], [470, 104, 84, 18], varname="interpolate",
                  longname="Interpolate", shortname="Interp", ptype=ENUM, enum=["off", "on"], initial=0, mode=0,
                  text="Interpolate", texton="Interpolate", invisible=HIDDEN,
                  info="Morph the clip in Detail View into the next clip on its track: Steps new clips, written "
                       "after the second one; neither clip is changed.")
    press_to_js(p, btn, "interpolate", js, 1160, 100, 130)


# ---- the plain-Max abstraction ------------------------------------------------------------------
def abstraction() -> Patcher:
    p = Patcher([100, 100, 900, 560], {
        "openinpresentation": 1,
        "description": "qbdi.client: improvise with a qbdi server from any Max patch (no Live needed).",
        "digest": "Query-Based Deep Improvisation client",
        "tags": "qbdi improvisation osc",
        "style": "",
    })
    inlet = p.ui("inlet", [20, 20, 30, 30], index=1,
                 comment="messages: note list, dictionary, improvise, free N, queryb, interpolate N, settings")
    args = p.obj("patcherargs", 120, 20)
    args_pre = p.obj("prepend args", 120, 55)
    recv = p.obj("udpreceive 7501 @defer 1", 320, 20, 170)
    js = p.obj("js qbdi.client.js", 20, 150, 520,
               saved_object_attributes={"filename": "qbdi.client.js", "parameter_enable": 0})
    send = p.obj("udpsend 127.0.0.1 7400", 20, 230, 160)
    outs = [
        p.ui("outlet", [200, 300, 30, 30], index=1, comment="notes: pitch start duration velocity ..."),
        p.ui("outlet", [300, 300, 30, 30], index=2, comment="notes: dictionary NAME ({notes: [...]} like Live)"),
        p.ui("outlet", [400, 300, 30, 30], index=3,
             comment="status: connected, server, rtt, models, result, settings, warning"),
        p.ui("outlet", [500, 300, 30, 30], index=4, comment="errors: error CODE MESSAGE"),
    ]
    p.connect(inlet, 0, js, 0)
    p.connect(args, 0, args_pre, 0)
    p.connect(args_pre, 0, js, 0)
    p.connect(args, 1, js, 0)
    p.connect(recv, 0, js, 0)
    p.connect(js, 0, send, 0)
    p.connect(js, 1, recv, 0)
    for i, out in enumerate(outs):
        p.connect(js, 2 + i, out, 0)

    # bpatcher face
    p.ui("panel", [600, 20, 240, 64], present=[0, 0, 240, 64], bgcolor=[0.16, 0.16, 0.16, 1.0], background=1)
    p.comment("qbdi.client", 600, 100, 100, present=[4, 2, 100, 18], fontface=1, textcolor=[0.9, 0.9, 0.9, 1.0])
    imp = p.msg("improvise", 600, 130, 70, present=[4, 22, 70, 22])
    free = p.msg("free 4", 680, 130, 50, present=[78, 22, 50, 22])
    reroll = p.msg("reroll", 740, 130, 50, present=[132, 22, 50, 22])
    display = p.comment("not connected", 600, 170, 230, present=[4, 46, 232, 18], fontsize=10.0,
                        textcolor=[0.9, 0.9, 0.9, 1.0])
    for b in (imp, free, reroll):
        p.connect(b, 0, js, 0)
    p.connect(js, 6, display, 0)
    p.comment("[qbdi.client SERVER_PORT REPLY_PORT @host H @rate 256 ...]: see qbdi.client.maxhelp", 20, 360, 560)
    return p


# ---- help patch ---------------------------------------------------------------------------------------
PHRASE = ("query 60 0 0.5 96 62 0.5 0.5 80 64 1 0.5 90 67 1.5 0.5 84 69 2 1 100 67 3 0.5 76 64 3.5 0.5 70 "
          "62 4 1 92 64 5 0.5 80 60 5.5 0.5 74 62 6 2 88")

HELP_MESSAGES = [
    ("improvise", "improvise on the query"),
    ("improvise 60 0 1 100 67 1 1 90", "query and improvise at once"),
    ("48 0 2 100 55 2 2 80", "a plain list is a query too"),
    ("free 4", "free improvisation, 4 bars"),
    ("reroll", "new seed, improvise again"),
    ("queryb 57 0 2 90 64 0 2 80 53 2 2 90 60 2 2 80", "clip B of a morph"),
    ("interpolate 5", "morph the query into clip B: 5 steps"),
    ("rate 256", "bits per bar that survive"),
    ("rate full", "no channel: full rate"),
    ("threshold 0.5", "note threshold (sampling threshold)"),
    ("temperature 0.8", "temperature (sampling sample)"),
    ("sampling threshold", ""),
    ("sampling sample", ""),
    ("z mean", "encoder mean"),
    ("z sample", "encoder sample"),
    ("seed 42", "same seed, same notes"),
    ("allocation query", ""),
    ("allocation frame", ""),
    ("source posterior", ""),
    ("source empirical", ""),
    ("source prior", ""),
    ("structure free", ""),
    ("structure lock", "repeat what repeats"),
    ("continue 4", "continue 4 bars past the query"),
    ("bars 8", "length of free improvisation"),
    ("beats_per_bar 4", "meter (default 4)"),
    ("length_beats 16", "query length (default: to its last note)"),
    ("model pop", "an installed model"),
    ("model default", "the server's default model"),
    ("ping", "is the server there?"),
    ("diagnose", "check everything: Max Console"),
    ("status", ""),
    ("models", "list installed models"),
    ("settings", "print current settings"),
    ("host 127.0.0.1", "where the server is"),
    ("port 7400", ""),
    ("replyport 7501", "fixed reply port"),
    ("timeout 20000", "ms to wait for a result"),
    ("heartbeat 0", "stop pinging every 5 s"),
    ("clear", "forget the query"),
    ("quit", "stops the server!"),
]


def help_patch() -> Patcher:
    p = Patcher([60, 60, 1100, 860], {
        "description": "Help for qbdi.client",
        "tags": "qbdi",
        "style": "",
    })
    p.comment("qbdi.client", 20, 10, 300, 30, fontsize=20.0, fontface=1)
    p.comment("Improvise with a qbdi server from any Max patch. Start the server first, in a terminal:\n"
              "    qbdi serve\n"
              "(or open the QBDI Improviser device in Live once: its launcher starts the server).\n"
              "Then click the phrase, then improvise. The improvisation plays through makenote/noteout.",
              20, 45, 620)
    client = p.obj("qbdi.client", 20, 560, 300)
    phrase = p.msg(PHRASE, 20, 130, 620)
    p.comment("1. a short built-in phrase: pitch start duration velocity (beats)", 20, 110, 500)
    p.connect(phrase, 0, client, 0)

    # every message of the abstraction
    p.comment("2. messages (click them)", 20, 165, 300)
    for i, (text, note) in enumerate(HELP_MESSAGES):
        col, row = divmod(i, 16)
        x, y = 20 + 330 * col, 190 + 20 * row
        m = p.msg(text, x, y, 130)
        p.connect(m, 0, client, 0)
        if note:
            p.comment(note, x + 135, y, 190, fontsize=10.0)

    # a dict in Live's shape as the query
    dq = p.obj("dict qbdi.help.query @embed 1", 680, 130, 220, data={"notes": [
        {"pitch": 48, "start_time": 0.0, "duration": 1.0, "velocity": 100},
        {"pitch": 55, "start_time": 1.0, "duration": 1.0, "velocity": 80},
        {"pitch": 52, "start_time": 2.0, "duration": 2.0, "velocity": 90}]},
        saved_object_attributes={"embed": 1, "parameter_enable": 0, "parameter_mappable": 0})
    bang = p.msg("bang", 680, 100, 40)
    p.comment("or a [dict] like Live's notes: {notes: [{pitch, start_time, duration, velocity}]}", 730, 100, 340)
    p.connect(bang, 0, dq, 0)
    p.connect(dq, 0, client, 0)

    # playback: list -> one note at a time, delayed by its start -> makenote -> noteout
    tempo = p.obj("loadmess 120", 360, 600)
    bpm = p.ui("number", [360, 630, 50, 22])
    ms = p.obj("!/ 60000.", 360, 660)
    p.comment("tempo (bpm)", 415, 630, 90)
    it = p.obj("zl iter 4 @zlmaxsize 32767", 20, 600, 200)
    trig = p.obj("t l l", 20, 630)
    start = p.obj("zl nth 2", 120, 660)
    start_ms = p.obj("* 500.", 120, 690)
    reorder = p.msg("$1 $4 $3", 20, 690, 70)
    pipe = p.obj("pipe 0 0 0. 0", 20, 720, 140)
    dur_ms = p.obj("* 500.", 100, 750)
    mk = p.obj("makenote 100 500", 20, 780)
    nout = p.obj("noteout", 20, 810)
    p.connect(client, 0, it, 0)
    p.connect(it, 0, trig, 0)
    p.connect(trig, 1, start, 0)
    p.connect(start, 0, start_ms, 0)
    p.connect(start_ms, 0, pipe, 3)
    p.connect(trig, 0, reorder, 0)
    p.connect(reorder, 0, pipe, 0)
    p.connect(pipe, 0, mk, 0)
    p.connect(pipe, 1, mk, 1)
    p.connect(pipe, 2, dur_ms, 0)
    p.connect(dur_ms, 0, mk, 2)
    p.connect(mk, 0, nout, 0)
    p.connect(mk, 1, nout, 1)
    p.connect(tempo, 0, bpm, 0)
    p.connect(bpm, 0, ms, 0)
    p.connect(ms, 0, start_ms, 1)
    p.connect(ms, 0, dur_ms, 1)
    p.comment("3. the improvisation plays (noteout: pick a synth, e.g. the system's)", 180, 780, 400)

    for i, (name, what) in enumerate((("qbdi-dict", "dict out (Live's shape)"),
                                       ("qbdi-status", "status"), ("qbdi-error", "errors"))):
        pr = p.obj(f"print {name}", 560 + 150 * i, 600)
        p.connect(client, 1 + i, pr, 0)
        p.comment(what, 560 + 150 * i, 625, 140, fontsize=10.0)
    p.comment("outlets: notes as a list | notes as a dict | status | errors", 20, 535, 500)
    return p


# ---- writing ------------------------------------------------------------------------------------
def dumps(patcher: Patcher) -> str:
    return json.dumps(patcher.to_json(), indent="\t", ensure_ascii=False) + "\n"


def amxd(json_text: str, device_type: bytes = MIDI_EFFECT) -> bytes:
    """Unfrozen .amxd: ampf <type> / meta 0 / ptch <JSON + NUL>, sizes little-endian (m4l.md 1.2)."""
    payload = json_text.encode("utf-8") + b"\0"
    return (b"ampf" + struct.pack("<I", 4) + device_type
            + b"meta" + struct.pack("<I", 4) + struct.pack("<I", 0)
            + b"ptch" + struct.pack("<I", len(payload)) + payload)


def outputs() -> dict[str, bytes]:
    dev = dumps(device())
    return {
        f"{DEVICE_NAME}.maxpat": dev.encode("utf-8"),
        f"{DEVICE_NAME}.amxd": amxd(dev),
        "qbdi.client.maxpat": dumps(abstraction()).encode("utf-8"),
        "qbdi.client.maxhelp": dumps(help_patch()).encode("utf-8"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a written file would change")
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write to (default: max_patches/)")
    parser.add_argument("--list", action="store_true",
                        help="print the files a release ships from max_patches/ (qbdi_scripts.js), one a line")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(shipped()))
        return 0
    stale = []
    for name, data in outputs().items():
        path = args.out / name
        if args.check:
            if not path.exists() or path.read_bytes() != data:
                stale.append(name)
            continue
        path.write_bytes(data)
        print(f"wrote {path}")
    if stale:
        print("out of date (run python max_patches/build_patches.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
