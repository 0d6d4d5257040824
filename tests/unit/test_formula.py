"""Notion formulas: syntax errors at their character, unknown properties and functions, types."""

from __future__ import annotations

import pytest

from reconciler.project.formula import FormulaSyntaxError, parse, referenced
from reconciler.project.formula_check import check_formula
from reconciler.project.yaml import parse_yaml

PROPS = {"Estimate": "number", "Name": "text", "Done": "boolean", "Due": "date",
         "Tags": "list[text]", "Tasks": "list[page]", "Owner": "list[person]"}


@pytest.mark.parametrize(("expression", "result"), [
    ('prop("Estimate") * 2', "number"),
    ('prop("Name") + prop("Estimate")', "text"),
    ('if(prop("Done"), "Complete", "In progress")', "text"),
    ('prop("Done") ? 1 : 2', "number"),
    ('dateBetween(prop("Due"), now(), "days")', "number"),
    ('dateAdd(prop("Due"), 1, "days") > now()', "boolean"),
    ('prop("Tags").includes("x") and not prop("Done")', "boolean"),
    ('prop("Tasks").filter(current.prop("Status") == "Done").length()', "number"),
    ('prop("Tags").map(current + "!")', "list[any]"),
    ('lets(a, 1, b, prop("Estimate"), a + b)', "number"),
    ('let(x, prop("Name"), x.upper())', "text"),
    ('prop("Name").split(" ").first()', "text"),
    ('/* a comment */ round(prop("Estimate") / 3, 2)', "number"),
    ('{{notion:block_property:title:ds:ws}} + "x"', "text"),
    ('formatDate(now(), "YYYY") + " " + format(prop("Estimate") ^ 2)', "text"),
    ("+".join(['prop("Name")'] * 2000), "text"),  # long chains are walked, not recursed
    ('={{notion:block_property:dDR%3B:ds:ws}}* 2', "number"),  # as Notion stores it: NOTION-API.md A.1
    (' =prop("Estimate") * 2', "number"),
])
def test_valid_formulas_have_their_type(expression, result):
    assert check_formula(expression, PROPS) == (result, [])


@pytest.mark.parametrize(("expression", "index", "phrase"), [
    ('prop("Estimate") *', 18, "expected a value, found the end of the formula"),
    ('prop("Estimate" * 2', 19, "expected ')' to close the argument list"),
    ('"unclosed', 0, 'text opened with " is never closed'),
    ("'single'", 0, "write text in straight double quotes"),
    ('1 = 1', 2, "compare with =="),
    ('== 1', 0, "expected a value"),
    ('=1 = 1', 3, "compare with =="),
    ('1 2', 2, "an operator or a comma may be missing"),
    ('/* open 1', 0, "comment opened with /* is never closed"),
    ('prop("Estimat") * 2', 5, "did you mean 'Estimate'?"),
    ('prop("Nope")', 5, "the database has no property 'Nope'"),
    ('"a" * 2', 0, "* works on numbers, not on text"),
    ('prop("Due") + 1', 12, "+ adds numbers or joins text, not a date and a number"),
    ('prop("Estimate") == "5"', 17, "== compares values of one type, not a number with text"),
    ('not prop("Estimate")', 4, "the operand of not must be a boolean"),
    ('dateBetween(prop("Due"), now())', 0, "dateBetween takes 3 argument(s), got 2"),
    ('datebetween(1, 2, "days")', 0, "unknown function 'datebetween': did you mean dateBetween?"),
    ('Estimate * 2', 0, 'to use a property write prop("Estimate")'),
    ('prop(Name)', 0, 'prop takes one property name in double quotes'),
    ('x.length', 8, "methods are called: .length()"),
    ("(" * 60 + "1" + ")" * 60, 50, "nests more than 50 levels deep"),
    ("-" * 5000 + "1", 0, "too deeply nested"),
])
def test_broken_formulas_are_located(expression, index, phrase):
    result, problems = check_formula(expression, PROPS)
    assert result == "any"
    assert [p.index for p in problems][:1] == [index], problems
    assert phrase in problems[0].message


def test_parse_raises_at_the_index_and_referenced_lists_props():
    with pytest.raises(FormulaSyntaxError) as err:
        parse("1 + (2")
    assert err.value.index == 6
    assert referenced('prop("A") + prop("B") * prop("A")') == [("A", 5), ("B", 17), ("A", 29)]


@pytest.mark.parametrize(("yaml_value", "index", "where"), [
    ("prop(\"X\") * 2", 6, (1, 10)),               # plain: value column + index
    ("'it''s prop(\"X\")'", 5, (1, 11)),           # '' is one character
    ('"prop(\\"X\\") * 2"', 6, (1, 12)),           # \" is one character
    ("|\n  1 +\n    prop(\"X\")", 6, (3, 5)),      # literal block: line and indent
])
def test_a_character_inside_a_yaml_string_is_located(yaml_value, index, where):
    doc, problems = parse_yaml(f"e: {yaml_value}\n", "f.yaml")
    assert problems == []
    assert doc.locate_in_value(("e",), index) == where
