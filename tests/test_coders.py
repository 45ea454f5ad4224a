"""The coders on real text: negation, near misses, multi-label, empty segments, evidence."""

from __future__ import annotations

import gc
import json
import random
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError
from spacy.matcher import Matcher

from qualcode.codebook import default_codebook_path, load_codebook
from qualcode.coding import scan
from qualcode.coding.base import evidence_json
from qualcode.coding.chunks import ChunkTokens
from qualcode.coding.hybrid import HybridCoder
from qualcode.coding.matching import PatternIndex, WordTable
from qualcode.coding.model import ModelCoder
from qualcode.coding.negation import mark_negation
from qualcode.coding.nlp import lemma_forms
from qualcode.coding.rules import CODING, RuleCoder
from qualcode.coding.training import default_units


@pytest.fixture(scope="module")
def shipped():
    return load_codebook(default_codebook_path())


@pytest.fixture(scope="module")
def rules(shipped):
    return RuleCoder(shipped).fit()


@pytest.fixture(scope="module")
def tiny(data):
    return load_codebook(data / "codebooks" / "good.yaml")


def codes(coder, text):
    return {a.code for a in coder.predict([text])[0]}


def test_plain_mention(tiny):
    rules = RuleCoder(tiny).fit()
    assert codes(rules, "Since 2001 we have pooled budgets for older people.") == {
        "financial.pooled_budget"
    }


def test_bare_denial_is_never_the_barrier(tiny):
    rules = RuleCoder(tiny).fit()
    assert codes(rules, "The PCT shunts costs onto us.") == {"financial.budget_guarding"}
    assert codes(rules, "Nobody here shunts costs onto anyone.") == set()
    assert codes(rules, "There was never any cost shunting, to be fair.") == set()


def test_concession_codes_what_follows_but(tiny):
    rules = RuleCoder(tiny).fit()
    text = "It wasn't that they shifted costs, but we were only there to rubber-stamp it."
    assert codes(rules, text) == {"status.tokenism"}


def test_double_negative_flips_back(tiny):
    rules = RuleCoder(tiny).fit()
    assert codes(rules, "Nobody could say they didn't shunt costs.") == {
        "financial.budget_guarding"
    }


def test_negated_or_wished_prerequisite_is_its_barrier(tiny):
    rules = RuleCoder(tiny).fit()
    for text in (
        "We never pooled budgets.",
        "If only we had pooled budgets.",
        "I wish we pooled funds.",
    ):
        (assignment,) = rules.predict([text])[0]
        assert assignment.code == "financial.budget_guarding", text
        assert "its prerequisite Pooled budget (financial.pooled_budget)" in (
            assignment.evidence[0].why
        )


def test_not_just_x_but_y_negates_nothing(tiny):
    rules = RuleCoder(tiny).fit()
    text = "Not just pooled budgets but token consultation too."
    assert codes(rules, text) == {"financial.pooled_budget", "status.tokenism"}


def test_exclude_pattern_blocks_a_near_miss(tiny):
    rules = RuleCoder(tiny).fit()
    assert codes(rules, "It was tokenistic.") == {"status.tokenism"}
    assert codes(rules, "They gave us a token ring binder.") == set()


def test_multi_label_segment_with_evidence(tiny):
    rules = RuleCoder(tiny).fit()
    text = "We pooled budgets, yet the council still shunts costs and we rubber stamp decisions."
    result = rules.predict([text])[0]
    assert {a.code for a in result} == {
        "financial.pooled_budget",
        "financial.budget_guarding",
        "status.tokenism",
    }
    for assignment in result:
        for evidence in assignment.evidence:
            assert text[evidence.start : evidence.end].lower() in {
                "pooled budgets",
                "shunts costs",
                "rubber stamp",
            }
        assert 0 < assignment.confidence < 1


def test_empty_and_blank_segments(rules):
    assert rules.predict(["", "   \n ", "Yes."]) == [[], [], []]


def test_shipped_near_misses_do_not_get_their_code(shipped, rules):
    wrong = []
    for code in shipped.codable:
        for text, result in zip(
            code.near_misses, rules.predict(list(code.near_misses)), strict=True
        ):
            if code.id in {a.code for a in result}:
                wrong.append((code.id, text))
    assert wrong == []


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("The status quo suited everyone.", "status"),
        ("She was waiting for her hip procedure.", "procedural"),
        ("The nurse was very professional with my mother.", "professional"),
        ("The NHS Trust runs the hospital.", "professional"),
        ("It was a structured interview.", "structural"),
        ("We got charitable status in 1997.", "status"),
        ("Funding was never the problem.", "financial"),
    ],
)
def test_near_miss_vocabulary_is_not_coded(rules, text, absent):
    assert not any(code.startswith(absent + ".") for code in codes(rules, text))


@pytest.mark.parametrize("book", ["shipped", "operators.yaml"])
def test_compiled_matching_agrees_with_spacys_matcher(book, shipped, data):
    """The compiled matcher finds what spaCy's Matcher finds, on the whole demo gold, for the
    shipped codebook and for one with every operator ("?", "*", "+", and "!", which is left to
    spaCy), flags, TEXT and near misses: per key and start, the longest match of the pattern
    with its leading optional tokens dropped (they never decide whether a pattern matches)."""
    codebook = shipped if book == "shipped" else load_codebook(data / "codebooks" / book)
    rules = RuleCoder(codebook).fit()
    spacy_matcher = Matcher(rules.nlp_.vocab)
    for key, pattern in rules.patterns_.items():
        while pattern and pattern[0].get("OP") in ("?", "*"):
            pattern = pattern[1:]
        spacy_matcher.add(key, [pattern])
    strings = rules.nlp_.vocab.strings
    checked = 0
    for doc in rules.nlp_.pipe(default_units(shipped).texts):
        longest: dict[tuple[str, int], int] = {}
        for match, start, end in spacy_matcher(doc):
            key = (strings[match], start)
            longest[key] = max(longest.get(key, end), end)
        theirs = sorted((key, start, end) for (key, start), end in longest.items())
        assert sorted(rules.matcher_(doc)) == theirs, doc.text[:80]
        checked += len(theirs)
    assert checked > (100 if book == "shipped" else 20)


ODD_TEXTS = [
    "",
    " ",
    "\n\n",
    "😀 pooled budget!",
    "NOUN ORTH LEMMA ADJ",  # words whose ids are spaCy's own symbols
    "https://example.org/a?b=1 £12.50 3rd-party e-mail: a@b.co",
    "Don't we?!—Yes… ‘pooled’ “budgets”",
]


@pytest.mark.parametrize("book", ["shipped", "operators.yaml"])
@pytest.mark.parametrize("lemmas_from_lower", [True, False])
def test_the_word_table_reads_what_to_array_reads(
    book, lemmas_from_lower, shipped, data, monkeypatch
):
    """The token matrix read through the word table (each word's own columns read once, then
    looked up) is ``Doc.to_array``'s, column for column, and so are the dense pattern values,
    on the demo gold and odd text: with the lemmas read from LOWER (the values kept per word)
    and from the Docs' own LEMMA (a token column, the values found per token); while the table
    grows from a few slots and starts again past its limit."""
    monkeypatch.setattr(WordTable, "FIRST_SLOTS", 4)
    monkeypatch.setattr(WordTable, "MAX_WORDS", 500)
    codebook = shipped if book == "shipped" else load_codebook(data / "codebooks" / book)
    rules = RuleCoder(codebook).fit()
    index = PatternIndex(rules.nlp_.vocab, list(scan.TOKEN_ATTRS), lemmas_from_lower)
    for key, pattern in rules.patterns_.items():
        index.add(key, key.split("#")[0], pattern)
    # flags, and a form that is the word's (LOWER) or may be the token's own (NORM)
    form = "LOWER" if lemmas_from_lower else "NORM"
    index.add("extra", "extra", [{form: "not"}, {"IS_ALPHA": True, "LIKE_NUM": False}])
    kernels = scan.kernels()
    lexicon = index.tables()[2]
    texts = default_units(shipped).texts + ODD_TEXTS
    docs = list(rules.nlp_.pipe(texts))
    table = index.words()
    assert table.keeps_dense == lemmas_from_lower
    restarts = 0
    for first in range(0, len(docs), 64):
        batch = docs[first : first + 64]
        count = table.count
        mat, offsets, dense = table.read(*table.stack([table.own(doc) for doc in batch]))
        restarts += table.count < count
        expected = np.concatenate([index.matrix(doc) for doc in batch])
        assert mat.tolist() == expected.tolist()
        assert dense.tolist() == kernels.dense_values(lexicon, expected).tolist()
        assert offsets.tolist() == [0, *np.cumsum([len(doc) for doc in batch]).tolist()]
    assert restarts >= 2
    assert len(index.columns) > len(scan.TOKEN_ATTRS)  # the patterns' own columns were read too


def special_cases_split_by_spaces(tokenizer, count: int, seed: int = 0, gaps=None) -> list[str]:
    """Made-up text full of spaCy's special cases ("a.m.", ":(", "don't"...) run together, some
    split by a space, between words that patterns name, with whitespace of every kind between
    them and at either end: the text where tokenising chunk by chunk could go wrong."""
    rng = random.Random(seed)
    cases = [*sorted(tokenizer.rules), "(", ")", ".", "'", "pooled", "budget", "not", "-"]
    gaps = gaps or [" "] * 8 + [
        "",
        "  ",
        "\n",
        "\n\n",
        " \n",
        "\n ",
        "\t",
        "\xa0",
        "\u2028",
        "\r\n",
    ]
    texts = []
    for _ in range(count):
        text = rng.choice(gaps) if rng.random() < 0.1 else ""
        for _ in range(rng.randint(1, 8)):
            word = rng.choice(cases)
            if len(word) > 1 and rng.random() < 0.3:
                cut = rng.randint(1, len(word) - 1)
                word = word[:cut] + " " + word[cut:]
            text += word + rng.choice(gaps)
        texts.append(text if rng.random() < 0.2 else text.rstrip())
    return texts


def test_tokens_read_chunk_by_chunk_are_spacys(shipped, monkeypatch):
    """``ChunkTokens`` gives each text's ORTH, offsets and sentence start as ``Doc.to_array``
    reads them from spaCy's tokeniser, on the demo gold, odd text (newlines, double spaces,
    emoji, URLs) and made-up text where special cases meet across whitespace (where spaCy's
    tokeniser looks past a chunk, and the text is left to it): while the chunk table grows from
    a few and starts again past its limit."""
    monkeypatch.setattr(ChunkTokens, "MAX_CHUNKS", 300)
    rules = RuleCoder(shipped).fit()
    tokenizer = rules.nlp_.tokenizer
    chunks = ChunkTokens(tokenizer, ["SENT_START", "IDX"])
    made_up = special_cases_split_by_spaces(tokenizer, 3000)
    texts = default_units(shipped).texts + ODD_TEXTS + made_up
    assert sum("\n" in t for t in texts) > 100
    restarts, unmarked = 0, 0  # first tokens spaCy does not mark as a start
    for first in range(0, len(texts), 100):
        batch = texts[first : first + 100]
        before = chunks.count
        own, lengths = chunks.batch(batch)
        restarts += chunks.count < before
        docs = [tokenizer(text) for text in batch]
        expected = [doc.to_array(["ORTH", "SENT_START", "IDX"]).reshape(-1, 3) for doc in docs]
        for columns in expected:
            # spaCy leaves 0 at the first token when it split the first chunk again for a
            # special case ("It's"); a start there bounds no clause (``scan._clause``)
            if len(columns) and columns[0, 1] == 0:
                columns[0, 1] = 1
                unmarked += 1
        assert lengths.tolist() == [len(doc) for doc in docs]
        assert own.tolist() == np.concatenate(expected).tolist()
    assert restarts >= 2
    assert unmarked
    # made-up text where chunk-by-chunk tokens would differ from spaCy's was found and left to it
    differ = [
        text
        for text in special_cases_split_by_spaces(tokenizer, 3000, seed=2, gaps=[" ", ""])
        if text == " ".join(text.split())  # single spaces: the chunks are the words
        and [t.orth for t in tokenizer(text)]
        != [t.orth for chunk in text.split() for t in tokenizer(chunk)]
    ]
    assert differ
    own, lengths = chunks.batch(differ)
    assert own[:, 0].tolist() == [t.orth for text in differ for t in tokenizer(text)]
    assert own[:, 2].tolist() == [t.idx for text in differ for t in tokenizer(text)]


# Characters that make spaCy's tokeniser work: whitespace of every kind, punctuation that it
# splits off or keeps (special cases, URLs, emoticons), letters outside ASCII, an emoji.
TRICKY = list(" \n\t\r\xa0\u2028\u3000.,;:!?()[]'\"-/@#$%&*_~<>^=+") + list("aAbnt0é中😀’—…")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    texts=st.lists(
        st.lists(
            st.one_of(st.sampled_from(TRICKY), st.sampled_from(["a.m.", ":(", "n't", "e.g."])),
            max_size=30,
        ).map("".join),
        min_size=1,
        max_size=6,
    )
)
def test_chunk_tokens_equal_spacys_on_any_text(shipped_rules_tokenizer, texts):
    """On any text made of characters spaCy's tokeniser treats specially, the tokens read
    chunk by chunk are spaCy's (ORTH and offsets; a start at each text's first token)."""
    tokenizer = shipped_rules_tokenizer
    own, lengths = ChunkTokens(tokenizer, ["SENT_START", "IDX"]).batch(texts)
    docs = [tokenizer(text) for text in texts]
    assert lengths.tolist() == [len(doc) for doc in docs]
    assert own[:, 0].tolist() == [t.orth for doc in docs for t in doc]
    assert own[:, 2].tolist() == [t.idx for doc in docs for t in doc]
    assert own[:, 1].tolist() == [int(t.i == 0) for doc in docs for t in doc]


@pytest.fixture(scope="module")
def shipped_rules_tokenizer(rules):
    return rules.nlp_.tokenizer


def test_rules_code_the_same_with_and_without_docs(rules, shipped):
    """The rule coder reads tokens chunk by chunk when it needs no Doc (``chunks_``); coding
    through Docs, as with a trained pipeline, gives the same codes, confidences, evidence and
    denials."""
    assert rules.chunks_ is not None
    tokenizer = rules.nlp_.tokenizer
    texts = (
        default_units(shipped).texts
        + ODD_TEXTS
        + special_cases_split_by_spaces(tokenizer, 500, seed=1)
        + ["Nobody pooled the budget :( (we wish we had) a.m . on paper"]
    )
    fast = rules.predict(texts)
    through_docs = RuleCoder(shipped).fit()
    through_docs.chunks_ = None
    slow = through_docs.predict(texts)
    assert [list(r) for r in fast] == [list(r) for r in slow]
    assert [r.denied for r in fast] == [r.denied for r in slow]
    assert sum(len(r) for r in fast) > 500


def test_patterns_left_to_spacys_matcher_still_code(data):
    """A pattern the compiled matcher leaves to spaCy's Matcher ("!": "team" not followed by
    "manager") still codes in ``predict``, which keeps each batch's Docs only for it."""
    rules = RuleCoder(load_codebook(data / "codebooks" / "operators.yaml")).fit()
    assert len(rules.matcher_.fallback)
    coded, not_coded = rules.predict(["We had a team talk.", "We had a team manager."])
    assert [a.code for a in coded] == ["status.ops"]
    assert 'rule "team not manager"' in coded[0].evidence[0].why
    assert list(not_coded) == []


def test_coding_leaves_nothing_for_the_cycle_collector(shipped):
    """The rule coder turns Python's cycle collector off while it codes (``collector_paused``),
    which is only safe because coding makes no reference cycles; it leaves the collector as it
    found it."""
    rules = RuleCoder(shipped).fit()
    texts = default_units(shipped).texts + ODD_TEXTS
    rules.predict(texts)  # compiled kernels loaded, caches filled
    gc.collect()
    gc.disable()
    try:
        results = rules.predict(texts)
        assert not gc.isenabled()
        assert gc.collect() == 0
    finally:
        gc.enable()
    assert sum(len(r) for r in results) > 500
    rules.predict(texts[:3])
    assert gc.isenabled()


def test_one_rule_coder_codes_at_a_time(rules):
    """Coding changes the coder's tables of words and chunks seen, so two threads coding with
    one coder (a Dask worker with several threads) take turns (``rules.CODING``): a thread
    that codes while the lock is held waits, then gives the same codes as coding alone."""
    texts = ["We pooled the budgets.", "Nobody shares the risk :( on paper."]
    alone = rules.predict(texts)
    out = []
    worker = threading.Thread(target=lambda: out.append(rules.predict(texts)))
    with CODING:
        worker.start()
        worker.join(timeout=1)
        assert worker.is_alive()  # waiting for the lock
        assert not out
    worker.join()
    assert [list(r) for r in out[0]] == [list(r) for r in alone]


def test_evidence_is_stored_as_json_dumps_writes_it(rules, shipped):
    """The store's evidence column is written by ``evidence_json``, which quotes each reason
    once a run: it gives what ``json.dumps`` gives, for every coding of the demo gold."""
    quoted: dict[str, str] = {}
    texts = default_units(shipped).texts + ODD_TEXTS
    codings = [a for result in rules.predict(texts) for a in result]
    assert len(codings) > 500
    for a in codings:
        assert evidence_json(a.evidence, quoted) == json.dumps([e.as_dict() for e in a.evidence])
    assert 0 < len(quoted) < len(codings)


def test_lemmas_matched_on_the_lower_case_form_are_the_lemmatisers(shipped):
    """The rule coder matches a LEMMA on the lower-case forms whose lookup lemma it is, without
    lemmatising; on every word of the demo gold that gives the lemmatiser's answer."""
    rules = RuleCoder(shipped).fit()
    assert rules.matcher_.lemmas_from_lower
    lemmas = {
        str(value)
        for pattern in rules.patterns_.values()
        for token in pattern
        for value in (
            token["LEMMA"]["IN"] if isinstance(token.get("LEMMA"), dict) else [token.get("LEMMA")]
        )
        if value
    }
    assert len(lemmas) > 500
    lemma_of = {form: lemma for lemma, forms in lemma_forms(lemmas).items() for form in forms}
    words = 0
    for doc in rules.nlp_.pipe(default_units(shipped).texts):
        for token in doc:
            expected = token.lemma_ if token.lemma_ in lemmas else None
            assert lemma_of.get(token.lower) == expected, (token.text, token.lemma_)
            words += expected is not None
    assert words > 1000


def test_mark_negation():
    assert mark_negation("Money was never the problem, it was the culture.") == (
        "money was never not_the not_problem , it was the culture ."
    )
    assert mark_negation("Not just the money") == "not just the money"
    # the rule coder's words: a contraction whole, and "lack of"
    assert mark_negation("It wasn't a problem") == "it wasn't not_a not_problem"
    assert mark_negation("A lack of joint training") == "a lack not_of not_joint not_training"
    assert mark_negation("Nobody could say we didn't pool") == (
        "nobody not_could not_say not_we didn't pool"
    )


def test_model_skips_codes_with_too_few_examples(tiny):
    texts = ["We pooled budgets.", "The pooled fund works.", "They shunt costs.", "Nothing here."]
    labels = [
        {"financial.pooled_budget"},
        {"financial.pooled_budget"},
        {"financial.budget_guarding"},
        set(),
    ]
    model = ModelCoder(tiny, min_examples=5, use_codebook_examples=True).fit(texts, labels)
    # pooled_budget: 2 coded + 3 examples = 5; guarding: 1 + 3 = 4; tokenism: 0 + 3 = 3
    assert model.codes_ == ["financial.pooled_budget"]
    assert model.skipped_ == {"financial.budget_guarding": 4, "status.tokenism": 3}
    predicted = {
        a.code for r in model.predict(["They shunt costs and rubber-stamp things."]) for a in r
    }
    assert predicted <= {"financial.pooled_budget"}


def test_model_is_deterministic_and_shows_evidence(shipped):
    units = default_units(shipped)
    first = ModelCoder(shipped, threshold=0.3).fit(units.texts, units.labels)
    second = ModelCoder(shipped, threshold=0.3).fit(units.texts, units.labels)
    text = "We pooled the budgets for intermediate care and it transformed how we work."
    probabilities = first.predict_proba([text])
    assert probabilities == second.predict_proba([text])
    assert max(probabilities[0], key=probabilities[0].get) == "financial.pooled_budget"
    (result,) = first.predict([text])
    pooled = next(a for a in result if a.code == "financial.pooled_budget")
    assert any(text[e.start : e.end].lower().startswith("pooled") for e in pooled.evidence)


def test_hybrid_combines_rules_and_model(shipped):
    units = default_units(shipped)
    hybrid = HybridCoder(shipped).fit(units.texts, units.labels)
    text = "Health and social care pooled their budgets years ago."
    scores = hybrid.predict_proba([text])[0]
    model_only = hybrid.model_.predict_proba([text])[0]
    assert scores["financial.pooled_budget"] > model_only["financial.pooled_budget"]
    assert hybrid.predict([""]) == [[]]
    # A prerequisite the segment names only to deny it (the issue's sentence) loses the
    # model's word evidence too: the words "pooled budget" alone gave it 0.84 before.
    denied = hybrid.predict_proba([ISSUE_SENTENCE])[0]["financial.pooled_budget"]
    assert denied < hybrid.threshold_for("financial.pooled_budget")
    assert denied < hybrid.model_.predict_proba([ISSUE_SENTENCE])[0]["financial.pooled_budget"]


def test_negation_after_a_match_denies_a_barrier_only_as_a_problem(tiny):
    rules = RuleCoder(tiny).fit()
    assert codes(rules, "The cost shunting never stopped.") == {"financial.budget_guarding"}
    assert codes(rules, "Cost shunting was never the problem.") == set()
    # for a prerequisite, any negation in the clause means it is absent
    assert codes(rules, "The pooled budget isn't working.") == {"financial.budget_guarding"}


ISSUE_SENTENCE = (
    "We talk about a pooled budget but what we actually have is two budgets sitting side by side."
)


@pytest.mark.parametrize(
    "text",
    [
        ISSUE_SENTENCE,
        "On paper, we have pooled budgets.",
        "In theory we pool budgets; in practice each side guards its own.",
        "We're supposed to have a pooled fund by April.",
        "Rather than pooling money, each agency keeps its own.",
        "It is a pooled budget in name only.",
        "Officially it's a pooled budget, but really nothing has changed.",
    ],
)
def test_a_prerequisite_in_name_only_is_its_barrier(tiny, text):
    rules = RuleCoder(tiny).fit()
    (assignment,) = rules.predict([text])[0]
    assert assignment.code == "financial.budget_guarding"
    assert assignment.confidence == 0.5
    assert "Pooled budget (financial.pooled_budget) " in assignment.evidence[0].why


@pytest.mark.parametrize(
    "text",
    [
        "We talk about the pooled budget at every board meeting.",
        "We have a pooled budget, but what we actually need is joint training.",
        "The pooled budget was supposed to cover equipment too.",
        "We pooled budgets rather than arguing over every invoice.",
        "We keep one set of pooled fund records on paper.",
    ],
)
def test_a_contrast_word_alone_does_not_make_it_nominal(tiny, text):
    rules = RuleCoder(tiny).fit()
    assert codes(rules, text) == {"financial.pooled_budget"}


def test_contrast_turns_a_barrier(tiny):
    rules = RuleCoder(tiny).fit()
    # a barrier set aside is absent; a denial said to hold only in theory is no denial
    assert codes(rules, "We sat down together rather than shunting costs.") == set()
    assert codes(rules, "In theory nobody shunts costs, but in practice they do.") == {
        "financial.budget_guarding"
    }


def test_shipped_rules_do_not_give_a_nominal_pooled_budget(rules):
    assert "financial.pooled_budget" not in codes(rules, ISSUE_SENTENCE)


def test_rule_evidence_names_the_rule_and_reads_as_a_phrase(rules):
    text = "Years ago we pooled the lot, and the council shunts costs onto us."
    found = {a.code: a for a in rules.predict([text])[0]}
    pooled = found["financial.pooled_budget"]
    assert [text[e.start : e.end] for e in pooled.evidence] == ["pooled the lot"]
    why = pooled.evidence[0].why
    assert why.startswith('Pooled or aligned budgets (financial.pooled_budget): rule "pooled ')
    assert 'include: "Pooled or aligned budgets' in why
    for assignment in found.values():
        for evidence in assignment.evidence:
            assert "{" not in evidence.why
            assert "LEMMA" not in evidence.why


def test_pattern_term_reads_like_words():
    from qualcode.coding.rules import pattern_term

    pattern = [
        {"LEMMA": {"IN": ["joint", "shared", "common", "single"]}},
        {"IS_PUNCT": False, "OP": "?"},
        {"LOWER": "-", "OP": "?"},
        {"LEMMA": "pathway"},
    ]
    assert pattern_term(pattern) == "joint/shared/common/… (…) (-) pathway"


def test_rules_name_what_a_segment_says_is_absent(tiny):
    rules = RuleCoder(tiny).fit()
    nominal, denied, both, plain = rules.predict(
        [
            ISSUE_SENTENCE,
            "Cost shunting was never the problem.",
            "We never pooled budgets at first, and now we pool budgets.",
            "We pooled budgets.",
        ]
    )
    assert nominal.denied == {"financial.pooled_budget"}
    assert denied.denied == {"financial.budget_guarding"}
    assert both.denied == set()  # also said plainly
    assert plain.denied == set()


def test_rules_fitted_by_an_older_qualcode_are_refused(tiny):
    """A RuleCoder pickled before its patterns were compiled for the scan has no tables: it
    says it is not fitted rather than coding with half its state. (The cache of trained
    coders never hands one back: its key names the coders' source.)"""
    rules = RuleCoder(tiny).fit()
    del rules.code_tables_
    with pytest.raises(NotFittedError):
        rules.predict(["We pooled budgets."])


def test_numba_is_imported_only_to_code_with_rules(tmp_path):
    """Fitting the rule coder compiles its patterns into plain arrays; numba (60 MB, more with
    the kernels) is imported only when it codes, so the process that owns the store while Dask
    workers code never loads it."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from qualcode.codebook import default_codebook_path, load_codebook\n"
        "from qualcode.coding.rules import RuleCoder\n"
        "coder = RuleCoder(load_codebook(default_codebook_path())).fit()\n"
        "print('numba' in sys.modules)\n"
        "coder.predict(['We never pooled budgets.'])\n"
        "print('numba' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=tmp_path
    ).stdout.split()
    assert out == ["False", "True"]
