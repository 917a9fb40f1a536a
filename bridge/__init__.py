# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""qbdi: Query-Based Deep Improvisation (Dubnov) for Ableton Live, Max and MIDI files.

The data flow follows the module names: ``pianoroll`` (notes <-> bar frames) -> ``vae``
(frames <-> latents, NumPy) -> ``channel`` (rate-limited Gaussian test channel) ->
``improvise`` (query -> improvisation) -> ``protocol``/``server``/``client`` (OSC for Max).
"""

__version__ = "0.1.0"
