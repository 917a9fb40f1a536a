# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Serving (``qbdi serve``): the OSC server that the Max for Live device and other clients talk to.

A datagram's route: ``peers`` (who sent it: loopback, the handshake cookie, the allowance) ->
``admission`` (the gate) -> ``reassembly`` (chunks back into requests) -> ``workers`` (a
``fairqueue`` and the threads that improvise), or ``sessions`` for the play-along stream;
``server`` owns the socket and wires the parts; ``watchdog`` ends the server with its parent.
"""
