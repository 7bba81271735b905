"""Create or update the gettext catalogues from translations/messages.pot.

Catalogues are stored under the exact names the app selects (see app/i18n.py): Montenegrin
(cnr) under sr_Latn_ME, because Babel parses ``cnr`` as ``sr_Latn_ME`` and gettext would
otherwise fall back to ``sr`` (Cyrillic). Plural rules are set here, not taken from
``pybabel init`` (which writes a wrong rule for Macedonian).

    python tools/i18n.py update     # merge new msgids into every catalogue
    python tools/i18n.py check      # exit 1 if a catalogue lacks a translation
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
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


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "update"
    if command == "update":
        update()
    elif command == "check":
        sys.exit(check())
    else:
        sys.exit(f"unknown command {command}")
