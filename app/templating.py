"""Jinja helpers shared by every template."""
from __future__ import annotations

from datetime import date
from functools import wraps

from flask import Flask, request
from markupsafe import Markup
from flask_babel import gettext as _
from flask_babel import ngettext

from app.forms.admin import institution_kind_choices
from app.i18n import LANGUAGES, current_language
from app.models import CycleStatus, InstitutionKind, ResponseStatus, ReviewAction, Role, VersionStatus
from app.services import questionnaires
from app.views._form import html_id
from app.xlsform.compiled import UnusableDefinition
from app.views._render import safe_next


def field_attrs(field, **extra) -> dict:
    """Attributes that tie a field to its hint and error (aria-describedby, aria-invalid)."""
    described = []
    if field.description:
        described.append(f"{field.id}-hint")
    if field.errors:
        described.append(f"{field.id}-error")
    attrs = dict(extra)
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if field.errors:
        attrs["aria-invalid"] = "true"
    if field.flags.required:
        attrs["required"] = True
    return attrs


def status_label(status) -> str:
    """The localised name of a response, cycle or version status, or a role.

    Keyed by (enum type, value): the StrEnum members of different enums with the same value
    ("draft") are equal and would collide as plain keys.
    """
    pairs = [
        (ResponseStatus.DRAFT, _("Draft")),
        (ResponseStatus.SUBMITTED, _("Submitted")),
        (ResponseStatus.RETURNED, _("Returned for revision")),
        (ResponseStatus.APPROVED, _("Approved")),
        (CycleStatus.PLANNED, _("Planned")),
        (CycleStatus.OPEN, _("Open")),
        (CycleStatus.CLOSED, _("Closed")),
        (VersionStatus.DRAFT, _("Draft version")),
        (VersionStatus.PUBLISHED, _("Published")),
        (Role.RESPONDENT, _("Respondent")),
        (Role.REVIEWER, _("Reviewer")),
        (Role.AUDITOR, _("Auditor")),
        (Role.ADMIN, _("Administrator")),
    ]
    labels = {(type(member), member.value): text for member, text in pairs}
    return labels.get((type(status), status.value), str(status))


def days_left(deadline: date | None, today: date | None = None) -> str:
    """A deadline as a person counts it: in 12 days, today, 3 days late."""
    if deadline is None:
        return ""
    days = (deadline - (today or date.today())).days
    if days == 0:
        return _("due today")
    if days > 0:
        return ngettext("%(num)d day left", "%(num)d days left", days)
    return ngettext("%(num)d day late", "%(num)d days late", -days)


def cycle_name(cycle) -> str:
    """A cycle's name in the reader's language (its name as entered where it has none)."""
    return cycle.name_in(current_language()) if cycle is not None else ""


def person(user) -> str:
    """A person as others read them: their name, else their e-mail address."""
    if user is None:
        return _("a former user")
    return user.name or user.email


def review_sentence(event) -> str:
    """A review step as a sentence: who did what, from which status to which."""
    who = person(event.actor)
    sentences = {
        ReviewAction.SUBMIT: lambda: _("%(who)s submitted the response", who=who),
        ReviewAction.RETURN: lambda: _("%(who)s returned it for revision", who=who),
        ReviewAction.APPROVE: lambda: _("%(who)s approved it", who=who),
        ReviewAction.REOPEN: lambda: _("%(who)s reopened it for review", who=who),
    }
    text = sentences[event.action]()
    return _("%(step)s (%(before)s → %(after)s)", step=text, before=status_label(event.from_status),
             after=status_label(event.to_status))


def aggregation(indicator) -> str:
    """How a country's figure of ``indicator`` is made from its institutions', in words: the
    rule, and whose answers when the definition names the kinds of institution responsible."""
    if indicator.aggregate == "sum" and indicator.method == "ratio":
        rule = _("sum of numerators ÷ sum of denominators")
    elif indicator.aggregate == "sum" and indicator.method == "points":
        rule = _("sum of points ÷ sum of maxima")
    else:
        rule = _("mean of the institutions' values")
    if not indicator.responsible:
        return rule
    kinds = ", ".join(kind_label(kind) for kind in InstitutionKind if kind in indicator.responsible)
    return _("%(rule)s, over: %(kinds)s", rule=rule, kinds=kinds)


def kind_label(kind) -> str:
    """A kind of institution, in words."""
    return str(dict(institution_kind_choices()).get(str(kind), kind))


def questionnaire_title(version) -> str:
    """A questionnaire version's title in the interface language (``label::…`` in its settings),
    else in its default language."""
    try:
        form = questionnaires.compiled(version)
    except UnusableDefinition:
        return version.questionnaire.title
    return form.text(form.titles, current_language())[0] or version.questionnaire.title


def flag_label(code: str | None) -> str:
    """What a flag on an indicator's value says (``app.scoring.IndicatorResult.flag``)."""
    if code == "above_upper":
        return _("(above its upper bound: not rated)")
    if code == "no_cases":
        return _("(no cases in the period: rated as the questionnaire sets)")
    return ""


def reason_label(code: str | None) -> str:
    """Why an indicator has no value, in words (``app.scoring.IndicatorResult.reason``)."""
    return {"no_cases": _("no cases in the period"), "not_applicable": _("not applicable"),
            "switched_off": _("does not apply, given an answer"), "incomplete": _("incomplete"),
            "not_responsible": _("asked of another kind of institution"),
            "data_not_available": _("data not available"),
            "no_responsible": _("no figures yet from the kind of institution responsible")}.get(code or "",
                                                                                           _("not answered"))


def country_label(country) -> str:
    """A country's name where countries are compared: Kosovo carries the asterisk of the
    designation footnote (``kosovo_footnote``)."""
    name = country_name(country)
    return f"{name}*" if country.code == "XK" else name


def kosovo_footnote() -> str:
    return _("*This designation is without prejudice to positions on status, and is in line with UNSCR "
             "1244/1999 and the ICJ Opinion on the Kosovo declaration of independence.")


# Where CLDR's short name is not the one the region's own reports use.
_OFFICIAL_NAMES = {("en", "BA"): "Bosnia and Herzegovina"}


def country_name(country) -> str:
    """A country's name in the interface language: CLDR's, or the official short name the
    region's reports use where CLDR abbreviates ("Bosnia & Herzegovina")."""
    language = current_language()
    return _OFFICIAL_NAMES.get((language, country.code)) or country.name(LANGUAGES[language][1])


def back_here() -> str:
    """Where the language switcher brings the reader back: this page, if it was read with GET
    and its address is one a redirect may name (no control characters)."""
    if request.method != "GET":
        return ""
    return safe_next(request.full_path, "")


def _never_failing(format_value):
    """A Babel number filter that shows what it cannot format as it is, marked, instead of
    failing the page (Babel raises on values such as 1e34 %)."""
    @wraps(format_value)
    def formatted(value, *args, **kwargs):
        try:
            return format_value(value, *args, **kwargs)
        except (ArithmeticError, ValueError, TypeError):
            return Markup('<span class="unformatted" title="{}">{}</span>').format(
                _("This value could not be formatted and is shown as stored."), str(value))
    return formatted


def init_app(app: Flask) -> None:
    filters = app.jinja_env.filters
    for name in ("numberformat", "decimalformat", "percentformat", "scientificformat", "currencyformat"):
        if name in filters:
            filters[name] = _never_failing(filters[name])
    app.jinja_env.globals["field_attrs"] = field_attrs
    app.jinja_env.globals["back_here"] = back_here
    app.jinja_env.globals["html_id"] = html_id
    app.jinja_env.globals["person"] = person
    app.jinja_env.globals["days_left"] = days_left
    app.jinja_env.globals["cycle_name"] = cycle_name
    app.jinja_env.globals["aggregation"] = aggregation
    app.jinja_env.globals["reason_label"] = reason_label
    app.jinja_env.globals["flag_label"] = flag_label
    app.jinja_env.globals["questionnaire_title"] = questionnaire_title
    app.jinja_env.globals["kind_label"] = kind_label
    app.jinja_env.globals["country_label"] = country_label
    app.jinja_env.globals["kosovo_footnote"] = kosovo_footnote
    app.jinja_env.globals["review_sentence"] = review_sentence
    app.jinja_env.globals["status_label"] = status_label
    app.jinja_env.globals["country_name"] = country_name
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
