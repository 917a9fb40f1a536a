// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// qbdi.client.js (the plain-Max abstraction's [js]): inlet messages -> OSC, replies -> outlets.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");

const P = require("../../max_patches/qbdi_protocol.js");
const { loadMaxScript, Dict } = require("./helpers/maxjs.js");

const OUT = { OSC: 0, RECEIVE: 1, LIST: 2, DICT: 3, STATUS: 4, ERROR: 5 };

function started() {
  const c = loadMaxScript("qbdi.client.js");
  c.send("args", 7400);
  c.send("done");
  const port = c.out(OUT.RECEIVE).pop();
  assert.equal(port[0], "port");
  assert.ok(port[1] >= 7501 && port[1] < 8000);
  c.clear();
  return { c, replyPort: port[1] };
}

function lastRequest(c) {
  const msgs = c.out(OUT.OSC).filter((m) => [P.IMPROVISE, P.NOTES, P.FREE].includes(m[0]));
  const header = msgs[0];
  const flat = [];
  msgs.slice(1).forEach((m) => flat.push(...m.slice(5)));
  return { header, id: header[1], settings: P.pairsToObject(header[0] === P.FREE ? header.slice(3) : header.slice(5)), flat };
}

test("a flat note list and settings messages become one improvise request", () => {
  const { c, replyPort } = started();
  c.send("rate", 256);
  c.send("seed", 42);
  c.send("temperature", 0.8);
  c.send("sampling", "sample");
  c.send("model", "pop");
  c.send("continue", 2);
  c.send("beats_per_bar", 3);
  c.send("list", 60, 0, 1, 100, 64, 1, 0.5, 37);
  c.send("improvise");
  const r = lastRequest(c);
  assert.deepEqual(r.header.slice(0, 5), [P.IMPROVISE, r.id, replyPort, 2, 1]);
  assert.deepEqual(r.flat, [60, 0, 1, 100, 64, 1, 0.5, 37]);
  assert.deepEqual(r.settings, { model: "pop", rate: 256, sampling: "sample", threshold: 0.5, temperature: 0.8, z: "mean",
    seed: 42, allocation: "query", source: "empirical", beats_per_bar: 3, bars: 8, structure: "free", continue_bars: 2 });
});

test("improvise with notes as arguments; rate full; free N", () => {
  const { c } = started();
  c.send("rate", "full");
  c.send("improvise", 62, 0, 2, 90);
  let r = lastRequest(c);
  assert.deepEqual(r.flat, [62, 0, 2, 90]);
  assert.equal(r.settings.rate, "full");
  c.clear();
  c.send("free", 4);
  r = lastRequest(c);
  assert.equal(r.header[0], P.FREE);
  assert.equal(r.settings.bars, 4);
});

test("a dict in Live's shape is a query; muted notes are left out", () => {
  const { c } = started();
  Dict.create("qbdi.test.query", { notes: [
    { pitch: 60, start_time: 0, duration: 1, velocity: 100, mute: 0 },
    { pitch: 61, start_time: 1, duration: 1, velocity: 100, mute: 1 },
    { pitch: 62, start_time: 2, duration: 1, velocity: 55 } ] });
  c.send("dictionary", "qbdi.test.query");
  c.send("improvise");
  assert.deepEqual(lastRequest(c).flat, [60, 0, 1, 100, 62, 2, 1, 55]);
});

test("the result comes out as a list and as a dict in Live's shape, with status", () => {
  const { c } = started();
  c.send("list", 60, 0, 1, 100);
  c.send("improvise");
  const { id } = lastRequest(c);
  c.send(P.RESULT_NOTES, id, 1, 2, 67, 4, 1, 70);
  c.send(P.RESULT, id, 2, 2, "pop", "rate", 256, "seed", 42);
  assert.equal(c.out(OUT.LIST).length, 0, "not before every chunk is in");
  c.send(P.RESULT_NOTES, id, 0, 2, 72, 0, 1, 100);
  assert.deepEqual(c.out(OUT.LIST), [[72, 0, 1, 100, 67, 4, 1, 70]]);
  const [sel, name] = c.out(OUT.DICT)[0];
  assert.equal(sel, "dictionary");
  assert.deepEqual(Dict.contents(name).notes, [
    { pitch: 72, start_time: 0, duration: 1, velocity: 100, mute: 0 },
    { pitch: 67, start_time: 4, duration: 1, velocity: 70, mute: 0 }]);
  const status = c.out(OUT.STATUS);
  assert.ok(status.some((m) => m[0] === "result" && m[1] === id && m[2] === 2));
  assert.ok(status.some((m) => m.join(" ") === "settings rate 256 seed 42"));
  assert.ok(status.some((m) => m.join(" ") === "model pop"));
});

test("the result dict can be sent back in as the next query", () => {
  const { c } = started();
  c.send("list", 60, 0, 1, 100);
  c.send("improvise");
  const { id } = lastRequest(c);
  c.send(P.RESULT, id, 1, 1, "pop");
  c.send(P.RESULT_NOTES, id, 0, 1, 64, 0.5, 0.25, 33);
  const [, name] = c.out(OUT.DICT)[0];
  c.clear();
  c.send("dictionary", name);
  c.send("improvise");
  assert.deepEqual(lastRequest(c).flat, [64, 0.5, 0.25, 33]);
});

test("errors: server errors, bad lists, bad settings, unknown messages, no query", () => {
  const { c } = started();
  c.send("improvise");
  c.send("list", 60, 0, 1);
  c.send("list", 60, 0, -1, 100);
  c.send("threshold", 2);
  c.send("wobble", 1);
  c.send("list", 60, 0, 1, 100);
  c.send("improvise");
  const { id } = lastRequest(c);
  c.send(P.ERROR, id, "unknown_model", "no model named 'x'");
  const errors = c.out(OUT.ERROR).map((e) => `${e[1]}: ${e[2]}`);
  assert.match(errors[0], /^no_query: no query/);
  assert.match(errors[1], /^bad_request: a note list needs 4 numbers per note/);
  assert.match(errors[2], /^bad_request: note 1 \(60 0 -1 100\) is not valid/);
  assert.match(errors[3], /^bad_setting: threshold must be between 0 and 1/);
  assert.match(errors[4], /^bad_setting: unknown message 'wobble'/);
  assert.equal(errors[5], "unknown_model: no model named 'x'");
});

test("ping / status / models / settings / reroll / host / port", () => {
  const { c, replyPort } = started();
  c.send("ping");
  const ping = c.out(OUT.OSC).find((m) => m[0] === P.PING);
  assert.deepEqual(ping.slice(2), [replyPort]);
  c.send(P.PONG, ping[1], "0.1.0", 1);
  assert.ok(c.out(OUT.STATUS).some((m) => m.join(" ") === "connected 1"));
  c.send("models");
  const models = c.out(OUT.OSC).find((m) => m[0] === P.MODELS);
  c.send(P.MODELS_REPLY, models[1], "pop", 1, "pop", 500, 4096);
  assert.ok(c.out(OUT.STATUS).some((m) => m.join(" ") === "models pop pop"));
  c.send("status");
  const st = c.out(OUT.OSC).find((m) => m[0] === P.STATUS);
  c.send(P.STATUS_REPLY, st[1], 1, "pop", 1, 3.5, 10, 0);
  assert.ok(c.out(OUT.STATUS).some((m) => m.join(" ") === "status 1 pop 1 3.5 10 0"));
  c.send("settings");
  assert.ok(c.out(OUT.STATUS).some((m) => m[0] === "settings" && m.includes("rate")));
  c.send("host", "10.0.0.2");
  c.send("port", 7410);
  assert.deepEqual(c.out(OUT.OSC).slice(-2), [["host", "10.0.0.2"], ["port", 7410]]);
  c.send("list", 60, 0, 1, 100);
  c.send("seed", 1);
  c.send("reroll");
  const hello = c.out(OUT.OSC).filter((m) => m[0] === P.PING).pop();   // another machine: the handshake first
  assert.ok(P.oscSize(hello) >= P.HANDSHAKE_BYTES);
  c.send(P.PONG, hello[1], "0.1.0", 1, "q0123456789abcdef");
  const r = lastRequest(c);
  assert.notEqual(r.settings.seed, 1);
  assert.deepEqual(r.header.slice(-2), [P.COOKIE_KEY, "q0123456789abcdef"]);
  c.send("replyport", 7999);
  assert.deepEqual(c.out(OUT.RECEIVE).pop(), ["port", 7999]);
});

test("interpolate: the query is clip A, queryb clip B; one request with both, steps and the settings", () => {
  const { c, replyPort } = started();
  c.send("seed", 7);
  c.send("length_beats", 12);
  c.send("list", 60, 0, 1, 100, 64, 1, 1, 90);
  c.send("queryb", 67, 0, 2, 80);
  assert.ok(c.out(OUT.STATUS).some((m) => m.join(" ") === "queryb 1"));
  c.send("interpolate", 4);
  const msgs = c.out(OUT.OSC).filter((m) => [P.INTERPOLATE, P.NOTES].includes(m[0]));
  const header = msgs[0];
  assert.deepEqual(header.slice(0, 9), [P.INTERPOLATE, header[1], replyPort, 3, 1, 4, 2, 0, 0]);
  const settings = P.pairsToObject(header.slice(9));
  assert.equal(settings.seed, 7);
  assert.equal(settings.length_beats, undefined, "each clip's length is its own, not the query's setting");
  assert.deepEqual(msgs[1].slice(5), [60, 0, 1, 100, 64, 1, 1, 90, 67, 0, 2, 80]);
  c.clear();
  c.send("reroll");                      // a new seed, the same morph
  const again = c.out(OUT.OSC).find((m) => m[0] === P.INTERPOLATE);
  assert.equal(again[5], 4);
  assert.notEqual(P.pairsToObject(again.slice(9)).seed, 7);
});

test("a morph's result: the steps in sequence out of the list outlet, each step in the dict, morph STEPS STEP_BEATS", () => {
  const { c } = started();
  c.send("list", 60, 0, 4, 100);
  c.send("queryb", 67, 0, 4, 80);
  c.send("interpolate", 3);
  const id = c.out(OUT.OSC).find((m) => m[0] === P.INTERPOLATE)[1];
  c.send(P.RESULT, id, 3, 1, "pop", "length_beats", 4, "seed", 1);
  c.send(P.RESULT_NOTES, id, 0, 1, 60, 0, 4, 90, 62, 4.5, 1, 80, 67, 8, 4, 70);
  assert.deepEqual(c.out(OUT.LIST), [[60, 0, 4, 90, 62, 4.5, 1, 80, 67, 8, 4, 70]]);
  assert.ok(c.out(OUT.STATUS).some((m) => m.join(" ") === "morph 3 4"));
  const d = Dict.contents(c.out(OUT.DICT)[0][1]);
  assert.equal(d.notes.length, 3);
  assert.deepEqual(d.steps.map((s) => s.notes.map((n) => [n.pitch, n.start_time])), [[[60, 0]], [[62, 0.5]], [[67, 0]]]);
});

test("interpolate errors: no clip B, no query, steps out of range; clear forgets both clips", () => {
  const { c } = started();
  c.send("interpolate");
  c.send("list", 60, 0, 1, 100);
  c.send("interpolate");
  c.send("queryb", 64, 0, 1, 90);
  c.send("interpolate", 1);
  c.send("interpolate", 17);
  c.send("interpolate", 2.5);
  c.send("queryb", 64, 0, 1);
  assert.equal(c.out(OUT.OSC).filter((m) => m[0] === P.INTERPOLATE).length, 0);
  const errors = c.out(OUT.ERROR).map((e) => `${e[1]}: ${e[2]}`);
  assert.match(errors[0], /^no_query: a morph needs two clips/);
  assert.match(errors[1], /^no_query: a morph needs two clips/);
  for (const e of errors.slice(2, 5)) { assert.match(e, /^bad_setting: interpolate takes the number of steps, a whole number from 2 to 16/); }
  assert.match(errors[5], /^bad_request: a note list needs 4 numbers per note/);
  c.send("interpolate", 2);
  assert.equal(c.out(OUT.OSC).filter((m) => m[0] === P.INTERPOLATE).length, 1, "queryb kept its notes after the bad list");
  c.send("clear");
  c.send("interpolate");
  assert.match(c.out(OUT.ERROR).pop()[2], /a morph needs two clips/);
});

// ---- diagnose: the abstraction's checks against the fake server over real UDP ---------------------
const { MaxUdp } = require("./helpers/udp.js");
const { startFakeServer } = require("./helpers/fake_server.js");

test("diagnose: a PASS line per check in the Max Console, the report block, a summary out of the status outlet", async () => {
  const server = await startFakeServer({ port: 0 });
  const udp = new MaxUdp({ sendOutlet: 0, receiveOutlet: 1, port: server.port });
  const c = loadMaxScript("qbdi.client.js", { timers: "real", onOutlet: (n, a) => udp.onOutlet(n, a) });
  udp.attach(c);
  try {
    c.send("args", server.port);
    c.send("done");
    c.send("diagnose");
    await udp.waitFor(() => c.out(OUT.STATUS).some((m) => m[0] === "diagnose"), 30000, "the summary");
    const lines = c.posts.map((p) => p.replace(/\n$/, "")).filter((p) => /^qbdi diagnose: (PASS|FAIL|SKIP)/.test(p));
    assert.deepEqual(lines.map((l) => l.split(" ").slice(2, 3)[0]), ["PASS", "PASS", "PASS", "PASS", "PASS", "PASS", "PASS"],
      lines.join("\n"));
    assert.match(lines.join("\n"), /PASS scripts: \[qbdi\.client\]; qbdi_protocol\.js require, qbdi_exchange\.js require, qbdi_diagnose\.js require/);
    assert.match(lines.join("\n"), /PASS large result: 64 bars: 256 notes in 2 chunks, all arrived/);
    assert.ok(!/launcher|scratch clip|create_midi_clip/.test(lines.join("\n")), "no Live or launcher checks in plain Max");
    assert.deepEqual(c.out(OUT.STATUS).find((m) => m[0] === "diagnose"), ["diagnose", "7 passed, 0 failed"]);
    assert.ok(c.posts.some((p) => p.startsWith("---- qbdi diagnose report")));
    assert.deepEqual(c.out(OUT.LIST), [], "Diagnose's own improvisation does not come out of the notes outlet");
  } finally {
    c.dispose();
    udp.close();
    await server.close();
  }
});

test("qbdi_protocol.js missing: one clear Console line, and no message throws", () => {
  const c = loadMaxScript("qbdi.client.js", { missing: ["qbdi_protocol.js"] });
  assert.ok(c.posts.some((p) => /qbdi_protocol\.js not found\. Max looked next to the abstraction/.test(p)));
  for (const m of ["done", "improvise", "ping", "diagnose", "rate"]) c.send(m);
  c.send("list", 60, 0, 1, 100);
});

test("qbdi_exchange.js missing: the Console names it, and no message throws", () => {
  const c = loadMaxScript("qbdi.client.js", { missing: ["qbdi_exchange.js"] });
  assert.ok(c.posts.some((p) => /qbdi_exchange\.js not found\. Max looked next to the abstraction/.test(p)), c.posts.join("\n"));
  c.send("improvise");
  c.send("rate", 64);
});
