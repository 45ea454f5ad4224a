"""The codebook as a tree for the terminal, Markdown for a methods appendix, or CSV."""

from __future__ import annotations

from qualcode.codebook.model import Code, Codebook
from qualcode.textio import csv_text

CSV_COLUMNS = (
    "id",
    "parent",
    "family",
    "label",
    "polarity",
    "pair",
    "definition",
    "include",
    "exclude",
    "examples",
    "near_misses",
)


def tree(codebook: Codebook) -> str:
    """An indented tree: id, label, polarity."""
    lines = [f"{codebook.name} (version {codebook.version or '-'}, {codebook.hash[:12]})"]

    def walk(parent: str | None, indent: int) -> None:
        for code in codebook.children(parent):
            mark = "" if code.polarity == "neutral" else f" [{code.polarity}]"
            lines.append(f"{'  ' * indent}{code.id}  {code.label}{mark}")
            walk(code.id, indent + 1)

    walk(None, 0)
    codable = codebook.codable
    barriers = sum(c.polarity == "barrier" for c in codable)
    lines.append(
        f"{len(codable)} codable codes in {len(codebook.families)} families: {barriers} barriers, "
        f"{sum(c.polarity == 'prerequisite' for c in codable)} prerequisites"
    )
    return "\n".join(lines)


def to_csv(codebook: Codebook) -> str:
    rows = []
    for code in codebook.codes.values():
        rows.append(
            [
                code.id,
                code.parent or "",
                code.family,
                code.label,
                code.polarity,
                code.pair or "",
                code.definition,
                " | ".join(code.include),
                " | ".join(code.exclude),
                " | ".join(code.examples),
                " | ".join(code.near_misses),
            ]
        )
    return csv_text(CSV_COLUMNS, rows)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(codebook: Codebook) -> str:
    """A methods appendix: metadata, then each family with its codes in full."""
    out = [f"# {codebook.name}", ""]
    meta = [f"Version {codebook.version or '-'}", f"content hash `{codebook.hash[:12]}`"]
    if codebook.authors:
        meta.append("authors: " + ", ".join(codebook.authors))
    out += ["; ".join(meta) + ".", ""]
    if codebook.description:
        out += [codebook.description.strip(), ""]
    for family in codebook.families:
        head = codebook.codes[family]
        out += [f"## {head.label} (`{head.id}`)", ""]
        if head.definition:
            out += [head.definition, ""]
        out += ["| Code | Label | Polarity | Definition |", "|---|---|---|---|"]
        leaves = [c for c in codebook.codable if c.family == family and c.id != family]
        out += [
            f"| `{c.id}` | {_md_escape(c.label)} | {c.polarity} | {_md_escape(c.definition)} |"
            for c in leaves
        ]
        out.append("")
        for code in leaves:
            out += _code_section(code)
    if codebook.references:
        out += ["## References", ""] + [f"- {r}" for r in codebook.references] + [""]
    return "\n".join(out)


def _code_section(code: Code) -> list[str]:
    out = [f"### {code.label} (`{code.id}`, {code.polarity})", "", code.definition, ""]
    if code.pair:
        out += [f"Paired with `{code.pair}`.", ""]
    for title, items in (
        ("Include", code.include),
        ("Exclude", code.exclude),
        ("Typical phrasings", code.examples),
        ("Near misses (not this code)", code.near_misses),
    ):
        if items:
            out += [f"**{title}**", ""] + [f"- {item}" for item in items] + [""]
    return out
