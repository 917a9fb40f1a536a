// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// qbdi_install.js on real folders: the first-run install of the server into ~/Documents/qbdi and of
// the scripts into the Max packages, done once, complete or not at all, writing only qbdi's folders;
// and the launcher doing it when it started the server from the unzipped release folder.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const childProcess = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const install = require("../../max_patches/qbdi_install.js");
const { Launcher, makeMaxShim } = require("../../max_patches/qbdi_launcher.js");
const { freePort } = require("./helpers/udp.js");

const MAX_PATCHES = path.resolve(__dirname, "..", "..", "max_patches");
const FAKE = path.join(__dirname, "helpers", "fake_server.js");

/** A home folder with Documents/Max 9 (Max has run once), and an unzipped release folder. */
function layout() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "qbdi-install-"));
  const home = path.join(root, "home");
  fs.mkdirSync(path.join(home, "Documents", "Max 9"), { recursive: true });
  const release = path.join(root, "QBDI Improviser");
  fs.mkdirSync(path.join(release, "qbdi-server", "_internal", "bridge"), { recursive: true });
  for (const name of install.SCRIPTS.concat(install.PATCHERS, install.HELP)) {
    fs.copyFileSync(path.join(MAX_PATCHES, name), path.join(release, name));
  }
  fs.writeFileSync(path.join(release, "qbdi-server", "qbdi-server"), "#!/bin/sh\n", { mode: 0o755 });
  fs.writeFileSync(path.join(release, "qbdi-server", "_internal", "bridge", "model.safetensors"), "weights");
  fs.symlinkSync("bridge", path.join(release, "qbdi-server", "_internal", "link"));
  const options = { homedir: home, env: {}, platform: "linux" };
  return { root, home, release, options, done: () => fs.rmSync(root, { recursive: true, force: true }) };
}

/** A launcher on a free port whose server is helpers/fake_server.js (Linux, no PATH, Install on). */
async function fakeLauncher(max, scriptDir, home, extra = {}) {
  return new Launcher(Object.assign({ maxApi: max, port: await freePort(), scriptDir, homedir: home,
    env: { PATH: "" }, platform: "linux", install: true, pingTimeoutMs: 300,
    spawn: (cmd, args, opts) => childProcess.spawn(process.execPath, [FAKE, ...args], Object.assign({}, opts, { cwd: undefined })) }, extra));
}

/** Wait, up to 30 s, until `ready()` holds. */
async function until(ready) {
  const t0 = Date.now();
  while (!ready() && Date.now() - t0 < 30000) await new Promise((r) => setTimeout(r, 20));
}

test("the server and the scripts go to the fixed places, whole, with the executable bit and links", () => {
  const { home, release, options, done } = layout();
  try {
    const report = install.installFrom(release, options);
    const server = path.join(home, "Documents", "qbdi", "qbdi-server");
    assert.deepEqual(report.server, { to: server, copied: true });
    assert.ok(fs.statSync(path.join(server, "qbdi-server")).mode & 0o100, "still executable");
    assert.equal(fs.readFileSync(path.join(server, "_internal", "bridge", "model.safetensors"), "utf8"), "weights");
    assert.equal(fs.readlinkSync(path.join(server, "_internal", "link")), "bridge");
    const pkg = path.join(home, "Documents", "Max 9", "Packages", "qbdi");
    assert.equal(report.packages.length, 1, "only where a Max user folder exists (Max 9 here, no Max 8)");
    for (const name of install.SCRIPTS) assert.ok(fs.existsSync(path.join(pkg, "javascript", name)), name);
    assert.ok(fs.existsSync(path.join(pkg, "patchers", "qbdi.client.maxpat")));
    assert.ok(fs.existsSync(path.join(pkg, "help", "qbdi.client.maxhelp")));
    assert.equal(JSON.parse(fs.readFileSync(path.join(pkg, "package-info.json"), "utf8")).name, "qbdi");
    assert.ok(!fs.existsSync(path.join(home, "Documents", "Max 8")), "no Max 8 folder made up");
    assert.equal(install.describe(report).length, 2);
  } finally {
    done();
  }
});

test("a second run copies nothing; a changed file is copied again; other packages are left alone", () => {
  const { home, release, options, done } = layout();
  try {
    install.installFrom(release, options);
    const other = path.join(home, "Documents", "Max 9", "Packages", "someone-else", "javascript", "x.js");
    fs.mkdirSync(path.dirname(other), { recursive: true });
    fs.writeFileSync(other, "theirs");
    const again = install.installFrom(release, options);
    assert.equal(again.server.copied, false);
    assert.equal(again.packages[0].written, 0);
    assert.deepEqual(install.describe(again), []);
    fs.appendFileSync(path.join(release, "qbdi_device.js"), "\n// changed\n");
    fs.writeFileSync(path.join(release, "qbdi-server", "_internal", "bridge", "model.safetensors"), "new weights!");
    const third = install.installFrom(release, options);
    assert.equal(third.server.copied, true);
    assert.equal(third.packages[0].written, 1);
    assert.equal(fs.readFileSync(other, "utf8"), "theirs");
    assert.equal(fs.readFileSync(path.join(home, "Documents", "qbdi", "qbdi-server", "_internal", "bridge",
      "model.safetensors"), "utf8"), "new weights!");
  } finally {
    done();
  }
});

test("nothing to install from a Max package or an incomplete folder; QBDI_NO_INSTALL turns it off", () => {
  const { home, release, options, done } = layout();
  try {
    assert.deepEqual(install.installFrom(release, Object.assign({}, options, { env: { QBDI_NO_INSTALL: "1" } })),
      { server: null, packages: [], skipped: ["QBDI_NO_INSTALL is set"] });
    install.installFrom(release, options);
    const pkgScripts = path.join(home, "Documents", "Max 9", "Packages", "qbdi", "javascript");
    const fromPackage = install.installFrom(pkgScripts, options);
    assert.ok(fromPackage.skipped.some((s) => /already run from a Max package/.test(s)), fromPackage.skipped.join());
    fs.unlinkSync(path.join(release, "qbdi_live.js"));
    const partial = install.installFrom(release, options);
    assert.ok(partial.skipped.some((s) => /not every script/.test(s)));
  } finally {
    done();
  }
});

test("the search order for scripts: next to the launcher, then the Max 9 and Max 8 packages", () => {
  const folders = install.scriptFolders("/dev/folder", { homedir: "/h", env: {}, platform: "linux" });
  assert.deepEqual(folders, ["/dev/folder", "/h/Documents/Max 9/Packages/qbdi/javascript",
    "/h/Documents/Max 8/Packages/qbdi/javascript"]);
  const win = install.documentsFolders({ homedir: "C:\\Users\\me", env: { OneDrive: "D:\\OneDrive" }, platform: "win32" });
  assert.equal(win.length, 2, "Windows: Documents may live in OneDrive");
});

test("the launcher installs once it runs the server from the release folder, and says so", async () => {
  const { home, release, done } = layout();
  const max = makeMaxShim();
  const launcher = await fakeLauncher(max, release, home, { installNoticeMs: 300 });
  try {
    await launcher.ensure();
    await until(() => max.outlets.some((o) => o[0] === "install_notice"));
    const notice = max.outlets.filter((o) => o[0] === "install_notice").map((o) => o[1]);
    assert.equal(notice.length, 1, "the first run says what it will copy, once, before it does");
    assert.match(notice[0], /copies the server into .*qbdi-server, and the scripts into the Max package .*Max 9.*turn Install off/);
    assert.ok(max.posts.some((p) => /first run: in 0 s|first run: in \d+ s/.test(p)), "in the Max Console too");
    assert.ok(!launcher.installed, "nothing copied yet");
    await until(() => launcher.installed);
    assert.ok(fs.existsSync(path.join(home, "Documents", "qbdi", "qbdi-server", "qbdi-server")));
    const said = max.outlets.filter((o) => o[0] === "installed").map((o) => o[1]);
    assert.equal(said.length, 2, said.join("\n"));
    assert.ok(max.posts.some((p) => /installed the server into/.test(p)));
    assert.equal(launcher.findServer().how, "next to the device", "the copy next to the device still wins");
  } finally {
    launcher.close();
    done();
  }
});

// ---- updates by content, and a swap that survives every failing call (the audit 3, findings 6-8) ----

const serverFile = (home) => path.join(home, "Documents", "qbdi", "qbdi-server", "qbdi-server");
const qbdiDir = (home) => path.join(home, "Documents", "qbdi");

/** fs, with `name` throwing `code` when `when(...args)` says so (a simulated failing call). */
function failing(name, when, code = "EPERM") {
  return new Proxy(fs, {
    get(target, prop) {
      const real = target[prop];
      if (prop !== name) return real;
      return (...args) => {
        if (when(...args)) throw Object.assign(new Error(`${code}: simulated ${name} failure`), { code });
        return real.apply(target, args);
      };
    },
  });
}

/** What a failed swap must leave: the old server whole, no .partial-/.old- folder, no lock. */
function assertUntouched(home, text) {
  assert.equal(fs.readFileSync(serverFile(home), "utf8"), text, "the installed server is the previous one, whole");
  const left = fs.readdirSync(qbdiDir(home)).filter((n) => n !== "qbdi-server");
  assert.deepEqual(left, [], `nothing left beside it: ${left.join(", ")}`);
}

test("an update that keeps every file's size still reaches the installed copy (content, not size)", () => {
  const { home, release, options, done } = layout();
  try {
    const bin = path.join(release, "qbdi-server", "qbdi-server");
    fs.writeFileSync(bin, "v1-AAAA");
    assert.equal(install.installFrom(release, options).server.copied, true);
    fs.writeFileSync(bin, "v2-BBBB");
    const second = install.installFrom(release, options);
    assert.equal(second.server.copied, true);
    assert.equal(fs.readFileSync(serverFile(home), "utf8"), "v2-BBBB");
    assert.ok(fs.existsSync(path.join(qbdiDir(home), "qbdi-server", install.MANIFEST)), "the manifest is installed with it");
    assert.equal(install.installFrom(release, options).server.copied, false, "the same content again: nothing copied");
    fs.unlinkSync(path.join(qbdiDir(home), "qbdi-server", "_internal", "bridge", "model.safetensors"));
    assert.equal(install.installFrom(release, options).server.copied, true, "a file missing from the copy: installed again");
  } finally {
    done();
  }
});

test("a copy that fails midway (disk full) leaves the old server and no partial folder", () => {
  const { home, release, options, done } = layout();
  try {
    install.installFrom(release, options);
    fs.writeFileSync(path.join(release, "qbdi-server", "qbdi-server"), "#!/bin/sh\n# v2\n");
    const fsx = failing("copyFileSync", (from) => from.endsWith("model.safetensors"), "ENOSPC");
    const report = install.installFrom(release, Object.assign({}, options, { fs: fsx }));
    assert.match(report.server.error, /ENOSPC/);
    assertUntouched(home, "#!/bin/sh\n");
    assert.match(install.describe(report)[0], /could not install the server/);
  } finally {
    done();
  }
});

test("renaming the old folder aside fails (Windows: a handle on it): nothing changes", () => {
  const { home, release, options, done } = layout();
  try {
    install.installFrom(release, options);
    fs.writeFileSync(path.join(release, "qbdi-server", "qbdi-server"), "#!/bin/sh\n# v2\n");
    const fsx = failing("renameSync", (from, to) => /\.old-\d+$/.test(to));
    assert.match(install.installFrom(release, Object.assign({}, options, { fs: fsx })).server.error, /EPERM/);
    assertUntouched(home, "#!/bin/sh\n");
  } finally {
    done();
  }
});

test("renaming the new folder into place fails: the old one is renamed back", () => {
  const { home, release, options, done } = layout();
  try {
    install.installFrom(release, options);
    fs.writeFileSync(path.join(release, "qbdi-server", "qbdi-server"), "#!/bin/sh\n# v2\n");
    const fsx = failing("renameSync", (from) => /\.partial-\d+$/.test(from));
    assert.match(install.installFrom(release, Object.assign({}, options, { fs: fsx })).server.error, /EPERM/);
    assertUntouched(home, "#!/bin/sh\n");
    assert.equal(install.installFrom(release, options).server.copied, true, "the next run installs it");
  } finally {
    done();
  }
});

test("deleting the old folder fails: the new server is in place, the old one is cleaned by the next run", () => {
  const { home, release, options, done } = layout();
  try {
    install.installFrom(release, options);
    fs.writeFileSync(path.join(release, "qbdi-server", "qbdi-server"), "#!/bin/sh\n# v2\n");
    const fsx = failing("rmSync", (p) => /\.old-\d+$/.test(p));
    const report = install.installFrom(release, Object.assign({}, options, { fs: fsx })).server;
    assert.equal(report.copied, true);
    assert.match(report.leftover, /qbdi-server\.old-\d+$/);
    assert.equal(fs.readFileSync(serverFile(home), "utf8"), "#!/bin/sh\n# v2\n");
    fs.writeFileSync(path.join(release, "qbdi-server", "qbdi-server"), "#!/bin/sh\n# v3\n");
    install.installFrom(release, options);
    assertUntouched(home, "#!/bin/sh\n# v3\n");
  } finally {
    done();
  }
});

test("left-overs of a crashed swap (another launcher's .partial- and .old- folders) are cleaned under the lock", () => {
  const { home, release, options, done } = layout();
  try {
    fs.mkdirSync(path.join(qbdiDir(home), "qbdi-server.partial-99999999", "_internal"), { recursive: true });
    fs.mkdirSync(path.join(qbdiDir(home), "qbdi-server.old-99999998"), { recursive: true });
    install.installFrom(release, options);
    assertUntouched(home, "#!/bin/sh\n");
  } finally {
    done();
  }
});

test("a lock held by a live launcher: no swap; a lock left by a dead one is taken over", () => {
  const { home, release, options, done } = layout();
  try {
    fs.mkdirSync(qbdiDir(home), { recursive: true });
    const lock = path.join(qbdiDir(home), "qbdi-server.lock");
    fs.writeFileSync(lock, JSON.stringify({ pid: process.pid, at: Date.now() }));
    const busy = install.installFrom(release, options);
    assert.equal(busy.server.copied, false);
    assert.match(busy.server.waiting, /another device is installing/);
    assert.ok(!fs.existsSync(serverFile(home)));
    assert.equal(fs.readFileSync(lock, "utf8"), JSON.stringify({ pid: process.pid, at: JSON.parse(fs.readFileSync(lock, "utf8")).at }),
      "the other launcher's lock is not touched");
    const dead = childProcess.spawnSync(process.execPath, ["-e", "0"]).pid;
    fs.writeFileSync(lock, JSON.stringify({ pid: dead, at: Date.now() }));
    assert.equal(install.installFrom(release, options).server.copied, true);
    assertUntouched(home, "#!/bin/sh\n");
  } finally {
    done();
  }
});

test("no swap while a server runs from the installed folder; once it has stopped, the update goes in", async () => {
  const { home, release, options, done } = layout();
  const sleeper = childProcess.spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"]);
  try {
    install.installFrom(release, options);
    const to = path.join(qbdiDir(home), "qbdi-server");
    const marker = install.markRunning(to, sleeper.pid);
    fs.writeFileSync(path.join(release, "qbdi-server", "qbdi-server"), "#!/bin/sh\n# v2\n");
    const report = install.installFrom(release, options);
    assert.equal(report.server.copied, false);
    assert.match(report.server.waiting, new RegExp(`pid ${sleeper.pid}`));
    assert.match(install.describe(report)[0], /did not update the server/);
    assert.equal(fs.readFileSync(serverFile(home), "utf8"), "#!/bin/sh\n");
    sleeper.kill();
    await new Promise((resolve) => sleeper.on("exit", resolve));
    assert.equal(install.installFrom(release, options).server.copied, true, "its marker is stale now");
    assert.ok(!fs.existsSync(marker), "the stale marker is removed");
    assertUntouched(home, "#!/bin/sh\n# v2\n");
  } finally {
    sleeper.kill();
    done();
  }
});

test("an older Node without fs.rmSync (before 14.14): the swap and the clean-up use a small recursive delete", () => {
  const { home, release, options, done } = layout();
  try {
    const oldNode = new Proxy(fs, { get: (target, prop) => (prop === "rmSync" ? undefined : target[prop]) });
    assert.equal(install.installFrom(release, Object.assign({}, options, { fs: oldNode })).server.copied, true);
    fs.mkdirSync(path.join(qbdiDir(home), "qbdi-server.partial-99999999", "a", "b"), { recursive: true });
    fs.writeFileSync(path.join(qbdiDir(home), "qbdi-server.partial-99999999", "a", "b", "f"), "x");
    fs.writeFileSync(path.join(release, "qbdi-server", "qbdi-server"), "#!/bin/sh\n# v2\n");
    assert.equal(install.installFrom(release, Object.assign({}, options, { fs: oldNode })).server.copied, true);
    assertUntouched(home, "#!/bin/sh\n# v2\n");
    install.rmTree(path.join(qbdiDir(home), "missing"), oldNode);   // missing is fine
  } finally {
    done();
  }
});

test("the launcher marks the server it runs from the installed folder, so no update swaps it meanwhile", async () => {
  const { root, home, release, options, done } = layout();
  install.installFrom(release, options);
  const elsewhere = path.join(root, "collected set");          // a device with no server next to it
  fs.mkdirSync(elsewhere);
  const max = makeMaxShim();
  const launcher = await fakeLauncher(max, elsewhere, home);
  try {
    await launcher.ensure();
    assert.equal(launcher.command.how, "Documents");
    const to = path.join(qbdiDir(home), "qbdi-server");
    assert.deepEqual(install.runningFrom(to), [launcher.child.pid]);
    fs.writeFileSync(path.join(release, "qbdi-server", "qbdi-server"), "#!/bin/sh\n# v2\n");
    assert.match(install.installFrom(release, options).server.waiting, /is running/);
    const child = launcher.child;
    launcher.close();
    await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.on("exit", resolve)));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(install.runningFrom(to), [], "the marker goes with the server");
  } finally {
    launcher.close();
    done();
  }
});

test("Install off on the device while the first run waits: nothing is copied, and it says so", async () => {
  const { home, release, done } = layout();
  const max = makeMaxShim();
  const launcher = await fakeLauncher(max, release, home, { installNoticeMs: 400 });
  try {
    await launcher.ensure();
    await until(() => max.outlets.some((o) => o[0] === "install_notice"));
    launcher.handlers().install(0);
    assert.deepEqual(max.outlets.filter((o) => o[0] === "installed").map((o) => o[1]),
      ["nothing installed: Install is off on the device"]);
    await new Promise((r) => setTimeout(r, 600));
    assert.ok(!fs.existsSync(path.join(home, "Documents", "qbdi")), "nothing written into Documents");
    assert.ok(!fs.existsSync(path.join(home, "Documents", "Max 9", "Packages")));
    launcher.firstRunInstall();
    assert.equal(launcher.installed, null, "and not later either while it is off");
  } finally {
    launcher.close();
    done();
  }
});
