// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// A stand-in for `qbdi serve` that speaks the protocol of bridge/protocol.py over real UDP, for
// tests that must run without the Python server: the launcher's process handling, and the
// device's and abstraction's UDP path (chunking both ways, replies in any order, errors).
// It "improvises" by transposing the query up an octave.
//
//   node fake_server.js serve --host 127.0.0.1 --port 7400 [--model M] [--notify-port N] [--exit-with-stdin]
// Environment: FAKE_QBDI_CRASH_AFTER_MS (exit 3 after that long, with a stderr line),
// FAKE_QBDI_NO_READY=1 (never send /qbdi/ready), FAKE_QBDI_STARTUP_MS (delay before binding),
// FAKE_QBDI_OLD=1 (an older server: --exit-with-stdin is an unknown option, exit 2 as argparse does),
// FAKE_QBDI_SIGKILL=1 (killed with SIGKILL at once, as macOS Gatekeeper kills a quarantined binary),
// FAKE_QBDI_LINES=N (write N INFO lines to stderr once serving).
"use strict";

const dgram = require("dgram");
const path = require("path");
const P = require(path.join(__dirname, "..", "..", "..", "max_patches", "qbdi_protocol.js"));
const osc = require(path.join(__dirname, "..", "..", "..", "max_patches", "qbdi_osc.js"));

const VERSION = "0.0.0-fake";
const MODELS = [["pop", 500, 4096], ["jazz", 500, 2048]];

function startFakeServer({ host = "127.0.0.1", port = 0, model = "pop", notifyPort = 0, onListening, log } = {}) {
  const sock = dgram.createSocket("udp4");
  const pending = new Map();
  const received = [];   // every message, with its OSC type tags, for assertions
  let served = 0;
  const started = Date.now();

  function reply(rinfo, message) {
    const types = message.slice(1).map((a) => (typeof a === "number" ? (Number.isInteger(a) ? "i" : "f") : "s")).join("");
    sock.send(osc.encode(message, types), rinfo.port, "127.0.0.1");
  }

  function settingsOf(pairs) {
    const s = P.pairsToObject(pairs);
    s.model = s.model || model;
    return s;
  }

  function improvise(rinfo, id, flat, settings) {
    if (!MODELS.some((m) => m[0] === settings.model)) {
      reply({ port: rinfo.replyPort }, [P.ERROR, id, "unknown_model", `no model named '${settings.model}'; installed: pop, jazz`]);
      return;
    }
    const out = [];
    for (let i = 0; i < flat.length; i += 4) out.push(flat[i] + 12, flat[i + 1], flat[i + 2], flat[i + 3]);
    sendResult(rinfo, id, out, settings);
  }

  function sendResult(rinfo, id, flat, settings) {
    served++;
    const chunks = P.chunkArgs(flat);
    const target = { port: rinfo.replyPort };
    const effective = [];
    for (const k of P.SETTING_KEYS) if (k !== "model" && settings[k] !== undefined) effective.push(k, settings[k]);
    reply(target, [P.WARNING, id, "fake server: transposed the query up an octave"]);
    // chunks first and in reverse order: the client must cope with any order
    for (let c = chunks.length - 1; c >= 0; c--) reply(target, [P.RESULT_NOTES, id, c, chunks.length].concat(chunks[c]));
    reply(target, [P.RESULT, id, flat.length / 4, chunks.length, settings.model].concat(effective));
  }

  sock.on("message", (buf, rinfo) => {
    let messages;
    try { messages = osc.decode(buf); } catch (e) { return; }
    for (const m of messages) {
      received.push({ address: m.address, types: m.types, args: m.args, size: buf.length });
      const [id, replyPort] = m.args;
      const to = { port: replyPort, replyPort };
      if (log) log(m.address, m.args.slice(0, 6).join(" "));
      switch (m.address) {
        case P.PING: reply(to, [P.PONG, id, VERSION, P.PROTOCOL_VERSION]); break;
        case P.STATUS: reply(to, [P.STATUS_REPLY, id, 1, model, MODELS.length, (Date.now() - started) / 1000 + 0.5, served, pending.size]); break;
        case P.MODELS: {
          const args = [P.MODELS_REPLY, id, model, MODELS.length];
          for (const mm of MODELS) args.push(...mm);
          reply(to, args);
          break;
        }
        case P.IMPROVISE: {
          const [, , nNotes, nChunks, ...pairs] = m.args;
          const key = `${rinfo.port}:${replyPort}:${id}`;
          const p = pending.get(key) || { chunks: new Map() };
          Object.assign(p, { nNotes, nChunks, settings: settingsOf(pairs), header: true });
          pending.set(key, p);
          maybeDone(key, to, id);
          break;
        }
        case P.NOTES: {
          const [, , chunk, nChunks, ...flat] = m.args;
          const key = `${rinfo.port}:${replyPort}:${id}`;
          const p = pending.get(key) || { chunks: new Map(), nChunks };
          p.chunks.set(chunk, flat);
          pending.set(key, p);
          maybeDone(key, to, id);
          break;
        }
        case P.FREE: {
          const s = settingsOf(m.args.slice(2));
          const bpb = Number(s.beats_per_bar || 4);
          const flat = [];
          for (let b = 0; b < Number(s.bars || 8) * bpb; b++) flat.push(60 + (b % 12), b, 1, 90);
          sendResult(to, id, flat, s);
          break;
        }
        case P.QUIT:
          reply(to, [P.BYE, id]);
          setTimeout(() => process.exit(0), 20);
          break;
        default:
          reply(to, [P.ERROR, typeof id === "number" ? id : -1, "unknown_address", `unknown address ${m.address}`]);
      }
    }
  });

  function maybeDone(key, to, id) {
    const p = pending.get(key);
    if (!p.header || p.chunks.size < p.nChunks) return;
    pending.delete(key);
    const flat = [];
    [...p.chunks.keys()].sort((a, b) => a - b).forEach((k) => flat.push(...p.chunks.get(k)));
    if (flat.length / 4 !== p.nNotes) {
      reply(to, [P.ERROR, id, "bad_request", `announced ${p.nNotes} notes, got ${flat.length / 4}`]);
      return;
    }
    improvise(to, id, flat, p.settings);
  }

  return new Promise((resolve, reject) => {
    sock.once("error", reject);
    sock.bind(port, host, () => {
      sock.removeListener("error", reject);
      const actual = sock.address().port;
      if (notifyPort) {
        sock.send(osc.encode([P.READY, VERSION, P.PROTOCOL_VERSION, actual, model]), notifyPort, "127.0.0.1");
      }
      if (onListening) onListening(actual);
      resolve({ port: actual, received, close: () => new Promise((r) => sock.close(r)) });
    });
  });
}

function parseArgs(argv) {
  const out = { host: "127.0.0.1", port: 7400, model: "pop", notifyPort: 0, exitWithStdin: false };
  const i = argv.indexOf("serve");
  if (i < 0) throw new Error("usage: fake_server.js serve --port P");
  for (let k = i + 1; k < argv.length; k++) {
    const a = argv[k];
    if (a === "--host") out.host = argv[++k];
    else if (a === "--port") out.port = Number(argv[++k]);
    else if (a === "--model") out.model = argv[++k];
    else if (a === "--notify-port") out.notifyPort = Number(argv[++k]);
    else if (a === "--exit-with-stdin") out.exitWithStdin = true;
  }
  return out;
}

if (require.main === module) {
  const args = parseArgs(process.argv);
  if (process.env.FAKE_QBDI_SIGKILL) process.kill(process.pid, "SIGKILL");
  if (process.env.FAKE_QBDI_OLD && args.exitWithStdin) {
    process.stderr.write("qbdi: error: unrecognized arguments: --exit-with-stdin\n");
    process.exit(2);
  }
  if (args.exitWithStdin) {
    process.stdin.on("end", () => { process.stderr.write("fake qbdi: stdin closed: stopping\n"); process.exit(0); });
    process.stdin.resume();
  }
  if (process.env.FAKE_QBDI_NO_READY) args.notifyPort = 0;
  const go = () => startFakeServer(args).then(() => {
    process.stderr.write(`fake qbdi serving on ${args.host}:${args.port}\n`);
    for (let i = 0; i < Number(process.env.FAKE_QBDI_LINES || 0); i++) {
      process.stderr.write(`2026-01-01 00:00:00,000 INFO bridge.workers: improvise ${i}\n`);
    }
    if (process.env.FAKE_QBDI_LINES) process.stderr.write("2026-01-01 00:00:00,000 ERROR bridge.server: fake error\n");
    const crash = Number(process.env.FAKE_QBDI_CRASH_AFTER_MS || 0);
    if (crash) setTimeout(() => { process.stderr.write("fatal: fake crash in the model\n"); process.exit(3); }, crash);
  }).catch((err) => {
    if (err.code === "EADDRINUSE") {
      process.stderr.write(`qbdi: error: port ${args.port} is already in use; choose another with --port\n`);
      process.exit(2);
    }
    process.stderr.write(String(err) + "\n");
    process.exit(1);
  });
  setTimeout(go, Number(process.env.FAKE_QBDI_STARTUP_MS || 0));
  process.on("SIGTERM", () => process.exit(0));
}

module.exports = { startFakeServer, VERSION };
