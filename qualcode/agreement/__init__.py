"""Agreement between coders, human and machine: statistics, audit tables, disagreements."""

from qualcode.agreement.audit import SCOPES, Options, audit, in_sample_text, kappa_name

STATISTIC_NAMES = {
    "percent_agreement": "percent agreement",
    "cohen_kappa": "Cohen's kappa",
    "fleiss_kappa": "Fleiss' kappa",
    "krippendorff_alpha": "Krippendorff's alpha",
    "gwet_ac1": "Gwet's AC1",
    "brennan_prediger": "Brennan-Prediger kappa",
}


def below(
    result: dict, statistic: str, threshold: float
) -> tuple[list[tuple[str, float]], list[str]]:
    """Codes whose ``statistic`` is below ``threshold``, and codes where it is undefined."""
    failing = [
        (r["code"], r[statistic])
        for r in result["codes"]
        if r[statistic] is not None and r[statistic] < threshold
    ]
    unchecked = [r["code"] for r in result["codes"] if r[statistic] is None]
    return failing, unchecked


__all__ = [
    "SCOPES",
    "STATISTIC_NAMES",
    "Options",
    "audit",
    "below",
    "in_sample_text",
    "kappa_name",
]
