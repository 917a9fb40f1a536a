// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
/*
 * qbdi_play.js -- Play Along: the device improvises with you, bar by bar, on Live's transport.
 * Notes played into the track are collected per bar (bar lines from the song time and the time
 * signature), each bar is sent a 32nd note before its bar line over the stream protocol
 * (docs/PROTOCOL.md "Playing along"), and the answer is played out of the device's MIDI output
 * during the next bar, on the grid. Every note-on gets its note-off; stop, toggle off or removal
 * send the offs still owed, then All Notes Off. The same rules as bridge/player.py (qbdi jam).
 *
 * ES5 (Max 8's [js]). Loaded by qbdi_device.js with require("qbdi_play") (or include), then
 *   var play = qbdiPlay.create(qbdi, host, qbdiSchedule);
 * qbdi: qbdi_protocol.js; qbdiSchedule: qbdi_schedule.js, the note scheduler that plays the
 * answers (loaded the same way, by the device)
 * host: send(message)      one OSC message (array, address first) to the server
 *       midi(message)      ["m"|"t"|"n", ...] to the patch's pipes, then the one [midiout]
 *                          (qbdi_schedule.js says which pipe plays what)
 *       thru(open)         1: the input passes through the patch's [gate]; 0: muted
 *       settings()         the device's Settings (its dials)
 *       replyPort()        this device's UDP reply port
 *       report(text, bad)  a line for the status line (bad: also the Max Console)
 *       now()              milliseconds
 * The patch drives it (docs/DEVICE.md, "Play Along"):
 *   clock(grid, playing, ticks, tempo, num, den)   Live's transport as [transport] reports it:
 *       ticks = song time x 480; grid 1 from [metro 32n @quantize 32n] (on Live's 32nd grid),
 *       0 from the fixed-rate poll that notices stop, tempo and meter changes
 *   note(pitch, velocity, ticks)                   a note played into the track, stamped with
 *       the song time [transport] gave when [midiin] received it
 *   stamp(ticks)                                   a fresh [transport] reading, taken by the patch
 *       just before each server reply and toggle change reaches the script: answers are handed
 *       over against it (setFresh; the device clears it after each message)
 * No note leaves from here at the time it sounds: answers are handed over to Max's scheduler
 * when they arrive (qbdi_schedule.js).
 */

var qbdiPlay = (function () {
    "use strict";

    var Y = {};
    Y.TICKS_PER_BEAT = 480;       // [transport]'s resolution
    Y.GRID_TICKS = 60;            // the clock metro's grid: a 32nd note
    Y.SEND_EARLY = 0.125;         // beats: a bar is sent a 32nd before its line (docs/PLAYING.md)
    Y.JUMP_BACK = 0.5;            // beats: a position this far behind the last one is a jump (a loop, a relocate)
    Y.KEEP_BARS = 2;              // finished played notes are forgotten this many bars after they end
    Y.INPUTS = ["thru", "mute"];
    Y.CHANNEL = 0;                // answers go out on MIDI channel 1
    var NOTE_OFF = 0x80;
    var S_NOW = "n";              // qbdi_schedule.js's pipe for what leaves at once
    var EPS = 1e-6;

    function Play(P, host, S) {
        var self = this;
        this.P = P;
        this.host = host;
        this.enabled = false;
        this.input = "thru";
        this.stream = { mode: P.DEFAULT_STREAM.mode, window: P.DEFAULT_STREAM.window };
        this.playing = false;
        this.beat = 0;                 // the last song position heard, in beats
        this.tempo = 120;
        this.num = 4;
        this.den = 4;
        this.anchorBeat = 0;           // bar lines: anchorBar starts at anchorBeat, then every bpb() beats
        this.anchorBar = 0;
        this.session = 0;
        this.sentArgs = null;          // the stream settings last sent (open/set): set sends the changes
        this.streamBar = 0;            // the next stream bar index (counts up from each open)
        this.nextBar = 0;              // the song bar to send next
        this.targets = {};             // stream bar -> {start, sentAt}: where its answer plays
        this.assembler = new P.StreamAssembler();
        this.held = {};                // pitch -> {start, velocity}: played, not yet released
        this.done = [];                // played notes with start and duration, in song beats
        this.pressed = {};             // pitch -> keys down now (whatever the transport does)
        this.stats = { sent: 0, answered: 0, skipped: 0, dropped: 0, notesOut: 0, handedOver: 0, lastRtt: null };
        this.fresh = null;             // the song position (beats) the patch read for the message being handled
        this.notes = new S.Scheduler({     // the answers, handed over to Max's scheduler (qbdi_schedule.js)
            send: function (message) { self.host.midi(message); },
            keyHeld: function (pitch) { return self.pressed[pitch] > 0 && self.thruOpen(); }
        }, this.stats, Y.CHANNEL);
        this.failure = "";
        this.reopenAt = -1;            // stats.sent when the stream was last reopened after an error
    }

    // ---- time --------------------------------------------------------------------------------
    Play.prototype.bpb = function () { return this.num * 4 / this.den; };
    Play.prototype.barAt = function (beat) {
        return this.anchorBar + Math.floor((beat - this.anchorBeat) / this.bpb() + EPS);
    };
    Play.prototype.barStart = function (bar) { return this.anchorBeat + (bar - this.anchorBar) * this.bpb(); };

    /** The meter must be a whole number of sixteenths per bar (the model's grid). */
    Play.prototype.meterProblem = function () {
        var steps = this.bpb() * 4;
        if (Math.abs(steps - Math.round(steps)) > EPS || steps < 1) {
            return "time signature " + this.num + "/" + this.den + " is not a whole number of sixteenths per bar; " +
                   "Play Along waits for a meter such as 4/4, 3/4, 6/8 or 7/8";
        }
        return "";
    };

    // ---- the controls --------------------------------------------------------------------------
    Play.prototype.setEnabled = function (on) {
        on = !!on;
        if (on === this.enabled) { return; }
        if (on) {
            this.enabled = true;
            this.failure = "";
            if (this.playing) { this.startStream(this.beat); }
        } else {
            this.silence(true, this.freshBeat(), this.playing);
            this.closeStream();
            this.enabled = false;
            this.clearPlayed();
        }
        this.updateThru();
        this.host.report(on ? "Play Along on" + (this.playing ? "" : ": press Play in Live") : "Play Along off", false);
    };

    Play.prototype.setInput = function (mode) {
        var idx = typeof mode === "number" ? Math.round(mode) : this.P.indexOf(Y.INPUTS, String(mode));
        if (idx < 0 || idx >= Y.INPUTS.length) { return "input must be thru or mute"; }
        var before = this.thruOpen();
        this.input = Y.INPUTS[idx];
        if (before && !this.thruOpen()) {
            // keys held now passed through; their releases will be muted: end them here
            for (var p in this.pressed) {
                if (this.pressed.hasOwnProperty(p)) {
                    for (var k = 0; k < this.pressed[p]; k++) { this.host.midi([S_NOW, NOTE_OFF | Y.CHANNEL, Number(p), 0]); }
                }
            }
        }
        this.updateThru();
        return null;
    };

    /** mode ("echo"|"ahead" or menu index) or window (1..MAX_STREAM_WINDOW). */
    Play.prototype.setStreamOption = function (key, value) {
        var P = this.P;
        if (key === "mode") {
            var idx = typeof value === "number" ? Math.round(value) : P.indexOf(P.STREAM_MODES, String(value));
            if (idx < 0 || idx >= P.STREAM_MODES.length) { return "mode must be " + P.STREAM_MODES.join(" or "); }
            this.stream.mode = P.STREAM_MODES[idx];
        } else if (key === "window") {
            var w = Math.round(Number(value));
            if (!(w >= 1 && w <= P.MAX_STREAM_WINDOW)) { return "window must be 1 to " + P.MAX_STREAM_WINDOW + " bars"; }
            this.stream.window = w;
        }
        this.settingsChanged();
        return null;
    };

    Play.prototype.thruOpen = function () { return !this.enabled || this.input === "thru"; };
    Play.prototype.updateThru = function () { this.host.thru(this.thruOpen() ? 1 : 0); };

    /** The stream settings as sent: the device's dials, this meter, mode and window. */
    Play.prototype.streamArgs = function () {
        var s = this.host.settings().copy({ beats_per_bar: this.bpb() });
        return this.P.streamArgs(s, this.stream);
    };

    /** A dial moved: /qbdi/stream/set with the keys that changed (model or meter: the server starts afresh). */
    Play.prototype.settingsChanged = function () {
        if (!this.session || !this.sentArgs) { return; }
        var now = this.streamArgs();
        var old = this.P.pairsToObject(this.sentArgs);
        var changed = [];
        for (var i = 0; i + 1 < now.length; i += 2) {
            if (String(old[now[i]]) !== String(now[i + 1])) { changed.push(now[i], now[i + 1]); }
        }
        if (old.model !== undefined && this.P.indexOf(now, "model") < 0) { changed.push("model", ""); }
        if (!changed.length) { return; }
        this.sentArgs = now;
        this.host.send(this.P.buildStreamSet(this.session, this.host.replyPort(), changed, null)[0]);
    };

    // ---- the stream --------------------------------------------------------------------------
    Play.prototype.startStream = function (beat) {
        this.closeStream();
        var problem = this.meterProblem();
        if (problem) { this.fail(problem); return; }
        this.session = 1 + Math.floor(Math.random() * (this.P.INT32_MAX - 1));
        this.streamBar = 0;
        this.targets = {};
        this.assembler = new this.P.StreamAssembler();
        this.nextBar = this.barAt(beat);
        this.sentArgs = this.streamArgs();
        this.host.send([this.P.STREAM_OPEN, this.session, this.host.replyPort()].concat(this.sentArgs));
    };

    Play.prototype.closeStream = function () {
        if (this.session) { this.host.send(this.P.buildStreamClose(this.session, this.host.replyPort())[0]); }
        this.session = 0;
        this.sentArgs = null;
        this.targets = {};
    };

    /** Send every bar whose moment (a 32nd before its end) has come; a bar missed by a stall is skipped. */
    Play.prototype.sendDue = function (beat) {
        while (beat + EPS >= this.barStart(this.nextBar + 1) - Y.SEND_EARLY) {
            var bar = this.nextBar++;
            if (this.session && beat + EPS < this.barStart(bar + 2) - Y.SEND_EARLY) {
                this.sendBar(bar);
            } else if (this.session) {
                this.stats.dropped++;
            }
            this.forget(this.barStart(bar));
        }
    };

    /** Played notes that ended long before `start`, and answers that never came, are forgotten. */
    Play.prototype.forget = function (start) {
        var horizon = start - Y.KEEP_BARS * this.bpb();
        this.done = this.done.filter(function (n) { return n.start + n.duration > horizon; });
        for (var t in this.targets) {
            if (this.targets.hasOwnProperty(t) && Number(t) < this.streamBar - 1) { delete this.targets[t]; }
        }
    };

    Play.prototype.sendBar = function (bar) {
        var P = this.P;
        var start = this.barStart(bar);
        var notes = this.done.slice(0);
        for (var p in this.held) {
            if (this.held.hasOwnProperty(p)) {
                notes.push({ pitch: Number(p), start: this.held[p].start, duration: null, velocity: this.held[p].velocity });
            }
        }
        var msgs;
        try {
            msgs = P.buildStreamBar(this.session, this.host.replyPort(), this.streamBar, P.barNotes(notes, start, this.bpb()));
        } catch (e) {
            this.fail(String(e.message || e) + "; that bar is skipped");
            msgs = [];
        }
        if (msgs.length) {
            this.targets[this.streamBar + 1] = { start: start + this.bpb(), sentAt: this.host.now() };
            for (var i = 0; i < msgs.length; i++) { this.host.send(msgs[i]); }
            this.stats.sent++;
        }
        this.streamBar++;
    };

    /** Whether a reply belongs to Play Along (stream replies, errors and warnings for its session). */
    Play.prototype.accepts = function (address, args) {
        var P = this.P;
        if (P.indexOf(P.STREAM_REPLIES, address) >= 0) { return true; }
        return (address === P.ERROR || address === P.WARNING) && this.session !== 0 && Number(args[0]) === this.session;
    };

    Play.prototype.handle = function (address, args) {
        var P = this.P;
        var ev = P.parseReply(address, args);
        if (ev.id !== this.session || !this.session) { return; }   // an older stream's: dropped
        if (ev.type === "stream_chunk") {
            var whole = this.assembler.add(ev);
            if (whole && whole.type === "stream_next") { this.answer(whole); }
            else if (whole) { this.fail(whole.message); }
        } else if (ev.type === "stream_opened") {
            this.failure = "";
        } else if (ev.type === "stream_closed") {
            this.session = 0;                     // the server closed it (too many streams): open again
            if (this.enabled && this.playing) { this.startStream(this.beat); }
        } else if (ev.type === "error") {
            if (ev.code === "unknown_stream" || ev.code === "cookie") {
                // the server restarted or forgot it, or (another machine) wants a fresh cookie, which
                // the device's heartbeat brings: open again, at most once per bar sent
                if (this.enabled && this.playing && this.reopenAt !== this.stats.sent) {
                    this.reopenAt = this.stats.sent;
                    var next = this.nextBar;
                    this.startStream(this.beat);
                    this.nextBar = next;
                }
            } else if (ev.code === "busy") {
                this.stats.dropped++;
            } else {
                this.fail(ev.code + ": " + ev.message);
            }
        } else if (ev.type === "warning") {
            this.host.report("warning: " + ev.message, false);
        }
    };

    /** An answer: hand it over to Max's scheduler at once, where its bar is, against a fresh reading. */
    Play.prototype.answer = function (a) {
        var target = this.targets[a.bar];
        if (!target) { this.stats.dropped++; return; }     // its bar was abandoned (stop, jump, meter)
        delete this.targets[a.bar];
        this.stats.answered++;
        this.stats.lastRtt = this.host.now() - target.sentAt;
        this.notes.handOver(target.start, target.start + this.bpb(), a.notes, this.freshBeat());
    };

    // ---- the answers in Max's scheduler (qbdi_schedule.js) -------------------------------------
    /** The patch's fresh [transport] reading for this message (ticks), or null once it is handled. */
    Play.prototype.setFresh = function (ticks) {
        var t = Number(ticks);
        this.fresh = ticks === null || !isFinite(t) ? null : Math.max(0, t / Y.TICKS_PER_BEAT);
    };

    /** The song position now: the fresh reading, else the last one the clock brought. */
    Play.prototype.freshBeat = function () { return this.fresh !== null ? this.fresh : this.beat; };

    /** Clear what is pending and end every answer note sounding at `now`; `stopping`: All Notes Off too. */
    Play.prototype.silence = function (stopping, now, running) {
        return this.notes.silence(stopping, this.enabled, now === undefined ? this.freshBeat() : now, !!running);
    };

    Play.prototype.clearPlayed = function () {
        this.done = [];
        this.held = {};
    };

    // ---- the transport ------------------------------------------------------------------------
    Play.prototype.clock = function (grid, playing, ticks, tempo, num, den) {
        var t = Number(ticks);
        if (!isFinite(t)) { return; }
        if (grid) {      // the grid metro's ticks are on Live's 32nd grid: undo float noise
            var g = Math.round(t / Y.GRID_TICKS) * Y.GRID_TICKS;
            if (Math.abs(g - t) < Y.GRID_TICKS / 4) { t = g; }
        }
        var beat = Math.max(0, t / Y.TICKS_PER_BEAT);
        if (Number(tempo) > 0) { this.tempo = Number(tempo); }
        num = Math.round(Number(num)) || this.num;
        den = Math.round(Number(den)) || this.den;
        if (!Number(playing)) {
            if (this.playing) {
                this.playing = false;
                this.silence(true, beat, false);      // stopped: the pipes in ticks stand still
                this.closeStream();
                this.clearPlayed();
            }
            this.num = num;
            this.den = den;
            return;
        }
        if (!this.playing) {                     // transport start: a fresh stream from here
            this.playing = true;
            this.num = num;
            this.den = den;
            this.anchorBeat = 0;
            this.anchorBar = 0;
            this.beat = beat;
            this.clearPlayed();
            if (this.enabled) { this.startStream(beat); }
        } else if (num !== this.num || den !== this.den) {
            this.meter(beat, num, den);
        } else if (beat < this.beat - Y.JUMP_BACK) {
            this.jump(beat, true);
        } else if (this.enabled && this.session && this.barAt(beat) > this.nextBar + 1) {
            this.jump(beat, false);
        }
        if (beat > this.beat) { this.beat = beat; }
        if (!this.enabled) { return; }
        this.sendDue(this.beat);
    };

    /** The meter changed: the bar under way is the first of the new meter; the server starts afresh. */
    Play.prototype.meter = function (beat, num, den) {
        var start = this.barStart(this.barAt(beat));
        this.anchorBar = this.barAt(beat);
        this.anchorBeat = start;
        this.num = num;
        this.den = den;
        this.beat = beat;
        if (!this.enabled) { return; }
        this.silence(false, beat, true);
        this.targets = {};
        var problem = this.meterProblem();
        if (problem) { this.closeStream(); this.fail(problem); return; }
        if (!this.session) { this.startStream(beat); return; }
        this.nextBar = this.anchorBar;
        this.settingsChanged();
    };

    /** A jump in the song (a loop back, a relocate): what was scheduled is dropped, the stream keeps
     *  its history and carries on from the bar the transport is in. */
    Play.prototype.jump = function (beat, back) {
        this.silence(false, this.beat, true);     // played up to the last position heard before the jump
        this.beat = beat;
        this.targets = {};
        this.nextBar = this.barAt(beat);
        if (back) {
            this.done = [];
            for (var p in this.held) { if (this.held.hasOwnProperty(p)) { this.held[p].start = beat; } }
        }
    };

    // ---- what is played into the track -------------------------------------------------------
    Play.prototype.note = function (pitch, velocity, ticks) {
        pitch = Math.round(Number(pitch));
        velocity = Math.round(Number(velocity));
        if (!(pitch >= 0 && pitch <= 127)) { return; }
        if (velocity > 0) {
            this.pressed[pitch] = (this.pressed[pitch] || 0) + 1;
        } else if (this.pressed[pitch] > 0) {
            if (--this.pressed[pitch] === 0) {
                delete this.pressed[pitch];
                var at = Number(ticks) / Y.TICKS_PER_BEAT;
                this.notes.keyReleased(pitch, isFinite(at) ? Math.max(at, this.beat) : this.beat);   // the offs it withheld
            }
        }
        if (!this.enabled || !this.playing) { return; }
        var beat = Math.max(0, Number(ticks) / Y.TICKS_PER_BEAT);
        if (!isFinite(beat)) { beat = this.beat; }
        var held = this.held[pitch];
        if (held) {                              // released, or struck again while held
            delete this.held[pitch];
            this.done.push({ pitch: pitch, start: held.start, duration: Math.max(0, beat - held.start), velocity: held.velocity });
        }
        if (velocity > 0) { this.held[pitch] = { start: beat, velocity: velocity }; }
    };

    // ---- the end --------------------------------------------------------------------------------
    /** The device is removed or the set closed. */
    Play.prototype.shutdown = function () {
        this.silence(true, this.freshBeat(), this.playing);
        this.closeStream();
        this.enabled = false;
    };

    Play.prototype.fail = function (message) {
        if (message === this.failure) { return; }         // once, not once a bar
        this.failure = message;
        this.host.report(message, true);
    };

    /** One line for the status bar ("" while off). */
    Play.prototype.summary = function () {
        if (!this.enabled) { return ""; }
        if (!this.playing) { return "▶ Play Along: waiting for Live's transport"; }
        var bar = this.barAt(this.beat) + 1;
        return "▶ bar " + bar + " · " + this.stream.mode + " · " + this.tempo.toFixed(0) + " BPM · " +
               this.num + "/" + this.den + (this.stats.lastRtt !== null ? " · " + Math.round(this.stats.lastRtt) + " ms" : "");
    };

    /** Answer notes sounding now (0 after stop: nothing hangs). */
    Play.prototype.soundingCount = function () { return this.notes.soundingCount(this.freshBeat()); };

    Y.create = function (P, host, S) { return new Play(P, host, S); };
    Y.Play = Play;
    return Y;
}());

// Export for Max's CommonJS-style require() and Node; under include() the global `qbdiPlay` is used.
if (typeof exports === "object" && exports !== null) {
    (function () {
        for (var key in qbdiPlay) {
            if (qbdiPlay.hasOwnProperty(key)) { exports[key] = qbdiPlay[key]; }
        }
    }());
}
