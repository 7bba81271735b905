"""A questionnaire version compiled once: the question tree, choice lists, indicators and
areas, with every expression parsed. Built from a validated definition; cached per version.
"""
from __future__ import annotations

import heapq
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from app.xlsform.definition import (DEFAULT_THRESHOLDS, FILE_TYPES, MAX_GROUP_DEPTH, METADATA_TYPES, NO, YES, _parameters,
                                    kinds_of, normalise_type, parse_thresholds, shown_with_media)
from app.xlsform.expressions import Expression, parse_or_broken

REFERENCE = re.compile(r"\$\{([^}]+)\}")  # ${name} in labels and hints


class UnusableDefinition(ValueError):
    """A stored definition beyond a limit that uploads now enforce (it cannot be shown)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass
class Choice:
    name: str
    label: dict[str, str]
    score: float | None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class Node:
    kind: str                     # question | group | repeat
    name: str
    type: str                     # integer, select_one, begin_group…
    row: int
    list_name: str | None = None
    label: dict[str, str] = field(default_factory=dict)
    hint: dict[str, str] = field(default_factory=dict)
    guidance_hint: dict[str, str] = field(default_factory=dict)
    required: Expression | bool = False
    required_message: dict[str, str] = field(default_factory=dict)
    relevant: Expression | None = None
    constraint: Expression | None = None
    constraint_message: dict[str, str] = field(default_factory=dict)
    calculation: Expression | None = None
    default: Expression | str | None = None
    read_only: Expression | bool = False
    appearance: str = ""
    choice_filter: Expression | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    repeat_count: Expression | None = None
    indicator: str = ""
    score: Expression | None = None
    max_score: float | None = None
    evidence: str = ""
    applies_to: frozenset[str] = frozenset()   # institution kinds it is asked of (empty: every kind)
    unit: str = ""                # currency: an amount in the institution's national currency
    or_other: bool = False
    children: list[Node] = field(default_factory=list)
    parent: Node | None = field(default=None, repr=False)
    repeat: Node | None = field(default=None, repr=False)   # the nearest enclosing repeat
    chain: tuple = field(default=(), repr=False)            # enclosing repeats, outermost first

    @property
    def money(self) -> bool:
        return self.unit == "currency"

    @property
    def is_input(self) -> bool:
        """A question the respondent answers (not a note, calculation or metadata)."""
        return self.kind == "question" and self.type not in {"note", "calculate", "hidden"} | METADATA_TYPES

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


@dataclass
class Indicator:
    code: str
    area: str
    section: str
    label: dict[str, str]
    method: str
    numerator: Expression | None
    denominator: Expression | None
    factor: float
    value: Expression | None
    thresholds: dict[str, float]
    aggregate: str
    upper: float | None = None    # a value above it is flagged, never rated (100 % unless the definition says)
    responsible: frozenset[str] = frozenset()   # institution kinds whose answers make it (empty: every kind)
    when_no_cases: float | None = None   # a ratio's value when its denominator is 0 (None: no value, "no cases")
    availability: str = ""   # a question whose answer may say the data are not available or not its competence
    questions: list[str] = field(default_factory=list)

    def references(self) -> set[str]:
        """The questions it scores and the names its ratio or band expressions read."""
        names = set(self.questions) | ({self.availability} if self.availability else set())
        for expression in (self.numerator, self.denominator, self.value):
            if expression is not None:
                names |= expression.references
        return names


@dataclass
class Area:
    code: str
    order: float
    label: dict[str, str]
    rating: str = "overall"   # overall | weakest_section (the lower of its sections' ratings)


class CompiledForm:
    def __init__(self, definition: dict[str, Any]):
        self.definition = definition
        self.form_id: str = definition["form_id"]
        self.title: str = definition["title"]
        self.default_language: str = definition["default_language"]
        self.titles: dict[str, str] = definition.get("titles") or {self.default_language: self.title}
        self.languages: list[str] = [language["code"] for language in definition["languages"]]
        self.choices: dict[str, list[Choice]] = {}
        for row in definition["choices"] + definition.get("external_choices", []):
            score = row.get("score", "")
            self.choices.setdefault(row["list_name"], []).append(
                Choice(row["name"], row.get("label") or {self.default_language: row["name"]},
                       float(score) if score else None, row.get("extra", {})))
        self.root = Node("group", "", "begin_group", 0)
        self.by_name: dict[str, Node] = {}
        self._build_tree(definition["survey"])
        self.nodes: tuple[Node, ...] = tuple(self.walk())  # every node, in document order
        deepest = max((sum(1 for _ in node.ancestors()) + 1 for node in self.nodes if node.kind != "question"),
                      default=0)
        if deepest > MAX_GROUP_DEPTH:   # stored before the upload limit: a page could not be drawn
            raise UnusableDefinition("too_deep_groups")
        self.areas = sorted((Area(a["code"], float(a.get("order") or i), a.get("label", {}), a.get("rating") or "overall")
                             for i, a in enumerate(definition["areas"])), key=lambda a: a.order)
        self.indicators: dict[str, Indicator] = {}
        for row in definition["indicators"]:
            method = row.get("method") or "points"
            self.indicators[row["code"]] = Indicator(
                code=row["code"], area=row.get("area", ""), section=row.get("section", ""),
                label=row.get("label", {}), method=method,
                numerator=parse_or_broken(row["numerator"]) if method == "ratio" else None,
                denominator=parse_or_broken(row["denominator"]) if method == "ratio" else None,
                factor=float(row.get("factor") or (100 if method == "ratio" else 1)),
                value=parse_or_broken(row["value"]) if method == "band" else None,
                thresholds=dict(DEFAULT_THRESHOLDS) | (parse_thresholds(row.get("thresholds", "")) or {}),
                aggregate=row.get("aggregate") or ("sum" if method == "ratio" else "mean"),
                upper=float(row["upper"]) if row.get("upper") else (None if method == "band" else 100.0),
                responsible=kinds_of(row.get("responsible", "")),
                when_no_cases=float(row["when_no_cases"]) if row.get("when_no_cases") else None,
                availability=row.get("availability", ""))
        for node in self.by_name.values():
            if node.indicator in self.indicators:
                self.indicators[node.indicator].questions.append(node.name)
        self._position = {node.name: position for position, node in enumerate(self.nodes)}
        self.order, self.cyclic = self._evaluation_order()
        self._rank = {node.name: rank for rank, node in enumerate(self.order)}
        self._prerequisites: dict[str, tuple[Node, ...]] = {}
        self.dependents, self.indicators_of = self._dependencies()
        # Whether a change to a question can switch any node on or off (or change how many
        # entries a repeat has): only then can other questions' counts in the progress change.
        self.switches = {name: any(n.relevant is not None or n.repeat_count is not None for n in nodes)
                         for name, nodes in self.dependents.items()}
        self._indicators_on: dict[str, list[str]] = {}
        self._inputs_of: dict[str, list[Node]] = {}

    # -- construction -----------------------------------------------------------------
    def _build_tree(self, rows: list[dict]) -> None:
        stack = [self.root]
        for row in rows:
            raw = row.get("type", "")
            if not raw:
                continue
            base, list_name, flag = normalise_type(raw)
            if base in ("end_group", "end_repeat"):
                stack.pop()
                continue
            kind = {"begin_group": "group", "begin_repeat": "repeat"}.get(base, "question")
            parent = stack[-1]
            node = Node(
                kind=kind, name=row["name"], type=base, row=row["row"], list_name=list_name,
                label=_label(row, kind, self.default_language),
                hint=row.get("hint", {}) if row.get("label") or kind != "question" else {},   # else it is the label
                guidance_hint=row.get("guidance_hint", {}),
                required=_flag(row.get("required", "")), required_message=row.get("required_message", {}),
                relevant=_expression(row.get("relevant")), constraint=_expression(row.get("constraint")),
                constraint_message=row.get("constraint_message", {}),
                calculation=_expression(row.get("calculation")), default=_default(row.get("default", "")),
                read_only=_flag(row.get("read_only", "")), appearance=row.get("appearance", ""),
                choice_filter=parse_or_broken(row["choice_filter"], True) if row.get("choice_filter") else None,
                parameters=_parameters(row.get("parameters", "")), repeat_count=_expression(row.get("repeat_count")),
                indicator=row.get("indicator", ""), score=_expression(row.get("score")),
                max_score=float(row["max_score"]) if row.get("max_score") else None,
                evidence=(row.get("evidence") or "").lower(), applies_to=kinds_of(row.get("applies_to", "")),
                unit=(row.get("unit") or "").lower(),
                or_other=flag == "or_other",
                parent=parent if parent is not self.root else None,
                repeat=parent if parent.kind == "repeat" else parent.repeat,
            )
            if node.max_score is None and node.list_name and node.score is None:
                scores = [c.score for c in self.choices.get(node.list_name, []) if c.score is not None]
                if scores:
                    node.max_score = sum(s for s in scores if s > 0) if base == "select_multiple" else max(scores)
            node.chain = tuple(reversed([a for a in node.ancestors() if a.kind == "repeat"]))
            parent.children.append(node)
            self.by_name[node.name] = node
            if kind in ("group", "repeat"):
                stack.append(node)

    def _reads(self, node: Node) -> set[str]:
        """Names of the nodes whose relevance, value or entries decide ``node``'s: its group or
        repeat, what its relevance, calculation, entry count and default read, and for a repeat
        every repeat before it in the form (entries are limited for the whole form, counted in
        document order). ``required``, ``read_only``, constraints and choice filters are read
        once the values are known, and may read anything."""
        names: set[str] = set()
        for expression in (node.relevant, node.calculation, node.repeat_count, node.default):
            if isinstance(expression, Expression):
                names |= expression.references
        if node.parent is not None:
            names.add(node.parent.name)
        if node.kind == "repeat":
            position = self._position[node.name]
            names.update(n.name for n in self.nodes if n.kind == "repeat" and self._position[n.name] < position)
        names.discard(node.name)
        return {name for name in names if name in self.by_name}

    def _evaluation_order(self) -> tuple[tuple[Node, ...], bool]:
        """Every node after what it reads (a topological order, document order among equals),
        worked out once; and whether the form reads in a circle (then the order is the
        document's, and a state evaluates it whole, in two passes)."""
        waiting: dict[str, int] = {}
        readers: dict[str, list[str]] = {}
        for node in self.nodes:
            reads = self._reads(node)
            waiting[node.name] = len(reads)
            for name in reads:
                readers.setdefault(name, []).append(node.name)
        ready = [(self._position[name], name) for name, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        order: list[Node] = []
        while ready:
            _position, name = heapq.heappop(ready)
            order.append(self.by_name[name])
            for reader in readers.get(name, ()):
                waiting[reader] -= 1
                if waiting[reader] == 0:
                    heapq.heappush(ready, (self._position[reader], reader))
        if len(order) < len(self.nodes):
            return self.nodes, True
        return tuple(order), False

    def prerequisites(self, node: Node) -> tuple[Node, ...]:
        """Everything ``node`` reads, directly or through what it reads, in evaluation order
        (worked out once per node, without recursion): evaluating these in order leaves nothing
        unevaluated for ``node`` to read."""
        found = self._prerequisites.get(node.name)
        if found is None:
            seen: set[str] = set()
            todo = [node.name]
            while todo:
                for name in self._reads(self.by_name[todo.pop()]):
                    if name not in seen and name != node.name:
                        seen.add(name)
                        todo.append(name)
            found = tuple(sorted((self.by_name[name] for name in seen), key=lambda n: self._rank[n.name]))
            self._prerequisites[node.name] = found
        return found

    def _dependencies(self) -> tuple[dict[str, list[Node]], dict[str, set[str]]]:
        """For each question: the nodes whose relevance, texts, requirement, choices or value
        may change when it changes, and the indicators it feeds — through calculations too."""
        direct: dict[str, set[str]] = {}   # question name -> names of nodes that read it

        def reads(node: Node) -> set[str]:
            names: set[str] = set()
            for expression in (node.relevant, node.calculation, node.repeat_count, node.required,
                               node.read_only, node.choice_filter):
                if isinstance(expression, Expression):
                    names |= expression.references
            for texts in (node.label, node.hint):
                for text in texts.values():
                    names |= set(REFERENCE.findall(text))
            return {name.strip() for name in names}

        for node in self.nodes:
            for name in reads(node):
                direct.setdefault(name, set()).add(node.name)
        calculated = {name for name, node in self.by_name.items() if node.calculation is not None}
        dependents: dict[str, list[Node]] = {}
        indicators_of: dict[str, set[str]] = {}
        readers_of_indicator = {code: indicator.references() for code, indicator in self.indicators.items()}
        for name in self.by_name:
            seen: set[str] = set()
            todo = [name]
            while todo:
                current = todo.pop()
                for reader in direct.get(current, ()):
                    if reader not in seen:
                        seen.add(reader)
                        if reader in calculated:
                            todo.append(reader)
            dependents[name] = [self.by_name[n] for n in seen]
            affected = {name} | {n for n in seen if n in calculated}
            indicators_of[name] = {code for code, refs in readers_of_indicator.items() if refs & affected}
        return dependents, indicators_of

    # -- queries ----------------------------------------------------------------------
    @cached_property
    def has_files(self) -> bool:
        """Whether a question is answered with an uploaded file (its pages post multipart)."""
        return any(node.type in FILE_TYPES for node in self.nodes)

    @cached_property
    def pages(self) -> list[Node]:
        """One page per top-level group; top-level questions between groups form their own page
        (built once: a page is the same object on every request)."""
        pages: list[Node] = []
        loose: Node | None = None
        for node in self.root.children:
            if node.kind in ("group", "repeat"):
                pages.append(node)
                loose = None
            else:
                if loose is None:
                    loose = Node("group", f"_page{len(pages) + 1}", "begin_group", node.row)
                    pages.append(loose)
                loose.children.append(node)
        return pages

    def walk(self, node: Node | None = None):
        """The nodes under ``node`` (or the whole form), in document order; iterative, however
        deep the groups nest."""
        stack = [iter((node or self.root).children)]
        while stack:
            child = next(stack[-1], None)
            if child is None:
                stack.pop()
                continue
            yield child
            if child.children:
                stack.append(iter(child.children))

    def on_page(self, node: Node, page: Node) -> bool:
        """Whether ``node`` is shown on ``page`` (a top-level group or repeat, or a run of loose
        questions)."""
        return node is page or inside(node, page) or any(child is node for child in page.children)

    def page_of(self, node: Node) -> int | None:
        """The number (1-based) of the page showing ``node``."""
        for number, page in enumerate(self.pages, start=1):
            if self.on_page(node, page):
                return number
        return None

    def questions(self) -> list[Node]:
        return [n for n in self.nodes if n.kind == "question"]

    def inputs_of(self, code: str) -> list[Node]:
        """The questions a respondent answers that an indicator's expressions read, directly or
        through calculations (worked out once per indicator)."""
        found = self._inputs_of.get(code)
        if found is None:
            indicator = self.indicators[code]
            seen: set[str] = set()
            todo = [name for expression in (indicator.numerator, indicator.denominator, indicator.value)
                    if expression is not None for name in expression.references]
            while todo:
                name = todo.pop()
                node = self.by_name.get(name)
                if name in seen or node is None:
                    continue
                seen.add(name)
                if node.calculation is not None:
                    todo.extend(node.calculation.references)
            found = [self.by_name[name] for name in sorted(seen) if self.by_name[name].is_input]
            self._inputs_of[code] = found
        return found

    def indicators_on(self, page: Node) -> list[str]:
        """Codes of the indicators a page's questions feed or its ratios and bands read
        (worked out once per page)."""
        codes = self._indicators_on.get(page.name)
        if codes is None:
            names = {node.name for node in self.walk(page) if node.kind == "question"}
            codes = [code for code, indicator in self.indicators.items() if indicator.references() & names]
            self._indicators_on[page.name] = codes
        return codes

    def text(self, texts: dict[str, str], language: str) -> tuple[str, bool]:
        """Text in ``language``, else in the default language; and whether it fell back."""
        if not texts:
            return "", False
        if language in texts:
            return texts[language], False
        for fallback in (self.default_language, *self.languages):
            if fallback in texts:
                return texts[fallback], True
        return next(iter(texts.values())), True

    def choice_label(self, list_name: str, name: str, language: str) -> str:
        for choice in self.choices.get(list_name, []):
            if choice.name == name:
                return self.text(choice.label, language)[0]
        return name


def inside(node: Node, outer: Node) -> bool:
    """Whether ``node`` is inside the group or repeat ``outer``."""
    return any(ancestor is outer for ancestor in node.ancestors())


def _expression(text: str | None) -> Expression | None:
    return parse_or_broken(text) if text else None


def _label(row: dict, kind: str, language: str) -> dict[str, str]:
    """A row's label; without one, as pyxform allows: a question's hint, the name of a question
    shown with a picture, sound or video only, and a repeat's name (a group without a label
    has no heading; a calculation none at all)."""
    if row.get("label"):
        return row["label"]
    if kind == "question" and row.get("hint"):
        return row["hint"]
    return {language: row["name"]} if kind == "repeat" or (kind == "question" and shown_with_media(row)) else {}


def _flag(text: str) -> Expression | bool:
    lowered = (text or "").strip().lower()
    if lowered in YES:
        return True
    if lowered in NO:
        return False
    return parse_or_broken(text)


def _default(text: str) -> Expression | str | None:
    if not text:
        return None
    if "${" in text or "(" in text:
        return parse_or_broken(text)
    return text
