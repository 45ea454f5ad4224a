"""Render the site-comparison report (HTML, optional docx) and its CSVs."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader
from markupsafe import Markup, escape

from qualcode import __version__
from qualcode.errors import InputError
from qualcode.report.data import (
    GLANCE_QUOTES,
    MIN_SEGMENTS,
    QUOTES_PER_CELL,
    TOP_ITEMS,
    WEAK_MATCH,
    ReportData,
)
from qualcode.report.env import environment, number
from qualcode.textio import csv_text

# Colour-blind-safe diverging pair (ColorBrewer PuOr): orange for barriers, purple for
# prerequisites; the share sets the strength, and the number is always printed too.
COLOURS = {"barrier": (179, 88, 6), "prerequisite": (84, 39, 136)}
SOFTWARE = ("qualcode", "bertopic", "scikit-learn", "spacy", "krippendorff", "jinja2")


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def heat(share: float, polarity: str) -> str:
    """Cell style: the colour's strength from the share (40% of segments is full), and black
    or white text, whichever contrasts more with the blended background (WCAG ratio)."""
    r, g, b = COLOURS.get(polarity, (80, 80, 80))
    alpha = min(1.0, share * 2.5)
    blended = tuple(alpha * c + (1 - alpha) * 255 for c in (r, g, b))
    lum = _luminance(blended)
    white, black = 1.05 / (lum + 0.05), (lum + 0.05) / 0.05
    text = "#fff" if white > black else "#000"
    return f"background: rgb({blended[0]:.0f}, {blended[1]:.0f}, {blended[2]:.0f}); color: {text};"


def site_topics(themes: list[dict[str, Any]], share: float = 0.8) -> dict[str, list[str]]:
    """Per site, the overall topics that are mostly (80%+) its own: what is talked about
    there and hardly anywhere else, as a few keywords each."""
    out: dict[str, list[str]] = {}
    for model in themes:
        if model["grouping"]:
            continue
        for t in model["topics"]:
            sites = t.get("distribution", {}).get("site", {})
            total = sum(sites.values())
            for site, n in sites.items():
                if total and n / total >= share:
                    out.setdefault(site, []).append(", ".join(w for w, _ in t["keywords"][:4]))
    return out


def glance_quotes(data: ReportData) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The strongest quotes beside each at-a-glance difference, GLANCE_QUOTES at most, drawn from
    the report's quotes (so none with --no-quotes), a segment shown once per site."""
    out = {}
    for site in data.sites:
        shown: set[int] = set()
        for c in data.distinctive[site]:
            fresh = [
                q for q in data.quotes.get((c["id"], site), []) if q["segment_id"] not in shown
            ]
            out[(c["id"], site)] = fresh[:GLANCE_QUOTES]
            shown.update(q["segment_id"] for q in out[(c["id"], site)])
    return out


def pct(share: float | None) -> str:
    return "–" if share is None else f"{share:.0%}"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


def family_chart(data: ReportData, families: list[dict[str, Any]]) -> Markup:
    """One small chart per family: for each site, a bar for the share of its segments raising
    any barrier of the family and one for any prerequisite, with the share written beside it.
    Every family is drawn on the same scale. Inline SVG laid out in percentages, so a chart fills
    its box at any width while its text keeps its size; every label escaped."""
    shares = [
        cell["share"] for cell_row in data.family_polarity.values() for cell in cell_row.values()
    ]
    scale = max(0.1, math.ceil(max(shares, default=0.0) * 10) / 10)  # the longest bar, to 10%
    label, room = 32, 56  # percent of the width: site names, then the longest bar
    bar, gap, row = 11, 2, 32
    height = row * len(data.sites) + 4
    charts = []
    for f in families:
        title = str(escape(f["label"]))
        parts = [
            f'<figure><figcaption>{title}</figcaption><svg role="img" width="100%"'
            f' height="{height}" xmlns="http://www.w3.org/2000/svg">'
            f"<title>{escape(_family_summary(data, f))}</title>",
            f'<line x1="{label}%" y1="0" x2="{label}%" y2="{height}" stroke="#999"/>',
        ]
        for i, site in enumerate(data.sites):
            y = i * row + 3
            parts.append(f'<text x="0" y="{y + bar + gap / 2 + 4:.0f}">{escape(site)}</text>')
            for j, polarity in enumerate(("barrier", "prerequisite")):
                cell = data.family_polarity[(f["id"], polarity)][site]
                top = y + j * (bar + gap)
                length = cell["share"] / scale * room
                r, g, b = COLOURS[polarity]
                opacity = ' fill-opacity="0.4"' if cell["few"] else ""
                tip = str(
                    escape(
                        f"{site}: {f['label']} {polarity} {pct(cell['share'])}"
                        f" ({cell['n']} segments)"
                    )
                )
                parts.append(
                    f'<rect x="{label}%" y="{top}" width="{length:.2f}%" height="{bar}"'
                    f' fill="rgb({r},{g},{b})"{opacity}><title>{tip}</title></rect>'
                    f'<text class="value{" few" if cell["few"] else ""}" x="{label + length:.2f}%"'
                    f' dx="4" y="{top + bar - 1}" font-size="11">{pct(cell["share"])}</text>'
                )
        parts.append("</svg></figure>")
        charts.append("".join(parts))
    return Markup(f'<div class="family-charts">{"".join(charts)}</div>')


def _family_summary(data: ReportData, family: dict[str, Any]) -> str:
    """The chart's numbers in words, for screen readers and hover."""
    cells = {p: data.family_polarity[(family["id"], p)] for p in ("barrier", "prerequisite")}
    return f"{family['label']}: " + "; ".join(
        f"{site} barriers {pct(cells['barrier'][site]['share'])},"
        f" prerequisites {pct(cells['prerequisite'][site]['share'])}"
        for site in data.sites
    )


def render(
    data: ReportData,
    *,
    themes: list[dict[str, Any]],
    agreements: list[dict[str, Any]],
    runs: list[dict[str, Any]],
    site_themes: list[dict[str, Any]] | None = None,
    templates: Path | None = None,
    generated: str | None = None,
    title: str = "Partnership working across sites",
) -> str:
    env = environment()
    if templates is not None:
        if not Path(templates).is_dir():
            raise InputError(templates, "not a folder of templates", field="--templates")
        env = env.overlay(loader=ChoiceLoader([FileSystemLoader(str(templates)), env.loader]))
    env.filters["slug"] = slug
    families = []
    for code in data.codes:
        if all(f["id"] != code["family"] for f in families):
            label = (
                data.codebook.codes[code["family"]].label
                if code["family"] in data.codebook.codes
                else code["family"]
            )
            families.append({"id": code["family"], "label": label})
    software = {}
    for name in SOFTWARE:
        try:
            software[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            software[name] = "not installed"
    return env.get_template("report.html").render(
        title=title,
        data=data,
        families=families,
        family_chart=family_chart(data, families),
        site_topics=site_topics(themes),
        weak_match=WEAK_MATCH,
        min_segments=MIN_SEGMENTS,
        glance_quotes=glance_quotes(data),
        glance_quote_count=GLANCE_QUOTES,
        themes=themes,
        site_themes=site_themes or [],
        agreements=agreements,
        quoted_codes={code for code, _ in data.quotes},
        provenance={"version": __version__, "runs": runs, "software": software},
        generated=generated or datetime.now(UTC).isoformat(timespec="seconds"),
        heat=heat,
        pct=pct,
        num=number,
        top_items=TOP_ITEMS,
        quotes_per_cell=QUOTES_PER_CELL,
    )


def matrix_csv(data: ReportData) -> str:
    """Sites x codes and families: segments, share of the site's segments, respondents, and
    whether the figure rests on fewer than MIN_SEGMENTS segments."""
    header = (
        "level",
        "code",
        "label",
        "polarity",
        "site",
        "segments",
        "share",
        "respondents",
        "of_respondents",
        "under_minimum",
    )
    rows = []
    for level, items, matrix in (
        ("code", data.codes, data.matrix),
        (
            "family",
            [{"id": f, "label": f, "polarity": ""} for f in data.family_matrix],
            data.family_matrix,
        ),
    ):
        for item in items:
            for site in data.sites:
                cell = matrix[item["id"]][site]
                rows.append(
                    [
                        level,
                        item["id"],
                        item["label"],
                        item["polarity"],
                        site,
                        cell["n"],
                        f"{cell['share']:.4f}",
                        cell["people"],
                        cell["of_people"],
                        int(cell["few"]),
                    ]
                )
    return csv_text(header, rows)


def docx(data: ReportData, path: Path, themes: list[dict[str, Any]]) -> None:
    """A plain Word version (headings, tables, quotes) for teams that edit reports in Word."""
    from docx import Document

    doc = Document()
    doc.add_heading("Partnership working across sites", 0)
    _docx_overview(doc, data)
    _docx_matrix(doc, data)
    _docx_rest(doc, data, themes)
    doc.save(str(path))


def _docx_overview(doc, data: ReportData) -> None:
    doc.add_heading("Corpus overview", 1)
    table = doc.add_table(rows=1, cols=5)
    for cell, text in zip(
        table.rows[0].cells, ("Site", "Interviews", "Respondents", "Segments", "Words"), strict=True
    ):
        cell.text = text
    for r in data.overview:
        cells = table.add_row().cells
        for cell, value in zip(
            cells,
            (r["site"], r["interviews"], r["participants"], r["segments"], r["words"]),
            strict=True,
        ):
            cell.text = str(value)
    for c in data.caveats:
        doc.add_paragraph(c)


def _docx_matrix(doc, data: ReportData) -> None:
    doc.add_heading("Framework matrix (share of each site's segments)", 1)
    doc.add_paragraph(
        f"Shares marked * rest on fewer than {MIN_SEGMENTS} segments: too few to compare."
    )
    table = doc.add_table(rows=1, cols=1 + len(data.sites))
    table.rows[0].cells[0].text = "Code"
    for cell, site in zip(table.rows[0].cells[1:], data.sites, strict=True):
        cell.text = site
    for code in data.codes:
        cells = table.add_row().cells
        cells[0].text = f"{code['label']} ({code['polarity']})"
        for cell, site in zip(cells[1:], data.sites, strict=True):
            figure = data.matrix[code["id"]][site]
            cell.text = pct(figure["share"]) + (" *" if figure["few"] and figure["n"] else "")


def _docx_rest(doc, data: ReportData, themes: list[dict[str, Any]]) -> None:
    doc.add_heading("Sites side by side", 1)
    for site in data.sites:
        doc.add_heading(site, 2)
        for kind in ("strengths", "weaknesses"):
            items = data.side_by_side[site][kind]
            doc.add_paragraph(
                f"{kind.capitalize()}: " + ("; ".join(i["label"] for i in items) or "none")
            )
    doc.add_heading("Themes", 1)
    for m in themes:
        for t in m["topics"]:
            flag = " (emergent-theme candidate)" if t["emergent"] else ""
            reason = f" {t['reason']}" if t.get("reason") else ""
            doc.add_paragraph(
                f"Topic {t['topic']}, {t['label']}{flag}: "
                + ", ".join(w for w, _ in t["keywords"][:8])
                + reason
            )
    doc.add_heading("Quotes", 1)
    for (code, site), quotes in sorted(data.quotes.items()):
        doc.add_heading(f"{data.codebook.codes[code].label}: {site}", 3)
        for q in quotes:
            doc.add_paragraph("".join(p for p, _ in q["pieces"]), style="Quote")
