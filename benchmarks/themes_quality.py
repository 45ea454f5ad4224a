"""How good are the themes on the demo corpus: the emergent flag against the planted themes, and
topic labels by representation model (NPMI, diversity, and the labels themselves to read).

    .venv/bin/python benchmarks/themes_quality.py [--seeds 5]

The demo corpus (corpora/partnership-sites) plants emergent themes the codebook does not name:
short-term grants, organisational turbulence, consultation overload, overloaded link workers,
user and carer voice, tiers seeing it differently. The default themes run (seed 0) makes 14
topics; each was judged by reading all its segments, and the judgement is written down below
(JUDGED), each topic found again by three of its segments. Two readings are scored:

- as judged: a topic is "emergent" when its largest coherent block of talk is a planted theme
  that no code names (consultation overload, overloaded link workers, user and carer voice,
  tiers); "codebook" when codes name what it is about; "mixed" (a grab bag, or two halves) is
  left out of precision and recall and its flags are counted apart;
- strict: also counting as emergent the topics about short-term grants and organisational
  turbulence, which the README lists as planted though the codebook names both
  (financial.short_term_funding; structural.organisational_complexity, "complexity and
  turbulence").

The rule was chosen on these same 14 topics, so its figures are in-sample; the other seeds'
flag counts (no judgement) and the ratio sweep show how much it leans on that.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
from collections import Counter
from pathlib import Path

from click.testing import CliRunner

from qualcode.cli import cli
from qualcode.codebook import load_stored_codebook
from qualcode.store import open_project
from qualcode.store import queries as q
from qualcode.themes import Options, discover
from qualcode.themes.labels import REPRESENTATIONS, label_terms, representation_model
from qualcode.themes.model import default_min_topic_size, embed, topic_model
from qualcode.themes.quality import npmi_coherence, topic_diversity
from qualcode.themes.text import STOP_WORDS, clean, proper_nouns

disc = importlib.import_module("qualcode.themes.discover")
CORPUS = Path(__file__).resolve().parents[1] / "corpora" / "partnership-sites"

# The 14 topics of the default run (seed 0), judged by reading every segment. Each is found by
# three of its segments: (document, how the segment starts).
JUDGED = [
    {
        "anchors": [
            ("hollinsford/HOL-03.txt", "[pause] Yes. That's the one I lie awake"),
            ("hollinsford/HOL-02.txt", "Well, half of it isn't."),
            ("saltmere/SAL-01.txt", "The pool itself, the community equipment"),
        ],
        "verdict": "mixed",
        "strict": "mixed",
        "why": "grab bag: closing pleasantries and one-word survey answers, Hollinsford's "
        "three-year grant, pooled budgets, records",
    },
    {
        "anchors": [
            ("hollinsford/HOL-06.txt", "In February. It was one of those mornings"),
            ("hollinsford/HOL-06.txt", "They said I'd broken my hip"),
            ("brannock/BRA-06.txt", "Well, there's me and my husband"),
        ],
        "verdict": "emergent",
        "strict": "emergent",
        "why": "user and carer voice: a service user's fall and rehabilitation, a carer's "
        "story, other patients' stories, with digressions (parking, roofs, weather)",
    },
    {
        "anchors": [
            ("eddon-vale/EDV-05.txt", "Low. Among the social workers especially."),
            ("brannock/BRA-02.txt", "Mixed. There's a lot of anxiety"),
            ("survey/stakeholder-survey.csv#S005", "Morale is on the floor."),
        ],
        "verdict": "codebook",
        "strict": "codebook",
        "why": "professional family: nurses and social workers, culture clash, identity "
        "threat, takeover fear, joint training",
    },
    {
        "anchors": [
            ("hollinsford/HOL-03.txt", "[pause] She's brilliant, and she's running on fumes."),
            ("hollinsford/HOL-04.txt", "[laughs] Yeah. When I started it was about half"),
            ("hollinsford/HOL-05.docx", "There is, in principle. The link worker"),
        ],
        "verdict": "emergent",
        "strict": "emergent",
        "why": "overloaded link worker and GP practices losing touch with the scheme, with "
        "closing remarks and rural access",
    },
    {
        "anchors": [
            ("brannock/BRA-01.txt", "[laughs] Where would you like me to start?"),
            ("hollinsford/HOL-03-w2.txt", "The General became a foundation trust"),
            ("survey/stakeholder-survey.csv#S008", "Reorganisation, reorganisation"),
        ],
        "verdict": "mixed",
        "strict": "emergent",
        "why": "organisational turbulence (trust and foundation status, reorganisation) and "
        "short-term grants, held together by the word 'status' (charitable, health status, "
        "status quo)",
    },
    {
        "anchors": [
            ("brannock/BRA-02.txt", "Lantern. Everybody refers back to Lantern."),
            ("brannock/BRA-01.txt", "Yes. This is one of my hobby-horses"),
            ("brannock/BRA-04.txt", "Talk to the people who hold the keys."),
        ],
        "verdict": "codebook",
        "strict": "codebook",
        "why": "Brannock housing and learning disability: non-coterminous areas, housing left "
        "out (power imbalance), self-preservation, the failed Lantern scheme",
    },
    {
        "anchors": [
            ("eddon-vale/EDV-05.txt", "It's double work, plain and simple."),
            ("eddon-vale/EDV-02.txt", "That's where the practical frustration sits."),
            ("survey/stakeholder-survey.csv#S025", "Two assessment systems."),
        ],
        "verdict": "codebook",
        "strict": "codebook",
        "why": "two assessment systems, records, budgets and cost shunting "
        "(procedural and financial codes)",
    },
    {
        "anchors": [
            ("eddon-vale/EDV-06.txt", "Oh, that was a farce."),
            ("hollinsford/HOL-04.txt", "One record. If I could open one screen"),
            ("eddon-vale/EDV-06.txt", "She left. Before Christmas."),
        ],
        "verdict": "mixed",
        "strict": "mixed",
        "why": "half a service user's and carers' voice (Eddon Vale, Brannock), half shared "
        "records and duplicate forms (information sharing, incompatible processes)",
    },
    {
        "anchors": [
            ("saltmere/SAL-03.txt", "A seat for carers on the board."),
            ("saltmere/SAL-04.txt", "There are so many. I am retired"),
            ("saltmere/SAL-03.txt", "...and a consultation on the new Harbour"),
        ],
        "verdict": "emergent",
        "strict": "emergent",
        "why": "consultation overload at Saltmere, carers' voice, annual grants to the "
        "carers' centre; coders gave it tokenism and power imbalance",
    },
    {
        "anchors": [
            ("hollinsford/HOL-03.txt", "Mixed, to be fair. The heads of service"),
            ("hollinsford/HOL-02.txt", "[pause] That's the part I'm least comfortable"),
            ("hollinsford/HOL-01.txt", "Only that the relationships are the asset"),
        ],
        "verdict": "mixed",
        "strict": "mixed",
        "why": "a third tiers seeing it differently (middle managers left out), the rest "
        "senior relationships and backing (trust, political legitimacy)",
    },
    {
        "anchors": [
            ("brannock/BRA-02.txt", "Hugely. I don't think the people who designed"),
            ("brannock/BRA-01.txt", "Well, it meant that a lot of what had been agreed"),
            ("survey/stakeholder-survey.csv#S052", "Don't know who to ring any more."),
        ],
        "verdict": "codebook",
        "strict": "emergent",
        "why": "Brannock's turbulence: the health authority gone, PCTs merged, posts "
        "changing (structural.organisational_complexity on half its segments)",
    },
    {
        "anchors": [
            ("saltmere/SAL-05.txt", "I'll be frank with you. It's a board"),
            ("survey/stakeholder-survey.csv#S040", "The PCT board is appointed"),
            ("brannock/BRA-02.txt", "Because that's how we're governed"),
        ],
        "verdict": "codebook",
        "strict": "codebook",
        "why": "council cycles and scrutiny against NHS boards: accountability and "
        "governance, disputed legitimacy",
    },
    {
        "anchors": [
            ("survey/stakeholder-survey.csv#S038", "Supervision! I'm now line managed"),
            ("eddon-vale/EDV-03.docx", "There's a protocol. I do line management"),
            ("eddon-vale/EDV-05.txt", "It isn't, much. My manager does my line"),
        ],
        "verdict": "codebook",
        "strict": "codebook",
        "why": "supervision across professions, approved social workers, identity threat",
    },
    {
        "anchors": [
            ("saltmere/SAL-03.txt", "No. Simple as that. We're not on the partnership"),
            ("saltmere/SAL-04.txt", "Planning, no. We are not on the partnership board."),
            ("saltmere/SAL-02.txt", "[pause] Not very well, if I'm straight with you."),
        ],
        "verdict": "codebook",
        "strict": "codebook",
        "why": "the voluntary sector's one seat and the compact: power imbalance, tokenism",
    },
]

# The flag before this benchmark: explained when a code is on 30% of a topic's segments and
# twice its corpus rate, or a family on 60% and 1.5 times; else, or under 50% coded, flagged.
OLD_COVERAGE, OLD_CODE, OLD_FAMILY = 0.5, (0.3, 2.0), (0.6, 1.5)


def build(path: Path) -> None:
    runner = CliRunner()
    gold = CORPUS / "codings" / "gold.csv"
    for argv in (["init"], ["ingest", str(CORPUS)], ["codings", "import", str(gold)]):
        if argv[0] == "codings":
            argv = [*argv, "--coder", "gold"]
        result = runner.invoke(cli, ["-p", str(path), *argv])
        if result.exit_code:
            sys.exit(result.output)


def old_flag(segment_ids, codes, base) -> bool:
    coded = [codes[s] for s in segment_ids if s in codes]
    if not coded or sum(1 for c in coded if c) / len(coded) < OLD_COVERAGE:
        return bool(coded)
    share = Counter(c for cs in coded for c in cs)
    families = Counter(f for cs in coded for f in {c.split(".")[0] for c in cs})
    for counts, (least, lift) in ((share, OLD_CODE), (families, OLD_FAMILY)):
        for key, k in counts.items():
            if k / len(coded) >= least and k / len(coded) >= lift * base.get(key, 1.0):
                return False
    return True


def base_rates(ids, codes) -> dict[str, float]:
    coded = [codes[u] for u in ids if u in codes]
    counts = Counter(c for cs in coded for c in cs)
    counts.update(f for cs in coded for f in {c.split(".")[0] for c in cs})
    return {k: v / len(coded) for k, v in counts.items()}


def find_judged(topics, units) -> dict[int, dict]:
    """The judged topic each of this run's topics is, found by its anchor segments."""
    by_start = {(u["document"], u["text"][:60]): u["id"] for u in units}
    where = {s: t.topic for t in topics for s in t.segment_ids}
    out = {}
    for judged in JUDGED:
        homes = set()
        for document, start in judged["anchors"]:
            ids = [
                i for (d, text), i in by_start.items() if d == document and text.startswith(start)
            ]
            homes |= {where.get(i) for i in ids} or {None}
        if len(homes) == 1 and None not in homes:
            out[homes.pop()] = judged
        else:
            print(f"  ! judged topic not found intact ({judged['why'][:50]}...): {homes}")
    return out


def score(flags: dict[int, bool], truth: dict[int, str]) -> str:
    tp = sum(1 for t, f in flags.items() if f and truth.get(t) == "emergent")
    fp = sum(1 for t, f in flags.items() if f and truth.get(t) == "codebook")
    fn = sum(1 for t, f in flags.items() if not f and truth.get(t) == "emergent")
    mixed = sum(1 for t, f in flags.items() if f and truth.get(t) == "mixed")
    precision = f"{tp / (tp + fp):.2f}" if tp + fp else "n/a"
    recall = f"{tp / (tp + fn):.2f}" if tp + fn else "n/a"
    return (
        f"flagged {sum(flags.values()):2d}/{len(flags)}  precision {precision} recall {recall}"
        f"  (tp {tp}, fp {fp}, fn {fn}; mixed flagged {mixed})"
    )


def flag_benchmark(store, book, seeds: int) -> None:
    units = q.respondent_units(store, None)
    _, codes = disc.reference_codes(store, None)
    base = base_rates([u["id"] for u in units], codes)
    print("== The emergent flag against the planted themes (default run, seed 0)")
    run = discover(store, book, Options(seed=0))
    topics = run.groups[0].topics
    judged = find_judged(topics, units)
    for reading in ("verdict", "strict"):
        truth = {t: j[reading] for t, j in judged.items()}
        kinds = Counter(truth.values())
        print(f"\n-- reading: {'as judged' if reading == 'verdict' else 'strict'} {dict(kinds)}")
        rules = {
            "before (codes and families)": {
                t.topic: old_flag(t.segment_ids, codes, base) for t in topics
            },
            "coverage < 50% only": {
                t.topic: t.coverage is not None and t.coverage < 0.5 for t in topics
            },
        }
        for ratio in (0.9, 1.0, 1.1):
            rules[f"codebook fit < {ratio:.1f} x corpus"] = {
                t.topic: t.codebook_fit < ratio for t in topics
            }
        rules["after: fit < 1.0 x corpus or coverage < 50%"] = {t.topic: t.emergent for t in topics}
        for name, flags in rules.items():
            print(f"  {name:45s} {score(flags, truth)}")
    print("\n  topic  size  judged    strict    fit   coded  before after  label")
    for t in topics:
        j = judged.get(t.topic, {})
        before = "*" if old_flag(t.segment_ids, codes, base) else " "
        print(
            f"  {t.topic:5d} {t.size:5d}  {j.get('verdict', '?'):9s} {j.get('strict', '?'):9s}"
            f" {t.codebook_fit:.2f}  {t.coverage:.2f}  {before:6s}"
            f" {'*' if t.emergent else ' ':5s} {t.label}"
        )
    print("\n-- other seeds (not judged): topics flagged before -> after")
    for seed in range(1, seeds):
        run = discover(store, book, Options(seed=seed))
        ts = run.groups[0].topics
        before = sum(old_flag(t.segment_ids, codes, base) for t in ts)
        print(f"  seed {seed}: {len(ts)} topics, flagged {before} -> {sum(t.emergent for t in ts)}")


def label_benchmark(store, seeds: int) -> None:
    print("\n== Labels by representation model (BERTopic aspects over one fit per seed)")
    units = q.respondent_units(store, None)
    docs = [clean(u["text"]) or u["text"] for u in units]
    stop = sorted(set(STOP_WORDS) | proper_nouns([u["text"] for u in units]))
    table: dict[str, list[tuple[float, float, float, float]]] = {r: [] for r in REPRESENTATIONS}
    shown = {}
    for seed in range(seeds):
        vectors, embedder, _ = embed(docs, "tfidf", seed, stop)
        aspects = {r: representation_model(r, seed) for r in REPRESENTATIONS if r != "c-tf-idf"}
        model, _ = topic_model(
            len(docs),
            embedder,
            min_topic_size=default_min_topic_size(len(docs)),
            seed=seed,
            stop_words=stop,
            representation_model=aspects,
        )
        assigned = list(model.fit_transform(docs, embeddings=vectors)[0])
        ts = sorted(set(assigned) - {-1}, key=lambda t: -assigned.count(t))
        said = {t: [units[i]["text"] for i, a in enumerate(assigned) if a == t] for t in ts}
        for r in REPRESENTATIONS:
            words = {
                t: [
                    w
                    for w, _ in (
                        model.get_topic(t) if r == "c-tf-idf" else model.topic_aspects_[r][t]
                    )
                    if w
                ]
                for t in ts
            }
            top = [words[t][:10] for t in ts]
            labels = [label_terms(words[t], texts=said[t]) for t in ts]
            table[r].append(
                (
                    npmi_coherence(top, docs),
                    topic_diversity(top),
                    npmi_coherence(labels, docs),
                    topic_diversity(labels),
                )
            )
            if seed == 0:
                shown[r] = {t: (words[t][:5], labels[i]) for i, t in enumerate(ts)}
    print(f"  NPMI over the corpus's {len(docs)} segments; mean over seeds 0..{seeds - 1}")
    print("  representation  top-10 NPMI  diversity  label NPMI  diversity")
    for r, rows in table.items():
        cols = [sum(x[i] for x in rows) / len(rows) for i in range(4)]
        print(f"  {r:14s} {cols[0]:12.3f} {cols[1]:10.2f} {cols[2]:11.3f} {cols[3]:10.2f}")
    print("\n  seed 0, largest topic first: c-TF-IDF top 5 | each model's label (3 terms, tidied)")
    for t in shown["c-tf-idf"]:
        print(f"  {t:3d} {', '.join(shown['c-tf-idf'][t][0])}")
        for r in REPRESENTATIONS:
            print(f"        {r:12s} {', '.join(shown[r][t][1])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default 5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.db"
        build(path)
        with open_project(path) as store:
            book = load_stored_codebook(store)
            flag_benchmark(store, book, args.seeds)
            label_benchmark(store, args.seeds)


if __name__ == "__main__":
    main()
