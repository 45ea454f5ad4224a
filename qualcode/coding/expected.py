"""What agreement with a human coder to expect from the shipped hybrid coder, per family.

The figures are measured out of domain by ``benchmarks/coding_quality.py --write-expected``
(real published passages nobody here wrote, and leave-one-source-out over the shipped
training sources), never by in-domain cross-validation, and saved beside this module. They
hold for the shipped codebook trained on its shipped sources: for another codebook, or a
project trained on its own coder (``qualcode train --from``), ``expected_for`` returns None
and that project's own cross-validated figures apply.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

EXPECTED_PATH = Path(__file__).with_name("expected_agreement.json")
# Kappa under which a family's machine codes should be reviewed by hand (Landis and Koch's
# "moderate" band ends at 0.6; the target for every family).
REVIEW_BELOW = 0.6


@dataclass(frozen=True, slots=True)
class Expected:
    """Out-of-domain kappa per family, and where it was measured."""

    kappa: dict[str, float | None]
    measured_on: str
    false_positive_rate: float | None

    def review(self) -> list[str]:
        """Families whose expected kappa is under REVIEW_BELOW (or unknown)."""
        return [f for f, k in self.kappa.items() if k is None or k < REVIEW_BELOW]

    def summary(self) -> str:
        figures = ", ".join(
            f"{f} {'-' if k is None else f'{k:.2f}'}" for f, k in sorted(self.kappa.items())
        )
        review = self.review()
        advice = f"; review by hand: {', '.join(review)}" if review else ""
        return (
            f"expected kappa against a human coder on new text ({self.measured_on}): "
            f"{figures}{advice}"
        )


def load_expected(path: Path = EXPECTED_PATH) -> Expected | None:
    """The measured figures, or None when they have not been measured."""
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    if "devset" in data:
        d = data["devset"]
        where = f"{d['units']} real published passages"
        return Expected(d["kappa"], where, d.get("false_positive_rate"))
    if data.get("leave_one_source_out", {}).get("kappa"):
        d = data["leave_one_source_out"]
        return Expected(d["kappa"], f"leave one training source out, {d['units']} units", None)
    return None


def expected_for(training_source: str | None, shipped: bool) -> Expected | None:
    """The shipped figures when the coder is the shipped one: the shipped codebook trained on
    the codebook's own training sources (not a project's coder)."""
    if not shipped or (training_source or "").startswith("coder "):
        return None
    return load_expected()
