# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Fixtures for the server, client, protocol and bench tests: a small model in the real format
(no training needed), an in-process server on a free loopback port, and raw UDP peers."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from builders import tiny_model

from bridge import protocol as P
from bridge.models import installed_names
from bridge.osc import OscError, decode, encode
from bridge.serve.server import Server

REAL_MODEL = "pop"


def sparse_model(folder: Path, latent: int = 16, hidden: int = 32, seed: int = 0, name: str = "tiny") -> Path:
    """A random-weight model in the real format whose output is about as dense as music."""
    return tiny_model(folder, latent=latent, hidden=hidden, seed=seed, name=name, sparse=True)


@pytest.fixture(scope="session")
def real_model() -> str:
    """The shipped model's name; the test is skipped (saying why) until it is installed."""
    if REAL_MODEL not in installed_names():
        pytest.skip(f"the shipped model {REAL_MODEL} is not installed yet (bridge/models/{REAL_MODEL})")
    return REAL_MODEL


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    return sparse_model(tmp_path_factory.mktemp("models") / "tiny")


@pytest.fixture(scope="session")
def other_model_dir(tmp_path_factory) -> Path:
    return sparse_model(tmp_path_factory.mktemp("models") / "other", latent=8, seed=1, name="other")


@pytest.fixture(scope="session")
def server(model_dir) -> Server:
    """One in-process server (receive thread + one worker) shared by the tests that do not stop it."""
    srv = Server(port=0, model=str(model_dir), workers=1).start()
    yield srv
    srv.close()


@pytest.fixture(scope="session")
def real_server(real_model) -> Server:
    """An in-process server on the shipped model (skipped until it is installed)."""
    srv = Server(port=0, model=real_model, workers=1).start()
    yield srv
    srv.close()


@pytest.fixture(params=["tiny", REAL_MODEL])
def any_server(request, model_dir) -> tuple[Server, str]:
    """``(server, model)`` for the fixture model and for the shipped one: the tests that matter
    most run on both. ``model`` is what ``load_model`` and ``qbdi improvise --model`` take."""
    if request.param == "tiny":
        return request.getfixturevalue("server"), str(model_dir)
    return request.getfixturevalue("real_server"), REAL_MODEL


class RawPeer:
    """A bare UDP socket: sends any bytes to a server, collects decoded replies."""

    def __init__(self, server_port: int, host: str = "127.0.0.1") -> None:
        self.server = (host, server_port)
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.raw: list[bytes] = []

    def send_raw(self, data: bytes) -> None:
        self.sock.sendto(data, self.server)

    def send(self, address: str, *args) -> None:
        self.send_raw(encode(address, list(args)))

    def receive(self, timeout: float = 5.0) -> tuple[str, list] | None:
        """The next reply, or None after ``timeout`` seconds of silence."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return None
        self.raw.append(data)
        try:
            return decode(data)
        except OscError:
            return ("<unreadable>", [data])

    def until(self, address: str, request_id: int | None = None, timeout: float = 30.0) -> list[tuple[str, list]]:
        """Replies up to and including the first ``address`` (for ``request_id``); fails on silence.
        ``timeout`` only bounds a failure (a loaded CI machine can be slow): it returns on the reply."""
        got = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.receive(max(0.01, deadline - time.monotonic()))
            if msg is None:
                break
            got.append(msg)
            if msg[0] == address and (request_id is None or (msg[1] and msg[1][0] == request_id)):
                return got
        raise AssertionError(f"no {address} for request {request_id} within {timeout} s; got {got}")

    def error(self, request_id: int | None = None, timeout: float = 30.0) -> tuple[int, str, str]:
        """The next /qbdi/error as ``(id, code, message)``."""
        address, args = self.until(P.ERROR, request_id, timeout)[-1]
        return args[0], args[1], args[2]

    def ping(self, request_id: int = 424242) -> None:
        self.send(P.PING, request_id, self.port)
        assert self.until(P.PONG, request_id)[-1][1][0] == request_id

    def close(self) -> None:
        self.sock.close()


def find_lan_address() -> str | None:
    """A non-loopback IPv4 address of this machine that a socket can bind, or None (then the tests
    of peers on other machines are skipped: they talk to a server bound there, from this machine)."""
    candidates = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))        # TEST-NET-1: picks the outgoing address, sends nothing
            candidates.append(probe.getsockname()[0])
        except OSError:
            pass
    try:
        candidates += [info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    except OSError:
        pass
    for address in candidates:
        if address.startswith("127.") or address == "0.0.0.0":
            continue
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind((address, 0))
            return address
        except OSError:
            continue
    return None


@pytest.fixture(scope="session")
def lan_address() -> str | None:
    return find_lan_address()


@pytest.fixture
def peer(server) -> RawPeer:
    p = RawPeer(server.port)
    yield p
    p.close()


@pytest.fixture
def make_peer():
    made = []

    def make(port: int, host: str = "127.0.0.1") -> RawPeer:
        made.append(RawPeer(port, host))
        return made[-1]

    yield make
    for p in made:
        p.close()
