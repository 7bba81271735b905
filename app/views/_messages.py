"""Localised texts for the error codes services raise."""
from flask_babel import gettext as _


def error_message(code: str) -> str:
    messages = {
        "password_too_short": _("The password is too short."),
        "password_too_long": _("The password is too long."),
        "link_expired": _("This link has expired. Ask for a new one."),
        "link_invalid": _("This link is not valid. Check that you copied all of it, or ask for a new one."),
        "link_used": _("This link has already been used. Ask for a new one if you still need it."),
        "email_invalid": _("Enter a valid e-mail address."),
        "email_taken": _("A user with this e-mail address already exists."),
        "locale_unknown": _("Choose one of the offered languages."),
        "respondent_needs_institution": _("A respondent needs an institution."),
        "reviewer_needs_country": _("A reviewer needs a country."),
        "auditor_needs_country_or_all": _("An auditor has a country or every country, not an institution."),
        "admin_has_no_scope": _("An administrator has no institution or country."),
        "unknown_institution": _("That institution does not exist."),
        "unknown_country": _("That country does not exist."),
        "role_exists": _("The user already has this role."),
        "role_unknown": _("That role assignment does not exist."),
        "last_admin": _("This is the last active administrator; keep at least one."),
        "country_code_unknown": _("Enter a two-letter ISO 3166 country code, such as RS, or XK for Kosovo."),
        "country_exists": _("This country is already listed."),
        "country_unknown": _("That country does not exist."),
        "name_required": _("Enter a name."),
        "institution_exists": _("An institution with this name already exists in that country."),
        "period_reversed": _("The period must end after it starts."),
        "deadline_before_period": _("The deadline cannot be before the period starts."),
        "cycle_exists": _("A cycle with this name already exists."),
        "version_not_published": _("Only a published questionnaire version can be pinned."),
        "version_locked_by_answers": _("Answers were already given in this cycle; its questionnaire version can no longer change."),
        "open_needs_version": _("Pin a published questionnaire version before opening the cycle."),
        "institution_unknown": _("One of the chosen institutions does not exist."),
        "institution_has_answers": _("An institution whose response already holds answers cannot be removed from the cycle."),
    }
    return messages.get(code, _("The request could not be completed."))
