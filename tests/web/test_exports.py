"""Workbooks open in two independent readers, hold the stored figures, and never turn text a
user typed into a formula."""
import io
import shutil
import subprocess

import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook
from sqlalchemy import select

from app.exports.writer import MAX_CELL, CUT, csv_text, sheet_name
from app.extensions import db
from app.models import AuditEvent, Response, ThreadKind, User
from app.services import responses, review
from app.services.responses import Submitted
from tests.conftest import FORMS

HOSTILE = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture
def approved(app, make_response):
    response_id = make_response("scoring")
    with app.app_context():
        official = db.session.scalars(select(User).where(User.email == "official.rs@example.org")).one()
        reviewer = db.session.scalars(select(User).where(User.email == "reviewer.rs@example.org")).one()
        loaded = responses.load(db.session.get(Response, response_id))
        answers = {"q1": "yes", "q2": "partially", "num": "3", "den": "4", "band": "80"}
        assert not responses.save_answers(official, loaded, {p: Submitted(v, None, 0) for p, v in answers.items()}).rejected
        assert review.submit(official, responses.load(db.session.get(Response, response_id))) == []
        review.comment(reviewer, response_id, ThreadKind.INDICATOR, "P1", HOSTILE)
        review.comment(official, response_id, ThreadKind.QUESTION, "q1", "+1 that is right; @everyone -x")
        review.set_reviewed_score(reviewer, response_id, "P1", 50.0, "=1+1 not applied everywhere")
        review.approve(reviewer, response_id, None)
        db.session.commit()
    return response_id


def test_the_institution_workbook_holds_the_stored_figures_in_two_readers(app, client, auth, approved):
    auth.login("auditor@example.org")
    client.post("/language", data={"language": "en", "csrf_token": auth.token()})
    download = client.get(f"/reports/responses/{approved}.xlsx")
    assert download.status_code == 200 and download.data[:2] == b"PK"
    book = load_workbook(io.BytesIO(download.data))
    assert book.sheetnames == ["Indicator sheet", "Indicators", "Answers", "Areas"]
    rows = list(book["Indicators"].iter_rows(values_only=True))
    header, by_code = rows[0], {row[2]: row for row in rows[1:]}
    assert header[:4] == ("Area", "Section", "Code", "Indicator")
    assert by_code["P1"][6] == 0.75 and by_code["P1"][8] == "Green"            # 3 of 4, stored as a fraction
    assert by_code["P1"][10] == 0.5 and by_code["P1"][11] == "Amber"           # the reviewer's 50 %
    assert by_code["R1"][6] == 0.75 and by_code["B1"][7] == 80
    assert book["Indicators"].freeze_panes == "A2" and book["Indicators"].auto_filter.ref
    calamine = CalamineWorkbook.from_filelike(io.BytesIO(download.data))
    assert calamine.sheet_names == book.sheetnames
    data = calamine.get_sheet_by_name("Indicators").to_python()
    assert [row[2] for row in data[1:]] == [row[2] for row in rows[1:]]
    assert data[1 + [row[2] for row in rows[1:]].index("P1")][6] == pytest.approx(0.75)
    with app.app_context():
        assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.action == "export.download")).all() \
            == ["export.download"]


def test_no_text_anyone_typed_becomes_a_formula(app, client, auth, approved):
    auth.login("reviewer.rs@example.org")
    download = client.get(f"/reports/responses/{approved}.xlsx")
    book = load_workbook(io.BytesIO(download.data))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    texts = [cell.value for cell in cells if isinstance(cell.value, str)]
    assert any(HOSTILE in text for text in texts) and any("=1+1 not applied everywhere" in t for t in texts)


def test_text_is_cut_with_a_marker_and_csv_cells_are_not_evaluated():
    from app.exports.writer import cell_text
    assert cell_text("x" * (MAX_CELL + 10)).endswith(CUT) and len(cell_text("x" * (MAX_CELL + 10))) == MAX_CELL
    for dangerous in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert csv_text(dangerous) == "'" + dangerous
    assert csv_text("plain") == "plain" and csv_text("1-2") == "1-2"


def test_sheet_names_are_valid_and_unique():
    taken = set()
    assert sheet_name("Indicators", taken) == "Indicators"
    assert sheet_name("indicators", taken) == "indicators (2)"
    assert sheet_name("a/b:c*d?e[f]g\\h", taken) == "a_b_c_d_e_f_g_h"
    long = sheet_name("x" * 40, taken)
    assert len(long) == 31 and len(sheet_name("x" * 40, taken)) == 31 and sheet_name("", taken) == "Sheet"
    assert sheet_name("'quoted'", taken) == "quoted"


def test_a_reader_outside_the_scope_gets_no_workbook(app, client, auth, approved, make_user):
    from app.models import Role
    make_user("reviewer.al@example.org", Role.REVIEWER, country="AL")
    auth.login("reviewer.al@example.org")
    assert client.get(f"/reports/responses/{approved}.xlsx").status_code == 404


def test_country_and_region_workbooks(app, client, auth, approved):
    with app.app_context():
        from app.models import Country
        cycle = db.session.get(Response, approved).cycle_id
        serbia = db.session.scalars(select(Country.id).where(Country.code == "RS")).one()
    auth.login("auditor@example.org")
    client.post("/language", data={"language": "sr_Cyrl", "csrf_token": auth.token()})
    country = client.get(f"/reports/cycles/{cycle}/countries/{serbia}.xlsx")
    book = load_workbook(io.BytesIO(country.data))
    assert len(book.sheetnames) == 4
    rows = {row[0]: row for row in book.worksheets[1].iter_rows(values_only=True)}
    assert rows["P1"][3] == 0.75 and rows["P1"][6] == 0.5 and rows["P1"][8] == "Жуто"   # in Serbian Cyrillic
    assert "бројилаца" in rows["R1"][10]
    region = client.get(f"/reports/cycles/{cycle}.xlsx")
    book = load_workbook(io.BytesIO(region.data))
    assert len(book.sheetnames) == 4
    assert [c.value for c in book.worksheets[1][1]][1] == "Србија"
    CalamineWorkbook.from_filelike(io.BytesIO(region.data)).get_sheet_by_name(book.sheetnames[3]).to_python()
    with app.app_context():
        assert len(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export.download")).all()) == 2


def test_the_command_writes_the_same_workbooks(app, runner, approved, tmp_path):
    with app.app_context():
        cycle = db.session.get(Response, approved).cycle_id
        institution = db.session.get(Response, approved).institution_id
    for args in (["institution", "--institution", str(institution)], ["country", "--country", "rs"], ["region"]):
        target = tmp_path / f"{args[0]}.xlsx"
        result = runner.invoke(args=["export", *args, "--cycle", str(cycle), "--lang", "sq", "-o", str(target)])
        assert result.exit_code == 0, result.output
        book = load_workbook(target)
        assert len(book.sheetnames) >= 4
    assert "E gjelbër" in [c.value for row in load_workbook(tmp_path / "institution.xlsx").worksheets[1].iter_rows()
                            for c in row]
    bad = runner.invoke(args=["export", "country", "--cycle", str(cycle), "-o", str(tmp_path / "x.xlsx")])
    assert bad.exit_code != 0 and "--country" in bad.output
    missing = runner.invoke(args=["export", "region", "--cycle", "99999", "-o", str(tmp_path / "y.xlsx")])
    assert missing.exit_code != 0 and "not found" in missing.output


def _approve(app, response_id, official_email, before_approval=None):
    with app.app_context():
        official = db.session.scalars(select(User).where(User.email == official_email)).one()
        admin = db.session.scalars(select(User).where(User.email == "admin@example.org")).one()
        loaded = responses.load(db.session.get(Response, response_id))
        answers = {"q1": "no", "q2": "yes", "num": "1", "den": "4", "band": "20"}
        assert not responses.save_answers(official, loaded, {p: Submitted(v, None, 0) for p, v in answers.items()}).rejected
        assert review.submit(official, responses.load(db.session.get(Response, response_id))) == []
        if before_approval is not None:
            before_approval()
        review.approve(admin, response_id, None)
        db.session.commit()


def test_across_cycles_each_country_figure_stands_under_its_own_cycle(app, client, auth, approved, make_response):
    """Serbia has figures for an earlier cycle and this one, Albania for this one only: Albania's
    figure stands under this cycle, its earlier column is empty."""
    from datetime import date

    from app.models import Cycle
    earlier = make_response("scoring", cycle="Earlier cycle")
    albania = make_response("scoring", institution="Zyra e Koordinatorit Kombëtar kundër Trafikimit")
    _approve(app, earlier, "official.rs@example.org")
    _approve(app, albania, "official.al@example.org")
    with app.app_context():
        db.session.get(Cycle, db.session.get(Response, earlier).cycle_id).period_start = date(2025, 1, 1)
        db.session.commit()
        cycle = db.session.get(Response, approved).cycle_id
    auth.login("auditor@example.org")
    client.post("/language", data={"language": "en", "csrf_token": auth.token()})
    book = load_workbook(io.BytesIO(client.get(f"/reports/cycles/{cycle}.xlsx").data))
    header, *rows = list(book["Across cycles"].iter_rows(values_only=True))
    assert header[:4] == ("Country", "Area", "Earlier cycle", "Test cycle")
    albanian = [row for row in rows if row[0] == "Albania"]
    serbian = [row for row in rows if row[0] == "Serbia"]
    assert albanian and all(row[2] is None for row in albanian) and any(row[3] is not None for row in albanian)
    assert any(row[2] is not None for row in serbian) and any(row[3] is not None for row in serbian)


FORMULA = "=1+2"


def _formula_labelled_form(folder) -> str:
    """The scoring questionnaire, uploaded with every label beginning like a formula."""
    import csv
    folder.mkdir()
    for source in FORMS.joinpath("scoring").iterdir():
        rows = list(csv.reader(source.read_text(encoding="utf-8").splitlines()))
        header = rows[0]
        for row in rows[1:]:
            for i, column in enumerate(header):
                if column.startswith("label") or column == "form_title":
                    row[i] = FORMULA + " " + row[i]
                if column == "form_id":
                    row[i] = "formula_labels"
        with open(folder / source.name, "w", encoding="utf-8", newline="") as target:
            csv.writer(target).writerows(rows)
    return str(folder)


def test_formula_like_text_in_every_field_stays_text_in_every_workbook(app, runner, make_response, tmp_path):
    """Answers, evidence, comments, reasons, institution names and questionnaire labels that begin
    like a formula: no workbook holds a formula cell, no CSV cell begins unescaped."""
    import csv
    import zipfile

    from app.models import Answer
    response_id = make_response(_formula_labelled_form(tmp_path / "form"))
    with app.app_context():
        response = db.session.get(Response, response_id)
        response.institution.name = FORMULA + " Institution"
        db.session.commit()
    def typed_by_reviewer_and_official():
        reviewer = db.session.scalars(select(User).where(User.email == "reviewer.rs@example.org")).one()
        review.comment(reviewer, response_id, ThreadKind.INDICATOR, "P1", HOSTILE)
        review.set_reviewed_score(reviewer, response_id, "P1", 50.0, "=1+1 not applied everywhere")
        for path, evidence in (("q1", "+cmd|' /C calc'!A0"), ("q2", "@SUM(A1)")):
            db.session.scalars(select(Answer).where(Answer.response_id == response_id, Answer.path == path)).one() \
                .evidence = evidence

    _approve(app, response_id, "official.rs@example.org", before_approval=typed_by_reviewer_and_official)
    with app.app_context():
        response = db.session.get(Response, response_id)
        cycle, institution = response.cycle_id, response.institution_id
    books = {}
    for kind, args in (("institution", ["--institution", str(institution)]), ("country", ["--country", "RS"]),
                       ("region", []), ("raw", ["--labels", "en"])):
        target = tmp_path / f"{kind}.xlsx"
        result = runner.invoke(args=["export", kind, "--cycle", str(cycle), *args, "-o", str(target)])
        assert result.exit_code == 0, result.output
        books[kind] = load_workbook(target)
    texts = []
    for kind, book in books.items():
        cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
        assert not [cell.coordinate for cell in cells if cell.data_type == "f"], kind
        texts += [cell.value for cell in cells if isinstance(cell.value, str)]
    for typed in (FORMULA + " Institution", "+cmd|' /C calc'!A0", "@SUM(A1)", HOSTILE, "=1+1 not applied everywhere",
                  FORMULA + " Is there a law?", FORMULA + " Law in force", FORMULA + " Assistance", FORMULA + " Yes"):
        assert any(typed in text for text in texts), typed
    target = tmp_path / "raw.csv"
    assert runner.invoke(args=["export", "raw", "--cycle", str(cycle), "--labels", "en", "--format", "csv",
                               "-o", str(target)]).exit_code == 0
    data = target.read_bytes()
    members = [data] if not data.startswith(b"PK") else [
        zipfile.ZipFile(io.BytesIO(data)).read(name) for name in zipfile.ZipFile(io.BytesIO(data)).namelist()]
    cells = [cell for member in members for row in csv.reader(io.StringIO(member.decode("utf-8-sig"))) for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "'" + FORMULA + " Institution" in cells and "'" + FORMULA + " Yes" in cells


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice is not installed (make test installs it)")
def test_libreoffice_opens_every_workbook(app, runner, approved, tmp_path):
    """soffice --headless --convert-to csv succeeds on the institution, country, region and raw workbooks."""
    with app.app_context():
        response = db.session.get(Response, approved)
        cycle, institution = response.cycle_id, response.institution_id
    for kind, args in (("institution", ["--institution", str(institution)]), ("country", ["--country", "RS"]),
                       ("region", []), ("raw", ["--labels", "en"])):
        target = tmp_path / f"{kind}.xlsx"
        assert runner.invoke(args=["export", kind, "--cycle", str(cycle), "--lang", "sr_Cyrl", *args,
                                   "-o", str(target)]).exit_code == 0
    converted = subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
                                "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(tmp_path / "csv"),
                                *[str(tmp_path / f"{kind}.xlsx") for kind in ("institution", "country", "region", "raw")]],
                               capture_output=True, text=True, timeout=180)
    assert converted.returncode == 0, converted.stderr
    texts = {kind: (tmp_path / "csv" / f"{kind}.csv").read_text(encoding="utf-8")   # the first sheet, as UTF-8
             for kind in ("institution", "country", "region", "raw")}
    assert "Институција" in texts["institution"] and "Србија" in texts["country"]
    assert "Циклус" in texts["region"] and texts["raw"].startswith("_index,_id,Институција")
