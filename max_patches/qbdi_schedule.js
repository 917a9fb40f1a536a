// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
/*
 * qbdi_schedule.js -- Play Along's note scheduler: an answer's notes become note-ons and note-offs
 * at song positions (in beats), sent when the transport reaches them; every note-on gets its
 * note-off. Per pitch it counts the answer notes sounding and the offs held back while another
 * answer note or a key passed through holds the pitch. The same rules as bridge/player.py.
 *
 * ES5 (Max 8's [js]). Loaded by qbdi_device.js with require("qbdi_schedule") (or include), given
 * to qbdi_play.js, whose Play object owns one:
 *   var notes = new qbdiSchedule.Scheduler(host, stats, channel);
 * host: midi(bytes)      [status, data1, data2] out of the device's [midiout]
 *       keyHeld(pitch)   whether a key passed through to the output holds `pitch` now
 * stats: {skipped, notesOut}, counted up here (Play's stats object)
 * channel: the MIDI channel, 0-based
 */

var qbdiSchedule = (function () {
    "use strict";

    var Y = {};
    Y.TICKS_PER_BEAT = 480;       // [transport]'s resolution: the shortest note is one tick
    Y.LATE_ON = 0.125;            // a note-on found more than a 32nd late is skipped, never played off the grid
    var NOTE_ON = 0x90, NOTE_OFF = 0x80, CONTROL = 0xB0, ALL_NOTES_OFF = 123;
    var ON = 1, OFF = 0;
    var EPS = 1e-6;

    function Scheduler(host, stats, channel) {
        this.host = host;
        this.stats = stats;
        this.channel = channel || 0;
        this.events = [];              // scheduled {beat, kind, seq, pitch, velocity, cancelled, off}
        this.seq = 0;
        this.answerOff = {};           // pitch -> the pending off of the answer note sounding
        this.sounding = {};            // pitch -> answer note-ons sent and not yet ended
        this.deferred = {};            // pitch -> note-offs held back while a key or another answer holds it
    }

    Scheduler.prototype.push = function (beat, kind, pitch, velocity) {
        var ev = { beat: beat, kind: kind, seq: this.seq++, pitch: pitch, velocity: velocity, cancelled: false, off: null };
        var i = this.events.length;
        while (i > 0 && order(this.events[i - 1], ev) > 0) { i--; }
        this.events.splice(i, 0, ev);
        return ev;
    };
    function order(a, b) { return a.beat - b.beat || a.kind - b.kind || a.seq - b.seq; }

    /** Notes in beats from barStart, `now` the song position. Late notes are skipped, never played off the grid. */
    Scheduler.prototype.schedule = function (barStart, notes, now) {
        var list = notes.slice(0).sort(function (a, b) { return a.start - b.start || a.pitch - b.pitch; });
        for (var i = 0; i < list.length; i++) {
            var n = list[i];
            var on = barStart + n.start;
            var off = barStart + n.start + n.duration;
            if (n.start < 0) {                   // continues a note of the previous answer
                var pending = this.answerOff[n.pitch];
                if (pending && !pending.cancelled && Math.abs(pending.beat - barStart) < EPS && now < barStart - EPS) {
                    pending.cancelled = true;
                    this.answerOff[n.pitch] = this.push(off, OFF, n.pitch, 0);
                    continue;
                }
                on = barStart;                   // cannot tie: strike it on the downbeat
            }
            if (on < now - EPS) { this.stats.skipped++; continue; }
            var ev = this.push(on, ON, n.pitch, n.velocity);
            ev.off = this.push(Math.max(off, on + 1 / Y.TICKS_PER_BEAT), OFF, n.pitch, 0);
            this.answerOff[n.pitch] = ev.off;
        }
    };

    /** Send what is due at `beat`. */
    Scheduler.prototype.fire = function (beat) {
        while (this.events.length && this.events[0].beat <= beat + EPS) {
            var ev = this.events.shift();
            if (ev.cancelled) { continue; }
            if (this.answerOff[ev.pitch] === ev) { delete this.answerOff[ev.pitch]; }
            if (ev.kind === ON) {
                if (beat - ev.beat > Y.LATE_ON) {
                    this.stats.skipped++;
                    if (ev.off) { ev.off.cancelled = true; if (this.answerOff[ev.pitch] === ev.off) { delete this.answerOff[ev.pitch]; } }
                    continue;
                }
                this.noteOn(ev.pitch, ev.velocity);
            } else {
                this.noteOff(ev.pitch);
            }
        }
    };

    Scheduler.prototype.noteOn = function (pitch, velocity) {
        this.sounding[pitch] = (this.sounding[pitch] || 0) + 1;
        this.stats.notesOut++;
        this.host.midi([NOTE_ON | this.channel, pitch, Math.max(1, Math.min(127, Math.round(velocity)))]);
    };

    /** An answer note ends. While another answer note or a key passed through holds the pitch, its
     *  off waits, so the other is not cut; they all go when the last one ends. */
    Scheduler.prototype.noteOff = function (pitch) {
        var left = (this.sounding[pitch] || 0) - 1;
        if (left < 0) { return; }
        if (left > 0 || this.host.keyHeld(pitch)) {
            this.deferred[pitch] = (this.deferred[pitch] || 0) + 1;
            if (left > 0) { this.sounding[pitch] = left; } else { delete this.sounding[pitch]; }
            return;
        }
        delete this.sounding[pitch];
        this.sendOffs(pitch, 1 + (this.deferred[pitch] || 0));
        delete this.deferred[pitch];
    };

    /** The last key holding `pitch` was released: the answer's offs that waited for it go now. */
    Scheduler.prototype.keyReleased = function (pitch) {
        if (this.deferred[pitch] && !this.sounding[pitch]) {
            this.sendOffs(pitch, this.deferred[pitch]);
            delete this.deferred[pitch];
        }
    };

    Scheduler.prototype.sendOffs = function (pitch, count) {
        for (var i = 0; i < count; i++) { this.host.midi([NOTE_OFF | this.channel, Number(pitch), 0]); }
    };

    /** Forget the schedule; a note-off for every answer note still on (and every off held back),
     *  then, when the music stops (`stopping`), All Notes Off: always while `always` (Play Along
     *  is on), else only when offs were owed. A jump or a meter change sends only the offs, so a
     *  key held through the gate keeps sounding. */
    Scheduler.prototype.silence = function (stopping, always) {
        var owed = false;
        this.events = [];
        this.answerOff = {};
        var p;
        for (p in this.sounding) {
            if (this.sounding.hasOwnProperty(p)) { this.sendOffs(p, this.sounding[p] + (this.deferred[p] || 0)); owed = true; }
        }
        for (p in this.deferred) {
            if (this.deferred.hasOwnProperty(p) && !this.sounding.hasOwnProperty(p)) { this.sendOffs(p, this.deferred[p]); owed = true; }
        }
        this.sounding = {};
        this.deferred = {};
        if (stopping && (always || owed)) { this.host.midi([CONTROL | this.channel, ALL_NOTES_OFF, 0]); }
    };

    /** Notes sounding from the answers now (0 after stop: nothing hangs). */
    Scheduler.prototype.soundingCount = function () {
        var n = 0;
        for (var p in this.sounding) { if (this.sounding.hasOwnProperty(p)) { n += this.sounding[p]; } }
        return n;
    };

    Y.Scheduler = Scheduler;
    return Y;
}());

// Export for Max's CommonJS-style require() and Node; under include() the global `qbdiSchedule` is used.
if (typeof exports === "object" && exports !== null) {
    (function () {
        for (var key in qbdiSchedule) {
            if (qbdiSchedule.hasOwnProperty(key)) { exports[key] = qbdiSchedule[key]; }
        }
    }());
}
