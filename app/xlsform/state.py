"""The state of one response under its compiled form: repeat instances, typed values,
calculations, relevance and validation. Pure: answers in, state out.

Semantics follow ODK: a question that is not relevant keeps its stored answer but counts as
blank for expressions, validation, scoring and export; relevance is inherited from groups
and repeats; ``required`` and ``constraint`` apply only to relevant questions; a reference to
a question in a repeat from outside that repeat is the list of its values.

Every node is evaluated after what it reads (``CompiledForm.order``, a topological order worked
out once per version), so no evaluation recurses from one calculation into the next, however
long the chain, and a form may read ahead as ODK allows. A state is computed as it is read:
asking whether one question is relevant evaluates what it reads (``CompiledForm.
prerequisites``), then it, and nothing else (saving one answer checks one question, not the
whole form); this is the same as evaluating the whole form in order. A form that reads in a
circle (``CompiledForm.cyclic``) is evaluated whole when the state is made, in document order,
in two passes.

Bounded: a repeat has at most ``MAX_INSTANCES`` entries and the form ``MAX_TOTAL_INSTANCES``
in all; one state spends at most ``TIME_BUDGET`` seconds evaluating. What cannot be computed
(a runtime error, a number that is not finite, the budget spent) is blank, and
``failure(path)`` says why.
"""
from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.xlsform.compiled import REFERENCE, Choice, CompiledForm, Node
from app.xlsform.expressions import Expression, ExpressionError, NodeSet, Timeout, to_bool, to_number, to_string
from app.xlsform.values import parse_input, typed, InputError

Index = tuple[int, ...]
_NO_REPEAT: list[Index] = [()]
_UNKNOWN = object()  # not evaluated yet
MAX_INSTANCES = 200         # entries of one repeat, per entry of the repeat around it
MAX_TOTAL_INSTANCES = 500   # entries of every repeat of the form together
TIME_BUDGET = 1.0           # seconds one state may spend evaluating expressions


def repeat_chain(node: Node) -> tuple[Node, ...]:
    """The repeats enclosing ``node``, outermost first (not ``node`` itself)."""
    return node.chain


def node_path(node: Node, index: Index) -> str:
    """``name``, or ``shelter[2]/beds`` inside a repeat; for a repeat node, its container ``shelter``."""
    if not node.chain:
        return node.name
    parts = [f"{repeat.name}[{i}]" for repeat, i in zip(node.chain, index)]
    return "/".join(parts + [node.name])


def parse_path(form: CompiledForm, path: str) -> tuple[Node, Index] | None:
    """The node and repeat index a stored answer path names, or None if it names nothing."""
    if "/" not in path:  # outside repeats (most answers): the path is the name
        node = form.by_name.get(path)
        return (node, ()) if node is not None and not node.chain else None
    parts = path.split("/")
    index: list[int] = []
    for part in parts[:-1]:
        name, sep, rest = part.partition("[")
        if not sep or not rest.endswith("]") or not rest[:-1].isdigit():
            return None
        node = form.by_name.get(name)
        if node is None or node.kind != "repeat" or int(rest[:-1]) < 1:
            return None
        index.append(int(rest[:-1]))
    node = form.by_name.get(parts[-1])
    if node is None:
        return None
    chain = repeat_chain(node)
    if [r.name for r in chain] != [p.partition("[")[0] for p in parts[:-1]]:
        return None
    return node, tuple(index)


@dataclass(frozen=True)
class Problem:
    code: str                 # required, constraint, evidence_required
    node: Node
    index: Index
    path: str


class _Context:
    __slots__ = ("state", "node", "index", "value", "chain", "choice")

    def __init__(self, state: FormState, node: Node, index: Index, value: Any = "", choice: Choice | None = None):
        self.state, self.node, self.index, self.value, self.choice = state, node, index, value, choice
        self.chain = node.chain + ((node,) if node.kind == "repeat" and len(index) > len(node.chain) else ())

    def lookup(self, name: str) -> Any:
        state = self.state
        target = state.form.by_name.get(name)
        if target is None or target.kind != "question":
            return ""
        if not target.chain:  # outside repeats: one value, under its name
            found = state._values.get(name, _UNKNOWN)
            return found if found is not _UNKNOWN else state._value(target, (), name)
        target_chain = target.chain
        shared = 0
        while shared < min(len(target_chain), len(self.chain), len(self.index)) and \
                target_chain[shared] is self.chain[shared]:
            shared += 1
        prefix = self.index[:shared]
        if len(target_chain) == shared:
            return state._value(target, prefix, node_path(target, prefix))
        return NodeSet(state._value(target, full, node_path(target, full))
                       for full in state.instances(target) if full[:shared] == prefix)

    def current(self) -> Any:
        return self.value

    def choice_label(self, name: str, value: str) -> str:
        """The label of choice ``value`` of question ``name``, in the form's default language."""
        form = self.state.form
        node = form.by_name.get(name)
        if node is None or not node.list_name:
            return ""
        return form.choice_label(node.list_name, value, form.default_language) if value else ""

    def list_item(self, list_name: str, key: str, value: str, column: str) -> Any:
        """A column of the first choice of ``list_name`` whose ``key`` column holds ``value``:
        its name, its label (in the form's default language), its score, or another column."""
        form = self.state.form
        for choice in form.choices.get(list_name, ()):
            if (choice.name if key == "name" else choice.extra.get(key, "")) != value:
                continue
            if column == "name":
                return choice.name
            if column == "label" or column.startswith("label:"):
                return form.choice_label(list_name, choice.name, form.default_language)
            if column == "score":
                return "" if choice.score is None else choice.score
            return choice.extra.get(column, "")
        return ""

    def column(self, name: str) -> Any:
        if self.choice is None:
            return ""
        return self.choice.name if name == "name" else self.choice.extra.get(name, "")

    def position(self) -> int:
        return self.index[-1] if self.index else 1

    def today(self) -> date:
        return self.state.today

    def deadline(self) -> float:
        return self.state.deadline


class FormState:
    def __init__(self, form: CompiledForm, answers: dict[str, str], evidence: dict[str, str] | None = None,
                 today: date | None = None, whole: bool = False, kind: str | None = None):
        """``whole``: evaluate every node now, in document order, which costs less than node by
        node when the whole state will be read (an export). ``kind``: the kind of institution
        answering; a question asked of other kinds only (``applies_to``) is not relevant (with
        no kind, as in a preview, everything is asked)."""
        self.form = form
        self.kind = kind
        self.stored = answers
        self.evidence = evidence or {}
        self.today = today or date.today()
        # What has been evaluated, by path (a question's or group's relevance and value, a
        # repeat's number of entries, the default shown for an unanswered question).
        self._relevant: dict[str, bool] = {}
        self._values: dict[str, Any] = {}
        self._counts: dict[str, int] = {}
        self._defaulted: dict[str, str] = {}
        self._typed: dict[str, Any] = {}  # stored answers as typed values, each typed once
        self._progress: dict[int, tuple[int, int]] = {}
        self._ready: set[str] = set()     # nodes whose prerequisites are evaluated at every entry
        self._complete: set[str] = set()  # nodes evaluated at every entry
        self._entries = 0                 # repeat entries so far (MAX_TOTAL_INSTANCES)
        self.failures: dict[str, str] = {}   # path → why it could not be computed
        self.deadline = time.monotonic() + TIME_BUDGET
        self._lazy = not (whole or form.cyclic)
        if self._lazy:
            return
        if form.cyclic:
            # Expressions read in a circle: the first pass sees the stored answers of later
            # questions, the second what the first made of them.
            for path in answers:
                parsed = parse_path(form, path)
                if parsed is not None and parsed[0].kind == "question":
                    self._values[path] = self._typed_answer(parsed[0], path)
        for _pass in range(2 if form.cyclic else 1):
            self._evaluate()

    # -- instances --------------------------------------------------------------------
    def instances(self, node: Node) -> list[Index]:
        """Every repeat index at which ``node`` exists (for a repeat node: its containers)."""
        if not node.chain:
            return _NO_REPEAT
        indexes: list[Index] = [()]
        for repeat in node.chain:
            expanded: list[Index] = []
            for prefix in indexes:
                expanded.extend(prefix + (i,) for i in range(1, self.count(repeat, prefix) + 1))
            indexes = expanded
        return indexes

    def count(self, repeat: Node, prefix: Index = ()) -> int:
        """How many entries the repeat has in the container ``prefix`` (0 where there is none)."""
        path = node_path(repeat, prefix)
        found = self._counts.get(path)
        if found is None:
            found = self._counts[path] if self._evaluate_now(repeat, prefix, path) else 0
        return found

    def _evaluate_now(self, node: Node, index: Index, path: str) -> bool:
        """Evaluate ``node`` at ``index``, not evaluated yet, if the state is read lazily and
        that entry exists; whether it was."""
        if not self._lazy or not self._exists(node, index):
            return False
        self._prepare(node)
        if path not in self._relevant:
            self._evaluate_at(node, index, path, self._parent_relevant(node, index))
        return True

    def _prepare(self, node: Node) -> None:
        """Evaluate, at every entry and in evaluation order, what ``node`` reads (through its
        groups, repeats and expressions): each then reads values already evaluated, and
        evaluation never recurses from one calculation into the next."""
        if node.name in self._ready:
            return
        self._ready.add(node.name)
        for before in self.form.prerequisites(node):
            if before.name in self._complete:
                continue
            self._complete.add(before.name)
            self._ready.add(before.name)   # what it reads comes before it, in this same loop
            for index in self.instances(before):
                path = node_path(before, index)
                if path not in self._relevant:
                    self._evaluate_at(before, index, path, self._parent_relevant(before, index))

    def _exists(self, node: Node, index: Index) -> bool:
        if len(index) != len(node.chain):
            return False
        return all(1 <= index[depth] <= self.count(repeat, index[:depth]) for depth, repeat in enumerate(node.chain))

    # -- evaluation -------------------------------------------------------------------
    def _evaluate(self) -> None:
        """Evaluate every node, each after what it reads (in document order for a form that
        reads in a circle)."""
        for node in self.form.order:
            if not node.chain:  # outside repeats (most nodes): one instance, its path the name
                parent = node.parent  # outside repeats too
                relevant = parent is None or self._relevant.get(parent.name, True)
                self._evaluate_at(node, (), node.name, relevant)
                continue
            for index in self.instances(node):
                self._evaluate_at(node, index, node_path(node, index), self._parent_relevant(node, index))

    def _relevance(self, node: Node, index: Index, path: str) -> bool:
        found = self._relevant.get(path)
        if found is None:
            found = self._relevant[path] if self._evaluate_now(node, index, path) else False
        return found

    def _value(self, node: Node, index: Index, path: str) -> Any:
        found = self._values.get(path, _UNKNOWN)
        if found is _UNKNOWN:
            found = self._values[path] if self._evaluate_now(node, index, path) else ""
        return found

    def _evaluate_at(self, node: Node, index: Index, path: str, relevant: bool) -> None:
        """Relevance and value of ``node`` at ``index``, its parent's relevance given."""
        if relevant and node.applies_to and self.kind is not None and self.kind not in node.applies_to:
            relevant = False
        if relevant and node.relevant is not None:
            relevant = self._true(node.relevant, node, index, default=True, path=path)
        self._relevant[path] = relevant
        kind = node.kind
        if kind == "question":
            if node.calculation is not None:
                self._values[path] = self._finite(self._eval(node.calculation, node, index, path=path), path) \
                    if relevant else ""
            elif not relevant:
                self._values[path] = ""
            elif path in self.stored:
                self._values[path] = self._typed_answer(node, path)
            elif node.default is not None and node.is_input:
                stored = self._default(node, index)
                if stored:
                    self._defaulted[path] = stored
                self._values[path] = typed(node, stored)
            else:
                self._values[path] = ""
        elif kind == "repeat":
            self._counts[path] = self._repeat_count(node, index, path)

    def _typed_answer(self, node: Node, path: str) -> Any:
        found = self._typed.get(path, _UNKNOWN)
        if found is _UNKNOWN:
            found = self._typed[path] = typed(node, self.stored[path])
        return found

    def _repeat_count(self, node: Node, index: Index, path: str) -> int:
        """The repeat's entries: as its count says or as many as were added, within the limits
        per repeat and for the whole form (repeats are counted in document order)."""
        if node.repeat_count is not None:
            number = to_number(self._eval(node.repeat_count, node, index, path=path))
        else:
            number = to_number(self.stored.get(path, "0") or "0")
        if not math.isfinite(number):
            return 0
        count = max(0, min(MAX_INSTANCES, MAX_TOTAL_INSTANCES - self._entries, int(number)))
        self._entries += count
        return count

    def _default(self, node: Node, index: Index) -> str:
        default = node.default
        if isinstance(default, Expression):
            value = to_string(self._eval(default, node, index))
        else:
            value = str(default)
        try:
            return parse_input(self.form, node, value)
        except InputError:
            return ""

    def _parent_relevant(self, node: Node, index: Index) -> bool:
        """Whether the group or repeat holding ``node`` is relevant (a repeat: its container)."""
        parent = node.parent
        if parent is None:
            return True
        prefix = index[:len(parent.chain)]
        return self._relevance(parent, prefix, node_path(parent, prefix))  # whole: evaluated before its children

    def _eval(self, expression: Expression, node: Node, index: Index, value: Any = "", *,
              path: str | None = None, choice: Choice | None = None) -> Any:
        """The expression's value, or blank (with the reason kept under ``path``) when it cannot
        be computed or the state's time is spent."""
        if time.monotonic() > self.deadline:
            self.failures.setdefault(path or node.name, "time_budget")
            return ""
        try:
            return expression(_Context(self, node, index, value, choice))
        except ExpressionError as error:
            self.failures.setdefault(path or node.name, error.code)
        except Timeout:
            self.failures.setdefault(path or node.name, "time_budget")
        return ""

    def _finite(self, value: Any, path: str) -> Any:
        """A calculated value; blank (and a failure) when it is a number that is not finite."""
        if isinstance(value, float) and not math.isfinite(value) and not math.isnan(value):
            self.failures.setdefault(path, "not_finite")
            return ""
        return value

    def failure(self, path: str) -> str | None:
        """Why the value or relevance at ``path`` could not be computed (``cannot_compute``,
        ``not_finite``, ``time_budget``), if it could not."""
        return self.failures.get(path)

    def _true(self, expression: Expression | bool | None, node: Node, index: Index, default: bool,
              value: Any = "", path: str | None = None) -> bool:
        if expression is None:
            return default
        if isinstance(expression, bool):
            return expression
        return to_bool(self._eval(expression, node, index, value, path=path))

    # -- answers ----------------------------------------------------------------------
    def answer(self, path: str) -> str:
        """The stored answer, or the default a relevant unanswered question shows."""
        stored = self.stored.get(path)
        if stored is not None:
            return stored
        if path not in self._relevant:
            self.is_relevant(path)  # evaluates the question, and with it its default
        return self._defaulted.get(path, "")

    def is_relevant(self, path: str) -> bool:
        """Whether the node at ``path`` is relevant (False where no such node or entry exists)."""
        found = self._relevant.get(path)
        if found is not None:
            return found
        parsed = parse_path(self.form, path) if self._lazy else None
        return self._relevance(parsed[0], parsed[1], path) if parsed is not None else False

    def value(self, path: str) -> Any:
        """The typed value of the question at ``path``: blank when not relevant, calculated,
        answered, or its default."""
        found = self._values.get(path, _UNKNOWN)
        if found is not _UNKNOWN:
            return found
        parsed = parse_path(self.form, path) if self._lazy else None
        return self._value(parsed[0], parsed[1], path) if parsed is not None else ""

    def defaults(self) -> dict[str, str]:
        """The defaults shown in relevant questions nobody has answered, by path."""
        return {path: self._defaulted[path] for _node, _index, path in self.input_paths()
                if path not in self.stored and self.is_relevant(path) and path in self._defaulted}

    def input_paths(self, under: Node | None = None) -> Iterator[tuple[Node, Index, str]]:
        for node in (self.form.walk(under) if under is not None else self.form.nodes):
            if node.kind == "question" and node.is_input:
                for index in self.instances(node):
                    yield node, index, node_path(node, index)

    def required(self, node: Node, index: Index) -> bool:
        return self._true(node.required, node, index, default=False)

    def read_only(self, node: Node, index: Index) -> bool:
        return self._true(node.read_only, node, index, default=False)

    def problems(self, under: Node | None = None) -> list[Problem]:
        """What keeps the response from being submitted, in document order."""
        found: list[Problem] = []
        for node, index, path in self.input_paths(under):
            problem = self.problem(node, index, path)
            if problem is not None:
                found.append(problem)
        return found

    def problem(self, node: Node, index: Index, path: str) -> Problem | None:
        """``required`` or ``constraint`` when the question at ``path`` keeps the response from
        being submitted (the evidence rule, which depends on scores, is the services')."""
        if not self._relevance(node, index, path):
            return None
        value = self.answer(path)
        if value == "":
            return Problem("required", node, index, path) if self.required(node, index) else None
        if node.constraint is not None and not self._true(node.constraint, node, index, True, typed(node, value)):
            return Problem("constraint", node, index, path)
        return None

    def check_value(self, node: Node, index: Index, value: str) -> str | None:
        """``constraint`` if ``value`` breaks the question's constraint (given the other answers)."""
        if value == "" or node.constraint is None:
            return None
        return None if self._true(node.constraint, node, index, True, typed(node, value)) else "constraint"

    # -- progress ---------------------------------------------------------------------
    def progress(self, under: Node | None = None) -> tuple[int, int]:
        """(answered, relevant questions to answer) under a page or section, or the whole form
        (counted once per state: a page's count is shown twice, in its bar and its navigation)."""
        key = id(under)
        if key not in self._progress:
            self._progress[key] = self._count_progress(under)
        return self._progress[key]

    def _count_progress(self, under: Node | None) -> tuple[int, int]:
        answered = total = 0
        for node, index, path in self.input_paths(under):
            if self._relevance(node, index, path):
                total += 1
                if self.answer(path) != "":
                    answered += 1
        return answered, total

    def choices(self, node: Node, index: Index) -> list[Choice]:
        """The question's choices, narrowed by its ``choice_filter``."""
        choices = self.form.choices.get(node.list_name or "", [])
        if node.choice_filter is None:
            return choices
        path = node_path(node, index)
        return [choice for choice in choices
                if to_bool(self._eval(node.choice_filter, node, index, path=path, choice=choice))]

    def interpolate(self, text: str, node: Node, index: Index) -> str:
        """A label with its ``${name}`` references replaced by their current values."""
        if "${" not in text:
            return text
        context = _Context(self, node, index)

        def value(match: re.Match) -> str:
            found = context.lookup(match.group(1).strip())
            if isinstance(found, NodeSet):
                return ", ".join(to_string(v) for v in found)
            shown = to_string(found)
            return "" if shown == "NaN" else shown
        return REFERENCE.sub(value, text)

    def evaluate_in(self, expression: Expression, node: Node | None = None, index: Index = (),
                    current: Any = "") -> tuple[Any, str | None]:
        """An expression evaluated at the form level (indicator numerators…) or at a node, with
        ``current`` as ``.``: its value, and why it could not be computed (None when it could)."""
        key = f"={expression.text}"
        value = self._eval(expression, node or self.form.root, index, current, path=key)
        return value, self.failures.pop(key, None)
