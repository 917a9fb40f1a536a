// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// Play Along in the device (qbdi_device.js + qbdi_play.js) on a stand-in of Live's transport
// (helpers/transport.js), with the server played by hand: bars collected on the transport and sent
// a 32nd before their bar line, answers played in the next bar on the grid, ties across bar lines,
// late answers trimmed and stale ones dropped, every note-on its note-off on stop, toggle off and
// removal, the Input choice, dials, meter changes and loops. The real server: e2e/play.e2e.js.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");

const P = require("../../max_patches/qbdi_protocol.js");
const { loadMaxScript } = require("./helpers/maxjs.js");
const { FakeLive } = require("./helpers/fake_live.js");
const { FakeTransport } = require("./helpers/transport.js");

const OUT = { OSC: 0, STATUS: 1, UI: 5, MIDI: 6 };

function setup({ missing } = {}) {
  const live = new FakeLive();
  live.addTrack({ slots: 4 });
  live.addDevice(0);
  let transport = null;
  const dev = loadMaxScript("qbdi_device.js", { LiveAPI: live.LiveAPI, missing,
    onOutlet: (n, a) => { if (transport) transport.onOutlet(n, a); } });
  transport = new FakeTransport(dev);
  dev.send("init");
  const probe = dev.out(4).find((m) => m[0] === "probe_port");
  dev.send("server", "port_free", probe[1], 1);
  return { dev, t: transport, port: probe[1] };
}

const stream = (dev, address) => dev.out(OUT.OSC).filter((m) => m[0] === address);
const lastOpen = (dev) => stream(dev, P.STREAM_OPEN).pop();
const barsSent = (dev) => stream(dev, P.STREAM_BAR).map((m) => ({ session: m[1], bar: m[3], notes: P.unflattenNotes(m.slice(7)) }));
const thruState = (dev) => dev.out(OUT.UI).filter((m) => m[0] === "thru").map((m) => m[1]);

/** Play the server: the answer for stream bar `bar` (notes in beats from its start; negative starts
 *  kept), each chunk reaching the script as the patch delivers it (a fresh reading first). */
function answer(t, session, bar, notes) {
  const flat = [];
  for (const n of notes) flat.push(n.pitch, n.start, n.duration, n.velocity || 90);
  const chunks = P.chunkArgs(flat);
  chunks.forEach((c, i) => t.reply(P.STREAM_NEXT, session, bar, notes.length, i, chunks.length, ...c));
}

function playing(t, at = 0) {
  t.start(at);
  return t;
}

/** setup(), Play Along on and the transport started at 0: the stream it opened is `session`. */
function playingAlong() {
  const s = setup();
  s.dev.send("play_along", 1);
  playing(s.t);
  return Object.assign(s, { session: lastOpen(s.dev)[1] });
}

test("a bar is collected on the transport, sent a 32nd before its line; its answer plays in the next bar on the 16th grid", () => {
  const { dev, t, port } = setup();
  dev.send("rate", 128);
  dev.send("seed", 7);
  dev.send("play_along", 1);
  playing(t);
  const open = lastOpen(dev);
  assert.ok(open, "Play Along opens a stream when the transport runs");
  const session = open[1];
  assert.equal(open[2], port);
  const settings = P.pairsToObject(open.slice(3));
  assert.equal(settings.rate, 128);
  assert.equal(settings.seed, 7);
  assert.equal(settings.beats_per_bar, 4);
  assert.equal(settings.mode, "echo");
  assert.equal(settings.window, 8);

  t.advance(0.5); t.key(60, 100);
  t.advance(1.5); t.key(60, 0); t.key(64, 90);            // 64 held over the bar line
  t.advance(3.75);
  assert.equal(barsSent(dev).length, 0, "not before a 32nd before the bar line");
  t.advance(3.875);
  const [bar0] = barsSent(dev);
  assert.deepEqual([bar0.session, bar0.bar], [session, 0]);
  assert.deepEqual(bar0.notes, [{ pitch: 60, start: 0.5, duration: 1, velocity: 100 },
    { pitch: 64, start: 1.5, duration: 2.5, velocity: 90 }]);

  answer(t, session, 1, [{ pitch: 60, start: 0, duration: 0.5, velocity: 80 }, { pitch: 67, start: 1.75, duration: 2.25 }]);
  t.advance(7.875);
  const [bar1] = barsSent(dev).slice(1);
  assert.equal(bar1.bar, 1);
  assert.deepEqual(bar1.notes[0], { pitch: 64, start: -2.5, duration: 6.5, velocity: 90 },
    "held: sent again with its real start, sounding to the bar's end");
  t.advance(8);
  assert.deepEqual(t.notes(), [{ pitch: 60, on: 4, off: 4.5, velocity: 80 }, { pitch: 67, on: 5.75, off: 8, velocity: 90 }]);
  for (const n of t.notes()) assert.ok(Number.isInteger(n.on * 4), `${n.on} is on the 16th grid`);
  assert.match(dev.out(OUT.STATUS).pop().join(" "), /▶ bar \d+ · echo · 120 BPM · 4\/4/);
});

test("a note continued into the next answer keeps ringing: its off moves, it is not struck again", () => {
  const { dev, t, session } = playingAlong();
  t.advance(3.875);
  answer(t, session, 1, [{ pitch: 67, start: 1.75, duration: 2.25 }]);
  t.advance(7.875);
  answer(t, session, 2, [{ pitch: 67, start: -2.25, duration: 3.25 }, { pitch: 69, start: 1, duration: 0.5 }]);
  t.advance(12);
  assert.deepEqual(t.notes().map((n) => [n.pitch, n.on, n.off]), [[67, 5.75, 9], [69, 9, 9.5]]);
  assert.deepEqual(t.clears.map((c) => [c.pipe, c.beat]), [["t", 7.875]], "only the bar line's pipe was cleared");
  assert.deepEqual(t.hanging(), {});
});

test("a late answer is trimmed (notes already due skipped), a stale one dropped, and the next bars play on", () => {
  const { dev, t, session } = playingAlong();
  t.advance(4.5);                                      // bar 1 is under way; its answer comes now
  answer(t, session, 1, [{ pitch: 60, start: 0, duration: 1 }, { pitch: 62, start: 0.25, duration: 0.25 },
    { pitch: 64, start: 1, duration: 1 }]);
  answer(t, session, 1, [{ pitch: 72, start: 2, duration: 1 }]);    // a duplicate: dropped
  t.advance(12.5);                                     // bar 2's answer never came in time
  answer(t, session, 2, [{ pitch: 48, start: 3.5, duration: 0.5 }]); // after its bar: dropped
  t.advance(15.875);
  answer(t, session, 4, [{ pitch: 50, start: 0, duration: 0.5 }]);   // on time: plays
  t.advance(17);
  assert.deepEqual(t.notes().map((n) => [n.pitch, n.on, n.off]), [[64, 5, 6], [50, 16, 16.5]]);
  assert.deepEqual(barsSent(dev).map((b) => b.bar), [0, 1, 2, 3], "a bar a 32nd before every line, whatever the answers");
});

test("stop: the pipes are cleared and exactly the offs owed go out, then All Notes Off; start opens a fresh stream", () => {
  const { dev, t, session } = playingAlong();
  t.advance(3.875);
  answer(t, session, 1, [{ pitch: 60, start: 0, duration: 4 }, { pitch: 64, start: 0, duration: 2 },
    { pitch: 67, start: 2.5, duration: 0.5 }]);
  t.advance(5);
  assert.equal(Object.keys(t.hanging()).length, 2, "both sound");
  assert.equal(t.pending(), 4, "67's on and off, 64's and 60's offs wait in the pipes");
  const before = t.midi.length;
  t.stop();
  assert.deepEqual(t.clears.map((c) => [c.pipe, c.beat]), [["m", 5], ["t", 5]], "both pipes cleared at the stop");
  assert.equal(t.pending(), 0);
  assert.deepEqual(t.midi.slice(before).map((m) => [m.pipe, m.bytes]),
    [["n", [0x80, 60, 0]], ["n", [0x80, 64, 0]], ["n", [0xB0, 123, 0]]],
    "the two offs owed (67 never started), then All Notes Off, at once");
  assert.deepEqual(t.hanging(), {}, "no note left on after stop");
  assert.deepEqual(stream(dev, P.STREAM_CLOSE).pop(), [P.STREAM_CLOSE, session, lastOpen(dev)[2]]);
  const after = t.midi.length;
  t.advance(9);
  assert.equal(t.midi.length, after, "nothing plays while stopped");
  t.start(16);
  assert.notEqual(lastOpen(dev)[1], session, "a fresh stream");
  answer(t, session, 2, [{ pitch: 72, start: 0, duration: 1 }]);  // the old stream's answer: dropped
  t.advance(24);
  assert.equal(t.notes().filter((n) => n.pitch === 72 || n.pitch === 67).length, 0);
});

test("toggle off and device removal: no note left on, the stream closed", () => {
  for (const how of ["toggle", "removed"]) {
    const { dev, t, session } = playingAlong();
    t.advance(3.875);
    answer(t, session, 1, [{ pitch: 60, start: 0, duration: 4 }]);
    t.advance(4.5);
    assert.deepEqual(t.hanging(), { 60: 1 });
    if (how === "toggle") dev.send("play_along", 0); else dev.context.notifydeleted();
    assert.deepEqual(t.hanging(), {}, how);
    assert.ok(t.allNotesOffLast(), how);
    assert.equal(stream(dev, P.STREAM_CLOSE).pop()[1], session, how);
    const before = t.midi.length;
    t.advance(12);
    assert.equal(t.midi.length, before, `${how}: nothing more plays`);
    assert.equal(barsSent(dev).length, 1, `${how}: no more bars sent`);
  }
});

test("Input: thru passes what is played, mute closes the gate; keys held when muting get their offs", () => {
  const { dev, t } = setup();
  assert.deepEqual(thruState(dev), [1], "open at load");
  dev.send("play_input", 1);
  assert.deepEqual(thruState(dev).pop(), 1, "mute acts only while Play Along is on");
  dev.send("play_along", 1);
  assert.equal(thruState(dev).pop(), 0);
  dev.send("play_along", 0);
  assert.equal(thruState(dev).pop(), 1);
  dev.send("play_input", 0);
  dev.send("play_along", 1);
  playing(t);
  t.key(55, 100);                       // passes through the open gate (the patch, not the script)
  const before = t.midi.length;
  dev.send("play_input", "mute");
  assert.equal(thruState(dev).pop(), 0);
  assert.deepEqual(t.midi.slice(before).map((m) => m.bytes), [[0x80, 55, 0]], "its release will be muted: ended now");
});

test("a key held through the gate at hand-over withholds the answer's off until it is released", () => {
  const { dev, t, session } = playingAlong();
  t.advance(3.5); t.key(60, 100);                        // held before the answer arrives
  t.advance(3.875);
  answer(t, session, 1, [{ pitch: 60, start: 0, duration: 0.5 }, { pitch: 62, start: 0, duration: 1 }]);
  assert.deepEqual(t.handovers.filter((h) => h.bytes[1] === 60).map((h) => h.bytes[0]), [0x90],
    "60's note-on handed over, its off withheld");
  t.advance(5);
  assert.deepEqual(t.hanging(), { 60: 1 }, "the key holds 60: the answer's off waits");
  t.key(60, 0);
  assert.deepEqual(t.hanging(), {}, "released after the off was due: it goes at once");
  assert.equal(t.midi.filter((m) => m.bytes[1] === 60 && m.bytes[0] === 0x80).pop().pipe, "n");
});

test("a key released before the answer's off: the off is handed over then and leaves at its own tick", () => {
  const { dev, t, session } = playingAlong();
  t.advance(3.5); t.key(60, 100);
  t.advance(3.875);
  answer(t, session, 1, [{ pitch: 60, start: 0, duration: 2 }]);
  t.advance(4.5); t.key(60, 0);
  const off = t.handovers.filter((h) => h.bytes[0] === 0x80);
  assert.deepEqual(off.map((h) => [h.beat, h.target]), [[4.5, 6 * 480]], "handed over at the release, for beat 6");
  t.advance(7);
  assert.deepEqual(t.notes().map((n) => [n.pitch, n.on, n.off]), [[60, 4, 6]]);
});

test("what only Live decides: a key pressed after the hand-over does not hold back an off already in the pipe", () => {
  const { dev, t, session } = playingAlong();
  t.advance(3.875);
  answer(t, session, 1, [{ pitch: 60, start: 0, duration: 0.5 }]);
  t.advance(4.25); t.key(60, 100);
  t.advance(5);
  assert.deepEqual(t.notes().map((n) => [n.pitch, n.on, n.off]), [[60, 4, 4.5]],
    "the off leaves at its tick (docs/DEVICE.md says so)");
  t.key(60, 0);
  assert.deepEqual(t.hanging(), {});
});

test("js decides, Max's scheduler plays: each answer is handed over once, when it arrives, with its target ticks", () => {
  const { dev, t, session } = playingAlong();
  t.advance(3.875);
  answer(t, session, 1, [{ pitch: 60, start: 0, duration: 0.5, velocity: 80 }, { pitch: 67, start: 1.75, duration: 2.25 }]);
  const at = t.handovers.map((h) => [h.pipe, h.beat, h.target, h.bytes]);
  assert.deepEqual(at, [
    ["m", 3.875, 4 * 480, [0x90, 60, 80]],
    ["m", 3.875, 4.5 * 480, [0x80, 60, 0]],
    ["m", 3.875, 5.75 * 480, [0x90, 67, 90]],
    ["t", 3.875, 8 * 480, [0x80, 67, 0]],               // on the bar line: the pipe a tie may clear
  ], "every event once, at the answer's arrival, with the song position it plays at");
  const handed = t.handovers.length;
  t.advance(9);
  assert.equal(t.handovers.length, handed, "nothing is handed over while the answer plays: the clock only sends bars");
  assert.deepEqual(t.midi.map((m) => [m.beat, m.bytes, m.pipe]), [
    [4, [0x90, 60, 80], "m"], [4.5, [0x80, 60, 0], "m"], [5.75, [0x90, 67, 90], "m"], [8, [0x80, 67, 0], "t"]],
  "the pipes play them on their ticks");
});

test("a UI stall: the answers leave on their ticks though the script hears nothing, and no clump follows", () => {
  const { dev, t, session } = playingAlong();
  t.advance(3.875);
  answer(t, session, 1, [{ pitch: 60, start: 0, duration: 0.5 }, { pitch: 62, start: 1, duration: 0.5 },
    { pitch: 64, start: 2, duration: 0.5 }]);
  t.release(7);                                          // Live's main thread busy: no clock reaches the script
  t.beat = 7;
  assert.deepEqual(t.notes().map((n) => [n.pitch, n.on, n.off]), [[60, 4, 4.5], [62, 5, 5.5], [64, 6, 6.5]]);
  const before = t.midi.length;
  t.advance(7.5);                                        // the queued clocks run back to back: nothing to fire
  assert.equal(t.midi.length, before);
});

test("a dial turned while playing: /qbdi/stream/set with just what changed; mode and window too", () => {
  const { dev, t, port, session } = playingAlong();
  dev.send("rate", 64);
  dev.send("play_mode", 1);
  dev.send("play_window", 4);
  dev.send("structure", "lock");
  assert.deepEqual(stream(dev, P.STREAM_SET), [[P.STREAM_SET, session, port, "rate", 64],
    [P.STREAM_SET, session, port, "mode", "ahead"], [P.STREAM_SET, session, port, "window", 4],
    [P.STREAM_SET, session, port, "structure", "lock"]]);
  dev.send("seed", 0);                                  // unchanged: nothing sent
  assert.equal(stream(dev, P.STREAM_SET).length, 4);
  dev.send("play_window", 40);
  assert.match(dev.out(OUT.STATUS).pop().join(" "), /window must be 1 to 16/);
});

test("a meter change at a bar line: bars follow the new meter, the server is told beats_per_bar", () => {
  const { dev, t, port, session } = playingAlong();
  t.advance(3.875);
  answer(t, session, 1, [{ pitch: 60, start: 2, duration: 2 }]);
  t.advance(4.125);
  t.setMeter(3, 4);                                      // Live's signature changes at bar 2
  assert.deepEqual(stream(dev, P.STREAM_SET).pop(), [P.STREAM_SET, session, port, "beats_per_bar", 3]);
  assert.deepEqual(t.hanging(), {}, "what the old meter scheduled is dropped");
  t.advance(6.875);
  const bar = barsSent(dev).pop();
  assert.equal(bar.bar, 1);
  answer(t, session, 2, [{ pitch: 62, start: 0, duration: 0.5 }, { pitch: 64, start: 2.5, duration: 0.5 }]);
  t.advance(10);
  assert.deepEqual(t.notes().map((n) => [n.pitch, n.on]), [[62, 7], [64, 9.5]], "the next 3/4 bar starts at beat 7");
  assert.equal(barsSent(dev).pop().bar, 2, "sent at 9.875, a 32nd before 10");
  t.setMeter(5, 32);                                     // not a whole number of sixteenths
  assert.match(dev.out(OUT.STATUS).pop().join(" "), /5\/32 is not a whole number of sixteenths/);
});

test("a loop back: what was scheduled stops, nothing hangs, the stream carries on with the next bar", () => {
  const { dev, t, session } = playingAlong();
  t.advance(7.875);
  answer(t, session, 2, [{ pitch: 60, start: 0, duration: 4 }]);
  t.advance(8.5);
  const before = t.midi.length;
  t.locate(0);                                           // Live's loop brace: back to bar 1
  assert.deepEqual(t.hanging(), {});
  assert.deepEqual(t.midi.slice(before).map((m) => m.bytes), [[0x80, 60, 0]],
    "only the offs owed: no All Notes Off, so a key held through the gate keeps sounding");
  t.advance(3.875);
  assert.deepEqual(barsSent(dev).map((b) => [b.session, b.bar]), [[session, 0], [session, 1], [session, 2]]);
  assert.equal(stream(dev, P.STREAM_OPEN).length, 1, "the history is kept");
});

test("unknown_stream (the server restarted): opened again and carried on; busy costs one bar", () => {
  const { dev, t, session } = playingAlong();
  t.advance(3.875);
  dev.send(P.ERROR, session, "unknown_stream", "stream 1 is not open");
  const again = lastOpen(dev)[1];
  assert.notEqual(again, session);
  t.advance(7.875);
  assert.deepEqual(barsSent(dev).pop(), { session: again, bar: 0, notes: [] });
  dev.send(P.ERROR, again, "busy", "the stream thread is busy");
  answer(t, again, 1, [{ pitch: 65, start: 0, duration: 1 }]);
  t.advance(9.5);
  assert.deepEqual(t.notes().map((n) => [n.pitch, n.on]), [[65, 8]]);
  assert.equal(stream(dev, P.STREAM_OPEN).length, 2);
});

test("qbdi_play.js missing: the toggle says which file, MIDI still passes through", () => {
  const { dev } = setup({ missing: ["qbdi_play.js"] });
  dev.send("play_along", 1);
  assert.match(dev.out(OUT.STATUS).pop().join(" "), /qbdi_play\.js not found/);
  assert.deepEqual(thruState(dev), [], "the gate keeps its open default");
});

test("qbdi_schedule.js missing: the toggle names it, MIDI still passes through", () => {
  const { dev } = setup({ missing: ["qbdi_schedule.js"] });
  dev.send("play_along", 1);
  assert.match(dev.out(OUT.STATUS).pop().join(" "), /qbdi_schedule\.js not found/);
  assert.deepEqual(thruState(dev), [], "the gate keeps its open default");
});

test("a server on another machine: every stream message ends with the handshake's cookie; a cookie error reopens", () => {
  const { dev, t } = setup();
  dev.send("host", "192.168.1.20");
  dev.send("ping");
  const ping = dev.out(OUT.OSC).filter((m) => m[0] === P.PING).pop();
  dev.send(P.PONG, ping[1], "0.0", P.PROTOCOL_VERSION, "c00kie");
  dev.send("play_along", 1);
  playing(t);
  t.advance(3.875);
  const open = lastOpen(dev);
  assert.deepEqual(open.slice(-2), [P.COOKIE_KEY, "c00kie"]);
  assert.deepEqual(stream(dev, P.STREAM_BAR).pop().slice(-2), [P.COOKIE_KEY, "c00kie"]);
  dev.send(P.ERROR, open[1], "cookie", "ping first");
  assert.notEqual(lastOpen(dev)[1], open[1], "opened again");
});

test("a stream the server refuses is said once on the status line and in the Max Console, not once a bar", () => {
  const { dev, t } = setup();
  dev.send("play_along", 1);
  playing(t);
  for (let bar = 0; bar < 3; bar++) {
    const session = lastOpen(dev)[1];
    dev.send(P.ERROR, session, "unknown_model", "no model 'jazz' on this server");
    t.advance(4 * bar + 3.875);
    dev.send(P.ERROR, session, "unknown_stream", "not open");
  }
  assert.match(dev.out(OUT.STATUS).pop().join(" "), /unknown_model: no model 'jazz'/);
  assert.equal(dev.posts.filter((p) => /unknown_model/.test(p)).length, 1, dev.posts.join("\n"));
  assert.ok(stream(dev, P.STREAM_OPEN).length >= 3, "it keeps trying, once a bar");
});
