"""Filling a response: autosave one answer, save a whole page, repeats, submit, history.

Each answer is its own row with its own version (kept by ``answer_store``), so two people
editing different questions of one response both succeed; an edit based on an older version
of the same answer is refused as a conflict that carries both values. Nothing is stored
partially: a refused value, a constraint failure or a conflict changes no row and writes no
audit event; the caller commits once on success and rolls back otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db, execute
from app.models import AnswerDraft, AuditEvent, CycleStatus, Response, ResponseStatus, User
from app.models._base import utcnow
from app.services import answer_store, audit, evidence as evidence_files, questionnaires, scores
from app.services.answer_store import Head, Stored
from app.services.errors import Conflict
from app.services.scope import Access
from app.xlsform.compiled import CompiledForm, Node, UnusableDefinition, inside
from app.xlsform.state import FormState, Index, Problem, node_path, parse_path, repeat_chain
from app.xlsform.definition import FILE_TYPES
from app.xlsform.values import MAX_EVIDENCE, InputError, parse_input

EDITABLE = (ResponseStatus.DRAFT, ResponseStatus.RETURNED)


class ResponseError(Conflict, ValueError):
    """A refused operation on a response (it conflicts with its state)."""


@dataclass
class Loaded:
    """A response with its compiled form and answers; its state is evaluated when first asked for."""
    id: int
    status: ResponseStatus
    cycle_status: CycleStatus
    form: CompiledForm
    answers: dict[str, Stored]
    response: Response | None = None   # the row, when loaded from one (a page shows it)
    kind: str | None = None   # the kind of institution answering (None: every question is asked, as in a preview)
    writable: bool = True   # False: shown read-only to this user (reviewer, auditor)
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
                         {p: a.evidence for p, a in self.answers.items()} | evidence, today=self.today, whole=whole,
                         kind=self.kind)

    @property
    def ref(self) -> audit.Ref:
        return audit.Ref("response", self.id)

    @property
    def editable(self) -> bool:
        return self.writable and is_editable(self.status, self.cycle_status)


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
    upload: evidence_files.Checked | None = None   # a file question: the upload to keep once saved


@dataclass
class Submitted:
    """One question as posted: raw value (list for multi-selects, an upload for a file
    question), evidence, base version."""
    raw: str | list[str] | evidence_files.Upload | None
    evidence: str | None = None
    version: int | None = None


@dataclass
class Saved:
    """What saving answers did: an outcome per path, and after a successful save the state the
    saved answers make (``None`` when anything was refused: then nothing was stored)."""
    outcomes: dict[str, Outcome]
    state: FormState | None = None

    @property
    def rejected(self) -> bool:
        return any(o.status in ("invalid", "conflict") for o in self.outcomes.values())


@dataclass(frozen=True)
class PageChanges:
    """What one saved answer changed on its page, to be drawn again: the page's other nodes
    that depend on it (outermost only), the page's indicators it feeds, and the pages whose
    progress can change (``None`` when no count can)."""
    nodes: list[tuple[Node, Index]]
    indicators: list[str]
    sections: list[int] | None


def is_editable(status: ResponseStatus, cycle_status: CycleStatus) -> bool:
    return status in EDITABLE and cycle_status == CycleStatus.OPEN


def _compiled(find) -> CompiledForm:
    try:
        return find()
    except UnusableDefinition:
        raise ResponseError("questionnaire_unusable") from None


def load(response: Response, today: date | None = None, whole: bool = True) -> Loaded:
    """The response with its form and answers. ``whole``: its state is evaluated whole when
    first read (to show a page, check for submission, count progress); otherwise only what is
    read of it."""
    version = response.cycle.questionnaire_version
    if version is None:
        raise ResponseError("no_questionnaire")
    form = _compiled(lambda: questionnaires.compiled(version))
    return Loaded(response.id, response.status, response.cycle.status, form, answer_store.answers(response.id),
                  response=response, today=today, whole=whole, kind=response.institution.kind.value)


def load_for_saving(user, response_id: int, access: Access) -> Loaded:
    """The response ``response_id`` as saving an answer needs it (one query, scoped: NotFound
    or NotAllowed as ``get_scoped``); its state is evaluated only as far as it is read."""
    head: Head = answer_store.head(user, response_id, access)
    if head.version is None:
        raise ResponseError("no_questionnaire")
    form = _compiled(lambda: questionnaires.compiled_key(head.version, answer_store.definition))
    return Loaded(head.id, head.status, head.cycle_status, form, head.answers, whole=False, kind=head.kind)


def progress(response: Response) -> tuple[int, int] | None:
    """(answered, to answer) of the whole response, as kept by its last save, else evaluated;
    None when it has no usable questionnaire."""
    if response.answered is not None and response.to_answer is not None:
        return response.answered, response.to_answer
    try:
        return load(response).state.progress()
    except ResponseError:
        return None


def _require_editable(loaded: Loaded) -> None:
    if loaded.status == ResponseStatus.APPROVED:
        raise ResponseError("approved_locked")
    if loaded.status == ResponseStatus.SUBMITTED:
        raise ResponseError("submitted_read_only")
    if loaded.cycle_status != CycleStatus.OPEN:
        raise ResponseError("cycle_not_open")


def target(loaded: Loaded, path: str, page: int | None = None) -> tuple[Node, Index]:
    """The question an answer's ``path`` names, checked once: it exists (its repeat entry too),
    is answered by the respondent, and is on ``page`` when one is given."""
    parsed = parse_path(loaded.form, path)
    if parsed is None or node_path(*parsed) != path:
        raise ResponseError("unknown_question")
    node, index = parsed
    if node.kind != "question" or not node.is_input or node.read_only is True:
        raise ResponseError("not_answerable")
    if node.chain and index not in loaded.state.instances(node):  # outside repeats: always there
        raise ResponseError("unknown_question")
    if page is not None and not (1 <= page <= len(loaded.form.pages)
                                 and loaded.form.on_page(node, loaded.form.pages[page - 1])):
        raise ResponseError("unknown_question")
    return node, index


def _clean_evidence(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.replace("\r\n", "\n").strip()
    if len(text) > MAX_EVIDENCE:
        raise InputError("too_long", (MAX_EVIDENCE,))
    return text


def _check(loaded: Loaded, submitted: dict[str, Submitted]) -> tuple[dict[str, Outcome], FormState | None]:
    """Parse and validate every submitted answer against the state they would make together:
    an outcome per path, ``invalid`` (type, length, constraint) or ``pending`` with the
    canonical value, and that state. Nothing is written."""
    outcomes: dict[str, Outcome] = {}
    parsed: dict[str, str] = {}
    targets = {path: target(loaded, path) for path in submitted}
    for path, item in submitted.items():
        node, _index = targets[path]
        upload = None
        try:
            if isinstance(item.raw, evidence_files.Upload):
                upload = evidence_files.check(node.type, item.raw)
                value = upload.name
            elif node.type in FILE_TYPES and item.raw and item.raw != _stored(loaded, path):
                raise InputError("unknown_file")   # only an upload, or the file already answered
            else:
                value = parse_input(loaded.form, node, item.raw)
            evidence = _clean_evidence(item.evidence)
        except InputError as error:
            shown = item.raw if isinstance(item.raw, str) else "" if isinstance(
                item.raw, evidence_files.Upload) else " ".join(item.raw or [])
            outcomes[path] = Outcome(path, "invalid", error.code, error.params, value=shown)
            continue
        parsed[path] = value
        outcomes[path] = Outcome(path, "pending", value=value, evidence=evidence, upload=upload)
    if not parsed:
        return outcomes, None
    trial = loaded.state_with(parsed, {p: o.evidence for p, o in outcomes.items()
                                       if o.status == "pending" and o.evidence is not None})
    for path, value in parsed.items():
        node, index = targets[path]
        if trial.is_relevant(path) and trial.check_value(node, index, value):
            outcomes[path].status, outcomes[path].code = "invalid", "constraint"
    return outcomes, trial


def _stored(loaded: Loaded, path: str) -> str:
    answer = loaded.answers.get(path)
    return answer.value if answer is not None else ""


def _write(actor: User, loaded: Loaded, outcome: Outcome, base_version: int | None) -> Outcome:
    """Store one checked answer with its optimistic version check, and its audit events."""
    path = outcome.path
    existing = loaded.answers.get(path)
    outcome.previous = existing.value if existing is not None else ""
    if existing is not None:
        old_value, old_evidence = existing.value, existing.evidence
        if old_value == outcome.value and (outcome.evidence is None or old_evidence == outcome.evidence):
            outcome.status, outcome.version = "unchanged", existing.version
            return outcome
        if base_version != existing.version or not answer_store.update_answer(
                actor.id, existing, base_version, outcome.value, outcome.evidence):
            return _conflict(outcome, answer_store.answer(loaded.id, path))
        outcome.version = existing.version
    else:
        if base_version not in (None, 0):
            return _conflict(outcome, None)
        if outcome.value == "" and not outcome.evidence:
            outcome.status = "unchanged"
            return outcome
        try:
            with db.session.begin_nested():
                loaded.answers[path] = answer_store.insert_answer(actor.id, loaded.id, path, outcome.value,
                                                                  outcome.evidence or "")
        except IntegrityError:
            return _conflict(outcome, answer_store.answer(loaded.id, path))
        old_value = old_evidence = ""
        outcome.version = 1
    if old_value != outcome.value:
        audit.record(actor, "answer.save", loaded.ref, path, old_value or None, outcome.value or None)
    if outcome.evidence is not None and old_evidence != outcome.evidence:
        audit.record(actor, "answer.evidence", loaded.ref, f"{path}#evidence", old_evidence or None,
                     outcome.evidence or None)
    outcome.status = "saved"
    return outcome


def _conflict(outcome: Outcome, theirs: Stored | None) -> Outcome:
    outcome.status = "conflict"
    if theirs is not None:
        outcome.theirs, outcome.theirs_evidence = theirs.value, theirs.evidence
        outcome.version = theirs.version
        author = db.session.get(User, theirs.updated_by_id) if theirs.updated_by_id else None
        outcome.theirs_by = author.email if author else None
    return outcome


def save_answers(actor: User, loaded: Loaded, submitted: dict[str, Submitted]) -> Saved:
    """Save answers all or nothing: if any is invalid or conflicts, nothing is stored (the
    caller rolls back) and every outcome says why. The response's kept progress follows."""
    _require_editable(loaded)
    outcomes, trial = _check(loaded, submitted)
    if any(o.status == "invalid" for o in outcomes.values()):
        return Saved(outcomes)
    for path, outcome in outcomes.items():
        _write(actor, loaded, outcome, submitted[path].version)
        if outcome.upload is not None and outcome.status == "saved":
            evidence_files.keep(actor, loaded.id, outcome.upload)
    saved = Saved(outcomes, trial)
    if not saved.rejected:
        _clear_drafts(loaded, outcomes)
        loaded.evaluated = trial   # the loaded response now shows what was saved
        if any(outcome.status == "saved" and _counts_may_change(loaded.form, outcome) for outcome in outcomes.values()):
            _keep_progress(loaded)
    return saved


_CLEAR_DRAFTS = delete(AnswerDraft.__table__).where(AnswerDraft.__table__.c.response_id == bindparam("response_id"),
                                                    AnswerDraft.__table__.c.path.in_(bindparam("paths", expanding=True)))


def _clear_drafts(loaded: Loaded, outcomes: dict[str, Outcome]) -> None:
    """A valid value saved (or confirmed) for a question replaces what was refused before."""
    paths = [path for path, outcome in outcomes.items() if outcome.status in ("saved", "unchanged")]
    if paths:
        execute(_CLEAR_DRAFTS, {"response_id": loaded.id, "paths": paths})


def keep_drafts(actor: User, loaded: Loaded, outcomes: dict[str, Outcome]) -> int:
    """After a refused save (the caller rolled it back): keep what was typed for each refused
    answer, with its reason, so that a reload shows it; how many. Uploads are not kept."""
    kept = 0
    for path, outcome in outcomes.items():
        if outcome.status != "invalid" or outcome.upload is not None or not outcome.value:
            continue
        draft = db.session.get(AnswerDraft, (loaded.id, path))
        if draft is None:
            draft = AnswerDraft(response_id=loaded.id, path=path)
            db.session.add(draft)
        draft.value, draft.code, draft.params = outcome.value[:MAX_EVIDENCE], outcome.code, list(outcome.params)
        draft.updated_by_id = actor.id
        kept += 1
    return kept


def drafts(response_id: int) -> dict[str, AnswerDraft]:
    """The response's refused values, by answer path."""
    return {draft.path: draft for draft in db.session.scalars(
        select(AnswerDraft).where(AnswerDraft.response_id == response_id))}


def _counts_may_change(form: CompiledForm, outcome: Outcome) -> bool:
    """Whether a saved answer can change what is answered or to be answered: it went from
    unanswered to answered (or back), or its answer can switch questions on or off."""
    name = parse_path(form, outcome.path)[0].name
    return (outcome.previous == "") != (outcome.value == "") or form.switches[name]


_KEEP_PROGRESS = (update(Response.__table__).where(Response.__table__.c.id == bindparam("response_id"))
                  .values(answered=bindparam("answered"), to_answer=bindparam("to_answer")))


def _keep_progress(loaded: Loaded) -> None:
    """Store the response's progress as its answers now make it (what lists show)."""
    answered, to_answer = loaded.state.progress()
    execute(_KEEP_PROGRESS, {"response_id": loaded.id, "answered": answered, "to_answer": to_answer})
    if loaded.response is not None:   # the row in this session follows, without a change to flush
        set_committed_value(loaded.response, "answered", answered)
        set_committed_value(loaded.response, "to_answer", to_answer)


def page_changes(loaded: Loaded, outcome: Outcome, page: int) -> PageChanges:
    """What the saved answer ``outcome`` changed on ``page`` (``loaded`` as saved)."""
    form, state = loaded.form, loaded.state
    node, saved_index = target(loaded, outcome.path)
    page_node = form.pages[page - 1]
    dependents = form.dependents[node.name]
    shown = [n for n in dependents if form.on_page(n, page_node)
             and not (n.type == "calculate" and not n.label)]   # an unlabelled calculation shows through notes
    outermost = [n for n in shown if not any(other is not n and inside(n, other) for other in shown)]
    nodes = [(n, index) for n in sorted(outermost, key=lambda n: n.row) for index in state.instances(n)
             if not (n is node and index == saved_index)]
    indicators = [code for code in form.indicators_on(page_node) if code in form.indicators_of[node.name]]
    sections = None
    if _counts_may_change(form, outcome):
        depending = {id(n) for n in dependents}
        sections = sorted({page} | {number for number, other in enumerate(form.pages, start=1)
                                    if id(other) in depending})
    return PageChanges(nodes, indicators, sections)


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
        loaded.answers[container] = answer_store.insert_answer(actor.id, loaded.id, container, str(count))
    else:
        answer_store.set_value(actor.id, row, str(count))
    audit.record(actor, "repeat.count", loaded.ref, container, old, count)
    loaded.evaluated = None   # entries came or went: the state is made again from the answers
    _keep_progress(loaded)


def add_instance(actor: User, loaded: Loaded, container: str) -> int:
    _require_editable(loaded)
    node, prefix = _repeat(loaded, container)
    count = loaded.state.count(node, prefix)
    if count >= 200:
        raise ResponseError("too_many_instances")
    _set_count(actor, loaded, container, count + 1, count)
    return count + 1


def remove_instance(actor: User, loaded: Loaded, container: str, number: int) -> None:
    """Remove instance ``number`` of a repeat; later instances move up one place."""
    _require_editable(loaded)
    node, prefix = _repeat(loaded, container)
    count = loaded.state.count(node, prefix)
    if not 1 <= number <= count:
        raise ResponseError("unknown_repeat")
    removed = f"{container}[{number}]/"
    for path, answer in sorted(loaded.answers.items()):
        if path.startswith(removed) and answer.value:
            audit.record(actor, "answer.remove", loaded.ref, path, answer.value, None)
    answer_store.delete_under(loaded.id, removed)
    for path in [p for p in loaded.answers if p.startswith(removed)]:
        del loaded.answers[path]
    for later in range(number + 1, count + 1):  # in order: each moves into a place already freed
        old_prefix, new_prefix = f"{container}[{later}]/", f"{container}[{later - 1}]/"
        for path in sorted(p for p in loaded.answers if p.startswith(old_prefix)):
            answer = loaded.answers.pop(path)
            moved = new_prefix + path[len(old_prefix):]
            answer_store.move(answer, moved)
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
    """What keeps the response (or the page ``under``) from being submitted, in document order:
    a refused value still waiting to be corrected first, then required, constraint, evidence."""
    waiting = drafts(loaded.id)
    found = []
    for node, index, path in loaded.state.input_paths(under):
        item = Problem("not_saved", node, index, path) if path in waiting and loaded.state.is_relevant(path) \
            else problem(loaded, node, index, path)
        if item is not None:
            found.append(item)
    return found


def complete(actor: User, loaded: Loaded) -> list[Problem]:
    """Make the response ready to be submitted: if every relevant question is answered and
    valid, store the defaults shown in unanswered questions and its progress, and return no
    problem; else the problems, nothing changed. (Submitting it is a review step.)"""
    _require_editable(loaded)
    problems_left = problems(loaded)
    if problems_left:
        return problems_left
    for path, value in loaded.state.defaults().items():
        if path not in loaded.answers:
            loaded.answers[path] = answer_store.insert_answer(actor.id, loaded.id, path, value)
            audit.record(actor, "answer.save", loaded.ref, path, None, value)
    _keep_progress(loaded)
    return []


def history(response_id: int, path: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.entity_type == "response", AuditEvent.entity_id == str(response_id))
    if path:
        query = query.where(AuditEvent.field.in_([path, f"{path}#evidence"]))
    return list(db.session.scalars(query.order_by(AuditEvent.id.desc()).limit(500)))


def node_at(loaded: Loaded, path: str) -> tuple[Node, Index] | None:
    return parse_path(loaded.form, path)


__all__ = ["Loaded", "Outcome", "PageChanges", "ResponseError", "Saved", "Submitted", "add_instance", "history",
           "is_editable", "load", "load_for_saving", "node_path", "page_changes", "problem", "problems", "progress",
           "remove_instance", "save_answers", "submit", "target"]
