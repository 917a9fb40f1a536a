# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Tests of max_patches/: the Max for Live device, the qbdi.client abstraction and their JavaScript."""
