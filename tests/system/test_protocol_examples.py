# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Every OSC exchange in docs/PROTOCOL.md is what a real server (real UDP, the shipped default model)
answers: the doc must equal what ``python -m tools.protocol_examples`` regenerates from the server.
After a model change, that command rewrites the answers."""

from __future__ import annotations

import difflib

import pytest

from tools import protocol_examples as E


def test_every_exchange_in_the_protocol_doc_is_what_the_server_answers():
    text = E.DOC.read_text(encoding="utf-8")
    exchanges = E.find_exchanges(text.split("\n"))
    assert len(exchanges) >= 5 and any(e.kind == "lan" for e in exchanges)
    new, skipped = E.regenerate(text, E.lan_address())
    diff = "".join(difflib.unified_diff(text.splitlines(True), new.splitlines(True), "docs/PROTOCOL.md", "server"))
    assert new == text, ("docs/PROTOCOL.md is not what the server says; "
                         f"python -m tools.protocol_examples rewrites it:\n{diff}")
    if skipped:
        pytest.skip(f"no LAN address on this machine: the handshake exchange was not run ({skipped})")


def test_a_wrong_answer_in_the_doc_is_found():
    text = E.DOC.read_text(encoding="utf-8")
    wrong = text.replace('<- /qbdi/pong 17 "0.1.0" 2\n', '<- /qbdi/pong 17 "0.1.0" 1\n', 1)
    assert wrong != text
    new, _ = E.regenerate(wrong, None)
    assert new != wrong and '<- /qbdi/pong 17 "0.1.0" 2\n' in new


def test_a_request_the_server_must_not_answer_is_checked_for_silence():
    block = ["-> /qbdi/improvise 18 7401 4 1 \"rate\" 256", "-> /qbdi/ping 19 7401", "<- /qbdi/pong 19 \"x\" 2"]
    assert not E.expects_answer(block, block[0]) and E.expects_answer(block, block[1])


def test_requests_are_read_as_written():
    address, args, data = E.parse_request('-> /qbdi/notes 18 7401 0 1  60 0. 4. 90  "x"  (a comment)', 5555, None)
    assert address == "/qbdi/notes" and args == [18, 5555, 0, 1, 60, 0.0, 4.0, 90, "x"]
    assert [type(a) for a in args[4:8]] == [int, float, float, int]
    _, args, data = E.parse_request('-> /qbdi/ping 17 7401 "ppp...p"  (padded to 128 bytes)', 5555, None)
    assert len(data) >= 128 and set(args[2]) == {"p"}
    assert E.render("/qbdi/result/notes", [1, 0, 1, 60, 0.5, 4.0, 90]) == ["<- /qbdi/result/notes 1 0 1  60 0.5 4. 90"]
