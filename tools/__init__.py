# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Developer tools, outside the runtime package: run from a checkout as ``python -m tools.NAME``."""
