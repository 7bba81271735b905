"""Scoring: a compiled form and a response's state in, indicator values and ratings out.

Pure: nothing here imports Flask or SQLAlchemy, so exports and tests use it directly.

* points indicators: the sum of their questions' points ÷ the sum of their maxima (questions
  not relevant, unanswered or "not applicable" count in neither), as a percentage;
* ratio indicators: numerator ÷ denominator × factor (no value when the denominator is 0 or
  blank); aggregated to country level by summing numerators and denominators;
* band indicators: the value of their expression;
* each is rated by its thresholds (green, amber, else red) and converted to 2 / 1 / 0 points
  for the area score, which is points ÷ maximum over the area's rated indicators.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from app.xlsform.compiled import CompiledForm, Indicator
from app.xlsform.expressions import to_number
from app.xlsform.state import FormState

RATING_POINTS = {"green": 2.0, "amber": 1.0, "red": 0.0}


@dataclass(frozen=True)
class IndicatorResult:
    code: str
    value: float | None            # percent (points, ratio) or the band value; None = no value
    rating: str | None             # green | amber | red | None
    points: float | None = None    # points indicators: points earned …
    maximum: float | None = None   # … out of this maximum
    numerator: float | None = None
    denominator: float | None = None

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


def _finite(number: float) -> float | None:
    return number if isinstance(number, float) and math.isfinite(number) else None


def score_indicator(form: CompiledForm, state: FormState, indicator: Indicator) -> IndicatorResult:
    if indicator.method == "ratio":
        numerator = _finite(to_number(state.evaluate_in(indicator.numerator)))
        denominator = _finite(to_number(state.evaluate_in(indicator.denominator)))
        value = None
        if numerator is not None and denominator:
            value = numerator / denominator * indicator.factor
        return IndicatorResult(indicator.code, value, rate(value, indicator.thresholds),
                               numerator=numerator, denominator=denominator)
    if indicator.method == "band":
        value = _finite(to_number(state.evaluate_in(indicator.value)))
        return IndicatorResult(indicator.code, value, rate(value, indicator.thresholds))
    points = maximum = 0.0
    for name in indicator.questions:
        node = form.by_name[name]
        for index in state.instances(node):
            scored = state.points(node, index)
            if scored is not None:
                points += scored[0]
                maximum += scored[1]
    value = points / maximum * 100 if maximum else None
    return IndicatorResult(indicator.code, value, rate(value, indicator.thresholds), points=points,
                           maximum=maximum)


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
