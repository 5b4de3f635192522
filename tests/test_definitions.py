"""The survey definition format: the shipped examples load; every kind of mistake is
reported with its path; answers are checked against the definition."""

import pytest
from cxlab.surveys import EXAMPLES_DIR, DefinitionError, load_definition, parse_definition
from cxlab.surveys.answers import validate_answers
from cxlab.surveys.definition import Anonymity

BASE = {"slug": "s", "title": {"ja": "調査", "en": "Survey"}}


def problems_of(raw) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(raw)
    return caught.value.problems


@pytest.mark.parametrize("name", ["restaurant_visit.yaml", "employee_engagement.yaml"])
def test_shipped_examples_are_valid(name):
    definition = load_definition(EXAMPLES_DIR / name)
    assert definition.questions_of_type("nps")
    assert len(definition.questions_of_type("rating")) >= 10


def test_restaurant_example_has_every_question_type_pages_and_conditions():
    definition = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
    assert {q.type for q in definition.questions} == {"nps", "rating", "single", "multi", "text"}
    assert definition.page_count == 2
    assert definition.question("low_score_reason").show_if.operator == "max"
    assert definition.attribute("store").from_query
    assert definition.question("greeting").scale_labels[5]["ja"] == "非常に満足"


def test_engagement_example_groups_items_into_scales():
    definition = load_definition(EXAMPLES_DIR / "employee_engagement.yaml")
    groups = {q.group for q in definition.questions if q.group}
    assert groups == {"engagement", "manager", "growth", "wellbeing"}
    assert definition.page_count == 4


NPS = {"id": "nps", "type": "nps", "label": "NPS"}


@pytest.mark.parametrize(
    ("questions", "problem"),
    [
        ([{"id": "q", "type": "rating", "label": "Q", "scale": 12}],
         "questions[1].scale: must be 2..11 points, got 12"),
        ([{"id": "q", "type": "rating", "label": "Q"}],
         "questions[1].scale: required: a number of points (e.g. 5) or {min, max, labels}"),
        ([{"id": "q", "type": "rating", "label": "Q", "scale": "five"}],
         "questions[1].scale: required: a number of points (e.g. 5) or {min, max, labels}, "
         "got 'five'"),
        ([{"id": "q", "type": "stars", "label": "Q"}],
         "questions[1].type: 'stars' is not a question type; use one of nps, rating, single, "
         "multi, text, matrix, number, dropdown or page_break"),
        ([{"id": "q", "type": "nps"}],
         "questions[1].label: required (a string, or {ja: ..., en: ...})"),
        ([NPS, {"id": "2fast", "type": "nps", "label": "Q"}],
         "questions[2].id: '2fast' must start with a letter"),
        ([{"id": "Q 1", "type": "nps", "label": "Q"}],
         "questions[1].id: 'Q 1' may hold only lowercase letters, digits and '_'"),
        ([{"type": "nps", "label": "Q"}],
         "questions[1].id: required: lowercase letters, digits and '_', a letter first"),
        ([{"id": "q", "type": "nps", "label": "Q"}, {"id": "q", "type": "text", "label": "T"}],
         "questions[2].id: duplicate question id 'q'"),
        ([{"id": "q", "type": "single", "label": "Q", "options": ["only"]}],
         "questions[1].options: required: a list of at least 2 options (got 1)"),
        ([{"id": "q", "type": "single", "label": "Q", "options": ["a", "a"]}],
         "questions[1].options[2].value: duplicate option 'a'"),
        ([{"id": "q", "type": "text", "label": "Q", "show_if": {"question": "later", "max": 6}}],
         "questions[1].show_if.question: 'later' is not an earlier question"),
        ([NPS, {"id": "q", "type": "text", "label": "Q", "show_if": {"question": "nps",
                                                                     "below": 6}}],
         "questions[2].show_if: needs exactly one of equals, not_equals, in, not_in, min, max, "
         "answered, got below"),
        ([{"id": "q", "type": "nps", "label": {"French": "Q"}}],
         "questions[1].label: {'French': 'Q'} must be a string or a mapping of language codes "
         "(ja/en, or any other such as de, zh-hant) to non-empty strings"),
        ([{"id": "q", "type": "nps", "label": "Q", "colour": "red"}],
         "questions[1].colour: unknown key; allowed: group, help, id, label, required, show_if, "
         "type"),
        ([{"id": "q", "type": "nps", "label": "Q", "scale": 5}],
         "questions[1].scale: an nps question is always 0..10, got 5"),
        ([{"type": "page_break"}, {"id": "q", "type": "nps", "label": "Q"}],
         "questions[1]: a page break must follow at least one question"),
        ([{"id": "q", "type": "nps", "label": "Q"}, {"type": "page_break"}],
         "questions[2]: the last page has no questions"),
        ([{"id": "q", "type": "rating", "label": "Q", "scale": {"min": 1, "max": 5,
                                                                "labels": {9: "Nine"}}}],
         "questions[1].scale.labels.9: must be a point of the scale 1..5"),
        ([NPS, {"id": "q", "type": "text", "label": "Q", "required": "yes"}],
         "questions[2].required: 'yes' must be true or false"),
        # matrix
        ([{"id": "grid", "type": "matrix", "label": "G", "scale": 5, "rows": ["only"]}],
         "questions[1].rows: required: a list of at least 2 rows (got 1)"),
        ([{"id": "grid", "type": "matrix", "label": "G", "scale": 5, "rows": ["a", "2b"]}],
         "questions[1].rows[2].id: '2b' must start with a letter"),
        ([{"id": "grid", "type": "matrix", "label": "G", "rows": ["a", "b"]}],
         "questions[1].scale: required: a number of points (e.g. 5) or {min, max, labels}"),
        ([{"id": "grid_a", "type": "text", "label": "T"},
          {"id": "grid", "type": "matrix", "label": "G", "scale": 5, "rows": ["a", "b"]}],
         "questions[2].id: column 'grid_a' of 'grid' is also a column of question 'grid_a'"),
        ([{"id": "grid", "type": "matrix", "label": "G", "scale": 5, "rows": ["a", "b"]},
          {"id": "q", "type": "text", "label": "Q", "show_if": {"question": "grid", "min": 3}}],
         "questions[2].show_if.question: 'grid' is a matrix: its answer has one value per row, "
         "so it cannot be compared"),
        ([{"id": "grid", "type": "matrix", "label": "G", "scale": 5, "rows": ["a", "b"],
           "options": ["x", "y"]}],
         "questions[1].options: unknown key; allowed: group, help, id, label, required, rows, "
         "scale, show_if, type"),
        # number
        ([{"id": "age", "type": "number", "label": "Age", "min": "18"}],
         "questions[1].min: '18' must be a number"),
        ([{"id": "age", "type": "number", "label": "Age", "min": 99, "max": 18}],
         "questions[1].max: 18 must be more than min (99)"),
        ([{"id": "age", "type": "number", "label": "Age", "step": 0}],
         "questions[1].step: 0 must be more than 0"),
        # dropdown
        ([{"id": "pref", "type": "dropdown", "label": "P"}],
         "questions[1].options: required: a list of at least 2 options (got None)"),
        ([{"id": "pref", "type": "dropdown", "label": "P", "options": ["tokyo", 3]}],
         "questions[1].options[2]: 3 must be a string or a mapping with value and label"),
    ],
)
def test_each_kind_of_mistake_gives_its_1_based_path_and_the_bad_value(questions, problem):
    problems = problems_of({**BASE, "questions": questions})
    assert problem in [f"{path}: {message}" for path, message in problems], problems


def test_every_problem_is_reported_at_once():
    problems = problems_of({"title": "T", "questions": [
        {"id": "a", "type": "rating", "label": "A", "scale": 20},
        {"id": "b", "type": "what", "label": "B"},
    ]})
    assert [p for p, _ in problems] == ["slug", "questions[1].scale", "questions[2].type"]


def test_yaml_syntax_errors_give_the_line_not_a_traceback():
    with pytest.raises(DefinitionError, match="line 4, column 32: not valid YAML"):
        parse_definition("slug: s\ntitle: T\nquestions: [\n  {id: q, type: nps, label: Why?}\n")


def test_a_missing_file_is_reported_plainly(tmp_path):
    with pytest.raises(DefinitionError, match="cannot read the file"):
        load_definition(tmp_path / "nope.yaml")


def test_definitions_survive_a_json_round_trip():
    import json

    definition = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
    again = parse_definition(json.loads(json.dumps(definition.raw)))
    assert again.questions == definition.questions


# ---------------------------------------------------------------- answers

@pytest.fixture(scope="module")
def visit():
    return load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")


def test_valid_answers_are_cleaned(visit):
    clean, errors = validate_answers(visit, {
        "nps": "3", "greeting": 4, "visit_purpose": "lunch", "heard_from": ["walk_by", "sns"],
        "low_score_reason": "  遅い  ",
    })
    assert errors == {}
    assert clean == {"nps": 3, "greeting": 4, "visit_purpose": "lunch",
                     "heard_from": ["sns", "walk_by"], "low_score_reason": "遅い"}


def test_answers_to_hidden_questions_are_dropped(visit):
    clean, errors = validate_answers(visit, {"nps": 10, "low_score_reason": "n/a"})
    assert errors == {} and "low_score_reason" not in clean


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({}, "nps", "needs an answer"),
        ({"nps": 11}, "nps", "from 0 to 10"),
        ({"nps": 9, "greeting": 0}, "greeting", "from 1 to 5"),
        ({"nps": 9, "greeting": True}, "greeting", "whole number"),
        ({"nps": 9, "visit_purpose": "brunch"}, "visit_purpose", "must be one of"),
        ({"nps": 9, "heard_from": ["tv"]}, "heard_from", "drawn from"),
        ({"nps": 9, "comment": 5}, "comment", "must be text"),
        ({"nps": 9, "comment": "x" * 5001}, "comment", "at most"),
        ({"nps": 9, "colour": "red"}, "colour", "no such question"),
    ],
)
def test_invalid_answers_name_the_question_and_reason(visit, answers, field, message):
    _, errors = validate_answers(visit, answers)
    assert message in errors[field]


# ---------------------------------------------------------------- anonymity


def test_anonymity_defaults_follow_the_survey_kind():
    questions = [{"id": "q", "type": "nps", "label": "Q"}]
    cx = parse_definition({**BASE, "questions": questions})
    ex = parse_definition({**BASE, "kind": "ex", "questions": questions})
    assert (cx.kind, cx.anonymity) == ("cx", Anonymity(min_group=5, unlinked=False))
    assert (ex.kind, ex.anonymity) == ("ex", Anonymity(min_group=5, unlinked=True))


def test_anonymity_can_be_set_per_survey_and_is_frozen():
    definition = parse_definition({
        **BASE, "kind": "ex", "anonymity": {"min_group": 8, "unlinked": False},
        "questions": [{"id": "q", "type": "nps", "label": "Q"}]})
    assert definition.anonymity == Anonymity(min_group=8, unlinked=False)
    with pytest.raises(AttributeError):
        definition.anonymity.min_group = 1  # type: ignore[misc]


def test_the_employee_example_is_an_unlinked_ex_survey():
    definition = load_definition(EXAMPLES_DIR / "employee_engagement.yaml")
    assert definition.kind == "ex"
    assert definition.anonymity == Anonymity(min_group=5, unlinked=True)
    restaurant = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
    assert restaurant.anonymity.unlinked is False


@pytest.mark.parametrize(
    ("extra", "path", "message"),
    [
        ({"kind": "hr"}, "kind", "must be one of cx, ex"),
        ({"anonymity": "yes"}, "anonymity", "must be a mapping"),
        ({"anonymity": {"min_group": 0}}, "anonymity.min_group", "whole number from 1"),
        ({"anonymity": {"min_group": "5"}}, "anonymity.min_group", "whole number from 1"),
        ({"anonymity": {"min_group": True}}, "anonymity.min_group", "whole number from 1"),
        ({"anonymity": {"unlinked": "no"}}, "anonymity.unlinked", "true or false"),
        ({"anonymity": {"k": 5}}, "anonymity.k", "unknown key"),
    ],
)
def test_bad_anonymity_values_are_reported_with_their_path(extra, path, message):
    questions = [{"id": "q", "type": "nps", "label": "Q"}]
    problems = problems_of({**BASE, **extra, "questions": questions})
    assert any(p == path and message in m for p, m in problems), problems


def test_group_labels_must_name_a_group_some_question_uses():
    raw = {
        "slug": "s", "title": "T",
        "questions": [{"id": "nps", "type": "nps", "label": "N"},
                      {"id": "q1", "type": "rating", "label": "Q", "group": "growth",
                       "scale": 5}],
        "groups": {"growth": {"en": "Growth"}, "pay": "Pay"},
    }
    with pytest.raises(DefinitionError) as refused:
        parse_definition(raw)
    assert "groups.pay: no question has this group" in str(refused.value)
    del raw["groups"]["pay"]
    definition = parse_definition(raw)
    assert definition.group_labels == {"growth": {"en": "Growth"}}
    assert definition.item_groups() == {"growth": ["q1"]}


def test_attribute_value_labels_must_name_its_values():
    raw = {
        "slug": "s", "title": "T",
        "questions": [{"id": "nps", "type": "nps", "label": "N"}],
        "attributes": [{"name": "store", "values": ["a1"],
                        "value_labels": {"a1": {"ja": "渋谷店", "en": "Shibuya"}, "zz": "Z"}}],
    }
    with pytest.raises(DefinitionError) as refused:
        parse_definition(raw)
    assert "attributes[1].value_labels.zz: not one of the attribute's values" in str(refused.value)
    del raw["attributes"][0]["value_labels"]["zz"]
    store = parse_definition(raw).attribute("store")
    assert store.value_label("a1", "en") == "Shibuya" and store.value_label("b2", "en") == "b2"
def test_embed_origins_are_https_origins_only():
    questions = [{"id": "q", "type": "nps", "label": "Q"}]
    good = parse_definition({**BASE, "questions": questions,
                             "embed_origins": ["https://shop.example", "https://a.example:8443"]})
    assert good.embed_origins == ("https://shop.example", "https://a.example:8443")
    assert parse_definition({**BASE, "questions": questions}).embed_origins == ()
    for bad in ("http://shop.example", "https://shop.example/path", "*",
                "https://x.example; script-src *", "https://x.example:port"):
        problems = problems_of({**BASE, "questions": questions, "embed_origins": [bad]})
        assert problems[0] == ("embed_origins[1]", f"{bad!r} must be an https origin: scheme "
                               "and host, no path (e.g. https://shop.example)"), bad
