"""Text for topic modelling: interview filler out, stop words that fit talk, whole sentences."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

# Filler that carries no topic: removed before embedding and counting, as whole phrases so
# "kind of" goes but "a kind nurse" stays.
FILLER_PHRASES = (
    "you know",
    "i mean",
    "sort of",
    "kind of",
    "i think",
    "i suppose",
    "i guess",
    "to be honest",
    "to be fair",
    "at the end of the day",
    "if you like",
    "as it were",
    "or whatever",
    "and so on",
    "and all that",
    "that sort of thing",
    "you see",
    "let's say",
)
FILLER_WORDS = (
    "um",
    "umm",
    "er",
    "erm",
    "uh",
    "ah",
    "yeah",
    "yes",
    "no",
    "ok",
    "okay",
    "well",
    "right",
    "really",
    "just",
    "actually",
    "basically",
    "obviously",
    "literally",
    "quite",
    "pretty",
    "bit",
    "lot",
    "lots",
    "thing",
    "things",
    "stuff",
    "got",
    "get",
    "getting",
    "going",
    "gonna",
    "say",
    "said",
    "saying",
    "know",
    "think",
    "mean",
    "like",
    "laughs",
    "pause",
    "inaudible",
    "crosstalk",
    "don",
    "didn",
    "doesn",
    "isn",
    "wasn",
    "weren",
    "ve",
    "ll",
    "re",
    "way",
    "time",
    "years",
    "year",
    "don't",
    "doesn't",
    "didn't",
    "isn't",
    "wasn't",
    "weren't",
    "can't",
    "won't",
    "wouldn't",
    "couldn't",
    "shouldn't",
    "haven't",
    "hasn't",
    "i'm",
    "i've",
    "i'd",
    "i'll",
    "it's",
    "that's",
    "there's",
    "they're",
    "they've",
    "they'd",
    "we're",
    "we've",
    "we'd",
    "you're",
    "you've",
    "he's",
    "she's",
    "let's",
    "what's",
    "who's",
    "want",
    "wanted",
    "doing",
    "done",
    "mind",
    "came",
    "come",
    "comes",
    "went",
    "goes",
    "gone",
    "make",
    "makes",
    "made",
    "put",
    "tell",
    "told",
    "ask",
    "asked",
    "look",
    "looked",
    "sure",
    "maybe",
    "probably",
    "course",
    "good",
    "big",
    "little",
    "old",
    "ones",
    "one",
    "two",
    "three",
    "used",
    "use",
    "took",
    "take",
    "need",
    "needs",
    "different",
    "kind",
    "sort",
)
STOP_WORDS = sorted(ENGLISH_STOP_WORDS | set(FILLER_WORDS))

_FILLER = re.compile(
    r"\b(?:"
    + "|".join(re.escape(p) for p in sorted(FILLER_PHRASES, key=len, reverse=True))
    + r")\b",
    re.IGNORECASE,
)
_BRACKETED = re.compile(r"\[[^\]]{0,40}\]")  # [laughs], [inaudible 00:12:03]
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+[\"'’”)]*|\n|$)")
TOKEN_PATTERN = r"(?u)\b[a-zA-Z][a-zA-Z'-]+\b"  # words, no numbers


_CAPITALISED = re.compile(r"(?<![.!?:;\n\"'‘“(\[-])(?<![.!?:;]\s)\s([A-Z][a-z][a-zA-Z'-]*)")
_LOWER_WORD = re.compile(r"\b[a-z][a-z'-]+\b")


def proper_nouns(texts: Iterable[str]) -> set[str]:
    """Words (lower-cased) that appear capitalised inside sentences and never in lower case:
    names of places, organisations and people, which say where talk happened, not what about."""
    found = ProperNouns()
    for text in texts:
        found.add(text)
    return found.words()


class ProperNouns:
    """``proper_nouns`` a text at a time, holding only the words seen (one pass over a
    consultation's responses, none of them kept)."""

    __slots__ = ("capitalised", "lower")

    def __init__(self) -> None:
        self.capitalised: set[str] = set()
        self.lower: set[str] = set()

    def add(self, text: str) -> None:
        self.capitalised.update(m.group(1).lower() for m in _CAPITALISED.finditer(text))
        self.lower.update(_LOWER_WORD.findall(text))

    def words(self) -> set[str]:
        return {w.removesuffix("'s") for w in self.capitalised - self.lower}


def clean(text: str) -> str:
    """The text with filler phrases and bracketed annotations removed, spaces collapsed."""
    text = _BRACKETED.sub(" ", text)
    text = _FILLER.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()


def sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (trimmed), for quoting whole sentences."""
    spans = []
    for m in _SENTENCE.finditer(text):
        start, end = m.start(), m.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end - start > 1:
            spans.append((start, end))
    return spans
