"""Scoring against values computed by hand: question points, the three indicator methods at
their rating boundaries, thresholds a questionnaire sets, areas per section, and a country's
aggregate (never a mean of percentages where the definition says sum)."""
from functools import cache

import pytest

from app.scoring import (DEFAULT_THRESHOLDS, IndicatorResult, Score, aggregate, question_points, rate, rated,
                         score_areas, score_response)
from app.services import questionnaires
from app.xlsform.compiled import CompiledForm
from app.xlsform.source import to_xlsx
from app.xlsform.state import FormState
from tests.xlsform_builders import SHIPPED, workbook

YPN = [["list_name", "name", "label", "score"], ["ypn", "yes", "Yes", "2"], ["ypn", "partially", "Partially", "1"],
       ["ypn", "no", "No", "0"], ["ypn", "na", "Not applicable", ""],
       ["agency", "police", "Police", "1"], ["agency", "court", "Court", "2"], ["agency", "none", "None", ""],
       ["agency", "ngo", "NGO", "-1"]]


@cache
def _form() -> CompiledForm:
    survey = [["type", "name", "label", "indicator", "score", "max_score", "relevant", "evidence"],
              ["select_one ypn", "q1", "Q1", "P1", "", "", "", "required-when-positive"],
              ["select_one ypn", "q2", "Q2", "P1", "", "", "${q1} != 'no'", ""],
              ["select_one ypn", "q3", "Q3", "P2", "", "", "", ""],
              ["select_multiple agency", "who", "Who", "P3", "", "", "", ""],
              ["integer", "count", "Count", "P4", ". * 10", "5", "", ""],
              ["integer", "num", "Numerator", "", "", "", "", ""],
              ["integer", "den", "Denominator", "", "", "", "", ""],
              ["decimal", "band", "Band", "", "", "", "", ""]]
    indicators = [["code", "area", "section", "label", "method", "numerator", "denominator", "factor", "value",
                   "thresholds", "aggregate"],
                  ["P1", "a", "law_policy", "P1", "points", "", "", "", "", "", ""],
                  ["P2", "a", "practice", "P2", "points", "", "", "", "", "green>=90; amber>=60", ""],
                  ["P3", "b", "practice", "P3", "points", "", "", "", "", "", "sum"],
                  ["P4", "b", "law_policy", "P4", "points", "", "", "", "", "", ""],
                  ["R1", "a", "practice", "R1", "ratio", "${num}", "${den}", "", "", "", ""],
                  ["B1", "b", "practice", "B1", "band", "", "", "", "${band}", "", "mean"]]
    data = workbook(survey, choices=YPN, extra={"indicators": indicators,
                                                "areas": [["code", "label"], ["a", "Area A"], ["b", "Area B"]]})
    definition, issues = questionnaires.check(data)
    assert not [i for i in issues if not i.warning], [(i.code, i.where()) for i in issues]
    return CompiledForm(definition)


def _scores(answers, codes=None):
    form = _form()
    return score_response(form, FormState(form, answers), codes)


# -- question points -------------------------------------------------------------------------

@pytest.mark.parametrize("name,answer,expected", [
    ("q1", "yes", (2.0, 2.0)), ("q1", "partially", (1.0, 2.0)), ("q1", "no", (0.0, 2.0)), ("q1", "na", None),
    ("q1", "", None), ("who", "police court", (3.0, 3.0)), ("who", "police ngo", (0.0, 3.0)),
    ("who", "none", None), ("who", "court", (2.0, 3.0)), ("count", "0", (0.0, 5.0)), ("count", "1", (5.0, 5.0)),
    ("count", "-3", (0.0, 5.0)),
])
def test_question_points(name, answer, expected):
    form = _form()
    state = FormState(form, {name: answer} if answer else {})
    assert question_points(form, state, form.by_name[name], ()) == expected


def test_a_question_switched_off_scores_nothing():
    form = _form()
    state = FormState(form, {"q1": "no", "q2": "yes"})
    assert question_points(form, state, form.by_name["q2"], ()) is None


# -- indicators at the boundaries -----------------------------------------------------------------

@pytest.mark.parametrize("answers,value,rating", [
    ({"q1": "yes", "q2": "partially"}, 75.0, "green"),       # 3 of 4: exactly the green threshold
    ({"q1": "partially", "q2": "partially"}, 50.0, "amber"),  # 2 of 4: exactly amber
    ({"q1": "partially", "q2": "no"}, 25.0, "red"),
    ({"q1": "yes", "q2": "na"}, 100.0, "green"),              # not applicable in neither points nor maximum
    ({"q1": "na", "q2": "na"}, None, None),
    ({"q1": "no", "q2": "yes"}, 0.0, "red"),                  # q2 is switched off: 0 of 2
    ({}, None, None),
])
def test_points_indicator(answers, value, rating):
    result = _scores(answers, ["P1"])["P1"]
    assert (result.value, result.rating) == (value, rating)


@pytest.mark.parametrize("answer,rating", [("yes", "green"), ("partially", "red")])
def test_thresholds_the_questionnaire_sets(answer, rating):
    """P2 says green>=90, amber>=60: 50 % is red there, though amber by default."""
    assert _scores({"q3": answer}, ["P2"])["P2"].rating == rating
    assert rate(50.0, DEFAULT_THRESHOLDS) == "amber"


@pytest.mark.parametrize("num,den,value,rating", [
    ("3", "4", 75.0, "green"), ("1", "2", 50.0, "amber"), ("49", "100", 49.0, "red"), ("0", "5", 0.0, "red"),
    ("3", "0", None, None), ("", "4", None, None), ("3", "", None, None), ("8", "4", 200.0, None),
    ("4", "4", 100.0, "green"),
])
def test_ratio_indicator(num, den, value, rating):
    answers = {k: v for k, v in (("num", num), ("den", den)) if v}
    result = _scores(answers, ["R1"])["R1"]
    assert (result.value, result.rating) == (value, rating)
    assert result.numerator == (float(num) if num and den else None)   # half-answered: no parts


@pytest.mark.parametrize("band,rating", [("75", "green"), ("74.999", "amber"), ("50", "amber"), ("49.9", "red")])
def test_band_indicator(band, rating):
    result = _scores({"band": band}, ["B1"])["B1"]
    assert result.value == float(band) and result.rating == rating


def test_rating_points():
    assert [IndicatorResult("x", 1, r).rating_points for r in ("green", "amber", "red", None)] == [2.0, 1.0, 0.0, None]


# -- areas and sections ----------------------------------------------------------------------

def test_areas_per_section_by_hand():
    form = _form()
    results = score_response(form, FormState(form, {"q1": "yes", "q2": "yes", "q3": "partially", "num": "1",
                                                    "den": "2", "who": "police", "count": "0"}))
    areas = score_areas(form, results)
    # Area a: P1 green (2), P2 red at 50 % with its own thresholds (0), R1 amber (1): 3 of 6.
    a = areas["a"]
    assert (a.total.points, a.total.maximum, a.total.rated, a.total.indicators) == (3.0, 6.0, 3, 3)
    assert a.percent == 50.0 and a.rating == "amber"
    assert (a.sections["law_policy"].points, a.sections["law_policy"].maximum) == (2.0, 2.0)
    assert (a.sections["practice"].points, a.sections["practice"].maximum) == (1.0, 4.0)
    assert a.sections["practice"].rating == "red"   # 25 %
    # Area b: P3 police 1 of 3 = 33 % red (0), P4 0 of 5 red (0), B1 no value: 0 of 4, 2 of 3 rated.
    b = areas["b"]
    assert (b.total.points, b.total.maximum, b.total.rated, b.total.indicators) == (0.0, 4.0, 2, 3)
    assert b.rating == "red"


def test_an_area_with_nothing_rated_has_no_score():
    form = _form()
    area = score_areas(form, score_response(form, FormState(form, {})))["a"]
    assert area.percent is None and area.rating is None and area.total.rated == 0


# -- a country ------------------------------------------------------------------------------

def test_a_countrys_ratio_sums_numerators_and_denominators():
    form = _form()
    responses = [score_response(form, FormState(form, answers))
                 for answers in ({"num": "10", "den": "10"}, {"num": "0", "den": "30"}, {"num": "5", "den": "0"})]
    country = aggregate(form, responses)
    # 15 of 40 = 37.5 %, not the mean of 100 % and 0 % (50 %); a denominator of 0 adds its numerator.
    assert country["R1"].value == pytest.approx(37.5) and country["R1"].rating == "red"
    assert (country["R1"].numerator, country["R1"].denominator) == (15.0, 40.0)


def test_a_country_sum_leaves_out_a_response_with_half_a_ratio():
    form = _form()
    whole = score_response(form, FormState(form, {"num": "10", "den": "20"}))
    half = dict(whole, R1=IndicatorResult("R1", None, None, numerator=7.0, denominator=None))
    country = aggregate(form, [whole, half])["R1"]
    assert (country.numerator, country.denominator, country.value) == (10.0, 20.0, 50.0)


def test_a_countrys_points_sum_and_means_average():
    form = _form()
    responses = [score_response(form, FormState(form, answers)) for answers in (
        {"who": "police court", "band": "80", "q1": "yes", "q2": "yes"},
        {"who": "police", "band": "40", "q1": "no"},
        {"who": "none"})]
    country = aggregate(form, responses)
    assert country["P3"].value == pytest.approx(4 / 6 * 100)   # (3 + 1) of (3 + 3); "none" scores nothing
    assert country["B1"].value == 60.0                          # mean of 80 and 40
    assert country["P1"].value == 50.0                          # mean of 100 % and 0 %
    assert aggregate(form, [])["R1"].value is None


# -- the BAN questionnaire ------------------------------------------------------------------------

@cache
def _ban() -> CompiledForm:
    definition, _issues = questionnaires.check(to_xlsx(SHIPPED / "ban_monitoring"))
    return CompiledForm(definition)


def test_ban_indicators_by_hand():
    form = _ban()
    answers = {"ip_definition": "yes", "ip_all_forms": "partially", "ip_non_punishment": "na",
               "id_data": "available", "id_presumed": "40", "id_women": "12", "id_men": "8", "id_girls": "6",
               "id_boys": "4", "if_data": "available", "if_budget_planned": "200000", "if_budget_spent": "90000"}
    results = score_response(form, FormState(form, answers), ["IP1", "IP2", "ID4", "IF5"])
    assert (results["IP1"].value, results["IP1"].rating) == (75.0, "green")   # 3 of 4
    assert results["IP2"].value is None                                       # not applicable
    assert (results["ID4"].value, results["ID4"].rating) == (75.0, "amber")  # 12+8+6+4 of 40; green from 80
    assert (results["IF5"].value, results["IF5"].rating) == (45.0, "red")    # 90,000 of 200,000


def test_a_country_ratio_leaves_out_a_response_without_a_numerator():
    form = _form()
    responses = [score_response(form, FormState(form, answers))
                 for answers in ({"num": "3", "den": "4"}, {"den": "10"})]
    country = aggregate(form, responses)
    assert country["R1"].value == 75.0 and country["R1"].denominator == 4.0


@pytest.mark.parametrize("band,value,problem", [("1000000000", 1e9, None), ("1000000000.5", None, "out_of_range")])
def test_the_largest_value_that_means_something(band, value, problem):
    result = _scores({"band": band}, ["B1"])["B1"]
    assert (result.value, result.problem) == (value, problem)


@pytest.mark.parametrize("answers,code,reason", [
    ({"num": "3", "den": "0"}, "R1", "no_cases"), ({"den": "4"}, "R1", "incomplete"), ({}, "R1", "not_answered"),
    ({"q1": "na", "q2": "na"}, "P1", "not_applicable"), ({"q1": "na"}, "P1", "not_answered"),
    ({}, "P1", "not_answered"), ({}, "B1", "not_answered"),
])
def test_an_indicator_without_a_value_says_why(answers, code, reason):
    result = _scores(answers, [code])[code]
    assert result.value is None and result.rating is None and result.reason == reason


def test_an_indicator_switched_off_says_so():
    form = CompiledForm(questionnaires.check(workbook(
        [["type", "name", "label", "indicator", "relevant"], ["select_one ypn", "gate", "Gate", "", ""],
         ["select_one ypn", "q", "Q", "X1", "${gate} = 'yes'"]], choices=YPN,
        extra={"indicators": [["code", "area", "section", "label"], ["X1", "a", "practice", "X1"]],
               "areas": [["code", "label"], ["a", "A"]]}))[0])
    assert score_response(form, FormState(form, {"gate": "no", "q": "yes"}))["X1"].reason == "switched_off"


def test_a_value_above_the_upper_bound_is_flagged_and_not_rated():
    result = _scores({"num": "5", "den": "4"}, ["R1"])["R1"]
    assert (result.value, result.rating, result.flag) == (125.0, None, "above_upper")
    assert _scores({"band": "250"}, ["B1"])["B1"].rating == "green"   # a band has no upper bound by default


def test_a_threshold_that_names_one_band_is_a_located_warning():
    data = workbook([["type", "name", "label", "indicator"], ["select_one ypn", "q", "Q", "X1"]], choices=YPN,
                    extra={"indicators": [["code", "area", "section", "label", "thresholds"],
                                          ["X1", "a", "practice", "X1", "green>=90"]],
                           "areas": [["code", "label"], ["a", "A"]]})
    definition, issues = questionnaires.check(data)
    warning = next(i for i in issues if i.code == "one_threshold")
    assert warning.warning and warning.row == 2 and warning.params["default"] == "50"
    assert CompiledForm(definition).indicators["X1"].thresholds == {"green": 90.0, "amber": 50.0}


# -- properties -----------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

ANSWER = st.sampled_from(["yes", "partially", "no", "na"])
COUNT = st.integers(0, 10_000).map(str)


@settings(max_examples=100, deadline=None)
@given(q1=ANSWER, q3=ANSWER)
def test_a_not_applicable_answer_never_changes_a_percentage(q1, q3):
    form = _form()
    for question, others in (("q2", {"q1": q1}), ("q1", {"q3": q3})):
        with_na = score_response(form, FormState(form, {**others, question: "na"}))
        without = score_response(form, FormState(form, others))
        assert {code: r.value for code, r in with_na.items()} == {code: r.value for code, r in without.items()}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(COUNT, COUNT), min_size=1, max_size=6))
def test_a_countrys_ratio_is_the_sum_of_numerators_over_the_sum_of_denominators(pairs):
    form = _form()
    responses = [score_response(form, FormState(form, {"num": n, "den": d}), ["R1"]) for n, d in pairs]
    country = aggregate(form, responses)["R1"]
    numerators = sum(int(n) for n, d in pairs)
    denominators = sum(int(d) for n, d in pairs)
    if denominators:
        assert country.value == pytest.approx(numerators / denominators * 100)
    else:
        assert country.value is None and country.reason == "no_cases"


@settings(max_examples=300, deadline=None)
@given(q1=ANSWER, q2=ANSWER, q3=ANSWER, who=st.lists(st.sampled_from(["police", "court", "none", "ngo"]),
                                                     unique=True), count=st.integers(-50, 50).map(str),
       num=COUNT, den=COUNT, band=st.integers(0, 200).map(str))
def test_every_score_stays_within_its_bounds(q1, q2, q3, who, count, num, den, band):
    form = _form()
    state = FormState(form, {"q1": q1, "q2": q2, "q3": q3, "who": " ".join(who), "count": count, "num": num,
                             "den": den, "band": band})
    for node in form.nodes:
        if node.kind == "question" and node.max_score is not None:
            points = question_points(form, state, node, ())
            assert points is None or 0 <= points[0] <= points[1] == node.max_score
    results = score_response(form, state)
    for result in results.values():
        if result.rating is not None:
            upper = form.indicators[result.code].upper
            assert result.value >= 0 and (upper is None or result.value <= upper)
    for area in score_areas(form, results).values():
        for score in (area.total, *area.sections.values()):
            assert 0 <= score.points <= score.maximum and score.rated <= score.indicators
            assert score.percent is None or 0 <= score.percent <= 100


def test_zero_activity_is_never_green():
    form = _form()
    result = score_response(form, FormState(form, {"num": "0", "den": "0"}), ["R1"])["R1"]
    assert result.rating is None and result.reason == "no_cases"
    country = aggregate(form, [score_response(form, FormState(form, {"num": "0", "den": "0"}), ["R1"])] * 3)["R1"]
    assert country.rating is None and country.reason == "no_cases"


def test_a_reviewers_value_keeps_the_responses_weight():
    form = _form()
    own = score_response(form, FormState(form, {"num": "3", "den": "4", "q1": "yes", "q2": "partially"}))
    ratio = rated(form.indicators["R1"], 50.0, own["R1"])
    assert (ratio.value, ratio.numerator, ratio.denominator, ratio.rating) == (50.0, 2.0, 4.0, "amber")
    points = rated(form.indicators["P1"], 25.0, own["P1"])
    assert (points.points, points.maximum, points.rating) == (1.0, 4.0, "red")
    bare = rated(form.indicators["R1"], 80.0)
    assert (bare.numerator, bare.denominator, bare.rating) == (None, None, "green")
    empty = rated(form.indicators["R1"], 80.0, IndicatorResult("R1", None, None, denominator=0.0))
    assert empty.numerator is None
    band = rated(form.indicators["B1"], 80.0, own["B1"])
    assert (band.points, band.numerator) == (None, None)


@pytest.mark.parametrize("rated_count,indicators,covered", [(0, 0, False), (1, 1, True), (0, 1, False), (1, 2, True),
                                                              (1, 3, False), (2, 4, True), (3, 4, True), (0, 4, False),
                                                              (4, 4, True)])
def test_an_area_is_rated_when_half_of_its_indicators_are(rated_count, indicators, covered):
    score = Score(points=2.0 * rated_count, maximum=2.0 * rated_count, rated=rated_count, indicators=indicators)
    assert score.covered is covered
    assert score.rating == ("green" if covered else None)


@pytest.mark.parametrize("reasons,expected", [(["no_cases", "no_cases"], "no_cases"), (["no_cases"], "no_cases"),
                                              (["no_cases", "not_applicable"], "not_answered"),
                                              (["no_cases", None], "not_answered"), ([None], "not_answered"),
                                              ([], "not_answered")])
def test_a_countrys_missing_value_says_the_reason_its_responses_share(reasons, expected):
    form = _form()
    results = [IndicatorResult("B1", None, None, reason=reason) for reason in reasons]
    assert aggregate(form, [{"B1": r} for r in results])["B1"].reason == expected


def test_ban_country_aggregates_by_hand():
    """Two BAN responses of one country: ID4 sums numerators and denominators, IP1 (mean) averages."""
    form = _ban()
    first = {"id_data": "available", "id_presumed": "40", "id_women": "12", "id_men": "8", "id_girls": "6", "id_boys": "4",
             "ip_definition": "yes", "ip_all_forms": "yes"}
    second = {"id_data": "available", "id_presumed": "10", "id_women": "1", "id_men": "0", "id_girls": "0", "id_boys": "0",
              "ip_definition": "no", "ip_all_forms": "partially"}
    responses = [score_response(form, FormState(form, answers), ["ID4", "IP1"]) for answers in (first, second)]
    assert [r["ID4"].value for r in responses] == [75.0, 10.0]
    country = aggregate(form, responses)
    assert country["ID4"].value == pytest.approx(31 / 50 * 100) and country["ID4"].rating == "amber"   # not 42.5
    assert country["IP1"].value == pytest.approx((100.0 + 25.0) / 2)
