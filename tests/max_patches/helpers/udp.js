// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// Plays Max's [udpsend] and [udpreceive @defer 1] for a Max [js] loaded with maxjs.js, over real
// UDP sockets. What reaches the script is what Max's udpreceive would give it: the OSC address as
// the selector, int32 / float32 / string arguments, float64 read as 0 (Max cannot decode "d").
"use strict";

const dgram = require("dgram");
const path = require("path");
const osc = require(path.join(__dirname, "..", "..", "..", "max_patches", "qbdi_osc.js"));

const MAX_SAFE_TYPES = new Set(["i", "f", "s"]);

class MaxUdp {
  /**
   * script: a loadMaxScript() result; sendOutlet: index of the outlet wired to [udpsend];
   * receiveOutlet: index of the outlet that sends "port N" to [udpreceive].
   */
  constructor({ sendOutlet = 0, receiveOutlet, host = "127.0.0.1", port = 7400, bindHost = "127.0.0.1" } = {}) {
    this.sendOutlet = sendOutlet;
    this.receiveOutlet = receiveOutlet;
    this.host = host;
    this.bindHost = bindHost;   // where [udpreceive] listens (another address than the loopback's: a LAN test)
    this.port = port;
    this.script = null;
    this.sender = dgram.createSocket("udp4");
    this.receiver = null;
    this.receivePort = 0;
    this.sent = [];      // {address, args, size, types}
    this.received = [];  // {address, types, size}
    this.unsafe = [];    // things Max's udpreceive would mangle
    this.waiters = [];
  }

  attach(script) { this.script = script; }

  /** The onOutlet callback for loadMaxScript. */
  onOutlet(n, args) {
    if (n === this.sendOutlet) {
      const sel = args[0];
      if (sel === "host") { this.host = String(args[1]); return; }
      if (sel === "port") { this.port = Number(args[1]); return; }
      const buf = osc.encode(args);
      this.sent.push({ address: sel, args: args.slice(1), size: buf.length, types: args.slice(1).map(osc.maxTypeOf).join("") });
      this.sender.send(buf, this.port, this.host);
    } else if (n === this.receiveOutlet && args[0] === "port") {
      this.listen(Number(args[1]));
    }
  }

  listen(port) {
    if (this.receiver) { try { this.receiver.close(); } catch (e) { /* closed */ } }
    const sock = dgram.createSocket("udp4");
    this.receiver = sock;
    this.receivePort = port;
    sock.on("error", (err) => { this.bindError = err; });
    sock.on("message", (buf) => {
      if (buf.length >= 8 && buf.toString("ascii", 0, 8) === "#bundle\0") this.unsafe.push("bundle");
      for (const m of osc.decode(buf)) {
        const args = m.args.map((a, i) => {
          const t = m.types[i];
          if (!MAX_SAFE_TYPES.has(t)) this.unsafe.push(`${m.address}: type '${t}'`);
          return t === "d" ? 0 : a;
        });
        if (buf.length > 4096) this.unsafe.push(`${m.address}: ${buf.length} bytes`);
        this.received.push({ address: m.address, types: m.types, size: buf.length });
        this.script.send(m.address, ...args);
      }
      this.check();
    });
    sock.bind(port, this.bindHost);
  }

  check() {
    this.waiters = this.waiters.filter((w) => {
      if (w.pred()) { clearTimeout(w.timer); w.resolve(); return false; }
      return true;
    });
  }

  /** Resolves when pred() becomes true after a datagram arrives (or now). */
  waitFor(pred, timeoutMs = 30000, what = "condition") {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w = { pred, resolve };
      w.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  close() {
    try { this.sender.close(); } catch (e) { /* closed */ }
    if (this.receiver) { try { this.receiver.close(); } catch (e) { /* closed */ } }
    this.waiters.forEach((w) => clearTimeout(w.timer));
  }
}

/** Whether a UDP port on 127.0.0.1 can be bound now (what the launcher's probe_port answers). */
function portIsFree(port) {
  return new Promise((resolve) => {
    const s = dgram.createSocket("udp4");
    s.once("error", () => { try { s.close(); } catch (e) { /* closed */ } resolve(false); });
    s.bind(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

/**
 * Answer the device's probe_port messages (outlet 4) as the launcher does, honestly: a port another
 * program (another test run, say) holds is busy, and the device moves on to the next one.
 */
async function answerPortProbes(dev, outlet = 4, attempts = 32) {
  let answered = 0;
  for (let i = 0; i < attempts; i++) {
    const probes = dev.out(outlet).filter((m) => m[0] === "probe_port");
    if (probes.length <= answered) return;
    answered = probes.length;
    const port = Number(probes[probes.length - 1][1]);
    dev.send("server", "port_free", port, (await portIsFree(port)) ? 1 : 0);
  }
}

// Ports for servers that a test starts in another process (which must be told the port before it
// binds it). A port from bind(0) would be released before the child binds it, and any bind(0) in
// the meantime (this run's, a parallel run's) could be handed the same one. These come from below
// every OS's ephemeral range (Linux 32768-60999, macOS and Windows 49152-65535), where bind(0)
// never goes, and each is reserved by a lock file that parallel runs respect.
const fs = require("fs");
const os = require("os");
const LOCKS = path.join(os.tmpdir(), "qbdi-test-ports");
const PORT_LOW = 20000;
const PORT_HIGH = 32767;
const held = [];

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch (e) { return e.code === "EPERM"; }
}

function reserve(port) {
  const lock = path.join(LOCKS, String(port));
  try {
    fs.writeFileSync(lock, String(process.pid), { flag: "wx" });
  } catch (e) {
    if (e.code !== "EEXIST") throw e;
    const owner = Number(fs.readFileSync(lock, "utf8")) || 0;
    if (owner === process.pid || alive(owner)) return false;
    fs.rmSync(lock, { force: true });   // left by a killed run
    return reserve(port);
  }
  if (!held.length) process.once("exit", () => held.forEach((l) => fs.rmSync(l, { force: true })));
  held.push(lock);
  return true;
}

/** A UDP port on 127.0.0.1, free now, that no bind(0) and no parallel test run will take. */
async function freePort() {
  fs.mkdirSync(LOCKS, { recursive: true });
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_LOW + Math.floor(Math.random() * (PORT_HIGH - PORT_LOW + 1));
    if (reserve(port) && (await portIsFree(port))) return port;
  }
  throw new Error(`no free UDP port in ${PORT_LOW}-${PORT_HIGH} (locks in ${LOCKS})`);
}

module.exports = { MaxUdp, freePort, portIsFree, answerPortProbes };
