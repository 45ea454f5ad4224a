"""Time `qualcode themes` (default offline embedding) on a synthetic survey of N responses.

    python benchmarks/themes_speed.py [--responses 20000] [--responses 100000 ...]
        [--sample 0 --sample 50000]   # full fit and sample fit on the same project

Each synthetic response is one to three sentences drawn at random from the demo interviews
and the training quotes, so the vocabulary and the mix of subjects are those of real
partnership talk (not its structure: every response is a shuffle). The responses are
ingested as survey CSVs (100,000 rows a file); then each command is timed in its own
process, store reads and writes included, with its peak resident memory, and the topics'
quality printed beside it (NPMI coherence of each topic's top words over the responses, and
topic diversity, the share of distinct words among all topics' top words), so that a sample
fit and a full fit can be compared on both.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from qualcode.ingest import read_documents
from qualcode.store import open_project
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


def responses(n: int, seed: int = 0, first: int = 0) -> Iterator[list[str]]:
    """``n`` synthetic responses as CSV rows: id, site, group, tier, one to three sentences."""
    rng = random.Random(seed)
    pool = sentence_pool()
    for i in range(n):
        text = " ".join(rng.choice(pool) for _ in range(rng.randint(1, 3)))
        yield [f"R{first + i:06d}", rng.choice(SITES), rng.choice(GROUPS), rng.choice(TIERS), text]


def survey_rows(n: int, per_file: int = 100_000, seed: int = 0) -> Iterator[list[str]]:
    """The rows ``write_surveys`` writes, file after file, without writing them."""
    for k, start in enumerate(range(0, n, per_file)):
        yield from responses(min(per_file, n - start), seed=seed + k, first=start)


def write_survey(path: Path, n: int, seed: int = 0, first: int = 0) -> int:
    words = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["response_id", "site", "stakeholder_group", "tier", "response"])
        for row in responses(n, seed, first):
            words += len(row[-1].split())
            writer.writerow(row)
    return words


def write_surveys(folder: Path, n: int, per_file: int = 100_000, seed: int = 0) -> int:
    """``n`` responses in CSV files of at most ``per_file`` rows (one file of 500,000 would
    pass the 100 MB limit on one input file); ids run on across files."""
    folder.mkdir(parents=True, exist_ok=True)
    words = 0
    for k, start in enumerate(range(0, n, per_file)):
        path = folder / f"survey-{k + 1}.csv"
        words += write_survey(path, min(per_file, n - start), seed=seed + k, first=start)
    return words


def timed(argv: list[str]) -> tuple[float, float, str]:
    """Run a qualcode command in its own process: seconds, peak memory in GB, its output."""
    qualcode = Path(sys.executable).with_name("qualcode")
    start = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-v", str(qualcode), *argv], capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    if proc.returncode:
        sys.exit(proc.stdout[-3000:] + proc.stderr[-3000:])
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)[1])
    return elapsed, peak / 1024**2, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, action="append")
    parser.add_argument(
        "--sample",
        type=int,
        action="append",
        help="themes fit --sample N (repeat to compare; 0 fits on all; default: automatic)",
    )
    args = parser.parse_args()
    for n in args.responses or [20_000]:
        with tempfile.TemporaryDirectory() as tmp:
            words = write_surveys(Path(tmp) / "survey", n)
            project = str(Path(tmp) / "bench.db")
            timed(["-p", project, "init"])
            seconds, peak, _ = timed(
                ["-p", project, "ingest", f"{tmp}/survey", "--text-column", "response"]
            )
            print(f"{n:,} responses ({words:,} words): ingest {seconds:.1f} s, peak {peak:.2f} GB")
            for sample in args.sample or [None]:
                extra = [] if sample is None else ["--sample", str(sample)]
                seconds, peak, out = timed(["-p", project, "themes", "fit", *extra])
                how = "automatic" if sample is None else sample
                print(f"  themes fit --sample {how}: {seconds:.1f} s, peak memory {peak:.2f} GB")
                print(f"    {out.splitlines()[0]}")
                with open_project(project) as store:
                    method, npmi, diversity = store.execute(
                        "SELECT method, npmi, diversity FROM topic_models ORDER BY id DESC LIMIT 1"
                    ).fetchone()
                fitted = json.loads(method).get("sample")
                print(
                    f"    fitted on {fitted or n:,} responses; NPMI {npmi:.3f}, topic diversity"
                    f" {diversity:.3f}"
                )


if __name__ == "__main__":
    main()
