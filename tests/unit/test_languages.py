"""Languages a native reader accepts: no word written in two alphabets (interface catalogues
and questionnaire columns alike), no catalogue a relabelled copy of another, Serbian Cyrillic
made from the reviewed Latin with code kept as written."""
import csv
import itertools
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from app.serbian import cyrillic_from_latin, mixed_words

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
CATALOGUES = ["sq", "sr_Latn", "sr_Cyrl", "mk", "bs", "hr", "sr_Latn_ME"]
QUESTIONNAIRES = sorted((ROOT / "app" / "questionnaires").glob("*/*.csv"))
sys.path.insert(0, str(ROOT / "tools"))
from i18n import code_words  # noqa: E402


def _strings(locale: str) -> dict:
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return {message.id: message.string for message in read_po(fh) if message.id}


def _texts(value) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else (value,)


@pytest.mark.parametrize("locale", CATALOGUES)
def test_no_word_of_a_catalogue_mixes_latin_and_cyrillic(locale):
    found = {text: mixed_words(text) for value in _strings(locale).values() for text in _texts(value)}
    assert not {text: words for text, words in found.items() if words}


@pytest.mark.parametrize("path", QUESTIONNAIRES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_word_of_a_shipped_questionnaire_mixes_latin_and_cyrillic(path):
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    found = [(number, column, mixed_words(text)) for number, row in enumerate(rows, start=2)
             for column, text in row.items() if text and mixed_words(text)]
    assert not found


def test_no_two_interface_catalogues_are_more_than_80_percent_identical():
    strings = {locale: _strings(locale) for locale in CATALOGUES}
    for first, second in itertools.combinations(CATALOGUES, 2):
        shared = set(strings[first]) & set(strings[second])
        same = sum(strings[first][key] == strings[second][key] for key in shared)
        assert same <= 0.8 * len(shared), f"{first} and {second}: {same} of {len(shared)} messages identical"


def test_serbian_cyrillic_is_made_from_the_reviewed_latin():
    """Serbian Cyrillic is never edited by hand: `python tools/i18n.py cyrillic` makes it."""
    latin, cyrillic, words = _strings("sr_Latn"), _strings("sr_Cyrl"), code_words()
    stale = [key for key, value in latin.items()
             if _texts(cyrillic[key]) != tuple(cyrillic_from_latin(text, " ".join(_texts(key)), words)
                                                for text in _texts(value))]
    assert not stale, f"run `python tools/i18n.py cyrillic`: {stale[:3]}"


@pytest.mark.parametrize("latin,english,expected", [
    ("Red tipa calculate mora imati izračunavanje.", "A calculate row needs a calculation.",
     "Ред типа calculate мора имати израчунавање."),
    ("Preuzmi kao Excel datoteku (.xlsx)", "Download as an Excel workbook (.xlsx)", "Преузми као Excel датотеку (.xlsx)"),
    ("na primer 2026-03-31T14:30, %(size)s MB, %(link)s", "for example 2026-03-31T14:30, %(size)s MB, %(link)s",
     "на пример 2026-03-31T14:30, %(size)s МБ, %(link)s"),
    ("NVO i EU, CSV i ISO", "NGOs and the EU, CSV and ISO", "НВО и ЕУ, CSV и ISO"),
    ("instance('list')/root/item[name = ${q}]/label i regex()", "instance('list')/root/item[name = ${q}]/label regex()",
     "instance('list')/root/item[name = ${q}]/label и regex()"),
    ("odobrio/la, Ljubljana, nadživeti, opisano u docs/xlsform.md", "described in docs/xlsform.md",
     "одобрио/ла, Љубљана, надживети, описано у docs/xlsform.md"),
    ("Lista (link) i „Français (fr)”", "List (with a link) and “Français (fr)”", "Листа (линк) и „Français (fr)”"),
])
def test_cyrillic_keeps_code_and_spells_serbian(latin, english, expected):
    made = cyrillic_from_latin(latin, english, code_words())
    assert made == expected
    assert not mixed_words(made)


def test_a_questionnaire_language_that_copies_another_is_a_located_warning():
    from app.services import questionnaires
    from tests.xlsform_builders import workbook
    rows = [["type", "name", "label::Bosanski (bs)", "label::Crnogorski (cnr)", "label::Hrvatski (hr)"]]
    rows += [["integer", f"q{n}", f"Broj žrtava {n}", f"Broj žrtava {n}", f"Broj žrtava, skupina {n}"] for n in range(25)]
    _definition, issues = questionnaires.check(workbook(rows, settings=[["form_id", "default_language"],
                                                                        ["copied", "Bosanski (bs)"]]))
    copies = [issue for issue in issues if issue.code == "language_copy"]
    assert [(i.params["language"], i.params["other"], i.params["share"], i.warning) for i in copies] == \
        [("cnr", "bs", 100, True)]
