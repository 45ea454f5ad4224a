"""Our statistics against independent implementations, on 200 random ratings matrices each:
scikit-learn, statsmodels and nltk (Cohen's kappa), statsmodels (Fleiss' kappa, and Randolph's
free-marginal kappa, which is Brennan-Prediger), the krippendorff package and nltk
(Krippendorff's alpha), nltk (percent agreement). Gwet's AC1 has no peer here (irrCAC pins
scipy 1.12 and with it numpy 1); it is checked by hand in test_agreement_stats.py."""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest
from nltk.metrics.agreement import AnnotationTask
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa, fleiss_kappa, to_table

from qualcode.agreement import stats as st

TOLERANCE = 1e-9
# statsmodels computes a z-test beside kappa and warns where it is undefined
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _ours(m: np.ndarray, q: int) -> dict[str, float]:
    sums = st.sums(st.Patterns.from_ratings(m, q))
    return {k: float(v[0]) for k, v in st.statistics(sums).items()}


def _task(m: np.ndarray) -> AnnotationTask:
    return AnnotationTask(
        data=[(f"c{j}", str(i), str(m[i, j])) for i in range(len(m)) for j in range(m.shape[1])]
    )


def _trials(coders: int, n: int = 200):
    rng = np.random.default_rng(coders)
    for _ in range(n):
        q = int(rng.integers(2, 5))
        units = int(rng.integers(5, 60))
        # agreement above chance: coders copy a shared value, with noise
        truth = rng.integers(0, q, units)
        noise = rng.integers(0, q, (units, coders))
        m = np.where(rng.random((units, coders)) < 0.6, truth[:, None], noise)
        if len(np.unique(m)) < 2:
            continue
        yield m, q


def test_two_coders_against_sklearn_statsmodels_and_nltk():
    checked = 0
    for m, q in _trials(2):
        ours = _ours(m, q)
        kappa = ours["cohen_kappa"]
        assert kappa == pytest.approx(cohen_kappa_score(m[:, 0], m[:, 1]), abs=TOLERANCE)
        table = to_table(m, bins=np.arange(q + 1) - 0.5)[0]
        assert kappa == pytest.approx(cohens_kappa(table).kappa, abs=TOLERANCE)
        task = _task(m)
        assert kappa == pytest.approx(task.kappa(), abs=TOLERANCE)
        assert ours["krippendorff_alpha"] == pytest.approx(task.alpha(), abs=TOLERANCE)
        assert ours["percent_agreement"] == pytest.approx(task.avg_Ao(), abs=TOLERANCE)
        counts = aggregate_raters(m, n_cat=q)[0]
        randolph = fleiss_kappa(counts, method="randolph")
        assert ours["brennan_prediger"] == pytest.approx(randolph, abs=TOLERANCE)
        checked += 1
    assert checked >= 190


def test_three_or_more_coders_against_statsmodels_nltk_and_krippendorff():
    checked = 0
    for coders in (3, 4):
        for m, q in _trials(coders, 100):
            ours = _ours(m, q)
            counts = aggregate_raters(m, n_cat=q)[0]
            assert ours["fleiss_kappa"] == pytest.approx(fleiss_kappa(counts), abs=TOLERANCE)
            randolph = fleiss_kappa(counts, method="randolph")
            assert ours["brennan_prediger"] == pytest.approx(randolph, abs=TOLERANCE)
            task = _task(m)
            assert ours["percent_agreement"] == pytest.approx(task.avg_Ao(), abs=TOLERANCE)
            assert ours["krippendorff_alpha"] == pytest.approx(task.alpha(), abs=TOLERANCE)
            package = krippendorff.alpha(
                reliability_data=m.T, level_of_measurement="nominal", value_domain=list(range(q))
            )
            assert ours["krippendorff_alpha"] == pytest.approx(package, abs=TOLERANCE)
            checked += 1
    assert checked >= 190
