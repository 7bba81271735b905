"""The expression engine at its edges: how many arguments each function takes, every limit
at the exact value it allows and one past it, the size a ``regex()`` pattern is counted as,
and the functions' results where a slip would go unnoticed (a false ``contains``, a
``format-date`` with two-digit years, a count of one)."""
import math
import time
from datetime import date, datetime, timezone

import pytest

from app.xlsform.expressions import (ExpressionError, MappingContext, NodeSet, Timeout, _pattern_size,
                                     check_pattern, parse, to_number)

# What the XLSForm and ODK documentation give for each function: (fewest, most) arguments,
# most None when there is no upper bound. Written out here, not read from the engine.
ARITY = {
    "if": (3, 3), "coalesce": (2, None), "selected": (2, 2), "count-selected": (1, 1),
    "selected-at": (2, 2), "regex": (2, 2), "string-length": (0, 1), "concat": (0, None),
    "join": (1, None), "contains": (2, 2), "starts-with": (2, 2), "ends-with": (2, 2),
    "substr": (2, 3), "substring-before": (2, 2), "substring-after": (2, 2),
    "normalize-space": (0, 1), "string": (0, 1), "number": (0, 1), "boolean": (1, 1),
    "boolean-from-string": (1, 1), "not": (1, 1), "true": (0, 0), "false": (0, 0), "round": (1, 2),
    "int": (1, 1), "floor": (1, 1), "ceiling": (1, 1), "abs": (1, 1), "pow": (2, 2), "sum": (1, 1),
    "count": (1, 1), "count-non-empty": (1, 1), "max": (1, None), "min": (1, None), "today": (0, 0),
    "now": (0, 0), "date": (1, 1), "format-date": (2, 2), "position": (0, 1), "once": (1, 1),
    "format-date-time": (2, 2), "decimal-date-time": (1, 1), "decimal-date": (1, 1), "sqrt": (1, 1), "exp": (1, 1),
    "exp10": (1, 1), "log": (1, 1), "log10": (1, 1), "sin": (1, 1), "cos": (1, 1), "tan": (1, 1), "asin": (1, 1),
    "acos": (1, 1), "atan": (1, 1), "atan2": (2, 2), "pi": (0, 0), "jr:choice-name": (2, 2),
    "indexed-repeat": (3, 3),
}
MAX_ARGUMENTS = 50


def _call(name: str, count: int) -> str:
    return name + "(" + ", ".join(["'a'"] * count) + ")"


def _refused(text: str, **options) -> str:
    with pytest.raises(ExpressionError) as error:
        parse(text, **options)
    return error.value.code


@pytest.mark.parametrize("name", sorted(ARITY))
def test_each_function_takes_its_documented_number_of_arguments(name):
    fewest, most = ARITY[name]
    parse(_call(name, fewest))
    parse(_call(name, most if most is not None else MAX_ARGUMENTS))
    if fewest > 0:
        assert _refused(_call(name, fewest - 1)) == "wrong_arity"
    if most is not None:
        assert _refused(_call(name, most + 1)) == "wrong_arity"
    else:
        assert _refused(_call(name, MAX_ARGUMENTS + 1)) == "too_many_arguments"


@pytest.mark.parametrize("nest", [
    lambda n: "(" * n + "1" + ")" * n,                  # parentheses
    lambda n: "-" * n + "1",                            # unary minus
    lambda n: "abs(" * n + "1" + ")" * n,               # function arguments
    lambda n: "1 + (" * n + "1" + ")" * n,              # an operand inside parentheses counts twice
], ids=["parentheses", "minus", "arguments", "operands"])
def test_nesting_is_allowed_to_the_documented_depth_and_no_further(nest):
    depth = 40 if nest(1) != "1 + (1)" else 20
    parse(nest(depth))
    assert _refused(nest(depth + 1)) == "too_deep"


def test_a_long_flat_chain_costs_no_depth():
    assert parse(" + ".join(["1"] * 500)).evaluate(MappingContext({})) == 500.0


def test_text_is_allowed_to_2000_characters():
    parse("1" + " " * 1999)
    assert _refused("1" + " " * 2000) == "too_long"


def test_built_strings_are_allowed_to_20000_characters():
    def concat(length):
        return parse("concat(${a}, 'b')").evaluate(MappingContext({"a": "a" * (length - 1)}))
    assert len(concat(20_000)) == 20_000
    with pytest.raises(ExpressionError) as error:
        concat(20_001)
    assert error.value.code == "string_too_long"


def test_regex_matches_text_up_to_20000_characters_and_no_longer():
    expression = parse("regex(${t}, 'a+')")
    assert expression.evaluate(MappingContext({"t": "a" * 20_000})) is True
    assert expression.evaluate(MappingContext({"t": "a" * 20_001})) is False


def test_regex_stops_when_the_form_has_no_time_left():
    class Late(MappingContext):
        def deadline(self):
            return time.monotonic() - 1
    with pytest.raises(Timeout):
        parse("regex('a', 'a')").evaluate(Late({}))


def test_patterns_are_allowed_to_500_characters():
    check_pattern("a" * 500)
    with pytest.raises(ExpressionError) as error:
        check_pattern("a" * 501)
    assert error.value.code == "pattern_too_long"


@pytest.mark.parametrize("pattern,allowed", [
    ("(?:a{100}){100}", True), ("(?:a{100}){101}", False), ("(?:a{1000}){10}", True),
    ("(?:a{1000}){10}b", False), ("a{1000}", True), ("a{1001}", False), ("a{2,1000}", True),
    ("a{1001,}", False), ("a{1000,}", False),
])
def test_patterns_are_allowed_to_10000_atoms_and_counts_to_1000(pattern, allowed):
    if allowed:
        check_pattern(pattern)
    else:
        with pytest.raises(ExpressionError) as error:
            check_pattern(pattern)
        assert error.value.code == "pattern_too_large"


# (pattern, the bound of its atoms once counted repetitions are expanded, worked out by hand:
# an upper bound, so a back-reference or an escape it does not know counts a few atoms too many)
PATTERN_SIZES = [
    ("abc", 3), ("a|b", 2), ("a*b+c?^$", 3), ("", 0),
    ("a{3}", 3), ("a{2,5}", 5), ("a{4,}", 5), ("a{,3}", 3), ("a{0}", 1), ("{3}", 0), ("a{}", 3),
    ("(ab){3}", 6), ("(?:ab){3}", 6), ("(?=ab)c", 3), ("(?!a)b", 2), ("(?>ab)", 2),
    ("(?<=ab)c", 3), ("(?<!ab)c", 3), ("(?<name>ab){2}", 4), ("(?P<n>ab){2}", 4), ("(?P=n)", 3),
    ("((a){2}b){3}", 9), ("()", 1), ("(a", 1), (")", 1), ("(?", 0), ("(?<n", 0),
    ("[abc]{4}", 4), (r"[a\]b]{2}", 2), ("[[:alpha:]]{3}", 3), ("[ab", 1),
    (r"\d{5}", 5), (r"\da", 2), (r"\p{L}{3}", 3), (r"\x{41}{2}", 2), (r"\N{LATIN SMALL LETTER A}", 1),
    (r"\P{L}b", 2), (r"\pLb", 3), ("a\\", 2),
]


@pytest.mark.parametrize("pattern,size", PATTERN_SIZES)
def test_pattern_size_counts_atoms_with_repetitions_expanded(pattern, size):
    assert _pattern_size(pattern, 0) == size


@pytest.mark.parametrize("text,expected", [
    # number of a date, a date of a number: day 0 is 1 January 1970, and dates stop at years 1 and 9999
    ("number(date('1970-01-02'))", 1.0), ("string(date(0))", "1970-01-01"), ("string(date(31))", "1970-02-01"),
    ("string(date(2932896))", "9999-12-31"), ("date(2932897)", ""), ("string(date(-719162))", "0001-01-01"),
    ("date(-719163)", ""), ("date(1 div 0)", ""), ("date(0 div 0)", ""),
    ("string(date('2026-03-01T10:00'))", "2026-03-01"), ("date('2026-02-30')", ""), ("date('2026-3-1')", ""),
    ("format-date(date('2026-03-01'), '%y|%Y|%m|%n|%d|%e')", "26|2026|03|3|01|1"),
    ("format-date(date('2000-12-31'), '%y')", "00"), ("format-date('x', '%Y')", ""),
    ("format-date(date('2026-03-01'), concat('%Y', ${long}))", "2026" + "x" * 98),
    # numbers as text: no exponent, no minus zero
    ("string(0.0000001)", "0.0000001"), ("string(1 div 3)", "0.333333333333333"),
    ("string(10000000000000000)", "10000000000000000"), ("string(-0.0000000000000000001)", "0"),
    ("string(-0)", "0"), ("string(-1 div 0)", "-Infinity"), ("string(1 div 0)", "Infinity"),
    ("string(0 div 0)", "NaN"), ("string(-2.5)", "-2.5"),
    # first of a repeat's values; any of them in a comparison
    ("number(false())", 0.0), ("number(${beds})", 10.0), ("string(${beds})", "10"), ("${beds} = 4", True),
    ("4 = ${beds}", True), ("${beds} = 5", False), ("${beds} > 9", True), ("3 > ${beds}", False), ("${beds} < 5", True), ("5 > ${beds}", True),
    ("boolean(${blank})", True), ("boolean(${none})", False), ("boolean('')", False),
    ("number(${none})", math.nan), ("string(${none})", ""),
    # a boolean compared with anything compares truth
    ("true() = 'x'", True), ("'x' = true()", True), ("false() = ''", True), ("false() = 'false'", False),
    ("1 > 1", False), ("1 >= 1", True), ("1 < 1", False), ("1 <= 1", True),
    ("1 div -0", -math.inf), ("-1 div 0", -math.inf), ("-1 div -0", math.inf),
    # text functions, where they find nothing as well as where they do
    ("contains('abc', 'x')", False), ("contains('abc', 'bc')", True), ("starts-with('abc', 'b')", False),
    ("starts-with('abc', 'ab')", True), ("ends-with('abc', 'b')", False), ("ends-with('abc', 'bc')", True),
    ("substring-before('a-b', 'x')", ""), ("substring-before('a-b-c', '-')", "a"),
    ("substring-after('a-b', 'x')", ""), ("substring-after('a-b-c', '-')", "b-c"),
    ("substr('abc', 0, 'x')", ""), ("substr('abc', 'x')", ""), ("substr('abcdef', 1, 3)", "bc"),
    ("substr('abc', 1)", "bc"), ("substr('abc', -5, 1 div 0)", "abc"),
    ("normalize-space('  a   b ')", "a b"), ("string-length()", 3.0), ("boolean-from-string(' 1 ')", True),
    ("boolean-from-string('yes')", False), ("join('-', ${beds})", "10-4-6"), ("join('-')", ""),
    ("count('')", 0.0), ("count('x')", 1.0), ("count-non-empty(${blank})", 1.0), ("count-non-empty(${none})", 0.0), ("count-non-empty(${beds})", 3.0),
    # numbers at their edges
    ("pow(0, -1)", math.inf), ("pow(0.5, -2000)", math.inf), ("pow(-8, 0.5)", math.nan), ("pow(2, 2000)", math.inf),
    ("floor(1 div 0)", math.inf), ("floor(-1 div 0)", -math.inf), ("floor(number('x'))", math.nan),
    ("ceiling(0 div 0)", math.nan), ("int(1 div 0)", math.inf), ("round(1 div 0)", math.inf),
    ("round(1234.5678, -2)", 1200.0), ("round(2.345, 'x')", 2.0), ("round(1000000000000000.5)", 1000000000000000.5),
    ("min(1, 'x')", math.nan), ("max(${none})", math.nan), ("sum(${blank})", math.nan),
    ("number('12345678901234567890')", 12345678901234567890.0), ("number(concat('1', ${spaces}))", 1.0),
])
def test_function_results_at_their_edges(text, expected):
    values = {"beds": NodeSet([10.0, 4.0, 6.0]), "blank": NodeSet(["", 2.0]), "none": NodeSet([]),
              "long": "x" * 200, "spaces": " " * 1000}
    result = parse(text).evaluate(MappingContext(values, current_value="abc"))
    if isinstance(expected, float) and math.isnan(expected):
        assert isinstance(result, float) and math.isnan(result)
    else:
        assert result == expected and type(result) is type(expected)


def test_a_moment_counts_as_days_and_part_days_since_1970():
    assert to_number(datetime(1970, 1, 2, 12, tzinfo=timezone.utc)) == 1.5
    assert to_number(date(1970, 1, 2)) == 1.0


def test_a_context_without_a_date_is_today():
    assert MappingContext({}).today() == date.today()
    assert MappingContext({}, today_value=date(2026, 1, 2)).today() == date(2026, 1, 2)
    assert parse("position()").evaluate(MappingContext({})) == 1.0


def test_errors_name_what_they_found():
    with pytest.raises(ExpressionError) as error:
        parse("concat(1")
    assert error.value.params == {"expected": ")", "found": "end"}
    with pytest.raises(ExpressionError) as error:
        parse("1 +")
    assert error.value.params == {"token": "end"}
    with pytest.raises(ExpressionError) as error:
        parse("${bad name}")
    assert (error.value.code, error.value.params) == ("bad_reference", {"reference": "${bad name}"})


def test_the_loosest_operator_is_allowed_at_the_top():
    assert parse("0 or 1").evaluate(MappingContext({})) is True
    assert parse("1 and 0 or 1").evaluate(MappingContext({})) is True
    assert parse("1 or 0 and 0").evaluate(MappingContext({})) is True
    assert parse("1 = 1 and 2").evaluate(MappingContext({})) is True
    assert parse("1 < 2 = 1").evaluate(MappingContext({})) is True
    assert parse("1 + 2 < 4").evaluate(MappingContext({})) is True
    assert parse("2 * 3 + 1").evaluate(MappingContext({})) == 7.0


def test_choice_filters_read_bare_names_as_columns_but_not_operator_words():
    class Choices(MappingContext):
        def column(self, name):
            return {"country": "ME", "kind": "x"}[name]
    expression = parse("country = ${c}", choice_columns=True)
    assert expression.evaluate(Choices({"c": "ME"})) is True
    assert expression.evaluate(Choices({"c": "AL"})) is False
    assert _refused("country = 'ME'") == "bare_name"
    assert _refused("and", choice_columns=True) in ("bare_name", "unexpected_token")


def test_only_expressions_that_read_the_current_value_say_so():
    assert parse(". > 1").uses_current is True
    assert parse("${a} > 1").uses_current is False
