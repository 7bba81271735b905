import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Country, Cycle, Institution, Response, User

ROOT = Path(__file__).resolve().parents[2]


def _counts(app):
    with app.app_context():
        return tuple(db.session.scalar(select(func.count(m.id))) for m in (Country, Institution, User, Cycle, Response))


def test_demo_is_idempotent_and_prints_logins(app, runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "official.rs@example.org" in first.output and "matrica-demo" in first.output
    counts = _counts(app)
    assert counts == (6, 19, 22, 2, 22)   # and the reviewed 2025 cycle, with an official per institution
    with app.app_context():
        events = db.session.scalar(select(func.count(AuditEvent.id)))
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0 and "nothing changed" in again.output
    assert _counts(app) == counts
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id))) == events


def test_users_create_invite_deactivate(app, runner, demo):
    created = runner.invoke(args=["users", "create", "ops@example.org", "--role", "admin"],
                            input="long-enough-pw\nlong-enough-pw\n")
    assert created.exit_code == 0, created.output
    invited = runner.invoke(args=["users", "invite", "rev.me@example.org", "--role", "reviewer", "--country", "ME"])
    assert invited.exit_code == 0, invited.output
    assert "/invitation/" in invited.output
    duplicate = runner.invoke(args=["users", "invite", "rev.me@example.org", "--role", "reviewer", "--country", "ME"])
    assert duplicate.exit_code != 0 and "email_taken" in duplicate.output
    off = runner.invoke(args=["users", "deactivate", "rev.me@example.org"])
    assert off.exit_code == 0
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == "rev.me@example.org")).one()
        assert user.active is False and user.password_hash is None
        assert db.session.scalars(select(User).where(User.email == "ops@example.org")).one().is_admin


def test_unreachable_database_is_one_line_and_exit_1(tmp_path):
    env = {**os.environ, "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
           "MATRICA_SECRET_KEY": "x"}
    result = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Matrica cannot reach its database at postgresql+psycopg://nobody@127.0.0.1:1/none")
