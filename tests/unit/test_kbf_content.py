"""The shipped KBF re/integration questionnaire scores as the manual means it: the beneficiaries'
own view weighs each organisation by the number it interviewed, and a phase nobody was in is
"no cases", never "not answered" — against hand-computed values."""
from functools import cache

import pytest

from app.scoring import aggregate, score_response
from app.services import questionnaires
from app.xlsform.compiled import CompiledForm
from app.xlsform.source import to_xlsx
from app.xlsform.state import FormState
from tests.xlsform_builders import SHIPPED


@cache
def _kbf() -> CompiledForm:
    definition, issues = questionnaires.check(to_xlsx(SHIPPED / "kbf_reintegration"))
    assert not [i for i in issues if not i.warning]
    return CompiledForm(definition)


def _scores(**answers):
    form = _kbf()
    return score_response(form, FormState(form, {k: str(v) for k, v in answers.items()}))


def test_the_view_is_weighted_by_the_people_interviewed():
    large = _scores(cr_beneficiaries=12, cr_interviewed=10, cr_view_services=5, cr_view_progress=4)
    small = _scores(cr_beneficiaries=3, cr_interviewed=1, cr_view_services=1, cr_view_progress=2)
    assert (large["CR_VIEW"].value, small["CR_VIEW"].value) == (100, 0)
    assert large["CR_VIEW_PROGRESS"].value == 75 and small["CR_VIEW_PROGRESS"].value == 25
    country = aggregate(_kbf(), [large, small])
    assert country["CR_VIEW"].value == pytest.approx(40 / 44 * 100)   # ten people said 5, one said 1: not 50 %
    assert country["CR_VIEW_PROGRESS"].value == pytest.approx((3 * 10 + 1 * 1) / 44 * 100)


@pytest.mark.parametrize("answers,reason", [
    ({"cr_beneficiaries": 0}, "no_cases"),                           # nobody in the phase
    ({"cr_beneficiaries": 5, "cr_interviewed": 0}, "no_cases"),      # nobody interviewed
    ({"cr_beneficiaries": 5}, "incomplete"),                         # interviews not reported yet
    ({}, "not_answered"),                                            # nothing answered yet
])
def test_a_view_without_interviews_is_no_cases_and_a_missing_answer_is_not_rated(answers, reason):
    assert _scores(**answers)["CR_VIEW"].reason == reason


def test_success_in_a_phase_nobody_was_in_is_no_cases():
    assert _scores(cr_beneficiaries=0)["CR_SUCCESS"].reason == "no_cases"
    assert _scores(cr_beneficiaries=4)["CR_SUCCESS"].reason == "incomplete"
    assert _scores(cr_beneficiaries=4, cr_ended=2, cr_success=1)["CR_SUCCESS"].value == 50
