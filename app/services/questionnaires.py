"""Questionnaire definitions: check, import (a new draft version), publish, export, compile."""
from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from threading import Lock

from sqlalchemy import func, select

from app.extensions import db
from app.models import Questionnaire, QuestionnaireVersion, User, VersionStatus
from app.models._base import utcnow
from app.services import audit
from app.services.errors import ServiceError
from app.xlsform import definition as xls_definition
from app.xlsform import translation
from app.xlsform.compiled import CompiledForm
from app.xlsform.issues import DefinitionError, Issue
from app.xlsform.source import to_xlsx
from app.xlsform.workbook import read_workbook, write_workbook

SHIPPED = Path(__file__).resolve().parent.parent / "questionnaires"


class InvalidQuestionnaire(Exception):
    def __init__(self, issues: list[Issue]):
        super().__init__(f"{len(issues)} problems")
        self.issues = issues


class QuestionnaireError(ServiceError, ValueError):
    """A refused questionnaire operation."""


class IdenticalUpload(QuestionnaireError):
    """The upload holds exactly what a stored version holds: nothing new is stored."""

    def __init__(self, version: QuestionnaireVersion):
        super().__init__("identical_upload")
        self.version = version


def check(data: bytes, file_name: str | None = None) -> tuple[dict, list[Issue]]:
    """The definition and every located problem (errors first, then warnings); ``file_name``
    gives the form_id when the settings sheet has none, as pyxform does."""
    try:
        sheets, warnings = read_workbook(data, wanted=lambda name: name.lower() in xls_definition.SHEET_NAMES)
        if len(sheets) == 1 and "survey" not in map(str.lower, sheets):   # as pyxform reads a lone sheet
            (title, sheet), = read_workbook(data)[0].items()
            sheets = {"survey": sheet}
            warnings.append(Issue(title, None, None, "sheet_read_as_survey", {"sheet": title}, warning=True))
    except DefinitionError as exc:
        return {}, exc.issues
    definition, issues = xls_definition.build(sheets, file_name)
    issues = warnings + issues
    return xls_definition.public(definition), sorted(issues, key=lambda i: (i.warning, i.sheet or "", i.row or 0))


_UNSAFE_IN_NAMES = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def safe_filename(name: str, fallback: str) -> str:
    """A file name as stored and offered for download: its last part, without control
    characters or characters that file systems or headers refuse, at most 255 characters."""
    name = _UNSAFE_IN_NAMES.sub("_", PurePosixPath(name.replace("\\", "/")).name).strip(" ._")
    return name[:255] or fallback


def errors_of(issues: list[Issue]) -> list[Issue]:
    return [issue for issue in issues if not issue.warning]


def import_questionnaire(actor: User | None, data: bytes, filename: str, *, publish: bool = False) -> QuestionnaireVersion:
    """A new draft version (the next number of its form_id); InvalidQuestionnaire if it has errors."""
    definition, issues = check(data, filename)
    if errors_of(issues):
        raise InvalidQuestionnaire(issues)
    questionnaire = db.session.scalars(select(Questionnaire).where(
        Questionnaire.form_id == definition["form_id"])).first()
    if questionnaire is None:
        questionnaire = Questionnaire(form_id=definition["form_id"], title=definition["title"][:300])
        db.session.add(questionnaire)
        db.session.flush()
        audit.record(actor, "questionnaire.create", questionnaire, "form_id", None, questionnaire.form_id)
    else:
        same = _same_content(questionnaire, definition)
        if same is not None:
            raise IdenticalUpload(same)
        questionnaire.title = definition["title"][:300]
    number = (db.session.scalar(select(func.max(QuestionnaireVersion.number))
                                .where(QuestionnaireVersion.questionnaire_id == questionnaire.id)) or 0) + 1
    version = QuestionnaireVersion(questionnaire=questionnaire, number=number, label=definition["version"][:100],
                                   status=VersionStatus.DRAFT, definition=definition,
                                   source_filename=safe_filename(filename, f"{definition['form_id']}.xlsx"),
                                   source_file=data, created_by_id=actor.id if actor else None,
                                   check_issues=[_stored_issue(issue) for issue in issues])
    db.session.add(version)
    db.session.flush()
    audit.record(actor, "questionnaire.version_upload", version, "number", None, number)
    if publish:
        publish_version(actor, version)
    return version


def _canonical(definition: dict) -> str:
    return json.dumps(definition, sort_keys=True, ensure_ascii=False, default=str)


def _same_content(questionnaire: Questionnaire, definition: dict) -> QuestionnaireVersion | None:
    """The newest version of ``questionnaire`` whose content is exactly ``definition``."""
    wanted = _canonical(definition)
    for version in db.session.scalars(select(QuestionnaireVersion).where(
            QuestionnaireVersion.questionnaire_id == questionnaire.id).order_by(QuestionnaireVersion.number.desc())):
        if _canonical(version.definition) == wanted:
            return version
    return None


def discard_version(actor: User | None, version: QuestionnaireVersion) -> Questionnaire | None:
    """Delete a draft version (and its questionnaire when no version is left, returning None);
    a published version stays, since cycles and responses rest on it."""
    if version.status != VersionStatus.DRAFT:
        raise QuestionnaireError("not_a_draft")
    questionnaire = version.questionnaire
    audit.record(actor, "questionnaire.version_discard", version, "number", version.number, None)
    db.session.delete(version)
    db.session.flush()
    left = db.session.scalar(select(func.count(QuestionnaireVersion.id))
                             .where(QuestionnaireVersion.questionnaire_id == questionnaire.id))
    if left:
        return questionnaire
    audit.record(actor, "questionnaire.delete", questionnaire, "form_id", questionnaire.form_id, None)
    db.session.delete(questionnaire)
    db.session.flush()
    return None


def _stored_issue(issue: Issue) -> dict:
    return {"sheet": issue.sheet, "row": issue.row, "column": issue.column, "code": issue.code,
            "params": issue.params, "warning": issue.warning}


def warnings_of(version: QuestionnaireVersion) -> list[Issue]:
    """The warnings its upload's check found (kept with it; a version stored before they were
    kept is checked again)."""
    if version.check_issues is None:
        issues = check(version.source_file, version.source_filename)[1] if version.source_file else []
    else:
        issues = [Issue(i["sheet"], i["row"], i["column"], i["code"], i["params"], i["warning"])
                  for i in version.check_issues]
    return [issue for issue in issues if issue.warning]


def translation_xlsx(version: QuestionnaireVersion, add: list[str] = (), latin: bool = False) -> bytes:
    """The version's translation workbook, with a column for each language in ``add`` too, and
    with ``latin`` Serbian Latin made from Serbian Cyrillic where it is missing (machine-made)."""
    return write_workbook(translation.workbook_sheets(version.definition, version.questionnaire.form_id,
                                                      version.number, list(add), latin=latin))


def import_translations(actor: User | None, version: QuestionnaireVersion, data: bytes
                        ) -> tuple[QuestionnaireVersion, translation.Merged]:
    """A new draft version: ``version`` with a filled translation workbook merged in. Raises
    InvalidQuestionnaire (nothing stored) when the workbook cannot be used, IdenticalUpload
    when it changes nothing."""
    try:
        sheets, warnings = read_workbook(data, wanted=lambda name: name.lower() in (translation.TEXTS,
                                                                                    translation.ABOUT))
    except DefinitionError as exc:
        raise InvalidQuestionnaire(exc.issues) from None
    merged = translation.merge(version.definition, version.questionnaire.form_id, version.number,
                               {name.lower(): sheet for name, sheet in sheets.items()})
    merged.issues = warnings + merged.issues
    if merged.definition is None:
        raise InvalidQuestionnaire(merged.issues)
    form_id = version.questionnaire.form_id
    workbook = write_workbook(xls_definition.to_sheets(merged.definition))
    created = import_questionnaire(actor, workbook, f"{form_id}-v{version.number}-translations.xlsx")
    audit.record(actor, "questionnaire.translations_merged", created, "from_version", None, version.number)
    return created, merged


def previous_version(version: QuestionnaireVersion) -> QuestionnaireVersion | None:
    """The version just before ``version`` of the same questionnaire (a draft or published)."""
    return db.session.scalars(select(QuestionnaireVersion).where(
        QuestionnaireVersion.questionnaire_id == version.questionnaire_id,
        QuestionnaireVersion.number < version.number).order_by(QuestionnaireVersion.number.desc()).limit(1)).first()


def publish_version(actor: User | None, version: QuestionnaireVersion) -> None:
    if version.status == VersionStatus.PUBLISHED:
        raise QuestionnaireError("already_published")
    version.status = VersionStatus.PUBLISHED
    version.published_at = utcnow()
    db.session.flush()
    audit.record(actor, "questionnaire.version_publish", version, "status", VersionStatus.DRAFT,
                 VersionStatus.PUBLISHED)


def export_xlsx(version: QuestionnaireVersion) -> bytes:
    """The version as an XLSForm workbook, rebuilt from the stored definition."""
    return write_workbook(xls_definition.to_sheets(version.definition))


def find_version(form_id: str, number: int | None = None) -> QuestionnaireVersion | None:
    query = select(QuestionnaireVersion).join(Questionnaire).where(Questionnaire.form_id == form_id)
    if number is None:
        query = query.order_by(QuestionnaireVersion.number.desc())
    else:
        query = query.where(QuestionnaireVersion.number == number)
    return db.session.scalars(query.limit(1)).first()


# A compiled form per version, parsed once per process. Versions never change once stored
# (each upload is a new version), so the cache needs no invalidation; it is bounded.
_compiled: OrderedDict[tuple, CompiledForm] = OrderedDict()
_compiled_lock = Lock()
_COMPILED_MAX = 16


def compiled(version: QuestionnaireVersion) -> CompiledForm:
    return _cached((version.id, version.questionnaire_id, version.number, version.created_at),
                   lambda: version.definition)


def compiled_key(key, definition_of: Callable[[int], dict]) -> CompiledForm:
    """The compiled form of the version ``key`` names (its id, questionnaire, number and upload
    time); ``definition_of(id)`` reads its definition only when the form is not cached yet."""
    return _cached((key.id, key.questionnaire_id, key.number, key.created_at), lambda: definition_of(key.id))


def _cached(key: tuple, definition: Callable[[], dict]) -> CompiledForm:
    with _compiled_lock:
        form = _compiled.get(key)
        if form is not None:
            _compiled.move_to_end(key)
            return form
    form = CompiledForm(definition())
    with _compiled_lock:
        _compiled[key] = form
        while len(_compiled) > _COMPILED_MAX:
            _compiled.popitem(last=False)
    return form


def shipped_xlsx(name: str) -> bytes:
    """The .xlsx of a questionnaire shipped with Matrica (built from its CSV source)."""
    folder = SHIPPED / name
    if not (folder / "survey.csv").exists():
        raise QuestionnaireError("unknown_shipped")
    return to_xlsx(folder)


def shipped_names() -> list[str]:
    return sorted(p.name for p in SHIPPED.iterdir() if (p / "survey.csv").exists()) if SHIPPED.exists() else []
