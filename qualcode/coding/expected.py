"""What agreement with a human coder to expect from the shipped hybrid coder, per family.

The figures are measured out of domain by ``benchmarks/coding_quality.py --write-expected``
(real published passages nobody here wrote, else leave-one-source-out over the shipped
training sources), never by in-domain cross-validation, and saved beside this module with the
hash of the codebook they were measured with. They hold for the hybrid coder with that codebook
trained on its own training sources: for another codebook (or an edited one), or a project
trained on its own coder (``qualcode train --from``), ``expected_for`` returns None and that
project's own cross-validated figures apply.
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


def load_expected(path: Path | None = None) -> tuple[Expected, str] | None:
    """The measured figures (from ``path``, default EXPECTED_PATH) and the hash of the
    codebook they were measured with, or None when they have not been measured."""
    path = path or EXPECTED_PATH
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    measured = data.get("devset") or data.get("leave_one_source_out")
    if not measured or not measured.get("kappa"):
        return None
    where = (
        f"{measured['units']} real published passages"
        if "devset" in data
        else f"leave one training source out, {measured['units']} units"
    )
    expected = Expected(measured["kappa"], where, measured.get("false_positive_rate"))
    return expected, data.get("codebook_hash", "")


def expected_for(
    codebook_hash: str, kind: str, training: str | None, embedding: str = "auto"
) -> Expected | None:
    """The shipped figures when they describe this coder: the hybrid coder with its default
    embedding and the codebook they were measured with, trained on that codebook's own
    training codings (not on a project's coder, which ``units_from_store`` names "coder NAME in
    the project")."""
    if kind != "hybrid" or embedding not in ("auto", "minilm"):
        return None
    if (training or "").startswith("coder "):
        return None
    loaded = load_expected()
    if loaded is None or loaded[1] != codebook_hash:
        return None
    return loaded[0]
