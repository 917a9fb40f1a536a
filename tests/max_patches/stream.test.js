// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// qbdi_protocol.js, play along: stream request builders, reply parsing, answer assembly, bar notes.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");

const P = require("../../max_patches/qbdi_exchange.js").attach(require("../../max_patches/qbdi_protocol.js"));
const osc = require("../../max_patches/qbdi_osc.js");

test("open and set carry the stream's settings in STREAM_SETTING_KEYS order, nothing else", () => {
  const [open] = P.buildStreamOpen(11, 7401, new P.Settings({ rate: 256, seed: 3, bars: 4, continue_bars: 2 }),
    { mode: "ahead", window: 4 });
  assert.deepEqual(open.slice(0, 3), [P.STREAM_OPEN, 11, 7401]);
  const keys = open.slice(3).filter((_, i) => i % 2 === 0);
  assert.deepEqual(keys, ["rate", "sampling", "threshold", "temperature", "z", "seed", "allocation", "source",
    "structure", "mode", "window"]);
  assert.deepEqual(open.slice(-4), ["mode", "ahead", "window", 4]);
  const [set] = P.buildStreamSet(11, 7401, ["rate", 64], null);
  assert.deepEqual(set, [P.STREAM_SET, 11, 7401, "rate", 64]);
  assert.deepEqual(P.buildStreamSet(11, 7401, null, { mode: "echo" })[0], [P.STREAM_SET, 11, 7401, "mode", "echo"]);
  assert.deepEqual(P.buildStreamClose(11, 7401), [[P.STREAM_CLOSE, 11, 7401]]);
});

test("a bar is chunked by 128 notes under the datagram cap; held-over notes keep their negative start", () => {
  for (const n of [0, 1, 128, 129, 700]) {
    const notes = [];
    for (let i = 0; i < n; i++) notes.push({ pitch: 40 + (i % 60), start: (i % 16) * 0.25 - (i % 5 === 0 ? 8 : 0), duration: 0.5, velocity: 90 });
    const msgs = P.buildStreamBar(5, 7401, 12, notes);
    assert.equal(msgs.length, P.nChunks(n));
    let count = 0;
    msgs.forEach((m, i) => {
      assert.deepEqual(m.slice(0, 7), [P.STREAM_BAR, 5, 7401, 12, n, i, msgs.length]);
      count += (m.length - 7) / 4;
      assert.ok(osc.encode(m).length <= P.MAX_DATAGRAM);
    });
    assert.equal(count, n);
    if (n) assert.equal(msgs[0][8], -8);
  }
  assert.throws(() => P.buildStreamBar(1, 2, 0, new Array(P.MAX_BAR_NOTES + 1).fill({ pitch: 60, start: 0, duration: 1 })),
    /limit is 2048/);
});

test("answers: chunks in any order make one answer per bar; malformed chunks are bad replies", () => {
  const a = new P.StreamAssembler();
  const chunk = (bar, i, n, flat, total) => P.parseReply(P.STREAM_NEXT, [9, bar, total, i, n].concat(flat));
  assert.equal(a.add(chunk(4, 1, 2, [62, 1, 1, 80], 2)), null);
  const done = a.add(chunk(4, 0, 2, [60, -0.5, 1.5, 70], 2));
  assert.deepEqual(done, { type: "stream_next", id: 9, bar: 4,
    notes: [{ pitch: 60, start: -0.5, duration: 1.5, velocity: 70 }, { pitch: 62, start: 1, duration: 1, velocity: 80 }] });
  assert.equal(a.add(chunk(5, 0, 1, [], 0)).notes.length, 0, "an empty answer is one empty chunk");
  assert.equal(a.add(chunk(6, 0, 1, [60, 0, 1, 90], 2)).type, "bad_reply");
  for (let bar = 10; bar < 30; bar++) a.add(chunk(bar, 0, 2, [], 0));
  assert.ok(Object.keys(a.parts).length <= a.keep + 1, "half-received answers are bounded");
  assert.equal(P.parseReply(P.STREAM_NEXT, [9, 4, 1, 3, 2, 60, 0, 1]).type, "bad_reply");
  assert.deepEqual(P.parseReply(P.STREAM_OPENED, [9, "pop", "rate", 256, "mode", "echo"]),
    { type: "stream_opened", id: 9, model: "pop", settings: { rate: 256, mode: "echo" } });
  assert.deepEqual(P.parseReply(P.STREAM_CLOSED, [9, 17]), { type: "stream_closed", id: 9, bars: 17 });
});

test("bar notes: struck, held over, landing on the downbeat, cut at the bar's end", () => {
  const played = [
    { pitch: 60, start: 4.0, duration: 1, velocity: 80 },       // struck in bar 1
    { pitch: 48, start: 2.0, duration: 4, velocity: 70 },       // held over from bar 0
    { pitch: 67, start: 7.95, duration: 0.5, velocity: 90 },    // just before bar 2: struck in 1, sounds in 2
    { pitch: 72, start: 5.0, duration: null, velocity: 100 },   // still held at the bar line
    { pitch: 50, start: 1.0, duration: 1, velocity: 60 },       // over before bar 1
  ];
  const bar1 = P.barNotes(played, 4, 4);
  const byPitch = (ns) => Object.fromEntries(ns.map((n) => [n.pitch, [n.start, n.duration, n.velocity]]));
  assert.deepEqual(Object.keys(byPitch(bar1)).map(Number).sort(), [48, 60, 67, 72]);
  assert.deepEqual(byPitch(bar1)[48], [-2, 4, 70]);
  assert.deepEqual(byPitch(bar1)[72], [1, 3, 100]);
  assert.ok(Math.abs(byPitch(bar1)[67][1] - 0.05) < 1e-9);
  const bar2 = byPitch(P.barNotes(played, 8, 4));
  assert.ok(Math.abs(bar2[67][0] + 0.05) < 1e-9, "lands on bar 2's downbeat, with a negative start");
  assert.deepEqual(bar2[72], [-3, 7, 100], "a note still held: from its start to the bar's end");
  assert.equal(bar2[60], undefined);
  assert.equal(P.stepPosition(0.12499999, 4), 0.5, "float noise at a half step snaps onto it");
});
