// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// Interpolate: the clip in Detail View (A) and the next clip on its track (B) go out in one
// /qbdi/interpolate request; the reply (every step's notes in sequence) becomes Steps new clips, named
// with their step, written after B (next free Session slots, or after B in the Arrangement). Neither
// source clip is touched. The same against the real server: e2e/device.e2e.js.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");

const P = require("../../max_patches/qbdi_protocol.js");
const { OUT, setup, reply, statusText, assertUntouched } = require("./helpers/device.js");

const B_NOTES = [
  { pitch: 55, start_time: 0, duration: 3, velocity: 70 },
  { pitch: 59, start_time: 3, duration: 3, velocity: 70 },
];

/** The interpolate request the device sent: header fields and the notes of A and B. */
function morphRequest(dev) {
  const msgs = dev.out(OUT.OSC).filter((m) => m[0] === P.INTERPOLATE || m[0] === P.NOTES);
  const header = msgs.find((m) => m[0] === P.INTERPOLATE);
  assert.ok(header, "an interpolate request went out");
  const flat = [];
  msgs.filter((m) => m[0] === P.NOTES && m[1] === header[1]).forEach((m) => flat.push(...m.slice(5)));
  const notes = P.unflattenNotes(flat);
  const nA = header[6];
  return { id: header[1], nNotes: header[3], steps: header[5], lengths: [header[7], header[8]],
           a: notes.slice(0, nA), b: notes.slice(nA), settings: P.pairsToObject(header.slice(9)) };
}

/** Play the server: step k holds one note of pitch 40 + k, in sequence, each step `beats` long. */
function answerMorph(dev, req, beats) {
  const notes = [];
  for (let k = 0; k < req.steps; k++) notes.push({ pitch: 40 + k, start: k * beats + 0.5, duration: 1, velocity: 90 });
  reply(dev, req.id, notes, { rate: 256, seed: req.settings.seed, length_beats: beats });
}

test("Session: A and the next clip below it go out; Steps clips land in the next free slots after B", () => {
  const { live, dev, query, before } = setup({ slots: 4 });
  live.putClip(0, 1, { name: "empty slot above B is not B", notes: [] });
  live.song.tracks[0].clip_slots[1].clip = null;          // slot 2 empty: B is the next clip, in slot 3
  const b = live.putClip(0, 2, { name: "chorus", length: 6, notes: B_NOTES, signature_numerator: 3, signature_denominator: 4 });
  const bBefore = live.snapshot(b);
  dev.send("interpolate_steps", 4);
  dev.send("seed", 9);
  dev.send("interpolate");
  const req = morphRequest(dev);
  assert.equal(req.steps, 4);
  assert.deepEqual(req.lengths, [6, 6]);
  assert.deepEqual(req.a.map((n) => n.pitch), [60, 64, 72, 48], "A: the selected clip, muted note left out");
  assert.deepEqual(req.b.map((n) => [n.pitch, n.start, n.duration]), [[55, 0, 3], [59, 3, 3]]);
  assert.equal(req.nNotes, 6);
  assert.equal(req.settings.beats_per_bar, 3);
  assert.equal(req.settings.seed, 9);
  answerMorph(dev, req, 6);
  const slots = live.song.tracks[0].clip_slots;
  const made = slots.filter((s) => s.clip && /^morph/.test(s.clip.name));
  assert.deepEqual(made.map((s) => s.clip.name), ["morph 1/4 r256 s9", "morph 2/4 r256 s9", "morph 3/4 r256 s9",
                                                  "morph 4/4 r256 s9"]);
  assert.equal(slots.indexOf(made[0]), 3, "after B, never in A's or B's slot");
  assert.deepEqual(made.map((s) => s.clip.notes.map((n) => [n.pitch, n.start_time])), [0, 1, 2, 3].map((k) => [[40 + k, 0.5]]),
    "each clip holds its own step, from its start");
  assert.deepEqual(made.map((s) => s.clip.length), [6, 6, 6, 6]);
  assert.match(statusText(dev), /wrote 4 clips 'morph 1\/4 r256 s9' … 'morph 4\/4 r256 s9'/);
  assertUntouched(live, query, before);
  assertUntouched(live, b, bBefore);
});

test("Arrangement: B is the next clip after A; the steps go after B, never over other clips", () => {
  const { live, dev, query, before } = setup({ arrangement: true });   // A: 16..22, 3/4
  const b = live.addArrangementClip(0, { name: "B", start_time: 24, length: 3, notes: B_NOTES.slice(0, 1),
                                         signature_numerator: 3, signature_denominator: 4 });
  live.addArrangementClip(0, { name: "other", start_time: 36, length: 2 });
  const bBefore = live.snapshot(b);
  dev.send("interpolate_steps", 3);
  dev.send("interpolate");
  const req = morphRequest(dev);
  assert.deepEqual(req.lengths, [6, 3]);
  assert.deepEqual(req.b.map((n) => n.pitch), [55]);
  answerMorph(dev, req, 6);
  const made = live.song.tracks[0].arrangement_clips.filter((c) => /^morph/.test(c.name));
  assert.deepEqual(made.map((c) => [c.name, c.start_time, c.length]),
    [["morph 1/3 r256 s0", 27, 6], ["morph 2/3 r256 s0", 38, 6], ["morph 3/3 r256 s0", 44, 6]],
    "27..33 fits before 'other' (36..38); the second goes after it");
  assertUntouched(live, query, before);
  assertUntouched(live, b, bBefore);
});

test("no next clip, an empty one, or another meter: one line, nothing sent, nothing written", () => {
  const lonely = setup({ slots: 3 });
  lonely.dev.send("interpolate");
  assert.match(statusText(lonely.dev), /next clip on its track.*there is none/);
  assert.equal(lonely.dev.out(OUT.OSC).filter((m) => m[0] === P.INTERPOLATE).length, 0);

  const silent = setup({ slots: 3 });
  silent.live.putClip(0, 1, { name: "blank", notes: [], signature_numerator: 3, signature_denominator: 4 });
  silent.dev.send("interpolate");
  assert.match(statusText(silent.dev), /'blank' has no unmuted notes/);

  const waltzAndFour = setup({ slots: 3 });
  waltzAndFour.live.putClip(0, 1, { name: "four", notes: B_NOTES, signature_numerator: 4, signature_denominator: 4 });
  waltzAndFour.dev.send("interpolate");
  assert.match(statusText(waltzAndFour.dev), /different meters/);
  for (const s of [lonely, silent, waltzAndFour]) {
    assert.equal(s.dev.out(OUT.OSC).filter((m) => m[0] === P.INTERPOLATE).length, 0);
    assert.equal(s.live.song.tracks[0].clip_slots.filter((x) => x.clip && /^morph/.test(x.clip.name)).length, 0);
    assertUntouched(s.live, s.query, s.before);
  }
});

test("Steps is clamped to 2-16; a server error is shown and nothing is written", () => {
  const { live, dev } = setup({ slots: 4 });
  live.putClip(0, 1, { name: "B", notes: B_NOTES, signature_numerator: 3, signature_denominator: 4 });
  dev.send("interpolate_steps", 40);
  dev.send("interpolate");
  const req = morphRequest(dev);
  assert.equal(req.steps, P.MAX_INTERPOLATE_STEPS);
  dev.send(P.ERROR, req.id, "too_large", "the morph would write 16 steps x 64 bars");
  assert.match(statusText(dev), /too_large: the morph would write/);
  assert.equal(live.song.tracks[0].clip_slots.filter((s) => s.clip && /^morph/.test(s.clip.name)).length, 0);
  dev.clear();
  dev.send("interpolate_steps", 1);
  dev.send("interpolate");
  assert.equal(morphRequest(dev).steps, P.MIN_INTERPOLATE_STEPS);
});

test("protocol: buildInterpolate chunks A then B as an improvise request; splitSteps undoes the sequence", () => {
  const a = [];
  for (let i = 0; i < 200; i++) a.push({ pitch: 60 + (i % 12), start: i * 0.25, duration: 0.25, velocity: 80 });
  const b = [{ pitch: 50, start: 0, duration: 4, velocity: 60 }];
  const msgs = P.buildInterpolate(7, 7401, a, b, 5, 50, 0, { seed: 3 });
  assert.deepEqual(msgs[0].slice(0, 9), [P.INTERPOLATE, 7, 7401, 201, 2, 5, 200, 50, 0]);
  assert.equal(msgs.length, 3);
  assert.deepEqual(msgs.slice(1).map((m) => m.slice(0, 5)), [[P.NOTES, 7, 7401, 0, 2], [P.NOTES, 7, 7401, 1, 2]]);
  assert.throws(() => P.buildInterpolate(1, 1, a, b, 17, 0, 0), /steps must be a whole number from 2 to 16/);
  const parts = P.splitSteps([{ pitch: 1, start: 0, duration: 1, velocity: 1 }, { pitch: 2, start: 8.5, duration: 1, velocity: 1 },
                              { pitch: 3, start: 16, duration: 1, velocity: 1 }], 3, 8);
  assert.deepEqual(parts.map((p) => p.map((n) => [n.pitch, n.start])), [[[1, 0]], [[2, 0.5]], [[3, 0]]]);
});
