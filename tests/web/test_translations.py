"""The translation workbook round trip: download a version's texts, fill them in, upload: a new
draft version with the translations merged, nothing dropped; and the workbook of that version
is what was uploaded. Bad workbooks change nothing and say where they are wrong."""
import io

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import QuestionnaireVersion
from tests.xlsform_builders import sample_xlsx


def _upload(client, url, token, data: bytes, name="sample.xlsx"):
    return client.post(url, data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _first_version(client, auth) -> int:
    response = _upload(client, "/questionnaires/", auth.token("/questionnaires/"), sample_xlsx())
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _rows(data: bytes, sheet="translations"):
    return [list(row) for row in load_workbook(io.BytesIO(data))[sheet].iter_rows(values_only=True)]


def _save(rows_by_sheet: dict[str, list[list]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, rows in rows_by_sheet.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(["" if v is None else v for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _blank_as_none(rows):
    return [[None if cell == "" else cell for cell in row] for row in rows]


def _versions(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(QuestionnaireVersion.id)))


def test_a_filled_workbook_becomes_a_new_version_and_round_trips(app, client, demo, auth):
    auth.login("admin@example.org")
    version_id = _first_version(client, auth)
    page = client.get(f"/questionnaires/versions/{version_id}").get_data(as_text=True)
    assert f"/questionnaires/versions/{version_id}/translations.xlsx" in page
    download = client.get(f"/questionnaires/versions/{version_id}/translations.xlsx?add=sr_Cyrl")
    assert download.status_code == 200
    about = _rows(download.data, "about")
    assert ["form_id", "sample_monitoring"] in about and ["version", "1"] in about
    rows = _rows(download.data)
    header = rows[0]
    assert header[:4] == ["sheet", "name", "column", "English (en)"] and header[4:] == ["Shqip (sq)",
                                                                                      "Српски (ћирилица)", "machine-made"]
    first_label = next(i for i, row in enumerate(rows) if row[:3] == ["survey", "sop_exists", "label"])
    kept_sq = rows[first_label][4]
    assert kept_sq   # the sample has Albanian already
    rows[first_label][5] = "Да ли су на снази стандардне оперативне процедуре за идентификацију?"
    rows[first_label][4] = None   # an emptied cell drops nothing
    texts = len(rows) - 1
    uploaded = _save({"about": about, "translations": rows})
    result = _upload(client, f"/questionnaires/versions/{version_id}/translations", auth.token(
        f"/questionnaires/versions/{version_id}"), uploaded, "filled.xlsx")
    text = result.get_data(as_text=True)
    assert result.status_code == 200, text[:2000]
    assert "Version 2 is a new draft with 1 translation merged." in text
    assert "Српски (ћирилица)" in text and f"{texts - 1}" in text   # all but one Cyrillic text still to do
    with app.app_context():
        created = db.session.scalars(select(QuestionnaireVersion).where(QuestionnaireVersion.number == 2)).one()
        label = next(r for r in created.definition["survey"] if r.get("name") == "sop_exists")["label"]
        assert label["sq"] == kept_sq and label["sr_Cyrl"].startswith("Да ли")
        assert "sr_Cyrl" in [language["code"] for language in created.definition["languages"]]
        created_id = created.id
    again = client.get(f"/questionnaires/versions/{created_id}/translations.xlsx").data
    rows[first_label][4] = kept_sq   # what the new version holds is what was uploaded, and what was kept
    assert _blank_as_none(_rows(again)) == _blank_as_none(rows)
    assert ["version", "2"] in _rows(again, "about")


def test_a_workbook_that_adds_nothing_stores_nothing(app, client, demo, auth):
    auth.login("admin@example.org")
    version_id = _first_version(client, auth)
    download = client.get(f"/questionnaires/versions/{version_id}/translations.xlsx").data
    before = _versions(app)
    result = _upload(client, f"/questionnaires/versions/{version_id}/translations",
                     auth.token(f"/questionnaires/versions/{version_id}"), download, "same.xlsx")
    assert result.status_code == 302 and _versions(app) == before


def test_bad_workbooks_are_refused_where_they_are_wrong_and_store_nothing(app, client, demo, auth):
    auth.login("admin@example.org")
    version_id = _first_version(client, auth)
    good = client.get(f"/questionnaires/versions/{version_id}/translations.xlsx").data
    about, rows = _rows(good, "about"), _rows(good)
    url, token = f"/questionnaires/versions/{version_id}/translations", auth.token(f"/questionnaires/versions/{version_id}")
    other = [["what", "value"], ["form_id", "sample_monitoring"], ["version", "7"], ["source_language", "en"]]
    cases = {
        "for another version": (_save({"about": other, "translations": rows}), "belongs to"),
        "without its columns": (_save({"about": about, "translations": [["where", "text"]] + rows[1:]}),
                                "The first columns must be"),
        "with an unknown language": (_save({"about": about, "translations": [rows[0] + ["Klingonish (xx-qq)"]]
                                            + [r + ["x"] for r in rows[1:]]}), "is not a language code"),
        "not a workbook": (b"plain text", "not an Excel workbook"),
    }
    before = _versions(app)
    for name, (data, message) in cases.items():
        refused = _upload(client, url, token, data, "bad.xlsx")
        text = refused.get_data(as_text=True)
        assert refused.status_code == 400 and message in text and "nothing was stored" in text, name
    assert _versions(app) == before


def test_a_changed_source_text_is_flagged_and_its_translation_not_used(app, client, demo, auth):
    auth.login("admin@example.org")
    version_id = _first_version(client, auth)
    good = client.get(f"/questionnaires/versions/{version_id}/translations.xlsx").data
    about, rows = _rows(good, "about"), _rows(good)
    target = next(i for i, row in enumerate(rows) if row[:3] == ["survey", "sop_exists", "label"])
    rows[target][3] = "Some older wording?"
    rows[target][4] = "Formulim i vjetër?"
    other = next(i for i, row in enumerate(rows) if row[2] == "hint" and i != target)
    rows[other][4] = (rows[other][4] or "") + " (rishikuar)"
    result = _upload(client, f"/questionnaires/versions/{version_id}/translations",
                     auth.token(f"/questionnaires/versions/{version_id}"), _save({"about": about, "translations": rows}))
    text = result.get_data(as_text=True)
    assert result.status_code == 200 and "differs from this version" in text and "1 translation merged" in text
    with app.app_context():
        created = db.session.scalars(select(QuestionnaireVersion).where(QuestionnaireVersion.number == 2)).one()
        label = next(r for r in created.definition["survey"] if r.get("name") == "sop_exists")["label"]
        assert label["sq"] != "Formulim i vjetër?"


def test_serbian_latin_from_cyrillic_is_machine_made_until_a_person_confirms_it(app, client, demo, auth):
    auth.login("admin@example.org")
    version_id = _first_version(client, auth)
    token = auth.token(f"/questionnaires/versions/{version_id}")
    rows = _rows(client.get(f"/questionnaires/versions/{version_id}/translations.xlsx?add=sr_Cyrl").data)
    about = [["what", "value"], ["form_id", "sample_monitoring"], ["version", "1"], ["source_language", "en"]]
    target = next(i for i, row in enumerate(rows) if row[:3] == ["survey", "sop_exists", "label"])
    rows[target][5] = "Да ли су на снази процедуре за ${presumed} жртве? Види http://пример.срб/ПОС"
    _upload(client, f"/questionnaires/versions/{version_id}/translations", token, _save({"about": about,
                                                                                      "translations": rows}))
    second = _version_id(app, 2)
    assert "Serbian Latin from Serbian Cyrillic" in client.get(f"/questionnaires/versions/{second}").get_data(as_text=True)
    filled = _rows(client.get(f"/questionnaires/versions/{second}/translations.xlsx?latin=1").data)
    header = filled[0]
    latin, machine = header.index("Srpski (latinica)"), header.index("machine-made")
    row = next(r for r in filled if r[:3] == ["survey", "sop_exists", "label"])
    assert row[latin] == "Da li su na snazi procedure za ${presumed} žrtve? Vidi http://пример.срб/ПОС"
    assert row[machine] == "sr_Latn"
    about2 = [["what", "value"], ["form_id", "sample_monitoring"], ["version", "2"], ["source_language", "en"]]
    _upload(client, f"/questionnaires/versions/{second}/translations", token, _save({"about": about2,
                                                                                  "translations": filled}))
    third = _version_id(app, 3)
    assert "1 made by a machine, not yet confirmed by a person" in client.get(
        f"/questionnaires/versions/{third}").get_data(as_text=True)
    confirmed = _rows(client.get(f"/questionnaires/versions/{third}/translations.xlsx").data)
    mark = next(i for i, r in enumerate(confirmed) if r[:3] == ["survey", "sop_exists", "label"])
    assert confirmed[mark][machine] == "sr_Latn"
    confirmed[mark][machine] = None   # a person read it and cleared the mark
    about3 = [["what", "value"], ["form_id", "sample_monitoring"], ["version", "3"], ["source_language", "en"]]
    result = _upload(client, f"/questionnaires/versions/{third}/translations", token, _save({"about": about3,
                                                                                         "translations": confirmed}))
    assert "1 translation merged" in result.get_data(as_text=True)
    fourth = _version_id(app, 4)
    assert "made by a machine" not in client.get(f"/questionnaires/versions/{fourth}").get_data(as_text=True)


def _version_id(app, number: int) -> int:
    with app.app_context():
        return db.session.scalars(select(QuestionnaireVersion.id).where(QuestionnaireVersion.number == number)).one()


def test_the_title_is_translated_like_any_text(app, client, demo, auth):
    """The first row is the questionnaire's title (the settings' label::…): a translator fills it,
    the new version has it in that language, its XLSForm carries it, and Serbian Latin made
    from it is machine-made like any other text."""
    auth.login("admin@example.org")
    version_id = _first_version(client, auth)
    rows = _rows(client.get(f"/questionnaires/versions/{version_id}/translations.xlsx?add=sr_Cyrl").data)
    assert rows[1][:4] == ["settings", "title", "label", "Sample monitoring"]
    rows[1][5] = "Пробни мониторинг"
    about = _rows(client.get(f"/questionnaires/versions/{version_id}/translations.xlsx").data, "about")
    result = _upload(client, f"/questionnaires/versions/{version_id}/translations",
                     auth.token(f"/questionnaires/versions/{version_id}"), _save({"about": about, "translations": rows}))
    assert "1 translation merged" in result.get_data(as_text=True)
    second = _version_id(app, 2)
    with app.app_context():
        created = db.session.get(QuestionnaireVersion, second)
        assert created.definition["titles"]["sr_Cyrl"] == "Пробни мониторинг"
        assert created.definition["title"] == "Sample monitoring"
    settings = _rows(client.get(f"/questionnaires/versions/{second}/xlsform.xlsx").data, "settings")
    assert dict(zip(settings[0], settings[1]))["label::Српски (ћирилица)"] == "Пробни мониторинг"
    assert dict(zip(settings[0], settings[1]))["form_title"] == "Sample monitoring"
    again = _rows(client.get(f"/questionnaires/versions/{second}/translations.xlsx").data)
    assert _blank_as_none(again) == _blank_as_none(rows)
    latin = _rows(client.get(f"/questionnaires/versions/{second}/translations.xlsx?latin=1").data)
    header = latin[0]
    assert (latin[1][header.index("Srpski (latinica)")], latin[1][header.index("machine-made")]) == (
        "Probni monitoring", "sr_Latn")
