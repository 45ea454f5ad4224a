"""Which codings a coder name stands for: a human coder, a machine coder's run, or ``machine``.

A human coder's codings are all of theirs (an import replaces their earlier codings of the
same documents). A machine coder (``hybrid``, ``rules``, ``model``) stands for its latest
finished run; ``machine`` for the latest finished run of any machine coder; ``run:N`` (or
``NAME@N``) for one run.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from qualcode.errors import InputError
from qualcode.store import Store
from qualcode.store.queries import latest_machine_run
from qualcode.textio import merge_spans

_RUN = re.compile(r"^(?:run:|#)(\d+)$|^(.+)@(\d+)$")


@dataclass(slots=True)
class CoderCodings:
    """One coder's view of the project: the segments examined and the codes given to each."""

    spec: str  # as the user wrote it
    name: str  # the coder's name in the store
    kind: str  # human or machine
    run_id: int | None  # None: every run of a human coder
    listed: set[int] = field(default_factory=set)  # segments the coder listed, coded or not
    documents: set[int] = field(default_factory=set)  # documents of those segments
    codes: dict[int, set[str]] = field(default_factory=dict)  # segment id -> codes
    # (document id, code) -> the coder's spans there, merged; codings without spans (machine
    # runs) cover their whole segment.
    spans: dict[tuple[int, str], list[tuple[int, int]]] = field(default_factory=dict)
    training: str | None = None  # what a machine run was trained on
    trained_on: dict[str, Any] | None = None  # a machine run's training coders and documents

    @property
    def label(self) -> str:
        if self.run_id is None or self.spec == self.name:
            return self.name if self.run_id is None else f"{self.name} (run {self.run_id})"
        return f"{self.spec} = {self.name} (run {self.run_id})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.spec,
            "coder": self.name,
            "kind": self.kind,
            "run": self.run_id,
            "trained_on": self.training,
        }


def parse_coders(text: str) -> list[str]:
    specs = [s.strip() for s in text.split(",") if s.strip()]
    if len(specs) < 2:
        raise InputError(
            None, f"name two or more coders, comma-separated (got {text!r})", field="--coders"
        )
    if len(set(specs)) != len(specs):
        raise InputError(None, f"a coder is named twice in {text!r}", field="--coders")
    return specs


def resolve(
    store: Store, spec: str, field: str = "--coders", *, codings: bool = True
) -> CoderCodings:
    """Look a coder spec up in the store; an unknown one is an error listing those known.

    With ``codings=False`` only who the coder is (name, kind, run, training) is read, not the
    segments and codes: for callers that count codings in SQL (the report), since a machine
    run on a large consultation has millions of them."""
    match = _RUN.match(spec)
    if match:
        run_id = int(match.group(1) or match.group(3))
        row = store.execute(
            "SELECT r.id, r.parameters, k.name, k.kind FROM runs r"
            " JOIN coders k ON k.name = r.coder WHERE r.id = ? AND r.command = 'code'",
            (run_id,),
        ).fetchone()
        if row is None or (match.group(2) and row["name"] != match.group(2)):
            raise InputError(None, f"no coding run {spec!r} in the project", field=field)
        return _load(store, spec, row["name"], row["kind"], run_id, row["parameters"], codings)
    if spec == "machine":
        row = latest_machine_run(store)
        if row is None:
            raise InputError(
                None, "no machine coding in the project yet; run 'qualcode code'", field="--coders"
            )
        return _load(store, spec, row["coder"], "machine", row["id"], row["parameters"], codings)
    row = store.execute("SELECT id, name, kind FROM coders WHERE name = ?", (spec,)).fetchone()
    if row is None:
        known = [r[0] for r in store.execute("SELECT name FROM coders ORDER BY name")]
        raise InputError(
            None,
            f"no coder {spec!r} in the project (coders: {', '.join(known) or 'none'}; also "
            "'machine' for the latest machine run, or run:N)",
            field=field,
        )
    if row["kind"] == "human":
        return _load(store, spec, spec, "human", None, None, codings)
    latest = store.execute(
        "SELECT id, parameters FROM runs WHERE coder = ? AND command = 'code'"
        " AND status = 'finished' ORDER BY id DESC LIMIT 1",
        (spec,),
    ).fetchone()
    if latest is None:
        raise InputError(None, f"coder {spec!r} has no finished run", field=field)
    return _load(store, spec, spec, "machine", latest["id"], latest["parameters"], codings)


def _load(
    store: Store,
    spec: str,
    name: str,
    kind: str,
    run_id: int | None,
    parameters: str | None,
    codings: bool = True,
) -> CoderCodings:
    coder_id = store.execute("SELECT id FROM coders WHERE name = ?", (name,)).fetchone()["id"]
    run_filter, args = (
        ("", (coder_id,)) if run_id is None else (" AND run_id = ?", (coder_id, run_id))
    )
    out = CoderCodings(spec=spec, name=name, kind=kind, run_id=run_id)
    if parameters:
        params = json.loads(parameters)
        out.training = params.get("training")
        out.trained_on = params.get("trained_on")
    if not codings:
        return out
    for r in store.execute(
        "SELECT u.segment_id, s.document_id FROM coded_segments u"
        " JOIN segments s ON s.id = u.segment_id WHERE u.coder_id = ?" + run_filter,
        args,
    ):
        out.listed.add(r["segment_id"])
        out.documents.add(r["document_id"])
    for r in store.execute(
        "SELECT c.segment_id, s.document_id, k.code FROM codings c"
        " JOIN codes k ON k.id = c.code_id JOIN segments s ON s.id = c.segment_id"
        " WHERE c.coder_id = ?" + run_filter.replace("run_id", "c.run_id"),
        args,
    ):
        out.codes.setdefault(r["segment_id"], set()).add(r["code"])
        # Segments with codings count as listed even where an older store has no
        # coded_segments row for them.
        out.listed.add(r["segment_id"])
        out.documents.add(r["document_id"])
    spans: dict[tuple[int, str], list[tuple[int, int]]] = {}
    for r in store.execute(
        'SELECT p.document_id, k.code, p.start, p."end" FROM coding_spans p'
        " JOIN codes k ON k.id = p.code_id WHERE p.coder_id = ?"
        + run_filter.replace("run_id", "p.run_id"),
        args,
    ):
        spans.setdefault((r["document_id"], r["code"]), []).append((r["start"], r["end"]))
        out.documents.add(r["document_id"])
    out.spans = {key: merge_spans(value) for key, value in spans.items()}
    return out
