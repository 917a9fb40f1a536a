# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Measures (NumPy only): what training, ``qbdi sweep`` and the analysis share.

``chroma`` (bar pitch-class profiles) -> ``tonnetz`` (tonal centroids) -> ``texture`` (per-bar
rhythm and voicing profiles) -> ``metrics`` (retained harmony, copy, key, texture of one result)
-> ``frontier`` (the rate dial measured over many queries).
"""
