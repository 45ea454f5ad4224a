"""qualcode run"""

from __future__ import annotations

import click

from qualcode.agreement import in_sample_text, kappa_name
from qualcode.cli._util import error_boundary, progress_bar, reference_coder_option, renamed
from qualcode.cli.ingest import print_report
from qualcode.cli.status import site_table
from qualcode.pipeline import Agreement, run
from qualcode.themes import results as theme_results


@click.command("run", cls=renamed({"--out": "--out-dir", "-o": "--out-dir"}))
@click.argument("corpus", type=click.Path(file_okay=False))
@click.option(
    "--out-dir",
    "out",
    default="qualcode-output",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for the project store and outputs.",
)
@click.option("--replace", is_flag=True, help="Re-ingest changed files, dropping their codings.")
@reference_coder_option
@click.pass_context
def command(
    ctx: click.Context, corpus: str, out: str, replace: bool, reference_coder: str | None
) -> None:
    """Run the whole pipeline on a corpus folder: ingest, import human codings, code, audit.

    Ingests the corpus as its manifest describes, imports the human codings the manifest lists
    under `codings:`, codes every respondent segment with the hybrid coder, audits agreement
    between the human coders and between the reference coder (gold) and the machine (pages in
    OUT/agreement/), and prints counts per site. The project store is OUT/qualcode.db; running
    again reuses it (unchanged files are skipped, changed ones refused unless --replace, and
    coding is redone only when the documents or the codebook changed). The global --project
    option does not apply here.

    \b
    Example:
      qualcode run corpora/partnership-sites --out-dir demo-output
    """
    source = ctx.find_root().get_parameter_source("project")
    if source is click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError(
            "run keeps its project in OUT/qualcode.db; use --out-dir, not --project"
        )
    with (
        error_boundary(),
        progress_bar("Ingesting") as step,
        progress_bar("Training", unit="step") as train_step,
        progress_bar("Coding", unit="segment") as code_step,
        progress_bar("Topics", unit="model") as theme_step,
    ):
        store, result = run(
            corpus,
            out,
            replace=replace,
            reference_coder=reference_coder,
            progress=step,
            coding_progress=lambda done, total: code_step("", total, done),
            training_progress=lambda what, done, total: train_step(what, total, done),
            themes_progress=theme_step,
        )
    try:
        print_report(result.ingest)
        for imported in result.imports:
            click.echo(
                f"Imported {imported.codings} codings by {imported.coder} on "
                f"{imported.segments} segments."
            )
        if result.coding:
            c = result.coding
            click.echo(
                f"Coded {c.segments} respondent segments with the {c.coder} coder: "
                f"{c.codings} codings (run {c.run_id}; trained on {c.training})."
            )
            if c.expected:
                click.echo(f"Machine codes: {c.expected.summary()}.")
            for warning in c.warnings:
                click.echo(f"Warning: {warning}.", err=True)
        else:
            click.echo("Codings are up to date (no new documents, same codebook).")
        for agreement in result.agreements:
            click.echo("\n" + agreement_summary(agreement))
        if result.themes_run is not None:
            click.echo("\n" + themes_summary(store, result.themes_run, result.themes_new))
        if result.report is not None:
            click.echo(
                f"\nReport: {result.report.index} (with codings.csv, themes.csv, matrix.csv)"
            )
        click.echo(f"\nProject {result.project}")
        click.echo(site_table(store))
    finally:
        store.close()


def agreement_summary(agreement: Agreement) -> str:
    """A few lines: pooled and per-family kappa with intervals, and where the audit page is."""
    r = agreement.result
    kappa = kappa_name(len(r["coders"]))
    pooled = r["overall"]["pooled"]

    def fmt(row: dict) -> str:
        value, ci = row[kappa], row.get("kappa_ci")
        if value is None:
            return "-"
        return f"{value:.2f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")

    lines = [
        f"Agreement, {agreement.title} ({r['n_segments']} segments): "
        f"{'Cohen' if kappa == 'cohen_kappa' else 'Fleiss'} kappa pooled over codes "
        f"{fmt(pooled)}, mean over codes {r['overall']['mean'][kappa]:.2f}",
        "  by family: " + ", ".join(f"{f['family']} {fmt(f)}" for f in r["families"]),
    ]
    lines += [f"  ({line})" for line in in_sample_text(r["in_sample"])]
    if agreement.note:
        lines.append(f"  {agreement.note}")
    lines.append(f"  audit: {agreement.html}")
    return "\n".join(lines)


def themes_summary(store, run_id: int, new: bool) -> str:
    """The topics in a line each, emergent-theme candidates marked."""
    lines = []
    for model in theme_results.load(store, run_id):
        npmi = "-" if model["npmi"] is None else f"{model['npmi']:.2f}"
        lines.append(
            f"Themes{'' if new else ' (unchanged corpus: run ' + str(run_id) + ')'}: "
            f"{len(model['topics'])} topics over {model['n_segments']} segments, NPMI {npmi}; "
            "* marks emergent-theme candidates (`qualcode themes show TOPIC`)"
        )
        for t in model["topics"]:
            words = ", ".join(w for w, _ in t["keywords"][:5])
            mark = "*" if t["emergent"] else " "
            lines.append(
                f" {mark} {t['topic']:>2}  {t['size']:>3} segments  {t['label']}  ({words})"
            )
    return "\n".join(lines)
