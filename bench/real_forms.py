"""How many XLSForms written elsewhere Matrica reads: of the forms pyxform (the reference
converter) accepts, the share ``questionnaire check`` accepts too.

    .venv/bin/python bench/real_forms.py [FOLDER]

FOLDER holds .xlsx, .xls and .ods forms (default ``instance/real-forms``); when it is empty,
``bench/fetch_real_forms.py`` fills it from the package registries. Prints, per form, what
pyxform says and what Matrica says (the first error, located), then the share, which the
goal puts at 80 % or more. A form neither accepts is counted apart: it is not XLSForm.
"""
from __future__ import annotations

import collections
import contextlib
import io
import logging
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.services.questionnaires import check  # noqa: E402
from app.views._definition_messages import located  # noqa: E402

FORMS = (".xlsx", ".xls", ".ods")


def original_name(path: Path) -> str:
    """The form's file name without the digest the fetch put before it (pyxform and Matrica
    both take a missing form_id from it)."""
    return path.name.split("_", 1)[-1]


def pyxform_accepts(path: Path) -> tuple[bool, str]:
    """Whether pyxform converts the form (no ODK Validate: it needs Java), and its first words."""
    from pyxform.xls2xform import convert
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings(), \
            contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        try:
            copy = Path(folder) / original_name(path)
            copy.write_bytes(path.read_bytes())
            convert(xlsform=str(copy), warnings=[], validate=False)
        except Exception as exc:  # pyxform raises many kinds; each is its refusal
            return False, " ".join(str(exc).split())[:90]
    return True, ""


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "instance" / "real-forms"
    paths = sorted(p for p in folder.glob("*") if p.suffix.lower() in FORMS)
    if not paths:
        sys.exit(f"No forms in {folder}: run bench/fetch_real_forms.py {folder} first.")
    logging.disable(logging.WARNING)
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "bench", "CHECK_DATABASE_ON_START": False})
    with app.test_request_context():
        measure(paths)


def measure(paths: list[Path]) -> None:
    outcomes = collections.Counter()
    refusals = collections.Counter()
    started = time.perf_counter()
    for path in paths:
        reference, why = pyxform_accepts(path)
        _definition, issues = check(path.read_bytes(), original_name(path))
        errors = [i for i in issues if not i.warning]
        mine = not errors
        outcomes[(reference, mine)] += 1
        if reference and not mine:
            refusals[errors[0].code] += 1
        verdict = {(True, True): "both", (True, False): "pyxform only", (False, True): "Matrica only",
                   (False, False): "neither"}[(reference, mine)]
        detail = located(errors[0]) if errors else f"{len(issues)} warning(s)"
        print(f"{path.name[:48]:<48} {verdict:<13} {detail[:110]}" + (f"  [pyxform: {why}]" if why else ""))
    elapsed = time.perf_counter() - started
    accepted_by_pyxform = outcomes[(True, True)] + outcomes[(True, False)]
    print()
    print(f"{len(paths)} forms in {elapsed:.1f} s; pyxform accepts {accepted_by_pyxform}, "
          f"Matrica accepts {outcomes[(True, True)]} of them "
          f"({100 * outcomes[(True, True)] / max(accepted_by_pyxform, 1):.1f} %, goal 80 %); "
          f"neither accepts {outcomes[(False, False)]}; Matrica alone accepts {outcomes[(False, True)]}.")
    if refusals:
        print("Matrica's first error on the forms pyxform accepts:",
              ", ".join(f"{code} {count}" for code, count in refusals.most_common()))


if __name__ == "__main__":
    main()
