"""Raw data: one row per response, one column per question, repeats on linked sheets, as
codes or labels, select-multiple in the three layouts; xlsx read by two readers, CSV with a
byte order mark; nothing typed becomes a formula; the reader's scope decides the rows."""
import csv
import io
import zipfile

import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook
from app.exports.writer import excel_date_format
from tests.conftest import HOSTILE_TEXT as HOSTILE
from tests.conftest import RS_INSTITUTION

def _export(runner, tmp_path, cycle, *options, name="raw.xlsx"):
    target = tmp_path / name
    result = runner.invoke(args=["export", "raw", "--cycle", str(cycle), "-o", str(target), *options])
    assert result.exit_code == 0, result.output
    return target, result.output


def _rows(path, sheet):
    return list(load_workbook(path)[sheet].iter_rows(values_only=True))


def test_one_row_per_response_with_numbers_dates_codes_and_choice_columns(app, runner, tmp_path, cycle_with_answers):
    target, output = _export(runner, tmp_path, cycle_with_answers)
    assert "2 rows" in output
    book = load_workbook(target)
    assert book.sheetnames == ["Responses", "site"]
    header, *rows = _rows(target, "Responses")
    assert len(rows) == 2
    row = dict(zip(header, next(r for r in rows if r[2] == RS_INSTITUTION)))
    assert row["count"] == 3 and row["amount"] == 2.5 and row["when"].date().isoformat() == "2026-02-01"
    assert row["Status"] == "Approved" and row["Country"] == "RS"
    assert row["agencies"] == "police other"
    assert (row["agencies/police"], row["agencies/social"], row["agencies/other"]) == (1, 0, 1)
    assert row["comment"] == HOSTILE
    empty = dict(zip(header, next(r for r in rows if r[2] != RS_INSTITUTION)))
    assert empty["count"] is None and empty["agencies/police"] is None and empty["Status"] == "Draft"
    site_header, *sites = _rows(target, "site")
    assert site_header[:5] == ("_index", "_parent_index", "_parent_table", "_submission_id", "Status")
    by_name = {dict(zip(site_header, s))["site_name"]: dict(zip(site_header, s)) for s in sites}
    assert set(by_name) == {"North", "-South"}
    assert by_name["North"]["site_beds"] == 4 and by_name["-South"]["site_beds"] == 6
    assert {s["_parent_index"] for s in by_name.values()} == {row["_index"]}
    assert {s["_parent_table"] for s in by_name.values()} == {"Responses"}
    assert all(s["_submission_id"] == row["_id"] and s["Status"] == "Approved" for s in by_name.values())
    assert not [c.coordinate for sheet in book.worksheets for r in sheet.iter_rows() for c in r if c.data_type == "f"]
    calamine = CalamineWorkbook.from_path(str(target))
    assert calamine.sheet_names == book.sheetnames
    assert len(calamine.get_sheet_by_name("Responses").to_python()) == 3


def test_labels_in_a_questionnaire_language_and_the_select_multiple_layouts(app, runner, tmp_path, cycle_with_answers):
    target, _ = _export(runner, tmp_path, cycle_with_answers, "--labels", "sq", "--lang", "sq", "--multiple", "single")
    header, *rows = _rows(target, "Përgjigjet")
    row = dict(zip(header, next(r for r in rows if r[2] == RS_INSTITUTION)))
    assert row["Agjencitë"] == "Policia; Tjetër" and row["Sa?"] == 3 and row["Statusi"] == "Miratuar"
    assert not [h for h in header if "/" in str(h)]
    target, _ = _export(runner, tmp_path, cycle_with_answers, "--labels", "en", "--multiple", "split", name="split.xlsx")
    header, *rows = _rows(target, "Responses")
    assert "Agencies" not in header
    row = dict(zip(header, next(r for r in rows if r[2] == RS_INSTITUTION)))
    assert (row["Agencies/Police"], row["Agencies/Social services"], row["Agencies/Other"]) == (1, 0, 1)
    unknown = runner.invoke(args=["export", "raw", "--cycle", str(cycle_with_answers), "--labels", "de",
                                  "-o", str(tmp_path / "x.xlsx")])
    assert unknown.exit_code == 2 and "en, sq" in unknown.output and not (tmp_path / "x.xlsx").exists()


def test_csv_is_a_zip_of_one_file_per_sheet_with_a_byte_order_mark_and_nothing_evaluated(
        app, runner, tmp_path, cycle_with_answers):
    target, _ = _export(runner, tmp_path, cycle_with_answers, "--format", "csv", "--lang", "sr_Cyrl",
                        name="raw.zip")
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        assert len(names) == 2 and all(name.endswith(".csv") for name in names)
        main = archive.read(names[0])
        sites = archive.read(names[1])
    assert main.startswith(b"\xef\xbb\xbf") and sites.startswith(b"\xef\xbb\xbf")
    header, *rows = list(csv.reader(io.StringIO(main.decode("utf-8-sig"))))
    assert "Институција" in header
    row = dict(zip(header, next(r for r in rows if r[2] == RS_INSTITUTION)))
    assert row["comment"] == "'" + HOSTILE and row["count"] == "3"
    site_rows = list(csv.reader(io.StringIO(sites.decode("utf-8-sig"))))
    assert ["'-South"] == [cell for r in site_rows for cell in r if "South" in cell]


def test_the_reader_scope_decides_the_rows(app, runner, tmp_path, cycle_with_answers):
    _, output = _export(runner, tmp_path, cycle_with_answers, "--as", "auditor@example.org")
    assert "1 rows," in output   # an auditor: approved responses only
    _, output = _export(runner, tmp_path, cycle_with_answers, "--as", "reviewer.rs@example.org")
    assert "1 rows," in output   # a reviewer: the countries reviewed, the RS response
    _, output = _export(runner, tmp_path, cycle_with_answers, "--country", "AL")
    assert "1 rows," in output


def test_nested_repeats_link_each_entry_to_the_entry_it_is_inside(tmp_path):
    from app.exports import raw
    from app.exports.writer import XlsxBook
    from app.services import questionnaires
    from app.xlsform.compiled import CompiledForm
    from tests.xlsform_builders import workbook

    definition, issues = questionnaires.check(workbook([
        ["type", "name", "label"], ["text", "top", "Top"], ["begin_repeat", "house", "House"],
        ["text", "house_name", "House name"], ["begin_repeat", "room", "Room"], ["integer", "beds", "Beds"],
        ["end_repeat", "", ""], ["end_repeat", "", ""]]))
    assert not [issue for issue in issues if not issue.warning]
    form = CompiledForm(definition)
    words = raw.Words("Responses", "Institution", "Country", "Status", "Submitted", "Last change")
    submissions = [
        raw.Submission(7, "A", "RS", "Draft", None, None, {"top": "x", "house[1]/house_name": "one",
                                                           "house[1]/room[1]/beds": "2", "house[1]/room[2]/beds": "3",
                                                           "house[2]/room[1]/beds": "5"}),
        raw.Submission(9, "B", "ME", "Draft", None, None, {"house[1]/room[1]/beds": "1", "nonsense[1]/x": "?"}),
    ]
    target = tmp_path / "nested.xlsx"
    assert raw.write(form, XlsxBook(str(target), constant_memory=True), raw.Options(), words, submissions) == 2
    houses = _rows(target, "house")[1:]
    rooms = _rows(target, "room")[1:]
    assert [h[:4] for h in houses] == [(1, 1, "Responses", 7), (2, 1, "Responses", 7), (3, 2, "Responses", 9)]
    assert houses[0][5] == "one" and houses[1][5] is None   # the second house exists through its room
    assert [r[:4] + (r[5],) for r in rooms] == [(1, 1, "house", 7, 2), (2, 1, "house", 7, 3), (3, 2, "house", 7, 5),
                                               (4, 3, "house", 9, 1)]


def test_a_cycle_with_nothing_to_show_gives_an_empty_workbook_that_says_so(app, runner, tmp_path, make_response):
    from app.extensions import db
    from app.models import Response
    draft = make_response("types")   # nothing approved: an auditor sees no response
    with app.app_context():
        cycle = db.session.get(Response, draft).cycle_id
    target, output = _export(runner, tmp_path, cycle, "--as", "auditor@example.org")
    assert "0 rows" in output
    header, note = _rows(target, "Responses")
    assert header[:2] == ("_index", "_id") and "this workbook is empty" in note[0]
    country = tmp_path / "country.xlsx"
    result = runner.invoke(args=["export", "country", "--cycle", str(cycle), "--country", "RS", "--as",
                                 "auditor@example.org", "-o", str(country)])
    assert result.exit_code == 0, result.output
    cover = dict(row[:2] for row in load_workbook(country).worksheets[0].iter_rows(values_only=True) if row[0])
    assert "this workbook is empty" in cover["Note"]


@pytest.mark.parametrize("language,date_format", [
    ("en", r"m\/d\/yyyy"), ("sr_Cyrl", r"d\.\ m\.\ yyyy\."), ("hr", r"dd\.\ mm\.\ yyyy\."),
    ("mk", "d\\.m\\.yyyy\\\u202f\\г\\."), ("sq", r"d\.m\.yyyy"),   # CLDR's narrow no-break space
])
def test_dates_show_in_the_reader_order_and_stay_dates(app, runner, tmp_path, cycle_with_answers, language,
                                                         date_format):
    target, _output = _export(runner, tmp_path, cycle_with_answers, "--lang", language)
    sheet = load_workbook(target).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[2].value == RS_INSTITUTION)
    when = row[header.index("when")]
    assert when.is_date and when.value.date().isoformat() == "2026-02-01"   # a date Excel can sort and filter
    assert when.number_format == date_format
    changed = row[6]   # the last change: a moment
    assert changed.is_date and changed.number_format == date_format + " hh:mm"


@pytest.mark.parametrize("pattern,expected", [
    ("M/d/yy", r"m\/d\/yyyy"), ("d. M. y.", r"d\.\ m\.\ yyyy\."), ("dd. MM. y.", r"dd\.\ mm\.\ yyyy\."),
    ("d.M.y 'г'.", "d\\.m\\.yyyy\\ \\г\\."), ("y-MM-dd", r"yyyy\-mm\-dd"), ("d MMM y", r"d\ mm\ yyyy"),
    ("", "yyyy-mm-dd"),
])
def test_a_cldr_date_pattern_becomes_an_excel_format_with_literal_separators(pattern, expected):
    assert excel_date_format(pattern) == expected
