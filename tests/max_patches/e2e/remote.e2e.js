// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// End to end, a peer "on another machine": the abstraction's JavaScript against a real
// `python -m bridge serve --host <this machine's LAN address>`, talking to that address, so the
// server sees a non-loopback source and answers only after the handshake. The handshake is
// transparent: the improvisation equals bridge.improvise's, and every request after the first
// pong carries the cookie. Needs QBDI_E2E_LAN_HOST (set by tests/max_patches/test_max_e2e.py).
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");

const P = require("../../../max_patches/qbdi_protocol.js");
const { loadMaxScript } = require("../helpers/maxjs.js");
const { MaxUdp } = require("../helpers/udp.js");
const { startRealServer, reference, rows } = require("./real_server.js");

const LAN = process.env.QBDI_E2E_LAN_HOST || "";

test("through the handshake: a note list in, the improvisation out, equal to bridge.improvise", { skip: !LAN && "no non-loopback address on this machine" }, async () => {
  const server = await startRealServer({ host: LAN });
  const udp = new MaxUdp({ sendOutlet: 0, receiveOutlet: 1, host: LAN, port: server.port, bindHost: LAN });
  const c = loadMaxScript("qbdi.client.js", { onOutlet: (n, a) => udp.onOutlet(n, a) });
  udp.attach(c);
  try {
    c.send("host", LAN);
    c.send("args", server.port);
    c.send("done");
    await udp.waitFor(() => c.out(4).some((m) => m[0] === "server"), 10000, "the pong");
    const ping = udp.sent.find((m) => m.address === P.PING);
    assert.ok(ping.size >= P.HANDSHAKE_BYTES, `the first ping is padded (${ping.size} bytes)`);
    c.send("rate", 128);
    c.send("seed", 7);
    c.send("list", 60, 0, 1, 100, 64, 1, 1, 90, 67, 2, 1, 80, 72, 3, 1, 110);
    c.send("improvise");
    await udp.waitFor(() => c.out(3).length > 0 || c.out(5).length > 0, 30000, "the result");
    assert.deepEqual(c.out(5), [], "no error");
    const header = udp.sent.find((m) => m.address === P.IMPROVISE);
    const chunks = udp.sent.filter((m) => m.address === P.NOTES);
    for (const m of [header, ...chunks]) assert.equal(m.args[m.args.length - 2], P.COOKIE_KEY);
    const settings = header.args.slice(4, -2);
    const flat = chunks.flatMap((m) => m.args.slice(4, -2));
    const expected = reference("improvise", settings, flat);
    assert.deepEqual(rows(P.unflattenNotes(c.out(2)[0] || [])), rows(expected.notes));
    assert.deepEqual(udp.unsafe, []);
  } finally {
    c.dispose();
    udp.close();
    await server.stop();
  }
});
