# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Request admission: a readable datagram -> an answer at once, a piece of a request, or a job.

Every datagram passes one gate (:meth:`Admission.admit`) before any handler sees it, and the
gate's rules go by the class of the address and of the peer, not by a list of today's messages:

* a datagram with a *reply* address (``P.REPLIES``) is never answered: two servers, or a server
  and a reflector, cannot start a loop; neither is one with no usable reply port, nor one whose
  reply would go to the server's own socket on any address of this machine;
* a peer on another machine (:mod:`bridge.serve.peers`) must end every request but a handshake
  (``P.HANDSHAKES``: ping) with a valid cookie; until it does, nothing sent back to it is larger
  than the datagram it sent (a pong that would be is not sent), and no error to it ever is;
* then the envelope: a readable id, sizes within the caps.

The cheap requests (ping, status, models, quit) are answered in the receive thread. Improvisation
requests are put back together from their chunks (:mod:`bridge.serve.reassembly`, fair between
senders) and handed to the workers once complete. Every refusal is an ``/qbdi/error`` with a
code; a request refused part-way is dropped whole, so it gets one error, not one per chunk.
Anything from a datagram that reaches the log goes through :func:`bridge.serve.peers.shown`.

Not thread-safe: the server's receive thread owns its :class:`Admission`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .. import __version__
from .. import protocol as P
from ..config import INT32_MAX, Settings
from ..errors import QbdiError
from ..osc import encode
from .outbox import Outbox, ServerFacts
from .peers import Cookies, Peer, is_loopback, printable, shown, take_cookie
from .reassembly import Assembler, Partial
from .sessions import Sessions
from .workers import Job, ModelCache, MorphRequest, Workers

log = logging.getLogger(__name__)

# handler(request id, reply destination (host, reply port), arguments, the peer that sent it)
Handler = Callable[[int, tuple[str, int], list, Peer], None]


class Admission:
    """What the server does with each decoded datagram: answers go out through ``outbox``,
    improvisations to ``workers``, models come from ``models``; status and quit read ``facts``."""

    def __init__(self, outbox: Outbox, models: ModelCache, workers: Workers, facts: ServerFacts,
                 ttl: float = P.REQUEST_TTL_S) -> None:
        self.outbox, self.models, self.workers, self.facts = outbox, models, workers, facts
        self.throttle = outbox.throttle
        self.assembler = Assembler(ttl=ttl, on_evict=self._evicted)
        self.cookies = Cookies()
        self.handlers: dict[str, Handler] = {
            P.PING: self._on_ping, P.STATUS: self._on_status, P.MODELS: self._on_models,
            P.IMPROVISE: self._on_improvise, P.NOTES: self._on_notes, P.FREE: self._on_free,
            P.QUIT: self._on_quit, P.INTERPOLATE: self._on_interpolate,
        }
        # play along: /qbdi/stream/* (bridge.serve.sessions)
        self.sessions = Sessions(outbox, models, inline=workers.count == 0, stopping=facts.stopping)
        self.handlers.update(self.sessions.handlers())

    def admit(self, address: str, args: list, size: int, sender: tuple) -> None:
        """Pass a decoded datagram from ``sender`` (source host, source port) through the gate,
        then run its handler. ``size`` is the datagram's length in bytes."""
        host = sender[0]
        if address in P.REPLIES:
            self.throttle.warning("reply", "ignoring %s from %s: a reply, not a request", address, host)
            return
        args, cookie = take_cookie(args)
        request_id = P.read_id(args)
        port = P.read_reply_port(args)
        if port is not None and self.outbox.answers_itself(host, port):
            self.throttle.warning("self", "ignoring %s from %s: its reply port is this server's own",
                                  shown(address), host)
            port = None
        dest = (host, port) if port is not None else None
        local = is_loopback(host)
        peer = Peer(host, sender[1], size, local, local or (dest is not None and self.cookies.valid(cookie, *dest)))
        try:
            handler = self.handlers.get(address)
            if handler is None:
                self.throttle.warning("address", "unknown address %s from %s", shown(address), host)
                raise QbdiError(f"unknown address {printable(address, 64)}; this server (protocol "
                                f"{P.PROTOCOL_VERSION}) knows {', '.join(P.REQUESTS)}", code="unknown_address")
            if dest is None:
                self.throttle.warning("port", "%s from %s has no usable reply port (second argument); "
                                      "cannot answer it", shown(address), host)
                return
            if not peer.trusted and address not in P.HANDSHAKES:
                self.throttle.warning("cookie", "%s from %s refused: a peer on another machine pings for a cookie "
                                      "first (docs/PROTOCOL.md)", address, host)
                raise QbdiError("ping first: a request from another machine needs the cookie of a pong",
                                code="cookie")
            if request_id < 0:
                raise QbdiError(f"{address}: the first argument must be the request id, a whole number "
                                f"from 0 to {INT32_MAX}; got {P.describe(args[0]) if args else 'nothing'}")
            if size > P.MAX_DATAGRAM:
                self._drop_request(address, peer, dest, request_id)
                raise QbdiError(f"a datagram of {size} bytes; the limit is {P.MAX_DATAGRAM}, "
                                "split the notes into chunks", code="too_large")
            for arg in args:
                if isinstance(arg, str) and len(arg) > P.MAX_STRING:
                    self._drop_request(address, peer, dest, request_id)
                    raise QbdiError(f"a string argument of {len(arg)} characters; the limit is {P.MAX_STRING}",
                                    code="too_large")
            handler(request_id, dest, args, peer)
        except QbdiError as exc:
            self.outbox.error(dest, max(request_id, -1), exc.code, str(exc), limit=peer.error_limit)
        except Exception as exc:  # a bug: report it, keep serving
            log.exception("handler for %s failed", shown(address))
            self.outbox.error(dest, max(request_id, -1), "internal", f"internal error: {type(exc).__name__}: {exc}",
                              limit=peer.error_limit)

    def expire(self) -> None:
        """Answer ``expired`` for every incomplete request that stopped receiving chunks; drop idle streams."""
        self.sessions.expire()
        for part in self.assembler.expire():
            log.info("request %d from %s expired: %s", part.request_id, part.key[0], part.describe())
            self.outbox.error((part.key[0], part.reply_port), part.request_id, "expired",
                              f"request {part.request_id} expired: {part.describe()} (a request has "
                              f"{self.assembler.deadline:g} s, and {self.assembler.ttl:g} s between chunks); "
                              "send it again")

    def _evicted(self, part: Partial) -> None:
        self.outbox.error((part.key[0], part.reply_port), part.request_id, "busy",
                          f"request {part.request_id} lost its place: the server is full of other clients' incomplete "
                          "requests; send it again")

    def _drop_request(self, address: str, peer: Peer, dest: tuple[str, int], request_id: int) -> None:
        """A header or chunk refused before its handler drops its whole request, as the handlers do:
        its other datagrams are then ignored, so it gets one error, not a second ``expired`` one."""
        if address in (P.IMPROVISE, P.NOTES):
            key = _key(peer, dest, request_id)
            if not self.assembler.finished_recently(key):
                self.assembler.drop(key)

    # --- the requests ------------------------------------------------------------------------
    def _on_ping(self, request_id: int, dest, args: list, peer: Peer) -> None:
        pong = [request_id, __version__, P.PROTOCOL_VERSION]
        if not peer.local:
            pong.append(self.cookies.issue(*dest))
            if peer.reply_limit is not None and len(encode(P.PONG, pong)) > peer.reply_limit:
                self.throttle.warning("handshake", "a ping of %d bytes from %s is too short for its pong and cookie; "
                                      "peers on other machines pad it to %d bytes (docs/PROTOCOL.md)",
                                      peer.size, peer.host, P.HANDSHAKE_BYTES)
                return
        self.outbox.reply(dest, P.PONG, pong, limit=peer.reply_limit)

    def _on_status(self, request_id: int, dest, args: list, peer: Peer) -> None:
        facts = self.facts
        self.outbox.reply(dest, P.STATUS_REPLY, [request_id, 1, self.models.default.name, len(self.models.catalogue),
                                                 float(facts.uptime()), min(facts.served(), INT32_MAX),
                                                 facts.pending()])

    def _on_models(self, request_id: int, dest, args: list, peer: Peer) -> None:
        catalogue, default = self.models.catalogue, self.models.default.name
        entries: list = []
        count = 0
        for name, latent, max_rate in catalogue:
            trial = [request_id, default, count + 1, *entries, name, latent, max_rate]
            if len(encode(P.MODELS_REPLY, trial)) > P.MAX_DATAGRAM:
                log.warning("the models reply lists %d of %d models (4 KB limit)", count, len(catalogue))
                break
            entries += [name, latent, max_rate]
            count += 1
        self.outbox.reply(dest, P.MODELS_REPLY, [request_id, default, count, *entries])

    def _on_quit(self, request_id: int, dest, args: list, peer: Peer) -> None:
        log.info("quit requested by %s", peer.host)
        self.outbox.reply(dest, P.BYE, [request_id])
        self.facts.shutdown()

    def _on_free(self, request_id: int, dest, args: list, peer: Peer) -> None:
        settings = P.read_settings(P.parse_header(P.FREE, args).rest)
        self.workers.submit(Job("free", request_id, dest, settings, sender=peer.sender))

    def _on_improvise(self, request_id: int, dest, args: list, peer: Peer) -> None:
        self._take_header(P.IMPROVISE, request_id, dest, args, peer, lambda header, settings: settings)

    def _on_interpolate(self, request_id: int, dest, args: list, peer: Peer) -> None:
        """A morph's header: its notes come as an improvise request's do (/qbdi/notes chunks)."""
        def morph_of(header, settings: Settings) -> MorphRequest:
            morph = MorphRequest(settings, header.steps, header.n_notes_a, header.length_a, header.length_b)
            morph.check(header.n_notes)
            return morph

        self._take_header(P.INTERPOLATE, request_id, dest, args, peer, morph_of)

    def _take_header(self, address: str, request_id: int, dest, args: list, peer: Peer,
                      request_of: Callable[[Any, Settings], Settings | MorphRequest]) -> None:
        """A chunked request's header (improvise or interpolate): a bad one drops what its key had gathered
        (unless the key just finished, a resent header); a good one waits for its /qbdi/notes chunks."""
        key = _key(peer, dest, request_id)
        try:
            header = P.parse_header(address, args)
            request = request_of(header, P.read_settings(header.rest))
        except QbdiError:
            if not self.assembler.finished_recently(key):
                self.assembler.drop(key)
            raise
        self._submit_if_complete(self.assembler.header(key, request_id, dest[1], header.n_notes, header.n_chunks,
                                                       request))

    def _on_notes(self, request_id: int, dest, args: list, peer: Peer) -> None:
        key = _key(peer, dest, request_id)
        try:
            chunk = P.parse_header(P.NOTES, args)
            flat = P.notes_array(chunk.rest, chunk.chunk)
        except QbdiError:
            if self.assembler.finished_recently(key):
                return
            self.assembler.drop(key)
            raise
        self._submit_if_complete(self.assembler.chunk(key, request_id, dest[1], chunk.chunk, chunk.n_chunks, flat))

    def _submit_if_complete(self, part: Partial | None) -> None:
        if part is None:
            return
        dest = (part.key[0], part.reply_port)
        if isinstance(part.header, MorphRequest):
            self.workers.submit(Job("interpolate", part.request_id, dest, part.header.settings, part.chunks.notes(),
                                    sender=part.sender, morph=part.header))
            return
        self.workers.submit(Job("improvise", part.request_id, dest, part.header, part.chunks.notes(),
                                sender=part.sender))


def _key(peer: Peer, dest: tuple[str, int], request_id: int) -> tuple:
    """A chunked request's key: (host, source port, reply port, id); see bridge.serve.reassembly."""
    return peer.host, peer.port, dest[1], request_id
