"""Scoring and indicator sheets: how long they take, against a baseline in the same process.

    .venv/bin/python bench/scoring.py [--institutions 50] [--rounds 7]

Prints:
* the median time to score one BAN response whole (its state evaluated, every indicator, the
  areas per section), over generated responses;
* for the region sheet of one cycle (6 countries × N institutions, 3 cycles of approved
  responses with kept snapshots, on a fresh SQLite database): the median time to build it
  (read, rebuild each response's results, aggregate each country, score its areas) beside
  the median time to merely load the same stored snapshots — the ratio is the figure (goal
  ≤ 3×) — and the number of SQL statements per sheet (constant, not one per institution).
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, insert, select  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import (Country, Cycle, CycleStatus, Institution, InstitutionKind, Response, ResponseStatus,  # noqa: E402
                        ReviewAction, ScoreSnapshot, User)
from app.services import questionnaires, reports, review, scores  # noqa: E402
from app.xlsform.state import FormState  # noqa: E402

COUNTRIES = ["AL", "BA", "ME", "MK", "RS", "XK"]


def generated_answers(form, chance: random.Random) -> dict[str, str]:
    answers = {}
    for node in form.nodes:
        if node.kind != "question" or not node.is_input or node.chain:
            continue
        if node.list_name:
            names = [c.name for c in form.choices[node.list_name]]
            answers[node.name] = chance.choice(names) if node.type == "select_one" else names[0]
        elif node.type == "integer":
            answers[node.name] = str(chance.randint(0, 40))
        elif node.type == "decimal":
            answers[node.name] = str(chance.randint(1, 500) * 100)
        elif node.type == "date":
            answers[node.name] = "2025-06-30"
        elif node.type == "text":
            answers[node.name] = "Evidence"
    return answers


def score_once(form, answers) -> dict:
    state = FormState(form, answers, whole=True)
    results = scores.indicators(form, state)
    areas = scores.areas(form, results)
    return {"indicators": {code: review._result_data(r) for code, r in results.items()},
            "reviewed": {}, "areas": {code: review._area_data(a) for code, a in areas.items()},
            "reviewed_areas": {code: review._area_data(a) for code, a in areas.items()}}


def median_ms(run, rounds: int) -> float:
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--institutions", type=int, default=50, help="per country (default 50)")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="matrica-bench-scoring-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'bench.sqlite'}", "SECRET_KEY": "bench",
                      "CHECK_DATABASE_ON_START": False, "TESTING": True})
    with app.app_context():
        from flask_migrate import upgrade
        upgrade()
        version = questionnaires.import_questionnaire(None, questionnaires.shipped_xlsx("ban_monitoring"), "ban.xlsx",
                                                      publish=True)
        form = questionnaires.compiled(version)
        chance = random.Random(7)
        samples = [generated_answers(form, chance) for _ in range(20)]
        ms = median_ms(lambda: score_once(form, samples[chance.randrange(len(samples))]), max(args.rounds * 5, 30))
        print(f"score one BAN response whole (state, {len(form.indicators)} indicators, areas): median {ms:.1f} ms")
        kept = [score_once(form, answers) for answers in samples]

        countries = {}
        for code in COUNTRIES:
            countries[code] = Country(code=code, active=True)
            db.session.add(countries[code])
        db.session.flush()
        db.session.execute(insert(Institution), [
            {"country_id": countries[code].id, "kind": InstitutionKind.OTHER.value, "name": f"{code} institution {i:03d}",
             "active": True} for code in COUNTRIES for i in range(args.institutions)])
        institution_ids = db.session.scalars(select(Institution.id)).all()
        cycle_ids = []
        for year in (2023, 2024, 2025):
            cycle = Cycle(name=f"{year} annual", period_start=date(year, 1, 1), period_end=date(year, 12, 31),
                          deadline=date(year + 1, 3, 31), status=CycleStatus.CLOSED, questionnaire_version_id=version.id)
            db.session.add(cycle)
            db.session.flush()
            cycle_ids.append(cycle.id)
            db.session.execute(insert(Response), [{"cycle_id": cycle.id, "institution_id": i, "row_version": 1,
                                                   "status": ResponseStatus.APPROVED.value} for i in institution_ids])
        response_ids = db.session.scalars(select(Response.id)).all()
        db.session.execute(insert(ScoreSnapshot), [
            {"response_id": rid, "action": ReviewAction.APPROVE.value, "questionnaire_version_id": version.id,
             "answers": {}, "scores": kept[rid % len(kept)]} for rid in response_ids])
        admin = User(email="bench@example.org", name="", active=True)
        db.session.add(admin)
        db.session.flush()
        from app.models import Role, RoleAssignment
        db.session.add(RoleAssignment(user_id=admin.id, role=Role.ADMIN))
        db.session.commit()
        print(f"stored: {len(COUNTRIES)} countries × {args.institutions} institutions × 3 cycles = "
              f"{len(response_ids)} approved responses with snapshots")

        cycle = db.session.get(Cycle, cycle_ids[-1])
        statements = []
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

        def build():
            db.session.expire_all()
            sheets = reports.region_sheet(admin, cycle)
            assert len(sheets) == len(COUNTRIES)

        def load_only():
            db.session.expire_all()
            found = reports._responses(admin, cycle.id)
            reports.latest_snapshots([r.id for r in found])

        build()
        statements.clear()
        build()
        per_sheet = len(statements)
        sheet_ms = median_ms(build, args.rounds)
        load_ms = median_ms(load_only, args.rounds)
        print(f"region sheet of one cycle ({len(COUNTRIES) * args.institutions} responses): median {sheet_ms:.1f} ms; "
              f"loading the same snapshots: {load_ms:.1f} ms; ratio {sheet_ms / load_ms:.2f} (goal <= 3)")
        print(f"SQL statements per region sheet: {per_sheet}")
        statements.clear()
        db.session.expire_all()
        reports.country_sheet(admin, cycle, countries["RS"])
        print(f"SQL statements per country sheet: {len(statements)}")


if __name__ == "__main__":
    main()
