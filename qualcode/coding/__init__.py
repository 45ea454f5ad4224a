"""Coders: rules (spaCy patterns), a model trained on human codings, and both together.

Each follows the scikit-learn estimator shape (parameters in ``__init__``, ``fit`` then
``predict``) and returns codes with confidence and evidence, never bare labels.

>>> from qualcode.coding import code_texts
>>> [a.code for a in code_texts(["We pooled the budgets in 2001."], coder="rules")[0]]
['financial.pooled_budget']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qualcode.coding.base import Assignment, Evidence

# The coders load scikit-learn and spaCy: imported when first asked for, so that commands that
# never code (status, agree, report) start without them.
_LAZY = {
    "HybridCoder": "qualcode.coding.hybrid",
    "ModelCoder": "qualcode.coding.model",
    "RuleCoder": "qualcode.coding.rules",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def code_texts(
    texts: Sequence[str], *, coder: str = "hybrid", codebook=None
) -> list[list[Assignment]]:
    """Code plain texts (quotes, survey answers) without a project.

    The model and hybrid coders train on the codebook's named training codings (for the shipped
    codebook, the demo corpus's adjudicated gold) each time: a few seconds, deterministic.
    """
    from qualcode.codebook import default_codebook_path, load_codebook
    from qualcode.coding.project import make_coder
    from qualcode.coding.training import default_units

    codebook = codebook or load_codebook(default_codebook_path())
    instance = make_coder(coder, codebook)
    if coder == "rules":
        instance.fit()
    else:
        units = default_units(codebook)
        instance.fit(units.texts, units.labels, groups=units.groups)
    return instance.predict(list(texts))


__all__ = ["Assignment", "Evidence", "HybridCoder", "ModelCoder", "RuleCoder", "code_texts"]
