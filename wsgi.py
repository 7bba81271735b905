"""The WSGI entry point: ``app = create_app()``, after checking that the database answers."""
import sys

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app import create_app
from app.extensions import db

app = create_app()


def _check_database() -> None:
    with app.app_context():
        try:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            url = db.engine.url.render_as_string(hide_password=True)
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            print(f"Matrica cannot reach its database at {url}: {reason}", file=sys.stderr)
            raise SystemExit(1) from None


if app.config.get("CHECK_DATABASE_ON_START"):
    _check_database()
