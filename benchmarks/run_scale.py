"""Time the whole `qualcode run` on a synthetic corpus of N interviews, with peak memory.

    python benchmarks/run_scale.py [--interviews 1000] [--words-per-interview 5000]

Writes the corpus with benchmarks/make_corpus.py, then runs `qualcode run CORPUS --out DIR`
in a child process under /usr/bin/time (ingest, hybrid coding, themes, report; there are no
human codings, so no agreement) and prints its wall time and peak resident memory.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from make_corpus import make_corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interviews", type=int, default=1000)
    parser.add_argument("--words-per-interview", type=int, default=5000)
    args = parser.parse_args()
    qualcode = Path(sys.executable).with_name("qualcode")
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        words = make_corpus(
            corpus,
            args.interviews * args.words_per_interview,
            args.words_per_interview,
            interviews=args.interviews,
        )
        start = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-v", str(qualcode), "run", str(corpus), "--out", f"{tmp}/out"],
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - start
        if proc.returncode:
            sys.exit(proc.stdout[-3000:] + proc.stderr[-3000:])
        peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)[1])
        report = Path(tmp) / "out" / "report" / "index.html"
        print(
            f"qualcode run on {args.interviews:,} interviews ({words:,} words): {elapsed:.0f} s,"
            f" peak memory {peak_kb / 1024**2:.2f} GB; report {report.stat().st_size:,} bytes"
        )
        for line in proc.stdout.splitlines():
            if line.startswith(("Ingested", "Coded", "Themes", "total")):
                print("  " + line)


if __name__ == "__main__":
    main()
