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
from typing import Any

import numpy as np

from qualcode.codebook import Codebook
from qualcode.errors import EmptyCorpusError, InputError
from qualcode.store import Store
from qualcode.store import queries as q
from qualcode.themes import model as themes_model
from qualcode.themes.emergent import CodebookFit, code_texts, judge
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
from qualcode.themes.quality import npmi_coherence, topic_diversity
from qualcode.themes.text import STOP_WORDS, clean, proper_nouns, sentences
from qualcode.types import REFERENCE_CODERS

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


class Unit:
    """A respondent segment as topic modelling uses it, read as ``unit["text"]``.

    A dict per segment, with the columns topics never read, held 1.2 KB a segment (600 MB for
    500,000 survey responses); this holds about half. Values that repeat (site, group, tier,
    role; a survey respondent's speaker and pseudonym) are one object, through ``shared``.
    """

    __slots__ = (
        "document",
        "id",
        "participant",
        "role",
        "site",
        "speaker",
        "stakeholder_group",
        "text",
        "tier",
    )

    def __init__(self, row: Any, shared: dict[Any, Any]) -> None:
        self.id = row["id"]
        self.text = row["text"]
        self.document = row["document"]
        self.speaker = row["speaker"]
        participant = row["participant"]
        self.participant = self.speaker if participant == self.speaker else participant
        for name in ("site", "stakeholder_group", "tier", "role"):
            value = row[name]
            setattr(self, name, shared.setdefault(value, value))

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)


def reference_codes(
    store: Store, coder: str | None
) -> tuple[str | None, dict[int, frozenset[str]]]:
    """Codes per segment from ``coder``, else the adjudicated coder, else the latest machine run.

    Segments the coder examined and found nothing in map to an empty set; segments it never
    examined are absent."""
    if coder is None:
        names = {r[0] for r in store.execute("SELECT name FROM coders WHERE kind = 'human'")}
        coder = next((n for n in REFERENCE_CODERS if n in names), None)
    run_id = None
    if coder is None:
        latest = q.latest_machine_run(store)
        if latest is None:
            return None, {}
        coder, run_id = latest["coder"], latest["id"]
    row = store.execute("SELECT id, kind FROM coders WHERE name = ?", (coder,)).fetchone()
    if row is None:
        raise InputError(None, f"no coder {coder!r} in the project", field="--codes-from")
    if row["kind"] == "machine" and run_id is None:
        run_id = store.execute(
            "SELECT max(run_id) FROM coded_segments WHERE coder_id = ?", (row["id"],)
        ).fetchone()[0]
    clause = "" if run_id is None else " AND {}run_id = ?"
    args = (row["id"],) if run_id is None else (row["id"], run_id)
    examined = "SELECT segment_id FROM coded_segments WHERE coder_id = ?" + clause.format("")
    nothing: frozenset[str] = frozenset()
    out: dict[int, frozenset[str]] = {r[0]: nothing for r in store.execute(examined, args)}
    codings = (
        "SELECT c.segment_id, k.code FROM codings c JOIN codes k ON k.id = c.code_id"
        " WHERE c.coder_id = ?" + clause.format("c.")
    )
    # the same set of codes is one object, however many segments carry it (a set a segment
    # held about 300 bytes each on a large consultation)
    sets: dict[frozenset[str], frozenset[str]] = {}
    for seg, code in store.execute(codings, args):
        grown = out.get(seg, nothing) | {code}
        out[seg] = sets.setdefault(grown, grown)
    return (coder if run_id is None else f"{coder} (run {run_id})"), out


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
    shared: dict[Any, Any] = {}
    units = [Unit(row, shared) for row in q.iter_respondent_units(store, options.site)]
    if not units:
        raise EmptyCorpusError(
            "no respondent segments"
            + (f" at site {options.site!r}" if options.site else "")
            + " in the project; ingest transcripts first"
        )
    coder, codes = reference_codes(store, options.codes_from)
    groups: dict[str | None, list[dict[str, Any]]] = {}
    for u in units:
        key = (u[options.by] or "(none)") if options.by else None
        groups.setdefault(key, []).append(u)
    results, skipped = [], {}
    for i, (value, members) in enumerate(sorted(groups.items(), key=lambda kv: str(kv[0]))):
        if progress:
            progress(str(value or "all segments"), len(groups), i)
        if len(members) < MIN_DOCUMENTS:
            skipped[str(value)] = len(members)
            continue
        results.append(_fit_group(members, codes, codebook, options, value))
    if progress:
        progress("", len(groups), len(groups))
    if not results:
        raise EmptyCorpusError(
            f"every group has fewer than {MIN_DOCUMENTS} respondent segments: too few for topics"
        )
    run_id = _store(store, codebook, options, results, coder)
    return ThemesRun(run_id, results, skipped, coder)


def embed_units(units: list[Unit], options: Options, fit_on: np.ndarray | None = None):
    """The segments as the topic model sees them: cleaned texts, the stop words (with the
    corpus's proper nouns), and (vectors, the fitted embedder, its name). With ``fit_on``
    (indices) the embedder is fitted on those segments and embeds the others."""
    docs = [clean(u["text"]) or u["text"] for u in units]
    stop = sorted(set(STOP_WORDS) | proper_nouns([u["text"] for u in units]))
    if fit_on is None:
        return docs, stop, embed(docs, options.embedding, options.seed, stop)
    sample, embedder, name = embed([docs[i] for i in fit_on], options.embedding, options.seed, stop)
    vectors = np.empty((len(docs), sample.shape[1]), dtype=sample.dtype)
    vectors[fit_on] = sample
    rest = np.setdiff1d(np.arange(len(docs)), fit_on)
    for start in range(0, len(rest), 20_000):
        part = rest[start : start + 20_000]
        vectors[part] = embed_texts(embedder, [docs[i] for i in part])
    return docs, stop, (vectors, embedder, name)


def assign_rest(
    vectors: np.ndarray, fitted: np.ndarray, assigned: list[int], rest: np.ndarray
) -> np.ndarray:
    """Topics for the segments ``rest`` that the model was not fitted on: the topic whose
    centroid (of the fitted segments' unit vectors) is nearest by cosine; an outlier (-1) when
    it is less similar than 19 in 20 of the fitted members are to their own topic's centroid."""
    labels = np.asarray(assigned)
    topics = sorted(set(assigned) - {-1})
    if not topics:
        return np.full(len(rest), -1)
    centroids = np.stack([vectors[fitted[labels == t]].mean(axis=0) for t in topics])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True).clip(1e-12)
    member = labels != -1
    own = np.searchsorted(topics, labels[member])
    member_sims = np.einsum("ij,ij->i", vectors[fitted[member]], centroids[own])
    floor = float(np.quantile(member_sims, 0.05))
    out = np.empty(len(rest), dtype=int)
    for start in range(0, len(rest), 20_000):
        sims = vectors[rest[start : start + 20_000]] @ centroids.T
        best = sims.argmax(axis=1)
        out[start : start + 20_000] = np.where(
            sims[np.arange(len(best)), best] >= floor, np.asarray(topics)[best], -1
        )
    return out


def codebook_fit(vectors: np.ndarray, embedder: Any, codebook: Codebook) -> CodebookFit:
    """Each segment's similarity to each code's own words, in the segments' embedding."""
    texts = code_texts(codebook)
    return CodebookFit.of(vectors, embed_texts(embedder, list(texts.values())), list(texts))


def _fit_group(
    units: list[Unit],
    codes: dict[int, frozenset[str]],
    codebook: Codebook,
    options: Options,
    value: str | None,
) -> GroupResult:
    n_all = len(units)
    k = sample_size(n_all, options.sample)
    fitted = None
    if k is not None:
        rng = np.random.default_rng(options.seed)
        fitted = np.sort(rng.choice(n_all, size=k, replace=False))
    all_docs, stop, (vectors, embedder, embedding_name) = embed_units(units, options, fitted)
    seeds, seed_codes = seed_topics(codebook) if options.guided else (None, [])
    if options.online:
        model, assigned, names = _fit_online(all_docs, vectors, stop, options.seed)
        size, n = None, n_all
    else:
        docs = all_docs if fitted is None else [all_docs[i] for i in fitted]
        n = len(docs)
        size = options.min_topic_size or default_min_topic_size(n)
        model, assigned, names = _fit_batch(
            docs,
            vectors if fitted is None else vectors[fitted],
            embedder,
            stop,
            size,
            seeds,
            options,
        )
        if fitted is not None:
            rest = np.setdiff1d(np.arange(n_all), fitted)
            full = np.empty(n_all, dtype=int)
            full[fitted] = assigned
            full[rest] = assign_rest(vectors, fitted, assigned, rest)
            assigned = [int(a) for a in full]
    fit = codebook_fit(vectors, embedder, codebook)
    method = {
        "embedding": embedding_name,
        "reducer": names[0],
        "clusterer": names[1],
        "min_topic_size": size,
        "seed": options.seed,
        "guided": options.guided,
        "representation": "keywords" if options.online else options.representation,
        "codebook_fit": round(fit.corpus, 4),
    }
    if options.online:
        fitted_on = n_all if fitted is None else len(fitted)
        method["online"] = {"chunk": themes_model.ONLINE_CHUNK, "embedding_fitted_on": fitted_on}
    elif fitted is not None:
        method["sample"] = n  # fitted on this many; the rest assigned to the nearest topic
        method["assigned"] = n_all - n
    result = GroupResult(options.by, value, n_all, method, outliers=assigned.count(-1))
    by_topic: dict[int, list[int]] = {}
    for i, a in enumerate(assigned):
        by_topic.setdefault(a, []).append(i)
    for t in sorted(set(by_topic) - {-1}):
        members = by_topic[t]
        keywords = [(w, round(float(s), 4)) for w, s in (model.get_topic(t) or []) if w]
        label_words = [w for w, _ in (model.topic_aspects_ or {}).get(LABEL_ASPECT, {}).get(t, [])]
        result.topics.append(
            _describe(
                t,
                keywords,
                label_words or [w for w, _ in keywords],
                members,
                units,
                vectors,
                codes,
                codebook,
                (seeds, seed_codes),
                fit,
            )
        )
    result.topics.sort(key=lambda topic: -topic.size)
    words = [[w for w, _ in topic.keywords[:10]] for topic in result.topics]
    result.npmi = npmi_coherence(words, all_docs)
    result.diversity = topic_diversity(words)
    labels = [label_terms(t.label_words, 10) for t in result.topics]  # label words, tidied
    method["label_npmi"] = npmi_coherence(labels, all_docs)
    method["label_diversity"] = topic_diversity(labels)
    return result


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


def _fit_online(docs, vectors, stop, seed: int):
    """BERTopic fitted online: ``partial_fit`` on ONLINE_CHUNK segments at a time, in corpus
    order, then every segment assigned its topic (see ``online_topic_model``)."""
    model, names = online_topic_model(len(docs), seed, stop)
    bounds = chunks(len(docs))
    for start, end in bounds:
        model.partial_fit(docs[start:end], embeddings=vectors[start:end])
    logging.getLogger("BERTopic").setLevel(logging.ERROR)
    assigned: list[int] = []
    for start, end in bounds:
        found, _ = model.transform(docs[start:end], embeddings=vectors[start:end])
        assigned += [int(a) for a in found]
    return model, assigned, names


def _describe(t, keywords, label_words, members, units, vectors, codes, codebook, guide, fit):
    seeds, seed_codes = guide
    ids = [units[i]["id"] for i in members]
    centroid = vectors[members].mean(axis=0)
    closeness = vectors[members] @ centroid
    order = [members[j] for j in np.argsort(-closeness)]
    quotes = _quotes(order, units, [w for w, _ in keywords])
    distribution = {
        key: dict(Counter(str(units[i][key] or "(none)") for i in members)) for key in GROUPINGS
    }
    coded = [codes[u] for u in ids if u in codes]
    coverage = (sum(1 for c in coded if c) / len(coded)) if coded else None
    # ties by code id: a set's order follows string hashes, which differ between processes
    counted = Counter(c for cs in coded for c in cs)
    common = sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    top_codes = [(c, round(k / len(coded), 3)) for c, k in common] if coded else []
    topic = Topic(t, "", keywords, ids, quotes, distribution, top_codes, coverage)
    topic.label_words = label_words
    topic.matched_code = _matched_code(topic, keywords, seeds, seed_codes)
    said = [units[i]["text"] for i in members]
    terms = label_terms(label_words, texts=said) or label_terms(
        (w for w, _ in keywords), texts=said
    )
    if topic.matched_code:
        topic.label = f"{codebook.codes[topic.matched_code].label}: {', '.join(terms)}"
    else:
        topic.label = ", ".join(terms) or f"topic {t}"
    topic.nearest_code = fit.nearest_code(members)
    relative = fit.topic(members) / fit.corpus if fit.corpus > 0 else 0.0
    topic.codebook_fit = round(relative, 3)
    topic.emergent, topic.reason = judge(
        fit.topic(members), fit.corpus, coverage, topic.nearest_code
    )
    return topic


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
