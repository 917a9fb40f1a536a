// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
/*
 * qbdi_device.js -- the [js] of the "QBDI Improviser" Max for Live MIDI Effect.
 *
 * Reads the clip in Detail View, sends it to the qbdi server over OSC, and writes the
 * improvisation(s) into new clips: the next empty Session slots of the same track, or one after
 * another after the query in the Arrangement. Variations (1-8) writes that many clips with
 * consecutive seeds from one press. The query clip is only ever read. Protocol code lives in
 * qbdi_protocol.js, Live API code in qbdi_live.js, Diagnose in qbdi_diagnose.js, Play Along
 * (bar by bar on Live's transport, out of the device's MIDI output) in qbdi_play.js, with its
 * note scheduler in qbdi_schedule.js.
 *
 * ES5 only (Max 8's [js] is SpiderMonkey 1.8.5). Wiring in "QBDI Improviser.maxpat":
 *   inlet 0   <- everything: [udpreceive PORT @defer 1] (OSC replies, selector = address),
 *               dials and menus via [prepend <setting>], buttons via [prepend improvise] ->
 *               [deferlow], launcher messages via [prepend server], live.thisdevice -> init
 *   outlet 0  -> [udpsend 127.0.0.1 7400]  (OSC requests; also "host h" / "port p")
 *   outlet 1  -> status [comment]          ("set <text>")
 *   outlet 2  -> connected LED             (0 / 1)
 *   outlet 3  -> [udpreceive]              ("port N": this device's reply port)
 *   outlet 4  -> [node.script qbdi_launcher.js]  (ensure, retry, port, host, install, probe_port, clock, info,
 *               save_report)
 *   outlet 5  -> UI feedback via [route seed menu model_name loaded]: the Seed box after Re-roll
 *               ("seed N"), the Model [umenu] ("menu clear" / "menu append NAME" / "menu set I"),
 *               the stored model name ("model_name NAME" -> [pattr], a Blob parameter saved
 *               with the Live set; it comes back at load as "model_saved NAME"), "loaded"
 *               (stops the patch's "qbdi_device.js not found" timer), and "thru 0|1" (the
 *               [gate] of the input's pass-through: Play Along's Input choice)
 *   outlet 6  -> [route m t n] -> [pipe]s -> [pack 0 0 0] -> [midiout]   (Play Along's answers,
 *               handed over to Max's scheduler: "m|t delaytime D ticks", "m|t|n S D1 D2",
 *               "m|t clear"; qbdi_schedule.js)
 * Play Along's inputs: "clock GRID PLAYING TICKS TEMPO NUM DEN" from [transport] (grid 1: the
 * [metro 32n @quantize 32n] on Live's grid; 0: the fixed-rate poll), "note PITCH VELOCITY TICKS"
 * from [midiin] -> [midiparse], each stamped with [transport]'s song time when it happened, and
 * "stamp 0 PLAYING TICKS" (a fresh reading) just before each server reply and Play Along toggle.
 * The launcher starts nothing until this script has sent its address: at init, when the launcher
 * says "hello", and every ENSURE_EVERY_MS while no server answers.
 */

inlets = 1;
outlets = 7;

var OUT_OSC = 0;
var OUT_STATUS = 1;
var OUT_LED = 2;
var OUT_RECEIVE = 3;
var OUT_LAUNCHER = 4;
var OUT_UI = 5;
var OUT_MIDI = 6;

var REPLY_PORT_BASE = 7401;
var REPLY_PORT_SPAN = 500;
var SEED_PARAM_MAX = 16777215;   // Live parameters are 32-bit floats: integers are exact up to 2^24
var HEARTBEAT_MS = 5000;
var TICK_MS = 250;
var TASK_STALLED_MS = 1500;      // no Task tick for this long: Max's scheduler stopped (audio engine off?)
var LAUNCHER_PROBE_MS = 1000;
var LAUNCHER_SILENT_MS = 8000;   // no word from the launcher by then: say that it did not start
var ENSURE_EVERY_MS = 10000;
var MAX_VARIATIONS = 8;
var DEFAULT_STEPS = 5;           // Interpolate: clips from the selected clip to the next one, both included
var QUERY_RANGES = ["clip", "loop", "selection"];
var PACKAGE_JS = "~/Documents/Max 8 (or Max 9)/Packages/qbdi/javascript";
var DIAGNOSE_START_MS = 25000;   // how long Diagnose waits for a server that is starting

// ---- the other scripts: require() where Max has it, include() otherwise ------------------------
/** The module `name` if it has every function in `expected`, from require() or include(), else null. */
function loadModule(name, expected, fromGlobal) {
    var m = null;
    if (typeof require === "function") {
        try { m = require(name); } catch (e) { m = null; }
    }
    if (!hasAll(m, expected)) {
        try { include(name + ".js"); m = fromGlobal(); } catch (e2) { m = null; }
        if (hasAll(m, expected)) { loadedBy[name] = "include"; return m; }
        loadedBy[name] = "MISSING";
        return null;
    }
    loadedBy[name] = "require";
    return m;
}
loadModule.local = 1;

function hasAll(m, names) {
    if (!m) { return false; }
    for (var i = 0; i < names.length; i++) { if (m[names[i]] === undefined) { return false; } }
    return true;
}
hasAll.local = 1;

/** Every module of the list (qbdi_scripts.js, DEVICE_MODULES), in order: name -> module or null.
 *  Under include() a module is the global its file defines, found on this script's global object. */
function loadAll(list) {
    var out = {};
    for (var i = 0; i < list.length; i++) {
        out[list[i].name] = loadModule(list[i].name, list[i].needs, globalNamed(list[i].global));
    }
    return out;
}
loadAll.local = 1;

function globalNamed(name) {
    return function () { var g = GLOBAL[name]; return typeof g === "object" && g !== null ? g : null; };
}
globalNamed.local = 1;

var GLOBAL = this;             // global code's `this`: where include() leaves a module's global
var loadedBy = {};
var qbdiScripts = loadModule("qbdi_scripts", ["DEVICE_MODULES", "SCRIPTS"],
                             function () { return typeof qbdiScripts === "object" ? qbdiScripts : null; });
var modules = loadAll(qbdiScripts ? qbdiScripts.DEVICE_MODULES : []);
// the protocol's codecs with its client and assemblers attached (qbdi_exchange.js): one `qbdi`
var qbdi = modules.qbdi_protocol && modules.qbdi_exchange ? modules.qbdi_exchange.attach(modules.qbdi_protocol) : null;
var qbdiLive = modules.qbdi_live || null;
var qbdiDiagnose = modules.qbdi_diagnose || null;
var qbdiPlay = modules.qbdi_play || null;
var qbdiSchedule = modules.qbdi_schedule || null;

// ---- state --------------------------------------------------------------------------------
var settings = qbdi ? new qbdi.Settings({ rate: 256 }) : null;
var rateBits = 256;
var rateFull = false;
var queryRange = "clip";
var continueBars = 4;
var variations = 1;
var interpolateSteps = DEFAULT_STEPS;
// the server, as this device reaches it
var link = {
    host: qbdi ? qbdi.DEFAULT_HOST : "",
    port: qbdi ? qbdi.DEFAULT_PORT : 0,
    replyPort: 0,
    portAttempt: 0,
    portProbe: null,           // {port, since}: waiting for the launcher's answer
    connected: false,
    version: "",
    lastHeartbeat: -1e12,
    missedPings: 0
};
var client = null;
var live = null;               // qbdi_live.js, bound to LiveAPI
var initialized = false;
var deviceId = 0;

// the server's models
var modelInfo = {
    names: [],                 // from the server's models reply
    maxRate: {},               // name -> max rate
    defaultName: "",
    saved: null                // the model chosen for this device (null: the server's default)
};

// the launcher (qbdi_launcher.js, Node for Max)
var launcherInfo = {
    heard: false,              // any message from it yet
    state: "",
    message: "",
    waiter: null,              // Diagnose waiting for its "info"
    lastEnsure: -1e12,
    install: true              // the Install toggle: the first run may copy the server and scripts (qbdi_install.js)
};
var lastError = "";
var lastAction = "";
var lastRtt = null;

var batch = null;              // the press being served: {kind, prefix, seeds, index, results, ...}
var play = null;               // Play Along (qbdi_play.js, its scheduler qbdi_schedule.js)
// Play Along's controls, kept until init (and while either file is missing)
var playPending = { wanted: false, options: { input: 0, mode: 0, window: 8 }, shownBar: -1 };
var diagnosis = null;          // the Diagnose run, while it runs

// the timers: the js Task, or the launcher's clock when Max's scheduler stops
var clocks = { task: null, initAt: 0, lastTaskTick: 0, taskTicks: 0, clockTicks: 0, clockOn: false };

// ---- start-up -------------------------------------------------------------------------------
/** live.thisdevice -> [deferlow] -> "init": the Live API is usable from here on. */
function init() {
    if (initialized) { return; }
    outlet(OUT_UI, "loaded");
    if (!qbdi) {
        missing(qbdiScripts ? (modules.qbdi_protocol ? "qbdi_exchange.js" : "qbdi_protocol.js") : "qbdi_scripts.js");
        return;
    }
    initialized = true;
    clocks.initAt = clocks.lastTaskTick = now();
    deviceId = readDeviceId();
    if (qbdiLive && typeof LiveAPI !== "undefined") { live = qbdiLive.make(LiveAPI, qbdi); }
    client = new qbdi.Client({ send: sendOsc, onEvent: onEvent, now: now, host: link.host });
    if (qbdiPlay && qbdiSchedule) {
        play = qbdiPlay.create(qbdi, playHost(), qbdiSchedule);
        play.setInput(playPending.options.input);
        play.setStreamOption("mode", playPending.options.mode);
        play.setStreamOption("window", playPending.options.window);
    }
    choosePort(0);
    sendLauncherSettings();
    if (typeof Task !== "undefined") {
        clocks.task = new Task(taskTick, this);
        clocks.task.interval = TICK_MS;
        clocks.task.repeat();
    }
    if (!qbdiLive) { missing("qbdi_live.js"); return; }
    if (play && playPending.wanted) { play.setEnabled(true); }
    showStatus();
}

/** One line that names the missing file and where Max looked. */
function missing(file) {
    lastError = file + " not found: keep the .js files next to the device, or reinstall (they also live in " +
                PACKAGE_JS + ")";
    post("qbdi: " + file + " not found. Max looked next to the device and in its search path (the qbdi package: " +
         PACKAGE_JS + "). Load the device once from the unzipped release folder to install them.\n");
    outlet(OUT_STATUS, "set", "○ ⚠ " + lastError);
}
missing.local = 1;

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
    link.portAttempt = attempt;
    var seed = deviceId > 0 ? deviceId : Math.floor(Math.random() * REPLY_PORT_SPAN);
    var port = REPLY_PORT_BASE + ((seed * 37 + attempt * 101) % REPLY_PORT_SPAN);
    link.portProbe = { port: port, since: now() };
    outlet(OUT_LAUNCHER, "probe_port", port);
}
choosePort.local = 1;

function usePort(port) {
    link.portProbe = null;
    link.replyPort = port;
    client.replyPort = port;
    client.reset();
    outlet(OUT_RECEIVE, "port", port);
    link.missedPings = 0;
    heartbeat();
}
usePort.local = 1;

/** The address first, then "ensure": the launcher starts a server only on the address it was given. */
function sendLauncherSettings() {
    launcherInfo.lastEnsure = now();
    outlet(OUT_LAUNCHER, "install", launcherInfo.install ? 1 : 0);
    outlet(OUT_LAUNCHER, "host", link.host);
    outlet(OUT_LAUNCHER, "port", link.port);
    outlet(OUT_LAUNCHER, "ensure");
}
sendLauncherSettings.local = 1;

function notifydeleted() {
    if (play) { play.shutdown(); }
    if (clocks.task) { clocks.task.cancel(); clocks.task = null; }
    if (clocks.clockOn) { outlet(OUT_LAUNCHER, "clock", 0); }
}

// ---- messages -------------------------------------------------------------------------------
/** OSC replies (selector = address), settings from dials and menus, launcher reports. */
function anything() {
    var args = arrayfromargs(arguments);
    var name = messagename;
    if (!qbdi) { return; }
    pump();
    if (name.charAt(0) === "/") {
        if (play && play.accepts(name, args)) { play.handle(name, args); showStatus(); }
        else if (client) { client.handle(name, args); }
    } else {
        applySetting(name, args);
        if (play) { play.settingsChanged(); }
    }
    if (play) { play.setFresh(null); }   // a reading is good for the one message it came with
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
    case "variations":
        variations = Math.max(1, Math.min(MAX_VARIATIONS, Math.round(Number(v)) || 1));
        break;
    case "interpolate_steps":
        interpolateSteps = Math.max(qbdi.MIN_INTERPOLATE_STEPS, Math.min(qbdi.MAX_INTERPOLATE_STEPS,
                                                                         Math.round(Number(v)) || DEFAULT_STEPS));
        break;
    case "model_index":
        // the Model menu: ignored until the server's list has filled it (at load it says 0)
        if (modelInfo.names.length === 0) { break; }
        var i = Math.round(Number(v));
        chooseModel(i > 0 && i <= modelInfo.names.length ? modelInfo.names[i - 1] : null, true);
        break;
    case "model_saved":
        modelInfo.saved = v === undefined || String(v) === "default" || String(v) === "" ? null : String(v);
        problem = settings.set("model", modelInfo.saved);
        if (modelInfo.names.length) { showModelMenu(); }
        break;
    case "server_port":
        var p = Math.round(Number(v));
        if (p > 0 && p < 65536) {
            var changed = p !== link.port;
            link.port = p;
            outlet(OUT_OSC, "port", p);
            if (changed && initialized) {
                // the launcher restarts its server there (or finds one); ping the new address
                link.connected = false;
                sendLauncherSettings();
                heartbeat();
            }
        } else { problem = "server port must be 1..65535"; }
        break;
    case "host":
        link.host = String(v);
        if (client) { client.setHost(link.host); }   // another machine's server needs the handshake
        outlet(OUT_OSC, "host", link.host);
        if (initialized) { sendLauncherSettings(); }
        break;
    case "install":
        launcherInfo.install = Number(v) !== 0;
        if (initialized) { outlet(OUT_LAUNCHER, "install", launcherInfo.install ? 1 : 0); }
        break;
    case "play_along":
        playPending.wanted = Number(v) !== 0;
        if (!initialized) { break; }
        if (!play) { missing(qbdiPlay ? "qbdi_schedule.js" : "qbdi_play.js"); break; }
        play.setEnabled(playPending.wanted);
        break;
    case "play_input":
        playPending.options.input = v;
        problem = play ? play.setInput(v) : null;
        break;
    case "play_mode":
        playPending.options.mode = v;
        problem = play ? play.setStreamOption("mode", v) : null;
        break;
    case "play_window":
        playPending.options.window = v;
        problem = play ? play.setStreamOption("window", v) : null;
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
    var name = settings.get("model") || modelInfo.defaultName;
    var max = modelInfo.maxRate[name];
    return max > 0 && rateBits > max ? max : rateBits;
}
cappedRate.local = 1;

/** Use this model for the next requests; remember it with the Live set when `save`. */
function chooseModel(name, save) {
    modelInfo.saved = name;
    settings.set("model", name);
    if (save) { outlet(OUT_UI, "model_name", name === null ? "default" : name); }
    if (!rateFull) { settings.set("rate", cappedRate()); }
}
chooseModel.local = 1;

/** Fill the Model menu from the server's list and select the saved model. */
function showModelMenu() {
    outlet(OUT_UI, "menu", "clear");
    outlet(OUT_UI, "menu", "append", "default");
    for (var i = 0; i < modelInfo.names.length; i++) { outlet(OUT_UI, "menu", "append", modelInfo.names[i]); }
    var idx = modelInfo.saved === null ? -1 : qbdi.indexOf(modelInfo.names, modelInfo.saved);
    if (modelInfo.saved !== null && idx < 0) {
        lastError = "model '" + modelInfo.saved + "' (saved with this set) is not on this server; using its default";
        settings.set("model", null);
    }
    outlet(OUT_UI, "menu", "set", idx + 1);
}
showModelMenu.local = 1;

/** "model NAME" typed or sent from a message box. */
function model(name) {
    if (!qbdi) { return; }
    var problem = settings.set("model", name === undefined ? null : name);
    if (problem) { fail("bad_setting", problem); return; }
    chooseModel(settings.get("model"), true);
    if (modelInfo.names.length) { showModelMenu(); }
    if (play) { play.settingsChanged(); }
}

// ---- Play Along: Live's transport and the track's MIDI input (qbdi_play.js) --------------------
/** [transport] polled by the clock metros: playing, song time in ticks, tempo, time signature. */
function clock(grid, playing, ticks, tempo, num, den) {
    if (!play) { return; }
    var before = play.playing;
    play.clock(grid, playing, ticks, tempo, num, den);
    var bar = play.playing ? play.barAt(play.beat) : -1;
    if (play.enabled && (play.playing !== before || bar !== playPending.shownBar)) { playPending.shownBar = bar; showStatus(); }
}

/** A fresh [transport] reading the patch takes just before each server reply and each Play Along
 *  toggle reaches this script ([t a b] -> [transport] -> "stamp 0 PLAYING TICKS"): the next
 *  message is handled against it (answers are handed over to Max's scheduler against it). */
function stamp(unused, playing, ticks) {
    if (play) { play.setFresh(ticks); }
}

/** A note played into the track ([midiparse]), with the song time it was played at. */
function note(pitch, velocity, ticks) {
    if (play) { play.note(pitch, velocity, ticks); }
}

function playHost() {
    return {
        // a server on another machine wants the cookie of the client's handshake on every request
        send: function (message) {
            if (client && client.remote && !client.hasFreshCookie()) { client.handshake(); }
            sendOsc(client && client.remote && client.cookie ? message.concat([qbdi.COOKIE_KEY, client.cookie]) : message);
        },
        midi: function (bytes) { outlet(OUT_MIDI, bytes); },
        thru: function (open) { outlet(OUT_UI, "thru", open); },
        settings: function () { return settings; },
        replyPort: function () {
            if (!link.replyPort) { usePort(link.portProbe ? link.portProbe.port : REPLY_PORT_BASE); }
            return link.replyPort;
        },
        report: function (text, bad) {
            if (bad) { fail("play_along", text); return; }
            lastAction = text;
            showStatus();
        },
        now: now
    };
}
playHost.local = 1;

// ---- buttons: a 0 (button release from a MIDI map) is ignored ---------------------------------
function improvise(v) {
    if (v === 0) { return; }
    startImprovise("improv", 0);
}

function continue_clip(v) {
    if (v === 0) { return; }
    startImprovise("cont", continueBars);
}

function reroll(v) {
    if (v === 0 || !ready()) { return; }
    var seed = Math.floor(Math.random() * (SEED_PARAM_MAX + 1));
    settings.set("seed", seed);
    outlet(OUT_UI, "seed", seed);
    startImprovise("improv", 0);
}

function free(v) {
    if (v === 0) { return; }
    if (!ready()) { return; }
    var target = live.freeTarget();
    if (target.error) { fail("live_api", target.error); return; }
    var s = settings.copy({ beats_per_bar: target.beatsPerBar, continue_bars: 0 });
    startBatch({ kind: "free", prefix: "free", beatsPerBar: target.beatsPerBar, span: s.get("bars") * target.beatsPerBar,
                 target: target.target, settings: s, label: "free improvisation, " + s.get("bars") + " bars" });
}

/**
 * Interpolate: Steps clips that morph from the clip in Detail View (step 1) to the next clip on its
 * track (the last step), written after that second clip (next free Session slots, or after it in
 * the Arrangement), each named with its step. Neither source clip is touched.
 */
function interpolate(v) {
    if (v === 0 || !ready()) { return; }
    var a = live.readQuery(queryRange);
    if (a.error) { fail(a.code || "no_query", a.error); return; }
    var b = live.readNextClip(a, queryRange);
    if (b.error) { fail(b.code || "no_query", b.error); return; }
    var empty = a.notes.length === 0 ? a : (b.notes.length === 0 ? b : null);
    if (empty) { fail("no_query", "'" + empty.name + "' has no unmuted notes; Interpolate needs notes in both clips"); return; }
    if (Math.abs(a.beatsPerBar - b.beatsPerBar) > 1e-9) {
        fail("no_query", "'" + a.name + "' and '" + b.name + "' have different meters; Interpolate pairs their bars, " +
             "so both need one meter");
        return;
    }
    var s = settings.copy({ beats_per_bar: a.beatsPerBar, length_beats: null, continue_bars: 0 });
    startBatch({ kind: "interpolate", prefix: "morph", beatsPerBar: a.beatsPerBar, span: Math.max(a.span, b.span),
                 target: b.target, settings: s, notes: a.notes, notesB: b.notes, spans: [a.span, b.span],
                 steps: interpolateSteps, queryClipId: a.clipId,
                 label: "morphing '" + a.name + "' into '" + b.name + "' in " + interpolateSteps + " steps" });
}

/** A morph's one result -> one result per step, named with its step (writeBatch writes them). */
function morphSteps(b, ev) {
    var stepBeats = Number(ev.settings && ev.settings.length_beats) || b.span;
    var parts = qbdi.splitSteps(ev.notes, b.steps, stepBeats);
    var out = [];
    for (var k = 0; k < parts.length; k++) {
        out.push({ notes: parts[k], settings: ev.settings, request: ev.request, span: stepBeats,
                   prefix: "morph " + (k + 1) + "/" + parts.length });
    }
    return out;
}
morphSteps.local = 1;

function diagnose(v) {
    if (v === 0 || !qbdi) { return; }
    if (!qbdiDiagnose) { missing("qbdi_diagnose.js"); return; }
    if (!initialized) { fail("live_api", "the device is still loading; try again in a moment"); return; }
    if (diagnosis && !diagnosis.finished) { return; }
    clocks.taskTicks = clocks.clockTicks = 0;
    lastError = "";
    lastAction = "Diagnose running… (Max Console)";
    showStatus();
    diagnosis = qbdiDiagnose.start(diagnoseHost(), {
        protocol: qbdi.PROTOCOL_VERSION, notesPerChunk: qbdi.NOTES_PER_CHUNK, title: "QBDI Improviser",
        startMs: DIAGNOSE_START_MS,
        onDone: function (run) {
            lastAction = "Diagnose: " + run.summary() + " — report in the Max Console";
            lastError = "";
            showStatus();
        }
    });
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
    if (!qbdi) { return; }
    launcherInfo.heard = true;
    if (kind === "tick") { clocks.clockTicks++; tick(); return; }
    pump();
    if (kind === "hello") {
        if (initialized) { sendLauncherSettings(); }   // whatever it missed before Node was up
    } else if (kind === "state") {
        launcherInfo.state = String(args[1] || "");
        launcherInfo.message = args.slice(2).join(" ");
        if (launcherInfo.state === "running" || launcherInfo.state === "external") { heartbeat(); }
    } else if (kind === "error") {
        launcherInfo.state = "error";
        launcherInfo.message = args.slice(2).join(" ");
        lastError = launcherInfo.message;
    } else if (kind === "ready") {
        launcherInfo.state = "running";
        link.version = String(args[1] || "");
        heartbeat();
    } else if (kind === "installed") {
        lastAction = args.slice(1).join(" ");
    } else if (kind === "install_notice") {
        // the first run says what it will copy where before it does, once: status line and Max Console
        lastAction = args.slice(1).join(" ");
        post("qbdi: " + lastAction + "\n");
    } else if (kind === "info") {
        var info = null;
        try { info = JSON.parse(String(args.slice(1).join(" "))); } catch (e) { info = null; }
        if (launcherInfo.waiter) { var w = launcherInfo.waiter; launcherInfo.waiter = null; w(info); }
        return;
    } else if (kind === "report_saved") {
        if (args[1]) { post("qbdi diagnose: report saved to " + args[1] + "\n"); }
        return;
    } else if (kind === "port_free") {
        var port = Math.round(Number(args[1]));
        if (link.portProbe && port === link.portProbe.port) {
            if (Number(args[2]) === 1) { usePort(port); } else { choosePort(link.portAttempt + 1); }
        }
    }
    showStatus();
}

// ---- timers ---------------------------------------------------------------------------------
/** The js Task. If it stops (Max's scheduler does when Live's audio engine is off, say), pump()
 *  notices on the next message and has the launcher's clock drive tick() instead. */
function taskTick() {
    clocks.lastTaskTick = now();
    clocks.taskTicks++;
    if (clocks.clockOn) { clocks.clockOn = false; outlet(OUT_LAUNCHER, "clock", 0); }
    tick();
}
taskTick.local = 1;

function pump() {
    if (!initialized) { return; }
    var t = now();
    if (t - clocks.lastTaskTick > TASK_STALLED_MS) {
        if (!clocks.clockOn) { clocks.clockOn = true; outlet(OUT_LAUNCHER, "clock", TICK_MS); }
        tick();
    }
}
pump.local = 1;

function tick() {
    if (!client) { return; }
    var t = now();
    if (link.portProbe && t - link.portProbe.since > LAUNCHER_PROBE_MS) {
        usePort(link.portProbe.port);      // no launcher answer (Node missing?): just use it
    }
    client.tick();
    if (diagnosis && !diagnosis.finished) { diagnosis.tick(); }
    if (link.replyPort && t - link.lastHeartbeat > HEARTBEAT_MS && !client.isPending("ping")) { heartbeat(); }
    if (!launcherInfo.heard && !link.connected && t - clocks.initAt > LAUNCHER_SILENT_MS && launcherInfo.state !== "silent") {
        launcherInfo.state = "silent";
        launcherInfo.message = "the launcher (qbdi_launcher.js, Node for Max) has not started: see the Max Console; " +
                          "or start the server yourself (qbdi serve)";
        showStatus();
    }
}

function heartbeat() {
    if (!client || !link.replyPort) { return; }
    link.lastHeartbeat = now();
    client.ping();
}
heartbeat.local = 1;

function now() { return new Date().getTime(); }
now.local = 1;

function ready() {
    if (!qbdi) { return false; }
    if (!initialized || !client) { fail("live_api", "the device is still loading; try again in a moment"); return false; }
    if (!live) { missing("qbdi_live.js"); return false; }
    if (!link.replyPort) { usePort(link.portProbe ? link.portProbe.port : REPLY_PORT_BASE); }
    return true;
}
ready.local = 1;

// ---- a press: 1 to 8 variations with consecutive seeds -----------------------------------------
function startImprovise(prefix, contBars) {
    if (!ready()) { return; }
    var q = live.readQuery(queryRange);
    if (q.error) { fail(q.code || "no_query", q.error); return; }
    if (q.notes.length === 0) {
        fail("no_query", "the clip has no unmuted notes" + (queryRange === "clip" ? "" : " in its " + queryRange) +
             "; add notes or use Free");
        return;
    }
    // the clip's length travels too: trailing silent bars are part of the query
    var s = settings.copy({ beats_per_bar: q.beatsPerBar, length_beats: q.span, continue_bars: contBars });
    startBatch({ kind: "improvise", prefix: prefix, beatsPerBar: q.beatsPerBar, span: q.span + contBars * q.beatsPerBar,
                 target: q.target, settings: s, notes: q.notes, queryClipId: q.clipId,
                 label: (contBars > 0 ? "continuing '" : "improvising on '") + q.name + "' (" + q.notes.length + " notes" +
                        (q.warning ? "; " + q.warning : "") + ")" });
}
startImprovise.local = 1;

/** Seeds seed, seed+1, ... (Variations of them); requests one at a time; writes all at the end. */
function startBatch(b) {
    var seed = Number(b.settings.get("seed")) || 0;
    b.seeds = [];
    for (var i = 0; i < (b.kind === "interpolate" ? 1 : variations); i++) { b.seeds.push((seed + i) % (qbdi.MAX_SEED + 1)); }
    b.index = 0;
    b.results = [];
    batch = b;                 // a press while another runs replaces it: late replies are ignored
    lastError = "";
    if (!sendVariation(b)) { return; }
    showStatus();
}
startBatch.local = 1;

function sendVariation(b) {
    var s = b.settings.copy({ seed: b.seeds[b.index] });
    var ctx = { batch: b, requested: s.values };
    try {
        if (b.kind === "free") { client.free(s, ctx); }
        else if (b.kind === "interpolate") { client.interpolate(b.notes, b.notesB, b.steps, b.spans[0], b.spans[1], s, ctx); }
        else { client.improvise(b.notes, s, ctx); }
    } catch (e) {
        batch = null;
        fail("too_large", String(e.message || e));
        return false;
    }
    lastAction = b.label + (b.seeds.length > 1 ? ", " + (b.index + 1) + "/" + b.seeds.length : "") + "…";
    return true;
}
sendVariation.local = 1;

/** A reply for the current press: keep it, ask for the next seed, or write them all. */
function onBatchReply(b, ev) {
    if (b !== batch) { return; }
    if (ev.type === "result") {
        b.results = b.results.concat(b.kind === "interpolate" ? morphSteps(b, ev) : [ev]);
        if (++b.index < b.seeds.length) { sendVariation(b); return; }
    } else {
        b.failure = ev.type === "timeout" ? ev.message + " (is the server running? see the status line)"
                                          : ev.code + ": " + ev.message;
    }
    batch = null;
    writeBatch(b);
}
onBatchReply.local = 1;

/** Write every result of a press in one go (one Live undo step where the LOM allows it). */
function writeBatch(b) {
    var written = [];
    var target = b.target;
    var problem = null;
    var undo = b.results.length > 1 ? live.beginUndo() : false;
    for (var i = 0; i < b.results.length && !problem; i++) {
        var ev = b.results[i];
        var notes = cleanNotes(ev.notes);
        var effective = ev.settings || {};
        if (effective.rate === undefined) { effective.rate = ev.request.context.requested.rate; }
        if (effective.seed === undefined) { effective.seed = ev.request.context.requested.seed; }
        var end = 0;
        for (var j = 0; j < notes.length; j++) { end = Math.max(end, notes[j].start + notes[j].duration); }
        var length = Math.max(ev.span || b.span, Math.ceil(end / b.beatsPerBar - 1e-9) * b.beatsPerBar, b.beatsPerBar);
        var name = qbdi.clipName(ev.prefix || b.prefix, effective);
        var r = live.write(target, notes, length, name);
        if (!r.ok) { problem = r.reason; break; }
        written.push({ name: name, where: r.where, notes: notes.length });
        target = r.next;
    }
    live.endUndo(undo);
    if (problem) { fail("live_api", problem); return; }
    if (written.length === 0) { fail(b.failure ? "error" : "live_api", b.failure || "nothing to write"); return; }
    var w = written[0];
    lastAction = written.length === 1 ? "wrote '" + w.name + "' (" + w.notes + " notes) to " + w.where
        : "wrote " + written.length + " clips '" + w.name + "' … '" + written[written.length - 1].name + "' from " + w.where;
    if (written.length === 1 && w.notes === 0) { lastAction += " — silent: lower Threshold or raise Rate"; }
    var kept = keptSummary(b.results.slice(0, written.length));
    if (kept) { lastAction += " · " + kept; }
    lastError = b.failure ? "stopped after " + written.length + " of " + b.seeds.length + ": " + b.failure : "";
}
writeBatch.local = 1;

/** What the server measured the improvisation(s) kept of the query: "harmony 82% · notes 7%" (one
 *  clip) or the range over the clips of a press ("harmony 70-82% · notes 5-9%"); "" when none said. */
function keptSummary(results) {
    if (results.length === 1) { return qbdi.keptText(results[0].measures); }
    var parts = [];
    var names = { retained: "harmony", copy: "notes" };
    for (var k = 0; k < qbdi.RESULT_MEASURES.length; k++) {
        var key = qbdi.RESULT_MEASURES[k];
        var lo = Infinity, hi = -Infinity;
        for (var i = 0; i < results.length; i++) {
            var v = results[i].measures ? results[i].measures[key] : undefined;
            if (typeof v === "number") { lo = Math.min(lo, Math.round(100 * v)); hi = Math.max(hi, Math.round(100 * v)); }
        }
        if (hi >= lo) { parts.push(names[key] + " " + (lo === hi ? lo : lo + "-" + hi) + "%"); }
    }
    return parts.join(" · ");
}
keptSummary.local = 1;

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

// ---- replies --------------------------------------------------------------------------------
function onEvent(ev) {
    var kind = ev.request ? ev.request.kind : "";
    var ctx = ev.request ? ev.request.context : null;
    switch (ev.type) {
    case "pong":
        link.missedPings = 0;
        if (!link.connected) { link.connected = true; client.models(); }
        link.version = ev.serverVersion;
        lastRtt = ev.rtt;
        if (ev.mismatch) { lastError = ev.mismatch; }
        else if (lastError.indexOf("server") === 0) { lastError = ""; }
        break;
    case "models":
        modelInfo.defaultName = ev.defaultModel;
        modelInfo.names = [];
        modelInfo.maxRate = {};
        for (var i = 0; i < ev.models.length; i++) {
            modelInfo.names.push(ev.models[i].name);
            modelInfo.maxRate[ev.models[i].name] = ev.models[i].max_rate;
        }
        showModelMenu();
        if (!rateFull) { settings.set("rate", cappedRate()); }
        if (play) { play.settingsChanged(); }
        break;
    case "status":
        lastAction = "server " + (ev.ready ? "ready" : "loading") + ", " + ev.served + " served";
        break;
    case "result":
        lastRtt = ev.rtt;
        break;
    case "error":
        if (!(ctx && (ctx.batch || ctx.diagnose))) {
            lastError = ev.code + ": " + ev.message;
            if (ev.code === "unknown_model") { lastError += " (pick a model from the Model menu)"; }
        } else if (ev.code === "unknown_model") { ev.message += " (pick a model from the Model menu)"; }
        break;
    case "warning":
        lastAction = "warning: " + ev.message;
        break;
    case "timeout":
        if (kind === "ping") {
            link.missedPings++;
            link.connected = false;
            lastError = "server not answering on " + link.host + ":" + link.port;
            askLauncher();
            if (link.missedPings >= 3 && (launcherInfo.state === "running" || launcherInfo.state === "external")) {
                // the server is up for the launcher but our replies never arrive: another port
                link.missedPings = 0;
                choosePort(link.portAttempt + 1);
            }
        }
        break;
    case "bad_reply":
        lastError = "bad reply from the server: " + ev.message;
        break;
    }
    if (ctx && ctx.batch && ev.type !== "warning") { onBatchReply(ctx.batch, ev); }
    if (ctx && ctx.diagnose && ev.type !== "warning") { ctx.diagnose(ev); }
    showStatus();
}
onEvent.local = 1;

function askLauncher() {
    if (now() - launcherInfo.lastEnsure >= ENSURE_EVERY_MS) { sendLauncherSettings(); }
}
askLauncher.local = 1;

// ---- Diagnose: what qbdi_diagnose.js needs from the device ------------------------------------
function diagnoseHost() {
    var path = "";
    try { path = String(this.patcher && this.patcher.filepath ? this.patcher.filepath : ""); } catch (e) { path = ""; }
    return {
        now: now,
        post: function (line) { post(line + "\n"); },
        scripts: function () {
            var parts = [], ok = true;
            for (var k in loadedBy) {
                if (loadedBy.hasOwnProperty(k)) { parts.push(k + ".js " + loadedBy[k]); ok = ok && loadedBy[k] !== "MISSING"; }
            }
            return { ok: ok, detail: "device " + (path || "(path unknown)") + "; " + parts.join(", ") };
        },
        versions: function () {
            var c = live.capabilities();
            var m = typeof max !== "undefined" ? max : {};
            return { live: c.live, max: m.version !== undefined ? String(m.version) : "",
                     os: m.os !== undefined ? String(m.os) + (m.osversion ? " " + m.osversion : "") : "" };
        },
        arrangement: function () { return live.arrangementPath(); },
        launcher: function (cb) {
            launcherInfo.waiter = cb;
            outlet(OUT_LAUNCHER, "info");
        },
        retry: function () { outlet(OUT_LAUNCHER, "retry"); },
        connected: function () { return link.connected; },
        ping: function (cb) {
            if (!link.replyPort) { usePort(link.portProbe ? link.portProbe.port : REPLY_PORT_BASE); }
            link.lastHeartbeat = now();
            client.ping({ diagnose: cb });
        },
        free: function (bars, cb) {
            var s = settings.copy({ bars: bars, continue_bars: 0, beats_per_bar: 4, seed: 1, threshold: 0.3, sampling: "threshold" });
            client.free(s, { diagnose: cb });
        },
        replyPort: function () { return link.replyPort; },
        scratch: function () { return live.scratchCheck(); },
        timers: function () { return { task: clocks.taskTicks, clock: clocks.clockTicks }; },
        wake: function () { pump(); },
        saveReport: function (text) { outlet(OUT_LAUNCHER, "save_report", text); }
    };
}
diagnoseHost.local = 1;

// ---- status line --------------------------------------------------------------------------
function fail(code, message) {
    lastError = message;
    lastAction = "";
    showStatus();
    post("qbdi: " + code + ": " + message + "\n");
}
fail.local = 1;

function showStatus() {
    if (!qbdi) { return; }
    var parts = [];
    if (link.connected) {
        var m = settings.get("model") || modelInfo.defaultName || "default model";
        parts.push("● " + m + (lastRtt !== null ? " · " + Math.round(lastRtt) + " ms" : ""));
    } else if (launcherInfo.state === "starting") {
        parts.push("○ starting the server…");
    } else if (launcherInfo.state === "error" || launcherInfo.state === "failed" || launcherInfo.state === "crashed" ||
               launcherInfo.state === "silent") {
        parts.push("○ " + (launcherInfo.state === "silent" ? "" : "server " + launcherInfo.state + ": ") + launcherInfo.message);
    } else {
        parts.push("○ no server");
    }
    var playing = play ? play.summary() : "";
    if (playing) { parts.push(playing); }
    if (lastError && lastError !== launcherInfo.message) { parts.push("⚠ " + lastError); } else if (lastAction && !playing) { parts.push(lastAction); }
    outlet(OUT_STATUS, "set", parts.join("  "));
    outlet(OUT_LED, link.connected ? 1 : 0);
}
showStatus.local = 1;

function sendOsc(message) {
    outlet(OUT_OSC, message);
}
sendOsc.local = 1;
