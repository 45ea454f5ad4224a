"""HybridCoder: a family gate, then rules and model together for the code; the default coder."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from qualcode.codebook import Codebook
from qualcode.coding.base import Assignment, Evidence, segment_texts
from qualcode.coding.concepts import concept_evidence
from qualcode.coding.family import FamilyCoder
from qualcode.coding.model import ModelCoder
from qualcode.coding.rules import FLIP_CONFIDENCE, RuleCoder


class HybridCoder(BaseEstimator):
    """Decide the families first, then the codes within them.

    1. The family gate (``FamilyCoder``) scores whether the segment speaks to a barrier or
       prerequisite of each family at all; each piece of text (the whole segment, or a
       window of a sentence or two) gives at most its one best family.
    2. Each code's score is a noisy-OR of the rule match and the model's probability,
       ``1 - (1 - p_model) * (1 - rule_weight * rule_confidence)``; a code the model does not
       predict (too few examples) rests on its rules alone. Per-code thresholds are tuned on
       out-of-fold scores when ``fit`` is given groups.
    3. The codes over their threshold are given, as without the gate; and for a family the gate
       passed where none is, the family's best-scoring code, with the geometric mean of the
       family's and the code's scores as its confidence. The gate adds what the code models,
       tuned on interview talk, miss in text of other kinds; it takes nothing away.

    Parameters
    ----------
    codebook : Codebook
    rule_weight : float, default=0.8
    C, min_examples, use_codebook_examples, random_state
        Passed to the ModelCoder.
    spacy_model : str or None, default=None
        Passed to the RuleCoder.
    threshold : float or None, default=None
        One threshold for every code instead of the tuned ones.
    gate : bool, default=True
        Use the family gate (False: every code over its threshold, as before the gate).
    embedding : {"auto", "none", "minilm", "wordllama"}, default="auto"
        Passed to the FamilyCoder (``qualcode code --embedding``).
    """

    def __init__(
        self,
        codebook: Codebook,
        *,
        rule_weight=0.8,
        C=2.0,
        min_examples=8,
        use_codebook_examples=True,
        spacy_model=None,
        threshold=None,
        gate=True,
        embedding="auto",
        random_state=0,
    ):
        self.codebook = codebook
        self.rule_weight = rule_weight
        self.C = C
        self.min_examples = min_examples
        self.use_codebook_examples = use_codebook_examples
        self.spacy_model = spacy_model
        self.threshold = threshold
        self.gate = gate
        self.embedding = embedding
        self.random_state = random_state

    def _model(self) -> ModelCoder:
        return ModelCoder(
            self.codebook,
            C=self.C,
            min_examples=self.min_examples,
            use_codebook_examples=self.use_codebook_examples,
            random_state=self.random_state,
        )

    def fit(
        self,
        texts: Sequence[Any],
        labels: Sequence[set[str]],
        groups=None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> HybridCoder:
        """Fit; ``progress(step, done, total)`` hears of each of the (up to) three steps."""
        texts = segment_texts(list(texts))
        tune = groups is not None and len(set(groups)) >= 3
        steps = ["code models", *(["thresholds"] * tune), *(["family gate"] * self.gate)]

        def step(done: int) -> None:
            if progress:
                progress(steps[done] if done < len(steps) else "done", done, len(steps))

        step(0)
        self.model_ = self._model().fit(texts, labels)
        self.rules_ = RuleCoder(self.codebook, spacy_model=self.spacy_model).fit()
        self.codes_ = [c.id for c in self.codebook.codable]
        self.skipped_ = self.model_.skipped_
        self.thresholds_ = dict.fromkeys(self.codes_, 0.5)
        if tune:
            from qualcode.coding.evaluate import best_thresholds, out_of_fold

            step(1)
            params = {**self.get_params(), "gate": False}
            oof = out_of_fold(lambda: HybridCoder(**params), texts, list(labels), list(groups), 3)
            self.thresholds_ = best_thresholds(oof, list(labels), self.codes_)
        self.family_ = None
        if self.gate:
            step(len(steps) - 1)
            self.family_ = FamilyCoder(
                self.codebook, embedding=self.embedding, random_state=self.random_state
            ).fit(texts, labels, groups=groups)
        step(len(steps))
        return self

    # Pickled for the trained-coder cache (and joblib's workers) without the spaCy pipeline,
    # which is rebuilt on loading: it is large, and cheap to make again.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("rules_", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "model_" in state:
            self.rules_ = RuleCoder(self.codebook, spacy_model=self.spacy_model).fit()

    def _combine(self, probs: dict[str, float], rules: list[Assignment]) -> dict[str, float]:
        rule_conf = {a.code: a.confidence for a in rules}
        scores = {}
        for code in self.codes_:
            r = rule_conf.get(code, 0.0)
            if code in self.model_.models_:
                scores[code] = 1 - (1 - probs.get(code, 0.0)) * (1 - self.rule_weight * r)
            else:
                scores[code] = r
        # A code the segment mentions only as absent ("we talk about a pooled budget but what
        # we actually have is two budgets") loses the model's word evidence for it too.
        for code in getattr(rules, "denied", ()):
            if code in scores:
                scores[code] *= 1 - FLIP_CONFIDENCE
        return scores

    def predict_proba(self, texts: Sequence[Any]) -> list[dict[str, float]]:
        check_is_fitted(self, "model_")
        texts = segment_texts(list(texts))
        probs = self.model_.predict_proba(texts)
        rules = self.rules_.predict(texts)
        return [self._combine(p, r) for p, r in zip(probs, rules, strict=True)]

    def threshold_for(self, code: str) -> float:
        return self.threshold if self.threshold is not None else self.thresholds_.get(code, 0.5)

    def predict(
        self, segments: Sequence[Any], progress: Callable[[int], None] | None = None
    ) -> list[list[Assignment]]:
        check_is_fitted(self, "model_")
        texts = segment_texts(list(segments))
        results: list[list[Assignment]] = []
        for start in range(0, len(texts), 512):
            batch = texts[start : start + 512]
            probs, x_word = self.model_.scores_and_words(batch)
            rules = self.rules_.predict(batch)
            families, gated = None, None
            if self.family_ is not None:
                families, gated = self.family_.scores_and_families(batch)
            for i, (p, r) in enumerate(zip(probs, rules, strict=True)):
                scores = self._combine(p, r)
                chosen = (
                    self._gated(scores, families[i], gated[i])
                    if families is not None
                    else {c: v for c, v in scores.items() if v >= self.threshold_for(c)}
                )
                by_code = {a.code: a for a in r}
                assignments = []
                for code, value in chosen.items():
                    evidence = list(by_code[code].evidence) if code in by_code else []
                    if code in self.model_.models_:
                        evidence += self.model_.evidence(batch[i], x_word[i], code, top=3)
                    if families is not None:
                        family = self.codebook.codes[code].family
                        evidence += [
                            Evidence(a, b, f"{why} (family score {families[i][family]:.2f})")
                            for a, b, why in concept_evidence(batch[i], family)
                        ]
                    assignments.append(Assignment(code, round(value, 4), evidence))
                results.append(sorted(assignments, key=lambda a: -a.confidence))
            if progress:
                progress(len(batch))
        return results

    def _gated(
        self, scores: dict[str, float], families: dict[str, float], gated: set[str]
    ) -> dict[str, float]:
        """Codes over their own threshold, and for each family the gate passed with none over
        it, the family's best-scoring code (its confidence the geometric mean of the family's
        and the code's scores)."""
        chosen = {c: v for c, v in scores.items() if v >= self.threshold_for(c)}
        for family in gated:
            if any(self.codebook.codes[c].family == family for c in chosen):
                continue
            in_family = {c: v for c, v in scores.items() if self.codebook.codes[c].family == family}
            if in_family:
                best = max(in_family, key=in_family.__getitem__)
                chosen[best] = (in_family[best] * families[family]) ** 0.5
        return chosen
