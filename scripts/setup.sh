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
# A machine whose pip is configured with a local wheel folder (as CI is) installs the CPU
# wheel from there; anywhere else, from PyTorch's CPU index (PyPI's Linux build is the CUDA one).
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-index "torch==2.13.0" \
    2>/dev/null \
    || .venv/bin/python -m pip install --quiet --disable-pip-version-check \
        --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
