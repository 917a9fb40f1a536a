# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The Python client against a real in-process server, and against a scripted fake over UDP."""

import socket
import threading

import pytest

import bridge
from bridge import protocol as P
from bridge.bench import realistic_query
from bridge.client import Client, NoReply, ServerError
from bridge.config import Settings
from bridge.errors import QbdiError
from bridge.osc import decode, encode
from bridge.serve.server import Server


def test_ping_status_models(server):
    with Client(port=server.port) as client:
        pong = client.ping()
        assert (pong.server_version, pong.protocol_version) == (bridge.__version__, P.PROTOCOL_VERSION)
        assert pong.round_trip_s > 0
        status = client.status()
        assert status.ready and status.model == "tiny" and status.n_models >= 1 and status.pending == 0
        models = client.models()
        assert models.default == "tiny" and "tiny" in [m.name for m in models.models]


def test_improvise_with_settings_object_or_dict(server):
    query = realistic_query(2)
    with Client(port=server.port) as client:
        a = client.improvise(query, Settings(rate=128, seed=3, threshold=0.4))
        b = client.improvise(query, {"rate": 128, "seed": 3, "threshold": 0.4})
        c = client.improvise(query, {"rate": 128, "seed": 3, "threshold": 0.4}, beats_per_bar=3)
    assert a.notes == b.notes and a.notes
    assert a.model == "tiny" and a.settings == b.settings
    assert a.settings.rate == 128 and a.settings.threshold == 0.4 and a.settings.beats_per_bar == 4.0
    assert c.settings.beats_per_bar == 3.0
    assert a.round_trip_s > 0 and a.warnings == [] and a.raw_settings["rate"] == 128


def test_full_rate_round_trips_as_none(server):
    with Client(port=server.port) as client:
        result = client.improvise(realistic_query(1), {"rate": "full"})
    assert result.settings.rate is None and result.raw_settings["rate"] == "full"


def test_server_errors_carry_code_and_message(server):
    with Client(port=server.port) as client:
        with pytest.raises(ServerError) as info:
            client.free({"model": "nope"})
        assert info.value.code == "unknown_model" and "nope" in str(info.value)
        assert info.value.request_id > 0
        with pytest.raises(QbdiError, match="threshold"):         # checked before sending
            client.improvise(realistic_query(1), {"threshold": 2.0})
        assert client.ping()


def test_no_server_raises_no_reply_quickly():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        with Client(port=port, timeout=0.2) as client, pytest.raises(NoReply, match=str(port)):
            client.ping()


def test_one_client_shared_by_threads_is_serialised(server):
    query = realistic_query(2)
    with Client(port=server.port) as client:
        expected = {seed: client.improvise(query, {"seed": seed}).notes for seed in range(6)}
        got = {}

        def run(seed):
            got[seed] = client.improvise(query, {"seed": seed}).notes

        threads = [threading.Thread(target=run, args=(seed,)) for seed in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert got == expected


def test_late_replies_to_an_abandoned_request_are_skipped():
    """A scripted server answers the first ping too late; the second call must not take that reply."""
    fake = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    fake.bind(("127.0.0.1", 0))
    fake.settimeout(5)
    with fake, Client(port=fake.getsockname()[1], timeout=0.3) as client:
        first = threading.Thread(target=lambda: pytest.raises(NoReply, client.ping))
        first.start()
        data, _ = fake.recvfrom(4096)
        _, (first_id, reply_port) = decode(data)
        first.join()
        thread_result = {}
        second = threading.Thread(target=lambda: thread_result.setdefault("pong", client.ping()))
        second.start()
        data, _ = fake.recvfrom(4096)
        _, (second_id, _) = decode(data)
        fake.sendto(encode(P.PONG, [first_id, "stale", 1]), ("127.0.0.1", reply_port))
        fake.sendto(encode(P.PONG, [second_id, "fresh", 1]), ("127.0.0.1", reply_port))
        second.join()
    assert second_id != first_id and thread_result["pong"].server_version == "fresh"


def test_quit_stops_the_server(model_dir):
    srv = Server(port=0, model=str(model_dir)).start()
    try:
        with Client(port=srv.port) as client:
            client.quit()
        srv._threads[0].join(timeout=5)
        assert not srv._threads[0].is_alive()
    finally:
        srv.close()


def test_reply_port_can_be_chosen():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        taken = s.getsockname()[1]
        with pytest.raises(QbdiError, match=str(taken)):
            Client(reply_port=taken)


def test_the_result_says_what_the_improvisation_kept_as_sweep_measures_it(server):
    """/qbdi/result ends with retained harmony and copy, measured by the server on this query and result
    (bridge.measures.metrics, the figures `qbdi sweep` reports); free improvisations carry none."""
    from bridge.measures.metrics import compare

    query = realistic_query(4)
    with Client(port=server.port) as client:
        results = [client.improvise(query, {"rate": rate, "seed": 2, "threshold": 0.3}) for rate in ("full", 0)]
        free = client.free({"bars": 2, "seed": 1})
    for result in results:
        expected = compare(query, result.notes, 4.0)
        assert set(result.measures) == set(P.RESULT_MEASURES), result.measures
        assert result.measures["retained"] == pytest.approx(expected.retained, abs=1e-4)
        assert result.measures["copy"] == pytest.approx(expected.copy, abs=1e-4)
        assert "retained" not in result.raw_settings and "copy" not in result.raw_settings
        assert result.settings.seed == 2, "the effective settings still read"
    assert results[0].measures != results[1].measures, "the rate changes what is kept"
    assert free.measures == {}


def test_measure_pairs_split_from_the_settings_and_undefined_ones_left_out():
    pairs = ["model", "tiny", "rate", 256] + P.measure_args({"retained": 0.8234567, "copy": float("nan")})
    assert pairs[-2:] == ["retained", 0.8235]
    settings, measures = P.split_measures(pairs)
    assert settings == ["model", "tiny", "rate", 256] and measures == {"retained": 0.8235}
    assert P.split_measures(["model", "tiny"]) == (["model", "tiny"], {})
