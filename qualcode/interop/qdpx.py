"""``qualcode import FILE.qdpx``: a REFI-QDA project into the store, all or nothing.

Sources become documents (a source whose text is already in the project, from an earlier
ingest or another coder's export, is the same document), codes become a codebook (or map onto
the project's codebook when they came from it), users become human coders, and each coded
selection becomes a span of its user's coding, read as segment codings by the overlap rule of
:mod:`qualcode.coding.spans`. A coder who made a selection in a source examined that source.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualcode.codebook import Codebook, store_codebook
from qualcode.coding.project import (
    ImportReport,
    check_human_name,
    coder_id,
    resolve_codebook,
    store_human_codings,
)
from qualcode.coding.spans import DocumentCodings, respondent_segments_of
from qualcode.errors import InputError
from qualcode.ingest.turns import segment_text
from qualcode.interop.archive import open_archive
from qualcode.interop.codes import codebook_from_refi, onto_codebook
from qualcode.interop.refi import RefiProject, RefiSource, describe, read_project
from qualcode.store import Store
from qualcode.store import queries as q
from qualcode.textio import text_sha256
from qualcode.types import ParsedDocument


@dataclass(slots=True)
class QdpxImport:
    counts: dict[str, Any]  # what the file holds (sources, codes, users, selections, codings)
    documents_added: list[str] = field(default_factory=list)
    documents_matched: list[tuple[str, str]] = field(default_factory=list)  # (source, document)
    codebook: str | None = None  # the codebook the codings use
    codebook_new: bool = False
    coders: list[ImportReport] = field(default_factory=list)
    users: list[str] = field(default_factory=list)  # every user, as the coder names kept
    warnings: list[str] = field(default_factory=list)


def parse_coder_map(items: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in items:
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise InputError(None, f"{item!r} is not OLD=NEW", field="--coder-map")
        check_human_name(new.strip())
        out[old.strip()] = new.strip()
    return out


def import_qdpx(
    store: Store,
    path: Path,
    *,
    site: str | None = None,
    coder_map: dict[str, str] | None = None,
    offsets: str = "auto",
    codebook: Codebook | None = None,
) -> QdpxImport:
    """Read and check the whole project first; then write it in one transaction."""
    archive = open_archive(path)
    try:
        project = read_project(archive, offsets)
    finally:
        archive.close()
    result = QdpxImport(counts=describe(project))
    coder_map = coder_map or {}
    for name in coder_map:
        if name not in project.users.values():
            raise InputError(
                None,
                f"no user {name!r} in {path.name} (users: "
                f"{', '.join(sorted(project.users.values())) or 'none'})",
                field="--coder-map",
            )
    result.warnings += [f"source {s} skipped: qualcode reads text sources" for s in project.skipped]
    result.warnings += [
        f"source {s.name!r} skipped: {s.problem}" for s in project.sources if s.text is None
    ]
    if project.all_sets > len(project.sets):
        result.warnings.append(
            f"{project.all_sets - len(project.sets)} sets of sources or notes not kept "
            "(qualcode keeps sets of codes)"
        )
    code_of, book = _codebook(store, project, path, codebook)
    if book is not None:
        result.codebook = book.name
    with store.atomic():
        run_id = q.start_run(
            store,
            "import",
            {"file": str(path), "sha256": _sha256(path), "origin": project.origin, "site": site},
        )
        if book is not None:
            result.codebook_new = (
                store.execute("SELECT 1 FROM codebooks WHERE hash = ?", (book.hash,)).fetchone()
                is None
            )
            store_codebook(store, book)
        documents = _documents(store, project, site, run_id, result)
        by_coder = _codings(store, project, documents, code_of, coder_map, result)
        for user in sorted(set(project.users.values())):
            name = coder_map.get(user, user)
            check_human_name(name)
            coder_id(store, name, "human")
            result.users.append(name)
        for coder, docs in sorted(by_coder.items()):
            result.coders.append(
                store_human_codings(
                    store,
                    coder,
                    book,
                    list(docs.values()),
                    command="import",
                    parameters={"file": str(path), "origin": project.origin, "run": run_id},
                )
            )
        q.finish_run(store, run_id)
    return result


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _codebook(
    store: Store, project: RefiProject, path: Path, given: Codebook | None
) -> tuple[dict[str, str], Codebook | None]:
    if not project.codes:
        return {}, None
    current = given or resolve_codebook(store)
    mapping = onto_codebook(project.codes, current)
    if mapping is not None:
        return mapping, current
    used = {c.code for s in project.sources for sel in s.selections for c in sel.codings}
    book, mapping = codebook_from_refi(
        project.codes,
        name=project.name or path.stem,
        origin=project.origin,
        coded_parents=used,
        sets=project.sets,
        source=path.name,
    )
    return mapping, book


def _documents(
    store: Store, project: RefiProject, site: str | None, run_id: int, result: QdpxImport
) -> dict[str, int]:
    """Source GUID -> document id: an existing document with the same text, or a new one."""
    known = {
        text_sha256(r["text"]): (r["id"], r["path"])
        for r in store.execute("SELECT id, path, text FROM documents")
    }
    paths = {r[0] for r in store.execute("SELECT path FROM documents")}
    out: dict[str, int] = {}
    for source in project.sources:
        if source.text is None:
            continue
        digest = text_sha256(source.text)
        if digest in known:
            out[source.guid] = known[digest][0]
            result.documents_matched.append((source.name, known[digest][1]))
            continue
        doc = _parsed(source, paths)
        paths.add(doc.path)
        out[source.guid] = q.insert_document(
            store,
            doc,
            sha256=digest,
            site=source.variables.get("site") or site,
            participant_ids={},
            document_participant=None,
            run_id=run_id,
        )
        known[digest] = (out[source.guid], doc.path)
        result.documents_added.append(doc.path)
    return out


def _parsed(source: RefiSource, taken: set[str]) -> ParsedDocument:
    base = source.name.strip() or source.guid
    path, number = base, 2
    while path in taken:
        path, number = f"{base} ({number})", number + 1
    segments, warnings = segment_text(source.text or "")
    doc = ParsedDocument(
        path=path,
        source=f"REFI-QDA source {source.guid}",
        format="qdpx",
        text=source.text or "",
        segments=segments,
        metadata={k: v for k, v in source.variables.items() if k != "site"},
        warnings=warnings,
    )
    doc.check_offsets()
    return doc


def _codings(
    store: Store,
    project: RefiProject,
    documents: dict[str, int],
    code_of: dict[str, str],
    coder_map: dict[str, str],
    result: QdpxImport,
) -> dict[str, dict[int, DocumentCodings]]:
    """Coder -> document id -> the coder's spans there."""
    sole = next(iter(project.users.values())) if len(project.users) == 1 else None
    by_coder: dict[str, dict[int, DocumentCodings]] = {}
    problems: Counter[str] = Counter()
    for source in project.sources:
        if source.guid not in documents:
            continue
        document_id = documents[source.guid]
        segments = respondent_segments_of(store, document_id)
        for sel in source.selections:
            if sel.end <= sel.start:
                problems["empty or reversed selections"] += len(sel.codings)
                continue
            for coding in sel.codings:
                user = project.users.get(coding.user or "", sole)
                if user is None:
                    problems["codings by no known user"] += 1
                    continue
                code = code_of.get(coding.code)
                if code is None:
                    problems["codings of a code not in the codebook"] += 1
                    continue
                coder = coder_map.get(user, user)  # names checked with the users, below
                docs = by_coder.setdefault(coder, {})
                coded = docs.setdefault(document_id, DocumentCodings(document_id)).add(
                    code, sel.start, sel.end, segments
                )
                if not coded:
                    problems["codings on no respondent turn (kept for the character unit)"] += 1
    result.warnings += [f"{n} {what}" for what, n in sorted(problems.items())]
    return by_coder
