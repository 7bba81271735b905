"""Filling a response: autosave one answer, save a whole page, repeats, submit, history.

Each answer is its own row with its own version (see app/models/response.py), so two people
editing different questions of one response both succeed; an edit based on an older version
of the same answer is refused as a conflict that carries both values. Nothing is stored
partially: a refused value, a constraint failure or a conflict changes no row and writes no
audit event; the caller commits once on success and rolls back otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import JSON, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement

from app.extensions import db, execute
from app.models import Answer, AuditEvent, Cycle, CycleStatus, QuestionnaireVersion, Response, ResponseStatus, User
from app.models._base import utcnow
from app.services import audit, questionnaires, scores
from app.services.scope import Access, get_scoped_columns
from app.xlsform.compiled import CompiledForm, Node, UnusableDefinition
from app.xlsform.state import FormState, Index, Problem, node_path, parse_path, repeat_chain
from app.xlsform.values import MAX_EVIDENCE, InputError, parse_input

EDITABLE = (ResponseStatus.DRAFT, ResponseStatus.RETURNED)


class ResponseError(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(slots=True)
class Stored:
    """One stored answer as the form needs it (read without the ORM: a response has a hundred)."""
    id: int
    value: str
    evidence: str
    version: int
    updated_by_id: int | None = None


@dataclass(frozen=True, slots=True)
class VersionKey:
    """A questionnaire version as far as finding its compiled form needs (``questionnaires.compiled``)."""
    id: int
    questionnaire_id: int
    number: int
    created_at: datetime

    @property
    def definition(self) -> dict:  # read only when the form is not compiled yet
        return db.session.execute(_DEFINITION, {"version_id": self.id}).scalar_one()


@dataclass(frozen=True, slots=True)
class CycleHead:
    status: CycleStatus
    questionnaire_version: VersionKey | None


class _AnswersArray(ColumnElement):
    """A response's answers as one JSON array of ``[path, id, value, evidence, version,
    updated_by_id]`` (NULL or empty when it has none): read with the response's head in the
    same query, one value rather than a hundred rows."""
    type = JSON()
    inherit_cache = True
    _traverse_internals = []   # no state: every instance is the same SQL (and cache key)


def _aggregated(array, row):
    return select(array(row(*_COLUMNS))).where(_TABLE.c.response_id == _RESPONSES.c.id).scalar_subquery()


@compiles(_AnswersArray, "postgresql")
def _answers_array_postgresql(element, compiler, **kw):
    return compiler.process(_aggregated(func.json_agg, func.json_build_array), **kw)


@compiles(_AnswersArray)
def _answers_array(element, compiler, **kw):   # SQLite's JSON functions
    return compiler.process(_aggregated(func.json_group_array, func.json_array), **kw)


@dataclass(frozen=True, slots=True)
class ResponseHead:
    """A response as saving one answer needs it: its id and status, its cycle's status and
    questionnaire version, and its answers, read in one query without ORM objects (autosave is
    the hottest path).
    Shaped like ``Response`` for what it holds."""
    __table__: ClassVar = Response.__table__   # for audit events
    id: int
    status: ResponseStatus
    cycle: CycleHead
    answers: list = field(default_factory=list, compare=False, repr=False)   # as read (_AnswersArray), for load()


_DEFINITION = select(QuestionnaireVersion.definition).where(QuestionnaireVersion.id == bindparam("version_id"))
_CYCLES, _RESPONSES, _VERSIONS = Cycle.__table__, Response.__table__, QuestionnaireVersion.__table__


def _head_columns(statement):
    """The scoped Core statement of a response, shaped into its head (through the tables: no
    ORM work per execution)."""
    return (statement.with_only_columns(_RESPONSES.c.id, _RESPONSES.c.status, _CYCLES.c.status, _VERSIONS.c.id,
                                        _VERSIONS.c.questionnaire_id, _VERSIONS.c.number, _VERSIONS.c.created_at,
                                        _AnswersArray())
            .join(_CYCLES, _CYCLES.c.id == _RESPONSES.c.cycle_id)
            .outerjoin(_VERSIONS, _VERSIONS.c.id == _CYCLES.c.questionnaire_version_id))


def head(user, response_id: int, access: Access) -> ResponseHead:
    """The response ``response_id`` as a ``ResponseHead``, if ``user`` may access it (404/403
    otherwise, as ``get_scoped``)."""
    (id_, status, cycle_status, version_id, questionnaire_id, number,
     created_at, answers) = get_scoped_columns(user, Response, response_id, access, _head_columns)
    version = VersionKey(version_id, questionnaire_id, number, created_at) if version_id is not None else None
    return ResponseHead(id_, ResponseStatus(status), CycleHead(CycleStatus(cycle_status), version), answers or [])


@dataclass
class Loaded:
    """A response with its compiled form and answers; its state is evaluated when first asked for."""
    response: Response | ResponseHead
    form: CompiledForm
    answers: dict[str, Stored]
    writable: bool = True   # False: shown read-only to this user (reviewer, auditor)
    after: FormState | None = None   # after a successful save: the state the saved answers make
    today: date | None = None
    whole: bool = False   # evaluate the whole state at once (what shows a page reads all of it)
    evaluated: FormState | None = field(default=None, repr=False)

    @property
    def state(self) -> FormState:
        if self.evaluated is None:
            self.evaluated = self.state_with({}, {}, whole=self.whole)
        return self.evaluated

    def state_with(self, values: dict[str, str], evidence: dict[str, str], whole: bool = False) -> FormState:
        """The state the stored answers make with ``values`` and ``evidence`` put in their place."""
        return FormState(self.form, {p: a.value for p, a in self.answers.items()} | values,
                         {p: a.evidence for p, a in self.answers.items()} | evidence, today=self.today, whole=whole)

    @property
    def editable(self) -> bool:
        return self.writable and is_editable(self.response)


@dataclass
class Outcome:
    """What happened to one submitted answer."""
    path: str
    status: str                      # saved | unchanged | invalid | conflict
    code: str = ""                   # the error code (invalid)
    params: tuple = ()
    value: str = ""                  # what was submitted (canonical when valid)
    evidence: str | None = None
    theirs: str | None = None        # conflict: the value someone else saved …
    theirs_evidence: str | None = None
    theirs_by: str | None = None     # … and who saved it
    version: int = 0                 # the answer's version after this
    previous: str = ""               # the value stored before (saved, unchanged)


@dataclass
class Submitted:
    """One question as posted: raw value (list for multi-selects), evidence, base version."""
    raw: str | list[str] | None
    evidence: str | None = None
    version: int | None = None
    outcomes: list[Outcome] = field(default_factory=list)


def is_editable(response: Response) -> bool:
    return response.status in EDITABLE and response.cycle.status == CycleStatus.OPEN


def form_of(response: Response) -> CompiledForm:
    version = response.cycle.questionnaire_version
    if version is None:
        raise ResponseError("no_questionnaire")
    try:
        return questionnaires.compiled(version)
    except UnusableDefinition:
        raise ResponseError("questionnaire_unusable") from None


# The statements of the autosave path, each built once (SQLAlchemy computes a statement's
# cache key on every execution of a new statement object, and that costs more than the query).
_TABLE = Answer.__table__
_COLUMNS = (_TABLE.c.path, _TABLE.c.id, _TABLE.c.value, _TABLE.c.evidence, _TABLE.c.version, _TABLE.c.updated_by_id)
_ANSWERS = select(*_COLUMNS).where(_TABLE.c.response_id == bindparam("response_id"))
_ANSWER = _ANSWERS.where(_TABLE.c.path == bindparam("path"))
_INSERT_ANSWER = insert(_TABLE)
_UPDATE_ANSWER = (update(_TABLE)
                  .where(_TABLE.c.id == bindparam("answer_id"), _TABLE.c.version == bindparam("base"))
                  .values(value=bindparam("new_value"), version=_TABLE.c.version + 1,
                          updated_at=bindparam("now"), updated_by_id=bindparam("actor_id")))
_UPDATE_ANSWER_AND_EVIDENCE = _UPDATE_ANSWER.values(evidence=bindparam("new_evidence"))


def load(response: Response | ResponseHead, today: date | None = None, whole: bool = True) -> Loaded:
    """The response with its form and answers. ``whole``: its state is evaluated whole when
    first read (to show a page, check for submission, count progress); otherwise only what is
    read of it (to save an answer)."""
    form = form_of(response)
    if isinstance(response, ResponseHead):   # read with the head
        rows = response.answers
    else:
        rows = execute(_ANSWERS, {"response_id": response.id})
    return Loaded(response, form, _by_path(rows), today=today, whole=whole)


def progress(response: Response) -> tuple[int, int] | None:
    """(answered, to answer) of the whole response; None when it has no usable questionnaire."""
    try:
        return load(response).state.progress()
    except ResponseError:
        return None


def _by_path(rows) -> dict[str, Stored]:
    return {path: Stored(id_, value or "", evidence or "", version, by) for path, id_, value, evidence, version, by in rows}


def _read_answer(response_id: int, path: str) -> Stored | None:
    return _by_path(db.session.execute(_ANSWER, {"response_id": response_id, "path": path}).all()).get(path)


def _insert_answer(actor: User, response_id: int, path: str, value: str, evidence: str = "") -> Stored:
    """Insert a first answer (its version is 1); the caller handles a concurrent insert."""
    new_id = db.session.execute(_INSERT_ANSWER, {
        "response_id": response_id, "path": path, "value": value, "evidence": evidence or None, "version": 1,
        "updated_at": utcnow(), "updated_by_id": actor.id}).inserted_primary_key[0]
    return Stored(new_id, value, evidence, 1, actor.id)


def _require_editable(response: Response) -> None:
    if response.status == ResponseStatus.APPROVED:
        raise ResponseError("approved_locked")
    if response.status == ResponseStatus.SUBMITTED:
        raise ResponseError("submitted_read_only")
    if response.cycle.status != CycleStatus.OPEN:
        raise ResponseError("cycle_not_open")


def _target(loaded: Loaded, path: str) -> tuple[Node, Index]:
    parsed = parse_path(loaded.form, path)
    if parsed is None:
        raise ResponseError("unknown_question")
    node, index = parsed
    if node.kind != "question" or not node.is_input or (node.read_only is True):
        raise ResponseError("not_answerable")
    if node.chain and index not in loaded.state.instances(node):  # outside repeats: always there
        raise ResponseError("unknown_question")
    return node, index


def _clean_evidence(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.replace("\r\n", "\n").strip()
    if len(text) > MAX_EVIDENCE:
        raise InputError("too_long", (MAX_EVIDENCE,))
    return text


def check_answers(loaded: Loaded, submitted: dict[str, Submitted]) -> dict[str, Outcome]:
    """Parse and validate every submitted answer against the state they would make together.

    Returns an outcome per path: ``invalid`` ones (type, length, constraint) or ``pending`` with
    the canonical value. Nothing is written.
    """
    outcomes: dict[str, Outcome] = {}
    parsed: dict[str, str] = {}
    targets = {path: _target(loaded, path) for path in submitted}
    for path, item in submitted.items():
        node, _index = targets[path]
        try:
            value = parse_input(loaded.form, node, item.raw)
            evidence = _clean_evidence(item.evidence)
        except InputError as error:
            outcomes[path] = Outcome(path, "invalid", error.code, error.params,
                                     value=item.raw if isinstance(item.raw, str) else " ".join(item.raw or []))
            continue
        parsed[path] = value
        outcomes[path] = Outcome(path, "pending", value=value, evidence=evidence)
    if parsed:
        trial = loaded.state_with(parsed, {p: o.evidence for p, o in outcomes.items()
                                           if o.status == "pending" and o.evidence is not None})
        loaded.after = trial
        for path, value in parsed.items():
            node, index = targets[path]
            if trial.is_relevant(path) and trial.check_value(node, index, value):
                outcomes[path].status, outcomes[path].code = "invalid", "constraint"
    return outcomes


def _write(actor: User, loaded: Loaded, outcome: Outcome, base_version: int | None) -> Outcome:
    """Store one checked answer with its optimistic version check."""
    response, path = loaded.response, outcome.path
    existing = loaded.answers.get(path)
    outcome.previous = existing.value if existing is not None else ""
    now = utcnow()
    if existing is not None:
        same = existing.value == outcome.value and (outcome.evidence is None or existing.evidence == outcome.evidence)
        if same:
            outcome.status, outcome.version = "unchanged", existing.version
            return outcome
        if base_version != existing.version:
            return _conflict(outcome, existing)
        old_value, old_evidence = existing.value, existing.evidence
        params = {"answer_id": existing.id, "base": base_version, "new_value": outcome.value, "now": now,
                  "actor_id": actor.id}
        statement = _UPDATE_ANSWER
        if outcome.evidence is not None:
            statement, params["new_evidence"] = _UPDATE_ANSWER_AND_EVIDENCE, outcome.evidence
        if old_value != outcome.value:   # the update and its event, one statement where the database allows
            updated = audit.update_recorded(statement, params, actor, *_value_event(response, path, old_value, outcome))
        else:
            updated = execute(statement, params).rowcount == 1
        if not updated:
            return _conflict(outcome, _read_answer(response.id, path))
        existing.value, existing.version, existing.updated_by_id = outcome.value, base_version + 1, actor.id
        if outcome.evidence is not None:
            existing.evidence = outcome.evidence
        outcome.version = existing.version
    else:
        if base_version not in (None, 0):
            return _conflict(outcome, None)
        if outcome.value == "" and not outcome.evidence:
            outcome.status = "unchanged"
            return outcome
        try:
            with db.session.begin_nested():
                loaded.answers[path] = _insert_answer(actor, response.id, path, outcome.value, outcome.evidence or "")
        except IntegrityError:
            return _conflict(outcome, _read_answer(response.id, path))
        old_value = old_evidence = ""
        outcome.version = 1
        if outcome.value:
            audit.record(actor, *_value_event(response, path, old_value, outcome))
    if outcome.evidence is not None and old_evidence != outcome.evidence:
        audit.record(actor, "answer.evidence", response, f"{path}#evidence", old_evidence or None,
                     outcome.evidence or None)
    outcome.status = "saved"
    return outcome


def _value_event(response, path: str, old_value: str, outcome: Outcome) -> tuple:
    return "answer.save", response, path, old_value or None, outcome.value or None


def _conflict(outcome: Outcome, theirs: Stored | None) -> Outcome:
    outcome.status = "conflict"
    if theirs is not None:
        outcome.theirs, outcome.theirs_evidence = theirs.value, theirs.evidence
        outcome.version = theirs.version
        author = db.session.get(User, theirs.updated_by_id) if theirs.updated_by_id else None
        outcome.theirs_by = author.email if author else None
    return outcome


def save_answers(actor: User, loaded: Loaded, submitted: dict[str, Submitted]) -> dict[str, Outcome]:
    """Save answers all or nothing: if any is invalid or conflicts, nothing is stored (the
    caller rolls back) and every outcome says why."""
    _require_editable(loaded.response)
    outcomes = check_answers(loaded, submitted)
    if any(o.status == "invalid" for o in outcomes.values()):
        return outcomes
    for path, outcome in outcomes.items():
        _write(actor, loaded, outcome, submitted[path].version)
    return outcomes


def rejected(outcomes: dict[str, Outcome]) -> bool:
    return any(o.status in ("invalid", "conflict") for o in outcomes.values())


# -- repeats --------------------------------------------------------------------------

def _repeat(loaded: Loaded, container: str) -> tuple[Node, Index]:
    parsed = parse_path(loaded.form, container)
    if parsed is None or parsed[0].kind != "repeat" or parsed[0].repeat_count is not None:
        raise ResponseError("unknown_repeat")
    node, prefix = parsed
    if len(prefix) != len(repeat_chain(node)) or (prefix and prefix not in loaded.state.instances(node)):
        raise ResponseError("unknown_repeat")
    return node, prefix


def _set_count(actor: User, loaded: Loaded, container: str, count: int, old: int) -> None:
    row = loaded.answers.get(container)
    if row is None:
        loaded.answers[container] = _insert_answer(actor, loaded.response.id, container, str(count))
    else:
        db.session.execute(update(_TABLE).where(_TABLE.c.id == row.id).values(
            value=str(count), version=_TABLE.c.version + 1, updated_at=utcnow(), updated_by_id=actor.id))
        row.value, row.version, row.updated_by_id = str(count), row.version + 1, actor.id
    audit.record(actor, "repeat.count", loaded.response, container, old, count)


def add_instance(actor: User, loaded: Loaded, container: str) -> int:
    _require_editable(loaded.response)
    node, prefix = _repeat(loaded, container)
    count = loaded.state.count(node, prefix)
    if count >= 200:
        raise ResponseError("too_many_instances")
    _set_count(actor, loaded, container, count + 1, count)
    return count + 1


def remove_instance(actor: User, loaded: Loaded, container: str, number: int) -> None:
    """Remove instance ``number`` of a repeat; later instances move up one place."""
    _require_editable(loaded.response)
    node, prefix = _repeat(loaded, container)
    count = loaded.state.count(node, prefix)
    if not 1 <= number <= count:
        raise ResponseError("unknown_repeat")
    removed = f"{container}[{number}]/"
    for path, answer in sorted(loaded.answers.items()):
        if path.startswith(removed) and answer.value:
            audit.record(actor, "answer.remove", loaded.response, path, answer.value, None)
    db.session.execute(delete(_TABLE).where(_TABLE.c.response_id == loaded.response.id,
                                            _TABLE.c.path.startswith(removed, autoescape=True)))
    for path in [p for p in loaded.answers if p.startswith(removed)]:
        del loaded.answers[path]
    for later in range(number + 1, count + 1):  # in order: each moves into a place already freed
        old_prefix, new_prefix = f"{container}[{later}]/", f"{container}[{later - 1}]/"
        for path in sorted(p for p in loaded.answers if p.startswith(old_prefix)):
            answer = loaded.answers.pop(path)
            moved = new_prefix + path[len(old_prefix):]
            db.session.execute(update(_TABLE).where(_TABLE.c.id == answer.id).values(
                path=moved, version=_TABLE.c.version + 1))
            answer.version += 1
            loaded.answers[moved] = answer
    _set_count(actor, loaded, container, count - 1, count)


# -- submit ---------------------------------------------------------------------------

def problem(loaded: Loaded, node: Node, index: Index, path: str) -> Problem | None:
    """What keeps the answer at ``path`` from being submitted: required, constraint, or its
    evidence missing."""
    found = loaded.state.problem(node, index, path)
    if found is None and scores.needs_evidence(loaded.form, loaded.state, node, index, path):
        found = Problem("evidence_required", node, index, path)
    return found


def problems(loaded: Loaded, under: Node | None = None) -> list[Problem]:
    """What keeps the response (or the page ``under``) from being submitted, in document order."""
    found = (problem(loaded, node, index, path) for node, index, path in loaded.state.input_paths(under))
    return [item for item in found if item is not None]


def submit(actor: User, loaded: Loaded):
    """Submit if every relevant question is answered and valid; else the problems, nothing changed."""
    _require_editable(loaded.response)
    problems_left = problems(loaded)
    if problems_left:
        return problems_left
    for path, value in loaded.state.defaults().items():
        if path not in loaded.answers:
            loaded.answers[path] = _insert_answer(actor, loaded.response.id, path, value)
            audit.record(actor, "answer.save", loaded.response, path, None, value)
    response = loaded.response
    audit.record(actor, "response.submit", response, "status", response.status, ResponseStatus.SUBMITTED)
    response.status = ResponseStatus.SUBMITTED
    response.submitted_at = utcnow()
    db.session.flush()
    return []


def history(response: Response, path: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.entity_type == "response", AuditEvent.entity_id == str(response.id))
    if path:
        query = query.where(AuditEvent.field.in_([path, f"{path}#evidence"]))
    return list(db.session.scalars(query.order_by(AuditEvent.id.desc()).limit(500)))


def node_at(loaded: Loaded, path: str) -> tuple[Node, Index] | None:
    return parse_path(loaded.form, path)


__all__ = ["Loaded", "Outcome", "ResponseError", "Submitted", "add_instance", "history", "is_editable", "load",
           "node_path", "problem", "problems", "progress", "remove_instance", "save_answers", "submit"]
