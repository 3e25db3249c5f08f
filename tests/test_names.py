"""Tests for nsroot.names: the id grammar, its error messages and the tree helpers."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nsroot.errors import InvalidId, InvalidInput
from nsroot.names import (
    DEFAULT_MAX_DEPTH,
    MAX_ID_LENGTH,
    ancestors,
    depth,
    is_ancestor,
    is_valid_id,
    parent_of,
    parse_id,
    quote,
    subtree_bounds,
)

RULES = {
    "id-type",
    "id-empty",
    "id-too-long",
    "id-too-deep",
    "segment-empty",
    "segment-too-long",
    "segment-start",
    "segment-end",
    "segment-char",
}
SEGMENT_START = set(string.ascii_lowercase)
SEGMENT_CHARS = set(string.ascii_lowercase + string.digits + "-")


def reference_problem(text: str, max_depth: int = DEFAULT_MAX_DEPTH) -> tuple[str, int] | None:
    """The rule broken and the 1-based segment it is in (0 for whole-id rules), or None.

    Written from the grammar independently of the module's regex, in the same order
    of checks the module documents: empty, total length, segments left to right,
    then depth.
    """
    if not text:
        return "id-empty", 0
    if len(text) > 253:
        return "id-too-long", 0
    segments = text.split(".")
    for number, segment in enumerate(segments, 1):
        if segment == "":
            return "segment-empty", number
        if segment[0] not in SEGMENT_START:
            return "segment-start", number
        if not set(segment) <= SEGMENT_CHARS:
            return "segment-char", number
        if segment.endswith("-"):
            return "segment-end", number
        if len(segment) > 63:
            return "segment-too-long", number
    if len(segments) > max_depth:
        return "id-too-deep", 0
    return None


# --- table-driven -------------------------------------------------------------

VALID = [
    "a",
    "acme",
    "acme.billing",
    "acme.billing.invoices-2024",
    "a1.b-2.c--3",
    "x" * 63,
    ".".join(["a"] * 8),
    # exactly 253 characters: three 63-character segments and one of 61
    ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61]),
]


@pytest.mark.parametrize("text", VALID)
def test_valid_ids_parse_unchanged(text: str) -> None:
    assert len(text) <= MAX_ID_LENGTH
    assert parse_id(text) is text
    assert is_valid_id(text)


INVALID = [
    # (text, rule, fragments the message must contain)
    ("", "id-empty", ["must not be empty"]),
    ("a." + "b" * 258, "id-too-long", ["253 characters at most, got 260"]),
    (".".join(["a"] * 9), "id-too-deep", ["depth 9: at most 8 segments"]),
    ("a..b", "segment-empty", ['segment 2 is empty (".." or a leading/trailing ".")']),
    (".a", "segment-empty", ["segment 1 is empty"]),
    ("a.", "segment-empty", ["segment 2 is empty"]),
    ("a" * 64, "segment-too-long", ['segment 1 "aaaa', "…", "64 characters, at most 63"]),
    ("a.b.Bad_Name", "segment-start", ['segment 3 "Bad_Name": must start with a lower-case letter']),
    ("a.1b", "segment-start", ['segment 2 "1b": must start with a lower-case letter', "digit"]),
    ("-a", "segment-start", ['segment 1 "-a": must start with a lower-case letter, not "-"']),
    ("a.ab-", "segment-end", ['segment 2 "ab-": must not end with "-"']),
    (
        "a_b",
        "segment-char",
        ['segment 1 "a_b": character "_" at position 2 is not allowed (use a-z, 0-9, "-")'],
    ),
    ("a b", "segment-char", ['segment 1 "a b": character " " at position 2']),
    ("a/b", "segment-char", ['character "/" at position 2']),
    ("a\nb", "segment-char", ['segment 1 "a\\x0ab": character "\\x0a" at position 2']),
    ("ok.café", "segment-char", ['segment 2 "café": character "é" at position 4']),
]


@pytest.mark.parametrize(("text", "rule", "fragments"), INVALID)
def test_invalid_ids_name_rule_and_place(text: str, rule: str, fragments: list[str]) -> None:
    with pytest.raises(InvalidId) as caught:
        parse_id(text)
    error = caught.value
    assert error.rule == rule
    for fragment in fragments:
        assert fragment in error.detail
    assert not is_valid_id(text)


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("Acme", ['segment 1 "Acme": must start with a lower-case letter', "lower-case", 'try "acme"']),
        ("acme.fooBar", ['segment 2 "fooBar": character "B" at position 4', "lower-case", 'try "foobar"']),
        # Lower-casing alone would not fix this one, so there is nothing to try.
        ("Bad_Name", ["lower-case"]),
    ],
)
def test_upper_case_suggests_lower_case(text: str, fragments: list[str]) -> None:
    with pytest.raises(InvalidId) as caught:
        parse_id(text)
    for fragment in fragments:
        assert fragment in caught.value.detail
    if text == "Bad_Name":
        assert "try" not in caught.value.detail


@pytest.mark.parametrize("value", [None, 42, b"acme", ["a"], object()])
def test_non_str_is_invalid_id(value: object) -> None:
    with pytest.raises(InvalidId) as caught:
        parse_id(value)  # type: ignore[arg-type]
    assert caught.value.rule == "id-type"
    assert not is_valid_id(value)


def test_invalid_id_is_a_400_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_id("A")
    problem = caught.value.to_problem()
    assert problem["status"] == 400
    assert problem["type"].endswith("invalid-id")
    assert problem["rule"] == "segment-start"


def test_max_depth_is_a_parameter() -> None:
    assert parse_id("a.b", max_depth=2) == "a.b"
    with pytest.raises(InvalidId) as caught:
        parse_id("a.b.c", max_depth=2)
    assert caught.value.rule == "id-too-deep"
    assert caught.value.detail == "depth 3: at most 2 segments"
    deep = ".".join(["a"] * 12)
    assert parse_id(deep, max_depth=12) == deep
    assert not is_valid_id(deep)
    assert is_valid_id(deep, max_depth=12)


def test_segment_problems_are_reported_before_depth() -> None:
    with pytest.raises(InvalidId) as caught:
        parse_id(".".join(["a"] * 9 + ["B"]))
    assert caught.value.rule == "segment-start"
    assert caught.value.detail.startswith("segment 10 ")


def test_messages_escape_odd_characters() -> None:
    for text in ['a"b', "a\\b", "a\x00b", "a.\ud800", "a\u200bb"]:
        with pytest.raises(InvalidId) as caught:
            parse_id(text)
        detail = caught.value.detail
        detail.encode("utf-8")  # no lone surrogates left in the message
        assert detail.isprintable()


def test_quote() -> None:
    assert quote("abc") == '"abc"'
    assert quote('a"b\\c') == '"a\\"b\\\\c"'
    assert quote("a\x00\u2028\ud800\U000e0001") == '"a\\x00\\u2028\\ud800\\U000e0001"'
    assert quote("x" * 30, limit=4) == '"xxxx…"'


# --- tree helpers ----------------------------------------------------------------


def test_tree_helpers_examples() -> None:
    assert parent_of("a") is None
    assert parent_of("a.b.c") == "a.b"
    assert depth("a") == 1
    assert depth("a.b.c") == 3
    assert ancestors("a") == []
    assert ancestors("a.b.c") == ["a", "a.b"]
    assert is_ancestor("a", "a.b")
    assert is_ancestor("a", "a.b.c")
    assert is_ancestor("a.b", "a.b.c")
    assert not is_ancestor("a", "ab.c")
    assert not is_ancestor("a", "a")
    assert not is_ancestor("a.b", "a")
    assert not is_ancestor("a.b", "a.bc")
    assert subtree_bounds("a.b") == ("a.b.", "a.b/")


# --- properties --------------------------------------------------------------------

# Straight from the grammar; used where the grammar itself is under test.
regex_segments = st.from_regex(r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?", fullmatch=True)
# The same language built piece by piece, several times faster to generate than
# from_regex, for the tests that only need valid ids as input.
segments = st.one_of(
    st.sampled_from(string.ascii_lowercase),
    st.builds(
        lambda first, middle, last: first + middle + last,
        st.sampled_from(string.ascii_lowercase),
        st.text(alphabet=string.ascii_lowercase + string.digits + "-", max_size=61),
        st.sampled_from(string.ascii_lowercase + string.digits),
    ),
)
valid_ids = (
    st.lists(segments, min_size=1, max_size=DEFAULT_MAX_DEPTH)
    .map(".".join)
    .filter(lambda text: len(text) <= MAX_ID_LENGTH)
)
# Text close to the grammar finds the edge cases; arbitrary text finds the rest.
near_ids = st.text(alphabet="ab9-._A \n/é", max_size=20)
long_near_ids = st.builds(lambda s, n: s * n, st.text(alphabet="ab-.", min_size=1, max_size=3), st.integers(1, 140))
any_text = st.one_of(valid_ids, near_ids, long_near_ids, st.text())


@settings(max_examples=200)
@given(segs=st.lists(regex_segments, min_size=1, max_size=DEFAULT_MAX_DEPTH))
def test_generated_ids_parse_and_round_trip(segs: list[str]) -> None:
    text = ".".join(segs)
    if len(text) > MAX_ID_LENGTH:
        with pytest.raises(InvalidId) as caught:
            parse_id(text)
        assert caught.value.rule == "id-too-long"
        return
    assert parse_id(text) == text
    assert is_valid_id(text)
    assert text.split(".") == segs
    assert depth(text) == len(segs)


@settings(max_examples=300)
@given(text=any_text, max_depth=st.integers(1, 10))
def test_any_text_parses_or_raises_invalid_id(text: str, max_depth: int) -> None:
    expected = reference_problem(text, max_depth)
    # Any exception other than InvalidId propagates and fails the test.
    try:
        outcome: str | InvalidId = parse_id(text, max_depth=max_depth)
    except InvalidId as error:
        outcome = error
    assert is_valid_id(text, max_depth=max_depth) == (expected is None)
    if expected is None:
        assert outcome == text
        return
    assert isinstance(outcome, InvalidId)
    rule, segment = expected
    assert outcome.rule == rule
    assert outcome.rule in RULES
    if segment:
        assert outcome.detail.startswith(f"segment {segment} ")
    outcome.detail.encode("utf-8")


@st.composite
def id_pairs(draw: st.DrawFn) -> tuple[str, str]:
    """Pairs of ids that are often related: ancestor, same, sibling, look-alike."""
    b = draw(valid_ids)
    parts = b.split(".")
    choice = draw(st.integers(0, 3))
    if choice == 0:
        a = ".".join(parts[: draw(st.integers(1, len(parts)))])
    elif choice == 1:
        # A prefix of the text that is not a prefix of segments ("a" vs "ab.c").
        a = ".".join(parts[: draw(st.integers(1, len(parts)))])
        a = a[: draw(st.integers(1, len(a)))]
        if not is_valid_id(a):
            a = parts[0]
    elif choice == 2:
        a = ".".join(parts[: draw(st.integers(1, len(parts)))]) + draw(st.sampled_from(["0", "a", "-z"]))
        if not is_valid_id(a):
            a = parts[0]
    else:
        a = draw(valid_ids)
    return a, b


@settings(max_examples=300)
@given(text=valid_ids)
def test_parent_ancestors_depth_agree(text: str) -> None:
    chain = []
    node: str | None = parent_of(text)
    while node is not None:
        assert is_valid_id(node)
        assert is_ancestor(node, text)
        chain.append(node)
        node = parent_of(node)
    assert ancestors(text) == chain[::-1]
    assert len(chain) == depth(text) - 1
    assert (parent_of(text) is None) == (depth(text) == 1)
    if chain:
        assert depth(chain[0]) == depth(text) - 1


@settings(max_examples=300)
@given(pair=id_pairs())
def test_is_ancestor_and_subtree_bounds_agree(pair: tuple[str, str]) -> None:
    a, b = pair
    strict = b.startswith(a + ".")
    assert is_ancestor(a, b) == strict
    assert (a in ancestors(b)) == strict
    lo, hi = subtree_bounds(a)
    assert (lo < b < hi) == strict
    # The bounds exclude the id itself and never include an ancestor.
    assert not lo < a < hi
    assert not any(lo < x < hi for x in ancestors(a))
