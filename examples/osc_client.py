# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Improvise on a short phrase through a running `qbdi serve`, with nothing but python-osc.

    pip install python-osc
    qbdi serve                          # in another terminal; listens on 127.0.0.1:7400
    python osc_client.py [--host 127.0.0.1] [--port 7400]

Prints the improvised notes, one per line: pitch, start and duration in beats, velocity.
"""
import argparse
import random
import socket
import sys

from pythonosc.osc_message import OscMessage
from pythonosc.udp_client import SimpleUDPClient

NOTES_PER_CHUNK = 128  # notes per /qbdi/notes datagram (docs/PROTOCOL.md, "Caps")

# One bar of 4/4: a C major chord under a little melody, as (pitch, start, duration, velocity);
# start and duration are in beats (quarter notes). Ints travel as OSC i, floats as f.
QUERY = [(60, 0.0, 4.0, 80), (64, 0.0, 4.0, 80), (67, 0.0, 4.0, 80),
         (72, 0.0, 1.0, 100), (74, 1.0, 0.5, 96), (76, 1.5, 0.5, 96), (79, 2.0, 2.0, 100)]
SETTINGS = {"rate": 256, "seed": 7, "beats_per_bar": 4.0}  # any key of the Settings table


def improvise(host, port, query, settings, timeout=10.0):
    """Send one improvise request; return (model, effective settings, notes)."""
    server = SimpleUDPClient(host, port)
    replies = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    replies.bind(("", 0))  # the server answers the sender's address at this port
    replies.settimeout(timeout)
    reply_port = replies.getsockname()[1]
    request_id = random.randrange(1, 2**31)

    # the header, then the notes in chunks of at most 128 (at least one chunk)
    chunks = [query[i:i + NOTES_PER_CHUNK] for i in range(0, len(query), NOTES_PER_CHUNK)] or [[]]
    setting_args = [x for key_value in settings.items() for x in key_value]
    server.send_message("/qbdi/improvise", [request_id, reply_port, len(query), len(chunks), *setting_args])
    for index, chunk in enumerate(chunks):
        flat = [x for note in chunk for x in note]
        server.send_message("/qbdi/notes", [request_id, reply_port, index, len(chunks), *flat])

    # the reply: warnings, one /qbdi/result header and its /qbdi/result/notes chunks, in any order;
    # or one /qbdi/error
    header, received = None, {}
    while header is None or len(received) < header[2]:
        try:
            message = OscMessage(replies.recv(65536))
        except TimeoutError:
            sys.exit(f"no answer from {host}:{port} within {timeout} s: is qbdi serve running there?")
        args = list(message.params)
        if not args or args[0] not in (request_id, -1):
            continue  # a late reply to an earlier request
        if message.address == "/qbdi/error":
            sys.exit(f"qbdi error {args[1]}: {args[2]}")
        if message.address == "/qbdi/warning":
            print("qbdi warning:", args[1], file=sys.stderr)
        elif message.address == "/qbdi/result":
            header = args  # id n_notes n_chunks model key value ...
        elif message.address == "/qbdi/result/notes":
            received[args[1]] = args[3:]  # id chunk n_chunks pitch start duration velocity ...
    replies.close()

    flat = [x for index in sorted(received) for x in received[index]]
    notes = [tuple(flat[i:i + 4]) for i in range(0, len(flat), 4)]
    if len(notes) != header[1]:
        sys.exit(f"expected {header[1]} notes, the chunks hold {len(notes)}")
    return header[3], dict(zip(header[4::2], header[5::2])), notes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7400)
    options = parser.parse_args()
    model, settings, notes = improvise(options.host, options.port, QUERY, SETTINGS)
    print(f"{len(notes)} notes from model {model}, rate {settings['rate']}, seed {settings['seed']}")
    print("pitch  start  duration  velocity")
    for pitch, start, duration, velocity in notes:
        print(f"{pitch:5d} {start:6g} {duration:9g} {velocity:9d}")


if __name__ == "__main__":
    main()
