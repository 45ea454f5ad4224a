"""Time the agreement audit at scale: 10,000 segments x 40 codes x 3 coders, 1,000 bootstraps.

    python benchmarks/agreement_speed.py [--segments 10000] [--codes 40] [--coders 3]

Builds a project from a synthetic corpus (benchmarks/make_corpus.py), gives it three
simulated coders who agree about 90% of the time on each code (so every statistic has work
to do), then times `qualcode agree --format json` end to end (store reads, statistics,
bootstrap intervals, JSON) and the character unit for two coders.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))

from make_corpus import make_corpus

from qualcode.cli import cli
from qualcode.codebook import default_codebook_path, load_codebook, store_codebook
from qualcode.codebook.store import code_ids
from qualcode.ingest import ingest
from qualcode.store import create_project
from qualcode.store import queries as q


def build(project: Path, segments: int, n_codes: int, n_coders: int, seed: int) -> int:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        # About 130 respondent words a segment in the generated interviews.
        make_corpus(Path(tmp), total_words=segments * 140, seed=seed)
        store = create_project(project)
        ingest(store, [Path(tmp)])
    codebook = load_codebook(default_codebook_path())
    ids = code_ids(store, store_codebook(store, codebook))
    codes = [c.id for c in codebook.codable][:n_codes]
    rows = store.execute(
        "SELECT id FROM segments WHERE is_interviewer = 0 ORDER BY id LIMIT ?", (segments,)
    ).fetchall()
    with store.atomic():
        for j in range(n_coders):
            who = store.execute(
                "INSERT INTO coders (name, kind) VALUES (?, 'human')", (f"coder{j + 1}",)
            ).lastrowid
            run = q.start_run(store, "codings import", {}, coder=f"coder{j + 1}")
            store.conn.executemany(
                "INSERT INTO coded_segments (segment_id, coder_id, run_id) VALUES (?, ?, ?)",
                [(r["id"], who, run) for r in rows],
            )
            codings = []
            for r in rows:
                truth = random.Random(r["id"])  # the same "true" codes for every coder
                for code in codes:
                    present = truth.random() < 0.06
                    if rng.random() < 0.05:  # each coder departs from it now and then
                        present = not present
                    if present:
                        codings.append((r["id"], ids[code], who, run, q.now()))
            store.conn.executemany(
                "INSERT INTO codings (segment_id, code_id, coder_id, run_id, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                codings,
            )
    store.close()
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=10_000)
    parser.add_argument("--codes", type=int, default=40)
    parser.add_argument("--coders", type=int, default=3)
    parser.add_argument("--bootstrap", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "bench.db"
        n = build(project, args.segments, args.codes, args.coders, seed=1)
        coders = ",".join(f"coder{j + 1}" for j in range(args.coders))
        runner = CliRunner()
        codes = ",".join(c.id for c in load_codebook(default_codebook_path()).codable[: args.codes])
        for unit, who, boot in (
            ("segment", coders, args.bootstrap),
            ("character", "coder1,coder2", 0),
        ):
            argv = ["-p", str(project), "agree", "--coders", who, "--codes", codes]
            argv += ["--unit", unit, "--format", "json", "--bootstrap", str(boot)]
            start = time.perf_counter()
            result = runner.invoke(cli, argv)
            elapsed = time.perf_counter() - start
            if result.exit_code != 0:
                raise SystemExit(result.output)
            report = json.loads(result.output)
            pooled = report["overall"]["pooled"]
            kappa = "cohen_kappa" if len(who.split(",")) == 2 else "fleiss_kappa"
            print(
                f"{unit:9} unit: {n:,} segments x {len(report['codes'])} codes x "
                f"{len(who.split(','))} coders, {boot} bootstrap samples: {elapsed:.1f} s "
                f"(pooled {kappa} {pooled[kappa]}, alpha {pooled['krippendorff_alpha']}, "
                f"{report['overall']['pooled']['kappa_ci']})"
            )


if __name__ == "__main__":
    main()
