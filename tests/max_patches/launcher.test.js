// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// qbdi_launcher.js under plain Node (max-api replaced by its shim), starting helpers/fake_server.js
// as the "server binary": finding it, starting it, port in use, crashes and restarts, stopping.
// The same against the real `python -m bridge serve` is in e2e/launcher.e2e.js.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const childProcess = require("child_process");
const dgram = require("dgram");
const path = require("path");

const { Launcher, makeMaxShim } = require("../../max_patches/qbdi_launcher.js");
const { startFakeServer } = require("./helpers/fake_server.js");
const { freePort } = require("./helpers/udp.js");

const FAKE = path.join(__dirname, "helpers", "fake_server.js");
const SCRIPT_DIR = "/opt/live/QBDI";
const BUNDLED = path.join(SCRIPT_DIR, "qbdi-server", "qbdi-server");

function waitFor(pred, timeoutMs = 5000, what = "condition") {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const poll = () => {
      if (pred()) return resolve();
      if (Date.now() - t0 > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(poll, 20);
    };
    poll();
  });
}

/** A launcher whose "bundled binary" is the fake server run by this Node. */
async function makeLauncher(extra = {}) {
  const max = makeMaxShim();
  const spawned = [];
  const port = extra.port || (await freePort());
  const launcher = new Launcher(Object.assign({
    maxApi: max,
    port,
    scriptDir: SCRIPT_DIR,
    homedir: "/home/nobody",
    env: Object.assign({ PATH: "" }, extra.env || {}),
    exists: (p) => p === BUNDLED,
    spawn: (cmd, args, opts) => {
      spawned.push({ cmd, args });
      return childProcess.spawn(process.execPath, [FAKE, ...args], Object.assign({}, opts, { cwd: undefined }));
    },
    pingTimeoutMs: 300,
    watchIntervalMs: 200,
  }, extra.options || {}));
  return { launcher, max, spawned, port, said: () => max.outlets.map((o) => o.join(" ")) };
}

test("where the server is looked for, in order", () => {
  const base = { scriptDir: SCRIPT_DIR, homedir: "/home/u", platform: "linux", env: { PATH: "/usr/bin" } };
  const docs = "/home/u/Documents/qbdi/qbdi-server/qbdi-server";
  let l = new Launcher(Object.assign({}, base, { exists: () => false }));
  const missing = l.findServer();
  assert.equal(missing.error, "missing_binary");
  assert.deepEqual(missing.tried, [BUNDLED, docs, "qbdi on the PATH"]);
  l = new Launcher(Object.assign({}, base, { exists: (p) => p === docs || p === BUNDLED }));
  assert.equal(l.findServer().command, BUNDLED, "next to the device wins over Documents");
  l = new Launcher(Object.assign({}, base, { exists: (p) => p === docs }));
  assert.equal(l.findServer().how, "Documents");
  l = new Launcher(Object.assign({}, base, { env: { QBDI_SERVER: "/x/qbdi-server", PATH: "" }, exists: () => true }));
  assert.equal(l.findServer().command, "/x/qbdi-server");
  l = new Launcher(Object.assign({}, base, { server: "/y/s", env: { QBDI_SERVER: "/x/qbdi-server" }, exists: () => true }));
  assert.equal(l.findServer().command, "/y/s", "a configured path wins");
  l = new Launcher(Object.assign({}, base, { python: "/venv/bin/python", exists: (p) => p === "/venv/bin/python" }));
  const py = l.findServer();
  assert.deepEqual([py.command, ...py.args.slice(0, 3)], ["/venv/bin/python", "-m", "bridge", "serve"]);
  l = new Launcher(Object.assign({}, base, { exists: (p) => p === "/usr/bin/qbdi" }));
  assert.equal(l.findServer().command, "/usr/bin/qbdi");
  l = new Launcher(Object.assign({}, base, { platform: "win32", exists: () => false }));
  assert.match(l.findServer().tried[0], /qbdi-server\.exe$/);
  l = new Launcher(Object.assign({}, base, { model: "jazz", logLevel: "INFO", port: 7411, exists: () => false }));
  assert.deepEqual(l.serveArgs(), ["--log-level", "INFO", "serve", "--host", "127.0.0.1", "--port", "7411", "--model", "jazz"]);
});

test("no server answering: starts the bundled one, reports ready, answers ping, stops it", async () => {
  const { launcher, spawned, port, said } = await makeLauncher();
  try {
    await launcher.ensure();
    await waitFor(() => launcher.state === "running", 5000, "running");
    assert.equal(spawned.length, 1);
    assert.equal(spawned[0].cmd, BUNDLED);
    assert.deepEqual(spawned[0].args.slice(0, 5), ["serve", "--host", "127.0.0.1", "--port", String(port)]);
    assert.ok(spawned[0].args.includes("--notify-port"));
    assert.ok(said().some((s) => s.startsWith("ready 0.0.0-fake 1 " + port)), said().join("\n"));
    assert.ok(said().some((s) => s.startsWith("state starting")));
    const pong = await launcher.ping();
    assert.equal(pong.serverVersion, "0.0.0-fake");
    const child = launcher.child;
    await launcher.stop();
    assert.equal(launcher.state, "stopped");
    assert.ok(child.exitCode !== null || child.signalCode !== null, "the process is gone");
    assert.equal(await launcher.ping(), null);
  } finally {
    launcher.close();
  }
});

test("a server already running (another device's) is used, not started twice", async () => {
  const server = await startFakeServer({ port: 0 });
  const { launcher, spawned, said } = await makeLauncher({ port: server.port });
  try {
    await launcher.ensure();
    assert.equal(launcher.state, "external");
    assert.equal(spawned.length, 0);
    assert.ok(said().some((s) => s.startsWith("state external server 0.0.0-fake")));
  } finally {
    launcher.close();
    await server.close();
  }
});

test("missing binary: a clear error that says where it looked and what to do", async () => {
  const { launcher, said } = await makeLauncher({ options: { exists: () => false } });
  try {
    await launcher.ensure();
    assert.equal(launcher.state, "failed");
    const err = said().find((s) => s.startsWith("error missing_binary"));
    assert.ok(err);
    assert.match(err, /qbdi server not found/);
    assert.match(err, /QBDI_SERVER/);
    assert.ok(err.includes(BUNDLED));
  } finally {
    launcher.close();
  }
});

test("port in use by another program: error port_in_use naming the port, no restart loop", async () => {
  const blocker = dgram.createSocket("udp4");
  await new Promise((r) => blocker.bind(0, "127.0.0.1", r));
  const port = blocker.address().port;
  const { launcher, spawned, said } = await makeLauncher({ port });
  try {
    await launcher.ensure();
    await waitFor(() => launcher.state === "failed", 5000, "failed");
    const err = said().find((s) => s.startsWith("error port_in_use"));
    assert.ok(err, said().join("\n"));
    assert.match(err, new RegExp(`port ${port} is in use`));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(spawned.length, 1, "not restarted");
  } finally {
    launcher.close();
    blocker.close();
  }
});

test("two devices race for the port: the loser adopts the winner's server", async () => {
  const port = await freePort();
  const { launcher, spawned } = await makeLauncher({ port, options: { pingTimeoutMs: 400 } });
  let server = null;
  setTimeout(async () => { server = await startFakeServer({ port }); }, 150);   // the other device's server
  try {
    await launcher.ensure();
    await waitFor(() => launcher.state === "external", 5000, "external");
    assert.equal(spawned.length, 1, "it tried, lost the port, and then found the other server");
  } finally {
    launcher.close();
    if (server) await server.close();
  }
});

test("a crashing server is restarted with backoff, then given up on, with its last stderr line", async () => {
  const { launcher, spawned, said } = await makeLauncher({
    env: { FAKE_QBDI_CRASH_AFTER_MS: "250" },
    options: { backoffMs: [100, 200], maxCrashes: 2 },
  });
  try {
    await launcher.ensure();
    await waitFor(() => launcher.state === "failed", 8000, "gave up");
    assert.equal(spawned.length, 3);
    const crashes = said().filter((s) => s.startsWith("error crashed"));
    assert.equal(crashes.length, 3);
    assert.match(crashes[0], /exit code 3\): fatal: fake crash in the model; restarting in 0.1 s/);
    assert.match(crashes[2], /gave up after 3 crashes/);
  } finally {
    launcher.close();
  }
});

test("a server that never sends /qbdi/ready is found by pinging it", async () => {
  const { launcher } = await makeLauncher({ env: { FAKE_QBDI_NO_READY: "1" } });
  try {
    await launcher.ensure();
    await waitFor(() => launcher.state === "running", 5000, "running");
  } finally {
    launcher.close();
  }
});

test("probe_port and configuration messages", async () => {
  const { launcher, max } = await makeLauncher();
  const blocker = dgram.createSocket("udp4");
  await new Promise((r) => blocker.bind(0, r));
  try {
    const h = launcher.handlers();
    await h.probe_port(blocker.address().port);
    const free = await freePort();
    await h.probe_port(free);
    assert.deepEqual(max.outlets.slice(-2), [["port_free", blocker.address().port, 0], ["port_free", free, 1]]);
    h.port(7412);
    h.model("jazz");
    h.python("/usr/bin/python3");
    h.log_level("DEBUG");
    assert.equal(launcher.port, 7412);
    assert.equal(launcher.model, "jazz");
    assert.equal(launcher.python, "/usr/bin/python3");
    assert.deepEqual(launcher.serveArgs().slice(0, 3), ["--log-level", "DEBUG", "serve"]);
    h.model("default");
    assert.equal(launcher.model, "");
  } finally {
    blocker.close();
    launcher.close();
  }
});
