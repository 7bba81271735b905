"""Extensions, created unbound and bound to the app in ``init_extensions``."""
from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

from flask import Flask
from flask_babel import Babel
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase

# Named constraints, so that Alembic can alter them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Objects stay loaded after the request's single commit: the view renders from them
# without reloading each row (the session ends with the request anyway).
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
htmx = HTMX()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def execute(statement, params=None):
    """Run a Core statement (on tables, not ORM entities) in the request's transaction, on
    the session's connection: without the ORM's per-execution work, which a Core statement
    does not need (the hottest paths run several per request)."""
    return db.session.connection().execute(statement, params)


def init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
            database = db.engine.url.database
            if database and database != ":memory:" and not database.startswith("file:"):
                _serialise_sqlite_writers(db.engine, database + "-writer.lock")
        else:
            _ping_idle_connections(db.engine, float(app.config["DATABASE_PING_AFTER_IDLE"]))


def _ping_idle_connections(engine, idle_seconds: float) -> None:
    """Check a pooled connection before it is used if it has been idle more than
    ``idle_seconds`` (the server may have closed it meanwhile: a restart, a failover, an idle
    timeout on the way); a dead one is replaced, and the request never sees it. A connection
    given back a moment ago is not checked: under load that saves a round trip per request."""

    @event.listens_for(engine, "connect")
    def _opened(_dbapi_connection, record) -> None:
        record.info["used_at"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record) -> None:
        record.info["used_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection, record, _proxy) -> None:
        if time.monotonic() - record.info.get("used_at", 0.0) <= idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool closes this connection and checks out another (SQLAlchemy's documented
            # pessimistic disconnect handling).
            raise DisconnectionError() from exc


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Embedded SQLite: write-ahead log for concurrent readers, foreign keys enforced."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _serialise_sqlite_writers(engine, lock_path: str) -> None:
    """Queue writers of the embedded database on an advisory file lock.

    SQLite lets one transaction write at a time and makes the others poll, sleeping 1, 2, 5,
    … 100 ms between tries: under load from several gunicorn processes and threads, a writer
    could sleep far longer than the lock is held (seconds at the 99th percentile, and
    "database is locked" after the busy timeout). Taking an exclusive ``flock`` just before a
    transaction's first write, and dropping it when the transaction ends, puts waiting writers in
    a kernel queue instead: each wakes the moment the previous one ends. Readers are never
    blocked (write-ahead log). Every process on the machine serves the same file, so a lock
    file beside it covers them all; the SQLite busy timeout still covers any other writer.
    """
    holders: set[int] = set()  # threads holding the lock: one writing on two connections must not wait for itself

    def _acquire(info) -> None:
        thread = threading.get_ident()
        if thread in holders:
            return  # left to SQLite's own lock and busy timeout
        fd = info.get("writer_lock_fd")
        if fd is None:
            fd = info["writer_lock_fd"] = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        info["writer_locked"] = thread
        holders.add(thread)

    @event.listens_for(engine, "before_cursor_execute")
    def _before(connection, _cursor, statement, _parameters, _context, _executemany) -> None:
        info = connection.connection.info
        if "writer_locked" not in info and statement.lstrip()[:7].upper().startswith(_WRITES):
            _acquire(info)

    def _release(info) -> None:
        thread = info.pop("writer_locked", None)
        if thread is not None:
            fcntl.flock(info["writer_lock_fd"], fcntl.LOCK_UN)
            holders.discard(thread)

    # Released when the connection goes back to the pool: the session gives it back as it
    # commits or rolls back (the "commit" event would come before SQLite's own commit).
    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record) -> None:
        _release(record.info)

    @event.listens_for(engine, "close")
    def _closed(_dbapi_connection, record) -> None:
        _release(record.info)
        fd = record.info.pop("writer_lock_fd", None)
        if fd is not None:
            os.close(fd)
