"""The spaCy pipeline the rule coder runs on: no model download, ever.

By default ``spacy.blank("en")`` with a sentencizer and the lookup lemmatizer whose tables come
from ``spacy-lookups-data``. A trained pipeline (``en_core_web_sm``...) is used only when the
user names one that is installed; a missing one is an error, never a download.
"""

from __future__ import annotations

from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from qualcode.errors import QualcodeError

# A segment longer than this is still coded, but spaCy is told to expect it.
MAX_LENGTH = 5_000_000


@Language.factory("qualcode_lowercase_lemmas")
def _make_lowercase_lemmas(nlp: Language, name: str):
    """The lookup table is case-sensitive ("Budgets" has no entry), so sentence-initial and
    capitalised words would escape lower-case lemma patterns; look those up in lower case."""
    table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")

    def lowercase_lemmas(doc: Doc) -> Doc:
        for token in doc:
            text = token.text
            if text != token.lower_:
                lower = token.lower_
                token.lemma_ = table.get(lower, lower)
        return doc

    return lowercase_lemmas


@lru_cache(maxsize=4)
def load_nlp(model: str | None = None) -> Language:
    """The pipeline: a named installed spaCy pipeline, or the offline default."""
    if model:
        if not spacy.util.is_package(model) and not spacy.util.is_directory(model):
            raise QualcodeError(
                f"spaCy pipeline {model!r} is not installed; install it or leave out --spacy-model "
                "(qualcode never downloads models)"
            )
        nlp = spacy.load(model, exclude=["ner", "textcat"])
        if "sentencizer" not in nlp.pipe_names and "parser" not in nlp.pipe_names:
            nlp.add_pipe("sentencizer")
    else:
        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()  # loads the lookup tables from spacy-lookups-data (on disk)
        nlp.add_pipe("qualcode_lowercase_lemmas")
    nlp.max_length = MAX_LENGTH
    return nlp
