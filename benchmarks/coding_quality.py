"""How well the machine coders agree with human coders, measured out of domain first.

    python benchmarks/coding_quality.py [--part devset,sources,sites,curve,indomain]
                                        [--kinds rules,hybrid] [--write-expected]

``--kinds`` takes ``hybrid:wordllama`` (or ``hybrid:none``) for the hybrid coder with another
sentence embedding, as ``qualcode code --embedding`` gives.

Parts (all by default, in this order):
- devset: the shipped coder (trained on every shipped source) on ../shared/devset, real
  published passages nobody here wrote, beside a keyword search per family
  (``keyword_baseline.py``), with false positives on the passages that speak to no family.
  Skipped, saying why, where ../shared/devset is absent.
- sources: train on one shipped source and score another (demo -> quotes, quotes -> demo), and
  leave one source out (train on the other two, score it), for the three human-coded sources:
  the demo interviews, the training quotes and the training prose.
- sites: leave one site out on the demo corpus (train on the other sites and the other
  sources, score the site).
- curve: a study's own codings, per site: trained on the other sources and sites plus 0, 1, 2
  and 4 of the site's interviews, scored on the site's remaining 2 or 3 interviews.
- indomain: 5-fold cross-validation by document on the demo corpus with the other sources in
  every fold. In-domain: it flatters a coder that learned our own wording; shown last.

Family-level figures: a unit has a family when any of its codes is in it. ``--write-expected``
saves the hybrid coder's out-of-domain kappa per family (devset and leave-one-source-out) to
``qualcode/coding/expected_agreement.json``, which ``qualcode code`` and the report show.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from qualcode.codebook import HARDY_FAMILIES, default_codebook_path, load_codebook
from qualcode.coding.evaluate import Score, families_of, score
from qualcode.coding.expected import EXPECTED_PATH
from qualcode.coding.project import make_coder
from qualcode.coding.training import Units, units_from_files

sys.path.insert(0, str(Path(__file__).resolve().parent))
from keyword_baseline import keyword_families

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT / "corpora"
SOURCES = {
    "demo": CORPORA / "partnership-sites",  # 25 interviews and 62 survey answers, 4 sites
    "quotes": CORPORA / "training-quotes",  # 390 short invented stakeholder quotes
    "prose": CORPORA / "training-prose",  # invented passages in the register of publications
}
DEVSET = ROOT.parent / "shared" / "devset" / "devset.jsonl"
PARTS = ("devset", "sources", "sites", "curve", "indomain")
FAMILIES = list(HARDY_FAMILIES)

Predictor = Callable[[list[str]], list[set[str]]]


def subset(units: Units, keep: Callable[[str], bool]) -> Units:
    out = Units(source=units.source)
    for i, group in enumerate(units.groups):
        if keep(group):
            out.add(*units.keys[i], units.texts[i], units.labels[i], group=group)
    return out


def joined(*parts: Units) -> Units:
    out = Units()
    for part in parts:
        out.extend(part)
    return out


def trained(kind: str, codebook, units: Units | None) -> Predictor:
    """A predictor of family sets from a coder trained on ``units`` (rules learn nothing)."""
    if kind == "keywords":
        return lambda texts: [keyword_families(t) for t in texts]
    # "hybrid:wordllama": the hybrid coder with that sentence embedding (code --embedding)
    kind, _, embedding = kind.partition(":")
    coder = make_coder(kind, codebook, embedding=embedding or "auto")
    if kind == "rules":
        coder.fit()
    else:
        coder.fit(units.texts, units.labels, groups=units.groups)
    return lambda texts: [families_of({a.code for a in p}) for p in coder.predict(texts)]


def family_scores(truth: list[set[str]], predicted: list[set[str]]) -> dict[str, Score]:
    out = {f: score([f in t for t in truth], [f in p for p in predicted]) for f in FAMILIES}
    negatives = [p for t, p in zip(truth, predicted, strict=True) if not t]
    out["_fp"] = sum(bool(p) for p in negatives) / len(negatives) if negatives else None
    return out


def fmt(value: float | None, width: int = 5) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.2f}"


def table(title: str, rows: dict[str, dict[str, Score]], n: int) -> None:
    print(f"\n{title} ({n} units)")
    print(f"{'':16}" + "".join(f"{f[:12]:>20}" for f in FAMILIES) + f"{'macro k':>9}{'FP neg':>8}")
    print(f"{'':16}" + "".join(f"{'P    R    kappa':>20}" for _ in FAMILIES))
    for name, scores in rows.items():
        cells = "".join(
            f"{fmt(scores[f].precision)}{fmt(scores[f].recall)}{fmt(scores[f].kappa, 7)}   "
            for f in FAMILIES
        )
        kappas = [scores[f].kappa or 0.0 for f in FAMILIES]
        print(f"{name:16}{cells}{np.mean(kappas):>6.2f}{fmt(scores['_fp'], 8)}")
    support = {f: rows[next(iter(rows))][f].support for f in FAMILIES}
    print(f"{'support':16}" + "".join(f"{support[f]:>20}" for f in FAMILIES))


def kappas(scores: dict[str, Score]) -> dict[str, float | None]:
    return {f: scores[f].kappa for f in FAMILIES}


class Bench:
    def __init__(self, kinds: list[str]) -> None:
        self.codebook = load_codebook(default_codebook_path())
        self.kinds = kinds
        self.data = {
            name: units_from_files(path / "codings" / "gold.csv", path, self.codebook)
            for name, path in SOURCES.items()
        }
        self.expected: dict[str, dict] = {}

    def compare(self, title: str, train: Units | None, test_texts, test_truth) -> dict:
        rows = {}
        for kind in ["keywords", *self.kinds]:
            start = time.perf_counter()
            predicted = trained(kind, self.codebook, train)(list(test_texts))
            rows[kind] = family_scores(list(test_truth), predicted)
            rows[kind]["_seconds"] = time.perf_counter() - start
        table(title, rows, len(test_truth))
        return rows

    # -- parts ------------------------------------------------------------------------
    def devset(self) -> None:
        if not DEVSET.is_file():
            print(f"\n[devset skipped: {DEVSET} is absent (it is not part of the repository)]")
            return
        passages = [json.loads(line) for line in DEVSET.read_text().splitlines() if line]
        truth = [{label["family"] for label in p["labels"]} for p in passages]
        rows = self.compare(
            "== Out of domain: shipped coders on ../shared/devset (real published passages)",
            joined(*self.data.values()),
            [p["text"] for p in passages],
            truth,
        )
        self.expected["devset"] = {
            "units": len(passages),
            "kappa": kappas(rows["hybrid"]),
            "false_positive_rate": rows["hybrid"]["_fp"],
            "keyword_kappa": kappas(rows["keywords"]),
        }

    def sources(self) -> None:
        for train, test in (("demo", "quotes"), ("quotes", "demo")):
            u = self.data[test]
            self.compare(
                f"== Out of domain: train on {train} only, score {test}",
                self.data[train],
                u.texts,
                [families_of(y) for y in u.labels],
            )
        rows = self._pooled(
            "== Out of domain: leave one source out (demo, quotes, prose), pooled",
            [
                (joined(*(u for name, u in self.data.items() if name != held)), self.data[held])
                for held in self.data
            ],
        )
        self.expected["leave_one_source_out"] = {
            "units": sum(len(u) for u in self.data.values()),
            "kappa": kappas(rows["hybrid"]) if "hybrid" in rows else None,
        }

    def _site_of(self, group: str) -> str:
        return group.split("/")[1]

    def sites(self) -> None:
        demo = self.data["demo"]
        others = joined(*(u for name, u in self.data.items() if name != "demo"))
        splits = [
            (
                joined(others, subset(demo, lambda g, s=site: self._site_of(g) != s)),
                subset(demo, lambda g, s=site: self._site_of(g) == s),
            )
            for site in sorted({self._site_of(g) for g in demo.groups})
        ]
        self._pooled("== Out of domain: leave one demo site out, pooled over the 4 sites", splits)

    def _pooled(self, title: str, splits: list[tuple[Units, Units]]) -> dict:
        """Every coder trained on each split's first part and scored on its second, pooled."""
        pooled: dict[str, tuple[list, list]] = {}
        for train, test in splits:
            truth = [families_of(y) for y in test.labels]
            for kind in ["keywords", *self.kinds]:
                predicted = trained(kind, self.codebook, train)(test.texts)
                pooled.setdefault(kind, ([], []))
                pooled[kind][0].extend(truth)
                pooled[kind][1].extend(predicted)
        rows = {kind: family_scores(*pooled[kind]) for kind in pooled}
        table(title, rows, len(pooled["keywords"][0]))
        return rows

    def curve(self, sizes=(0, 1, 2, 4), seed: int = 0) -> None:
        """A site's interviews (6 or 7 each; its one-answer survey rows are left out of both
        sides) in a seeded random order: trained with the first k, scored on those after the
        largest k."""
        demo = self.data["demo"]
        others = joined(*(u for name, u in self.data.items() if name != "demo"))
        results: dict[int, tuple[list, list]] = {k: ([], []) for k in sizes}
        for site in sorted({self._site_of(g) for g in demo.groups}):
            documents = sorted(
                {g for g in demo.groups if self._site_of(g) == site and "#" not in g}
            )
            random.Random(f"{seed}-{site}").shuffle(documents)
            test_docs = set(documents[max(sizes) :])
            test = subset(demo, lambda g, t=test_docs: g in t)
            truth = [families_of(y) for y in test.labels]
            for k in sizes:
                own = set(documents[:k])
                train = joined(
                    others, subset(demo, lambda g, s=site, o=own: self._site_of(g) != s or g in o)
                )
                results[k][0].extend(truth)
                results[k][1].extend(trained("hybrid", self.codebook, train)(test.texts))
        rows = {f"+{k} docs": family_scores(*results[k]) for k in sizes}
        table(
            "== A site's own codings: hybrid trained on the other sources and sites plus k of "
            "the site's interviews, scored on its other interviews (pooled over sites)",
            rows,
            len(results[sizes[0]][0]),
        )

    def indomain(self, folds: int = 5) -> None:
        from qualcode.coding.project import cross_validate

        demo = self.data["demo"]
        extra = joined(*(u for name, u in self.data.items() if name != "demo"))
        truth = [families_of(y) for y in demo.labels]
        rows = {"keywords": family_scores(truth, [keyword_families(t) for t in demo.texts])}
        for kind in self.kinds:
            name, _, embedding = kind.partition(":")
            predicted, _ = cross_validate(
                name, self.codebook, demo, folds=folds, extra=extra, embedding=embedding or None
            )
            rows[kind] = family_scores(truth, [families_of(p) for p in predicted])
        table(
            f"== In domain (flattering): {folds}-fold CV by document on the demo corpus",
            rows,
            len(truth),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", default=",".join(PARTS), help="comma-separated parts")
    parser.add_argument("--kinds", default="rules,hybrid", help="coders besides keywords")
    parser.add_argument("--write-expected", action="store_true")
    args = parser.parse_args()
    bench = Bench(args.kinds.split(","))
    start = time.perf_counter()
    for part in args.part.split(","):
        t = time.perf_counter()
        getattr(bench, part)()
        print(f"[{part}: {time.perf_counter() - t:.0f} s]")
    print(f"\ntotal {time.perf_counter() - start:.0f} s")
    if args.write_expected:
        bench.expected["codebook_hash"] = bench.codebook.hash
        bench.expected["command"] = "python benchmarks/coding_quality.py " + " ".join(sys.argv[1:])
        EXPECTED_PATH.write_text(json.dumps(bench.expected, indent=2) + "\n")
        print(f"wrote {EXPECTED_PATH}")


if __name__ == "__main__":
    main()
