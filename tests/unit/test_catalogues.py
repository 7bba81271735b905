"""The translation catalogues: current, complete, compiled, placeholders intact."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from app.i18n import LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
CATALOGUES = sorted({locale for code, (_name, locale) in LANGUAGES.items() if code != "en"})
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _read(path: Path):
    with open(path, "rb") as fh:
        return read_po(fh)


def test_babel_config_paths_exist():
    config = (ROOT / "babel.cfg").read_text()
    for pattern in re.findall(r"^\[\w+: ([^\]]+)\]", config, flags=re.M):
        root = pattern.split("*", 1)[0] or "."
        assert (ROOT / root).exists(), pattern


def test_messages_pot_is_current(tmp_path):
    fresh = tmp_path / "messages.pot"
    subprocess.run([str(Path(sys.executable).parent / "pybabel"), "-q", "extract", "-F", "babel.cfg",
                    "-k", "_l", "-k", "lazy_gettext", "-o", str(fresh), ".", "app/templates/_macros"],
                   cwd=ROOT, check=True, capture_output=True)
    extracted = {m.id for m in _read(fresh) if m.id}
    stored = {m.id for m in _read(TRANSLATIONS / "messages.pot") if m.id}
    assert extracted == stored, f"run `make i18n-update`: new {extracted - stored}, gone {stored - extracted}"


@pytest.mark.parametrize("locale", CATALOGUES)
def test_catalogue_complete_compiled_and_placeholders_kept(locale):
    po = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    catalog = _read(po)
    template = {m.id for m in _read(TRANSLATIONS / "messages.pot") if m.id}
    ids = {m.id for m in catalog if m.id}
    assert template <= ids, f"{locale} lacks {template - ids}"
    for message in catalog:
        if not message.id:
            continue
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings) and not message.fuzzy, f"{locale}: untranslated {message.id!r}"
        wanted = set(PLACEHOLDER.findall(sources[-1]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) <= wanted | set(PLACEHOLDER.findall(sources[0])), \
                f"{locale}: placeholders differ in {message.id!r}"
            if len(sources) == 1:
                assert set(PLACEHOLDER.findall(string)) == wanted, f"{locale}: placeholders differ in {message.id!r}"
    mo = po.with_suffix(".mo")
    assert mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime, f"{locale} not compiled (make i18n-compile)"


def test_plural_rules():
    expected = {"sq": 2, "mk": 2, "sr_Latn": 3, "sr_Cyrl": 3, "bs": 3, "hr": 3, "sr_Latn_ME": 3}
    for locale, count in expected.items():
        assert _read(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").num_plurals == count, locale
