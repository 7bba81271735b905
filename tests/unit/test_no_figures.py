"""Indicators without a figure told apart: no cases (no value, or the value the definition sets
where no cases is itself the finding), data not available, not the institution's competence —
never a 0 unless the definition says so."""
from functools import cache

import pytest

from app.scoring import aggregate, score_areas, score_response
from app.services import questionnaires
from app.xlsform.compiled import CompiledForm
from app.xlsform.state import FormState
from tests.xlsform_builders import workbook

CHOICES = [["list_name", "name", "label", "score"], ["yn", "yes", "Yes", "2"], ["yn", "no", "No", "0"],
           ["data", "available", "Available", ""], ["data", "not_available", "Not available", ""],
           ["data", "not_competent", "Not our competence", ""]]
SURVEY = [["type", "name", "label", "indicator"],
          ["select_one yn", "plan", "Is there a plan?", "P1"],
          ["select_one data", "data", "Are the figures available?", ""],
          ["integer", "presumed", "Presumed victims", ""],
          ["integer", "identified", "Identified victims", ""],
          ["integer", "claims", "Claims", ""],
          ["integer", "awarded", "Awarded", ""]]
INDICATORS = [["code", "area", "section", "label", "method", "numerator", "denominator", "when_no_cases",
               "availability"],
              ["P1", "a", "law_policy", "Plan", "points", "", "", "", ""],
              ["R1", "a", "practice", "Identified", "ratio", "${identified}", "${presumed}", "0", "data"],
              ["R2", "a", "practice", "Awarded", "ratio", "${awarded}", "${claims}", "", ""]]


def _data(indicators=INDICATORS) -> bytes:
    return workbook(SURVEY, CHOICES, extra={"indicators": indicators, "areas": [["code", "label"], ["a", "A"]]})


@cache
def _form() -> CompiledForm:
    definition, issues = questionnaires.check(_data())
    assert not [i for i in issues if not i.warning], [(i.code, i.where()) for i in issues]
    return CompiledForm(definition)


def _scores(**answers):
    form = _form()
    return score_response(form, FormState(form, {k: str(v) for k, v in answers.items()}))


def test_no_cases_where_none_is_the_finding_rates_as_the_definition_says():
    results = _scores(plan="yes", data="available", presumed=0, identified=0, claims=0, awarded=0)
    assert (results["R1"].value, results["R1"].rating, results["R1"].flag) == (0, "red", "no_cases")
    assert results["R2"].value is None and results["R2"].reason == "no_cases"   # no value, no rating
    area = score_areas(_form(), results)["a"]
    assert (area.total.rated, area.total.indicators, area.percent) == (2, 3, 50.0)   # P1 green, R1 red


def test_a_country_with_no_cases_anywhere_gets_the_value_for_no_cases():
    form = _form()
    one = _scores(data="available", presumed=0, identified=0)
    other = _scores(data="available", presumed=0, identified=0)
    assert aggregate(form, [one, other])["R1"].value == 0
    some = _scores(data="available", presumed=10, identified=5)
    assert aggregate(form, [one, some])["R1"].value == 50   # 5 / 10: a country with cases is a ratio


def test_data_not_available_is_no_value_and_not_our_competence_counts_nowhere():
    unavailable = _scores(plan="yes", data="not_available")
    assert unavailable["R1"].value is None and unavailable["R1"].reason == "data_not_available"
    area = score_areas(_form(), unavailable)["a"]
    assert (area.total.rated, area.total.indicators) == (1, 3)   # counted, not rated
    elsewhere = _scores(plan="yes", data="not_competent")
    assert elsewhere["R1"].reason == "not_responsible"
    assert score_areas(_form(), elsewhere)["a"].total.indicators == 2


@pytest.mark.parametrize("change,code", [
    (["R2", "a", "practice", "Awarded", "points", "", "", "0", ""], "when_no_cases_not_ratio"),
    (["R2", "a", "practice", "Awarded", "ratio", "${awarded}", "${claims}", "", "claims"], "availability_not_select"),
    (["R2", "a", "practice", "Awarded", "ratio", "${awarded}", "${claims}", "", "plan"], "availability_choices"),
])
def test_mistakes_in_the_columns_are_located(change, code):
    _definition, issues = questionnaires.check(_data(INDICATORS[:3] + [change]))
    assert (code, 4) in {(i.code, i.row) for i in issues if not i.warning}


def test_an_area_rated_by_its_weakest_section():
    data = workbook(SURVEY, CHOICES, extra={"indicators": INDICATORS, "areas": [["code", "label", "rating"],
                                                                                 ["a", "A", "weakest_section"]]})
    definition, issues = questionnaires.check(data)
    assert not [i for i in issues if not i.warning]
    form = CompiledForm(definition)
    answers = {"plan": "yes", "data": "available", "presumed": "10", "identified": "6", "claims": "4", "awarded": "1"}
    area = score_areas(form, score_response(form, FormState(form, answers)))["a"]
    # law: P1 green; practice: R1 60 % amber, R2 25 % red (1 of 4 points, red); in all 3 of 6 points.
    assert (area.sections["law_policy"].rating, area.sections["practice"].rating) == ("green", "red")
    assert (area.percent, area.rating) == (50, "red")
    overall = score_areas(_form(), score_response(_form(), FormState(_form(), answers)))["a"]
    assert (overall.percent, overall.rating, overall.rule) == (50, "amber", "overall")   # the same scores
    plan_only = score_areas(form, score_response(form, FormState(form, {"plan": "yes"})))["a"]
    assert plan_only.rating is None   # one indicator of three rated: not rated, whatever the rule


def test_an_unknown_area_rating_is_a_located_error():
    data = workbook(SURVEY, CHOICES, extra={"indicators": INDICATORS, "areas": [["code", "label", "rating"],
                                                                                 ["a", "A", "worst"]]})
    _definition, issues = questionnaires.check(data)
    assert ("bad_area_rating", 2) in {(i.code, i.row) for i in issues if not i.warning}
