"""The spaCy pipeline the rule coder runs on: no model download, ever.

By default ``spacy.blank("en")`` with a sentencizer and a lookup lemmatizer whose table comes
from ``spacy-lookups-data`` (read from disk). A trained pipeline (``en_core_web_sm``...) is
used only when the user names one that is installed; a missing one is an error, never a
download.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import numpy
import spacy
from spacy.attrs import LEMMA, LOWER
from spacy.language import Language
from spacy.lookups import load_lookups
from spacy.strings import get_string_id
from spacy.tokens import Doc

from qualcode.errors import QualcodeError

LOOKUP_LEMMATIZER = "qualcode_lookup_lemmatizer"
# A segment longer than this is still coded, but spaCy is told to expect it.
MAX_LENGTH = 5_000_000


@Language.factory(LOOKUP_LEMMATIZER)
def _make_lookup_lemmatizer(nlp: Language, name: str):
    """spaCy's English lookup table (from spacy-lookups-data), looked up in lower case.

    spaCy's own lookup lemmatizer is case-sensitive ("Budgets" has no entry), so sentence-initial
    and capitalised words would escape lower-case lemma patterns. This component uses the same
    table on the lower-cased form, and caches lemma ids by the lower-case form's id so a repeated
    word costs one dictionary lookup.
    """
    table = lemma_table()
    strings = nlp.vocab.strings
    cache: dict[int, int] = {}

    def lemmatize(doc: Doc) -> Doc:
        # Work on attribute arrays, not Token objects (creating a Python Token per word costs
        # more than the lookup), and map through the cache at C speed; only new words go
        # through the table.
        if not len(doc):
            return doc
        lowers = doc.to_array(LOWER).tolist()
        lemmas = list(map(cache.get, lowers))
        if None in lemmas:
            for i, lemma in enumerate(lemmas):
                if lemma is None:
                    text = strings[lowers[i]]
                    lemmas[i] = cache[lowers[i]] = strings.add(table.get(text, text))
        doc.from_array([LEMMA], numpy.array(lemmas, dtype="uint64").reshape(-1, 1))
        return doc

    return lemmatize


@lru_cache(maxsize=1)
def lemma_table():
    """spaCy's English lemma lookup table (from spacy-lookups-data): a word's lemma is
    ``table.get(lower, lower)``, its lower-case form's entry or that form itself."""
    return load_lookups("en", ["lemma_lookup"]).get_table("lemma_lookup")


def lemma_forms(lemmas: Iterable[str]) -> dict[str, list[int]]:
    """The ids (as the StringStore gives them: a hash, or spaCy's own number for its symbols) of
    the lower-case words whose lookup lemma is each of ``lemmas``; the lookup turned round, so a
    pattern's LEMMA can be matched on the LOWER attribute, without lemmatising."""
    wanted = set(lemmas)
    table = lemma_table()
    out: dict[str, list[int]] = {lemma: [] for lemma in wanted}
    for key, lemma in table.items():
        if lemma in wanted:
            out[lemma].append(key)
    for lemma in wanted:
        if lemma not in table:  # a word without an entry is its own lemma
            out[lemma].append(get_string_id(lemma))
    return out


@lru_cache(maxsize=4)
def load_nlp(model: str | None = None) -> Language:
    """The pipeline: a named installed spaCy pipeline, or the offline default."""
    if model:
        from pathlib import Path

        if not spacy.util.is_package(model) and not Path(model).is_dir():
            raise QualcodeError(
                f"spaCy pipeline {model!r} is not installed; install it or leave out --spacy-model "
                "(qualcode never downloads models)"
            )
        try:
            nlp = spacy.load(model, exclude=["ner", "textcat"])
        except (OSError, ValueError) as exc:  # a folder that is not a pipeline, or a bad one
            raise QualcodeError(f"cannot load spaCy pipeline {model!r}: {exc}") from exc
        if "sentencizer" not in nlp.pipe_names and "parser" not in nlp.pipe_names:
            nlp.add_pipe("sentencizer")
    else:
        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        nlp.add_pipe(LOOKUP_LEMMATIZER)
    nlp.max_length = MAX_LENGTH
    return nlp
