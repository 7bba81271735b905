"""Scoring: a compiled form and a response's state in, points, indicator values, area and
section scores, and country aggregates out.

Pure: nothing here imports Flask or SQLAlchemy, so exports, workers and tests use it directly;
the application reaches it through one entry point, ``app.services.scores``. It reads the state
through a narrow interface: whether a path is relevant, its answer, the instances of a node,
and an expression evaluated at a node (``FormState.evaluate_in``).

* question points: the chosen choice's ``score`` (``select_multiple``: the sum of the chosen
  ones'), or the question's ``score`` expression (``.`` is the answer), clamped to 0..max;
  none for a question that is not relevant, not answered or answered "not applicable" (a
  choice without a score);
* points indicators: the sum of their questions' points ÷ the sum of their maxima, as a
  percentage (questions without points count in neither);
* ratio indicators: numerator ÷ denominator × factor (no value when the denominator is blank;
  when it is 0, "no cases", or the value the definition sets for no cases, ``when_no_cases``,
  where the absence of cases is itself the finding); band indicators: the value of their expression;
* an indicator whose ``availability`` question is answered ``not_available`` has no value
  ("data not available", counted as not rated), and one answered ``not_competent`` counts
  nowhere, as an indicator of another kind of institution — neither is ever a 0;
* each is rated by its thresholds (green, amber, else red: ``DEFAULT_THRESHOLDS`` unless the
  definition says otherwise), and a rating is worth 2 / 1 / 0 points; a value above the
  indicator's upper bound (100 % unless the definition says) is shown, flagged, and not rated;
* an indicator without a value says why: not answered, not applicable, switched off by an
  answer, no cases in the period (a ratio whose denominator is 0), or not this institution's
  (it names the kinds of institution responsible for it, ``responsible``, and this is another);
  the last counts nowhere: not in the institution's areas, not in its country's figure;
* an area's score, overall and per section (law & policy, practice): rating points ÷ 2 per
  rated indicator, rated by the same default thresholds only when at least half of its
  indicators are rated (``MIN_COVERAGE``), with how many indicators were rated; an area the
  definition rates by its ``weakest_section`` takes the lower of its rated sections' ratings
  (a law in force does not make an area green while its practice is amber);
* a ratio or band built from a question that is asked and not answered yet is "incomplete",
  not a figure;
* a country's indicator: ratio ``sum`` (Σ numerators ÷ Σ denominators, never a mean of
  percentages), points ``sum`` (Σ earned ÷ Σ maximum), or ``mean`` of the values — over the
  responses of the kinds of institution responsible for it, so a victim counted by the police
  and by a shelter is not counted twice.

A value that cannot be computed (an expression fails, a number is not finite or beyond
``MAX_VALUE``) is no value, with the reason in ``problem``; it is never shown as a figure.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from app.xlsform.compiled import DEFAULT_THRESHOLDS, CompiledForm, Indicator, Node
from app.xlsform.expressions import to_number
from app.xlsform.state import FormState, Index, node_path
from app.xlsform.values import typed

RATING_POINTS = {"green": 2.0, "amber": 1.0, "red": 0.0}
# Answers of an indicator's ``availability`` question that leave it without a value, and why.
UNAVAILABLE = {"not_available": "data_not_available", "not_competent": "not_responsible"}
MAX_VALUE = 1e9   # beyond this an indicator value (a percentage, a band value) means nothing
MIN_COVERAGE = 0.5   # an area or section is rated only when this share of its indicators is
SECTIONS = ("law_policy", "practice")


@dataclass(frozen=True)
class IndicatorResult:
    code: str
    value: float | None            # percent (points, ratio) or the band value; None = no value
    rating: str | None             # green | amber | red | None
    points: float | None = None    # points indicators: points earned …
    maximum: float | None = None   # … out of this maximum
    numerator: float | None = None
    denominator: float | None = None
    problem: str | None = None     # why there is no value: cannot_compute, not_finite, out_of_range, time_budget
    reason: str | None = None      # why there is no value otherwise: not_answered, not_applicable, switched_off,
                                   # no_cases, incomplete, not_responsible (another kind of institution's),
                                   # no_responsible (a country: no response of a responsible kind)
    flag: str | None = None        # above_upper: a value beyond the indicator's upper bound, shown but not rated;
                                   # no_cases: a ratio with no cases, given the value its definition sets

    @property
    def rating_points(self) -> float | None:
        return RATING_POINTS.get(self.rating) if self.rating else None


@dataclass(frozen=True)
class Score:
    """Rating points out of a maximum over some rated indicators."""
    points: float = 0.0
    maximum: float = 0.0
    rated: int = 0       # indicators with a rating
    indicators: int = 0  # indicators in all

    @property
    def percent(self) -> float | None:
        return self.points / self.maximum * 100 if self.maximum else None

    @property
    def covered(self) -> bool:
        """Whether enough of its indicators have a rating for the score to be rated: at least
        ``MIN_COVERAGE`` of them (an area is not green on two indicators of ten)."""
        return self.indicators > 0 and self.rated >= MIN_COVERAGE * self.indicators

    @property
    def rating(self) -> str | None:
        return rate(self.percent, DEFAULT_THRESHOLDS) if self.covered else None

    def add(self, result: IndicatorResult) -> Score:
        if result.reason == "not_responsible":   # another kind of institution's: not this one's to rate
            return self
        earned = result.rating_points
        if earned is None:
            return Score(self.points, self.maximum, self.rated, self.indicators + 1)
        return Score(self.points + earned, self.maximum + 2.0, self.rated + 1, self.indicators + 1)


@dataclass(frozen=True)
class AreaResult:
    code: str
    total: Score
    sections: dict[str, Score]   # law_policy, practice
    rule: str = "overall"        # weakest_section: rated by the lower of its rated sections' ratings

    @property
    def percent(self) -> float | None:
        return self.total.percent

    @property
    def rating(self) -> str | None:
        if self.rule != "weakest_section" or self.total.rating is None:
            return self.total.rating
        rated = [section.rating for section in self.sections.values() if section.rating is not None]
        return min(rated, key=lambda rating: RATING_POINTS[rating]) if rated else self.total.rating


def rate(value: float | None, thresholds: dict[str, float]) -> str | None:
    if value is None:
        return None
    if value >= thresholds.get("green", DEFAULT_THRESHOLDS["green"]):
        return "green"
    if value >= thresholds.get("amber", DEFAULT_THRESHOLDS["amber"]):
        return "amber"
    return "red"


# -- questions ------------------------------------------------------------------------

def question_points(form: CompiledForm, state: FormState, node: Node, index: Index) -> tuple[float, float] | None:
    """(points, maximum) of a relevant, answered, scored question; None when it scores nothing
    (not relevant, not answered, "not applicable", no score, or a score that cannot be computed)."""
    path = node_path(node, index)
    if node.max_score is None or not state.is_relevant(path):
        return None
    answer = state.answer(path)
    if answer == "":
        return None
    if node.score is not None:
        value, _problem = state.evaluate_in(node.score, node, index, typed(node, answer))   # blank when it fails
        number = to_number(value)
        if math.isnan(number):
            return None
        return max(0.0, min(number, node.max_score)), node.max_score
    scores = {choice.name: choice.score for choice in form.choices.get(node.list_name or "", [])}
    chosen = [scores.get(item) for item in answer.split()]
    if node.type == "select_one":
        return (chosen[0], node.max_score) if chosen and chosen[0] is not None else None
    numbers = [score for score in chosen if score is not None]
    if not numbers:
        return None
    return max(0.0, min(sum(numbers), node.max_score)), node.max_score


# -- indicators -----------------------------------------------------------------------

def _number(state: FormState, expression) -> tuple[float | None, str | None]:
    """An indicator expression's number (None when blank) and why it cannot be computed."""
    value, failure = state.evaluate_in(expression)
    if failure:
        return None, failure
    number = to_number(value)
    if math.isnan(number):
        return None, None
    return (number, None) if math.isfinite(number) else (None, "not_finite")


def _checked(indicator: Indicator, value: float | None, reason: str | None = None, flag: str | None = None,
             **parts) -> IndicatorResult:
    code = indicator.code
    if value is None:
        return IndicatorResult(code, None, None, reason=reason or "not_answered", **parts)
    if not math.isfinite(value):
        return IndicatorResult(code, None, None, problem="not_finite", **parts)
    if abs(value) > MAX_VALUE:
        return IndicatorResult(code, None, None, problem="out_of_range", **parts)
    if indicator.upper is not None and value > indicator.upper:
        return IndicatorResult(code, value, None, flag="above_upper", **parts)
    return IndicatorResult(code, value, rate(value, indicator.thresholds), flag=flag, **parts)


def _missing(form: CompiledForm, state: FormState, indicator: Indicator) -> str | None:
    """Whether the questions the indicator's expressions read (directly or through
    calculations) that are asked are all answered: None when they are, ``not_answered`` when
    none is, ``incomplete`` when some are not (a ratio or band would be built from missing parts)."""
    answered = missing = False
    for node in form.inputs_of(indicator.code):
        for index in state.instances(node):
            path = node_path(node, index)
            if state.is_relevant(path):
                if state.answer(path) == "":
                    missing = True
                else:
                    answered = True
    if not missing:
        return None
    return "incomplete" if answered else "not_answered"


def score_indicator(form: CompiledForm, state: FormState, indicator: Indicator) -> IndicatorResult:
    if indicator.responsible and state.kind is not None and state.kind not in indicator.responsible:
        return IndicatorResult(indicator.code, None, None, reason="not_responsible")
    if indicator.availability and state.is_relevant(indicator.availability):
        said = state.answer(indicator.availability)
        if said in UNAVAILABLE:
            return IndicatorResult(indicator.code, None, None, reason=UNAVAILABLE[said])
    if indicator.method in ("ratio", "band"):
        missing = _missing(form, state, indicator)
        if missing:
            return IndicatorResult(indicator.code, None, None, reason=missing)
    if indicator.method == "ratio":
        numerator, problem = _number(state, indicator.numerator)
        denominator, problem_below = _number(state, indicator.denominator)
        if problem or problem_below:
            return IndicatorResult(indicator.code, None, None, problem=problem or problem_below)
        if numerator is not None and denominator:
            value, reason = numerator / denominator * indicator.factor, None
        elif denominator == 0 and indicator.when_no_cases is not None:   # rated as the definition says
            return _checked(indicator, indicator.when_no_cases, numerator=numerator, denominator=denominator,
                            flag="no_cases")
        else:
            value, reason = None, "no_cases" if denominator == 0 else "not_answered"
        return _checked(indicator, value, reason, numerator=numerator, denominator=denominator)
    if indicator.method == "band":
        value, problem = _number(state, indicator.value)
        if problem:
            return IndicatorResult(indicator.code, None, None, problem=problem)
        return _checked(indicator, value)
    points = maximum = 0.0
    relevant = answered = 0
    for name in indicator.questions:
        node = form.by_name[name]
        for index in state.instances(node):
            path = node_path(node, index)
            if state.is_relevant(path):
                relevant += 1
                answered += state.answer(path) != ""
            scored = question_points(form, state, node, index)
            if scored is not None:
                points += scored[0]
                maximum += scored[1]
    if maximum:
        return _checked(indicator, points / maximum * 100, points=points, maximum=maximum)
    reason = "switched_off" if not relevant else "not_applicable" if answered == relevant else "not_answered"
    return _checked(indicator, None, reason, points=points, maximum=maximum)


def rated(indicator: Indicator, value: float, own: IndicatorResult | None = None) -> IndicatorResult:
    """A value given for the indicator (a reviewer's), rated as the indicator's own would be.
    With the response's own result, its weight in a country's sum is kept: a ratio keeps its
    denominator and a points indicator its maximum, the numerator or points following the value."""
    parts = {}
    if own is not None and indicator.method == "ratio" and own.denominator:
        parts = {"numerator": value * own.denominator / indicator.factor, "denominator": own.denominator}
    elif own is not None and indicator.method == "points" and own.maximum:
        parts = {"points": value / 100 * own.maximum, "maximum": own.maximum}
    return _checked(indicator, value, **parts)


def score_response(form: CompiledForm, state: FormState,
                   codes: Iterable[str] | None = None) -> dict[str, IndicatorResult]:
    """The indicators ``codes`` (all of the form's by default), in the form's order."""
    wanted = form.indicators if codes is None else {code: form.indicators[code] for code in codes}
    return {code: score_indicator(form, state, indicator) for code, indicator in wanted.items()}


# -- areas and sections ---------------------------------------------------------------

def score_areas(form: CompiledForm, results: dict[str, IndicatorResult]) -> dict[str, AreaResult]:
    """Each area's score, in all and per section, over the indicators in ``results``."""
    areas: dict[str, AreaResult] = {}
    for area in form.areas:
        total, sections = Score(), {section: Score() for section in SECTIONS}
        for code, indicator in form.indicators.items():
            if indicator.area != area.code or code not in results:
                continue
            total = total.add(results[code])
            if indicator.section in sections:
                sections[indicator.section] = sections[indicator.section].add(results[code])
        areas[area.code] = AreaResult(area.code, total, sections, area.rating)
    return areas


# -- several responses (a country) ----------------------------------------------------

def aggregate_indicator(indicator: Indicator, results: list[IndicatorResult]) -> IndicatorResult:
    """One indicator over several responses, as its definition says (``aggregate``): ``sum``
    adds numerators and denominators (ratio) or points and maxima (points) before dividing;
    ``mean`` averages the values. Responses without a value count in neither."""
    if indicator.aggregate == "sum" and indicator.method in ("ratio", "points"):
        ratio = indicator.method == "ratio"
        parts = [(r.numerator, r.denominator) if ratio else (r.points, r.maximum) for r in results
                 if r.problem is None]
        parts = [(top, bottom) for top, bottom in parts if top is not None and bottom is not None]
        tops = sum(top for top, _bottom in parts)
        bottoms = sum(bottom for _top, bottom in parts)
        if not bottoms and parts and ratio and indicator.when_no_cases is not None:
            return _checked(indicator, indicator.when_no_cases, numerator=tops, denominator=0.0, flag="no_cases")
        if not bottoms:
            return _checked(indicator, None, "no_cases" if parts else _common_reason(results))
        value = tops / bottoms * (indicator.factor if ratio else 100)
        extra = {"numerator": tops, "denominator": bottoms} if ratio else {"points": tops, "maximum": bottoms}
        return _checked(indicator, value, **extra)
    values = [r.value for r in results if r.value is not None]
    return _checked(indicator, sum(values) / len(values) if values else None, _common_reason(results))


def _common_reason(results: list[IndicatorResult]) -> str:
    """Why a country has no value: the one reason all its responsible institutions' responses
    share, else not answered; ``no_responsible`` when none of them is of a responsible kind."""
    reasons = {r.reason for r in results if r.reason != "not_responsible"}
    if results and not reasons:
        return "no_responsible"
    return reasons.pop() if len(reasons) == 1 and None not in reasons else "not_answered"


def aggregate(form: CompiledForm, responses: list[dict[str, IndicatorResult]]) -> dict[str, IndicatorResult]:
    """Every indicator of the form over several responses (each a ``score_response`` result)."""
    return {code: aggregate_indicator(indicator, [r[code] for r in responses if code in r])
            for code, indicator in form.indicators.items()}
