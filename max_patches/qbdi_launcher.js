// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
/*
 * qbdi_launcher.js -- Node for Max script ([node.script qbdi_launcher.js @autostart 1]) that
 * makes sure a qbdi server is running for the device.
 *
 * It starts nothing by itself: it says "hello" when Node is up, and the device answers with its
 * settings and "ensure". Then, when no server answers /qbdi/ping on the device's address, it
 * starts one (the packaged qbdi-server, or `python -m bridge serve`), with --exit-with-stdin and a
 * pipe on the server's stdin, so the server ends with this Node process however that ends. It
 * watches the process, restarts it with backoff when it crashes, restarts it on the new address
 * when the device's Server Port or host changes, and reports to the device out of its left outlet:
 *   hello <protocol> <node version> <script folder>
 *   state <idle|checking|starting|running|external|stopping|stopped|crashed|failed> [detail]
 *   error <missing_binary|missing_script|port_in_use|crashed|blocked|spawn_failed|start_timeout|protocol> <message>
 *   ready <server_version> <protocol> <port> <model>
 *   port_free <port> <0|1>          (answer to probe_port)
 *   command <how> <path>            (what it started)
 *   install_notice <line>           (the first run, before it copies anything: what, where, how to opt out)
 *   installed <line>                (the first-run install, qbdi_install.js)
 *   info <json>                     (answer to info: what Diagnose reports)
 *   report_saved <path>             (answer to save_report)
 *   tick                            (every N ms after "clock N": the device's timer when Max's stops)
 *   log <server line>
 * Server lines and the launcher's own errors also go to the Max Console (errors and warnings
 * always, other lines at most INFO_BURST per INFO_WINDOW_MS).
 * Messages in: ensure, retry, start, stop, restart, ping, probe_port N, port N, host H, model NAME,
 * python PATH, server PATH, log_level LEVEL, install 0|1 (the device's Install toggle), clock MS, info,
 * save_report TEXT.
 *
 * Where the binary is looked for, in order:
 *   1. the path sent with "server PATH"          2. the environment variable QBDI_SERVER
 *   3. <folder of this script>/qbdi-server/qbdi-server[.exe]  (the unzipped release folder)
 *   4. ~/Documents/qbdi/qbdi-server/qbdi-server[.exe]         (the fixed place: qbdi_install.js)
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

/** The sibling scripts: next to this file, else in a Max package folder (a frozen or collected device). */
function requireSibling(name) {
  const folders = [__dirname];
  const docs = [path.join(os.homedir(), "Documents")];
  if (process.platform === "win32" && process.env.OneDrive) docs.push(path.join(process.env.OneDrive, "Documents"));
  for (const d of docs) for (const max of ["Max 9", "Max 8"]) folders.push(path.join(d, max, "Packages", "qbdi", "javascript"));
  for (const folder of folders) {
    const file = path.join(folder, name + ".js");
    if (fs.existsSync(file)) {
      try {
        return { module: require(file), file };
      } catch (err) {   // it needs a sibling that is missing (qbdi_install.js: qbdi_scripts.js)
        return { module: null, file, missing: `${name}.js could not load (${err.message})` };
      }
    }
  }
  return { module: null, file: null, missing: `${name}.js (looked in: ${folders.join("; ")})` };
}

const LOADED = { qbdi_protocol: requireSibling("qbdi_protocol"), qbdi_osc: requireSibling("qbdi_osc"),
  qbdi_install: requireSibling("qbdi_install") };
const qbdi = LOADED.qbdi_protocol.module || { DEFAULT_HOST: "127.0.0.1", DEFAULT_PORT: 7400, PROTOCOL_VERSION: 0 };
const osc = LOADED.qbdi_osc.module;
const files = LOADED.qbdi_install.module;

const EXIT_USAGE = 2;            // what `qbdi serve` exits with for a port in use (and other usage errors)
const BLOCKED_WITHIN_MS = 2000;  // macOS: a SIGKILL this soon after spawn is Gatekeeper, not a crash
const INFO_BURST = 5;
const INFO_WINDOW_MS = 10000;
const ERROR_REPEAT_MS = 60000;

const STATES = ["idle", "checking", "starting", "running", "external", "stopping", "stopped", "crashed", "failed"];

/** Stand-in for max-api when running under plain Node: records what would go to Max. */
function makeMaxShim(log) {
  const handlers = {};
  return {
    shim: true,
    outlets: [],
    posts: [],
    outlet(...args) {
      this.outlets.push(args);
      if (log) log(args.join(" "));
      return Promise.resolve();
    },
    post(...args) {
      this.posts.push(args.join(" "));
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

/** "error" (always shown), "warning" (always) or "info" (throttled) for one server line. */
function lineLevel(line) {
  if (/\b(ERROR|CRITICAL)\b|^Traceback|^qbdi(-server)?( serve)?: error|Error: /.test(line)) return "error";
  if (/\bWARNING\b/.test(line)) return "warning";
  return "info";
}

class Launcher {
  /**
   * options: maxApi, spawn, env, platform, homedir, scriptDir, exists(path) -> bool,
   * now() -> ms, pingTimeoutMs, startTimeoutMs, watchIntervalMs, backoffMs (array),
   * maxCrashes, crashWindowMs, host, port, model, python, server, logLevel, install (bool)
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
    this.install = options.install === true;
    this.installAllowed = true;        // the device's Install toggle ("install 0" keeps the first run from copying)
    this.installNoticeMs = options.installNoticeMs || 15000;   // the first run says what it will copy, then waits this long
    this.installNotice = null;         // the timer while it waits
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
    this.clockTimer = null;
    this.stopping = false;
    this.socket = null;
    this.socketReady = null;
    this.waiters = new Map(); // request id -> resolve
    this.nextId = 1 + Math.floor(Math.random() * 1e9);
    this.ensuring = null;
    this.command = null;
    this.wanted = false;      // the device asked for a server: until then nothing starts
    this.generation = 0;      // bumped when the address changes: answers about the old one are stale
    this.stuck = null;        // {code, message}: blocked by the OS, or gave up; only "retry" starts again
    this.noWatchdog = false;  // the server is too old for --exit-with-stdin
    this.installed = null;    // the first-run install's report
    this.marker = null;       // <installed server folder>.running-<pid> while its server runs (qbdi_install.js)
    this.posted = { window: 0, count: 0, hidden: 0 };
    this.lastErrorPost = { text: "", at: -Infinity };
  }

  // ---- reporting ------------------------------------------------------------------------------
  out(...args) {
    try {
      const r = this.max.outlet(...args);
      if (r && typeof r.catch === "function") r.catch(() => {});
    } catch (e) { /* Max went away */ }
  }

  /** A line for the Max Console. */
  post(text) {
    try {
      const r = this.max.post(text);
      if (r && typeof r.catch === "function") r.catch(() => {});
    } catch (e) { /* Max went away */ }
  }

  /** A server line for the Max Console: errors and warnings always, the rest throttled. */
  postServerLine(line) {
    const level = lineLevel(line);
    if (level === "info") {
      const t = this.now();
      if (t - this.posted.window > INFO_WINDOW_MS) {
        if (this.posted.hidden) this.post(`qbdi-server: (${this.posted.hidden} more lines not shown)`);
        this.posted = { window: t, count: 0, hidden: 0 };
      }
      if (++this.posted.count > INFO_BURST) { this.posted.hidden++; return; }
    }
    this.post("qbdi-server: " + line);
  }

  setState(state, detail) {
    this.state = state;
    if (detail) this.out("state", state, detail);
    else this.out("state", state);
  }

  fail(code, message, state = "failed") {
    this.setState(state, message);
    this.out("error", code, message);
    const text = `qbdi-launcher: error ${code}: ${message}`;
    const t = this.now();
    if (text !== this.lastErrorPost.text || t - this.lastErrorPost.at > ERROR_REPEAT_MS) {
      this.lastErrorPost = { text, at: t };   // the same error again (a retry every 10 s): once a minute
      this.post(text);
    }
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
    const fixed = files ? files.fixedServers({ homedir: this.homedir, env: this.env, platform: this.platform })
      : [path.join(this.homedir, "Documents", "qbdi", "qbdi-server", binary)];
    for (const p of fixed) candidates.push(["Documents", p]);
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
    if (!this.noWatchdog) args.push("--exit-with-stdin");
    return args;
  }

  // ---- lifecycle ------------------------------------------------------------------------------
  /** Ping; start a server if none answers. Concurrent calls share one attempt. */
  ensure() {
    this.wanted = true;
    if (!this.ensuring) {
      this.ensuring = this._ensure().finally(() => { this.ensuring = null; });
    }
    return this.ensuring;
  }

  async _ensure() {
    for (let round = 0; round < 4; round++) {
      if (this.child && (this.state === "starting" || this.state === "running")) return this.state;
      if (this.stuck) return this.state;           // told the user once how to fix it; "retry" clears it
      const generation = this.generation;
      this.setState("checking");
      const pong = await this.ping();
      if (generation !== this.generation) continue; // the address changed while we asked the old one
      if (pong) {
        this.adoptExternal(pong);
        return this.state;
      }
      await this.start();
      return this.state;
    }
    return this.state;
  }

  /** Try again after "blocked" or "gave up" (Diagnose, or the user fixed the cause). */
  retry() {
    this.stuck = null;
    this.crashes = [];
    return this.ensure();
  }

  /** The device's address changed: restart our server there, or look for one there. */
  readdress() {
    this.generation++;
    clearInterval(this.watchTimer);
    this.watchTimer = null;
    if (!this.wanted) return null;                 // nothing runs before the device asked
    this.crashes = [];
    if (this.child) return this.restart();
    clearTimeout(this.restartTimer);
    this.restartTimer = null;
    this.setState("idle", `now looking on ${this.host}:${this.port}`);
    return this.ensure();
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
    this.wanted = true;
    clearTimeout(this.restartTimer);
    this.restartTimer = null;
    await this.openSocket();
    const found = this.findServer();
    if (found.error) {
      this.fail("missing_binary",
        "qbdi server not found. Unzip the release and load the device from its folder once (it installs " +
        "the server into ~/Documents/qbdi), or set QBDI_SERVER, or send 'python /path/to/python'. " +
        "Looked in: " + found.tried.join("; "));
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
        cwd: found.cwd, env: this.env, stdio: ["pipe", "pipe", "pipe"], windowsHide: true,
      });
    } catch (err) {
      this.spawnError(found, err);
      return;
    }
    this.child = child;
    child.spawnedAt = this.now();
    // a server running from the installed folder: no update swaps that folder while it runs
    if (files && found.how === "Documents") this.marker = files.markRunning(path.dirname(found.command), child.pid);
    if (child.stdin) child.stdin.on("error", () => {});   // never written to: only its closing matters
    const onLine = (line) => {
      line = line.trim();
      if (!line) return;
      this.stderrTail.push(line);
      if (this.stderrTail.length > 20) this.stderrTail.shift();
      this.out("log", line);
      this.postServerLine(line);
    };
    lineReader(child.stderr, onLine);
    lineReader(child.stdout, onLine);
    child.on("error", (err) => {
      if (this.child === child) this.child = null;
      this.spawnError(found, err);
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

  /** spawn() threw or emitted "error": EPERM/EACCES is the OS refusing the file, said once. */
  spawnError(found, err) {
    if (err && (err.code === "EPERM" || err.code === "EACCES")) {
      this.blocked(found.command, err.code);
      return;
    }
    this.fail("spawn_failed", `could not start ${found.command}: ${err.message}`);
  }

  /** The OS will not run the binary: stop retrying, say once how to fix it. */
  blocked(binary, why) {
    const folder = path.dirname(binary);
    let message;
    if (this.platform === "darwin") {
      message = `macOS blocked qbdi-server (${why}): the download is quarantined. In Terminal run: ` +
        `xattr -dr com.apple.quarantine "${folder}"` + (why === "EACCES" ? ` && chmod +x "${binary}"` : "") +
        " then press Diagnose (or reload the device)";
    } else if (this.platform === "win32") {
      message = `Windows refused to start ${binary} (${why}): right-click it, Properties, Unblock (or allow it in ` +
        "your antivirus), then press Diagnose (or reload the device)";
    } else {
      message = `cannot run ${binary} (${why}): chmod +x "${binary}", then press Diagnose (or reload the device)`;
    }
    this.stuck = { code: "blocked", message };
    this.fail("blocked", message);
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
    // a second later: the copy (tens of MB, synchronous) must not hold up the messages above
    const later = setTimeout(() => this.firstRunInstall(), 1000);
    if (later.unref) later.unref();
  }

  lastLine() {
    return this.stderrTail.length ? this.stderrTail[this.stderrTail.length - 1] : "";
  }

  async onExit(child, code, signal) {
    if (files && this.marker && (child === this.child || !this.child)) { files.unmarkRunning(this.marker); this.marker = null; }
    if (this.child !== child) return;
    this.child = null;
    clearTimeout(this.readyTimer);
    if (this.stopping) {
      this.setState("stopped");
      return;
    }
    const last = this.lastLine();
    if (code === EXIT_USAGE && !this.noWatchdog && this.stderrTail.some((l) => /exit-with-stdin/.test(l))) {
      // an older server: run it without the watchdog rather than not at all
      this.noWatchdog = true;
      this.post("qbdi-launcher: this server does not know --exit-with-stdin (older version); started it without");
      await this.start();
      return;
    }
    if (signal === "SIGKILL" && this.platform === "darwin" && !child.killedByUs &&
        this.now() - child.spawnedAt < BLOCKED_WITHIN_MS) {
      this.blocked(this.command ? this.command.command : "qbdi-server", "killed at launch");
      return;
    }
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
      this.stuck = { code: "crashed", message };
      this.fail("crashed", `${message}; gave up after ${this.crashes.length} crashes (Diagnose tries again)`);
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
          this.post("qbdi-launcher: the server stopped answering; restarting it");
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
    child.killedByUs = true;
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
    this.stuck = null;
    return this.ensure();
  }

  close() {
    clearInterval(this.watchTimer);
    clearInterval(this.clockTimer);
    clearTimeout(this.restartTimer);
    clearTimeout(this.readyTimer);
    clearTimeout(this.installNotice);
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

  // ---- the first-run install, Diagnose's facts, the clock --------------------------------------
  /** Copy the server and scripts into the fixed places once (qbdi_install.js), when run from the release folder. */
  firstRunInstall(now = false) {
    if (!this.install || !this.installAllowed || this.installed || !files || !this.command ||
        this.command.how !== "next to the device") return;
    const options = { homedir: this.homedir, env: this.env, platform: this.platform };
    if (!now && !(options.env || {}).QBDI_NO_INSTALL && files.firstTime(options)) {
      // say before doing, once: the status line and the Max Console, with the way to opt out on the device
      if (this.installNotice) return;
      const line = files.notice(this.scriptDir, options, Math.round(this.installNoticeMs / 1000));
      if (line) {
        this.out("install_notice", line);
        this.post("qbdi-launcher: " + line);
        this.installNotice = setTimeout(() => this.firstRunInstall(true), this.installNoticeMs);
        if (this.installNotice.unref) this.installNotice.unref();
        return;
      }
    }
    this.installNotice = null;
    this.installed = files.installFrom(this.scriptDir, options);
    for (const line of files.describe(this.installed)) {
      this.out("installed", line);
      this.post("qbdi-launcher: " + line);
    }
  }

  /** What Diagnose reports about the launcher's side, as one JSON object. */
  info() {
    const found = this.findServer();
    const modules = {};
    for (const [name, r] of Object.entries(LOADED)) modules[name] = r.file || "MISSING " + r.missing;
    return {
      protocol: qbdi.PROTOCOL_VERSION, node: process.version, platform: this.platform, scriptDir: this.scriptDir,
      modules, state: this.state, host: this.host, port: this.port,
      server: found.error ? { found: false, tried: found.tried } : { found: true, how: found.how, path: found.command },
      running: this.child ? { how: this.command.how, path: this.command.command, pid: this.child.pid } : null,
      watchdog: !this.noWatchdog, stuck: this.stuck ? this.stuck.message : "",
      installed: this.installed ? files.describe(this.installed).concat(this.installed.skipped) : [],
      home: files ? files.qbdiHome({ homedir: this.homedir, env: this.env, platform: this.platform }) : "",
    };
  }

  /** Write Diagnose's report to ~/Documents/qbdi/qbdi-diagnose.txt, for a bug report. */
  saveReport(text) {
    const home = files ? files.qbdiHome({ homedir: this.homedir, env: this.env, platform: this.platform })
      : path.join(this.homedir, "Documents", "qbdi");
    const file = path.join(home, "qbdi-diagnose.txt");
    try {
      fs.mkdirSync(home, { recursive: true });
      fs.writeFileSync(file, String(text).replace(/\r?\n/g, os.EOL) + os.EOL);
      this.out("report_saved", file);
    } catch (err) {
      this.out("report_saved", "", err.message);
    }
  }

  /** "tick" every ms milliseconds (0: stop): the device's timer while Max's scheduler does not run. */
  clock(ms) {
    clearInterval(this.clockTimer);
    this.clockTimer = null;
    const every = Math.round(Number(ms));
    if (every > 0) {
      this.clockTimer = setInterval(() => this.out("tick"), Math.max(50, every));
      if (this.clockTimer.unref) this.clockTimer.unref();
    }
  }

  // ---- configuration messages -----------------------------------------------------------------
  configure(key, value) {
    switch (key) {
      case "port": {
        const p = Math.round(Number(value));
        if (p > 0 && p < 65536 && p !== this.port) { this.port = p; this.readdress(); }
        break;
      }
      case "host": {
        const h = String(value || qbdi.DEFAULT_HOST);
        if (h !== this.host) { this.host = h; this.readdress(); }
        break;
      }
      case "model": this.model = value && value !== "default" ? String(value) : ""; break;
      case "python": this.python = String(value || ""); break;
      case "server": this.server = String(value || ""); break;
      case "log_level": this.logLevel = String(value || ""); break;
      case "install": {
        this.installAllowed = Number(value) !== 0;
        if (!this.installAllowed && this.installNotice) {
          clearTimeout(this.installNotice);
          this.installNotice = null;
          this.out("installed", "nothing installed: Install is off on the device");
          this.post("qbdi-launcher: nothing installed: Install is off on the device");
        }
        break;
      }
      default: throw new Error(`unknown setting ${key}`);
    }
  }

  /** Handlers for max-api's addHandlers. */
  handlers() {
    const cfg = (key) => (...v) => this.configure(key, v.join(" "));
    return {
      ensure: () => this.ensure(),
      retry: () => this.retry(),
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
      install: cfg("install"),
      clock: (ms) => this.clock(ms),
      info: () => this.out("info", JSON.stringify(this.info())),
      save_report: (...text) => this.saveReport(text.join(" ")),
    };
  }

  /** The first message to the device: Node is up, send the settings and "ensure". */
  hello() {
    this.out("hello", qbdi.PROTOCOL_VERSION, process.version, this.scriptDir);
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

/** Entry point under Node for Max: handlers, then "hello". Nothing starts before the device asks. */
function main(maxApi, options = {}) {
  const missing = Object.values(LOADED).filter((r) => !r.module).map((r) => r.missing);
  if (missing.length) {
    const message = "qbdi-launcher cannot find " + missing.join(", ");
    maxApi.post(message);
    maxApi.outlet("error", "missing_script", message);
    return null;
  }
  const launcher = new Launcher(Object.assign({ maxApi, install: true }, options));
  maxApi.addHandlers(launcher.handlers());
  const shutdown = () => launcher.close();
  process.on("exit", shutdown);
  process.on("SIGTERM", () => { shutdown(); process.exit(0); });
  process.on("SIGINT", () => { shutdown(); process.exit(0); });
  launcher.hello();
  return launcher;
}

let maxApi = null;
try {
  maxApi = require("max-api"); // only resolvable inside Node for Max
} catch (e) {
  maxApi = null;
}
if (maxApi) main(maxApi);

module.exports = { Launcher, makeMaxShim, main, serverBinaryName, lineLevel, STATES, EXIT_USAGE, LOADED };
