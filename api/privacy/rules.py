"""A small regex-rule recognizer for Presidio: keyword-anchored patterns whose *groups* are the PII.

Presidio's PatternRecognizer returns the whole match, so "my pin is 1234" would redact the words
too, and its patterns are compiled case-insensitive, which breaks capitalised-name rules. Here a
rule reports only its capture groups, each with its own entity type, and can veto a match by what
lies between keyword and value (`gap`) or just before the match (`before`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from api.privacy.budget import check_deadline

Span = tuple[int, int]
_DIGIT = re.compile(r"\d")


def has_digit(text: str) -> bool:
    """Whether the text holds a decimal digit: one regex scan in C, not a Python loop over the characters."""
    return _DIGIT.search(text) is not None


# (text, match, group) -> span to report, or None to drop the group
Adjust = Callable[[str, "re.Match[str]", int], Span | None]


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    # capture group -> entity type; numbers count only the unnamed groups, so a named helper group
    # such as "gap" does not shift them
    groups: Mapping[int | str, str]
    score: float
    check: Callable[[str], bool] | None = None  # validates a group's text (checksum, digit count)
    gap_veto: re.Pattern[str] | None = None  # searched in the named group "gap"
    before_veto: re.Pattern[str] | None = None  # searched in the 30 characters before the match
    adjust: Adjust | None = None
    # Every match holds a digit: the rule is skipped on a text without one (most chat lines).
    needs_digit: bool = False

    def resolved_groups(self) -> tuple[tuple[int | str, str], ...]:
        named = set(self.pattern.groupindex.values())
        unnamed = [i for i in range(1, self.pattern.groups + 1) if i not in named]
        return tuple(((unnamed[g - 1] if isinstance(g, int) and g > 0 else g), e) for g, e in self.groups.items())


class RuleRecognizer(LocalRecognizer):
    """Runs a list of Rules; `gate` skips the whole recognizer cheaply when the text cannot match."""

    def __init__(self, name: str, rules: Sequence[Rule], gate: Callable[[str], bool] | None = None) -> None:
        self.rules = tuple((rule, rule.resolved_groups()) for rule in rules)
        self.gate = gate
        entities = sorted({e for r in rules for e in r.groups.values()})
        super().__init__(supported_entities=entities, name=name, supported_language="en", context=[])

    def load(self) -> None:  # patterns are compiled at import time
        pass

    def analyze(self, text: str, entities: list[str],
                nlp_artifacts: NlpArtifacts | None = None) -> list[RecognizerResult]:
        if self.gate is not None and not self.gate(text):
            return []
        wanted = set(entities) if entities else None
        results: list[RecognizerResult] = []
        digits = has_digit(text)
        for rule, groups in self.rules:
            if rule.needs_digit and not digits:
                continue
            check_deadline()  # each rule's pass is linear in the text: the budget is checked between them
            for m in rule.pattern.finditer(text):
                if rule.gap_veto is not None and (gap := m.groupdict().get("gap")) \
                        and rule.gap_veto.search(gap):
                    continue
                if rule.before_veto is not None and \
                        rule.before_veto.search(text, max(0, m.start() - 30), m.start()):
                    continue
                for group, entity in groups:
                    if wanted is not None and entity not in wanted:
                        continue
                    span = self._span(text, m, group, rule)
                    if span is not None:
                        results.append(self._result(entity, span, rule))
        return results

    @staticmethod
    def _span(text: str, m: re.Match[str], group: int | str, rule: Rule) -> Span | None:
        if rule.adjust is not None:
            return rule.adjust(text, m, group if isinstance(group, int) else 0)
        if m.group(group) is None:
            return None
        start, end = m.span(group)
        if rule.check is not None and not rule.check(text[start:end]):
            return None
        return (start, end) if end > start else None

    def _result(self, entity: str, span: Span, rule: Rule) -> RecognizerResult:
        return RecognizerResult(
            entity_type=entity, start=span[0], end=span[1], score=rule.score,
            analysis_explanation=AnalysisExplanation(
                recognizer=self.name, original_score=rule.score, pattern_name=rule.name),
            recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                  RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id},
        )
