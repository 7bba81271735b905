"""Questions asked of some kinds of institution only (``applies_to``) and indicators made of the
answers of the kinds responsible for them (``responsible``): what each institution is asked,
what its sheet rates, and a country's figure without double counting — against values worked
out by hand."""
from functools import cache

import pytest
from pyxform.xls2xform import convert

from app.models import InstitutionKind
from app.scoring import aggregate, score_areas, score_response
from app.services import questionnaires
from app.xlsform.compiled import CompiledForm
from app.xlsform.definition import INSTITUTION_KINDS
from app.xlsform.state import FormState
from tests.xlsform_builders import workbook

YN = [["list_name", "name", "label", "score"], ["yn", "yes", "Yes", "2"], ["yn", "no", "No", "0"]]
SURVEY = [["type", "name", "label", "applies_to", "indicator"],
          ["select_one yn", "law", "Is the law in force?", "national_coordinator", "L1"],
          ["begin_group", "care", "Care", "shelter social_welfare", ""],
          ["integer", "assisted", "Victims assisted", "", ""],
          ["integer", "health", "… of them with health care", "", ""],
          ["end_group", "", "", "", ""],
          ["integer", "identified", "Victims identified", "police", ""],
          ["text", "contact", "Contact", "", ""]]
INDICATORS = [["code", "area", "section", "label", "method", "numerator", "denominator", "responsible"],
              ["L1", "a", "law_policy", "Law", "points", "", "", "national_coordinator"],
              ["H1", "a", "practice", "Health care", "ratio", "${health}", "${assisted}", "social_welfare"],
              ["I1", "a", "practice", "Identified", "band", "", "", "police"]]


def _data(survey=SURVEY, indicators=INDICATORS) -> bytes:
    table = [row + (["value"] if number == 0 else ["${identified}" if row[0] == "I1" else ""])
             for number, row in enumerate(indicators)]
    return workbook(survey, YN, extra={"indicators": table, "areas": [["code", "label"], ["a", "Area"]]})


@cache
def _form() -> CompiledForm:
    definition, issues = questionnaires.check(_data())
    assert not [i for i in issues if not i.warning], [(i.code, i.where()) for i in issues]
    return CompiledForm(definition)


def _errors(data: bytes) -> set[tuple[str, int | None]]:
    _definition, issues = questionnaires.check(data)
    return {(i.code, i.row) for i in issues if not i.warning}


def test_the_kinds_a_definition_names_are_the_kinds_an_institution_has():
    assert set(INSTITUTION_KINDS) == {kind.value for kind in InstitutionKind}


def test_each_kind_is_asked_its_own_questions_and_a_preview_shows_all():
    form = _form()

    def asked(kind):
        state = FormState(form, {}, kind=kind)
        return {node.name for node, _index, path in state.input_paths() if state.is_relevant(path)}

    assert asked("national_coordinator") == {"law", "contact"}
    assert asked("shelter") == {"assisted", "health", "contact"}   # from its group
    assert asked("police") == {"identified", "contact"}
    assert asked(None) == {"law", "assisted", "health", "identified", "contact"}


def test_an_institution_is_rated_only_on_the_indicators_it_is_responsible_for():
    form = _form()
    results = score_response(form, FormState(form, {"identified": "40"}, kind="police"))
    assert results["I1"].value == 40
    assert results["L1"].reason == results["H1"].reason == "not_responsible"
    area = score_areas(form, results)["a"]
    assert (area.total.rated, area.total.indicators) == (1, 1)   # the others count nowhere


def test_a_country_figure_is_made_of_the_responsible_kind_only_never_counted_twice():
    form = _form()

    def scored(kind, answers):
        return score_response(form, FormState(form, answers, kind=kind))

    shelter = scored("shelter", {"assisted": "10", "health": "10"})    # the same victims …
    welfare = scored("social_welfare", {"assisted": "30", "health": "0"})
    coordinator = scored("national_coordinator", {"law": "yes"})
    police = scored("police", {"identified": "30"})
    country = aggregate(form, [shelter, welfare, coordinator, police])
    # Summed over both kinds, 10 / 40 = 25 %; the welfare centres are responsible: 0 / 30.
    assert (country["H1"].numerator, country["H1"].denominator, country["H1"].value) == (0, 30, 0)
    assert country["L1"].value == 100   # the national fact, from the coordinator alone
    assert country["I1"].value == 30
    without_welfare = aggregate(form, [shelter, coordinator])
    assert without_welfare["H1"].value is None and without_welfare["H1"].reason == "no_responsible"


@pytest.mark.parametrize("survey_change,indicator_change,code", [
    ({1: ["select_one yn", "law", "Law", "ministry prosecutors", "L1"]}, {}, "unknown_institution_kind"),
    ({}, {2: ["H1", "a", "practice", "Health care", "ratio", "${health}", "${assisted}", ""]}, "responsible_missing"),
    ({}, {2: ["H1", "a", "practice", "Health care", "ratio", "${health}", "${assisted}", "police"]},
     "responsible_not_asked"),
    ({}, {1: ["L1", "a", "law_policy", "Law", "points", "", "", "shelter"]}, "responsible_not_asked"),
])
def test_routing_mistakes_are_located_errors(survey_change, indicator_change, code):
    survey = [survey_change.get(i, row) for i, row in enumerate(SURVEY)]
    indicators = [indicator_change.get(i, row) for i, row in enumerate(INDICATORS)]
    errors = _errors(_data(survey, indicators))
    row = 1 + next(iter(survey_change or indicator_change)) if code != "unknown_institution_kind" else 2
    assert (code, row) in errors, errors


def test_a_form_without_routing_needs_no_responsible_kinds():
    survey = [row[:3] + row[4:] for row in SURVEY]
    survey[0] = ["type", "name", "label", "indicator"]
    indicators = [row[:7] for row in INDICATORS]
    assert not _errors(_data(survey, indicators))


def test_pyxform_converts_a_routed_form(tmp_path):
    path = tmp_path / "routed.xlsx"
    path.write_bytes(_data())
    assert "<h:html" in convert(xlsform=str(path), warnings=[]).xform
