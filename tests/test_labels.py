"""Tests for nsroot.labels: label and annotation validation, and label selectors."""

from __future__ import annotations

import re
from collections import OrderedDict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nsroot.errors import FieldError, InvalidInput, InvalidSelector
from nsroot.labels import (
    MAX_LABELS,
    Operator,
    Requirement,
    Selector,
    json_pointer,
    parse_selector,
    validate_annotations,
    validate_labels,
)

# Reference syntax, as written in k8s.io/apimachinery/pkg/util/validation, with the
# lengths checked separately (unlike the module, which folds them into its regexes).
QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN = re.compile(rf"{DNS1123_LABEL}(\.{DNS1123_LABEL})*")


def reference_key_ok(key: str) -> bool:
    parts = key.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix or len(prefix) > 253 or not DNS1123_SUBDOMAIN.fullmatch(prefix):
            return False
    else:
        return False
    return 0 < len(name) <= 63 and QUALIFIED_NAME.fullmatch(name) is not None


def reference_value_ok(value: str) -> bool:
    return value == "" or (len(value) <= 63 and QUALIFIED_NAME.fullmatch(value) is not None)


# --- JSON pointers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "pointer"),
    [
        ((), ""),
        (("labels",), "/labels"),
        (("labels", "app"), "/labels/app"),
        (("labels", "example.com/tier"), "/labels/example.com~1tier"),
        (("labels", "a~b"), "/labels/a~0b"),
        (("labels", "~1"), "/labels/~01"),
        (("labels", "a/~b"), "/labels/a~1~0b"),
        (("labels", ""), "/labels/"),
    ],
)
def test_json_pointer(parts: tuple[str, ...], pointer: str) -> None:
    assert json_pointer(*parts) == pointer


# --- labels -------------------------------------------------------------------------

VALID_LABELS = [
    {},
    {"app": "web"},
    {"app": ""},
    {"example.com/tier": "front-end"},
    {"a.b-c_d": "A.b-C_9"},
    {"k8s.io/a": "1"},
    {"a" * 63: "b" * 63},
    {"p" * 253 + "/" + "n" * 63: "v"},
    {f"k{i}": "v" for i in range(MAX_LABELS)},
]


@pytest.mark.parametrize("labels", VALID_LABELS)
def test_valid_labels(labels: dict[str, str]) -> None:
    result = validate_labels(labels)
    assert result == labels
    assert type(result) is dict
    assert result is not labels


def test_labels_come_back_as_plain_dict() -> None:
    result = validate_labels(OrderedDict(app="web"))
    assert type(result) is dict
    assert result == {"app": "web"}


INVALID_LABELS = [
    # (labels, field, rule, fragment of the detail)
    ({"Bad Key": "x"}, "/labels/Bad Key", "label-key-syntax", 'character " " at position 4'),
    ({"": "x"}, "/labels/", "label-key-syntax", "key must not be empty"),
    ({"-app": "x"}, "/labels/-app", "label-key-syntax", "must start with a letter or digit"),
    ({"app_": "x"}, "/labels/app_", "label-key-syntax", "must end with a letter or digit"),
    ({"a/b/c": "x"}, "/labels/a~1b~1c", "label-key-syntax", '2 "/"'),
    ({"example.com/": "x"}, "/labels/example.com~1", "label-key-syntax", "key name"),
    ({"/app": "x"}, "/labels/~1app", "label-key-prefix", "must not be empty"),
    ({"Example.com/app": "x"}, "/labels/Example.com~1app", "label-key-prefix", 'character "E"'),
    ({"a..b/app": "x"}, "/labels/a..b~1app", "label-key-prefix", "empty part"),
    ({"a.-b/app": "x"}, "/labels/a.-b~1app", "label-key-prefix", 'part "-b"'),
    ({"a_b/app": "x"}, "/labels/a_b~1app", "label-key-prefix", 'character "_"'),
    ({"a" * 64: "x"}, "/labels/" + "a" * 64, "label-key-too-long", "key is 64 characters, at most 63"),
    ({"p/" + "a" * 64: "x"}, "/labels/p~1" + "a" * 64, "label-key-too-long", "key name is 64 characters"),
    ({"p" * 254 + "/a": "x"}, "/labels/" + "p" * 254 + "~1a", "label-key-too-long", "prefix is 254"),
    ({"app": "a b"}, "/labels/app", "label-value-syntax", 'value "a b"'),
    ({"app": "-a"}, "/labels/app", "label-value-syntax", "must start with a letter or digit"),
    ({"app": "a."}, "/labels/app", "label-value-syntax", "must end with a letter or digit"),
    ({"app": "v" * 64}, "/labels/app", "label-value-too-long", "value is 64 characters, at most 63"),
    ({"app": 3}, "/labels/app", "labels-type", "must be a string, got int"),
    ({"app": None}, "/labels/app", "labels-type", "got null"),
    ({3: "x"}, "/labels/3", "labels-type", "key must be a string"),
    ({f"k{i}": "" for i in range(MAX_LABELS + 1)}, "/labels", "labels-too-many", "65 labels, at most 64"),
]


@pytest.mark.parametrize(("labels", "field", "rule", "fragment"), INVALID_LABELS)
def test_invalid_labels(labels: dict[object, object], field: str, rule: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_labels(labels)
    error = caught.value
    assert (error.field, error.rule) == (field, rule)
    assert len(error.errors) == 1
    assert error.errors[0].field == field
    assert fragment in error.errors[0].detail
    assert error.detail.startswith(f"1 invalid label: {field}: ")


@pytest.mark.parametrize("labels", [None, [], "app=web", 3, {"app"}])
def test_labels_must_be_a_dict(labels: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_labels(labels)
    assert caught.value.rule == "labels-type"
    assert caught.value.field == "/labels"


def test_all_label_problems_are_reported() -> None:
    labels = {"ok": "fine", "Bad Key": "x", "example.com/tier": "a b", "bad_": "-"}
    with pytest.raises(InvalidInput) as caught:
        validate_labels(labels)
    error = caught.value
    assert [(e.field, e.rule) for e in error.errors] == [
        ("/labels/Bad Key", "label-key-syntax"),
        ("/labels/example.com~1tier", "label-value-syntax"),
        ("/labels/bad_", "label-key-syntax"),
        ("/labels/bad_", "label-value-syntax"),
    ]
    assert all(isinstance(e, FieldError) for e in error.errors)
    assert (error.field, error.rule) == ("/labels/Bad Key", "label-key-syntax")
    assert error.detail.startswith("4 invalid labels: /labels/Bad Key: ")
    problem = error.to_problem()
    assert len(problem["errors"]) == 4


def test_too_many_labels_leads_and_others_still_reported() -> None:
    labels = {f"k{i}": "" for i in range(MAX_LABELS + 6)} | {"bad key": ""}
    with pytest.raises(InvalidInput) as caught:
        validate_labels(labels)
    rules = [e.rule for e in caught.value.errors]
    assert rules == ["labels-too-many", "label-key-syntax"]


def test_long_summary_is_shortened_but_errors_are_complete() -> None:
    labels = {f"bad key {i}": "" for i in range(20)}
    with pytest.raises(InvalidInput) as caught:
        validate_labels(labels)
    assert len(caught.value.errors) == 20
    assert caught.value.detail.endswith("; and 15 more")


def test_labels_pointer_can_be_moved() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_labels({"a b": ""}, pointer="/metadata/labels")
    assert caught.value.field == "/metadata/labels/a b"


label_names = st.from_regex(r"[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,10}[A-Za-z0-9])?", fullmatch=True)
near_keys = st.one_of(
    label_names,
    st.builds(lambda p, n: p + "/" + n, st.sampled_from(["example.com", "a-b.c", "x"]), label_names),
    st.text(alphabet="aZ9-_./ ", max_size=12),
    st.text(max_size=8),
)
near_values = st.one_of(st.just(""), label_names, st.text(alphabet="aZ9-_./ ", max_size=12), st.text(max_size=8))


@settings(max_examples=200)
@given(labels=st.dictionaries(near_keys, near_values, max_size=6))
def test_labels_agree_with_reference(labels: dict[str, str]) -> None:
    expected_ok = all(reference_key_ok(k) and reference_value_ok(v) for k, v in labels.items())
    try:
        outcome: dict[str, str] | InvalidInput = validate_labels(labels)
    except InvalidInput as error:
        outcome = error
    if expected_ok:
        assert outcome == labels
        return
    assert isinstance(outcome, InvalidInput)
    bad = {json_pointer("labels", k) for k, v in labels.items() if not reference_key_ok(k)}
    bad |= {json_pointer("labels", k) for k, v in labels.items() if not reference_value_ok(v)}
    assert {e.field for e in outcome.errors} == bad
    assert outcome.field == outcome.errors[0].field
    outcome.detail.encode("utf-8")


# --- annotations --------------------------------------------------------------------


def test_valid_annotations() -> None:
    annotations = {"note": "any text at all: spaces, ünïcode, \n newlines", "example.com/x": ""}
    assert validate_annotations(annotations) == annotations
    assert validate_annotations({}) == {}


def test_annotation_size_counts_utf8_bytes_of_keys_and_values() -> None:
    # "é" is two bytes in UTF-8: 1 + 2 * 5 = 11 bytes.
    annotations = {"k": "é" * 5}
    assert validate_annotations(annotations, max_bytes=11) == annotations
    with pytest.raises(InvalidInput) as caught:
        validate_annotations(annotations, max_bytes=10)
    error = caught.value
    assert (error.field, error.rule) == ("/annotations", "annotations-too-large")
    assert "11 bytes" in error.detail
    assert "at most 10" in error.detail


def test_annotation_default_limit() -> None:
    validate_annotations({"k": "x" * (65536 - 1)})
    with pytest.raises(InvalidInput) as caught:
        validate_annotations({"k": "x" * 65536})
    assert caught.value.rule == "annotations-too-large"


def test_annotation_lone_surrogate_is_sized_not_crashed() -> None:
    assert validate_annotations({"k": "\ud800"}, max_bytes=4) == {"k": "\ud800"}


@pytest.mark.parametrize(
    ("annotations", "field", "rule"),
    [
        (None, "/annotations", "annotations-type"),
        ({"a b": "x"}, "/annotations/a b", "annotation-key-syntax"),
        ({"A.com/x": "x"}, "/annotations/A.com~1x", "annotation-key-prefix"),
        ({"a" * 64: "x"}, "/annotations/" + "a" * 64, "annotation-key-too-long"),
        ({"k": 1}, "/annotations/k", "annotations-type"),
        ({1: "v"}, "/annotations/1", "annotations-type"),
    ],
)
def test_invalid_annotations(annotations: object, field: str, rule: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_annotations(annotations)
    assert (caught.value.field, caught.value.rule) == (field, rule)


def test_all_annotation_problems_are_reported_size_first() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_annotations({"a b": "x" * 100, "c d": ""}, max_bytes=50)
    error = caught.value
    assert [e.rule for e in error.errors] == [
        "annotations-too-large",
        "annotation-key-syntax",
        "annotation-key-syntax",
    ]
    assert error.detail.startswith("3 invalid annotations: /annotations: ")


# --- selectors: examples ------------------------------------------------------------

CANONICAL = [
    # (text, canonical form)
    ("", ""),
    ("   ", ""),
    ("app=web", "app=web"),
    ("app==web", "app=web"),
    ("app = web", "app=web"),
    ("app!=web", "app!=web"),
    ("app=", "app="),
    ("app!=", "app!="),
    ("tier in (b,a)", "tier in (a,b)"),
    ("tier in(a , a,b)", "tier in (a,b)"),
    ("tier notin (a)", "tier notin (a)"),
    ("tier in ()", "tier in ()"),
    ("tier in (,a,,b,)", "tier in (,a,b)"),
    ("app", "app"),
    ("!app", "!app"),
    ("! app", "!app"),
    (" z , !y,x=1 ", "x=1,!y,z"),  # sorted by key
    ("a=1,a=1", "a=1"),
    ("example.com/tier=Front_end.2", "example.com/tier=Front_end.2"),
    # "in" and "notin" are keywords only where an operator is expected.
    ("in", "in"),
    ("in in (in,notin)", "in in (in,notin)"),
    ("k=in", "k=in"),
    ("\tapp\n=\r\nweb", "app=web"),
]


@pytest.mark.parametrize(("text", "canonical"), CANONICAL)
def test_parse_selector_canonical_form(text: str, canonical: str) -> None:
    selector = parse_selector(text)
    assert str(selector) == canonical
    assert parse_selector(canonical) == selector


INVALID_SELECTORS = [
    # (text, rule, fragments of the detail)
    ("k in (a", "selector-syntax", ["at position 8", 'expected ")" to close the value list', "end of"]),
    ("k in (a b)", "selector-syntax", ["at position 9", 'expected ")"', 'found "b"']),
    ("k in a", "selector-syntax", ["at position 6", 'expected "(" after "in"']),
    ("k notin", "selector-syntax", ["at position 8", 'expected "(" after "notin"']),
    ("k,", "selector-syntax", ["at position 3", "expected a label key"]),
    (",k", "selector-syntax", ["at position 1", 'found ","']),
    ("a=b c", "selector-syntax", ["at position 5", 'expected ","']),
    ("k v", "selector-syntax", ["at position 3", "expected an operator"]),
    ("!k=v", "selector-syntax", ["at position 3", '"!k" takes no operator']),
    ("!", "selector-syntax", ["at position 2", 'a label key after "!"']),
    ("k=(v)", "selector-syntax", ["at position 3", 'a value after "="']),
    ("k===v", "selector-syntax", ["at position 4", 'found "="']),
    ("k>1", "selector-syntax", ["at position 2", '">" is not supported']),
    ("k < 1", "selector-syntax", ["at position 3", '"<" is not supported']),
    ("k in (a))", "selector-syntax", ["at position 9", 'found ")"']),
    ("a_=b", "selector-key", ["at position 1", 'key "a_"', "must end with a letter or digit"]),
    ("x, Bad/Key/x", "selector-key", ["at position 4", '2 "/"']),
    ("!-k", "selector-key", ["at position 2", "must start"]),
    ("a=b_", "selector-value", ["at position 3", 'value "b_"']),
    ("a in (x, -y)", "selector-value", ["at position 10", 'value "-y"']),
    ("a=" + "v" * 64, "selector-value", ["at position 3", "64 characters, at most 63"]),
]


@pytest.mark.parametrize(("text", "rule", "fragments"), INVALID_SELECTORS)
def test_invalid_selectors(text: str, rule: str, fragments: list[str]) -> None:
    with pytest.raises(InvalidSelector) as caught:
        parse_selector(text)
    error = caught.value
    assert error.rule == rule
    assert error.field == "selector"
    for fragment in fragments:
        assert fragment in error.detail


def test_non_str_selector_is_invalid_selector() -> None:
    for value in (None, 3, ["a"]):
        with pytest.raises(InvalidSelector) as caught:
            parse_selector(value)  # type: ignore[arg-type]
        assert caught.value.rule == "selector-type"


def test_parsed_selectors_are_cached_and_immutable() -> None:
    text = "app=web,tier in (a,b)"
    selector = parse_selector(text)
    assert parse_selector(text) is selector
    assert hash(selector) == hash(parse_selector("tier in (b,a), app==web"))
    with pytest.raises(AttributeError):
        selector.requirements = ()  # type: ignore[misc]


def test_long_selectors_parse_without_the_cache() -> None:
    text = ",".join(f"k{i}=v" for i in range(300))
    assert len(text) > 1024
    assert parse_selector(text) == parse_selector(text)
    assert parse_selector(text) is not parse_selector(text)


MATCHES = [
    # (selector, labels, expected): Kubernetes semantics, absent keys included
    ("", {}, True),
    ("", {"a": "1"}, True),
    ("a=1", {"a": "1"}, True),
    ("a=1", {"a": "2"}, False),
    ("a=1", {}, False),
    ("a!=1", {}, True),
    ("a!=1", {"a": "1"}, False),
    ("a!=1", {"a": "2"}, True),
    ("a in (1,2)", {"a": "2"}, True),
    ("a in (1,2)", {}, False),
    ("a notin (1,2)", {}, True),
    ("a notin (1,2)", {"a": "1"}, False),
    ("a notin (1,2)", {"a": "3"}, True),
    ("a", {"a": ""}, True),
    ("a", {}, False),
    ("!a", {}, True),
    ("!a", {"a": ""}, False),
    ("a=", {"a": ""}, True),
    ("a=", {}, False),
    ("a in ()", {"a": ""}, True),
    ("a=1,b", {"a": "1"}, False),
    ("a=1,b", {"a": "1", "b": "x"}, True),
    ("a=1,a=2", {"a": "1"}, False),
]


@pytest.mark.parametrize(("text", "labels", "expected"), MATCHES)
def test_selector_matches(text: str, labels: dict[str, str], expected: bool) -> None:
    assert parse_selector(text).matches(labels) is expected


def test_requirements_are_normalised_and_checked() -> None:
    requirement = Requirement("a", Operator.IN, ("b", "a", "b"))
    assert requirement.values == ("a", "b")
    assert Requirement("a", "=", ("x",)).operator is Operator.EQUALS  # type: ignore[arg-type]
    assert Selector((Requirement("b", Operator.EXISTS), Requirement("a", Operator.EXISTS))) == Selector(
        (Requirement("a", Operator.EXISTS), Requirement("b", Operator.EXISTS))
    )
    bad = [
        (("a b", Operator.EXISTS, ()), "selector-key"),
        (("a", Operator.EQUALS, ("-",)), "selector-value"),
        (("a", Operator.EQUALS, ()), "selector-syntax"),
        (("a", Operator.EQUALS, ("x", "y")), "selector-syntax"),
        (("a", Operator.IN, ()), "selector-syntax"),
        (("a", Operator.EXISTS, ("x",)), "selector-syntax"),
    ]
    for args, rule in bad:
        with pytest.raises(InvalidSelector) as caught:
            Requirement(*args)
        assert caught.value.rule == rule


# --- selectors: properties ----------------------------------------------------------

KEYS = ["app", "tier", "example.com/env", "in", "notin", "a.b-c_D9"]
VALUES = ["", "a", "b", "web", "1.0", "in"]
keys = st.one_of(st.sampled_from(KEYS), label_names)
values = st.sampled_from(VALUES)
spaces = st.sampled_from(["", " ", "  ", "\t"])
some_spaces = st.sampled_from([" ", "  ", "\t", "\n "])

# A requirement as the test sees it: (key, operator as written, values as written).
RawRequirement = tuple[str, str, tuple[str, ...]]


@st.composite
def raw_requirements(draw: st.DrawFn) -> RawRequirement:
    key = draw(keys)
    op = draw(st.sampled_from(["=", "==", "!=", "in", "notin", "exists", "!"]))
    if op in ("=", "==", "!="):
        return key, op, (draw(values),)
    if op in ("in", "notin"):
        return key, op, tuple(draw(st.lists(values, min_size=1, max_size=4)))
    return key, op, ()


@st.composite
def render(draw: st.DrawFn, raw: RawRequirement) -> str:
    """One way of writing ``raw`` as selector text, with assorted whitespace."""
    key, op, vals = raw
    ws = [draw(spaces) for _ in range(4)]
    if op == "exists":
        return ws[0] + key + ws[1]
    if op == "!":
        return ws[0] + "!" + ws[1] + key + ws[2]
    if op in ("=", "==", "!="):
        return ws[0] + key + ws[1] + op + ws[2] + vals[0] + ws[3]
    inner = ",".join(draw(spaces) + v + draw(spaces) for v in vals)
    return ws[0] + key + draw(some_spaces) + op + ws[1] + "(" + ws[2] + inner + ")" + ws[3]


def expected_requirement(raw: RawRequirement) -> Requirement:
    key, op, vals = raw
    operator = {"==": Operator.EQUALS, "exists": Operator.EXISTS}.get(op) or Operator(op)
    return Requirement(key, operator, vals)


def reference_matches(raws: list[RawRequirement], labels: dict[str, str]) -> bool:
    """Kubernetes semantics, written out plainly."""
    for key, op, vals in raws:
        if op == "exists":
            ok = key in labels
        elif op == "!":
            ok = key not in labels
        elif op in ("=", "==", "in"):
            ok = key in labels and labels[key] in vals
        else:
            ok = key not in labels or labels[key] not in vals
        if not ok:
            return False
    return True


@st.composite
def selector_cases(draw: st.DrawFn) -> tuple[list[RawRequirement], str]:
    raws = draw(st.lists(raw_requirements(), max_size=5))
    text = ",".join(draw(render(raw)) for raw in raws)
    return raws, text


@settings(max_examples=300)
@given(case=selector_cases(), labels=st.dictionaries(st.sampled_from(KEYS), values, max_size=6))
def test_generated_selectors_parse_round_trip_and_match(
    case: tuple[list[RawRequirement], str], labels: dict[str, str]
) -> None:
    raws, text = case
    selector = parse_selector(text)
    assert selector == Selector(tuple(expected_requirement(raw) for raw in raws))
    canonical = str(selector)
    assert parse_selector(canonical) == selector
    assert str(parse_selector(canonical)) == canonical
    assert selector.matches(labels) == reference_matches(raws, labels)


selector_text = st.one_of(
    st.text(alphabet="ab=!(), \tinotx_-./", max_size=24),
    selector_cases().map(lambda case: case[1]),
    st.text(max_size=24),
)


@settings(max_examples=300)
@given(text=selector_text)
def test_any_text_parses_or_raises_invalid_selector(text: str) -> None:
    # Any exception other than InvalidSelector propagates and fails the test.
    try:
        outcome: Selector | InvalidSelector = parse_selector(text)
    except InvalidSelector as error:
        outcome = error
    if isinstance(outcome, Selector):
        assert parse_selector(str(outcome)) == outcome
        return
    assert outcome.field == "selector"
    assert outcome.rule in {"selector-syntax", "selector-key", "selector-value"}
    assert outcome.detail.startswith("at position ")
    outcome.detail.encode("utf-8")
