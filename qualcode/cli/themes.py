"""qualcode themes fit|show|suggest-codes|export"""

from __future__ import annotations

import io
import json
import textwrap

import click

from qualcode.cli._util import (
    CONTEXT_SETTINGS,
    error_boundary,
    progress_bar,
    project,
    table,
    write_output,
)
from qualcode.coding.project import resolve_codebook
from qualcode.errors import InputError
from qualcode.themes import GROUPINGS, Options, discover
from qualcode.themes import results as res


class _ThemesGroup(click.Group):
    """`qualcode themes [OPTIONS]` (fitting, before `themes fit` existed) keeps working for one
    release, with a warning."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        first = args[0] if args else None
        if first is None or (first.startswith("-") and first not in ("-h", "--help")):
            click.echo(
                "Warning: `qualcode themes [OPTIONS]` is deprecated and goes in the next "
                "release; use `qualcode themes fit [OPTIONS]`.",
                err=True,
            )
            args = ["fit", *args]
        return super().parse_args(ctx, args)


@click.group("themes", context_settings=CONTEXT_SETTINGS, cls=_ThemesGroup)
def command() -> None:
    """Emergent themes: fit topic models (BERTopic) over respondent segments, then read them.

    \b
    Example:
      qualcode themes fit
      qualcode themes fit --by site --guided
      qualcode themes show 3
      qualcode themes suggest-codes -o emergent.yaml
      qualcode themes export --format csv -o themes.csv
    """


@command.command("fit")
@click.option("--by", type=click.Choice(GROUPINGS), help="One topic model per site, group or tier.")
@click.option("--site", help="Only this site's segments.")
@click.option(
    "--min-topic-size",
    type=click.IntRange(2),
    help="Smallest topic, in segments (default: from the corpus size, 3 to 15).",
)
@click.option(
    "--embedding",
    default="tfidf",
    show_default=True,
    help="tfidf (local TF-IDF + SVD, no download) or sentence-transformers:MODEL (installed).",
)
@click.option(
    "--seed",
    type=click.IntRange(0, 2**32 - 1),
    default=0,
    show_default=True,
    help="Seed: the same seed, the same topics.",
)
@click.option("--guided", is_flag=True, help="Seed topics with the codebook's codes.")
@click.option(
    "--codes-from",
    help="Coder whose codes describe topics (default: gold, else the latest machine run).",
)
@click.option(
    "--sample",
    type=click.IntRange(0),
    help="Fit each model on a seeded random sample of this many segments and assign the rest "
    "to the nearest topic; 0 fits on all (default: 50,000 when a model has over 100,000).",
)
@click.option(
    "--online",
    is_flag=True,
    help="Fit online, 10,000 segments at a time (BERTopic partial_fit with mini-batch k-means): "
    "for consultations of hundreds of thousands of responses; every segment gets a topic.",
)
@click.pass_context
def fit(ctx, by, site, min_topic_size, embedding, seed, guided, codes_from, sample, online) -> None:
    """Fit topic models (BERTopic) over respondent segments, overall or per site, group or tier.

    Each topic gets c-TF-IDF keywords, a readable label (BERTopic's KeyBERTInspired), 3 to 5
    representative quotes (whole sentences, with speaker, site and group), its size and its
    spread over sites, groups and tiers. A topic whose talk lies further from the codebook's
    own words (its codes' labels, definitions, criteria and examples) than the corpus does on
    average, or few of whose segments carry a code, is flagged as an emergent-theme candidate,
    with its nearest code and the reason. The run is stored; `themes show`, `themes export`
    and `themes suggest-codes` read the latest one.

    \b
    Example:
      qualcode themes fit
      qualcode themes fit --by site --guided
      qualcode themes fit --online
    """
    options = Options(
        by=by,
        min_topic_size=min_topic_size,
        embedding=embedding,
        seed=seed,
        guided=guided,
        site=site,
        codes_from=codes_from,
        sample=sample,
        online=online,
    )
    if options.conflict():
        raise click.UsageError(options.conflict())
    with project(ctx) as store, error_boundary(), progress_bar("Topics", unit="model") as step:
        run = discover(store, resolve_codebook(store), options, progress=step)
        models = res.load(store, run.run_id)
    click.echo(summary(models, run.run_id, run.codes_from, run.skipped))


def summary(models: list[dict], run_id: int, codes_from: str | None, skipped=None) -> str:
    out = io.StringIO()
    for m in models:
        where = f"{m['grouping']} {m['group_value']}: " if m["grouping"] else ""
        method = m["method"]
        npmi = "-" if m["npmi"] is None else f"{m['npmi']:.2f}"
        diversity = "-" if m["diversity"] is None else f"{m['diversity']:.2f}"
        out.write(
            f"{where}{len(m['topics'])} topics from {m['n_segments']} segments "
            f"({method['embedding']}, {method['reducer']}, {method['clusterer']}; "
            f"{m['outliers']} outliers left); coherence NPMI {npmi}, diversity {diversity}\n"
        )
        rows = [
            [
                res.topic_key(m, t),
                t["size"],
                "yes" if t["emergent"] else "",
                _short(t["label"], 48),
                _short(", ".join(w for w, _ in t["keywords"][:6]), 52),
                _short(_spread(t), 40),
            ]
            for t in m["topics"]
        ]
        out.write(table(["topic", "size", "emergent?", "label", "keywords", "where"], rows))
        out.write("\n\n")
    if skipped:
        out.write(
            "Too few segments to model: "
            + ", ".join(f"{k} ({v})" for k, v in sorted(skipped.items()))
            + "\n"
        )
    out.write(
        f"Themes run {run_id}; topics described by the codes of {codes_from or 'no coder'}. "
        "See one with `qualcode themes show TOPIC`.\n"
    )
    return out.getvalue()


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _spread(topic: dict) -> str:
    sites = topic.get("distribution", {}).get("site", {})
    return ", ".join(f"{k} {v}" for k, v in sorted(sites.items(), key=lambda kv: -kv[1]))


@command.command("show")
@click.argument("topic", required=False)
@click.option("--run", "run_id", type=click.IntRange(1), help="A themes run (default: the latest).")
@click.pass_context
def show(ctx, topic, run_id) -> None:
    """List the latest run's topics, or show one: keywords, quotes, spread, codes.

    TOPIC is a topic number, or GROUP:NUMBER in a run made with --by (e.g. Brannock:2).

    \b
    Example:
      qualcode themes show
      qualcode themes show 3
      qualcode themes show Saltmere:1
    """
    with project(ctx) as store, error_boundary():
        run_id = res.latest_run(store, run_id)
        models = res.load(store, run_id)
        params = json.loads(
            store.execute("SELECT parameters FROM runs WHERE id = ?", (run_id,)).fetchone()[0]
        )
        if topic is None:
            click.echo(summary(models, run_id, params.get("codes_from")))
            return
        found = [(m, t) for m in models for t in m["topics"] if res.topic_key(m, t) == topic]
        if not found:
            keys = [res.topic_key(m, t) for m in models for t in m["topics"]]
            raise InputError(None, f"no topic {topic!r} (topics: {', '.join(keys)})", field="TOPIC")
    t = found[0][1]
    click.echo(f"Topic {topic}: {t['label']} ({t['size']} segments)")
    click.echo("Keywords: " + ", ".join(f"{w} ({s:.3f})" for w, s in t["keywords"]))
    flag = "emergent-theme candidate: " if t["emergent"] else ""
    click.echo(f"Codebook: {flag}{t.get('reason', '')}")
    if t.get("codes"):
        click.echo(
            "Commonest codes: "
            + ", ".join(f"{c} ({s:.0%})" for c, s in t["codes"])
            + (f"; any code on {t['coverage']:.0%}" if t.get("coverage") is not None else "")
        )
    for key in GROUPINGS:
        spread = t.get("distribution", {}).get(key, {})
        click.echo(
            f"By {key.replace('_', ' ')}: " + ", ".join(f"{k} {v}" for k, v in spread.items())
        )
    click.echo("Quotes:")
    for q in t["quotes"]:
        who = ", ".join(
            x for x in (q["speaker"], q.get("role"), q["site"], q["stakeholder_group"]) if x
        )
        click.echo(
            textwrap.fill(f'"{q["text"]}"', 100, initial_indent="  ", subsequent_indent="   ")
        )
        click.echo(f"     ({who}; segment {q['segment_id']})")


@command.command("suggest-codes")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write here (default: stdout)."
)
@click.option("--run", "run_id", type=click.IntRange(1), help="A themes run (default: the latest).")
@click.pass_context
def suggest_codes(ctx, output, run_id) -> None:
    """Write the emergent-theme candidates as codebook YAML, for a person to edit and merge.

    \b
    Example:
      qualcode themes suggest-codes -o emergent.yaml
    """
    with project(ctx) as store, error_boundary():
        run_id = res.latest_run(store, run_id)
        text = res.suggested_codes(res.load(store, run_id))
    if output:
        write_output(output, text, ctx, "themes export")
        click.echo(f"Wrote {text.count('- id: emergent.')} suggested codes to {output}.")
    else:
        click.echo(text, nl=False)


@command.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    default="csv",
    show_default=True,
    help="csv: one row per topic; json: topics with their keywords, quotes and spread.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write here (default: stdout)."
)
@click.option("--run", "run_id", type=click.IntRange(1), help="A themes run (default: the latest).")
@click.pass_context
def export(ctx, fmt, output, run_id) -> None:
    """Export the topics of a themes run, one row per topic.

    \b
    Example:
      qualcode themes export --format csv -o themes.csv
      qualcode themes export --format json -o themes.json
    """
    with project(ctx) as store, error_boundary():
        run_id = res.latest_run(store, run_id)
        rows = res.export_rows(res.load(store, run_id), run_id)
    if fmt == "json":
        text = json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    else:
        text = res.themes_csv(rows)
    if output:
        write_output(output, text, ctx, "themes export")
        click.echo(f"Wrote {len(rows)} topics to {output}.")
    else:
        click.echo(text, nl=False)
