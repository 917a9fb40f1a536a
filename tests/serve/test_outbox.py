# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The server's sending side on its own: replies within the caps, errors that fit the peer's limit,
the paced chunk sender, the log throttle; through a real loopback socket."""

from __future__ import annotations

import logging
import socket

from bridge import protocol as P
from bridge.osc import decode
from bridge.pianoroll import Note
from bridge.serve.outbox import Outbox, Throttle, send_chunks


def _pair():
    out, peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out.bind(("127.0.0.1", 0))
    peer.bind(("127.0.0.1", 0))
    peer.settimeout(5.0)
    box = Outbox()
    box.attach(out)
    return box, out, peer


def test_the_outbox_counts_replies_clips_errors_and_never_answers_itself():
    box, out, peer = _pair()
    try:
        dest = peer.getsockname()
        assert box.reply(dest, P.BYE, [4]) and box.answered == 1
        assert decode(peer.recvfrom(65536)[0]) == (P.BYE, [4])
        box.error(dest, 5, "no_such_code", "x" * 5000, limit=200)       # clipped to the limit, code mended
        data = peer.recvfrom(65536)[0]
        address, args = decode(data)
        assert len(data) <= 200 and address == P.ERROR and args[:2] == [5, "bad_request"]
        assert args[2].endswith("...") and box.answered == 1          # errors are not counted as served
        assert not box.reply(dest, P.BYE, [6], limit=8)               # larger than the limit: not sent
        assert box.answers_itself("127.0.0.1", out.getsockname()[1])
        assert not box.answers_itself("127.0.0.1", dest[1])
    finally:
        out.close()
        peer.close()


def test_send_chunks_paces_every_burst_and_the_chunks_carry_every_note(monkeypatch):
    sleeps, sent = [], []
    monkeypatch.setattr("bridge.serve.outbox.time.sleep", sleeps.append)
    notes = [Note(60, i / 8, 0.1, 70) for i in range(P.NOTES_PER_CHUNK * (2 * P.RESULT_BURST + 1))]
    count = send_chunks(lambda args, first: sent.append((args, first)), [9, 2], P.flatten_notes(notes))
    assert count == len(sent) == 2 * P.RESULT_BURST + 1 and len(sleeps) == 2
    assert [first for _, first in sent] == [True] + [False] * (count - 1)
    chunks = P.Chunks()
    for args, _ in sent:
        header = P.parse_header(P.STREAM_NEXT, [args[0], args[1], len(notes), *args[2:]])
        chunks.n_chunks = header.n_chunks
        chunks.add(header.chunk, header.rest)
    assert chunks.notes() == notes
    assert send_chunks(lambda args, first: sent.append(args), [1], []) == 1 and sent[-1] == [1, 0, 1]


def test_the_throttle_logs_a_kind_once_a_period_and_counts_the_rest(caplog):
    throttle = Throttle(every=3600.0)
    with caplog.at_level(logging.WARNING, logger="bridge.serve.outbox"):
        for i in range(3):
            throttle.warning("flood", "flood %d", i)
        throttle.warning("send", "send")
    assert [r.getMessage() for r in caplog.records] == ["flood 0", "send"] and throttle.suppressed == {"flood": 2}
