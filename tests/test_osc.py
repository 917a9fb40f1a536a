# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from bridge.osc import OscError, decode, encode, shortest_float32

float32s = st.floats(width=32, allow_nan=False)
args_strategy = st.lists(st.one_of(st.integers(-2**31, 2**31 - 1), float32s,
                                   st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)),
                                           max_size=12)), max_size=20)


def python_osc(address, args):
    builder = OscMessageBuilder(address)
    for a in args:
        builder.add_arg(a, "i" if isinstance(a, int) else "f" if isinstance(a, float) else "s")
    return builder.build().dgram


@settings(max_examples=300, deadline=None)
@given(st.text("abcxyz/_", max_size=12).map(lambda s: "/" + s), args_strategy)
def test_encode_matches_python_osc_and_decode_inverts_it(address, args):
    data = encode(address, args)
    assert data == python_osc(address, args)
    got_address, got = decode(data)
    assert got_address == address
    assert got == list(OscMessage(data).params) == args


def test_only_int32_float32_and_strings_are_sent():
    for bad in (True, None, b"blob", [1, 2], 2**31, -(2**31) - 1, 1e39, "a\0b"):
        with pytest.raises(OscError):
            encode("/x", [bad])
    with pytest.raises(OscError):
        encode("no-slash", [])
    data = encode("/x", [1, 2.5, "s"])
    assert data[4:12] == b",ifs\0\0\0\0"


def test_other_type_tags_are_read_through_python_osc():
    builder = OscMessageBuilder("/x")
    builder.add_arg(7, "h")
    builder.add_arg(0.1, "d")
    builder.add_arg(True)
    assert decode(builder.build().dgram) == ("/x", [7, 0.1, True])


@pytest.mark.parametrize("data", [b"", b"garbage", b"/x", b"/x\0\0,i\0\0\0\0", b"/x\0\0,s\0\0abc",
                                  b"/x\0\0xif\0", b"#bundle\0" + b"\0" * 8, b"/x\0\0,q\0\0\0\0\0\0",
                                  b"/\xff\0\0,\0\0\0"])
def test_unreadable_datagrams_raise_osc_error(data):
    if data == b"/x":   # an address alone is a message without arguments (OSC 1.0)
        with pytest.raises(OscError):
            decode(data)   # ... but it must be NUL-terminated
        return
    with pytest.raises(OscError):
        decode(data)


def test_address_without_type_tags_is_an_empty_message():
    assert decode(b"/x\0\0") == ("/x", [])


@given(float32s)
def test_shortest_float32_reads_back_as_the_same_float32(x):
    y = shortest_float32(x)
    assert struct.unpack(">f", struct.pack(">f", y))[0] == x
    assert len(repr(y)) <= len(repr(x))


def test_shortest_float32_cleans_what_max_sends():
    wire = struct.unpack(">f", struct.pack(">f", 0.3))[0]
    assert wire != 0.3 and shortest_float32(wire) == 0.3
    assert shortest_float32(0.1) == 0.1            # a float64 that is no float32 stays as it is
    assert shortest_float32(float("inf")) == float("inf")
