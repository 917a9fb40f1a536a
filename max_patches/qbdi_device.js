// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
/*
 * qbdi_device.js -- the [js] of the "QBDI Improviser" Max for Live MIDI Effect.
 *
 * Reads the clip in Detail View (Session or Arrangement) through the Live API, sends it to the
 * qbdi server over OSC, and writes the improvisation into the next empty clip slot of the same
 * track (Session) or into a new clip after the query (Arrangement). The query clip is only ever
 * read. All protocol code lives in qbdi_protocol.js.
 *
 * ES5 only (Max 8's [js] is SpiderMonkey 1.8.5). Wiring in "QBDI Improviser.maxpat":
 *   inlet 0   <- everything: [udpreceive PORT @defer 1] (OSC replies, selector = address),
 *               dials and menus via [prepend <setting>], buttons via [prepend improvise] ->
 *               [deferlow], launcher messages via [prepend server], live.thisdevice -> init
 *   outlet 0  -> [udpsend 127.0.0.1 7400]  (OSC requests; also "host h" / "port p")
 *   outlet 1  -> status [comment]          ("set <text>")
 *   outlet 2  -> connected LED             (0 / 1)
 *   outlet 3  -> [udpreceive]              ("port N": this device's reply port)
 *   outlet 4  -> [node.script qbdi_launcher.js]  (ensure, port, host, probe_port)
 *   outlet 5  -> UI feedback via [route seed menu model_name]: the Seed box after Re-roll
 *               ("seed N"), the Model [umenu] ("menu clear" / "menu append NAME" / "menu set I"),
 *               and the stored model name ("model_name NAME" -> [pattr], a Blob parameter saved
 *               with the Live set; it comes back at load as "model_saved NAME").
 */

inlets = 1;
outlets = 6;

var OUT_OSC = 0;
var OUT_STATUS = 1;
var OUT_LED = 2;
var OUT_RECEIVE = 3;
var OUT_LAUNCHER = 4;
var OUT_UI = 5;

var REPLY_PORT_BASE = 7401;
var REPLY_PORT_SPAN = 500;
var SEED_PARAM_MAX = 16777215;   // Live parameters are 32-bit floats: integers are exact up to 2^24
var HEARTBEAT_MS = 5000;
var TICK_MS = 250;
var LAUNCHER_PROBE_MS = 1000;
var ENSURE_EVERY_MS = 10000;
var QUERY_RANGES = ["clip", "loop", "selection"];

function loadProtocol() {
    if (typeof require === "function") {
        try { return require("qbdi_protocol"); } catch (e) { /* fall back to include */ }
    }
    include("qbdi_protocol.js");
    return qbdi;
}
loadProtocol.local = 1;

var qbdi = loadProtocol();

// ---- state --------------------------------------------------------------------------------
var settings = new qbdi.Settings({ rate: 256 });
var rateBits = 256;
var rateFull = false;
var queryRange = "clip";
var continueBars = 4;
var serverHost = qbdi.DEFAULT_HOST;
var serverPort = qbdi.DEFAULT_PORT;
var replyPort = 0;
var portAttempt = 0;
var portProbe = null;          // {port, since}: waiting for the launcher's answer
var client = null;
var initialized = false;
var task = null;
var deviceId = 0;

var modelNames = [];           // from the server's models reply
var modelMaxRate = {};         // name -> max rate
var defaultModel = "";
var savedModel = null;         // the model chosen for this device (null: the server's default)

var connected = false;
var serverVersion = "";
var launcherState = "";
var launcherMessage = "";
var lastEnsure = -1e12;
var lastHeartbeat = -1e12;
var missedPings = 0;
var lastError = "";
var lastAction = "";
var lastRtt = null;

// ---- start-up -------------------------------------------------------------------------------
/** live.thisdevice -> [deferlow] -> "init": the Live API is usable from here on. */
function init() {
    if (initialized) { return; }
    initialized = true;
    deviceId = readDeviceId();
    client = new qbdi.Client({ send: sendOsc, onEvent: onEvent, now: now });
    choosePort(0);
    outlet(OUT_LAUNCHER, "port", serverPort);
    outlet(OUT_LAUNCHER, "ensure");
    lastEnsure = now();
    if (typeof Task !== "undefined") {
        task = new Task(tick, this);
        task.interval = TICK_MS;
        task.repeat();
    }
    showStatus();
}

function readDeviceId() {
    try {
        var dev = new LiveAPI("this_device");
        var id = Number(dev.id);
        return isFinite(id) && id > 0 ? id : 0;
    } catch (e) {
        return 0;
    }
}
readDeviceId.local = 1;

/** Pick this device's reply port: derived from the device id, so instances differ; retried. */
function choosePort(attempt) {
    portAttempt = attempt;
    var seed = deviceId > 0 ? deviceId : Math.floor(Math.random() * REPLY_PORT_SPAN);
    var port = REPLY_PORT_BASE + ((seed * 37 + attempt * 101) % REPLY_PORT_SPAN);
    portProbe = { port: port, since: now() };
    outlet(OUT_LAUNCHER, "probe_port", port);
}
choosePort.local = 1;

function usePort(port) {
    portProbe = null;
    replyPort = port;
    client.replyPort = port;
    client.reset();
    outlet(OUT_RECEIVE, "port", port);
    missedPings = 0;
    heartbeat();
}
usePort.local = 1;

function notifydeleted() {
    if (task) { task.cancel(); task = null; }
}

// ---- messages -------------------------------------------------------------------------------
/** OSC replies (selector = address), settings from dials and menus, launcher reports. */
function anything() {
    var args = arrayfromargs(arguments);
    var name = messagename;
    if (name.charAt(0) === "/") {
        if (client) { client.handle(name, args); }
        return;
    }
    applySetting(name, args);
}

function applySetting(name, args) {
    var v = args.length ? args[0] : undefined;
    var problem = null;
    switch (name) {
    case "rate":
        rateBits = Math.max(0, Math.round(Number(v)));
        if (!rateFull) { problem = settings.set("rate", cappedRate()); }
        break;
    case "rate_full":
        rateFull = Number(v) !== 0;
        problem = settings.set("rate", rateFull ? "full" : cappedRate());
        break;
    case "query_range":
        var idx = typeof v === "number" ? Math.round(v) : qbdi.indexOf(QUERY_RANGES, String(v));
        if (idx >= 0 && idx < QUERY_RANGES.length) { queryRange = QUERY_RANGES[idx]; } else { problem = "query range must be clip, loop or selection"; }
        break;
    case "continue_bars":
        continueBars = Math.max(1, Math.min(qbdi.MAX_BARS, Math.round(Number(v)) || 1));
        break;
    case "model_index":
        // the Model menu: ignored until the server's list has filled it (at load it says 0)
        if (modelNames.length === 0) { break; }
        var i = Math.round(Number(v));
        chooseModel(i > 0 && i <= modelNames.length ? modelNames[i - 1] : null, true);
        break;
    case "model_saved":
        savedModel = v === undefined || String(v) === "default" || String(v) === "" ? null : String(v);
        problem = settings.set("model", savedModel);
        if (modelNames.length) { showModelMenu(); }
        break;
    case "server_port":
        var p = Math.round(Number(v));
        if (p > 0 && p < 65536) {
            serverPort = p;
            outlet(OUT_OSC, "port", p);
            outlet(OUT_LAUNCHER, "port", p);
            connected = false;
            heartbeat();
        } else { problem = "server port must be 1..65535"; }
        break;
    case "host":
        serverHost = String(v);
        outlet(OUT_OSC, "host", serverHost);
        outlet(OUT_LAUNCHER, "host", serverHost);
        break;
    default:
        var key = qbdi.settingKey(name);
        if (key === null) { problem = "unknown message '" + name + "'"; break; }
        if (key === "continue_bars") { continueBars = Math.max(1, Math.round(Number(v)) || 1); break; }
        problem = settings.set(key, args.length > 1 ? args.join(" ") : v);
    }
    if (problem) { fail("bad_setting", problem); }
}
applySetting.local = 1;

function cappedRate() {
    var name = settings.get("model") || defaultModel;
    var max = modelMaxRate[name];
    return max > 0 && rateBits > max ? max : rateBits;
}
cappedRate.local = 1;

/** Use this model for the next requests; remember it with the Live set when `save`. */
function chooseModel(name, save) {
    savedModel = name;
    settings.set("model", name);
    if (save) { outlet(OUT_UI, "model_name", name === null ? "default" : name); }
    if (!rateFull) { settings.set("rate", cappedRate()); }
}
chooseModel.local = 1;

/** Fill the Model menu from the server's list and select the saved model. */
function showModelMenu() {
    outlet(OUT_UI, "menu", "clear");
    outlet(OUT_UI, "menu", "append", "default");
    for (var i = 0; i < modelNames.length; i++) { outlet(OUT_UI, "menu", "append", modelNames[i]); }
    var idx = savedModel === null ? -1 : qbdi.indexOf(modelNames, savedModel);
    if (savedModel !== null && idx < 0) {
        lastError = "model '" + savedModel + "' (saved with this set) is not on this server; using its default";
        settings.set("model", null);
    }
    outlet(OUT_UI, "menu", "set", idx + 1);
}
showModelMenu.local = 1;

/** "model NAME" typed or sent from a message box. */
function model(name) {
    var problem = settings.set("model", name === undefined ? null : name);
    if (problem) { fail("bad_setting", problem); return; }
    chooseModel(settings.get("model"), true);
    if (modelNames.length) { showModelMenu(); }
}

/** Buttons. A 0 (button release from a MIDI/automation map) is ignored. */
function improvise(v) {
    if (v === 0) { return; }
    startImprovise("improv", 0);
}

function continue_clip(v) {
    if (v === 0) { return; }
    startImprovise("cont", continueBars);
}

function reroll(v) {
    if (v === 0) { return; }
    var seed = Math.floor(Math.random() * (SEED_PARAM_MAX + 1));
    settings.set("seed", seed);
    outlet(OUT_UI, "seed", seed);
    startImprovise("improv", 0);
}

function free(v) {
    if (v === 0) { return; }
    if (!ready()) { return; }
    var target = freeTarget();
    if (target.error) { fail("live_api", target.error); return; }
    var s = settings.copy({ beats_per_bar: target.beatsPerBar, continue_bars: 0 });
    var ctx = { mode: "free", prefix: "free", beatsPerBar: target.beatsPerBar, span: s.get("bars") * target.beatsPerBar,
                target: target.target, requested: s.values };
    client.free(s, ctx);
    lastAction = "free improvisation, " + s.get("bars") + " bars…";
    lastError = "";
    showStatus();
}

function ping() {
    if (client) { heartbeat(); }
}

function status() {
    if (client) { client.status(); }
}

function models() {
    if (client) { client.models(); }
}

/** Reports from qbdi_launcher.js (node.script) via [prepend server]. */
function server() {
    var args = arrayfromargs(arguments);
    var kind = String(args[0]);
    if (kind === "state") {
        launcherState = String(args[1] || "");
        launcherMessage = args.slice(2).join(" ");
        if (launcherState === "running" || launcherState === "external") { heartbeat(); }
    } else if (kind === "error") {
        launcherState = "error";
        launcherMessage = args.slice(2).join(" ");
        lastError = launcherMessage;
    } else if (kind === "ready") {
        launcherState = "running";
        serverVersion = String(args[1] || "");
        heartbeat();
    } else if (kind === "port_free") {
        var port = Math.round(Number(args[1]));
        if (portProbe && port === portProbe.port) {
            if (Number(args[2]) === 1) { usePort(port); } else { choosePort(portAttempt + 1); }
        }
    }
    showStatus();
}

// ---- timers ---------------------------------------------------------------------------------
function tick() {
    if (!client) { return; }
    var t = now();
    if (portProbe && t - portProbe.since > LAUNCHER_PROBE_MS) {
        usePort(portProbe.port);      // no launcher answer (Node missing?): just use it
    }
    client.tick();
    if (replyPort && t - lastHeartbeat > HEARTBEAT_MS && !client.isPending("ping")) { heartbeat(); }
}

function heartbeat() {
    if (!client || !replyPort) { return; }
    lastHeartbeat = now();
    client.ping();
}
heartbeat.local = 1;

function now() { return new Date().getTime(); }
now.local = 1;

function ready() {
    if (!initialized || !client) { fail("live_api", "the device is still loading; try again in a moment"); return false; }
    if (!replyPort) { usePort(portProbe ? portProbe.port : REPLY_PORT_BASE); }
    return true;
}
ready.local = 1;

// ---- replies --------------------------------------------------------------------------------
function onEvent(ev) {
    var kind = ev.request ? ev.request.kind : "";
    switch (ev.type) {
    case "pong":
        missedPings = 0;
        if (!connected) { connected = true; client.models(); }
        serverVersion = ev.serverVersion;
        lastRtt = ev.rtt;
        if (ev.mismatch) { lastError = ev.mismatch; }
        else if (lastError.indexOf("server") === 0) { lastError = ""; }
        break;
    case "models":
        defaultModel = ev.defaultModel;
        modelNames = [];
        modelMaxRate = {};
        for (var i = 0; i < ev.models.length; i++) {
            modelNames.push(ev.models[i].name);
            modelMaxRate[ev.models[i].name] = ev.models[i].max_rate;
        }
        showModelMenu();
        if (!rateFull) { settings.set("rate", cappedRate()); }
        break;
    case "status":
        lastAction = "server " + (ev.ready ? "ready" : "loading") + ", " + ev.served + " served";
        break;
    case "result":
        lastRtt = ev.rtt;
        writeResult(ev);
        break;
    case "error":
        lastError = ev.code + ": " + ev.message;
        if (ev.code === "unknown_model") { lastError += " (pick a model from the Model menu)"; }
        if (kind === "improvise" || kind === "free") { lastAction = ""; }
        break;
    case "warning":
        lastAction = "warning: " + ev.message;
        break;
    case "timeout":
        if (kind === "ping") {
            missedPings++;
            connected = false;
            lastError = "server not answering on " + serverHost + ":" + serverPort;
            askLauncher();
            if (missedPings >= 3 && (launcherState === "running" || launcherState === "external")) {
                // the server is up for the launcher but our replies never arrive: another port
                missedPings = 0;
                choosePort(portAttempt + 1);
            }
        } else {
            lastError = ev.message + " (is the server running? see the status line)";
            lastAction = "";
        }
        break;
    case "bad_reply":
        lastError = "bad reply from the server: " + ev.message;
        break;
    }
    showStatus();
}
onEvent.local = 1;

function askLauncher() {
    var t = now();
    if (t - lastEnsure >= ENSURE_EVERY_MS) {
        lastEnsure = t;
        // the settings again too: node.script may not have been running when init sent them
        outlet(OUT_LAUNCHER, "host", serverHost);
        outlet(OUT_LAUNCHER, "port", serverPort);
        outlet(OUT_LAUNCHER, "ensure");
    }
}
askLauncher.local = 1;

// ---- reading the query ----------------------------------------------------------------------
function startImprovise(prefix, contBars) {
    if (!ready()) { return; }
    var q = readQuery();
    if (q.error) { fail(q.code || "no_query", q.error); return; }
    if (q.notes.length === 0) {
        fail("no_query", "the clip has no unmuted notes" + (queryRange === "clip" ? "" : " in its " + queryRange) +
             "; add notes or use Free");
        return;
    }
    // the clip's length travels too: trailing silent bars are part of the query
    var s = settings.copy({ beats_per_bar: q.beatsPerBar, length_beats: q.span, continue_bars: contBars });
    var ctx = { mode: contBars > 0 ? "continue" : "improvise", prefix: prefix, beatsPerBar: q.beatsPerBar,
                span: q.span + contBars * q.beatsPerBar, target: q.target, queryClipId: q.clipId, requested: s.values };
    try {
        client.improvise(q.notes, s, ctx);
    } catch (e) {
        fail("too_large", String(e.message || e));
        return;
    }
    lastError = "";
    lastAction = (contBars > 0 ? "continuing '" : "improvising on '") + q.name + "' (" + q.notes.length + " notes" +
                 (q.warning ? "; " + q.warning : "") + ")…";
    showStatus();
}
startImprovise.local = 1;

/**
 * The query: {notes: [{pitch, start, duration, velocity}] starting at 0, beatsPerBar, span (beats),
 * name, clipId, target: {kind: "session"|"arrangement", track, slot | endTime}} or {error}.
 */
function readQuery() {
    var view = new LiveAPI("live_set view detail_clip");
    if (!view || !validId(view.id)) {
        return { error: "no clip in Detail View: click a MIDI clip (Session or Arrangement), then Improvise" };
    }
    var clip = new LiveAPI("id " + Number(view.id));
    if (number(clip.get("is_midi_clip"), 1) !== 1) {
        return { error: "the clip in Detail View is an audio clip; select a MIDI clip" };
    }
    var where = locateClip(clip);
    if (where.error) { return { error: where.error, code: "live_api" }; }
    var num = number(clip.get("signature_numerator"), 4);
    var den = number(clip.get("signature_denominator"), 4);
    var beatsPerBar = num > 0 && den > 0 ? num * 4 / den : 4;

    var loopStart = number(clip.get("loop_start"), 0);
    var loopEnd = number(clip.get("loop_end"), NaN);
    var startMarker = number(clip.get("start_marker"), loopStart);
    var endMarker = number(clip.get("end_marker"), loopEnd);
    var length = number(clip.get("length"), loopEnd - loopStart);
    if (!(loopEnd > loopStart)) { loopEnd = loopStart + (length > 0 ? length : beatsPerBar); }
    if (!(endMarker > startMarker)) { endMarker = loopEnd; }
    var from, to;
    if (queryRange === "loop") {
        from = loopStart; to = loopEnd;
    } else {
        from = Math.min(startMarker, loopStart); to = Math.max(endMarker, loopEnd);
    }
    var read = queryRange === "selection" ? readSelectedNotes(clip) : readNotes(clip, from, to - from);
    if (read.error) { return { error: read.error, code: "live_api" }; }
    var notes = read.notes;
    if (queryRange === "selection" && notes.length) {
        var lo = 1e12, hi = 0;
        for (var i = 0; i < notes.length; i++) {
            lo = Math.min(lo, notes[i].start_time);
            hi = Math.max(hi, notes[i].start_time + notes[i].duration);
        }
        from = Math.floor(lo / beatsPerBar) * beatsPerBar;
        to = Math.max(from + beatsPerBar, Math.ceil(hi / beatsPerBar - 1e-9) * beatsPerBar);
    }
    var out = [];
    for (var j = 0; j < notes.length; j++) {
        var n = notes[j];
        if (n.start_time < from || n.start_time >= to) { continue; }
        out.push({ pitch: n.pitch, start: n.start_time - from, duration: n.duration, velocity: n.velocity });
    }
    var target = where;
    if (target.kind === "arrangement") {
        target.endTime = number(clip.get("end_time"), NaN);
        if (!isFinite(target.endTime)) {
            target.endTime = number(clip.get("start_time"), 0) + (to - from);
        }
    }
    return { notes: out, beatsPerBar: beatsPerBar, span: to - from, name: text(clip.get("name")) || "clip",
             clipId: Number(clip.id), target: target, warning: read.warning || "" };
}
readQuery.local = 1;

/** Where a clip lives: {kind: "session", track, slot} or {kind: "arrangement", track}. */
function locateClip(clip) {
    var path = unquote(clip.unquotedpath || clip.path);
    var m = /tracks (\d+) clip_slots (\d+)/.exec(path);
    if (m) { return { kind: "session", track: Number(m[1]), slot: Number(m[2]) }; }
    m = /tracks (\d+) arrangement_clips (\d+)/.exec(path);
    if (m) { return { kind: "arrangement", track: Number(m[1]), index: Number(m[2]) }; }
    // Not a canonical path: ask the parent (a ClipSlot for Session clips, a Track for Arrangement clips).
    var parentId = idOf(clip.get("canonical_parent"));
    if (parentId > 0) {
        var parent = new LiveAPI("id " + parentId);
        var ppath = unquote(parent.unquotedpath || parent.path);
        m = /tracks (\d+) clip_slots (\d+)/.exec(ppath);
        if (m) { return { kind: "session", track: Number(m[1]), slot: Number(m[2]) }; }
        m = /tracks (\d+)$/.exec(ppath);
        if (m) { return { kind: "arrangement", track: Number(m[1]), index: -1 }; }
    }
    if (/return_tracks|master_track/.test(path)) {
        return { error: "the clip is on a return or master track; use a MIDI track" };
    }
    return { error: "cannot tell which track the clip is on (Live API path '" + path + "')" };
}
locateClip.local = 1;

/** get_notes_extended (Live 11+), falling back to the legacy get_notes. */
function readNotes(clip, from, span) {
    var raw;
    try { raw = clip.call("get_notes_extended", 0, 128, from, span); } catch (e) { raw = undefined; }
    var notes = parseNotesReply(raw);
    if (notes !== null) { return { notes: unmuted(notes) }; }
    try { raw = clip.call("get_notes", from, 0, span, 128); } catch (e2) { raw = undefined; }
    notes = parseLegacyNotes(raw);
    if (notes !== null) {
        return { notes: unmuted(notes), warning: "read with the legacy get_notes (Live 10?); Live 11+ is recommended" };
    }
    return { error: "could not read the clip's notes: neither get_notes_extended (Live 11+) nor get_notes answered" };
}
readNotes.local = 1;

function readSelectedNotes(clip) {
    var raw;
    try { raw = clip.call("get_selected_notes_extended"); } catch (e) { raw = undefined; }
    var notes = parseNotesReply(raw);
    if (notes === null) {
        return { error: "this Live version cannot report the selected notes (needs Live 11+); set Query to clip or loop" };
    }
    return { notes: unmuted(notes) };
}
readSelectedNotes.local = 1;

/**
 * The reply of get_notes_extended: a JSON string (documented), a one-element array holding it,
 * an already-parsed object or a Dict. Returns the notes, normalised, or null when unusable.
 */
function parseNotesReply(raw) {
    if (raw === undefined || raw === null || raw === 0 || raw === "") { return null; }
    var obj = raw;
    if (typeof raw === "object" && raw.length !== undefined && raw.length === 1) { obj = raw[0]; }
    if (obj && typeof obj === "object" && typeof obj.stringify === "function") { obj = obj.stringify(); }
    if (typeof obj === "string") {
        try { obj = JSON.parse(obj); } catch (e) { return null; }
    }
    if (!obj || typeof obj !== "object") { return null; }
    var list = obj.notes;
    if (!list || list.length === undefined) { return null; }
    var out = [];
    for (var i = 0; i < list.length; i++) {
        var n = list[i];
        if (!n) { continue; }
        var note = {
            pitch: Number(n.pitch),
            start_time: Number(n.start_time !== undefined ? n.start_time : n.start),
            duration: Number(n.duration),
            velocity: n.velocity === undefined ? 100 : Number(n.velocity),
            mute: n.mute ? Number(n.mute) : 0
        };
        if (isFinite(note.pitch) && isFinite(note.start_time) && note.duration > 0) { out.push(note); }
    }
    return out;
}
parseNotesReply.local = 1;

/** Legacy get_notes: "notes N note p t d v m ... done" as a flat array (or a string). */
function parseLegacyNotes(raw) {
    if (raw === undefined || raw === null || raw === 0) { return null; }
    var list = typeof raw === "string" ? raw.split(/\s+/) : raw;
    if (!list || list.length === undefined || String(list[0]) !== "notes") { return null; }
    var out = [];
    for (var i = 0; i < list.length; i++) {
        if (String(list[i]) === "note" && i + 5 < list.length) {
            out.push({ pitch: Number(list[i + 1]), start_time: Number(list[i + 2]), duration: Number(list[i + 3]),
                       velocity: Number(list[i + 4]), mute: Number(list[i + 5]) });
            i += 5;
        }
    }
    return out;
}
parseLegacyNotes.local = 1;

function unmuted(notes) {
    var out = [];
    for (var i = 0; i < notes.length; i++) {
        if (!notes[i].mute) { out.push(notes[i]); }
    }
    return out;
}
unmuted.local = 1;

/** Free improvisation goes next to the Detail View clip if it is on this device's track, else
 *  into the first empty slot of this device's track. */
function freeTarget() {
    var devPath = "";
    try { var dev = new LiveAPI("this_device"); devPath = unquote(dev.unquotedpath || dev.path); } catch (e) { devPath = ""; }
    var m = /tracks (\d+) devices/.exec(devPath);
    var track = m ? Number(m[1]) : -1;
    var view = new LiveAPI("live_set view detail_clip");
    if (view && validId(view.id)) {
        var clip = new LiveAPI("id " + Number(view.id));
        var where = locateClip(clip);
        if (!where.error && (track < 0 || where.track === track)) {
            var num = number(clip.get("signature_numerator"), 4);
            var den = number(clip.get("signature_denominator"), 4);
            if (where.kind === "arrangement") { where.endTime = number(clip.get("end_time"), 0); }
            return { target: where, beatsPerBar: num * 4 / den };
        }
    }
    if (track < 0) { return { error: "cannot tell which track this device is on; put it on a MIDI track" }; }
    var song = new LiveAPI("live_set");
    var sn = number(song.get("signature_numerator"), 4);
    var sd = number(song.get("signature_denominator"), 4);
    return { target: { kind: "session", track: track, slot: -1 }, beatsPerBar: sn * 4 / sd };
}
freeTarget.local = 1;

// ---- writing the improvisation --------------------------------------------------------------
function writeResult(ev) {
    var ctx = ev.request.context;
    var notes = cleanNotes(ev.notes);
    var effective = ev.settings || {};
    if (effective.rate === undefined) { effective.rate = ctx.requested.rate; }
    if (effective.seed === undefined) { effective.seed = ctx.requested.seed; }
    var bpb = ctx.beatsPerBar;
    var end = 0;
    for (var i = 0; i < notes.length; i++) { end = Math.max(end, notes[i].start + notes[i].duration); }
    var length = Math.max(ctx.span, Math.ceil(end / bpb - 1e-9) * bpb, bpb);
    var name = qbdi.clipName(ctx.prefix, effective);
    var result;
    try {
        if (ctx.target.kind === "arrangement") {
            result = writeArrangement(ctx.target, notes, length, name);
            if (!result.ok) {
                var why = result.reason;
                result = writeSession(ctx.target.track, -1, notes, length, name);
                if (result.ok) { result.where += " (" + why + ")"; }
            }
        } else {
            result = writeSession(ctx.target.track, ctx.target.slot, notes, length, name);
        }
    } catch (e) {
        result = { ok: false, reason: "Live API error: " + (e.message || e) };
    }
    if (!result.ok) { fail("live_api", result.reason); return; }
    lastError = "";
    lastAction = "wrote '" + name + "' (" + notes.length + " notes) " + result.where;
    if (notes.length === 0) { lastAction += " — silent: lower Threshold or raise Rate"; }
}
writeResult.local = 1;

/** Server notes -> notes Live accepts (pitch 0..127, start >= 0, duration > 0, velocity 1..127). */
function cleanNotes(notes) {
    var out = [];
    for (var i = 0; i < notes.length; i++) {
        var n = qbdi.normalizeNote(notes[i]);
        if (n) { out.push(n); }
    }
    return out;
}
cleanNotes.local = 1;

function writeSession(track, afterSlot, notes, length, name) {
    var trackApi = new LiveAPI("live_set tracks " + track);
    if (!validId(trackApi.id)) { return { ok: false, reason: "track " + (track + 1) + " no longer exists" }; }
    var count = trackApi.getcount("clip_slots");
    var target = -1;
    for (var i = afterSlot + 1; i < count; i++) {
        var slot = new LiveAPI("live_set tracks " + track + " clip_slots " + i);
        if (number(slot.get("has_clip"), 1) === 0) { target = i; break; }
    }
    var added = "";
    if (target < 0) {
        var song = new LiveAPI("live_set");
        song.call("create_scene", -1);
        var after = trackApi.getcount("clip_slots");
        if (after <= count) { return { ok: false, reason: "no empty clip slot after the query, and adding a scene failed" }; }
        target = count;
        added = ", new scene";
    }
    var slotApi = new LiveAPI("live_set tracks " + track + " clip_slots " + target);
    slotApi.call("create_clip", length);
    var clip = new LiveAPI("live_set tracks " + track + " clip_slots " + target + " clip");
    if (!validId(clip.id)) { return { ok: false, reason: "Live did not create a clip in slot " + (target + 1) + " (is it a MIDI track?)" }; }
    var how = addNotes(clip, notes, length);
    if (!how.ok) { return how; }
    clip.set("name", name);
    return { ok: true, where: "to track " + (track + 1) + ", slot " + (target + 1) + added };
}
writeSession.local = 1;

function arrangementClips(track) {
    var trackApi = new LiveAPI("live_set tracks " + track);
    var n = trackApi.getcount("arrangement_clips");
    var out = [];
    for (var i = 0; i < n; i++) {
        var c = new LiveAPI("live_set tracks " + track + " arrangement_clips " + i);
        out.push({ index: i, id: Number(c.id), start: number(c.get("start_time"), 0), end: number(c.get("end_time"), 0) });
    }
    return out;
}
arrangementClips.local = 1;

/** A new Arrangement clip after the query (Live 12: Track.create_midi_clip), never over another clip. */
function writeArrangement(target, notes, length, name) {
    var trackApi = new LiveAPI("live_set tracks " + target.track);
    if (!validId(trackApi.id)) { return { ok: false, reason: "track " + (target.track + 1) + " no longer exists" }; }
    var existing = arrangementClips(target.track);
    var pos = target.endTime;
    var moved = true;
    while (moved) {
        moved = false;
        for (var i = 0; i < existing.length; i++) {
            var c = existing[i];
            if (c.start < pos + length - 1e-9 && c.end > pos + 1e-9) { pos = c.end; moved = true; }
        }
    }
    try {
        trackApi.call("create_midi_clip", pos, length);
    } catch (e) {
        return { ok: false, reason: "Live could not create an Arrangement clip (Track.create_midi_clip needs Live 12)" };
    }
    var created = null;
    var after = arrangementClips(target.track);
    for (var j = 0; j < after.length; j++) {
        if (Math.abs(after[j].start - pos) < 1e-6) { created = after[j]; break; }
    }
    if (!created) {
        return { ok: false, reason: "Arrangement clips can only be created from Max in Live 12; wrote to Session instead" };
    }
    var clip = new LiveAPI("id " + created.id);
    var how = addNotes(clip, notes, length);
    if (!how.ok) { return how; }
    clip.set("name", name);
    return { ok: true, where: "to the Arrangement at beat " + (Math.round(pos * 100) / 100) };
}
writeArrangement.local = 1;

/** add_new_notes (Live 11+); if it left the clip empty, the legacy set_notes. */
function addNotes(clip, notes, length) {
    if (notes.length === 0) { return { ok: true }; }
    var payload = qbdi.toLiveNotes(notes);
    var failed = false;
    try { clip.call("add_new_notes", payload); } catch (e) { failed = true; }
    if (!failed) {
        var back = null;
        try { back = parseNotesReply(clip.call("get_notes_extended", 0, 128, 0, length + 1)); } catch (e2) { back = null; }
        if (back === null || back.length > 0) { return { ok: true }; }
    }
    try {
        clip.call("set_notes");
        clip.call("notes", notes.length);
        for (var i = 0; i < notes.length; i++) {
            var n = notes[i];
            clip.call("note", n.pitch, n.start, n.duration, n.velocity, 0);
        }
        clip.call("done");
    } catch (e3) {
        return { ok: false, reason: "Live refused the notes (add_new_notes and set_notes failed)" };
    }
    return { ok: true };
}
addNotes.local = 1;

// ---- status line --------------------------------------------------------------------------
function fail(code, message) {
    lastError = message;
    lastAction = "";
    showStatus();
    post("qbdi: " + code + ": " + message + "\n");
}
fail.local = 1;

function showStatus() {
    var parts = [];
    if (connected) {
        var m = settings.get("model") || defaultModel || "default model";
        parts.push("● " + m + (lastRtt !== null ? " · " + Math.round(lastRtt) + " ms" : ""));
    } else if (launcherState === "starting") {
        parts.push("○ starting the server…");
    } else if (launcherState === "error" || launcherState === "failed" || launcherState === "crashed") {
        parts.push("○ server " + launcherState + (launcherMessage ? ": " + launcherMessage : ""));
    } else {
        parts.push("○ no server");
    }
    if (lastError) { parts.push("⚠ " + lastError); } else if (lastAction) { parts.push(lastAction); }
    outlet(OUT_STATUS, "set", parts.join("  "));
    outlet(OUT_LED, connected ? 1 : 0);
}
showStatus.local = 1;

// ---- Live API helpers -------------------------------------------------------------------------
function first(x) {
    if (x !== null && typeof x === "object" && x.length !== undefined) { return x.length ? x[0] : undefined; }
    return x;
}
first.local = 1;

function number(x, fallback) {
    var v = Number(first(x));
    return isFinite(v) ? v : fallback;
}
number.local = 1;

function text(x) {
    if (x !== null && typeof x === "object" && x.length !== undefined) { return x.join(" "); }
    return x === undefined || x === null ? "" : String(x);
}
text.local = 1;

function idOf(x) {
    if (x && typeof x === "object" && x.length !== undefined) {
        for (var i = 0; i + 1 < x.length; i++) {
            if (String(x[i]) === "id") { return Number(x[i + 1]); }
        }
        return Number(x[0]);
    }
    return Number(x);
}
idOf.local = 1;

function validId(id) {
    var n = Number(id);
    return isFinite(n) && n > 0;
}
validId.local = 1;

function unquote(p) {
    return String(p === undefined || p === null ? "" : p).replace(/^"+|"+$/g, "");
}
unquote.local = 1;

function sendOsc(message) {
    outlet(OUT_OSC, message);
}
sendOsc.local = 1;
