// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// End to end: the device's Play Along (qbdi_device.js + qbdi_play.js) driven by a stand-in of
// Live's transport (helpers/transport.js: simulated song time, as the patch's metros and
// [transport] deliver it), over real UDP, against a real `python -m bridge serve`. Notes come out
// of the device's MIDI output at the transport positions of the bar after the one played, on the
// 16th grid; in echo at full rate they are what `qbdi improvise` gives for the same bars; at a
// lower rate they are what bridge.stream gives, the same on every run; a late answer is trimmed
// and a lost one costs only its bar; tempo and meter changes; no note left on after stop.
// Simulated time waits for each answer at the moment it is due (a 32nd before its bar), as Live's
// clock would keep running while the server answers in a few ms; waits are generous for a loaded machine.
// Needs QBDI_PYTHON (and optionally QBDI_MODEL); run through pytest tests/max_patches/test_max_e2e.py.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");

const P = require("../../../max_patches/qbdi_protocol.js");
const { loadMaxScript } = require("../helpers/maxjs.js");
const { FakeLive } = require("../helpers/fake_live.js");
const { MaxUdp, answerPortProbes } = require("../helpers/udp.js");
const { FakeTransport } = require("../helpers/transport.js");
const { startRealServer, reference, streamReference, rows } = require("./real_server.js");

const WAIT_MS = 30000;

let server;
const rigs = [];          // every device's sockets, closed at the end whatever happened
test.before(async () => { server = await startRealServer(); });
test.after(async () => {
  rigs.forEach((udp) => udp.close());
  if (server) await server.stop();
});

/** The device on a track, wired to UDP and to the transport stand-in; `filter` may drop replies. */
async function device({ filter } = {}) {
  const live = new FakeLive();
  live.addTrack({ slots: 4 });
  live.addDevice(0);
  const udp = new MaxUdp({ sendOutlet: 0, receiveOutlet: 3, port: server.port });
  let transport = null;
  const dev = loadMaxScript("qbdi_device.js", { LiveAPI: live.LiveAPI,
    onOutlet: (n, a) => { udp.onOutlet(n, a); if (transport) transport.onOutlet(n, a); } });
  transport = new FakeTransport(dev);
  const received = [];
  udp.attach({ send: (address, ...args) => {
    if (filter && filter(address, args)) return undefined;
    received.push([address, ...args]);
    return transport.reply(address, ...args);      // stamped with a fresh reading, as the patch does
  } });
  dev.send("server_port", server.port);
  dev.send("init");
  await answerPortProbes(dev);
  rigs.push(udp);
  await udp.waitFor(() => dev.out(2).some((m) => m[0] === 1), WAIT_MS, "pong from the real server")
    .catch((e) => { throw new Error(`${e.message} (reply port ${udp.receivePort}, bind error ${udp.bindError}); ` +
                                    `the server said:\n${server.stderr().slice(-3000)}`); });
  return { dev, udp, t: transport, received, play: () => dev.context.play };
}

/**
 * Play `notes` (absolute beats; {pitch, start, duration, velocity}) on the transport up to `end`,
 * waiting at each bar's send point for its answer unless `skip(bar)` (a stream bar whose answer
 * is made late or lost). `at` maps beats to actions (tempo, meter, a held answer let through).
 */
async function perform(rig, notes, end, { skip = () => false, at = {} } = {}) {
  const { t, udp, play } = rig;
  const keys = [];
  for (const n of notes) {
    keys.push({ beat: n.start, pitch: n.pitch, velocity: n.velocity });
    keys.push({ beat: n.start + n.duration, pitch: n.pitch, velocity: 0 });
  }
  for (const beat of Object.keys(at)) keys.push({ beat: Number(beat), action: at[beat] });
  keys.sort((a, b) => a.beat - b.beat || (a.velocity === 0 ? 0 : 1) - (b.velocity === 0 ? 0 : 1));
  const moveTo = async (beat) => {
    while (t.beat < beat - 1e-9) {
      const p = play();
      const sendAt = p.barStart(p.nextBar + 1) - 0.125;
      const step = Math.min(beat, t.beat + 0.125);
      if (p.session && sendAt <= step + 1e-9) {
        if (sendAt < t.beat - 1e-9) throw new Error(`bar ${p.nextBar} was due at ${sendAt} but not sent by ${t.beat}`);
        const bar = p.streamBar;
        t.advance(sendAt);
        if (p.streamBar !== bar && !skip(bar)) {
          await udp.waitFor(() => !p.targets[bar + 1], WAIT_MS, `the answer to stream bar ${bar}`);
        }
        continue;
      }
      t.advance(step);
    }
  };
  t.start(0);
  for (const k of keys) {
    if (k.beat > end) break;
    await moveTo(k.beat);
    if (k.action) await k.action(); else t.key(k.pitch, k.velocity);
  }
  await moveTo(end);
}

/** Four bars in 4/4 with human timing: chords held over bar lines, a melody, repeated notes. */
function performance(bars) {
  const notes = [];
  for (let b = 0; b < bars; b++) {
    const root = [48, 45, 41, 43][b % 4];
    const s = 4 * b;
    if (b % 2 === 0) notes.push({ pitch: root, start: s + 0.02, duration: 6.1, velocity: 70 });
    for (const p of [0, 4, 7]) notes.push({ pitch: root + 12 + p, start: s + 0.03, duration: 1.9, velocity: 60 + 3 * b });
    const melody = [0, 2, 4, 7, 9, 7, 4, 2];
    for (let i = 0; i < 7; i++) {
      notes.push({ pitch: root + 24 + melody[(i + b) % 8], start: s + 0.5 + i * 0.5 - 0.02 * (i % 2), duration: 0.4,
        velocity: 78 + 4 * ((i + b) % 5) });
    }
  }
  return notes;
}

function settingsPairs(values) { return new P.Settings(values).toArgs(); }

/** The notes heard, shifted back `shift` beats (echo: one bar), as comparable rows. */
function heard(t, shift) {
  return rows(t.notes().map((n) => ({ pitch: n.pitch, start: n.on - shift, duration: n.off - n.on, velocity: n.velocity })));
}

/** The stream bars the device sent, as stream_reference.py takes them: [[bar, flat notes]]. */
function barsSent(udp) {
  const out = [];
  for (const m of udp.sent.filter((s) => s.address === P.STREAM_BAR)) {
    const [, , bar, , chunk] = m.args;
    if (chunk === 0) out.push([bar, []]);
    out[out.length - 1][1].push(...m.args.slice(6));
  }
  return out;
}

test("echo at full rate: the notes out are qbdi improvise's for the same bars, one bar later, on the grid; none left on", async () => {
  const rig = await device();
  const { dev, udp, t } = rig;
  try {
    dev.send("rate_full", 1);
    dev.send("seed", 5);
    dev.send("play_input", "mute");      // thru would hold an answer's off while the same key is down
    dev.send("play_along", 1);
    const played = performance(4);
    await perform(rig, played, 19.8);                 // stopped before the line of bar 5
    t.stop();
    const open = udp.sent.find((m) => m.address === P.STREAM_OPEN);
    const opened = P.pairsToObject(open.args.slice(2));
    assert.equal(opened.rate, "full");
    assert.equal(opened.mode, "echo");
    assert.equal(barsSent(udp).length, 4, "a bar a 32nd before each line");
    const flat = [];
    for (const n of played) flat.push(n.pitch, n.start, n.duration, n.velocity);
    const expected = reference("improvise", settingsPairs({ rate: "full", seed: 5, beats_per_bar: 4, length_beats: 16 }), flat);
    assert.ok(expected.notes.length > 10, `improvise gave ${expected.notes.length} notes`);
    // what sounded up to the stop at 19.8 (the last answer's notes end there)
    const cut = expected.notes.map((n) => Object.assign({}, n, { duration: Math.min(n.start + n.duration, 15.8) - n.start }));
    assert.deepEqual(heard(t, 4), rows(cut), "bar b's answer sounds in bar b + 1, as improvise gives bar b");
    for (const n of t.notes()) {
      assert.ok(Number.isInteger(Math.round(n.on * 4 * 1e6) / 1e6), `note-on at ${n.on} is on the 16th grid`);
      assert.ok(n.on >= 4, "nothing sounds in the bar before the first answer");
    }
    assert.equal(rig.play().stats.skipped, 0, "every answer was on time");
    assert.deepEqual(t.hanging(), {}, "no note left on after stop");
    assert.ok(t.allNotesOffLast(), "All Notes Off after the last note-on");
    await udp.waitFor(() => rig.received.some((m) => m[0] === P.STREAM_CLOSED), WAIT_MS, "stream/closed");
  } finally {
    udp.close();
  }
});

test("rate 64: bridge.stream's answers, the same on every run; a late answer is trimmed, a lost one costs its bar; tempo changes", async () => {
  const played = performance(8);
  const run = async ({ hold = () => false, drop = () => false, skip, at = {} } = {}) => {
    const held = [];
    const rig = await device({ filter: (address, args) => {
      if (address !== P.STREAM_NEXT) return false;
      if (drop(args[1])) return true;
      if (hold(args[1])) { held.push([address, ...args]); return true; }
      return false;
    } });
    rig.held = held;
    rig.dev.send("rate", 64);
    rig.dev.send("seed", 3);
    rig.dev.send("structure", "lock");
    rig.dev.send("play_along", 1);
    const actions = Object.assign({ 12: () => rig.t.setTempo(90), 20: () => rig.t.setTempo(150) }, at(rig));
    await perform(rig, played, 36, { skip, at: actions });
    rig.t.stop();
    rig.udp.close();          // the next run's device takes the same reply port
    return rig;
  };
  // A: every answer on time
  const a = await run({ at: () => ({}) });
  // B: the answer for bar 3 (to stream bar 2) is held back until 1.45 beats into bar 3; the one
  // for bar 6 is lost on the way
  const b = await run({ hold: (bar) => bar === 3, drop: (bar) => bar === 6, skip: (bar) => bar === 2 || bar === 5,
    at: (rig) => ({ 13.45: async () => {
      await rig.udp.waitFor(() => rig.held.length > 0, WAIT_MS, "the answer held back");
      rig.held.splice(0).forEach((m) => rig.t.reply(...m));
    } }) });
  try {
    for (const r of [a, b]) {
      assert.deepEqual(r.t.hanging(), {}, "no note left on");
      assert.ok(r.t.allNotesOffLast());
      assert.equal(barsSent(r.udp).length, 9, "every bar sent, whatever came back");
    }
    assert.match(a.dev.out(1).map((m) => m.join(" ")).join("\n"), /150 BPM/, "the status line follows the tempo");

    // A's answers, where they sound, are bridge.stream's for the bars A sent
    const open = a.udp.sent.find((m) => m.address === P.STREAM_OPEN).args.slice(2);
    const expected = streamReference(open, barsSent(a.udp));
    assert.deepEqual(expected.map((e) => e.bar), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const ons = (r, bar) => r.t.notes().filter((n) => n.on >= 4 * bar - 1e-9 && n.on < 4 * bar + 4 - 1e-9)
      .map((n) => [n.pitch, Math.round((n.on - 4 * bar) * 1e4) / 1e4, n.velocity]);
    for (const e of expected) {
      if (e.bar > 8) continue;                                  // bar 9's answer would sound after the stop
      const struck = e.notes.filter((n) => n.start >= 0).map((n) => [n.pitch, Math.round(n.start * 1e4) / 1e4, n.velocity]);
      assert.deepEqual(ons(a, e.bar), struck.sort((x, y) => x[1] - y[1] || x[0] - y[0]), `bar ${e.bar}`);
    }
    assert.ok(expected.some((e) => e.notes.some((n) => n.start >= 0)), "the model answered with notes");

    // B: the same notes where nothing around was late or lost (same seed, same bars)
    for (const bar of [1, 2, 5, 8]) assert.deepEqual(ons(b, bar), ons(a, bar), `bar ${bar}`);
    const lateBar = ons(a, 3);
    assert.deepEqual(ons(b, 3), lateBar.filter((n) => n[1] >= 1.45), "the late answer: only what was still to come");
    assert.deepEqual(ons(b, 6), [], "the lost answer: silence in its bar");
    assert.ok(b.play().stats.skipped >= lateBar.filter((n) => n[1] < 1.45).length);
  } finally {
    a.udp.close();
    b.udp.close();
  }
});

test("a meter change: the stream is told, the answers fall in 3/4 bars; toggling off leaves nothing on", async () => {
  const rig = await device();
  const { dev, udp, t } = rig;
  try {
    dev.send("rate", 256);
    dev.send("play_along", 1);
    const notes = performance(2);
    for (let b = 0; b < 3; b++) {
      for (let i = 0; i < 6; i++) notes.push({ pitch: 60 + 2 * i, start: 8 + 3 * b + 0.5 * i, duration: 0.4, velocity: 90 });
    }
    await perform(rig, notes, 19.5, { at: { 1: () => t.setMeter(3, 4, 8) } });   // Live's signature change at bar 3
    const set = udp.sent.filter((m) => m.address === P.STREAM_SET);
    assert.deepEqual(set.map((m) => m.args.slice(2)), [["beats_per_bar", 3]]);
    const answers = rig.received.filter((m) => m[0] === P.STREAM_NEXT);
    assert.ok(answers.length >= 4);
    // the 4/4 answer for the bar where Live changes the meter was handed over before the change could
    // be heard: the pipes may start its notes on that bar line, and the clock that hears the change
    // clears the rest and ends those at once
    const cut = t.notes().filter((n) => n.on === 8);
    for (const n of cut) assert.equal(n.off, 8, `${n.pitch} at the changed bar line is ended when the change is heard`);
    const after = t.notes().filter((n) => n.on > 8);
    assert.ok(after.length > 0, "the 3/4 bars were answered");
    for (const n of after) {
      const inBar = (n.on - 8) % 3;
      assert.ok(inBar >= 0 && inBar < 3 && Number.isInteger(Math.round(inBar * 4 * 1e6) / 1e6), `${n.on} on the 3/4 grid`);
      assert.ok(n.on >= 11, "the first 3/4 answer plays in the second 3/4 bar");
    }
    dev.send("play_along", 0);
    assert.deepEqual(t.hanging(), {}, "no note left on after toggle off");
    assert.ok(t.allNotesOffLast());
    await udp.waitFor(() => rig.received.some((m) => m[0] === P.STREAM_CLOSED), WAIT_MS, "stream/closed");
  } finally {
    udp.close();
  }
});
