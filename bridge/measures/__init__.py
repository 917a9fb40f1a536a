# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Measures (NumPy only): what training, ``qbdi sweep`` and the analysis share.

``chroma`` (bar pitch-class profiles) -> ``tonnetz`` (tonal centroids) -> ``texture`` (copy, the
old corpus likeness) and ``descriptors`` (key-invariant texture descriptors, per-bar features) ->
``metrics`` (retained harmony, copy, key, descriptors of one result) -> ``frontier`` (the rate dial
measured over many queries, with ``baselines``). Issue 20's goal table: ``reference`` (a corpus
split as training splits it), ``twosample`` (classifier two-sample test), ``corpuscopy`` (bars
replaying a training bar) -> ``goals``.
"""
