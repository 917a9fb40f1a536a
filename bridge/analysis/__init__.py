# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Music information dynamics: Variable Markov Oracle analysis and rate sweeps (issue 5).

Imported only by the ``qbdi analyze`` and ``qbdi sweep`` commands, never by the server: it needs
the ``analysis`` extra (scipy, matplotlib, tqdm; vmo for the reference checks).

Modules, from notes to report (the NumPy measures they use, chroma, tonnetz, metrics, texture and
frontier, are :mod:`bridge.measures`, which training shares):
``distances`` (exact frame distances on demand) -> ``lockstep`` (VMO builds for many thresholds in
one pass) -> ``oracle`` (VMO build, IR, fast exact threshold sweep) -> ``motifs`` (repeated motifs) ->
``piece`` (surface and latent views of one piece) -> ``figures`` / ``report`` (PNG, HTML, JSON);
``sweep`` (rates x seeds); entry points ``report.analyze`` and ``sweep.sweep`` (plain values; the
command line adapts its arguments) for ``qbdi analyze`` / ``qbdi sweep``.
"""
