"""Interface languages, the locale selector and the helpers templates use.

The app speaks of languages by the codes users know (``cnr``, ``sr_Latn``…). Babel has no
CLDR data for Montenegrin and parses ``cnr`` as ``sr_Latn_ME``, so its catalogue lives
under ``translations/sr_Latn_ME`` and dates and numbers are formatted as ``sr_Latn_ME``.
"""
from __future__ import annotations

from functools import lru_cache

from babel import Locale
from flask import Flask, g, has_request_context, request, session
from flask_babel import force_locale, get_locale
from flask_login import current_user

from app.extensions import babel
from app.languages import DEFAULT_LANGUAGE, LANGUAGES

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "current_language", "html_lang", "in_language", "init_app", "language_of",
           "normalise_language"]

# Accept-Language tags → our codes (browsers send sr, sr-Latn, sr-RS, cnr, sh…).
_ACCEPT_ALIASES = {
    "sr-latn": "sr_Latn", "sr-cyrl": "sr_Cyrl", "sr": "sr_Cyrl", "sr-rs": "sr_Cyrl",
    "sr-me": "cnr", "sr-latn-me": "cnr", "cnr": "cnr", "sh": "sr_Latn",
    "sq": "sq", "sq-al": "sq", "sq-xk": "sq", "mk": "mk", "mk-mk": "mk",
    "bs": "bs", "bs-ba": "bs", "bs-latn": "bs", "hr": "hr", "hr-hr": "hr", "hr-ba": "hr",
    "en": "en",
}


def normalise_language(code: str | None) -> str:
    """Our code for ``code``; anything unknown becomes English."""
    if not code:
        return DEFAULT_LANGUAGE
    if code in LANGUAGES:
        return code
    return _ACCEPT_ALIASES.get(code.replace("_", "-").lower(), DEFAULT_LANGUAGE)


def language_of(user) -> str:
    """The interface language a user chose (the default where theirs is no longer offered): what
    mail written to them is in."""
    return user.locale if user.locale in LANGUAGES else DEFAULT_LANGUAGE


def in_language(language: str):
    """A block whose gettext speaks ``language`` (one of ``LANGUAGES``), whatever this request's is."""
    return force_locale(LANGUAGES[language][1])


def current_language() -> str:
    """The interface language of this request, as one of ``LANGUAGES``."""
    if "language" not in g:
        g.language = _select_language()
    return g.language


def _select_language() -> str:
    if not has_request_context():  # commands: the default language
        return DEFAULT_LANGUAGE
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    chosen = session.get("language")
    if chosen in LANGUAGES:
        return chosen
    for tag, _quality in request.accept_languages:
        lowered = tag.lower()
        if lowered in _ACCEPT_ALIASES:
            return _ACCEPT_ALIASES[lowered]
        primary = lowered.split("-")[0]
        if primary in _ACCEPT_ALIASES and primary != "sr":
            return _ACCEPT_ALIASES[primary]
        if primary == "sr":
            return "sr_Latn" if "latn" in lowered else "sr_Cyrl"
    return DEFAULT_LANGUAGE


def _babel_locale() -> Locale:
    return _locale_of(current_language())


@lru_cache(maxsize=None)
def _locale_of(code: str) -> Locale:
    """The Babel locale of one of ``LANGUAGES``, parsed once (Flask-Babel takes it as it is)."""
    return Locale.parse(LANGUAGES[code][1])


def html_lang(code: str) -> str:
    """BCP 47 tag for ``<html lang>``: ``sr-Latn``, ``cnr``…"""
    return code.replace("_", "-")


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=_babel_locale)

    @app.context_processor
    def _language_context():
        return {
            "LANGUAGES": LANGUAGES,
            "current_language": current_language(),
            "html_lang": html_lang(current_language()),
            "babel_locale": get_locale,
        }
