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

NONE_CODE = "(none)"
CI_STATISTICS = {"kappa_ci": None, "alpha_ci": "krippendorff_alpha"}


@dataclass(frozen=True, slots=True)
class Options:
    unit: str = "segment"  # or "character"
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


def audit(store: Store, coders: str | Sequence[str], codebook: Codebook, options: Options) -> dict:
    """Everything ``qualcode agree`` reports, as the JSON document the README describes."""
    specs = parse_coders(coders) if isinstance(coders, str) else list(coders)
    if len(specs) < 2:
        parse_coders(",".join(specs))  # raises the usage message
    who = [resolve(store, spec) for spec in specs]
    segments = _segments(store, options)
    units = sorted(set(segments).intersection(*(c.examined for c in who)))
    examined_some = set(segments).intersection(set().union(*(c.examined for c in who)))
    if not units:
        counts = ", ".join(f"{c.spec} {len(c.examined & set(segments))}" for c in who)
        raise EmptyCorpusError(
            f"no segment was examined by every coder in this selection (segments examined: "
            f"{counts}); import or code the same documents first"
        )
    codes = select_codes(codebook, options.codes, who)
    result: dict[str, Any] = {
        "coders": [c.as_dict() for c in who],
        "unit": options.unit,
        "selection": {"site": options.site, "document": options.document, "codes": codes},
        "n_segments": len(units),
        "segments_not_examined_by_all": len(examined_some) - len(units),
        "bootstrap": {"samples": options.bootstrap, "seed": options.seed, "level": 0.95},
    }
    matrices = {code: _matrix(who, units, code) for code in codes}
    if options.unit == "character":
        result.update(_character_tables(store, who, units, segments, codes, codebook))
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
    row = _counts(m) | _figures(point, boot, n_coders, used=bool(m.any()), full=bool(m.all()))
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


def _figures(point: st.Sums, boot: st.Sums | None, n_coders: int, *, used: bool, full: bool):
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
    samples = st.statistics(boot) if boot is not None else None
    for key, stat in (("kappa_ci", kappa_name(n_coders)), ("alpha_ci", "krippendorff_alpha")):
        ci = st.interval(samples[stat]) if samples is not None and out[stat] is not None else None
        out[key] = [round(ci[0], 4), round(ci[1], 4)] if ci else None
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
    pooled = _figures(pooled_point, pooled_boot, n_coders, used=used, full=False)
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
    units: list[int],
    segments: dict[int, Any],
    codes: list[str],
    codebook: Codebook,
) -> dict[str, Any]:
    """NVivo-style comparison: every character of each document is a unit, per code.

    A coding covers its own span where it has one, else its whole segment. Documents count
    whole (interviewer turns included), as NVivo counts every character of a source. Per
    document, NVivo's convention is followed: when neither coder coded the document at the
    code, agreement is 100% and kappa is 1.
    """
    by_document: dict[int, list[int]] = {}
    for u in units:
        by_document.setdefault(segments[u]["document_id"], []).append(u)
    marks = ",".join("?" * len(by_document))
    lengths = dict(
        store.execute(
            f"SELECT id, length(text) FROM documents WHERE id IN ({marks})", tuple(by_document)
        ).fetchall()
    )
    names = {d: segments[us[0]]["document"] for d, us in by_document.items()}
    rows, documents, totals = [], [], []
    for code in codes:
        total: st.Sums | None = None
        any_coded = False
        for doc, us in sorted(by_document.items(), key=lambda kv: names[kv[0]]):
            masks = _masks(who, us, segments, code, lengths[doc])
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
    return {"codes": rows, "families": families, "overall": overall, "documents": documents}


def _masks(
    who: list[CoderCodings], units: list[int], segments: dict[int, Any], code: str, length: int
) -> np.ndarray:
    """Characters x coders: 1 where the coder's coding at ``code`` covers the character."""
    masks = np.zeros((length, len(who)), dtype=np.int64)
    for j, c in enumerate(who):
        for u in units:
            if code in c.codes.get(u, ()):
                whole = [(segments[u]["start"], segments[u]["end"])]
                for start, end in c.spans.get((u, code)) or whole:
                    masks[start:end, j] = 1
    return masks


def _binary_patterns(m: int) -> np.ndarray:
    return np.array([[(p >> j) & 1 for j in range(m)] for p in range(2**m)], dtype=np.int64)


_BINARY_FEATURES = {
    m: st.Patterns(_binary_patterns(m), np.ones(2**m, np.int64), 2).features() for m in range(2, 7)
}


def _binary_counts(masks: np.ndarray) -> np.ndarray:
    """How many units show each of the 2**m yes/no patterns (pattern p: bit j = coder j)."""
    keys = masks @ (1 << np.arange(masks.shape[1]))
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
