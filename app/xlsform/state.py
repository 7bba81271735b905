"""The state of one response under its compiled form: repeat instances, typed values,
calculations, relevance, validation and each question's points. Pure: answers in, state out.

Semantics follow ODK: a question that is not relevant keeps its stored answer but counts as
blank for expressions, validation, scoring and export; relevance is inherited from groups
and repeats; ``required`` and ``constraint`` apply only to relevant questions; a reference to
a question in a repeat from outside that repeat is the list of its values.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.xlsform.compiled import REFERENCE, Choice, CompiledForm, Node
from app.xlsform.expressions import Expression, ExpressionError, NodeSet, to_bool, to_number, to_string
from app.xlsform.values import parse_input, typed, InputError

Index = tuple[int, ...]
_NO_REPEAT: list[Index] = [()]
MAX_INSTANCES = 200  # per repeat, per parent instance


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
        target = self.state.form.by_name.get(name)
        if target is None or target.kind != "question":
            return ""
        if not target.chain:  # outside repeats: one value, under its name
            return self.state.values.get(name, "")
        target_chain = repeat_chain(target)
        shared = 0
        while shared < min(len(target_chain), len(self.chain), len(self.index)) and \
                target_chain[shared] is self.chain[shared]:
            shared += 1
        prefix = self.index[:shared]
        if len(target_chain) == shared:
            return self.state.values.get(node_path(target, prefix), "")
        return NodeSet(self.state.values.get(node_path(target, full), "")
                       for full in self.state.instances(target) if full[:shared] == prefix)

    def current(self) -> Any:
        return self.value

    def column(self, name: str) -> Any:
        if self.choice is None:
            return ""
        return self.choice.name if name == "name" else self.choice.extra.get(name, "")

    def position(self) -> int:
        return self.index[-1] if self.index else 1

    def today(self) -> date:
        return self.state.today


class FormState:
    def __init__(self, form: CompiledForm, answers: dict[str, str], evidence: dict[str, str] | None = None,
                 today: date | None = None):
        self.form = form
        self.stored = answers
        self.evidence = evidence or {}
        self.today = today or date.today()
        self.counts: dict[str, int] = {}
        self.values: dict[str, Any] = {}
        self.relevant: dict[str, bool] = {}
        self.defaulted: dict[str, str] = {}
        self._progress: dict[int, tuple[int, int]] = {}
        self._nodes = form.nodes
        self._typed: dict[str, Any] = {}  # each stored answer as its typed value
        for path, stored in answers.items():
            parsed = parse_path(form, path)
            if parsed is not None and parsed[0].kind == "question":
                self._typed[path] = typed(parsed[0], stored)
        self.values.update(self._typed)
        for _pass in range(2 if form.looks_forward else 1):
            self._evaluate()

    # -- instances --------------------------------------------------------------------
    def instances(self, node: Node) -> list[Index]:
        """Every repeat index at which ``node`` exists (for a repeat node: its containers)."""
        if not node.chain:
            return _NO_REPEAT
        indexes: list[Index] = [()]
        for repeat in repeat_chain(node):
            expanded: list[Index] = []
            for prefix in indexes:
                count = self.counts.get(node_path(repeat, prefix), 0)
                expanded.extend(prefix + (i,) for i in range(1, count + 1))
            indexes = expanded
        return indexes

    def count(self, repeat: Node, prefix: Index = ()) -> int:
        return self.counts.get(node_path(repeat, prefix), 0)

    def _evaluate(self) -> None:
        relevant_of = self.relevant
        for node in self._nodes:
            if not node.chain:  # outside repeats (most nodes): one instance, its path the name
                parent = node.parent  # outside repeats too
                relevant = parent is None or relevant_of.get(parent.name, True)
                self._evaluate_at(node, (), node.name, relevant)
                continue
            for index in self.instances(node):
                self._evaluate_at(node, index, node_path(node, index), self._parent_relevant(node, index))

    def _evaluate_at(self, node: Node, index: Index, path: str, relevant: bool) -> None:
        """Relevance and value of ``node`` at ``index``, its parent's relevance given."""
        if relevant and node.relevant is not None:
            relevant = self._true(node.relevant, node, index, default=True)
        self.relevant[path] = relevant
        kind = node.kind
        if kind == "question":
            if node.calculation is not None:
                self.values[path] = self._eval(node.calculation, node, index) if relevant else ""
            elif not relevant:
                self.values[path] = ""
            elif path in self._typed:
                self.values[path] = self._typed[path]
            elif node.default is not None and node.is_input:
                stored = self._default(node, index)
                if stored:
                    self.defaulted[path] = stored
                self.values[path] = typed(node, stored)
            else:
                self.values[path] = ""
        elif kind == "repeat":
            self.counts[path] = self._repeat_count(node, index, path)

    def _repeat_count(self, node: Node, index: Index, path: str) -> int:
        if node.repeat_count is not None:
            number = to_number(self._eval(node.repeat_count, node, index))
        else:
            try:
                number = float(self.stored.get(path, "0") or 0)
            except ValueError:
                number = 0
        if number != number:  # NaN
            return 0
        return max(0, min(MAX_INSTANCES, int(number)))

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
        parent = node.parent
        if parent is None:
            return True
        if parent.kind == "repeat":
            container = node_path(parent, index[:len(repeat_chain(parent))])
            return self.relevant.get(container, True)
        return self.relevant.get(node_path(parent, index[:len(repeat_chain(parent))]), True)

    def _eval(self, expression: Expression, node: Node, index: Index, value: Any = "") -> Any:
        try:
            return expression(_Context(self, node, index, value))
        except ExpressionError:
            return ""

    def _true(self, expression: Expression | bool | None, node: Node, index: Index, default: bool,
              value: Any = "") -> bool:
        if expression is None:
            return default
        if isinstance(expression, bool):
            return expression
        return to_bool(self._eval(expression, node, index, value))

    # -- answers ----------------------------------------------------------------------
    def answer(self, path: str) -> str:
        """The stored answer, or the default a relevant unanswered question shows."""
        stored = self.stored.get(path)
        return stored if stored is not None else self.defaulted.get(path, "")

    def is_relevant(self, path: str) -> bool:
        return self.relevant.get(path, False)

    def input_paths(self, under: Node | None = None) -> Iterator[tuple[Node, Index, str]]:
        for node in (self.form.walk(under) if under is not None else self._nodes):
            if node.kind == "question" and node.is_input:
                for index in self.instances(node):
                    yield node, index, node_path(node, index)

    def required(self, node: Node, index: Index) -> bool:
        return self._true(node.required, node, index, default=False)

    def problems(self, under: Node | None = None) -> list[Problem]:
        """What keeps the response from being submitted, in document order."""
        found: list[Problem] = []
        for node, index, path in self.input_paths(under):
            problem = self.problem(node, index, path)
            if problem is not None:
                found.append(problem)
        return found

    def problem(self, node: Node, index: Index, path: str) -> Problem | None:
        if not self.relevant.get(path, False):
            return None
        value = self.answer(path)
        if value == "":
            return Problem("required", node, index, path) if self.required(node, index) else None
        if node.constraint is not None and not self._true(node.constraint, node, index, True, typed(node, value)):
            return Problem("constraint", node, index, path)
        if node.evidence == "required-when-positive" and not (self.evidence.get(path) or "").strip():
            points = self.points(node, index)
            if points is not None and points[0] > 0:
                return Problem("evidence_required", node, index, path)
        return None

    def check_value(self, node: Node, index: Index, value: str) -> str | None:
        """``constraint`` if ``value`` breaks the question's constraint (given the other answers)."""
        if value == "" or node.constraint is None:
            return None
        return None if self._true(node.constraint, node, index, True, typed(node, value)) else "constraint"

    # -- points -----------------------------------------------------------------------
    def points(self, node: Node, index: Index) -> tuple[float, float] | None:
        """(points, maximum) of a relevant, answered, scored question; None when not scored
        (not relevant, unanswered, "not applicable", or no score)."""
        path = node_path(node, index)
        if not self.relevant.get(path, False):
            return None
        value = self.answer(path)
        if value == "" or node.max_score is None:
            return None
        if node.score is not None:
            number = to_number(self._eval(node.score, node, index, typed(node, value)))
            if number != number:
                return None
            return max(0.0, min(number, node.max_score)), node.max_score
        scores = {c.name: c.score for c in self.form.choices.get(node.list_name or "", [])}
        chosen = [scores.get(item) for item in value.split()]
        if node.type == "select_one":
            return (chosen[0], node.max_score) if chosen and chosen[0] is not None else None
        numbers = [s for s in chosen if s is not None]
        if not numbers:
            return None
        return max(0.0, min(sum(numbers), node.max_score)), node.max_score

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
        for _node, _index, path in self.input_paths(under):
            if self.relevant.get(path, False):
                total += 1
                if self.answer(path) != "":
                    answered += 1
        return answered, total

    def choices(self, node: Node, index: Index) -> list[Choice]:
        """The question's choices, narrowed by its ``choice_filter``."""
        choices = self.form.choices.get(node.list_name or "", [])
        if node.choice_filter is None:
            return choices
        kept = []
        for choice in choices:
            try:
                if to_bool(node.choice_filter(_Context(self, node, index, "", choice))):
                    kept.append(choice)
            except ExpressionError:
                continue
        return kept

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

    def evaluate_in(self, expression: Expression, node: Node | None = None, index: Index = ()) -> Any:
        """An expression evaluated at the form level (indicator numerators…) or at a node."""
        return self._eval(expression, node or self.form.root, index)
