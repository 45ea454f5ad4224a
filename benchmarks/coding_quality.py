"""Quality of each coder against the adjudicated gold coding of the demo corpus.

    python benchmarks/coding_quality.py [--folds 5] [--codes] [--set demo|quotes|both]

For each of the two human-coded sets the shipped codebook trains on (the demo corpus and the
training quotes), prints precision, recall, F1 and Cohen's kappa per family (and with --codes
per code) for the rule coder (no training), the model coder and the hybrid coder, and, for
reference, the two human coders whose disagreements the gold resolves. The model and hybrid
coders are scored in k-fold cross-validation grouped by document (never on documents they
were trained on), with the whole of the other set in every training fold, as shipped.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from qualcode.codebook import default_codebook_path, load_codebook
from qualcode.coding.evaluate import score_all
from qualcode.coding.project import cross_validate
from qualcode.coding.training import units_from_files

CORPORA = Path(__file__).resolve().parents[1] / "corpora"
SETS = {
    "demo": CORPORA / "partnership-sites",  # 25 interviews and 62 survey answers
    "quotes": CORPORA / "training-quotes",  # 390 short invented stakeholder quotes
}


def fmt(value: float | None) -> str:
    return "   -" if value is None else f"{value:.2f}"


def evaluate(name: str, other: str, codebook, folds: int, show_codes: bool) -> None:
    """Every coder against one set's gold; the model is trained on the other set too."""
    codes = [c.id for c in codebook.codable]
    corpus = SETS[name]
    gold = units_from_files(corpus / "codings" / "gold.csv", corpus, codebook)
    extra = units_from_files(SETS[other] / "codings" / "gold.csv", SETS[other], codebook)
    print(
        f"== {name}: {len(gold)} units from {len(set(gold.groups))} documents, "
        f"{sum(len(y) for y in gold.labels)} gold codings; {folds}-fold CV grouped by document, "
        f"{len(extra)} {other} units in every training fold\n"
    )
    results = {}
    for coder in ("coder-a", "coder-b"):
        human = units_from_files(corpus / "codings" / f"{coder}.csv", corpus, codebook)
        by_key = dict(zip(human.keys, human.labels, strict=True))
        results[coder] = (score_all(gold.labels, [by_key[k] for k in gold.keys], codes), 0.0)
    for kind in ("rules", "model", "hybrid"):
        start = time.perf_counter()
        predicted, _ = cross_validate(kind, codebook, gold, folds=folds, extra=extra)
        results[kind] = (score_all(gold.labels, predicted, codes), time.perf_counter() - start)
    levels = ["family", "overall"] + (["code"] if show_codes else [])
    for level in levels:
        names = sorted(
            {name for scores, _ in results.values() for (lv, name) in scores if lv == level}
        )
        print(f"{'':40} " + "  ".join(f"{k:^23}" for k in results))
        print(f"{level:<32}support " + "  ".join("  P    R    F1  kappa  " for _ in results))
        for key in names:
            support = results["rules"][0][(level, key)].support
            cells = []
            for scores, _ in results.values():
                s = scores[(level, key)]
                cells.append(f"{fmt(s.precision)} {fmt(s.recall)} {fmt(s.f1)} {fmt(s.kappa)} ")
            print(f"{key:<32}{support:>7} " + "  ".join(cells))
        print()
    for kind in ("rules", "model", "hybrid"):
        print(f"{name}, {kind}: cross-validation took {results[kind][1]:.1f} s")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--codes", action="store_true", help="also print every code")
    parser.add_argument("--set", choices=[*SETS, "both"], default="both")
    args = parser.parse_args()
    codebook = load_codebook(default_codebook_path())
    for name in SETS if args.set == "both" else [args.set]:
        other = next(n for n in SETS if n != name)
        evaluate(name, other, codebook, args.folds, args.codes)


if __name__ == "__main__":
    main()
