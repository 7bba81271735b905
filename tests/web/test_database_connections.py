"""Pooled connections to a database server: one that sat idle is checked before use, and
replaced if the server closed it meanwhile; one given back a moment ago is used as it is."""
import time

import pytest
from sqlalchemy import create_engine, text

from app import create_app
from app.extensions import db
from tests.conftest import TEST_CONFIG

IDLE = 0.2


@pytest.fixture
def server_app(migrated):
    if migrated.startswith("sqlite"):
        pytest.skip("an embedded SQLite file has no connection to lose")
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": migrated, "DATABASE_PING_AFTER_IDLE": IDLE})
    yield app
    with app.app_context():
        db.engine.dispose()


def _backend(app) -> int:
    """The server process behind the pooled connection a request gets (given back after)."""
    with app.app_context():
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        db.session.remove()
    return pid


def _pings(app, monkeypatch) -> list:
    with app.app_context():
        dialect = db.engine.dialect
    calls = []
    original = dialect.do_ping
    monkeypatch.setattr(dialect, "do_ping", lambda connection: calls.append(1) or original(connection))
    return calls


def test_a_connection_closed_by_the_server_while_idle_is_replaced_unseen(server_app, migrated):
    first = _backend(server_app)
    other = create_engine(migrated)
    with other.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first}).scalar_one()
    other.dispose()
    time.sleep(IDLE * 2)
    assert _backend(server_app) != first  # and no error reached the request


def test_a_connection_given_back_a_moment_ago_is_not_checked_again(server_app, monkeypatch):
    pings = _pings(server_app, monkeypatch)
    first = _backend(server_app)
    assert _backend(server_app) == first and pings == []
    time.sleep(IDLE * 2)
    assert _backend(server_app) == first and pings == [1]
