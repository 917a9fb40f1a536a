# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The OSC exchanges shown in docs/PROTOCOL.md, sent to a real server: the answers in the doc are
what that server sends back.

    python -m tools.protocol_examples            # rewrite the answers in docs/PROTOCOL.md
    python -m tools.protocol_examples --check    # exit 1 with a diff if the doc is not what the server says

An exchange is a fenced block right after a ``<!-- exchange -->`` comment (``<!-- exchange: lan -->``
for one that needs a peer on another machine: the server listens on this machine's LAN address and
the requests come from there, so the handshake applies). Its ``->`` lines are requests, written by
hand and sent as written, one datagram each, to a fresh ``Server`` with the shipped default model on
real UDP: ints are OSC ``i``, numbers with a dot ``f``, quoted text ``s``; the reply port in the doc
(7401) is replaced by the port this tool listens on; ``"<cookie>"`` is the cookie of the last pong;
a string of ``p``s is padding, lengthened until the datagram is as long as the ``(padded to N bytes)``
after it says. Anything after two spaces and ``(`` is a comment, except that ``N bytes`` in it must be
the request's size. The ``<-`` lines are written by this tool: every datagram that came back, in the
order the protocol sends them (warnings, then headers, then note chunks by index), numbers as float32
prints them (``4.`` for a whole float), at most 6 notes per chunk (then ``...``), the pong's cookie as
``"<cookie>"`` and the status reply's uptime as ``<uptime>``; a request the server must not answer
has no ``<-`` line under it, and the tool checks that nothing came.

A block after ``<!-- output: osc_client.py -->`` or ``<!-- output: qbdi_ping.pd -->`` is what that
example prints (its first notes): the same requests (the query and settings of
examples/osc_client.py, which the Pd patch sends too) sent to a fresh server, printed the way the
example prints them. tests/test_examples.py runs the examples themselves against a real server.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import logging
import re
import shlex
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bridge import protocol as P
from bridge.osc import decode, encode

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "PROTOCOL.md"
MARK = re.compile(r"^<!-- (exchange|output)(?::\s*([\w.]+))? -->$")
DOC_REPLY_PORT = 7401
NOTES_SHOWN = 6
WIDTH = 104
ANSWER_WAIT_S = 30.0       # a deadline for a missing answer only; a complete answer ends the wait
SILENCE_S = 0.4            # how long a request the server must not answer is watched
# replies whose arguments carry notes, and how many ints come before the notes
NOTE_REPLIES = {P.RESULT_NOTES: 3, P.STREAM_NEXT: 5}
TERMINAL = {P.PONG, P.STATUS_REPLY, P.MODELS_REPLY, P.ERROR, P.STREAM_OPENED, P.STREAM_CLOSED, P.BYE}
ORDER = {P.WARNING: 0, P.RESULT: 1, P.RESULT_NOTES: 2}


@dataclass
class Exchange:
    """One fenced block: its line range in the doc, its kind, and its request lines (with the line
    index each sits at)."""

    start: int
    end: int
    kind: str
    lines: list[str] = field(default_factory=list)


def find_exchanges(lines: list[str]) -> list[Exchange]:
    found = []
    for i, line in enumerate(lines):
        mark = MARK.match(line.strip())
        if not mark:
            continue
        if i + 1 >= len(lines) or not lines[i + 1].startswith("```"):
            raise SystemExit(f"docs/PROTOCOL.md:{i + 1}: an exchange mark must be followed by a ``` block")
        end = next(j for j in range(i + 2, len(lines)) if lines[j].startswith("```"))
        kind = mark.group(2) or "loopback"
        found.append(Exchange(i + 2, end, kind if mark.group(1) == "exchange" else "output:" + kind, lines[i + 2:end]))
    return found


def parse_request(line: str, reply_port: int, cookie: str | None) -> tuple[str, list, bytes]:
    """``-> /addr args  (comment)`` -> (address, args, datagram)."""
    text, _, comment = line[3:].partition("  (")
    tokens = shlex.split(text, posix=True)
    quoted = set(re.findall(r'"([^"]*)"', text))
    address, args = tokens[0], []
    for token in tokens[1:]:
        if token in quoted:
            args.append(cookie if token == "<cookie>" else token)
        elif re.fullmatch(r"-?\d+", token):
            number = int(token)
            args.append(reply_port if number == DOC_REPLY_PORT and len(args) == 1 else number)
        else:
            args.append(float(token))
    padded = re.search(r"padded to (\d+) bytes", comment)
    if padded:
        pad = next(i for i, a in enumerate(args) if isinstance(a, str) and set(a) <= {"p", ".", "…"})
        args[pad] = ""
        while len(encode(address, args)) < int(padded.group(1)):
            args[pad] += "p"
    data = encode(address, args)
    said = re.search(r"(\d+) bytes", comment)
    if said and not padded and int(said.group(1)) != len(data):
        raise SystemExit(f"{line!r}: the comment says {said.group(1)} bytes, the datagram is {len(data)}")
    return address, args, data


def number(value) -> str:
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, float):
        return np.format_float_positional(np.float32(value), trim=".")
    return str(value)


def render(address: str, args: list) -> list[str]:
    """One answer as doc lines: ``<- /addr args``, notes grouped by two spaces, wrapped."""
    shown = list(args)
    if address == P.PONG and len(shown) > 3:
        shown[3] = "<cookie>"
    words = [number(w) for w in shown]
    if address == P.STATUS_REPLY and len(shown) > 4:
        words[4] = "<uptime>"
    if address in NOTE_REPLIES:
        head = NOTE_REPLIES[address]
        notes = [" ".join(words[k:k + 4]) for k in range(head, len(words), 4)]
        more = len(notes) > NOTES_SHOWN
        words = [" ".join(words[:head])] + [" " + n for n in notes[:NOTES_SHOWN]] + (["..."] if more else [])
    first = f"<- {address} "
    lines, current = [], first
    for word in words:
        if len(current) + len(word) > WIDTH and current.strip() != first.strip():
            lines.append(current.rstrip())
            current = " " * len(first)
        current += word + " "
    lines.append(current.rstrip())
    return lines


def complete(answers: list[tuple[str, list]]) -> bool:
    addresses = {a for a, _ in answers}
    if addresses & TERMINAL:
        return True
    for header, chunks_of in ((P.RESULT, P.RESULT_NOTES), (P.STREAM_NEXT, P.STREAM_NEXT)):
        for address, args in answers:
            if address != header:
                continue
            n_chunks = args[2] if header == P.RESULT else args[4]
            chunks = {a[1] if chunks_of == P.RESULT_NOTES else a[3]
                      for ad, a in answers if ad == chunks_of and a[0] == args[0]}
            if len(chunks) >= n_chunks:
                return True
    return False


def canonical(answers: list[tuple[str, list]]) -> list[tuple[str, list]]:
    def key(item):
        address, args = item
        chunk = args[1] if address == P.RESULT_NOTES else args[3] if address == P.STREAM_NEXT else 0
        return ORDER.get(address, 1), chunk
    return sorted(answers, key=key)


def lan_address() -> str | None:
    """A non-loopback IPv4 address of this machine that a socket can bind, or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))            # TEST-NET-1: picks the outgoing address, sends nothing
            address = probe.getsockname()[0]
        except OSError:
            return None
    if address.startswith("127.") or address == "0.0.0.0":
        return None
    return address


class Conversation:
    """A fresh server with the shipped default model on ``host``, and a socket there to talk to it."""

    def __init__(self, host: str) -> None:
        from bridge.serve.server import Server

        self.host = host
        self.server = Server(host=host, port=0)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def __enter__(self) -> Conversation:
        self.server.__enter__()
        self.sock.bind((self.host, 0))
        self.reply_port = self.sock.getsockname()[1]
        return self

    def __exit__(self, *exc) -> None:
        self.sock.close()
        self.server.__exit__(*exc)

    def ask(self, data: bytes, expects: bool = True) -> list[tuple[str, list]]:
        self.sock.sendto(data, (self.host, self.server.port))
        return canonical(receive(self.sock, expects))


def run_exchange(exchange: Exchange, host: str) -> list[str]:
    """Sends the block's requests to a fresh server on ``host``; returns the block's new lines."""
    out: list[str] = []
    cookie = None
    with Conversation(host) as talk:
        for line in (x for x in exchange.lines if x.startswith("-> ")):
            _, _, data = parse_request(line, talk.reply_port, cookie)
            answers = talk.ask(data, expects_answer(exchange.lines, line))
            cookie = next((a[3] for ad, a in answers if ad == P.PONG and len(a) > 3), cookie)
            out.append(line)
            for ans in answers:
                out.extend(render(*ans))
    return out


def example_query() -> tuple[list[tuple], dict]:
    """QUERY and SETTINGS of examples/osc_client.py, read without importing it (it needs python-osc)."""
    tree = ast.parse((ROOT / "examples" / "osc_client.py").read_text(encoding="utf-8"))
    found = {t.id: ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
             for t in node.targets if isinstance(t, ast.Name) and t.id in ("QUERY", "SETTINGS")}
    return found["QUERY"], found["SETTINGS"]


def improvise_example(talk: Conversation, request_id: int) -> list[tuple[str, list]]:
    query, settings = example_query()
    pairs = [x for kv in settings.items() for x in kv]
    talk.ask(encode(P.IMPROVISE, [request_id, talk.reply_port, len(query), 1, *pairs]), expects=False)
    return talk.ask(encode(P.NOTES, [request_id, talk.reply_port, 0, 1, *[x for n in query for x in n]]))


def pd_atom(value) -> str:
    return value if isinstance(value, str) else f"{float(np.float32(value)):g}"


def run_output(name: str) -> list[str]:
    """What examples/osc_client.py or examples/qbdi_ping.pd prints, cut after a few notes."""
    with Conversation("127.0.0.1") as talk:
        if name == "qbdi_ping.pd":
            pong = talk.ask(encode(P.PING, [1, talk.reply_port]))
            answers = improvise_example(talk, 2)
            out = ["qbdi-pong: " + " ".join(pd_atom(a) for a in pong[-1][1])]
            header = next(a for ad, a in answers if ad == P.RESULT)
            out.append("qbdi-result: " + " ".join(pd_atom(a) for a in header[:12]) + " ...")
            notes = [a[3:] for ad, a in answers if ad == P.RESULT_NOTES][0]
            out += ["qbdi-note: " + " ".join(pd_atom(x) for x in notes[k:k + 4]) for k in range(0, 8, 4)]
            return out + ["..."]
        answers = improvise_example(talk, 1)
        header = next(a for ad, a in answers if ad == P.RESULT)
        settings = dict(zip(header[4::2], header[5::2]))
        flat = [x for ad, a in answers if ad == P.RESULT_NOTES for x in a[3:]]
        notes = [flat[k:k + 4] for k in range(0, len(flat), 4)]
        out = [f"{len(notes)} notes from model {header[3]}, rate {settings['rate']}, seed {settings['seed']}",
               "pitch  start  duration  velocity"]
        out += [f"{p:5d} {float(np.float32(s)):6g} {float(np.float32(d)):9g} {v:9d}" for p, s, d, v in notes[:2]]
        return out + ["..."]


def expects_answer(lines: list[str], request: str) -> bool:
    """Whether the doc shows an answer under this request (else the server must stay silent)."""
    i = lines.index(request)
    following = next((x for x in lines[i + 1:] if x.startswith(("-> ", "<- "))), "")
    return following.startswith("<- ")


def receive(sock: socket.socket, expects: bool) -> list[tuple[str, list]]:
    answers: list[tuple[str, list]] = []
    deadline = time.monotonic() + (ANSWER_WAIT_S if expects else SILENCE_S)
    while time.monotonic() < deadline and not (answers and complete(answers)):
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = sock.recv(65536)
        except TimeoutError:
            break
        answers.append(decode(data))
    return answers


def regenerate(text: str, lan: str | None) -> tuple[str, list[str]]:
    """The doc with every exchange's answers regenerated; and the exchanges that could not run."""
    lines = text.split("\n")
    skipped = []
    for exchange in reversed(find_exchanges(lines)):
        if exchange.kind == "lan" and lan is None:
            skipped.append(exchange.lines[0])
            continue
        if exchange.kind.startswith("output:"):
            lines[exchange.start:exchange.end] = run_output(exchange.kind.split(":", 1)[1])
        else:
            lines[exchange.start:exchange.end] = run_exchange(exchange, lan if exchange.kind == "lan" else "127.0.0.1")
    return "\n".join(lines), skipped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.protocol_examples", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 with a diff if the doc differs")
    parser.add_argument("--doc", type=Path, default=DOC, help="the Markdown file (default: docs/PROTOCOL.md)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)      # the server's warnings about the examples' bad requests
    text = args.doc.read_text(encoding="utf-8")
    new, skipped = regenerate(text, lan_address())
    for first in skipped:
        print(f"protocol_examples: no LAN address on this machine: left as it is: {first}", file=sys.stderr)
    if args.check:
        if new != text:
            sys.stdout.writelines(difflib.unified_diff(text.splitlines(True), new.splitlines(True),
                                                       str(args.doc), "what the server sends"))
            return 1
        return 0
    if new != text:
        args.doc.write_text(new, encoding="utf-8")
        print(f"protocol_examples: rewrote the answers in {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
