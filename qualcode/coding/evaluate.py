"""Cross-validation by document and the scores reported for coders: P, R, F1, Cohen's kappa."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from sklearn.model_selection import GroupKFold

# Thresholds are tuned on out-of-fold scores, but kept inside a sensible band: with a handful
# of positives per code an unconstrained search overfits to one or two segments.
THRESHOLD_GRID = np.round(np.arange(0.2, 0.81, 0.05), 2)


@dataclass(frozen=True, slots=True)
class Score:
    """Agreement of a coder with a reference on one binary decision (a code or a family)."""

    n_units: int
    support: int  # units the reference gives it
    predicted: int  # units the coder gives it
    tp: int

    @property
    def precision(self) -> float | None:
        return self.tp / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        return self.tp / self.support if self.support else None

    @property
    def f1(self) -> float | None:
        denominator = self.support + self.predicted
        return 2 * self.tp / denominator if denominator else None

    @property
    def kappa(self) -> float | None:
        """Cohen's kappa of the two binary codings; None when chance agreement is total."""
        n = self.n_units
        if n == 0:
            return None
        fp = self.predicted - self.tp
        fn = self.support - self.tp
        tn = n - self.tp - fp - fn
        observed = (self.tp + tn) / n
        p_ref, p_cod = self.support / n, self.predicted / n
        expected = p_ref * p_cod + (1 - p_ref) * (1 - p_cod)
        if expected >= 1:
            return None
        return (observed - expected) / (1 - expected)


def score(reference: Sequence[bool], coded: Sequence[bool]) -> Score:
    ref = np.asarray(reference, dtype=bool)
    cod = np.asarray(coded, dtype=bool)
    return Score(len(ref), int(ref.sum()), int(cod.sum()), int((ref & cod).sum()))


def family_of(code: str) -> str:
    return code.split(".")[0]


def families_of(codes: set[str]) -> set[str]:
    """The families of a set of code ids."""
    return {family_of(c) for c in codes}


def score_all(
    reference: Sequence[set[str]], coded: Sequence[set[str]], codes: Sequence[str]
) -> dict[tuple[str, str], Score]:
    """Scores per code, per family and overall (micro-averaged over codes)."""
    out: dict[tuple[str, str], Score] = {}
    for code in codes:
        out[("code", code)] = score([code in r for r in reference], [code in c for c in coded])
    for family in sorted({family_of(c) for c in codes}):
        out[("family", family)] = score(
            [any(family_of(x) == family for x in r) for r in reference],
            [any(family_of(x) == family for x in c) for c in coded],
        )
    ref_pairs = [code in r for r in reference for code in codes]
    cod_pairs = [code in c for c in coded for code in codes]
    out[("overall", "all codes")] = score(ref_pairs, cod_pairs)
    return out


def out_of_fold(
    make: Callable[[], Any],
    texts: list[str],
    labels: list[set[str]],
    groups: list[str],
    folds: int = 5,
) -> list[dict[str, float]]:
    """Scores for every text from a coder trained without that text's document (the folds
    are fitted in parallel processes, one per core)."""
    folds = min(folds, len(set(groups)))
    splits = list(GroupKFold(n_splits=folds).split(texts, groups=groups))
    jobs = min(folds, os.cpu_count() or 1)
    fitted = Parallel(n_jobs=jobs)(
        delayed(_fold_scores)(make, texts, labels, train, test) for train, test in splits
    )
    if jobs > 1:
        # joblib keeps its worker processes for reuse; each holds a fold's coder (about 0.4 GB
        # for the hybrid one) until it has been idle for 5 minutes, so through the coding that
        # follows training, beside any Dask workers. None is wanted again: stop them now.
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor().shutdown(wait=True)
    result: list[dict[str, float]] = [{} for _ in texts]
    for (_, test), probs in zip(splits, fitted, strict=True):
        for i, p in zip(test, probs, strict=True):
            result[i] = p
    return result


def _fold_scores(make, texts, labels, train, test) -> list[dict[str, float]]:
    coder = make()
    coder.fit([texts[i] for i in train], [labels[i] for i in train])
    return coder.predict_proba([texts[i] for i in test])


def best_thresholds(
    scores: list[dict[str, float]], labels: list[set[str]], codes: Sequence[str]
) -> dict[str, float]:
    """Per code, the threshold in THRESHOLD_GRID with the best F1 on out-of-fold scores."""
    chosen = {}
    for code in codes:
        truth = np.array([code in y for y in labels])
        values = np.array([s.get(code, 0.0) for s in scores])
        if not truth.any():
            chosen[code] = 0.5
            continue
        best = max(
            THRESHOLD_GRID,
            key=lambda t: (score(truth, values >= t).f1 or 0.0, -abs(t - 0.5)),
        )
        chosen[code] = float(best)
    return chosen
