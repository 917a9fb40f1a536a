// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// The whole device as Max would wire it, minus Max: qbdi_device.js (maxjs.js, real Task timers)
// against the LiveAPI stand-in, its [udpsend]/[udpreceive] over real UDP (udp.js), and its
// [node.script] as a real Launcher (qbdi_launcher.js) whose outlet feeds [prepend server] back
// into the script. Used by Diagnose's tests, against the fake and the real server.
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");

const { Launcher, makeMaxShim } = require("../../../max_patches/qbdi_launcher.js");
const { FakeLive } = require("./fake_live.js");
const { loadMaxScript } = require("./maxjs.js");
const { MaxUdp } = require("./udp.js");

const OUT_LAUNCHER = 4;

/**
 * options: port (the server's), launcher (Launcher options: python, spawn, exists, ...),
 * live (FakeLive options), slots, timers ("real" default), diagnoseStartMs.
 * Returns {live, dev, udp, launcher, max, home, close()}.
 */
function makeRig(options = {}) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "qbdi-rig-"));
  const live = new FakeLive(options.live || {});
  const track = live.addTrack({ slots: options.slots || 4 });
  live.addDevice(track);
  const udp = new MaxUdp({ sendOutlet: 0, receiveOutlet: 3, port: options.port });
  const max = makeMaxShim();
  let dev = null;
  max.outlet = function (...args) {
    this.outlets.push(args);
    if (dev) setImmediate(() => { if (dev) dev.send("server", ...args); });   // [prepend server] -> js
    return Promise.resolve();
  };
  const launcher = new Launcher(Object.assign({ maxApi: max, port: options.port, scriptDir: home, homedir: home,
    env: { PATH: "" }, exists: () => false, pingTimeoutMs: 400 }, options.launcher || {}));
  const handlers = launcher.handlers();
  const toLauncher = (args) => {
    const fn = handlers[args[0]];
    if (!fn) throw new Error(`the launcher has no handler for ${args[0]}`);
    Promise.resolve(fn(...args.slice(1))).catch(() => {});
  };
  dev = loadMaxScript("qbdi_device.js", {
    LiveAPI: live.LiveAPI, timers: options.timers || "real",
    onOutlet: (n, args) => {
      udp.onOutlet(n, args);
      if (n === OUT_LAUNCHER) setImmediate(() => toLauncher(args));
    },
  });
  udp.attach(dev);
  if (options.diagnoseStartMs) dev.context.DIAGNOSE_START_MS = options.diagnoseStartMs;
  dev.send("server_port", options.port);
  dev.send("init");
  launcher.hello();
  return {
    live, dev, udp, launcher, max, home,
    posts: () => dev.posts.map((p) => p.replace(/\n$/, "")),
    status: () => { const s = dev.out(1); return s.length ? s[s.length - 1].slice(1).join(" ") : ""; },
    close() {
      const d = dev;
      dev = null;
      d.dispose();
      udp.close();
      launcher.close();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Resolves once pred() holds (polled every 20 ms). */
function until(pred, timeoutMs, what) {
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

/** Diagnose's result lines from the Max Console: {name: {status, detail}}. */
function diagnoseLines(posts) {
  const out = {};
  for (const p of posts) {
    const m = /^qbdi diagnose: (PASS|FAIL|SKIP) ([^:]+?)(?:: (.*))?$/.exec(p);
    if (m) out[m[2]] = { status: m[1], detail: m[3] || "" };
  }
  return out;
}

/** The copyable report block, as lines. */
function reportBlock(posts) {
  const a = posts.findIndex((p) => p.startsWith("---- qbdi diagnose report"));
  const b = posts.findIndex((p) => p.startsWith("---- end of qbdi diagnose report"));
  return a >= 0 && b > a ? posts.slice(a, b + 1) : [];
}

module.exports = { makeRig, until, diagnoseLines, reportBlock };
