// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// A stand-in for Live's transport as the device's patch delivers it (build_patches.py, play_along):
// [metro 32n @quantize 32n @active 1] -> [transport] -> "clock 1 PLAYING TICKS TEMPO NUM DEN" on
// every 32nd note while Live plays, [metro 50 @active 1] -> "clock 0 ..." every 50 ms of song time
// (running or not), and [midiin] -> [midiparse] -> "note PITCH VELOCITY TICKS" stamped with the
// song time. TICKS are [transport]'s: beats x 480. Time is simulated: advance() moves the song
// position and sends what the metros would have sent on the way.
// It also stands in for the patch's scheduler side: the script's outlet 6 -> [route m t n] ->
// two [pipe 0 0 0 0 @delaytime 0 ticks] (m, t) and a [pipe 0 0 0 0] of 0 ms (n) -> [pack 0 0 0]
// -> [midiout]. "delaytime D ticks" sets a pipe's delay, a 3-number list is held D ticks of song
// time (a pipe in ticks "will not operate unless the transport is running",
// https://docs.cycling74.com/reference/pipe: it stands still while stopped), "clear" forgets what
// a pipe holds; the 0 ms pipe plays at once. Every hand-over is logged (pipe, the song position it
// was handed over at, its target in ticks, its bytes), and every MIDI message that leaves
// [midiout] with the song position it left at.
"use strict";

const TICKS = 480;
const GRID = 0.125;          // beats: a 32nd note
const POLL_MS = 50;

class FakeTransport {
  /** script: a loadMaxScript() result (or anything with send(selector, ...args)). */
  constructor(script, { tempo = 120, num = 4, den = 4 } = {}) {
    this.script = script;
    this.tempo = tempo;
    this.num = num;
    this.den = den;
    this.playing = false;
    this.beat = 0;
    this.nextPoll = 0;
    this.midi = [];            // {beat, bytes, pipe}: what left [midiout]
    this.handovers = [];       // {pipe, beat, target (ticks), bytes}: what the script gave the pipes
    this.clears = [];          // {pipe, beat}
    this.pipes = { m: { delay: 0, held: [] }, t: { delay: 0, held: [] } };
    this.seq = 0;
  }

  /** The onOutlet hook: call from loadMaxScript's onOutlet (n, args). */
  onOutlet(n, args) {
    if (n !== 6) return;
    const [route, ...rest] = args;
    if (route === "n") {
      if (rest.length !== 3) throw new Error(`[pipe 0 0 0 0] got ${rest.join(" ")}`);
      this.midi.push({ beat: this.beat, bytes: rest, pipe: "n" });
      return;
    }
    const pipe = this.pipes[route];
    if (!pipe) throw new Error(`[route m t n] has no outlet for '${route}'`);
    if (rest[0] === "delaytime") {
      if (rest[2] !== "ticks" || !(rest[1] >= 0)) throw new Error(`bad delaytime ${rest.join(" ")}`);
      pipe.delay = rest[1];
    } else if (rest[0] === "clear") {
      pipe.held = [];
      this.clears.push({ pipe: route, beat: this.beat });
    } else if (rest.length === 3 && rest.every((x) => typeof x === "number")) {
      const due = this.beat + pipe.delay / TICKS;
      pipe.held.push({ due, seq: this.seq++, bytes: rest });
      this.handovers.push({ pipe: route, beat: this.beat, target: this.beat * TICKS + pipe.delay, bytes: rest });
    } else {
      throw new Error(`[pipe] cannot take ${rest.join(" ")}`);
    }
  }

  /** The next held pipe event, by due time then arrival (across both pipes). */
  nextHeld() {
    let best = null;
    for (const name of ["m", "t"]) {
      for (const h of this.pipes[name].held) {
        if (!best || h.due < best.h.due - 1e-9 || (Math.abs(h.due - best.h.due) < 1e-9 && h.seq < best.h.seq)) best = { name, h };
      }
    }
    return best;
  }

  /** Play what the pipes hold up to `beat` (only while the transport runs). */
  release(beat) {
    for (let next = this.nextHeld(); next && next.h.due <= beat + 1e-9; next = this.nextHeld()) {
      const pipe = this.pipes[next.name];
      pipe.held.splice(pipe.held.indexOf(next.h), 1);
      this.midi.push({ beat: next.h.due, bytes: next.h.bytes, pipe: next.name });
    }
  }

  /** Events the pipes hold now. */
  pending() { return this.pipes.m.held.length + this.pipes.t.held.length; }

  /** A server reply reaching the script as the patch delivers it: [udpreceive] -> [t a b]: a fresh
   *  [transport] reading ("stamp 0 PLAYING TICKS") first, then the message. */
  reply(address, ...args) {
    this.script.send("stamp", 0, this.playing ? 1 : 0, this.beat * TICKS);
    return this.script.send(address, ...args);
  }

  /** A Play Along toggle change, stamped the same way. */
  toggle(on) {
    this.script.send("stamp", 0, this.playing ? 1 : 0, this.beat * TICKS);
    return this.script.send("play_along", on ? 1 : 0);
  }

  clock(grid) {
    const m = this.meterChange;
    if (m && this.beat >= m.at - 1e-9) { this.num = m.num; this.den = m.den; this.meterChange = null; }
    this.script.send("clock", grid ? 1 : 0, this.playing ? 1 : 0, this.beat * TICKS, this.tempo, this.num, this.den);
  }

  pollBeats() { return POLL_MS / 60000 * this.tempo; }

  /** Press Play at `beat` (Live starts on its grid). */
  start(beat = 0) {
    this.beat = beat;
    this.playing = true;
    this.nextPoll = beat;
    this.clock(true);
  }

  /** Press Stop: the grid metro stops; the next poll reports it. */
  stop() {
    this.playing = false;
    this.clock(false);
  }

  /** Move the song position to `beat`, sending every grid tick and poll on the way (in order). */
  advance(beat) {
    if (!this.playing) { this.beat = beat; this.clock(false); return; }
    const eps = 1e-9;
    let nextGrid = Math.floor(this.beat / GRID + eps) * GRID + GRID;
    while (true) {
      const poll = Math.max(this.nextPoll, this.beat + eps);
      const onGrid = nextGrid - poll < eps;
      const t = onGrid ? nextGrid : poll;
      if (t > beat + eps) break;
      this.release(t);          // the scheduler plays what is due first
      this.beat = t;
      if (onGrid) { this.clock(true); nextGrid += GRID; }
      if (poll - t < eps) { this.clock(false); this.nextPoll = t + this.pollBeats(); }
    }
    this.release(beat);
    this.beat = Math.max(this.beat, beat);
  }

  /** A jump of the song position (a loop back, a click in the timeline) while playing. */
  locate(beat) {
    this.beat = beat;
    this.nextPoll = beat;
    this.clock(true);
  }

  setTempo(bpm) { this.tempo = bpm; this.clock(false); }

  /** A time signature change at `at` (a bar line; default now): clocks from there report it. */
  setMeter(num, den, at = this.beat) {
    this.meterChange = { num, den, at };
    if (at <= this.beat) this.clock(false);
  }

  /** A key played into the track now (velocity 0: released). */
  key(pitch, velocity) {
    this.script.send("note", pitch, velocity, this.beat * TICKS);
  }

  /** The MIDI out as notes: [{pitch, on, off, velocity}] by matching note-ons and note-offs. */
  notes() {
    const open = {};
    const out = [];
    for (const { beat, bytes } of this.midi) {
      const [status, pitch, velocity] = bytes;
      if ((status & 0xf0) === 0x90 && velocity > 0) {
        (open[pitch] = open[pitch] || []).push({ pitch, on: beat, velocity });
      } else if ((status & 0xf0) === 0x80 || ((status & 0xf0) === 0x90 && velocity === 0)) {
        const started = (open[pitch] || []).shift();
        if (started) out.push(Object.assign(started, { off: beat }));
      }
    }
    return out.sort((a, b) => a.on - b.on || a.pitch - b.pitch);
  }

  /** Note-ons minus note-offs per pitch, for the pitches that are not balanced. */
  hanging() {
    const count = {};
    for (const { bytes } of this.midi) {
      const [status, pitch, velocity] = bytes;
      if ((status & 0xf0) === 0x90 && velocity > 0) count[pitch] = (count[pitch] || 0) + 1;
      else if ((status & 0xf0) === 0x80 || (status & 0xf0) === 0x90) count[pitch] = (count[pitch] || 0) - 1;
    }
    const out = {};
    for (const p of Object.keys(count)) if (count[p] > 0) out[p] = count[p];
    return out;
  }

  /** Whether All Notes Off (CC 123) went out after the last note-on. */
  allNotesOffLast() {
    let lastOn = -1;
    let lastCc = -1;
    this.midi.forEach(({ bytes }, i) => {
      if ((bytes[0] & 0xf0) === 0x90 && bytes[2] > 0) lastOn = i;
      if ((bytes[0] & 0xf0) === 0xb0 && bytes[1] === 123) lastCc = i;
    });
    return lastCc > lastOn;
  }
}

module.exports = { FakeTransport, TICKS, GRID };
