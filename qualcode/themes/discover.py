"""Emergent themes: topic models over respondent segments, overall or per group, stored as a run.

Each group (the whole corpus, or each site, stakeholder group or tier with ``by``) gets its
own BERTopic model. A topic is reported with its c-TF-IDF keywords, a readable label (from a
BERTopic representation model, see ``labels``), 3 to 5 representative quotes (whole sentences
from different speakers where possible), its size and its spread over sites, stakeholder groups
and tiers, and how the codebook covers its segments. Topics whose talk is further from the
codebook's own words than the corpus's is, or few of whose segments carry a code, are flagged as
emergent-theme candidates (see ``emergent``).
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np

from qualcode.codebook import Codebook
from qualcode.errors import EmptyCorpusError, InputError
from qualcode.store import Store
from qualcode.store import queries as q
from qualcode.themes import model as themes_model
from qualcode.themes.emergent import CodebookFit, TopicFit, code_texts, judge
from qualcode.themes.labels import (
    DEFAULT_REPRESENTATION,
    LABEL_ASPECT,
    label_terms,
    representation_model,
)
from qualcode.themes.model import (
    MIN_DOCUMENTS,
    chunks,
    default_min_topic_size,
    embed,
    embed_texts,
    online_topic_model,
    topic_model,
)
from qualcode.themes.quality import Cooccurrence, topic_diversity
from qualcode.themes.segments import CodeSets, Corpus, Unit, reference_codes
from qualcode.themes.text import STOP_WORDS, clean, proper_nouns, sentences

GROUPINGS = ("site", "stakeholder_group", "tier")
# Above SAMPLE_ABOVE segments a group's model is fitted on a seeded random sample of
# SAMPLE_SIZE and the other segments are assigned to the nearest topic: UMAP and HDBSCAN grow
# faster than linearly, and 50,000 segments already show every topic a few hundred times.
SAMPLE_ABOVE = 100_000
SAMPLE_SIZE = 50_000


@dataclass(frozen=True, slots=True)
class Options:
    by: str | None = None
    min_topic_size: int | None = None  # None: chosen from the corpus size
    embedding: str = "tfidf"
    seed: int = 0
    guided: bool = False
    site: str | None = None
    codes_from: str | None = None  # coder whose codes describe topics; None: gold, else machine
    representation: str = DEFAULT_REPRESENTATION  # how labels are made (labels.REPRESENTATIONS)
    sample: int | None = None  # fit on this many, assign the rest; None: automatic; 0: never
    online: bool = False  # partial_fit chunk by chunk (model.online_topic_model)

    def conflict(self) -> str | None:
        """Why these options cannot go together, or None: an online fit's topics are
        k-means', so it takes no seed topics and no minimum topic size."""
        if self.online and (self.guided or self.min_topic_size):
            given = "--guided" if self.guided else "--min-topic-size"
            return f"--online cannot be used with {given} (its topics are k-means')"
        return None


def sample_size(n: int, sample: int | None) -> int | None:
    """How many of ``n`` segments to fit the model on, or None to fit on all of them."""
    if sample is None:
        return SAMPLE_SIZE if n > SAMPLE_ABOVE else None
    return sample if 0 < sample < n else None


@dataclass(slots=True)
class Topic:
    topic: int
    label: str
    keywords: list[tuple[str, float]]
    segment_ids: list[int]
    quotes: list[dict[str, Any]]  # segment_id, start, end (within the segment), speaker, ...
    distribution: dict[str, dict[str, int]]
    codes: list[tuple[str, float]]  # commonest codes and the share of segments carrying each
    coverage: float | None  # share of segments with any code (None: no codings to compare)
    matched_code: str | None = None
    emergent: bool = False
    reason: str = ""
    codebook_fit: float | None = None  # mean fit of its segments, relative to the corpus's
    nearest_code: str | None = None  # the code whose words its segments are closest to
    label_words: list[str] = field(default_factory=list)  # the representation model's words

    @property
    def size(self) -> int:
        return len(self.segment_ids)

    def details(self) -> dict[str, Any]:
        return {
            "quotes": self.quotes,
            "distribution": self.distribution,
            "codes": self.codes,
            "coverage": self.coverage,
            "matched_code": self.matched_code,
            "reason": self.reason,
            "codebook_fit": self.codebook_fit,
            "nearest_code": self.nearest_code,
            "label_words": self.label_words,
        }


@dataclass(slots=True)
class GroupResult:
    grouping: str | None
    value: str | None
    n_segments: int
    method: dict[str, Any]
    topics: list[Topic] = field(default_factory=list)
    outliers: int = 0
    npmi: float | None = None
    diversity: float | None = None


@dataclass(slots=True)
class ThemesRun:
    run_id: int
    groups: list[GroupResult]
    skipped: dict[str, int]  # groups too small to model: value -> segments
    codes_from: str | None


def seed_topics(codebook: Codebook, per_code: int = 6) -> tuple[list[list[str]], list[str]]:
    """Seed words per codable code (its label's words and its examples' commonest words)."""
    stop = set(STOP_WORDS)
    seeds, codes = [], []
    for code in codebook.codable:
        words = [w for w in re.findall(r"[a-z][a-z'-]+", code.label.lower()) if w not in stop]
        counts = Counter(
            w
            for example in code.examples
            for w in re.findall(r"[a-z][a-z'-]+", example.lower())
            if w not in stop and len(w) > 2
        )
        for w, _ in counts.most_common():
            if len(words) >= per_code:
                break
            if w not in words:
                words.append(w)
        seeds.append(words)
        codes.append(code.id)
    return seeds, codes


def discover(
    store: Store,
    codebook: Codebook,
    options: Options,
    progress: Callable[[str, int, int], None] | None = None,
) -> ThemesRun:
    """Fit the topic models, store them as one ``themes`` run, and return what was found."""
    if options.by is not None and options.by not in GROUPINGS:
        raise InputError(None, f"cannot group by {options.by!r}", field="--by")
    if options.conflict():
        raise InputError(None, options.conflict(), field="--online")
    corpus = Corpus(store, options.site, options.by)
    if not len(corpus):
        raise EmptyCorpusError(
            "no respondent segments"
            + (f" at site {options.site!r}" if options.site else "")
            + " in the project; ingest transcripts first"
        )
    coder, codes = reference_codes(store, options.codes_from)
    values = sorted(corpus.members, key=str)
    results, skipped = [], {}
    for i, value in enumerate(values):
        if progress:
            progress(str(value or "all segments"), len(values), i)
        if len(corpus.members[value]) < MIN_DOCUMENTS:
            skipped[str(value)] = len(corpus.members[value])
            continue
        results.append(_fit_group(_Group(corpus, value, options), codes, codebook, options))
    if progress:
        progress("", len(values), len(values))
    if not results:
        raise EmptyCorpusError(
            f"every group has fewer than {MIN_DOCUMENTS} respondent segments: too few for topics"
        )
    run_id = _store(store, codebook, options, results, coder)
    return ThemesRun(run_id, results, skipped, coder)


def document(unit: Unit) -> str:
    """A segment's text as the topic model sees it: filler and annotations out."""
    return clean(unit["text"]) or unit["text"]


def embed_units(units: list[Unit], options: Options, stop: list[str] | None = None):
    """The segments as the topic model sees them: cleaned texts, the stop words (by default
    with the segments' proper nouns), and (vectors, the fitted embedder, its name)."""
    docs = [document(u) for u in units]
    if stop is None:
        stop = sorted(set(STOP_WORDS) | proper_nouns(u["text"] for u in units))
    return docs, stop, embed(docs, options.embedding, options.seed, stop)


class _Group:
    """One group's segments: those the model is fitted on (all of them, or a seeded sample),
    held with their cleaned texts and vectors; the others read from the store and embedded a
    chunk at a time, so a consultation's responses are never all in memory."""

    def __init__(self, corpus: Corpus, value: str | None, options: Options) -> None:
        self.corpus = corpus
        self.value = value
        self.positions = corpus.members[value]  # the members' positions in the corpus
        n = len(self.positions)
        k = sample_size(n, options.sample)
        self.fitted = np.arange(n)  # indices into the members
        if k is not None:
            rng = np.random.default_rng(options.seed)
            self.fitted = np.sort(rng.choice(n, size=k, replace=False))
        (self.units,) = corpus.read([self.positions[self.fitted]])
        self.stop = sorted(set(STOP_WORDS) | corpus.proper_nouns(value))
        self.docs, _, (self.vectors, self.embedder, self.embedding) = embed_units(
            self.units, options, self.stop
        )

    def __len__(self) -> int:
        return len(self.positions)

    def chunks(self, members: np.ndarray, bounds: list[tuple[int, int]]):
        """``members`` (ascending indices into the group), a chunk (start, end) of them at a
        time: (indices, units, cleaned texts, vectors). Fitted segments come from memory, the
        others from one pass over the store."""
        parts = [members[start:end] for start, end in bounds]
        last = len(self.fitted) - 1
        where = [np.searchsorted(self.fitted, part).clip(max=last) for part in parts]
        held = [self.fitted[at] == part for at, part in zip(where, parts, strict=True)]
        reads = self.corpus.read(
            [self.positions[part[~h]] for part, h in zip(parts, held, strict=True)]
        )
        for part, at, h, read in zip(parts, where, held, reads, strict=True):
            units: list[Any] = [None] * len(part)
            docs: list[Any] = [None] * len(part)
            vectors = np.empty((len(part), self.vectors.shape[1]), dtype=self.vectors.dtype)
            mine, theirs = np.flatnonzero(h), np.flatnonzero(~h)
            for j, i in zip(mine.tolist(), at[h].tolist(), strict=True):
                units[j], docs[j] = self.units[i], self.docs[i]
            vectors[mine] = self.vectors[at[h]]
            fresh = [document(u) for u in read]
            for j, u, d in zip(theirs.tolist(), read, fresh, strict=True):
                units[j], docs[j] = u, d
            if fresh:
                vectors[theirs] = embed_texts(self.embedder, fresh)
            yield part, units, docs, vectors


def _blocks(n: int, size: int = 20_000) -> list[tuple[int, int]]:
    return [(start, min(start + size, n)) for start in range(0, n, size)]


class Nearest:
    """Topics for segments the model was not fitted on: the topic whose centroid (of the fitted
    segments' unit vectors) is nearest by cosine; an outlier (-1) when it is less similar than
    19 in 20 of the fitted members are to their own topic's centroid."""

    def __init__(self, vectors: np.ndarray, assigned: list[int]) -> None:
        labels = np.asarray(assigned)
        self.topics = np.asarray(sorted(set(assigned) - {-1}), dtype=np.int64)
        if not len(self.topics):
            return
        centroids = np.stack([vectors[labels == t].mean(axis=0) for t in self.topics])
        self.centroids = centroids / np.linalg.norm(centroids, axis=1, keepdims=True).clip(1e-12)
        member = labels != -1
        own = np.searchsorted(self.topics, labels[member])
        member_sims = np.einsum("ij,ij->i", vectors[member], self.centroids[own])
        self.floor = float(np.quantile(member_sims, 0.05))

    def __call__(self, vectors: np.ndarray) -> np.ndarray:
        if not len(self.topics):
            return np.full(len(vectors), -1)
        sims = vectors @ self.centroids.T
        best = sims.argmax(axis=1)
        return np.where(sims[np.arange(len(best)), best] >= self.floor, self.topics[best], -1)


def code_vectors(embedder: Any, codebook: Codebook) -> tuple[list[str], np.ndarray]:
    """Each codable code's own words (``code_texts``) in the segments' embedding."""
    texts = code_texts(codebook)
    return list(texts), embed_texts(embedder, list(texts.values()))


def codebook_fit(vectors: np.ndarray, embedder: Any, codebook: Codebook) -> CodebookFit:
    """Each segment's similarity to each code's own words, in the segments' embedding."""
    ids, codes = code_vectors(embedder, codebook)
    return CodebookFit.of(vectors, codes, ids)


class _Tally:
    """What a group's topics report, summed as each chunk of segments gets its topics: the
    topic of each member, the spread over sites, groups and tiers, the reference codes, the
    codebook fit, and the word counts NPMI needs."""

    def __init__(self, n: int, codes: CodeSets, fit: TopicFit, words: set[str]) -> None:
        self.topic_of = np.full(n, -1, dtype=np.int64)
        self.codes = codes
        self.fit = fit
        self.words = Cooccurrence(words)
        self.spread: dict[int, dict[str, Counter]] = {}
        self.examined: Counter = Counter()  # members the reference coder examined
        self.covered: Counter = Counter()  # ... and gave a code
        self.counted: dict[int, Counter] = {}

    def add(self, members: np.ndarray, units, docs, vectors, topics) -> None:
        topics = np.asarray(topics, dtype=np.int64)
        self.topic_of[members] = topics
        self.fit.add(vectors, topics)
        self.words.add(docs)
        sets = self.codes.lookup([u["id"] for u in units])
        for u, t, found in zip(units, topics.tolist(), sets, strict=True):
            if t == -1:
                continue
            spread = self.spread.get(t)
            if spread is None:
                spread = self.spread[t] = {key: Counter() for key in GROUPINGS}
            for key in GROUPINGS:
                spread[key][str(u[key] or "(none)")] += 1
            if found is not None:
                self.examined[t] += 1
                if found:
                    self.covered[t] += 1
                    self.counted.setdefault(t, Counter()).update(found)

    def codes_of(self, t: int) -> tuple[list[tuple[str, float]], float | None]:
        """The topic's commonest codes with the share of examined members carrying each, and
        the share carrying any (None when the coder examined none)."""
        examined = self.examined[t]
        if not examined:
            return [], None
        # ties by code id: a set's order follows string hashes, which differ between processes
        common = sorted(self.counted.get(t, Counter()).items(), key=lambda kv: (-kv[1], kv[0]))
        return [(c, round(k / examined, 3)) for c, k in common[:5]], self.covered[t] / examined


def _fit_group(group: _Group, codes: CodeSets, codebook: Codebook, options: Options) -> GroupResult:
    n_all, n = len(group), len(group.fitted)
    everyone = np.arange(n_all)
    seeds, seed_codes = seed_topics(codebook) if options.guided else (None, [])
    if options.online:
        model, names = online_topic_model(n_all, options.seed, group.stop)
        bounds = chunks(n_all)
        for _, _, docs, vectors in group.chunks(everyone, bounds):
            model.partial_fit(docs, embeddings=vectors)
        logging.getLogger("BERTopic").setLevel(logging.ERROR)
        size = None
        passes = (
            (part, units, docs, vectors, model.transform(docs, embeddings=vectors)[0])
            for part, units, docs, vectors in group.chunks(everyone, bounds)
        )
    else:
        size = options.min_topic_size or default_min_topic_size(n)
        model, assigned, names = _fit_batch(
            group.docs, group.vectors, group.embedder, group.stop, size, seeds, options
        )
        nearest = Nearest(group.vectors, assigned)
        rest = np.setdiff1d(everyone, group.fitted)
        passes = chain(
            [(group.fitted, group.units, group.docs, group.vectors, assigned)],
            (
                (part, units, docs, vectors, nearest(vectors))
                for part, units, docs, vectors in group.chunks(rest, _blocks(len(rest)))
            ),
        )
    # each topic's keywords and label words, known once the model is fitted: NPMI counts them
    # as the segments pass
    aspects = (model.topic_aspects_ or {}).get(LABEL_ASPECT, {})
    words = {}
    for t in model.get_topics():
        if t != -1:
            keywords = [(w, round(float(s), 4)) for w, s in (model.get_topic(t) or []) if w]
            label_words = [w for w, _ in aspects.get(t, [])] or [w for w, _ in keywords]
            words[t] = (keywords, label_words)
    counted = {w for kws, label in words.values() for w in _npmi_words(kws, label)[0]}
    counted |= {w for kws, label in words.values() for w in _npmi_words(kws, label)[1]}
    ids, vectors = code_vectors(group.embedder, codebook)
    tally = _Tally(n_all, codes, TopicFit(vectors, ids), counted)
    for part, units, docs, vectors, topics in passes:
        tally.add(part, units, docs, vectors, topics)
    method = {
        "embedding": group.embedding,
        "reducer": names[0],
        "clusterer": names[1],
        "min_topic_size": size,
        "seed": options.seed,
        "guided": options.guided,
        "representation": "keywords" if options.online else options.representation,
        "codebook_fit": round(tally.fit.corpus, 4),
    }
    if options.online:
        method["online"] = {"chunk": themes_model.ONLINE_CHUNK, "embedding_fitted_on": n}
    elif n < n_all:
        method["sample"] = n  # fitted on this many; the rest assigned to the nearest topic
        method["assigned"] = n_all - n
    outliers = int((tally.topic_of == -1).sum())
    result = GroupResult(options.by, group.value, n_all, method, outliers=outliers)
    fitted_topics = tally.topic_of[group.fitted]
    for t in sorted(set(np.unique(tally.topic_of).tolist()) - {-1}):
        keywords, label_words = words[t]
        topic = _describe(t, group, tally, keywords, label_words, fitted_topics)
        topic.matched_code = _matched_code(topic, keywords, seeds, seed_codes)
        topic.label = _label(topic, codebook, label_words, keywords, group, fitted_topics)
        result.topics.append(topic)
    result.topics.sort(key=lambda topic: -topic.size)
    chosen = [_npmi_words(t.keywords, t.label_words) for t in result.topics]
    result.npmi = tally.words.npmi([top for top, _ in chosen])
    result.diversity = topic_diversity([top for top, _ in chosen])
    method["label_npmi"] = tally.words.npmi([label for _, label in chosen])
    method["label_diversity"] = topic_diversity([label for _, label in chosen])
    return result


def _npmi_words(keywords, label_words) -> tuple[list[str], list[str]]:
    """The words a topic's NPMI and diversity are measured on: its top ten keywords, and its
    label words as a label shows them."""
    return [w for w, _ in keywords[:10]], label_terms(label_words, 10)


def _fit_batch(docs, vectors, embedder, stop, size, seeds, options: Options):
    """BERTopic fitted on all of ``docs`` at once (UMAP and HDBSCAN, or PCA and k-means on a
    small corpus), outliers then given the nearest topic by c-TF-IDF where they are close
    enough. Returns the model, each document's topic, and the (reducer, clusterer) names."""
    labeller = representation_model(options.representation, options.seed)
    aspects = {LABEL_ASPECT: labeller} if labeller is not None else None
    model, names = topic_model(
        len(docs),
        embedder,
        min_topic_size=size,
        seed=options.seed,
        seed_topics=seeds,
        stop_words=stop,
        representation_model=aspects,
    )
    assigned, _ = model.fit_transform(docs, embeddings=vectors)
    assigned = [int(a) for a in assigned]  # numpy integers would reach SQLite as blobs
    # BERTopic (re)sets its logger when fitting, then warns that reducing outliers assigns
    # topics by hand: that is what we mean, so the warning is silenced from here on.
    logging.getLogger("BERTopic").setLevel(logging.ERROR)
    if -1 in assigned:  # outlier reduction only when there are outliers
        reduced = model.reduce_outliers(docs, assigned, strategy="c-tf-idf", threshold=0.1)
        model.update_topics(
            docs,
            topics=reduced,
            vectorizer_model=model.vectorizer_model,
            representation_model=aspects,
        )
        assigned = [int(a) for a in reduced]
    return model, assigned, names


def _describe(t, group: _Group, tally: _Tally, keywords, label_words, fitted_topics) -> Topic:
    members = np.flatnonzero(tally.topic_of == t)
    ids = group.corpus.ids[group.positions[members]].tolist()
    # quotes come from the fitted segments (all of them, unless a sample was fitted): those
    # nearest the centre of the topic's fitted members
    held = np.flatnonzero(fitted_topics == t)
    order = held.tolist()
    if len(held):
        centroid = group.vectors[held].mean(axis=0)
        order = held[np.argsort(-(group.vectors[held] @ centroid))].tolist()
    top_codes, coverage = tally.codes_of(t)
    distribution = {key: dict(counts) for key, counts in tally.spread[t].items()}
    topic = Topic(
        t,
        "",
        keywords,
        ids,
        _quotes(order, group.units, [w for w, _ in keywords]),
        distribution,
        top_codes,
        coverage,
    )
    topic.label_words = label_words
    fit = tally.fit
    topic.nearest_code = fit.nearest_code(t)
    relative = fit.topic(t) / fit.corpus if fit.corpus > 0 else 0.0
    topic.codebook_fit = round(relative, 3)
    topic.emergent, topic.reason = judge(fit.topic(t), fit.corpus, coverage, topic.nearest_code)
    return topic


def _label(topic: Topic, codebook, label_words, keywords, group: _Group, fitted_topics) -> str:
    """The topic's label: its matched code's, with terms its fitted segments say as written."""
    said = [group.units[i]["text"] for i in np.flatnonzero(fitted_topics == topic.topic)]
    terms = label_terms(label_words, texts=said) or label_terms(
        (w for w, _ in keywords), texts=said
    )
    if topic.matched_code:
        return f"{codebook.codes[topic.matched_code].label}: {', '.join(terms)}"
    return ", ".join(terms) or f"topic {topic.topic}"


def _matched_code(topic: Topic, keywords, seeds, seed_codes) -> str | None:
    """With guided modelling, the code a topic stands for: the commonest code if most of its
    segments carry it, else the code whose seed words its keywords share most (two or more)."""
    if seeds is None:
        return None
    if topic.codes and topic.codes[0][1] >= 0.5:
        return topic.codes[0][0]
    words = {w for k, _ in keywords for w in k.split()}
    best = max(range(len(seeds)), key=lambda i: len(words & set(seeds[i])), default=None)
    if best is not None and len(words & set(seeds[best])) >= 2:
        return seed_codes[best]
    return None


def _quotes(order: list[int], units: list[Unit], keywords: list[str]) -> list[dict]:
    """Up to five whole sentences, from the segments nearest the topic's centre, one per
    speaker where possible, each the sentence of its segment that uses the most keywords."""
    words = {w for k in keywords for w in k.split()}
    chosen, speakers = [], set()
    for relaxed in (False, True):
        for i in order:
            u = units[i]
            who = u["participant"] or u["speaker"]
            if any(c["segment_id"] == u["id"] for c in chosen) or (not relaxed and who in speakers):
                continue
            spans = sentences(u["text"])
            if not spans:
                continue

            def hits(span, text=u["text"]):
                found = set(re.findall(r"[a-z][a-z'-]+", text[span[0] : span[1]].lower()))
                return (len(found & words), -abs(span[1] - span[0] - 150))

            start, end = max(spans, key=hits)
            chosen.append(
                {
                    "segment_id": u["id"],
                    "start": start,
                    "end": end,
                    "speaker": who,
                    "site": u["site"],
                    "stakeholder_group": u["stakeholder_group"],
                    "role": u["role"],
                    "document": u["document"],
                }
            )
            speakers.add(who)
            if len(chosen) >= 5:
                return chosen
        if len(chosen) >= 3:
            break
    return chosen


def _store(store, codebook, options: Options, results: list[GroupResult], coder) -> int:
    params = {
        "by": options.by,
        "min_topic_size": options.min_topic_size,
        "embedding": options.embedding,
        "seed": options.seed,
        "guided": options.guided,
        "representation": options.representation,
        "sample": options.sample,
        "site": options.site,
        "codes_from": coder,
    }
    with store.atomic():
        run_id = q.start_run(store, "themes", params, codebook_hash=codebook.hash)
        for g in results:
            model_id = store.execute(
                "INSERT INTO topic_models (run_id, grouping, group_value, n_segments, n_topics,"
                " outliers, npmi, diversity, method) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    g.grouping,
                    g.value,
                    g.n_segments,
                    len(g.topics),
                    g.outliers,
                    g.npmi,
                    g.diversity,
                    json.dumps(g.method),
                ),
            ).lastrowid
            for t in g.topics:
                topic_id = store.execute(
                    "INSERT INTO topics (model_id, topic, label, keywords, size, emergent,"
                    " details) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        model_id,
                        t.topic,
                        t.label,
                        json.dumps(t.keywords),
                        t.size,
                        int(t.emergent),
                        json.dumps(t.details()),
                    ),
                ).lastrowid
                store.conn.executemany(
                    "INSERT INTO topic_segments (topic_id, segment_id) VALUES (?, ?)",
                    [(topic_id, s) for s in t.segment_ids],
                )
        q.finish_run(store, run_id)
    return run_id
