"""Throughput of the rule coder against bare spaCy tokenisation of the same text, in one run.

    python benchmarks/rules_speed.py [--copies 5] [--repeats 3]
    python benchmarks/rules_speed.py --text long [--words 1000000] [--single 400000]

--text demo (the default): every respondent segment of the demo corpus, repeated --copies times.
--text long: long unpunctuated turns, as automatic transcription gives them: the demo's
respondent sentences in which the rules find a code (so the text is dense with concept words),
stripped of all punctuation but apostrophes and word-internal hyphens, and run together into turns
of 20 to 180 words (seeded), --words in all; then one turn of --single words on its own.

Prints words per second for `spacy.blank("en")` tokenisation, for the same tokens read chunk by
chunk as the rule coder reads them (``qualcode.coding.chunks``: no Doc made), for
RuleCoder.predict (tokens, pattern matching, negation, evidence), and for the whole
`qualcode code --kind rules` command (reading segments from the store and writing codings), each
the best of --repeats.
"""

from __future__ import annotations

import argparse
import random
import re
import tempfile
import time
from collections import deque
from pathlib import Path

import spacy
from click.testing import CliRunner

from qualcode.cli import cli
from qualcode.codebook import default_codebook_path, load_codebook
from qualcode.coding.rules import RuleCoder
from qualcode.ingest import read_documents

CORPUS = Path(__file__).resolve().parents[1] / "corpora" / "partnership-sites"
PUNCTUATION = re.compile(r"[^\w'\s-]|(?<!\w)-|-(?!\w)")


def best_of(repeats: int, action) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def tokenise_only(blank, texts: list[str]) -> None:
    """Tokenise every text, keeping no Doc (as the rule coder keeps none: keeping them all,
    as ``list(blank.pipe(texts))`` did here before, made the baseline slower by a third to a
    half on this machine, and the ratios flattering)."""
    deque(blank.pipe(texts), maxlen=0)


def long_turns(coder: RuleCoder, words: int, seed: int = 0, shortest=20, longest=180) -> list[str]:
    """Unpunctuated turns of shortest to longest words (the last one maybe shorter), words in all,
    made of the demo's respondent sentences that the rules code."""
    sentences = [
        sentence
        for d in read_documents([CORPUS])
        for s in d.segments
        if not s.is_interviewer
        for sentence in re.split(r"(?<=[.?!])\s+", s.text)
        if sentence.strip()
    ]
    coded = coder.predict(sentences)
    dense = [
        PUNCTUATION.sub(" ", s).split()
        for s, r in zip(sentences, coded, strict=True)
        if list(r) or r.denied
    ]
    rng = random.Random(seed)
    turns: list[str] = []
    stream: list[str] = []
    total = 0
    while total < words:
        n = min(rng.randint(shortest, longest), words - total)
        while len(stream) < n:
            stream += rng.choice(dense)
        turns.append(" ".join(stream[:n]))
        stream, total = stream[n:], total + n
    return turns


def demo_texts(copies: int, interviews_only: bool = False) -> list[str]:
    return [
        s.text
        for d in read_documents([CORPUS])
        if not (interviews_only and d.format == "csv")
        for s in d.segments
        if not s.is_interviewer
    ] * copies


def chunk_tokens_only(coder: RuleCoder, texts: list[str]) -> None:
    """The rule coder's own tokenising: spaCy's tokens read chunk by chunk, batch by batch."""
    for first in range(0, len(texts), coder.batch_size):
        coder.chunks_.batch(texts[first : first + coder.batch_size])


def compare(label: str, texts: list[str], coder: RuleCoder, blank, repeats: int) -> None:
    words = sum(len(t.split()) for t in texts)
    tokenise = best_of(repeats, lambda: tokenise_only(blank, texts))
    rules = best_of(repeats, lambda: coder.predict(texts))
    print(f"{label}: {len(texts):,} segments, {words:,} words")
    print(f"  spacy.blank('en') tokenisation: {tokenise:.3f} s, {words / tokenise:,.0f} words/s")
    if coder.chunks_ is not None:
        chunks = best_of(repeats, lambda: chunk_tokens_only(coder, texts))
        print(
            f"  the same tokens chunk by chunk: {chunks:.3f} s, {words / chunks:,.0f} words/s "
            "(the coder's own tokenising, no Doc made)"
        )
    print(f"  RuleCoder.predict:              {rules:.3f} s, {words / rules:,.0f} words/s")
    print(f"  rules / tokenisation throughput: {tokenise / rules:.2f}")


def command(texts: list[str], blank, repeats: int, per_file: int = 50) -> None:
    """`qualcode code --kind rules` on texts ingested as interviews of per_file turns."""
    with tempfile.TemporaryDirectory() as tmp:
        project = str(Path(tmp) / "bench.db")
        runner = CliRunner()

        def invoke(*args: str) -> None:
            result = runner.invoke(cli, ["-p", project, *args])
            if result.exit_code:
                raise SystemExit(f"qualcode {' '.join(args)} failed:\n{result.output}")

        invoke("init")
        folder = Path(tmp) / "interviews"
        folder.mkdir()
        for number in range(0, len(texts), per_file):
            (folder / f"interview{number:07d}.txt").write_text(
                "\n\n".join(
                    f"Interviewer: Go on.\n\nR: {t}" for t in texts[number : number + per_file]
                )
            )
        invoke("ingest", str(folder), "--default-site", "bench")
        words = sum(len(t.split()) for t in texts)
        took = best_of(repeats, lambda: invoke("code", "--kind", "rules"))
        bare = best_of(repeats, lambda: tokenise_only(blank, texts))
        print(
            f"`qualcode code --kind rules` on {words:,} interview words: "
            f"{took:.3f} s, {words / took:,.0f} words/s "
            f"({bare / took:.2f} of tokenising the same text, {bare:.3f} s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", choices=["demo", "long"], default="demo")
    parser.add_argument("--copies", type=int, default=5, help="demo: copies of the corpus")
    parser.add_argument("--words", type=int, default=1_000_000, help="long: words of turns")
    parser.add_argument("--single", type=int, default=400_000, help="long: words of one turn")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-command", action="store_true", help="skip `qualcode code`")
    args = parser.parse_args()
    blank = spacy.blank("en")
    blank.max_length = 10_000_000  # the single long turn; the rule coder's pipeline allows it too
    coder = RuleCoder(load_codebook(default_codebook_path())).fit()
    coder.predict(["warm the caches"])
    if args.text == "demo":
        texts = demo_texts(args.copies)
        compare("demo respondent segments", texts, coder, blank, args.repeats)
        interviews = demo_texts(args.copies, interviews_only=True)
    else:
        texts = long_turns(coder, args.words)
        compare("long unpunctuated turns (20 to 180 words)", texts, coder, blank, args.repeats)
        if args.single:
            [single] = long_turns(coder, args.single, 1, args.single, args.single)
            compare("one unpunctuated turn", [single], coder, blank, 1)
        interviews = texts
    if not args.no_command:
        command(interviews, blank, args.repeats)


if __name__ == "__main__":
    main()
