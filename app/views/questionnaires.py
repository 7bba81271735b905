"""Questionnaire definitions for the platform operator: upload, preview, publish, download."""
from __future__ import annotations

import io
from collections import Counter

from flask import Blueprint, abort, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.forms.admin import EmptyForm
from app.forms.questionnaires import TranslationForm, UploadForm
from app.i18n import current_language
from app.languages import LANGUAGES
from app.models import CycleStatus, Questionnaire, QuestionnaireVersion, ResponseStatus, VersionStatus
from app.services import questionnaires
from app.services.responses import Loaded
from app.views import _form
from app.views._render import render
from app.views.admin import admin_required
from app.views.auth import signed_in
from app.xlsform import diff, translation
from app.xlsform.compiled import UnusableDefinition
from app.xlsform.definition import translation_completeness
from app.views._definition_messages import describe

bp = Blueprint("questionnaires", __name__, url_prefix="/questionnaires")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
XLS = "application/vnd.ms-excel"


def _workbook_type(data: bytes) -> str:
    """The media type of an uploaded questionnaire, by its first bytes (.xls, .ods or .xlsx)."""
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return XLS
    return ODS if data[30:38] == b"mimetype" and ODS.encode() in data[:100] else XLSX


def _listing():
    return db.session.scalars(select(Questionnaire).order_by(Questionnaire.title)).all()


@bp.route("/", methods=["GET", "POST"])
@admin_required
def index():
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read()
        try:
            version = questionnaires.import_questionnaire(signed_in(), data, upload.filename or "questionnaire.xlsx")
        except questionnaires.InvalidQuestionnaire as exc:
            db.session.rollback()
            return render("questionnaires/index.html", form=form, questionnaires=_listing(),
                          rejected=upload.filename, issues=exc.issues, describe=describe, status=400)
        except questionnaires.IdenticalUpload as exc:
            db.session.rollback()
            return render("questionnaires/index.html", form=form, questionnaires=_listing(), issues=None,
                          describe=describe, identical=exc.version, status=409)
        db.session.commit()
        flash(_("Version %(number)d of “%(title)s” is uploaded as a draft. Check the preview, then publish it.",
                number=version.number, title=version.questionnaire.title), "success")
        return redirect(url_for("questionnaires.version", version_id=version.id))
    return render("questionnaires/index.html", form=form, questionnaires=_listing(), issues=None,
                  describe=describe, status=400 if form.errors else 200)


def _preview(version: QuestionnaireVersion) -> dict | None:
    """What the version holds, page by page; None when it goes beyond the limits uploads now
    enforce (stored before them)."""
    try:
        form = questionnaires.compiled(version)
    except UnusableDefinition:
        return None
    language = current_language()
    pages = []
    for page in form.pages:
        sections = [child for child in page.children if child.kind in ("group", "repeat")]
        pages.append({
            "label": form.text(page.label, language)[0] or page.name,
            "questions": sum(1 for node in form.walk(page) if node.is_input),
            "sections": [(form.text(s.label, language)[0] or s.name, s.kind,
                          sum(1 for node in form.walk(s) if node.is_input)) for s in sections],
        })
    by_area = Counter((ind.area, ind.section) for ind in form.indicators.values())
    areas = [{"label": form.text(area.label, language)[0], "law_policy": by_area[(area.code, "law_policy")],
              "practice": by_area[(area.code, "practice")]} for area in form.areas]
    names = {l["code"]: l["name"] for l in version.definition["languages"]}
    machine = translation.machine_made(version.definition)
    completeness = [(code, names.get(code, code), present, total, machine.get(code, 0))
                    for code, (present, total) in translation_completeness(version.definition).items()]
    return {"pages": pages, "areas": areas, "languages": completeness, "default_language": form.default_language,
            "has_cyrillic": "sr_Cyrl" in names,
            "question_count": sum(p["questions"] for p in pages), "indicator_count": len(form.indicators)}


@bp.route("/versions/<int:version_id>")
@admin_required
def version(version_id: int):
    item = db.get_or_404(QuestionnaireVersion, version_id)
    warnings = questionnaires.warnings_of(item)
    previous = questionnaires.previous_version(item)
    changed = diff.changes(previous.definition, item.definition) if previous is not None else []
    present = {language["code"] for language in item.definition["languages"]}
    addable = [(code, name) for code, (name, _locale) in LANGUAGES.items() if code not in present]
    return render("questionnaires/version.html", version=item, preview=_preview(item), warnings=warnings,
                  describe=describe, button=EmptyForm(), previous=previous, changes=changed,
                  translation_form=TranslationForm(), addable=addable)


def _ask(item: QuestionnaireVersion, endpoint: str, heading: str, explanation: str, button: str,
         danger: bool = False):
    """The confirmation page of an action that cannot be undone; its button posts ``confirm``."""
    return render("questionnaires/confirm.html", version=item, action=url_for(endpoint, version_id=item.id),
                  heading=heading, explanation=explanation, button=button, danger=danger)


def _confirmed() -> bool:
    """A POST from the confirmation page (its CSRF token checked); 400 for a forged one."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    return request.form.get("confirm") == "yes"


@bp.route("/versions/<int:version_id>/publish", methods=["GET", "POST"])
@admin_required
def publish(version_id: int):
    item = db.get_or_404(QuestionnaireVersion, version_id)
    if item.status == VersionStatus.PUBLISHED:
        flash(_("This version is already published."), "info")
        return redirect(url_for("questionnaires.version", version_id=item.id))
    if request.method == "GET" or not _confirmed():
        return _ask(item, "questionnaires.publish", _("Publish version %(number)d?", number=item.number),
                    _("A published version can never change again, and cycles can pin it at once. Corrections "
                      "then need a new upload, which becomes the next version."), _("Publish this version"))
    questionnaires.publish_version(signed_in(), item)
    db.session.commit()
    flash(_("Version %(number)d is published. It can no longer change; cycles can now pin it.",
            number=item.number), "success")
    return redirect(url_for("questionnaires.version", version_id=item.id))


@bp.route("/versions/<int:version_id>/discard", methods=["GET", "POST"])
@admin_required
def discard(version_id: int):
    item = db.get_or_404(QuestionnaireVersion, version_id)
    if item.status != VersionStatus.DRAFT:
        flash(_("Only a draft can be discarded: a published version stays, since cycles may rest on it."), "error")
        return redirect(url_for("questionnaires.version", version_id=item.id))
    if request.method == "GET" or not _confirmed():
        return _ask(item, "questionnaires.discard", _("Discard draft version %(number)d?", number=item.number),
                    _("The draft and its uploaded file are deleted. Published versions are not touched."),
                    _("Discard this draft"), danger=True)
    number, title = item.number, item.questionnaire.title
    questionnaires.discard_version(signed_in(), item)
    db.session.commit()
    flash(_("Draft version %(number)d of “%(title)s” is discarded.", number=number, title=title), "success")
    return redirect(url_for("questionnaires.index"))


@bp.route("/versions/<int:version_id>/preview/<int:number>")
@admin_required
def preview(version_id: int, number: int):
    """A page of the questionnaire as a respondent first sees it (no answer yet), read-only, in
    any of its languages."""
    item = db.get_or_404(QuestionnaireVersion, version_id)
    try:
        form = questionnaires.compiled(item)
    except UnusableDefinition:
        abort(409)
    if not 1 <= number <= len(form.pages):
        abort(404)
    languages = [(language["code"], language["name"]) for language in item.definition["languages"]]
    language = request.args.get("lang", "")
    if language not in {code for code, _name in languages}:
        language = current_language()
    loaded = Loaded(id=0, status=ResponseStatus.DRAFT, cycle_status=CycleStatus.OPEN, form=form, answers={},
                    writable=False, whole=True)
    pages = [form.text(page.label, language)[0] if page.label else _("Questions") for page in form.pages]
    return render("questionnaires/preview.html", version=item, number=number, pages=pages, languages=languages,
                  language=language, nodes=_form.tree(loaded, form.pages[number - 1], language),
                  ctx=_form.PreviewContext(number))


@bp.route("/versions/<int:version_id>/translations.xlsx")
@admin_required
def translations_xlsx(version_id: int):
    item = db.get_or_404(QuestionnaireVersion, version_id)
    add = [code for code in request.args.getlist("add") if code in LANGUAGES]
    latin = request.args.get("latin") == "1"
    return send_file(io.BytesIO(questionnaires.translation_xlsx(item, add, latin)), mimetype=XLSX, as_attachment=True,
                     download_name=f"{item.questionnaire.form_id}-v{item.number}-translations.xlsx")


@bp.route("/versions/<int:version_id>/translations", methods=["POST"])
@admin_required
def translations(version_id: int):
    item = db.get_or_404(QuestionnaireVersion, version_id)
    form = TranslationForm()
    if not form.validate_on_submit():
        return render("questionnaires/translations.html", version=item, form=form, issues=[],
                      describe=describe, created=None, merged=None, status=400)
    try:
        created, merged = questionnaires.import_translations(signed_in(), item, form.file.data.read())
    except questionnaires.InvalidQuestionnaire as exc:
        db.session.rollback()
        return render("questionnaires/translations.html", version=item, form=form, issues=exc.issues,
                      describe=describe, created=None, merged=None, status=400)
    except questionnaires.IdenticalUpload as exc:
        db.session.rollback()
        flash(_("The workbook adds no translation: version %(number)d already holds all of it.",
                number=exc.version.number), "info")
        return redirect(url_for("questionnaires.version", version_id=exc.version.id))
    db.session.commit()
    names = {language["code"]: language["name"] for language in created.definition["languages"]}
    return render("questionnaires/translations.html", version=item, form=form, issues=merged.issues,
                  describe=describe, created=created, merged=merged, names=names)


@bp.route("/versions/<int:version_id>/upload.xlsx")
@admin_required
def source(version_id: int):
    item = db.get_or_404(QuestionnaireVersion, version_id)
    if not item.source_file:
        abort(404)
    return send_file(io.BytesIO(item.source_file), mimetype=_workbook_type(item.source_file), as_attachment=True,
                     download_name=questionnaires.safe_filename(item.source_filename or "",
                                                                f"{item.questionnaire.form_id}.xlsx"))


@bp.route("/versions/<int:version_id>/xlsform.xlsx")
@admin_required
def export(version_id: int):
    item = db.get_or_404(QuestionnaireVersion, version_id)
    return send_file(io.BytesIO(questionnaires.export_xlsx(item)), mimetype=XLSX, as_attachment=True,
                     download_name=f"{item.questionnaire.form_id}-v{item.number}.xlsx")
