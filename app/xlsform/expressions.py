"""A safe parser and evaluator for the XLSForm expression language (an XPath 1.0 subset).

Never Python ``eval``: the text is tokenised, parsed by a Pratt parser into a small tree and
compiled into nested closures, once per questionnaire version. Evaluation follows ODK
(JavaRosa) semantics: answers are strings unless their question types them; an empty answer
is the empty string, which is NaN as a number and false as a boolean; ``=`` compares as
numbers when either side is a number; a reference to a question inside a repeat, seen from
outside it, is a node-set (for ``sum()``, ``count()``…).

Bounded: the text is at most ``MAX_LENGTH`` characters and ``MAX_DEPTH`` levels deep (a chain
of operators such as ``1 + 1 + … + 1`` is one flat node, evaluated in a loop, whatever its
length); strings built by an expression are capped at ``MAX_STRING`` characters; a ``regex()``
pattern must be written in quotes, is checked for size when parsed (``check_pattern``) and
compiled once, and matches with a time limit (``Context.deadline``). Every runtime error an
evaluation meets is an ``ExpressionError`` (``cannot_compute``). Nothing here can loop, recurse
without bound or allocate without bound.
"""
from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Protocol

import regex as regex_module

MAX_LENGTH = 2000
MAX_DEPTH = 40
MAX_STRING = 20_000
MAX_ARGS = 50
REGEX_TIMEOUT = 0.05  # seconds, per match
MAX_PATTERN_LENGTH = 500
MAX_PATTERN_REPEAT = 1000   # the largest count in {m,n}
MAX_PATTERN_SIZE = 10_000   # atoms once counted repetitions are expanded (about 3 MB compiled)
EPOCH = date(1970, 1, 1)
_NUMBER_TEXT = re.compile(r"\s*-?(?:\d+(?:\.\d*)?|\.\d+)\s*")  # XPath: no exponent, no inf or nan


class ExpressionError(ValueError):
    """A located problem with an expression. ``code`` + ``params`` are localised by the caller."""

    def __init__(self, code: str, position: int = 0, **params: Any):
        super().__init__(f"{code} at {position}: {params}")
        self.code = code
        self.position = position
        self.params = params


class Timeout(Exception):
    """The time given to evaluate a form ran out (raised through ``Context.deadline``)."""


class NodeSet(list):
    """The values of one question across the instances of a repeat."""


class Context(Protocol):
    def lookup(self, name: str) -> Any: ...
    def current(self) -> Any: ...
    def position(self) -> int: ...
    def today(self) -> date: ...
    def deadline(self) -> float | None: ...   # time.monotonic() by which evaluation must end


# -- values ---------------------------------------------------------------------------

def to_number(value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, datetime):
        return (value - datetime(1970, 1, 1, tzinfo=value.tzinfo)).total_seconds() / 86400
    if isinstance(value, date):
        return float((value - EPOCH).days)
    if isinstance(value, NodeSet):
        return to_number(value[0]) if value else math.nan
    text = str(value)
    if _NUMBER_TEXT.fullmatch(text):
        number = float(text)
        return number if math.isfinite(number) else math.nan
    parsed = _parse_date(text.strip())
    return float((parsed - EPOCH).days) if parsed else math.nan


def to_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return format_number(float(value))
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, NodeSet):
        return to_string(value[0]) if value else ""
    return "" if value is None else str(value)


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return not math.isnan(value) and value != 0
    if isinstance(value, NodeSet):
        return len(value) > 0
    return bool(to_string(value))


def format_number(number: float) -> str:
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    text = f"{number:.15g}"
    if "e" in text:   # never an exponent: 1e-07 is 0.0000001
        text = f"{number:.15f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _parse_date(text: str) -> date | None:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}(T.*)?", text):
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            return None
    return None


def _to_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return EPOCH + timedelta(days=math.floor(value))
        except (OverflowError, ValueError):   # not finite, or before year 1 or after 9999
            return None
    return _parse_date(to_string(value))


def _bounded(text: str, position: int) -> str:
    if len(text) > MAX_STRING:
        raise ExpressionError("string_too_long", position, limit=MAX_STRING)
    return text


# -- tokens ---------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>\d+(?:\.\d*)?|\.\d+)
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<ref>\$\{(?P<refname>[^}]*)\})
  | (?P<op><=|>=|!=|=|<|>|\+|-|\*|\(|\)|,|\||\.\.|\.)
  | (?P<name>[A-Za-z_][\w.:-]*(?<![.:-]))
""", re.VERBOSE)
_NAME = re.compile(r"^[A-Za-z_][\w.-]*$")
_INSTANCE = re.compile(r"instance\s*\(")
# A lookup in a choice list, as pyxform writes it: instance('list')/root/item[name = ${x}]/label.
# The predicate is one column compared with an expression (no ']' inside it).
_LOOKUP = re.compile(r"""instance\s*\(\s*(?P<quote>['"])(?P<list>[^'"]+)(?P=quote)\s*\)\s*/\s*root\s*/\s*item\s*
                         \[\s*(?P<key>[A-Za-z_][\w:.-]*)\s*=\s*(?P<value>[^\]]+?)\s*\]\s*/\s*(?P<column>[A-Za-z_][\w:.-]*)""",
                     re.VERBOSE)


# Functions that read data from outside the form (a CSV beside it, a server) or a device's
# location: a desk survey has neither, so they are refused by name rather than as unknown.
EXTERNAL_DATA = {"pulldata", "search", "area", "distance", "geofence"}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    position: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        lookup = _LOOKUP.match(text, position) if text.startswith("instance", position) else None
        if lookup is not None:
            tokens.append(Token("lookup", lookup.group(0), position))
            position = lookup.end()
            continue
        if _INSTANCE.match(text, position):   # instance() in any other form
            raise ExpressionError("lookup_form", position)
        match = _TOKEN.match(text, position)
        if match is None:
            if text[position] == "/":
                raise ExpressionError("path_not_supported", position)
            raise ExpressionError("unexpected_character", position, character=text[position])
        kind = match.lastgroup
        if kind == "refname":
            kind = "ref"
        if kind == "ref":
            name = match.group("refname").strip()
            if not _NAME.match(name):
                raise ExpressionError("bad_reference", position, reference=match.group(0))
            tokens.append(Token("ref", name, position))
        elif kind != "space":
            tokens.append(Token(kind, match.group(0), position))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


# -- parser ---------------------------------------------------------------------------

# binary operators from the loosest to the tightest; an operator binds with its tier's number
_TIERS = (("or",), ("and",), ("=", "!="), ("<", "<=", ">", ">="), ("+", "-"), ("*", "div", "mod"), ("|",))
_BINARY = {operator: tier for tier, operators in enumerate(_TIERS, start=1) for operator in operators}


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its text, its tree, the names it references, and the compiled form."""

    text: str
    tree: tuple
    references: frozenset[str]
    uses_current: bool
    evaluate: Callable[[Context], Any] = field(compare=False, repr=False)
    lists: frozenset[str] = frozenset()   # choice lists it looks up (instance('list')/root/item…)

    def __call__(self, context: Context) -> Any:
        return self.evaluate(context)


class _Parser:
    def __init__(self, text: str, choice_columns: bool = False):
        self.choice_columns = choice_columns
        self.tokens = tokenize(text)
        self.index = 0
        self.references: set[str] = set()
        self.lists: set[str] = set()
        self.uses_current = False

    def peek(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, text: str) -> Token:
        token = self.advance()
        if token.text != text:
            raise ExpressionError("expected", token.position, expected=text, found=token.text or "end")
        return token

    def parse(self) -> tuple:
        tree = self.expression(0, 0)
        token = self.peek()
        if token.kind != "end":
            raise ExpressionError("unexpected_token", token.position, token=token.text)
        return tree

    def expression(self, min_power: int, depth: int) -> tuple:
        """Operators applied left to right at this level form one flat ``chain`` node (first
        operand, then (operator, operand) steps), so a long chain costs no depth."""
        if depth > MAX_DEPTH:
            raise ExpressionError("too_deep", self.peek().position, limit=MAX_DEPTH)
        first = self.prefix(depth)
        steps: list[tuple[str, tuple]] = []
        while True:
            token = self.peek()
            operator = token.text if token.kind in ("op", "name") else None
            power = _BINARY.get(operator) if operator else None
            if power is None or power <= min_power:
                return ("chain", first, tuple(steps)) if steps else first
            self.advance()
            if operator == "|":
                raise ExpressionError("union_not_supported", token.position)
            steps.append((operator, self.expression(power, depth + 1)))

    def prefix(self, depth: int) -> tuple:
        token = self.advance()
        if token.kind == "number":
            return ("num", float(token.text))
        if token.kind == "string":
            return ("str", token.text[1:-1])
        if token.kind == "ref":
            self.references.add(token.text)
            return ("ref", token.text, token.position)
        if token.kind == "lookup":
            return self.lookup(token)
        if token.kind == "op" and token.text == ".":
            self.uses_current = True
            return ("current",)
        if token.kind == "op" and token.text == "..":
            return ("parent",)
        if token.kind == "op" and token.text == "-":
            return ("neg", self.expression(_BINARY["*"], depth + 1))
        if token.kind == "op" and token.text == "(":
            inner = self.expression(0, depth + 1)
            self.expect(")")
            return inner
        if token.kind == "name":
            if self.peek().text != "(":
                if self.choice_columns and token.text not in _BINARY:
                    return ("column", token.text)
                raise ExpressionError("bare_name", token.position, name=token.text)
            return self.call(token, depth)
        raise ExpressionError("unexpected_token", token.position, token=token.text or "end")

    def lookup(self, token: Token) -> tuple:
        """instance('list')/root/item[key = value]/column: the value is an expression of its own
        (positions in its errors count from the start of the whole expression)."""
        parts = _LOOKUP.match(token.text)
        offset = token.position + parts.start("value")
        try:
            inner = _Parser(parts.group("value"))
            value = inner.expression(0, 1)
            if inner.peek().kind != "end":
                raise ExpressionError("unexpected_token", inner.peek().position, token=inner.peek().text)
        except ExpressionError as error:
            raise ExpressionError(error.code, error.position + offset, **error.params) from None
        self.references |= inner.references
        self.uses_current |= inner.uses_current
        self.lists.add(parts.group("list"))
        return ("lookup", parts.group("list"), parts.group("key"), value, parts.group("column"))

    def call(self, name: Token, depth: int) -> tuple:
        function = FUNCTIONS.get(name.text)
        if function is None and name.text in EXTERNAL_DATA:
            raise ExpressionError("function_not_supported", name.position, name=name.text)
        if function is None:
            raise ExpressionError("unknown_function", name.position, name=name.text)
        self.expect("(")
        arguments: list[tuple] = []
        if self.peek().text != ")":
            while True:
                arguments.append(self.expression(0, depth + 1))
                if len(arguments) > MAX_ARGS:
                    raise ExpressionError("too_many_arguments", name.position, name=name.text)
                if self.peek().text == ",":
                    self.advance()
                    continue
                break
        self.expect(")")
        low, high = function.arity
        if len(arguments) < low or (high is not None and len(arguments) > high):
            raise ExpressionError("wrong_arity", name.position, name=name.text, count=len(arguments))
        if name.text == "regex":   # the pattern is checked and compiled now, once
            pattern = arguments[1]
            if pattern[0] != "str":
                raise ExpressionError("pattern_not_text", name.position)
            arguments[1] = ("pattern", check_pattern(pattern[1], name.position))
        return ("call", name.text, tuple(arguments), name.position)


def parse(text: str, choice_columns: bool = False) -> Expression:
    """Parse and compile ``text``; ExpressionError (located) when it is not a valid expression.

    With ``choice_columns`` (for ``choice_filter``), a bare name is a column of the choices
    sheet, read through ``context.column(name)``.
    """
    if text is None or not str(text).strip():
        raise ExpressionError("empty", 0)
    text = str(text)
    if len(text) > MAX_LENGTH:
        raise ExpressionError("too_long", MAX_LENGTH, limit=MAX_LENGTH)
    parser = _Parser(text, choice_columns)
    tree = parser.parse()
    return Expression(text, tree, frozenset(parser.references), parser.uses_current, _guarded(_compile(tree)),
                      frozenset(parser.lists))


def parse_or_broken(text: str, choice_columns: bool = False) -> Expression:
    """``parse(text)``, or, for a text that does not parse (a definition stored before a limit
    that now refuses it), an expression that cannot be computed: the form still opens."""
    try:
        return parse(text, choice_columns)
    except ExpressionError as error:
        code, position, params = error.code, error.position, error.params

    def fail(ctx: Context) -> Any:
        raise ExpressionError(code, position, **params)
    return Expression(str(text), ("broken", code), frozenset(), False, fail)


def _guarded(evaluate: Callable[[Context], Any]) -> Callable[[Context], Any]:
    """``evaluate`` with every runtime error it meets turned into an ``ExpressionError``."""
    def run(ctx: Context) -> Any:
        try:
            return evaluate(ctx)
        except (ExpressionError, Timeout):
            raise
        except (ArithmeticError, ValueError, TypeError, IndexError, RecursionError, MemoryError) as exc:
            raise ExpressionError("cannot_compute", 0, error=type(exc).__name__) from None
    return run


# -- regex patterns -------------------------------------------------------------------

def check_pattern(pattern: str, position: int = 0):
    """The compiled ``regex()`` pattern, if it is small once its counted repetitions are
    expanded (``(?:a{1500}){1500}`` would take 24 GB to compile); ExpressionError otherwise."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ExpressionError("pattern_too_long", position, limit=MAX_PATTERN_LENGTH)
    if _pattern_size(pattern, position) > MAX_PATTERN_SIZE:
        raise ExpressionError("pattern_too_large", position, limit=MAX_PATTERN_SIZE)
    try:
        return regex_module.compile(pattern, cache_pattern=False)
    except (regex_module.error, ValueError, OverflowError, RecursionError) as exc:
        raise ExpressionError("bad_pattern", position, reason=str(exc)[:200]) from None


_COUNT = re.compile(r"\{(\d*)(?:,(\d*))?\}")


def _pattern_size(pattern: str, position: int) -> int:
    """An upper bound of the atoms in ``pattern`` with counted repetitions (``{m,n}``) expanded:
    each group's size is the sum of its parts, a count multiplies the atom or group before it."""
    sizes: list[list[int]] = [[]]   # per open group: the sizes of its parts
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            if i <= len(pattern) and pattern[i - 1:i] in ("p", "P", "x", "N", "u", "U") and pattern[i:i + 1] == "{":
                i = pattern.find("}", i) + 1 or len(pattern)
            sizes[-1].append(1)
            continue
        if char == "[":   # a class is one atom, however it is written
            depth, i = 1, i + 1
            while i < len(pattern) and depth:
                if pattern[i] == "\\":
                    i += 1
                elif pattern[i] == "[":
                    depth += 1
                elif pattern[i] == "]":
                    depth -= 1
                i += 1
            sizes[-1].append(1)
            continue
        if char == "(":
            sizes.append([])
            if pattern.startswith("?", i + 1):   # (?: (?= (?! (?> (?<= (?<! (?<name> (?P<name>: no atoms
                i += 2
                if pattern[i:i + 1] in (":", "=", "!", ">"):
                    i += 1
                elif pattern[i:i + 2] in ("<=", "<!"):
                    i += 2
                elif pattern[i:i + 1] == "<" or pattern[i:i + 2] == "P<":
                    i = pattern.find(">", i) + 1 or len(pattern)
                continue
        elif char == ")":
            inner = sum(sizes.pop()) if len(sizes) > 1 else 0
            sizes[-1].append(max(inner, 1))
        elif char == "{" and (count := _COUNT.match(pattern, i)) and count.group(0) != "{}":
            low, high = count.group(1), count.group(2)
            times = max(int(low or 0), int(high or 0), int(low or 0) + 1 if high == "" else 0)
            if times > MAX_PATTERN_REPEAT:
                raise ExpressionError("pattern_too_large", position, limit=MAX_PATTERN_SIZE)
            if sizes[-1]:
                sizes[-1][-1] *= max(times, 1)
            i = count.end()
            continue
        elif char not in "|*+?^$":
            sizes[-1].append(1)
        i += 1
    return sum(sum(parts) for parts in sizes)


# -- compiler -------------------------------------------------------------------------

def _compile(node: tuple) -> Callable[[Context], Any]:
    kind = node[0]
    if kind == "num":
        number = node[1]
        return lambda ctx: number
    if kind == "str":
        text = node[1]
        return lambda ctx: text
    if kind == "ref":
        name = node[1]
        return lambda ctx: ctx.lookup(name)
    if kind == "current":
        return lambda ctx: ctx.current()
    if kind == "column":
        column = node[1]
        return lambda ctx: ctx.column(column)
    if kind == "parent":
        return lambda ctx: None
    if kind == "lookup":
        list_name, key, value, column = node[1], node[2], _compile(node[3]), node[4]
        return lambda ctx: _list_item(ctx, list_name, key, to_string(value(ctx)), column)
    if kind == "pattern":
        pattern = node[1]
        return lambda ctx: pattern
    if kind == "neg":
        inner = _compile(node[1])
        return lambda ctx: -to_number(inner(ctx))
    if kind == "chain":
        return _compile_chain(_compile(node[1]), [(_STEPS[operator], _compile(operand))
                                                  for operator, operand in node[2]])
    if kind == "call":
        function = FUNCTIONS[node[1]]
        arguments = tuple(_compile(argument) for argument in node[2])
        position = node[3]
        if function.lazy:
            return lambda ctx: function.implementation(ctx, arguments, position)
        return lambda ctx: function.implementation(ctx, [a(ctx) for a in arguments], position)
    raise AssertionError(kind)


def _compile_chain(first, steps):
    """Apply each (operator, operand) step to the value so far, left to right: a loop, not a
    recursion, however long the chain."""
    if len(steps) == 1:
        (apply, right), = steps
        return lambda ctx: apply(first(ctx), right, ctx)

    def evaluate(ctx):
        value = first(ctx)
        for apply, right in steps:
            value = apply(value, right, ctx)
        return value
    return evaluate


def _compare(compare):
    return lambda value, right, ctx: _relational(value, right(ctx), compare)


def _calculate(operation):
    return lambda value, right, ctx: _arithmetic(operation, to_number(value), to_number(right(ctx)))


# How each binary operator combines the value so far with its right operand (evaluated only
# when needed: ``and`` and ``or`` short-circuit).
_STEPS = {
    "and": lambda value, right, ctx: to_bool(value) and to_bool(right(ctx)),
    "or": lambda value, right, ctx: to_bool(value) or to_bool(right(ctx)),
    "=": lambda value, right, ctx: _equals(value, right(ctx)),
    "!=": lambda value, right, ctx: not _equals(value, right(ctx)),
    "<": _compare(lambda a, b: a < b), "<=": _compare(lambda a, b: a <= b),
    ">": _compare(lambda a, b: a > b), ">=": _compare(lambda a, b: a >= b),
    "+": _calculate(lambda a, b: a + b), "-": _calculate(lambda a, b: a - b),
    "*": _calculate(lambda a, b: a * b), "div": _calculate(lambda a, b: _divide(a, b)),
    "mod": _calculate(lambda a, b: _modulo(a, b)),
}


def _arithmetic(operation, a: float, b: float) -> float:
    try:
        return float(operation(a, b))
    except OverflowError:
        return math.inf


def _divide(a: float, b: float) -> float:
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * (1 if math.copysign(1, b) > 0 else -1)
    return a / b


def _modulo(a: float, b: float) -> float:
    if b == 0 or math.isinf(a) or math.isnan(a) or math.isnan(b):
        return math.nan
    return math.fmod(a, b)


def _equals(a: Any, b: Any) -> bool:
    if isinstance(a, NodeSet) or isinstance(b, NodeSet):
        left = a if isinstance(a, NodeSet) else [a]
        right = b if isinstance(b, NodeSet) else [b]
        return any(_equals(x, y) for x in left for y in right)
    if isinstance(a, bool) or isinstance(b, bool):
        return to_bool(a) == to_bool(b)
    if isinstance(a, (int, float)) or isinstance(b, (int, float)) or isinstance(a, date) or isinstance(b, date):
        return to_number(a) == to_number(b)
    return to_string(a) == to_string(b)


def _relational(a: Any, b: Any, compare) -> bool:
    if isinstance(a, NodeSet) or isinstance(b, NodeSet):
        left = a if isinstance(a, NodeSet) else [a]
        right = b if isinstance(b, NodeSet) else [b]
        return any(_relational(x, y, compare) for x in left for y in right)
    return compare(to_number(a), to_number(b))   # False when either is NaN


# -- functions ------------------------------------------------------------------------

@dataclass(frozen=True)
class Function:
    arity: tuple[int, int | None]
    implementation: Callable
    lazy: bool = False


def _values(arguments: Sequence[Any]) -> list[Any]:
    flat: list[Any] = []
    for argument in arguments:
        flat.extend(argument if isinstance(argument, NodeSet) else [argument])
    return flat


def _if(ctx, arguments, position):
    return arguments[1](ctx) if to_bool(arguments[0](ctx)) else arguments[2](ctx)


def _coalesce(ctx, arguments, position):
    for argument in arguments:
        value = argument(ctx)
        if to_string(value) != "":
            return value
    return ""


def _selected(ctx, args, position):
    return to_string(args[1]).strip() in to_string(args[0]).split()


def _selected_at(ctx, args, position):
    items = to_string(args[0]).split()
    index = to_number(args[1])
    if math.isnan(index) or not 0 <= index < len(items):
        return ""
    return items[int(index)]


def _regex(ctx, args, position):
    text, pattern = to_string(args[0]), args[1]   # compiled when parsed (check_pattern)
    if len(text) > MAX_STRING:
        return False
    timeout = REGEX_TIMEOUT
    deadline = ctx.deadline()
    if deadline is not None:
        timeout = min(timeout, deadline - time.monotonic())
        if timeout <= 0:
            raise Timeout()
    try:
        return pattern.fullmatch(text, timeout=timeout) is not None
    except TimeoutError:
        return False


def _round(ctx, args, position):
    number = to_number(args[0])
    digits = to_number(args[1]) if len(args) > 1 else 0.0
    if not math.isfinite(number) or abs(number) >= 1e15:   # nothing after the decimal point
        return number
    digits = 0 if math.isnan(digits) else int(max(-15.0, min(15.0, digits)))
    factor = 10.0 ** digits
    return math.floor(number * factor + 0.5) / factor


def _int(ctx, args, position):
    number = to_number(args[0])
    if math.isnan(number) or math.isinf(number):
        return number
    return float(math.trunc(number))


def _sum(ctx, args, position):
    total = 0.0
    for value in _values(args):
        total += to_number(value)
    return total


def _minmax(choose):
    def implementation(ctx, args, position):
        numbers = [to_number(v) for v in _values(args)]
        if not numbers or any(math.isnan(n) for n in numbers):
            return math.nan
        return choose(numbers)
    return implementation


def _concat(ctx, args, position):
    return _bounded("".join(to_string(v) for v in _values(args)), position)


def _join(ctx, args, position):
    return _bounded(to_string(args[0]).join(to_string(v) for v in _values(args[1:])), position)


def _substr(ctx, args, position):
    text = to_string(args[0])
    start = to_number(args[1])
    end = to_number(args[2]) if len(args) > 2 else len(text)
    if math.isnan(start) or math.isnan(end):
        return ""
    return text[_clamped(start, len(text)):_clamped(end, len(text))]


def _clamped(number: float, length: int) -> int:
    """A string index from a number that may be infinite."""
    return int(max(0.0, min(float(length), number)))


def _date(ctx, args, position):
    parsed = _to_date(args[0])
    return parsed if parsed is not None else ""


def _to_moment(value: Any) -> datetime | None:
    """A date-time from a stored ``2026-02-01T14:05:00``, a date, or days since 1970 (with a fraction)."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime(1970, 1, 1) + timedelta(days=value)
        except (OverflowError, ValueError):
            return None
    text = to_string(value)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?)?", text):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _format_date_time(ctx, args, position):
    value = _to_moment(args[0])
    if value is None:
        return ""
    pattern = to_string(args[1])[:100]
    replacements = {"%Y": f"{value.year:04d}", "%y": f"{value.year % 100:02d}", "%m": f"{value.month:02d}",
                    "%n": str(value.month), "%d": f"{value.day:02d}", "%e": str(value.day),
                    "%H": f"{value.hour:02d}", "%h": str(value.hour), "%M": f"{value.minute:02d}",
                    "%S": f"{value.second:02d}", "%3": f"{value.microsecond // 1000:03d}"}
    return re.sub(r"%[YymndeHhMS3]", lambda m: replacements[m.group(0)], pattern)


def _decimal_date_time(ctx, args, position):
    """Days since 1970-01-01, with the time of day as a fraction (ODK's decimal-date-time)."""
    value = _to_moment(args[0])
    if value is None:
        return math.nan
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return (value - datetime(1970, 1, 1)).total_seconds() / 86400


def _maths(operation):
    """A function of one number: NaN for a value outside its domain, infinity for an overflow."""
    def implementation(ctx, args, position):
        number = to_number(args[0])
        try:
            return float(operation(number))
        except OverflowError:
            return math.inf
        except ValueError:
            return math.nan
    return implementation


def _atan2(ctx, args, position):
    return math.atan2(to_number(args[0]), to_number(args[1]))


def _choice_name(ctx, args, position):
    """``jr:choice-name(value, '${question}')``: the label of that choice of the question."""
    reference = re.fullmatch(r"\s*\$\{([^}]+)\}\s*", to_string(args[1]))
    label = getattr(ctx, "choice_label", None)
    if reference is None or label is None:
        return ""
    return label(reference.group(1), to_string(args[0]).strip())


def _list_item(ctx, list_name: str, key: str, value: str, column: str) -> Any:
    """A column of the first choice of ``list_name`` whose ``key`` column holds ``value``
    (``""`` when none does, or when the context knows no choices)."""
    item = getattr(ctx, "list_item", None)
    return item(list_name, key, value, column) if item is not None else ""


def _indexed_repeat(ctx, args, position):
    """``indexed-repeat(${q}, ${repeat}, n)``: ``${q}`` in the repeat's n-th entry."""
    values, index = args[0], to_number(args[2])
    items = list(values) if isinstance(values, NodeSet) else [values]
    if math.isnan(index) or not 1 <= index <= len(items):
        return ""
    return items[int(index) - 1]


def _position(ctx, args, position):
    return float(ctx.position())


def _pow(ctx, args, position):
    base, exponent = to_number(args[0]), to_number(args[1])
    try:
        return math.pow(base, exponent)
    except (OverflowError, ValueError):
        return math.nan if base < 0 else math.inf


def _number_function(operation):
    def implementation(ctx, args, position):
        number = to_number(args[0])
        if math.isnan(number) or math.isinf(number):
            return number
        return float(operation(number))
    return implementation


FUNCTIONS: dict[str, Function] = {
    "if": Function((3, 3), _if, lazy=True),
    "coalesce": Function((2, None), _coalesce, lazy=True),
    "selected": Function((2, 2), _selected),
    "count-selected": Function((1, 1), lambda ctx, a, p: float(len(to_string(a[0]).split()))),
    "selected-at": Function((2, 2), _selected_at),
    "regex": Function((2, 2), _regex),
    "string-length": Function((0, 1), lambda ctx, a, p: float(len(to_string(a[0] if a else ctx.current())))),
    "concat": Function((0, None), _concat),
    "join": Function((1, None), _join),
    "contains": Function((2, 2), lambda ctx, a, p: to_string(a[1]) in to_string(a[0])),
    "starts-with": Function((2, 2), lambda ctx, a, p: to_string(a[0]).startswith(to_string(a[1]))),
    "ends-with": Function((2, 2), lambda ctx, a, p: to_string(a[0]).endswith(to_string(a[1]))),
    "substr": Function((2, 3), _substr),
    "substring-before": Function((2, 2), lambda ctx, a, p: to_string(a[0]).partition(to_string(a[1]))[0]
                                 if to_string(a[1]) in to_string(a[0]) else ""),
    "substring-after": Function((2, 2), lambda ctx, a, p: to_string(a[0]).partition(to_string(a[1]))[2]),
    "normalize-space": Function((0, 1), lambda ctx, a, p: " ".join(to_string(a[0] if a else ctx.current()).split())),
    "string": Function((0, 1), lambda ctx, a, p: to_string(a[0] if a else ctx.current())),
    "number": Function((0, 1), lambda ctx, a, p: to_number(a[0] if a else ctx.current())),
    "boolean": Function((1, 1), lambda ctx, a, p: to_bool(a[0])),
    "boolean-from-string": Function((1, 1), lambda ctx, a, p: to_string(a[0]).strip() in ("true", "1")),
    "not": Function((1, 1), lambda ctx, a, p: not to_bool(a[0])),
    "true": Function((0, 0), lambda ctx, a, p: True),
    "false": Function((0, 0), lambda ctx, a, p: False),
    "round": Function((1, 2), _round),
    "int": Function((1, 1), _int),
    "floor": Function((1, 1), _number_function(math.floor)),
    "ceiling": Function((1, 1), _number_function(math.ceil)),
    "abs": Function((1, 1), lambda ctx, a, p: abs(to_number(a[0]))),
    "pow": Function((2, 2), _pow),
    "sum": Function((1, 1), _sum),
    "count": Function((1, 1), lambda ctx, a, p: float(len(a[0])) if isinstance(a[0], NodeSet)
                      else float(to_string(a[0]) != "")),
    "count-non-empty": Function((1, 1), lambda ctx, a, p: float(sum(1 for v in _values(a) if to_string(v) != ""))),
    "max": Function((1, None), _minmax(max)),
    "min": Function((1, None), _minmax(min)),
    "today": Function((0, 0), lambda ctx, a, p: ctx.today()),
    "now": Function((0, 0), lambda ctx, a, p: datetime.now(timezone.utc)),
    "date": Function((1, 1), _date),
    "format-date": Function((2, 2), _format_date_time),
    "jr:choice-name": Function((2, 2), _choice_name),
    "indexed-repeat": Function((3, 3), _indexed_repeat),
    "format-date-time": Function((2, 2), _format_date_time),
    "decimal-date-time": Function((1, 1), _decimal_date_time),
    "decimal-date": Function((1, 1), _decimal_date_time),
    "sqrt": Function((1, 1), _maths(math.sqrt)),
    "exp": Function((1, 1), _maths(math.exp)),
    "exp10": Function((1, 1), _maths(lambda x: math.pow(10.0, x))),
    "log": Function((1, 1), _maths(lambda x: -math.inf if x == 0 else math.log(x))),
    "log10": Function((1, 1), _maths(lambda x: -math.inf if x == 0 else math.log10(x))),
    "sin": Function((1, 1), _maths(math.sin)),
    "cos": Function((1, 1), _maths(math.cos)),
    "tan": Function((1, 1), _maths(math.tan)),
    "asin": Function((1, 1), _maths(math.asin)),
    "acos": Function((1, 1), _maths(math.acos)),
    "atan": Function((1, 1), _maths(math.atan)),
    "atan2": Function((2, 2), _atan2),
    "pi": Function((0, 0), lambda ctx, a, p: math.pi),
    "position": Function((0, 1), _position),
    "once": Function((1, 1), lambda ctx, a, p: a[0]),
}


# -- a simple context (tests, previews) -----------------------------------------------

@dataclass
class MappingContext:
    """Values by name; ``.`` is ``current``. Repeat values are NodeSets."""

    values: dict[str, Any]
    current_value: Any = ""
    position_value: int = 1
    today_value: date | None = None

    def lookup(self, name: str) -> Any:
        return self.values.get(name, "")

    def current(self) -> Any:
        return self.current_value

    def position(self) -> int:
        return self.position_value

    def today(self) -> date:
        return self.today_value or date.today()

    def deadline(self) -> float | None:
        return None
