"""The agreement audit page: codes banded by strength, weakest first, with disagreements."""

from __future__ import annotations

from datetime import UTC, datetime

from qualcode import __version__
from qualcode.agreement import in_sample_text, kappa_name
from qualcode.report.data import MIN_SEGMENTS
from qualcode.report.env import environment

# Landis and Koch (1977), "The measurement of observer agreement for categorical data",
# Biometrics 33(1): 159-174. Their bands are a convention, not a test; we show them as such.
BANDS = (
    (0.81, "almost perfect"),
    (0.61, "substantial"),
    (0.41, "moderate"),
    (0.21, "fair"),
    (0.0, "slight"),
)


def landis_koch(value: float | None) -> str:
    """The Landis and Koch band of a kappa: poor, slight, fair, moderate, substantial, ..."""
    if value is None:
        return "undefined"
    for floor, name in BANDS:
        if value >= floor:
            return name
    return "poor"


def strength(row: dict, kappa: str, *, segments: bool = True) -> dict[str, str | None]:
    """The Landis and Koch band of a row's kappa, only where the figure supports one: defined,
    resting on at least MIN_SEGMENTS units that some coder gave the code (segment units), and
    with a 95% interval that lies within one band. Otherwise no band, and the reason why."""
    value = row.get(kappa)
    used = row.get("n_units", 0) - row.get("neither", 0)
    few = segments and used < MIN_SEGMENTS
    if value is None:
        return {"band": None, "why": "undefined", "few": few}
    if few:
        return {
            "band": None,
            "why": f"too few: used on {used} unit{'' if used == 1 else 's'}",
            "few": True,
        }
    ci = row.get("kappa_ci")
    if not ci:
        return {"band": None, "why": "no interval", "few": False}
    low, high = landis_koch(ci[0]), landis_koch(ci[1])
    if low != high:
        return {"band": None, "why": f"interval spans {low} to {high}", "few": False}
    return {"band": low, "why": None, "few": False}


def render_audit(
    result: dict, *, threshold: float = 0.6, generated: str | None = None, back: str | None = None
) -> str:
    """The audit as one self-contained HTML page (no scripts, no external files)."""
    coders = [c["name"] for c in result["coders"]]
    kappa = kappa_name(len(coders))

    def order(row: dict) -> tuple:
        value = row[kappa]
        return (value is None, value if value is not None else 0.0, row["code"])

    codes = sorted(result["codes"], key=order)
    under = [r for r in codes if r[kappa] is not None and r[kappa] < threshold]
    return (
        environment()
        .get_template("audit.html")
        .render(
            result=result,
            in_sample=in_sample_text(result.get("in_sample") or []),
            coders=coders,
            kappa=kappa,
            kappa_label="Cohen's kappa" if kappa == "cohen_kappa" else "Fleiss' kappa",
            codes=codes,
            under=under,
            threshold=threshold,
            band=landis_koch,
            strength=lambda row: strength(row, kappa, segments=result.get("unit") != "character"),
            pooled_strength=strength(result["overall"]["pooled"], kappa, segments=False),
            min_segments=MIN_SEGMENTS,
            bands=BANDS,
            version=__version__,
            back=back,
            generated=generated or datetime.now(UTC).isoformat(timespec="seconds"),
        )
    )
