"""Write the package's derived data (qualcode/data/) from the human-readable sources.

    .venv/bin/python scripts/package_data.py [--check]

Copies codebooks/partnership-barriers.yaml into the package and reads the human codings its
``training:`` section names (over corpora/) onto their segments, writing each unit's text and
codes to qualcode/data/training-units.json.gz, so that an installed wheel codes and trains
without the repository. ``--check`` writes nothing and exits 1 when the package's copies differ
from what the sources give (tests/test_package_data.py runs the same comparison).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qualcode.codebook import load_codebook  # noqa: E402
from qualcode.coding.training import units_from_files  # noqa: E402
from qualcode.data import CODEBOOK, TRAINING  # noqa: E402

SOURCE = ROOT / "codebooks" / CODEBOOK
DATA = ROOT / "qualcode" / "data"


def training_payload() -> bytes:
    """The shipped training units as gzip'd JSON, byte-stable (mtime 0, sorted keys)."""
    codebook = load_codebook(SOURCE)
    sources = []
    for codings, corpus in codebook.training_paths():
        units = units_from_files(codings, corpus, codebook)
        sources.append(
            {
                "source": units.source,
                "coders": units.coders,
                "documents": units.documents,
                "units": [
                    [*key, text, sorted(codes), group]
                    for key, text, codes, group in zip(
                        units.keys, units.texts, units.labels, units.groups, strict=True
                    )
                ],
            }
        )
    text = json.dumps({"sources": sources}, ensure_ascii=False, sort_keys=True, indent=0)
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def expected() -> dict[Path, bytes]:
    return {DATA / CODEBOOK: SOURCE.read_bytes(), DATA / TRAINING: training_payload()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare only; write nothing")
    args = parser.parse_args()
    stale = [p for p, data in expected().items() if not p.is_file() or p.read_bytes() != data]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} differs from its source; run scripts/package_data.py")
        return 1 if stale else 0
    for path, data in expected().items():
        path.write_bytes(data)
        print(f"wrote {path.relative_to(ROOT)} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
