// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// End to end: play along with qbdi_protocol.js's stream messages over real UDP against a real
// `python -m bridge serve`: bars collected with barNotes (held notes, notes just before a bar
// line), answers assembled with StreamAssembler, each equal to bridge.stream's for the bars as
// sent; a lost bar and a late one do not stall the stream.
// Needs QBDI_PYTHON (and optionally QBDI_MODEL); run through pytest tests/max_patches/test_max_e2e.py.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const dgram = require("dgram");

const P = require("../../../max_patches/qbdi_exchange.js").attach(require("../../../max_patches/qbdi_protocol.js"));
const osc = require("../../../max_patches/qbdi_osc.js");
const { startRealServer, streamReference, rows } = require("./real_server.js");

let server;
test.before(async () => { server = await startRealServer(); });
test.after(async () => { if (server) await server.stop(); });

/** A little performance in beats: chords held over bar lines, a melody, one note just before a line. */
function performance(bars) {
  const notes = [];
  for (let b = 0; b < bars; b++) {
    const root = [48, 45, 41, 43][b % 4];
    if (b % 2 === 0) notes.push({ pitch: root, start: 4 * b, duration: 6, velocity: 70 });
    for (const p of [0, 4, 7]) notes.push({ pitch: root + 12 + p, start: 4 * b, duration: 3.5, velocity: 60 + b });
    for (let i = 0; i < 6; i++) notes.push({ pitch: root + 24 + [0, 2, 4, 7, 9, 12][i], start: 4 * b + i * 0.5, duration: 0.5, velocity: 80 + i * 5 });
  }
  notes.push({ pitch: 84, start: 4 * 2 - 0.05, duration: 0.5, velocity: 100 });   // lands on bar 2's downbeat
  return notes;
}

test("a stream over UDP answers each bar as bridge.stream does; lost and late bars do not stall it", async () => {
  const sock = dgram.createSocket("udp4");
  await new Promise((r) => sock.bind(0, "127.0.0.1", r));
  const replyPort = sock.address().port;
  const assembler = new P.StreamAssembler();
  const answers = [];
  const events = [];
  sock.on("message", (buf) => {
    for (const m of osc.decode(buf)) {
      const ev = P.parseReply(m.address, m.args);
      if (ev.type === "stream_chunk") {
        const done = assembler.add(ev);
        if (done) answers.push(done);
      } else {
        events.push(ev);
      }
    }
  });
  const send = (msgs) => { for (const m of msgs) sock.send(osc.encode(m), server.port, "127.0.0.1"); };
  const until = async (pred, what) => {
    const deadline = Date.now() + 20000;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; events ${JSON.stringify(events)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  try {
    const session = 4242;
    const settings = new P.Settings({ rate: 64, seed: 9, structure: "lock", beats_per_bar: 4 });
    const [open] = P.buildStreamOpen(session, replyPort, settings, { mode: "echo", window: 4 });
    send([open]);
    await until(() => events.some((e) => e.type === "stream_opened"), "stream/opened");
    const opened = events.find((e) => e.type === "stream_opened");
    assert.equal(opened.settings.mode, "echo");
    assert.equal(opened.settings.window, 4);

    const played = performance(6);
    const sent = [];
    for (let bar = 0; bar < 6; bar++) {
      if (bar === 3) continue;                                   // lost on the way
      const msgs = P.buildStreamBar(session, replyPort, bar, P.barNotes(played, 4 * bar, 4));
      sent.push([bar, msgs.flatMap((m) => m.slice(7))]);
      send(msgs);
      await until(() => answers.some((a) => a.bar === bar + 1), `the answer to bar ${bar}`);
      if (bar === 4) send(P.buildStreamBar(session, replyPort, 1, P.barNotes(played, 4, 4)));   // late
    }
    assert.ok(sent[1][1].some((x, i) => i % 4 === 1 && x < 0), "bar 1 carries a held note with a negative start");
    assert.deepEqual(answers.map((a) => a.bar), [1, 2, 3, 5, 6], "every bar answered once, the late one not at all");
    const expected = streamReference(open.slice(3), sent);
    assert.deepEqual(answers.map((a) => a.bar), expected.map((a) => a.bar));
    answers.forEach((a, i) => assert.deepEqual(rows(a.notes), rows(expected[i].notes), `bar ${a.bar}`));
    send(P.buildStreamClose(session, replyPort));
    await until(() => events.some((e) => e.type === "stream_closed"), "stream/closed");
    assert.equal(events.find((e) => e.type === "stream_closed").bars, 5);
    assert.deepEqual(events.filter((e) => e.type === "error"), []);
  } finally {
    sock.close();
  }
});
