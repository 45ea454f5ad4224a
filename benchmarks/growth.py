"""How each stage grows: ingest, rules coding, hybrid coding, themes and report at 1x, 4x and
16x a base number of synthetic survey responses, with time and peak memory per stage.

    python benchmarks/growth.py                      # base 1,000: 1k, 4k, 16k (a few minutes)
    python benchmarks/growth.py --base 5000          # 5k, 20k, 80k
    python benchmarks/growth.py --base 31250         # 31k, 125k, 500k (the issue's target size)
    python benchmarks/growth.py --factors 1,4 --stages ingest,themes
    python benchmarks/growth.py --base 31250 --factors 16 --stages ingest,hybrid,themes \
        --embedding wordllama --scheduler local:2   # 500,000 responses, the fast path

``--embedding`` and ``--scheduler`` are passed to the hybrid stage's ``qualcode code``, and
``--online`` to the themes stage's ``qualcode themes fit``.

Each stage runs in its own process (this script again, with --child), so its peak resident
memory is its own (with its Dask workers', under --scheduler local:N, sampled every 0.2 s);
the time is the command's own (``time.perf_counter`` around the CLI call, without Python's
start-up). The responses are benchmarks/themes_speed.py's: sentences of the
demo interviews and training quotes, shuffled, in CSV files of at most 100,000 rows.

Beside the table it prints three ratios against the limit, at each size:

* rule coding (``RuleCoder.predict``, timed inside the rules stage) against bare
  ``spacy.blank("en")`` tokenisation of the same segments' text, keeping no Doc; and, in
  brackets, the whole stage (``qualcode code --kind rules``: starting, reading segments,
  coding, writing codings) against the same;
* ingest against reading and SHA-256 hashing the same files (what any ingest must do);
* ingest's store writes (``DocumentWriter.flush``, timed inside the ingest) against a bare
  ``executemany`` of the same participants, documents and segments into an empty project.

A ratio is the limit's time over the stage's: 1.0 would be as fast as the limit.
The first hybrid coding trains the coder (about 40 s) unless a trained one is cached.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

STAGES = {
    "ingest": lambda tmp, extra: ["ingest", f"{tmp}/survey", "--text-column", "response"],
    "rules": lambda tmp, extra: ["code", "--kind", "rules"],
    "hybrid": lambda tmp, extra: ["code", "--kind", "hybrid", *(a for a in extra if a != ONLINE)],
    "themes": lambda tmp, extra: ["themes", "fit", *([ONLINE] if ONLINE in extra else [])],
    "report": lambda tmp, extra: ["report", "--out-dir", f"{tmp}/report"],
}
TABLES = ("participants", "documents", "segments")
ONLINE = "--online"  # this script's option, and the themes stage's


def child(project: str, stage: str, tmp: str, extra: list[str]) -> None:
    """Run one stage in this process and print its figures as JSON on the last line."""
    from qualcode.cli import cli

    figures: dict[str, float] = {}
    if stage == "ingest":
        from qualcode.ingest import writer

        flush = writer.DocumentWriter.flush
        figures["writes_s"] = 0.0

        def timed_flush(self):
            start = time.perf_counter()
            flush(self)
            figures["writes_s"] += time.perf_counter() - start

        writer.DocumentWriter.flush = timed_flush
    if stage == "rules":  # the coder's own time, without the store's reads and writes
        from qualcode.coding.rules import RuleCoder

        predict = RuleCoder.predict
        figures["coding_s"] = 0.0

        def timed_predict(self, *args, **kwargs):
            start = time.perf_counter()
            try:
                return predict(self, *args, **kwargs)
            finally:
                figures["coding_s"] += time.perf_counter() - start

        RuleCoder.predict = timed_predict
    tree = TreeMemory()
    start = time.perf_counter()
    try:
        cli.main(["-p", project, *STAGES[stage](tmp, extra)], standalone_mode=False)
    finally:
        figures["seconds"] = time.perf_counter() - start
        tree.stop()
    # with --scheduler local:N the workers are processes of their own: their memory counts
    figures["peak_mb"] = max(peak_mb(), tree.peak_mb)
    if stage == "themes":  # the topics' quality beside their cost
        from qualcode.store import open_project

        with open_project(project) as store:
            method, npmi, diversity = store.execute(
                "SELECT method, npmi, diversity FROM topic_models ORDER BY id DESC LIMIT 1"
            ).fetchone()
        figures.update(npmi=npmi, diversity=diversity, sample=json.loads(method).get("sample") or 0)
    print(json.dumps(figures))


class TreeMemory:
    """The peak of the resident memory of this process and all its descendants together,
    sampled every 0.2 s (psutil, which Dask brings; without it, nothing is sampled)."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        try:
            import psutil
        except ImportError:
            return
        me = psutil.Process()
        while not self._done.wait(0.2):
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):  # a worker that has just exited
                    total += proc.memory_info().rss
            self.peak_mb = max(self.peak_mb, total / 1024**2)

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def peak_mb() -> float:
    """This process's peak resident memory: VmHWM, which exec resets (``ru_maxrss`` of a child
    of a fork keeps the parent's, and this script's parent holds the sentence pool)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_stage(project: Path, stage: str, tmp: Path, extra: list[str]) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, __file__, *extra, "--child", stage, str(project), str(tmp)],
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        sys.exit(f"{stage} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def read_and_hash(folder: Path) -> float:
    """Seconds to read and SHA-256 every file, each file once, as ingest's floor."""
    start = time.perf_counter()
    for f in sorted(folder.iterdir()):
        hashlib.sha256(f.read_bytes()).hexdigest()
    return time.perf_counter() - start


def bare_tokenise(project: Path) -> float:
    """Seconds for bare ``spacy.blank("en")`` to tokenise the text of the segments the rules
    stage codes, read a chunk at a time as it reads them."""
    import spacy

    from qualcode.coding.project import segment_chunks
    from qualcode.store import open_project

    blank = spacy.blank("en")
    seconds = 0.0
    with open_project(project) as store:
        for chunk in segment_chunks(store):
            texts = [s["text"] for s in chunk]
            start = time.perf_counter()
            for _ in blank.pipe(texts):
                pass
            seconds += time.perf_counter() - start
    return seconds


def bare_executemany(project: Path, tmp: Path) -> float:
    """Seconds to insert the ingested rows into an empty project with plain ``executemany``,
    one call per table, in one transaction."""
    from qualcode.store import create_project, open_project

    with open_project(project) as store:
        rows = {t: store.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in TABLES}
        runs = store.execute("SELECT * FROM runs").fetchall()
    with create_project(tmp / "bare.db") as bare:
        marks = lambda r: ", ".join("?" * len(r.keys()))  # noqa: E731
        bare.conn.executemany(f"INSERT INTO runs VALUES ({marks(runs[0])})", runs)
        bare.conn.commit()
        start = time.perf_counter()
        with bare.atomic():
            for t in TABLES:
                if rows[t]:
                    sql = f"INSERT INTO {t} VALUES ({marks(rows[t][0])})"
                    bare.conn.executemany(sql, [tuple(r) for r in rows[t]])
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=int, default=1000, help="responses at 1x (default 1000)")
    parser.add_argument("--factors", default="1,4,16", help="sizes as multiples of the base")
    parser.add_argument("--stages", default=",".join(STAGES), help="comma-separated stages")
    parser.add_argument("--embedding", help="qualcode code --embedding, for the hybrid stage")
    parser.add_argument("--scheduler", help="qualcode code --scheduler, for the hybrid stage")
    parser.add_argument(ONLINE, action="store_true", help="themes fit --online, for themes")
    parser.add_argument("--child", nargs=3, metavar=("STAGE", "PROJECT", "TMP"), help="internal")
    args = parser.parse_args()
    extra = [*(["--embedding", args.embedding] if args.embedding else [])]
    extra += ["--scheduler", args.scheduler] if args.scheduler else []
    extra += [ONLINE] if args.online else []
    if args.child:
        stage, project, tmp = args.child
        child(project, stage, tmp, extra)
        return
    from themes_speed import write_surveys

    from qualcode.store import create_project

    stages = [s for s in args.stages.split(",") if s]
    unknown = set(stages) - set(STAGES)
    if unknown:
        sys.exit(f"unknown stages: {', '.join(sorted(unknown))}; choose from {', '.join(STAGES)}")
    if "ingest" not in stages:
        stages.insert(0, "ingest")  # every other stage reads what ingest stored
    rows = []
    for factor in (int(f) for f in args.factors.split(",")):
        n = args.base * factor
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            words = write_surveys(tmp / "survey", n)
            project = tmp / "growth.db"
            create_project(project).close()
            figures = {s: run_stage(project, s, tmp, extra) for s in stages}
            floor = read_and_hash(tmp / "survey")
            bare = bare_executemany(project, tmp)
            tokenise = bare_tokenise(project) if "rules" in figures else None
        ingest = figures["ingest"]
        rules = (
            (tokenise / figures["rules"]["coding_s"], tokenise / figures["rules"]["seconds"])
            if tokenise
            else None
        )
        rows.append(
            (factor, n, words, figures, floor / ingest["seconds"], bare / ingest["writes_s"], rules)
        )
        print(f"{factor}x: {n:,} responses, {words:,} words", flush=True)
        for s in stages:
            f = figures[s]
            print(f"  {s:<7} {f['seconds']:8.1f} s  peak {f['peak_mb']:7.0f} MB", flush=True)
        if "themes" in figures:
            t = figures["themes"]
            fitted = f"a sample of {t['sample']:,}" if t["sample"] else "all responses"
            print(
                f"  themes fitted on {fitted}: NPMI {t['npmi']:.3f}, diversity"
                f" {t['diversity']:.3f}",
                flush=True,
            )
        print(
            f"  ingest at {floor / ingest['seconds']:.3f} of the speed of reading and hashing the"
            f" files ({floor:.4f} s); its store writes ({ingest['writes_s']:.2f} s) at"
            f" {bare / ingest['writes_s']:.2f} of a bare executemany of the same rows"
            f" ({bare:.2f} s)",
            flush=True,
        )
        if rules:
            print(
                f"  rule coding (RuleCoder.predict, {figures['rules']['coding_s']:.1f} s) at"
                f" {rules[0]:.2f} of the speed of bare tokenisation of the same text"
                f" ({tokenise:.1f} s); the whole stage, with the store's reads and writes and"
                f" the start, at {rules[1]:.2f}",
                flush=True,
            )
    print()
    print("| stage | " + " | ".join(f"{n:,} responses" for _, n, *_ in rows) + " |")
    print("|---|" + "---|" * len(rows))
    for s in stages:
        cells = [f"{r[3][s]['seconds']:.1f} s, {r[3][s]['peak_mb']:.0f} MB" for r in rows]
        print(f"| {s} | " + " | ".join(cells) + " |")
    if "themes" in stages:
        cells = [f"{r[3]['themes']['npmi']:.3f} / {r[3]['themes']['diversity']:.3f}" for r in rows]
        print("| themes NPMI / diversity | " + " | ".join(cells) + " |")
    if "rules" in stages:
        cells = [f"{r[6][0]:.2f} ({r[6][1]:.2f})" for r in rows]
        print("| rule coding (whole stage) / bare tokenisation | " + " | ".join(cells) + " |")
    print("| ingest / read+hash | " + " | ".join(f"{r[4]:.3f}" for r in rows) + " |")
    print("| store writes / bare executemany | " + " | ".join(f"{r[5]:.2f}" for r in rows) + " |")


if __name__ == "__main__":
    main()
