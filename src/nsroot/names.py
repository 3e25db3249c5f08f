"""Namespace ids: the grammar, and the tree arithmetic on valid ids.

An id is a dot-separated path of segments, e.g. ``acme.billing.invoices``; each dot
adds a level to the tree. A segment matches ``[a-z][a-z0-9-]*``, is 1 to 63 characters
long and does not end in ``-`` (a DNS label that starts with a letter), an id has 1 to
``max_depth`` segments and at most 253 characters, so every id is also a valid DNS name.

``parse_id`` is on the hot path of every request, so it tries one precompiled regex
(with its verdicts cached) first and only works out *what* is wrong when that fails. The tree helpers
(``parent_of``, ``ancestors``, ...) assume their arguments are valid ids and do no
checking of their own.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from nsroot.errors import InvalidId

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "MAX_ID_LENGTH",
    "MAX_SEGMENT_LENGTH",
    "ancestors",
    "depth",
    "is_ancestor",
    "is_valid_id",
    "parent_of",
    "parse_id",
    "quote",
    "subtree_bounds",
]

MAX_ID_LENGTH: Final = 253
MAX_SEGMENT_LENGTH: Final = 63
DEFAULT_MAX_DEPTH: Final = 8

# The segment length limit is part of the regex ({0,61} plus the first and last
# character) so that the fast path is a single C-level match. The total length is
# checked before matching, which also bounds the regex's work on hostile input.
_SEGMENT: Final = r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?"
_fullmatch_id: Final = re.compile(rf"{_SEGMENT}(?:\.{_SEGMENT})*").fullmatch


@lru_cache(maxsize=8192)
def _well_formed(text: str) -> bool:
    """Whether ``text`` (at most MAX_ID_LENGTH long) is segments joined by dots.

    Cached because the same ids arrive again and again, and a cache hit costs a
    quarter of the match. Callers check the length first, which bounds the cache's
    memory to a few megabytes whatever the input.
    """
    return _fullmatch_id(text) is not None


_SEGMENT_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
_LOWER: Final = frozenset("abcdefghijklmnopqrstuvwxyz")


def parse_id(text: str, *, max_depth: int = DEFAULT_MAX_DEPTH) -> str:
    """Return ``text`` unchanged if it is a valid namespace id, else raise ``InvalidId``.

    The error's ``detail`` says what is wrong and where (segments are numbered from
    1) and its ``rule`` is one of ``id-type``, ``id-empty``, ``id-too-long``,
    ``id-too-deep``, ``segment-empty``, ``segment-too-long``, ``segment-start``,
    ``segment-end`` or ``segment-char``.
    """
    if isinstance(text, str) and len(text) <= MAX_ID_LENGTH and _well_formed(text) and text.count(".") < max_depth:
        return text
    raise _diagnose(text, max_depth)


def is_valid_id(text: object, *, max_depth: int = DEFAULT_MAX_DEPTH) -> bool:
    """Whether ``text`` is a valid namespace id (``parse_id`` would accept it)."""
    # The same test as parse_id's fast path, without paying for an exception.
    return isinstance(text, str) and len(text) <= MAX_ID_LENGTH and _well_formed(text) and text.count(".") < max_depth


def parent_of(ns_id: str, /) -> str | None:
    """The parent of a valid id, or None for a root (depth 1) id."""
    cut = ns_id.rfind(".")
    return None if cut < 0 else ns_id[:cut]


def depth(ns_id: str, /) -> int:
    """The number of segments of a valid id (1 for a root id)."""
    return ns_id.count(".") + 1


def ancestors(ns_id: str, /) -> list[str]:
    """The strict ancestors of a valid id, root first: ``a.b.c`` -> ``["a", "a.b"]``."""
    found: list[str] = []
    cut = ns_id.find(".")
    while cut >= 0:
        found.append(ns_id[:cut])
        cut = ns_id.find(".", cut + 1)
    return found


def is_ancestor(ancestor: str, descendant: str, /) -> bool:
    """Whether valid id ``ancestor`` is a strict ancestor of valid id ``descendant``.

    Segment aware: ``a`` is an ancestor of ``a.b`` but not of ``ab.c``.
    """
    cut = len(ancestor)
    return len(descendant) > cut and descendant[cut] == "." and descendant.startswith(ancestor)


def subtree_bounds(ns_id: str, /) -> tuple[str, str]:
    """Exclusive bounds ``(lo, hi)`` of the strict descendants of a valid id.

    A string ``d`` is a strict descendant of ``ns_id`` exactly when ``lo < d < hi`` in
    code point order (which is also SQLite's BINARY collation and byte order for the
    ASCII ids), so a subtree is one range scan on an index of ids. This works because
    every descendant is ``ns_id + "." + rest`` with a non-empty ``rest``, and ``"/"`` is
    the character right after ``"."``.
    """
    return ns_id + ".", ns_id + "/"


def _diagnose(text: object, max_depth: int) -> InvalidId:
    """Work out why ``text`` failed the fast path; the first problem found wins."""
    if not isinstance(text, str):
        return InvalidId(f"must be a string, got {type(text).__name__}", rule="id-type")
    if not text:
        return InvalidId("must not be empty", rule="id-empty")
    # Checked before splitting, so hostile megabyte inputs cost no more than this.
    if len(text) > MAX_ID_LENGTH:
        return InvalidId(f"{MAX_ID_LENGTH} characters at most, got {len(text)}", rule="id-too-long")
    segments = text.split(".")
    for number, segment in enumerate(segments, 1):
        problem = _segment_problem(segment)
        if problem is not None:
            rule, what = problem
            return InvalidId(f"segment {number}{what}", rule=rule)
    if len(segments) > max_depth:
        return InvalidId(f"depth {len(segments)}: at most {max_depth} segments", rule="id-too-deep")
    # Only reachable if the regex and this diagnosis disagree, which the tests rule out.
    raise AssertionError(f"no problem found in rejected id {text!r}")


def _segment_problem(segment: str) -> tuple[str, str] | None:
    """``(rule, message tail)`` for the first problem in one segment, or None."""
    if not segment:
        return "segment-empty", ' is empty (".." or a leading/trailing ".")'
    shown = quote(segment)
    first = segment[0]
    if first not in _LOWER:
        return "segment-start", f" {shown}: must start with a lower-case letter, {_not(first, segment)}"
    for position, char in enumerate(segment, 1):
        if char not in _SEGMENT_CHARS:
            advice = f"ids are lower-case{_try_lower(segment)}" if char.isupper() else 'use a-z, 0-9, "-"'
            return (
                "segment-char",
                f" {shown}: character {quote(char)} at position {position} is not allowed ({advice})",
            )
    if segment[-1] == "-":
        return "segment-end", f' {shown}: must not end with "-"'
    if len(segment) > MAX_SEGMENT_LENGTH:
        return "segment-too-long", f" {shown}: {len(segment)} characters, at most {MAX_SEGMENT_LENGTH}"
    return None


def _not(first: str, segment: str) -> str:
    """The ", not X" half of a bad-start message, with advice for upper case."""
    if first.isupper():
        return f"not upper-case {quote(first)} (ids are lower-case{_try_lower(segment)})"
    if first.isdigit():
        return f"not a digit ({quote(first)})"
    return f"not {quote(first)}"


def _try_lower(segment: str) -> str:
    """``, try "abc"`` when lower-casing alone would fix the segment, else nothing."""
    lowered = segment.lower()
    if len(lowered) <= MAX_SEGMENT_LENGTH and _fullmatch_id(lowered) is not None:
        return f", try {quote(lowered)}"
    return ""


def quote(text: str, limit: int = 24) -> str:
    """``text`` in double quotes for an error message: shortened, and escaped if odd.

    Input that failed validation may hold anything, so quotes, backslashes and
    unprintable characters (controls, lone surrogates) are escaped: the message must
    stay readable and encodable as UTF-8 JSON.
    """
    shown = text if len(text) <= limit else text[:limit] + "…"
    if shown.isprintable() and '"' not in shown and "\\" not in shown:
        return f'"{shown}"'
    return '"' + "".join(_escape(char) for char in shown) + '"'


def _escape(char: str) -> str:
    if char in '"\\':
        return "\\" + char
    if char.isprintable():
        return char
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
