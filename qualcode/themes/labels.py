"""Readable topic labels from BERTopic's own representation models.

The c-TF-IDF keywords stay the topic's keywords (weights, quotes, exports); the label comes from
a representation model fitted beside them as a BERTopic *aspect*, then tidied: no stop words,
talk words or contractions, no term that repeats a word of an earlier one ("social workers,
workers, social"), no singular beside its plural. Every model here uses the topic model's own
embedding (the local TF-IDF/SVD one by default), so nothing is downloaded. PartOfSpeech is not
offered: it needs a trained spaCy pipeline, which qualcode does not install.
``benchmarks/themes_quality.py`` compares them by NPMI, diversity and by reading.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from qualcode.themes.text import STOP_WORDS

REPRESENTATIONS = ("c-tf-idf", "mmr", "keybert", "keybert+mmr")
DEFAULT_REPRESENTATION = "keybert"
LABEL_ASPECT = "Label"
LABEL_TERMS = 3

# Words that carry no topic in a label although they stay in the clustering's vocabulary:
# pleasantries, hedges and contractions of interview talk.
LABEL_STOP_WORDS = frozenset(
    {
        "oh",
        "ooh",
        "gosh",
        "hmm",
        "love",
        "dear",
        "welcome",
        "sorry",
        "thanks",
        "thank",
        "pleasure",
        "bother",
        "honestly",
        "frankly",
        "genuinely",
        "technically",
        "certainly",
        "definitely",
        "absolutely",
        "apparently",
        "especially",
        "straight",
    }
)
# Words too general to stand alone in a label ("people"), though fine in a phrase ("older people").
GENERIC_WORDS = frozenset({"people", "wants", "needed", "feel", "felt", "work", "new", "level"})
_STOP = frozenset(STOP_WORDS) | LABEL_STOP_WORDS


def representation_model(name: str, seed: int = 0, top_n_words: int = 10) -> Any:
    """A BERTopic representation model by name (None: c-TF-IDF as it is)."""
    if name == "c-tf-idf":
        return None
    from bertopic.representation import KeyBERTInspired, MaximalMarginalRelevance

    def keybert(n: int = top_n_words):
        return KeyBERTInspired(
            top_n_words=n, nr_repr_docs=10, nr_candidate_words=30, random_state=seed
        )

    if name == "mmr":
        return MaximalMarginalRelevance(diversity=0.2, top_n_words=top_n_words)
    if name == "keybert":
        return keybert()
    if name == "keybert+mmr":
        return [keybert(2 * top_n_words), MaximalMarginalRelevance(0.2, top_n_words)]
    raise ValueError(f"unknown representation {name!r}: use one of {', '.join(REPRESENTATIONS)}")


def _stem(word: str) -> str:
    word = word.removesuffix("'s").removesuffix("’s")
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def label_terms(
    words: Iterable[str], n: int = LABEL_TERMS, texts: Iterable[str] | None = None
) -> list[str]:
    """Up to ``n`` terms for a label: each a word or phrase with no stop word or contraction,
    none sharing a word (or its singular) with an earlier one. With ``texts``, a phrase must
    occur in one of them as written: the vectorizer pairs words across dropped stop words and
    punctuation ("director commissioning", "nurses social"), which nobody said."""
    joined = " \n ".join(t.lower() for t in texts) if texts is not None else None
    chosen: list[str] = []
    seen: set[str] = set()
    for term in words:
        parts = re.findall(r"[a-z][a-z'’-]*", term.lower())
        written = r"\b" + r"[ \t]+".join(map(re.escape, parts)) + r"\b"
        if joined is not None and len(parts) > 1 and not re.search(written, joined):
            continue
        if not parts or any(p in _STOP or "'" in p or "’" in p for p in parts):
            continue
        if len(parts) == 1 and parts[0] in GENERIC_WORDS:
            continue
        stems = {_stem(p) for p in parts}
        if stems & seen:
            # a phrase takes the place of the one word it grows ("learning disability" for
            # "disability"), if no other term has its words
            grown = [i for i, c in enumerate(chosen) if " " not in c and _stem(c) in stems]
            if (
                len(parts) > 1
                and len(grown) == 1
                and not (stems - {_stem(chosen[grown[0]])}) & seen
            ):
                chosen[grown[0]] = " ".join(parts)
                seen |= stems
            continue
        chosen.append(" ".join(parts))
        seen |= stems
        if len(chosen) == n:
            break
    return chosen
