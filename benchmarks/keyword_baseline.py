"""The baseline a coder must beat: a keyword search per family, as an NVivo or MAXQDA user would
write it for text-search autocoding.

Deliberately plain: a short list of obvious words per family, each a regular expression on a
word start, no negation, no context. A passage gets a family when any of its words occurs. It
was written once from the family names and definitions, not fitted to any data set.
"""

from __future__ import annotations

import re

KEYWORDS: dict[str, list[str]] = {
    "structural": [
        r"structur",
        r"boundar",
        r"coterminous",
        r"reorganis",
        r"restructur",
        r"fragment",
        r"responsibilit",
        r"co-locat",
        r"merger",
    ],
    "procedural": [
        r"procedur",
        r"bureaucra",
        r"paperwork",
        r"information shar",
        r"sharing information",
        r"protocol",
        r"planning",
        r"accountab",
        r"governance",
        r"computer system",
    ],
    "financial": [
        r"fund",
        r"budget",
        r"money",
        r"financ",
        r"grant",
        r"cost",
        r"resources",
    ],
    "professional": [
        r"professional",
        r"culture",
        r"cultural",
        r"values",
        r"mistrust",
        r"distrust",
        r"stereotyp",
        r"joint training",
        r"trust each other",
    ],
    "status": [
        r"status",
        r"power",
        r"legitima",
        r"equal partner",
        r"junior partner",
        r"token",
        r"takeover",
        r"dominat",
        r"self-interest",
    ],
}
PATTERNS = {
    family: re.compile(r"\b(?:" + "|".join(words) + ")", re.IGNORECASE)
    for family, words in KEYWORDS.items()
}


def keyword_families(text: str) -> set[str]:
    """The families whose keywords occur in ``text``."""
    return {family for family, pattern in PATTERNS.items() if pattern.search(text)}
