// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// End to end: the abstraction's JavaScript (qbdi.client.js) over real UDP against a real
// `python -m bridge serve`: a note list becomes an improvisation equal to bridge.improvise's,
// and a server error (unknown model) comes out of the error outlet.
// Needs QBDI_PYTHON (and optionally QBDI_MODEL); run through pytest tests/max_patches/test_max_e2e.py.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");

const P = require("../../../max_patches/qbdi_protocol.js");
const { loadMaxScript } = require("../helpers/maxjs.js");
const { MaxUdp } = require("../helpers/udp.js");
const { startRealServer, reference, rows } = require("./real_server.js");

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
