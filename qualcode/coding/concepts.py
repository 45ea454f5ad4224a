"""Concept lexicons per family: what a passage is about, and whether it says something helps or
hinders, as features that do not depend on the wording of any training set.

Each family has a list of topic stems (word beginnings, matched case-insensitively at a word
start) written from the codebook's definitions and include criteria and the domain brief
(Hardy et al. 1992; Williamson 2001), covering the ways managers, practitioners, users and
authors name the same idea. A topic word alone is not evidence (the labelling rule: "mere mention
of a word is not enough"), so the features also count topic words that share a sentence with an
evaluative cue: a difficulty, failure or absence (a barrier) or a condition, success or
recommendation (a prerequisite). Negation is handled by the classifier's own negation-marked
words; here a denied cue ("not a problem") is not counted as a barrier cue.
"""

from __future__ import annotations

import re

import numpy as np

from qualcode.codebook.model import HARDY_FAMILIES

TOPICS: dict[str, tuple[str, ...]] = {
    "structural": (
        "boundar", "coterminous", "co-terminous", "coterminosity", "non-coterminous",
        "reorganis", "reorganiz", "restructur", "re-organis", "merg", "abolish", "upheaval",
        "turbulen", "fragment", "remit", "responsibilit", "overlap", "duplicat", "tier",
        "two-tier", "county", "district", "directorate", "department", "counterpart",
        "opposite number", "co-locat", "colocat", "same building", "same office", "location",
        "located", "premises", "separate sites", "geograph", "catchment", "footprint",
        "organisational structure", "structures", "structural", "complexity", "complex",
        "turnover", "continuity", "moved on", "left the", "stabil", "instabil", "new bodies",
        "configuration", "fall between", "falling between", "fell between", "gaps", "gap",
        "lead agency", "lead body", "single point", "who was responsible", "ownership",
        "clear roles", "roles and responsibilit", "accountable body", "integrated team",
        "joint team", "one team", "based in", "based at", "hospital site", "patch",
    ),
    "procedural": (
        "procedur", "process", "bureaucra", "paperwork", "red tape", "form-filling", "forms",
        "information", "data", "records", "notes", "confidential", "it system", "computer",
        "software", "database", "systems", "protocol", "planning cycle", "plan", "timescale",
        "timetable", "deadline", "cycle", "target", "indicator", "performance", "monitor",
        "reporting", "returns", "audit", "inspect", "accountab", "governance", "sign-off",
        "sign off", "approval", "committee", "board", "decision-making", "decision making",
        "legal agreement", "agreement", "contract", "memorand", "service level", "aims",
        "objectives", "priorit", "purpose", "vision", "strateg", "clarity", "unclear",
        "communicat", "meetings", "consult", "assessment process", "eligibility", "criteria",
        "referral process", "single assessment", "common assessment", "care pathway",
        "pathway", "paper", "regulation", "rules", "guidance", "joint planning", "joint plan",
    ),
    "financial": (
        "fund", "budget", "money", "financ", "grant", "cost", "resourc", "spend", "spent",
        "overspen", "underspen", "deficit", "cuts", "cutback", "savings", "afford", "pay",
        "paid", "payment", "charg", "price", "fees", "invest", "pool", "ring-fenc", "ringfenc",
        "ring fenc", "short-term money", "pilot money", "contribution", "allocation", "pound",
        "£", "million", "cash", "income", "revenue", "capital", "bid", "bidding", "subsid",
        "shunt", "cost-shift", "cost shift", "financial", "economic", "value for money",
        "efficien", "tariff", "commission", "purse", "pocket", "squeez", "tight", "expens",
        "cheap", "match funding", "matched funding", "mainstream funding", "sustainab",
        "time-limited", "time limited", "end of the grant", "ran out", "run out",
    ),
    "professional": (
        "profession", "culture", "cultural", "ethos", "values", "philosoph", "ideolog",
        "model of care", "medical model", "social model", "identit", "attitude", "mindset",
        "mind-set", "perspective", "outlook", "trust each other", "trusted", "mistrust",
        "distrust", "suspicio", "stereotyp", "prejudic", "respect", "understand each other",
        "understanding of each other", "mutual understanding", "jargon", "language",
        "terminolog", "training", "trained", "learn", "shadow", "secondment", "second",
        "relationship", "rapport", "personal contact", "got to know", "knew each other",
        "goodwill", "good will", "rivalr", "competi", "territor", "demarcat", "role",
        "nurse", "nursing", "social worker", "social work", "clinician", "clinical", "doctor",
        "consultant", "gp", "therapist", "psychiatr", "teacher", "police", "practitioner",
        "discipline", "multidisciplinary", "multi-disciplinary", "interprofessional",
        "inter-professional", "inter-agency", "working together", "team building", "champion",
        "link worker", "liaison", "broker", "boundary spanner", "network", "autonomy",
        "deskill", "de-skill", "expertise", "skills", "morale", "defensive", "protective",
    ),
    "status": (
        "status", "power", "powerful", "powerless", "dominan", "dominat", "equal", "unequal",
        "inequalit", "equivalen", "junior", "senior partner", "parity", "voice", "token",
        "rubber-stamp", "rubber stamp", "consulted", "listened", "heard", "legitima",
        "democra", "elected", "unelected", "appointed", "accountable to", "mandate",
        "councillor", "member", "political", "politician", "minister", "government",
        "takeover", "take over", "taken over", "swallow", "absorb", "empire", "patch",
        "territory", "turf", "self-interest", "self interest", "self-preservation",
        "survival", "autonomy", "independen", "control", "agenda", "dictat", "lead partner",
        "big brother", "junior partner", "voluntary sector", "voluntary and community",
        "community sector", "community group", "charit", "third sector", "residents",
        "users", "carers", "representat", "seat at", "at the table", "influence", "standing",
        "credibility", "respect", "win-win", "mutual benefit", "mutual advantage", "benefit",
        "gain", "lose", "threat", "support from the top", "senior support", "commitment",
        "champion", "leadership", "backing", "buy-in", "buy in",
    ),
}

# A difficulty, failure or absence: the passage says something hinders.
BARRIER_CUES = (
    "problem", "difficult", "difficulti", "barrier", "obstacle", "hinder", "hamper", "imped",
    "undermin", "frustrat", "tension", "conflict", "clash", "friction", "dispute", "disagree",
    "argu", "row", "resent", "reluctan", "resist", "suspicio", "fear", "anxi", "worr",
    "concern", "complain", "struggl", "fail", "failure", "lack", "absence", "absent",
    "without", "insufficient", "inadequa", "poor", "weak", "limited", "constrain", "restrict",
    "slow", "delay", "stall", "block", "prevent", "stop", "lost", "loss", "confus", "unclear",
    "uncertain", "insecur", "precarious", "fragile", "incompatib", "mismatch", "different",
    "differences", "diverg", "separate", "split", "divided", "gap", "duplicat", "burden",
    "overload", "exclu", "marginal", "sidelin", "ignor", "bypass", "imbalance", "tokenis",
    "tokenistic", "dominat", "protect", "guard", "defend", "shunt", "withdr", "cut",
    "squeez", "pressure", "tight", "scarce", "short-term", "ran out", "run out", "ended",
    "complicat", "complex", "cumbersome", "bureaucra", "red tape", "hard to", "unable",
    "could not", "couldn't", "can't", "cannot", "did not", "didn't", "wasn't", "weren't",
    "never", "nobody", "no one", "neither", "rather than", "instead of", "only",
    "reluctant", "unwilling", "mistrust", "distrust", "rival", "compet", "threat", "takeover",
    "hostil", "cynic", "scepti", "skepti", "turbulen", "upheaval", "disrupt", "collapse",
)
# A condition, facilitator, success or recommendation: the passage says something helps.
PREREQUISITE_CUES = (
    "help", "enabl", "facilitat", "support", "success", "effective", "work well", "worked well",
    "works well", "key", "crucial", "essential", "vital", "important", "necessary", "need",
    "needed", "needs to", "should", "must", "require", "prerequisite", "condition",
    "ingredient", "foundation", "basis", "underpin", "strength", "benefit", "advantage",
    "improv", "better", "easier", "smooth", "ensur", "clear", "clarity", "agreed", "shared",
    "joint", "common", "mutual", "together", "trust", "commit", "champion", "lead",
    "leadership", "stable", "secure", "dedicated", "pooled", "aligned", "coterminous",
    "co-located", "integrated", "recommend", "lesson", "learn", "build", "built", "develop",
    "invest", "nurtur", "overcome", "resolved", "breakthrough", "turning point", "made it",
    "made the difference", "owed much", "credited", "valued", "welcomed", "positive",
)
# A denial of a problem: "this was not a problem", "no difficulty", "never an issue".
DENIAL = re.compile(
    r"\b(?:not|n't|never|no|hardly)\b(?:\s+\w+){0,3}?\s+"
    r"(?:a\s+|an\s+|the\s+|any\s+|much\s+of\s+a\s+|real\s+)?"
    r"(?:problem|issue|difficult\w*|barrier|obstacle|concern|tension)s?\b",
    re.IGNORECASE,
)
SENTENCE = re.compile(r"[^.!?;]+(?:[.!?;]+|$)")


def _stem_regex(stems: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first, so "ring-fenc" wins over "ring"; a stem matches at a word start only.
    parts = sorted({re.escape(s.lower()) for s in stems}, key=len, reverse=True)
    return re.compile(r"(?<![\w£])(?:" + "|".join(parts) + r")", re.IGNORECASE)


TOPIC_RES = {family: _stem_regex(stems) for family, stems in TOPICS.items()}
BARRIER_RE = _stem_regex(BARRIER_CUES)
PREREQUISITE_RE = _stem_regex(PREREQUISITE_CUES)
FEATURES_PER_FAMILY = 4


def concept_features(texts: list[str], families: tuple[str, ...] = HARDY_FAMILIES) -> np.ndarray:
    """Per text and family: log counts of topic words, of sentences where a topic word meets a
    barrier cue, and where it meets a prerequisite cue, and the share of sentences on the
    topic. Four columns per family, in ``families`` order."""
    out = np.zeros((len(texts), FEATURES_PER_FAMILY * len(families)))
    for i, text in enumerate(texts):
        sentences = SENTENCE.findall(text) or [text]
        for s in sentences:
            denied = bool(DENIAL.search(s))
            barrier = bool(BARRIER_RE.search(s)) and not denied
            prerequisite = bool(PREREQUISITE_RE.search(s))
            for k, family in enumerate(families):
                hits = len(TOPIC_RES[family].findall(s)) if family in TOPIC_RES else 0
                if not hits:
                    continue
                col = FEATURES_PER_FAMILY * k
                out[i, col] += hits
                out[i, col + 1] += barrier
                out[i, col + 2] += prerequisite
                out[i, col + 3] += 1 / len(sentences)
    cols = [c for k in range(len(families)) for c in range(FEATURES_PER_FAMILY * k,
            FEATURES_PER_FAMILY * k + 3)]
    out[:, cols] = np.log1p(out[:, cols])
    return out


def concept_evidence(text: str, family: str, limit: int = 3) -> list[tuple[int, int, str]]:
    """Up to ``limit`` topic words of ``family`` that share a sentence with a barrier or
    prerequisite cue, as (start, end, reason) character spans of ``text``."""
    out: list[tuple[int, int, str]] = []
    topic = TOPIC_RES.get(family)
    if topic is None:
        return out
    for sentence in SENTENCE.finditer(text):
        s = sentence.group()
        barrier = None if DENIAL.search(s) else BARRIER_RE.search(s)
        cue = barrier or PREREQUISITE_RE.search(s)
        if cue is None:
            continue
        kind = "barrier" if barrier else "prerequisite"
        for m in topic.finditer(s):
            end = m.end() + len(re.match(r"[\w-]*", s[m.end() :]).group())
            word = s[m.start() : end]
            out.append(
                (
                    sentence.start() + m.start(),
                    sentence.start() + end,
                    f"{family} concept '{word}' with {kind} cue '{cue.group()}'",
                )
            )
            if len(out) >= limit:
                return out
    return out
