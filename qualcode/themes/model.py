"""The BERTopic model for a corpus of a given size: embedding, reducer and clusterer.

Default embedding: a local scikit-learn pipeline (TF-IDF, then truncated SVD sized to the
vocabulary, then unit length), so nothing is downloaded. A sentence-transformers model is used
only when the user names one that is installed; qualcode switches the Hugging Face libraries to
offline mode before loading it, so a missing model is an error, never a download.

Large corpora get BERTopic's usual UMAP + HDBSCAN; small ones (fewer than
``UMAP_MIN_DOCUMENTS`` units) a PCA reducer and k-means, since UMAP and HDBSCAN need more
points than one site's interviews give. Both are seeded, so a seed fixes the topics.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.preprocessing import Normalizer

from qualcode.errors import InputError, QualcodeError
from qualcode.themes.text import STOP_WORDS, TOKEN_PATTERN

UMAP_MIN_DOCUMENTS = 1000
MIN_DOCUMENTS = 8


def default_min_topic_size(n_documents: int) -> int:
    """3 to 15 segments for small corpora (one site's interviews); for large ones a 250th of the
    corpus, so 20,000 survey answers give tens of topics, not hundreds."""
    if n_documents < UMAP_MIN_DOCUMENTS:
        return max(3, min(15, n_documents // 40))
    return max(15, n_documents // 250)


@dataclass(frozen=True, slots=True)
class Method:
    """What was fitted, for the run's provenance."""

    embedding: str
    reducer: str
    clusterer: str
    n_documents: int
    min_topic_size: int
    seed: int
    guided: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "embedding": self.embedding,
            "reducer": self.reducer,
            "clusterer": self.clusterer,
            "n_documents": self.n_documents,
            "min_topic_size": self.min_topic_size,
            "seed": self.seed,
            "guided": self.guided,
        }


def tfidf_svd(n_documents: int, seed: int, stop_words: list[str] | None = None):
    """TF-IDF over words and word pairs, SVD to at most 100 dimensions, unit length."""
    min_df = 2 if n_documents >= 50 else 1
    vectorizer = TfidfVectorizer(
        stop_words=stop_words or STOP_WORDS,
        token_pattern=TOKEN_PATTERN,
        ngram_range=(1, 2),
        min_df=min_df,
        max_df=0.5 if n_documents >= 50 else 1.0,
        sublinear_tf=True,
        max_features=50_000,
    )
    return _SizedSvd(vectorizer, seed)


class _SizedSvd:
    """TF-IDF then SVD whose size is set from the fitted vocabulary and corpus.

    A plain scikit-learn pipeline needs the number of components up front; a corpus of 30
    segments has too few words for 100 dimensions, so the size is chosen at fit time.
    """

    def __init__(self, vectorizer: TfidfVectorizer, seed: int) -> None:
        self.vectorizer = vectorizer
        self.seed = seed
        self.pipe = None

    def fit_transform(self, documents: list[str]) -> np.ndarray:
        x = self.vectorizer.fit_transform(documents)
        dims = max(2, min(100, x.shape[1] - 1, x.shape[0] - 1))
        self.svd = TruncatedSVD(n_components=dims, random_state=self.seed)
        self.norm = Normalizer()
        return self.norm.fit_transform(self.svd.fit_transform(x))

    def transform(self, documents: list[str]) -> np.ndarray:
        return self.norm.transform(self.svd.transform(self.vectorizer.transform(documents)))

    @property
    def dimensions(self) -> int:
        return self.svd.n_components


# Online fitting (``themes fit --online``): BERTopic's partial_fit over chunks of this many
# segments, with an incremental reducer, mini-batch k-means and a decaying vocabulary.
ONLINE_CHUNK = 10_000


def online_topics(n_documents: int) -> int:
    """How many topics an online fit finds (k-means needs a number): the square root of a
    fortieth of the corpus, 10 to 60 (56 for 125,000 responses)."""
    return max(2, min(n_documents, max(10, min(60, round(math.sqrt(n_documents / 40))))))


def online_topic_model(
    n_documents: int, seed: int, stop_words: list[str] | None = None, topics: int | None = None
):
    """An untrained BERTopic for ``partial_fit``: IncrementalPCA to 5 dimensions, mini-batch
    k-means with ``topics`` clusters (default ``online_topics``; every segment gets a topic: no
    outliers), and an OnlineCountVectorizer whose counts decay by 1% a chunk. Returns (model,
    (reducer, clusterer) names)."""
    from bertopic import BERTopic
    from bertopic.vectorizers import ClassTfidfTransformer, OnlineCountVectorizer
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.decomposition import IncrementalPCA

    k = topics or online_topics(n_documents)
    model = BERTopic(
        umap_model=IncrementalPCA(n_components=min(5, n_documents - 1)),
        hdbscan_model=MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3),
        vectorizer_model=_ordered(OnlineCountVectorizer)(
            stop_words=stop_words or STOP_WORDS,
            token_pattern=TOKEN_PATTERN,
            ngram_range=(1, 2),
            decay=0.01,
        ),
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        top_n_words=10,
        calculate_probabilities=False,
        verbose=False,
    )
    return model, ("IncrementalPCA(5)", f"MiniBatchKMeans(k={k}), online")


@functools.cache
def _ordered(online_vectorizer: type) -> type:
    """BERTopic's OnlineCountVectorizer, numbering a chunk's new words in sorted order. It
    numbers them in a set's order, which follows string hashes: ties among a topic's keywords
    came out in a different order in each process, whatever the seed."""

    class OrderedOnlineCountVectorizer(online_vectorizer):
        def partial_fit(self, raw_documents):
            if not hasattr(self, "vocabulary_"):
                return self.fit(raw_documents)
            analyzer = self.build_analyzer()
            new = {token for doc in raw_documents for token in analyzer(doc)}
            first = max(self.vocabulary_.values()) + 1
            unseen = sorted(new.difference(self.vocabulary_))
            self.vocabulary_.update(zip(unseen, range(first, first + len(unseen)), strict=True))
            return self

    return OrderedOnlineCountVectorizer


def chunks(n: int, size: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of consecutive chunks of about ``size`` (ONLINE_CHUNK); a short last one
    joins the one before it, since each partial_fit needs more segments than topics."""
    size = size or ONLINE_CHUNK
    bounds = [(at, min(at + size, n)) for at in range(0, n, size)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] < size // 2:
        bounds[-2:] = [(bounds[-2][0], n)]
    return bounds


def sentence_transformer(name: str):
    """An installed sentence-transformers model, loaded offline; a missing one is an error."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise InputError(
            None,
            "sentence-transformers is not installed (it comes with pip install "
            "'qualcode[embeddings]'; the default --embedding tfidf needs nothing more)",
            field="--embedding",
        ) from exc
    try:
        return SentenceTransformer(name, local_files_only=True, device="cpu")
    except Exception as exc:  # OSError, ValueError, HF errors: all mean "not here"
        raise InputError(
            None,
            f"sentence-transformers model {name!r} is not installed on this machine "
            "(qualcode never downloads models; install it, or use the default --embedding tfidf)",
            field="--embedding",
        ) from exc


def embed(
    documents: list[str], embedding: str, seed: int, stop_words: list[str] | None = None
) -> tuple[np.ndarray, Any, str]:
    """Embeddings of the documents, the model that made them (for BERTopic), and its name."""
    if embedding == "tfidf":
        model = tfidf_svd(len(documents), seed, stop_words)
        vectors = model.fit_transform(documents)
        return vectors, model, f"tfidf+svd({model.dimensions})"
    if embedding.startswith("sentence-transformers:"):
        name = embedding.split(":", 1)[1]
        model = sentence_transformer(name)
        vectors = model.encode(documents, batch_size=64, normalize_embeddings=True)
        return np.asarray(vectors), model, embedding
    raise InputError(
        None,
        f"unknown embedding {embedding!r}: use tfidf or sentence-transformers:MODEL",
        field="--embedding",
    )


def embed_texts(model, texts: list[str]) -> np.ndarray:
    """Further texts (a codebook's codes, candidate words) in a fitted model's space."""
    return np.asarray(_Embedder(model).embed(texts))


class _Embedder:
    """BERTopic's view of an embedding model: ``embed(documents)`` (used for guided seeds)."""

    def __init__(self, model) -> None:
        self.model = model

    def embed(self, documents, verbose=False):
        if hasattr(self.model, "encode"):
            return np.asarray(self.model.encode(list(documents), normalize_embeddings=True))
        return self.model.transform(list(documents))


def topic_model(
    n_documents: int,
    embedding_model,
    *,
    min_topic_size: int,
    seed: int,
    seed_topics: list[list[str]] | None = None,
    stop_words: list[str] | None = None,
    representation_model: Any = None,
):
    """A BERTopic with a reducer and clusterer that suit ``n_documents``, and its ``Method``.

    ``representation_model`` is passed to BERTopic as it is (a dict names extra aspects, kept
    beside the c-TF-IDF keywords in ``topic_aspects_``)."""
    if importlib.util.find_spec("bertopic") is None:
        raise QualcodeError(
            "themes need BERTopic, which is not installed: pip install --no-deps "
            "'bertopic>=0.17.4,<0.18' (BERTopic's light install; scripts/setup.sh does this) "
            "or pip install 'qualcode[embeddings]' (with torch)"
        )
    from bertopic import BERTopic
    from bertopic.backend import BaseEmbedder
    from bertopic.vectorizers import ClassTfidfTransformer

    if n_documents < MIN_DOCUMENTS:
        raise QualcodeError(
            f"{n_documents} segments are too few for topics (at least {MIN_DOCUMENTS} needed)"
        )
    if n_documents >= UMAP_MIN_DOCUMENTS:
        from hdbscan import HDBSCAN
        from umap import UMAP

        # PCA initialisation: UMAP's default spectral one took 40 of 64 s on 20,000 segments.
        reducer = UMAP(
            n_neighbors=15,
            n_components=5,
            min_dist=0.0,
            metric="cosine",
            init="pca",
            random_state=seed,
            n_jobs=1,  # a seed makes UMAP single-threaded anyway; saying so avoids its warning
        )
        clusterer = HDBSCAN(
            min_cluster_size=min_topic_size,
            min_samples=min(10, min_topic_size),
            metric="euclidean",
            prediction_data=True,
            # in this process: its default (4) starts 4 worker processes of about 165 MB each,
            # for a few seconds of a fit on 50,000 segments
            core_dist_n_jobs=1,
        )
        names = ("UMAP(5, cosine, 15 neighbours)", f"HDBSCAN(min_cluster_size={min_topic_size})")
    else:
        k = max(2, min(round(math.sqrt(n_documents / 2)), n_documents // min_topic_size, 30))
        reducer = PCA(n_components=min(10, n_documents - 1), random_state=seed)
        clusterer = KMeans(n_clusters=k, random_state=seed, n_init=10)
        names = (f"PCA({reducer.n_components})", f"k-means(k={k})")

    class Embedder(BaseEmbedder):
        def embed(self, documents, verbose=False):
            return _Embedder(embedding_model).embed(documents)

    vectorizer = CountVectorizer(
        stop_words=stop_words or STOP_WORDS,
        token_pattern=TOKEN_PATTERN,
        ngram_range=(1, 2),
        min_df=2 if n_documents >= 50 else 1,
    )
    model = BERTopic(
        embedding_model=Embedder(),
        umap_model=reducer,
        hdbscan_model=clusterer,
        vectorizer_model=vectorizer,
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        min_topic_size=min_topic_size,
        top_n_words=10,
        seed_topic_list=seed_topics,
        representation_model=representation_model,
        calculate_probabilities=False,
        verbose=False,
    )
    return model, names
