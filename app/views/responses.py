"""Responses: the list, one response's overview, the filling form (pages, autosave, repeats),
submit and history. Every lookup goes through the scoping function."""
from __future__ import annotations

import io

from flask import (Blueprint, abort, flash, get_template_attribute, make_response, redirect, request,
                   send_file, url_for)
from flask_babel import format_time
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.i18n import current_language
from app.models import Cycle, Response, ResponseStatus, ReviewAction
from app.models._base import utcnow
from app.services import evidence as evidence_files
from app.services import response_list, review
from app.services import responses as service
from app.services.errors import ServiceError
from app.services.scope import get_scoped, scope_of, scoped
from app.views import _form, _notices as notices
from app.views import _history as history_lines
from app.views import review as review_views
from app.views._messages import error_message
from app.views._render import render
from app.views.auth import signed_in
from app.xlsform.definition import FILE_TYPES

bp = Blueprint("responses", __name__, url_prefix="/responses")


def _status_message(code: str) -> str:
    if code in ("status_moved", "not_allowed"):
        return error_message(code)
    return {
        "approved_locked": _("This response is approved and locked."),
        "submitted_read_only": _("This response is submitted and read-only until a reviewer returns it."),
        "cycle_not_open": _("The cycle is not open for answers."),
        "unknown_question": _("That question is not part of this response."),
        "not_answerable": _("That question is calculated or read-only and cannot be answered."),
        "unknown_repeat": _("That repeated section does not exist."),
        "too_many_instances": _("No more entries can be added to this section."),
        "no_questionnaire": _("No questionnaire is pinned to this cycle yet."),
        "questionnaire_unusable": _("This questionnaire version goes beyond Matrica's limits and cannot be shown. "
                                    "An administrator needs to upload a corrected version."),
    }.get(code, _("The request could not be completed."))


# -- lists and overview -----------------------------------------------------------------

@bp.route("/")
@login_required
def index():
    user = signed_in()
    filters = filters_from(request.args)
    listing = response_list.listing(user, filters, page=request.args.get("page", 1, type=int) or 1)
    return render("responses/index.html", "response_list", listing=listing, filters=filters,
                  open_threads=review.open_threads([row.response.id for row in listing.rows]),
                  steps=next_steps(user, listing),
                  choices=response_list.choices(user), statuses=list(ResponseStatus))


def next_steps(user, listing: response_list.Listing) -> dict[int, dict]:
    """For each listed response its respondent can still change: where to continue — the first
    section with something left to answer, else the review before submitting. Worked out only
    for a respondent's own few responses (each needs its answers evaluated)."""
    institutions = scope_of(user).institutions
    if not institutions:
        return {}
    steps = {}
    for row in listing.rows:
        response = row.response
        if response.institution_id not in institutions or \
                not service.is_editable(response.status, response.cycle.status):
            continue
        try:
            loaded = service.load(response)
        except service.ResponseError:
            continue
        pages = _pages(loaded)
        first = next((item for item in pages if item["applies"] and item["answered"] < item["total"]), None)
        steps[response.id] = ({"url": url_for("responses.page", response_id=response.id, number=first["number"]),
                               "label": first["label"]} if first else
                              {"url": url_for("responses.submit", response_id=response.id), "label": None})
    return steps


def filters_from(args) -> response_list.Filters:
    """The list's filters from a query string; a value that names nothing is no filter."""
    status = args.get("status", "")
    return response_list.Filters(
        cycle=args.get("cycle", type=int), country=args.get("country", type=int),
        institution=args.get("institution", type=int),
        status=ResponseStatus(status) if status in {s.value for s in ResponseStatus} else None)


@bp.route("/<int:response_id>")
@login_required
def show(response_id: int):
    response = get_scoped(signed_in(), Response, response_id)
    if response.cycle.questionnaire_version is None:
        return render("responses/show.html", response=response, loaded=None, pages=[], can_answer=False)
    try:
        loaded = service.load(response)
    except service.ResponseError as exc:
        abort(409, _status_message(exc.code))
    pages = _pages(loaded)
    can_answer = _can_answer(response)
    return render("responses/show.html", response=response, loaded=loaded, pages=pages, can_answer=can_answer,
                  problems=len(service.problems(loaded)), lock=review_views.lock_reason(response),
                  open_threads=review.open_threads([response.id]).get(response.id, 0),
                  returned=review.last_event(response.id, ReviewAction.RETURN)
                  if response.status == ResponseStatus.RETURNED else None)


def _can_answer(response: Response) -> bool:
    allowed = db.session.scalars(scoped(signed_in(), Response, "answer").where(Response.id == response.id)).first()
    return allowed is not None and service.is_editable(response.status, response.cycle.status)


def _pages(loaded: service.Loaded, only: set[int] | None = None):
    language = current_language()
    result = []
    for number, page in enumerate(loaded.form.pages, start=1):
        if only is not None and number not in only:
            continue
        label = loaded.form.text(page.label, language)[0] if page.label else _("Questions")
        answered, total = loaded.state.progress(page)
        applies = page.name.startswith("_page") or loaded.state.is_relevant(page.name)
        result.append({"number": number, "label": label, "answered": answered, "total": total, "applies": applies})
    return result


# -- the form ---------------------------------------------------------------------------

_WITH_VERSION = (joinedload(Response.cycle).joinedload(Cycle.questionnaire_version),)


def _load_for(response_id: int, access: str = "read", *, saving: bool = False):
    """The response with its form and answers; ``saving``: only what saving an answer and the
    reply to an autosave need, in one query."""
    try:
        if saving:
            return service.load_for_saving(signed_in(), response_id, access)
        return service.load(get_scoped(signed_in(), Response, response_id, access, options=_WITH_VERSION))
    except service.ResponseError as exc:
        abort(409 if exc.code == "questionnaire_unusable" else 404, _status_message(exc.code))


def _page_or_404(loaded: service.Loaded, number: int):
    pages = loaded.form.pages
    if not 1 <= number <= len(pages):
        abort(404)
    return pages[number - 1]


def _render_page(loaded, number, *, errors=None, outcomes=None, posted=None, status=200, message=None):
    page = _page_or_404(loaded, number)
    language = current_language()
    errors, posted = _with_drafts(loaded, dict(errors or {}), dict(posted or {}), language)
    nodes = _form.attach_threads(_form.tree(loaded, page, language, errors, outcomes, posted), review.threads(loaded.id))
    pages = _pages(loaded)
    context = dict(
        response=loaded.response, loaded=loaded, page=page, number=number, pages=pages,
        ctx=_form.QuestionContext(loaded.id, number),
        page_label=pages[number - 1]["label"], nodes=nodes, applies=pages[number - 1]["applies"], editable=loaded.editable,
        indicators=_form.indicator_rows(loaded, loaded.form.indicators_on(page), language),
        progress=loaded.state.progress(page), message=message, lock=review_views.lock_reason(loaded.response),
        error_count=len(errors or {}) + sum(1 for o in (outcomes or {}).values() if o.status == "conflict"),
    )
    return render("responses/page.html", status=status, **context)


def _with_drafts(loaded: service.Loaded, errors: dict, posted: dict, language: str) -> tuple[dict, dict]:
    """The page's errors and posted values, with every refused value kept from earlier (what was
    typed, and why it was refused) where this request says nothing of that question."""
    if not loaded.editable:
        return errors, posted
    for path, draft in service.drafts(loaded.id).items():
        found = service.node_at(loaded, path)
        if found is None or path in errors or path in posted:
            continue
        node = found[0]
        errors[path] = _form.problem_message(loaded, node, draft.code, language, tuple(draft.params))
        posted[path] = (draft.value.split() if node.type in ("select_multiple", "rank", "geopoint") else draft.value,
                        None)
    return errors, posted


@bp.route("/<int:response_id>/pages/<int:number>", methods=["GET"])
@login_required
def page(response_id: int, number: int):
    loaded = _load_for(response_id)
    loaded.writable = _can_answer(loaded.response)
    return _render_page(loaded, number)


def _submitted_for(loaded: service.Loaded, paths) -> dict[str, service.Submitted]:
    submitted = {}
    for node, _index, path in paths:
        if f"p:{path}" not in request.form or node.read_only is True:
            continue
        if node.type in FILE_TYPES:
            upload = request.files.get(f"a:{path}")
            if upload is not None and upload.filename:
                raw = evidence_files.Upload(upload.filename, evidence_files.read(upload.stream))
            elif request.form.get(f"x:{path}"):
                raw = ""   # "remove this file" ticked
            else:   # no new file and none removed: the answer stays as it is
                raw = loaded.answers[path].value if path in loaded.answers else ""
        elif request.form.get("clear") == path:   # "Clear the answer" (a choice cannot be unticked)
            raw = ""
        else:
            raw = (request.form.getlist(f"a:{path}") if node.type in ("select_multiple", "rank", "geopoint")
                   else request.form.get(f"a:{path}", ""))
        evidence = request.form.get(f"e:{path}") if node.evidence in ("optional", "required-when-positive") else None
        try:
            version = int(request.form.get(f"v:{path}", "0") or 0)
        except ValueError:
            abort(400)
        submitted[path] = service.Submitted(raw, evidence, version)
    return submitted


@bp.route("/<int:response_id>/pages/<int:number>", methods=["POST"])
@login_required
def save_page(response_id: int, number: int):
    """Without JavaScript: save every answer of the page at once (all or nothing), and add or
    remove repeated entries."""
    loaded = _load_for(response_id, "answer")
    page_node = _page_or_404(loaded, number)
    submitted = _submitted_for(loaded, loaded.state.input_paths(page_node))
    try:
        saved = service.save_answers(signed_in(), loaded, submitted)
    except service.ResponseError as exc:
        db.session.rollback()
        flash(_status_message(exc.code), "error")
        return redirect(url_for("responses.page", response_id=response_id, number=number))
    outcomes = saved.outcomes
    if saved.rejected:
        db.session.rollback()
        if service.keep_drafts(signed_in(), loaded, outcomes):
            db.session.commit()
        language = current_language()
        errors = {}
        for path, outcome in outcomes.items():
            if outcome.status == "invalid":
                node, _index = service.node_at(loaded, path)
                errors[path] = _form.problem_message(loaded, node, outcome.code, language, outcome.params)
        fresh = service.load(loaded.response)
        posted = {path: (item.raw, item.evidence) for path, item in submitted.items()}
        return _render_page(fresh, number, errors=errors, outcomes=outcomes, posted=posted, status=400,
                            message=_("Nothing was saved. Correct the answers marked below and save again."))
    action = request.form.get("repeat_action", "")
    anchor = _form.html_id(request.form["clear"]) if request.form.get("clear") in submitted else ""
    if action:
        verb, _sep, target = action.partition(":")
        try:
            if verb == "add":
                loaded = service.load(loaded.response)
                added = service.add_instance(signed_in(), loaded, target)
                anchor = _form.html_id(f"{target}[{added}]")
            elif verb == "remove":
                container, _sep, instance = target.rpartition("#")
                loaded = service.load(loaded.response)
                service.remove_instance(signed_in(), loaded, container, int(instance))
                anchor = _form.html_id(container)
            else:
                abort(400)
        except (service.ResponseError, ValueError) as exc:
            db.session.rollback()
            flash(_status_message(getattr(exc, "code", "")), "error")
            return redirect(url_for("responses.page", response_id=response_id, number=number))
    db.session.commit()
    if not action and not anchor:
        flash(_("Your answers on this page are saved."), "success")
    target = request.form.get("go")
    next_number = number + 1 if target == "next" else number - 1 if target == "previous" else number
    next_number = min(max(next_number, 1), len(loaded.form.pages))
    return redirect(url_for("responses.page", response_id=response_id, number=next_number,
                            _anchor=anchor or None))


@bp.route("/<int:response_id>/answer", methods=["POST"])
@login_required
def autosave(response_id: int):
    """HTMX: save one answer as it changes; reply with its status and what changed on the page."""
    loaded = _load_for(response_id, "answer", saving=True)
    path = request.form.get("path", "")
    try:
        number = int(request.form.get("page", "0"))
    except ValueError:
        abort(400)
    _page_or_404(loaded, number)
    language = current_language()
    try:
        node, index = service.target(loaded, path, page=number)
    except service.ResponseError:
        return _autosave_error(_status_message("unknown_question"), 422)
    submitted = _submitted_for(loaded, [(node, index, path)])
    if path not in submitted:
        return _autosave_error(_status_message("unknown_question"), 422)
    try:
        saved = service.save_answers(signed_in(), loaded, submitted)
    except service.ResponseError as exc:
        db.session.rollback()
        return _autosave_error(_status_message(exc.code), 409)
    outcome = saved.outcomes[path]
    context = _form.QuestionContext(loaded.id, number)
    if saved.rejected:
        db.session.rollback()
        if service.keep_drafts(signed_in(), loaded, saved.outcomes):   # a reload shows it, and why
            db.session.commit()
        error = _form.problem_message(loaded, node, outcome.code, language, outcome.params) \
            if outcome.status == "invalid" else None
        view = _form.question(loaded, node, index, language, error=error, outcome=outcome,
                              posted=submitted[path].raw, posted_evidence=submitted[path].evidence)
        body = _autosave_reply(view, context,
                               status_text=_("Not saved: %(reason)s", reason=error) if error else
                               _("Not saved: someone else changed this answer at the same time."))
        return _fragment(body, 422 if outcome.status == "invalid" else 409)
    db.session.commit()
    # Only what the saved answer changed is drawn again, as the service says.
    changes = service.page_changes(loaded, outcome, number)
    saved_problem = service.problem(loaded, node, index, path)
    error = _form.problem_message(loaded, node, saved_problem.code, language) \
        if saved_problem and saved_problem.code == "evidence_required" else None
    view = _form.question(loaded, node, index, language, error=error, outcome=outcome)
    status_text = _("Saved ✓ %(time)s", time=format_time(utcnow(), "short")) if outcome.status == "saved" else None
    progress = pages = None
    if changes.sections is not None:
        progress, pages = loaded.state.progress(loaded.form.pages[number - 1]), _pages(loaded, set(changes.sections))
    changed = [_form.view_of(loaded, n, i, language) for n, i in changes.nodes]
    if changed:   # drawn again whole: with their review comments
        _form.attach_threads(changed, review.threads(loaded.id))
    body = _autosave_reply(view, context, status_text, changed=changed,
                           progress=progress, pages=pages,
                           indicators=_form.indicator_rows(loaded, changes.indicators, language))
    return _fragment(body, 200)


def _autosave_reply(*args, **kwargs) -> str:
    return get_template_attribute("_macros/form.html", "autosave_reply")(*args, **kwargs)


def _fragment(body: str, status: int):
    response = make_response(body, status)
    response.vary.add("HX-Request")  # 409 and 422 are swapped too (htmx-config responseHandling)
    return response


def _autosave_error(message: str, status: int):
    body = get_template_attribute("_macros/form.html", "save_status")(message)
    response = make_response(body, status)
    response.headers["HX-Retarget"] = "#save-status"
    response.headers["HX-Reswap"] = "outerHTML"
    return response


# -- submit and history -----------------------------------------------------------------

@bp.route("/<int:response_id>/submit", methods=["GET", "POST"])
@login_required
def submit(response_id: int):
    """Review what will be submitted — the indicator scorecard and every answer, section by
    section — or what is missing, grouped by section; then submit with a confirmation."""
    loaded = _load_for(response_id, "answer" if request.method == "POST" else "read")
    can_answer = _can_answer(loaded.response)
    unconfirmed = False
    if request.method == "GET":
        problems = service.problems(loaded)
    elif request.form.get("confirm") != "yes":
        problems, unconfirmed = service.problems(loaded), True
    else:
        try:
            problems = review.submit(signed_in(), loaded, request.form.get("version", type=int))
        except ServiceError as exc:   # a second click, or a tab older than the last change
            db.session.rollback()
            flash(_status_message(exc.code), "error")
            return redirect(url_for("responses.show", response_id=response_id))
        if not problems:
            db.session.commit()
            notices.send(loaded.response, ReviewAction.SUBMIT)
            return redirect(url_for("responses.receipt", response_id=response_id))
        db.session.rollback()
    language = current_language()
    pages = {item["number"]: item["label"] for item in _pages(loaded)}
    grouped: dict[int, dict] = {}
    waiting = service.drafts(loaded.id) if any(p.code == "not_saved" for p in problems) else {}
    for problem in problems:
        number = loaded.form.page_of(problem.node)
        label = _form.question(loaded, problem.node, problem.index, language).label.text
        grouped.setdefault(number, {"number": number, "label": pages.get(number, ""), "items": []})["items"].append(
            {"label": label, "message": _form.draft_message(loaded, problem.node, waiting[problem.path], language)
             if problem.code == "not_saved" else _form.problem_message(loaded, problem.node, problem.code, language),
             "url": url_for("responses.page", response_id=response_id, number=number,
                            _anchor=_form.html_id(problem.path))})
    ready = not problems and can_answer
    return render("responses/submit.html", response=loaded.response, problems=len(problems),
                  by_section=[grouped[number] for number in sorted(grouped)], can_answer=can_answer,
                  unconfirmed=unconfirmed, sections=_form.sections(loaded, language) if ready else [],
                  scorecard=_form.scorecard(loaded, language) if ready else None,
                  status=400 if (request.method == "POST" and (problems or unconfirmed)) else 200)


@bp.route("/<int:response_id>/receipt")
@login_required
def receipt(response_id: int):
    """What was submitted, when and by whom: the official's proof of submission."""
    loaded = _load_for(response_id)
    response = loaded.response
    if response.submitted_at is None:
        abort(404)
    language = current_language()
    return render("responses/receipt.html", response=response, loaded=loaded,
                  submitted=review.last_event(response.id, ReviewAction.SUBMIT),
                  progress=loaded.state.progress(), scorecard=_form.scorecard(loaded, language))


@bp.route("/<int:response_id>/print")
@login_required
def printable(response_id: int):
    """The whole response on paper: its facts, scorecard and every answer (print CSS)."""
    loaded = _load_for(response_id)
    loaded.writable = False
    language = current_language()
    return render("responses/print.html", response=loaded.response, loaded=loaded,
                  sections=_form.sections(loaded, language), scorecard=_form.scorecard(loaded, language))


@bp.route("/<int:response_id>/files/<name>")
@login_required
def evidence_file(response_id: int, name: str):
    """An uploaded evidence document, to whoever may read the response. Pictures, sound and
    video open in the browser; other documents download. Nothing in it runs: the reply forbids
    scripts and guessing its type."""
    row, content = evidence_files.opened(signed_in(), response_id, name)
    inline = row.media_type.split("/")[0] in ("image", "audio", "video")
    source = content if isinstance(content, str) else io.BytesIO(content) if isinstance(content, bytes) else content
    reply = send_file(source, mimetype=row.media_type, as_attachment=not inline, download_name=row.original,
                      max_age=0, conditional=isinstance(content, str), etag=row.name.partition(".")[0])
    reply.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    reply.headers["Cache-Control"] = "private, no-store"
    return reply


@bp.route("/<int:response_id>/history")
@login_required
def history(response_id: int):
    loaded = _load_for(response_id)
    path = request.args.get("path") or None
    language = current_language()
    files = _form.files_of(loaded) if loaded.form.has_files else None
    lines = [history_lines.line(event, loaded.form, language, files) for event in service.history(loaded.id, path)]
    return render("responses/history.html", response=loaded.response, lines=lines, path=path)
