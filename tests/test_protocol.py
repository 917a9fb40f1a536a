# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge import protocol as P
from bridge.config import Settings
from bridge.errors import QbdiError
from bridge.osc import decode, encode
from bridge.pianoroll import Note


def test_addresses_are_unique_constants_under_qbdi():
    assert len(set(P.ADDRESSES)) == len(P.ADDRESSES)
    assert all(a.startswith("/qbdi/") for a in P.ADDRESSES)
    assert set(P.SETTING_TYPES) == set(P.SETTING_KEYS)
    assert set(P.SETTING_KEYS) <= {f for f in Settings.__dataclass_fields__}


def test_a_full_chunk_of_extreme_notes_fits_one_datagram():
    flat = P.flatten_notes([Note(127, 1e6 + 0.25, 1e6, 127)] * P.NOTES_PER_CHUNK)
    (chunk,) = P.chunk_args(flat)
    worst = 2**31 - 1
    for address in (P.NOTES, P.RESULT_NOTES):
        data = encode(address, [worst, 65535, worst, worst, *chunk])
        assert len(data) <= P.MAX_DATAGRAM


def test_the_largest_result_header_fits_one_datagram():
    values = Settings(model="m" * P.MAX_STRING, rate=1_000_000, beats_per_bar=32.0).to_dict()
    values.update({k: "x" * 16 for k in ("sampling", "z", "allocation", "source", "structure")})
    data = encode(P.RESULT, [2**31 - 1, P.MAX_NOTES, P.MAX_CHUNKS, "m" * P.MAX_STRING, *P.settings_args(values)])
    assert len(data) <= P.MAX_DATAGRAM


def test_chunking_covers_every_note_once():
    notes = [Note(60 + i % 12, i * 0.25, 0.25, 90) for i in range(300)]
    chunks = P.chunk_args(P.flatten_notes(notes))
    assert len(chunks) == P.n_chunks(300) == 3
    assert sum(len(c) for c in chunks) == 300 * P.FIELDS_PER_NOTE
    assert P.chunk_args([]) == [[]] and P.n_chunks(0) == 1


def test_settings_round_trip_through_the_wire():
    original = Settings(model="pop", rate=256, sampling="sample", threshold=0.3, temperature=1.7, z="sample",
                        seed=2**31 - 1, allocation="frame", source="prior", beats_per_bar=3.0, bars=12,
                        structure="lock", continue_bars=2)
    args = P.settings_args(original.to_dict())
    _, wire = decode(encode(P.FREE, [1, 2, *args]))            # floats travel as float32
    assert Settings.from_dict(P.parse_settings(wire[2:])) == original


def test_unset_values_are_left_out_and_full_rate_is_named():
    args = P.settings_args(Settings(model=None, rate=None, beats_per_bar=None).to_dict())
    pairs = dict(zip(args[::2], args[1::2]))
    assert "model" not in pairs and "beats_per_bar" not in pairs and pairs["rate"] == "full"


@pytest.mark.parametrize("args, expected", [
    (["rate", -1], {"rate": None}),
    (["rate", "full"], {"rate": None}),
    (["rate", 64.0], {"rate": 64}),
    (["seed", 7.0, "bars", 4], {"seed": 7, "bars": 4}),
    (["threshold", 1], {"threshold": 1.0}),
    (["model", ""], {"model": None}),
    (["seed", 1, "seed", 2], {"seed": 2}),
])
def test_parse_settings_is_lenient_with_max_numbers(args, expected):
    assert P.parse_settings(args) == expected


@pytest.mark.parametrize("args, words", [
    (["rate"], "pairs"),
    (["colour", "red"], "unknown setting"),
    ([3, 4], "unknown setting"),
    (["seed", 1.5], "seed"),
    (["seed", "one"], "seed"),
    (["threshold", "high"], "threshold"),
    (["sampling", 1], "sampling"),
    (["rate", "lots"], "rate"),
    (["rate", True], "rate"),
])
def test_parse_settings_names_the_bad_pair(args, words):
    with pytest.raises(QbdiError, match=words) as info:
        P.parse_settings(args)
    assert info.value.code == "bad_request"


def test_parse_notes_accepts_whole_floats_and_rejects_the_rest():
    assert P.parse_notes([60.0, 0, 1, 90]) == [(60, 0.0, 1.0, 90)]
    for flat, words in (([60, 0, 1], "4 numbers"), ([128, 0, 1, 90], "pitch"), ([60, -1, 1, 90], "start"),
                        ([60, 0, -0.5, 90], "duration"), ([60, math.nan, 1, 90], "start"),
                        ([60, 0, math.inf, 90], "duration"), ([60, 0, 1, 200], "velocity"),
                        ([60.5, 0, 1, 90], "pitch"), (["C4", 0, 1, 90], "pitch")):
        with pytest.raises(QbdiError, match=words):
            P.parse_notes(flat)


def test_request_id_and_reply_port_readers():
    assert P.read_id([5, 7400]) == 5 and P.read_id([5.0]) == 5
    assert P.read_id(["x"]) == -1 and P.read_id([]) == -1
    assert P.read_reply_port([1, 7401]) == 7401
    assert P.read_reply_port([1]) is None and P.read_reply_port([1, 0]) is None
    assert P.read_reply_port([1, 70000]) is None and P.read_reply_port([1, "7401"]) is None


values = st.one_of(st.integers(-5, 200), st.floats(allow_nan=True, allow_infinity=True, width=32),
                   st.sampled_from([60, 0.0, 0.5, 90, 127, True, "x"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(values, max_size=12))
def test_notes_array_agrees_with_parse_notes(flat):
    try:
        expected = P.parse_notes(flat)
    except QbdiError:
        with pytest.raises(QbdiError, match="chunk 3"):
            P.notes_array(flat, 3)
        return
    got = P.notes_array(flat, 3)
    assert [tuple(got[i:i + 4]) for i in range(0, len(got), 4)] == expected


# --- play along ---------------------------------------------------------------------------------
def test_stream_settings_round_trip_through_the_wire():
    from bridge.config import StreamSettings

    settings = Settings(model="pop", rate=64, sampling="sample", threshold=0.3, seed=9, structure="lock",
                        beats_per_bar=3.5, bars=3, continue_bars=2)
    stream = StreamSettings(mode="ahead", window=3)
    args = P.stream_settings_args(settings.to_dict(), stream.to_dict())
    keys = args[::2]
    assert keys == [k for k in P.STREAM_SETTING_KEYS if k in keys] and "bars" not in keys
    assert keys[-2:] == ["mode", "window"]
    _, wire = decode(encode(P.STREAM_OPEN, [1, 2, *args]))
    engine, own = P.parse_stream_settings(wire[2:])
    assert Settings.from_dict(engine) == settings.replace(bars=Settings.bars, continue_bars=0)
    assert StreamSettings.from_dict(own) == stream
    assert P.parse_stream_settings(["bars", 4, "continue_bars", 1, "length_beats", 8.0]) == ({}, {})


@pytest.mark.parametrize("args, words", [
    (["mode"], "pairs"), (["mode", 1], "mode must be a name"), (["window", 2.5], "window"),
    (["colour", "red"], "a stream knows"), (["rate", "lots"], "rate"),
])
def test_stream_settings_name_the_bad_pair(args, words):
    with pytest.raises(QbdiError, match=words):
        P.parse_stream_settings(args)


def test_stream_bar_notes_may_start_before_the_bar_but_not_without_bound():
    assert list(P.notes_array([60, -2.5, 3.0, 90], min_start=P.MIN_NOTE_START)) == [60, -2.5, 3.0, 90]
    with pytest.raises(QbdiError, match="start"):
        P.notes_array([60, -2.5, 3.0, 90])
    with pytest.raises(QbdiError, match="start"):
        P.notes_array([60, P.MIN_NOTE_START - 1, 3.0, 90], min_start=P.MIN_NOTE_START)


def test_the_largest_stream_datagrams_fit():
    flat = P.flatten_notes([Note(127, P.MIN_NOTE_START, 1e6, 127)] * P.NOTES_PER_CHUNK)
    worst = 2**31 - 1
    assert len(encode(P.STREAM_BAR, [worst, 65535, worst, P.MAX_BAR_NOTES, worst, worst, *flat])) <= P.MAX_DATAGRAM
    assert len(encode(P.STREAM_NEXT, [worst, worst, P.MAX_BAR_NOTES, worst, worst, *flat])) <= P.MAX_DATAGRAM
    values = Settings(model="m" * P.MAX_STRING, rate=1_000_000, beats_per_bar=32.0).to_dict()
    values.update({k: "x" * 16 for k in ("sampling", "z", "allocation", "source", "structure")})
    opened = [worst, "m" * P.MAX_STRING, *P.stream_settings_args(values, {"mode": "ahead", "window": 16})]
    assert len(encode(P.STREAM_OPENED, opened)) <= P.MAX_DATAGRAM
    assert set(P.STREAM_REQUESTS) <= set(P.REQUESTS) and set(P.STREAM_REPLIES) <= set(P.REPLIES)


# --- one vocabulary for chunked notes and layouts ------------------------------------------------
@given(st.lists(st.tuples(st.integers(0, 127), st.floats(0, 1e4, width=32), st.floats(0, 64, width=32),
                          st.integers(0, 127)), max_size=300))
def test_notes_from_flat_inverts_flatten_notes_through_the_wire(raw):
    notes = [Note(p, s, d, v) for p, s, d, v in raw]
    chunks = P.Chunks()
    for index, chunk in enumerate(P.chunk_args(P.flatten_notes(notes))):
        _, args = decode(encode(P.RESULT_NOTES, [1, index, P.n_chunks(len(notes)), *chunk]))
        header = P.parse_header(P.RESULT_NOTES, args)
        chunks.n_chunks = header.n_chunks
        assert chunks.add(header.chunk, header.rest)
    assert chunks.complete and chunks.notes_held == len(notes)
    assert chunks.notes() == notes == P.notes_from_flat(P.flatten_notes(notes))


def test_chunks_collect_in_any_order_and_keep_the_first_copy():
    notes = [Note(60 + i % 12, i / 4, 0.25, 90) for i in range(3 * P.NOTES_PER_CHUNK - 5)]
    parts = P.chunk_args(P.flatten_notes(notes))
    chunks = P.Chunks(len(parts))
    for index in (2, 0):
        assert chunks.add(index, parts[index])
    assert not chunks.add(2, [0.0] * 4) and not chunks.complete and chunks.last == 2 and len(chunks) == 2
    assert chunks.add(1, parts[1]) and chunks.complete and 1 in chunks
    assert chunks.notes() == notes
    assert not P.Chunks().complete             # the count is not known yet


def test_every_address_has_one_layout_and_every_reply_of_the_server_parses():
    assert set(P.LAYOUTS) == set(P.ADDRESSES)
    for address, row in P.LAYOUTS.items():
        head = ("id:i", "reply_port:i") if address in P.REQUESTS else ()
        if address in P.STREAM_REQUESTS:
            head = ("session:i", "reply_port:i")
        assert tuple(row[:len(head)]) == head, address
        groups = [f[:-3] for f in row if f.endswith("...")]
        assert all(g in P.GROUPS for g in groups) and len(groups) <= 1 and (not groups or row[-1].endswith("..."))
    status = P.parse_header(P.STATUS_REPLY, [7, 1, "pop", 2, 1.5, 3, 0])
    assert (status.id, status.model, status.uptime_s, status.pending, status.rest) == (7, "pop", 1.5, 0, [])
    bar = P.parse_header(P.STREAM_BAR, [3, 9000, 4.0, 1, 0, 1, 60, -0.5, 1.0, 80])
    assert (bar.session, bar.bar, bar.n_notes, bar.chunk, bar.n_chunks, bar.rest) == (3, 4, 1, 0, 1,
                                                                                      [60, -0.5, 1.0, 80])


@pytest.mark.parametrize("address, args, words", [
    (P.IMPROVISE, [1, 9000, 3], "/qbdi/improvise takes <id> <reply_port> <n_notes> <n_chunks> [key value]..."),
    (P.NOTES, [1, 9000, 0.5, 1], "the chunk index must be a whole number"),
    (P.STREAM_BAR, [1, 9000, "x", 0, 0, 1], "the bar index must be a whole number"),
    (P.STATUS_REPLY, [1, 1, 5, 1, 0.0, 0, 0], "model must be a string"),
])
def test_parse_header_names_the_layout_or_the_field(address, args, words):
    with pytest.raises(QbdiError, match=words.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        P.parse_header(address, args)
