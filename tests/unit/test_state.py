"""A response's state is computed as it is read. Reading it in any order, or only in part, must
give what evaluating the whole form in document order gives; a form whose expressions read
ahead is evaluated whole, in two passes."""
import math
from datetime import date
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.scoring import score_response
from app.services import questionnaires
from app.xlsform.compiled import CompiledForm
from app.xlsform.source import to_xlsx
from app.xlsform.state import FormState, node_path
from tests.xlsform_builders import ROOT, SHIPPED, calculation_chain, workbook

FORMS = {"types": ROOT / "tests" / "data" / "forms" / "types", "sample": ROOT / "tests" / "data" / "forms" / "sample",
         "ban": SHIPPED / "ban_monitoring", "kbf": SHIPPED / "kbf_reintegration"}
TODAY = date(2026, 11, 23)
POOLS = {"integer": ["0", "1", "3", "12", "-1"], "decimal": ["0", "2.5", "100"], "range": ["1", "3", "5"],
         "text": ["Ana", "x"], "date": ["2026-01-15", "2030-01-01"], "time": ["10:30:00"],
         "datetime": ["2026-01-15T10:30:00"], "acknowledge": ["OK"]}


def _compile(data: bytes) -> CompiledForm:
    definition, issues = questionnaires.check(data)
    assert not [issue for issue in issues if not issue.warning], issues
    return CompiledForm(definition)


@cache
def _form(name: str) -> CompiledForm:
    return _compile(to_xlsx(FORMS[name]))


@st.composite
def _answers(draw, form: CompiledForm) -> dict[str, str]:
    """Stored answers as a response can hold them: any subset of the questions answered, with
    up to three entries in each repeat the respondent fills."""
    answers: dict[str, str] = {}
    counts: dict[str, int] = {}

    def instances(node):
        indexes = [()]
        for repeat in node.chain:
            indexes = [prefix + (i,) for prefix in indexes
                       for i in range(1, counts.get(node_path(repeat, prefix), 0) + 1)]
        return indexes

    for node in form.nodes:
        if node.kind == "repeat" and node.repeat_count is None:
            for prefix in instances(node):
                count = draw(st.integers(0, 3))
                counts[node_path(node, prefix)] = count
                answers[node_path(node, prefix)] = str(count)
        if not node.is_input:
            continue
        if node.list_name:
            names = [choice.name for choice in form.choices[node.list_name]]
            if node.type == "select_one":
                pool = st.sampled_from(names)
            else:
                pool = st.lists(st.sampled_from(names), unique=True, max_size=3).map(" ".join)
        else:
            pool = st.sampled_from(POOLS.get(node.type, ["x"]))
        for index in instances(node):
            value = draw(st.none() | pool)
            if value is not None:
                answers[node_path(node, index)] = value
    return answers


def _same(one, other) -> bool:
    if isinstance(one, float) and isinstance(other, float) and math.isnan(one) and math.isnan(other):
        return True
    return one == other


def _everything(state: FormState):
    return [(node, index, node_path(node, index)) for node in state.form.nodes for index in state.instances(node)]


@pytest.mark.parametrize("name", FORMS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_reading_in_any_order_gives_the_whole_forms_state(name, data):
    form = _form(name)
    assert not form.cyclic
    answers = data.draw(_answers(form))
    whole = FormState(form, answers, today=TODAY, whole=True)
    read = FormState(form, answers, today=TODAY)
    for node, index, path in data.draw(st.permutations(_everything(whole))):
        assert read.is_relevant(path) == whole.is_relevant(path), path
        if node.kind == "question":
            assert _same(read.value(path), whole.value(path)), path
            assert read.answer(path) == whole.answer(path), path
            assert read.required(node, index) == whole.required(node, index), path
        elif node.kind == "repeat":
            assert read.count(node, index) == whole.count(node, index), path
    # A state read in part: scores first, then what keeps the response from being submitted.
    scored_first = FormState(form, answers, today=TODAY)
    assert score_response(form, scored_first) == score_response(form, whole)
    assert [(p.code, p.path) for p in scored_first.problems()] == [(p.code, p.path) for p in whole.problems()]
    assert [scored_first.progress(page) for page in form.pages] == [whole.progress(page) for page in form.pages]
    assert FormState(form, answers, today=TODAY).defaults() == whole.defaults()


def test_a_form_that_reads_ahead_is_evaluated_after_what_it_reads():
    form = _compile(workbook(
        [["type", "name", "label", "relevant", "calculation"],
         ["text", "reason", "Why not?", "${flag} = 1", ""],
         ["calculate", "twice", "", "", "${later} * 2"],
         ["select_one yn", "procedures", "Procedures in force?", "", ""],
         ["calculate", "flag", "", "", "if(${procedures} = 'no', 1, 0)"],
         ["integer", "later", "A number", "", ""]],
        choices=[["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]]))
    assert not form.cyclic
    assert [n.name for n in form.order].index("flag") < [n.name for n in form.order].index("reason")
    for whole in (False, True):
        state = FormState(form, {"procedures": "no", "later": "4"}, today=TODAY, whole=whole)
        assert state.is_relevant("reason") and state.value("twice") == 8.0  # the calculated flag, seen ahead
        assert state.progress() == (2, 3)
        state = FormState(form, {"procedures": "yes"}, today=TODAY, whole=whole)
        assert not state.is_relevant("reason")
        assert state.progress() == (1, 2)


def test_a_long_chain_read_ahead_is_evaluated_to_its_end():
    """1,000 calculations, each reading the next: two passes in document order would leave all
    but the last two blank."""
    form = _compile(calculation_chain(1000))
    for whole in (False, True):
        state = FormState(form, {"n": "1"}, today=TODAY, whole=whole)
        assert state.value("c0") == 1000.0 and state.value("c500") == 500.0


def test_a_form_that_reads_in_a_circle_is_evaluated_whole_in_two_passes():
    form = _compile(workbook(
        [["type", "name", "label", "relevant"],
         ["integer", "a", "A", "${b} != 1"],
         ["integer", "b", "B", "${a} != 1"]]))
    assert form.cyclic
    state = FormState(form, {"a": "1", "b": "2"}, today=TODAY)
    assert state.is_relevant("a") and not state.is_relevant("b")
