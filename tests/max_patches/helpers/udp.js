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
  waitFor(pred, timeoutMs = 5000, what = "condition") {
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

/** A free UDP port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve) => {
    const s = dgram.createSocket("udp4");
    s.bind(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

module.exports = { MaxUdp, freePort, portIsFree, answerPortProbes };
