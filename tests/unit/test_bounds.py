"""No answer and no questionnaire can make evaluation raise, recurse without bound or run
without end: each test is one reproduction of a finding of the hardening review."""
import math
import sys
import time
from datetime import date

import pytest

from app.scoring import score_indicator, score_response
from app.services import questionnaires
from app.xlsform import expressions
from app.xlsform.compiled import CompiledForm
from app.xlsform.expressions import ExpressionError, MappingContext, parse, to_number
from app.xlsform.state import MAX_INSTANCES, MAX_TOTAL_INSTANCES, FormState
from app.xlsform.values import InputError, parse_input, typed
from tests.xlsform_builders import (calculation_chain, calculation_ladder, many_patterns, nested_repeats,
                                    operator_chain, workbook)


def _form(data: bytes) -> CompiledForm:
    definition, issues = questionnaires.check(data)
    assert not [i for i in issues if not i.warning], [(i.code, i.where(), i.params) for i in issues]
    return CompiledForm(definition)


def _codes(data: bytes) -> list[str]:
    return [i.code for i in questionnaires.check(data)[1] if not i.warning]


def _value(source: str, **values):
    return parse(source)(MappingContext(values))


# -- text to number ---------------------------------------------------------------------

@pytest.mark.parametrize("text", ["inf", "-inf", "nan", "Infinity", "1e308", "1e5", "+5", "1_000", "0x10",
                                  "9" * 400])
def test_text_never_becomes_an_unbounded_number(text):
    assert math.isnan(to_number(text))


@pytest.mark.parametrize("text,number", [("12", 12.0), (" -3.5 ", -3.5), (".5", 0.5), ("7.", 7.0)])
def test_text_that_is_a_number_still_is(text, number):
    assert to_number(text) == number


# -- runtime errors -----------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("round(2.345, 1 div 0)", 2.345), ("round(${big}, 15)", 1e300), ("round(2.5, -1 div 0)", 0.0),
    ("substr('monitoring', 1 div 0)", ""), ("substr('monitoring', -1 div 0, 3)", "mon"),
    ("date(${last} + 30)", ""), ("date(-1000000)", ""), ("format-date(date(${last} + 1), '%Y')", ""),
    ("date(${last})", date(9999, 12, 31)), ("int(1 div 0)", math.inf), ("pow(10, 400)", math.inf),
])
def test_functions_at_their_limits_answer_instead_of_raising(text, expected):
    value = _value(text, big=1e300, last=date(9999, 12, 31))
    assert value == expected, (text, value)


class _Failing(MappingContext):
    def lookup(self, name):
        raise OverflowError("boom")


def test_any_runtime_error_is_an_expression_error():
    with pytest.raises(ExpressionError) as caught:
        parse("${a} + 1")(_Failing({}))
    assert caught.value.code == "cannot_compute"


# -- parsing is flat and bounded ------------------------------------------------------------

def test_a_chain_of_999_operators_parses_and_evaluates():
    text = "+".join(["1"] * 999)
    assert parse(text)(MappingContext({})) == 999.0


@pytest.mark.parametrize("text,expected", [
    ("10 - 2 + 3", 11.0), ("2 * 3 + 4 * 5", 26.0), ("1 + 2 = 3 and 2 > 1", True), ("1 or 1 div 0 > 1", True),
    ("0 and ${missing} = 1", False), ("100 div 10 div 2", 5.0), ("7 mod 4 mod 2", 1.0), ("1 < 2 = true()", True),
    ("2 - 3 - 4", -5.0), ("-2 * -3", 6.0),
])
def test_chains_keep_precedence_and_left_to_right_order(text, expected):
    assert _value(text) == expected


def test_nesting_is_limited():
    with pytest.raises(ExpressionError) as caught:
        parse("(" * 60 + "1" + ")" * 60)
    assert caught.value.code == "too_deep"


# -- regex ----------------------------------------------------------------------------------

@pytest.mark.parametrize("pattern,code", [
    ("(?:a{1500}){1500}", "pattern_too_large"), ("(?:a{65535}){65535}", "pattern_too_large"),
    ("a{1001}", "pattern_too_large"), ("((a{30}){30}){30}", "pattern_too_large"), ("x" * 501, "pattern_too_long"),
    ("[a-", "bad_pattern"), ("(", "bad_pattern"),
])
def test_hostile_patterns_are_refused_when_parsed(pattern, code):
    with pytest.raises(ExpressionError) as caught:
        parse(f"regex(., '{pattern}')")
    assert caught.value.code == code


def test_a_pattern_must_be_written_in_quotes():
    with pytest.raises(ExpressionError) as caught:
        parse("regex(., ${pattern})")
    assert caught.value.code == "pattern_not_text"


def test_ordinary_patterns_still_match():
    assert _value("regex('RS-2026-001', '[A-Z]{2}-\\d{4}-\\d{3}')") is True
    assert _value("regex('(?:ab){100}', '(?:ab){100}')") is False


def test_a_catastrophic_pattern_stops_at_its_timeout():
    started = time.perf_counter()
    assert _value("regex(${text}, '(a+)+$')", text="a" * 5000 + "b") is False
    assert time.perf_counter() - started < 1.0


def test_patterns_are_compiled_once_and_kept_out_of_the_regex_module_cache():
    """The module's cache would keep every pattern ever compiled resident in the worker."""
    cache = sys.modules[expressions.regex_module.compile.__module__]._cache
    before = len(cache)
    expression = parse("regex(., '[0-9]{3}-unique-to-this-test')")
    assert expression(MappingContext({}, current_value="123-unique-to-this-test")) is True
    assert expression(MappingContext({}, current_value="12")) is False
    assert len(cache) == before


# -- answers --------------------------------------------------------------------------------

def _node(type_: str, parameters: str = ""):
    form = _form(workbook([["type", "name", "label", "parameters"], [type_, "q", "Q", parameters]]))
    return form, form.by_name["q"]


@pytest.mark.parametrize("type_,parameters,raw,code", [
    ("decimal", "", "0.0000000000000000001", "too_many_decimals"),
    ("decimal", "", "999999999999999", "out_of_bounds"),
    ("decimal", "", "1e5", "not_number"), ("decimal", "", "inf", "not_number"), ("decimal", "", "nan", "not_number"),
    ("decimal", "", "9" * 400, "out_of_bounds"),
    ("decimal", "max=100", "100.5", "out_of_bounds"), ("decimal", "min=0", "-1", "out_of_bounds"),
    ("decimal", "decimals=2", "1.234", "too_many_decimals"),
    ("integer", "", "1000000000000000", "out_of_bounds"), ("integer", "max=10", "11", "out_of_bounds"),
    ("integer", "min=0", "-1", "out_of_bounds"),
    ("range", "start=0 end=10 step=2", "3", "out_of_range"), ("range", "start=0 end=10 step=2", "12", "out_of_range"),
    ("text", "", "a\x00b", "control_character"), ("text", "", "bell\x07", "control_character"),
])
def test_numbers_outside_their_bounds_are_refused(type_, parameters, raw, code):
    form, node = _node(type_, parameters)
    with pytest.raises(InputError) as caught:
        parse_input(form, node, raw)
    assert caught.value.code == code


@pytest.mark.parametrize("type_,parameters,raw,stored", [
    ("decimal", "", "999999999999", "999999999999"), ("decimal", "", "0.000001", "0.000001"),
    ("decimal", "", "1,5", "1.5"), ("decimal", "decimals=10", "0.0000000001", "0.0000000001"),
    ("decimal", "max=1000000000000000", "999999999999999", "999999999999999"),
    ("decimal", "", "2.50000000", "2.5"), ("integer", "", "999999999999999", "999999999999999"),
    ("integer", "min=-5", "-5", "-5"), ("range", "start=0 end=10 step=2", "0", "0"),
    ("range", "start=0 end=10 step=2", "10", "10"), ("text", "", "tab\tand\nnew line", "tab\tand\nnew line"),
])
def test_numbers_at_their_bounds_are_kept(type_, parameters, raw, stored):
    form, node = _node(type_, parameters)
    assert parse_input(form, node, raw) == stored


def test_stored_numbers_that_are_not_finite_read_as_blank():
    form, node = _node("decimal")
    assert typed(node, "1e999") == "" and typed(node, "nan") == "" and typed(node, "2.5") == 2.5


def test_a_range_stored_with_unusable_parameters_still_answers():
    """A definition stored before parameters were checked: the defaults (1 to 10) apply."""
    form, node = _node("range")
    node.parameters = {"start": "-inf", "step": "nan", "end": "1e400"}
    assert parse_input(form, node, "3") == "3"
    with pytest.raises(InputError):
        parse_input(form, node, "11")


@pytest.mark.parametrize("parameters", ["start=-inf", "step=nan", "end=1e400", "start=inf end=5"])
def test_range_parameters_must_be_finite(parameters):
    data = workbook([["type", "name", "label", "parameters"], ["range", "q", "Q", parameters]])
    assert "bad_parameter" in _codes(data)


@pytest.mark.parametrize("parameters,code", [("max=nan", "bad_parameter"), ("decimals=11", "bad_parameter"),
                                             ("decimals=1.5", "bad_parameter"), ("min=5 max=1", "bad_bounds")])
def test_bound_parameters_are_checked_at_upload(parameters, code):
    data = workbook([["type", "name", "label", "parameters"], ["decimal", "q", "Q", parameters]])
    assert code in _codes(data)


# -- indicators that cannot be computed -------------------------------------------------------

def _ratio_form(numerator="${spent}", denominator="${planned}"):
    return _form(workbook(
        [["type", "name", "label", "parameters"], ["decimal", "planned", "Planned", "decimals=10 max=1e15"],
         ["decimal", "spent", "Spent", "max=1e15"]],
        extra={"indicators": [["code", "area", "section", "label", "method", "numerator", "denominator"],
                              ["IF5", "a1", "practice", "Spent", "ratio", numerator, denominator]],
               "areas": [["code", "label"], ["a1", "Area"]]}))


def test_a_ratio_beyond_any_sense_is_not_a_value():
    form = _ratio_form()
    state = FormState(form, {"planned": "0.0000000001", "spent": "999999999999999"})
    result = score_indicator(form, state, form.indicators["IF5"])
    assert result.value is None and result.rating is None and result.problem == "out_of_range"


def test_a_ratio_whose_expression_fails_says_why():
    form = _ratio_form(numerator="date(${spent})", denominator="1")
    state = FormState(form, {"planned": "1", "spent": "999999999999999"})
    result = score_indicator(form, state, form.indicators["IF5"])
    assert result.value is None and result.problem is None  # a blank date is no number: no value, no error
    form = _ratio_form(numerator="pow(10, ${spent})", denominator="1")
    result = score_indicator(form, FormState(form, {"planned": "1", "spent": "400"}), form.indicators["IF5"])
    assert result.value is None and result.problem == "not_finite"


def test_an_ordinary_ratio_is_computed():
    form = _ratio_form()
    result = score_indicator(form, FormState(form, {"planned": "200", "spent": "150"}), form.indicators["IF5"])
    assert result.value == 75.0 and result.rating == "green" and result.problem is None


# -- forms that used to exhaust a worker -------------------------------------------------------

def test_calculations_are_evaluated_without_recursion():
    form = _form(calculation_ladder(900))
    state = FormState(form, {"n": "5"})   # read lazily: the last calculation first
    assert state.value("c899") == 904.0
    assert FormState(form, {"n": "5"}, whole=True).value("c899") == 904.0


def test_a_chain_read_ahead_is_accepted_and_evaluated():
    form = _form(calculation_chain(1000))
    state = FormState(form, {"n": "1"})
    assert state.value("c999") == 1.0 and state.failure("c0") is None


def test_a_long_operator_chain_is_accepted():
    form = _form(operator_chain(999))
    assert FormState(form, {}).value("total") == 999.0


def test_nested_repeats_are_limited_for_the_whole_form():
    form = _form(nested_repeats(40))
    state = FormState(form, {}, whole=True)
    entries = sum(state.count(node, prefix) for node in form.nodes if node.kind == "repeat"
                  for prefix in state.instances(node))
    assert entries == MAX_TOTAL_INSTANCES
    assert state.count(form.by_name["a"]) == 40 <= MAX_INSTANCES
    lazy = FormState(form, {})
    assert [lazy.count(form.by_name["c"], (1, i)) for i in (1, 2)] == [state.count(form.by_name["c"], (1, i))
                                                                       for i in (1, 2)]


def test_evaluating_a_form_stops_at_its_time_budget():
    form = _form(many_patterns(1, 76))   # 76 patterns that each take their whole timeout
    state = FormState(form, {"q1": "a" * 3000 + "b"}, whole=True)
    started = time.perf_counter()
    assert state.value("r0") == ""
    assert time.perf_counter() - started < 1.5
    assert state.failure("r0") == "time_budget"


def test_scoring_a_response_never_raises_on_hostile_answers():
    form = _ratio_form(numerator="round(${spent}, 1 div 0) + string-length(substr('x', 1 div 0))",
                       denominator="${planned}")
    state = FormState(form, {"planned": "0.0000000001", "spent": "999999999999999"})
    results = score_response(form, state)
    assert results["IF5"].value is None and results["IF5"].problem is not None
