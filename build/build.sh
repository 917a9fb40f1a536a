#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
# Build the standalone server, dist/qbdi-server/ (Linux and macOS; Windows: build/build.ps1).
#
#   bash build/build.sh            build with the Python of the active environment
#   bash build/build.sh --smoke    build, then smoke-test the binary (build/smoke.py); CI runs this
#   bash build/build.sh --smoke-only   smoke-test an existing dist/qbdi-server/ without building
#   bash build/build.sh --release  also assemble "dist/QBDI Improviser/" (the device, its scripts and
#                                  qbdi-server/ side by side, as the README's Live section expects) and a zip
#
# Environment: PYTHON (default: python, else python3), QBDI_DIST (default: dist), QBDI_WORK
# (default: build/work), QBDI_CODESIGN_IDENTITY / QBDI_ENTITLEMENTS (macOS signing, see
# docs/STANDALONE.md; "-" signs ad hoc), QBDI_PLATFORM (the zip's platform name, e.g. macos-arm64). PyInstaller is installed into that environment if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=0 build=1 release=0
for arg in "$@"; do
    case "$arg" in
        --smoke) smoke=1 ;;
        --release) release=1 ;;
        --smoke-only) smoke=1 build=0 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "build.sh: unknown option $arg (use --smoke, --smoke-only, --release or --help)" >&2; exit 2 ;;
    esac
done

if [ -z "${PYTHON:-}" ]; then
    if command -v python >/dev/null 2>&1; then PYTHON=python; else PYTHON=python3; fi
fi
dist="${QBDI_DIST:-dist}"
work="${QBDI_WORK:-build/work}"
binary="$dist/qbdi-server/qbdi-server"
case "$(uname -s)" in MINGW*|MSYS*|CYGWIN*) binary="$binary.exe" ;; esac     # Git Bash on Windows (the release workflow)

if [ "$build" = 1 ]; then
    if ! "$PYTHON" -c "import PyInstaller" >/dev/null 2>&1; then
        echo "build.sh: installing PyInstaller (the [build] extra) into $("$PYTHON" -c 'import sys; print(sys.prefix)')"
        "$PYTHON" -m pip install -q "pyinstaller>=6.0"     # keep in step with pyproject.toml's [build] extra
    fi
    started=$(date +%s)
    "$PYTHON" -m PyInstaller build/qbdi-server.spec --distpath "$dist" --workpath "$work" \
        --noconfirm --clean --log-level WARN
    echo "build.sh: built $binary in $(( $(date +%s) - started )) s ($(du -sh "$dist/qbdi-server" | cut -f1))"
fi

if [ "$smoke" = 1 ]; then
    "$PYTHON" build/smoke.py "$binary"
fi

if [ "$release" = 1 ]; then
    folder="$dist/QBDI Improviser"
    rm -rf "$folder"
    mkdir -p "$folder"
    # the one list of shipped files (max_patches/qbdi_scripts.js), as the generator prints it
    "$PYTHON" max_patches/build_patches.py --list | while IFS= read -r file; do
        cp "max_patches/$file" "$folder/"
    done
    cp -R "$dist/qbdi-server" "$folder/qbdi-server"
    version=$("$PYTHON" -c "import bridge; print(bridge.__version__)")
    archive="QBDI-Improviser-$version-${QBDI_PLATFORM:-$(uname -s | tr '[:upper:]' '[:lower:]')-$(uname -m)}.zip"
    (cd "$dist" && rm -f "$archive" && "$PYTHON" -m zipfile -c "$archive" "QBDI Improviser")
    echo "build.sh: release folder $folder and $dist/$archive ($(du -sh "$dist/$archive" | cut -f1))"
fi

