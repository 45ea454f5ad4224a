"""Generate a synthetic interview corpus of a given size, for benchmarks.

The text is random but shaped like the real thing: YAML front matter, interviewer questions,
multi-paragraph answers drawn from partnership vocabulary, four sites and a manifest.

    python benchmarks/make_corpus.py --words 1000000 --out /tmp/synthetic
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

SITES = ("Hollinsford", "Brannock", "Saltmere", "Eddon Vale")
TIERS = ("strategic", "operational", "frontline", "user")
GROUPS = ("health", "social care", "housing", "voluntary sector", "GP", "service user", "carer")
OPENERS = ("I suppose", "To be honest", "In a way", "Well", "I think", "Frankly", "Mind you")
SUBJECTS = (
    "the pooled budget",
    "the joint commissioning manager",
    "the council",
    "the PCT",
    "our team",
    "the social workers",
    "the district nurses",
    "the voluntary sector",
    "the partnership board",
    "the link worker",
    "the GPs",
    "the carers' centre",
)
VERBS = (
    "never really agreed on",
    "kept arguing about",
    "finally sorted out",
    "still worries about",
    "was left out of",
    "took the lead on",
    "quietly blocked",
    "got a lot out of",
)
OBJECTS = (
    "the assessment forms",
    "who pays for the care home beds",
    "the information sharing protocol",
    "the section 31 agreement",
    "the grant ending in March",
    "sharing an office",
    "the boundaries",
    "supervision arrangements",
    "the performance returns",
    "joint training",
    "the reorganisation",
    "the budget cuts",
)
QUESTIONS = (
    "Could you tell me about your role?",
    "How did the partnership start?",
    "What has helped?",
    "What has got in the way?",
    "Can you give me an example?",
    "How does the money work?",
    "What would you do differently?",
)


def sentence(rng: random.Random) -> str:
    return (
        f"{rng.choice(OPENERS)}, {rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}."
    )


def interview(rng: random.Random, pseudonym: str, site: str, words: int) -> tuple[str, int]:
    tier = rng.choice(TIERS)
    lines = [
        "---",
        f"site: {site}",
        f"participant: {pseudonym}",
        f"stakeholder_group: {rng.choice(GROUPS)}",
        f"tier: {tier}",
        "wave: 1",
        "consent: given",
        "---",
    ]
    written = 0
    first = True
    while written < words:
        lines.append(f"Interviewer: {rng.choice(QUESTIONS)}\n")
        paragraphs = []
        for _ in range(rng.randint(1, 4)):
            para = " ".join(sentence(rng) for _ in range(rng.randint(2, 7)))
            written += len(para.split())
            paragraphs.append(para)
        label = f"{pseudonym} (interviewee)" if first else pseudonym
        first = False
        lines.append(f"{label}: " + "\n\n".join(paragraphs) + "\n")
    return "\n".join(lines) + "\n", written


def make_corpus(
    out: Path,
    total_words: int,
    words_per_interview: int = 5000,
    seed: int = 0,
    interviews: int | None = None,
) -> int:
    """Write interviews into ``out`` until ``total_words`` respondent words (or, if given,
    until ``interviews`` interviews); return the number of respondent words."""
    rng = random.Random(seed)
    written = 0
    n = 0
    while (n < interviews) if interviews else (written < total_words):
        site = SITES[n % len(SITES)]
        folder = out / site.lower().replace(" ", "-")
        folder.mkdir(parents=True, exist_ok=True)
        pseudonym = f"{site[:3].upper()}-{n:05d}"
        text, words = interview(
            rng,
            pseudonym,
            site,
            words_per_interview if interviews else min(words_per_interview, total_words - written),
        )
        (folder / f"{pseudonym}.txt").write_text(text, encoding="utf-8")
        written += words
        n += 1
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=1_000_000)
    parser.add_argument("--per-interview", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    written = make_corpus(args.out, args.words, args.per_interview, args.seed)
    print(f"wrote {written:,} respondent words to {args.out}")


if __name__ == "__main__":
    main()
