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
const P = require("../../../max_patches/qbdi_protocol.js");
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
    assert.equal(pong.protocolVersion, P.PROTOCOL_VERSION);
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

test("the real server ends with the launcher: kill -9 of the Node process that runs the launcher", async () => {
  requirePython();
  const childProcess = require("child_process");
  const path = require("path");
  const port = await freePort();
  const script = `
    const { Launcher, makeMaxShim } = require(${JSON.stringify(path.resolve(__dirname, "..", "..", "..", "max_patches", "qbdi_launcher.js"))});
    const l = new Launcher({ maxApi: makeMaxShim(), port: ${port}, python: ${JSON.stringify(PYTHON)}, model: ${JSON.stringify(MODEL)},
      env: ${JSON.stringify(pythonEnv())}, scriptDir: ${JSON.stringify(os.tmpdir())}, homedir: ${JSON.stringify(os.tmpdir())} });
    l.ensure();
    const poll = setInterval(() => {
      if (l.state === "running") { console.log(JSON.stringify({ pid: l.child.pid, args: l.command.args })); clearInterval(poll); }
      if (l.state === "failed") { console.error("failed"); process.exit(1); }
    }, 50);
    setInterval(() => {}, 1000);`;
  const parent = childProcess.spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  const started = await new Promise((resolve, reject) => {
    let out = "";
    parent.stdout.on("data", (d) => { out += d; if (out.includes("\n")) resolve(JSON.parse(out)); });
    parent.once("exit", (code) => reject(new Error(`the launcher process exited (${code}) before the server ran`)));
  });
  const gone = () => {
    try { process.kill(started.pid, 0); } catch (e) { return true; }
    try { return require("fs").readFileSync(`/proc/${started.pid}/stat`, "utf8").split(")").pop().trim()[0] === "Z"; }
    catch (e) { return false; }
  };
  try {
    assert.ok(started.args.includes("--exit-with-stdin"), started.args.join(" "));
    assert.ok(!gone(), "the real server runs");
    parent.kill("SIGKILL");                    // no exit handler runs: only the stdin pipe closes
    await waitFor(gone, 15000, "the orphaned real server to stop");
    const probe = dgram.createSocket("udp4");
    await new Promise((resolve, reject) => { probe.once("error", reject); probe.bind(port, "127.0.0.1", resolve); });
    probe.close();                             // its port is free again
  } finally {
    if (!gone()) process.kill(started.pid, "SIGKILL");
  }
});
