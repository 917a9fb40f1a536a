# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""/qbdi/interpolate against a real in-process server on the loopback: the Python client's morph
equals the engine's, the caps and malformed headers are refused with one error, and the server
keeps serving."""

import pytest
from builders import A_MINOR, C_MAJOR, F_MAJOR, G_MAJOR, chord_bars

from bridge import protocol as P
from bridge.client import Client, ServerError
from bridge.config import Settings
from bridge.interpolate import interpolate
from bridge.models import load_model
from bridge.pianoroll import Note
from bridge.serve.workers import Job, MorphRequest

A = chord_bars((C_MAJOR, A_MINOR, F_MAJOR, G_MAJOR))
B = chord_bars((G_MAJOR, F_MAJOR), velocity=60)


def rows(notes):
    return [(n.pitch, round(n.start, 4), round(n.duration, 4), n.velocity) for n in notes]


@pytest.mark.parametrize("settings", [Settings(seed=4), Settings(seed=4, rate=8, sampling="sample", z="sample")])
def test_client_morph_equals_the_engine(server, model_dir, settings):
    with Client(port=server.port) as client:
        got = client.interpolate(A, B, 4, settings, beats_per_bar=4, length_b=8)
    morph = interpolate(load_model(str(model_dir)), A, B, 4, settings.replace(beats_per_bar=4.0), length_b=8)
    assert got.step_beats == 16 and len(got.clips) == 4 and got.model == "tiny"
    assert [rows(c) for c in got.clips] == [rows(i.notes) for i in morph.improvisations]
    assert any(got.clips) and got.settings.seed == 4 and got.settings.length_beats == 16


def test_the_same_seed_gives_the_same_morph_over_the_wire(server):
    with Client(port=server.port) as client:
        one = client.interpolate(A, B, 3, {"seed": 11, "rate": 16, "sampling": "sample"})
        two = client.interpolate(A, B, 3, {"seed": 11, "rate": 16, "sampling": "sample"})
        other = client.interpolate(A, B, 3, {"seed": 12, "rate": 16, "sampling": "sample"})
    assert [rows(c) for c in one.clips] == [rows(c) for c in two.clips] != [rows(c) for c in other.clips]


def test_a_clip_of_many_chunks_is_reassembled(server, model_dir):
    long_a = [Note(48 + (i % 24), i * 0.25, 0.25, 80) for i in range(300)]      # 300 + B's notes: 3 chunks
    with Client(port=server.port) as client:
        got = client.interpolate(long_a, B, 2, {"seed": 1})
    morph = interpolate(load_model(str(model_dir)), long_a, B, 2, Settings(seed=1))
    assert [rows(c) for c in got.clips] == [rows(i.notes) for i in morph.improvisations]


def test_caps_and_bad_headers_are_one_error_each_and_the_server_keeps_serving(server, peer):
    flat = P.flatten_notes(A + B)
    n_a = len(A)
    cases = [
        (17, n_a, 0.0, 0.0, "bad_request", "steps must be a whole number from 2 to 16"),
        (1, n_a, 0.0, 0.0, "bad_request", "steps must be a whole number from 2 to 16"),
        (3, len(A + B) + 1, 0.0, 0.0, "bad_request", "n_notes_a"),
        (3, n_a, -1.0, 0.0, "bad_request", "length_a"),
        (16, n_a, 0.0, 33 * 4.0, "too_large", "16 steps x 33 bars"),
    ]
    for i, (steps, na, la, lb, code, words) in enumerate(cases):
        rid = 500 + i
        chunks = P.chunk_args(flat)
        peer.send(P.INTERPOLATE, rid, peer.port, len(flat) // 4, len(chunks), steps, na, la, lb, "seed", 1)
        for c, chunk in enumerate(chunks):
            peer.send(P.NOTES, rid, peer.port, c, len(chunks), *chunk)
        got_id, got_code, message = peer.error(rid)
        assert (got_id, got_code) == (rid, code) and words in message, message
    peer.send(P.INTERPOLATE, 600, peer.port, 1)
    assert peer.error(600)[1] == "bad_request"
    peer.ping()
    with Client(port=server.port) as client:
        with pytest.raises(ServerError, match="clip B has no notes"):
            client.interpolate(A, [], 3)
        assert client.interpolate(A, B, 2).clips


def test_a_morph_weighs_its_steps_in_the_fair_queue():
    notes = A + B
    improvise = Job("improvise", 1, ("127.0.0.1", 1), Settings(beats_per_bar=4.0), A)
    morph = Job("interpolate", 2, ("127.0.0.1", 1), Settings(beats_per_bar=4.0), notes,
                morph=MorphRequest(Settings(), 8, len(A), 0.0, 0.0))
    assert improvise.cost == 1 + 16 / 4
    assert morph.cost == 1 + 8 * 16 / 4
