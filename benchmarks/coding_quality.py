"""Quality of each coder against the adjudicated gold coding of the demo corpus.

    python benchmarks/coding_quality.py [--folds 5] [--codes]

Prints precision, recall, F1 and Cohen's kappa per family (and with --codes per code) for the
rule coder (no training), the model coder and the hybrid coder (both in k-fold cross-validation
grouped by document: never scored on documents they were trained on), and, for reference, the
two human coders whose disagreements the gold resolves.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from qualcode.codebook import default_codebook_path, load_codebook
from qualcode.coding.evaluate import score_all
from qualcode.coding.project import cross_validate
from qualcode.coding.training import units_from_files

CORPUS = Path(__file__).resolve().parents[1] / "corpora" / "partnership-sites"


def fmt(value: float | None) -> str:
    return "   -" if value is None else f"{value:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--codes", action="store_true", help="also print every code")
    args = parser.parse_args()
    codebook = load_codebook(default_codebook_path())
    codes = [c.id for c in codebook.codable]
    gold = units_from_files(CORPUS / "codings" / "gold.csv", CORPUS, codebook)
    print(
        f"gold: {len(gold)} segments from {len(set(gold.groups))} documents, "
        f"{sum(len(y) for y in gold.labels)} codings; {args.folds}-fold CV grouped by document\n"
    )
    results = {}
    for name in ("coder-a", "coder-b"):
        human = units_from_files(CORPUS / "codings" / f"{name}.csv", CORPUS, codebook)
        by_key = dict(zip(human.keys, human.labels, strict=True))
        results[name] = (score_all(gold.labels, [by_key[k] for k in gold.keys], codes), 0.0)
    for kind in ("rules", "model", "hybrid"):
        start = time.perf_counter()
        predicted, _ = cross_validate(kind, codebook, gold, folds=args.folds)
        results[kind] = (score_all(gold.labels, predicted, codes), time.perf_counter() - start)
    levels = ["family", "overall"] + (["code"] if args.codes else [])
    for level in levels:
        names = sorted(
            {name for scores, _ in results.values() for (lv, name) in scores if lv == level}
        )
        print(f"{'':40} " + "  ".join(f"{k:^23}" for k in results))
        print(f"{level:<32}support " + "  ".join("  P    R    F1  kappa  " for _ in results))
        for name in names:
            support = results["rules"][0][(level, name)].support
            cells = []
            for scores, _ in results.values():
                s = scores[(level, name)]
                cells.append(f"{fmt(s.precision)} {fmt(s.recall)} {fmt(s.f1)} {fmt(s.kappa)} ")
            print(f"{name:<32}{support:>7} " + "  ".join(cells))
        print()
    for kind in ("rules", "model", "hybrid"):
        print(f"{kind}: cross-validation took {results[kind][1]:.1f} s")


if __name__ == "__main__":
    main()
