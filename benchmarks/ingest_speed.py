"""Time `qualcode ingest` on a generated corpus (default one million respondent words).

    python benchmarks/ingest_speed.py [--words 1000000]

Prints the corpus size, the wall-clock time of the ingest command (reading, segmenting and
writing the store in one transaction), and the throughput.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from make_corpus import make_corpus

from qualcode.cli import cli


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        words = make_corpus(corpus, args.words)
        files = len(list(corpus.rglob("*.txt")))
        size_mb = sum(f.stat().st_size for f in corpus.rglob("*.txt")) / 1e6
        project = Path(tmp) / "bench.db"
        runner = CliRunner()
        assert runner.invoke(cli, ["-p", str(project), "init"]).exit_code == 0
        start = time.perf_counter()
        result = runner.invoke(cli, ["-p", str(project), "ingest", str(corpus)])
        elapsed = time.perf_counter() - start
        if result.exit_code != 0:
            raise SystemExit(result.output)
        print(result.output.strip())
        print(f"corpus: {words:,} respondent words in {files} files ({size_mb:.1f} MB)")
        print(f"ingest: {elapsed:.2f} s, {words / elapsed:,.0f} words/s")


if __name__ == "__main__":
    main()
