// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// Play Along's note scheduler (max_patches/qbdi_schedule.js) on its own: answers become note-ons
// and note-offs on the song's time, every note-on gets its off, offs wait while a key or another
// answer note holds the pitch, and silence ends everything. In the device: play.test.js.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");

const S = require("../../max_patches/qbdi_schedule.js");

function scheduler({ keys = {} } = {}) {
  const midi = [];
  const stats = { skipped: 0, notesOut: 0 };
  const notes = new S.Scheduler({ midi: (b) => midi.push(b), keyHeld: (p) => (keys[p] || 0) > 0 }, stats, 0);
  return { notes, midi, stats, keys };
}

/** Note-ons minus note-offs per pitch (velocity-0 note-ons count as offs). */
function balance(midi) {
  const open = {};
  for (const [status, pitch, velocity] of midi) {
    const kind = status & 0xf0;
    if (kind === 0x90 && velocity > 0) open[pitch] = (open[pitch] || 0) + 1;
    else if (kind === 0x80 || kind === 0x90) open[pitch] = (open[pitch] || 0) - 1;
  }
  return open;
}

test("an answer's notes go out on their beats, each note-on with its note-off", () => {
  const { notes, midi, stats } = scheduler();
  notes.schedule(4, [{ pitch: 64, start: 1, duration: 0.5, velocity: 200 }, { pitch: 60, start: 0, duration: 1, velocity: 90 }], 3.9);
  notes.fire(3.99);
  assert.deepEqual(midi, []);
  notes.fire(4);
  assert.deepEqual(midi, [[0x90, 60, 90]]);
  assert.equal(notes.soundingCount(), 1);
  notes.fire(5);
  assert.deepEqual(midi.slice(1), [[0x80, 60, 0], [0x90, 64, 127]], "the off before the next on; velocity capped at 127");
  notes.fire(6);
  assert.deepEqual(Object.values(balance(midi)), [0, 0]);
  assert.equal(notes.soundingCount(), 0);
  assert.deepEqual(stats, { skipped: 0, notesOut: 2 });
});

test("overlapping notes of one pitch and a key held through: the offs wait, and balance at the end", () => {
  const { notes, midi, keys } = scheduler();
  notes.schedule(0, [{ pitch: 60, start: 0, duration: 2, velocity: 80 }, { pitch: 60, start: 1, duration: 2, velocity: 80 }], 0);
  notes.fire(0);
  notes.fire(1);
  notes.fire(2);
  assert.equal(midi.filter((m) => m[0] === 0x80).length, 0, "the first note's end does not cut the second");
  keys[60] = 1;
  notes.fire(3);
  assert.equal(midi.filter((m) => m[0] === 0x80).length, 0, "a key held through the gate keeps the pitch");
  assert.equal(notes.soundingCount(), 0);
  keys[60] = 0;
  notes.keyReleased(60);
  assert.deepEqual(midi.filter((m) => m[0] === 0x80), [[0x80, 60, 0], [0x80, 60, 0]]);
  assert.deepEqual(balance(midi), { 60: 0 });
});

test("late notes are skipped, never played off the grid; a tie across the bar line keeps one note", () => {
  const { notes, midi, stats } = scheduler();
  notes.schedule(0, [{ pitch: 62, start: 0, duration: 1, velocity: 70 }], 0.5);
  assert.equal(stats.skipped, 1, "scheduled behind the song position");
  notes.schedule(0, [{ pitch: 67, start: 3, duration: 1, velocity: 70 }], 0);
  notes.schedule(4, [{ pitch: 67, start: -1, duration: 2, velocity: 70 }], 3.5);
  notes.fire(3);
  notes.fire(4);
  notes.fire(5);
  assert.deepEqual(midi, [[0x90, 67, 70], [0x80, 67, 0]], "tied: its off moved to the continuation's end");
  notes.schedule(8, [{ pitch: 69, start: 0, duration: 1, velocity: 70 }], 8);
  notes.fire(8.25);
  assert.equal(stats.skipped, 2, "a note-on found more than a 32nd late");
  notes.fire(10);
  assert.equal(midi.length, 2, "nor its off");
});

test("silence: an off for every note still on or held back; All Notes Off when stopping", () => {
  const { notes, midi, keys } = scheduler();
  notes.schedule(0, [{ pitch: 60, start: 0, duration: 4, velocity: 90 }, { pitch: 72, start: 0, duration: 1, velocity: 90 },
    { pitch: 76, start: 2, duration: 1, velocity: 90 }], 0);
  keys[72] = 1;
  notes.fire(0);
  notes.fire(1);                                  // 72's off waits for the key
  notes.silence(false, true);
  assert.deepEqual(balance(midi), { 60: 0, 72: 0 }, "a jump: only the offs owed");
  assert.equal(midi.filter((m) => m[0] === 0xB0).length, 0);
  notes.fire(3);
  assert.deepEqual(balance(midi), { 60: 0, 72: 0 }, "the schedule is forgotten");
  notes.silence(true, false);
  assert.equal(midi.filter((m) => m[0] === 0xB0).length, 0, "nothing owed and not asked: no All Notes Off");
  notes.silence(true, true);
  assert.deepEqual(midi.pop(), [0xB0, 123, 0]);
  assert.equal(notes.soundingCount(), 0);
});
