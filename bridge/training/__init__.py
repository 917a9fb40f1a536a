# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Training (the ``[train]`` extra, PyTorch): corpora -> frames (``corpus``), the VAE's training
loop (``train``) and the held-out figures of a model's data card (``evaluate``).

Nothing here is imported by ``qbdi improvise`` or ``qbdi serve``.
"""
