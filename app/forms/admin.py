from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.languages import LANGUAGES
from app.models import InstitutionKind, Role


def optional_int(value):
    """Coerce a select's value to int, with the empty choice as None."""
    if value in ("", None, "None"):
        return None
    return int(value)


def institution_kind_choices():
    labels = {
        InstitutionKind.MINISTRY: _l("Ministry"),
        InstitutionKind.POLICE: _l("Police"),
        InstitutionKind.PROSECUTION: _l("Prosecution"),
        InstitutionKind.COURT: _l("Court"),
        InstitutionKind.SOCIAL_WELFARE: _l("Social welfare centre"),
        InstitutionKind.SHELTER: _l("Shelter"),
        InstitutionKind.LABOUR_INSPECTORATE: _l("Labour inspectorate"),
        InstitutionKind.NATIONAL_COORDINATOR: _l("National coordinator's office"),
        InstitutionKind.NGO: _l("Non-governmental organisation"),
        InstitutionKind.OTHER: _l("Other"),
    }
    return [(kind.value, labels[kind]) for kind in InstitutionKind]


def role_choices():
    return [
        (Role.RESPONDENT.value, _l("Respondent (one institution)")),
        (Role.REVIEWER.value, _l("Reviewer (one country)")),
        (Role.AUDITOR.value, _l("Auditor (one country or all)")),
        (Role.ADMIN.value, _l("Administrator")),
    ]


class CountryForm(FlaskForm):
    code = StringField(_l("ISO country code"), validators=[DataRequired(), Length(min=2, max=2)],
                       description=_l("Two letters, for example RS; XK for Kosovo."))


class InstitutionForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    country_id = SelectField(_l("Country"), coerce=int, validators=[DataRequired()])
    kind = SelectField(_l("Kind"), choices=institution_kind_choices, validators=[DataRequired()])
    active = BooleanField(_l("Active"), default=True)


class InviteForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Full name"), validators=[Length(max=200)])
    locale = SelectField(_l("Language"), validators=[DataRequired()])
    role = SelectField(_l("Role"), choices=role_choices, validators=[DataRequired()])
    institution_id = SelectField(_l("Institution (for respondents)"), coerce=optional_int, validators=[Optional()])
    country_id = SelectField(_l("Country (for reviewers and auditors)"), coerce=optional_int, validators=[Optional()],
                             description=_l("Leave empty to give an auditor every country."))


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=role_choices, validators=[DataRequired()])
    institution_id = SelectField(_l("Institution (for respondents)"), coerce=optional_int, validators=[Optional()])
    country_id = SelectField(_l("Country (for reviewers and auditors)"), coerce=optional_int, validators=[Optional()],
                             description=_l("Leave empty to give an auditor every country."))


class CycleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)],
                       description=_l("For example: 2026 annual monitoring. Shown in every language without a name of its own."))
    period_start = DateField(_l("Period from"), validators=[DataRequired()])
    period_end = DateField(_l("Period to"), validators=[DataRequired()])
    deadline = DateField(_l("Deadline for responses"), validators=[DataRequired()])
    version_id = SelectField(_l("Questionnaire version"), coerce=optional_int, validators=[Optional()],
                             description=_l("Only published versions can be pinned."))
    rates = StringField(_l("Exchange rates for the period"), validators=[Optional(), Length(max=500)],
                        description=_l("Units of each national currency per euro, separated by semicolons, such as "
                                       "RSD 117.2; MKD 61.5; ALL 98.4; BAM 1.95583. Amounts answered in a national "
                                       "currency are also shown in euro at these rates."))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AssignForm(FlaskForm):
    institution_ids = MultiCheckboxField(_l("Institutions"), coerce=int)


class EmptyForm(FlaskForm):
    """A form with only its CSRF token, for buttons that change state."""


# The cycle's name in each interface language (optional): name_sq, name_sr_Latn…, labelled by
# the language's own name.
for _code, (_language, _locale) in LANGUAGES.items():
    setattr(CycleForm, f"name_{_code}", StringField(_language, validators=[Optional(), Length(max=200)],
                                                    render_kw={"lang": _code.replace("_", "-")}))


def cycle_names(form: CycleForm) -> dict[str, str]:
    return {code: getattr(form, f"name_{code}").data or "" for code in LANGUAGES}


def fill_cycle_names(form: CycleForm, names: dict) -> None:
    for code in LANGUAGES:
        getattr(form, f"name_{code}").data = (names or {}).get(code, "")
