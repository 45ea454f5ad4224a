"""The agreement audit: per code, per family and overall, between two or more coders.

Units are the respondent segments every named coder examined (``--unit segment``), or the
characters of the documents they coded (``--unit character``, as NVivo's coding comparison
counts). For each code, each coder's decision on a unit is binary (used the code or not), and
the statistics of :mod:`qualcode.agreement.stats` are computed on that units x coders matrix.
Intervals come from one seeded bootstrap over units shared by every code, so pooled figures
resample whole segments, not separate code decisions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import krippendorff
import numpy as np

from qualcode.agreement import stats as st
from qualcode.agreement.coders import CoderCodings, parse_coders, resolve
from qualcode.codebook import Codebook
from qualcode.errors import EmptyCorpusError, UnknownCodeError
from qualcode.store import Store
from qualcode.store.queries import respondent_units
from qualcode.textio import text_sha256

NONE_CODE = "(none)"
# A bootstrap interval for kappa or alpha needs this many units where the code was used (and
# as many where it was not): with fewer, resampling gives [1, 1] for a code agreed on a few
# segments, or bounds that jump with the seed.
MIN_POSITIVE = 10
CI_STATISTICS = {"kappa_ci": None, "alpha_ci": "krippendorff_alpha"}


@dataclass(frozen=True, slots=True)
class Options:
    unit: str = "segment"  # or "character"
    scope: str = "document"  # or "listed": see SCOPES
    codes: tuple[str, ...] = ()  # code ids or families; empty: every code
    site: str | None = None
    document: str | None = None
    bootstrap: int = 1000
    seed: int = 0
    show_disagreements: tuple[str, ...] = ()  # codes whose disagreements to list
    excerpts: int = 0  # per code, for the HTML audit: the first N disagreements


def kappa_name(n_coders: int) -> str:
    """Cohen's kappa for two coders, Fleiss' for three or more."""
    return "cohen_kappa" if n_coders == 2 else "fleiss_kappa"


SCOPES = {
    "document": "a coder who coded a document examined all of it (as NVivo, ATLAS.ti and "
    "MAXQDA count)",
    "listed": "only the segments each coder listed (with a code or an empty-code row)",
}


def examined(coder: CoderCodings, segments: dict[int, Any], scope: str) -> set[int]:
    """The respondent segments (of this selection) that ``coder`` examined under ``scope``."""
    if scope == "listed":
        return coder.listed & set(segments)
    return {u for u, s in segments.items() if s["document_id"] in coder.documents}


def audit(store: Store, coders: str | Sequence[str], codebook: Codebook, options: Options) -> dict:
    """Everything ``qualcode agree`` reports, as the JSON document the README describes."""
    specs = parse_coders(coders) if isinstance(coders, str) else list(coders)
    if len(specs) < 2:
        parse_coders(",".join(specs))  # raises the usage message
    who = [resolve(store, spec) for spec in specs]
    segments = _segments(store, options)
    seen = [examined(c, segments, options.scope) for c in who]
    units = sorted(set(segments).intersection(*seen))
    examined_some = set().union(*seen)
    if not units and not (options.unit == "character" and options.scope == "document"):
        counts = ", ".join(f"{c.spec} {len(e)}" for c, e in zip(who, seen, strict=True))
        raise EmptyCorpusError(
            f"no segment was examined by every coder in this selection (segments examined: "
            f"{counts}); import or code the same documents first"
        )
    codes = select_codes(codebook, options.codes, who)
    result: dict[str, Any] = {
        "coders": [c.as_dict() for c in who],
        "unit": options.unit,
        "scope": {"name": options.scope, "means": SCOPES[options.scope]},
        "selection": {"site": options.site, "document": options.document, "codes": codes},
        "n_segments": len(units),
        "segments_not_examined_by_all": len(examined_some) - len(units),
        "documents": len({segments[u]["document_id"] for u in units}),
        "bootstrap": {"samples": options.bootstrap, "seed": options.seed, "level": 0.95},
        "intervals": {"min_positive_units": MIN_POSITIVE, "agreement": "Wilson score"},
    }
    result["in_sample"] = in_sample(store, who, units, segments)
    matrices = {code: _matrix(who, units, code) for code in codes}
    if options.unit == "character":
        result.update(_character_tables(store, who, seen, segments, codes, codebook, options))
    else:
        result.update(_segment_tables(matrices, codes, codebook, options, len(who)))
    result["coder_counts"] = _coder_counts(who, units, codes)
    result["confusion"] = confusion(who[0], who[1], units, codes)
    show = set(options.show_disagreements)
    result["disagreements"] = {
        code: disagreements(who, units, segments, code, matrices[code], options.excerpts)
        for code in codes
        if code in show or options.excerpts
    }
    return result


def in_sample(
    store: Store, who: list[CoderCodings], units: list[int], segments: dict[int, Any]
) -> list[dict[str, Any]]:
    """Per machine run in the audit that was trained on the codings it is audited against:
    a human coder in the audit is one of the run's recorded training coders, and audited
    segments lie in documents it trained on (matched by their text). Agreement there flatters
    the run. A run trained on another coder's codings of these documents (gold, say, audited
    against coder-a) never saw the codings it is compared with, so that audit is not
    in-sample."""
    out = []
    documents = {segments[u]["document_id"] for u in units}
    hashes: dict[int, str] | None = None
    for c in who:
        if c.kind != "machine" or not c.trained_on:
            continue
        if hashes is None:
            marks = ",".join("?" * len(documents))
            hashes = {
                r["id"]: text_sha256(r["text"])
                for r in store.execute(
                    f"SELECT id, text FROM documents WHERE id IN ({marks})", tuple(documents)
                )
            }
        coders = list(c.trained_on.get("coders", ()))
        same_coder = [h.spec for h in who if h.kind == "human" and h.name in coders]
        trained = set(c.trained_on.get("documents", ()))
        overlap = {d for d in documents if hashes.get(d) in trained}
        if not overlap or not same_coder:
            continue
        out.append(
            {
                "name": c.spec,
                "coder": c.name,
                "run": c.run_id,
                "trained_on": c.trained_on.get("source"),
                "training_coders": coders,
                "documents": len(overlap),
                "segments": sum(1 for u in units if segments[u]["document_id"] in overlap),
                "of_segments": len(units),
                "same_coder": same_coder,
            }
        )
    return out


def in_sample_text(entries: list[dict[str, Any]]) -> list[str]:
    """One line per in-sample machine run, for the terminal and the audit pages."""
    return [
        f"In-sample: {e['coder']} (run {e['run']}) was trained on "
        f"{', '.join(e['training_coders']) or 'human'} codings of {e['documents']} of these "
        f"documents ({e['segments']} of {e['of_segments']} audited segments); agreement there "
        "flatters the machine. Audit documents it was not trained on to measure it."
        for e in entries
    ]


def select_codes(codebook: Codebook, wanted: Sequence[str], who: list[CoderCodings]) -> list[str]:
    """The codes to audit: the codebook's (and any others the coders used), or those named."""
    known = [c.id for c in codebook.codable]
    used = sorted({code for c in who for codes in c.codes.values() for code in codes} - set(known))
    every = known + used
    if not wanted:
        return every
    chosen: list[str] = []
    for item in wanted:
        matches = [c for c in every if c == item or c.startswith(item + ".")]
        if not matches:
            raise UnknownCodeError(None, f"unknown code or family {item!r}", field="--codes")
        chosen += [c for c in matches if c not in chosen]
    return chosen


def _segments(store: Store, options: Options) -> dict[int, Any]:
    rows = respondent_units(store, options.site, options.document)
    if not rows:
        where = ", ".join(
            f"{k} {v!r}" for k, v in (("site", options.site), ("document", options.document)) if v
        )
        raise EmptyCorpusError(
            f"no respondent segments in the project{' for ' + where if where else ''}"
        )
    return {r["id"]: r for r in rows}


def _matrix(who: list[CoderCodings], units: list[int], code: str) -> np.ndarray:
    return np.array(
        [[int(code in c.codes.get(u, ())) for c in who] for u in units], dtype=np.int64
    ).reshape(len(units), len(who))


def _family(code: str) -> str:
    return code.split(".")[0]


def _describe(code: str, codebook: Codebook) -> dict[str, Any]:
    known = codebook.codes.get(code)
    return {
        "code": code,
        "label": getattr(known, "label", None),
        "family": _family(code),
        "polarity": getattr(known, "polarity", None),
    }


def _segment_tables(
    matrices: dict[str, np.ndarray],
    codes: list[str],
    codebook: Codebook,
    options: Options,
    n_coders: int,
) -> dict[str, Any]:
    n_units = next(iter(matrices.values())).shape[0] if matrices else 0
    weights = (
        st.bootstrap_weights(n_units, options.bootstrap, options.seed)
        if options.bootstrap and n_units
        else None
    )
    rows, point_sums, boot_sums = [], [], []
    for code in codes:
        m = matrices[code]
        row, point, boot = _row(m, weights, n_coders)
        rows.append(_describe(code, codebook) | row)
        point_sums.append(point)
        boot_sums.append(boot)
    families = []
    for family in sorted({_family(c) for c in codes}):
        members = [matrices[c] for c in codes if _family(c) == family]
        m = np.maximum.reduce(members)
        row, _, _ = _row(m, weights, n_coders)
        families.append({"family": family, "codes": len(members)} | row)
    return {
        "codes": rows,
        "families": families,
        "overall": _overall(rows, point_sums, boot_sums, n_coders),
    }


def _row(m: np.ndarray, weights: np.ndarray | None, n_coders: int):
    patterns = st.Patterns.from_ratings(m, q=2)
    point = st.sums(patterns)
    boot = st.sums(patterns, patterns.resample(weights)) if weights is not None else None
    row = _counts(m) | _figures(
        point, boot, n_coders, used=bool(m.any()), full=bool(m.all()), spread=_spread(m)
    )
    if row["krippendorff_alpha"] is not None:
        # The reported alpha is the krippendorff package's (nominal); ours, which the intervals
        # resample, is the same number (a test holds them together).
        row["krippendorff_alpha"] = round(
            float(
                krippendorff.alpha(
                    reliability_data=m.T, level_of_measurement="nominal", value_domain=[0, 1]
                )
            ),
            4,
        )
    return row, point, boot


def _counts(m: np.ndarray) -> dict[str, int]:
    a, b = m[:, 0].astype(bool), m[:, 1].astype(bool)
    every, none = m.all(axis=1), ~m.any(axis=1)
    return {
        "n_units": len(m),
        "both": int(every.sum()),
        "a_only": int((a & ~b).sum()),
        "b_only": int((b & ~a).sum()),
        "neither": int(none.sum()),
    }


def _spread(m: np.ndarray) -> tuple[int, int]:
    """Units where some coder used the code, and units where some coder did not."""
    return int(m.any(axis=1).sum()), int((~m.all(axis=1)).sum())


def _figures(
    point: st.Sums,
    boot: st.Sums | None,
    n_coders: int,
    *,
    used: bool,
    full: bool,
    spread: tuple[int, int] | None = None,
):
    values = st.statistics(point)
    out: dict[str, Any] = {}
    undefined: dict[str, str] = {}
    for name in (*st.STATISTICS, "prevalence"):
        v = float(values[name][0])
        out[name] = round(v, 4) if np.isfinite(v) else None
        if name == "fleiss_kappa" and n_coders == 2:
            out[name] = None
        if out[name] is None:
            undefined[name] = _reason(name, n_coders, used=used, full=full)
    units = float(point.column("pairable_units")[0])
    wilson = (
        st.wilson(out["percent_agreement"], units) if out["percent_agreement"] is not None else None
    )
    out["agreement_ci"] = [round(wilson[0], 4), round(wilson[1], 4)] if wilson else None
    samples = st.statistics(boot) if boot is not None else None
    few = spread is not None and min(spread) < MIN_POSITIVE
    for key, stat in (("kappa_ci", kappa_name(n_coders)), ("alpha_ci", "krippendorff_alpha")):
        ci = None
        if samples is not None and out[stat] is not None and not few:
            ci = st.interval(samples[stat])
        out[key] = [round(ci[0], 4), round(ci[1], 4)] if ci else None
        if few and out[stat] is not None and spread is not None:
            undefined[key] = (
                f"too few units to estimate: the code was used on {spread[0]} units and left "
                f"off {spread[1]}; an interval needs {MIN_POSITIVE} of each"
            )
    out["undefined"] = undefined
    return out


def _reason(name: str, n_coders: int, *, used: bool, full: bool) -> str:
    if name == "cohen_kappa" and n_coders != 2:
        return "Cohen's kappa is for two coders; see fleiss_kappa"
    if name == "fleiss_kappa" and n_coders == 2:
        return "Fleiss' kappa is reported for three or more coders; see cohen_kappa"
    if name == "prevalence":
        return "prevalence is for one code's yes/no decisions"
    if not used:
        return "no coder used it on these units: no variation to agree on"
    if full:
        return "every coder used it on every unit: no variation to agree on"
    return "chance agreement is total: every coder made one decision throughout"


def _overall(rows: list[dict], point: list[st.Sums], boot: list, n_coders: int) -> dict:
    if not point:
        return {}
    pooled_point = point[0]
    for s in point[1:]:
        pooled_point = pooled_point + s
    pooled_boot = None
    if boot and boot[0] is not None:
        pooled_boot = boot[0]
        for s in boot[1:]:
            pooled_boot = pooled_boot + s
    used = any(r["both"] + r["a_only"] + r["b_only"] for r in rows)
    spread = (
        sum(r["n_units"] - r["neither"] for r in rows),
        sum(r["n_units"] - r["both"] for r in rows),
    )
    pooled = _figures(pooled_point, pooled_boot, n_coders, used=used, full=False, spread=spread)
    mean: dict[str, Any] = {}
    for name in st.STATISTICS:
        defined = [r[name] for r in rows if r[name] is not None]
        mean[name] = round(float(np.mean(defined)), 4) if defined else None
        mean[f"{name}_codes"] = len(defined)
    return {"pooled": pooled, "mean": mean, "codes": len(rows)}


# -- the other tables ---------------------------------------------------------------------


def _coder_counts(who: list[CoderCodings], units: list[int], codes: list[str]) -> list[dict]:
    wanted = set(codes)
    out = []
    for c in who:
        given = [len(c.codes.get(u, set()) & wanted) for u in units]
        out.append(
            {
                "coder": c.spec,
                "units": len(units),
                "codings": int(sum(given)),
                "units_coded": int(sum(1 for g in given if g)),
                "codes_per_unit": round(sum(given) / len(units), 3) if units else None,
                "codes_used": len({x for u in units for x in c.codes.get(u, set()) & wanted}),
            }
        )
    return out


def confusion(a: CoderCodings, b: CoderCodings, units: list[int], codes: list[str]) -> list[dict]:
    """Where A used a code that B did not, which codes B used instead (or none)."""
    wanted = set(codes)
    counter: Counter[tuple[str, str]] = Counter()
    for u in units:
        ca, cb = a.codes.get(u, set()) & wanted, b.codes.get(u, set()) & wanted
        instead = sorted(cb - ca) or [NONE_CODE]
        for x in sorted(ca - cb):
            for y in instead:
                counter[(x, y)] += 1
    return [
        {"a_code": x, "b_code": y, "count": n}
        for (x, y), n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def disagreements(
    who: list[CoderCodings],
    units: list[int],
    segments: dict[int, Any],
    code: str,
    matrix: np.ndarray,
    limit: int = 0,
) -> list[dict]:
    """The segments where the coders differ on ``code``, with who used it and the text."""
    out = []
    for i in np.flatnonzero(matrix.min(axis=1) != matrix.max(axis=1)):
        s = segments[units[i]]
        out.append(
            {
                "segment_id": int(s["id"]),
                "document": s["document"],
                "site": s["site"],
                "speaker": s["speaker"],
                "coded_by": [c.spec for c, v in zip(who, matrix[i], strict=True) if v],
                "not_coded_by": [c.spec for c, v in zip(who, matrix[i], strict=True) if not v],
                "text": s["text"],
            }
        )
        if limit and len(out) >= limit:
            break
    return out


def _character_tables(
    store: Store,
    who: list[CoderCodings],
    seen: list[set[int]],
    segments: dict[int, Any],
    codes: list[str],
    codebook: Codebook,
    options: Options,
) -> dict[str, Any]:
    """NVivo-style comparison: every character of each document is a unit, per code.

    Under the ``document`` scope the documents are those either coder examined, counted whole
    (interviewer turns and a coder's spans on them included), as NVivo counts every character
    of a source; under ``listed`` only the characters of segments every coder listed. A coding
    covers the coder's spans where it has them, else its whole segment (machine runs). Per
    document, NVivo's convention is followed: when neither coder coded the document at the
    code, agreement is 100% and kappa is 1.
    """
    of_document: dict[int, list[int]] = {}
    for u, s in segments.items():
        of_document.setdefault(s["document_id"], []).append(u)
    chosen, region = _character_scope(who, seen, segments, of_document, options.scope)
    if not chosen:
        raise EmptyCorpusError("no document was examined by these coders in this selection")
    marks = ",".join("?" * len(chosen))
    lengths = dict(
        store.execute(
            f"SELECT id, length(text) FROM documents WHERE id IN ({marks})", tuple(chosen)
        ).fetchall()
    )
    names = {d: segments[of_document[d][0]]["document"] for d in chosen}
    keep = {d: _region_mask(lengths[d], region.get(d) if region else None) for d in chosen}
    rows, documents, totals = [], [], []
    for code in codes:
        total: st.Sums | None = None
        any_coded = False
        for doc in sorted(chosen, key=lambda d: names[d]):
            masks = _masks(who, doc, of_document[doc], segments, code, lengths[doc])
            if keep[doc] is not None:
                masks = masks[keep[doc]]
            counts = _binary_counts(masks)
            s = st.Sums(counts @ _BINARY_FEATURES[len(who)], 2, len(who))
            total = s if total is None else total + s
            if masks.any():
                any_coded = True
                documents.append(
                    {"code": code, "document": names[doc]} | _character_row(masks, s, len(who))
                )
        totals.append(total)
        matrix_counts = _character_summary(total, len(who))
        rows.append(
            _describe(code, codebook)
            | matrix_counts
            | _figures(total, None, len(who), used=any_coded, full=False)
        )
    families = []
    for family in sorted({_family(c) for c in codes}):
        picked = [(r, t) for r, t in zip(rows, totals, strict=True) if r["family"] == family]
        pooled = picked[0][1]
        for _, t in picked[1:]:
            pooled = pooled + t
        families.append(
            {"family": family, "codes": len(picked), "pooled_over_codes": True}
            | _character_summary(pooled, len(who))
            | _figures(pooled, None, len(who), used=True, full=False)
        )
    overall = _overall(rows, totals, [None] * len(totals), len(who))
    for row in [*rows, *families, overall.get("pooled", {})]:
        if "undefined" in row:
            row["undefined"].setdefault(
                "intervals", "none over characters: they are not independent units"
            )
            row["agreement_ci"] = None
    return {
        "codes": rows,
        "families": families,
        "overall": overall,
        "documents": documents,
        "n_documents": len(chosen),
        "n_characters": sum(lengths[d] if k is None else int(k.sum()) for d, k in keep.items()),
    }


def _character_scope(
    who: list[CoderCodings],
    seen: list[set[int]],
    segments: dict[int, Any],
    of_document: dict[int, list[int]],
    scope: str,
) -> tuple[set[int], dict[int, list[tuple[int, int]]] | None]:
    """The documents compared, and (scope ``listed``) the stretches of each that count."""
    if scope == "document":
        return set(of_document) & set().union(*(c.documents for c in who)), None
    region: dict[int, list[tuple[int, int]]] = {}
    for u in sorted(set(segments).intersection(*seen), key=lambda u: segments[u]["start"]):
        region.setdefault(segments[u]["document_id"], []).append(
            (segments[u]["start"], segments[u]["end"])
        )
    return set(region), region


def _region_mask(length: int, region: list[tuple[int, int]] | None) -> np.ndarray | None:
    """The characters that count (None: all of them)."""
    if region is None:
        return None
    keep = np.zeros(length, dtype=bool)
    for start, end in region:
        keep[start:end] = True
    return keep


def _masks(
    who: list[CoderCodings],
    document: int,
    units: list[int],
    segments: dict[int, Any],
    code: str,
    length: int,
) -> np.ndarray:
    """Characters x coders: 1 where the coder's coding at ``code`` covers the character."""
    masks = np.zeros((length, len(who)), dtype=np.uint8)
    for j, c in enumerate(who):
        spans = c.spans.get((document, code))
        if spans is None:  # codings without spans (machine runs) cover their segment
            spans = [
                (segments[u]["start"], segments[u]["end"])
                for u in units
                if code in c.codes.get(u, ())
            ]
        for start, end in spans:
            masks[start:end, j] = 1
    return masks


def _binary_patterns(m: int) -> np.ndarray:
    return np.array([[(p >> j) & 1 for j in range(m)] for p in range(2**m)], dtype=np.int64)


_BINARY_FEATURES = {
    m: st.Patterns(_binary_patterns(m), np.ones(2**m, np.int64), 2).features() for m in range(2, 7)
}


def _binary_counts(masks: np.ndarray) -> np.ndarray:
    """How many units show each of the 2**m yes/no patterns (pattern p: bit j = coder j)."""
    keys = np.zeros(len(masks), dtype=np.int64)
    for j in range(masks.shape[1]):
        keys |= masks[:, j].astype(np.int64) << j
    return np.bincount(keys, minlength=2 ** masks.shape[1])[None, :].astype(float)


def _character_summary(s: st.Sums, n_coders: int) -> dict[str, int]:
    # The counts of the first two coders follow from the Cohen block of the sums.
    units = int(s.column("units")[0])
    a1, b1 = int(s.column("a")[0, 1]), int(s.column("b")[0, 1])
    agree = int(s.column("both_agree")[0])
    both = (a1 + b1 - (units - agree)) // 2  # a1 + b1 = 2*both + disagreements
    return {
        "n_units": units,
        "both": both,
        "a_only": a1 - both,
        "b_only": b1 - both,
        "neither": units - a1 - b1 + both,
    }


def _character_row(masks: np.ndarray, s: st.Sums, n_coders: int) -> dict[str, Any]:
    figures = st.statistics(s)
    kappa = float(figures[kappa_name(n_coders)][0])
    return _character_summary(s, n_coders) | {
        "percent_agreement": round(float(figures["percent_agreement"][0]), 4),
        "kappa": round(kappa, 4) if np.isfinite(kappa) else 1.0,
    }
