"""The layers hold: pure packages load no web stack, services do not read the request, and the
import contracts (pyproject.toml, lint-imports) are kept — and would catch a break."""
import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).parent / "lint-imports"
HEAVY = ("flask", "flask_babel", "sqlalchemy", "werkzeug", "app.models", "app.views", "app.services", "app.extensions")


@pytest.mark.parametrize("module", ["app.scoring", "app.xlsform.definition", "app.xlsform.state",
                                    "app.xlsform.workbook", "app.xlsform.source", "app.languages"])
def test_a_pure_module_imports_no_web_stack(module):
    code = f"import sys, {module}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "", f"importing {module} loads {loaded.stdout.strip()}"


def test_the_import_contracts_are_kept():
    result = subprocess.run([str(LINT)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:]


def test_the_contracts_catch_scoring_importing_the_models(tmp_path):
    shutil.copytree(ROOT / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__", "static", "templates"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    scoring = tmp_path / "app" / "scoring" / "__init__.py"
    scoring.write_text(scoring.read_text() + "\nfrom app.models import User  # noqa\n")
    result = subprocess.run([str(LINT)], cwd=tmp_path, capture_output=True, text=True,
                            env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1
    assert "Scoring is pure: no Flask, SQLAlchemy, models, services or views BROKEN" in result.stdout
    assert "XLSForm is pure: no Flask, SQLAlchemy, models, services, views or scoring KEPT" in result.stdout


def _imported_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "flask":
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names if alias.name.startswith("flask.")}
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "flask":
            names.add(node.attr)
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "app" / "services").glob("*.py")), ids=lambda p: p.name)
def test_services_never_read_the_request_or_the_session(path):
    forbidden = {"request", "session", "g", "flask.request", "flask.session"}
    if path.name != "settings.py":   # the one helper that reads the running application's settings
        forbidden |= {"current_app"}
    assert not _imported_names(path) & forbidden, f"{path.name} reads {_imported_names(path) & forbidden}"
