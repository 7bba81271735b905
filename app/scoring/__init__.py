"""Scoring: a compiled form and a response's state in, indicator values and ratings out.

Pure: nothing here imports Flask or SQLAlchemy, so exports and tests use it directly.

* points indicators: the sum of their questions' points ÷ the sum of their maxima (questions
  not relevant, unanswered or "not applicable" count in neither), as a percentage;
* ratio indicators: numerator ÷ denominator × factor (no value when the denominator is 0 or
  blank); aggregated to country level by summing numerators and denominators;
* band indicators: the value of their expression;
* each is rated by its thresholds (green, amber, else red) and converted to 2 / 1 / 0 points
  for the area score, which is points ÷ maximum over the area's rated indicators.

A value that cannot be computed (an expression fails, a number is not finite or beyond
``MAX_VALUE``) is no value, with the reason in ``problem``; it is never shown as a figure.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from app.xlsform.compiled import CompiledForm, Indicator
from app.xlsform.expressions import to_number
from app.xlsform.state import FormState

RATING_POINTS = {"green": 2.0, "amber": 1.0, "red": 0.0}
MAX_VALUE = 1e9   # beyond this an indicator value (a percentage, a band value) means nothing


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

    @property
    def rating_points(self) -> float | None:
        return RATING_POINTS.get(self.rating) if self.rating else None


@dataclass(frozen=True)
class AreaResult:
    code: str
    points: float
    maximum: float
    rating: str | None

    @property
    def percent(self) -> float | None:
        return self.points / self.maximum * 100 if self.maximum else None


def rate(value: float | None, thresholds: dict[str, float]) -> str | None:
    if value is None:
        return None
    if value >= thresholds.get("green", 75.0):
        return "green"
    if value >= thresholds.get("amber", 50.0):
        return "amber"
    return "red"


def _number(state: FormState, expression) -> tuple[float | None, str | None]:
    """An indicator expression's number (None when blank) and why it cannot be computed."""
    value, failure = state.evaluate_in(expression)
    if failure:
        return None, failure
    number = to_number(value)
    if math.isnan(number):
        return None, None
    return (number, None) if math.isfinite(number) else (None, "not_finite")


def _checked(code: str, value: float | None, thresholds: dict[str, float], **parts) -> IndicatorResult:
    if value is not None and not math.isfinite(value):
        return IndicatorResult(code, None, None, problem="not_finite", **parts)
    if value is not None and abs(value) > MAX_VALUE:
        return IndicatorResult(code, None, None, problem="out_of_range", **parts)
    return IndicatorResult(code, value, rate(value, thresholds), **parts)


def score_indicator(form: CompiledForm, state: FormState, indicator: Indicator) -> IndicatorResult:
    if indicator.method == "ratio":
        numerator, problem = _number(state, indicator.numerator)
        denominator, problem_below = _number(state, indicator.denominator)
        if problem or problem_below:
            return IndicatorResult(indicator.code, None, None, problem=problem or problem_below)
        value = None
        if numerator is not None and denominator:
            value = numerator / denominator * indicator.factor
        return _checked(indicator.code, value, indicator.thresholds, numerator=numerator, denominator=denominator)
    if indicator.method == "band":
        value, problem = _number(state, indicator.value)
        if problem:
            return IndicatorResult(indicator.code, None, None, problem=problem)
        return _checked(indicator.code, value, indicator.thresholds)
    points = maximum = 0.0
    for name in indicator.questions:
        node = form.by_name[name]
        for index in state.instances(node):
            scored = state.points(node, index)
            if scored is not None:
                points += scored[0]
                maximum += scored[1]
    value = points / maximum * 100 if maximum else None
    return _checked(indicator.code, value, indicator.thresholds, points=points, maximum=maximum)


def score_response(form: CompiledForm, state: FormState) -> dict[str, IndicatorResult]:
    return {code: score_indicator(form, state, indicator) for code, indicator in form.indicators.items()}


def score_areas(form: CompiledForm, results: dict[str, IndicatorResult],
                thresholds: dict[str, float] | None = None) -> dict[str, AreaResult]:
    """Area score = rating points ÷ maximum over its rated indicators; rated green ≥ 75 %, amber ≥ 50 %."""
    areas: dict[str, AreaResult] = {}
    for area in form.areas:
        points = maximum = 0.0
        for indicator in form.indicators.values():
            if indicator.area != area.code:
                continue
            earned = results[indicator.code].rating_points
            if earned is not None:
                points += earned
                maximum += 2.0
        percent = points / maximum * 100 if maximum else None
        areas[area.code] = AreaResult(area.code, points, maximum,
                                      rate(percent, thresholds or {"green": 75.0, "amber": 50.0}))
    return areas
