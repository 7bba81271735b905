"""The expression engine against a table of ODK results, and properties that must always hold."""
import math
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.xlsform.expressions import (MAX_DEPTH, MAX_LENGTH, MAX_STRING, ExpressionError, MappingContext,
                                     NodeSet, parse, to_string)

VALUES = {
    "age": 34.0, "empty": "", "name": "Ana", "zero": 0.0, "ms": "police shelter ngo", "yes": "yes",
    "text5": "5", "presumed": 12.0, "identified": 9.0, "d": date(2026, 3, 1),
    "beds": NodeSet([10.0, 4.0, 6.0]), "blank_in_repeat": NodeSet([1.0, ""]), "none": NodeSet([]),
}

# (expression, expected result as ODK gives it; floats compared with isclose)
TABLE = [
    ("1 + 2 * 3", 7.0), ("(1 + 2) * 3", 9.0), ("7 div 2", 3.5), ("7 mod 3", 1.0), ("-7 mod 3", -1.0),
    ("1 div 0", math.inf), ("0 div 0", math.nan), ("5 mod 0", math.nan), ("-${age}", -34.0),
    ("${age} > 18", True), ("${age} >= 34 and ${age} <= 34", True), ("${age} = '34'", True),
    ("${text5} = 5", True), ("${text5} = '5.0'", False), ("${text5} < 10", True),
    ("${empty} = ''", True), ("${empty} = 0", False), ("${empty} > -1", False), ("${empty} < 1", False),
    ("${empty} + 1", math.nan), ("${empty}", ""), ("not(${empty})", True), ("${zero} or ${name}", True),
    ("${name} = 'Ana'", True), ("${name} != 'ana'", True), ("'b' > 'a'", False),
    ("${yes} = 'yes' or ${age} < 0", True), ("true() and false()", False), ("not(false())", True),
    ("if(${age} > 18, 'adult', 'child')", "adult"), ("if(${empty}, 1, 2)", 2.0),
    ("coalesce(${empty}, ${name})", "Ana"), ("coalesce(${empty}, '')", ""),
    ("selected(${ms}, 'shelter')", True), ("selected(${ms}, 'court')", False), ("selected(${ms}, 'shel')", False),
    ("count-selected(${ms})", 3.0), ("count-selected(${empty})", 0.0), ("selected-at(${ms}, 1)", "shelter"),
    ("selected-at(${ms}, 9)", ""),
    ("concat(${name}, '-', ${age})", "Ana-34"), ("concat()", ""), ("string-length(${name})", 3.0),
    ("string-length('')", 0.0), ("regex(${name}, '[A-Z][a-z]+')", True), ("regex(${name}, 'a')", False),
    ("regex('12', '\\d+')", True),
    ("round(2.5)", 3.0), ("round(-2.5)", -2.0), ("round(3.14159, 2)", 3.14), ("int(-3.7)", -3.0),
    ("int(3.7)", 3.0), ("number('12.5')", 12.5), ("number('abc')", math.nan), ("number(true())", 1.0),
    ("string(12.0)", "12"), ("string(0.1 + 0.2)", "0.3"), ("floor(-1.5)", -2.0), ("ceiling(1.2)", 2.0),
    ("abs(-4)", 4.0), ("pow(2, 10)", 1024.0), ("min(3, 1, 2)", 1.0), ("max(${beds})", 10.0),
    ("sum(${beds})", 20.0), ("count(${beds})", 3.0), ("count(${none})", 0.0), ("sum(${none})", 0.0),
    ("sum(${blank_in_repeat})", math.nan), ("count-non-empty(${blank_in_repeat})", 1.0),
    ("${beds} > 9", True), ("${beds} = 4", True), ("${beds} > 100", False),
    ("${identified} <= ${presumed}", True), ("${identified} div ${presumed} * 100", 75.0),
    ("contains(${name}, 'n')", True), ("starts-with(${name}, 'A')", True), ("ends-with(${name}, 'x')", False),
    ("substr('monitoring', 0, 4)", "moni"), ("substring-before('a-b', '-')", "a"),
    ("substring-after('a-b', '-')", "b"), ("normalize-space('  a   b ')", "a b"),
    ("${d} < date('2026-04-01')", True), ("${d} = '2026-03-01'", True), ("format-date(${d}, '%d.%m.%Y')", "01.03.2026"),
    ("today() > date('2020-01-01')", True), ("join(', ', ${beds})", "10, 4, 6"),
    ("boolean-from-string('true')", True), ("boolean('')", False), ("once(5)", 5.0),
    # maths and date-times as ODK's XPath has them (NaN outside a function's domain)
    ("sqrt(16)", 4.0), ("sqrt(-1)", math.nan), ("exp(0)", 1.0), ("exp(1000)", math.inf), ("exp10(2)", 100.0),
    ("log(1)", 0.0), ("log(0)", -math.inf), ("log(-1)", math.nan), ("log10(1000)", 3.0), ("pi()", math.pi),
    ("sin(0)", 0.0), ("cos(0)", 1.0), ("tan(0)", 0.0), ("asin(2)", math.nan), ("acos(1)", 0.0),
    ("atan(0)", 0.0), ("atan2(0, 1)", 0.0), ("sqrt(${empty})", math.nan),
    ("format-date-time('2026-02-01T14:05:09', '%e.%n.%Y %H:%M:%S')", "1.2.2026 14:05:09"),
    ("format-date-time(${d}, '%d/%m/%y %h:%M')", "01/03/26 0:00"), ("format-date-time('soon', '%Y')", ""),
    ("decimal-date-time('1970-01-02T12:00:00')", 1.5), ("decimal-date-time('1970-01-01T06:00:00+06:00')", 0.0),
    ("decimal-date-time(${d})", 20513.0), ("decimal-date-time('x')", math.nan),
    ("decimal-date-time(1.25)", 1.25),
    # a repeat's n-th entry, and nothing outside it; a value outside any repeat is its own first entry
    ("indexed-repeat(${beds}, ${beds}, 1)", 10.0), ("indexed-repeat(${beds}, ${beds}, 3)", 6.0),
    ("indexed-repeat(${beds}, ${beds}, 4)", ""), ("indexed-repeat(${beds}, ${beds}, 0)", ""),
    ("indexed-repeat(${beds}, ${beds}, ${empty})", ""), ("indexed-repeat(${age}, ${beds}, 1)", 34.0),
    ("indexed-repeat(${age}, ${beds}, 2)", ""),
    ("jr:choice-name(${yes}, '${yes}')", ""),   # this context knows no choices
]


@pytest.mark.parametrize("text,expected", TABLE)
def test_odk_semantics(text, expected):
    value = parse(text)(MappingContext(VALUES, today_value=date(2026, 11, 23)))
    if isinstance(expected, float):
        assert isinstance(value, float), (text, value)
        assert (math.isnan(expected) and math.isnan(value)) or math.isclose(value, expected), (text, value)
    else:
        assert value == expected, (text, value)


def test_current_value_in_constraints():
    constraint = parse(". >= 0 and . <= ${presumed}")
    assert constraint(MappingContext(VALUES, current_value=5.0)) is True
    assert constraint(MappingContext(VALUES, current_value=13.0)) is False
    assert constraint.uses_current and constraint.references == {"presumed"}


def test_position_in_a_repeat():
    assert parse("position(..)")(MappingContext({}, position_value=3)) == 3.0


@pytest.mark.parametrize("text,code", [
    ("", "empty"), ("1 +", "unexpected_token"), ("(1", "expected"), ("foo(1)", "unknown_function"),
    ("if(1, 2)", "wrong_arity"), ("${}", "bad_reference"), ("${a b}", "bad_reference"),
    ("/data/age > 1", "path_not_supported"), ("age > 1", "bare_name"), ("1 # 2", "unexpected_character"),
    ("'unclosed", "unexpected_character"), ("${a} | ${b}", "union_not_supported"), ("1 2", "unexpected_token"),
    ("__import__('os')", "unknown_function"), ("().__class__", "unexpected_token"),
    ("pulldata('fruits', 'name', 'key', ${a})", "function_not_supported"), ("distance(${a})", "function_not_supported"),
])
def test_parse_errors_are_located(text, code):
    with pytest.raises(ExpressionError) as error:
        parse(text)
    assert error.value.code == code
    assert 0 <= error.value.position <= len(text)


def test_length_and_depth_are_bounded():
    with pytest.raises(ExpressionError) as error:
        parse("1+" * (MAX_LENGTH // 2) + "1")
    assert error.value.code == "too_long"
    with pytest.raises(ExpressionError) as error:
        parse("(" * (MAX_DEPTH + 5) + "1" + ")" * (MAX_DEPTH + 5))
    assert error.value.code == "too_deep"
    with pytest.raises(ExpressionError) as error:
        parse("not(" * (MAX_DEPTH + 5) + "1" + ")" * (MAX_DEPTH + 5))
    assert error.value.code == "too_deep"


def test_strings_cannot_grow_without_bound():
    doubling = "concat(" + ", ".join(["${big}"] * 30) + ")"
    with pytest.raises(ExpressionError) as error:
        parse(doubling)(MappingContext({"big": "x" * 1000}))
    assert error.value.code == "string_too_long" and error.value.params["limit"] == MAX_STRING


def test_catastrophic_regex_is_cut_off():
    evil = parse("regex(${s}, '(a+)+$')")
    assert evil(MappingContext({"s": "a" * 5000 + "!"})) is False


# -- properties -----------------------------------------------------------------------

numbers = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9)
atoms = st.one_of(
    numbers.map(lambda n: f"{abs(n):.6f}"), st.sampled_from(["${age}", "${empty}", "${name}", "${ms}", "${beds}", "."]),
    st.text(alphabet="abc xyz", max_size=5).map(lambda t: f"'{t}'"))


def _expressions():
    binary = st.sampled_from(["+", "-", "*", "div", "mod", "=", "!=", "<", "<=", ">", ">=", "and", "or"])
    return st.recursive(atoms, lambda inner: st.one_of(
        st.tuples(inner, binary, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda e: f"not({e})"),
        st.tuples(inner, inner, inner).map(lambda t: f"if({t[0]}, {t[1]}, {t[2]})"),
        st.tuples(inner, inner).map(lambda t: f"concat({t[0]}, {t[1]})"),
        inner.map(lambda e: f"round({e}, 1)"),
    ), max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(_expressions())
def test_generated_expressions_parse_and_evaluate_without_error(text):
    expression = parse(text)
    value = expression(MappingContext(VALUES, current_value=3.0))
    assert isinstance(value, (bool, float, str, date, NodeSet))
    assert parse(text).tree == expression.tree  # parsing is deterministic


@settings(max_examples=200, deadline=None)
@given(numbers, numbers)
def test_arithmetic_matches_python(a, b):
    context = MappingContext({"a": a, "b": b})
    assert parse("${a} + ${b}")(context) == a + b
    assert parse("${a} * ${b}")(context) == a * b
    assert parse("${a} < ${b}")(context) is (a < b)
    assert parse("${a} = ${b}")(context) is (a == b)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_never_crashes_the_parser(text):
    try:
        parse(text)
    except ExpressionError:
        pass


@settings(max_examples=100, deadline=None)
@given(numbers)
def test_number_string_round_trip(n):
    assert math.isclose(float(to_string(n)), n, rel_tol=1e-12, abs_tol=1e-12)


@pytest.mark.parametrize("text,expected", [
    # precedence and left-to-right order
    ("10 - 2 + 3", 11.0), ("2 + 3 * 4", 14.0), ("2 * 3 - 4", 2.0), ("10 div 4 * 2", 5.0), ("10 mod 4 * 2", 4.0),
    ("-2 + 5", 3.0), ("2 - -3", 5.0), ("1 or 0 and 0", True), ("0 and 1 or 1", True), ("1 = 1 and 2 = 3", False),
    ("3 > 2 = true()", True), ("1 + 1 = 2", True), ("2 < 3 < 1", False), ("8 div 2 div 2", 2.0),
    # truthiness
    ("if(2, 'yes', 'no')", "yes"), ("if(0, 'yes', 'no')", "no"), ("if(-1, 'yes', 'no')", "yes"),
    ("if('', 1, 2)", 2.0), ("if('x', 1, 2)", 1.0), ("if('0', 1, 2)", 1.0), ("if(0 div 0, 1, 2)", 2.0),
    ("boolean(${none})", False), ("boolean(${beds})", True), ("not(0)", True), ("not('false')", False),
    # selected-at bounds
    ("selected-at(${ms}, 0)", "police"), ("selected-at(${ms}, 2)", "ngo"), ("selected-at(${ms}, 3)", ""),
    ("selected-at(${ms}, -1)", ""), ("selected-at(${ms}, 0.9)", "police"), ("selected-at(${empty}, 0)", ""),
    ("count-selected('a  b ')", 2.0),
    # comparisons of mixed kinds
    ("'10' > '9'", True), ("'abc' = 'abc '", False), ("${age} != 34", False), ("${empty} != ''", False),
    ("${d} > '2026-02-28'", True), ("date('2026-03-01') - date('2026-02-01')", 28.0),
    ("round(-0.5)", 0.0), ("round(1.005, 2)", 1.0), ("round(1234.5, -2)", 1200.0), ("int(-0.5)", 0.0),
    ("substr('abcdef', 2)", "cdef"), ("substr('abcdef', 1, 3)", "bc"), ("string-length(concat('ab', 'c'))", 3.0),
    ("min(2, ${empty})", math.nan), ("max(1, 5, 3)", 5.0),
    ("sum(${beds}) div count(${beds})", 20.0 / 3), ("coalesce(${empty}, ${empty}, 'z')", "z"),
])
def test_precedence_truthiness_and_bounds(text, expected):
    value = parse(text)(MappingContext(VALUES, today_value=date(2026, 11, 23)))
    if isinstance(expected, float):
        assert isinstance(value, float) and ((math.isnan(expected) and math.isnan(value))
                                             or math.isclose(value, expected)), (text, value)
    else:
        assert value == expected, (text, value)


class _Choices(MappingContext):
    def choice_label(self, name: str, value: str) -> str:
        return {("agency", "police"): "Police", ("agency", "ngo"): "An NGO"}.get((name, value), "")


def test_choice_name_gives_the_label_of_the_named_question_choice():
    context = _Choices({"agency": "ngo"})
    assert parse("jr:choice-name(${agency}, '${agency}')")(context) == "An NGO"
    assert parse("jr:choice-name(' police ', ' ${agency} ')")(context) == "Police"
    assert parse("jr:choice-name('ngo', 'agency')")(context) == ""   # not a ${} reference
    assert parse("jr:choice-name('court', '${agency}')")(context) == ""
