// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// End to end: the device's own JavaScript (qbdi_device.js + qbdi_protocol.js), over real UDP,
// against a real `python -m bridge serve`; the notes written into the stand-in clip equal what
// bridge.improvise gives for the same query, settings and seed.
// Needs QBDI_PYTHON (and optionally QBDI_MODEL); run through pytest tests/max_patches/test_max_e2e.py.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");

const P = require("../../../max_patches/qbdi_protocol.js");
const { loadMaxScript } = require("../helpers/maxjs.js");
const { FakeLive } = require("../helpers/fake_live.js");
const { MaxUdp, answerPortProbes } = require("../helpers/udp.js");
const { startRealServer, reference, morphReference, rows } = require("./real_server.js");

// two bars of a 4/4 pop-ish phrase, with one muted note the query must leave out
const PHRASE = [
  [60, 0, 1, 96], [64, 1, 0.5, 80], [67, 1.5, 0.5, 84], [72, 2, 1, 100], [67, 3, 1, 70],
  [62, 4, 0.5, 90], [65, 4.5, 0.5, 76], [69, 5, 1, 88], [74, 6, 1.5, 104], [71, 7.5, 0.5, 60],
  [48, 0, 4, 70], [43, 4, 4, 72],
].map(([pitch, start_time, duration, velocity]) => ({ pitch, start_time, duration, velocity }));
PHRASE.push({ pitch: 79, start_time: 2, duration: 1, velocity: 127, mute: 1 });

let server;
test.before(async () => { server = await startRealServer(); });
test.after(async () => { if (server) await server.stop(); });

async function device(live) {
  const udp = new MaxUdp({ sendOutlet: 0, receiveOutlet: 3, port: server.port });
  const dev = loadMaxScript("qbdi_device.js", { LiveAPI: live.LiveAPI, onOutlet: (n, a) => udp.onOutlet(n, a) });
  udp.attach(dev);
  dev.send("server_port", server.port);
  dev.send("init");
  await answerPortProbes(dev);
  return { dev, udp };
}

function sentRequest(udp, address) {
  const header = [...udp.sent].reverse().find((m) => m.address === address);
  const id = header.args[0];
  const flat = [];
  udp.sent.filter((m) => m.address === P.NOTES && m.args[0] === id).forEach((m) => flat.push(...m.args.slice(4)));
  return { id, settings: address === P.FREE ? header.args.slice(2) : header.args.slice(4), flat };
}

function status(dev) {
  const s = dev.out(1);
  return s.length ? s[s.length - 1].join(" ") : "";
}

test("Improvise: the clip written equals qbdi improvise for the same query, settings and seed", async () => {
  const live = new FakeLive();
  live.addTrack({ slots: 4 });
  live.addDevice(0);
  const query = live.putClip(0, 0, { name: "phrase", length: 8, notes: PHRASE });
  live.select(query);
  const before = live.snapshot(query);
  const { dev, udp } = await device(live);
  try {
    await udp.waitFor(() => dev.out(2).some((m) => m[0] === 1), 30000, "pong from the real server");
    dev.send("rate", 64);
    dev.send("seed", 42);
    dev.send("improvise");
    const slot = live.song.tracks[0].clip_slots[1];
    await udp.waitFor(() => slot.clip || /⚠/.test(status(dev)), 30000, "the improvisation");
    assert.ok(slot.clip, status(dev));
    const sent = sentRequest(udp, P.IMPROVISE);
    assert.equal(sent.flat.length / 4, 12, "the muted note stayed out of the query");
    const expected = reference("improvise", sent.settings, sent.flat);
    assert.deepEqual(rows(slot.clip.notes), rows(expected.notes));
    assert.equal(slot.clip.name, "improv r64 s42");

    dev.send("reroll");       // new seed, same settings, same query: the next empty slot
    const next = live.song.tracks[0].clip_slots[2];
    await udp.waitFor(() => next.clip || /⚠/.test(status(dev)), 30000, "the re-rolled improvisation");
    assert.ok(next.clip, status(dev));
    const again = sentRequest(udp, P.IMPROVISE);
    assert.notEqual(again.id, sent.id);
    assert.deepEqual(again.flat, sent.flat);
    assert.deepEqual(rows(next.clip.notes), rows(reference("improvise", again.settings, again.flat).notes));
    assert.deepEqual(live.snapshot(query), before, "query clip unchanged");
    assert.deepEqual(udp.unsafe, [], "every reply is something Max's udpreceive reads");
  } finally {
    dev.dispose();
    udp.close();
  }
});

test("Free against the real server", async () => {
  const live = new FakeLive();
  live.addTrack({ slots: 4 });
  live.addDevice(0);
  const { dev, udp } = await device(live);
  try {
    dev.send("bars", 2);
    dev.send("free");
    const slot = live.song.tracks[0].clip_slots[0];
    await udp.waitFor(() => slot.clip || /⚠/.test(status(dev)), 30000, "the free improvisation");
    assert.ok(slot.clip, status(dev));
    const sent = sentRequest(udp, P.FREE);
    assert.deepEqual(rows(slot.clip.notes), rows(reference("free", sent.settings).notes));
    assert.equal(slot.clip.length, 8);
  } finally {
    dev.dispose();
    udp.close();
  }
});

test("Variations 3 against the real server: three clips, consecutive seeds, each equal to qbdi improvise", async () => {
  const live = new FakeLive();
  live.addTrack({ slots: 4 });
  live.addDevice(0);
  const query = live.putClip(0, 0, { name: "phrase", length: 8, notes: PHRASE });
  live.select(query);
  const before = live.snapshot(query);
  const { dev, udp } = await device(live);
  try {
    await udp.waitFor(() => dev.out(2).some((m) => m[0] === 1), 30000, "pong from the real server");
    dev.send("rate", 32);
    dev.send("seed", 40);
    dev.send("sampling", "sample");
    dev.send("variations", 3);
    dev.send("improvise");
    const slots = live.song.tracks[0].clip_slots;
    await udp.waitFor(() => slots.filter((s) => s.clip).length === 4 || /⚠/.test(status(dev)), 60000, "three clips");
    assert.equal(slots.filter((s) => s.clip).length, 4, status(dev));
    const sent = udp.sent.filter((m) => m.address === P.IMPROVISE);
    assert.equal(sent.length, 3);
    const seeds = sent.map((m) => P.pairsToObject(m.args.slice(4)).seed);
    assert.deepEqual(seeds, [40, 41, 42], "consecutive seeds");
    for (let i = 0; i < 3; i++) {
      const id = sent[i].args[0];
      const flat = [];
      udp.sent.filter((m) => m.address === P.NOTES && m.args[0] === id).forEach((m) => flat.push(...m.args.slice(4)));
      const expected = reference("improvise", sent[i].args.slice(4), flat);
      const clip = slots[1 + i].clip;
      assert.equal(clip.name, `improv r32 s${seeds[i]}`);
      assert.deepEqual(rows(clip.notes), rows(expected.notes), `seed ${seeds[i]}: the engine's notes`);
    }
    assert.notDeepEqual(rows(slots[1].clip.notes), rows(slots[2].clip.notes), "different seeds, different notes");
    assert.deepEqual(live.snapshot(query), before, "query clip unchanged");
  } finally {
    dev.dispose();
    udp.close();
  }
});

test("Interpolate against the real server: Steps clips after the second clip, each equal to bridge.interpolate", async () => {
  const live = new FakeLive();
  live.addTrack({ slots: 4 });
  live.addDevice(0);
  const a = live.putClip(0, 0, { name: "phrase", length: 8, notes: PHRASE });
  const b = live.putClip(0, 1, { name: "other", length: 4, notes: PHRASE.slice(0, 5).map((n) => Object.assign({}, n, { pitch: n.pitch - 5 })) });
  live.select(a);
  const [beforeA, beforeB] = [live.snapshot(a), live.snapshot(b)];
  const { dev, udp } = await device(live);
  try {
    await udp.waitFor(() => dev.out(2).some((m) => m[0] === 1), 30000, "pong from the real server");
    dev.send("rate", 64);
    dev.send("seed", 5);
    dev.send("interpolate_steps", 4);
    dev.send("interpolate");
    const slots = live.song.tracks[0].clip_slots;
    await udp.waitFor(() => slots.filter((s) => s.clip).length === 6 || /⚠/.test(status(dev)), 60000, "four clips");
    assert.equal(slots.filter((s) => s.clip).length, 6, status(dev));
    const header = udp.sent.find((m) => m.address === P.INTERPOLATE);
    const id = header.args[0];
    const flat = [];
    udp.sent.filter((m) => m.address === P.NOTES && m.args[0] === id).forEach((m) => flat.push(...m.args.slice(4)));
    const [steps, nA, lengthA, lengthB] = header.args.slice(4, 8);
    assert.deepEqual([steps, nA, lengthA, lengthB], [4, 12, 8, 4]);
    const clips = morphReference(header.args.slice(8), flat, steps, nA, [lengthA, lengthB]);
    for (let k = 0; k < 4; k++) {
      const clip = slots[2 + k].clip;
      assert.equal(clip.name, `morph ${k + 1}/4 r64 s5`);
      assert.equal(clip.length, 8);
      assert.deepEqual(rows(clip.notes), rows(clips[k]), `step ${k + 1}: the engine's notes`);
    }
    assert.deepEqual(live.snapshot(a), beforeA, "clip A unchanged");
    assert.deepEqual(live.snapshot(b), beforeB, "clip B unchanged");
    assert.deepEqual(udp.unsafe, [], "every reply is something Max's udpreceive reads");
  } finally {
    dev.dispose();
    udp.close();
  }
});

test("Diagnose against the real server started by the real launcher: every check passes", async () => {
  const { makeRig, until, diagnoseLines, reportBlock } = require("../helpers/rig.js");
  const { freePort } = require("../helpers/udp.js");
  const { PYTHON, MODEL, pythonEnv } = require("./real_server.js");
  const rig = makeRig({ port: await freePort(), launcher: { python: PYTHON, model: MODEL, env: pythonEnv(),
    exists: (p) => p === PYTHON } });
  try {
    const mine = rig.live.putClip(0, 0, { name: "mine", notes: PHRASE });
    const before = rig.live.snapshot(mine);
    await until(() => rig.dev.out(2).some((m) => m[0] === 1), 60000, "the real server, started by the launcher");
    rig.dev.send("diagnose");
    await until(() => /Diagnose: \d+ passed/.test(rig.status()), 60000, "the end of Diagnose");
    const lines = diagnoseLines(rig.posts());
    const failed = Object.entries(lines).filter(([, r]) => r.status !== "PASS");
    assert.deepEqual(failed, [], rig.posts().join("\n"));
    assert.equal(Object.keys(lines).length, 12);
    assert.match(lines["server binary"].detail, /found python:/);
    assert.match(lines["server started"].detail, /started by the launcher \(python, pid \d+\), ends with Live \(--exit-with-stdin\)/);
    assert.match(lines["server answering"].detail, /^qbdi \d+\.\d+\.\d+/);
    assert.match(lines["large result"].detail, /^64 bars: \d+ notes in \d+ chunks, all arrived/);
    assert.ok(reportBlock(rig.posts()).length > 12);
    assert.deepEqual(rig.live.snapshot(mine), before, "the user's clip is untouched");
    assert.equal(rig.live.song.tracks[0].clip_slots.filter((s) => s.clip).length, 1, "the scratch clip is gone");
  } finally {
    rig.close();
  }
});
