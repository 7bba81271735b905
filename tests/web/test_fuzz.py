"""Random expressions and random answers never break evaluation or a page; random autosave
requests never get a 500 (in tests an unhandled error propagates, so any would fail here)."""
import re
import time

import pytest
from flask import get_template_attribute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.models import CycleStatus, ResponseStatus
from app.scoring import score_response
from app.services import questionnaires
from app.services.answer_store import Stored
from app.services.responses import Loaded
from app.views import _form
from app.xlsform.compiled import CompiledForm
from app.xlsform.expressions import FUNCTIONS
from app.xlsform.state import TIME_BUDGET, FormState
from tests.conftest import csrf_token, login
from tests.xlsform_builders import workbook

QUESTIONS = [("integer", "n"), ("decimal", "x"), ("range", "r"), ("text", "t"), ("date", "d"), ("time", "tm"),
             ("dateTime", "dt"), ("select_one yn", "s"), ("select_multiple yn", "m"), ("acknowledge", "ack")]
NAMES = [name for _type, name in QUESTIONS]
# Stored values as any version of Matrica, or a hand-edited database, could hold them.
STORED = st.sampled_from(["", "0", "-0", "1", "2.5", "-7", "9" * 30, "1e999", "-1e999", "nan", "inf", "1e-300",
                          "9999-12-31", "0001-01-01", "2026-02-30", "23:59:59", "2026-03-01T10:00:00", "yes",
                          "no", "yes no", "maybe", "OK", "Ана ❤ \u202e", "a" * 3000 + "b", "${n}", "=1+1"])
ATOMS = st.one_of(
    st.sampled_from([f"${{{name}}}" for name in NAMES] + [".", "'text'", "''", "'9999-12-31'", "0", "1", "0.5",
                                                          "1" + "0" * 300, "123456789012345678901234567890"]),
    st.integers(-10**6, 10**6).map(str),
)
OPERATORS = ["+", "-", "*", "div", "mod", "=", "!=", "<", "<=", ">", ">=", "and", "or"]
CALLABLE = sorted(name for name, function in FUNCTIONS.items() if name != "regex")


def _call(arguments: list[str], name: str) -> str:
    low, high = FUNCTIONS[name].arity
    count = max(low, min(len(arguments), high if high is not None else len(arguments)))
    used = (arguments * (count // max(len(arguments), 1) + 1))[:count] if arguments else ["1"] * count
    return f"{name}({', '.join(used)})"


EXPRESSIONS = st.recursive(
    ATOMS,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(OPERATORS), inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.tuples(st.lists(inner, min_size=0, max_size=3), st.sampled_from(CALLABLE)).map(lambda t: _call(*t)),
        inner.map(lambda e: f"({e})"), inner.map(lambda e: f"-{e}"),
        inner.map(lambda e: f"regex(string({e}), '^(a+)+$')"),
    ),
    max_leaves=12,
)


def _compiled(expression: str) -> CompiledForm | None:
    rows = [["type", "name", "label", "relevant", "calculation", "constraint", "parameters"]]
    for type_, name in QUESTIONS:
        rows.append([type_, name, f"{name} ${{calc}}", "", "", "", "start=0 end=10" if type_ == "range" else ""])
    rows.append(["calculate", "calc", "", "", expression, "", ""])
    rows.append(["integer", "gated", "Gated", expression, "", expression, ""])
    rows.append(["note", "shown", "Shown: ${calc}", "", "", "", ""])
    data = workbook(rows, choices=[["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]])
    definition, issues = questionnaires.check(data)
    if [issue for issue in issues if not issue.warning]:
        return None
    return CompiledForm(definition)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(expression=EXPRESSIONS, answers=st.dictionaries(st.sampled_from(NAMES + ["gated"]), STORED))
def test_random_expressions_and_answers_never_break_evaluation_or_a_page(app, expression, answers):
    form = _compiled(expression)
    if form is None:
        return   # refused at upload with a located error: nothing to evaluate
    started = time.monotonic()
    for whole in (True, False):
        state = FormState(form, answers, whole=whole)
        score_response(form, state)
        state.problems()
        state.progress()
        for name in NAMES + ["calc", "gated", "shown"]:
            state.value(name)
            state.is_relevant(name)
    loaded = Loaded(1, ResponseStatus.DRAFT, CycleStatus.OPEN, form,
                    {path: Stored(1, value, "", 1) for path, value in answers.items()}, whole=True)
    with app.test_request_context("/"):
        node_macro = get_template_attribute("_macros/questions.html", "node")
        context = _form.QuestionContext(1, 1)
        html = "".join(str(node_macro(view, context)) for page in form.pages
                       for view in _form.tree(loaded, page, "en"))
        _form.indicator_rows(loaded, list(form.indicators), "en")
    assert "Traceback" not in html
    assert time.monotonic() - started < 3 * (TIME_BUDGET + 1)   # three states, each within its budget


# -- autosave -------------------------------------------------------------------------------

CONTROL = st.characters(min_codepoint=0, max_codepoint=31)
VALUES = st.one_of(STORED, st.text(max_size=40), st.text(alphabet=CONTROL, max_size=5),
                   st.lists(st.sampled_from(["yes", "no", "police", "x"]), max_size=3))
PATHS = st.one_of(st.sampled_from(["count", "amount", "rating", "comment", "when", "at", "stamp", "ack", "secret",
                                   "double", "sop", "country", "city", "agencies", "priority", "site[1]/site_name",
                                   "site[0]/site_beds", "site[999]/site_beds", "site", "basics", "../x", ""]),
                  st.text(max_size=20))


@pytest.fixture
def respondent(app, client, make_response):
    response_id = make_response("types")
    login(client, "official.rs@example.org")
    return response_id, csrf_token(client, f"/responses/{response_id}/pages/1")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(path=PATHS, value=VALUES, page=st.sampled_from(["1", "2", "3", "4", "0", "-1", "99", "x", ""]),
       version=st.sampled_from(["0", "1", "-1", "x", "", "99999999999999999999"]),
       evidence=st.none() | st.text(max_size=20))
def test_random_autosaves_never_get_a_500(client, respondent, path, value, page, version, evidence):
    response_id, token = respondent
    data = {"path": path, "page": page, f"p:{path}": "1", f"v:{path}": version}
    data[f"a:{path}"] = value
    if evidence is not None:
        data[f"e:{path}"] = evidence
    response = client.post(f"/responses/{response_id}/answer", data=data,
                           headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code < 500
    if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "".join([path, *(value if isinstance(value, list) else [value]),
                                                              evidence or ""])):
        assert response.status_code == 400


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(page=st.text(max_size=8), path=st.text(max_size=20))
def test_random_page_and_history_addresses_never_get_a_500(client, respondent, page, path):
    response_id, _token = respondent
    assert client.get(f"/responses/{response_id}/pages/{page}").status_code < 500
    assert client.get(f"/responses/{response_id}/history", query_string={"path": path}).status_code < 500

