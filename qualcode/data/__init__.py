"""Data shipped inside the package, read with ``importlib.resources`` so that an installed wheel
has them as well as a checkout.

- ``partnership-barriers.yaml``: the shipped codebook, a byte-for-byte copy of
  ``codebooks/partnership-barriers.yaml`` (the human-readable source in the repository);
- ``training-units.json.gz``: the human codings the shipped codebook trains on (the adjudicated
  gold of ``corpora/partnership-sites``, ``corpora/training-quotes`` and
  ``corpora/training-prose``), read onto their segments: each unit's text and codes.

Both are derived files: ``python scripts/package_data.py`` writes them from ``codebooks/`` and
``corpora/``, and ``tests/test_package_data.py`` fails when they have drifted.
"""

from __future__ import annotations

import gzip
import json
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

CODEBOOK = "partnership-barriers.yaml"
TRAINING = "training-units.json.gz"


def data_path(name: str) -> Path:
    """A shipped data file as a path on disk (wheels and checkouts install package data as
    plain files)."""
    with as_file(files(__name__) / name) as path:
        return Path(path)


def shipped_codebook_path() -> Path:
    return data_path(CODEBOOK)


def shipped_training() -> list[dict[str, Any]]:
    """The shipped training sources: each a mapping with ``source``, ``coders``, ``documents``
    (group -> sha256 of the document's text) and ``units`` (document, start, end, text, codes,
    group)."""
    with gzip.open(data_path(TRAINING), "rt", encoding="utf-8") as fh:
        return json.load(fh)["sources"]
