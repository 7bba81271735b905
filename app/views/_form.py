"""What the form templates need for each question, built from the compiled form and state."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import format_currency, format_decimal, ngettext

from app.models import ThreadKind
from app.services import cycles
from app.services import evidence as evidence_files
from app.services import scores
from app.services.scores import IndicatorResult
from app.services.responses import Loaded, Outcome
from app.xlsform.compiled import Node
from app.xlsform.definition import FILE_TYPES
from app.xlsform.expressions import to_string
from app.xlsform.state import Index, node_path

_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def html_id(path: str) -> str:
    return "q-" + _ID_UNSAFE.sub("-", path)


_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")


@dataclass
class Text:
    text: str
    fallback: bool = False   # shown in the form's default language, in a form that has others
    lang: str = ""           # the language of a text not in the reader's


@dataclass
class QuestionView:
    node: Node
    index: Index
    path: str
    id: str
    label: Text
    hint: Text | None
    value: str
    selected: list[str]
    evidence: str
    version: int
    required: bool
    relevant: bool
    editable: bool
    choices: list[tuple[str, Text]] = field(default_factory=list)
    error: str | None = None
    outcome: Outcome | None = None
    display: str = ""          # calculated value or read-only answer, shown as text
    threads: list = field(default_factory=list)   # review comments on this answer
    file: FileView | None = None   # a file question's uploaded document
    evidence_shown: bool = False   # the evidence box, where the answer asks for it
    currency: str = ""             # an amount's currency (ISO code), shown beside its input

    @property
    def kind(self) -> str:
        return self.node.type

    @property
    def is_file(self) -> bool:
        return self.node.type in FILE_TYPES

    @property
    def accept(self) -> str:
        return evidence_files.accept(self.node.type)

    @property
    def limits(self) -> str:
        return _("Accepted: %(types)s. At most %(size)s.",
                 types=", ".join(f".{ext}" for ext in evidence_files.extensions(self.node.type)),
                 size=file_size(evidence_files.max_bytes()))

    @property
    def described_by(self) -> str:
        ids = []
        if self.hint:
            ids.append(f"{self.id}-hint")
        if self.is_file:
            ids.append(f"{self.id}-limits")
        if self.currency:
            ids.append(f"{self.id}-unit")
        if self.error:
            ids.append(f"{self.id}-error")
        return " ".join(ids)


@dataclass(frozen=True)
class FileView:
    """An uploaded document as a question shows it: its name as uploaded, its size, a link
    (built when asked for: a workbook written by a worker shows the name only)."""
    original: str
    size: str
    response_id: int
    name: str

    @property
    def url(self) -> str:
        return url_for("responses.evidence_file", response_id=self.response_id, name=self.name)


def file_view(response_id: int, name: str, row=None) -> FileView | None:
    """The uploaded file ``name`` of the response (None when it holds no such file)."""
    row = row if row is not None else evidence_files.find(response_id, name)
    if row is None:
        return None
    return FileView(row.original, file_size(row.size), response_id, row.name)


def files_of(loaded: Loaded) -> dict[str, FileView]:
    """Every file uploaded to the response (the current answers' and earlier ones), by stored name."""
    return {name: file_view(loaded.id, name, row) for name, row in evidence_files.files(loaded.id).items()}


def file_size(size: int) -> str:
    if size < 1024 * 1024:
        return _("%(size)s kB", size=format_decimal(max(1, round(size / 1024))))
    return _("%(size)s MB", size=format_decimal(round(size / (1024 * 1024), 1)))


def text_of(loaded: Loaded, texts: dict[str, str], language: str, node: Node | None = None,
            index: Index = ()) -> Text:
    """A text of the questionnaire in ``language`` (else its default language, marked), with
    ``${name}`` references filled in when a node is given."""
    text, fallback = loaded.form.text(texts, language)
    if node is not None:
        text = loaded.state.interpolate(text, node, index)
    lang = loaded.form.default_language.replace("_", "-") if fallback else ""
    # "(not translated)" only where the form has another language; ``lang`` only with a real
    # tag (a form's texts without a language are "default", a language by an unknown name its name)
    return Text(text, fallback and len(loaded.form.languages) > 1, lang if _LANGUAGE_TAG.match(lang) else "")


def input_error(code: str, params: tuple = ()) -> str:
    messages = {
        "not_integer": lambda: _("Enter a whole number, such as 12."),
        "not_number": lambda: _("Enter a number, such as 12.5."),
        "number_too_large": lambda: _("The number is too large."),
        "out_of_bounds": lambda: _("Enter a number from %(low)s to %(high)s.", low=params[0], high=params[1]),
        "too_many_decimals": lambda: ngettext("Use at most %(num)d digit after the decimal point.",
                                              "Use at most %(num)d digits after the decimal point.", params[0]),
        "control_character": lambda: _("Remove the invisible control characters from the answer."),
        "out_of_range": lambda: _("Enter a value from %(low)s to %(high)s in steps of %(step)s.",
                                  low=params[0], high=params[1], step=params[2]),
        "too_long": lambda: _("Use at most %(limit)d characters.", limit=params[0]),
        "not_date": lambda: _("Enter a date as year-month-day, such as 2026-03-31."),
        "not_time": lambda: _("Enter a time as hours:minutes, such as 14:30."),
        "not_datetime": lambda: _("Enter a date and time, such as 2026-03-31T14:30."),
        "unknown_choice": lambda: _("Choose one of the offered answers."),
        "one_choice_only": lambda: _("Choose only one answer."),
        "duplicate_choice": lambda: _("Each answer can be chosen only once."),
        "rank_all": lambda: _("Put every option in order."),
        "not_acknowledged": lambda: _("Confirm by ticking the box."),
        "not_geopoint": lambda: _("Enter a latitude and a longitude in decimal degrees, such as 42.4411 and 19.2636."),
        "latitude_range": lambda: _("A latitude is from -90 to 90."),
        "longitude_range": lambda: _("A longitude is from -180 to 180."),
        "evidence_required": lambda: _("Name the evidence (means of verification) for this answer."),
        "file_empty": lambda: _("The file is empty. Choose the document again."),
        "file_too_large": lambda: _("The file is too large: at most %(size)s.", size=file_size(params[0])),
        "file_type_refused": lambda: _("This kind of file is not accepted here. Accepted: %(types)s.",
                                       types=params[0]),
        "file_content_mismatch": lambda: _("The file's content is not what its name says (.%(extension)s). "
                                           "Save it again in that format, or choose another file.",
                                           extension=params[0]),
        "unknown_file": lambda: _("Choose a file to upload."),
        "not_saved": lambda: _("What was typed here was not saved: it is not valid. Correct it."),
    }
    make = messages.get(code)
    return make() if make else _("This answer cannot be saved.")


class QuestionContext:
    """What the question widgets of one page share (``ctx`` in the templates). Its links are
    built once per page rather than once per question, and only if a widget needs them (an
    autosave reply often renders none)."""

    preview = False

    def __init__(self, response_id: int, number: int):
        self.response_id, self.number = response_id, number

    @cached_property
    def autosave_url(self) -> str:
        return url_for("responses.autosave", response_id=self.response_id)

    @cached_property
    def history_url(self) -> str:
        return url_for("responses.history", response_id=self.response_id)


class PreviewContext:
    """The ``ctx`` of a questionnaire's preview: no response, so nothing to save or look back on;
    the widgets are shown, disabled."""

    preview = True

    def __init__(self, number: int):
        self.response_id, self.number = 0, number
        self.autosave_url = self.history_url = ""


def problem_message(loaded: Loaded, node: Node, code: str, language: str, params: tuple = ()) -> str:
    if code == "required":
        return text_of(loaded, node.required_message, language).text or _("This question needs an answer.")
    if code == "constraint":
        return text_of(loaded, node.constraint_message, language).text or _("This answer is not allowed here.")
    return input_error(code, params)


def question(loaded: Loaded, node: Node, index: Index, language: str, *, error: str | None = None,
             outcome: Outcome | None = None, posted: str | list[str] | None = None,
             posted_evidence: str | None = None) -> QuestionView:
    state = loaded.state
    path = node_path(node, index)
    answer = loaded.answers.get(path)
    if posted is None or node.type in FILE_TYPES:   # a file chosen but refused was not kept: the stored one shows
        value = state.answer(path)
    else:
        value = " ".join(posted) if isinstance(posted, list) else posted
    view = QuestionView(
        node=node, index=index, path=path, id=html_id(path),
        label=text_of(loaded, node.label, language, node, index),
        hint=text_of(loaded, node.hint, language, node, index) if node.hint else None,
        value=value, selected=value.split() if node.type in ("select_multiple", "rank", "select_one") else [],
        evidence=(posted_evidence if posted_evidence is not None else (answer.evidence if answer else "")) or "",
        version=outcome.version if outcome and outcome.status == "conflict" else (answer.version if answer else 0),
        required=state.required(node, index), relevant=state.is_relevant(path),
        editable=loaded.editable and not state.read_only(node, index),
        error=error, outcome=outcome,
    )
    if node.list_name:
        view.choices = [(c.name, text_of(loaded, c.label, language)) for c in state.choices(node, index)]
    if node.type in FILE_TYPES and value:
        view.file = file_view(loaded.id, value)
    if node.money and loaded.response is not None:
        view.currency = _currency(loaded.response) or ""
    view.evidence_shown = bool(view.evidence) or scores.evidence_asked(loaded.form, state, node, index, path)
    if node.type == "calculate" or not view.editable:
        view.display = _display(loaded, node, path, value, language)
    return view


def sections(loaded: Loaded, language: str) -> list[dict]:
    """The response's relevant answers, section by section (what a reviewer reads, what an
    official checks before submitting, what the printed copy holds)."""
    result = []
    for number, page in enumerate(loaded.form.pages, start=1):
        views = [question(loaded, node, index, language) for node, index, _path in loaded.state.input_paths(page)]
        views = [view for view in views if view.relevant]
        if views:
            label = loaded.form.text(page.label, language)[0] if page.label else _("Questions")
            result.append({"number": number, "label": label, "questions": views})
    return result


def scorecard(loaded: Loaded, language: str) -> dict:
    """The response's own indicator values and area scores, as its answers make them now."""
    results = scores.indicators(loaded.form, loaded.state)
    areas = scores.areas(loaded.form, results)
    return {
        "areas": [{"code": area.code, "label": text_of(loaded, area.label, language) if area.label else None,
                   "result": areas.get(area.code)} for area in loaded.form.areas if area.code in areas],
        "indicators": [IndicatorRow(code, text_of(loaded, indicator.label, language), indicator.method, results[code])
                       for code, indicator in loaded.form.indicators.items()],
    }


def draft_message(loaded: Loaded, node: Node, draft, language: str) -> str:
    """A refused value kept from earlier, as the submit page lists it."""
    return _("Not saved: “%(value)s”. %(reason)s", value=draft.value[:80],
             reason=problem_message(loaded, node, draft.code, language, tuple(draft.params)))


def computation_problem(code: str) -> str:
    """Why a calculated value or an indicator is shown as "cannot be computed"."""
    reasons = {
        "not_finite": lambda: _("the result is not a finite number"),
        "out_of_range": lambda: _("the result is too large to mean anything"),
        "time_budget": lambda: _("the questionnaire took too long to evaluate"),
    }
    make = reasons.get(code)
    reason = make() if make else _("an expression in the questionnaire fails on these answers")
    return _("cannot be computed: %(reason)s", reason=reason)


def _display(loaded: Loaded, node: Node, path: str, value: str, language: str) -> str:
    if node.type == "calculate":
        failure = loaded.state.failure(path)
        if failure:
            return computation_problem(failure)
        text = to_string(loaded.state.value(path))
        return "" if text == "NaN" else text
    if node.list_name:
        return ", ".join(loaded.form.choice_label(node.list_name, item, language) for item in value.split())
    if node.type in FILE_TYPES and value:
        shown = file_view(loaded.id, value)
        return shown.original if shown else value
    if node.money and value and loaded.response is not None:
        return money_text(value, loaded.response)
    return value


def _currency(response) -> str | None:
    """The currency the response's amounts are answered in: its country's, in the cycle's period."""
    return cycles.currency_of(response.institution.country.code, response.cycle.period_end)


def money_text(value: str, response) -> str:
    """An amount in the institution's national currency, with its value in euro at the cycle's
    exchange rate: "2,344,000 RSD (≈ €20,000.00 at the cycle's rate)"; without a rate, the amount
    and its currency alone."""
    cycle = response.cycle
    currency = _currency(response)
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return value
    if currency is None:
        return format_decimal(amount)
    shown = f"{format_decimal(amount)} {currency}"
    rate = (cycle.rates or {}).get(currency)
    if currency == "EUR" or not rate:
        return shown
    return _("%(amount)s (≈ %(euro)s at the cycle's rate)", amount=shown,
             euro=format_currency(float(amount) / rate, "EUR"))


@dataclass
class NodeView:
    node: Node
    index: Index
    path: str
    id: str
    relevant: bool
    label: Text | None = None
    children: list[Any] = field(default_factory=list)      # NodeView | QuestionView
    instances: list[tuple[int, list[Any]]] = field(default_factory=list)  # repeats: (number, children)
    can_add: bool = False

    @property
    def level(self) -> int:
        """Its heading's level: h2 under the page's h1, one deeper per group it sits in."""
        return min(6, max(2, 1 + sum(1 for _ in self.node.ancestors())))


def view_of(loaded: Loaded, node: Node, index: Index, language: str, errors: dict[str, str] | None = None,
            outcomes: dict[str, Outcome] | None = None, posted: dict[str, tuple] | None = None) -> Any:
    """One node as a view: a question, or a group or repeat with everything inside it."""
    errors, outcomes, posted = errors or {}, outcomes or {}, posted or {}
    path = node_path(node, index)
    if node.kind == "question":
        raw = posted.get(path)
        return question(loaded, node, index, language, error=errors.get(path), outcome=outcomes.get(path),
                        posted=raw[0] if raw else None, posted_evidence=raw[1] if raw else None)
    view = NodeView(node, index, path, html_id(path), loaded.state.is_relevant(path),
                    text_of(loaded, node.label, language, node, index) if node.label else None)
    if node.kind == "group":
        view.children = [view_of(loaded, child, index, language, errors, outcomes, posted) for child in node.children]
    else:
        count = loaded.state.count(node, index)
        view.instances = [(number, [view_of(loaded, child, index + (number,), language, errors, outcomes, posted)
                                    for child in node.children]) for number in range(1, count + 1)]
        view.can_add = loaded.editable and node.repeat_count is None
    return view


def attach_threads(views: list[Any], threads: dict) -> list[Any]:
    """Give each question view its review threads (``review.threads`` of the response)."""
    todo = list(views)
    while todo:
        view = todo.pop()
        if isinstance(view, QuestionView):
            view.threads = threads.get((ThreadKind.QUESTION, view.path), [])
        else:
            todo.extend(view.children)
            todo.extend(child for _number, children in view.instances for child in children)
    return views


def tree(loaded: Loaded, page: Node, language: str, errors: dict[str, str] | None = None,
         outcomes: dict[str, Outcome] | None = None, posted: dict[str, tuple] | None = None) -> list[Any]:
    """The page's nodes as views, in document order."""
    if page.kind == "repeat":  # a repeat at the top level is a page of its own
        return [view_of(loaded, page, (), language, errors, outcomes, posted)]
    return [view_of(loaded, child, (), language, errors, outcomes, posted) for child in page.children]


@dataclass
class IndicatorRow:
    code: str
    label: Text
    method: str            # points | ratio | band: how the value is shown
    result: IndicatorResult

    @property
    def problem(self) -> str | None:
        return computation_problem(self.result.problem) if self.result.problem else None


def indicator_rows(loaded: Loaded, codes: list[str], language: str) -> list[IndicatorRow]:
    results = scores.indicators(loaded.form, loaded.state, codes)
    return [IndicatorRow(code, text_of(loaded, loaded.form.indicators[code].label, language),
                         loaded.form.indicators[code].method, result) for code, result in results.items()]


__all__ = ["FileView", "IndicatorRow", "draft_message", "file_size", "file_view", "files_of", "NodeView", "QuestionContext", "QuestionView", "html_id", "indicator_rows",
           "attach_threads", "problem_message", "question", "scorecard", "sections", "text_of", "tree", "view_of"]
