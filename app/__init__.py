"""Matrica: monitoring questionnaires scored into indicators.

The factory reads as a list of ``init_app`` calls, one per subsystem. Configuration is
layered: defaults (``app.config_defaults``) → ``instance/config.py`` → ``MATRICA_*``
environment variables (plus ``DATABASE_URL``) → the ``config`` mapping passed in (tests).
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    # The web stack is imported here, not at the top: importing a pure package (``app.scoring``,
    # ``app.xlsform``) must not load Flask, SQLAlchemy, the models or the views.
    from flask import Flask
    from werkzeug.middleware.proxy_fix import ProxyFix

    from app import cli, config_defaults, errors, i18n, jobs, security, templating
    from app.extensions import init_extensions
    from app.views import register_blueprints

    app = Flask(__name__, instance_path=str(Path(__file__).resolve().parent.parent / "instance"),
                instance_relative_config=True)
    app.config.from_object(config_defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("MATRICA")
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if config:
        app.config.update(config)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "matrica.sqlite")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app)

    _check_uploads(app)

    if int(app.config.get("PROXY_FIX") or 0) > 0:
        hops = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)
    init_extensions(app)
    jobs.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    errors.init_app(app)
    register_blueprints(app)
    cli.init_app(app)
    return app


def _check_uploads(app: Flask) -> None:
    """A request can carry the largest evidence document allowed; evidence is never kept where
    the web server serves files to anyone."""
    evidence = int(app.config.get("EVIDENCE_MAX_BYTES") or 0)
    if (app.config.get("MAX_CONTENT_LENGTH") or 0) < evidence + 1024 * 1024:
        app.config["MAX_CONTENT_LENGTH"] = evidence + 1024 * 1024
    directory = app.config.get("EVIDENCE_DIRECTORY")
    if directory and Path(directory).resolve().is_relative_to(Path(app.static_folder or "").resolve()):
        raise RuntimeError(f"EVIDENCE_DIRECTORY ({directory}) is inside the folder of public files "
                           f"({app.static_folder}); choose a directory outside it")


def _instance_secret(app: Flask) -> str:
    """A per-installation secret kept in ``instance/secret_key``.

    Several nodes behind a load balancer must share one secret: set ``MATRICA_SECRET_KEY``
    (or SECRET_KEY in ``instance/config.py``) there instead.
    """
    path = Path(app.instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
