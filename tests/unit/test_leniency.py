"""What pyxform reads, Matrica reads too, each adaptation a located warning: saved values of
formula cells, a form_id from the file name, typographic quotes in expressions, old and alias
spellings of types; sheets Matrica does not read are not parsed at all."""
import io
from pathlib import Path

import pytest
import xlsxwriter

from app.services.questionnaires import check
from app.xlsform.compiled import CompiledForm
from app.xlsform.definition import to_sheets
from app.xlsform.state import FormState
from tests.xlsform_builders import workbook


def _book(sheets: dict[str, list[list]], formulas: dict[tuple[str, int, int], tuple[str, str | None]] = ()) -> bytes:
    """A workbook written by XlsxWriter, which (unlike openpyxl) stores a formula's saved value:
    ``formulas[(sheet, row, column)] = (formula, saved value)``."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    for title, rows in sheets.items():
        sheet = book.add_worksheet(title)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                sheet.write_string(r, c, value)
    for (title, r, c), (formula, saved) in dict(formulas).items():
        sheet = book.get_worksheet_by_name(title)
        sheet.write_formula(r, c, formula, None, saved)
    book.close()
    return buffer.getvalue()


def _codes(issues, warning=True):
    return [(i.code, i.sheet, i.row, i.column) for i in issues if i.warning is warning]


SURVEY = [["type", "name", "label"], ["text", "q1", "Question one"]]


def test_formula_cells_give_their_saved_values_with_one_located_warning_per_sheet():
    data = _book({"survey": SURVEY + [["text", "q2", ""]], "settings": [["form_id", "version"], ["", ""]]},
                 {("settings", 1, 0): ('=CONCATENATE("monitor","_2026")', "monitor_2026"),
                  ("settings", 1, 1): ("=TEXT(NOW(),\"yyyymmdd\")", "20261205"),
                  ("survey", 2, 2): ('=UPPER("question two")', "QUESTION TWO")})
    definition, issues = check(data)
    assert not [i for i in issues if not i.warning], issues
    assert definition["form_id"] == "monitor_2026" and definition["version"] == "20261205"
    assert definition["survey"][1]["label"] == {"default": "QUESTION TWO"}
    used = [i for i in issues if i.code == "formula_value_used"]
    assert [(i.sheet, i.row, i.column, i.params["count"]) for i in used] == [("settings", 2, "A", 2),
                                                                              ("survey", 3, "C", 1)]


@pytest.mark.parametrize("written_by", ["openpyxl, which saves no value", "a spreadsheet that saved an error"])
def test_a_formula_without_a_usable_saved_value_is_refused_where_it_is(written_by):
    if written_by.startswith("openpyxl"):
        data = workbook([["type", "name", "label"], ["text", "q1", "=VLOOKUP(A1,B:C,2)"]])
    else:
        data = _book({"survey": SURVEY, "settings": [["form_id"], ["x"]]},
                     {("survey", 1, 2): ("=VLOOKUP(A1,B:C,2)", "#REF!")})
    _definition, issues = check(data)
    errors = [(i.code, i.sheet, i.row, i.column) for i in issues if not i.warning]
    assert errors == [("formula_not_allowed", "survey", 2, "C")]


def test_sheets_matrica_does_not_read_are_not_parsed():
    help_rows = [["type", "name", "label"]] + [["note", f"n{i}", "help"] for i in range(6000)]
    data = _book({"survey": SURVEY, "settings": [["form_id"], ["x"]], "help-survey": help_rows},
                 {("help-survey", 1, 2): ("=NOW()", "#N/A")})   # over the row limit, and a formula gone wrong
    definition, issues = check(data)
    assert not [i for i in issues if not i.warning], issues
    assert ("sheet_ignored", "help-survey", None, None) in _codes(issues)
    assert [row["name"] for row in definition["survey"]] == ["q1"]


@pytest.mark.parametrize("file_name,form_id", [
    ("Évaluation 2019 (v2).xlsx", "Evaluation_2019_v2"), ("2019 survey.xlsx", "form_2019_survey"),
    ("C:\\forms\\Upitnik čž.xlsx", "Upitnik_cz"), ("household.survey.xlsx", "household.survey"),
])
def test_without_a_form_id_the_file_name_gives_one(file_name, form_id):
    data = workbook(SURVEY, settings=[["form_title"], ["Checklist"]])
    definition, issues = check(data, file_name)
    assert not [i for i in issues if not i.warning], issues
    assert definition["form_id"] == form_id and definition["title"] == "Checklist"
    assert ("form_id_from_file_name", "settings", None, "form_id") in _codes(issues)


def test_without_settings_or_a_usable_file_name_the_form_id_is_still_asked_for():
    data = workbook(SURVEY, settings=[["form_title"], ["x"]])
    assert ("missing_form_id", "settings", None, "form_id") in _codes(check(data)[1], warning=False)
    assert ("missing_form_id", "settings", None, "form_id") in _codes(check(data, "Упитник.xlsx")[1], warning=False)
    no_settings = _book({"survey": SURVEY})
    definition, issues = check(no_settings, "checklist.xlsx")
    assert definition["form_id"] == "checklist" and definition["title"] == "checklist"
    assert not [i for i in issues if not i.warning]


def test_typographic_quotes_in_expressions_are_straightened_with_a_warning():
    data = workbook([["type", "name", "label", "relevant", "constraint"],
                     ["text", "q1", "One", "", ""],
                     ["text", "q2", "Two “quoted” label", "${q1} = “yes”", "string-length(.) > 0 or . = ‘n/a’"]])
    definition, issues = check(data)
    assert not [i for i in issues if not i.warning], issues
    q2 = definition["survey"][1]
    assert q2["relevant"] == '${q1} = "yes"' and q2["constraint"] == "string-length(.) > 0 or . = 'n/a'"
    assert q2["label"] == {"default": "Two “quoted” label"}   # text keeps its typography
    assert [(i.row, i.column) for i in issues if i.code == "quotes_straightened"] == [(3, "D"), (3, "E")]


def test_old_and_alias_type_spellings_are_read_with_a_warning():
    data = workbook([["type", "name", "label"],
                     ["select one from yn", "q1", "One"],
                     ["select all that apply from agencies or specify other", "q2", "Two"],
                     ["select1 yn", "q3", "Three"],
                     ["imei", "device", ""],
                     ["begin group", "g", "Group"], ["Select_One yn", "q4", "Four"], ["end group", "", ""]],
                    choices=[["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"],
                             ["agencies", "police", "Police"]])
    definition, issues = check(data)
    assert not [i for i in issues if not i.warning], issues
    spelled = {i.row: i.params["canonical"] for i in issues if i.code == "type_spelling"}
    assert spelled == {2: "select_one yn", 3: "select_multiple agencies or_other", 4: "select_one yn", 5: "deviceid"}
    form = CompiledForm(definition)
    questions = {node.name: node for node in form.nodes}
    assert [(questions[n].type, questions[n].list_name) for n in ("q1", "q2", "q3", "q4")] == [
        ("select_one", "yn"), ("select_multiple", "agencies"), ("select_one", "yn"), ("select_one", "yn")]
    assert questions["q2"].or_other and questions["device"].type == "deviceid"


@pytest.mark.parametrize("spelling", ["signature", "draw", "background-audio"])
def test_a_type_without_a_desk_form_is_named_plainly(spelling):
    data = workbook([["type", "name", "label"], [spelling, "q1", "One"]])
    errors = [i for i in check(data)[1] if not i.warning]
    assert [(i.code, i.params.get("type")) for i in errors] == [("type_not_supported", spelling)]


@pytest.mark.parametrize("spelling,base", [("add video prompt", "video"), ("photo", "image"),
                                           ("add audio prompt", "audio"), ("image", "image"), ("file", "file")])
def test_media_questions_become_evidence_uploads(spelling, base):
    data = workbook([["type", "name", "label"], [spelling, "q1", "One"]])
    definition, issues = check(data)
    assert not [i for i in issues if not i.warning]
    assert CompiledForm(definition).by_name["q1"].type == base
    spelled = [i.code for i in issues if i.code == "type_spelling"]
    assert spelled == ([] if spelling == base else ["type_spelling"])


def test_pictures_beside_question_texts_are_kept_with_a_warning_and_not_shown():
    data = workbook([["type", "name", "label", "media::image", "image::English"], ["text", "a", "A", "a.png", "b.png"]])
    definition, issues = check(data)
    assert not [i for i in issues if not i.warning]
    assert [(i.code, i.column) for i in issues if i.code == "media_not_shown"] == [("media_not_shown", "D"),
                                                                                  ("media_not_shown", "E")]
    assert definition["survey"][0]["extra"] == {"media::image": "a.png", "image::English": "b.png"}


def test_language_columns_named_by_language_get_its_code_and_unknown_names_stay_languages_of_their_own():
    data = workbook([["type", "name", "label::English", "hint:english", "label::Français", "label::Srpski",
                      "label::Tlingit dialect"],
                     ["text", "q1", "Name", "As written", "Nom", "Ime", "Saax’w"]],
                    settings=[["form_id", "default_language"], ["named", "English"]])
    definition, issues = check(data)
    assert not [i for i in issues if not i.warning], issues
    assert [language["code"] for language in definition["languages"]] == ["en", "fr", "sr_Latn", "Tlingit dialect"]
    assert definition["default_language"] == "en"
    q1 = definition["survey"][0]
    assert q1["label"] == {"en": "Name", "fr": "Nom", "sr_Latn": "Ime", "Tlingit dialect": "Saax’w"}
    assert q1["hint"] == {"en": "As written"}
    named = {(i.column, i.params["code"]) for i in issues if i.code == "language_by_name"}
    assert named == {("C", "en"), ("D", "en"), ("E", "fr"), ("F", "sr_Latn")}


def test_repeats_and_choices_without_a_label_show_their_name():
    data = workbook([["type", "name", "label"], ["begin_repeat", "visits", ""], ["select_one yn", "q1", "Seen?"],
                     ["end_repeat", "", ""], ["text", "q2", ""]],
                    choices=[["list_name", "name", "label"], ["yn", "yes", ""], ["yn", "no", "No"]])
    definition, issues = check(data)
    assert [(i.code, i.sheet, i.row) for i in issues if not i.warning] == [("missing_label", "survey", 5)]
    fixed = workbook([["type", "name", "label"], ["begin_repeat", "visits", ""], ["select_one yn", "q1", "Seen?"],
                      ["end_repeat", "", ""]],
                     choices=[["list_name", "name", "label"], ["yn", "yes", ""], ["yn", "no", "No"]])
    definition, issues = check(fixed)
    assert not [i for i in issues if not i.warning], issues
    assert {(i.sheet, i.row, i.params["name"]) for i in issues if i.code == "label_from_name"} == {
        ("survey", 2, "visits"), ("choices", 2, "yes")}
    form = CompiledForm(definition)
    assert form.choice_label("yn", "yes", "default") == "yes" and form.choice_label("yn", "no", "default") == "No"
    assert form.text(form.by_name["visits"].label, "default")[0] == "visits"


def test_excel_truth_values_mean_true_and_false_in_expressions_and_flags():
    data = workbook([["type", "name", "label", "relevant", "required", "read_only"],
                     ["text", "q1", "One", True, True, False], ["text", "q2", "Two", False, False, True],
                     ["note", "n1", True, "", "", ""]])
    definition, issues = check(data)
    assert not [i for i in issues if not i.warning], issues
    q1, q2, n1 = definition["survey"]
    assert (q1["relevant"], q2["relevant"]) == ("true()", "false()")
    form = CompiledForm(definition)
    assert form.by_name["q1"].required and not form.by_name["q2"].required
    assert form.by_name["q2"].read_only and not form.by_name["q1"].read_only
    assert n1["label"] == {"default": "TRUE"}   # a text shows what Excel shows


def test_device_metadata_is_kept_and_left_empty_and_a_barcode_is_typed_in():
    data = workbook([["type", "name", "label"], ["simserial", "sim", ""], ["subscriberid", "sub", ""],
                     ["phonenumber", "phone", ""], ["audit", "audit", ""], ["get device id", "device", ""],
                     ["barcode", "code", "Case file code"], ["phone number", "contact", "Contact number"]])
    definition, issues = check(data)
    assert not [i for i in issues if not i.warning], issues
    empty = {(i.row, i.params["type"]) for i in issues if i.code == "metadata_left_empty"}
    assert empty == {(2, "simserial"), (3, "subscriberid"), (4, "phonenumber"), (5, "audit")}
    assert [i.row for i in issues if i.code == "barcode_as_text"] == [7]
    form = CompiledForm(definition)
    assert [node.type for node in form.nodes if node.kind == "question"] == [
        "simserial", "subscriberid", "phonenumber", "audit", "deviceid", "text", "text"]
    assert [node.name for node in form.nodes if node.kind == "question" and node.is_input] == ["code", "contact"]
    assert [row["type"] for row in definition["survey"]][:4] == ["simserial", "subscriberid", "phonenumber", "audit"]


def test_choice_names_and_indexed_repeats_in_calculations():
    from app.xlsform.state import FormState
    data = workbook([["type", "name", "label", "calculation"],
                     ["select_one yn", "q1", "In force?", ""],
                     ["calculate", "said", "", "jr:choice-name(${q1}, '${q1}')"],
                     ["begin_repeat", "visits", "Visits", ""], ["integer", "beds", "Beds", ""], ["end_repeat", "", "", ""],
                     ["calculate", "second", "", "indexed-repeat(${beds}, ${visits}, 2)"],
                     ["calculate", "tenth", "", "indexed-repeat(${beds}, ${visits}, 10)"]],
                    choices=[["list_name", "name", "label"], ["yn", "yes", "Yes, in force"], ["yn", "no", "No"]])
    definition, issues = check(data)
    assert not [i for i in issues if not i.warning], issues
    form = CompiledForm(definition)
    state = FormState(form, {"q1": "yes", "visits": "2", "visits[1]/beds": "4", "visits[2]/beds": "7"})
    assert state.value("said") == "Yes, in force"
    assert state.value("second") == 7.0 and state.value("tenth") == ""
    assert FormState(form, {}).value("said") == ""


def test_a_macro_content_type_without_macros_is_read():
    import zipfile
    from tests.xlsform_builders import minimal, rewritten
    data = rewritten(minimal(), "[Content_Types].xml",
                     b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                     b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    assert b"macroEnabled" in zipfile.ZipFile(io.BytesIO(data)).read("[Content_Types].xml")
    definition, issues = check(data)
    assert not [i for i in issues if not i.warning], issues
    assert [row["name"] for row in definition["survey"]] == ["q1"]


def test_openpyxl_notes_stay_inside(monkeypatch):
    import warnings
    from app.xlsform import workbook as reader
    real = reader.load_workbook

    def noisy(*args, **kwargs):
        warnings.warn("Data Validation extension is not supported and will be removed", UserWarning)
        return real(*args, **kwargs)

    monkeypatch.setattr(reader, "load_workbook", noisy)
    definition, issues = check(workbook(SURVEY))   # the suite turns any warning that escapes into an error
    assert definition["survey"][0]["name"] == "q1"


def test_select_one_external_takes_its_list_from_the_external_choices_sheet():
    data = workbook([["type", "name", "label", "choice_filter"],
                     ["select_one country", "country", "Country", ""],
                     ["select_one_external town", "town", "Town", "country=${country}"]],
                    choices=[["list_name", "name", "label"], ["country", "rs", "Serbia"], ["country", "me", "Montenegro"]],
                    extra={"external_choices": [["list_name", "name", "label", "country"],
                                                ["town", "nis", "Niš", "rs"], ["town", "kotor", "Kotor", "me"]]})
    definition, issues = check(data)
    assert not [i for i in issues if not i.warning], issues
    assert ("sheet_ignored", "external_choices", None, None) not in _codes(issues)
    assert {i.params["canonical"] for i in issues if i.code == "type_spelling"} == {"select_one town"}
    form = CompiledForm(definition)
    assert [choice.name for choice in form.choices["town"]] == ["nis", "kotor"]
    from app.xlsform.definition import to_sheets
    assert "external_choices" in [sheet.name for sheet in to_sheets(definition)]   # exported as it came
    missing = workbook([["type", "name", "label"], ["select_one_external town", "town", "Town"]])
    assert [(i.code, i.params.get("list")) for i in check(missing)[1] if not i.warning] == [("unknown_list", "town")]


def test_a_choice_name_with_a_space_is_kept_where_only_single_answers_use_it():
    from app.xlsform.values import InputError, parse_input
    choices = [["list_name", "name", "label"], ["who", "social services", "Social services"], ["who", "police", "Police"]]
    single = workbook([["type", "name", "label"], ["select_one who", "q1", "Who?"]], choices=choices)
    definition, issues = check(single)
    assert not [i for i in issues if not i.warning], issues
    assert [(i.row, i.params["name"]) for i in issues if i.code == "choice_name_space_single"] == [(2, "social services")]
    form = CompiledForm(definition)
    assert parse_input(form, form.by_name["q1"], "social services") == "social services"
    assert parse_input(form, form.by_name["q1"], "police") == "police"
    with pytest.raises(InputError):
        parse_input(form, form.by_name["q1"], "social police")
    multiple = workbook([["type", "name", "label"], ["select_one who", "q1", "Who?"], ["select_multiple who", "q2", "All?"]],
                        choices=choices)
    assert [(i.code, i.row) for i in check(multiple)[1] if not i.warning] == [("choice_name_space", 2)]


def test_a_select_from_a_file_reads_the_list_of_that_name_on_the_choices_sheet():
    rows = [["type", "name", "label"], ["select_one_from_file places.csv", "q1", "Where?"],
            ["select_multiple_from_file places.csv", "q2", "Where else?"]]
    with_list = workbook(rows, choices=[["list_name", "name", "label"], ["places", "nis", "Niš"], ["places", "bar", "Bar"]])
    definition, issues = check(with_list)
    assert not [i for i in issues if not i.warning], issues
    assert [(i.row, i.params["file"], i.params["list"]) for i in issues if i.code == "choices_from_sheet"] == [
        (2, "places.csv", "places"), (3, "places.csv", "places")]
    form = CompiledForm(definition)
    assert (form.by_name["q1"].type, form.by_name["q1"].list_name) == ("select_one", "places")
    assert form.by_name["q2"].type == "select_multiple"
    without = workbook(rows[:2])
    assert [(i.code, i.params.get("file")) for i in check(without)[1] if not i.warning] == [
        ("choices_file_missing", "places.csv")]


def test_pyxform_converts_a_form_matrica_reads_leniently(tmp_path):
    from pyxform.xls2xform import convert
    data = workbook([["type", "name", "label::English", "relevant", "required"],
                     ["select one from yn", "q1", "In force?", "", True],
                     ["select all that apply from agencies", "q2", "Who?", "${q1} = “yes”", ""],
                     ["imei", "device", "", "", ""],
                     ["begin_repeat", "visits", "", "", ""], ["geopoint", "where", "Where?", "", ""],
                     ["end_repeat", "", "", "", ""],
                     ["barcode", "code", "Code", "", ""], ["geotrace", "route", "Route", "", ""]],
                    choices=[["list_name", "name", "label::English"], ["yn", "yes", "Yes"], ["yn", "no", "No"],
                             ["agencies", "police", "Police"], ["agencies", "ngo", "NGO"]],
                    settings=[["form_title"], ["Lenient"]])
    definition, issues = check(data, "lenient_form.xlsx")
    assert not [i for i in issues if not i.warning], issues
    path = tmp_path / "lenient_form.xlsx"
    path.write_bytes(data)
    assert "<h:html" in convert(xlsform=str(path), warnings=[]).xform


def test_an_opendocument_spreadsheet_is_read_like_a_workbook():
    from tests.xlsform_builders import ods
    data = ods({"survey": [["type", "name", "label", "relevant"], ["select_one yn", "q1", "In force?", ""],
                           ["text", "q2", "Why not?", "${q1} = 'no'"]],
                "choices": [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]],
                "settings": [["form_id", "version"], ["from_ods", "2026-12-05"]], "help": [["anything"]]},
               formulas={("settings", 2, 2): "TODAY()"})
    definition, issues = check(data)
    assert not [i for i in issues if not i.warning], issues
    assert definition["form_id"] == "from_ods" and [r["name"] for r in definition["survey"]] == ["q1", "q2"]
    assert [(i.sheet, i.row, i.column) for i in issues if i.code == "formula_value_used"] == [("settings", 2, "B")]
    assert ("sheet_ignored", "help", None, None) in _codes(issues)


@pytest.mark.parametrize("repeated,code", [({"survey": (1_000_000, 1)}, "too_many_rows"),
                                           ({"survey": (1, 16_000)}, "too_many_columns"),
                                           ({"_notes": (1_000_000, 100)}, "sheet_too_large"),   # ignored, yet built
                                           ({"_notes": (5_000, 100)}, None)])
def test_an_opendocument_file_stating_a_huge_extent_is_refused_before_it_is_read(repeated, code):
    from tests.xlsform_builders import ods
    data = ods({"survey": [["type", "name", "label"], ["text", "q1", "One"]], "settings": [["form_id"], ["x"]],
                "_notes": [["a note"]]}, repeated=repeated)
    assert len(data) < 5000   # a few kilobytes that a reader would expand into millions of cells
    assert [i.code for i in check(data)[1] if not i.warning] == ([code] if code else [])


XLS = Path(__file__).resolve().parents[1] / "data" / "xls"   # saved by LibreOffice from .xlsx files


def test_an_old_excel_file_is_read_as_its_xlsx_twin():
    from tests.xlsform_builders import sample_xlsx
    old, issues = check((XLS / "sample.xls").read_bytes(), "sample.xls")
    new, _issues = check(sample_xlsx(), "sample.xlsx")
    assert not [i for i in issues if not i.warning]
    assert old["survey"] == new["survey"] and old["choices"] == new["choices"]
    assert old["indicators"] == new["indicators"] and old["form_id"] == new["form_id"]


def test_an_old_excel_file_gives_its_formulas_saved_values_with_a_warning():
    definition, issues = check((XLS / "formula.xls").read_bytes(), "formula.xls")
    assert definition["settings"]["version"] == "3"
    assert [(i.code, i.sheet, i.row, i.column) for i in issues if i.code == "formula_value_used"] == [
        ("formula_value_used", "settings", 2, "B")]


def test_an_old_excel_file_whose_cells_reach_far_is_refused_before_it_is_expanded():
    """6 kB whose one cell at row 65,536 and column 256 would make calamine build 16 million
    cells (over a gigabyte): counted from the records and refused first."""
    import resource
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    data = (XLS / "hostile.xls").read_bytes()
    assert len(data) < 8000
    errors = [(i.code, i.sheet) for i in check(data, "hostile.xls")[1] if not i.warning]
    assert errors == [("sheet_too_large", "junk")]
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024   # kB: nothing was built


@pytest.mark.parametrize("data,code", [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024, "corrupt_file"),   # the signature alone
])
def test_a_broken_old_excel_file_is_one_clear_error(data, code):
    assert [i.code for i in check(data)[1]] == [code]


def test_a_name_repeated_in_another_group_is_made_unique_and_cannot_be_referenced():
    data = workbook([["type", "name", "label", "relevant"],
                     ["begin_group", "police", "Police", ""], ["integer", "cases", "Cases", ""], ["end_group", "", "", ""],
                     ["begin_group", "courts", "Courts", ""], ["integer", "cases", "Cases", ""], ["end_group", "", "", ""],
                     ["integer", "cases", "Cases in all", ""], ["text", "why", "Why", "${cases} > 0"]])
    definition, issues = check(data)
    assert [(i.code, i.row, i.params.get("unique")) for i in issues if i.code == "name_made_unique"] == [
        ("name_made_unique", 6, "courts.cases"), ("name_made_unique", 8, "cases_8")]
    assert [(i.code, i.row, i.column) for i in issues if not i.warning] == [("ambiguous_reference", 9, "D")]
    fixed = workbook([["type", "name", "label"],
                      ["begin_group", "police", "Police"], ["integer", "cases", "Cases"], ["end_group", "", ""],
                      ["begin_group", "courts", "Courts"], ["integer", "cases", "Cases"], ["end_group", "", ""]])
    definition, issues = check(fixed)
    assert not [i for i in issues if not i.warning]
    form = CompiledForm(definition)
    assert [node.name for node in form.nodes if node.kind == "question"] == ["cases", "courts.cases"]
    sheets = {sheet.name: sheet for sheet in to_sheets(definition)}
    assert [cells[1] for _row, cells in sheets["survey"].rows] == ["police", "cases", "", "courts", "cases", ""]


def test_a_name_repeated_in_the_same_group_is_still_an_error():
    data = workbook([["type", "name", "label"], ["begin_group", "g", "G"], ["integer", "a", "A"], ["text", "a", "B"],
                     ["end_group", "", ""]])
    assert [(i.code, i.row) for i in check(data)[1] if not i.warning] == [("duplicate_name", 4)]


LOOKUP_CHOICES = [["list_name", "name", "label", "score", "weight"],
                  ["agencies", "police", "Police", "2", "0.5"], ["agencies", "ngo", "An NGO", "1", "0.25"]]


def test_a_lookup_in_a_choice_list_reads_its_label_name_score_or_another_column():
    data = workbook([["type", "name", "label", "calculation"],
                     ["select_one agencies", "agency", "Agency", ""],
                     ["calculate", "shown", "", "instance('agencies')/root/item[name = ${agency}]/label"],
                     ["calculate", "weight", "", "instance(\"agencies\")/root/item[name=${agency}]/weight * 4"],
                     ["calculate", "points", "", "instance('agencies')/root/item[ name = ${agency} ]/score + 1"],
                     ["calculate", "back", "", "instance('agencies')/root/item[weight = '0.25']/name"]],
                    LOOKUP_CHOICES)
    definition, issues = check(data)
    assert not [i for i in issues if not i.warning], issues
    state = FormState(CompiledForm(definition), {"agency": "police"}, {})
    assert [state.value(name) for name in ("shown", "weight", "points", "back")] == ["Police", 2.0, 3.0, "ngo"]
    nothing = FormState(CompiledForm(definition), {}, {})
    assert nothing.value("shown") == ""


@pytest.mark.parametrize("calculation,code,detail,position", [
    ("instance('nowhere')/root/item[name = ${agency}]/label", "unknown_list", None, None),
    ("count(instance('agencies')/root/item)", "expression_invalid", "lookup_form", 7),
    ("instance('agencies')/root/item[name = ${nobody}]/label", "unknown_reference", None, None),
    ("instance('agencies')/root/item[name = ${agency} +]/label", "expression_invalid", "unexpected_token", 50),
])
def test_a_lookup_that_cannot_be_read_is_a_located_error(calculation, code, detail, position):
    data = workbook([["type", "name", "label", "calculation"], ["select_one agencies", "agency", "Agency", ""],
                     ["calculate", "shown", "", calculation]], LOOKUP_CHOICES)
    errors = [(i.code, i.row, i.column, i.params.get("detail"), i.params.get("position"))
              for i in check(data)[1] if not i.warning]
    assert errors == [(code, 3, "D", detail, position)]


def test_pyxform_converts_what_these_leniencies_read(tmp_path):
    """The forms read above are XLSForm as pyxform has it, not Matrica's own dialect."""
    from pyxform.xls2xform import convert
    data = workbook([["type", "name", "label", "calculation", "media::image"],
                     ["begin_group", "police", "Police", "", ""], ["integer", "cases", "Cases", "", "p.png"],
                     ["end_group", "", "", "", ""],
                     ["begin_group", "courts", "Courts", "", ""], ["integer", "cases", "Cases", "", ""],
                     ["end_group", "", "", "", ""],
                     ["select_one agencies", "agency", "Agency", "", ""],
                     ["calculate", "shown", "", "instance('agencies')/root/item[name = ${agency}]/label", ""],
                     ["file", "protocol", "Protocol", "", ""], ["image", "photo", "Photo", "", ""]],
                    LOOKUP_CHOICES)
    definition, issues = check(data)
    assert not [i for i in issues if not i.warning], issues
    path = tmp_path / "form.xlsx"
    path.write_bytes(data)
    assert "<h:html" in convert(xlsform=str(path), warnings=[]).xform


# -- forms from the Community Health Toolkit, ODK's examples and older pyxform ------------

def test_a_form_id_that_is_not_a_name_is_made_one():
    definition, issues = check(workbook(SURVEY, settings=[["form_id"], ["Spec test"]]))
    assert definition["form_id"] == "Spec_test"
    assert [(i.code, i.params) for i in issues if i.code == "form_id_adapted"] == [
        ("form_id_adapted", {"written": "Spec test", "name": "Spec_test"})]
    definition, _issues = check(workbook(SURVEY, settings=[["form_id"], ["contact:person:edit"]]))
    assert definition["form_id"] == "contact_person_edit"


def test_a_lone_sheet_is_the_survey():
    definition, issues = check(_book({"Sheet1": [["type", "name", "label"], ["text", "state", "The State"]]}),
                               "survey_no_name.xlsx")
    assert not [i for i in issues if not i.warning], issues
    assert [q["name"] for q in definition["survey"]] == ["state"]
    assert ("sheet_read_as_survey", "Sheet1") in [(i.code, i.sheet) for i in issues]
    two = _book({"Sheet1": [["type", "name", "label"], ["text", "state", "The State"]], "Notes": [["x"]]})
    assert [i.code for i in check(two, "two.xlsx")[1] if not i.warning] == ["missing_sheet"]


def test_a_note_without_a_name_is_named_by_its_row_and_a_question_without_a_label_shows_its_hint():
    data = workbook([["type", "name", "label", "hint", "media::image"],
                     ["note", "", "Read this first", "", ""],
                     ["text", "some_text", "", "A hint", ""],
                     ["note", "picture", "", "", "map.png"],
                     ["text", "bare", "", "", ""]])
    definition, issues = check(data)
    assert _codes(issues, warning=False) == [("missing_label", "survey", 5, "C")]
    definition, issues = check(workbook([row[:5] for row in [
        ["type", "name", "label", "hint", "media::image"], ["note", "", "Read this first", "", ""],
        ["text", "some_text", "", "A hint", ""], ["note", "picture", "", "", "map.png"]]]))
    assert not [i for i in issues if not i.warning], issues
    assert {(i.code, i.row) for i in issues} >= {("name_generated", 2), ("label_from_hint", 3), ("label_from_name", 4)}
    form = CompiledForm(definition)
    assert form.by_name["generated_note_name_2"].label == {"default": "Read this first"}
    assert (form.by_name["some_text"].label, form.by_name["some_text"].hint) == ({"default": "A hint"}, {})
    assert form.by_name["picture"].label == {"default": "picture"}


def test_old_metadata_and_trigger_spellings():
    definition, issues = check(workbook([["type", "name", "label"], ["uri:deviceid", "device", ""],
                                         ["trigger", "ok", "I have read the instructions"]]))
    assert not [i for i in issues if not i.warning], issues
    form = CompiledForm(definition)
    assert (form.by_name["device"].type, form.by_name["ok"].type) == ("deviceid", "acknowledge")
    assert ("type_spelling", 3) in [(i.code, i.row) for i in issues]


def test_text_under_a_column_without_a_header_makes_no_row():
    data = _book({"survey": [["type", "name", "label"], ["select_one yn", "q1", "In force?"]],
                  "choices": [["list_name", "name", "label", ""], ["yn", "yes", "Yes", ""], ["yn", "no", "No", ""],
                              ["", "", "", "0"]]})
    definition, issues = check(data, "comments.xlsx")
    assert not [i for i in issues if not i.warning], issues
    assert len(definition["choices"]) == 2
    assert [(i.code, i.sheet, i.row, i.column) for i in issues if i.code == "cell_without_header"] == [
        ("cell_without_header", "choices", 4, "D")]


def test_external_choices_repeat_a_name_under_other_filters_but_choices_do_not():
    survey = [["type", "name", "label", "choice_filter"], ["select_one states", "state", "State", ""],
              ["select_one_external cities", "city", "City", "state=${state}"]]
    choices = [["list_name", "name", "label"], ["states", "texas", "Texas"], ["states", "washington", "Washington"]]
    external = [["list_name", "name", "label", "state"], ["cities", "dumont", "Dumont", "texas"],
                ["cities", "dumont", "Dumont", "washington"]]
    definition, issues = check(workbook(survey, choices, extra={"external_choices": external}))
    assert not [i for i in issues if not i.warning], issues
    doubled = choices + [["states", "texas", "Texas again"]]
    assert _codes(check(workbook(survey, doubled, extra={"external_choices": external}))[1], warning=False) == [
        ("duplicate_choice", "choices", 4, "B")]


LOOP_CHOICES = [["list_name", "name", "label::English (en)", "label::Shqip (sq)"],
                ["toilets", "pit", "Pit latrine", "Gropë"], ["toilets", "flush", "Flush toilet", "Tualet"]]


def test_a_loop_is_a_group_per_choice():
    data = workbook([["type", "name", "label::English (en)", "label::Shqip (sq)"],
                     ["select_multiple toilets", "available", "Which toilets?", "Cilat tualete?"],
                     ["begin loop over toilets", "each", "", ""],
                     ["integer", "number", "How many %(label)s (%(name)s)?", "Sa %(label)s?"],
                     ["end loop", "", "", ""]], LOOP_CHOICES)
    definition, issues = check(data)
    assert not [i for i in issues if not i.warning], issues
    assert [(i.code, i.row, i.params) for i in issues if i.code == "loop_expanded"] == [
        ("loop_expanded", 3, {"list": "toilets", "count": 2})]
    form = CompiledForm(definition)
    assert [child.name for child in form.by_name["each"].children] == ["pit", "flush"]
    assert form.by_name["pit"].label == {"en": "Pit latrine", "sq": "Gropë"}
    assert form.by_name["flush.number"].label == {"en": "How many Flush toilet (flush)?", "sq": "Sa Tualet?"}
    assert FormState(form, {"pit.number": "3"}).value("pit.number") == 3
    survey = to_sheets(definition)[0]
    assert [cells[:2] for _row, cells in survey.rows] == [
        ["select_multiple toilets", "available"], ["begin_group", "each"], ["begin_group", "pit"],
        ["integer", "number"], ["end_group", ""], ["begin_group", "flush"], ["integer", "number"],
        ["end_group", ""], ["end_group", ""]]


def test_a_loop_over_an_unknown_list_or_never_ended_is_located():
    unknown = workbook([["type", "name", "label"], ["begin loop over rooms", "each", ""],
                        ["integer", "number", "How many?"], ["end loop", "", ""]], LOOP_CHOICES)
    assert _codes(check(unknown)[1], warning=False) == [("unknown_list", "survey", 2, "A")]
    open_loop = workbook([["type", "name", "label"], ["begin loop over toilets", "each", ""],
                          ["integer", "number", "How many?"]], LOOP_CHOICES)
    assert _codes(check(open_loop)[1], warning=False) == [("unclosed", "survey", 2, "A")]
    stray = workbook([["type", "name", "label"], ["text", "q1", "Q"], ["end loop", "", ""]])
    assert _codes(check(stray)[1], warning=False) == [("unmatched_end", "survey", 3, "A")]


def test_a_loop_that_would_make_too_many_rows_is_refused_before_it_is_made():
    """A loop repeats its body once per choice: 2,500 choices × 40 questions would be 100,000 rows."""
    choices = [["list_name", "name", "label"]] + [["many", f"c{i}", f"C {i}"] for i in range(2500)]
    body = [["integer", f"q{i}", f"Question {i}"] for i in range(40)]
    data = workbook([["type", "name", "label"], ["begin loop over many", "each", ""], *body, ["end loop", "", ""]],
                    choices)
    assert [(i.code, i.row, i.params) for i in check(data)[1] if not i.warning] == [
        ("loop_too_large", 2, {"limit": 5000})]


def test_xpath_paths_are_read_as_references():
    """As the Community Health Toolkit writes them: ./ in a group's relevant, ../ to a sibling,
    /<root>/group/question from the top; a path in a string is text."""
    data = workbook([["type", "name", "label", "relevant", "calculation"],
                     ["begin group", "inputs", "Inputs", "./source = 'user'", ""],
                     ["text", "source", "Source", "", ""],
                     ["text", "note_text", "Note", "../source != ''", ""],
                     ["end group", "", "", "", ""],
                     ["calculate", "copied", "", "", "concat(/data/inputs/source, '/data/x', ../inputs/note_text)"]])
    definition, issues = check(data)
    assert not [i for i in issues if not i.warning], issues
    rows = {row["name"]: row for row in definition["survey"] if row.get("name")}
    assert rows["inputs"]["relevant"] == "${source} = 'user'"
    assert rows["note_text"]["relevant"] == "${source} != ''"
    assert rows["copied"]["calculation"] == "concat(${source}, '/data/x', ${note_text})"
    assert {(i.code, i.row, i.column) for i in issues if i.code == "path_as_reference"} == {
        ("path_as_reference", 2, "D"), ("path_as_reference", 4, "D"), ("path_as_reference", 6, "E")}
    state = FormState(CompiledForm(definition), {"source": "user", "note_text": "n"})
    assert state.value("copied") == "user/data/xn"


def test_a_path_to_no_question_is_located():
    data = workbook([["type", "name", "label", "calculation"],
                     ["calculate", "where", "", "concat(../../inputs/meta/location/lat, ' ')"],
                     ["calculate", "too_far", "", "../../../q"]])
    assert [(i.code, i.row, i.column, i.params["path"]) for i in check(data)[1] if not i.warning] == [
        ("unknown_path", 2, "D", "../../inputs/meta/location/lat"), ("unknown_path", 3, "D", "../../../q")]


def test_pyxform_converts_forms_read_through_the_newer_leniencies(tmp_path):
    from pyxform.xls2xform import convert
    data = workbook([["type", "name", "label", "hint", "relevant"],
                     ["note", "", "Read this first", "", ""], ["text", "some_text", "", "A hint", ""],
                     ["trigger", "ok", "Understood", "", ""], ["uri:deviceid", "device", "", "", ""],
                     ["select_multiple toilets", "available", "Which toilets?", "", ""],
                     ["begin group", "inputs", "Inputs", "", "./source = 'user'"],
                     ["text", "source", "Source", "", ""], ["end group", "", "", "", ""],
                     ["begin loop over toilets", "each", "", "", ""],
                     ["integer", "number", "How many %(label)s?", "", ""], ["end loop", "", "", "", ""]],
                    [["list_name", "name", "label"], ["toilets", "pit", "Pit latrine"], ["toilets", "flush", "Flush"]],
                    settings=[["form_id"], ["Spec test"]])
    definition, issues = check(data)
    assert not [i for i in issues if not i.warning], issues
    path = tmp_path / "form.xlsx"
    path.write_bytes(data)
    assert "<h:html" in convert(xlsform=str(path), warnings=[]).xform
