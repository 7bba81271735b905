"""Create or update the gettext catalogues from translations/messages.pot.

Catalogues are stored under the exact names the app selects (see app/i18n.py): Montenegrin
(cnr) under sr_Latn_ME, because Babel parses ``cnr`` as ``sr_Latn_ME`` and gettext would
otherwise fall back to ``sr`` (Cyrillic). Plural rules are set here, not taken from
``pybabel init`` (which writes a wrong rule for Macedonian).

    python tools/i18n.py update     # merge new msgids into every catalogue
    python tools/i18n.py check      # exit 1 if a catalogue lacks a translation
    python tools/i18n.py cyrillic   # Serbian Cyrillic from the reviewed Latin: the catalogue
                                    # and the shipped questionnaires' sr-Cyrl columns
    python tools/i18n.py draft-cnr  # fill what Montenegrin lacks with a draft from Serbian Latin
                                    # (ijekavian), for review; nothing translated is overwritten

Serbian Cyrillic is never edited by hand: fix the Latin text, then run ``cyrillic``.
"""
from __future__ import annotations

import sys
from pathlib import Path

import csv
import io

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from app.serbian import cyrillic_from_latin  # noqa: E402
from app.xlsform import definition  # noqa: E402
from tools.ijekavian import montenegrin_draft  # noqa: E402

TRANSLATIONS = ROOT / "translations"
SLAVIC = "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
CATALOGUES = {
    "sq": ("sq", "nplurals=2; plural=(n != 1);"),
    "sr_Latn": ("sr_Latn", SLAVIC),
    "sr_Cyrl": ("sr_Cyrl", SLAVIC),
    "mk": ("mk", "nplurals=2; plural=(n%10==1 && n%100!=11 ? 0 : 1);"),
    "bs": ("bs", SLAVIC),
    "hr": ("hr", SLAVIC),
    "sr_Latn_ME": ("sr_Latn_ME", SLAVIC),  # Montenegrin (cnr)
}


def _po_path(directory: str) -> Path:
    return TRANSLATIONS / directory / "LC_MESSAGES" / "messages.po"


def _force_plural(catalog: Catalog, rule: str) -> None:
    nplurals = int(rule.split(";")[0].split("=")[1])
    catalog._num_plurals = nplurals
    catalog._plural_expr = rule.split("plural=", 1)[1].rstrip(";")


def update() -> None:
    with open(TRANSLATIONS / "messages.pot", "rb") as fh:
        template = read_po(fh)
    for directory, (locale, rule) in CATALOGUES.items():
        path = _po_path(directory)
        if path.exists():
            with open(path, "rb") as fh:
                catalog = read_po(fh, locale=locale)
        else:
            catalog = Catalog(locale=locale, project="Matrica", fuzzy=False)
        catalog.update(template, no_fuzzy_matching=True)
        _force_plural(catalog, rule)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            write_po(fh, catalog, omit_header=False, sort_output=True, ignore_obsolete=True, width=100)
        print(f"{path.relative_to(ROOT)}: {len(catalog)} messages")


def check() -> int:
    missing = 0
    for directory in CATALOGUES:
        with open(_po_path(directory), "rb") as fh:
            catalog = read_po(fh)
        for message in catalog:
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if not all(strings) or message.fuzzy:
                missing += 1
                print(f"{directory}: untranslated {message.id!r}")
    return 1 if missing else 0


def code_words() -> set[str]:
    """XLSForm's own vocabulary, as messages quote it: sheet and column names, types, methods."""
    words = set().union(*definition.KNOWN.values(), definition.SHEET_NAMES, definition.QUESTION_TYPES,
                        definition.SELECT_TYPES, definition.STRUCTURE_TYPES, definition.METADATA_TYPES,
                        definition.METHODS, definition.AGGREGATES, definition.SECTIONS, definition.EVIDENCE_VALUES,
                        definition.INSTITUTION_KINDS, {"green", "amber", "or_other", "yes", "no"})
    return {word for word in words if word} - {"video", "audio"}   # Serbian words as well


def _from_serbian_latin(directory: str, make, only_missing: bool) -> int:
    """Fill the catalogue ``directory`` from Serbian Latin: ``make(text, english)`` for each
    message (only the untranslated ones with ``only_missing``); how many were made."""
    with open(_po_path("sr_Latn"), "rb") as fh:
        latin = {message.id: message.string for message in read_po(fh) if message.id}
    with open(_po_path(directory), "rb") as fh:
        catalog = read_po(fh, locale=CATALOGUES[directory][0])
    made = 0
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not message.id or message.id not in latin or (only_missing and all(strings)):
            continue
        english = " ".join(message.id if isinstance(message.id, tuple) else (message.id,))
        text = latin[message.id]
        message.string = tuple(make(part, english) for part in text) if isinstance(text, tuple) else make(text, english)
        made += 1
    _force_plural(catalog, CATALOGUES[directory][1])
    with open(_po_path(directory), "wb") as fh:
        write_po(fh, catalog, omit_header=False, sort_output=True, ignore_obsolete=True, width=100)
    return made


def _columns_from_serbian_latin(code: str, make, only_missing: bool) -> None:
    """Fill the shipped questionnaires' ``(code)`` columns from their ``(sr-Latn)`` ones:
    ``make(text, english)`` per cell (only the empty ones with ``only_missing``)."""
    for path in sorted((ROOT / "app" / "questionnaires").glob("*/*.csv")):
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        header, changed = rows[0], 0

        def at(base: str, suffix: str):
            return next((i for i, h in enumerate(header) if h.startswith(base + ":") and h.endswith(suffix)), None)

        for index, column in enumerate(header):
            base = column.split(":")[0]
            latin_at, english_at = at(base, "(sr-Latn)"), at(base, "(en)")
            if not column.endswith(f"({code})") or latin_at is None:
                continue
            for row in rows[1:]:
                if only_missing and (row[index] or not row[latin_at]):
                    continue
                made = make(row[latin_at], row[english_at] if english_at is not None else "")
                changed += row[index] != made
                row[index] = made
        if changed:
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows(rows)
            path.write_text(buffer.getvalue(), encoding="utf-8")
            print(f"{path.relative_to(ROOT)}: {changed} {code} cells made from sr-Latn")


def cyrillic() -> None:
    words = code_words()

    def make(text: str, english: str) -> str:
        return cyrillic_from_latin(text, english, words)

    _from_serbian_latin("sr_Cyrl", make, only_missing=False)
    _columns_from_serbian_latin("sr-Cyrl", make, only_missing=False)


def draft_montenegrin() -> None:
    def make(text: str, _english: str) -> str:
        return montenegrin_draft(text)

    drafted = _from_serbian_latin("sr_Latn_ME", make, only_missing=True)
    print(f"sr_Latn_ME: {drafted} messages drafted from sr_Latn; review them")
    _columns_from_serbian_latin("cnr", make, only_missing=True)


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "update"
    if command == "update":
        update()
    elif command == "check":
        sys.exit(check())
    elif command == "cyrillic":
        cyrillic()
    elif command == "draft-cnr":
        draft_montenegrin()
    else:
        sys.exit(f"unknown command {command}")
