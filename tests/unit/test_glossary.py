"""The glossary (docs/glossary.md) that translators use: every term in every language, and no
catalogue or questionnaire column of a language writes a form the glossary says not to write."""
import csv
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
GLOSSARY = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
CATALOGUE = {"sq": "sq", "sr_Latn": "sr_Latn", "sr_Cyrl": "sr_Cyrl", "mk": "mk", "bs": "bs", "hr": "hr",
             "cnr": "sr_Latn_ME"}
COLUMN = {"sq": "(sq)", "sr_Latn": "(sr-Latn)", "sr_Cyrl": "(sr-Cyrl)", "mk": "(mk)", "bs": "(bs)", "hr": "(hr)",
          "cnr": "(cnr)"}


def _table(heading: str) -> list[list[str]]:
    section = GLOSSARY.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip().strip("|").split("|") for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row] for row in rows[2:]]   # without the header and its rule


def _texts(language: str) -> list[str]:
    with open(ROOT / "translations" / CATALOGUE[language] / "LC_MESSAGES" / "messages.po", "rb") as fh:
        texts = [text for message in read_po(fh) if message.id
                 for text in (message.string if isinstance(message.string, tuple) else (message.string,))]
    for path in (ROOT / "app" / "questionnaires").glob("*/*.csv"):
        with open(path, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                texts += [text for column, text in row.items() if column and column.endswith(COLUMN[language]) and text]
    return texts


def test_every_term_is_given_in_every_language():
    terms = _table("Terms")
    assert len(terms) >= 15
    assert all(len(row) == 8 and all(row) for row in terms), [row[0] for row in terms if len(row) != 8 or not all(row)]


@pytest.mark.parametrize("language,wrong,right", [(row[0], row[1], row[2]) for row in _table("Not to be written")])
def test_no_text_writes_what_the_glossary_rules_out(language, wrong, right):
    pattern = re.compile(rf"(?<!\w){re.escape(wrong)}(?!\w)", re.IGNORECASE)
    found = [text for text in _texts(language) if pattern.search(text)]
    assert not found, f"{language}: write “{right}”, not “{wrong}”: {found[:3]}"
