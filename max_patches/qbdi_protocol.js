// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
/*
 * qbdi_protocol.js -- the OSC protocol between qbdi and Max, shared by every Max-side client.
 *
 * Mirrors bridge/protocol.py (addresses, versions, caps, setting keys, error codes) and the
 * setting ranges of bridge/config.py; tests/max_patches/test_patches.py keeps them equal.
 * Holds the only copy of the protocol's constants and codecs on the Max side: building request
 * messages (address first, flat int / float / string arguments, notes chunked) and parsing one
 * reply (errors, warnings, pong, status, models, result headers and chunks). Its stateful half,
 * the Client and the assemblers of chunked results and stream answers, is qbdi_exchange.js,
 * attached to this module by whoever loads both. Used by qbdi_device.js (Max for Live),
 * qbdi.client.js (plain Max) and qbdi_launcher.js (Node for Max).
 *
 * ES5 only: Max 8's [js] engine is SpiderMonkey 1.8.5 (no let/const/arrow functions/includes).
 * Loading:
 *   Max [js]:  var qbdi = require("qbdi_protocol");   (Max 7+; CommonJS-style `exports`)
 *              or include("qbdi_protocol.js");        (defines the global `qbdi`)
 *   Node:      var qbdi = require("./qbdi_protocol");
 *
 * A message is an array [address, arg, arg, ...]; in Max, outlet(n, message) sends it to
 * [udpsend], which turns it into one OSC datagram.
 *
 * A server on another machine answers only after a handshake (docs/PROTOCOL.md): the Client
 * (qbdi_exchange.js)
 * then pings first (padded to HANDSHAKE_BYTES), keeps the cookie of the pong, ends every
 * request with "cookie" <cookie>, renews it every COOKIE_PERIOD_S, and on a "cookie" error
 * pings and sends the request once more. On the loopback (the default host) nothing changes.
 */

var qbdi = (function () {
    "use strict";

    var P = {};

    // ---- constants mirrored from bridge/protocol.py --------------------------------------
    P.PROTOCOL_VERSION = 2;
    P.DEFAULT_HOST = "127.0.0.1";
    P.DEFAULT_PORT = 7400;

    P.PING = "/qbdi/ping";
    P.STATUS = "/qbdi/status";
    P.MODELS = "/qbdi/models";
    P.IMPROVISE = "/qbdi/improvise";
    P.NOTES = "/qbdi/notes";
    P.FREE = "/qbdi/free";
    P.QUIT = "/qbdi/quit";
    P.INTERPOLATE = "/qbdi/interpolate";   // a morph: clip A's notes then B's, chunked as an improvise request's

    P.PONG = "/qbdi/pong";
    P.STATUS_REPLY = "/qbdi/status/reply";
    P.MODELS_REPLY = "/qbdi/models/reply";
    P.RESULT = "/qbdi/result";
    P.RESULT_NOTES = "/qbdi/result/notes";
    P.ERROR = "/qbdi/error";
    P.WARNING = "/qbdi/warning";
    P.READY = "/qbdi/ready";
    P.BYE = "/qbdi/bye";

    // play along (docs/PROTOCOL.md "Playing along"): a session id takes the request id's place
    P.STREAM_OPEN = "/qbdi/stream/open";
    P.STREAM_SET = "/qbdi/stream/set";
    P.STREAM_BAR = "/qbdi/stream/bar";
    P.STREAM_CLOSE = "/qbdi/stream/close";
    P.STREAM_OPENED = "/qbdi/stream/opened";
    P.STREAM_NEXT = "/qbdi/stream/next";
    P.STREAM_CLOSED = "/qbdi/stream/closed";
    P.STREAM_REQUESTS = [P.STREAM_OPEN, P.STREAM_SET, P.STREAM_BAR, P.STREAM_CLOSE];
    P.STREAM_REPLIES = [P.STREAM_OPENED, P.STREAM_NEXT, P.STREAM_CLOSED];

    P.REQUESTS = [P.PING, P.STATUS, P.MODELS, P.IMPROVISE, P.NOTES, P.FREE, P.QUIT, P.INTERPOLATE].concat(P.STREAM_REQUESTS);
    P.REPLIES = [P.PONG, P.STATUS_REPLY, P.MODELS_REPLY, P.RESULT, P.RESULT_NOTES, P.ERROR,
                 P.WARNING, P.READY, P.BYE].concat(P.STREAM_REPLIES);
    P.ADDRESSES = P.REQUESTS.concat(P.REPLIES);
    P.HANDSHAKES = [P.PING];

    P.COOKIE_KEY = "cookie";
    // after the effective settings, /qbdi/result of an improvise request carries these pairs: what the
    // improvisation kept of its query (retained harmony, copy), measured by the server (bridge/protocol.py)
    P.RESULT_MEASURES = ["retained", "copy"];
    P.COOKIE_PERIOD_S = 60.0;
    P.HANDSHAKE_BYTES = 128;

    P.SETTING_KEYS = ["model", "rate", "sampling", "threshold", "temperature", "z", "seed",
                      "allocation", "source", "beats_per_bar", "length_beats", "bars", "structure", "continue_bars"];

    P.ERROR_CODES = ["bad_request", "too_large", "unknown_model", "bad_model", "expired",
                     "unknown_address", "busy", "cookie", "internal", "unknown_stream"];

    P.FIELDS_PER_NOTE = 4;
    P.NOTES_PER_CHUNK = 128;
    P.MAX_DATAGRAM = 4096;
    P.MAX_NOTES = 20000;
    P.MAX_CHUNKS = Math.ceil(P.MAX_NOTES / P.NOTES_PER_CHUNK);
    P.MAX_PENDING = 64;
    P.REQUEST_TTL_S = 5.0;
    P.REQUEST_DEADLINE_S = 10.0;
    P.MAX_STRING = 256;
    P.MAX_REPLY_TEXT = 1000;
    P.RESULT_BURST = 8;          // the server pauses RESULT_PAUSE_S after every RESULT_BURST result chunks
    P.RESULT_PAUSE_S = 0.001;
    P.INT32_MAX = 2147483647;

    P.MIN_INTERPOLATE_STEPS = 2;     // clips a morph writes, both ends included
    P.MAX_INTERPOLATE_STEPS = 16;
    P.MAX_INTERPOLATE_BARS = 512;    // steps x bars per step

    P.STREAM_KEYS = ["mode", "window"];
    P.STREAM_SETTING_KEYS = ["model", "rate", "sampling", "threshold", "temperature", "z", "seed",
                             "allocation", "source", "beats_per_bar", "structure", "mode", "window"];
    P.MAX_STREAMS = 64;
    P.MAX_STREAMS_PER_HOST = 32;
    P.MAX_STREAMS_PER_SENDER = 4;
    P.STREAM_TTL_S = 120.0;
    P.MAX_BAR_NOTES = 2048;
    P.MAX_BAR_CHUNKS = Math.ceil(P.MAX_BAR_NOTES / P.NOTES_PER_CHUNK);
    P.MAX_QUEUED_BARS = 64;
    P.MAX_QUEUED_PER_STREAM = 4;
    P.MIN_NOTE_START = -16384.0;

    // How each setting travels: "str" (a symbol), "rate" (int bits, "full" or -1), "float", "int".
    P.SETTING_TYPES = {
        model: "str", rate: "rate", sampling: "str", threshold: "float", temperature: "float",
        z: "str", seed: "int", allocation: "str", source: "str", beats_per_bar: "float", length_beats: "float",
        bars: "int", structure: "str", continue_bars: "int"
    };
    P.MIDI_RANGE = [0, 127];

    // ---- setting ranges mirrored from bridge/config.py ------------------------------------
    P.SAMPLING_MODES = ["threshold", "sample"];
    P.Z_MODES = ["mean", "sample"];
    P.ALLOCATIONS = ["query", "frame"];
    P.SOURCES = ["posterior", "empirical", "prior"];
    P.STRUCTURES = ["free", "lock"];
    P.MAX_SEED = 2147483647;
    P.MAX_BARS = 512;
    P.MAX_RATE = 1000000;
    P.STREAM_MODES = ["echo", "ahead"];
    P.MAX_STREAM_WINDOW = 16;
    P.DEFAULT_STREAM = { mode: "echo", window: 8 };   // bridge.config.StreamSettings()

    // Defaults of bridge.config.Settings (rate "full" = None there; beats_per_bar null = from the query).
    P.DEFAULT_SETTINGS = {
        model: null, rate: "full", sampling: "threshold", threshold: 0.5, temperature: 1.0,
        z: "mean", seed: 0, allocation: "query", source: "empirical", beats_per_bar: null, length_beats: null,
        bars: 8, structure: "free", continue_bars: 0
    };

    // Local error codes (never sent by the server): what went wrong on the Max side.
    P.LOCAL_ERRORS = ["timeout", "bad_setting", "bad_reply", "no_query", "live_api", "no_server"];

    // ---- small helpers (ES5) ----------------------------------------------------------------
    function indexOf(list, value) {
        for (var i = 0; i < list.length; i++) {
            if (list[i] === value) { return i; }
        }
        return -1;
    }
    P.indexOf = indexOf;

    function isNumber(x) { return typeof x === "number" && isFinite(x); }

    function toNumber(x) {
        if (typeof x === "number") { return x; }
        if (typeof x === "string" && x.replace(/\s/g, "") !== "") { return Number(x); }
        return NaN;
    }

    function utf8Length(s) {
        return unescape(encodeURIComponent(String(s))).length;
    }

    function padded(n) { return n + ((4 - (n % 4)) % 4); }

    /** Bytes of one OSC 1.0 message as [udpsend] encodes it (ints "i", floats "f", symbols "s"). */
    P.oscSize = function (message) {
        var size = padded(utf8Length(message[0]) + 1);
        size += padded(message.length); // "," + one tag per argument + NUL
        for (var i = 1; i < message.length; i++) {
            var a = message[i];
            size += typeof a === "number" ? 4 : padded(utf8Length(a) + 1);
        }
        return size;
    };

    /** True for a host on this machine's loopback (127.x.x.x, ::1, ::ffff:127.x.x.x, localhost). */
    P.isLoopbackHost = function (host) {
        var h = String(host === undefined || host === null ? P.DEFAULT_HOST : host).toLowerCase();
        if (h.indexOf("::ffff:") === 0) { h = h.slice(7); }
        return h === "localhost" || h === "::1" || h === "0:0:0:0:0:0:0:1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
    };

    P.nChunks = function (nNotes) {
        return Math.max(1, Math.ceil(nNotes / P.NOTES_PER_CHUNK));
    };

    // ---- notes --------------------------------------------------------------------------------
    /**
     * Normalise one note from any of the shapes Max users have: Live's
     * {pitch, start_time, duration, velocity, mute} or {pitch, start, duration, velocity}.
     * Returns null for a note that cannot be sent (missing/invalid pitch or times).
     */
    P.normalizeNote = function (n, minStart) {
        if (!n) { return null; }
        var pitch = toNumber(n.pitch);
        var start = toNumber(n.start_time !== undefined ? n.start_time : n.start);
        var duration = toNumber(n.duration);
        var velocity = n.velocity === undefined || n.velocity === null ? 100 : toNumber(n.velocity);
        if (!isNumber(pitch) || !isNumber(start) || !isNumber(duration) || !isNumber(velocity)) { return null; }
        pitch = Math.round(pitch);
        if (minStart === undefined) {
            if (pitch < 0 || pitch > 127 || duration <= 0 || start < 0) { return null; }
        } else if (pitch < 0 || pitch > 127 || duration < 0 || start < minStart) {
            return null;   // a stream bar: notes held over start before the bar, zero lengths are kept
        }
        velocity = Math.max(1, Math.min(127, Math.round(velocity)));
        return { pitch: pitch, start: start, duration: duration, velocity: velocity };
    };

    /** Notes (any accepted shape) -> flat [p, s, d, v, ...]; invalid notes are left out. */
    P.flattenNotes = function (notes) {
        var out = [];
        for (var i = 0; i < notes.length; i++) {
            var n = P.normalizeNote(notes[i]);
            if (n) { out.push(n.pitch, n.start, n.duration, n.velocity); }
        }
        return out;
    };

    /** Flat [p, s, d, v, ...] -> [{pitch, start, duration, velocity}, ...]. */
    P.unflattenNotes = function (flat) {
        var out = [];
        for (var i = 0; i + P.FIELDS_PER_NOTE <= flat.length; i += P.FIELDS_PER_NOTE) {
            out.push({ pitch: flat[i], start: flat[i + 1], duration: flat[i + 2], velocity: flat[i + 3] });
        }
        return out;
    };

    /** Split flat note args into chunks of NOTES_PER_CHUNK notes (at least one, maybe empty). */
    P.chunkArgs = function (flat) {
        var step = P.NOTES_PER_CHUNK * P.FIELDS_PER_NOTE;
        var chunks = [];
        for (var i = 0; i < flat.length; i += step) {
            chunks.push(flat.slice(i, i + step));
        }
        if (chunks.length === 0) { chunks.push([]); }
        return chunks;
    };

    /** Notes -> Live's add_new_notes shape {notes: [{pitch, start_time, duration, velocity}]}. */
    P.toLiveNotes = function (notes, offset) {
        var out = [];
        offset = offset || 0;
        for (var i = 0; i < notes.length; i++) {
            var n = notes[i];
            out.push({ pitch: n.pitch, start_time: n.start + offset, duration: n.duration,
                       velocity: n.velocity, mute: 0 });
        }
        return { notes: out };
    };

    // ---- settings ------------------------------------------------------------------------------
    var SPECS = {
        model: { kind: "model" },
        rate: { kind: "rate" },
        sampling: { kind: "enum", values: P.SAMPLING_MODES },
        threshold: { kind: "float", min: 0, max: 1, exclusive: true, hint: "try 0.5" },
        temperature: { kind: "float", min: 0.01, max: 10, hint: "try 1.0" },
        z: { kind: "enum", values: P.Z_MODES },
        seed: { kind: "int", min: 0, max: P.MAX_SEED },
        allocation: { kind: "enum", values: P.ALLOCATIONS },
        source: { kind: "enum", values: P.SOURCES },
        beats_per_bar: { kind: "float", min: 0.25, max: 32, nullable: true },
        length_beats: { kind: "float", min: 0, max: P.MAX_BARS * 32, nullable: true },
        bars: { kind: "int", min: 1, max: P.MAX_BARS },
        structure: { kind: "enum", values: P.STRUCTURES },
        continue_bars: { kind: "int", min: 0, max: P.MAX_BARS }
    };

    /** Other names Max users may type for a setting. */
    P.SETTING_ALIASES = { "continue": "continue_bars", "bpb": "beats_per_bar", "temp": "temperature" };

    P.settingKey = function (name) {
        name = String(name);
        if (P.SETTING_ALIASES.hasOwnProperty(name)) { return P.SETTING_ALIASES[name]; }
        return SPECS.hasOwnProperty(name) ? name : null;
    };

    /**
     * Validate and normalise one setting value the way bridge.config.Settings will see it.
     * Enums take the name or a menu index; ints are rounded (dials send floats); rate takes a
     * number of bits or "full" (also -1). Returns {ok: true, value} or {ok: false, message}.
     */
    P.normalizeSetting = function (key, value) {
        var spec = SPECS[key];
        if (!spec) {
            return { ok: false, message: "unknown setting '" + key + "'; known: " + P.SETTING_KEYS.join(", ") };
        }
        if (spec.kind === "model") {
            if (value === undefined || value === null) { return { ok: true, value: null }; }
            var name = String(value);
            if (name === "" || name === "default" || name === "0") { return { ok: true, value: null }; }
            if (utf8Length(name) > P.MAX_STRING) {
                return { ok: false, message: "model name longer than " + P.MAX_STRING + " bytes" };
            }
            return { ok: true, value: name };
        }
        if (spec.kind === "rate") {
            if (typeof value === "string") {
                var text = value.toLowerCase();
                if (text === "full" || text === "inf" || text === "none" || text === "") { return { ok: true, value: "full" }; }
            }
            var r = toNumber(value);
            if (r === -1) { return { ok: true, value: "full" }; }
            if (!isNumber(r) || r < 0 || r > P.MAX_RATE) {
                return { ok: false, message: "rate must be between 0 and " + P.MAX_RATE + " bits per frame, or 'full'; got " + value };
            }
            return { ok: true, value: Math.round(r) };
        }
        if (spec.kind === "enum") {
            var idx = typeof value === "number" ? value : indexOf(spec.values, String(value));
            if (typeof value === "string" && idx < 0 && /^\d+$/.test(value)) { idx = Number(value); }
            idx = Math.round(idx);
            if (!(idx >= 0 && idx < spec.values.length)) {
                return { ok: false, message: key + " must be one of " + spec.values.join(", ") + "; got " + value };
            }
            return { ok: true, value: spec.values[idx] };
        }
        if (spec.nullable && (value === null || value === undefined || value === "auto" || value === 0)) {
            return { ok: true, value: null };
        }
        var x = toNumber(value);
        if (spec.kind === "int") { x = Math.round(x); }
        var low = spec.exclusive ? x <= spec.min : x < spec.min;
        var high = spec.exclusive ? x >= spec.max : x > spec.max;
        if (!isNumber(x) || low || high) {
            var range = spec.exclusive ? "between " + spec.min + " and " + spec.max + " (exclusive)"
                                       : "from " + spec.min + " to " + spec.max;
            return { ok: false, message: key + " must be " + range + ", got " + value + (spec.hint ? "; " + spec.hint : "") };
        }
        return { ok: true, value: x };
    };

    /** A full set of settings with the defaults of bridge.config.Settings. */
    function Settings(values) {
        this.values = {};
        for (var i = 0; i < P.SETTING_KEYS.length; i++) {
            var k = P.SETTING_KEYS[i];
            this.values[k] = P.DEFAULT_SETTINGS[k];
        }
        if (values) {
            for (var key in values) {
                if (values.hasOwnProperty(key)) { this.values[key] = values[key]; }
            }
        }
    }
    /** Set one setting (name or alias); returns null when fine, else the error message. */
    Settings.prototype.set = function (name, value) {
        var key = P.settingKey(name);
        if (!key) { return "unknown setting '" + name + "'; known: " + P.SETTING_KEYS.join(", "); }
        var r = P.normalizeSetting(key, value);
        if (!r.ok) { return r.message; }
        this.values[key] = r.value;
        return null;
    };
    Settings.prototype.get = function (key) { return this.values[key]; };
    Settings.prototype.copy = function (overrides) {
        var s = new Settings(this.values);
        if (overrides) {
            for (var key in overrides) {
                if (overrides.hasOwnProperty(key)) { s.values[key] = overrides[key]; }
            }
        }
        return s;
    };
    /** Flat [key, value, ...] in SETTING_KEYS order; unset (null) model/beats_per_bar/length_beats left out. */
    Settings.prototype.toArgs = function () {
        var out = [];
        for (var i = 0; i < P.SETTING_KEYS.length; i++) {
            var k = P.SETTING_KEYS[i];
            var v = this.values[k];
            if (v === null || v === undefined) { continue; }
            out.push(k, v);
        }
        return out;
    };
    Settings.prototype.rateLabel = function () {
        return this.values.rate === "full" ? "full" : String(this.values.rate);
    };
    P.Settings = Settings;

    /** Flat [key, value, ...] -> {key: value} (the effective settings of a /qbdi/result). */
    /** /qbdi/result's key/value pairs -> {settings: the settings pairs, measures: {retained, copy} given}. */
    P.splitMeasures = function (args) {
        var out = { settings: [], measures: {} };
        for (var i = 0; i + 1 < args.length; i += 2) {
            if (P.indexOf(P.RESULT_MEASURES, args[i]) >= 0 && typeof args[i + 1] === "number") {
                out.measures[args[i]] = args[i + 1];
            } else {
                out.settings.push(args[i], args[i + 1]);
            }
        }
        return out;
    };

    /** "harmony 82% · notes 7%": what an improvisation kept, for a status line ("" without figures). */
    P.keptText = function (measures) {
        var parts = [];
        if (measures && typeof measures.retained === "number") { parts.push("harmony " + Math.round(100 * measures.retained) + "%"); }
        if (measures && typeof measures.copy === "number") { parts.push("notes " + Math.round(100 * measures.copy) + "%"); }
        return parts.join(" · ");
    };

    P.pairsToObject = function (args) {
        var out = {};
        for (var i = 0; i + 1 < args.length; i += 2) { out[String(args[i])] = args[i + 1]; }
        return out;
    };

    // ---- request messages -------------------------------------------------------------------
    /** A ping; `padded`: with a string making it HANDSHAKE_BYTES long (for a server on another machine). */
    P.buildPing = function (id, replyPort, padded) {
        var msg = [P.PING, id, replyPort];
        if (padded) {
            var pad = "";
            while (P.oscSize(msg.concat([pad + "p"])) <= P.HANDSHAKE_BYTES) { pad += "p"; }
            msg.push(pad);
        }
        return [msg];
    };
    P.buildStatus = function (id, replyPort) { return [[P.STATUS, id, replyPort]]; };
    P.buildModels = function (id, replyPort) { return [[P.MODELS, id, replyPort]]; };
    P.buildQuit = function (id, replyPort) { return [[P.QUIT, id, replyPort]]; };

    function settingsArgs(settings) {
        if (!settings) { return new Settings().toArgs(); }
        if (settings instanceof Settings || typeof settings.toArgs === "function") { return settings.toArgs(); }
        if (settings.length !== undefined) { return settings.slice(0); }
        return new Settings(settings).toArgs();
    }

    /**
     * /qbdi/improvise header + /qbdi/notes chunks. `notes` is a note array (any accepted shape)
     * or a flat [p, s, d, v, ...] list; `settings` a Settings, a plain object or flat pairs.
     */
    P.buildImprovise = function (id, replyPort, notes, settings) {
        var flat = notes.length && typeof notes[0] === "number" ? P.flattenNotes(P.unflattenNotes(notes)) : P.flattenNotes(notes);
        var nNotes = flat.length / P.FIELDS_PER_NOTE;
        if (nNotes > P.MAX_NOTES) {
            throw new Error("the query has " + nNotes + " notes; the limit is " + P.MAX_NOTES);
        }
        var chunks = P.chunkArgs(flat);
        var msgs = [[P.IMPROVISE, id, replyPort, nNotes, chunks.length].concat(settingsArgs(settings))];
        for (var c = 0; c < chunks.length; c++) {
            msgs.push([P.NOTES, id, replyPort, c, chunks.length].concat(chunks[c]));
        }
        return msgs;
    };

    /**
     * /qbdi/interpolate header + /qbdi/notes chunks: clip A's notes then clip B's (notes as for
     * buildImprovise), `steps` clips from A to B, lengths in beats (0 or null: to the last note's end).
     */
    P.buildInterpolate = function (id, replyPort, notesA, notesB, steps, lengthA, lengthB, settings) {
        var flatA = P.flattenNotes(notesA);
        var flat = flatA.concat(P.flattenNotes(notesB));
        var nNotes = flat.length / P.FIELDS_PER_NOTE;
        if (nNotes > P.MAX_NOTES) {
            throw new Error("the clips have " + nNotes + " notes together; the limit is " + P.MAX_NOTES);
        }
        steps = Math.round(Number(steps));
        if (!(steps >= P.MIN_INTERPOLATE_STEPS && steps <= P.MAX_INTERPOLATE_STEPS)) {
            throw new Error("steps must be a whole number from " + P.MIN_INTERPOLATE_STEPS + " to " + P.MAX_INTERPOLATE_STEPS);
        }
        var chunks = P.chunkArgs(flat);
        var msgs = [[P.INTERPOLATE, id, replyPort, nNotes, chunks.length, steps, flatA.length / P.FIELDS_PER_NOTE,
                     Number(lengthA) || 0, Number(lengthB) || 0].concat(settingsArgs(settings))];
        for (var c = 0; c < chunks.length; c++) {
            msgs.push([P.NOTES, id, replyPort, c, chunks.length].concat(chunks[c]));
        }
        return msgs;
    };

    /**
     * A morph's result (every step's notes in sequence, step k from k * stepBeats) -> `steps`
     * note arrays, each with starts from its step's beginning (bridge.protocol.split_steps).
     */
    P.splitSteps = function (notes, steps, stepBeats) {
        var out = [];
        for (var k = 0; k < steps; k++) { out.push([]); }
        for (var i = 0; i < notes.length; i++) {
            var n = notes[i];
            var at = Math.min(steps - 1, Math.max(0, Math.floor(n.start / stepBeats + 1e-6)));
            out[at].push({ pitch: n.pitch, start: n.start - at * stepBeats, duration: n.duration, velocity: n.velocity });
        }
        return out;
    };

    P.buildFree = function (id, replyPort, settings) {
        return [[P.FREE, id, replyPort].concat(settingsArgs(settings))];
    };

    // ---- play along: stream messages -----------------------------------------------------------
    /** Settings (a Settings, object or flat pairs) + {mode, window} -> flat pairs of STREAM_SETTING_KEYS. */
    function streamArgs(settings, stream) {
        var pairs = settingsArgs(settings);
        var out = [];
        for (var i = 0; i + 1 < pairs.length; i += 2) {
            if (indexOf(P.STREAM_SETTING_KEYS, pairs[i]) >= 0) { out.push(pairs[i], pairs[i + 1]); }
        }
        stream = stream || {};
        for (var k = 0; k < P.STREAM_KEYS.length; k++) {
            var key = P.STREAM_KEYS[k];
            if (stream[key] !== undefined && stream[key] !== null) { out.push(key, stream[key]); }
        }
        return out;
    }
    P.streamArgs = streamArgs;

    /** /qbdi/stream/open: (re)start session `session` with settings and {mode: "echo"|"ahead", window}. */
    P.buildStreamOpen = function (session, replyPort, settings, stream) {
        return [[P.STREAM_OPEN, session, replyPort].concat(streamArgs(settings, stream))];
    };
    /** /qbdi/stream/set: change dials for the bars to come (only the keys given change). */
    P.buildStreamSet = function (session, replyPort, settings, stream) {
        return [[P.STREAM_SET, session, replyPort].concat(settings ? streamArgs(settings, stream) : streamArgs([], stream))];
    };
    P.buildStreamClose = function (session, replyPort) { return [[P.STREAM_CLOSE, session, replyPort]]; };

    /**
     * /qbdi/stream/bar chunks for bar `bar`: notes in beats from the bar's start (a negative start
     * is a note held over from an earlier bar), any accepted note shape or flat.
     */
    P.buildStreamBar = function (session, replyPort, bar, notes) {
        var flat = [];
        var list = notes.length && typeof notes[0] === "number" ? P.unflattenNotes(notes) : notes;
        for (var i = 0; i < list.length; i++) {
            var n = P.normalizeNote(list[i], P.MIN_NOTE_START);
            if (n) { flat.push(n.pitch, n.start, n.duration, n.velocity); }
        }
        var nNotes = flat.length / P.FIELDS_PER_NOTE;
        if (nNotes > P.MAX_BAR_NOTES) {
            throw new Error("bar " + bar + " has " + nNotes + " notes; the limit is " + P.MAX_BAR_NOTES);
        }
        var chunks = P.chunkArgs(flat);
        var msgs = [];
        for (var c = 0; c < chunks.length; c++) {
            msgs.push([P.STREAM_BAR, session, replyPort, bar, nNotes, c, chunks.length].concat(chunks[c]));
        }
        return msgs;
    };

    var STEP_SNAP = 1024;   // bridge.pianoroll.STEP_SNAP: positions snap to 1/1024 of a step

    function roundHalfEven(x) {
        var f = Math.floor(x);
        var d = x - f;
        if (d !== 0.5) { return d < 0.5 ? f : f + 1; }
        return f % 2 === 0 ? f : f + 1;
    }
    /** A time in beats -> its position in steps, snapped as bridge.pianoroll.step_position does. */
    P.stepPosition = function (beats, stepsPerBeat) {
        return roundHalfEven(beats * stepsPerBeat * STEP_SNAP) / STEP_SNAP;
    };

    /**
     * The notes to send for the bar [barStart, barStart + beatsPerBar) (beats), from notes with
     * absolute times ({pitch, start | start_time, duration, velocity}; a note still held has
     * duration null and lasts to the bar's end): every note struck in the bar, sounding in it,
     * or sounding in its steps once rounded to the grid, in beats from the bar's start (a note
     * begun earlier has a negative start), durations cut at the bar's end. What
     * bridge.stream.split_bars sends for one bar; a test runs both on the same notes.
     */
    P.barNotes = function (notes, barStart, beatsPerBar, stepsPerBeat) {
        var spb = stepsPerBeat || 4;
        var steps = Math.round(beatsPerBar * spb);
        var out = [];
        for (var i = 0; i < notes.length; i++) {
            var n = notes[i];
            var rel = toNumber(n.start_time !== undefined ? n.start_time : n.start) - barStart;
            var held = n.duration === null || n.duration === undefined;
            var stop = held ? beatsPerBar : rel + Math.max(0, toNumber(n.duration));
            if (!isNumber(rel) || !(held || isNumber(stop))) { continue; }
            var at = P.stepPosition(rel, spb);
            var first = roundHalfEven(at);
            var last = Math.max(held ? steps : roundHalfEven(P.stepPosition(stop, spb)), first + 1);
            var struck = at >= 0 && at < steps;
            var sounds = (first <= steps && last >= 0) || (rel < beatsPerBar && stop > 0);   // ties: rather send
            if (!struck && !sounds) { continue; }
            out.push({ pitch: n.pitch, start: rel, duration: Math.max(0, Math.min(stop, beatsPerBar) - rel),
                       velocity: n.velocity === undefined ? 100 : n.velocity });
        }
        return out;
    };

    // ---- reply parsing ------------------------------------------------------------------------
    function str(x) { return x === undefined || x === null ? "" : String(x); }
    function int(x) { var n = toNumber(x); return isNumber(n) ? Math.round(n) : NaN; }

    /**
     * One reply message -> an event object, without state. Result chunks come back as
     * {type: "result_header"} / {type: "result_chunk"}; qbdi_exchange.js's Reassembler joins them.
     * Returns {type: "bad_reply", message} for anything malformed.
     */
    P.parseReply = function (address, args) {
        args = args || [];
        var id = int(args[0]);
        switch (address) {
        case P.PONG:
            var pong = { type: "pong", id: id, serverVersion: str(args[1]), protocolVersion: int(args[2]) };
            if (typeof args[3] === "string" && args[3] !== "") { pong.cookie = args[3]; }
            return pong;
        case P.STATUS_REPLY:
            return { type: "status", id: id, ready: int(args[1]) === 1, model: str(args[2]),
                     nModels: int(args[3]), uptime: toNumber(args[4]), served: int(args[5]), pending: int(args[6]) };
        case P.MODELS_REPLY:
            var n = int(args[2]);
            var models = [];
            for (var i = 0; i < n && 3 + 3 * i + 2 < args.length; i++) {
                models.push({ name: str(args[3 + 3 * i]), latent_size: int(args[4 + 3 * i]), max_rate: int(args[5 + 3 * i]) });
            }
            if (!isNumber(n) || models.length !== n) {
                return { type: "bad_reply", id: id, message: "models reply announces " + args[2] + " models but holds " + models.length };
            }
            return { type: "models", id: id, defaultModel: str(args[1]), models: models };
        case P.RESULT:
            var nNotes = int(args[1]);
            var nChunks = int(args[2]);
            if (!isNumber(id) || !isNumber(nNotes) || !isNumber(nChunks) || nNotes < 0 || nChunks < 0) {
                return { type: "bad_reply", id: id, message: "malformed /qbdi/result header" };
            }
            var pairs = P.splitMeasures(args.slice(4));
            return { type: "result_header", id: id, nNotes: nNotes, nChunks: nChunks, model: str(args[3]),
                     settings: P.pairsToObject(pairs.settings), measures: pairs.measures };
        case P.RESULT_NOTES:
            var chunk = int(args[1]);
            var total = int(args[2]);
            var flat = args.slice(3);
            if (!isNumber(id) || !isNumber(chunk) || !isNumber(total) || flat.length % P.FIELDS_PER_NOTE !== 0) {
                return { type: "bad_reply", id: id, message: "malformed /qbdi/result/notes chunk" };
            }
            return { type: "result_chunk", id: id, chunk: chunk, nChunks: total, flat: flat };
        case P.ERROR:
            return { type: "error", id: id, code: str(args[1]) || "internal", message: str(args[2]) };
        case P.WARNING:
            return { type: "warning", id: id, message: str(args[1]) };
        case P.READY:
            return { type: "ready", serverVersion: str(args[0]), protocolVersion: int(args[1]),
                     port: int(args[2]), model: str(args[3]) };
        case P.BYE:
            return { type: "bye", id: id };
        case P.STREAM_OPENED:
            return { type: "stream_opened", id: id, model: str(args[1]), settings: P.pairsToObject(args.slice(2)) };
        case P.STREAM_NEXT:
            var bar = int(args[1]);
            var count = int(args[2]);
            var part = int(args[3]);
            var parts = int(args[4]);
            var notesFlat = args.slice(5);
            if (!isNumber(id) || !isNumber(bar) || !isNumber(count) || !isNumber(part) || !isNumber(parts) ||
                    part < 0 || part >= parts || notesFlat.length % P.FIELDS_PER_NOTE !== 0) {
                return { type: "bad_reply", id: id, message: "malformed /qbdi/stream/next chunk" };
            }
            return { type: "stream_chunk", id: id, bar: bar, nNotes: count, chunk: part, nChunks: parts, flat: notesFlat };
        case P.STREAM_CLOSED:
            return { type: "stream_closed", id: id, bars: int(args[1]) };
        default:
            return { type: "bad_reply", id: id, message: "unknown reply address " + address };
        }
    };

    // ---- text for users -----------------------------------------------------------------------
    /** "improv r256 s42" style clip name from effective settings. */
    P.clipName = function (prefix, settings) {
        settings = settings || {};
        var rate = settings.rate;
        var rateText = rate === undefined || rate === null ? "?" :
            (rate === "full" || rate === -1 || rate === "-1" ? "full" : String(Math.round(Number(rate))));
        return prefix + " r" + rateText + " s" + (settings.seed === undefined ? "?" : settings.seed);
    };

    return P;
}());

// Export for Node's require and Max's CommonJS-style require(); under Max's include() the
// global `qbdi` above is what the including script uses.
if (typeof exports === "object" && exports !== null) {
    (function () {
        for (var key in qbdi) {
            if (qbdi.hasOwnProperty(key)) { exports[key] = qbdi[key]; }
        }
    }());
}
