#!/usr/bin/env bash
# Set up qualcode in ./.venv on a fresh machine: the CPU build of torch first (bertopic pulls
# sentence-transformers and so torch; without this pip would fetch a multi-GB CUDA build), then
# qualcode itself with its test tools. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "qualcode needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
# Where pip is configured with a local folder holding the CPU wheel (as on CI), a plain install
# picks it; anywhere else torch comes from PyTorch's CPU index, since PyPI's Linux build is the
# multi-GB CUDA one.
probe="$(mktemp -d)"
if .venv/bin/python -m pip download --quiet --disable-pip-version-check --no-deps --no-index \
    "torch==2.13.0" -d "$probe" >/dev/null 2>&1; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
else
    .venv/bin/python -m pip install --quiet --disable-pip-version-check \
        --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0"
fi
rm -rf "$probe"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
