// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
/*
 * qbdi_diagnose.js -- Diagnose: every check a person would otherwise run by hand, one after the
 * other, each with a PASS / FAIL / SKIP line in the Max Console, then a summary and a one-block
 * report to copy into a bug report. Used by the device (qbdi_device.js, the Diagnose button) and
 * by [qbdi.client] (the "diagnose" message); docs/DEVICE.md lists the checks line by line.
 *
 * ES5 (Max 8's [js]). var d = qbdiDiagnose.start(host, {onDone: fn}); then d.tick() from the
 * script's timer. `host` gives what the checks need; a check whose function is missing is left
 * out (the abstraction has no Live and no launcher):
 *   now(), post(line)                     required
 *   scripts() -> {ok, detail}             which of qbdi's scripts loaded, and how
 *   versions() -> {live, max, os}         live: "12.1.10", or null outside Live
 *   arrangement() -> {ok, text}           Track.create_midi_clip / duplicate_clip_to_arrangement
 *   launcher(cb) -> cb(info | null)       qbdi_launcher.js's facts (its "info" reply)
 *   retry()                               ask the launcher to try again (after blocked / gave up)
 *   connected() -> bool
 *   ping(cb) -> cb(event)                 event.type "pong" or "timeout"
 *   free(bars, cb) -> cb(event)           a free improvisation: "result", "error" or "timeout"
 *   replyPort() -> port
 *   scratch() -> {ok, detail, skip}       notes written to and read from a scratch clip, deleted
 *   timers() -> {task, clock}             ticks since the run began: Max's Task, the launcher's clock
 *   wake()                                have some timer run (the device asks the launcher's clock
 *                                         when Max's Task has gone quiet)
 *   saveReport(text)                      keep the report in a file (the launcher writes it)
 */

var qbdiDiagnose = (function () {
    "use strict";

    var D = {};
    D.LARGE_BARS = 64;            // the round trip of a large result: a 64-bar free improvisation
    D.CHECK_MS = 8000;            // a check that has not answered by then fails
    D.START_MS = 25000;           // the server may need that long to start (first run, cold disk)

    /** Runs checks one after another; each calls ctx.pass / ctx.fail / ctx.skip (now or later). */
    function Run(host, options) {
        this.host = host;
        this.options = options || {};
        this.checks = [];
        this.results = [];
        this.index = -1;
        this.current = null;
        this.finished = false;
        this.startedAt = host.now();
    }

    Run.prototype.add = function (name, fn, timeoutMs) {
        this.checks.push({ name: name, fn: fn, timeoutMs: timeoutMs || D.CHECK_MS });
    };

    Run.prototype.start = function () {
        this.host.post("qbdi diagnose: " + this.checks.length + " checks");
        this.next();
        return this;
    };

    Run.prototype.next = function () {
        this.index++;
        if (this.index >= this.checks.length) { this.finish(); return; }
        var self = this;
        var check = this.checks[this.index];
        var token = { check: check, deadline: this.host.now() + check.timeoutMs };
        this.current = token;
        var settle = function (status, detail) {
            if (self.current !== token) { return; }   // too late: the check timed out already
            self.current = null;
            self.record(check.name, status, detail);
            self.next();
        };
        token.settle = settle;
        var ctx = token.ctx = {
            pass: function (detail) { settle("PASS", detail); },
            fail: function (detail) { settle("FAIL", detail); },
            skip: function (detail) { settle("SKIP", detail); },
            result: function (name) { return self.resultOf(name); }
        };
        try {
            check.fn(ctx);
        } catch (e) {
            settle("FAIL", "the check itself failed: " + (e.message || e));
        }
    };

    /** Call from the script's timer: a waiting check looks again; one that does not answer fails at its deadline. */
    Run.prototype.tick = function () {
        var c = this.current;
        if (c && c.ctx.onTick) { c.ctx.onTick(); }
        c = this.current;
        if (c && this.host.now() > c.deadline) {
            c.settle("FAIL", "no answer within " + Math.round(c.check.timeoutMs / 1000) + " s");
        }
    };

    Run.prototype.record = function (name, status, detail) {
        var r = { name: name, status: status, detail: detail || "" };
        this.results.push(r);
        this.host.post("qbdi diagnose: " + status + " " + name + (r.detail ? ": " + r.detail : ""));
    };

    Run.prototype.resultOf = function (name) {
        for (var i = 0; i < this.results.length; i++) {
            if (this.results[i].name === name) { return this.results[i]; }
        }
        return null;
    };

    Run.prototype.count = function (status) {
        var n = 0;
        for (var i = 0; i < this.results.length; i++) { if (this.results[i].status === status) { n++; } }
        return n;
    };

    /** "11 passed, 1 failed (create_midi_clip)" */
    Run.prototype.summary = function () {
        var failed = [];
        for (var i = 0; i < this.results.length; i++) {
            if (this.results[i].status === "FAIL") { failed.push(this.results[i].name); }
        }
        var s = this.count("PASS") + " passed, " + failed.length + " failed" + (failed.length ? " (" + failed.join(", ") + ")" : "");
        if (this.count("SKIP")) { s += ", " + this.count("SKIP") + " skipped"; }
        return s;
    };

    /** The report: one block of plain lines, header and footer included. */
    Run.prototype.report = function () {
        var lines = ["---- qbdi diagnose report: copy from here into a bug report ----",
                     "qbdi diagnose " + new Date(this.startedAt).toISOString() + (this.options.title ? ", " + this.options.title : "")];
        for (var i = 0; i < this.results.length; i++) {
            var r = this.results[i];
            lines.push(r.status + " " + r.name + (r.detail ? ": " + r.detail : ""));
        }
        lines.push(this.summary());
        lines.push("---- end of qbdi diagnose report ----");
        return lines;
    };

    Run.prototype.finish = function () {
        this.finished = true;
        var lines = this.report();
        for (var i = 0; i < lines.length; i++) { this.host.post(lines[i]); }
        if (this.host.saveReport) { this.host.saveReport(lines.join("\n")); }
        if (this.options.onDone) { this.options.onDone(this); }
    };
    D.Run = Run;

    // ---- the checks -----------------------------------------------------------------------------
    function ms(x) { return Math.round(x) + " ms"; }

    /** Wait until host.connected() (the launcher may be starting the server), then call go(). */
    function whenConnected(host, ctx, go, failText, startMs) {
        var t0 = host.now();
        var poll = function () {
            if (host.connected()) { go(); return; }
            if (host.now() - t0 > startMs - 1000) { ctx.fail(failText()); return; }
            host.ping(function () { poll(); });
        };
        poll();
    }

    /** Start a run with every check the host can serve, in the order of docs/DEVICE.md. */
    D.start = function (host, options) {
        var run = new Run(host, options);
        var startMs = (options && options.startMs) || D.START_MS;
        var launcherInfo = null;
        var pong = null;

        if (host.scripts) {
            run.add("scripts", function (ctx) {
                var s = host.scripts();
                (s.ok ? ctx.pass : ctx.fail)(s.detail);
            });
        }
        if (host.versions) {
            run.add("Live and Max", function (ctx) {
                var v = host.versions();
                var parts = [];
                if (v.live !== null && v.live !== undefined) { parts.push("Live " + (v.live || "(version unknown)")); }
                parts.push("Max " + (v.max || "(version unknown)"));
                if (v.os) { parts.push(v.os); }
                var major = Number(String(v.live || "").split(".")[0]);
                if (v.live !== null && v.live !== undefined && major > 0 && major < 11) {
                    ctx.fail(parts.join(", ") + ": the device needs Live 11 or newer");
                } else {
                    ctx.pass(parts.join(", "));
                }
            });
        }
        if (host.arrangement) {
            run.add("create_midi_clip", function (ctx) {
                var a = host.arrangement();
                (a.ok ? ctx.pass : ctx.fail)(a.text);
            });
        }
        if (host.launcher) {
            run.add("launcher", function (ctx) {
                host.launcher(function (info) {
                    launcherInfo = info;
                    if (!info) {
                        ctx.fail("no answer from qbdi_launcher.js (Node for Max): check the Max Console for " +
                                 "node.script errors; the .js files belong next to the device or in the qbdi Max package");
                        return;
                    }
                    var m = info.modules || {};
                    var missing = [];
                    for (var k in m) { if (m.hasOwnProperty(k) && /^MISSING/.test(m[k])) { missing.push(k); } }
                    var detail = "Node " + info.node + ", running from " + info.scriptDir + "; qbdi_protocol.js " +
                                 m.qbdi_protocol + ", qbdi_osc.js " + m.qbdi_osc;
                    (missing.length ? ctx.fail : ctx.pass)(detail);
                });
            });
            run.add("server binary", function (ctx) {
                var s = launcherInfo && launcherInfo.server;
                if (!launcherInfo) { ctx.skip("no launcher to look for it"); return; }
                if (s.found) { ctx.pass("found " + s.how + ": " + s.path); return; }
                if (host.connected()) { ctx.pass("none found, but a server answers already (started by hand?)"); return; }
                ctx.fail("not found; looked in: " + s.tried.join("; "));
            });
            run.add("server started", function (ctx) {
                if (launcherInfo && launcherInfo.stuck && host.retry) { host.retry(); }
                whenConnected(host, ctx, function () {
                    host.launcher(function (info) {
                        if (info && info.running) {
                            ctx.pass("started by the launcher (" + info.running.how + ", pid " + info.running.pid + "), " +
                                     (info.watchdog ? "ends with Live (--exit-with-stdin)" : "without the stdin watchdog (older server)"));
                        } else {
                            ctx.pass("already running, started elsewhere (" + (info ? info.state : "no launcher") + ")");
                        }
                    });
                }, function () {
                    return "no server answers" + (launcherInfo && launcherInfo.stuck ? ": " + launcherInfo.stuck :
                                                  launcherInfo ? " (launcher state: " + launcherInfo.state + ")" : "");
                }, startMs);
            }, startMs);
        }
        run.add("server answering", function (ctx) {
            host.ping(function (ev) {
                if (ev.type !== "pong") { ctx.fail("no answer to /qbdi/ping: " + (ev.message || ev.type)); return; }
                pong = ev;
                ctx.pass("qbdi " + ev.serverVersion + ", " + ms(ev.rtt) + " round trip");
            });
        });
        run.add("protocol", function (ctx) {
            if (!pong) { ctx.skip("no pong to read it from"); return; }
            var mine = options && options.protocol;
            if (pong.protocolVersion === mine) { ctx.pass("server and device speak protocol " + mine); }
            else { ctx.fail("the server speaks protocol " + pong.protocolVersion + ", this side " + mine + ": install matching versions"); }
        });
        run.add("reply port", function (ctx) {
            var port = host.replyPort();
            if (pong) { ctx.pass("replies arrive on UDP port " + port); }
            else { ctx.fail("nothing arrived on UDP port " + port + " (another program on it, or a firewall?)"); }
        });
        run.add("large result", function (ctx) {
            var t0 = host.now();
            host.free(D.LARGE_BARS, function (ev) {
                if (ev.type !== "result") { ctx.fail("a " + D.LARGE_BARS + "-bar free improvisation: " + (ev.code ? ev.code + ": " : "") + (ev.message || ev.type)); return; }
                var chunks = Math.max(1, Math.ceil(ev.notes.length / ((options && options.notesPerChunk) || 128)));
                ctx.pass(D.LARGE_BARS + " bars: " + ev.notes.length + " notes in " + chunks + " chunks, all arrived, " + ms(host.now() - t0));
            });
        }, 20000);
        if (host.scratch) {
            run.add("scratch clip", function (ctx) {
                var r = host.scratch();
                (r.skip ? ctx.skip : r.ok ? ctx.pass : ctx.fail)(r.detail);
            });
        }
        if (host.timers) {
            // judged at the next tick of either timer: Max's Task, or the launcher's clock standing in for it
            run.add("timers", function (ctx) {
                var before = host.timers();
                if (host.wake) { host.wake(); }
                ctx.onTick = function () {
                    var t = host.timers();
                    if (t.task + t.clock <= before.task + before.clock) { return; }
                    var over = " in " + Math.round((host.now() - run.startedAt) / 100) / 10 + " s";
                    if (t.task > before.task) { ctx.pass("Max's scheduler runs the device's timer (" + t.task + " ticks" + over + ")"); }
                    else {
                        ctx.pass("Max's scheduler did not run (audio engine off?); the launcher's clock drives the device (" +
                                 t.clock + " ticks" + over + ")");
                    }
                };
            }, 5000);
        }
        return run.start();
    };

    return D;
}());

if (typeof exports === "object" && exports !== null) {
    (function () {
        for (var key in qbdiDiagnose) {
            if (qbdiDiagnose.hasOwnProperty(key)) { exports[key] = qbdiDiagnose[key]; }
        }
    }());
}
