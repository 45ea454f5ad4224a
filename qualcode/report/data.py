"""Everything the site-comparison report shows, computed from the project store.

Shares are normalised per site: the share of a site's respondent segments that carry a code,
and how many of its respondents raised it, so that a site with more or longer interviews does
not look worse for it. Orders are fixed (sites, codes in codebook order, ties by id) so the
same project gives the same report.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from qualcode.agreement.coders import resolve
from qualcode.codebook import Codebook
from qualcode.coding.expected import REVIEW_BELOW, expected_for
from qualcode.errors import EmptyCorpusError
from qualcode.store import Store
from qualcode.store.queries import RESPONDENT_UNITS
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
    """The report's figures, counted by SQLite over the project in a few grouped queries.

    Nothing here holds every segment or coding in memory: the respondent segments and the
    coder's codes are copied into temporary tables (which SQLite keeps on disk past its page
    cache), every share is a ``GROUP BY`` over them, and only the quotes that are shown are
    read with their text. Memory stays flat as a consultation grows to hundreds of thousands
    of responses.
    """
    total = store.execute("SELECT count(*) FROM segments WHERE is_interviewer = 0").fetchone()[0]
    if not total:
        raise EmptyCorpusError("no respondent segments in the project; ingest transcripts first")
    who = resolve(store, coder or default_coder(store), field="--coder", codings=False)
    coder_id = store.execute("SELECT id FROM coders WHERE name = ?", (who.name,)).fetchone()[0]
    codes = [
        {"id": c.id, "label": c.label, "family": c.family, "polarity": c.polarity}
        for c in codebook.codable
    ]
    families = [
        {"id": f, "label": codebook.codes[f].label if f in codebook.codes else f}
        for f in dict.fromkeys(c["family"] for c in codes)
    ]
    with _tables(store, codebook, coder_id, who.run_id):
        sites = [r[0] for r in store.execute("SELECT DISTINCT site FROM r_units ORDER BY site")]
        members = {
            r[0]: (r[1], r[2])
            for r in store.execute(
                "SELECT site, count(*), count(DISTINCT participant) FROM r_units GROUP BY site"
            )
        }
        overview, caveats = _overview(store, sites)
        matrix = _matrix(codes, sites, members, _counts(store, "h.code"))
        family_matrix = _matrix(families, sites, members, _counts(store, "b.family"))
        by_polarity = _counts(store, "b.family", "b.polarity")
        family_polarity = {
            (f["id"], pol): _matrix(
                [{"id": f["id"]}],
                sites,
                members,
                {
                    (f["id"], s): v
                    for (fam, p, s), v in by_polarity.items()
                    if (fam, p) == (f["id"], pol)
                },
            )[f["id"]]
            for f in families
            for pol in ("barrier", "prerequisite")
        }
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
            scorecard=_scorecard(store, codebook, codes, sites, matrix),
            quotes=_quotes(store, codes, sites),
            breakdown={
                key: _breakdown(store, key, families)
                for key in ("tier", "stakeholder_group", "site_tier")
            },
            cooccurrence=_cooccurrence(store, codebook),
            distinctive=_distinctive(codes, sites, matrix),
            segments_by_site={s: members[s][0] for s in sites},
        )


# A participant that is not known (no pseudonym, no speaker) is one person in the counts, as a
# Python set counts None once; SQL's count(DISTINCT) would skip NULLs, so it gets this stand-in.
NOBODY = "\x00"


@contextmanager
def _tables(store: Store, codebook: Codebook, coder_id: int, run_id: int | None) -> Iterator[None]:
    """Temporary tables for the report's queries, dropped afterwards:

    * ``r_units``: respondent segments with site, participant, document, words, tier, group;
    * ``r_book``: each codable code with its family (the part of its id before the first dot)
      and polarity, and ``r_answers``: each prerequisite with the barriers it answers;
    * ``r_has``: which codes of the codebook the coder (or the run) gave each respondent
      segment, once per segment and code, with ``r_codings`` holding every such coding.
    """
    _drop(store)
    try:
        store.execute(
            "CREATE TEMP TABLE r_units AS SELECT id,"
            " coalesce(nullif(site, ''), '(no site)') AS site,"
            " coalesce(nullif(participant, ''), speaker, ?) AS participant,"
            " document, format, words, tier, stakeholder_group, role"
            f" FROM ({RESPONDENT_UNITS})",
            (NOBODY,),
        )
        store.execute("CREATE UNIQUE INDEX temp.r_units_id ON r_units (id)")
        store.execute(
            "CREATE TEMP TABLE r_book (code TEXT PRIMARY KEY, family TEXT, polarity TEXT)"
        )
        store.conn.executemany(
            "INSERT INTO r_book VALUES (?, ?, ?)",
            [(c.id, c.id.split(".")[0], c.polarity) for c in codebook.codable],
        )
        store.execute("CREATE TEMP TABLE r_answers (prerequisite TEXT, barrier TEXT)")
        store.conn.executemany(
            "INSERT INTO r_answers VALUES (?, ?)",
            [
                (c.id, barrier)
                for c in codebook.codable
                if c.polarity == "prerequisite"
                for barrier in _paired_barriers(codebook, c.id)
            ],
        )
        store.execute(
            "CREATE TEMP TABLE r_codings AS SELECT c.id AS coding, c.segment_id, k.code,"
            " c.confidence FROM codings c JOIN codes k ON k.id = c.code_id"
            " JOIN r_book b ON b.code = k.code"
            " WHERE c.coder_id = ? AND (? IS NULL OR c.run_id = ?)"
            " AND c.segment_id IN (SELECT id FROM r_units)",
            (coder_id, run_id, run_id),
        )
        store.execute(
            "CREATE TEMP TABLE r_has (segment_id INTEGER, code TEXT,"
            " PRIMARY KEY (segment_id, code)) WITHOUT ROWID"
        )
        store.execute("INSERT OR IGNORE INTO r_has SELECT segment_id, code FROM r_codings")
        yield
    finally:
        _drop(store)


def _drop(store: Store) -> None:
    for table in ("r_units", "r_book", "r_answers", "r_codings", "r_has"):
        store.execute(f"DROP TABLE IF EXISTS temp.{table}")


def _counts(store: Store, *keys: str, by: str = "u.site") -> dict[tuple, tuple[int, int]]:
    """Segments and distinct participants per (keys..., by) that carry a code, where keys are
    columns of ``r_has h`` and ``r_book b`` (a code, or a family and polarity) and ``by`` an
    expression over the unit ``r_units u`` (its site, or a value of ``BREAKDOWN_KEYS``)."""
    columns = ", ".join(keys)
    rows = store.execute(
        f"SELECT {columns}, {by} AS grouped, count(DISTINCT h.segment_id),"
        " count(DISTINCT u.participant)"
        " FROM r_has h JOIN r_book b ON b.code = h.code JOIN r_units u ON u.id = h.segment_id"
        f" GROUP BY {columns}, grouped"
    )
    return {tuple(r[: len(keys) + 1]): (r[-2], r[-1]) for r in rows}


def _overview(store: Store, sites: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
    counted = {
        r["site"]: r
        for r in store.execute(
            "SELECT site, count(*) AS segments, coalesce(sum(words), 0) AS words,"
            " count(DISTINCT participant) AS participants,"
            " count(DISTINCT CASE WHEN instr(document, '#') = 0 THEN document END) AS interviews,"
            " count(DISTINCT CASE WHEN instr(document, '#') > 0 THEN document END) AS responses"
            " FROM r_units GROUP BY site"
        )
    }
    spread: dict[str, dict[str, dict[str, int]]] = {"groups": {}, "tiers": {}}
    for name, column in (("groups", "stakeholder_group"), ("tiers", "tier")):
        for site, value, n in store.execute(
            f"SELECT site, coalesce(nullif({column}, ''), '(none)') AS value, count(*)"
            " FROM r_units GROUP BY site, value ORDER BY site, value"
        ):
            spread[name].setdefault(site, {})[value] = n
    rows = []
    for site in sites:
        r = counted[site]
        rows.append(
            {
                "site": site,
                "interviews": r["interviews"],
                "responses": r["responses"],
                "participants": r["participants"],
                "segments": r["segments"],
                "words": r["words"],
                "groups": spread["groups"].get(site, {}),
                "tiers": spread["tiers"].get(site, {}),
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


def _matrix(items, sites, members, counts) -> dict[str, dict[str, dict[str, Any]]]:
    """Per item (code or family) and site: the segments carrying it, their share of the site's
    segments, and how many of the site's participants raised it. ``members`` is site ->
    (segments, participants); ``counts`` is (item, site) -> (segments, participants)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for item in items:
        row = {}
        for site in sites:
            segments, people = members[site]
            n, raised = counts.get((item["id"], site), (0, 0))
            row[site] = {
                "n": n,
                "share": n / segments if segments else 0.0,
                "people": raised,
                "of_people": people,
                "few": n < MIN_SEGMENTS or segments < MIN_SEGMENTS,
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


def _scorecard(store: Store, codebook, codes, sites, matrix) -> list[dict[str, Any]]:
    """Per prerequisite and site: present (evidenced more often than its barriers are raised),
    missing (its barriers raised more often), mixed (as often), too little to say (fewer than
    MIN_SEGMENTS segments either way), or not discussed. A prerequisite answers every barrier
    paired with it (secure funding answers both budget constraints and short-term funding);
    a segment raising two of them counts once."""
    raised = {
        (r[0], r[1]): r[2]
        for r in store.execute(
            "SELECT a.prerequisite, u.site, count(DISTINCT h.segment_id) FROM r_answers a"
            " JOIN r_has h ON h.code = a.barrier JOIN r_units u ON u.id = h.segment_id"
            " GROUP BY a.prerequisite, u.site"
        )
    }
    rows = []
    for c in codes:
        if c["polarity"] != "prerequisite":
            continue
        barriers = _paired_barriers(codebook, c["id"])
        cells = {}
        for site in sites:
            present = matrix[c["id"]][site]["n"]
            missing = raised.get((c["id"], site), 0)
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


# The quotes' order, best first: the most confident coding, then one short enough to read
# beside a figure, then the segment given fewest other codes, then corpus order (segment id),
# then the order the codings were stored in.
QUOTE_ORDER = "confidence DESC, long, others, segment_id, coding"


def _quotes(store: Store, codes, sites) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Per code and site, up to QUOTES_PER_CELL quotes, one per person, strongest first (see
    QUOTE_ORDER; a quote is long over LONG_QUOTE words). SQL ranks each person's codings and
    then the people; only the chosen segments' text and evidence are read."""
    chosen = store.execute(
        "WITH candidate AS ("
        "  SELECT c.coding, c.segment_id, c.code, c.confidence, u.site, u.participant,"
        "   coalesce(u.words, 0) > ? AS long,"
        "   (SELECT count(*) FROM r_has h WHERE h.segment_id = c.segment_id) AS others"
        "  FROM r_codings c JOIN r_units u ON u.id = c.segment_id),"
        " own_best AS (SELECT *, row_number() OVER ("
        f"  PARTITION BY code, site, participant ORDER BY {QUOTE_ORDER}) AS mine FROM candidate),"
        " ranked AS (SELECT *, row_number() OVER ("
        f"  PARTITION BY code, site ORDER BY {QUOTE_ORDER}) AS place FROM own_best WHERE mine = 1)"
        " SELECT r.code, r.site, r.place, r.confidence, r.segment_id, r.participant, u.format,"
        " u.role, u.stakeholder_group, u.tier, s.text, g.evidence"
        " FROM ranked r JOIN r_units u ON u.id = r.segment_id"
        " JOIN segments s ON s.id = r.segment_id JOIN codings g ON g.id = r.coding"
        " WHERE r.place <= ?",
        (LONG_QUOTE, QUOTES_PER_CELL),
    ).fetchall()
    found: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for r in sorted(chosen, key=lambda r: r["place"]):
        found[(r["code"], r["site"])].append(r)
    out = {}
    for c in codes:  # codebook order, then site order, as the report lists them
        for site in sites:
            rows = found.get((c["id"], site))
            if not rows:
                continue
            out[(c["id"], site)] = [
                {
                    "segment_id": r["segment_id"],
                    "speaker": "survey respondent"
                    if r["format"] == "csv"
                    else (None if r["participant"] == NOBODY else r["participant"]),
                    "weak": r["confidence"] < WEAK_MATCH,
                    "role": r["role"],
                    "group": r["stakeholder_group"],
                    "tier": r["tier"],
                    "site": site,
                    "confidence": r["confidence"],
                    "pieces": marked_pieces(
                        r["text"], [(e["start"], e["end"]) for e in json.loads(r["evidence"])]
                    ),
                }
                for r in rows
            ]
    return out


# The groups a breakdown compares, as SQL over r_units: tier, stakeholder group, site and tier.
BREAKDOWN_KEYS = {
    "tier": "coalesce(nullif(u.tier, ''), '(none)')",
    "stakeholder_group": "coalesce(nullif(u.stakeholder_group, ''), '(none)')",
    "site_tier": "u.site || ': ' || coalesce(nullif(u.tier, ''), '(none)')",
}


def _breakdown(store: Store, key: str, families) -> list[dict[str, Any]]:
    """Per value of ``key`` (tier, stakeholder group, or site and tier): share of segments per
    family and polarity, with the count behind it and whether it rests on fewer than
    MIN_SEGMENTS segments."""
    value = BREAKDOWN_KEYS[key]
    groups = {
        r[0]: (r[1], r[2])
        for r in store.execute(
            f"SELECT {value} AS value, count(*), count(DISTINCT u.participant) FROM r_units u"
            " GROUP BY value ORDER BY value"
        )
    }
    hits = _counts(store, "b.family", "b.polarity", by=value)
    rows = []
    for name, (segments, people) in groups.items():
        shares = {}
        for f in families:
            for polarity in ("barrier", "prerequisite"):
                n = hits.get((f["id"], polarity, name), (0, 0))[0]
                shares[(f["id"], polarity)] = {
                    "share": n / segments,
                    "n": n,
                    "few": n < MIN_SEGMENTS or segments < MIN_SEGMENTS,
                }
        rows.append(
            {
                "value": name,
                "segments": segments,
                "people": people,
                "few": segments < MIN_SEGMENTS,
                "shares": shares,
            }
        )
    return rows


def _cooccurrence(store: Store, codebook) -> list[dict[str, Any]]:
    """The 20 pairs of codes most often given to the same segment (at least MIN_SEGMENTS),
    with their Jaccard overlap."""
    single = dict(store.execute("SELECT code, count(*) FROM r_has GROUP BY code").fetchall())
    pairs = store.execute(
        "SELECT a.code, b.code, count(*) AS n FROM r_has a JOIN r_has b"
        " ON b.segment_id = a.segment_id AND b.code > a.code"
        " GROUP BY a.code, b.code HAVING n >= ?",
        (MIN_SEGMENTS,),
    ).fetchall()
    rows = []
    for a, b, n in pairs:
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
