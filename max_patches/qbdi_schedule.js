// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
/*
 * qbdi_schedule.js -- Play Along's hand-over: js decides, Max's scheduler plays.
 *
 * [js] runs on Max's low-priority queue (Live's main thread): "By default, the js object executes
 * all Javascript code in the low-priority thread ... Immediate mode has been deprecated as of Max
 * version 6.0" (https://docs.cycling74.com/max7/vignettes/jsthreading). So no note leaves from
 * here at the moment it sounds. When an answer arrives (before the bar it plays in), every one of
 * its note-ons and note-offs is handed over ONCE, with its target song position turned into a
 * tempo-relative delay against a fresh [transport] reading (the patch stamps every reply with one):
 *     delay (ticks) = target - now
 * sent to a [pipe] as "delaytime D ticks" then the 3 bytes. A [pipe] fed from the low-priority
 * queue outputs on the scheduler thread ("connect the button to a delay object, the bang output of
 * the delay will be scheduled", https://docs.cycling74.com/max8/vignettes/audio_sampleaccurate),
 * and its delay "can be either fixed or tempo-relative" (https://docs.cycling74.com/reference/pipe),
 * so a note lands on its tick whatever Live's UI does, and tempo changes during the wait are
 * followed. A note-on already late against the fresh reading is dropped here, never played off
 * the grid. On stop, jump, meter change and toggle off, the pipes get "clear" and exactly the
 * offs owed (notes whose on has left and whose off has not) go out at once.
 *
 * The patch (build_patches.py, play_along) routes this script's MIDI outlet by its first word:
 *   m ...  [pipe 0 0 0 0 @delaytime 0 ticks]  the answers' notes, tempo-relative
 *   t ...  the same, for the offs on the answer's bar line only: a tie into the next answer
 *          clears this pipe alone and hands its offs over again (the one re-hand-over)
 *   n ...  [pipe 0 0 0 0] (0 ms, fixed: runs with the transport stopped, where a pipe in ticks
 *          "will not operate", same page): offs owed now, All Notes Off, Input-mute offs
 * Each pipe -> [pack 0 0 0] -> the one [midiout] that the pass-through [gate] also feeds: both
 * streams leave from the scheduler thread, each message as one 3-byte list (no [iter]).
 * At equal ticks the offs are handed over first, into the same pipe as the ons. Two pipes do not
 * promise an order between them, so a note-on never shares its tick with an off of its pitch
 * waiting in the bar-line pipe: that off moves into the ons' pipe (when there is time to clear),
 * else the on leaves one tick later (1 ms at 120 BPM).
 *
 * The rules, the same as bridge/jam/player.py: every note-on gets its note-off; overlapping answer
 * notes of one pitch end together when the last one ends; a note continued into the next answer
 * (negative start) keeps ringing; an answer's off waits while a key passed through the gate holds
 * the pitch. The last is decided at hand-over (a key held then withholds the off, handed over when
 * the key is released); a key pressed after the hand-over cannot stop an off already in the pipe
 * (docs/DEVICE.md, "What only Live can confirm").
 *
 * ES5 (Max 8's [js]). Loaded by qbdi_device.js with require("qbdi_schedule") (or include), given
 * to qbdi_play.js, whose Play object owns one:
 *   var notes = new qbdiSchedule.Scheduler(host, stats, channel);
 * host: send(message)     ["m"|"t"|"n", ...] out of the device's MIDI outlet
 *       keyHeld(pitch)    whether a key passed through to the output holds `pitch` now
 * stats: {skipped, notesOut, handedOver}, counted up here (Play's stats object)
 * channel: the MIDI channel, 0-based
 */

var qbdiSchedule = (function () {
    "use strict";

    var Y = {};
    Y.TICKS_PER_BEAT = 480;       // [transport]'s resolution: the shortest note is one tick
    Y.TIE_GUARD = 1 / 32;         // beats: a tie clears the bar-line pipe only this long before its offs leave
    Y.CLEAR_GUARD = 1 / 16;       // beats: while the transport runs, a note-on due this soon after the reading
                                  // may leave before "clear" arrives: it is owed its off too (a spare off is harmless)
    Y.LATER = "m";
    Y.BAR_LINE = "t";
    Y.NOW = "n";
    var NOTE_ON = 0x90, NOTE_OFF = 0x80, CONTROL = 0xB0, ALL_NOTES_OFF = 123;
    var TICK = 1 / Y.TICKS_PER_BEAT;
    var EPS = 1e-6;

    function Scheduler(host, stats, channel) {
        this.host = host;
        this.stats = stats;
        this.channel = channel || 0;
        // notes handed over: {pitch, velocity, on, off (beats), offIn: "m"|"t" (its pipe) or "key"
        // (withheld while a key holds the pitch)}
        this.notes = [];
    }

    function ticks(beats) { return Math.round(beats * Y.TICKS_PER_BEAT * 1000) / 1000; }

    /** One event into a pipe: its delay in ticks from `now`, then its bytes. */
    Scheduler.prototype.give = function (pipe, at, bytes, now) {
        this.host.send([pipe, "delaytime", Math.max(0, ticks(at - now)), "ticks"]);
        this.host.send([pipe].concat(bytes));
    };

    Scheduler.prototype.off = function (pitch) { return [NOTE_OFF | this.channel, Number(pitch), 0]; };

    /** Forget notes that are over by `now` (their off has left). */
    Scheduler.prototype.forget = function (now) {
        this.notes = this.notes.filter(function (n) { return n.offIn === "key" || n.off > now + EPS; });
    };

    /**
     * An answer for the bar [barStart, barEnd) (beats), its notes in beats from barStart, `now`
     * the fresh song position: hand every event over, once.
     */
    Scheduler.prototype.handOver = function (barStart, barEnd, notes, now) {
        var self = this;
        this.forget(now);
        var list = notes.slice(0).sort(function (a, b) { return a.start - b.start || a.pitch - b.pitch; });
        var fresh = [];
        var retied = false;
        for (var i = 0; i < list.length; i++) {
            var n = list[i];
            var on = barStart + n.start;
            var off = barStart + n.start + n.duration;
            if (n.start < 0) {                   // continues a note of the previous answer
                var q = this.tieable(n.pitch, barStart, now);
                if (q) { q.off = Math.max(off, barStart + TICK); q.offIn = "retie"; retied = true; continue; }
                on = barStart;                   // cannot tie: strike it on the downbeat
            }
            if (on < now - EPS) { this.stats.skipped++; continue; }
            fresh.push({ pitch: n.pitch, velocity: Math.max(1, Math.min(127, Math.round(n.velocity))),
                         on: on, off: Math.max(off, on + TICK), offIn: "" });
        }
        this.together(fresh);
        var events = [];
        // a pitch the last answer ends on the bar line and this one strikes there: its off moves to the
        // same pipe as the on (offs first), so the order of the two pipes does not matter
        var restruck = now < barStart - Y.TIE_GUARD && fresh.some(function (f) {
            return Math.abs(f.on - barStart) < EPS && self.offAt(f.pitch, barStart);
        });
        if (retied || restruck) {
            // the bar line's offs not tied go over again, after "clear" (none has left: now is before them)
            this.host.send([Y.BAR_LINE, "clear"]);
            for (var r = 0; r < this.notes.length; r++) {
                var m = this.notes[r];
                if (m.offIn !== "t" && m.offIn !== "retie") { continue; }
                m.offIn = this.offPipe(m, barEnd);
                if (m.offIn !== "key") { events.push({ pipe: m.offIn, at: m.off, bytes: this.off(m.pitch), kind: 0 }); }
            }
        }
        for (var k = 0; k < fresh.length; k++) {
            var f = fresh[k];
            f.offIn = this.offPipe(f, barEnd);
            this.notes.push(f);
            if (f.offIn !== "key") { events.push({ pipe: f.offIn, at: f.off, bytes: this.off(f.pitch), kind: 0 }); }
        }
        for (k = 0; k < fresh.length; k++) {
            f = fresh[k];
            while (this.offAt(f.pitch, f.on)) { f.on += TICK; }     // never the tick of an off of its pitch in the other pipe
            events.push({ pipe: Y.LATER, at: f.on, bytes: [NOTE_ON | this.channel, f.pitch, f.velocity], kind: 1 });
            this.stats.notesOut++;
        }
        events.sort(function (a, b) { return a.at - b.at || a.kind - b.kind; });
        events.forEach(function (e) { self.give(e.pipe, e.at, e.bytes, now); self.stats.handedOver++; });
    };

    /** The pending bar-line off of `pitch` at `barStart` a continuation can still take over. */
    Scheduler.prototype.tieable = function (pitch, barStart, now) {
        if (now >= barStart - Y.TIE_GUARD) { return null; }
        for (var i = 0; i < this.notes.length; i++) {
            var n = this.notes[i];
            if (n.pitch === pitch && (n.offIn === "t" || n.offIn === "retie") && Math.abs(n.off - barStart) < EPS) { return n; }
        }
        return null;
    };

    /** Overlapping notes of one pitch (these and those still sounding) end together, at the last end. */
    Scheduler.prototype.together = function (fresh) {
        var all = this.notes.concat(fresh).sort(function (a, b) { return a.pitch - b.pitch || a.on - b.on; });
        var group = [];
        var end = -Infinity;
        function close() {
            if (group.length > 1) { group.forEach(function (g) { if (g.offIn === "" || g.offIn === "retie") { g.off = end; } }); }
            group = [];
        }
        for (var i = 0; i < all.length; i++) {
            var n = all[i];
            if (group.length && (n.pitch !== group[0].pitch || n.on >= end - EPS)) { close(); end = -Infinity; }
            group.push(n);
            end = Math.max(end, n.off);
        }
        close();
    };

    Scheduler.prototype.offPipe = function (n, barEnd) {
        if (this.host.keyHeld(n.pitch)) { return "key"; }
        return Math.abs(n.off - barEnd) < EPS ? Y.BAR_LINE : Y.LATER;
    };

    /** Whether an off of `pitch` at `at` waits in the bar-line pipe (another pipe than the ons'). */
    Scheduler.prototype.offAt = function (pitch, at) {
        for (var i = 0; i < this.notes.length; i++) {
            var n = this.notes[i];
            if (n.pitch === pitch && n.offIn === Y.BAR_LINE && Math.abs(n.off - at) < EPS) { return true; }
        }
        return false;
    };

    /** The last key holding `pitch` was released at `now`: the offs it withheld go over (at once if due). */
    Scheduler.prototype.keyReleased = function (pitch, now) {
        for (var i = 0; i < this.notes.length; i++) {
            var n = this.notes[i];
            if (n.pitch !== pitch || n.offIn !== "key") { continue; }
            if (n.off <= now + EPS) {
                this.host.send([Y.NOW].concat(this.off(pitch)));
                n.offIn = Y.NOW;
                n.off = now;
            } else {
                n.offIn = Y.LATER;
                this.give(Y.LATER, n.off, this.off(pitch), now);
            }
        }
        this.forget(now);
    };

    /**
     * Clear the pipes; a note-off now for every note whose on has left (by `now`, the fresh song
     * position) and whose off has not; then, when the music stops (`stopping`), All Notes Off:
     * always while `always` (Play Along is on), else only when offs were owed. `running`: the
     * transport still runs, so a note-on due within CLEAR_GUARD may leave before the clear. A
     * jump or a meter change sends only the offs, so a key held through the gate keeps sounding.
     * Returns the offs sent.
     */
    Scheduler.prototype.silence = function (stopping, always, now, running) {
        this.host.send([Y.LATER, "clear"]);
        this.host.send([Y.BAR_LINE, "clear"]);
        var guard = running ? Y.CLEAR_GUARD : 0;
        var sent = 0;
        for (var i = 0; i < this.notes.length; i++) {
            var n = this.notes[i];
            var onLeft = n.on <= now + guard + EPS;
            var offLeft = n.offIn !== "key" && n.off <= now + EPS;
            if (onLeft && !offLeft) { this.host.send([Y.NOW].concat(this.off(n.pitch))); sent++; }
        }
        this.notes = [];
        if (stopping && (always || sent)) { this.host.send([Y.NOW, CONTROL | this.channel, ALL_NOTES_OFF, 0]); }
        return sent;
    };

    /** Answer notes sounding at `now` (their on has left, their off has not). */
    Scheduler.prototype.soundingCount = function (now) {
        var c = 0;
        for (var i = 0; i < this.notes.length; i++) {
            var n = this.notes[i];
            if (n.on <= now + EPS && (n.offIn === "key" || n.off > now + EPS)) { c++; }
        }
        return c;
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
