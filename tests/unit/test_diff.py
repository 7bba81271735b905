"""What changed between two versions, matched by name and code, scoring changes called out."""
import copy

from app.xlsform.diff import Change, changes

OLD = {
    "title": "Checklist", "version": "1", "default_language": "en",
    "survey": [
        {"row": 2, "type": "select_one yn", "name": "q1", "label": {"en": "In force?"}, "indicator": "P1"},
        {"row": 3, "type": "text", "name": "q2", "label": {"en": "Comment"}},
        {"row": 4, "type": "integer", "name": "q3", "label": {"en": "How many?"}},
    ],
    "choices": [{"row": 2, "list_name": "yn", "name": "yes", "label": {"en": "Yes"}, "score": "2"},
                {"row": 3, "list_name": "yn", "name": "no", "label": {"en": "No"}, "score": "0"}],
    "indicators": [{"row": 2, "code": "P1", "method": "points", "label": {"en": "Procedures"}}],
    "areas": [{"row": 2, "code": "a", "label": {"en": "Area"}}],
}


def test_the_same_definition_has_no_changes_and_moving_a_row_is_none():
    moved = copy.deepcopy(OLD)
    moved["survey"].reverse()
    for number, record in enumerate(moved["survey"], start=2):
        record["row"] = number
    assert changes(OLD, copy.deepcopy(OLD)) == [] and changes(OLD, moved) == []


def test_added_removed_and_changed_rows_with_scoring_changes_called_out():
    new = copy.deepcopy(OLD)
    new["title"] = "Checklist 2027"
    new["survey"][1]["label"] = {"en": "Comment", "sq": "Koment"}       # a translation added
    new["survey"][1]["relevant"] = "${q1} = 'yes'"
    del new["survey"][2]                                                   # q3 removed
    new["survey"].append({"row": 5, "type": "integer", "name": "q4", "label": {"en": "Cases"}, "score": "${q4} > 0"})
    new["choices"][0]["score"] = "1"                                      # yes now scores 1
    new["choices"].append({"row": 4, "list_name": "yn", "name": "na", "label": {"en": "N/A"}})
    new["indicators"][0]["thresholds"] = "green>=80; amber>=60"
    assert changes(OLD, new) == [
        Change("survey", "q2", "changed", ("label", "relevant"), False),
        Change("survey", "q4", "added", (), True),
        Change("survey", "q3", "removed", (), False),
        Change("choices", "yn/yes", "changed", ("score",), True),
        Change("choices", "yn/na", "added", (), False),
        Change("indicators", "P1", "changed", ("thresholds",), True),
        Change("settings", "", "changed", ("title",), False),
    ]


def test_removing_a_scored_question_or_an_area_changes_scores():
    new = copy.deepcopy(OLD)
    del new["survey"][0]
    new["areas"] = []
    found = changes(OLD, new)
    assert Change("survey", "q1", "removed", (), True) in found and Change("areas", "a", "removed", (), True) in found
