// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
/*
 * qbdi.client.js -- the [js] inside the qbdi.client abstraction (plain Max, no Live API).
 *
 * Turns inlet messages into qbdi requests and the server's replies into notes. All protocol
 * code lives in qbdi_protocol.js (shared with the Max for Live device). ES5 only.
 *
 * Inlet messages (see qbdi.client.maxhelp):
 *   list p s d v ...      the query as a flat note list (pitch, start and duration in beats, velocity)
 *   query p s d v ...     the same; "query" alone clears it
 *   dictionary NAME       the query from a [dict] in Live's shape {notes: [{pitch, start_time, duration, velocity}]}
 *   improvise [p s d v ...]   improvise on the query (or on the notes given)
 *   free [BARS]           free improvisation (no query)
 *   queryb p s d v ...    clip B of a morph, as a flat note list ("queryb" alone clears it)
 *   interpolate [STEPS]   morph the query (clip A) into clip B in STEPS clips (2-16, default 5): the
 *                         steps come out one after another (step k from k x the step length), and
 *                         "morph STEPS STEP_BEATS" out of the status outlet; the dict has each step too
 *   reroll                new random seed, then improvise (or free, or interpolate) again
 *   rate N | rate full, threshold X, temperature X, sampling threshold|sample, z mean|sample,
 *   seed N, allocation query|frame, source posterior|empirical|prior, structure free|lock,
 *   continue N, bars N, beats_per_bar X, length_beats X, model NAME | model default
 *   host H, port P        where the server is (default 127.0.0.1 7400)
 *   replyport N           the UDP port replies come to (default: a free one from 7501)
 *   ping, status, models, settings (dump), quit (stops the server), heartbeat 0|1, timeout MS, clear
 *   diagnose              run every check (qbdi_diagnose.js): PASS / FAIL lines and a report in the
 *                         Max Console, "diagnose <summary>" out of the status outlet
 * Outlets of the abstraction:
 *   0 notes as a flat list p s d v ...     1 notes as "dictionary NAME" (Live's shape; a morph's
 *     dict also has "steps": one {notes: [...]} per step, starts from the step's beginning)
 *   2 status messages (connected, server, rtt, models, result, settings, warning, ...)
 *   3 errors: "error CODE MESSAGE"
 * (The [js] has 7 outlets: 0 -> [udpsend], 1 -> [udpreceive], 2..5 -> the abstraction's outlets
 *  above, 6 -> the one-line display of the bpatcher face.)
 */

inlets = 1;
outlets = 7;

var OUT_OSC = 0;       // -> [udpsend]
var OUT_RECEIVE = 1;   // -> [udpreceive] ("port N")
var OUT_LIST = 2;
var OUT_DICT = 3;
var OUT_STATUS = 4;
var OUT_ERROR = 5;
var OUT_DISPLAY = 6;   // -> the bpatcher face's [comment] ("set <text>")

var REPLY_PORT_BASE = 7501;
var REPLY_PORT_SPAN = 498;
var HEARTBEAT_MS = 5000;
var TICK_MS = 250;

/** The module `name` if it has every name in `expected`, from require() or include(), else null. */
function loadModule(name, expected, fromGlobal) {
    var m = null;
    if (typeof require === "function") {
        try { m = require(name); } catch (e) { m = null; }
    }
    if (hasAll(m, expected)) { loadedBy[name] = "require"; return m; }
    try { include(name + ".js"); m = fromGlobal(); } catch (e2) { m = null; }
    loadedBy[name] = hasAll(m, expected) ? "include" : "MISSING";
    return hasAll(m, expected) ? m : null;
}
loadModule.local = 1;

function hasAll(m, names) {
    if (!m) { return false; }
    for (var i = 0; i < names.length; i++) { if (m[names[i]] === undefined) { return false; } }
    return true;
}
hasAll.local = 1;

var loadedBy = {};
var qbdi = loadModule("qbdi_protocol", ["Settings", "parseReply", "PROTOCOL_VERSION"],
                      function () { return typeof qbdi === "object" ? qbdi : null; });
var qbdiExchange = loadModule("qbdi_exchange", ["attach"],     // the Client and the assemblers
                              function () { return typeof qbdiExchange === "object" ? qbdiExchange : null; });
var missingScript = !qbdi ? "qbdi_protocol.js" : (!qbdiExchange ? "qbdi_exchange.js" : "");
qbdi = qbdi && qbdiExchange ? qbdiExchange.attach(qbdi) : null;
var qbdiDiagnose = loadModule("qbdi_diagnose", ["start"],
                              function () { return typeof qbdiDiagnose === "object" ? qbdiDiagnose : null; });
if (!qbdi) {
    post("qbdi.client: " + missingScript + " not found. Max looked next to the abstraction and in its search path " +
         "(the qbdi package: ~/Documents/Max 8 (or Max 9)/Packages/qbdi/javascript)\n");
}
var diagnosis = null;
var taskTicks = 0;

var current = qbdi ? new qbdi.Settings() : null;
var queryNotes = [];
var queryNotesB = [];
var morphSteps = 5;
var replyPort = 0;
var fixedReplyPort = false;
var serverHost = qbdi ? qbdi.DEFAULT_HOST : "";
var serverPort = qbdi ? qbdi.DEFAULT_PORT : 0;
var heartbeatOn = true;
var lastHeartbeat = -1e12;
var missedPings = 0;
var connected = false;
var lastKind = "improvise";
var started = false;
var task = null;
var resultDict = null;
var client = !qbdi ? null : new qbdi.Client({ send: function (m) { outlet(OUT_OSC, m); }, onEvent: onEvent,
                               now: function () { return new Date().getTime(); } });

// ---- start-up -------------------------------------------------------------------------------
/** [patcherargs] right outlet ends with "done": arguments are in, start talking. */
function done() { start(); }

function loadbang() { start(); }

function start() {
    if (!qbdi) { display("⚠ " + missingScript + " not found (see the Max Console)"); return; }
    if (started) { return; }
    started = true;
    if (!replyPort) { pickReplyPort(0); }
    if (typeof Task !== "undefined") {
        task = new Task(tick, this);
        task.interval = TICK_MS;
        task.repeat();
    }
    sendHeartbeat();
}
start.local = 1;

/** [qbdi.client SERVER_PORT REPLY_PORT] positional arguments, via [prepend args]. */
function args() {
    if (!qbdi) { return; }
    var a = arrayfromargs(arguments);
    if (a.length > 0 && typeof a[0] === "number" && a[0] > 0) { port(a[0]); }
    if (a.length > 1 && typeof a[1] === "number" && a[1] > 0) { replyport(a[1]); }
}

function pickReplyPort(attempt) {
    var port = REPLY_PORT_BASE + Math.floor(Math.random() * REPLY_PORT_SPAN);
    setReplyPort(port);
}
pickReplyPort.local = 1;

function setReplyPort(port) {
    replyPort = port;
    client.replyPort = port;
    client.reset();
    outlet(OUT_RECEIVE, "port", port);
    outlet(OUT_STATUS, "replyport", port);
}
setReplyPort.local = 1;

function notifydeleted() {
    if (task) { task.cancel(); task = null; }
}

// ---- inlet messages -------------------------------------------------------------------------
function anything() {
    if (!qbdi) { return; }
    var a = arrayfromargs(arguments);
    var name = messagename;
    if (name.charAt(0) === "/") { client.handle(name, a); return; }
    if (name === "settings") { dumpSettings(); return; }
    var key = qbdi.settingKey(name);
    if (key === null) {
        report("bad_setting", "unknown message '" + name + "'; see the help patch for the messages qbdi.client knows");
        return;
    }
    var value = a.length === 0 ? undefined : (a.length === 1 ? a[0] : a.join(" "));
    var problem = current.set(key, value);
    if (problem) { report("bad_setting", problem); }
}

function list() {
    if (!qbdi) { return; }
    setQuery(arrayfromargs(arguments));
}

function query() {
    if (!qbdi) { return; }
    setQuery(arrayfromargs(arguments));
}

function msg_int(v) { report("bad_request", "a single number is not a note list: send pitch start duration velocity ..."); }
function msg_float(v) { msg_int(v); }

function setQuery(flat) {
    var good = readNotes(flat);
    if (!good) { return false; }
    queryNotes = good;
    outlet(OUT_STATUS, "query", queryNotes.length);
    return true;
}
setQuery.local = 1;

/** queryb p s d v ...: clip B of a morph (the query is clip A); "queryb" alone clears it. */
function queryb() {
    if (!qbdi) { return; }
    var good = readNotes(arrayfromargs(arguments));
    if (!good) { return; }
    queryNotesB = good;
    outlet(OUT_STATUS, "queryb", queryNotesB.length);
}

/** A flat note list -> notes, or null after reporting what is wrong with it. */
function readNotes(flat) {
    if (flat.length % qbdi.FIELDS_PER_NOTE !== 0) {
        report("bad_request", "a note list needs 4 numbers per note (pitch start duration velocity); got " + flat.length + " numbers");
        return null;
    }
    var notes = qbdi.unflattenNotes(flat);
    var good = [];
    for (var i = 0; i < notes.length; i++) {
        var n = qbdi.normalizeNote(notes[i]);
        if (!n) { report("bad_request", "note " + (i + 1) + " (" + flat.slice(4 * i, 4 * i + 4).join(" ") + ") is not valid: pitch 0-127, start >= 0, duration > 0"); return null; }
        good.push(n);
    }
    return good;
}
readNotes.local = 1;

/** dictionary NAME: a [dict] holding {notes: [...]} like Live's get_notes_extended. */
function dictionary(name) {
    if (!qbdi) { return; }
    var obj;
    try {
        var d = new Dict(name);
        obj = JSON.parse(d.stringify());
    } catch (e) {
        report("bad_request", "cannot read dict '" + name + "'");
        return;
    }
    var items = obj && obj.notes;
    if (!items || items.length === undefined) {
        report("bad_request", "dict '" + name + "' has no notes list; expected {notes: [{pitch, start_time, duration, velocity}]}");
        return;
    }
    var good = [];
    for (var i = 0; i < items.length; i++) {
        if (items[i] && items[i].mute) { continue; }
        var n = qbdi.normalizeNote(items[i]);
        if (n) { good.push(n); }
    }
    queryNotes = good;
    outlet(OUT_STATUS, "query", queryNotes.length);
}

function improvise() {
    if (!qbdi) { return; }
    var a = arrayfromargs(arguments);
    if (a.length && !setQuery(a)) { return; }
    lastKind = "improvise";
    if (queryNotes.length === 0) {
        report("no_query", "no query: send a note list (pitch start duration velocity ...) or a dict first, or use free");
        return;
    }
    ensureStarted();
    try {
        client.improvise(queryNotes, current.copy());
    } catch (e) {
        report("too_large", String(e.message || e));
    }
}

function free(bars) {
    if (!qbdi) { return; }
    if (bars !== undefined) {
        var problem = current.set("bars", bars);
        if (problem) { report("bad_setting", problem); return; }
    }
    lastKind = "free";
    ensureStarted();
    client.free(current.copy());
}

/** interpolate [STEPS]: morph the query (clip A) into clip B (queryb) in STEPS clips, A and B included. */
function interpolate(steps) {
    if (!qbdi) { return; }
    if (steps !== undefined) {
        var n = Number(steps);
        if (!(n === Math.round(n) && n >= qbdi.MIN_INTERPOLATE_STEPS && n <= qbdi.MAX_INTERPOLATE_STEPS)) {
            report("bad_setting", "interpolate takes the number of steps, a whole number from " + qbdi.MIN_INTERPOLATE_STEPS +
                   " to " + qbdi.MAX_INTERPOLATE_STEPS + "; got " + steps);
            return;
        }
        morphSteps = n;
    }
    lastKind = "interpolate";
    if (queryNotes.length === 0 || queryNotesB.length === 0) {
        report("no_query", "a morph needs two clips: the query (clip A: a note list or a dict) and clip B " +
               "(queryb pitch start duration velocity ...)");
        return;
    }
    ensureStarted();
    try {
        client.interpolate(queryNotes, queryNotesB, morphSteps, 0, 0,
                           current.copy({ length_beats: null, continue_bars: 0 }), { steps: morphSteps });
    } catch (e) {
        report("too_large", String(e.message || e));
    }
}

function reroll() {
    if (!qbdi) { return; }
    current.set("seed", Math.floor(Math.random() * (qbdi.MAX_SEED + 1)));
    outlet(OUT_STATUS, "seed", current.get("seed"));
    if (lastKind === "free") { free(); } else if (lastKind === "interpolate") { interpolate(); } else { improvise(); }
}

function ping() { if (!qbdi) { return; } ensureStarted(); sendHeartbeat(); }

/** diagnose: every check qbdi_diagnose.js can run without Live; lines and a report in the Max Console. */
function diagnose() {
    if (!qbdi) { return; }
    if (!qbdiDiagnose) { report("bad_request", "qbdi_diagnose.js not found next to the abstraction or in the qbdi package"); return; }
    if (diagnosis && !diagnosis.finished) { return; }
    ensureStarted();
    taskTicks = 0;
    display("Diagnose running… (Max Console)");
    var host = {
        now: function () { return new Date().getTime(); },
        post: function (line) { post(line + "\n"); },
        scripts: function () {
            var parts = [];
            for (var k in loadedBy) { if (loadedBy.hasOwnProperty(k)) { parts.push(k + ".js " + loadedBy[k]); } }
            return { ok: true, detail: "[qbdi.client]; " + parts.join(", ") };
        },
        versions: function () {
            var m = typeof max !== "undefined" ? max : {};
            return { live: null, max: m.version !== undefined ? String(m.version) : "",
                     os: m.os !== undefined ? String(m.os) : "" };
        },
        connected: function () { return connected; },
        ping: function (cb) { lastHeartbeat = new Date().getTime(); client.ping({ diagnose: cb }); },
        free: function (bars, cb) {
            client.free(current.copy({ bars: bars, continue_bars: 0, beats_per_bar: 4, seed: 1, threshold: 0.3,
                                       sampling: "threshold" }), { diagnose: cb });
        },
        replyPort: function () { return replyPort; },
        timers: function () { return { task: taskTicks, clock: 0 }; }
    };
    diagnosis = qbdiDiagnose.start(host, {
        protocol: qbdi.PROTOCOL_VERSION, notesPerChunk: qbdi.NOTES_PER_CHUNK, title: "qbdi.client",
        onDone: function (run) {
            outlet(OUT_STATUS, "diagnose", run.summary());
            display("Diagnose: " + run.summary());
        }
    });
}
function status() { if (!qbdi) { return; } ensureStarted(); client.status(); }
function models() { if (!qbdi) { return; } ensureStarted(); client.models(); }
function quit() { if (!qbdi) { return; } ensureStarted(); client.quit(); }

/** "settings": the settings the next request will carry, out of the status outlet. */
function dumpSettings() {
    outlet(OUT_STATUS, ["settings"].concat(current.toArgs()));
}
dumpSettings.local = 1;

function host(h) {
    serverHost = String(h);
    client.setHost(serverHost);     // another machine's server needs the handshake (qbdi_protocol.js)
    outlet(OUT_OSC, "host", serverHost);
}

function port(p) {
    p = Math.round(Number(p));
    if (!(p > 0 && p < 65536)) { report("bad_setting", "port must be 1..65535"); return; }
    serverPort = p;
    outlet(OUT_OSC, "port", p);
}

function replyport(p) {
    p = Math.round(Number(p));
    if (!(p > 0 && p < 65536)) { report("bad_setting", "replyport must be 1..65535"); return; }
    fixedReplyPort = true;
    setReplyPort(p);
}

/** heartbeat 0|1: ping the server every 5 s to keep "connected" up to date (default 1). */
function heartbeat(v) { heartbeatOn = v === undefined || Number(v) !== 0; }

function timeout(ms) {
    if (!qbdi) { return; }
    var t = Math.max(100, Number(ms) || 0);
    client.timeouts.improvise = t;
    client.timeouts.free = t;
    client.timeouts.interpolate = t;
}

function clear() {
    queryNotes = [];
    queryNotesB = [];
    outlet(OUT_STATUS, "query", 0);
    outlet(OUT_STATUS, "queryb", 0);
}

function ensureStarted() {
    if (!started) { start(); }
}
ensureStarted.local = 1;

// ---- timers and replies ---------------------------------------------------------------------
function tick() {
    if (!qbdi) { return; }
    taskTicks++;
    client.tick();
    if (diagnosis && !diagnosis.finished) { diagnosis.tick(); }
    var t = new Date().getTime();
    if (heartbeatOn && t - lastHeartbeat > HEARTBEAT_MS && !client.isPending("ping")) { sendHeartbeat(); }
}

function sendHeartbeat() {
    lastHeartbeat = new Date().getTime();
    client.ping();
}
sendHeartbeat.local = 1;

function onEvent(ev) {
    var kind = ev.request ? ev.request.kind : "";
    var ctx = ev.request ? ev.request.context : null;
    if (ctx && ctx.diagnose && ev.type !== "warning") {
        if (ev.type === "pong" && !connected) { connected = true; outlet(OUT_STATUS, "connected", 1); }
        ctx.diagnose(ev);
        return;
    }
    switch (ev.type) {
    case "pong":
        missedPings = 0;
        if (!connected) { connected = true; outlet(OUT_STATUS, "connected", 1); }
        display("● server " + ev.serverVersion + " · " + Math.round(ev.rtt) + " ms");
        outlet(OUT_STATUS, "server", ev.serverVersion, ev.protocolVersion);
        outlet(OUT_STATUS, "rtt", ev.rtt);
        if (ev.mismatch) { report("protocol", ev.mismatch); }
        break;
    case "models":
        var names = [];
        for (var i = 0; i < ev.models.length; i++) { names.push(ev.models[i].name); }
        outlet(OUT_STATUS, ["models", ev.defaultModel].concat(names));
        break;
    case "status":
        outlet(OUT_STATUS, "status", ev.ready ? 1 : 0, ev.model, ev.nModels, ev.uptime, ev.served, ev.pending);
        break;
    case "result":
        outputResult(ev);
        break;
    case "error":
        report(ev.code, ev.message);
        break;
    case "warning":
        outlet(OUT_STATUS, "warning", ev.message);
        break;
    case "bye":
        outlet(OUT_STATUS, "bye");
        break;
    case "timeout":
        if (kind === "ping") {
            missedPings++;
            if (connected) { connected = false; outlet(OUT_STATUS, "connected", 0); }
            display("○ no server at " + serverHost + ":" + serverPort);
            if (missedPings === 1 || missedPings % 12 === 0) {
                report("no_server", "no answer from the qbdi server at " + serverHost + ":" + serverPort +
                       "; start it with: qbdi serve");
            }
            if (missedPings % 3 === 0 && !fixedReplyPort) { pickReplyPort(missedPings); }
        } else {
            report("timeout", ev.message);
        }
        break;
    case "bad_reply":
        report("bad_reply", ev.message);
        break;
    }
}
onEvent.local = 1;

function outputResult(ev) {
    var flat = [];
    var live = liveNotes(ev.notes);
    for (var i = 0; i < ev.notes.length; i++) {
        var n = ev.notes[i];
        flat.push(n.pitch, n.start, n.duration, n.velocity);
    }
    outlet(OUT_STATUS, ["settings"].concat(pairs(ev.settings)));
    outlet(OUT_STATUS, "model", ev.model);
    outlet(OUT_STATUS, "result", ev.id, ev.notes.length, ev.rtt);
    var morph = ev.request && ev.request.kind === "interpolate" ? ev.request.context.steps : 0;
    var stepBeats = morph ? Number(ev.settings && ev.settings.length_beats) : 0;
    var steps = [];
    if (morph) {
        var parts = qbdi.splitSteps(ev.notes, morph, stepBeats);
        for (var k = 0; k < parts.length; k++) { steps.push({ notes: liveNotes(parts[k]) }); }
        outlet(OUT_STATUS, "morph", morph, stepBeats);
    }
    display(ev.notes.length + " notes · " + ev.model + " · " + qbdi.clipName("", ev.settings).replace(/^ /, "") +
            " · " + Math.round(ev.rtt) + " ms");
    if (typeof Dict !== "undefined") {
        if (!resultDict) { resultDict = new Dict(); }
        var content = { notes: live, model: ev.model, settings: ev.settings, id: ev.id };
        if (morph) { content.steps = steps; }
        resultDict.parse(JSON.stringify(content));
        outlet(OUT_DICT, "dictionary", resultDict.name);
    }
    if (flat.length) { outlet(OUT_LIST, flat); }
    else { outlet(OUT_STATUS, "warning", "the improvisation is silent; lower the threshold or raise the rate"); }
}
outputResult.local = 1;

/** Notes -> Live's shape ({pitch, start_time, duration, velocity, mute}). */
function liveNotes(notes) {
    var out = [];
    for (var i = 0; i < notes.length; i++) {
        var n = notes[i];
        out.push({ pitch: n.pitch, start_time: n.start, duration: n.duration, velocity: n.velocity, mute: 0 });
    }
    return out;
}
liveNotes.local = 1;

function pairs(obj) {
    var out = [];
    for (var k in obj) { if (obj.hasOwnProperty(k)) { out.push(k, obj[k]); } }
    return out;
}
pairs.local = 1;

function report(code, message) {
    outlet(OUT_ERROR, "error", code, message);
    display("⚠ " + code + ": " + message);
}
report.local = 1;

function display(text) {
    outlet(OUT_DISPLAY, "set", text);
}
display.local = 1;
