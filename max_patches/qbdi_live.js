// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
/*
 * qbdi_live.js -- the Live API side of the QBDI Improviser device: reading the query clip, writing
 * improvisations into new clips (Session slots, or the Arrangement), what this Live can do, and
 * Diagnose's scratch-clip check. The query clip, and every clip the user made, is only ever read.
 *
 * ES5 (Max 8's [js]). Loaded by qbdi_device.js with require("qbdi_live") (or include), then
 *   var live = qbdiLive.make(LiveAPI, qbdi);      // qbdi: qbdi_protocol.js
 * LiveAPI is passed in because a required module may not see the [js] globals.
 *
 * Writing into the Arrangement, in the order tried (capabilities() reads LiveAPI.info once):
 *   1. Track.create_midi_clip(start, length)   (Live 12; sources name 12.0.5, 12.1.10 or 12.2)
 *   2. a temporary clip in an empty Session slot, Track.duplicate_clip_to_arrangement("id N",
 *      start), then ClipSlot.delete_clip (and Song.delete_scene if a scene had to be added)
 *   3. a Session slot instead, saying why.
 */

var qbdiLive = (function () {
    "use strict";

    var L = {};
    var NEEDS = "Track.create_midi_clip (Live 12; sources name 12.0.5, 12.1.10 or 12.2 as its first version)";
    var SCRATCH_NAME = "qbdi diagnose (scratch)";

    // ---- value helpers: LiveAPI get() returns arrays ----------------------------------------------
    function first(x) {
        if (x !== null && typeof x === "object" && x.length !== undefined) { return x.length ? x[0] : undefined; }
        return x;
    }
    function number(x, fallback) {
        var v = Number(first(x));
        return isFinite(v) ? v : fallback;
    }
    function text(x) {
        if (x !== null && typeof x === "object" && x.length !== undefined) { return x.join(" "); }
        return x === undefined || x === null ? "" : String(x);
    }
    function idOf(x) {
        if (x && typeof x === "object" && x.length !== undefined) {
            for (var i = 0; i + 1 < x.length; i++) {
                if (String(x[i]) === "id") { return Number(x[i + 1]); }
            }
            return Number(x[0]);
        }
        return Number(x);
    }
    function validId(id) {
        var n = Number(id);
        return isFinite(n) && n > 0;
    }
    function unquote(p) {
        return String(p === undefined || p === null ? "" : p).replace(/^"+|"+$/g, "");
    }
    function round2(x) { return Math.round(x * 100) / 100; }
    L.number = number;
    L.validId = validId;

    /** Whether a LiveAPI.info text lists `function name` ("info function name" from [live.object] too). */
    function hasFunction(info, name) {
        return new RegExp("(^|\\n)\\s*(info\\s+)?function\\s+" + name + "\\b").test(String(info || ""));
    }
    L.hasFunction = hasFunction;

    /**
     * The reply of get_notes_extended: a JSON string (documented), a one-element array holding it,
     * an already-parsed object or a Dict. Returns the notes, normalised, or null when unusable.
     */
    function parseNotesReply(raw) {
        if (raw === undefined || raw === null || raw === 0 || raw === "") { return null; }
        var obj = raw;
        if (typeof raw === "object" && raw.length !== undefined && raw.length === 1) { obj = raw[0]; }
        if (obj && typeof obj === "object" && typeof obj.stringify === "function") { obj = obj.stringify(); }
        if (typeof obj === "string") {
            try { obj = JSON.parse(obj); } catch (e) { return null; }
        }
        if (!obj || typeof obj !== "object") { return null; }
        var list = obj.notes;
        if (!list || list.length === undefined) { return null; }
        var out = [];
        for (var i = 0; i < list.length; i++) {
            var n = list[i];
            if (!n) { continue; }
            var note = {
                pitch: Number(n.pitch),
                start_time: Number(n.start_time !== undefined ? n.start_time : n.start),
                duration: Number(n.duration),
                velocity: n.velocity === undefined ? 100 : Number(n.velocity),
                mute: n.mute ? Number(n.mute) : 0
            };
            if (isFinite(note.pitch) && isFinite(note.start_time) && note.duration > 0) { out.push(note); }
        }
        return out;
    }
    L.parseNotesReply = parseNotesReply;

    /** Legacy get_notes: "notes N note p t d v m ... done" as a flat array (or a string). */
    function parseLegacyNotes(raw) {
        if (raw === undefined || raw === null || raw === 0) { return null; }
        var list = typeof raw === "string" ? raw.split(/\s+/) : raw;
        if (!list || list.length === undefined || String(list[0]) !== "notes") { return null; }
        var out = [];
        for (var i = 0; i < list.length; i++) {
            if (String(list[i]) === "note" && i + 5 < list.length) {
                out.push({ pitch: Number(list[i + 1]), start_time: Number(list[i + 2]), duration: Number(list[i + 3]),
                           velocity: Number(list[i + 4]), mute: Number(list[i + 5]) });
                i += 5;
            }
        }
        return out;
    }

    function unmuted(notes) {
        var out = [];
        for (var i = 0; i < notes.length; i++) {
            if (!notes[i].mute) { out.push(notes[i]); }
        }
        return out;
    }

    /** The Live API of one device: make(LiveAPI, qbdi) -> {readQuery, freeTarget, write, ...}. */
    L.make = function (LiveAPI, P) {
        var api = {};
        var caps = null;

        function at(path) { return new LiveAPI(path); }

        // ---- what this Live can do (once) ----------------------------------------------------
        /** {live: "12.1.10" | "", major, createMidiClip, duplicateToArrangement, undoSteps, deleteScene}. */
        api.capabilities = function () {
            if (caps) { return caps; }
            var app = null;
            try { app = at("live_app"); } catch (e) { app = null; }
            var version = [];
            var names = ["get_major_version", "get_minor_version", "get_bugfix_version"];
            for (var i = 0; i < names.length && app && validId(app.id); i++) {
                var v = NaN;
                try { v = number(app.call(names[i]), NaN); } catch (e2) { v = NaN; }
                if (isFinite(v)) { version.push(v); }
            }
            var track = at("live_set tracks " + Math.max(0, api.deviceTrack()));
            var song = at("live_set");
            var trackInfo = "", songInfo = "";
            try { trackInfo = String(track.info || ""); } catch (e3) { trackInfo = ""; }
            try { songInfo = String(song.info || ""); } catch (e4) { songInfo = ""; }
            caps = {
                live: version.join("."), major: version.length ? version[0] : 0, infoRead: trackInfo !== "",
                createMidiClip: hasFunction(trackInfo, "create_midi_clip"),
                duplicateToArrangement: hasFunction(trackInfo, "duplicate_clip_to_arrangement"),
                undoSteps: hasFunction(songInfo, "begin_undo_step") && hasFunction(songInfo, "end_undo_step"),
                deleteScene: hasFunction(songInfo, "delete_scene")
            };
            return caps;
        };

        /** How Arrangement results are written here, in words (Diagnose, the status line). */
        api.arrangementPath = function () {
            var c = api.capabilities();
            var where = c.live ? "Live " + c.live : "this Live";
            if (c.createMidiClip) { return { ok: true, how: "create_midi_clip", text: where + " has " + NEEDS }; }
            if (c.duplicateToArrangement) {
                return { ok: true, how: "duplicate", text: where + " lacks " + NEEDS + "; Arrangement results go " +
                         "through a temporary Session clip (Track.duplicate_clip_to_arrangement)" };
            }
            return { ok: false, how: "session", text: where + " has neither " + NEEDS +
                     " nor Track.duplicate_clip_to_arrangement: Arrangement results go to a Session slot" };
        };

        /** One undo step around several writes where the LOM offers it (Song.begin_undo_step). */
        api.beginUndo = function () {
            if (!api.capabilities().undoSteps) { return false; }
            try { at("live_set").call("begin_undo_step"); return true; } catch (e) { return false; }
        };
        api.endUndo = function (begun) {
            if (!begun) { return; }
            try { at("live_set").call("end_undo_step"); } catch (e) { /* nothing to close */ }
        };

        /** The track this device is on, or -1. */
        api.deviceTrack = function () {
            var devPath = "";
            try { var dev = at("this_device"); devPath = unquote(dev.unquotedpath || dev.path); } catch (e) { devPath = ""; }
            var m = /tracks (\d+) devices/.exec(devPath);
            return m ? Number(m[1]) : -1;
        };

        // ---- reading the query -------------------------------------------------------------
        /** Where a clip lives: {kind: "session", track, slot} or {kind: "arrangement", track}. */
        function locateClip(clip) {
            var path = unquote(clip.unquotedpath || clip.path);
            var m = /tracks (\d+) clip_slots (\d+)/.exec(path);
            if (m) { return { kind: "session", track: Number(m[1]), slot: Number(m[2]) }; }
            m = /tracks (\d+) arrangement_clips (\d+)/.exec(path);
            if (m) { return { kind: "arrangement", track: Number(m[1]), index: Number(m[2]) }; }
            // Not a canonical path: ask the parent (a ClipSlot for Session clips, a Track for Arrangement clips).
            var parentId = idOf(clip.get("canonical_parent"));
            if (parentId > 0) {
                var parent = at("id " + parentId);
                var ppath = unquote(parent.unquotedpath || parent.path);
                m = /tracks (\d+) clip_slots (\d+)/.exec(ppath);
                if (m) { return { kind: "session", track: Number(m[1]), slot: Number(m[2]) }; }
                m = /tracks (\d+)$/.exec(ppath);
                if (m) { return { kind: "arrangement", track: Number(m[1]), index: -1 }; }
            }
            if (/return_tracks|master_track/.test(path)) {
                return { error: "the clip is on a return or master track; use a MIDI track" };
            }
            return { error: "cannot tell which track the clip is on (Live API path '" + path + "')" };
        }

        /** get_notes_extended (Live 11+), falling back to the legacy get_notes. */
        function readNotes(clip, from, span) {
            var raw;
            try { raw = clip.call("get_notes_extended", 0, 128, from, span); } catch (e) { raw = undefined; }
            var notes = parseNotesReply(raw);
            if (notes !== null) { return { notes: unmuted(notes) }; }
            try { raw = clip.call("get_notes", from, 0, span, 128); } catch (e2) { raw = undefined; }
            notes = parseLegacyNotes(raw);
            if (notes !== null) {
                return { notes: unmuted(notes), warning: "read with the legacy get_notes (Live 10?); Live 11+ is recommended" };
            }
            return { error: "could not read the clip's notes: neither get_notes_extended (Live 11+) nor get_notes answered" };
        }

        function readSelectedNotes(clip) {
            var raw;
            try { raw = clip.call("get_selected_notes_extended"); } catch (e) { raw = undefined; }
            var notes = parseNotesReply(raw);
            if (notes === null) {
                return { error: "this Live version cannot report the selected notes (needs Live 11+); set Query to clip or loop" };
            }
            return { notes: unmuted(notes) };
        }

        /**
         * The query (range "clip", "loop" or "selection"): {notes: [{pitch, start, duration, velocity}]
         * starting at 0, beatsPerBar, span (beats), name, clipId, target: {kind, track, slot | endTime},
         * warning} or {error, code}.
         */
        api.readQuery = function (range) {
            var view = at("live_set view detail_clip");
            if (!view || !validId(view.id)) {
                return { error: "no clip in Detail View: click a MIDI clip (Session or Arrangement), then Improvise" };
            }
            var clip = at("id " + Number(view.id));
            if (number(clip.get("is_midi_clip"), 1) !== 1) {
                return { error: "the clip in Detail View is an audio clip; select a MIDI clip" };
            }
            return readClip(clip, range);
        };

        /**
         * Interpolate's second clip: the next clip on the query's track, as Magenta Studio takes it
         * (Session: the next slot below that holds a clip; Arrangement: the first clip that starts at
         * or after the query's end), read like the query (range "selection" reads the whole clip).
         * Returns readQuery's object or {error, code}.
         */
        api.readNextClip = function (query, range) {
            var where = query.target;
            var next = null;
            if (where.kind === "session") {
                var count = at("live_set tracks " + where.track).getcount("clip_slots");
                for (var i = where.slot + 1; i < count && next === null; i++) {
                    var slot = at("live_set tracks " + where.track + " clip_slots " + i);
                    if (number(slot.get("has_clip"), 0) === 1) { next = at("live_set tracks " + where.track + " clip_slots " + i + " clip"); }
                }
            } else {
                var best = null;
                var clips = arrangementClips(where.track);
                for (var j = 0; j < clips.length; j++) {
                    var c = clips[j];
                    if (c.id !== query.clipId && c.start >= where.endTime - 1e-6 && (best === null || c.start < best.start)) { best = c; }
                }
                if (best) { next = at("id " + best.id); }
            }
            if (next === null || !validId(next.id)) {
                return { error: "Interpolate morphs from the clip in Detail View to the next clip on its track " +
                                (where.kind === "session" ? "(a slot below it)" : "(after it in the Arrangement)") +
                                "; there is none: put the second clip there", code: "no_query" };
            }
            if (number(next.get("is_midi_clip"), 1) !== 1) {
                return { error: "the next clip on the track is an audio clip; Interpolate needs two MIDI clips", code: "no_query" };
            }
            return readClip(next, range === "selection" ? "clip" : range);
        };

        function readClip(clip, range) {
            var where = locateClip(clip);
            if (where.error) { return { error: where.error, code: "live_api" }; }
            var num = number(clip.get("signature_numerator"), 4);
            var den = number(clip.get("signature_denominator"), 4);
            var beatsPerBar = num > 0 && den > 0 ? num * 4 / den : 4;

            var loopStart = number(clip.get("loop_start"), 0);
            var loopEnd = number(clip.get("loop_end"), NaN);
            var startMarker = number(clip.get("start_marker"), loopStart);
            var endMarker = number(clip.get("end_marker"), loopEnd);
            var length = number(clip.get("length"), loopEnd - loopStart);
            if (!(loopEnd > loopStart)) { loopEnd = loopStart + (length > 0 ? length : beatsPerBar); }
            if (!(endMarker > startMarker)) { endMarker = loopEnd; }
            var from, to;
            if (range === "loop") {
                from = loopStart; to = loopEnd;
            } else {
                from = Math.min(startMarker, loopStart); to = Math.max(endMarker, loopEnd);
            }
            var read = range === "selection" ? readSelectedNotes(clip) : readNotes(clip, from, to - from);
            if (read.error) { return { error: read.error, code: "live_api" }; }
            var notes = read.notes;
            if (range === "selection" && notes.length) {
                var lo = 1e12, hi = 0;
                for (var i = 0; i < notes.length; i++) {
                    lo = Math.min(lo, notes[i].start_time);
                    hi = Math.max(hi, notes[i].start_time + notes[i].duration);
                }
                from = Math.floor(lo / beatsPerBar) * beatsPerBar;
                to = Math.max(from + beatsPerBar, Math.ceil(hi / beatsPerBar - 1e-9) * beatsPerBar);
            }
            var out = [];
            for (var j = 0; j < notes.length; j++) {
                var n = notes[j];
                if (n.start_time < from || n.start_time >= to) { continue; }
                out.push({ pitch: n.pitch, start: n.start_time - from, duration: n.duration, velocity: n.velocity });
            }
            var target = where;
            if (target.kind === "arrangement") {
                target.endTime = number(clip.get("end_time"), NaN);
                if (!isFinite(target.endTime)) {
                    target.endTime = number(clip.get("start_time"), 0) + (to - from);
                }
            }
            return { notes: out, beatsPerBar: beatsPerBar, span: to - from, name: text(clip.get("name")) || "clip",
                     clipId: Number(clip.id), target: target, warning: read.warning || "" };
        }

        /** Free improvisation goes next to the Detail View clip if it is on this device's track, else
         *  into the first empty slot of this device's track. */
        api.freeTarget = function () {
            var track = api.deviceTrack();
            var view = at("live_set view detail_clip");
            if (view && validId(view.id)) {
                var clip = at("id " + Number(view.id));
                var where = locateClip(clip);
                if (!where.error && (track < 0 || where.track === track)) {
                    var num = number(clip.get("signature_numerator"), 4);
                    var den = number(clip.get("signature_denominator"), 4);
                    if (where.kind === "arrangement") { where.endTime = number(clip.get("end_time"), 0); }
                    return { target: where, beatsPerBar: num * 4 / den };
                }
            }
            if (track < 0) { return { error: "cannot tell which track this device is on; put it on a MIDI track" }; }
            var song = at("live_set");
            var sn = number(song.get("signature_numerator"), 4);
            var sd = number(song.get("signature_denominator"), 4);
            return { target: { kind: "session", track: track, slot: -1 }, beatsPerBar: sn * 4 / sd };
        };

        // ---- writing ------------------------------------------------------------------------
        /** The first empty slot after `afterSlot`, adding a scene if there is none: {slot, sceneAdded} or {error}. */
        function emptySlot(track, afterSlot, noScene) {
            var trackApi = at("live_set tracks " + track);
            var count = trackApi.getcount("clip_slots");
            for (var i = afterSlot + 1; i < count; i++) {
                if (number(at("live_set tracks " + track + " clip_slots " + i).get("has_clip"), 1) === 0) {
                    return { slot: i, sceneAdded: false };
                }
            }
            if (noScene) { return { error: "no empty clip slot on track " + (track + 1) }; }
            at("live_set").call("create_scene", -1);
            if (trackApi.getcount("clip_slots") <= count) {
                return { error: "no empty clip slot after the query, and adding a scene failed" };
            }
            return { slot: count, sceneAdded: true };
        }

        /** A new MIDI clip in an empty slot: {ok, clip, slot, sceneAdded} or {ok: false, reason}. */
        function newSessionClip(track, afterSlot, length, noScene) {
            var free = emptySlot(track, afterSlot, noScene);
            if (free.error) { return { ok: false, reason: free.error, noSlot: true }; }
            at("live_set tracks " + track + " clip_slots " + free.slot).call("create_clip", length);
            var clip = at("live_set tracks " + track + " clip_slots " + free.slot + " clip");
            if (!validId(clip.id)) {
                return { ok: false, reason: "Live did not create a clip in slot " + (free.slot + 1) + " (is it a MIDI track?)" };
            }
            return { ok: true, clip: clip, slot: free.slot, sceneAdded: free.sceneAdded };
        }

        /** add_new_notes (Live 11+); if it left the clip empty, the legacy set_notes. */
        function addNotes(clip, notes, length) {
            if (notes.length === 0) { return { ok: true }; }
            var failed = false;
            try { clip.call("add_new_notes", P.toLiveNotes(notes)); } catch (e) { failed = true; }
            if (!failed) {
                var back = null;
                try { back = parseNotesReply(clip.call("get_notes_extended", 0, 128, 0, length + 1)); } catch (e2) { back = null; }
                if (back === null || back.length > 0) { return { ok: true }; }
            }
            try {
                clip.call("set_notes");
                clip.call("notes", notes.length);
                for (var i = 0; i < notes.length; i++) {
                    var n = notes[i];
                    clip.call("note", n.pitch, n.start, n.duration, n.velocity, 0);
                }
                clip.call("done");
            } catch (e3) {
                return { ok: false, reason: "Live refused the notes (add_new_notes and set_notes failed)" };
            }
            return { ok: true };
        }

        function writeSession(track, afterSlot, notes, length, name) {
            if (!validId(at("live_set tracks " + track).id)) { return { ok: false, reason: "track " + (track + 1) + " no longer exists" }; }
            var made = newSessionClip(track, afterSlot, length);
            if (!made.ok) { return made; }
            var how = addNotes(made.clip, notes, length);
            if (!how.ok) { return how; }
            made.clip.set("name", name);
            return { ok: true, where: "track " + (track + 1) + ", slot " + (made.slot + 1) + (made.sceneAdded ? ", new scene" : ""),
                     next: { kind: "session", track: track, slot: made.slot } };
        }

        function arrangementClips(track) {
            var n = at("live_set tracks " + track).getcount("arrangement_clips");
            var out = [];
            for (var i = 0; i < n; i++) {
                var c = at("live_set tracks " + track + " arrangement_clips " + i);
                out.push({ index: i, id: Number(c.id), start: number(c.get("start_time"), 0), end: number(c.get("end_time"), 0) });
            }
            return out;
        }

        function clipAt(track, pos) {
            var after = arrangementClips(track);
            for (var j = 0; j < after.length; j++) {
                if (Math.abs(after[j].start - pos) < 1e-6) { return after[j]; }
            }
            return null;
        }

        /** A new Arrangement clip after the query, never over another clip (see the top of the file). */
        function writeArrangement(target, notes, length, name) {
            var trackApi = at("live_set tracks " + target.track);
            if (!validId(trackApi.id)) { return { ok: false, reason: "track " + (target.track + 1) + " no longer exists" }; }
            var path = api.arrangementPath();
            if (!path.ok) { return { ok: false, reason: path.text }; }
            var existing = arrangementClips(target.track);
            var pos = target.endTime;
            var moved = true;
            while (moved) {
                moved = false;
                for (var i = 0; i < existing.length; i++) {
                    var c = existing[i];
                    if (c.start < pos + length - 1e-9 && c.end > pos + 1e-9) { pos = c.end; moved = true; }
                }
            }
            var created;
            if (path.how === "create_midi_clip") {
                try { trackApi.call("create_midi_clip", pos, length); } catch (e) { created = null; }
                created = clipAt(target.track, pos);
                if (!created) { return { ok: false, reason: "Track.create_midi_clip made no clip at beat " + round2(pos) }; }
                var clip = at("id " + created.id);
                var how = addNotes(clip, notes, length);
                if (!how.ok) { return how; }
                clip.set("name", name);
            } else {
                var temp = newSessionClip(target.track, -1, length);
                if (!temp.ok) { return temp; }
                var added = addNotes(temp.clip, notes, length);
                if (added.ok) {
                    temp.clip.set("name", name);
                    try { trackApi.call("duplicate_clip_to_arrangement", "id " + Number(temp.clip.id), pos); } catch (e2) { added = null; }
                }
                at("live_set tracks " + target.track + " clip_slots " + temp.slot).call("delete_clip");
                if (temp.sceneAdded && api.capabilities().deleteScene) { at("live_set").call("delete_scene", temp.slot); }
                if (added && !added.ok) { return added; }
                created = clipAt(target.track, pos);
                if (!created) { return { ok: false, reason: "Track.duplicate_clip_to_arrangement made no clip at beat " + round2(pos) }; }
            }
            return { ok: true, where: "the Arrangement at beat " + round2(pos),
                     next: { kind: "arrangement", track: target.track, endTime: pos + length } };
        }

        /**
         * Write one improvisation as a new clip: target {kind: "session", track, slot (after which)} or
         * {kind: "arrangement", track, endTime}. Returns {ok, where, next} (next: the target for
         * the following clip) or {ok: false, reason}. An Arrangement that cannot be written falls
         * back to a Session slot (where says why).
         */
        api.write = function (target, notes, length, name) {
            var result;
            try {
                if (target.kind === "arrangement") {
                    result = writeArrangement(target, notes, length, name);
                    if (!result.ok) {
                        var why = result.reason;
                        result = writeSession(target.track, -1, notes, length, name);
                        if (result.ok) { result.where += " (" + why + ")"; }
                    }
                } else {
                    result = writeSession(target.track, target.slot, notes, length, name);
                }
            } catch (e) {
                result = { ok: false, reason: "Live API error: " + (e.message || e) };
            }
            return result;
        };

        /**
         * Diagnose: write three notes into a new clip in an empty slot of this device's track, read
         * them back, delete the clip. Only a slot that was empty is used and no scene is added (no
         * empty slot: skipped). Returns {ok, detail, skip}.
         */
        api.scratchCheck = function () {
            var track = api.deviceTrack();
            if (track < 0) { return { ok: false, skip: true, detail: "cannot tell which track this device is on" }; }
            // create, name, notes, delete: one undo step where the LOM offers it (as Variations), so
            // Undo after Diagnose finds no scratch clip to bring back (Ableton's guideline: device
            // changes land in the user's undo history; the audit, finding 11)
            var undo = api.beginUndo();
            try { return scratchClip(track); } finally { api.endUndo(undo); }
        };

        function scratchClip(track) {
            var notes = [{ pitch: 60, start: 0, duration: 1, velocity: 100 }, { pitch: 64, start: 1, duration: 0.5, velocity: 80 },
                         { pitch: 67, start: 2.5, duration: 1.5, velocity: 60 }];
            var made;
            try { made = newSessionClip(track, -1, 4, true); } catch (e) { return { ok: false, detail: "Live API error: " + (e.message || e) }; }
            if (!made.ok) { return { ok: false, skip: !!made.noSlot, detail: made.reason + (made.noSlot ? " to try it in" : "") }; }
            var detail;
            try {
                made.clip.set("name", SCRATCH_NAME);
                var how = addNotes(made.clip, notes, 4);
                var back = parseNotesReply(made.clip.call("get_notes_extended", 0, 128, 0, 5));
                var got = [];
                for (var i = 0; back && i < back.length; i++) { got.push(back[i].pitch + "@" + back[i].start_time); }
                got.sort();
                var ok = how.ok && got.join(" ") === "60@0 64@1 67@2.5";
                detail = ok ? "wrote 3 notes into empty slot " + (made.slot + 1) + " of track " + (track + 1) +
                              ", read them back" : "wrote 3 notes, read back [" + got.join(" ") + "]";
                made.ok = ok;
            } finally {
                at("live_set tracks " + track + " clip_slots " + made.slot).call("delete_clip");
            }
            var gone = number(at("live_set tracks " + track + " clip_slots " + made.slot).get("has_clip"), 1) === 0;
            return { ok: made.ok && gone, detail: detail + (gone ? ", deleted the clip" : "; the scratch clip was NOT deleted") };
        }

        return api;
    };

    return L;
}());

// Export for Max's CommonJS-style require() and Node; under include() the global `qbdiLive` is used.
if (typeof exports === "object" && exports !== null) {
    (function () {
        for (var key in qbdiLive) {
            if (qbdiLive.hasOwnProperty(key)) { exports[key] = qbdiLive[key]; }
        }
    }());
}
