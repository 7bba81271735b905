"""Fetch XLSForms written elsewhere, for ``bench/real_forms.py``, from the package registries.

    .venv/bin/python bench/fetch_real_forms.py [FOLDER]

The forms come from packages that ship them as test or example data: pyxform's own example
and bug-report forms (several releases, as they changed over the years), the Community Health
Toolkit's app, contact and collect forms (medic-conf, cht-conf-test-harness) and xls2xform's
test forms. Each package is pinned by its SHA-256; identical forms are kept once, named
``<first 12 digits of their SHA-256>_<file name>`` in FOLDER (default ``instance/real-forms``).
They are other projects' files, under their licences: fetched for measuring, never committed.
"""
from __future__ import annotations

import hashlib
import io
import re
import sys
import tarfile
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPI = "https://files.pythonhosted.org/packages"
NPM = "https://registry.npmjs.org"
PACKAGES = [
    (f"{PYPI}/a6/80/b0ee180ff82269744492f2e8fd42297951fdfcf88ae64ec9d23487b70b15/pyxform-0.9.23-py2-none-any.whl",
     "9fbfb83f81cde4940dbe5db4deca2d970523b0ef4de3afce2dc98960767db561"),
    (f"{PYPI}/a2/e0/80a95078e300e71926c49f3684e45f196727b7f1057c327f8c448d71a461/pyxform-0.12.0-py2.py3-none-any.whl",
     "012ea34cde3a2359ba2cd94030d6878a2e75388713b57b47a3abfd6067f0b85f"),
    (f"{PYPI}/3c/c6/74e1540a13b433035878887121ae0f3f87921d95a0798837ce92cba5cde2/pyxform-1.0.0-py2.py3-none-any.whl",
     "931ca438be42863ecb751ac5384a25be392880088ac897722dc79a8a2159bd0f"),
    (f"{PYPI}/62/97/c56603ac97d3cf0b7a4769042ec457e906d8fb6544ca2af9c8b880d31810/pyxform-1.2.1-py2.py3-none-any.whl",
     "3281fa6b81db4c2baeac8e4861bd1dff99deff47b34e6d9410eefdf34ee69328"),
    (f"{PYPI}/90/a0/96ad105e8d772815c051eda2803300ac1585e745dcd3298ac674b6cc9989/pyxform-1.6.0-py2.py3-none-any.whl",
     "38f1a59599262c868dabb8b06a2615dc3a462879350b148d89a909831aac3634"),
    (f"{PYPI}/32/54/e4c50eb63d5c1a6bfd6bd919369096b40a37bd7178e628465501d9c7f2e5/pyxform-2.0.3-py3-none-any.whl",
     "eee2b130cc3d5d3aad7a9220a9941147d58a1e26e35835c778c4058b1f93734c"),
    (f"{NPM}/medic-conf/-/medic-conf-1.17.2.tgz",
     "c4ae7fe1e3cdbfd11f1970ae915850bd3793883fc14299b6e0429c340c388038"),
    (f"{NPM}/cht-conf-test-harness/-/cht-conf-test-harness-5.0.4.tgz",
     "fb4c873c956cccf5feba768f199474580749ccfaa27292c214b8da46f7a874d3"),
    (f"{NPM}/xls2xform/-/xls2xform-1.1.0.tgz",
     "366f507eed0eb0245f336a3bc5f51df1aebff2b74c230e926164f45b55f2b84b"),
]
FORM = re.compile(r"\.(xlsx|xls|ods)$", re.I)


def forms_in(archive: bytes, url: str) -> list[tuple[str, bytes]]:
    if url.endswith(".whl"):
        with zipfile.ZipFile(io.BytesIO(archive)) as wheel:
            return [(name, wheel.read(name)) for name in wheel.namelist() if FORM.search(name)]
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return [(member.name, tar.extractfile(member).read()) for member in tar.getmembers()
                if member.isfile() and FORM.search(member.name)]


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "instance" / "real-forms"
    folder.mkdir(parents=True, exist_ok=True)
    kept = {path.name.split("_", 1)[0] for path in folder.iterdir()}
    for url, sha256 in PACKAGES:
        with urllib.request.urlopen(url, timeout=60) as response:
            archive = response.read()
        if hashlib.sha256(archive).hexdigest() != sha256:
            sys.exit(f"{url}: not the pinned file (SHA-256 differs); nothing more fetched.")
        added = 0
        for name, data in forms_in(archive, url):
            digest = hashlib.sha256(data).hexdigest()[:12]
            if digest not in kept:
                kept.add(digest)
                (folder / f"{digest}_{Path(name).name}").write_bytes(data)
                added += 1
        print(f"{url.rsplit('/', 1)[-1]}: {added} new form(s)")
    print(f"{len(kept)} forms in {folder}")


if __name__ == "__main__":
    main()
