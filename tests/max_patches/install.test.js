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
  const launcher = new Launcher({ maxApi: max, port: await freePort(), scriptDir: release, homedir: home,
    env: { PATH: "" }, platform: "linux", install: true, pingTimeoutMs: 300,
    spawn: (cmd, args, opts) => childProcess.spawn(process.execPath, [FAKE, ...args], Object.assign({}, opts, { cwd: undefined })) });
  try {
    await launcher.ensure();
    const t0 = Date.now();
    while (!launcher.installed && Date.now() - t0 < 30000) await new Promise((r) => setTimeout(r, 20));
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
