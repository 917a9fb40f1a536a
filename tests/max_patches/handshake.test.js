// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// The Max-side client's handshake with a server on another machine (qbdi_protocol.js): padded
// ping, cookie on every request, renewal, one retry after a "cookie" error; nothing of it on the
// loopback. Against the real server bound on a non-loopback address: e2e/remote.e2e.js.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");

const P = require("../../max_patches/qbdi_exchange.js").attach(require("../../max_patches/qbdi_protocol.js"));

function client(host, t) {
  const sent = [];
  const events = [];
  const c = new P.Client({ send: (m) => sent.push(m), now: () => t.now, onEvent: (e) => events.push(e),
                           replyPort: 7555, firstId: 10, host });
  return { c, sent, events };
}

test("loopback hosts are recognised, others are not", () => {
  for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "::ffff:127.0.0.1", undefined]) assert.ok(P.isLoopbackHost(h), h);
  for (const h of ["192.168.1.20", "10.0.0.2", "::", "0.0.0.0", "studio.local", "fd00::2", "128.0.0.1"]) assert.ok(!P.isLoopbackHost(h), h);
});

test("on the loopback nothing changes: plain pings, no cookie", () => {
  const t = { now: 0 };
  const { c, sent } = client("127.0.0.1", t);
  c.status();
  c.ping();
  c.handle(P.PONG, [11, "0.1.0", 1, "qshouldnotbeused0"]);   // even if a server sent one
  c.models();
  assert.deepEqual(sent, [[P.STATUS, 10, 7555], [P.PING, 11, 7555], [P.MODELS, 12, 7555]]);
  assert.equal(c.remote, false);
});

test("another machine: the request waits for a padded ping, then carries the cookie", () => {
  const t = { now: 0 };
  const { c, sent, events } = client("192.168.1.20", t);
  const req = c.status();
  assert.equal(sent.length, 1);
  const [address, id] = sent[0];
  assert.equal(address, P.PING);
  assert.ok(P.oscSize(sent[0]) >= P.HANDSHAKE_BYTES && P.oscSize(sent[0]) <= P.HANDSHAKE_BYTES + 4);
  c.handle(P.PONG, [id, "0.1.0", 1, "qaaaaaaaaaaaaaaaa"]);
  assert.deepEqual(sent[1], [P.STATUS, req.id, 7555, P.COOKIE_KEY, "qaaaaaaaaaaaaaaaa"]);
  assert.deepEqual(events, [], "the handshake's pong is not reported");
  c.handle(P.STATUS_REPLY, [req.id, 1, "pop", 1, 2.5, 3, 0]);
  assert.equal(events[0].type, "status");
  const imp = c.improvise([{ pitch: 60, start: 0, duration: 1, velocity: 90 }], new P.Settings());
  assert.ok(sent.slice(2).every((m) => m[m.length - 2] === P.COOKIE_KEY && m[m.length - 1] === "qaaaaaaaaaaaaaaaa"));
  assert.equal(sent.length, 4, "a fresh cookie: no new handshake");
  assert.equal(imp.kind, "improvise");
  t.now += P.COOKIE_PERIOD_S * 1000;
  c.free(new P.Settings());
  assert.equal(sent[4][0], P.PING, "an old cookie is renewed first");
});

test("a refused cookie: one new handshake, the request again under a new id, then the error", () => {
  const t = { now: 0 };
  const { c, sent, events } = client("10.0.0.2", t);
  c.ping();
  c.handle(P.PONG, [sent[0][1], "0.1.0", 1, "qbbbbbbbbbbbbbbbb"]);
  assert.equal(events[0].type, "pong");
  assert.equal(events[0].cookie, "qbbbbbbbbbbbbbbbb");
  const req = c.models();
  const first = req.id;
  c.handle(P.ERROR, [first, "cookie", "ping first"]);
  assert.equal(events.length, 1, "not reported: retried");
  const hello = sent[sent.length - 1];
  assert.equal(hello[0], P.PING);
  c.handle(P.PONG, [hello[1], "0.1.0", 1, "qcccccccccccccccc"]);
  const again = sent[sent.length - 1];
  assert.deepEqual(again, [P.MODELS, req.id, 7555, P.COOKIE_KEY, "qcccccccccccccccc"]);
  assert.notEqual(req.id, first);
  c.handle(P.ERROR, [first, "cookie", "a late copy"]);         // the old id: ignored
  c.handle(P.ERROR, [req.id, "cookie", "still no"]);
  assert.equal(events[events.length - 1].code, "cookie", "the second refusal reaches the user");
  assert.equal(c.isPending(), false);
});

test("no answer to the handshake: the waiting request goes out as it is and times out on its own", () => {
  const t = { now: 0 };
  const { c, sent, events } = client("10.0.0.2", t);
  const req = c.status();
  t.now += c.timeouts.ping + 1;
  c.tick();
  assert.deepEqual(sent[1], [P.STATUS, req.id, 7555]);
  t.now += c.timeouts.status;
  c.tick();
  assert.equal(events[events.length - 1].type, "timeout");
  assert.equal(events[events.length - 1].request.kind, "status");
});

test("changing the host or the reply port forgets the cookie", () => {
  const t = { now: 0 };
  const { c, sent } = client("10.0.0.2", t);
  c.ping();
  c.handle(P.PONG, [sent[0][1], "0.1.0", 1, "qdddddddddddddddd"]);
  assert.equal(c.cookie, "qdddddddddddddddd");
  c.reset();
  assert.equal(c.cookie, null);
  c.handle(P.PONG, [999, "0.1.0", 1, "qeeeeeeeeeeeeeeee"]);   // not for a pending request: ignored
  assert.equal(c.cookie, null);
  c.setHost("127.0.0.1");
  assert.equal(c.remote, false);
  c.status();
  assert.deepEqual(sent[sent.length - 1].slice(0, 1), [P.STATUS]);
  assert.equal(sent[sent.length - 1].length, 3);
});
