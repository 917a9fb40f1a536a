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

const fs = require("fs");
const path = require("path");

const SCRIPTS = ["qbdi_device.js", "qbdi_protocol.js", "qbdi_live.js", "qbdi_diagnose.js", "qbdi_play.js",
  "qbdi_schedule.js", "qbdi.client.js", "qbdi_launcher.js", "qbdi_install.js", "qbdi_osc.js"];
const PATCHERS = ["qbdi.client.maxpat"];
const HELP = ["qbdi.client.maxhelp"];
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

function isDirectory(p) {
  try { return fs.statSync(p).isDirectory(); } catch (e) { return false; }
}

function isFile(p) {
  try { return fs.statSync(p).isFile(); } catch (e) { return false; }
}

/** Relative path -> size of every file under a folder (symbolic links by their target text). */
function manifest(folder) {
  const out = {};
  const walk = (dir, rel) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const key = rel ? rel + "/" + name : name;
      const st = fs.lstatSync(full);
      if (st.isSymbolicLink()) out[key] = "-> " + fs.readlinkSync(full);
      else if (st.isDirectory()) walk(full, key);
      else out[key] = st.size;
    }
  };
  walk(folder, "");
  return out;
}

function sameManifest(a, b) {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** Copy a folder tree, keeping file modes (the executable bit) and symbolic links. */
function copyTree(src, dst) {
  fs.mkdirSync(dst, { recursive: true });
  for (const name of fs.readdirSync(src)) {
    const from = path.join(src, name);
    const to = path.join(dst, name);
    const st = fs.lstatSync(from);
    if (st.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), to);
    else if (st.isDirectory()) copyTree(from, to);
    else {
      fs.copyFileSync(from, to);
      fs.chmodSync(to, st.mode & 0o777);
    }
  }
}

/** Put the server folder at `to` (whole, or not at all): copy beside it, then swap. */
function installServer(fromFolder, to) {
  if (isDirectory(to) && sameManifest(manifest(fromFolder), manifest(to))) return { to, copied: false };
  const partial = to + ".partial-" + process.pid;
  fs.rmSync(partial, { recursive: true, force: true });
  copyTree(fromFolder, partial);
  if (fs.existsSync(to)) fs.rmSync(to, { recursive: true, force: true });
  fs.renameSync(partial, to);
  return { to, copied: true };
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
      report.server = installServer(bundled, path.join(qbdiHome(options), SERVER_FOLDER));
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

/** One line per thing installed or refused, for the Max Console and the status line. */
function describe(report) {
  const lines = [];
  const s = report.server;
  if (s && s.error) lines.push(`could not install the server into ${s.to}: ${s.error}`);
  else if (s && s.copied) lines.push(`installed the server into ${s.to} (devices in collected or frozen sets find it there)`);
  for (const p of report.packages) {
    if (p.error) lines.push(`could not install the scripts into ${p.to}: ${p.error}`);
    else if (p.written) lines.push(`installed the scripts as the Max package ${p.to}`);
  }
  return lines;
}

module.exports = {
  SCRIPTS, PATCHERS, HELP, MAX_FOLDERS, serverBinaryName, documentsFolders, qbdiHome, fixedServers, packageFolders,
  scriptFolders, manifest, installFrom, describe,
};
