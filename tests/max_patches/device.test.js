// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// qbdi_device.js against a LiveAPI stand-in: what it reads from the clip, the OSC it sends,
// and the clips it writes. The query clip must never change.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");

const P = require("../../max_patches/qbdi_protocol.js");

const { OUT, QUERY, setup, requestOf, reply, statusText, assertUntouched } = require("./helpers/device.js");

test("Session: reads the Detail View clip, leaves muted notes out, sends time signature and settings", () => {
  const { dev, port } = setup();
  dev.send("rate", 256);
  dev.send("seed", 42);
  dev.send("temperature", 0.8);
  dev.send("sampling", 1);
  dev.send("structure", 1);
  dev.send("improvise");
  const r = requestOf(dev);
  assert.equal(r.header[0], P.IMPROVISE);
  assert.equal(r.port, port, "the reply port rides in every request");
  assert.deepEqual(r.header.slice(3, 5), [4, 1]);
  assert.deepEqual(r.notes, [
    { pitch: 60, start: 0, duration: 1, velocity: 100 },
    { pitch: 64, start: 1, duration: 0.5, velocity: 37 },
    { pitch: 72, start: 2.25, duration: 0.75, velocity: 127 },
    { pitch: 48, start: 5, duration: 1, velocity: 80 },
  ]);
  assert.equal(r.settings.beats_per_bar, 3, "3/4 clip -> 3 beats per bar");
  assert.equal(r.settings.rate, 256);
  assert.equal(r.settings.seed, 42);
  assert.equal(r.settings.temperature, 0.8);
  assert.equal(r.settings.sampling, "sample");
  assert.equal(r.settings.structure, "lock");
  assert.equal(r.settings.continue_bars, 0);
  assert.deepEqual(Object.keys(r.settings).filter((k) => !P.SETTING_KEYS.includes(k)), []);
});

test("Session: writes the improvisation into the next empty slot with add_new_notes and a telling name", () => {
  const { live, dev, query, before } = setup();
  live.putClip(0, 1, { name: "taken", notes: [] });    // slot 1 is used: the next empty one is 2
  dev.send("seed", 42);
  dev.send("improvise");
  const r = requestOf(dev);
  const out = [
    { pitch: 62, start: 0, duration: 1, velocity: 99 },
    { pitch: 65, start: 3.5, duration: 0.5, velocity: 40 },
    { pitch: 69, start: 6, duration: 2, velocity: 127 },    // past the query: clip grows to whole bars
  ];
  reply(dev, r.id, out, { rate: 256, seed: 42, beats_per_bar: 3 });
  const written = live.song.tracks[0].clip_slots[2].clip;
  assert.ok(written, "a clip in slot 3");
  assert.equal(written.name, "improv r256 s42");
  assert.equal(written.length, 9, "6 beats of query, a note to beat 8 -> 3 bars of 3/4");
  const add = live.log.find((e) => e.op === "call" && e.fn === "add_new_notes");
  assert.equal(add.id, written.id);
  assert.deepEqual(add.args[0], { notes: out.map((n) => ({ pitch: n.pitch, start_time: n.start, duration: n.duration, velocity: n.velocity, mute: 0 })) });
  assert.equal(live.song.tracks[0].clip_slots[1].clip.name, "taken", "the occupied slot is left alone");
  assert.match(statusText(dev), /wrote 'improv r256 s42' \(3 notes\) to track 1, slot 3/);
  assertUntouched(live, query, before);
});

test("Session: no empty slot after the query adds a scene", () => {
  const { live, dev, query, before } = setup({ slots: 2 });
  live.putClip(0, 1, { name: "taken" });
  dev.send("improvise");
  reply(dev, requestOf(dev).id, [{ pitch: 60, start: 0, duration: 1, velocity: 90 }]);
  assert.equal(live.song.tracks[0].clip_slots.length, 3);
  assert.ok(live.song.tracks[0].clip_slots[2].clip);
  assert.ok(live.log.some((e) => e.fn === "create_scene"));
  assertUntouched(live, query, before);
});

test("loop range: only the loop's notes, moved to start at 0", () => {
  const { dev } = setup({ clip: { loop_start: 3, loop_end: 6 } });
  dev.send("query_range", 1);
  dev.send("improvise");
  assert.deepEqual(requestOf(dev).notes, [{ pitch: 48, start: 2, duration: 1, velocity: 80 }]);
});

test("selection range: the selected notes, from the start of their bar", () => {
  const notes = QUERY.map((n, i) => Object.assign({ selected: i === 3 }, n));
  const { dev } = setup({ clip: { notes } });
  dev.send("query_range", "selection");
  dev.send("improvise");
  assert.deepEqual(requestOf(dev).notes, [{ pitch: 72, start: 2.25, duration: 0.75, velocity: 127 }]);
});

test("get_notes_extended reply shapes: JSON string, string in an array, parsed object; legacy get_notes fallback", () => {
  for (const notesApi of ["string", "array", "object", "legacy"]) {
    const { dev } = setup({ live: { notesApi } });
    dev.send("improvise");
    assert.equal(requestOf(dev).notes.length, 4, notesApi);
    if (notesApi === "legacy") assert.match(statusText(dev), /legacy get_notes/);
  }
});

test("a clip with only muted notes is refused with a clear message, nothing is sent", () => {
  const { dev } = setup({ clip: { notes: [{ pitch: 60, start_time: 0, duration: 1, mute: 1 }] } });
  dev.send("improvise");
  assert.equal(dev.out(OUT.OSC).length, 0);
  assert.match(statusText(dev), /no unmuted notes/);
});

test("no clip in Detail View: a message, nothing sent", () => {
  const { live, dev } = setup();
  live.select(null);
  dev.send("improvise");
  assert.equal(dev.out(OUT.OSC).length, 0);
  assert.match(statusText(dev), /no clip in Detail View/);
});

test("Arrangement (Live 12): a new clip after the query, never over the next clip", () => {
  const { live, dev, query, before } = setup({ arrangement: true });
  live.addArrangementClip(0, { name: "next", start_time: 24, length: 4 });   // right after the query (16..22)
  dev.send("improvise");
  const r = requestOf(dev);
  assert.equal(r.notes.length, 4);
  reply(dev, r.id, [{ pitch: 60, start: 0, duration: 1, velocity: 90 }], { rate: "full", seed: 3 });
  const clips = live.song.tracks[0].arrangement_clips;
  const made = clips.find((c) => c.name === "improv rfull s3");
  assert.ok(made, "named arrangement clip");
  assert.equal(made.start_time, 28, "query ends at 22; 22..28 would overlap 'next' (24..28), so it goes after it");
  assert.equal(made.length, 6);
  assert.equal(made.notes.length, 1);
  const create = live.log.find((e) => e.fn === "create_midi_clip");
  assert.deepEqual(create.args, [28, 6]);
  assert.equal(live.song.tracks[0].clip_slots.filter((s) => s.clip).length, 0, "nothing in Session");
  assertUntouched(live, query, before);
});

test("Arrangement on Live 11 (no create_midi_clip): through a temporary Session clip, deleted afterwards", () => {
  const { live, dev, query, before } = setup({ arrangement: true, live: { arrangementCreate: false, version: [11, 3, 35] } });
  live.putClip(0, 0, { name: "theirs", notes: [] });                     // a user's clip in slot 1: left alone
  dev.send("improvise");
  reply(dev, requestOf(dev).id, [{ pitch: 60, start: 0, duration: 1, velocity: 90 }, { pitch: 64, start: 2, duration: 1, velocity: 70 }],
    { rate: 128, seed: 5 });
  const made = live.song.tracks[0].arrangement_clips.find((c) => c.name === "improv r128 s5");
  assert.ok(made, statusText(dev));
  assert.equal(made.start_time, 22, "right after the query (16..22)");
  assert.deepEqual(made.notes.map((n) => [n.pitch, n.start_time]), [[60, 0], [64, 2]]);
  const dup = live.log.find((e) => e.fn === "duplicate_clip_to_arrangement");
  assert.match(dup.args[0], /^id \d+$/);
  assert.equal(dup.args[1], 22);
  assert.ok(!live.log.some((e) => e.fn === "create_midi_clip"), "not called: LiveAPI.info does not list it");
  const slots = live.song.tracks[0].clip_slots;
  assert.equal(slots[0].clip.name, "theirs");
  assert.equal(slots.filter((sl) => sl.clip).length, 1, "the temporary clip is gone");
  assert.equal(slots.length, 4, "no scene left behind");
  assert.match(statusText(dev), /to the Arrangement at beat 22/);
  assertUntouched(live, query, before);
});

test("Arrangement on a Live with neither function: a Session slot, and the reason names the Live 12 versions", () => {
  const { live, dev, query, before } = setup({ arrangement: true,
    live: { arrangementCreate: false, duplicateToArrangement: false, version: [11, 0, 2] } });
  dev.send("improvise");
  reply(dev, requestOf(dev).id, [{ pitch: 60, start: 0, duration: 1, velocity: 90 }]);
  const slot = live.song.tracks[0].clip_slots[0];
  assert.ok(slot.clip, "written to slot 1");
  assert.equal(slot.clip.notes.length, 1);
  assert.match(statusText(dev), /slot 1 \(Live 11\.0\.2 has neither Track\.create_midi_clip \(Live 12; sources name 12\.0\.5, 12\.1\.10 or 12\.2/);
  assert.equal(live.printed.length, 0, "no call to a function this Live lacks (each would print a console error)");
  assertUntouched(live, query, before);
});

test("Arrangement with a full Session: the temporary clip's scene is added and deleted again", () => {
  const { live, dev, query, before } = setup({ arrangement: true, slots: 1, live: { arrangementCreate: false } });
  live.putClip(0, 0, { name: "theirs", notes: [] });
  dev.send("improvise");
  reply(dev, requestOf(dev).id, [{ pitch: 60, start: 0, duration: 1, velocity: 90 }]);
  assert.ok(live.song.tracks[0].arrangement_clips.some((c) => c.start_time === 22 && c.notes.length === 1));
  assert.equal(live.song.tracks[0].clip_slots.length, 1, "the added scene is deleted");
  assert.ok(live.log.some((e) => e.fn === "create_scene") && live.log.some((e) => e.fn === "delete_scene"));
  assertUntouched(live, query, before);
});

test("paths that are not canonical: the clip's place comes from canonical_parent", () => {
  const { live, dev } = setup({ live: { canonicalPaths: false } });
  dev.send("improvise");
  reply(dev, requestOf(dev).id, [{ pitch: 60, start: 0, duration: 1, velocity: 90 }]);
  assert.ok(live.song.tracks[0].clip_slots[1].clip, "next slot after the query");
});

test("Live 10 (no add_new_notes): the notes go in with the legacy set_notes", () => {
  const { live, dev } = setup({ live: { addNewNotes: false } });
  dev.send("improvise");
  reply(dev, requestOf(dev).id, [{ pitch: 60, start: 0, duration: 1, velocity: 90 }, { pitch: 62, start: 1, duration: 1, velocity: 91 }]);
  const clip = live.song.tracks[0].clip_slots[1].clip;
  assert.deepEqual(clip.notes.map((n) => [n.pitch, n.velocity]), [[60, 90], [62, 91]]);
});

test("Re-roll: a new seed, the same settings, the Seed box updated", () => {
  const { dev } = setup();
  dev.send("rate", 128);
  dev.send("improvise");
  const first = requestOf(dev);
  dev.clear();
  dev.send("reroll");
  const second = requestOf(dev);
  const seedOut = dev.out(OUT.UI).find((m) => m[0] === "seed");
  assert.ok(seedOut);
  assert.equal(second.settings.seed, seedOut[1]);
  assert.notEqual(second.settings.seed, first.settings.seed);
  assert.ok(second.settings.seed >= 0 && second.settings.seed <= 16777215);
  const { seed: a, ...restA } = first.settings;
  const { seed: b, ...restB } = second.settings;
  assert.deepEqual(restA, restB);
  assert.deepEqual(second.notes, first.notes);
});

test("Continue: continue_bars from the Continue dial; the clip is named cont", () => {
  const { live, dev } = setup();
  dev.send("continue_bars", 2);
  dev.send("continue_clip");
  const r = requestOf(dev);
  assert.equal(r.settings.continue_bars, 2);
  reply(dev, r.id, [{ pitch: 60, start: 7, duration: 1, velocity: 90 }], { rate: 256, seed: 0, continue_bars: 2 });
  const clip = live.song.tracks[0].clip_slots[1].clip;
  assert.equal(clip.name, "cont r256 s0");
  assert.equal(clip.length, 12, "6 beats + 2 bars of 3/4");
  dev.clear();
  dev.send("continue_clip", 0);
  assert.equal(dev.out(OUT.OSC).length, 0, "a button release (0) does nothing");
});

test("Free: /qbdi/free with bars and the song's meter, written to this device's track", () => {
  const { live, dev } = setup();
  live.select(null);
  live.song.signature_numerator = 7;
  live.song.signature_denominator = 8;
  dev.send("bars", 2);
  dev.send("rate_full", 1);
  dev.send("free");
  const r = requestOf(dev);
  assert.equal(r.header[0], P.FREE);
  assert.equal(r.settings.bars, 2);
  assert.equal(r.settings.beats_per_bar, 3.5);
  assert.equal(r.settings.rate, "full");
  reply(dev, r.id, [{ pitch: 60, start: 0, duration: 1, velocity: 90 }], { rate: "full", seed: 0 });
  assert.equal(live.song.tracks[0].clip_slots[1].clip.name, "free rfull s0", "slot 0 holds the riff: first empty is 1");
  assert.equal(live.song.tracks[0].clip_slots[1].clip.length, 7);
});

test("large queries go out in chunks of 128 notes", () => {
  const many = [];
  for (let i = 0; i < 300; i++) many.push({ pitch: 40 + (i % 40), start_time: i * 0.25, duration: 0.25, velocity: 64 });
  const { dev } = setup({ clip: { notes: many, length: 80 } });
  dev.send("improvise");
  const r = requestOf(dev);
  assert.equal(r.msgs.length, 4);
  assert.deepEqual(r.msgs.slice(1).map((m) => (m.length - 5) / 4), [128, 128, 44]);
  assert.equal(r.notes.length, 300);
});

test("server errors, warnings and timeouts reach the status line; nothing is written", () => {
  const { live, dev } = setup();
  dev.send("improvise");
  const r = requestOf(dev);
  dev.send(P.WARNING, r.id, "2 notes outside the model's range were dropped");
  assert.match(statusText(dev), /warning: 2 notes/);
  dev.send(P.ERROR, r.id, "unknown_model", "no model named 'x'");
  assert.match(statusText(dev), /unknown_model: no model named 'x' \(pick a model from the Model menu\)/);
  assert.equal(live.song.tracks[0].clip_slots[1].clip, null);
});

test("pong lights the LED and fetches the model list; the Model menu fills, selects and is remembered", () => {
  const { dev } = setup();
  dev.send("model_saved", "jazz");            // the [pattr] gives back the name saved with the set
  dev.send("model_index", 0);                 // the menu's 0 at load, before the list: ignored
  dev.send("ping");
  const ping = dev.out(OUT.OSC).find((m) => m[0] === P.PING);
  dev.send(P.PONG, ping[1], "0.1.0", 1);
  assert.deepEqual(dev.out(OUT.LED).pop(), [1]);
  assert.match(statusText(dev), /● jazz · \d+ ms/);
  const models = dev.out(OUT.OSC).find((m) => m[0] === P.MODELS);
  assert.ok(models, "asks for the model list once connected");
  dev.send(P.MODELS_REPLY, models[1], "pop", 2, "pop", 500, 4096, "jazz", 500, 300);
  assert.deepEqual(dev.out(OUT.UI).filter((m) => m[0] === "menu"),
    [["menu", "clear"], ["menu", "append", "default"], ["menu", "append", "pop"], ["menu", "append", "jazz"], ["menu", "set", 2]]);
  dev.clear();
  dev.send("rate", 1000);
  dev.send("improvise");
  let r = requestOf(dev);
  assert.equal(r.settings.model, "jazz");
  assert.equal(r.settings.rate, 300, "capped at the model's maximum rate");
  dev.clear();
  dev.send("model_index", 1);                 // the user picks pop
  assert.deepEqual(dev.out(OUT.UI).pop(), ["model_name", "pop"], "remembered with the set");
  dev.send("improvise");
  r = requestOf(dev);
  assert.equal(r.settings.model, "pop");
  assert.equal(r.settings.rate, 1000);
  dev.clear();
  dev.send("model_index", 0);
  assert.deepEqual(dev.out(OUT.UI).pop(), ["model_name", "default"]);
  dev.send("improvise");
  assert.equal(requestOf(dev).settings.model, undefined, "default: no model key, the server decides");
});

test("a saved model the server does not have: a warning, and the server's default", () => {
  const { dev } = setup();
  dev.send("model_saved", "gone");
  dev.send("models");
  const models = dev.out(OUT.OSC).find((m) => m[0] === P.MODELS);
  dev.send(P.MODELS_REPLY, models[1], "pop", 1, "pop", 500, 4096);
  assert.match(statusText(dev), /model 'gone' \(saved with this set\) is not on this server/);
  dev.clear();
  dev.send("improvise");
  assert.equal(requestOf(dev).settings.model, undefined);
});

test("the launcher's reports show in the status line", () => {
  const { dev } = setup();
  dev.send("server", "state", "starting", "python:", "/usr/bin/python3");
  assert.match(statusText(dev), /starting the server/);
  dev.send("server", "error", "port_in_use", "port", "7400", "is", "in", "use");
  assert.match(statusText(dev), /port 7400 is in use/);
  assert.deepEqual(dev.out(OUT.LED).pop(), [0]);
});

test("no answer to ping: LED off, the launcher is asked to start the server", () => {
  const { dev } = setup();
  dev.send("ping");
  const t0 = Date.now();
  dev.context.Date = class extends Date {
    constructor(...a) { super(...(a.length ? a : [t0 + 60000])); }
  };
  dev.context.tick();
  assert.match(statusText(dev), /server not answering on 127.0.0.1:7400/);
  assert.ok(dev.out(OUT.LAUNCHER).some((m) => m[0] === "ensure"));
});

test("bad settings are reported, not sent", () => {
  const { dev } = setup();
  dev.send("threshold", 1.5);
  assert.match(statusText(dev), /threshold must be between 0 and 1/);
  dev.send("flux", 3);
  assert.match(statusText(dev), /unknown message 'flux'/);
});

test("the device script also loads with include() when require() is missing", () => {
  const { dev } = setup({ loader: "include" });
  dev.send("improvise");
  assert.equal(requestOf(dev).notes.length, 4);
});

// ---- the launcher: nothing before the device has spoken; the address first, then ensure -----------
const { FakeLive } = require("./helpers/fake_live.js");
const { loadMaxScript } = require("./helpers/maxjs.js");

function bareDevice(options = {}) {
  const live = new FakeLive();
  live.addDevice(live.addTrack({ slots: 2 }));
  return { live, dev: loadMaxScript("qbdi_device.js", Object.assign({ LiveAPI: live.LiveAPI }, options)) };
}

test("a set saved with Server Port 7410: the stored value arrives before init; the launcher hears 7410 first", () => {
  const { dev } = bareDevice();
  dev.send("server_port", 7410);                       // the parameter's stored value, at load
  assert.deepEqual(dev.out(OUT.LAUNCHER), [], "nothing to the launcher before init");
  dev.send("init");
  const toLauncher = dev.out(OUT.LAUNCHER).filter((m) => m[0] !== "probe_port");
  assert.deepEqual(toLauncher, [["install", 1], ["host", "127.0.0.1"], ["port", 7410], ["ensure"]]);
  assert.ok(dev.out(OUT.OSC).some((m) => m[0] === "port" && m[1] === 7410), "[udpsend] points at 7410");
});

test("the launcher's hello (Node came up after init): the device sends its address and ensure again", () => {
  const { dev } = bareDevice();
  dev.send("server_port", 7410);
  dev.send("init");
  dev.clear();
  dev.send("server", "hello", 1, "v20.11.0", "/x");
  assert.deepEqual(dev.out(OUT.LAUNCHER), [["install", 1], ["host", "127.0.0.1"], ["port", 7410], ["ensure"]]);
});

test("Server Port changed while running: the launcher gets the new address and ensure; the device pings there", () => {
  const { dev, port } = setup();
  dev.send("server_port", 7420);
  assert.deepEqual(dev.out(OUT.LAUNCHER), [["install", 1], ["host", "127.0.0.1"], ["port", 7420], ["ensure"]]);
  assert.ok(dev.out(OUT.OSC).some((m) => m[0] === "port" && m[1] === 7420));
  const ping = dev.out(OUT.OSC).find((m) => m[0] === P.PING);
  assert.ok(ping && ping[2] === port, "a ping on the new address right away");
  dev.clear();
  dev.send("server_port", 7420);
  assert.deepEqual(dev.out(OUT.LAUNCHER), [], "the same port again changes nothing");
});

test("no word from the launcher within 8 s: the status line says it did not start", () => {
  const { dev } = bareDevice();
  dev.send("init");
  const t0 = Date.now();
  dev.context.Date = class extends Date { constructor(...a) { super(...(a.length ? a : [t0 + 9000])); } };
  dev.context.tick();
  const status = dev.out(OUT.STATUS).pop().join(" ");
  assert.match(status, /the launcher \(qbdi_launcher\.js, Node for Max\) has not started/);
});

// ---- missing scripts: said clearly, with where Max looked ------------------------------------------
test("require() that gives {} (not the module): the device checks the exports and falls back to include()", () => {
  const { dev } = setup({ loader: "require-empty", missing: [], requireGivesEmpty: true });
  assert.deepEqual(dev.includes.sort(), ["qbdi_diagnose.js", "qbdi_exchange.js", "qbdi_live.js", "qbdi_play.js", "qbdi_protocol.js",
    "qbdi_schedule.js", "qbdi_scripts.js"], "every module of the one list (qbdi_scripts.js), found as the global its file defines");
  dev.send("improvise");
  assert.ok(dev.out(OUT.OSC).some((m) => m[0] === P.IMPROVISE));
});

test("qbdi_scripts.js (the list of modules) missing: the status line names it; nothing throws", () => {
  const { dev } = bareDevice({ missing: ["qbdi_scripts.js"] });
  dev.send("init");
  dev.send("improvise");
  assert.match(dev.out(OUT.STATUS).pop().join(" "), /qbdi_scripts\.js not found/);
});

test("qbdi_exchange.js (the client half of the protocol) missing: the status line names it", () => {
  const { dev } = bareDevice({ missing: ["qbdi_exchange.js"] });
  dev.send("init");
  dev.send("improvise");
  assert.match(dev.out(OUT.STATUS).pop().join(" "), /qbdi_exchange\.js not found/);
});

test("qbdi_protocol.js missing: the status line names it and where to put it; nothing throws", () => {
  const { dev } = bareDevice({ missing: ["qbdi_protocol.js"] });
  dev.send("init");
  dev.send("improvise");
  dev.send("rate", 64);
  dev.send("server", "hello", 1, "v20", "/x");
  const status = dev.out(OUT.STATUS).map((m) => m.join(" "));
  assert.equal(status.length, 1);
  assert.match(status[0], /qbdi_protocol\.js not found: keep the \.js files next to the device/);
  assert.ok(dev.posts.some((p) => /Max looked next to the device and in its search path/.test(p)));
  assert.deepEqual(dev.out(OUT.UI), [["loaded"]], "the patch's own missing-script timer is stopped");
});

test("qbdi_live.js missing: the buttons say so instead of failing", () => {
  const { dev } = bareDevice({ missing: ["qbdi_live.js"] });
  dev.send("init");
  dev.send("improvise");
  assert.match(dev.out(OUT.STATUS).pop().join(" "), /qbdi_live\.js not found/);
  assert.equal(dev.out(OUT.OSC).filter((m) => m[0] === P.IMPROVISE).length, 0);
});

// ---- timers: if Max's scheduler stops (audio engine off?), the launcher's clock takes over --------
test("a Task that stops ticking: the launcher's clock is asked for, drives tick(), and is stopped again", () => {
  const { dev } = setup();
  const t0 = Date.now();
  let offset = 0;
  dev.context.Date = class extends Date { constructor(...a) { super(...(a.length ? a : [t0 + offset])); } };
  offset = 2000;                                   // 2 s without a Task tick, then a message arrives
  dev.send(P.PONG, 1, "0.1.0", 1);
  assert.deepEqual(dev.out(OUT.LAUNCHER).pop(), ["clock", 250]);
  dev.send("ping");
  const ping = dev.out(OUT.OSC).filter((m) => m[0] === P.PING).pop();
  offset = 10000;
  dev.send("server", "tick");                      // the launcher's clock: the ping times out through it
  assert.match(dev.out(OUT.STATUS).pop().join(" "), /server not answering/);
  assert.ok(ping);
  dev.clear();
  dev.tasks[0].execute();                          // Max's Task again
  assert.deepEqual(dev.out(OUT.LAUNCHER).filter((m) => m[0] === "clock"), [["clock", 0]]);
});

test("the first run's notice is shown on the status line and in the Max Console once; Install reaches the launcher", () => {
  const { dev } = setup();
  dev.send("server", "install_notice", "first run: in 15 s qbdi copies the server into /h/Documents/qbdi/qbdi-server " +
    "(...). To keep it from doing so, turn Install off on the device");
  assert.match(statusText(dev), /first run: in 15 s qbdi copies the server .* turn Install off on the device/);
  assert.equal(dev.posts.filter((p) => /first run:/.test(p)).length, 1);
  dev.send("install", 0);
  assert.deepEqual(dev.out(OUT.LAUNCHER).pop(), ["install", 0]);
});

test("the status line shows what the improvisation kept, as the server measured it (harmony · notes)", () => {
  const { dev } = setup();
  dev.send("improvise");
  const r = requestOf(dev);
  reply(dev, r.id, [{ pitch: 62, start: 0, duration: 1, velocity: 99 }], { rate: 256, seed: 0, retained: 0.8234, copy: 0.0712 });
  assert.match(statusText(dev), /wrote 'improv r256 s0' \(1 notes\) to track 1, slot 2 · harmony 82% · notes 7%/);
  const again = setup();
  again.dev.send("variations", 2);
  again.dev.send("improvise");
  reply(again.dev, requestOf(again.dev).id, [{ pitch: 62, start: 0, duration: 1, velocity: 99 }],
    { rate: 256, seed: 0, retained: 0.7, copy: 0.05 });
  const second = again.dev.out(OUT.OSC).filter((m) => m[0] === P.IMPROVISE).pop();
  reply(again.dev, second[1], [{ pitch: 64, start: 0, duration: 1, velocity: 99 }], { rate: 256, seed: 1, retained: 0.82, copy: 0.09 });
  assert.match(statusText(again.dev), /· harmony 70-82% · notes 5-9%$/);
  const old = setup();                                   // a server that does not measure: nothing shown
  old.dev.send("improvise");
  reply(old.dev, requestOf(old.dev).id, [{ pitch: 62, start: 0, duration: 1, velocity: 99 }]);
  assert.doesNotMatch(statusText(old.dev), /harmony/);
});
