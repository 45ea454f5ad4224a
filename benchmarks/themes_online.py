"""BERTopic fitted online (``partial_fit``, chunk by chunk) against qualcode's two fits, on the
same synthetic survey, with topic quality both ways.

    python benchmarks/themes_online.py [--responses 125000] [--chunk 10000] [--topics 55]
        [--no-qualcode]

The issue asked whether online fitting (``partial_fit`` with an incremental vectoriser) or a fit
on a sample (the rest assigned to the nearest topic) holds topic quality better at consultation
scale. This runs, on the responses of benchmarks/themes_speed.py:

* online: the same local TF-IDF/SVD embedding (fitted on a seeded sample of 50,000, as
  qualcode's sample fit does), then the model of ``themes fit --online`` (IncrementalPCA to 5
  dimensions, MiniBatchKMeans with --topics clusters, an OnlineCountVectorizer with decay 0.01:
  ``qualcode.themes.model.online_topic_model``), ``partial_fit`` on --chunk
  responses at a time; every response is then assigned with ``transform``. In this process.
* qualcode: ``qualcode themes fit --sample 50000`` on the same responses, ingested (its own
  process, as themes_speed.py times it).

Both print time, peak resident memory, topics, NPMI coherence of each topic's top ten words over
all responses (qualcode.themes.quality), and topic diversity. The online figures' memory is this
process's peak, which includes the responses' text held for the comparison.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from themes_speed import survey_rows, timed, write_surveys

from qualcode.store import open_project
from qualcode.themes.model import chunks, online_topic_model, tfidf_svd
from qualcode.themes.quality import npmi_coherence, topic_diversity
from qualcode.themes.text import STOP_WORDS, clean, proper_nouns

SAMPLE = 50_000


def online(texts: list[str], chunk: int, topics: int, seed: int = 0) -> dict[str, float]:
    """qualcode's online model (``online_topic_model``, ``chunks``) on the texts, embedded as
    ``themes fit`` embeds them for a sample fit; fitting and assigning only."""
    start = time.perf_counter()
    docs = [clean(t) or t for t in texts]
    stop = sorted(set(STOP_WORDS) | proper_nouns(texts))
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(len(docs), size=min(SAMPLE, len(docs)), replace=False))
    embedder = tfidf_svd(len(sample), seed, stop)
    embedder.fit_transform([docs[i] for i in sample])
    model, _ = online_topic_model(len(docs), seed, stop, topics=topics)
    bounds = chunks(len(docs), chunk)
    for at, end in bounds:
        model.partial_fit(docs[at:end], embeddings=embedder.transform(docs[at:end]))
    assigned = []
    for at, end in bounds:
        found, _ = model.transform(docs[at:end], embeddings=embedder.transform(docs[at:end]))
        assigned += list(found)
    seconds = time.perf_counter() - start
    words = [
        [w for w, _ in model.get_topic(t)][:10]
        for t in sorted(set(assigned) - {-1})
        if model.get_topic(t)
    ]
    return {
        "seconds": seconds,
        "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
        "topics": len(words),
        "npmi": npmi_coherence(words, docs),
        "diversity": topic_diversity(words),
        "outliers": assigned.count(-1) / len(assigned),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=125_000)
    parser.add_argument("--chunk", type=int, default=10_000)
    parser.add_argument("--topics", type=int, default=55, help="online: k-means clusters")
    parser.add_argument("--no-qualcode", action="store_true", help="skip the qualcode fit")
    args = parser.parse_args()
    texts = [row[-1] for row in survey_rows(args.responses)]
    words = sum(len(t.split()) for t in texts)
    print(f"{args.responses:,} responses ({words:,} words)")
    got = online(texts, args.chunk, args.topics)
    print(
        f"  online partial_fit ({args.chunk:,} a chunk, k={args.topics}): {got['seconds']:.1f} s,"
        f" peak {got['peak_gb']:.2f} GB, {got['topics']} topics, NPMI {got['npmi']:.3f},"
        f" diversity {got['diversity']:.3f}, outliers {got['outliers']:.0%}"
    )
    if args.no_qualcode:
        return
    del texts
    with tempfile.TemporaryDirectory() as tmp:
        write_surveys(Path(tmp) / "survey", args.responses)
        project = str(Path(tmp) / "bench.db")
        timed(["-p", project, "init"])
        timed(["-p", project, "ingest", f"{tmp}/survey", "--text-column", "response"])
        seconds, peak, _ = timed(["-p", project, "themes", "fit", "--sample", str(SAMPLE)])
        with open_project(project) as store:
            method, npmi, diversity, outliers, n = store.execute(
                "SELECT method, npmi, diversity, outliers, n_segments FROM topic_models"
                " ORDER BY id DESC LIMIT 1"
            ).fetchone()
            topics = store.execute(
                "SELECT count(*) FROM topics WHERE model_id = (SELECT max(id) FROM topic_models)"
            ).fetchone()[0]
        fitted = json.loads(method).get("sample") or n
        print(
            f"  qualcode themes fit --sample {SAMPLE} (fitted on {fitted:,}): {seconds:.1f} s,"
            f" peak {peak:.2f} GB, {topics} topics, NPMI {npmi:.3f}, diversity {diversity:.3f},"
            f" outliers {outliers / n:.0%}"
        )


if __name__ == "__main__":
    main()
