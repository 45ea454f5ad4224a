"""Hybrid coding throughput in one process, per sentence embedding, and where the time goes.

    python benchmarks/coding_speed.py [--responses 4000] [--embedding wordllama --embedding minilm]
                                      [--profile]

The responses are benchmarks/themes_speed.py's synthetic survey answers (sentences of the demo
interviews and training quotes, shuffled). The shipped hybrid coder is trained on the shipped
training units, or loaded from the user's cache of trained coders (``qualcode.coding.cache``),
then warmed on 50 responses (so each term's pattern and the spaCy pipeline are ready); what is
timed is ``HybridCoder.predict`` on all the responses: rules, code models, family gate and
evidence, without the store. ``--profile`` prints cProfile's top functions by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from themes_speed import write_surveys

from qualcode.codebook import default_codebook_path, load_codebook
from qualcode.coding.project import trained_coder
from qualcode.coding.training import default_units


def responses(n: int) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        write_surveys(Path(tmp), n)
        texts = []
        for path in sorted(Path(tmp).glob("*.csv")):
            with path.open(newline="", encoding="utf-8") as f:
                texts += [row["response"] for row in csv.DictReader(f)]
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=4000)
    parser.add_argument("--embedding", action="append", help="repeat to compare (default both)")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    texts = responses(args.responses)
    words = sum(len(t.split()) for t in texts)
    print(f"{len(texts):,} synthetic responses, {words:,} words")
    codebook = load_codebook(default_codebook_path())
    units = default_units(codebook)
    for embedding in args.embedding or ["wordllama", "minilm"]:
        start = time.perf_counter()
        coder = trained_coder(
            "hybrid", codebook, units, threshold=None, spacy_model=None, embedding=embedding
        )
        ready = time.perf_counter() - start
        coder.predict(texts[:50])
        profile = cProfile.Profile() if args.profile else None
        start = time.perf_counter()
        if profile:
            profile.enable()
        results = coder.predict(texts)
        if profile:
            profile.disable()
        seconds = time.perf_counter() - start
        codings = sum(len(r) for r in results)
        print(
            f"  {embedding}: {seconds:.1f} s, {1000 * seconds / len(texts):.2f} ms a response,"
            f" {codings:,} codings (coder trained or loaded in {ready:.0f} s)"
        )
        if profile:
            pstats.Stats(profile).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
