"""Everything the site-comparison report shows, computed from the project store.

Shares are normalised per site: the share of a site's respondent segments that carry a code,
and how many of its respondents raised it, so that a site with more or longer interviews does
not look worse for it. Orders are fixed (sites, codes in codebook order, ties by id) so the
same project gives the same report.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from qualcode.agreement.coders import resolve
from qualcode.codebook import Codebook
from qualcode.coding.expected import REVIEW_BELOW, expected_for
from qualcode.errors import EmptyCorpusError
from qualcode.store import Store
from qualcode.store.queries import respondent_units
from qualcode.textio import marked_pieces
from qualcode.types import REFERENCE_CODERS

TOP_ITEMS = 5  # strengths and weaknesses per site
QUOTES_PER_CELL = 3
GLANCE_QUOTES = 2  # quotes beside each at-a-glance difference
# The one minimum for every figure in the report and its audit pages: a figure resting on fewer
# segments than this (a code raised on fewer, or a share of a group with fewer) is shown greyed,
# never coloured, never showcased at a glance or side by side, and never called present or
# missing. Five is small on purpose: it only keeps one or three segments from reading as a finding.
MIN_SEGMENTS = 5
WEAK_MATCH = 0.5  # machine quotes below this confidence are marked as weak matches
LONG_QUOTE = 90  # words; longer quotes are passed over when a shorter one says the same


def default_coder(store: Store) -> str:
    """The adjudicated human coder if it examined every respondent segment, else the latest
    machine run: a report should rest on the best coding that covers the whole corpus."""
    total = store.execute("SELECT count(*) FROM segments WHERE is_interviewer = 0").fetchone()[0]
    for name in REFERENCE_CODERS:
        row = store.execute(
            "SELECT count(DISTINCT u.segment_id) FROM coded_segments u JOIN coders k"
            " ON k.id = u.coder_id JOIN segments s ON s.id = u.segment_id"
            " WHERE k.name = ? AND k.kind = 'human' AND s.is_interviewer = 0",
            (name,),
        ).fetchone()
        if total and row[0] == total:
            return name
    return "machine"


@dataclass(slots=True)
class ReportData:
    codebook: Codebook
    coder: dict[str, Any]
    sites: list[str]
    overview: list[dict[str, Any]]
    caveats: list[str]
    codes: list[dict[str, Any]]  # codebook order: id, label, family, polarity
    matrix: dict[str, dict[str, dict[str, Any]]]  # code -> site -> {n, share, people, ...}
    family_matrix: dict[str, dict[str, dict[str, Any]]]
    family_polarity: dict[tuple[str, str], dict[str, dict[str, Any]]]  # (family, polarity)
    side_by_side: dict[str, dict[str, list[dict[str, Any]]]]
    scorecard: list[dict[str, Any]]
    quotes: dict[tuple[str, str], list[dict[str, Any]]]  # (code, site) -> quotes
    breakdown: dict[str, list[dict[str, Any]]]  # tier / stakeholder_group -> rows
    cooccurrence: list[dict[str, Any]]
    distinctive: dict[str, list[dict[str, Any]]]  # site -> codes raised far more than elsewhere
    segments_by_site: dict[str, int] = field(default_factory=dict)


def _segments(store: Store) -> list[dict[str, Any]]:
    rows = respondent_units(store)
    for r in rows:
        r["site"] = r["site"] or "(no site)"
        r["participant"] = r["participant"] or r["speaker"]
        # survey respondents are shown as such, not by their row ids
        r["display"] = "survey respondent" if r["format"] == "csv" else r["participant"]
    return rows


def _codings(store: Store, coder_id: int, run_id: int | None) -> dict[int, list[dict]]:
    sql = (
        "SELECT c.segment_id, k.code, c.confidence, c.evidence FROM codings c"
        " JOIN codes k ON k.id = c.code_id WHERE c.coder_id = ?"
    )
    args: tuple = (coder_id,)
    if run_id is not None:
        sql += " AND c.run_id = ?"
        args = (coder_id, run_id)
    out: dict[int, list[dict]] = defaultdict(list)
    for r in store.execute(sql, args):
        out[r["segment_id"]].append(
            {
                "code": r["code"],
                "confidence": r["confidence"],
                "evidence": json.loads(r["evidence"]),
            }
        )
    return out


def _expected(store: Store, who) -> dict[str, Any] | None:
    """The machine coder's out-of-domain kappa per family, where measured for it."""
    if who.kind != "machine" or who.run_id is None:
        return None
    run = store.execute(
        "SELECT coder, codebook_hash, parameters FROM runs WHERE id = ?", (who.run_id,)
    ).fetchone()
    if run is None:
        return None
    # the figures hold for the embedding they were measured with (``code --embedding``)
    embedding = json.loads(run["parameters"] or "{}").get("embedding") or "auto"
    expected = expected_for(run["codebook_hash"] or "", run["coder"] or "", who.training, embedding)
    if expected is None:
        return None
    return {
        "kappa": expected.kappa,
        "measured_on": expected.measured_on,
        "review": expected.review(),
        "review_below": REVIEW_BELOW,
    }


def build(store: Store, codebook: Codebook, coder: str | None = None) -> ReportData:
    units = _segments(store)
    if not units:
        raise EmptyCorpusError("no respondent segments in the project; ingest transcripts first")
    who = resolve(store, coder or default_coder(store), field="--coder")
    coder_id = store.execute("SELECT id FROM coders WHERE name = ?", (who.name,)).fetchone()[0]
    codings = _codings(store, coder_id, who.run_id)
    sites = sorted({u["site"] for u in units})
    codes = [
        {"id": c.id, "label": c.label, "family": c.family, "polarity": c.polarity}
        for c in codebook.codable
    ]
    known = {c["id"] for c in codes}
    by_site = defaultdict(list)
    for u in units:
        u["codes"] = {c["code"] for c in codings.get(u["id"], []) if c["code"] in known}
        u["site_tier"] = f"{u['site']}: {u['tier'] or '(none)'}"
        by_site[u["site"]].append(u)
    overview, caveats = _overview(units, sites, by_site)
    matrix = _matrix(codes, sites, by_site, lambda u, code: code in u["codes"])
    families = [
        {"id": f, "label": codebook.codes[f].label if f in codebook.codes else f}
        for f in dict.fromkeys(c["family"] for c in codes)
    ]
    family_matrix = _matrix(
        families, sites, by_site, lambda u, fam: any(c.split(".")[0] == fam for c in u["codes"])
    )
    polarity = {c["id"]: c["polarity"] for c in codes}
    family_polarity = {}
    for f in families:
        for pol in ("barrier", "prerequisite"):
            family_polarity[(f["id"], pol)] = _matrix(
                [{"id": f["id"]}],
                sites,
                by_site,
                lambda u, fam, pol=pol: any(
                    c.split(".")[0] == fam and polarity[c] == pol for c in u["codes"]
                ),
            )[f["id"]]
    return ReportData(
        codebook=codebook,
        coder=who.as_dict() | {"label": who.label, "expected": _expected(store, who)},
        sites=sites,
        overview=overview,
        caveats=caveats,
        codes=codes,
        matrix=matrix,
        family_matrix=family_matrix,
        family_polarity=family_polarity,
        side_by_side=_side_by_side(codes, sites, matrix),
        scorecard=_scorecard(codebook, codes, sites, by_site, matrix),
        quotes=_quotes(codes, sites, by_site, codings),
        breakdown={
            key: _breakdown(units, key, families, codebook)
            for key in ("tier", "stakeholder_group", "site_tier")
        },
        cooccurrence=_cooccurrence(units, codebook),
        distinctive=_distinctive(codes, sites, matrix),
        segments_by_site={s: len(by_site[s]) for s in sites},
    )


def _overview(units, sites, by_site) -> tuple[list[dict[str, Any]], list[str]]:
    rows = []
    for site in sites:
        members = by_site[site]
        documents = {u["document"] for u in members}
        interviews = {d for d in documents if "#" not in d}
        rows.append(
            {
                "site": site,
                "interviews": len(interviews),
                "responses": len(documents) - len(interviews),
                "participants": len({u["participant"] for u in members}),
                "segments": len(members),
                "words": sum(u["words"] or 0 for u in members),
                "groups": dict(
                    sorted(Counter(u["stakeholder_group"] or "(none)" for u in members).items())
                ),
                "tiers": dict(sorted(Counter(u["tier"] or "(none)" for u in members).items())),
            }
        )
    caveats = []
    words = [r["words"] for r in rows if r["words"]]
    if words and max(words) > 1.5 * min(words):
        caveats.append(
            "Sites differ in how much talk they contribute (respondent words from "
            f"{min(words):,} to {max(words):,}); figures are shares of each site's segments."
        )
    all_groups = {g for r in rows for g in r["groups"]}
    for r in rows:
        missing = sorted(all_groups - set(r["groups"]) - {"(none)"})
        if missing:
            caveats.append(
                f"{r['site']} has no {', no '.join(missing)} voice among its respondents."
            )
    return rows, caveats


def _matrix(items, sites, by_site, has) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for item in items:
        row = {}
        for site in sites:
            members = by_site[site]
            hits = [u for u in members if has(u, item["id"])]
            people = {u["participant"] for u in members}
            raised = {u["participant"] for u in hits}
            row[site] = {
                "n": len(hits),
                "share": len(hits) / len(members) if members else 0.0,
                "people": len(raised),
                "of_people": len(people),
                "few": len(hits) < MIN_SEGMENTS or len(members) < MIN_SEGMENTS,
            }
        out[item["id"]] = row
    return out


def _distinctive(codes, sites, matrix, top: int = 3) -> dict[str, list[dict[str, Any]]]:
    """Per site, the codes it raises most above the other sites' average (share of segments),
    for the at-a-glance summary; only codes on at least 5% of the site's segments and on at
    least MIN_SEGMENTS of them, so that no difference rests on one or two segments."""
    out = {}
    for site in sites:
        others = [s for s in sites if s != site]
        rows = []
        for c in codes:
            share = matrix[c["id"]][site]["share"]
            elsewhere = (
                sum(matrix[c["id"]][s]["share"] for s in others) / len(others) if others else 0.0
            )
            if share >= 0.05 and share > elsewhere and matrix[c["id"]][site]["n"] >= MIN_SEGMENTS:
                runner_up = max(others, key=lambda o: matrix[c["id"]][o]["share"], default=None)
                rows.append(
                    c
                    | matrix[c["id"]][site]
                    | {
                        "elsewhere": elsewhere,
                        "lift": share - elsewhere,
                        "next_site": runner_up,
                        "next_share": matrix[c["id"]][runner_up]["share"] if runner_up else 0.0,
                    }
                )
        rows.sort(key=lambda r: (-r["lift"], r["id"]))
        out[site] = rows[:top]
    return out


def _side_by_side(codes, sites, matrix) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Per site, the prerequisites (strengths) and barriers (weaknesses) most evidenced; items
    among the top of two or more sites are marked as common. Items raised on fewer than
    MIN_SEGMENTS segments are not ranked."""
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for kind, polarity in (("strengths", "prerequisite"), ("weaknesses", "barrier")):
        tops = {}
        for site in sites:
            ranked = sorted(
                (
                    c
                    for c in codes
                    if c["polarity"] == polarity and matrix[c["id"]][site]["n"] >= MIN_SEGMENTS
                ),
                key=lambda c: (-matrix[c["id"]][site]["share"], c["id"]),
            )
            tops[site] = ranked[:TOP_ITEMS]
        counts = Counter(c["id"] for site in sites for c in tops[site])
        for site in sites:
            out.setdefault(site, {})[kind] = [
                c | matrix[c["id"]][site] | {"common": counts[c["id"]] > 1} for c in tops[site]
            ]
    return out


def _paired_barriers(codebook: Codebook, code_id: str) -> list[str]:
    """Every barrier that answers a prerequisite: its own pair, and each barrier naming it."""
    out = []
    own = codebook.codes[code_id].pair
    if own and codebook.codes[own].polarity == "barrier":
        out.append(own)
    out += [
        c.id
        for c in codebook.codable
        if c.pair == code_id and c.polarity == "barrier" and c.id not in out
    ]
    return out


def _scorecard(codebook, codes, sites, by_site, matrix) -> list[dict[str, Any]]:
    """Per prerequisite and site: present (evidenced more often than its barriers are raised),
    missing (its barriers raised more often), mixed (as often), too little to say (fewer than
    MIN_SEGMENTS segments either way), or not discussed. A prerequisite answers every barrier
    paired with it (secure funding answers both budget constraints and short-term funding)."""
    rows = []
    for c in codes:
        if c["polarity"] != "prerequisite":
            continue
        barriers = _paired_barriers(codebook, c["id"])
        cells = {}
        for site in sites:
            present = matrix[c["id"]][site]["n"]
            missing = sum(1 for u in by_site[site] if u["codes"] & set(barriers))
            if not present and not missing:
                state = "not discussed"
            elif present + missing < MIN_SEGMENTS:
                state = "too little to say"
            elif present > missing:
                state = "present"
            elif missing > present:
                state = "missing"
            else:
                state = "mixed"
            cells[site] = {"state": state, "present": present, "missing": missing}
        rows.append(c | {"barriers": barriers, "cells": cells})
    return rows


def _quotes(codes, sites, by_site, codings) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Per code and site, up to three quotes, one per person, strongest first: the most
    confident coding, then one short enough to read beside a figure (LONG_QUOTE words), then
    the segment given fewest other codes (it is about this code), then corpus order."""
    out = {}
    for c in codes:
        for site in sites:
            candidates = []
            for u in by_site[site]:
                for coding in codings.get(u["id"], []):
                    if coding["code"] == c["id"]:
                        candidates.append((coding["confidence"], u, coding["evidence"]))
            candidates.sort(
                key=lambda x: (
                    -x[0],
                    (x[1]["words"] or 0) > LONG_QUOTE,
                    len(x[1]["codes"]),
                    x[1]["id"],
                )
            )
            chosen, people = [], set()
            for confidence, u, evidence in candidates:
                if u["participant"] in people:
                    continue
                people.add(u["participant"])
                chosen.append(
                    {
                        "segment_id": u["id"],
                        "speaker": u["display"],
                        "weak": confidence < WEAK_MATCH,
                        "role": u["role"],
                        "group": u["stakeholder_group"],
                        "tier": u["tier"],
                        "site": site,
                        "confidence": confidence,
                        "pieces": marked_pieces(
                            u["text"], [(e["start"], e["end"]) for e in evidence]
                        ),
                    }
                )
                if len(chosen) >= QUOTES_PER_CELL:
                    break
            if chosen:
                out[(c["id"], site)] = chosen
    return out


def _breakdown(units, key: str, families, codebook) -> list[dict[str, Any]]:
    """Per value of ``key`` (tier or stakeholder group): share of segments per family, with
    the count behind it and whether it rests on fewer than MIN_SEGMENTS segments."""
    groups = defaultdict(list)
    for u in units:
        groups[u[key] or "(none)"].append(u)
    rows = []
    for value in sorted(groups):
        members = groups[value]
        shares = {}
        for f in families:
            for polarity in ("barrier", "prerequisite"):
                hits = sum(
                    1
                    for u in members
                    if any(
                        c.split(".")[0] == f["id"] and codebook.codes[c].polarity == polarity
                        for c in u["codes"]
                    )
                )
                shares[(f["id"], polarity)] = {
                    "share": hits / len(members),
                    "n": hits,
                    "few": hits < MIN_SEGMENTS or len(members) < MIN_SEGMENTS,
                }
        people = len({u["participant"] for u in members})
        rows.append(
            {
                "value": value,
                "segments": len(members),
                "people": people,
                "few": len(members) < MIN_SEGMENTS,
                "shares": shares,
            }
        )
    return rows


def _cooccurrence(units, codebook) -> list[dict[str, Any]]:
    counts: Counter[tuple[str, str]] = Counter()
    single: Counter[str] = Counter()
    for u in units:
        single.update(u["codes"])
        for a, b in combinations(sorted(u["codes"]), 2):
            counts[(a, b)] += 1
    rows = []
    for (a, b), n in counts.items():
        if n < MIN_SEGMENTS:
            continue
        union = single[a] + single[b] - n
        rows.append(
            {
                "a": a,
                "b": b,
                "a_label": codebook.codes[a].label,
                "b_label": codebook.codes[b].label,
                "n": n,
                "jaccard": n / union if union else 0.0,
                "both_barriers": codebook.codes[a].polarity
                == codebook.codes[b].polarity
                == "barrier",
            }
        )
    rows.sort(key=lambda r: (-r["n"], -r["jaccard"], r["a"], r["b"]))
    return rows[:20]
