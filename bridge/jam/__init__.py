# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""``qbdi jam``: the play-along stream on MIDI ports (the ``[jam]`` extra's front end).

``clock`` (the bar clock: ``--bpm`` or the input's MIDI clock) -> ``ports`` (MIDI in and out,
or memory stand-ins) -> ``player`` (bars collected, answers played on the grid) -> ``jam`` (the loop).

Glossary: *stream* is the protocol and engine (:mod:`bridge.stream`), *jam* this MIDI-port
front end, *Play Along* the Live device's toggle.
"""
