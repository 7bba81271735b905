"""Scores, through one entry point: the only caller of ``app.scoring``. Views and exports show
what these return; they never compute a score themselves."""
from __future__ import annotations

from collections.abc import Iterable

from app.scoring import (AreaResult, IndicatorResult, aggregate, question_points, rated, score_areas,
                         score_response)
from app.xlsform.compiled import CompiledForm, Node
from app.xlsform.state import FormState, Index

__all__ = ["AreaResult", "IndicatorResult", "areas", "country", "evidence_asked", "indicators", "needs_evidence",
           "rated"]


def indicators(form: CompiledForm, state: FormState, codes: Iterable[str] | None = None) -> dict[str, IndicatorResult]:
    """The response's indicators ``codes`` (every indicator by default)."""
    return score_response(form, state, codes)


def areas(form: CompiledForm, results: dict[str, IndicatorResult]) -> dict[str, AreaResult]:
    """Each area's score, in all and per section, from the response's indicators."""
    return score_areas(form, results)


def country(form: CompiledForm, responses: list[dict[str, IndicatorResult]]) -> dict[str, IndicatorResult]:
    """The form's indicators over several responses of one country, each aggregated as its
    definition says."""
    return aggregate(form, responses)


def evidence_asked(form: CompiledForm, state: FormState, node: Node, index: Index, path: str) -> bool:
    """Whether the question asks for evidence as answered now: always when it is optional;
    when it is required for a positive answer, once the answer scores above zero (or evidence
    was already given, so it is never hidden)."""
    if node.evidence == "optional":
        return True
    if node.evidence != "required-when-positive":
        return False
    if (state.evidence.get(path) or "").strip():
        return True
    points = question_points(form, state, node, index)
    return points is not None and points[0] > 0


def needs_evidence(form: CompiledForm, state: FormState, node: Node, index: Index, path: str) -> bool:
    """Whether the answer at ``path`` still needs its evidence: the question requires it for a
    positive answer, the answer asks for it, and none is given."""
    return (node.evidence == "required-when-positive" and not (state.evidence.get(path) or "").strip()
            and evidence_asked(form, state, node, index, path))
