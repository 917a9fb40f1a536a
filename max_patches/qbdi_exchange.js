// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
/*
 * qbdi_exchange.js -- the client side of qbdi's OSC protocol: the stateful half split off
 * qbdi_protocol.js (which keeps the constants mirrored from bridge/protocol.py and the stateless
 * codecs: building requests, parsing one reply). Here:
 *   Client            request ids, pending requests, timeouts, round-trip times, the handshake
 *                     with a server on another machine (cookie, renewal, one retry)
 *   Reassembler       /qbdi/result + its /qbdi/result/notes chunks, in any order, into one result
 *   StreamAssembler   a stream's /qbdi/stream/next chunks into one answer per bar
 * attach(P) adds the three to the protocol module P (qbdi_protocol.js) and returns it, so every
 * user keeps writing qbdi.Client, qbdi.StreamAssembler.
 *
 * ES5 only (Max 8's [js]). Loading (both listed in qbdi_scripts.js):
 *   Max [js]:  qbdiExchange.attach(qbdi), after require("qbdi_exchange") or include("qbdi_exchange.js")
 *   Node:      var P = require("./qbdi_exchange").attach(require("./qbdi_protocol"));
 */

var qbdiExchange = (function () {
    "use strict";

    var X = {};

    /** Add StreamAssembler, Reassembler and Client to the protocol module `P`; returns P (once is enough). */
    X.attach = function (P) {
        if (P && !P.Client) { install(P); }
        return P;
    };

    function install(P) {
        /**
         * Joins a stream's /qbdi/stream/next chunks into {type: "stream_next", id, bar, notes} per bar;
         * keeps at most `keep` bars being assembled (older ones are dropped: they are late anyway).
         */
        function StreamAssembler(keep) {
            this.keep = keep || 8;
            this.parts = {};
        }
        StreamAssembler.prototype.add = function (ev) {
            var key = ev.id + ":" + ev.bar;
            var p = this.parts[key];
            if (!p) { p = this.parts[key] = { ev: ev, chunks: {}, count: 0 }; }
            if (!p.chunks.hasOwnProperty(String(ev.chunk))) {
                p.chunks[String(ev.chunk)] = ev.flat;
                p.count++;
            }
            if (p.count < ev.nChunks) {
                var keys = [];
                for (var k in this.parts) { if (this.parts.hasOwnProperty(k)) { keys.push(k); } }
                if (keys.length > this.keep) {
                    keys.sort(function (a, b) { return Number(a.split(":")[1]) - Number(b.split(":")[1]); });
                    delete this.parts[keys[0]];
                }
                return null;
            }
            delete this.parts[key];
            var flat = [];
            for (var c = 0; c < ev.nChunks; c++) { flat = flat.concat(p.chunks[String(c)] || []); }
            var notes = P.unflattenNotes(flat);
            if (notes.length !== ev.nNotes) {
                return { type: "bad_reply", id: ev.id, message: "the answer for bar " + ev.bar + " announced " +
                         ev.nNotes + " notes but " + notes.length + " arrived" };
            }
            return { type: "stream_next", id: ev.id, bar: ev.bar, notes: notes };
        };
        P.StreamAssembler = StreamAssembler;

        /**
         * Joins /qbdi/result and its /qbdi/result/notes chunks, which may arrive in any order.
         * add(event, now) takes a result_header or result_chunk event and returns the complete
         * {type: "result", id, model, settings, notes} once every chunk is in, else null.
         * expire(now) drops results that stopped arriving and returns their ids.
         */
        function Reassembler(ttlMs) {
            this.ttlMs = ttlMs || P.REQUEST_TTL_S * 1000;
            this.parts = {};
        }
        Reassembler.prototype.add = function (ev, now) {
            var key = String(ev.id);
            var p = this.parts[key];
            if (!p) {
                p = this.parts[key] = { header: null, chunks: {}, count: 0, nChunks: -1, touched: now };
            }
            p.touched = now;
            if (ev.type === "result_header") {
                p.header = ev;
                p.nChunks = ev.nChunks;
            } else {
                if (p.nChunks < 0) { p.nChunks = ev.nChunks; }
                if (!p.chunks.hasOwnProperty(String(ev.chunk))) {
                    p.chunks[String(ev.chunk)] = ev.flat;
                    p.count++;
                }
            }
            if (!p.header || p.count < p.header.nChunks) { return null; }
            delete this.parts[key];
            var keys = [];
            for (var k in p.chunks) { if (p.chunks.hasOwnProperty(k)) { keys.push(Number(k)); } }
            keys.sort(function (a, b) { return a - b; });
            var flat = [];
            for (var i = 0; i < keys.length; i++) { flat = flat.concat(p.chunks[String(keys[i])]); }
            var notes = P.unflattenNotes(flat);
            var h = p.header;
            if (notes.length !== h.nNotes) {
                return { type: "bad_reply", id: h.id, message: "result announced " + h.nNotes + " notes but " + notes.length + " arrived" };
            }
            return { type: "result", id: h.id, model: h.model, settings: h.settings, measures: h.measures || {}, notes: notes };
        };
        Reassembler.prototype.expire = function (now) {
            var gone = [];
            for (var key in this.parts) {
                if (this.parts.hasOwnProperty(key) && now - this.parts[key].touched > this.ttlMs) {
                    gone.push(Number(key));
                    delete this.parts[key];
                }
            }
            return gone;
        };
        Reassembler.prototype.drop = function (id) { delete this.parts[String(id)]; };
        P.Reassembler = Reassembler;

        // ---- client: request ids, pending requests, timeouts, round-trip times -------------------
        /**
         * The state machine both Max clients share. Options:
         *   send(message)   called once per OSC message (an array, address first)
         *   now()           milliseconds (default: Date)
         *   onEvent(event)  every reply / timeout / local error, with event.request = the pending request
         *   replyPort       the UDP port the replies must come to
         *   host            the server's host (default 127.0.0.1); another machine's needs the handshake
         *   timeouts        {ping, improvise, ...} in ms
         * Events: pong, status, models, result, error, warning, ready, bye, timeout, bad_reply.
         */
        function Client(options) {
            options = options || {};
            this.send = options.send || function () {};
            this.now = options.now || function () { return new Date().getTime(); };
            this.onEvent = options.onEvent || function () {};
            this.replyPort = options.replyPort || 0;
            this.timeouts = { ping: 1500, status: 2000, models: 2000, improvise: 15000, free: 15000, interpolate: 30000,
                              quit: 1000 };
            if (options.timeouts) {
                for (var k in options.timeouts) {
                    if (options.timeouts.hasOwnProperty(k)) { this.timeouts[k] = options.timeouts[k]; }
                }
            }
            // Ids start at a random point so two clients that share a reply port by mistake,
            // or a restarted device, do not reuse each other's ids.
            this.nextId = options.firstId || 1 + Math.floor(Math.random() * 1000000000);
            this.pending = {};
            this.reassembler = new Reassembler();
            this.lastRtt = null;
            this.cookie = null;
            this.cookieAt = 0;
            this.setHost(options.host);
        }

        /** The server's host: on another machine, requests go after the handshake. */
        Client.prototype.setHost = function (host) {
            var remote = !P.isLoopbackHost(host);
            if (remote !== this.remote) { this.cookie = null; }
            this.remote = remote;
        };

        Client.prototype.newId = function () {
            var id = this.nextId;
            this.nextId = this.nextId >= 2147483000 ? 1 : this.nextId + 1;
            return id;
        };

        /**
         * Send a request: `build(id, replyPort)` gives its messages. To a server on another machine
         * without a fresh cookie, the request waits for the handshake (its timeout runs meanwhile).
         */
        Client.prototype.request = function (kind, build, context) {
            var id = this.newId();
            var messages = build(id, this.replyPort);   // here, so that a bad request throws at once
            var req = { id: id, kind: kind, sentAt: this.now(), context: context || null, build: build, retried: false };
            this.pending[String(id)] = req;
            if (this.remote && kind !== "ping" && !this.hasFreshCookie()) {
                req.held = true;
                this.handshake();
            } else {
                this.transmit(messages);
            }
            return req;
        };

        Client.prototype.transmit = function (messages) {
            for (var i = 0; i < messages.length; i++) {
                this.send(this.cookie ? messages[i].concat([P.COOKIE_KEY, this.cookie]) : messages[i]);
            }
        };

        Client.prototype.hasFreshCookie = function () {
            return this.cookie !== null && this.now() - this.cookieAt < P.COOKIE_PERIOD_S * 1000;
        };

        /** An internal ping for a cookie (its pong and timeout are not reported), unless one is on its way. */
        Client.prototype.handshake = function () {
            if (this.isPending("handshake")) { return; }
            var id = this.newId();
            this.pending[String(id)] = { id: id, kind: "handshake", sentAt: this.now(), context: null };
            this.transmit(P.buildPing(id, this.replyPort, true));
        };

        /** Send the requests that waited for the handshake (or, without a cookie, as they are). */
        Client.prototype.release = function () {
            for (var key in this.pending) {
                if (this.pending.hasOwnProperty(key) && this.pending[key].held) {
                    var req = this.pending[key];
                    req.held = false;
                    this.transmit(req.build(req.id, this.replyPort));
                }
            }
        };

        /** A "cookie" error: once per request, a new handshake and the request again under a new id. */
        Client.prototype.retryAfterCookie = function (req) {
            delete this.pending[String(req.id)];
            this.reassembler.drop(req.id);
            req.id = this.newId();
            req.retried = true;
            req.held = true;
            this.pending[String(req.id)] = req;
            this.cookie = null;
            this.handshake();
        };

        Client.prototype.ping = function (context) {
            var remote = this.remote;
            return this.request("ping", function (id, port) { return P.buildPing(id, port, remote); }, context);
        };
        Client.prototype.status = function (context) {
            return this.request("status", P.buildStatus, context);
        };
        Client.prototype.models = function (context) {
            return this.request("models", P.buildModels, context);
        };
        Client.prototype.quit = function (context) {
            return this.request("quit", P.buildQuit, context);
        };
        Client.prototype.improvise = function (notes, settings, context) {
            return this.request("improvise", function (id, port) { return P.buildImprovise(id, port, notes, settings); },
                                context);
        };
        Client.prototype.interpolate = function (notesA, notesB, steps, lengthA, lengthB, settings, context) {
            return this.request("interpolate", function (id, port) {
                return P.buildInterpolate(id, port, notesA, notesB, steps, lengthA, lengthB, settings);
            }, context);
        };
        Client.prototype.free = function (settings, context) {
            return this.request("free", function (id, port) { return P.buildFree(id, port, settings); }, context);
        };

        Client.prototype.isPending = function (kind) {
            for (var k in this.pending) {
                if (this.pending.hasOwnProperty(k) && (!kind || this.pending[k].kind === kind)) { return true; }
            }
            return false;
        };

        Client.prototype.emit = function (ev) {
            this.onEvent(ev);
            return ev;
        };

        /** Feed one received OSC message (address + args). Returns the event emitted, or null. */
        Client.prototype.handle = function (address, args) {
            var ev = P.parseReply(address, args);
            var now = this.now();
            if (ev.type === "result_header" || ev.type === "result_chunk") {
                if (!this.pending.hasOwnProperty(String(ev.id))) { return null; } // late or foreign: ignore
                ev = this.reassembler.add(ev, now);
                if (!ev) { return null; }
            }
            if (ev.type === "ready") { return this.emit(ev); }
            var req = this.pending[String(ev.id)];
            if (ev.type === "warning") {
                ev.request = req || null;  // warnings do not end a request
                return this.emit(ev);
            }
            if (!req) {
                if (ev.type === "error" && ev.id === -1) { return this.emit(ev); } // id unreadable
                return null;  // a reply to a request that timed out, or to another client
            }
            if (ev.type === "pong" && ev.cookie && this.remote) {
                this.cookie = ev.cookie;
                this.cookieAt = now;
            }
            if (req.kind === "handshake") {
                delete this.pending[String(ev.id)];
                this.release();
                return null;
            }
            if (ev.type === "error" && ev.code === "cookie" && !req.retried && this.remote) {
                this.retryAfterCookie(req);
                return null;
            }
            delete this.pending[String(ev.id)];
            this.reassembler.drop(ev.id);
            ev.request = req;
            ev.rtt = now - req.sentAt;
            this.lastRtt = ev.rtt;
            if (ev.type === "pong" && ev.protocolVersion !== P.PROTOCOL_VERSION) {
                ev.mismatch = "the server speaks protocol " + ev.protocolVersion + ", this device " + P.PROTOCOL_VERSION +
                              "; install matching versions of the device and the server";
            }
            return this.emit(ev);
        };

        /** Call periodically (Max: a Task): times out requests and expires half-received results. */
        Client.prototype.tick = function () {
            var now = this.now();
            var expired = this.reassembler.expire(now);
            var out = [];
            for (var i = 0; i < expired.length; i++) {
                var req = this.pending[String(expired[i])];
                if (req) {
                    delete this.pending[String(expired[i])];
                    out.push(this.emit({ type: "error", id: req.id, code: "expired", request: req,
                                         message: "the reply stopped arriving (lost UDP packets?); try again" }));
                }
            }
            for (var key in this.pending) {
                if (!this.pending.hasOwnProperty(key)) { continue; }
                var r = this.pending[key];
                var limit = this.timeouts[r.kind] || 5000;
                if (r.kind === "handshake") {
                    if (now - r.sentAt > this.timeouts.ping) {
                        delete this.pending[key];
                        this.release();   // no cookie came: send what waited as it is (it gets an error or times out)
                    }
                    continue;
                }
                if (now - r.sentAt > limit) {
                    delete this.pending[key];
                    this.reassembler.drop(r.id);
                    out.push(this.emit({ type: "timeout", id: r.id, request: r,
                                         message: "no answer from the server to " + r.kind + " within " + (limit / 1000) + " s" }));
                }
            }
            return out;
        };

        /** Forget every pending request and the cookie (e.g. after the reply port changed). */
        Client.prototype.reset = function () {
            this.pending = {};
            this.reassembler = new Reassembler();
            this.cookie = null;
        };
        P.Client = Client;
    }

    return X;
}());

// Export for Node's require and Max's CommonJS-style require(); under Max's include() the
// global `qbdiExchange` above is what the including script uses.
if (typeof exports === "object" && exports !== null) {
    (function () {
        for (var key in qbdiExchange) {
            if (qbdiExchange.hasOwnProperty(key)) { exports[key] = qbdiExchange[key]; }
        }
    }());
}
