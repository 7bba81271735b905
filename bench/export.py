"""Raw data export at scale: seconds and peak memory, against a bare loop in the same run.

    .venv/bin/python bench/export.py [--sizes 1000,5000,20000] [--skip-sqlite] [--skip-postgres]

For SQLite and PostgreSQL, generates approved BAN responses (every question outside repeats
answered: about 100 answers each) in one cycle per size, then for each size runs, each in a
fresh process:
* the raw export of the cycle (as an administrator, codes, select-multiple "both", .xlsx) —
  the answers read through a server-side cursor and written with XlsxWriter constant_memory;
* a bare loop that writes the same cells (same columns, same value types) with the same
  writer, with nothing read from the database.
Prints seconds and peak RSS of each process and the ratio. Goal: the export within 1.5× the
bare loop, and peak memory flat as responses grow.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH = "postgresql+psycopg://postgres@127.0.0.1:5432/matrica_bench_export"
BATCH = 20_000


def _app(url: str):
    from app import create_app
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "CHECK_DATABASE_ON_START": False,
                       "HUEY_IMMEDIATE": True})


def _form():
    from app.services import questionnaires
    from app.xlsform.compiled import CompiledForm
    from app.xlsform.source import to_xlsx
    definition, _issues = questionnaires.check(to_xlsx(questionnaires.SHIPPED / "ban_monitoring"))
    return CompiledForm(definition)


def _questions(form):
    return [node for node in form.nodes if node.kind == "question" and node.is_input and not node.chain]


def answer(node, form, i: int) -> str | None:
    """The generated answer of response ``i`` to ``node`` (the same in the database and the bare loop)."""
    if node.list_name:
        names = [choice.name for choice in form.choices.get(node.list_name, [])]
        if not names:
            return None
        if node.type == "select_multiple":
            return " ".join(sorted({names[i % len(names)], names[(i + 1) % len(names)]}))
        return names[i % len(names)]
    if node.type in ("integer", "decimal", "range"):
        return str(i % 97 + 1)
    if node.type == "date":
        return f"2025-{i % 12 + 1:02d}-{i % 28 + 1:02d}"
    if node.type == "text":
        return f"Answer {i} to {node.name}: procedures in force, reviewed each year."
    return None


# -- preparing ------------------------------------------------------------------------

def prepare(url: str, sizes: list[int]) -> dict[int, int]:
    """Migrate, load the demo, add one cycle of N approved responses per size; cycle ids."""
    env = {**os.environ, "DATABASE_URL": url, "MATRICA_SECRET_KEY": "bench"}
    for command in (["db", "upgrade"], ["demo"]):
        subprocess.run([PYTHON, "-m", "flask", "--app", "wsgi", *command], cwd=ROOT, env=env, check=True,
                       capture_output=True)
    out = subprocess.run([PYTHON, __file__, "--child-prepare", url, ",".join(map(str, sizes))], cwd=ROOT,
                         check=True, capture_output=True, text=True)
    return {int(k): v for k, v in json.loads(out.stdout.strip().splitlines()[-1]).items()}


def child_prepare(url: str, sizes: list[int]) -> None:
    from sqlalchemy import insert, select, text

    from app.extensions import db
    from app.models import (Answer, Country, Cycle, CycleStatus, Institution, InstitutionKind, QuestionnaireVersion,
                            Response, ResponseStatus, cycle_institution)

    app = _app(url)
    form = _form()
    questions = _questions(form)
    cycles = {}
    with app.app_context():
        country = db.session.scalars(select(Country).where(Country.code == "RS")).one()
        version = db.session.scalars(select(QuestionnaireVersion).order_by(QuestionnaireVersion.id)).first()
        assert version is not None and version.questionnaire.form_id == form.form_id, "the demo pins BAN first"
        for size in sizes:
            cycle = Cycle(name=f"Bench export {size}", period_start=date(2025, 1, 1), period_end=date(2025, 12, 31),
                          deadline=date(2026, 3, 31), questionnaire_version_id=version.id, status=CycleStatus.CLOSED)
            db.session.add(cycle)
            db.session.flush()
            cycles[size] = cycle.id
            for start in range(0, size, BATCH):
                count = min(BATCH, size - start)
                names = [f"Bench export {size}-{start + k}" for k in range(count)]
                db.session.execute(insert(Institution), [{"name": name, "country_id": country.id,
                                                          "kind": InstitutionKind.OTHER} for name in names])
                ids = list(db.session.scalars(select(Institution.id).where(Institution.name.in_(names))))
                db.session.execute(insert(cycle_institution), [{"cycle_id": cycle.id, "institution_id": i} for i in ids])
                now = datetime.now(timezone.utc)
                db.session.execute(insert(Response), [{"cycle_id": cycle.id, "institution_id": i,
                                                       "status": ResponseStatus.APPROVED, "submitted_at": now,
                                                       "approved_at": now} for i in ids])
                response_ids = sorted(db.session.scalars(select(Response.id).where(Response.cycle_id == cycle.id,
                                                                                   Response.institution_id.in_(ids))))
                rows = []
                for response_id in response_ids:
                    for node in questions:
                        value = answer(node, form, response_id)
                        if value is not None:
                            rows.append({"response_id": response_id, "path": node.name, "value": value})
                    if len(rows) >= BATCH * 10:
                        db.session.execute(insert(Answer), rows)
                        rows = []
                if rows:
                    db.session.execute(insert(Answer), rows)
                db.session.commit()
        db.session.execute(text("ANALYZE"))   # the statistics PostgreSQL's autovacuum would gather after a bulk load
        db.session.commit()
    print(json.dumps(cycles))


# -- measuring ------------------------------------------------------------------------

def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_export(url: str, cycle_id: int, target: str) -> None:
    from flask import g
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Cycle, User
    from app.services import reports
    from app.views import _workbooks as workbooks

    app = _app(url)
    _form()   # the same start as the bare loop: the app and the compiled questionnaire
    with app.test_request_context(), app.app_context():
        g.language = "en"
        admin = db.session.scalars(select(User).where(User.email == "admin@example.org")).one()
        cycle = db.session.get(Cycle, cycle_id)
        reports.form_of(cycle)   # compiled before the clock starts, as the bare loop's questionnaire is
        started = time.perf_counter()
        rows = workbooks.raw(admin, cycle, "en", target)
        seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "peak_mb": _peak_mb(), "rows": rows, "bytes": os.path.getsize(target)}))


def child_bare(url: str, size: int, target: str) -> None:
    from app.exports.writer import XlsxBook

    _app(url)
    form = _form()
    questions = _questions(form)
    started = time.perf_counter()
    book = XlsxBook(target, constant_memory=True)
    sheet = book.sheet("Responses")
    headers = ["_index", "_id", "Institution", "Country", "Status", "Submitted", "Last change"]
    for node in questions:
        headers.append(node.name)
        if node.type == "select_multiple":
            headers += [f"{node.name}/{choice.name}" for choice in form.choices.get(node.list_name, [])]
    sheet.header(headers)
    now = datetime.now()
    for i in range(1, size + 1):
        row = [i, i, f"Bench export {size}-{i}", "RS", "Approved", now, now]
        for node in questions:
            value = answer(node, form, i)
            if node.type in ("integer", "decimal", "range"):
                row.append(int(value))
            elif node.type == "date":
                row.append(date.fromisoformat(value))
            else:
                row.append(value)
            if node.type == "select_multiple":
                chosen = value.split() if value else []
                row += [int(choice.name in chosen) for choice in form.choices.get(node.list_name, [])]
        sheet.write(row)
    sheet.finish()
    book.close()
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "peak_mb": _peak_mb(), "rows": size, "bytes": os.path.getsize(target)}))


def _run(*args: str) -> dict:
    out = subprocess.run([PYTHON, __file__, *args], cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench(name: str, url: str, sizes: list[int], workdir: str) -> None:
    started = time.perf_counter()
    cycles = prepare(url, sizes)
    print(f"\n{name}: {sum(sizes):,} responses generated in {time.perf_counter() - started:.0f} s")
    print(f"{'responses':>10} {'export s':>9} {'bare s':>8} {'ratio':>6} {'export MB':>10} {'bare MB':>8} {'file MB':>8}")
    for size in sizes:
        export = _run("--child-export", url, str(cycles[size]), os.path.join(workdir, f"export-{size}.xlsx"))
        bare = _run("--child-bare", url, str(size), os.path.join(workdir, f"bare-{size}.xlsx"))
        assert export["rows"] == size, export
        print(f"{size:>10,} {export['seconds']:>9.1f} {bare['seconds']:>8.1f} {export['seconds'] / bare['seconds']:>6.2f} "
              f"{export['peak_mb']:>10.0f} {bare['peak_mb']:>8.0f} {export['bytes'] / 1e6:>8.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,5000,20000")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--child-prepare", nargs=2)
    parser.add_argument("--child-export", nargs=3)
    parser.add_argument("--child-bare", nargs=3)
    args = parser.parse_args()
    if args.child_prepare:
        return child_prepare(args.child_prepare[0], [int(s) for s in args.child_prepare[1].split(",")])
    if args.child_export:
        return child_export(args.child_export[0], int(args.child_export[1]), args.child_export[2])
    if args.child_bare:
        return child_bare(args.child_bare[0], int(args.child_bare[1]), args.child_bare[2])
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="matrica-bench-export-") as workdir:
        if not args.skip_sqlite:
            bench("SQLite", f"sqlite:///{workdir}/bench.sqlite", sizes, workdir)
        if not args.skip_postgres:
            import psycopg
            with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
                connection.execute("DROP DATABASE IF EXISTS matrica_bench_export")
                connection.execute("CREATE DATABASE matrica_bench_export")
            bench("PostgreSQL", PG_BENCH, sizes, workdir)


if __name__ == "__main__":
    main()
