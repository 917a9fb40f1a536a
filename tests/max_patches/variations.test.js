// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// Variations (1-8): one press of Improvise, Continue, Re-roll or Free writes that many clips with
// consecutive seeds, named with their seed, into the next free Session slots or one after another in
// the Arrangement, all in one go (one undo step where the LOM has Song.begin_undo_step). Requests go
// one at a time; the query clip is only read. The same against the real server: e2e/device.e2e.js.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");

const P = require("../../max_patches/qbdi_protocol.js");
const { OUT, setup, reply, statusText, assertUntouched } = require("./helpers/device.js");

/** Every improvise/free request sent, in order: {id, seed, settings, notes}. */
function requests(dev) {
  const out = [];
  for (const m of dev.out(OUT.OSC)) {
    if (m[0] !== P.IMPROVISE && m[0] !== P.FREE) continue;
    const settings = P.pairsToObject(m[0] === P.FREE ? m.slice(3) : m.slice(5));
    out.push({ id: m[1], seed: settings.seed, settings, address: m[0] });
  }
  return out;
}

/** Answer the outstanding request with notes that carry its seed in their pitch. */
function answer(dev, r, settings = {}) {
  reply(dev, r.id, [{ pitch: 40 + (r.seed % 40), start: 0, duration: 1, velocity: 90 }],
    Object.assign({ rate: 256, seed: r.seed }, settings));
}

/** Play the server for a whole press: answer each request as it comes. */
function serve(dev, n, settings) {
  for (let i = 0; i < n; i++) {
    const all = requests(dev);
    assert.equal(all.length, i + 1, `request ${i + 1} goes out after reply ${i}`);
    answer(dev, all[i], settings);
  }
}

test("Improvise with Variations 4: seeds 42..45, four clips in the next empty slots, named with their seed", () => {
  const { live, dev, query, before } = setup({ slots: 4 });
  live.putClip(0, 2, { name: "theirs", notes: [] });           // slot 3 is taken: skipped, not touched
  dev.send("variations", 4);
  dev.send("seed", 42);
  dev.send("improvise");
  assert.equal(requests(dev).length, 1, "one request at a time");
  const slots = live.song.tracks[0].clip_slots;
  for (let i = 0; i < 4; i++) {
    assert.equal(slots.filter((s) => s.clip && /^improv/.test(s.clip.name)).length, 0, "nothing written before the last reply");
    answer(dev, requests(dev)[i]);
  }
  const sent = requests(dev);
  assert.deepEqual(sent.map((r) => r.seed), [42, 43, 44, 45]);
  const { seed: a, ...first } = sent[0].settings;
  for (const r of sent) { const { seed, ...rest } = r.settings; assert.deepEqual(rest, first, "only the seed differs"); }
  const names = slots.map((s) => (s.clip ? s.clip.name : null));
  assert.deepEqual(names, ["riff", "improv r256 s42", "theirs", "improv r256 s43", "improv r256 s44", "improv r256 s45"]);
  assert.equal(slots.length, 6, "scenes added for the clips that did not fit");
  assert.deepEqual(slots.filter((s) => s.clip && /^improv/.test(s.clip.name)).map((s) => s.clip.notes[0].pitch),
    [42, 43, 44, 45].map((seed) => 40 + (seed % 40)), "each clip holds its own seed's notes");
  assert.match(statusText(dev), /wrote 4 clips 'improv r256 s42' … 'improv r256 s45'/);
  assert.equal(slots[2].clip.name, "theirs");
  assertUntouched(live, query, before);
});

test("Variations in the Arrangement: one after another after the query, never over other clips", () => {
  const { live, dev, query, before } = setup({ arrangement: true });
  live.addArrangementClip(0, { name: "next", start_time: 28, length: 2 });
  dev.send("variations", 3);
  dev.send("seed", 7);
  dev.send("improvise");
  serve(dev, 3);
  const made = live.song.tracks[0].arrangement_clips.filter((c) => /^improv/.test(c.name));
  assert.deepEqual(made.map((c) => [c.name, c.start_time, c.length]),
    [["improv r256 s7", 22, 6], ["improv r256 s8", 30, 6], ["improv r256 s9", 36, 6]],
    "22..28 fits before 'next' (28..30); the second would overlap it and goes after it");
  assert.equal(live.song.tracks[0].clip_slots.filter((s) => s.clip).length, 0);
  assertUntouched(live, query, before);
});

test("Continue and Free with Variations 2; Re-roll picks a new first seed", () => {
  const { live, dev, query, before } = setup();
  dev.send("variations", 2);
  dev.send("continue_bars", 1);
  dev.send("seed", 100);
  dev.send("continue_clip");
  serve(dev, 2, { continue_bars: 1 });
  let sent = requests(dev);
  assert.deepEqual(sent.map((r) => [r.seed, r.settings.continue_bars]), [[100, 1], [101, 1]]);
  assert.deepEqual(live.song.tracks[0].clip_slots.slice(1, 3).map((s) => s.clip.name), ["cont r256 s100", "cont r256 s101"]);
  dev.clear();
  live.select(null);
  dev.send("free");
  serve(dev, 2);
  sent = requests(dev);
  assert.ok(sent.every((r) => r.address === P.FREE));
  assert.deepEqual(sent.map((r) => r.seed), [100, 101]);
  assert.deepEqual(live.song.tracks[0].clip_slots.slice(3, 5).map((s) => s.clip.name), ["free r256 s100", "free r256 s101"]);
  dev.clear();
  live.select(query);
  dev.send("reroll");
  const seed = dev.out(OUT.UI).find((m) => m[0] === "seed")[1];
  serve(dev, 2);
  assert.deepEqual(requests(dev).map((r) => r.seed), [seed, seed + 1]);
  assertUntouched(live, query, before);
});

test("one undo step around all the clips where the LOM offers Song.begin_undo_step", () => {
  const { live, dev } = setup({ live: { undoSteps: true } });
  dev.send("variations", 3);
  dev.send("improvise");
  serve(dev, 3);
  assert.equal(live.undoSteps.length, 1);
  const [{ begin, end }] = live.undoSteps;
  const writes = live.log.map((e, i) => [e, i]).filter(([e]) => e.fn === "create_clip" || e.fn === "add_new_notes" || e.op === "set");
  assert.equal(writes.filter(([e]) => e.fn === "create_clip").length, 3);
  assert.ok(writes.every(([, i]) => i > begin && i < end), "every write between begin_undo_step and end_undo_step");
  assert.equal(live.undoDepth, 0, "closed again");
});

test("without begin_undo_step nothing is called that Live lacks; one clip needs no undo step", () => {
  const { live, dev } = setup();
  dev.send("variations", 2);
  dev.send("improvise");
  serve(dev, 2);
  assert.ok(!live.log.some((e) => /undo_step/.test(e.fn || "")));
  assert.equal(live.printed.length, 0);
  const one = setup({ live: { undoSteps: true } });
  one.dev.send("improvise");
  serve(one.dev, 1);
  assert.equal(one.live.undoSteps.length, 0);
});

test("an error halfway: the clips that arrived are written, the status says where it stopped", () => {
  const { live, dev, query, before } = setup();
  dev.send("variations", 3);
  dev.send("seed", 1);
  dev.send("improvise");
  answer(dev, requests(dev)[0]);
  const second = requests(dev)[1];
  dev.send(P.ERROR, second.id, "busy", "64 improvisations are waiting already; try again in a moment");
  assert.equal(requests(dev).length, 2, "no third request after an error");
  const written = live.song.tracks[0].clip_slots.filter((s) => s.clip && /^improv/.test(s.clip.name));
  assert.deepEqual(written.map((s) => s.clip.name), ["improv r256 s1"]);
  assert.match(statusText(dev), /stopped after 1 of 3: busy: 64 improvisations/);
  assertUntouched(live, query, before);
});

test("a second press while one runs replaces it; the late replies of the first are ignored", () => {
  const { live, dev } = setup();
  dev.send("variations", 2);
  dev.send("seed", 10);
  dev.send("improvise");
  const old = requests(dev)[0];
  dev.send("seed", 20);
  dev.send("improvise");
  answer(dev, old);                                   // a late reply to the first press
  assert.equal(requests(dev).length, 2, "the first press asks for nothing more");
  answer(dev, requests(dev)[1]);
  answer(dev, requests(dev)[2]);
  const names = live.song.tracks[0].clip_slots.filter((s) => s.clip && /^improv/.test(s.clip.name)).map((s) => s.clip.name);
  assert.deepEqual(names, ["improv r256 s20", "improv r256 s21"]);
});

test("Variations is clamped to 1..8", () => {
  const { dev } = setup();
  dev.send("variations", 20);
  dev.send("improvise");
  serve(dev, 8);
  assert.equal(requests(dev).length, 8);
  dev.clear();
  dev.send("variations", 0);
  dev.send("improvise");
  serve(dev, 1);
  assert.equal(requests(dev).length, 1);
});
