// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// Play Along's hand-over (max_patches/qbdi_schedule.js) on its own: an answer becomes pipe events,
// each a delay in ticks from the fresh song position and its bytes, handed over once; late note-ons
// dropped; every note-on its off; overlapping notes of one pitch end together; a tie clears only
// the bar-line pipe; silence clears both and sends exactly the offs owed. In the device, with the
// pipes simulated: play.test.js.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");

const S = require("../../max_patches/qbdi_schedule.js");

function scheduler({ keys = {} } = {}) {
  const sent = [];
  const stats = { skipped: 0, notesOut: 0, handedOver: 0 };
  const notes = new S.Scheduler({ send: (m) => sent.push(m), keyHeld: (p) => (keys[p] || 0) > 0 }, stats, 0);
  return { notes, sent, stats, keys };
}

/** The hand-overs in `sent` as [pipe, target beat (now + delay), bytes]; `now` the reading they were made at. */
function events(sent, now) {
  const out = [];
  let delay = null;
  for (const m of sent) {
    if (m[1] === "delaytime") { assert.equal(m[3], "ticks"); delay = m[2]; continue; }
    if (m[1] === "clear") { out.push([m[0], "clear"]); continue; }
    if (m[0] === "n") { out.push(["n", "now", m.slice(1)]); continue; }
    assert.notEqual(delay, null, "a delay before every event");
    out.push([m[0], now + delay / 480, m.slice(1)]);
    delay = null;
  }
  return out;
}

test("an answer is handed over once: a delay in ticks from the fresh reading, offs first at equal times", () => {
  const { notes, sent, stats } = scheduler();
  notes.handOver(4, 8, [{ pitch: 64, start: 1, duration: 0.5, velocity: 200 }, { pitch: 60, start: 0, duration: 1, velocity: 90 },
    { pitch: 67, start: 3, duration: 1, velocity: 50 }], 3.9);
  assert.deepEqual(events(sent, 3.9), [
    ["m", 4, [0x90, 60, 90]], ["m", 5, [0x80, 60, 0]], ["m", 5, [0x90, 64, 127]], ["m", 5.5, [0x80, 64, 0]],
    ["m", 7, [0x90, 67, 50]], ["t", 8, [0x80, 67, 0]]]);
  assert.deepEqual(stats, { skipped: 0, notesOut: 3, handedOver: 6 });
  assert.equal(sent[0][2], 48, "4 - 3.9 beats = 48 ticks");
});

test("late note-ons are dropped against the fresh reading, with their offs; the rest of the bar goes", () => {
  const { notes, sent, stats } = scheduler();
  notes.handOver(4, 8, [{ pitch: 60, start: 0, duration: 1, velocity: 90 }, { pitch: 62, start: 0.5, duration: 0.5, velocity: 90 },
    { pitch: 64, start: 1, duration: 1, velocity: 90 }], 4.5);
  assert.deepEqual(events(sent, 4.5).map((e) => e[2]), [[0x90, 62, 90], [0x80, 62, 0], [0x90, 64, 90], [0x80, 64, 0]]);
  assert.equal(stats.skipped, 1);
});

test("overlapping notes of one pitch end together; a re-struck pitch: its off first, in the same pipe", () => {
  const { notes, sent } = scheduler();
  notes.handOver(0, 4, [{ pitch: 60, start: 0, duration: 2, velocity: 80 }, { pitch: 60, start: 1, duration: 2, velocity: 80 },
    { pitch: 62, start: 0, duration: 1, velocity: 80 }, { pitch: 62, start: 1, duration: 1, velocity: 80 }], 0);
  const e = events(sent, 0);
  assert.deepEqual(e.filter((x) => x[2][1] === 60), [["m", 0, [0x90, 60, 80]], ["m", 1, [0x90, 60, 80]],
    ["m", 3, [0x80, 60, 0]], ["m", 3, [0x80, 60, 0]]], "the first one's end does not cut the second");
  assert.deepEqual(e.filter((x) => x[2][1] === 62).map((x) => [x[0], x[1], x[2][0]]),
    [["m", 0, 0x90], ["m", 1, 0x80], ["m", 1, 0x90], ["m", 2, 0x80]], "re-struck on its tick, after the off");
});

test("struck again on the downbeat where the last answer ended it: the bar-line off joins the ons' pipe", () => {
  const { notes, sent } = scheduler();
  notes.handOver(0, 4, [{ pitch: 60, start: 3, duration: 1, velocity: 70 }, { pitch: 64, start: 3, duration: 1, velocity: 70 }], 0);
  sent.length = 0;
  notes.handOver(4, 8, [{ pitch: 60, start: 0, duration: 1, velocity: 70 }], 3.875);
  assert.deepEqual(events(sent, 3.875), [["t", "clear"], ["m", 4, [0x80, 60, 0]], ["m", 4, [0x80, 64, 0]],
    ["m", 4, [0x90, 60, 70]], ["m", 5, [0x80, 60, 0]]], "one pipe: the off before the on at the same tick");
});

test("a tie: the continuation takes over the bar-line off (only that pipe is cleared); too late, it is struck or dropped", () => {
  const { notes, sent } = scheduler();
  notes.handOver(0, 4, [{ pitch: 67, start: 3, duration: 1, velocity: 70 }, { pitch: 69, start: 2, duration: 2, velocity: 70 }], 0);
  sent.length = 0;
  notes.handOver(4, 8, [{ pitch: 67, start: -1, duration: 2, velocity: 70 }, { pitch: 72, start: 0, duration: 1, velocity: 70 }], 3.875);
  assert.deepEqual(events(sent, 3.875), [["t", "clear"], ["m", 4, [0x80, 69, 0]], ["m", 4, [0x90, 72, 70]],
    ["m", 5, [0x80, 67, 0]], ["m", 5, [0x80, 72, 0]]],
  "67 rings on to 5, not struck again; 69's off goes over again; nothing else repeated");

  const late = scheduler();
  late.notes.handOver(0, 4, [{ pitch: 67, start: 3, duration: 1, velocity: 70 }], 0);
  late.sent.length = 0;
  late.notes.handOver(4, 8, [{ pitch: 67, start: -1, duration: 2, velocity: 70 }], 3.99);
  assert.deepEqual(events(late.sent, 3.99).map((x) => [x[0], x[1], x[2][0]]),
    [["m", 4 + 1 / 480, 0x90], ["m", 5, 0x80]], "too close to the line to clear: struck again, a tick after the off");
  assert.equal(late.sent.filter((m) => m[1] === "clear").length, 0);
});

test("a key held at hand-over withholds the off; its release hands it over, or sends it at once when due", () => {
  const { notes, sent, keys } = scheduler({ keys: { 60: 1 } });
  notes.handOver(0, 4, [{ pitch: 60, start: 0, duration: 1, velocity: 80 }, { pitch: 60, start: 2, duration: 1, velocity: 80 }], 0);
  assert.deepEqual(events(sent, 0).map((x) => x[2][0]), [0x90, 0x90], "no off while the key holds it");
  sent.length = 0;
  keys[60] = 0;
  notes.keyReleased(60, 1.5);
  assert.deepEqual(events(sent, 1.5), [["n", "now", [0x80, 60, 0]], ["m", 3, [0x80, 60, 0]]]);
});

test("silence clears both pipes and sends exactly the offs owed; All Notes Off when stopping", () => {
  const { notes, sent, keys } = scheduler();
  keys[72] = 1;
  notes.handOver(0, 4, [{ pitch: 60, start: 0, duration: 4, velocity: 90 }, { pitch: 72, start: 0, duration: 1, velocity: 90 },
    { pitch: 76, start: 2, duration: 1, velocity: 90 }, { pitch: 64, start: 0, duration: 0.5, velocity: 90 }], 0);
  sent.length = 0;
  assert.equal(notes.silence(false, true, 1.5, false), 2);
  assert.deepEqual(sent, [["m", "clear"], ["t", "clear"], ["n", 0x80, 60, 0], ["n", 0x80, 72, 0]],
    "60 sounds, 72's off was withheld; 64 ended, 76 never started: a jump sends only the offs");
  assert.equal(notes.silence(true, true, 1.5, false), 0);
  assert.deepEqual(sent.slice(-1), [["n", 0xB0, 123, 0]], "stopping while Play Along is on: All Notes Off");
  sent.length = 0;
  notes.silence(true, false, 1.5, false);
  assert.deepEqual(sent, [["m", "clear"], ["t", "clear"]], "nothing owed and not asked: no All Notes Off");

  const running = scheduler();
  running.notes.handOver(0, 4, [{ pitch: 76, start: 2, duration: 1, velocity: 90 }], 0);
  assert.equal(running.notes.silence(false, true, 1.97, true), 1,
    "the transport runs: an on due within CLEAR_GUARD may leave before the clear, so it is owed its off");
});
