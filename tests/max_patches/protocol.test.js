// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// qbdi_protocol.js: request building, chunking, reply reassembly, the client state machine.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("path");

const P = require("../../max_patches/qbdi_exchange.js").attach(require("../../max_patches/qbdi_protocol.js"));
const osc = require("../../max_patches/qbdi_osc.js");
const { loadMaxScript } = require("./helpers/maxjs.js");

function notes(n, start = 0) {
  const out = [];
  for (let i = 0; i < n; i++) out.push({ pitch: 36 + (i % 60), start_time: start + i * 0.25, duration: 0.25, velocity: 1 + (i % 127) });
  return out;
}

test("the module loads through Max's require (exports only) and through include()", () => {
  for (const loader of ["require", "include"]) {
    const s = loadMaxScript("qbdi.client.js", { loader });
    assert.equal(s.context.qbdi.PROTOCOL_VERSION, 2, loader);
    assert.equal(typeof s.context.qbdi.Client, "function", loader);
  }
});

test("improvise: header then chunks of at most 128 notes, every datagram under the cap", () => {
  for (const n of [0, 1, 127, 128, 129, 300, 1000]) {
    const msgs = P.buildImprovise(7, 7401, notes(n), new P.Settings({ rate: 256, seed: 42 }));
    const chunks = msgs.slice(1);
    assert.equal(msgs[0][0], P.IMPROVISE);
    assert.deepEqual(msgs[0].slice(1, 5), [7, 7401, n, P.nChunks(n)]);
    assert.equal(chunks.length, P.nChunks(n));
    let count = 0;
    chunks.forEach((c, i) => {
      assert.equal(c[0], P.NOTES);
      assert.deepEqual(c.slice(1, 5), [7, 7401, i, chunks.length]);
      const k = (c.length - 5) / 4;
      assert.ok(k <= P.NOTES_PER_CHUNK);
      count += k;
    });
    assert.equal(count, n);
    for (const m of msgs) {
      const size = osc.encode(m).length;
      assert.equal(P.oscSize(m), size, "oscSize agrees with the real encoding");
      assert.ok(size <= P.MAX_DATAGRAM, `${m[0]} is ${size} bytes`);
    }
  }
});

test("a full chunk of worst-case notes stays under MAX_DATAGRAM", () => {
  const worst = [];
  for (let i = 0; i < P.NOTES_PER_CHUNK; i++) worst.push({ pitch: 127, start: 123456.789, duration: 0.3333, velocity: 127 });
  const [, chunk] = P.buildImprovise(2147483000, 65535, worst, new P.Settings());
  assert.ok(osc.encode(chunk).length <= P.MAX_DATAGRAM);
});

test("notes: Live shape and plain shape; velocities kept; invalid and out-of-range notes left out", () => {
  const flat = P.flattenNotes([
    { pitch: 60, start_time: 0, duration: 1, velocity: 37.0, mute: 0 },
    { pitch: 62.0, start: 1.5, duration: 0.5, velocity: 120 },
    { pitch: 64, start_time: 2, duration: 0 },      // zero length
    { pitch: 200, start_time: 2, duration: 1 },     // not MIDI
    { pitch: 65, start_time: -1, duration: 1 },     // before the start
    { pitch: 67, start_time: 3, duration: 1 },      // velocity missing -> 100
  ]);
  assert.deepEqual(flat, [60, 0, 1, 37, 62, 1.5, 0.5, 120, 67, 3, 1, 100]);
  assert.deepEqual(P.buildImprovise(1, 2, [60, 0, 1, 100], null)[1].slice(5), [60, 0, 1, 100], "flat input accepted");
});

test("settings: every key in SETTING_KEYS order, values normalised like bridge.config.Settings", () => {
  const s = new P.Settings();
  assert.deepEqual(s.toArgs(), ["rate", "full", "sampling", "threshold", "threshold", 0.5, "temperature", 1, "z", "mean",
    "seed", 0, "allocation", "query", "source", "empirical", "bars", 8, "structure", "free", "continue_bars", 0]);
  assert.equal(s.set("rate", 256.4), null);
  assert.equal(s.get("rate"), 256);
  s.set("rate", -1);
  assert.equal(s.get("rate"), "full");
  s.set("rate", "FULL");
  assert.equal(s.get("rate"), "full");
  assert.equal(s.set("sampling", 1), null, "menu index");
  assert.equal(s.get("sampling"), "sample");
  assert.equal(s.set("structure", "lock"), null);
  assert.equal(s.set("continue", 4), null, "alias");
  assert.equal(s.get("continue_bars"), 4);
  assert.equal(s.set("model", "default"), null);
  assert.equal(s.get("model"), null);
  s.set("model", "jazz");
  s.set("beats_per_bar", 3);
  const args = s.toArgs();
  assert.deepEqual(args.slice(0, 2), ["model", "jazz"]);
  assert.ok(args.join(" ").includes("beats_per_bar 3"));
  assert.match(s.set("threshold", 1), /threshold must be between 0 and 1/);
  assert.match(s.set("threshold", 0), /exclusive/);
  assert.match(s.set("temperature", 0), /temperature/);
  assert.match(s.set("seed", P.MAX_SEED + 1), /seed must be from 0 to 2147483647/);
  assert.match(s.set("bars", 0), /bars/);
  assert.match(s.set("z", "median"), /z must be one of mean, sample/);
  assert.match(s.set("rate", "lots"), /rate/);
  assert.match(s.set("tempo", 1), /unknown setting/);
  assert.equal(s.get("threshold"), 0.5, "a rejected value leaves the old one");
});

test("reassembly: result and chunks in any order, duplicates ignored", () => {
  const flat = [];
  for (let i = 0; i < 300; i++) flat.push(40 + (i % 50), i * 0.5, 0.5, 90);
  const chunks = P.chunkArgs(flat);
  const header = [5, 300, chunks.length, "pop", "rate", 256, "seed", 42];
  const msgs = chunks.map((c, i) => [P.RESULT_NOTES, [5, i, chunks.length].concat(c)]);
  const orders = [[0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2, 2]];
  for (const order of orders) {
    const r = new P.Reassembler();
    const all = [[P.RESULT, header]].concat(msgs);
    let done = null;
    for (const k of order) {
      const ev = r.add(P.parseReply(all[k][0], all[k][1]), 0);
      if (ev) { assert.equal(done, null); done = ev; }
    }
    assert.ok(done, `order ${order}`);
    assert.equal(done.type, "result");
    assert.equal(done.model, "pop");
    assert.deepEqual(done.settings, { rate: 256, seed: 42 });
    assert.equal(done.notes.length, 300);
    assert.deepEqual(P.flattenNotes(done.notes), flat);
  }
});

test("an empty result completes with its one empty chunk", () => {
  const r = new P.Reassembler();
  assert.equal(r.add(P.parseReply(P.RESULT, [9, 0, 1, "pop"]), 0), null);
  const ev = r.add(P.parseReply(P.RESULT_NOTES, [9, 0, 1]), 0);
  assert.deepEqual(ev.notes, []);
});

test("replies parse: pong, status, models, error, warning, ready, bye; garbage is reported", () => {
  assert.deepEqual(P.parseReply(P.PONG, [3, "0.1.0", 1]), { type: "pong", id: 3, serverVersion: "0.1.0", protocolVersion: 1 });
  const st = P.parseReply(P.STATUS_REPLY, [4, 1, "pop", 2, 12.5, 7, 0]);
  assert.equal(st.ready, true);
  assert.equal(st.served, 7);
  const m = P.parseReply(P.MODELS_REPLY, [5, "pop", 2, "pop", 500, 4096, "jazz", 256, 2048]);
  assert.deepEqual(m.models, [{ name: "pop", latent_size: 500, max_rate: 4096 }, { name: "jazz", latent_size: 256, max_rate: 2048 }]);
  assert.equal(P.parseReply(P.MODELS_REPLY, [5, "pop", 3, "pop", 500, 4096]).type, "bad_reply");
  assert.deepEqual(P.parseReply(P.ERROR, [6, "unknown_model", "no model x"]), { type: "error", id: 6, code: "unknown_model", message: "no model x" });
  assert.equal(P.parseReply(P.WARNING, [6, "hm"]).message, "hm");
  assert.deepEqual(P.parseReply(P.READY, ["0.1.0", 1, 7400, "pop"]), { type: "ready", serverVersion: "0.1.0", protocolVersion: 1, port: 7400, model: "pop" });
  assert.equal(P.parseReply(P.BYE, [8]).id, 8);
  assert.equal(P.parseReply(P.RESULT_NOTES, [1, 0, 1, 60, 0, 1]).type, "bad_reply");
  assert.equal(P.parseReply("/qbdi/nope", [1]).type, "bad_reply");
});

test("client: ids, round-trip time, timeouts, late replies ignored, expiry of half results", () => {
  let t = 1000;
  const sent = [];
  const events = [];
  const c = new P.Client({ send: (m) => sent.push(m), now: () => t, onEvent: (e) => events.push(e), replyPort: 7555, firstId: 10 });
  const ping = c.ping();
  assert.deepEqual(sent[0], [P.PING, 10, 7555]);
  t += 4;
  c.handle(P.PONG, [10, "0.1.0", 1]);
  assert.equal(events[0].type, "pong");
  assert.equal(events[0].rtt, 4);
  assert.equal(events[0].request, ping);

  const imp = c.improvise(notes(3), new P.Settings());
  assert.equal(imp.id, 11);
  assert.equal(sent[1][0], P.IMPROVISE);
  t += 20000;
  c.tick();
  assert.equal(events[1].type, "timeout");
  assert.equal(events[1].request.kind, "improvise");
  assert.equal(c.handle(P.RESULT, [11, 0, 1, "pop"]), null, "late reply ignored");
  assert.equal(c.handle(P.RESULT_NOTES, [11, 0, 1]), null);

  const imp2 = c.improvise(notes(3), new P.Settings());
  c.handle(P.RESULT, [imp2.id, 3, 2, "pop"]);
  c.handle(P.RESULT_NOTES, [imp2.id, 0, 2, 60, 0, 1, 100, 61, 1, 1, 100]);
  t += P.REQUEST_TTL_S * 1000 + 1;
  c.tick();
  const expired = events[events.length - 1];
  assert.equal(expired.type, "error");
  assert.equal(expired.code, "expired");

  const imp3 = c.free(new P.Settings({ bars: 2 }));
  c.handle(P.ERROR, [imp3.id, "busy", "too many requests"]);
  assert.equal(events[events.length - 1].code, "busy");
  assert.equal(c.isPending(), false);

  c.handle(P.ERROR, [-1, "bad_request", "could not read the id"]);
  assert.equal(events[events.length - 1].id, -1, "errors without a readable id still reach the user");
  c.handle(P.ERROR, [999999, "bad_request", "someone else's"]);
  assert.equal(events[events.length - 1].id, -1, "replies to unknown ids are dropped");
});

test("client: a protocol version mismatch is flagged on the pong", () => {
  const events = [];
  const c = new P.Client({ onEvent: (e) => events.push(e), firstId: 1 });
  c.ping();
  c.handle(P.PONG, [1, "9.0.0", P.PROTOCOL_VERSION + 1]);
  assert.match(events[0].mismatch, new RegExp("protocol " + (P.PROTOCOL_VERSION + 1)));
});

test("clip names say what made them", () => {
  assert.equal(P.clipName("improv", { rate: 256, seed: 42 }), "improv r256 s42");
  assert.equal(P.clipName("improv", { rate: "full", seed: 0 }), "improv rfull s0");
  assert.equal(P.clipName("free", { rate: -1, seed: 7 }), "free rfull s7");
});

test("OSC codec: Max-style typing and a round trip", () => {
  const buf = osc.encode(["/qbdi/notes", 1, 7401, 0, 1, 60, 0.5, 1, 100, "x"]);
  const [m] = osc.decode(buf);
  assert.equal(m.address, "/qbdi/notes");
  assert.equal(m.types, "iiiiifiis");
  assert.deepEqual(m.args, [1, 7401, 0, 1, 60, 0.5, 1, 100, "x"]);
  assert.equal(osc.decode(osc.encode(["/a", 1.5], "d"))[0].args[0], 1.5);
  assert.equal(path.basename(__filename), "protocol.test.js");
});

test("a result's measures (retained, copy) come apart from its settings; keptText says them", () => {
  const ev = P.parseReply(P.RESULT, [7, 0, 1, "pop", "rate", 256, "seed", 3, "retained", 0.8234, "copy", 0.0712]);
  assert.deepEqual(ev.settings, { rate: 256, seed: 3 });
  assert.deepEqual(ev.measures, { retained: 0.8234, copy: 0.0712 });
  assert.equal(P.keptText(ev.measures), "harmony 82% · notes 7%");
  assert.equal(P.keptText({}), "");
  assert.deepEqual(P.parseReply(P.RESULT, [7, 0, 1, "pop", "rate", 256]).measures, {});
});
