// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
/*
 * qbdi_install.js -- Node for Max (required by qbdi_launcher.js): where qbdi's files live, and the
 * first-run install into the fixed places that survive Collect All and Save, copying the .amxd
 * alone, and freezing (docs/DEVICE.md, "Where the files live").
 *
 * The fixed places, per user:
 *   ~/Documents/qbdi/qbdi-server/            the server (found by the launcher wherever the device is)
 *   ~/Documents/Max 8|9/Packages/qbdi/       the scripts as a Max package (javascript/, patchers/,
 *                                            help/): Max searches packages for [js] and node.script
 *                                            files, so a collected or copied device still finds them
 * The first time the device runs from the unzipped release folder (its scripts and qbdi-server/
 * next to it), the launcher copies them there; later runs copy again only what changed. Only
 * files of qbdi's own folders are written; QBDI_NO_INSTALL=1 turns it off.
 */
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const LIST = require(path.join(__dirname, "qbdi_scripts.js"));   // the one list of shipped files
const SCRIPTS = LIST.SCRIPTS;
const PATCHERS = LIST.PATCHERS;
const HELP = LIST.HELP;
const MAX_FOLDERS = ["Max 9", "Max 8"];      // Live 12.2+ runs Max 9, Live 11 to 12.1 Max 8
const PACKAGE = "qbdi";
const SERVER_FOLDER = "qbdi-server";

function serverBinaryName(platform) {
  return platform === "win32" ? "qbdi-server.exe" : "qbdi-server";
}

/** The user's Documents folders, most likely first (Windows may move Documents into OneDrive). */
function documentsFolders({ homedir, env = {}, platform }) {
  const out = [path.join(homedir, "Documents")];
  if (platform === "win32") {
    for (const base of [env.OneDrive, env.OneDriveConsumer, env.OneDriveCommercial]) {
      if (base) out.push(path.join(base, "Documents"));
    }
  }
  return out.filter((p, i) => out.indexOf(p) === i);
}

/** ~/Documents/qbdi: the server's fixed home. */
function qbdiHome(options) {
  return path.join(documentsFolders(options)[0], "qbdi");
}

/** Candidate server binaries in the fixed home, one per Documents folder. */
function fixedServers(options) {
  return documentsFolders(options).map((d) => path.join(d, "qbdi", SERVER_FOLDER, serverBinaryName(options.platform)));
}

/** Max package folders for qbdi: <Documents>/Max N/Packages/qbdi, for each Max user folder. */
function packageFolders(options, isDir = isDirectory) {
  const out = [];
  for (const docs of documentsFolders(options)) {
    for (const max of MAX_FOLDERS) {
      const base = path.join(docs, max);
      if (!options.all && !isDir(base)) continue;
      out.push(path.join(base, "Packages", PACKAGE));
    }
  }
  return out;
}

/** Folders searched for the scripts, in order: next to the launcher, then every package. */
function scriptFolders(scriptDir, options) {
  return [scriptDir].concat(packageFolders(Object.assign({}, options, { all: true })).map((p) => path.join(p, "javascript")));
}

function isDirectory(p, fsx = fs) {
  try { return fsx.statSync(p).isDirectory(); } catch (e) { return false; }
}

function isFile(p) {
  try { return fs.statSync(p).isFile(); } catch (e) { return false; }
}

const MANIFEST = "qbdi-manifest.json";     // written into the installed server folder: what was copied
const LOCK_STALE_MS = 10 * 60 * 1000;       // a lock this old, or whose launcher is gone, is left over from a crash

/** SHA-256 of a file, hex. */
function fileHash(file, fsx = fs) {
  return crypto.createHash("sha256").update(fsx.readFileSync(file)).digest("hex");
}

/** Relative path -> {sha256, size} of every file under a folder (symbolic links by their target text);
 *  the installed manifest itself is left out. Content, not size: a recalibrated number in a model's
 *  config.json or a rebuilt bootloader of the same size is still a change. */
function manifest(folder, fsx = fs) {
  const out = {};
  const walk = (dir, rel) => {
    for (const name of fsx.readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const key = rel ? rel + "/" + name : name;
      if (key === MANIFEST) continue;
      const st = fsx.lstatSync(full);
      if (st.isSymbolicLink()) out[key] = "-> " + fsx.readlinkSync(full);
      else if (st.isDirectory()) walk(full, key);
      else out[key] = { sha256: fileHash(full, fsx), size: st.size };
    }
  };
  walk(folder, "");
  return out;
}

function sameEntry(a, b) {
  if (typeof a === "string" || typeof b === "string") return a === b;
  return !!a && !!b && a.sha256 === b.sha256 && a.size === b.size;
}

function sameManifest(a, b) {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => sameEntry(a[k], b[k]));
}

/** Whether the installed folder holds what `want` lists: its manifest says so, and every file is
 *  still there with its size (cheap: no hashing of the installed copy). */
function installedMatches(to, want, fsx = fs) {
  let had;
  try { had = JSON.parse(fsx.readFileSync(path.join(to, MANIFEST), "utf8")).files; } catch (e) { return false; }
  if (!had || !sameManifest(want, had)) return false;
  for (const key of Object.keys(want)) {
    const full = path.join(to, ...key.split("/"));
    try {
      const st = fsx.lstatSync(full);
      if (typeof want[key] === "string" ? !st.isSymbolicLink() : st.size !== want[key].size) return false;
    } catch (e) {
      return false;
    }
  }
  return true;
}

/** Delete a file or folder tree; fs.rmSync where Node has it (added in Node 14.14), a small recursive
 *  delete where it does not (the Node of an older Max). Missing is fine. */
function rmTree(p, fsx = fs) {
  if (typeof fsx.rmSync === "function") {
    fsx.rmSync(p, { recursive: true, force: true });
    return;
  }
  let st;
  try { st = fsx.lstatSync(p); } catch (e) { if (e.code === "ENOENT") return; throw e; }
  if (st.isDirectory()) {
    for (const name of fsx.readdirSync(p)) rmTree(path.join(p, name), fsx);
    fsx.rmdirSync(p);
  } else {
    fsx.unlinkSync(p);
  }
}

/** Copy a folder tree, keeping file modes (the executable bit) and symbolic links. */
function copyTree(src, dst, fsx = fs) {
  fsx.mkdirSync(dst, { recursive: true });
  for (const name of fsx.readdirSync(src)) {
    const from = path.join(src, name);
    const to = path.join(dst, name);
    const st = fsx.lstatSync(from);
    if (st.isSymbolicLink()) fsx.symlinkSync(fsx.readlinkSync(from), to);
    else if (st.isDirectory()) copyTree(from, to, fsx);
    else {
      fsx.copyFileSync(from, to);
      fsx.chmodSync(to, st.mode & 0o777);
    }
  }
}

function alive(pid) {
  if (!(pid > 0)) return false;
  try { process.kill(pid, 0); return true; } catch (e) { return e.code === "EPERM"; }
}

/** The launcher marks the server it runs from the installed folder (`<to>.running-<launcher pid>`,
 *  holding the server's pid), so that no swap replaces a folder a server runs from. Returns the marker. */
function markRunning(to, serverPid, fsx = fs) {
  const marker = to + ".running-" + process.pid;
  try { fsx.writeFileSync(marker, String(serverPid)); return marker; } catch (e) { return null; }
}

function unmarkRunning(marker, fsx = fs) {
  if (!marker) return;
  try { fsx.unlinkSync(marker); } catch (e) { /* gone already */ }
}

/** Pids of servers running from `to` (markers whose server is alive; stale markers are removed). */
function runningFrom(to, fsx = fs) {
  const dir = path.dirname(to);
  const prefix = path.basename(to) + ".running-";
  const pids = [];
  let names = [];
  try { names = fsx.readdirSync(dir); } catch (e) { return pids; }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const marker = path.join(dir, name);
    let pid = 0;
    try { pid = Number(fsx.readFileSync(marker, "utf8")); } catch (e) { pid = 0; }
    if (alive(pid)) pids.push(pid); else unmarkRunning(marker, fsx);
  }
  return pids;
}

/** Take `<to>.lock` (created exclusively); a lock left by a dead launcher or older than LOCK_STALE_MS is
 *  taken over. Returns the lock's path, or null when another launcher holds it. */
function takeLock(to, fsx = fs, now = Date.now()) {
  const lock = to + ".lock";
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fsx.openSync(lock, "wx");
      fsx.writeSync(fd, JSON.stringify({ pid: process.pid, at: now }));
      fsx.closeSync(fd);
      return lock;
    } catch (e) {
      if (e.code !== "EEXIST") throw e;
      let held = null;
      try { held = JSON.parse(fsx.readFileSync(lock, "utf8")); } catch (e2) { held = null; }
      const stale = !held || !alive(held.pid) || now - Number(held.at) > LOCK_STALE_MS;
      if (!stale || attempt > 0) return null;
      try { fsx.unlinkSync(lock); } catch (e3) { return null; }
    }
  }
  return null;
}

/** Left-overs of swaps that crashed: `<to>.partial-*` and `<to>.old-*` (only called under the lock). */
function cleanStale(to, fsx = fs) {
  const dir = path.dirname(to);
  const base = path.basename(to);
  let names = [];
  try { names = fsx.readdirSync(dir); } catch (e) { return 0; }
  let n = 0;
  for (const name of names) {
    if (name.startsWith(base + ".partial-") || name.startsWith(base + ".old-")) {
      try { rmTree(path.join(dir, name), fsx); n++; } catch (e) { /* tried again next time */ }
    }
  }
  return n;
}

/**
 * Put the server folder at `to`, whole or not at all. Nothing is done when `to` already holds the same
 * content (by SHA-256), while a server runs from it, or while another launcher swaps it. Otherwise,
 * under `<to>.lock`: clean what crashed swaps left, copy to `<to>.partial-<pid>` (with the manifest),
 * rename `to` -> `<to>.old-<pid>`, rename the partial -> `to`, then delete the old one. Any error puts
 * back what was there (the old folder renamed back, the partial removed) and is thrown; a failed
 * delete of the old folder only leaves it for the next run to clean. `fsx`: the fs to use (tests
 * simulate failing calls with it).
 */
function installServer(fromFolder, to, fsx = fs) {
  const want = manifest(fromFolder, fsx);
  if (isDirectory(to, fsx) && installedMatches(to, want, fsx)) return { to, copied: false };
  const running = runningFrom(to, fsx);
  if (running.length) {
    return { to, copied: false, waiting: `a server from ${to} is running (pid ${running.join(", ")}); ` +
      "the update is installed on the next start after it stops" };
  }
  fsx.mkdirSync(path.dirname(to), { recursive: true });
  const lock = takeLock(to, fsx);
  if (!lock) return { to, copied: false, waiting: "another device is installing the server now" };
  const partial = to + ".partial-" + process.pid;
  const old = to + ".old-" + process.pid;
  let moved = false;
  try {
    cleanStale(to, fsx);
    copyTree(fromFolder, partial, fsx);
    fsx.writeFileSync(path.join(partial, MANIFEST), JSON.stringify({ files: want }, null, 1) + "\n");
    if (fsx.existsSync(to)) { fsx.renameSync(to, old); moved = true; }
    fsx.renameSync(partial, to);
  } catch (err) {
    try { rmTree(partial, fsx); } catch (e) { /* cleaned by the next run, under the lock */ }
    if (moved) {
      try { fsx.renameSync(old, to); } catch (e) { err.message += `; the previous server is in ${old}`; }
    }
    rmLock(lock, fsx);
    throw err;
  }
  let leftover = null;
  try { rmTree(old, fsx); } catch (e) { leftover = old; }
  rmLock(lock, fsx);
  return leftover ? { to, copied: true, leftover } : { to, copied: true };
}

function rmLock(lock, fsx) {
  try { fsx.unlinkSync(lock); } catch (e) { /* already gone */ }
}

/** Copy the named files into `to` where they differ; returns how many were written. */
function copyFiles(fromDir, names, to) {
  let written = 0;
  fs.mkdirSync(to, { recursive: true });
  for (const name of names) {
    const src = path.join(fromDir, name);
    const dst = path.join(to, name);
    const data = fs.readFileSync(src);
    let same = false;
    try { same = fs.readFileSync(dst).equals(data); } catch (e) { same = false; }
    if (!same) { fs.writeFileSync(dst, data); written++; }
  }
  return written;
}

function packageInfo(version) {
  return JSON.stringify({
    name: PACKAGE, displayname: "qbdi", version, author: "The qbdi authors", license: "MIT",
    description: "Query-Based Deep Improvisation: the QBDI Improviser device's scripts and [qbdi.client].",
  }, null, 2) + "\n";
}

/**
 * First-run install from `sourceDir` (the unzipped release folder: the scripts, and qbdi-server/
 * next to them). options: homedir, env, platform. Returns {server, packages: [...], skipped: [...]}
 * where each entry is {to, copied|written} or a reason; throws nothing (errors become entries).
 */
function installFrom(sourceDir, options) {
  const report = { server: null, packages: [], skipped: [] };
  if ((options.env || {}).QBDI_NO_INSTALL) {
    report.skipped.push("QBDI_NO_INSTALL is set");
    return report;
  }
  const bundled = path.join(sourceDir, SERVER_FOLDER);
  if (isFile(path.join(bundled, serverBinaryName(options.platform)))) {
    try {
      report.server = installServer(bundled, path.join(qbdiHome(options), SERVER_FOLDER), options.fs || fs);
    } catch (err) {
      report.server = { to: path.join(qbdiHome(options), SERVER_FOLDER), error: err.message };
    }
  } else {
    report.skipped.push("no qbdi-server folder next to the device");
  }
  const complete = SCRIPTS.concat(PATCHERS, HELP).every((n) => isFile(path.join(sourceDir, n)));
  const packages = packageFolders(options);
  const inside = packageFolders(Object.assign({}, options, { all: true }))
    .some((p) => path.resolve(sourceDir).startsWith(path.resolve(p) + path.sep));
  if (inside) report.skipped.push("the scripts already run from a Max package");
  else if (!complete) report.skipped.push("not every script is next to the device");
  else if (packages.length === 0) report.skipped.push("no Max user folder (Documents/Max 8 or Max 9) yet");
  else {
    for (const pkg of packages) {
      try {
        let written = copyFiles(sourceDir, SCRIPTS, path.join(pkg, "javascript"));
        written += copyFiles(sourceDir, PATCHERS, path.join(pkg, "patchers"));
        written += copyFiles(sourceDir, HELP, path.join(pkg, "help"));
        const info = path.join(pkg, "package-info.json");
        const text = packageInfo(options.version || "");
        if (!isFile(info) || fs.readFileSync(info, "utf8") !== text) { fs.writeFileSync(info, text); written++; }
        report.packages.push({ to: pkg, written });
      } catch (err) {
        report.packages.push({ to: pkg, error: err.message });
      }
    }
  }
  return report;
}

/** Whether nothing of qbdi's is installed yet for this user (no installed server, no qbdi package):
 *  the first run, which says what it will copy where before it does (Launcher.firstRunInstall). */
function firstTime(options) {
  const server = path.join(qbdiHome(options), SERVER_FOLDER);
  const packages = packageFolders(Object.assign({}, options, { all: true }));
  return !isDirectory(server) && !packages.some((p) => isDirectory(p));
}

/** What the first run will copy where, and how to keep it from doing so: one line, said before. */
function notice(sourceDir, options, seconds) {
  const where = [];
  if (isFile(path.join(sourceDir, SERVER_FOLDER, serverBinaryName(options.platform)))) {
    where.push(`the server into ${path.join(qbdiHome(options), SERVER_FOLDER)}`);
  }
  const packages = packageFolders(options);
  if (packages.length) where.push(`the scripts into the Max package ${packages.join(" and ")}`);
  if (!where.length) return "";
  return `first run: in ${seconds} s qbdi copies ${where.join(", and ")} (so collected and frozen sets find ` +
    "them; an update replaces those folders). To keep it from doing so, turn Install off on the device";
}

/** One line per thing installed or refused, for the Max Console and the status line. */
function describe(report) {
  const lines = [];
  const s = report.server;
  if (s && s.error) lines.push(`could not install the server into ${s.to}: ${s.error}`);
  else if (s && s.copied) lines.push(`installed the server into ${s.to} (devices in collected or frozen sets find it there)`);
  else if (s && s.waiting) lines.push(`did not update the server in ${s.to}: ${s.waiting}`);
  for (const p of report.packages) {
    if (p.error) lines.push(`could not install the scripts into ${p.to}: ${p.error}`);
    else if (p.written) lines.push(`installed the scripts as the Max package ${p.to}`);
  }
  return lines;
}

module.exports = {
  SCRIPTS, PATCHERS, HELP, MAX_FOLDERS, serverBinaryName, documentsFolders, qbdiHome, fixedServers, packageFolders,
  scriptFolders, manifest, installFrom, installServer, describe, rmTree, markRunning, unmarkRunning, runningFrom,
  firstTime, notice, MANIFEST,
};
