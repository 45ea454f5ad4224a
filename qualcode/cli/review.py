"""qualcode review"""

from __future__ import annotations

import re
import shutil
import sys

import click

from qualcode.cli._util import CONTEXT_SETTINGS, error_boundary, highlight, project
from qualcode.coding.project import resolve_codebook
from qualcode.coding.review import Item, ReviewSession, in_context, readable_why
from qualcode.errors import EmptyCorpusError

HELP = """\
  y            accept every suggestion (and any codes you added), next segment
  1 3          accept suggestions 1 and 3 (and any codes you added), next segment
  n            reject the suggestions: only the codes you added (or none), next segment
  + WORDS      add a code: its id, the last part of its id, or words of its label
  - CODE       take back a code you added
  s            skip (it comes back next session)
  u            undo the last decision of this session and show that segment again
  q            quit (every decision so far is saved)
  ?            this help"""


@click.command("review", context_settings=CONTEXT_SETTINGS)
@click.option("--coder", required=True, help="Your coder name (a human coder).")
@click.option("--site", help="Only segments from this site.")
@click.option("--document", help="Only this document (its path in the project).")
@click.option("--code", help="Only segments the latest machine run suggested this code for.")
@click.option(
    "--width",
    type=click.IntRange(20, 1000),
    default=None,
    help="Wrap text at this width [default: the terminal's width].",
)
@click.pass_context
def command(ctx, coder, site, document, code, width) -> None:
    """Code segments in the terminal, with the machine's suggestions and their evidence.

    Shows each respondent segment you have not yet coded, with the interviewer's question
    before it and the latest machine run's suggested codes (evidence marked [[like this]]).
    Type y to accept all, numbers to accept some, n to reject, '+ words' to add a code (Tab
    completes ids and labels), s to skip, u to undo, q to quit. Each decision is saved at
    once; the next session starts where this one stopped.

    \b
    Example:
      qualcode review --coder alice --site Brannock
      qualcode review --coder alice --code financial.pooled_budget
    """
    with project(ctx) as store, error_boundary():
        session = ReviewSession(
            store, coder, resolve_codebook(store), site=site, document=document, code=code
        )
        _complete_with(session.completions())
        total = session.remaining()
        if not store.execute("SELECT 1 FROM segments WHERE is_interviewer = 0 LIMIT 1").fetchone():
            raise EmptyCorpusError(
                "no respondent segments in the project; ingest transcripts first"
            )
        if not total:
            click.echo(f"Nothing to review: {coder} has coded every segment in this selection.")
            return
        width = width or shutil.get_terminal_size((100, 24)).columns
        click.echo(wrap(f"{total} segments to review as {coder}. Type ? for the keys.", width))
        decided = _loop(session, width)
        done = f"Saved {decided} decisions as {coder}; {session.remaining()} segments left."
        click.echo("\n" + wrap(done, width))


def _loop(session: ReviewSession, width: int) -> int:
    skipped: set[int] = set()
    decided = 0
    while True:
        pending = [s for s in session.queue if s not in skipped]
        if not pending:
            click.echo("\nEnd of the queue.")
            return decided
        segment_id = pending[0]
        item = session.item(segment_id)
        _show(item, len(session.done) + 1, len(pending) + len(session.done), width)
        outcome = _decide(session, item)
        if outcome == "quit":
            return decided
        if outcome == "skip":
            skipped.add(segment_id)
        elif outcome == "undo":
            decided -= 1
        else:
            decided += 1


def _decide(session: ReviewSession, item: Item) -> str:
    """Read keys until the segment is decided, skipped or undone; returns what happened."""
    added: list[str] = []
    segment_id = item.segment["id"]
    while True:
        try:
            answer = click.prompt(">", default="", show_default=False, prompt_suffix=" ").strip()
        except (click.Abort, EOFError):
            return "quit"
        numbers = re.fullmatch(r"[\d ,]+", answer)
        if answer == "q":
            return "quit"
        if answer in ("?", ""):
            click.echo(HELP)
        elif answer == "s":
            return "skip"
        elif answer == "u":
            back = session.undo()
            if back is None:
                click.echo("Nothing to undo in this session.")
                continue
            click.echo(f"Undone: segment {back} is uncoded again.")
            return "undo"
        elif answer in ("y", "n") or numbers:
            chosen = _chosen(answer, item, numbers is not None)
            if chosen is None:
                continue
            codes = set(chosen) | set(added)
            session.decide(segment_id, codes)
            click.echo(f"Saved: {', '.join(sorted(codes)) or 'nothing applies'}.")
            return "decided"
        else:
            _edit(session, answer, added)


def _edit(session: ReviewSession, answer: str, added: list[str]) -> None:
    """'+ words' adds a code, '- CODE' takes one back."""
    if answer.startswith("+"):
        _add(session, answer[1:], added)
    elif answer.startswith("-"):
        gone = answer[1:].strip()
        if gone in added:
            added.remove(gone)
        click.echo(f"Added so far: {', '.join(added) or 'none'}")
    else:
        click.echo(f"Unknown key {answer!r}; type ? for help.")


def _chosen(answer: str, item: Item, numbers: bool) -> list[str] | None:
    if answer == "y":
        return [s.code for s in item.suggestions]
    if answer == "n":
        return []
    picks = [int(x) for x in re.split(r"[ ,]+", answer) if x]
    bad = [p for p in picks if not 1 <= p <= len(item.suggestions)]
    if bad:
        click.echo(f"No suggestion {bad[0]}; there are {len(item.suggestions)}.")
        return None
    return [item.suggestions[p - 1].code for p in picks]


def _add(session: ReviewSession, text: str, added: list[str]) -> None:
    matches = session.find_code(text)
    if len(matches) == 1:
        if matches[0] not in added:
            added.append(matches[0])
        click.echo(f"Added so far: {', '.join(added)} (then y, n or numbers to save)")
    elif not matches:
        click.echo(f"No code matches {text.strip()!r}.")
    else:
        click.echo("Which one? " + ", ".join(matches[:12]) + (" ..." if len(matches) > 12 else ""))


def _color() -> bool:
    return sys.stdout.isatty()


def _show(item: Item, position: int, total: int, width: int) -> None:
    """The segment, its question and the suggestions with their evidence, wrapped to
    ``width`` (bold on a terminal, [[marked]] elsewhere)."""
    seg = item.segment
    color = _color()
    who = ", ".join(x for x in (seg["role"], seg["stakeholder_group"], seg["tier"]) if x)
    click.echo("\n" + "-" * min(width, 100))
    header = (
        f"[{position}/{total}] segment {seg['id']}, {seg['document']}"
        f" ({seg['site'] or 'no site'}), {seg['speaker'] or 'unlabelled'}"
        + (f" ({who})" if who else "")
    )
    click.echo(wrap(header, width, "  ", ""))
    if item.question:
        click.echo(wrap("Asked: " + item.question, width, "  ", ""))
    spans = [(e["start"], e["end"]) for s in item.suggestions for e in s.evidence]
    click.echo(wrap(highlight(seg["text"], spans, color), width, "    ", "    "))
    if not item.suggestions:
        click.echo("No machine suggestions.")
    for i, s in enumerate(item.suggestions, 1):
        click.echo(wrap(f"{i}. {s.label} ({s.code}) {s.confidence:.2f}", width, "     ", "  "))
        for line in evidence_lines(seg["text"], s.evidence, color, f"{s.label} ({s.code}): "):
            click.echo(wrap(line, width, "        ", "     - "))


def evidence_lines(
    text: str, evidence: list[dict], color: bool, named: str = "", limit: int = 3
) -> list[str]:
    """Up to ``limit`` pieces of evidence, each as the matched words in their sentence and the
    reason: '"…we talk about a [[pooled budget]] but what…" rule "pooled budget/fund/…"'; the
    code's name (``named``) left off a reason that starts with it, as the line above shows it."""
    out, seen = [], set()
    for e in evidence:
        if (e["start"], e["end"]) in seen or not 0 <= e["start"] < e["end"] <= len(text):
            continue
        seen.add((e["start"], e["end"]))
        before, words, after = in_context(text, e["start"], e["end"])
        marked = click.style(words, bold=True, underline=True) if color else f"[[{words}]]"
        why = readable_why(e["why"]).removeprefix(named)
        out.append(f"\u201c{before}{marked}{after}\u201d {why}")
        if len(out) == limit:
            break
    return out


def wrap(text: str, width: int, indent: str = "", first: str | None = None) -> str:
    """``text`` wrapped to ``width`` visible characters (styling codes take no room), the first
    line indented by ``first`` (default: ``indent``), the others by ``indent``; paragraphs (a
    blank line between) kept apart. A plain word too long for a line is cut."""
    first = indent if first is None else first
    room = max(1, width - len(indent))
    out: list[str] = []
    for k, paragraph in enumerate(re.split(r"\n\s*\n", text.strip())):
        if k:
            out.append("")
        line = first if not out else indent
        size, empty = len(line), True
        words = []
        for word in paragraph.split():
            if len(word) > room and click.unstyle(word) == word:
                words += [word[i : i + room] for i in range(0, len(word), room)]
            else:
                words.append(word)
        for word in words:
            length = len(click.unstyle(word))
            if not empty and size + 1 + length > width:
                out.append(line)
                line, size = indent + word, len(indent) + length
            else:
                line += ("" if empty else " ") + word
                size += (0 if empty else 1) + length
            empty = False
        out.append(line)
    return "\n".join(line.rstrip() for line in out)


def _complete_with(words: list[str]) -> None:
    """Tab completion of code ids and labels on an interactive terminal."""
    if not sys.stdin.isatty():
        return
    try:
        import readline
    except ImportError:  # Windows without pyreadline
        return

    def complete(text: str, state: int) -> str | None:
        prefix = "+ " if text.startswith("+") else ""
        typed = (text[1:].lstrip() if prefix else text).casefold()
        options = [prefix + w for w in words if w.casefold().startswith(typed)]
        return options[state] if state < len(options) else None

    readline.set_completer(complete)
    readline.set_completer_delims("")
    readline.parse_and_bind("tab: complete")
