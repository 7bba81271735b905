"""E-mail notices of review steps, each in its recipient's language, when mail is configured
(sent in the background: the step does not wait for the mail server)."""
from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from app.i18n import in_language, language_of
from app.models import Response, ReviewAction
from app.services import mail, review


def send(response: Response, action: ReviewAction) -> int:
    """Tell whoever waits on this step; how many notices went out (0 without mail)."""
    if not mail.configured():
        return 0
    link = url_for("review.show", response_id=response.id, _external=True)
    sent = 0
    for person in review.recipients(response, action):
        language = language_of(person)
        with in_language(language):
            subject, body = _message(response, action, link, language)
        mail.send_in_background(person.email, subject, body)
        sent += 1
    return sent


def _message(response: Response, action: ReviewAction, link: str, language: str) -> tuple[str, str]:
    names = {"institution": response.institution.name, "cycle": response.cycle.name_in(language), "link": link}
    if action == ReviewAction.SUBMIT:
        return (_("Submitted for review: %(institution)s", **names),
                _("%(institution)s submitted its response for %(cycle)s. It waits for your review: %(link)s", **names))
    if action == ReviewAction.RETURN:
        return (_("Returned for revision: %(cycle)s", **names),
                _("The reviewer returned the response of %(institution)s for %(cycle)s with comments. "
                  "Read them and answer: %(link)s", **names))
    return (_("Approved: %(cycle)s", **names),
            _("The response of %(institution)s for %(cycle)s is approved: %(link)s", **names))
