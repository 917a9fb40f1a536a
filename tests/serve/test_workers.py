# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""bridge.serve.workers: long results are paced (P.RESULT_BURST chunks, then a P.RESULT_PAUSE_S pause), so
a receiver whose socket buffer the server cannot size (Max's [udpreceive]) is not flooded; and a
paced result still arrives whole over real UDP."""

from __future__ import annotations

import numpy as np

from bridge import protocol as P
from bridge.client import Client
from bridge.config import Settings
from bridge.improvise import Improvisation
from bridge.pianoroll import BarGrid, Note
from bridge.serve import workers
from bridge.serve.server import Server


def improvisation(n_notes: int) -> Improvisation:
    notes = [Note(48 + i % 36, (i // 8) * 0.25, 0.25, 64 + i % 60) for i in range(n_notes)]
    return Improvisation(notes=notes, settings=Settings(), model="tiny", grid=BarGrid(4.0, 1),
                         latents=np.zeros((1, 1)), query_latents=np.zeros((0, 1)), bits=None)


def test_a_result_of_the_largest_size_pauses_after_every_burst(monkeypatch):
    sent, pauses = [], []
    pool = workers.Workers(0, workers.ModelCache(None), lambda dest, address, args, count: sent.append((address, args)),
                           lambda *a: None)
    monkeypatch.setattr(workers.time, "sleep", lambda s: pauses.append((len(sent), s)))
    pool._send_result(workers.Job("free", 7, ("127.0.0.1", 9), Settings()), improvisation(P.MAX_NOTES))
    chunks = [args for address, args in sent if address == P.RESULT_NOTES]
    assert len(chunks) == P.MAX_CHUNKS == 157
    assert [args[1] for args in chunks] == list(range(P.MAX_CHUNKS)), "chunks in order, none left out"
    # a pause before chunk 8, 16, ...: never more than RESULT_BURST chunks back to back
    assert [at - 1 for at, _ in pauses] == list(range(P.RESULT_BURST, P.MAX_CHUNKS, P.RESULT_BURST))
    assert all(s == P.RESULT_PAUSE_S for _, s in pauses)


def test_a_short_result_is_not_delayed(monkeypatch):
    pauses = []
    pool = workers.Workers(0, workers.ModelCache(None), lambda *a: None, lambda *a: None)
    monkeypatch.setattr(workers.time, "sleep", pauses.append)
    job = workers.Job("free", 1, ("127.0.0.1", 9), Settings())
    pool._send_result(job, improvisation(P.NOTES_PER_CHUNK * P.RESULT_BURST))
    assert pauses == [], "up to RESULT_BURST chunks go out at once"


def test_a_long_free_improvisation_arrives_whole_over_udp(model_dir):
    with Server(port=0, model=str(model_dir)) as server, Client(port=server.port, timeout=30) as client:
        result = client.free({"seed": 3, "threshold": 0.3}, bars=64)
        again = client.free({"seed": 3, "threshold": 0.3}, bars=64)
    assert len(result.notes) > P.NOTES_PER_CHUNK * P.RESULT_BURST, "long enough to be paced"
    assert [(n.pitch, n.start) for n in again.notes] == [(n.pitch, n.start) for n in result.notes]
