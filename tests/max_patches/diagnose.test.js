// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// Diagnose in the device: every check, with a PASS / FAIL / SKIP line in the Max Console, a summary
// in the status line, and the one-block report (also saved by the launcher). Here against the
// LiveAPI stand-in, a real Launcher and the fake server over real UDP; e2e/device.e2e.js runs it
// against the real `python -m bridge serve`.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const childProcess = require("child_process");
const fs = require("fs");
const path = require("path");

const { makeRig, until, diagnoseLines, reportBlock } = require("./helpers/rig.js");
const { freePort } = require("./helpers/udp.js");

const FAKE = path.join(__dirname, "helpers", "fake_server.js");
const CHECKS = ["scripts", "Live and Max", "create_midi_clip", "launcher", "server binary", "server started",
  "server answering", "protocol", "reply port", "large result", "scratch clip", "timers"];

function spawnFake(cmd, args, opts) {
  return childProcess.spawn(process.execPath, [FAKE, ...args], Object.assign({}, opts, { cwd: undefined }));
}

async function diagnosed(rig, timeoutMs = 20000) {
  rig.dev.send("diagnose");
  await until(() => /Diagnose: \d+ passed/.test(rig.status()), timeoutMs, "the end of Diagnose");
  return diagnoseLines(rig.posts());
}

test("every check passes on a working setup; the Console has a line each and the report block", async () => {
  const port = await freePort();
  const rig = makeRig({ port, launcher: { exists: (p) => p.endsWith(path.join("qbdi-server", "qbdi-server")), spawn: spawnFake } });
  try {
    const query = rig.live.putClip(0, 0, { name: "mine", notes: [{ pitch: 60, start_time: 0, duration: 1 }] });
    const before = rig.live.snapshot(query);
    await until(() => rig.dev.out(2).some((m) => m[0] === 1), 10000, "the LED");
    const lines = await diagnosed(rig);
    assert.deepEqual(Object.keys(lines), CHECKS, rig.posts().join("\n"));
    for (const name of CHECKS) assert.equal(lines[name].status, "PASS", `${name}: ${lines[name].detail}`);
    assert.match(lines.scripts.detail, /qbdi_protocol\.js require, qbdi_exchange\.js require, qbdi_live\.js require, qbdi_diagnose\.js require/);
    assert.match(lines["Live and Max"].detail, /^Live 12\.1\.10/);
    assert.match(lines.create_midi_clip.detail, /has Track\.create_midi_clip/);
    assert.match(lines.launcher.detail, /Node v\d+/);
    assert.match(lines["server binary"].detail, /found next to the device: .*qbdi-server/);
    assert.match(lines["server started"].detail, /started by the launcher \(next to the device, pid \d+\), ends with Live/);
    assert.match(lines["server answering"].detail, /qbdi 0\.0\.0-fake, \d+ ms round trip/);
    assert.match(lines["reply port"].detail, /UDP port \d+/);
    assert.match(lines["large result"].detail, /^64 bars: 256 notes in 2 chunks, all arrived/);
    assert.match(lines["scratch clip"].detail, /wrote 3 notes into empty slot 2 of track 1, read them back, deleted the clip/);
    assert.match(lines.timers.detail, /Max's scheduler runs the device's timer \(\d+ ticks/);
    assert.match(rig.status(), /Diagnose: 12 passed, 0 failed — report in the Max Console/);
    const block = reportBlock(rig.posts());
    assert.equal(block.length, CHECKS.length + 4, block.join("\n"));
    assert.equal(block[block.length - 2], "12 passed, 0 failed");
    // the scratch clip is gone, the user's clip untouched, nothing else written
    const slots = rig.live.song.tracks[0].clip_slots;
    assert.deepEqual(slots.map((s) => (s.clip ? s.clip.name : null)), ["mine", null, null, null]);
    assert.deepEqual(rig.live.snapshot(query), before);
    assert.ok(rig.live.opsOn(query).every((op) => op.op === "get" || /^get_/.test(op.fn || "")));
    // the launcher keeps the report for a bug report
    const file = path.join(rig.home, "Documents", "qbdi", "qbdi-diagnose.txt");
    await until(() => fs.existsSync(file), 3000, "the report file");
    assert.match(fs.readFileSync(file, "utf8"), /PASS large result: 64 bars/);
  } finally {
    rig.close();
  }
});

test("nothing to start: the server checks fail with where it looked; the rest say why they cannot run", async () => {
  const port = await freePort();
  const rig = makeRig({ port, diagnoseStartMs: 2500, live: { arrangementCreate: false, duplicateToArrangement: false,
    version: [11, 0, 2] } });
  try {
    await until(() => /server not found/.test(rig.status()), 5000, "the launcher's error");
    const lines = await diagnosed(rig, 30000);
    assert.equal(lines.create_midi_clip.status, "FAIL");
    assert.match(lines.create_midi_clip.detail, /Live 11\.0\.2 has neither/);
    assert.equal(lines.launcher.status, "PASS");
    assert.equal(lines["server binary"].status, "FAIL");
    assert.match(lines["server binary"].detail, /not found; looked in: .*qbdi-server/);
    assert.equal(lines["server started"].status, "FAIL");
    assert.match(lines["server started"].detail, /no server answers \(launcher state: failed\)/);
    assert.equal(lines["server answering"].status, "FAIL");
    assert.equal(lines.protocol.status, "SKIP");
    assert.equal(lines["reply port"].status, "FAIL");
    assert.equal(lines["large result"].status, "FAIL");
    assert.equal(lines["scratch clip"].status, "PASS", "the Live side works without a server");
    assert.match(rig.status(), /Diagnose: \d+ passed, 6 failed \(create_midi_clip, server binary, server started, server answering, reply port, large result\), 1 skipped/);
  } finally {
    rig.close();
  }
});

test("a full track: the scratch-clip check is skipped, no scene is added, no clip touched", async () => {
  const port = await freePort();
  const rig = makeRig({ port, slots: 2, launcher: { exists: (p) => p.endsWith(path.join("qbdi-server", "qbdi-server")), spawn: spawnFake } });
  try {
    rig.live.putClip(0, 0, { name: "a" });
    rig.live.putClip(0, 1, { name: "b" });
    await until(() => rig.dev.out(2).some((m) => m[0] === 1), 10000, "the LED");
    const lines = await diagnosed(rig);
    assert.equal(lines["scratch clip"].status, "SKIP");
    assert.match(lines["scratch clip"].detail, /no empty clip slot on track 1 to try it in/);
    assert.equal(rig.live.song.tracks[0].clip_slots.length, 2);
    assert.ok(!rig.live.log.some((e) => e.fn === "create_scene" || e.fn === "create_clip"));
  } finally {
    rig.close();
  }
});

test("Max's timers stopped (audio engine off?): the launcher's clock drives Diagnose to the end", async () => {
  const port = await freePort();
  const rig = makeRig({ port, timers: "manual",
    launcher: { exists: (p) => p.endsWith(path.join("qbdi-server", "qbdi-server")), spawn: spawnFake } });
  try {
    await until(() => rig.dev.out(2).some((m) => m[0] === 1) || rig.launcher.state === "running", 10000, "the server");
    await new Promise((r) => setTimeout(r, 1700));                // no Task tick: the next message asks for the clock
    rig.dev.send("ping");
    await until(() => rig.launcher.clockTimer !== null, 3000, "the clock");
    const lines = await diagnosed(rig);
    assert.equal(lines.timers.status, "PASS");
    assert.match(lines.timers.detail, /Max's scheduler did not run \(audio engine off\?\); the launcher's clock drives the device/);
  } finally {
    rig.close();
  }
});

test("the scratch clip (create, name, notes, delete) is one undo step where the LOM offers begin_undo_step", () => {
  const P = require("../../max_patches/qbdi_protocol.js");
  const qbdiLive = require("../../max_patches/qbdi_live.js");
  const { FakeLive } = require("./helpers/fake_live.js");
  for (const undoSteps of [true, false]) {
    const live = new FakeLive({ undoSteps });
    const t = live.addTrack({ slots: 2 });
    live.addDevice(t);
    const r = qbdiLive.make(live.LiveAPI, P).scratchCheck();
    assert.equal(r.ok, true, r.detail);
    const writes = live.log.map((e, i) => [e, i]).filter(([e]) => ["create_clip", "add_new_notes", "delete_clip"].includes(e.fn) ||
      (e.op === "set" && e.prop === "name"));
    assert.deepEqual(writes.map(([e]) => e.fn || e.prop), ["create_clip", "name", "add_new_notes", "delete_clip"]);
    if (undoSteps) {
      assert.equal(live.undoSteps.length, 1);
      const [{ begin, end }] = live.undoSteps;
      assert.ok(writes.every(([, i]) => i > begin && i < end), "all four between begin_undo_step and end_undo_step");
      assert.equal(live.undoDepth, 0, "closed again");
    } else {
      assert.ok(!live.log.some((e) => /undo_step/.test(e.fn || "")), "nothing called that this Live lacks");
    }
  }
});
