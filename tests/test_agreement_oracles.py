"""Our statistics against independent implementations, on 200 random ratings matrices each:
scikit-learn and statsmodels (Cohen), statsmodels and irrCAC (Fleiss), the krippendorff
package, nltk and irrCAC (Krippendorff's alpha), irrCAC (Gwet's AC1, Brennan-Prediger,
percent agreement). irrCAC rounds to five decimals, hence the tolerance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from irrCAC.raw import CAC
from nltk.metrics.agreement import AnnotationTask
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa, fleiss_kappa, to_table

from qualcode.agreement import stats as st

TOLERANCE = 5e-5
# statsmodels computes a z-test beside kappa and warns where it is undefined
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _ours(m: np.ndarray, q: int) -> dict[str, float]:
    return {
        k: float(v[0]) for k, v in st.statistics(st.sums(st.Patterns.from_ratings(m, q))).items()
    }


def _trials(coders: int, n: int = 200):
    rng = np.random.default_rng(coders)
    for _ in range(n):
        q = int(rng.integers(2, 5))
        units = int(rng.integers(5, 60))
        # agreement above chance: coders copy a shared value, with noise
        truth = rng.integers(0, q, units)
        m = np.where(
            rng.random((units, coders)) < 0.6, truth[:, None], rng.integers(0, q, (units, coders))
        )
        if len(np.unique(m)) < 2:
            continue
        yield m, q


def test_two_coders_against_sklearn_statsmodels_nltk_and_irrcac():
    checked = 0
    for m, q in _trials(2):
        ours = _ours(m, q)
        assert ours["cohen_kappa"] == pytest.approx(
            cohen_kappa_score(m[:, 0], m[:, 1]), abs=TOLERANCE
        )
        table = to_table(m, bins=np.arange(q + 1) - 0.5)[0]
        assert ours["cohen_kappa"] == pytest.approx(cohens_kappa(table).kappa, abs=TOLERANCE)
        task = AnnotationTask(
            data=[(f"c{j}", str(i), str(m[i, j])) for i in range(len(m)) for j in range(2)]
        )
        assert ours["krippendorff_alpha"] == pytest.approx(task.alpha(), abs=TOLERANCE)
        assert ours["percent_agreement"] == pytest.approx(task.avg_Ao(), abs=TOLERANCE)
        cac = CAC(pd.DataFrame(m), categories=list(range(q)))
        assert ours["gwet_ac1"] == pytest.approx(
            cac.gwet()["est"]["coefficient_value"], abs=TOLERANCE
        )
        assert ours["brennan_prediger"] == pytest.approx(
            cac.bp()["est"]["coefficient_value"], abs=TOLERANCE
        )
        checked += 1
    assert checked >= 190


def test_three_or_more_coders_against_statsmodels_irrcac_and_krippendorff():
    import krippendorff

    checked = 0
    for coders in (3, 4):
        for m, q in _trials(coders, 100):
            ours = _ours(m, q)
            counts = aggregate_raters(m, n_cat=q)[0]
            assert ours["fleiss_kappa"] == pytest.approx(fleiss_kappa(counts), abs=TOLERANCE)
            cac = CAC(pd.DataFrame(m), categories=list(range(q)))
            fleiss = cac.fleiss()["est"]
            assert ours["fleiss_kappa"] == pytest.approx(fleiss["coefficient_value"], abs=TOLERANCE)
            assert ours["percent_agreement"] == pytest.approx(fleiss["pa"], abs=TOLERANCE)
            assert ours["gwet_ac1"] == pytest.approx(
                cac.gwet()["est"]["coefficient_value"], abs=TOLERANCE
            )
            assert ours["krippendorff_alpha"] == pytest.approx(
                krippendorff.alpha(
                    reliability_data=m.T,
                    level_of_measurement="nominal",
                    value_domain=list(range(q)),
                ),
                abs=TOLERANCE,
            )
            assert ours["krippendorff_alpha"] == pytest.approx(
                cac.krippendorff()["est"]["coefficient_value"], abs=TOLERANCE
            )
            checked += 1
    assert checked >= 190
