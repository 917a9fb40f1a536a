// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// The device's and the abstraction's JavaScript over real UDP (Max's udpsend/udpreceive played
// by helpers/udp.js) against helpers/fake_server.js, a Node stand-in for `qbdi serve`. The same
// flows against the real Python server are in e2e/*.e2e.js.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");

const { loadMaxScript } = require("./helpers/maxjs.js");
const { FakeLive } = require("./helpers/fake_live.js");
const { MaxUdp, answerPortProbes } = require("./helpers/udp.js");
const { startFakeServer } = require("./helpers/fake_server.js");

async function deviceOverUdp(live, serverPort) {
  const udp = new MaxUdp({ sendOutlet: 0, receiveOutlet: 3, port: serverPort });
  const dev = loadMaxScript("qbdi_device.js", { LiveAPI: live.LiveAPI, onOutlet: (n, a) => udp.onOutlet(n, a) });
  udp.attach(dev);
  dev.send("server_port", serverPort);
  dev.send("init");
  await answerPortProbes(dev);
  return { udp, dev };
}

test("device: a 300-note Session clip round-trips through chunking both ways and lands in the next slot", async () => {
  const server = await startFakeServer({ port: 0 });
  const live = new FakeLive();
  live.addTrack({ slots: 3 });
  live.addDevice(0);
  const notes = [];
  for (let i = 0; i < 300; i++) notes.push({ pitch: 36 + (i % 48), start_time: i * 0.25, duration: 0.25, velocity: 1 + (i % 127), mute: i % 50 === 0 ? 1 : 0 });
  const query = live.putClip(0, 0, { name: "long", length: 76, notes });
  live.select(query);
  const before = live.snapshot(query);
  const { udp, dev } = await deviceOverUdp(live, server.port);
  try {
    await udp.waitFor(() => dev.out(2).some((m) => m[0] === 1), 30000, "pong (LED on)");
    dev.send("seed", 7);
    dev.send("improvise");
    const slot = live.song.tracks[0].clip_slots[1];
    await udp.waitFor(() => slot.clip && slot.clip.notes.length > 0, 30000, "the improvised clip");
    const sentNotes = notes.filter((n) => !n.mute);
    assert.equal(slot.clip.notes.length, sentNotes.length);
    assert.deepEqual(slot.clip.notes.map((n) => [n.pitch, n.start_time, n.duration, n.velocity]),
      sentNotes.map((n) => [n.pitch + 12, n.start_time, n.duration, n.velocity]));
    assert.equal(slot.clip.name, "improv r256 s7");
    assert.deepEqual(live.snapshot(query), before);
    const chunks = server.received.filter((m) => m.address === "/qbdi/notes");
    assert.equal(chunks.length, 3);
    for (const m of server.received) {
      assert.ok(m.size <= 4096, `${m.address}: ${m.size} bytes`);
      assert.match(m.types, /^[ifs]*$/, `${m.address} sent only int32/float32/string`);
    }
    assert.deepEqual(udp.unsafe, []);
  } finally {
    dev.dispose();
    udp.close();
    await server.close();
  }
});

test("device: a server error (unknown model) reaches the status line over UDP", async () => {
  const server = await startFakeServer({ port: 0 });
  const live = new FakeLive();
  live.addTrack({ slots: 2 });
  live.addDevice(0);
  live.select(live.putClip(0, 0, { notes: [{ pitch: 60, start_time: 0, duration: 1 }] }));
  const { udp, dev } = await deviceOverUdp(live, server.port);
  try {
    dev.send("model", "nonexistent");
    dev.send("improvise");
    const status = () => { const s = dev.out(1); return s.length ? s[s.length - 1].join(" ") : ""; };
    await udp.waitFor(() => /unknown_model/.test(status()), 30000, "the error");
    assert.match(status(), /unknown_model: no model named 'nonexistent'/);
    assert.equal(live.song.tracks[0].clip_slots[1].clip, null);
  } finally {
    dev.dispose();
    udp.close();
    await server.close();
  }
});

test("abstraction: note list in, improvisation out as list and dict; error path", async () => {
  const server = await startFakeServer({ port: 0 });
  const udp = new MaxUdp({ sendOutlet: 0, receiveOutlet: 1, port: server.port });
  const c = loadMaxScript("qbdi.client.js", { onOutlet: (n, a) => udp.onOutlet(n, a) });
  udp.attach(c);
  try {
    c.send("args", server.port);
    c.send("done");
    c.send("rate", 64);
    c.send("list", 60, 0, 1, 100, 62, 1, 1, 80, 64, 2, 2, 60);
    c.send("improvise");
    await udp.waitFor(() => c.out(2).length > 0, 30000, "notes");
    assert.deepEqual(c.out(2)[0], [72, 0, 1, 100, 74, 1, 1, 80, 76, 2, 2, 60]);
    assert.equal(c.out(3)[0][0], "dictionary");
    c.send("model", "nonexistent");
    c.send("improvise");
    await udp.waitFor(() => c.out(5).length > 0, 30000, "error");
    assert.equal(c.out(5)[0][1], "unknown_model");
    c.send("model", "default");
    c.send("free", 2);
    await udp.waitFor(() => c.out(2).length > 1, 30000, "free notes");
    assert.equal(c.out(2)[1].length, 2 * 4 * 4, "2 bars of 4/4, one note per beat");
  } finally {
    c.dispose();
    udp.close();
    await server.close();
  }
});
