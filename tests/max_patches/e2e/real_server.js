// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// Helpers for the end-to-end tests against the real Python server (`python -m bridge serve`).
// Environment: QBDI_PYTHON (required: the Python with bridge installed), QBDI_MODEL (optional:
// a model name or folder; default: the server's default), QBDI_E2E_START_S (optional, default 90).
// Run them through pytest (tests/max_patches/test_max_e2e.py), which sets these.
"use strict";

const childProcess = require("child_process");
const dgram = require("dgram");
const path = require("path");

const P = require("../../../max_patches/qbdi_protocol.js");
const osc = require("../../../max_patches/qbdi_osc.js");

const ROOT = path.resolve(__dirname, "..", "..", "..");
const PYTHON = process.env.QBDI_PYTHON || "";
const MODEL = process.env.QBDI_MODEL || "";
const START_S = Number(process.env.QBDI_E2E_START_S || 90);

function requirePython() {
  if (!PYTHON) {
    throw new Error("QBDI_PYTHON is not set: run these through `pytest tests/max_patches/test_max_e2e.py` " +
      "or set QBDI_PYTHON to a Python that has the bridge package");
  }
}

function pythonEnv() {
  const env = Object.assign({}, process.env);
  env.PYTHONPATH = ROOT + (env.PYTHONPATH ? path.delimiter + env.PYTHONPATH : "");
  return env;
}

/** Start `python -m bridge serve` on a free port (of `host`); resolves once /qbdi/ready arrives. */
async function startRealServer({ host = "127.0.0.1" } = {}) {
  requirePython();
  const notify = dgram.createSocket("udp4");
  await new Promise((r) => notify.bind(0, "127.0.0.1", r));
  const args = ["-m", "bridge", "serve", "--host", host, "--port", "0", "--notify-port", String(notify.address().port)];
  if (MODEL) args.push("--model", MODEL);
  const proc = childProcess.spawn(PYTHON, args, { cwd: ROOT, env: pythonEnv(), stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  proc.stderr.on("data", (d) => { stderr += d; });
  proc.stdout.on("data", (d) => { stderr += d; });
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server sent no /qbdi/ready within ${START_S} s:\n${stderr}`)), START_S * 1000);
    notify.on("message", (buf) => {
      const [m] = osc.decode(buf);
      if (m.address === P.READY) { clearTimeout(timer); resolve(P.parseReply(m.address, m.args)); }
    });
    proc.on("exit", (code) => { clearTimeout(timer); reject(new Error(`the server exited (${code}) before it was ready:\n${stderr}`)); });
  });
  notify.close();
  return {
    port: ready.port,
    model: ready.model,
    ready,
    proc,
    stderr: () => stderr,
    stop: () => new Promise((resolve) => {
      if (proc.exitCode !== null) return resolve(proc.exitCode);
      proc.once("exit", (code) => resolve(code));
      proc.kill("SIGTERM");
    }),
  };
}

/** Run one of this folder's Python reference scripts with `input` (JSON on stdin); its JSON answer. */
function runReference(script, input) {
  requirePython();
  const done = childProcess.spawnSync(PYTHON, [path.join(__dirname, script)], {
    cwd: ROOT, env: pythonEnv(), input: JSON.stringify({ ...input, model: MODEL || null }),
    encoding: "utf8", timeout: 120000,
  });
  if (done.status !== 0) throw new Error(`${script} failed (${done.status}):\n${done.stderr}`);
  return JSON.parse(done.stdout);
}

/**
 * What bridge.improvise gives for the request the Max side sent: `kind` "improvise" or "free",
 * `settings` the flat key/value pairs as sent, `notes` the flat p s d v list as sent.
 * Runs tests/max_patches/e2e/reference.py (a Python subprocess).
 */
function reference(kind, settings, notes = []) {
  return runReference("reference.py", { kind, settings, notes });
}

/** What bridge.interpolate gives for the morph request the device sent: one note list per step. */
function morphReference(settings, notes, steps, nNotesA, lengths) {
  return runReference("reference.py", { kind: "interpolate", settings, notes, steps, n_notes_a: nNotesA, lengths }).clips;
}

/** What bridge.stream answers to `bars` ([[bar, flat notes]]) with `settings`: stream_reference.py. */
function streamReference(settings, bars) {
  return runReference("stream_reference.py", { settings, bars }).answers;
}

/** Notes as sorted [pitch, start, duration, velocity] rows, times rounded for comparison. */
function rows(notes) {
  return notes.map((n) => [n.pitch, round(n.start_time !== undefined ? n.start_time : n.start), round(n.duration), Math.round(n.velocity)])
    .sort((a, b) => a[1] - b[1] || a[0] - b[0] || a[2] - b[2]);
}

function round(x) { return Math.round(Number(x) * 1e4) / 1e4; }

module.exports = { startRealServer, reference, morphReference, streamReference, rows, PYTHON, MODEL, ROOT, pythonEnv, requirePython };
