"""Reading, validating and writing XLSForm definitions."""
import pytest
from pyxform.xls2xform import convert

from app.xlsform.compiled import CompiledForm
from app.xlsform.definition import build, to_sheets
from app.xlsform.issues import DefinitionError
from app.xlsform.source import read_folder, to_xlsx, write_folder
from app.xlsform.workbook import read_workbook, write_workbook
from tests.conftest import FORMS
from tests.xlsform_builders import EXPECTED_CODE, HOSTILE, SAMPLE, SHIPPED, workbook


def _check(data: bytes):
    try:
        sheets, warnings = read_workbook(data)
    except DefinitionError as exc:
        return {}, exc.issues
    definition, issues = build(sheets)
    return definition, warnings + issues


def _errors(data: bytes):
    return [i for i in _check(data)[1] if not i.warning]


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_files_get_one_clear_located_error(name):
    errors = _errors(HOSTILE[name]())
    assert errors, name
    assert errors[0].code == EXPECTED_CODE[name], [(e.code, e.where()) for e in errors]
    if name in ("formula", "rows_10000", "columns_300", "million_rows", "cell_5mb", "wrong_types", "duplicate_headers"):
        assert errors[0].sheet == "survey" and errors[0].row, errors[0]


def test_stated_dimensions_alone_do_not_matter():
    from tests.xlsform_builders import stated_million_rows
    definition, issues = _check(stated_million_rows())
    assert not [i for i in issues if not i.warning]
    assert [r["name"] for r in definition["survey"]] == ["q1"]


def test_formula_is_located():
    errors = _errors(HOSTILE["formula"]())
    assert (errors[0].sheet, errors[0].row, errors[0].column) == ("survey", 2, "C")


def test_wrong_types_are_reported_by_cell():
    errors = _errors(HOSTILE["wrong_types"]())
    assert ("survey", 2, "A", "unknown_type") in {(e.sheet, e.row, e.column, e.code) for e in errors}


@pytest.mark.parametrize("survey,choices,code,column", [
    ([["type", "name", "label"], ["text", "a", "A"], ["integer", "a", "B"]], None, "duplicate_name", "B"),
    ([["type", "name", "label"], ["text", "a b", "A"]], None, "bad_name", "B"),
    ([["type", "name", "label"], ["text", "a", ""]], None, "missing_label", "C"),
    ([["type", "name", "label"], ["annotate", "photo", "Photo"]], None, "type_not_supported", "A"),
    ([["type", "name", "label"], ["signature", "signed", "Sign"]], None, "type_not_supported", "A"),
    ([["type", "name", "label"], ["select_one yn", "a", "A"]], None, "unknown_list", "A"),
    ([["type", "name", "label"], ["begin_group", "g", "G"], ["text", "a", "A"]], None, "unclosed", "A"),
    ([["type", "name", "label"], ["end_group", "", ""]], None, "unmatched_end", "A"),
    ([["type", "name", "label", "relevant"], ["text", "a", "A", "${nope} = 1"]], None, "unknown_reference", "D"),
    ([["type", "name", "label", "constraint"], ["integer", "a", "A", ". >> 1"]], None, "expression_invalid", "D"),
    ([["type", "name", "label", "calculation"], ["calculate", "x", "", "${y} + 1"], ["calculate", "y", "", "${x} + 1"]],
     None, "calculation_cycle", "D"),
    ([["type", "name", "label", "trigger"], ["text", "a", "A", "${a}"]], None, "column_not_supported", "D"),
    ([["type", "name", "label", "indicator"], ["text", "a", "A", "X1"]], None, "unknown_indicator", "D"),
    ([["type", "name", "label", "max_score"], ["select_one yn", "a", "A", "5"]],
     [["list_name", "name", "label", "score"], ["yn", "yes", "Yes", "2"], ["yn", "no", "No", "0"]], "max_score_mismatch", "D"),
    ([["type", "name", "label"], ["select_one yn", "a", "A"]],
     [["list_name", "name", "label", "score"], ["yn", "yes", "Yes", "two"]], "score_not_number", "D"),
    ([["type", "name", "label"], ["select_one yn", "a", "A"]],
     [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "yes", "Again"]], "duplicate_choice", "B"),
    ([["type", "name", "label", "parameters"], ["range", "r", "R", "start=5 end=1 step=1"]], None, "bad_range", "D"),
])
def test_validation_errors_are_located(survey, choices, code, column):
    errors = _errors(workbook(survey, choices))
    match = [e for e in errors if e.code == code]
    assert match, [(e.code, e.where()) for e in errors]
    assert match[0].column == column and match[0].sheet in ("survey", "choices")


def test_scoring_sheets_are_validated():
    data = workbook([["type", "name", "label", "indicator"], ["select_one yn", "a", "A", "I1"]],
                    [["list_name", "name", "label", "score"], ["yn", "yes", "Yes", "2"], ["yn", "no", "No", "0"]],
                    extra={"indicators": [["code", "area", "section", "label", "method", "thresholds"],
                                          ["I1", "nowhere", "law", "Ind", "points", "green>=40; amber>=60"],
                                          ["I2", "a1", "practice", "Ratio", "ratio", ""]],
                           "areas": [["code", "label"], ["a1", "Area"]]})
    codes = {(e.code, e.row) for e in _errors(data)}
    assert {("unknown_area", 2), ("bad_section", 2), ("bad_thresholds", 2), ("missing_expression", 3)} <= codes


def test_unknown_columns_are_kept_and_warned_about():
    data = workbook([["type", "name", "label", "kobo--locking-profile"], ["text", "a", "A", "lock_all"]])
    definition, issues = _check(data)
    assert [i.code for i in issues if i.warning] == ["column_kept"]
    assert definition["survey"][0]["extra"] == {"kobo--locking-profile": "lock_all"}
    exported = write_workbook(to_sheets(definition))
    again, _ = _check(exported)
    assert again["survey"][0]["extra"] == {"kobo--locking-profile": "lock_all"}


def test_aliases_case_and_ignored_sheets():
    data = workbook([["Type", "NAME", "Caption", "Relevance"], ["Text", "a", "A", ""], ["integer", "b", "B", "${a} != ''"]],
                    extra={"_notes": [["anything", "goes"]]})
    definition, issues = _check(data)
    assert not [i for i in issues if not i.warning]
    assert definition["survey"][1]["relevant"] == "${a} != ''"
    assert definition["survey"][0]["label"] == {"default": "A"}


def test_missing_translations_are_reported_per_language_never_dropped():
    data = workbook([["type", "name", "label::English (en)", "label::Shqip (sq)", "label::Hrvatski (hr)"],
                     ["text", "a", "A", "A sq", ""], ["text", "b", "B", "", ""]])
    definition, issues = _check(data)
    missing = [(i.params["language"], i.row) for i in issues if i.code == "translation_missing"]
    assert sorted(missing) == [("hr", 2), ("hr", 3), ("sq", 3)]
    assert [l["code"] for l in definition["languages"]] == ["en", "sq", "hr"]


@pytest.mark.parametrize("folder", [SHIPPED / "ban_monitoring", SHIPPED / "kbf_reintegration", SHIPPED / "kbf_plan_review"])
def test_round_trip_gives_the_same_definition(folder, tmp_path):
    definition, issues = build(read_folder(folder))
    assert not [i for i in issues if not i.warning]
    exported = write_workbook(to_sheets(definition))
    again, issues_again = _check(exported)
    assert again == definition
    write_folder(to_sheets(definition), tmp_path)          # and back to the CSV source form
    assert build(read_folder(tmp_path))[0]["survey"] == definition["survey"]


@pytest.mark.parametrize("folder", [SHIPPED / "ban_monitoring", SHIPPED / "kbf_reintegration"]
                         + sorted(path for path in FORMS.iterdir() if path.is_dir()), ids=lambda path: path.name)
def test_pyxform_converts_the_forms(folder, tmp_path):
    path = tmp_path / "form.xlsx"
    path.write_bytes(to_xlsx(folder))
    result = convert(xlsform=str(path), warnings=[])
    assert "<h:html" in result.xform


def test_shipped_ban_questionnaire_has_what_the_monitoring_tool_needs():
    definition, issues = _check(to_xlsx(SHIPPED / "ban_monitoring"))
    assert not [i for i in issues if not i.warning] and not [i for i in issues if i.code == "translation_missing"]
    form = CompiledForm(definition)
    assert set(form.languages) == {"en", "sq", "sr_Latn", "sr_Cyrl", "mk", "bs", "hr", "cnr"}
    assert len([q for q in form.questions() if q.is_input]) >= 100
    assert len(form.indicators) >= 40
    assert len(form.areas) == 7
    for area in form.areas:
        sections = {i.section for i in form.indicators.values() if i.area == area.code}
        assert sections == {"law_policy", "practice"}, area.code
    methods = {i.method for i in form.indicators.values()}
    assert methods == {"points", "ratio", "band"}
    types = {q.type for q in form.questions()}
    assert {"select_one", "integer", "decimal", "note", "calculate", "select_multiple", "date", "text"} <= types
    assert any(node.kind == "repeat" for node in form.walk())
    assert any(q.evidence == "required-when-positive" for q in form.questions())
    assert any(q.relevant is not None for q in form.questions())
    assert form.indicators["CO5"].numerator.references == {"co_paid"}
    # Flows that span periods are not compared (this year's convictions come from earlier prosecutions).
    assert "id_presumed" not in form.by_name["id_boys"].constraint.references
    assert "ip_prosecuted" not in form.by_name["ip_convicted"].constraint.references
    # Every indicator names who answers it, every ratio its upper bound; the law is the coordinator's.
    assert all(indicator.responsible for indicator in form.indicators.values())
    assert all(i.upper == 100 for i in form.indicators.values() if i.method == "ratio")
    assert form.by_name["ip_law"].applies_to == {"national_coordinator"}
    assert form.titles["sq"].startswith("Instrumenti rajonal")


def test_kbf_matrix_has_the_three_phases():
    definition, issues = _check(to_xlsx(SHIPPED / "kbf_reintegration"))
    form = CompiledForm(definition)
    assert [a.code for a in form.areas] == ["crisis", "transition", "reintegration"]
    assert {"en", "sq", "sr_Latn", "mk", "bs"} <= set(form.languages)
    assert not [i for i in issues if i.code == "translation_missing"]
    for phase in ("cr", "tr", "ri"):   # success over the persons whose phase ended, not all in the phase
        assert f"{phase}_ended" in form.indicators[f"{phase.upper()}_SUCCESS"].denominator.references
        assert {f"{phase}_families", f"{phase}_interviewed"} <= set(form.by_name)
        # the beneficiaries' view, weighted by the people interviewed (tests/unit/test_kbf_content.py)
        assert f"{phase}_interviewed" in form.indicators[f"{phase.upper()}_VIEW_PROGRESS"].denominator.references


def test_kbf_plan_review_keeps_a_pseudonym_and_no_personal_data():
    from app.xlsform.state import FormState
    definition, issues = _check(to_xlsx(SHIPPED / "kbf_plan_review"))
    form = CompiledForm(definition)
    assert not [i for i in issues if not i.warning or i.code == "translation_missing"]
    assert {"en", "sq", "sr_Latn", "mk", "bs"} <= set(form.languages)
    names = {node.name for node in form.questions()}
    assert not {name for name in names if "birth" in name or name in ("name", "surname", "address", "phone")}
    assert form.by_name["age_group"].type == "select_one"   # an age group, not a date of birth

    def refused(code):
        state = FormState(form, {"beneficiary_code": code})
        return [p.code for p in state.problems() if p.node.name == "beneficiary_code"]

    assert refused("AB-0042") == []
    assert refused("Ana Petrović") == ["constraint"]


def test_the_csv_source_and_the_xlsx_give_the_same_definition():
    from_csv, _ = build(read_folder(SHIPPED / "ban_monitoring"))
    from_xlsx, _ = _check(to_xlsx(SHIPPED / "ban_monitoring"))
    assert from_csv == from_xlsx


def test_written_workbooks_keep_formula_like_text_as_text():
    data = workbook([["type", "name", "label"], ["text", "a", "A"]])
    definition, _ = _check(data)
    definition["survey"][0]["label"] = {"default": "=cmd|' /C calc'!A0"}
    exported = write_workbook(to_sheets(definition))
    again, issues = _check(exported)
    assert not [i for i in issues if not i.warning]
    assert again["survey"][0]["label"] == {"default": "=cmd|' /C calc'!A0"}


def test_a_unit_is_currency_and_only_on_a_number():
    data = workbook([["type", "name", "label", "unit"], ["decimal", "paid", "Paid", "currency"],
                     ["text", "note", "Note", "currency"], ["integer", "beds", "Beds", "metres"]])
    assert {(e.code, e.row) for e in _errors(data)} == {("unit_not_number", 3), ("unknown_unit", 4)}
    good = workbook([["type", "name", "label", "unit"], ["decimal", "paid", "Paid", "currency"]])
    definition, _issues = _check(good)
    assert CompiledForm(definition).by_name["paid"].money
