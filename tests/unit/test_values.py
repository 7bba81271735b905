"""Answers as typed and as stored, at every limit of every type."""
from datetime import date
from functools import cache

import pytest

from app.services import questionnaires
from app.xlsform.compiled import CompiledForm
from app.xlsform.values import (DECIMALS, MAX_DECIMAL, MAX_EVIDENCE, MAX_NUMBER, MAX_TEXT, InputError, finite,
                                number_bounds, parse_input, range_parameters, typed)
from tests.xlsform_builders import workbook


@cache
def _form() -> CompiledForm:
    survey = [["type", "name", "label", "parameters", "calculation"],
              ["integer", "i", "I", "", ""], ["decimal", "d", "D", "", ""],
              ["range", "r", "R", "start=2 end=8 step=2", ""], ["range", "down", "Down", "start=10 end=0 step=-5", ""],
              ["range", "plain", "Plain", "", ""], ["text", "t", "T", "", ""], ["date", "day", "Day", "", ""],
              ["time", "tm", "Time", "", ""], ["dateTime", "dt", "When", "", ""],
              ["select_one yn", "one", "One", "", ""], ["select_multiple yn", "many", "Many", "", ""],
              ["rank yn", "order", "Order", "", ""], ["select_one yn or_other", "other", "Other", "", ""],
              ["acknowledge", "ack", "Ack", "", ""], ["hidden", "h", "", "", ""], ["note", "n", "Note", "", ""],
              ["calculate", "c", "", "", "1 + 1"]]
    definition, issues = questionnaires.check(workbook(
        survey, choices=[["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]]))
    assert not [i for i in issues if not i.warning], [(i.code, i.where()) for i in issues]
    return CompiledForm(definition)


def _parse(name, raw):
    form = _form()
    return parse_input(form, form.by_name[name], raw)


def _refused(name, raw) -> str:
    with pytest.raises(InputError) as caught:
        _parse(name, raw)
    return caught.value.code


@pytest.mark.parametrize("name,raw,stored", [
    ("i", "0", "0"), ("i", "-0", "0"), ("i", "+7", "7"), ("i", " 12 ", "12"), ("i", "007", "7"),
    ("i", "999999999999999", "999999999999999"), ("i", "-999999999999999", "-999999999999999"),
    ("d", "2.5", "2.5"), ("d", "2,5", "2.5"), ("d", ".5", "0.5"), ("d", "5.", "5"), ("d", "-0.000001", "-0.000001"),
    ("d", "1000000000000", "1000000000000"), ("d", "-1000000000000", "-1000000000000"),
    ("r", "2", "2"), ("r", "8", "8"), ("r", "4", "4"), ("r", "4.0", "4"), ("down", "5", "5"), ("down", "0", "0"),
    ("down", "10", "10"), ("plain", "1", "1"), ("plain", "10", "10"),
    ("t", "  spaced  ", "  spaced  "), ("t", "a\r\nb", "a\nb"), ("t", "   ", ""), ("t", "x" * MAX_TEXT, "x" * MAX_TEXT),
    ("day", "2026-02-28", "2026-02-28"), ("day", "2024-02-29", "2024-02-29"), ("tm", "14:30", "14:30:00"),
    ("tm", "14:30:59.5", "14:30:59"), ("dt", "2026-03-31T14:30", "2026-03-31T14:30:00"),
    ("one", "yes", "yes"), ("one", " no ", "no"), ("many", ["yes", "no"], "yes no"), ("many", ["", " yes "], "yes"),
    ("order", ["no", "yes"], "no yes"), ("other", "other", "other"), ("ack", "OK", "OK"), ("ack", "yes", "OK"),
    ("ack", "1", "OK"), ("h", "kept", "kept"), ("i", "", ""), ("many", [], ""), ("d", None, ""),
])
def test_accepted_as_stored(name, raw, stored):
    assert _parse(name, raw) == stored


@pytest.mark.parametrize("name,raw,code", [
    ("i", "1.5", "not_integer"), ("i", "1e3", "not_integer"), ("i", "12a", "not_integer"),
    ("i", "1000000000000000", "out_of_bounds"), ("i", "-1000000000000000", "out_of_bounds"),
    ("i", "99999999999999999", "not_integer"),
    ("d", "1,5,2", "not_number"), ("d", "abc", "not_number"), ("d", "1000000000000.5", "out_of_bounds"),
    ("d", "-1000000000001", "out_of_bounds"), ("d", "0.0000001", "too_many_decimals"),
    ("r", "1", "out_of_range"), ("r", "9", "out_of_range"), ("r", "3", "out_of_range"), ("r", "2.5", "out_of_range"),
    ("down", "11", "out_of_range"), ("down", "-5", "out_of_range"), ("down", "7", "out_of_range"),
    ("plain", "0", "out_of_range"), ("plain", "11", "out_of_range"),
    ("t", "x" * (MAX_TEXT + 1), "too_long"), ("t", "a\x0bb", "control_character"), ("t", "a\x85b", "control_character"),
    ("day", "2026-02-30", "not_date"), ("day", "2026-2-3", "not_date"), ("day", "2026-02-03T10:00", "not_date"),
    ("tm", "25:00", "not_time"), ("dt", "yesterday", "not_datetime"),
    ("one", "maybe", "unknown_choice"), ("one", "yes no", "one_choice_only"), ("many", ["yes", "yes"], "duplicate_choice"),
    ("many", ["yes", "other"], "unknown_choice"), ("order", ["yes"], "rank_all"), ("ack", "no", "not_acknowledged"),
    ("n", "x", "not_answerable"), ("c", "x", "not_answerable"),
])
def test_refused_with_a_reason(name, raw, code):
    assert _refused(name, raw) == code


def test_range_refusals_name_the_bounds_and_step():
    with pytest.raises(InputError) as caught:
        _parse("r", "3")
    assert caught.value.params == ("2", "8", "2")
    with pytest.raises(InputError) as caught:
        _parse("down", "7")
    assert caught.value.params == ("0", "10", "5")


def test_bound_refusals_name_the_bounds():
    with pytest.raises(InputError) as caught:
        _parse("d", "1000000000001")
    assert caught.value.params == ("-1000000000000", "1000000000000")
    with pytest.raises(InputError) as caught:
        _parse("d", "0.1234567")
    assert caught.value.params == (DECIMALS,)


def test_default_bounds():
    form = _form()
    assert number_bounds(form.by_name["d"]) == (-MAX_DECIMAL, MAX_DECIMAL, DECIMALS)
    assert number_bounds(form.by_name["i"]) == (-(MAX_NUMBER - 1), MAX_NUMBER - 1, 0)
    assert number_bounds(form.by_name["r"])[:2] == (2.0, 8.0)
    assert range_parameters(form.by_name["plain"]) == (1.0, 10.0, 1.0)
    assert range_parameters(form.by_name["down"]) == (10.0, 0.0, 5.0)
    assert MAX_EVIDENCE == MAX_TEXT == 10_000


@pytest.mark.parametrize("text,low,high,expected", [
    ("5", -10, 10, 5.0), ("10", -10, 10, 10.0), ("-10", -10, 10, -10.0), ("10.01", -10, 10, None),
    ("-10.01", -10, 10, None), ("nan", -10, 10, None), ("inf", -1e300, 1e300, None), (None, -1, 1, None),
    ("x", -1, 1, None), ("", -1, 1, None),
])
def test_finite(text, low, high, expected):
    assert finite(text, low, high) == expected


@pytest.mark.parametrize("name,stored,value", [
    ("i", "12", 12.0), ("d", "2.5", 2.5), ("r", "4", 4.0), ("i", "", ""), ("i", None, ""), ("i", "x", ""),
    ("d", "1e999", ""), ("day", "2026-03-01", date(2026, 3, 1)), ("day", "2026-02-30", ""), ("t", "12", "12"),
    ("many", "yes no", "yes no"),
])
def test_typed(name, stored, value):
    assert typed(_form().by_name[name], stored) == value


def test_a_range_whose_start_is_not_a_multiple_of_its_step():
    form = CompiledForm(questionnaires.check(workbook(
        [["type", "name", "label", "parameters"], ["range", "q", "Q", "start=1 end=10 step=3"]]))[0])
    node = form.by_name["q"]
    assert [parse_input(form, node, value) for value in ("1", "4", "7", "10")] == ["1", "4", "7", "10"]
    for value in ("2", "3", "5", "9"):
        with pytest.raises(InputError):
            parse_input(form, node, value)


def test_decimals_zero_and_decimals_beyond_the_limit():
    form = CompiledForm(questionnaires.check(workbook(
        [["type", "name", "label", "parameters"], ["decimal", "q", "Q", "decimals=0"]]))[0])
    node = form.by_name["q"]
    assert number_bounds(node)[2] == 0 and parse_input(form, node, "12") == "12"
    with pytest.raises(InputError) as caught:
        parse_input(form, node, "1.5")
    assert caught.value.params == (0,)
    node.parameters = {"decimals": "11"}   # stored before the upload check refused it: the default applies
    assert number_bounds(node)[2] == DECIMALS
    node.parameters = {"decimals": "10"}
    assert number_bounds(node)[2] == 10
