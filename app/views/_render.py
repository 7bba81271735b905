"""Rendering a whole page, or only its named block for an HTMX request."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import make_response, render_template
from jinja2_fragments.flask import render_block

from app.extensions import htmx


def wants_fragment() -> bool:
    return bool(htmx) and not htmx.history_restore_request


def render(template: str, block: str | None = None, status: int = 200, **context):
    """The page, or just ``block`` when HTMX asks (not for a history restore)."""
    if block is not None and wants_fragment():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def safe_next(target: str | None, default: str) -> str:
    """A redirect target on this site only (a path, never another host)."""
    if not target or any(ord(char) < 32 or 127 <= ord(char) <= 159 for char in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
