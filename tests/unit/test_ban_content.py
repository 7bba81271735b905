"""The shipped BAN questionnaire scores honestly: zero activity is not green, a "no" that would
hide a figure rates 0, more than 100 % is flagged, missing data are never a 0, and a country's
figure is made of the answers of the kind of institution responsible — against hand-computed
values."""
from functools import cache

import pytest

from app.scoring import aggregate, score_areas, score_response
from app.services import questionnaires
from app.xlsform.compiled import CompiledForm
from app.xlsform.source import to_xlsx
from app.xlsform.state import FormState
from tests.xlsform_builders import SHIPPED

CASE_AREAS = ("investigation", "identification", "protection", "assistance", "compensation")


@cache
def _ban() -> CompiledForm:
    definition, issues = questionnaires.check(to_xlsx(SHIPPED / "ban_monitoring"))
    assert not [i for i in issues if not i.warning]
    return CompiledForm(definition)


def _scores(kind=None, **answers):
    form = _ban()
    return score_response(form, FormState(form, {k: str(v) for k, v in answers.items()}, kind=kind))


def _zero_activity() -> dict[str, str]:
    """Every yes/no question "yes", every figure available and 0: laws in place, nothing done."""
    answers = {}
    for node in _ban().questions():
        if not node.is_input or node.chain:
            continue
        if node.list_name == "ypn":
            answers[node.name] = "yes"
        elif node.list_name == "data":
            answers[node.name] = "available"
        elif node.type in ("integer", "decimal"):
            answers[node.name] = "0"
        elif node.type == "text":
            answers[node.name] = "Register of the national referral mechanism, 15 January"
        elif node.type == "date":
            answers[node.name] = "2026-01-15"
    return answers


def test_zero_activity_is_not_green():
    form = _ban()
    results = score_response(form, FormState(form, _zero_activity()))
    areas = score_areas(form, results)
    for code in CASE_AREAS:   # practice in the areas made of cases: amber at best, and so the area
        assert areas[code].sections["practice"].rating in ("amber", "red"), code
        assert areas[code].rating in ("amber", "red"), code   # rated by its weaker section
    assert areas["identification"].percent == 75   # green by its score, amber by its practice
    assert areas["assistance"].sections["practice"].rating == "red"
    practice = [area.sections["practice"] for area in areas.values()]
    share = sum(s.points for s in practice) / sum(s.maximum for s in practice) * 100
    assert share < 75   # the whole practice picture is not green either (54.5 %)
    assert not [code for code, area in areas.items() if area.percent == 100]   # was six areas at 100 %
    # No presumed victims registered, nobody prosecuted, no claims: the finding, rated 0.
    for code in ("ID4", "IP7", "CO6", "AS5"):
        assert (results[code].value, results[code].rating, results[code].flag) == (0, "red", "no_cases"), code


def test_a_no_that_would_hide_a_figure_rates_it_zero():
    no_system = _scores(dp_central_system="no")["DP5"]
    assert (no_system.value, no_system.rating) == (0, "red")
    no_financial = _scores(ip_police_data="available", ip_financial="no", ip_investigations=10, ip_financial_cases=0)
    assert (no_financial["IP10"].value, no_financial["IP10"].rating) == (0, "red")   # was hidden


def test_more_than_100_percent_is_flagged_not_green():
    spent = _scores(if_data="available", if_budget_planned=100_000, if_budget_spent=250_000)["IF5"]
    assert (spent.value, spent.rating, spent.flag) == (250, None, "above_upper")


def test_flows_across_periods_can_be_reported():
    """This year's convictions may come from earlier prosecutions: more convicted than prosecuted is
    true data, not refused (it is flagged above 100 % in the ratio)."""
    form = _ban()
    state = FormState(form, {"ip_prosecution_data": "available", "ip_prosecuted": "3", "ip_convicted": "5"},
                      kind="prosecution")
    assert not [p for p in state.problems() if p.node.name == "ip_convicted" and p.code == "constraint"]


def test_data_not_available_is_never_a_zero():
    results = _scores("social_welfare", as_data="not_available")
    for code in ("AS4", "AS5", "AS9", "AS10"):
        assert results[code].value is None and results[code].reason == "data_not_available"


def test_the_country_figure_follows_the_responsible_kind_without_double_counting():
    """A shelter and a welfare centre report the same victims; the coordinator answers the law."""
    form = _ban()
    responses = [
        _scores("national_coordinator", id_data="available", id_presumed=50, id_women=20, id_men=5, id_girls=10,
                id_boys=5, ip_definition="yes", ip_all_forms="partially"),
        _scores("social_welfare", as_data="available", as_assisted=30, as_health=24, as_legal=6),
        _scores("shelter", as_data="available", as_assisted=10, as_health=10),   # not asked: AS is not the shelter's
        _scores("police", ip_police_data="available", ip_investigations=12, ip_financial_cases=3,
                ip_definition="no"),   # not asked either: the law is the coordinator's
        _scores("prosecution", ip_prosecution_data="available", ip_prosecuted=8, ip_convicted=4),
        _scores("prosecution", ip_prosecution_data="available", ip_prosecuted=2, ip_convicted=2),
    ]
    country = aggregate(form, responses)
    assert country["AS5"].value == pytest.approx(24 / 30 * 100)        # the welfare centre's 80 %, not 34 / 40
    assert country["ID4"].value == pytest.approx(40 / 50 * 100)        # the coordinator's register
    assert country["IP1"].value == pytest.approx(75.0)                 # yes + partially, once
    assert country["IP7"].value == pytest.approx((4 + 2) / (8 + 2) * 100)   # both prosecution offices, summed
    assert country["IP10"].value == pytest.approx(3 / 12 * 100)
    assert country["CO6"].reason == "no_responsible"                   # no court has answered
    assert country["AS4"].value == pytest.approx(6 / 30 * 100)
    assert {code for code, result in country.items() if result.rating} == {"AS4", "AS5", "ID4", "IP1", "IP7", "IP10"}
