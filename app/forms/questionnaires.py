from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class UploadForm(FlaskForm):
    file = FileField(_l("XLSForm workbook (.xlsx, .xls or .ods)"), validators=[FileRequired()],
                     description=_l("Sheets survey, choices and settings, with Matrica's scoring columns and the "
                                    "indicators and areas sheets. A new upload of the same form_id becomes its next version."))


class TranslationForm(FlaskForm):
    file = FileField(_l("Filled translation workbook (.xlsx)"), validators=[FileRequired()],
                     description=_l("The workbook downloaded above, with translations filled in. It becomes a new "
                                    "draft version; no translation is ever dropped."))
