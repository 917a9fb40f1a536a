// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// End to end: the abstraction's JavaScript (qbdi.client.js) over real UDP against a real
// `python -m bridge serve`: a note list becomes an improvisation equal to bridge.improvise's,
// a morph (interpolate) gives each step equal to bridge.interpolate's, and a server error (unknown
// model) comes out of the error outlet.
// Needs QBDI_PYTHON (and optionally QBDI_MODEL); run through pytest tests/max_patches/test_max_e2e.py.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");

const P = require("../../../max_patches/qbdi_protocol.js");
const { loadMaxScript } = require("../helpers/maxjs.js");
const { MaxUdp } = require("../helpers/udp.js");
const { startRealServer, reference, morphReference, rows } = require("./real_server.js");

let server;
test.before(async () => { server = await startRealServer(); });
test.after(async () => { if (server) await server.stop(); });

function client() {
  const udp = new MaxUdp({ sendOutlet: 0, receiveOutlet: 1, port: server.port });
  const c = loadMaxScript("qbdi.client.js", { onOutlet: (n, a) => udp.onOutlet(n, a) });
  udp.attach(c);
  c.send("args", server.port);
  c.send("done");
  return { c, udp };
}

test("a note list in, the improvisation out as a list and a dict, equal to bridge.improvise", async () => {
  const { c, udp } = client();
  try {
    c.send("rate", 128);
    c.send("seed", 7);
    c.send("sampling", "sample");
    c.send("temperature", 0.8);
    c.send("list", 60, 0, 1, 100, 64, 1, 1, 90, 67, 2, 1, 80, 72, 3, 1, 110, 71, 4, 2, 70, 67, 6, 2, 64);
    c.send("improvise");
    await udp.waitFor(() => c.out(3).length > 0 || c.out(5).length > 0, 30000, "the result");
    assert.deepEqual(c.out(5), [], "no error");
    const header = udp.sent.find((m) => m.address === P.IMPROVISE);
    const flat = udp.sent.filter((m) => m.address === P.NOTES).flatMap((m) => m.args.slice(4));
    const expected = reference("improvise", header.args.slice(4), flat);
    const list = c.out(2)[0] || [];
    const got = P.unflattenNotes(list);
    assert.deepEqual(rows(got), rows(expected.notes));
    assert.equal(c.out(3)[0][0], "dictionary");
    assert.ok(c.out(4).some((m) => m[0] === "model" && m[1] === expected.model));
    assert.deepEqual(udp.unsafe, []);
  } finally {
    c.dispose();
    udp.close();
  }
});

test("interpolate: the query into queryb, each step of the dict equal to bridge.interpolate", async () => {
  const { c, udp } = client();
  try {
    c.send("seed", 3);
    c.send("list", 60, 0, 2, 100, 64, 0, 2, 90, 67, 2, 2, 80, 65, 4, 4, 70, 69, 4, 4, 70);
    c.send("queryb", 57, 0, 4, 90, 60, 0, 4, 80, 64, 0, 4, 85, 62, 4, 4, 80, 65, 4, 4, 80, 69, 4, 4, 80);
    c.send("interpolate", 4);
    await udp.waitFor(() => c.out(3).length > 0 || c.out(5).length > 0, 60000, "the morph");
    assert.deepEqual(c.out(5), [], "no error");
    const header = udp.sent.find((m) => m.address === P.INTERPOLATE);
    const flat = udp.sent.filter((m) => m.address === P.NOTES).flatMap((m) => m.args.slice(4));
    const [steps, nA, lengthA, lengthB] = header.args.slice(4, 8);
    const clips = morphReference(header.args.slice(8), flat, steps, nA, [lengthA, lengthB]);
    const morph = c.out(4).find((m) => m[0] === "morph");
    assert.deepEqual(morph, ["morph", 4, 8]);
    const { Dict } = require("../helpers/maxjs.js");
    const d = Dict.contents(c.out(3)[0][1]);
    assert.equal(d.steps.length, 4);
    d.steps.forEach((step, k) => {
      const got = step.notes.map((n) => ({ pitch: n.pitch, start: n.start_time, duration: n.duration, velocity: n.velocity }));
      assert.deepEqual(rows(got), rows(clips[k]), `step ${k + 1}`);
    });
  } finally {
    c.dispose();
    udp.close();
  }
});

test("a server error (unknown model) comes out of the error outlet", async () => {
  const { c, udp } = client();
  try {
    c.send("model", "no_such_model");
    c.send("improvise", 60, 0, 1, 100);
    await udp.waitFor(() => c.out(5).length > 0, 30000, "the error");
    const [word, code, message] = c.out(5)[0];
    assert.equal(word, "error");
    assert.equal(code, "unknown_model");
    assert.match(message, /no_such_model/);
    c.send("threshold", 0.3);
    c.send("model", "default");
    c.send("ping");
    await udp.waitFor(() => c.out(4).some((m) => m[0] === "server"), 10000, "pong after the error");
  } finally {
    c.dispose();
    udp.close();
  }
});
