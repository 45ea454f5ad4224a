"""Agreement statistics for nominal codings, with seeded bootstrap intervals.

Every statistic here is a function of a few sums over units (how many units, how many agree,
how often each coder used each category, ...). Units with the same ratings contribute the
same terms, so a ratings matrix is first reduced to its distinct rows ("patterns") and their
counts. A bootstrap sample is then only a new set of counts over the same patterns, and a
thousand samples cost one matrix product instead of a thousand passes over the units.

Ratings are integers ``0 .. q-1`` in a units x coders matrix, ``-1`` where a coder did not rate
the unit. Sums from several matrices over the same categories add up: that is how pooled
figures over many codes are made (``Sums.__add__``).

References: Cohen (1960); Fleiss (1971); Krippendorff (2011) "Computing Krippendorff's
alpha-reliability"; Gwet (2008) "Computing inter-rater reliability and its variance in the
presence of high agreement"; Brennan and Prediger (1981).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MISSING = -1
STATISTICS = (
    "percent_agreement",
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "gwet_ac1",
    "brennan_prediger",
)


@dataclass(frozen=True, slots=True)
class Patterns:
    """The distinct rows of a ratings matrix, their counts, and the number of categories."""

    rows: np.ndarray  # patterns x coders, int
    counts: np.ndarray  # units per pattern
    q: int
    inverse: np.ndarray | None = None  # the pattern of each unit, in unit order

    @classmethod
    def from_ratings(cls, ratings, q: int | None = None) -> Patterns:
        ratings = np.asarray(ratings, dtype=np.int64)
        if ratings.ndim != 2 or ratings.shape[1] < 2:
            raise ValueError("ratings must be a units x coders matrix with two or more coders")
        if q is None:
            q = int(ratings.max(initial=0)) + 1
        if ratings.size and (ratings.min() < MISSING or ratings.max() >= q):
            raise ValueError(f"ratings must lie in 0..{q - 1} (or {MISSING} for missing)")
        if len(ratings) == 0:
            return cls(np.zeros((0, ratings.shape[1]), np.int64), np.zeros(0, np.int64), q)
        rows, inverse, counts = np.unique(ratings, axis=0, return_inverse=True, return_counts=True)
        return cls(rows, counts, q, inverse.ravel())

    def resample(self, unit_weights: np.ndarray) -> np.ndarray:
        """Pattern counts for each bootstrap sample, from per-unit draw counts (samples x units)."""
        from scipy import sparse

        if self.inverse is None:
            raise ValueError("these patterns do not know their units")
        n = len(self.inverse)
        onehot = sparse.csr_matrix(
            (np.ones(n), (self.inverse, np.arange(n))), shape=(len(self.rows), n)
        )
        return np.asarray(onehot @ unit_weights.T).T

    @property
    def n_coders(self) -> int:
        return self.rows.shape[1]

    def features(self) -> np.ndarray:
        """Per pattern, the terms every statistic sums (columns as in ``Sums``)."""
        rows, q, m = self.rows, self.q, self.n_coders
        present = rows != MISSING
        r = np.stack([(rows == k).sum(axis=1) for k in range(q)], axis=1).astype(float)
        m_u = present.sum(axis=1).astype(float)
        pair = m_u >= 2
        full = m_u == m
        same = (r * (r - 1)).sum(axis=1)  # ordered pairs of coders who agree on the unit
        with np.errstate(divide="ignore", invalid="ignore"):
            pair_agree = np.where(pair, same / (m_u * (m_u - 1)), 0.0)
            coincide = np.where(pair, same / (m_u - 1), 0.0)
            share = np.where((m_u >= 1)[:, None], r / m_u[:, None], 0.0)
        both = present[:, 0] & present[:, 1]
        a = np.stack([(rows[:, 0] == k) & both for k in range(q)], axis=1)
        b = np.stack([(rows[:, 1] == k) & both for k in range(q)], axis=1)
        fleiss = np.where(full, same / (m * (m - 1)), 0.0)
        columns = [
            np.ones(len(rows)),  # units
            both,  # units the first two coders both rated
            both & (rows[:, 0] == rows[:, 1]),  # ... and agreed on
            pair,  # units with two or more ratings
            pair_agree,
            full,  # units every coder rated
            fleiss,
            coincide,  # the diagonal of Krippendorff's coincidence matrix
            m_u >= 1,  # units with a rating
        ]
        blocks = [
            np.stack(columns, axis=1).astype(float),
            a,
            b,
            r * full[:, None],  # category counts over fully rated units (Fleiss)
            r * pair[:, None],  # pairable values per category (Krippendorff)
            share,  # per unit, each category's share of its ratings (Gwet)
        ]
        return np.hstack([np.asarray(x, dtype=float) for x in blocks])


@dataclass(frozen=True, slots=True)
class Sums:
    """The sufficient sums of one ratings matrix (or of several, added), one row per sample."""

    values: np.ndarray  # samples x features
    q: int
    n_coders: int

    def __add__(self, other: Sums) -> Sums:
        if (self.q, self.n_coders) != (other.q, other.n_coders):
            raise ValueError("only sums over the same categories and coders add up")
        return Sums(self.values + other.values, self.q, self.n_coders)

    def column(self, name: str) -> np.ndarray:
        q = self.q
        scalars = [
            "units",
            "both",
            "both_agree",
            "pairable_units",
            "pair_agree",
            "full_units",
            "fleiss_p",
            "coincide",
            "rated_units",
        ]
        if name in scalars:
            return self.values[:, scalars.index(name)]
        offset = len(scalars)
        blocks = ["a", "b", "full_r", "pair_r", "share"]
        i = blocks.index(name)
        return self.values[:, offset + i * q : offset + (i + 1) * q]


def sums(patterns: Patterns, weights: np.ndarray | None = None) -> Sums:
    """Sums for the observed counts, or for each row of ``weights`` (samples x patterns)."""
    f = patterns.features()
    w = patterns.counts[None, :] if weights is None else np.atleast_2d(weights)
    return Sums(np.asarray(w, dtype=float) @ f, patterns.q, patterns.n_coders)


def statistics(s: Sums) -> dict[str, np.ndarray]:
    """Every statistic for every sample row of ``s``; NaN where a statistic is undefined."""
    q, m = s.q, s.n_coders
    out: dict[str, np.ndarray] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        pairable = s.column("pairable_units")
        pa = s.column("pair_agree") / pairable
        out["percent_agreement"] = pa

        # Cohen's kappa: the first two coders, chance from each coder's own marginals.
        n2 = s.column("both")
        po = s.column("both_agree") / n2
        pe = (s.column("a") / n2[:, None] * s.column("b") / n2[:, None]).sum(axis=1)
        out["cohen_kappa"] = _chance_corrected(po, pe) if m == 2 else np.full(len(po), np.nan)

        # Fleiss' kappa: units every coder rated, chance from the pooled marginals.
        nf = s.column("full_units")
        p_bar = s.column("fleiss_p") / nf
        p_k = s.column("full_r") / (nf * m)[:, None]
        out["fleiss_kappa"] = _chance_corrected(p_bar, (p_k**2).sum(axis=1))

        # Krippendorff's alpha (nominal): observed and expected disagreement over pairable
        # values; units with one rating drop out, so missing data are allowed.
        n_c = s.column("pair_r")
        n = n_c.sum(axis=1)
        d_o = 1 - s.column("coincide") / n
        d_e = 1 - (n_c * (n_c - 1)).sum(axis=1) / (n * (n - 1))
        alpha = 1 - d_o / d_e
        alpha[(n < 2) | np.isclose(d_e, 0)] = np.nan
        out["krippendorff_alpha"] = alpha

        # Gwet's AC1: chance agreement from how far category use is from uniform.
        pi = s.column("share") / s.column("rated_units")[:, None]
        pe_gwet = (pi * (1 - pi)).sum(axis=1) / (q - 1)
        out["gwet_ac1"] = _chance_corrected(pa, pe_gwet)

        # Brennan and Prediger: chance agreement 1/q, whatever the coders did.
        out["brennan_prediger"] = _chance_corrected(pa, np.full(len(pa), 1 / q))
        out["prevalence"] = pi[:, 1] if q == 2 else np.full(len(pa), np.nan)
    return out


def _chance_corrected(observed: np.ndarray, chance: np.ndarray) -> np.ndarray:
    value = (observed - chance) / (1 - chance)
    value[np.isclose(chance, 1) | ~np.isfinite(observed)] = np.nan
    return value


def bootstrap_weights(n_units: int, samples: int, seed: int) -> np.ndarray:
    """How often each unit is drawn in each bootstrap sample (samples x units)."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_units, size=(samples, n_units))
    flat = draws + (np.arange(samples) * n_units)[:, None]
    return np.bincount(flat.ravel(), minlength=samples * n_units).reshape(samples, n_units)


def interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float] | None:
    """Percentile interval of bootstrap values, ignoring samples where it was undefined."""
    finite = values[np.isfinite(values)]
    if len(finite) < 0.5 * len(values) or len(finite) == 0:
        return None
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def wilson(p: float, n: float, level: float = 0.95) -> tuple[float, float] | None:
    """Wilson score interval for a proportion ``p`` observed on ``n`` units (Wilson, 1927).

    Unlike a bootstrap or the normal approximation it stays inside [0, 1] and does not shrink
    to a point when every unit agrees: 10 of 10 gives [0.72, 1.00].
    """
    from statistics import NormalDist

    if n <= 0 or not np.isfinite(p):
        return None
    z = NormalDist().inv_cdf(1 - (1 - level) / 2)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


# -- convenience for one ratings matrix (used by tests and small callers) ---------------------


def cohen_kappa(ratings, q: int | None = None) -> float:
    return _point(ratings, q, "cohen_kappa")


def fleiss_kappa(ratings, q: int | None = None) -> float:
    return _point(ratings, q, "fleiss_kappa")


def krippendorff_alpha(ratings, q: int | None = None) -> float:
    return _point(ratings, q, "krippendorff_alpha")


def gwet_ac1(ratings, q: int | None = None) -> float:
    return _point(ratings, q, "gwet_ac1")


def _point(ratings, q: int | None, name: str) -> float:
    return float(statistics(sums(Patterns.from_ratings(ratings, q)))[name][0])


def ratings_from_table(table) -> np.ndarray:
    """Two coders' ratings from a q x q contingency table (rows: first coder)."""
    table = np.asarray(table, dtype=int)
    pairs = [(i, j) for i in range(table.shape[0]) for j in range(table.shape[1])]
    return np.array([p for p in pairs for _ in range(table[p])], dtype=int).reshape(-1, 2)


def ratings_from_counts(counts) -> np.ndarray:
    """A units x raters matrix from a units x categories table of rater counts (Fleiss form)."""
    counts = np.asarray(counts, dtype=int)
    return np.array([np.repeat(np.arange(counts.shape[1]), row) for row in counts], dtype=int)
