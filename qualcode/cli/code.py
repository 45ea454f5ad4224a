"""qualcode code"""

from __future__ import annotations

from contextlib import ExitStack

import click

from qualcode.cli._util import error_boundary, progress_bar, project, renamed
from qualcode.coding.project import MACHINE_CODERS, code_project, resolve_codebook


@click.command("code", cls=renamed({"--coder": "--kind"}))
@click.option(
    "--kind",
    type=click.Choice(MACHINE_CODERS),
    default="hybrid",
    show_default=True,
    help="rules: spaCy patterns; model: trained classifier; hybrid: both.",
)
@click.option(
    "--codebook",
    type=click.Path(dir_okay=False),
    help="Codebook YAML for this run only (default: the project's codebook; see "
    "`qualcode settings`).",
)
@click.option("--site", help="Only this site's segments.")
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    help="One confidence threshold for every code instead of the tuned per-code ones.",
)
@click.option("--spacy-model", help="An installed spaCy pipeline for the rules (never downloaded).")
@click.option(
    "--embedding",
    type=click.Choice(["auto", "minilm", "wordllama", "none"]),
    default="auto",
    show_default=True,
    help="The hybrid coder's sentence embedding: auto (MiniLM where installed), minilm, "
    "wordllama (static word vectors: hybrid coding 17 times faster, as good on real published "
    "text as we can measure, slightly weaker on our own sources; for corpora of 100,000 "
    "segments and more; see the README's Coding quality), or none.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Code in batches on a Dask cluster: its scheduler's address (tcp://HOST:8786), or "
    "local:N for N worker processes on this machine. Needs `pip install 'qualcode[dask]'` "
    "here and on the workers; the codings are the same as without it.",
)
@click.pass_context
def command(ctx, kind, codebook, site, threshold, spacy_model, embedding, scheduler) -> None:
    """Code every respondent segment with a machine coder, as a new run.

    The model and hybrid coders train first (deterministic) on the project's training source
    (`qualcode settings training`, set by `qualcode train --from CODER`), by default the
    codings the codebook names (for the shipped codebook, the adjudicated gold of the demo
    corpus, the training quotes and the training prose, packaged with qualcode). Interviewer
    turns are never coded. Earlier runs are kept. For the shipped hybrid coder it prints the
    agreement with a human coder to expect per family on new text, measured out of domain, and
    which families to review by hand.

    \b
    Example:
      qualcode code
      qualcode code --kind rules --site Saltmere
      qualcode code --kind model --threshold 0.6
      qualcode code --embedding wordllama --scheduler local:2
      qualcode code --scheduler tcp://10.0.0.5:8786
    """
    if embedding != "auto" and kind != "hybrid":
        raise click.UsageError("--embedding is for the hybrid coder (--kind hybrid)")
    with project(ctx) as store, error_boundary(), ExitStack() as stack:
        book = resolve_codebook(store, codebook)
        predict = None
        if scheduler:  # Dask is imported only here
            from qualcode.coding.distributed import dask_runner

            predict = stack.enter_context(dask_runner(scheduler))
        with (
            progress_bar("Training", unit="step") as train_step,
            progress_bar("Coding", unit="segment") as step,
        ):
            report = code_project(
                store,
                kind=kind,
                codebook=book,
                site=site,
                threshold=threshold,
                spacy_model=spacy_model,
                embedding=embedding,
                progress=lambda done, total: step("", total, done),
                training_progress=lambda what, done, total: train_step(what, total, done),
                predict=predict,
            )
    for warning in report.warnings:
        click.echo(f"Warning: {warning}.", err=True)
    if report.training:
        click.echo(f"Trained on {report.training}.")
    if report.skipped:
        listed = ", ".join(f"{code} ({n})" for code, n in sorted(report.skipped.items()))
        click.echo(f"Not predicted by the model (too few examples; rules only): {listed}.")
    click.echo(
        f"Run {report.run_id}: {report.coder} coded {report.segments} segments with "
        f"{report.codings} codings."
    )
    if report.expected:
        click.echo(f"Machine codes: {report.expected.summary()}.")
