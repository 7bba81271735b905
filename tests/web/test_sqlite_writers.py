"""The embedded database queues its writers on a lock file (app/extensions.py): a writer
waits for the one before it, is woken when it ends, and nothing is refused meanwhile."""
from __future__ import annotations

import fcntl
import os
import threading

import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import AuditEvent, Country
from app.services import audit


@pytest.fixture
def lock_path(app) -> str:
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("the writer lock serves the embedded SQLite database")
        return db.engine.url.database + "-writer.lock"


def _write(action: str) -> None:
    audit.record(None, action, db.session.scalars(select(Country)).first())


def _free(path: str) -> bool:
    """Whether another process (here: another open file) could take the lock now."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def test_a_write_holds_the_lock_until_its_transaction_ends(app, demo, lock_path):
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        assert _free(lock_path)  # reading takes nothing
        _write("test.write")
        assert not _free(lock_path)
        db.session.commit()
        assert _free(lock_path)
        _write("test.write")
        assert not _free(lock_path)
        db.session.rollback()
        assert _free(lock_path)
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "test.write")) == 1


def test_a_second_writer_waits_and_then_succeeds(app, demo, lock_path):
    first_wrote, second_done, errors = threading.Event(), threading.Event(), []

    def second() -> None:
        try:
            with app.app_context():
                first_wrote.wait(10)
                _write("test.second")
                db.session.commit()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            second_done.set()

    thread = threading.Thread(target=second)
    thread.start()
    with app.app_context():
        _write("test.first")
        first_wrote.set()
        assert not second_done.wait(0.3)  # queued behind the open transaction, not refused
        db.session.commit()
    thread.join(10)
    assert second_done.is_set() and errors == []
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("test.%"))
                                     .order_by(AuditEvent.id)).all()
    assert actions == ["test.first", "test.second"]
    assert _free(lock_path)
