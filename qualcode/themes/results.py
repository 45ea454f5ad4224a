"""Stored themes runs read back: topics with their quotes (from segment offsets), exports and
the YAML fragment of suggested codes."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from qualcode.errors import InputError, QualcodeError
from qualcode.store import Store
from qualcode.textio import csv_text


def latest_run(store: Store, run_id: int | None = None) -> int:
    if run_id is not None:
        row = store.execute(
            "SELECT id FROM runs WHERE id = ? AND command = 'themes'", (run_id,)
        ).fetchone()
        if row is None:
            raise InputError(None, f"no themes run {run_id}", field="--run")
        return run_id
    row = store.execute(
        "SELECT max(id) FROM runs WHERE command = 'themes' AND status = 'finished'"
    ).fetchone()
    if row[0] is None:
        raise QualcodeError("no themes yet; run 'qualcode themes fit' first")
    return int(row[0])


def latest_by_grouping(store: Store) -> dict[str | None, int]:
    """The latest finished themes run of each grouping (None: the whole corpus; 'site', ...),
    counting only runs over the whole project (no --site filter)."""
    out: dict[str | None, int] = {}
    for row in store.execute(
        "SELECT id, parameters FROM runs WHERE command = 'themes' AND status = 'finished'"
        " ORDER BY id DESC"
    ):
        params = json.loads(row["parameters"])
        if params.get("site"):
            continue
        out.setdefault(params.get("by"), int(row["id"]))
    return out


def load(store: Store, run_id: int) -> list[dict[str, Any]]:
    """Every topic model of a run, each with its topics (quotes filled in from segments)."""
    models = []
    for m in store.execute(
        "SELECT * FROM topic_models WHERE run_id = ? ORDER BY group_value", (run_id,)
    ).fetchall():
        model = dict(m) | {"method": json.loads(m["method"]), "topics": []}
        for t in store.execute(
            "SELECT * FROM topics WHERE model_id = ? ORDER BY size DESC, topic", (m["id"],)
        ).fetchall():
            details = json.loads(t["details"])
            topic = dict(t) | {
                "keywords": json.loads(t["keywords"]),
                "emergent": bool(t["emergent"]),
                **details,
            }
            topic.pop("details")
            topic["quotes"] = _quote_texts(store, details.get("quotes", []))
            topic["size"] = store.execute(  # segments may have been removed since
                "SELECT count(*) FROM topic_segments WHERE topic_id = ?", (t["id"],)
            ).fetchone()[0]
            model["topics"].append(topic)
        models.append(model)
    return models


def _quote_texts(store: Store, quotes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for quote in quotes:
        row = store.execute("SELECT text FROM segments WHERE id = ?", (quote["segment_id"],))
        segment = row.fetchone()
        if segment is None:  # the document was removed: its words go with it
            continue
        out.append(quote | {"text": segment["text"][quote["start"] : quote["end"]]})
    return out


def topic_key(model: dict[str, Any], topic: dict[str, Any]) -> str:
    """How a topic is named on the command line: 3, or Brannock:3 in a grouped run."""
    prefix = f"{model['group_value']}:" if model["group_value"] is not None else ""
    return f"{prefix}{topic['topic']}"


EXPORT_COLUMNS = (
    "run",
    "grouping",
    "group",
    "topic",
    "label",
    "size",
    "emergent",
    "keywords",
    "matched_code",
    "top_codes",
    "coverage",
    "sites",
    "stakeholder_groups",
    "tiers",
    "quotes",
    "reason",
)


def export_rows(models: list[dict[str, Any]], run_id: int) -> list[dict[str, Any]]:
    rows = []
    for m in models:
        for t in m["topics"]:
            dist = t.get("distribution", {})
            rows.append(
                {
                    "run": run_id,
                    "grouping": m["grouping"],
                    "group": m["group_value"],
                    "topic": t["topic"],
                    "label": t["label"],
                    "size": t["size"],
                    "emergent": t["emergent"],
                    "keywords": [w for w, _ in t["keywords"]],
                    "matched_code": t.get("matched_code"),
                    "top_codes": t.get("codes", []),
                    "coverage": t.get("coverage"),
                    "sites": dist.get("site", {}),
                    "stakeholder_groups": dist.get("stakeholder_group", {}),
                    "tiers": dist.get("tier", {}),
                    "quotes": [
                        {k: q[k] for k in ("text", "speaker", "site", "stakeholder_group")}
                        for q in t["quotes"]
                    ],
                    "reason": t.get("reason", ""),
                }
            )
    return rows


def themes_csv(rows: list[dict[str, Any]]) -> str:
    """Topic rows as CSV text (EXPORT_COLUMNS); lists and mappings as JSON."""
    return csv_text(
        EXPORT_COLUMNS,
        (
            {
                k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v
                for k, v in row.items()
            }
            for row in rows
        ),
    )


def suggested_codes(models: list[dict[str, Any]], family: str = "emergent") -> str:
    """The emergent-theme candidates as codebook YAML, for a person to edit and merge."""
    codes: list[dict[str, Any]] = []
    seen: set[str] = set()
    for m in models:
        for t in m["topics"]:
            if not t["emergent"]:
                continue
            label = "" if t.get("matched_code") else t["label"]
            words = [w.strip() for w in label.split(",") if w.strip()]
            words = words or [w for w, _ in t["keywords"]][:3]
            slug = (
                re.sub(r"[^a-z0-9]+", "_", "_".join(words).lower()).strip("_")
                or f"topic_{t['topic']}"
            )
            code_id = f"{family}.{slug}"
            if code_id in seen:
                continue
            seen.add(code_id)
            where = f" at {m['group_value']}" if m["group_value"] else ""
            codes.append(
                {
                    "id": code_id,
                    "label": " / ".join(words).capitalize() or code_id,
                    "polarity": "neutral",
                    "definition": (
                        f"EDIT ME: an emergent theme from topic {topic_key(m, t)} of the themes run"
                        f"{where} ({t['size']} segments; keywords: "
                        f"{', '.join(w for w, _ in t['keywords'][:8])}). {t.get('reason', '')}."
                    ),
                    "include": ["EDIT ME: what talk counts as this theme"],
                    "exclude": ["EDIT ME: which codebook code takes talk that looks like it"],
                    "examples": [q["text"] for q in t["quotes"][:3]],
                    "near_misses": ["EDIT ME: a phrase that must not get this code"],
                }
            )
    header = (
        "# Emergent-theme candidates from `qualcode themes fit`, in the codebook's format.\n"
        "# Edit the EDIT ME fields, rename the ids, move each into a family (or keep them under\n"
        f"# a '{family}' group), then add them to your codebook and run `qualcode codebook"
        " validate`.\n"
    )
    if not codes:
        return header + "# No topic was flagged as an emergent-theme candidate.\ncodes: []\n"
    group = {
        "id": family,
        "label": "Emergent themes",
        "polarity": "neutral",
        "definition": "Themes the topic model found that the codebook does not name.",
    }
    return header + yaml.safe_dump(
        {"codes": [group, *codes]}, sort_keys=False, allow_unicode=True, width=100
    )
