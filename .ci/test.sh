#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
# The README's test command: install the test dependencies and run every test (Python, and the
# device's JavaScript under Node). Run by .ci/run and by the workflow's test matrix (Linux, macOS,
# Windows under Git Bash), from the repository root. QBDI_TORCH_INDEX, if set, is the package index
# torch comes from first (the workflow sets PyTorch's CPU index on Linux: README.md, "Training").
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${QBDI_TORCH_INDEX:-}" ]; then
    python -m pip install -q "torch>=2.13,<3" --index-url "$QBDI_TORCH_INDEX"
fi
python -m pip install -e '.[test]'
python -m pytest -q
