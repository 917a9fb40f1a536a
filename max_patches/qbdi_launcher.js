// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
/*
 * qbdi_launcher.js -- Node for Max script ([node.script qbdi_launcher.js @autostart 1]) that
 * makes sure a qbdi server is running for the device.
 *
 * When the server does not answer /qbdi/ping it starts one: the packaged standalone binary
 * (qbdi-server), or `python -m bridge serve` from a configured Python. It watches the process,
 * restarts it with backoff when it crashes, and reports every state change and error to the
 * device as messages out of its left outlet:
 *   state <idle|checking|starting|running|external|stopping|stopped|crashed|failed> [detail]
 *   error <missing_binary|port_in_use|crashed|spawn_failed|start_timeout|protocol> <message>
 *   ready <server_version> <protocol> <port> <model>
 *   port_free <port> <0|1>          (answer to probe_port)
 *   command <how> <path>            (what it started)
 *   log <stderr line>
 * Messages in: ensure, start, stop, restart, ping, probe_port N, port N, host H, model NAME,
 * python PATH, server PATH, log_level LEVEL.
 *
 * Where the binary is looked for, in order:
 *   1. the path sent with "server PATH"          2. the environment variable QBDI_SERVER
 *   3. <folder of this script>/qbdi-server/qbdi-server[.exe]  (unzipped next to the device)
 *   4. ~/Documents/qbdi/qbdi-server/qbdi-server[.exe]
 *   5. a Python: "python PATH" or QBDI_PYTHON, run as `PYTHON -m bridge serve`
 *   6. `qbdi` on the PATH, run as `qbdi serve`
 *
 * Runs under plain Node too (tests): without the max-api module, Max is replaced by a shim, and
 * the Launcher class takes every dependency (spawn, env, clock, file checks) as an option.
 */
"use strict";

const childProcess = require("child_process");
const dgram = require("dgram");
const fs = require("fs");
const os = require("os");
const path = require("path");

const qbdi = require("./qbdi_protocol");
const osc = require("./qbdi_osc");

const EXIT_USAGE = 2; // what `qbdi serve` exits with for a port in use (and other usage errors)

const STATES = ["idle", "checking", "starting", "running", "external", "stopping", "stopped", "crashed", "failed"];

/** Stand-in for max-api when running under plain Node: records what would go to Max. */
function makeMaxShim(log) {
  const handlers = {};
  return {
    shim: true,
    outlets: [],
    outlet(...args) {
      this.outlets.push(args);
      if (log) log(args.join(" "));
      return Promise.resolve();
    },
    post(...args) {
      if (log) log(args.join(" "));
      return Promise.resolve();
    },
    addHandler(name, fn) { handlers[name] = fn; },
    addHandlers(map) { Object.assign(handlers, map); },
    handlers,
  };
}

function serverBinaryName(platform) {
  return platform === "win32" ? "qbdi-server.exe" : "qbdi-server";
}

class Launcher {
  /**
   * options: maxApi, spawn, env, platform, homedir, scriptDir, exists(path) -> bool,
   * now() -> ms, pingTimeoutMs, startTimeoutMs, watchIntervalMs, backoffMs (array),
   * maxCrashes, crashWindowMs, host, port, model, python, server, logLevel
   */
  constructor(options = {}) {
    this.max = options.maxApi || makeMaxShim();
    this.spawn = options.spawn || childProcess.spawn;
    this.env = options.env || process.env;
    this.platform = options.platform || process.platform;
    this.homedir = options.homedir || os.homedir();
    this.scriptDir = options.scriptDir || __dirname;
    this.exists = options.exists || ((p) => { try { return fs.statSync(p).isFile(); } catch (e) { return false; } });
    this.now = options.now || (() => Date.now());
    this.pingTimeoutMs = options.pingTimeoutMs || 700;
    this.startTimeoutMs = options.startTimeoutMs || 120000;
    this.watchIntervalMs = options.watchIntervalMs || 5000;
    this.backoffMs = options.backoffMs || [1000, 2000, 4000, 8000, 16000, 30000];
    this.maxCrashes = options.maxCrashes || 5;
    this.crashWindowMs = options.crashWindowMs || 300000;
    this.host = options.host || qbdi.DEFAULT_HOST;
    this.port = options.port || qbdi.DEFAULT_PORT;
    this.model = options.model || "";
    this.python = options.python || "";
    this.server = options.server || "";
    this.logLevel = options.logLevel || "";
    this.state = "idle";
    this.child = null;
    this.stderrTail = [];
    this.crashes = [];
    this.restartTimer = null;
    this.watchTimer = null;
    this.readyTimer = null;
    this.stopping = false;
    this.socket = null;
    this.socketReady = null;
    this.waiters = new Map(); // request id -> resolve
    this.nextId = 1 + Math.floor(Math.random() * 1e9);
    this.ensuring = null;
    this.command = null;
  }

  // ---- reporting ------------------------------------------------------------------------------
  out(...args) {
    try {
      const r = this.max.outlet(...args);
      if (r && typeof r.catch === "function") r.catch(() => {});
    } catch (e) { /* Max went away */ }
  }

  setState(state, detail) {
    this.state = state;
    if (detail) this.out("state", state, detail);
    else this.out("state", state);
  }

  fail(code, message, state = "failed") {
    this.setState(state, message);
    this.out("error", code, message);
  }

  // ---- UDP: ping and /qbdi/ready ------------------------------------------------------------
  openSocket() {
    if (this.socketReady) return this.socketReady;
    this.socketReady = new Promise((resolve, reject) => {
      const sock = dgram.createSocket("udp4");
      sock.on("message", (buf) => this.onDatagram(buf));
      sock.on("error", (err) => reject(err));
      sock.bind(0, "127.0.0.1", () => {
        sock.unref();
        this.socket = sock;
        resolve(sock);
      });
    });
    return this.socketReady;
  }

  get notifyPort() {
    return this.socket ? this.socket.address().port : 0;
  }

  onDatagram(buf) {
    let messages;
    try { messages = osc.decode(buf); } catch (e) { return; }
    for (const m of messages) {
      const ev = qbdi.parseReply(m.address, m.args);
      if (ev.type === "ready") {
        this.onReady(ev);
      } else if (ev.type === "pong" && this.waiters.has(ev.id)) {
        this.waiters.get(ev.id)(ev);
        this.waiters.delete(ev.id);
      }
    }
  }

  send(message) {
    const buf = osc.encode(message);
    return new Promise((resolve) => this.socket.send(buf, this.port, this.host, () => resolve()));
  }

  /** One /qbdi/ping; resolves the pong event or null after the timeout. */
  async ping(timeoutMs = this.pingTimeoutMs) {
    await this.openSocket();
    const id = this.nextId++;
    const answer = new Promise((resolve) => {
      const timer = setTimeout(() => { this.waiters.delete(id); resolve(null); }, timeoutMs);
      this.waiters.set(id, (ev) => { clearTimeout(timer); resolve(ev); });
    });
    for (const m of qbdi.buildPing(id, this.notifyPort)) await this.send(m);
    return answer;
  }

  /** Whether a UDP port is free to bind (the device asks before it points [udpreceive] there). */
  probePort(port) {
    return new Promise((resolve) => {
      const sock = dgram.createSocket("udp4");
      sock.once("error", () => { sock.close(); resolve(false); });
      sock.bind(port, () => sock.close(() => resolve(true)));
    });
  }

  // ---- finding the server ---------------------------------------------------------------------
  /** {command, args, how, cwd} or {error, tried}. */
  findServer() {
    const tried = [];
    const binary = serverBinaryName(this.platform);
    const candidates = [];
    if (this.server) candidates.push(["configured", this.server]);
    if (this.env.QBDI_SERVER) candidates.push(["QBDI_SERVER", this.env.QBDI_SERVER]);
    candidates.push(["next to the device", path.join(this.scriptDir, "qbdi-server", binary)]);
    candidates.push(["Documents", path.join(this.homedir, "Documents", "qbdi", "qbdi-server", binary)]);
    for (const [how, p] of candidates) {
      tried.push(p);
      if (this.exists(p)) return { command: p, args: this.serveArgs(), how, cwd: path.dirname(p) };
    }
    const python = this.python || this.env.QBDI_PYTHON;
    if (python) {
      tried.push(`${python} -m bridge`);
      if (!python.includes(path.sep) || this.exists(python)) {
        return { command: python, args: ["-m", "bridge"].concat(this.serveArgs()), how: "python" };
      }
    }
    const qbdiCli = this.findOnPath(this.platform === "win32" ? "qbdi.exe" : "qbdi");
    tried.push("qbdi on the PATH");
    if (qbdiCli) return { command: qbdiCli, args: this.serveArgs(), how: "PATH" };
    return { error: "missing_binary", tried };
  }

  findOnPath(name) {
    const dirs = String(this.env.PATH || "").split(path.delimiter).filter(Boolean);
    for (const d of dirs) {
      const p = path.join(d, name);
      if (this.exists(p)) return p;
    }
    return null;
  }

  serveArgs() {
    const args = [];
    if (this.logLevel) args.push("--log-level", this.logLevel);
    args.push("serve", "--host", this.host, "--port", String(this.port));
    if (this.model) args.push("--model", this.model);
    if (this.notifyPort) args.push("--notify-port", String(this.notifyPort));
    return args;
  }

  // ---- lifecycle ------------------------------------------------------------------------------
  /** Ping; start a server if none answers. Concurrent calls share one attempt. */
  ensure() {
    if (!this.ensuring) {
      this.ensuring = this._ensure().finally(() => { this.ensuring = null; });
    }
    return this.ensuring;
  }

  async _ensure() {
    if (this.child && (this.state === "starting" || this.state === "running")) return this.state;
    this.setState("checking");
    const pong = await this.ping();
    if (pong) {
      this.adoptExternal(pong);
      return this.state;
    }
    await this.start();
    return this.state;
  }

  adoptExternal(pong) {
    if (pong.protocolVersion !== qbdi.PROTOCOL_VERSION) {
      this.fail("protocol", `the server on port ${this.port} speaks protocol ${pong.protocolVersion}, ` +
        `the device ${qbdi.PROTOCOL_VERSION}; install matching versions`);
      return;
    }
    this.setState(this.child ? "running" : "external", `server ${pong.serverVersion} on ${this.host}:${this.port}`);
    this.watch();
  }

  async start() {
    if (this.child) return;
    clearTimeout(this.restartTimer);
    this.restartTimer = null;
    await this.openSocket();
    const found = this.findServer();
    if (found.error) {
      this.fail("missing_binary",
        "qbdi server not found. Unzip qbdi-server next to the device or into ~/Documents/qbdi, " +
        "or set QBDI_SERVER, or send 'python /path/to/python'. Looked in: " + found.tried.join("; "));
      return;
    }
    this.command = found;
    this.stopping = false;
    this.stderrTail = [];
    this.out("command", found.how, found.command);
    this.setState("starting", `${found.how}: ${found.command}`);
    let child;
    try {
      child = this.spawn(found.command, found.args, {
        cwd: found.cwd, env: this.env, stdio: ["ignore", "pipe", "pipe"], windowsHide: true,
      });
    } catch (err) {
      this.fail("spawn_failed", `could not start ${found.command}: ${err.message}`);
      return;
    }
    this.child = child;
    const onLine = (line) => {
      line = line.trim();
      if (!line) return;
      this.stderrTail.push(line);
      if (this.stderrTail.length > 20) this.stderrTail.shift();
      this.out("log", line);
    };
    lineReader(child.stderr, onLine);
    lineReader(child.stdout, onLine);
    child.on("error", (err) => {
      // ENOENT / EACCES: the file vanished or is not executable
      if (this.child === child) this.child = null;
      this.fail("spawn_failed", `could not start ${found.command}: ${err.message}`);
    });
    child.on("exit", (code, signal) => this.onExit(child, code, signal));
    clearTimeout(this.readyTimer);
    const startedAt = this.now();
    // If the server cannot send /qbdi/ready (older build), ping until it answers.
    const poll = async () => {
      if (this.child !== child || this.state !== "starting") return;
      const pong = await this.ping(500);
      if (this.child !== child || this.state !== "starting") return;
      if (pong) {
        this.onReady({ serverVersion: pong.serverVersion, protocolVersion: pong.protocolVersion, port: this.port, model: this.model });
      } else if (this.now() - startedAt > this.startTimeoutMs) {
        this.fail("start_timeout", `the server did not answer within ${Math.round(this.startTimeoutMs / 1000)} s` +
          (this.lastLine() ? `; last message: ${this.lastLine()}` : ""));
        this.kill();
      } else {
        this.readyTimer = setTimeout(poll, 500);
      }
    };
    this.readyTimer = setTimeout(poll, 500);
  }

  onReady(ev) {
    if (this.state === "running" || this.state === "external") return;
    clearTimeout(this.readyTimer);
    if (ev.protocolVersion !== qbdi.PROTOCOL_VERSION) {
      this.fail("protocol", `the server speaks protocol ${ev.protocolVersion}, the device ${qbdi.PROTOCOL_VERSION}`);
      return;
    }
    this.setState(this.child ? "running" : "external", `server ${ev.serverVersion}, model ${ev.model || "default"}`);
    this.out("ready", ev.serverVersion, ev.protocolVersion, ev.port || this.port, ev.model || "");
    this.watch();
  }

  lastLine() {
    return this.stderrTail.length ? this.stderrTail[this.stderrTail.length - 1] : "";
  }

  async onExit(child, code, signal) {
    if (this.child !== child) return;
    this.child = null;
    clearTimeout(this.readyTimer);
    if (this.stopping) {
      this.setState("stopped");
      return;
    }
    const last = this.lastLine();
    const portProblem = code === EXIT_USAGE && /port|in use|address/i.test(last);
    if (portProblem) {
      // Another qbdi (from another track's device) may have won the race for the port.
      const pong = await this.ping();
      if (pong) {
        this.adoptExternal(pong);
        return;
      }
      this.fail("port_in_use", `port ${this.port} is in use by another program (${last}); ` +
        "set another Server Port in the device");
      return;
    }
    if (code === EXIT_USAGE) {
      this.fail("crashed", `the server refused to start: ${last || "exit code 2"}`);
      return;
    }
    const now = this.now();
    this.crashes = this.crashes.filter((t) => now - t < this.crashWindowMs);
    this.crashes.push(now);
    const why = signal ? `signal ${signal}` : `exit code ${code}`;
    const message = `the server stopped (${why})${last ? ": " + last : ""}`;
    if (this.crashes.length > this.maxCrashes) {
      this.fail("crashed", `${message}; gave up after ${this.crashes.length} crashes`);
      return;
    }
    const delay = this.backoffMs[Math.min(this.crashes.length - 1, this.backoffMs.length - 1)];
    this.fail("crashed", `${message}; restarting in ${Math.round(delay / 100) / 10} s`, "crashed");
    this.restartTimer = setTimeout(() => { this.restartTimer = null; this.ensure(); }, delay);
    if (this.restartTimer.unref) this.restartTimer.unref();
  }

  /** While running: ping now and then; a server that stops answering is restarted. */
  watch() {
    if (this.watchTimer) return;
    let misses = 0;
    this.watchTimer = setInterval(async () => {
      if (this.state !== "running" && this.state !== "external") return;
      const pong = await this.ping();
      misses = pong ? 0 : misses + 1;
      if (misses >= 2) {
        misses = 0;
        if (this.child) {
          this.out("log", "the server stopped answering; restarting it");
          this.kill();
        } else {
          this.setState("idle", "the external server went away");
          this.ensure();
        }
      }
    }, this.watchIntervalMs);
    if (this.watchTimer.unref) this.watchTimer.unref();
  }

  kill() {
    const child = this.child;
    if (!child) return;
    try { child.kill("SIGTERM"); } catch (e) { /* already gone */ }
    const hard = setTimeout(() => { try { child.kill("SIGKILL"); } catch (e) { /* gone */ } }, 3000);
    if (hard.unref) hard.unref();
    child.once("exit", () => clearTimeout(hard));
  }

  /** Stop the server this launcher started (a server started by someone else is left alone). */
  stop() {
    clearTimeout(this.restartTimer);
    clearTimeout(this.readyTimer);
    clearInterval(this.watchTimer);
    this.restartTimer = this.readyTimer = this.watchTimer = null;
    if (!this.child) {
      this.setState("stopped");
      return Promise.resolve();
    }
    this.stopping = true;
    this.setState("stopping");
    const child = this.child;
    return new Promise((resolve) => {
      child.once("exit", () => resolve());
      this.kill();
    });
  }

  async restart() {
    await this.stop();
    this.crashes = [];
    return this.ensure();
  }

  close() {
    clearInterval(this.watchTimer);
    clearTimeout(this.restartTimer);
    clearTimeout(this.readyTimer);
    if (this.child) {
      this.stopping = true;
      try { this.child.kill("SIGTERM"); } catch (e) { /* gone */ }
    }
    if (this.socket) {
      try { this.socket.close(); } catch (e) { /* closed */ }
    }
    this.socket = null;
    this.socketReady = null;
  }

  // ---- configuration messages -----------------------------------------------------------------
  configure(key, value) {
    switch (key) {
      case "port": {
        const p = Math.round(Number(value));
        if (p > 0 && p < 65536 && p !== this.port) { this.port = p; clearInterval(this.watchTimer); this.watchTimer = null; }
        break;
      }
      case "host": this.host = String(value || qbdi.DEFAULT_HOST); break;
      case "model": this.model = value && value !== "default" ? String(value) : ""; break;
      case "python": this.python = String(value || ""); break;
      case "server": this.server = String(value || ""); break;
      case "log_level": this.logLevel = String(value || ""); break;
      default: throw new Error(`unknown setting ${key}`);
    }
  }

  /** Handlers for max-api's addHandlers. */
  handlers() {
    const cfg = (key) => (...v) => this.configure(key, v.join(" "));
    return {
      ensure: () => this.ensure(),
      start: () => this.start(),
      stop: () => this.stop(),
      restart: () => this.restart(),
      ping: async () => {
        const pong = await this.ping();
        this.out("pong", pong ? 1 : 0, pong ? pong.serverVersion : "");
      },
      probe_port: async (port) => this.out("port_free", port, (await this.probePort(Number(port))) ? 1 : 0),
      port: cfg("port"),
      host: cfg("host"),
      model: cfg("model"),
      python: cfg("python"),
      server: cfg("server"),
      log_level: cfg("log_level"),
    };
  }
}

/** Calls onLine for each line of a readable stream. */
function lineReader(stream, onLine) {
  if (!stream) return;
  let rest = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk) => {
    rest += chunk;
    const lines = rest.split(/\r?\n/);
    rest = lines.pop();
    lines.forEach(onLine);
  });
  stream.on("end", () => { if (rest) onLine(rest); rest = ""; });
}

/** Entry point under Node for Max. */
function main(maxApi) {
  const launcher = new Launcher({ maxApi });
  maxApi.addHandlers(launcher.handlers());
  const shutdown = () => launcher.close();
  process.on("exit", shutdown);
  process.on("SIGTERM", () => { shutdown(); process.exit(0); });
  process.on("SIGINT", () => { shutdown(); process.exit(0); });
  launcher.ensure();
  return launcher;
}

let maxApi = null;
try {
  maxApi = require("max-api"); // only resolvable inside Node for Max
} catch (e) {
  maxApi = null;
}
if (maxApi) main(maxApi);

module.exports = { Launcher, makeMaxShim, main, serverBinaryName, STATES, EXIT_USAGE };
