# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""``python -m bridge`` = ``qbdi``."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
