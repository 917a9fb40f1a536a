// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// End to end: qbdi_launcher.js starts a real `python -m bridge serve`, sees it answer ping, and
// stops it; a port held by another program gives the port_in_use error from the real server's
// exit code and stderr line. Needs QBDI_PYTHON (and optionally QBDI_MODEL).
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const dgram = require("dgram");
const os = require("os");

const { Launcher, makeMaxShim } = require("../../../max_patches/qbdi_launcher.js");
const { freePort } = require("../helpers/udp.js");
const { PYTHON, MODEL, pythonEnv, requirePython } = require("./real_server.js");

function waitFor(pred, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const poll = () => {
      if (pred()) return resolve();
      if (Date.now() - t0 > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(poll, 50);
    };
    poll();
  });
}

function launcher(port) {
  requirePython();
  const max = makeMaxShim();
  // scriptDir and homedir point where no packaged binary is, so the configured Python is used
  const l = new Launcher({ maxApi: max, port, python: PYTHON, model: MODEL, env: pythonEnv(),
    scriptDir: os.tmpdir(), homedir: os.tmpdir() });
  return { l, said: () => max.outlets.map((o) => o.join(" ")) };
}

test("starts the real server, sees it answer ping, stops it", async () => {
  const { l, said } = launcher(await freePort());
  try {
    await l.ensure();
    await waitFor(() => l.state === "running" || l.state === "failed", 90000, "the server");
    assert.equal(l.state, "running", said().join("\n"));
    assert.ok(said().some((s) => s.startsWith("command python")));
    assert.ok(said().some((s) => s.startsWith("ready ")), "the server's /qbdi/ready reached the launcher");
    const pong = await l.ping(2000);
    assert.ok(pong, "pong");
    assert.equal(pong.protocolVersion, 1);
    const child = l.child;
    await l.stop();
    assert.equal(l.state, "stopped");
    assert.ok(child.exitCode !== null || child.signalCode !== null);
    assert.equal(await l.ping(500), null, "nothing answers any more");
  } finally {
    l.close();
  }
});

test("a port held by another program: port_in_use from the real server's exit", async () => {
  const blocker = dgram.createSocket("udp4");
  await new Promise((r) => blocker.bind(0, "127.0.0.1", r));
  const port = blocker.address().port;
  const { l, said } = launcher(port);
  try {
    await l.ensure();
    await waitFor(() => l.state === "failed", 90000, "the port error");
    const err = said().find((s) => s.startsWith("error "));
    assert.match(err, /^error port_in_use /, said().join("\n"));
    assert.match(err, new RegExp(String(port)));
  } finally {
    l.close();
    blocker.close();
  }
});
