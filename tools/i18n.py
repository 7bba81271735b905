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


def cyrillic() -> None:
    words = code_words()
    with open(_po_path("sr_Latn"), "rb") as fh:
        latin = {message.id: message.string for message in read_po(fh) if message.id}
    with open(_po_path("sr_Cyrl"), "rb") as fh:
        catalog = read_po(fh, locale="sr_Cyrl")
    for message in catalog:
        if not message.id or message.id not in latin:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        source = " ".join(ids)
        text = latin[message.id]
        message.string = tuple(cyrillic_from_latin(part, source, words) for part in text) \
            if isinstance(text, tuple) else cyrillic_from_latin(text, source, words)
    _force_plural(catalog, CATALOGUES["sr_Cyrl"][1])
    with open(_po_path("sr_Cyrl"), "wb") as fh:
        write_po(fh, catalog, omit_header=False, sort_output=True, ignore_obsolete=True, width=100)
    for path in sorted((ROOT / "app" / "questionnaires").glob("*/*.csv")):
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        header = rows[0]
        changed = False
        for index, column in enumerate(header):
            if "(sr-Cyrl)" not in column:
                continue
            base = column.split(":")[0]
            latin_at = next((i for i, h in enumerate(header) if h.startswith(base + ":") and "(sr-Latn)" in h), None)
            english_at = next((i for i, h in enumerate(header) if h.startswith(base + ":") and "(en)" in h), None)
            if latin_at is None:
                continue
            for row in rows[1:]:
                made = cyrillic_from_latin(row[latin_at], row[english_at] if english_at is not None else "", words)
                changed |= row[index] != made
                row[index] = made
        if changed:
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows(rows)
            path.write_text(buffer.getvalue(), encoding="utf-8")
            print(f"{path.relative_to(ROOT)}: sr-Cyrl made from sr-Latn")


def draft_montenegrin() -> None:
    with open(_po_path("sr_Latn"), "rb") as fh:
        latin = {message.id: message.string for message in read_po(fh) if message.id}
    with open(_po_path("sr_Latn_ME"), "rb") as fh:
        catalog = read_po(fh, locale="sr_Latn_ME")
    drafted = 0
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not message.id or all(strings) or message.id not in latin:
            continue
        text = latin[message.id]
        message.string = tuple(montenegrin_draft(part) for part in text) if isinstance(text, tuple) \
            else montenegrin_draft(text)
        drafted += 1
    _force_plural(catalog, CATALOGUES["sr_Latn_ME"][1])
    with open(_po_path("sr_Latn_ME"), "wb") as fh:
        write_po(fh, catalog, omit_header=False, sort_output=True, ignore_obsolete=True, width=100)
    print(f"sr_Latn_ME: {drafted} messages drafted from sr_Latn; review them")
    for path in sorted((ROOT / "app" / "questionnaires").glob("*/*.csv")):
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        header, drafted = rows[0], 0
        for index, column in enumerate(header):
            base = column.split(":")[0]
            latin_at = next((i for i, h in enumerate(header) if h.startswith(base + ":") and "(sr-Latn)" in h), None)
            if "(cnr)" not in column or latin_at is None:
                continue
            for row in rows[1:]:
                if not row[index] and row[latin_at]:
                    row[index] = montenegrin_draft(row[latin_at])
                    drafted += 1
        if drafted:
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows(rows)
            path.write_text(buffer.getvalue(), encoding="utf-8")
            print(f"{path.relative_to(ROOT)}: {drafted} Montenegrin cells drafted from sr-Latn; review them")


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
