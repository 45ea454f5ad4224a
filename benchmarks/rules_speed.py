"""Throughput of the rule coder against bare spaCy tokenisation of the same text, in one run.

    python benchmarks/rules_speed.py [--copies 5] [--repeats 3]

Texts: every respondent segment of the demo corpus, repeated --copies times. Prints words per
second for `spacy.blank("en")` tokenisation, for RuleCoder.predict (tokeniser, lookup
lemmatiser, pattern matching, negation), and for the whole `qualcode code --coder rules`
command (reading segments from the store and writing codings), each the best of --repeats.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import spacy
from click.testing import CliRunner

from qualcode.cli import cli
from qualcode.codebook import default_codebook_path, load_codebook
from qualcode.coding.rules import RuleCoder
from qualcode.ingest import read_documents

CORPUS = Path(__file__).resolve().parents[1] / "corpora" / "partnership-sites"


def best_of(repeats: int, action) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    texts = [
        s.text for d in read_documents([CORPUS]) for s in d.segments if not s.is_interviewer
    ] * args.copies
    words = sum(len(t.split()) for t in texts)
    blank = spacy.blank("en")
    coder = RuleCoder(load_codebook(default_codebook_path())).fit()
    coder.predict(texts[:10])  # warm caches
    tokenise = best_of(args.repeats, lambda: list(blank.pipe(texts)))
    rules = best_of(args.repeats, lambda: coder.predict(texts))
    print(f"{len(texts)} segments, {words:,} words")
    print(f"spacy.blank('en') tokenisation: {tokenise:.3f} s, {words / tokenise:,.0f} words/s")
    print(f"RuleCoder.predict:              {rules:.3f} s, {words / rules:,.0f} words/s")
    print(f"rules / tokenisation throughput: {tokenise / rules:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        project = str(Path(tmp) / "bench.db")
        runner = CliRunner()
        runner.invoke(cli, ["-p", project, "init"])
        for copy in range(args.copies):
            folder = Path(tmp) / f"copy{copy}"
            folder.mkdir()
            for doc in read_documents([CORPUS]):
                if doc.format != "csv":
                    name = doc.path.replace("/", "_").rsplit(".", 1)[0] + ".txt"
                    (folder / name).write_text(
                        "\n\n".join(
                            f"{'Interviewer' if s.is_interviewer else 'R' + str(copy)}: {s.text}"
                            for s in doc.segments
                        )
                    )
        runner.invoke(cli, ["-p", project, "ingest", tmp, "--site", "bench"])
        interview_texts = [
            s.text
            for d in read_documents([CORPUS])
            if d.format != "csv"
            for s in d.segments
            if not s.is_interviewer
        ] * args.copies
        interview_words = sum(len(t.split()) for t in interview_texts)
        command = best_of(
            args.repeats, lambda: runner.invoke(cli, ["-p", project, "code", "--coder", "rules"])
        )
        bare = best_of(args.repeats, lambda: list(blank.pipe(interview_texts)))
        print(
            f"`qualcode code --coder rules` on {interview_words:,} interview words: "
            f"{command:.3f} s, {interview_words / command:,.0f} words/s "
            f"({bare / command:.2f} of tokenising the same text, {bare:.3f} s)"
        )


if __name__ == "__main__":
    main()
