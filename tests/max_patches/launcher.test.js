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
const qbdiP = require("../../max_patches/qbdi_protocol.js");

const { Launcher, makeMaxShim, main } = require("../../max_patches/qbdi_launcher.js");
const { startFakeServer } = require("./helpers/fake_server.js");
const { freePort } = require("./helpers/udp.js");

const FAKE = path.join(__dirname, "helpers", "fake_server.js");
const SCRIPT_DIR = "/opt/live/QBDI";
const BUNDLED = path.join(SCRIPT_DIR, "qbdi-server", "qbdi-server");

// timeoutMs only bounds a failure: a passing test goes on as soon as pred() holds, so it is generous
// enough for a loaded CI machine (starting a Node child can take seconds there).
function waitFor(pred, timeoutMs = 30000, what = "condition") {
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
    // the watchdog (two missed pings: restart) is not under test here; at a short interval a loaded
    // machine's slow pong would restart servers the tests count
    watchIntervalMs: 600000,
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
  assert.deepEqual(l.serveArgs(), ["--log-level", "INFO", "serve", "--host", "127.0.0.1", "--port", "7411", "--model", "jazz",
    "--exit-with-stdin"]);
});

test("no server answering: starts the bundled one, reports ready, answers ping, stops it", async () => {
  const { launcher, spawned, port, said } = await makeLauncher();
  try {
    await launcher.ensure();
    await waitFor(() => launcher.state === "running", 30000, "running");
    assert.equal(spawned.length, 1);
    assert.equal(spawned[0].cmd, BUNDLED);
    assert.deepEqual(spawned[0].args.slice(0, 5), ["serve", "--host", "127.0.0.1", "--port", String(port)]);
    assert.ok(spawned[0].args.includes("--notify-port"));
    assert.ok(said().some((s) => s.startsWith("ready 0.0.0-fake " + qbdiP.PROTOCOL_VERSION + " " + port)), said().join("\n"));
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
    await waitFor(() => launcher.state === "failed", 30000, "failed");
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
  let server = null;
  const { launcher, spawned } = await makeLauncher({ port, options: { pingTimeoutMs: 400 } });
  // the other device's server takes the port between our ping and our spawn: the race, lost every time
  const spawn = launcher.spawn;
  launcher.spawn = (cmd, args, opts) => {
    server = startFakeServer({ port });
    return spawn(cmd, args, opts);
  };
  try {
    await launcher.ensure();
    await waitFor(() => launcher.state === "external", 30000, "external");
    assert.equal(spawned.length, 1, "it tried, lost the port, and then found the other server");
  } finally {
    launcher.close();
    if (server) await (await server).close();
  }
});

test("a crashing server is restarted with backoff, then given up on, with its last stderr line", async () => {
  const { launcher, spawned, said } = await makeLauncher({
    env: { FAKE_QBDI_CRASH_AFTER_MS: "250" },
    options: { backoffMs: [100, 200], maxCrashes: 2 },
  });
  try {
    await launcher.ensure();
    await waitFor(() => launcher.state === "failed", 30000, "gave up");
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
    await waitFor(() => launcher.state === "running", 30000, "running");
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

// ---- finding 1 of the device audit: the address the device asks for is the one served ------------
test("finding 1: a Server Port change restarts the launcher's server on the new port", async () => {
  const portB = await freePort();
  const { launcher, spawned, port: portA } = await makeLauncher();
  try {
    const h = launcher.handlers();
    h.ensure();
    await waitFor(() => launcher.state === "running", 30000, "running on the first port");
    const first = launcher.child;
    h.port(portB);              // what the device sends when its Server Port changes ...
    h.ensure();                 // ... and its next ensure
    await waitFor(() => launcher.state === "running" && launcher.child && launcher.child !== first, 5000,
      "a server on the new port");
    assert.equal(spawned.length, 2);
    assert.deepEqual(spawned[1].args.slice(1, 5), ["--host", "127.0.0.1", "--port", String(portB)]);
    assert.ok(first.exitCode !== null || first.signalCode !== null, "the server on the old port is stopped");
    assert.equal(launcher.port, portB);
    assert.ok((await launcher.ping()), "the new port answers");
    launcher.port = portA;
    assert.equal(await launcher.ping(300), null, "nothing is left on the old port");
    launcher.port = portB;
  } finally {
    launcher.close();
  }
});

test("finding 1: an external server on the old port is left alone; the new port gets a server", async () => {
  const other = await startFakeServer({ port: 0 });
  const portB = await freePort();
  const { launcher, spawned } = await makeLauncher({ port: other.port });
  try {
    await launcher.ensure();
    assert.equal(launcher.state, "external");
    launcher.handlers().port(portB);
    await waitFor(() => launcher.state === "running", 30000, "a server of our own on the new port");
    assert.equal(spawned.length, 1);
    assert.ok(spawned[0].args.includes(String(portB)));
    assert.equal(other.received.filter((m) => m.address === "/qbdi/quit").length, 0, "the other server is not told to quit");
  } finally {
    launcher.close();
    await other.close();
  }
});

test("finding 1 at load: main() starts nothing; it says hello and waits for the device's settings", async () => {
  const max = makeMaxShim();
  const spawned = [];
  const savedPath = process.env.PATH;
  process.env.PATH = "";            // whatever main() does, it must not find a real server to start
  let launcher = null;
  try {
    launcher = main(max, { spawn: (cmd, args) => { spawned.push(args); throw new Error("must not spawn"); },
      scriptDir: SCRIPT_DIR, homedir: "/home/nobody", install: false });
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual(max.outlets.map((o) => o[0]), ["hello"], "only hello before the device has spoken");
    assert.equal(spawned.length, 0);
    assert.ok(max.handlers.ensure && max.handlers.port, "the device's messages are handled");
  } finally {
    process.env.PATH = savedPath;
    if (launcher && launcher.close) launcher.close();
  }
});

// ---- the Max Console, the watchdog flag, Gatekeeper ---------------------------------------------
test("server lines reach the Max Console: errors always, other lines at most 5 per 10 s", async () => {
  let t = 1000;
  const { launcher, max } = await makeLauncher({ env: { FAKE_QBDI_LINES: "12" }, options: { now: () => t } });
  try {
    await launcher.ensure();
    await waitFor(() => max.posts.some((p) => /fake error/.test(p)), 30000, "the error line");
    const server = max.posts.filter((p) => p.startsWith("qbdi-server: "));
    assert.equal(server.filter((p) => / INFO /.test(p) || /serving/.test(p)).length, 5, server.join("\n"));
    assert.ok(server.some((p) => /ERROR bridge.server: fake error/.test(p)), "the error is never throttled");
    t += 11000;
    launcher.postServerLine("INFO later");
    assert.ok(max.posts.includes("qbdi-server: (8 more lines not shown)"), max.posts.join("\n"));
    assert.equal(max.posts[max.posts.length - 1], "qbdi-server: INFO later");
  } finally {
    launcher.close();
  }
});

test("the launcher's own errors go to the Max Console, a repeated one once a minute", async () => {
  let t = 0;
  const { launcher, max } = await makeLauncher({ options: { exists: () => false, now: () => t } });
  try {
    await launcher.ensure();
    await launcher.ensure();
    assert.equal(max.posts.filter((p) => /error missing_binary: qbdi server not found/.test(p)).length, 1);
    t += 61000;
    await launcher.ensure();
    assert.equal(max.posts.filter((p) => /error missing_binary/.test(p)).length, 2);
  } finally {
    launcher.close();
  }
});

test("the server gets --exit-with-stdin and a stdin pipe; an older server without the option runs without it", async () => {
  const { launcher, spawned, max } = await makeLauncher({ env: { FAKE_QBDI_OLD: "1" } });
  try {
    await launcher.ensure();
    await waitFor(() => launcher.state === "running", 30000, "running");
    assert.equal(spawned.length, 2);
    assert.ok(spawned[0].args.includes("--exit-with-stdin"));
    assert.ok(!spawned[1].args.includes("--exit-with-stdin"), "started again without it");
    assert.ok(max.posts.some((p) => /does not know --exit-with-stdin/.test(p)));
    assert.equal(launcher.crashes.length, 0, "not counted as a crash");
  } finally {
    launcher.close();
  }
});

test("the stdin pipe: the server (fake) ends when the launcher's Node process is killed with SIGKILL", async () => {
  const port = await freePort();
  const script = `
    const childProcess = require("child_process");
    const { Launcher, makeMaxShim } = require(${JSON.stringify(require.resolve("../../max_patches/qbdi_launcher.js"))});
    const l = new Launcher({ maxApi: makeMaxShim(), port: ${port}, scriptDir: "/x", homedir: "/x", env: { PATH: "" },
      exists: (p) => p === "/x/qbdi-server/qbdi-server",
      spawn: (cmd, args, opts) => childProcess.spawn(process.execPath, [${JSON.stringify(FAKE)}, ...args], Object.assign({}, opts, { cwd: undefined })) });
    l.ensure();
    const poll = setInterval(() => { if (l.state === "running") { console.log(l.child.pid); clearInterval(poll); } }, 20);
    setInterval(() => {}, 1000);`;
  const parent = childProcess.spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  const pid = await new Promise((resolve, reject) => {
    parent.stdout.once("data", (d) => resolve(Number(String(d).trim())));
    parent.once("exit", (code) => reject(new Error(`the parent exited (${code})`)));
  });
  const gone = () => { try { process.kill(pid, 0); return false; } catch (e) { return true; } };
  try {
    assert.ok(!gone(), "the server runs");
    parent.kill("SIGKILL");
    await waitFor(gone, 30000, "the orphaned server to stop");
  } finally {
    if (!gone()) process.kill(pid, "SIGKILL");
  }
});

test("macOS: a binary killed right after spawn (Gatekeeper) stops the retries and says once how to fix it", async () => {
  const { launcher, spawned, max, said } = await makeLauncher({ env: { FAKE_QBDI_SIGKILL: "1" },
    options: { platform: "darwin", backoffMs: [50] } });
  try {
    await launcher.ensure();
    await waitFor(() => launcher.state === "failed", 30000, "failed");
    await new Promise((r) => setTimeout(r, 300));
    await launcher.ensure();                       // the device asks again every 10 s
    assert.equal(spawned.length, 1, "no retry loop (each retry could bring up another Gatekeeper dialog)");
    const errors = said().filter((s) => s.startsWith("error blocked"));
    assert.equal(errors.length, 1, said().join("\n"));
    assert.ok(errors[0].includes(`xattr -dr com.apple.quarantine "${path.dirname(BUNDLED)}"`), errors[0]);
    assert.equal(max.posts.filter((p) => /xattr -dr com.apple.quarantine/.test(p)).length, 1);
    launcher.retry();                              // Diagnose, after the user ran the line
    await waitFor(() => spawned.length === 2, 30000, "a new attempt after retry");
  } finally {
    launcher.close();
  }
});

test("the same kill on Linux is a crash with restarts, not Gatekeeper", async () => {
  const { launcher, spawned, said } = await makeLauncher({ env: { FAKE_QBDI_SIGKILL: "1" },
    options: { platform: "linux", backoffMs: [50], maxCrashes: 1 } });
  try {
    await launcher.ensure();
    await waitFor(() => said().some((s) => /gave up/.test(s)), 30000, "gave up");
    assert.equal(spawned.length, 2);
    assert.ok(!said().some((s) => s.startsWith("error blocked")));
  } finally {
    launcher.close();
  }
});

test("EACCES from spawn (a file the OS will not run) on macOS: blocked, with the real path, once", async () => {
  const fs = require("fs");
  const os = require("os");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "qbdi-gk-"));
  const binary = path.join(dir, "qbdi-server", "qbdi-server");
  fs.mkdirSync(path.dirname(binary));
  fs.writeFileSync(binary, "#!/bin/sh\nexit 0\n", { mode: 0o644 });     // not executable
  const max = makeMaxShim();
  const launcher = new Launcher({ maxApi: max, port: await freePort(), scriptDir: dir, homedir: dir,
    env: { PATH: "" }, platform: "darwin", pingTimeoutMs: 200 });
  try {
    await launcher.ensure();
    await waitFor(() => launcher.state === "failed", 30000, "failed");
    const err = max.outlets.map((o) => o.join(" ")).find((s) => s.startsWith("error blocked"));
    assert.ok(err && err.includes(`xattr -dr com.apple.quarantine "${path.dirname(binary)}"`), err);
    assert.ok(err.includes(`chmod +x "${binary}"`), "EACCES may also be a lost executable bit");
  } finally {
    launcher.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// ---- Diagnose's side: info, the report file, the clock ------------------------------------------
test("info describes the launcher, the scripts it loaded and the server it would start", async () => {
  const { launcher } = await makeLauncher();
  try {
    const info = launcher.info();
    assert.equal(info.protocol, qbdiP.PROTOCOL_VERSION);
    assert.equal(info.server.found, true);
    assert.equal(info.server.path, BUNDLED);
    assert.equal(info.server.how, "next to the device");
    for (const name of ["qbdi_protocol", "qbdi_osc", "qbdi_install"]) assert.match(info.modules[name], /max_patches/);
    assert.equal(info.watchdog, true);
    const h = launcher.handlers();
    launcher.max.outlets.length = 0;
    h.info();
    const [[word, json]] = launcher.max.outlets;
    assert.equal(word, "info");
    assert.deepEqual(JSON.parse(json).server, info.server);
  } finally {
    launcher.close();
  }
});

test("save_report writes the Diagnose report into ~/Documents/qbdi", async () => {
  const fs = require("fs");
  const os = require("os");
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "qbdi-home-"));
  const { launcher, max } = await makeLauncher({ options: { homedir: home } });
  try {
    launcher.handlers().save_report("line one\nline two");
    const file = path.join(home, "Documents", "qbdi", "qbdi-diagnose.txt");
    assert.equal(fs.readFileSync(file, "utf8"), "line one" + os.EOL + "line two" + os.EOL);
    assert.deepEqual(max.outlets.pop(), ["report_saved", file]);
  } finally {
    launcher.close();
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test("clock N sends tick every N ms until clock 0", async () => {
  const { launcher, max } = await makeLauncher();
  try {
    launcher.handlers().clock(60);
    await waitFor(() => max.outlets.filter((o) => o[0] === "tick").length >= 3, 30000, "three ticks");
    launcher.handlers().clock(0);
    const after = max.outlets.length;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(max.outlets.length, after);
  } finally {
    launcher.close();
  }
});
