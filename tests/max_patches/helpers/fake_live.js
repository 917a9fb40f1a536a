// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// A stand-in for Live's object model as Max's LiveAPI shows it (see shared/notes/m4l.md, section 3):
// get() returns arrays, ids come back as ["id", N], get_notes_extended returns a JSON *string*,
// add_new_notes takes {notes: [...]}, ClipSlot.create_clip(length) / delete_clip,
// Track.create_midi_clip (Live 12 only), Track.duplicate_clip_to_arrangement("id N", time),
// Song.create_scene / delete_scene (/ begin_undo_step, end_undo_step where the option says so),
// live_app's get_major/minor/bugfix_version, and LiveAPI.info: the text Max gives, one
// "id N" / "type T" / "description ..." / "children ..." / "property name type" /
// "function name" line each, ending with "done". Every get/set/call is logged so tests can check
// that the query clip is only ever read.
"use strict";

class FakeLive {
  /**
   * options:
   *   notesApi: "string" (documented: JSON string) | "array" (string in a 1-element array) |
   *             "object" (already parsed) | "legacy" (no get_notes_extended: Live 10)
   *   arrangementCreate: true (Live 12 Track.create_midi_clip) | false (Live 11)
   *   canonicalPaths: true (a clip's path is canonical) | false (it is not: use canonical_parent)
   *   addNewNotes: true | false (Live 10: only set_notes)
   *   duplicateToArrangement: true | false (Track.duplicate_clip_to_arrangement)
   *   undoSteps: false | true (Song.begin_undo_step / end_undo_step in the LOM: UNCONFIRMED, so off)
   *   version: [major, minor, bugfix] of live_app
   */
  constructor(options = {}) {
    this.options = Object.assign({ notesApi: "string", arrangementCreate: true, canonicalPaths: true, addNewNotes: true,
      duplicateToArrangement: true, undoSteps: false, version: [12, 1, 10] }, options);
    this.objects = new Map();
    this.nextId = 1;
    this.log = [];
    this.printed = [];
    this.song = this.register({ type: "Song", tempo: 120, signature_numerator: 4, signature_denominator: 4, tracks: [] });
    this.app = this.register({ type: "Application" });
    this.undoDepth = 0;
    this.undoSteps = [];     // [{begin: log index, end: log index}]
    this.detailClip = null;
    this.device = null;
    const live = this;
    this.LiveAPI = class LiveAPI {
      constructor(a, b) {
        const p = typeof a === "string" ? a : b;
        this._live = live;
        this._given = p;
        this._obj = p ? live.resolve(p) : null;
      }
      get id() { return String(this._obj ? this._obj.id : 0); }
      get path() {
        if (!this._obj) return '""';
        if (!live.options.canonicalPaths && this._obj.type === "Clip") return '"live_set view detail_clip"';
        if (this._given.startsWith("live_set view")) return `"${this._given}"`;
        return `"${live.pathOf(this._obj)}"`;
      }
      get unquotedpath() { return this.path.replace(/^"|"$/g, ""); }
      get type() { return this._obj ? this._obj.type : ""; }
      get info() { return live.infoOf(this._obj); }
      get(prop) {
        live.log.push({ op: "get", id: this._obj && this._obj.id, prop });
        return live.getProp(this._obj, prop);
      }
      set(prop, value) {
        live.log.push({ op: "set", id: this._obj && this._obj.id, prop, args: [value] });
        if (!this._obj) return;
        this._obj[prop] = value;
      }
      call(fn, ...args) {
        live.log.push({ op: "call", id: this._obj && this._obj.id, fn, args: JSON.parse(JSON.stringify(args)) });
        return live.callFn(this._obj, fn, args);
      }
      getcount(child) {
        const list = this._obj && this._obj[child];
        return Array.isArray(list) ? list.length : 0;
      }
      goto(p) { this._given = p; this._obj = live.resolve(p); }
    };
  }

  register(obj) {
    obj.id = this.nextId++;
    this.objects.set(obj.id, obj);
    return obj;
  }

  // ---- building a set -------------------------------------------------------------------------
  addTrack({ name = "MIDI", slots = 4, midi = true } = {}) {
    const track = this.register({ type: "Track", name, has_midi_input: midi ? 1 : 0, clip_slots: [], arrangement_clips: [], devices: [] });
    track.parent = this.song;
    for (let i = 0; i < slots; i++) track.clip_slots.push(this.newSlot(track));
    this.song.tracks.push(track);
    return this.song.tracks.length - 1;
  }

  newSlot(track) {
    const slot = this.register({ type: "ClipSlot", clip: null });
    slot.parent = track;
    return slot;
  }

  addDevice(trackIndex) {
    const track = this.song.tracks[trackIndex];
    this.device = this.register({ type: "Device", name: "QBDI Improviser" });
    this.device.parent = track;
    track.devices.push(this.device);
    return this.device;
  }

  newClip(fields = {}) {
    const length = fields.length || 4;
    const clip = this.register(Object.assign({
      type: "Clip", name: "", length, looping: 1, loop_start: 0, loop_end: length, start_marker: 0, end_marker: length,
      is_midi_clip: 1, signature_numerator: this.song.signature_numerator, signature_denominator: this.song.signature_denominator,
      notes: [], nextNoteId: 1,
    }, fields));
    clip.notes = (fields.notes || []).map((n) => this.liveNote(clip, n));
    return clip;
  }

  liveNote(clip, n) {
    return Object.assign({ note_id: clip.nextNoteId++, mute: 0, probability: 1.0, velocity_deviation: 0.0, release_velocity: 64.0, velocity: 100.0 },
      n, { velocity: n.velocity === undefined ? 100.0 : Number(n.velocity) });
  }

  putClip(trackIndex, slotIndex, fields) {
    const slot = this.song.tracks[trackIndex].clip_slots[slotIndex];
    const clip = this.newClip(fields);
    clip.parent = slot;
    clip.is_arrangement_clip = 0;
    slot.clip = clip;
    return clip;
  }

  addArrangementClip(trackIndex, fields) {
    const track = this.song.tracks[trackIndex];
    const clip = this.newClip(fields);
    clip.parent = track;
    clip.is_arrangement_clip = 1;
    clip.start_time = fields.start_time || 0;
    clip.end_time = clip.start_time + clip.length;
    track.arrangement_clips.push(clip);
    track.arrangement_clips.sort((a, b) => a.start_time - b.start_time);
    return clip;
  }

  select(clip) { this.detailClip = clip; }

  // ---- paths ----------------------------------------------------------------------------------
  resolve(p) {
    const t = p.trim().replace(/^"|"$/g, "").split(/\s+/);
    if (t[0] === "id") return this.objects.get(Number(t[1])) || null;
    if (t[0] === "this_device") {
      let obj = this.device;
      if (t[1] === "canonical_parent") obj = obj && obj.parent;
      return obj || null;
    }
    if (t[0] === "live_app") return t.length === 1 ? this.app : null;
    if (t[0] !== "live_set") return null;
    let obj = this.song;
    for (let i = 1; i < t.length; i++) {
      if (!obj) return null;
      const key = t[i];
      if (key === "view") { obj = { view: true }; continue; }
      if (obj.view && key === "detail_clip") { obj = this.detailClip; continue; }
      const child = obj[key];
      if (Array.isArray(child)) { obj = child[Number(t[++i])] || null; continue; }
      if (child && typeof child === "object" && child.id) { obj = child; continue; }
      return null;
    }
    return obj && obj.id ? obj : null;
  }

  pathOf(obj) {
    if (obj.type === "Song") return "live_set";
    if (obj.type === "Track") return `live_set tracks ${this.song.tracks.indexOf(obj)}`;
    if (obj.type === "ClipSlot") return `${this.pathOf(obj.parent)} clip_slots ${obj.parent.clip_slots.indexOf(obj)}`;
    if (obj.type === "Device") return `${this.pathOf(obj.parent)} devices ${obj.parent.devices.indexOf(obj)}`;
    if (obj.type === "Clip") {
      if (obj.parent.type === "ClipSlot") return `${this.pathOf(obj.parent)} clip`;
      return `${this.pathOf(obj.parent)} arrangement_clips ${obj.parent.arrangement_clips.indexOf(obj)}`;
    }
    return "";
  }

  // ---- get / call -------------------------------------------------------------------------------
  getProp(obj, prop) {
    if (!obj) return [0];
    if (prop === "canonical_parent") return ["id", obj.parent ? obj.parent.id : 0];
    if (obj.type === "ClipSlot") {
      if (prop === "has_clip") return [obj.clip ? 1 : 0];
      if (prop === "clip") return ["id", obj.clip ? obj.clip.id : 0];
    }
    const v = obj[prop];
    if (v === undefined) return [0];
    if (typeof v === "object" && v !== null) return ["id", v.id || 0];
    return [v];
  }

  notesJson(notes) {
    return { notes: notes.map((n) => ({ note_id: n.note_id, pitch: n.pitch, start_time: n.start_time, duration: n.duration,
      velocity: n.velocity, mute: n.mute, probability: n.probability, velocity_deviation: n.velocity_deviation,
      release_velocity: n.release_velocity })) };
  }

  /** What LiveAPI.info says about an object: the functions this "Live version" has. */
  infoOf(obj) {
    if (!obj) return "No object";
    const o = this.options;
    const functions = {
      Song: ["create_scene", "delete_scene", "create_midi_track", "undo", "redo"].concat(o.undoSteps ? ["begin_undo_step", "end_undo_step"] : []),
      Track: ["delete_clip", "delete_device", "stop_all_clips"].concat(o.arrangementCreate ? ["create_midi_clip"] : [],
        o.duplicateToArrangement ? ["duplicate_clip_to_arrangement"] : []),
      ClipSlot: ["create_clip", "delete_clip", "fire", "stop"],
      Clip: ["add_new_notes", "get_notes_extended", "get_selected_notes_extended", "remove_notes_extended"],
      Application: ["get_bugfix_version", "get_document", "get_major_version", "get_minor_version"],
    }[obj.type] || [];
    const lines = [`id ${obj.id}`, `type ${obj.type}`, `description This class represents a ${obj.type}.`];
    if (obj.type === "Track") lines.push("children arrangement_clips Clip", "children clip_slots ClipSlot", "property name unicode");
    if (obj.type === "Song") lines.push("children tracks Track", "property tempo float");
    for (const f of functions.slice().sort()) lines.push(`function ${f}`);
    lines.push("done");
    return lines.join("\n");
  }

  noSuchFunction(obj, fn) {
    this.printed.push(`LiveAPI: call: no function ${fn} for ${obj.type}`);
    return undefined;
  }

  callFn(obj, fn, args) {
    if (!obj) return undefined;
    const o = this.options;
    if (obj.type === "Clip") {
      switch (fn) {
        case "get_notes_extended": {
          if (o.notesApi === "legacy") return this.noSuchFunction(obj, fn);
          const [fromPitch, pitchSpan, fromTime, timeSpan] = args.map(Number);
          const notes = obj.notes.filter((n) => n.pitch >= fromPitch && n.pitch < fromPitch + pitchSpan &&
            n.start_time >= fromTime && n.start_time < fromTime + timeSpan);
          return this.notesReply(notes);
        }
        case "get_selected_notes_extended":
          if (o.notesApi === "legacy") return this.noSuchFunction(obj, fn);
          return this.notesReply(obj.notes.filter((n) => n.selected));
        case "get_notes": {
          const [fromTime, fromPitch, timeSpan, pitchSpan] = args.map(Number);
          const notes = obj.notes.filter((n) => n.pitch >= fromPitch && n.pitch < fromPitch + pitchSpan &&
            n.start_time >= fromTime && n.start_time < fromTime + timeSpan);
          const out = ["notes", notes.length];
          for (const n of notes) out.push("note", n.pitch, n.start_time, n.duration, n.velocity, n.mute);
          out.push("done");
          return out;
        }
        case "add_new_notes": {
          if (!o.addNewNotes) return this.noSuchFunction(obj, fn);
          const d = args[0];
          if (!d || !Array.isArray(d.notes)) throw new Error("add_new_notes: expected a dictionary with a 'notes' list");
          for (const n of d.notes) {
            for (const key of ["pitch", "start_time", "duration"]) {
              if (n[key] === undefined) throw new Error(`The key \`${key}\` is missing`);
            }
          }
          const ids = d.notes.map((n) => { const ln = this.liveNote(obj, n); obj.notes.push(ln); return ln.note_id; });
          return ids;
        }
        case "set_notes": obj._legacy = []; return 0;
        case "notes": return 0;
        case "note": obj._legacy.push({ pitch: args[0], start_time: args[1], duration: args[2], velocity: args[3], mute: args[4] }); return 0;
        case "done": obj._legacy.forEach((n) => obj.notes.push(this.liveNote(obj, n))); return 0;
        default: return this.noSuchFunction(obj, fn);
      }
    }
    if (obj.type === "Application") {
      const v = o.version;
      if (fn === "get_major_version") return v[0];
      if (fn === "get_minor_version") return v[1];
      if (fn === "get_bugfix_version") return v[2];
      return this.noSuchFunction(obj, fn);
    }
    if (obj.type === "ClipSlot" && fn === "delete_clip") {
      if (obj.clip) { this.objects.delete(obj.clip.id); obj.clip = null; }
      return 0;
    }
    if (obj.type === "Track" && fn === "duplicate_clip_to_arrangement") {
      if (!o.duplicateToArrangement) return this.noSuchFunction(obj, fn);
      const src = this.resolve(String(args[0]));
      if (!src || src.type !== "Clip") throw new Error("duplicate_clip_to_arrangement: invalid clip");
      const copy = this.addArrangementClip(this.song.tracks.indexOf(obj), { start_time: Number(args[1]), length: src.length,
        name: src.name, notes: src.notes.map((n) => ({ pitch: n.pitch, start_time: n.start_time, duration: n.duration,
          velocity: n.velocity, mute: n.mute })) });
      return ["id", copy.id];
    }
    if (obj.type === "Song" && fn === "delete_scene") {
      const i = Number(args[0]);
      if (!(i >= 0 && i < this.song.tracks[0].clip_slots.length)) throw new Error("delete_scene: index out of range");
      for (const track of this.song.tracks) {
        const [slot] = track.clip_slots.splice(i, 1);
        if (slot.clip) throw new Error("the fake does not delete a scene that holds clips: the device must not ask");
      }
      return 0;
    }
    if (obj.type === "Song" && (fn === "begin_undo_step" || fn === "end_undo_step")) {
      if (!o.undoSteps) return this.noSuchFunction(obj, fn);
      if (fn === "begin_undo_step") { this.undoDepth++; this.undoSteps.push({ begin: this.log.length - 1 }); }
      else { this.undoDepth--; this.undoSteps[this.undoSteps.length - 1].end = this.log.length - 1; }
      return 0;
    }
    if (obj.type === "ClipSlot" && fn === "create_clip") {
      if (obj.clip) throw new Error("create_clip: clip slot already has a clip");
      const length = Number(args[0]);
      const clip = this.newClip({ length });
      clip.parent = obj;
      clip.is_arrangement_clip = 0;
      obj.clip = clip;
      return 0;
    }
    if (obj.type === "Track" && fn === "create_midi_clip") {
      if (!o.arrangementCreate) return this.noSuchFunction(obj, fn);
      const [start, length] = args.map(Number);
      this.addArrangementClip(this.song.tracks.indexOf(obj), { start_time: start, length });
      return 0;
    }
    if (obj.type === "Song" && fn === "create_scene") {
      for (const track of this.song.tracks) track.clip_slots.push(this.newSlot(track));
      return 0;
    }
    return this.noSuchFunction(obj, fn);
  }

  notesReply(notes) {
    const json = this.notesJson(notes);
    switch (this.options.notesApi) {
      case "object": return json;
      case "array": return [JSON.stringify(json)];
      default: return JSON.stringify(json);
    }
  }

  /** Calls and sets that targeted an object (e.g. the query clip). */
  opsOn(obj) { return this.log.filter((e) => e.id === obj.id); }

  /** A deep copy of a clip's content, to check that it did not change. */
  snapshot(clip) {
    const { parent, ...rest } = clip;
    return JSON.parse(JSON.stringify(rest));
  }
}

module.exports = { FakeLive };
