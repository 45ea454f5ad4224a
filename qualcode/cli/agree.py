"""qualcode agree"""

from __future__ import annotations

import io
import json
import sys

import click

from qualcode.agreement import (
    STATISTIC_NAMES,
    Options,
    audit,
    below,
    in_sample_text,
    kappa_name,
)
from qualcode.cli._util import CONTEXT_SETTINGS, error_boundary, project, table, write_output
from qualcode.coding.project import resolve_codebook
from qualcode.textio import csv_text

# --fail-under's own exit status: a coding round below the bar, told apart from bad input (1),
# usage errors (2) and a busy or foreign project (3).
GATE_FAILED = 4

CSV_COLUMNS = (
    "level",
    "code",
    "family",
    "polarity",
    "n_units",
    "both",
    "a_only",
    "b_only",
    "neither",
    "percent_agreement",
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "gwet_ac1",
    "brennan_prediger",
    "prevalence",
    "agreement_low",
    "agreement_high",
    "kappa_low",
    "kappa_high",
    "alpha_low",
    "alpha_high",
    "undefined",
)


@click.command("agree", context_settings=CONTEXT_SETTINGS)
@click.option(
    "--coders",
    required=True,
    help="Two or more coders, comma-separated: human coders, machine coders (hybrid, rules, "
    "model: their latest run), 'machine' (the latest machine run) or run:N.",
)
@click.option(
    "--unit",
    type=click.Choice(["segment", "character"]),
    default="segment",
    show_default=True,
    help="Units of agreement: respondent segments, or characters of documents (as NVivo).",
)
@click.option(
    "--scope",
    type=click.Choice(["document", "listed"]),
    default="document",
    show_default=True,
    help="What each coder examined: every document they coded, whole (as NVivo, ATLAS.ti and "
    "MAXQDA count), or only the segments they listed (a team that coded a sample).",
)
@click.option("--codes", help="Only these codes or families, comma-separated.")
@click.option("--site", help="Only segments from this site.")
@click.option("--document", help="Only this document (its path in the project).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "html"]),
    default="table",
    show_default=True,
    help="table: on the terminal; json: every figure; csv: one row per code; html: an audit "
    "page with disagreements.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write here (default: stdout)."
)
@click.option(
    "--fail-under",
    type=click.FloatRange(-1, 1),
    help="Exit with status 4 if any code's kappa (or alpha, see --fail-on) is below this.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["kappa", "alpha"]),
    default="kappa",
    show_default=True,
    help="Which statistic --fail-under checks (kappa: Cohen's for two coders, Fleiss' for more).",
)
@click.option(
    "--show-disagreements",
    "show",
    multiple=True,
    metavar="CODE",
    help="List the segments where the coders differ on CODE (repeatable).",
)
@click.option(
    "--bootstrap",
    type=click.IntRange(0, 100_000),
    default=1000,
    show_default=True,
    help="Bootstrap samples (0: none).",
)
@click.option(
    "--seed", type=click.IntRange(0), default=0, show_default=True, help="Seed of the bootstrap."
)
@click.pass_context
def command(
    ctx,
    coders,
    unit,
    scope,
    codes,
    site,
    document,
    fmt,
    output,
    fail_under,
    fail_on,
    show,
    bootstrap,
    seed,
) -> None:
    """Agreement between coders, code by code: kappa, alpha, AC1 and more, with intervals.

    Units are the respondent segments every coder examined (a coder who coded a document
    examined all of it; --scope listed: only the segments listed), or with --unit character
    every character of the documents either coder examined. Each coder's decision on a unit
    is whether it used the code. Per code, family and overall it reports counts (both, only
    the first, only the second, neither), percent agreement, Cohen's kappa (two coders),
    Fleiss' kappa (three or more), Krippendorff's alpha (nominal), Gwet's AC1,
    Brennan-Prediger, prevalence, a Wilson 95% interval for agreement, and seeded bootstrap
    95% intervals for kappa and alpha (for codes used on at least 10 units and left off as
    many; fewer: too few units to estimate). An audit of a machine run against documents it
    was trained on is marked in-sample.
    Undefined figures (a code nobody used) are shown as '-' with the reason in JSON.

    \b
    Example:
      qualcode agree --coders coder-a,coder-b
      qualcode agree --coders gold,machine --format html -o audit.html
      qualcode agree --coders coder-a,coder-b --unit character --codes financial
      qualcode agree --coders coder-a,coder-b --scope listed
      qualcode agree --coders coder-a,coder-b --show-disagreements status.tokenism
      qualcode agree --coders coder-a,coder-b,hybrid --fail-under 0.6
    """
    options = Options(
        unit=unit,
        scope=scope,
        codes=tuple(c.strip() for c in (codes or "").split(",") if c.strip()),
        site=site,
        document=document,
        bootstrap=0 if unit == "character" else bootstrap,
        seed=seed,
        show_disagreements=tuple(show),
        excerpts=5 if fmt == "html" else 0,
    )
    with project(ctx) as store, error_boundary():
        book = resolve_codebook(store)
        for code in show:
            if code not in {c.id for c in book.codable}:
                raise click.BadParameter(
                    f"unknown code {code!r}", param_hint="--show-disagreements"
                )
        result = audit(store, coders, book, options)
    if fmt == "json":
        text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    elif fmt == "csv":
        text = to_csv(result)
    elif fmt == "html":
        from qualcode.report import render_audit

        text = render_audit(result, threshold=fail_under if fail_under is not None else 0.6)
    else:
        text = to_table(result, show)
    if output:
        write_output(output, text, ctx, "agreement audit")
        click.echo(f"Wrote the agreement audit of {', '.join(result_coders(result))} to {output}.")
    else:
        click.echo(text, nl=False)
    if fail_under is not None:
        stat = kappa_name(len(result["coders"])) if fail_on == "kappa" else "krippendorff_alpha"
        failing, unchecked = below(result, stat, fail_under)
        if unchecked:
            click.echo(
                f"Not checked (undefined {STATISTIC_NAMES[stat]}): {', '.join(unchecked)}", err=True
            )
        if failing:
            listed = ", ".join(f"{code} ({value:.2f})" for code, value in failing)
            click.echo(
                f"{len(failing)} code(s) have {STATISTIC_NAMES[stat]} below {fail_under}: {listed}",
                err=True,
            )
            sys.exit(GATE_FAILED)


def result_coders(result: dict) -> list[str]:
    return [c["name"] for c in result["coders"]]


def _fmt(value, ci=None) -> str:
    if value is None:
        return "-"
    text = f"{value:.2f}"
    return f"{text} [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else text


def _figures_row(name: str, r: dict, kappa: str) -> list:
    return [
        name,
        r["n_units"],
        r["both"],
        r["a_only"],
        r["b_only"],
        r["neither"],
        _fmt(r["percent_agreement"], r.get("agreement_ci")),
        _fmt(r[kappa], r.get("kappa_ci")),
        _fmt(r["krippendorff_alpha"], r.get("alpha_ci")),
        _fmt(r["gwet_ac1"]),
        _fmt(r["brennan_prediger"]),
    ]


def to_table(result: dict, show: tuple[str, ...] = ()) -> str:
    coders = result_coders(result)
    kappa = kappa_name(len(coders))
    a, b = coders[0], coders[1]
    headers = [
        "",
        "units",
        "both" if len(coders) == 2 else "all",
        f"{a} only",
        f"{b} only",
        "neither",
        "agree [95% CI]",
        "kappa [95% CI]" if kappa == "cohen_kappa" else "Fleiss kappa [95% CI]",
        "alpha [95% CI]",
        "AC1",
        "BP",
    ]
    unit = result["unit"]
    out = io.StringIO()
    if unit == "character":
        out.write(
            f"Agreement of {', '.join(coders)} over {result['n_characters']} characters of "
            f"{result['n_documents']} document(s), character by character\n"
        )
    else:
        out.write(
            f"Agreement of {', '.join(coders)} over {result['n_segments']} respondent segments "
            f"in {result['documents']} document(s)\n"
        )
    out.write(f"Scope: {result['scope']['name']}: {result['scope']['means']}.\n")
    for line in in_sample_text(result["in_sample"]):
        out.write(line + "\n")
    if result["segments_not_examined_by_all"]:
        out.write(
            f"({result['segments_not_examined_by_all']} segments examined by only some of "
            "them are left out)\n"
        )
    out.write(
        "\n" + table(headers, [_figures_row(f["family"], f, kappa) for f in result["families"]])
    )
    rows = [_figures_row(r["code"], r, kappa) for r in result["codes"]]
    pooled = result["overall"]["pooled"]
    rows.append(_figures_row("pooled over codes", pooled | _sums(result["codes"]), kappa))
    out.write("\n\n" + table(headers, rows) + "\n")
    mean = result["overall"]["mean"]
    out.write(
        f"\nMean over codes: kappa {_fmt(mean[kappa])} ({mean[kappa + '_codes']} codes defined), "
        f"alpha {_fmt(mean['krippendorff_alpha'])}, AC1 {_fmt(mean['gwet_ac1'])}.\n"
    )
    undefined = [r["code"] for r in result["codes"] if r[kappa] is None]
    if undefined:
        out.write(
            "Kappa undefined (no variation: nobody, or everybody, used it): "
            + ", ".join(undefined)
            + "\n"
        )
    if result["confusion"]:
        out.write(f"\nWhere {a} used a code and {b} did not, what {b} used instead (top 10):\n")
        top = [[x["a_code"], x["b_code"], x["count"]] for x in result["confusion"][:10]]
        out.write(table([f"{a} used", f"{b} used instead", "segments"], top) + "\n")
    for code in show:
        items = result["disagreements"].get(code, [])
        out.write(f"\nDisagreements on {code}: {len(items)} segment(s)\n")
        for d in items:
            out.write(
                f"- segment {d['segment_id']} ({d['document']}, {d['speaker']}): coded by "
                f"{', '.join(d['coded_by'])}; not by {', '.join(d['not_coded_by'])}\n"
                f"  {d['text']}\n"
            )
    return out.getvalue()


def _sums(rows: list[dict]) -> dict:
    return {k: sum(r[k] for r in rows) for k in ("n_units", "both", "a_only", "b_only", "neither")}


def to_csv(result: dict) -> str:
    out = []
    pooled = result["overall"]["pooled"] | _sums(result["codes"]) | {"code": "all codes"}
    for level, rows in (
        ("code", result["codes"]),
        ("family", [f | {"code": f["family"]} for f in result["families"]]),
        ("overall", [pooled]),
    ):
        for r in rows:
            flat = dict(r, level=level)
            for key, prefix in (
                ("agreement_ci", "agreement"),
                ("kappa_ci", "kappa"),
                ("alpha_ci", "alpha"),
            ):
                ci = r.get(key) or [None, None]
                flat[f"{prefix}_low"], flat[f"{prefix}_high"] = ci
            flat["undefined"] = "; ".join(f"{k}: {v}" for k, v in r.get("undefined", {}).items())
            out.append(flat)
    return csv_text(CSV_COLUMNS, out)
