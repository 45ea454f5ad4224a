"""Time `qualcode themes` (default offline embedding) on a synthetic survey of N responses.

    python benchmarks/themes_speed.py [--responses 20000] [--responses 100000 ...]

Each synthetic response is one to three sentences drawn at random from the demo interviews
and the training quotes, so the vocabulary and the mix of subjects are those of real
partnership talk (not its structure: every response is a shuffle). The responses are
ingested as a survey CSV; then the command itself is timed, store reads and writes included.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

from qualcode.cli import cli
from qualcode.ingest import read_documents
from qualcode.themes.text import sentences

CORPORA = Path(__file__).resolve().parents[1] / "corpora"
SITES = ("Hollinsford", "Brannock", "Saltmere", "Eddon Vale")
GROUPS = ("health", "social care", "voluntary sector", "carer")
TIERS = ("strategic", "operational", "frontline", "user")


def sentence_pool() -> list[str]:
    pool = []
    for corpus in ("partnership-sites", "training-quotes"):
        for doc in read_documents([CORPORA / corpus]):
            for seg in doc.segments:
                if not seg.is_interviewer:
                    pool += [seg.text[a:b] for a, b in sentences(seg.text) if b - a > 30]
    return pool


def write_survey(path: Path, n: int, seed: int = 0) -> int:
    rng = random.Random(seed)
    pool = sentence_pool()
    words = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["response_id", "site", "stakeholder_group", "tier", "response"])
        for i in range(n):
            text = " ".join(rng.choice(pool) for _ in range(rng.randint(1, 3)))
            words += len(text.split())
            writer.writerow(
                [f"R{i:06d}", rng.choice(SITES), rng.choice(GROUPS), rng.choice(TIERS), text]
            )
    return words


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, action="append")
    args = parser.parse_args()
    runner = CliRunner()
    for n in args.responses or [20_000]:
        with tempfile.TemporaryDirectory() as tmp:
            survey = Path(tmp) / "survey.csv"
            words = write_survey(survey, n)
            project = Path(tmp) / "bench.db"
            for argv in (["init"], ["ingest", str(survey), "--text-column", "response"]):
                result = runner.invoke(cli, ["-p", str(project), *argv])
                if result.exit_code:
                    sys.exit(result.output)
            start = time.perf_counter()
            result = runner.invoke(cli, ["-p", str(project), "themes"])
            elapsed = time.perf_counter() - start
            if result.exit_code:
                sys.exit(result.output)
            first = result.output.splitlines()[0]
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
            print(f"{n:,} responses ({words:,} words): qualcode themes {elapsed:.1f} s")
            print(f"  {first}")
            print(f"  peak memory of this process so far: {peak:.2f} GB")


if __name__ == "__main__":
    main()
