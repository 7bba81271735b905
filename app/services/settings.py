"""The one place services read configuration from: the application they run in, whether it
serves a request, runs a command or works through a background job (each pushes an app
context)."""
from __future__ import annotations

from typing import Any

from flask import current_app


def setting(name: str, default: Any = None) -> Any:
    return current_app.config.get(name, default)


def logger():
    return current_app.logger


def application():
    """The application itself (to run work on another thread with its configuration)."""
    return current_app._get_current_object()
