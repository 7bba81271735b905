from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField
from wtforms.validators import InputRequired, Optional

from app.forms.admin import optional_int
from app.languages import LANGUAGES


def label_choices():
    return [("", _l("Codes (the questionnaire's names)"))] + [
        (code, _l("Labels in %(language)s", language=name)) for code, (name, _locale) in LANGUAGES.items()]


def multiple_choices():
    return [("both", _l("One column with every answer, and one 0/1 column per choice")),
            ("single", _l("One column with every answer")),
            ("split", _l("One 0/1 column per choice"))]


def format_choices():
    return [("xlsx", _l("Excel workbook (.xlsx)")),
            ("csv", _l("CSV in UTF-8 (a .zip of one file per sheet when there are repeats)"))]


class RawExportForm(FlaskForm):
    cycle = SelectField(_l("Cycle"), coerce=int, validators=[InputRequired()])
    country = SelectField(_l("Country"), coerce=optional_int, validators=[Optional()])
    labels = SelectField(_l("Answers shown as"), choices=label_choices, default="",
                         description=_l("Labels fall back to the questionnaire's main language where a "
                                        "translation is missing."))
    multiple = RadioField(_l("Questions with several answers"), default="both", choices=multiple_choices)
    file_format = RadioField(_l("File"), default="xlsx", choices=format_choices)
