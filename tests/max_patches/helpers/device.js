// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// The device's [js] (qbdi_device.js) loaded under Node against the LiveAPI stand-in: a set with one
// MIDI track, the device on it and a query clip, plus the helpers the device tests share (the
// requests it sent, playing the server's reply, the status line, "the query clip was only read").
"use strict";

const assert = require("node:assert/strict");

const P = require("../../../max_patches/qbdi_protocol.js");
const { loadMaxScript } = require("./maxjs.js");
const { FakeLive } = require("./fake_live.js");

const OUT = { OSC: 0, STATUS: 1, LED: 2, RECEIVE: 3, LAUNCHER: 4, UI: 5 };

const QUERY = [
  { pitch: 60, start_time: 0, duration: 1, velocity: 100 },
  { pitch: 64, start_time: 1, duration: 0.5, velocity: 37 },
  { pitch: 67, start_time: 1.5, duration: 0.5, velocity: 90, mute: 1 },   // muted: left out
  { pitch: 72, start_time: 2.25, duration: 0.75, velocity: 127 },
  { pitch: 48, start_time: 5, duration: 1, velocity: 80 },                 // second bar of 3/4
];

/** A set with one MIDI track, the device on it, a query clip in slot 0 (3/4, 2 bars) selected. */
function setup({ live: liveOptions = {}, clip = {}, slots = 4, arrangement = false, loader, missing, requireGivesEmpty } = {}) {
  const live = new FakeLive(liveOptions);
  const t = live.addTrack({ slots });
  live.addDevice(t);
  const fields = Object.assign({ name: "riff", length: 6, notes: QUERY, signature_numerator: 3, signature_denominator: 4 }, clip);
  const query = arrangement ? live.addArrangementClip(t, Object.assign({ start_time: 16 }, fields)) : live.putClip(t, 0, fields);
  live.select(query);
  const dev = loadMaxScript("qbdi_device.js", { LiveAPI: live.LiveAPI, loader, missing, requireGivesEmpty });
  dev.send("init");
  const probe = dev.out(OUT.LAUNCHER).find((m) => m[0] === "probe_port");
  assert.ok(probe, "asks the launcher whether its reply port is free");
  dev.send("server", "port_free", probe[1], 1);
  assert.deepEqual(dev.out(OUT.RECEIVE).pop(), ["port", probe[1]], "points [udpreceive] at its port");
  const before = live.snapshot(query);
  dev.clear();
  return { live, dev, query, before, port: probe[1] };
}

function requestOf(dev) {
  const msgs = dev.out(OUT.OSC).filter((m) => m[0] === P.IMPROVISE || m[0] === P.NOTES || m[0] === P.FREE);
  const header = msgs[0];
  const flat = [];
  msgs.slice(1).forEach((m) => flat.push(...m.slice(5)));
  const settings = P.pairsToObject(header[0] === P.FREE ? header.slice(3) : header.slice(5));
  return { header, msgs, notes: P.unflattenNotes(flat), settings, id: header[1], port: header[2] };
}

/** Play the server: result chunks in reverse order, then the header. */
function reply(dev, id, notes, settings = { rate: 256, seed: 0 }, model = "pop") {
  const chunks = P.chunkArgs(P.flattenNotes(notes));
  for (let c = chunks.length - 1; c >= 0; c--) dev.send(P.RESULT_NOTES, id, c, chunks.length, ...chunks[c]);
  const pairs = [];
  for (const k of Object.keys(settings)) pairs.push(k, settings[k]);
  dev.send(P.RESULT, id, notes.length, chunks.length, model, ...pairs);
}

function statusText(dev) {
  const s = dev.out(OUT.STATUS);
  return s.length ? s[s.length - 1].slice(1).join(" ") : "";
}

function assertUntouched(live, query, before) {
  assert.deepEqual(live.snapshot(query), before, "the query clip's content is unchanged");
  for (const op of live.opsOn(query)) {
    const reading = op.op === "get" || (op.op === "call" && /^get_/.test(op.fn));
    assert.ok(reading, `only reads on the query clip, saw ${op.op} ${op.fn || op.prop}`);
  }
}

module.exports = { OUT, QUERY, setup, requestOf, reply, statusText, assertUntouched };
