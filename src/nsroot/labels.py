"""Kubernetes-style labels, annotations and label selectors.

The syntax and semantics follow Kubernetes (``k8s.io/apimachinery``) so that people
and tools can carry their habits over:

* A label or annotation key is a *name* of at most 63 characters (letters, digits,
  ``-``, ``_`` and ``.``, starting and ending with a letter or digit), optionally
  preceded by a DNS-1123 subdomain *prefix* of at most 253 characters and ``/``, as in
  ``example.com/tier``.
* A label value is empty or a name; an annotation value is any string, but all keys
  and values together are limited in size.
* A selector is comma-separated requirements ``k=v``, ``k==v``, ``k!=v``,
  ``k in (a,b)``, ``k notin (a,b)``, ``k`` and ``!k``, all of which must hold. As in
  Kubernetes, ``k!=v`` and ``notin`` hold when ``k`` is absent, ``k=`` means "equals the
  empty value", and empty items in a value list are empty values (``k in ()`` is
  ``k in ("")``).

Validation errors are ``InvalidInput`` carrying one ``FieldError`` per problem, each
anchored at a JSON pointer (``/labels/example.com~1tier``); selector errors are
``InvalidSelector`` naming the position in the selector text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Final, NamedTuple

from nsroot.errors import FieldError, InvalidInput, InvalidSelector
from nsroot.names import quote

__all__ = [
    "DEFAULT_MAX_ANNOTATION_BYTES",
    "MAX_LABELS",
    "MAX_NAME_LENGTH",
    "MAX_PREFIX_LENGTH",
    "Operator",
    "Requirement",
    "Selector",
    "json_pointer",
    "parse_selector",
    "validate_annotations",
    "validate_labels",
]

MAX_LABELS: Final = 64
MAX_NAME_LENGTH: Final = 63
MAX_PREFIX_LENGTH: Final = 253
DEFAULT_MAX_ANNOTATION_BYTES: Final = 65536

_MAX_KEY_LENGTH: Final = MAX_PREFIX_LENGTH + 1 + MAX_NAME_LENGTH
# Errors listed in full in a summary message; the rest are only counted there (all of
# them are still in ``errors``).
_SUMMARY_ERRORS: Final = 5

_NAME: Final = r"[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_DNS_LABEL: Final = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
_KEY_RE: Final = re.compile(rf"(?:({_DNS_LABEL}(?:\.{_DNS_LABEL})*)/)?{_NAME}")
_fullmatch_value: Final = re.compile(rf"(?:{_NAME})?").fullmatch

_ALNUM: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_NAME_CHARS: Final = _ALNUM | frozenset("-_.")
_PREFIX_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-.")


# ---------------------------------------------------------------------------
# JSON pointers


def json_pointer(*parts: str) -> str:
    """The RFC 6901 JSON pointer to ``parts``: ``json_pointer("labels", "a/b")`` is
    ``/labels/a~1b``; no parts gives ``""``, the whole document."""
    return "".join("/" + _escape_pointer(part) for part in parts)


def _escape_pointer(part: str) -> str:
    # "~" first, or the "~" of a fresh "~1" would be escaped again.
    if "~" in part or "/" in part:
        return part.replace("~", "~0").replace("/", "~1")
    return part


# ---------------------------------------------------------------------------
# Keys and values. Each check returns None when fine, else (kind, detail) with kind
# one of "syntax", "prefix", "too-long", which callers turn into their own rule names.

_Problem = tuple[str, str]


def _key_problem(key: str) -> _Problem | None:
    # Only keys that could be valid go through the cache, so hostile long keys can
    # neither pin memory in it nor push the common keys out.
    if len(key) > _MAX_KEY_LENGTH:
        return _diagnose_key(key)
    return _cached_key_problem(key)


@lru_cache(maxsize=4096)
def _cached_key_problem(key: str) -> _Problem | None:
    # Keys repeat endlessly across requests ("app", "env", ...), so the cache answers
    # most lookups without running the regex at all.
    match = _KEY_RE.fullmatch(key)
    if match is not None and match.end(1) <= MAX_PREFIX_LENGTH:
        return None
    return _diagnose_key(key)


def _value_problem(value: str) -> _Problem | None:
    if len(value) > MAX_NAME_LENGTH:
        return _diagnose_value(value)
    return _cached_value_problem(value)


@lru_cache(maxsize=4096)
def _cached_value_problem(value: str) -> _Problem | None:
    if _fullmatch_value(value) is not None:
        return None
    return _diagnose_value(value)


def _diagnose_key(key: str) -> _Problem:
    if not key:
        return "syntax", "key must not be empty"
    slashes = key.count("/")
    if slashes > 1:
        return "syntax", f'key {quote(key)} has {slashes} "/"; at most one is allowed, after the prefix'
    prefix, slash, name = key.partition("/")
    if not slash:
        name = prefix
        subject = "key"
    else:
        if not prefix:
            return "prefix", 'key prefix (before "/") must not be empty'
        if len(prefix) > MAX_PREFIX_LENGTH:
            return "too-long", f"key prefix is {len(prefix)} characters, at most {MAX_PREFIX_LENGTH}"
        problem = _prefix_problem(prefix)
        if problem is not None:
            return "prefix", f"key prefix {quote(prefix)}: {problem}"
        subject = "key name"
    if not name:
        return "syntax", f'{subject} (after "/") must not be empty'
    problem = _name_problem(name)
    if problem is not None:
        return "syntax", f"{subject} {quote(name)}: {problem}"
    return "too-long", f"{subject} is {len(name)} characters, at most {MAX_NAME_LENGTH}"


def _diagnose_value(value: str) -> _Problem:
    problem = _name_problem(value)
    if problem is not None:
        return "syntax", f"value {quote(value)}: {problem}"
    return "too-long", f"value is {len(value)} characters, at most {MAX_NAME_LENGTH}"


def _name_problem(name: str) -> str | None:
    """What is wrong with a non-empty name, ignoring its length."""
    if name[0] not in _ALNUM:
        return f"must start with a letter or digit, not {quote(name[0])}"
    for position, char in enumerate(name, 1):
        if char not in _NAME_CHARS:
            return f'character {quote(char)} at position {position} is not allowed (use A-Z, a-z, 0-9, "-", "_", ".")'
    if name[-1] not in _ALNUM:
        return f"must end with a letter or digit, not {quote(name[-1])}"
    return None


def _prefix_problem(prefix: str) -> str | None:
    """What is wrong with a non-empty prefix of allowed length, if anything."""
    for position, char in enumerate(prefix, 1):
        if char not in _PREFIX_CHARS:
            hint = "; a prefix is lower-case" if char.isupper() else ""
            return (
                f"character {quote(char)} at position {position} is not allowed"
                f' (a prefix is a DNS subdomain: use a-z, 0-9, "-", "."{hint})'
            )
    for part in prefix.split("."):
        if not part:
            return 'has an empty part (".." or a leading/trailing ".")'
        if part[0] == "-" or part[-1] == "-":
            return f'part {quote(part)} must start and end with a letter or digit, not "-"'
    return None


# ---------------------------------------------------------------------------
# Labels and annotations


def validate_labels(labels: object, *, pointer: str = "/labels") -> dict[str, str]:
    """Check a labels object and return it as a plain ``dict[str, str]``.

    ``labels`` must be a dict of at most ``MAX_LABELS`` entries whose keys are label
    keys and whose values are empty or label names (see the module docstring). On
    failure raise ``InvalidInput`` listing every problem found in ``errors``, each at
    the JSON pointer of its label under ``pointer``; the error's own ``field`` and
    ``rule`` are those of the first problem. Rules: ``labels-type``,
    ``labels-too-many``, ``label-key-syntax``, ``label-key-prefix``,
    ``label-key-too-long``, ``label-value-syntax``, ``label-value-too-long``.
    """
    if not isinstance(labels, dict):
        raise _single(pointer, "labels-type", f"labels must be an object, got {_type_name(labels)}")
    errors: list[FieldError] = []
    if len(labels) > MAX_LABELS:
        errors.append(FieldError(pointer, "labels-too-many", f"{len(labels)} labels, at most {MAX_LABELS}"))
    for key, value in labels.items():
        if not isinstance(key, str):
            errors.append(_key_type_error(pointer, key))
            continue
        problem = _key_problem(key)
        if problem is not None:
            kind, detail = problem
            errors.append(FieldError(_child(pointer, key), "label-key-" + kind, detail))
        if not isinstance(value, str):
            detail = f"value must be a string, got {_type_name(value)}"
            errors.append(FieldError(_child(pointer, key), "labels-type", detail))
            continue
        problem = _value_problem(value)
        if problem is not None:
            kind, detail = problem
            errors.append(FieldError(_child(pointer, key), "label-value-" + kind, detail))
    if errors:
        raise _collected(errors, "label")
    # A copy, so that later changes to the caller's dict cannot reach what was checked
    # and a dict subclass comes back as a plain dict.
    return dict(labels)


def validate_annotations(
    annotations: object,
    *,
    max_bytes: int = DEFAULT_MAX_ANNOTATION_BYTES,
    pointer: str = "/annotations",
) -> dict[str, str]:
    """Check an annotations object and return it as a plain ``dict[str, str]``.

    ``annotations`` must be a dict whose keys are label keys and whose values are any
    strings, with all keys and values together at most ``max_bytes`` in UTF-8. Errors
    are reported as by ``validate_labels``, under ``pointer``, with rules
    ``annotations-type``, ``annotations-too-large``, ``annotation-key-syntax``,
    ``annotation-key-prefix`` and ``annotation-key-too-long``.
    """
    if not isinstance(annotations, dict):
        raise _single(pointer, "annotations-type", f"annotations must be an object, got {_type_name(annotations)}")
    errors: list[FieldError] = []
    size = 0
    for key, value in annotations.items():
        if not isinstance(key, str):
            errors.append(_key_type_error(pointer, key, rule="annotations-type"))
            continue
        size += _utf8_length(key)
        problem = _key_problem(key)
        if problem is not None:
            kind, detail = problem
            errors.append(FieldError(_child(pointer, key), "annotation-key-" + kind, detail))
        if not isinstance(value, str):
            detail = f"value must be a string, got {_type_name(value)}"
            errors.append(FieldError(_child(pointer, key), "annotations-type", detail))
            continue
        size += _utf8_length(value)
    if size > max_bytes:
        detail = f"keys and values take {size} bytes (UTF-8), at most {max_bytes}"
        # The size is a property of the whole object, so it leads the list.
        errors.insert(0, FieldError(pointer, "annotations-too-large", detail))
    if errors:
        raise _collected(errors, "annotation")
    return dict(annotations)


def _utf8_length(text: str) -> int:
    if text.isascii():
        return len(text)
    # surrogatepass: a lone surrogate (which JSON "\ud800" can produce) is sized
    # rather than crashing the encoder; whether it is acceptable is not ours to judge.
    return len(text.encode("utf-8", "surrogatepass"))


def _child(pointer: str, key: str) -> str:
    return pointer + "/" + _escape_pointer(key)


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _key_type_error(pointer: str, key: object, rule: str = "labels-type") -> FieldError:
    return FieldError(_child(pointer, str(key)), rule, f"key must be a string, got {_type_name(key)}")


def _single(field: str, rule: str, detail: str) -> InvalidInput:
    return InvalidInput(detail, field=field, rule=rule, errors=[FieldError(field, rule, detail)])


def _collected(errors: list[FieldError], noun: str) -> InvalidInput:
    """One ``InvalidInput`` for all of ``errors``, led by the first."""
    count = len(errors)
    listed = "; ".join(f"{e.field}: {e.detail}" for e in errors[:_SUMMARY_ERRORS])
    if count > _SUMMARY_ERRORS:
        listed += f"; and {count - _SUMMARY_ERRORS} more"
    detail = f"{count} invalid {noun}{'' if count == 1 else 's'}: {listed}"
    return InvalidInput(detail, field=errors[0].field, rule=errors[0].rule, errors=errors)


# ---------------------------------------------------------------------------
# Selectors


class Operator(StrEnum):
    """The operator of a selector requirement (``==`` is read as ``=``)."""

    EQUALS = "="
    NOT_EQUALS = "!="
    IN = "in"
    NOT_IN = "notin"
    EXISTS = "exists"
    DOES_NOT_EXIST = "!"


# Module-level names for the members: matches() runs per object listed, and these
# skip the enum class attribute lookup.
_EQUALS: Final = Operator.EQUALS
_NOT_EQUALS: Final = Operator.NOT_EQUALS
_IN: Final = Operator.IN
_NOT_IN: Final = Operator.NOT_IN
_EXISTS: Final = Operator.EXISTS
_DOES_NOT_EXIST: Final = Operator.DOES_NOT_EXIST
_OPERATOR_RANK: Final = {op: rank for rank, op in enumerate(Operator)}


@dataclass(frozen=True, slots=True)
class Requirement:
    """One condition on one label: ``key``, ``operator`` and its ``values``.

    ``values`` is kept sorted and without duplicates, so equal conditions compare
    equal. Construction checks the key, the values and their number for the operator
    (one for ``=``/``!=``, at least one for ``in``/``notin``, none otherwise) and
    raises ``InvalidSelector`` if they are wrong.
    """

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        operator = Operator(self.operator)
        problem = _key_problem(self.key)
        if problem is not None:
            raise InvalidSelector(problem[1], field="selector", rule="selector-key")
        for value in self.values:
            problem = _value_problem(value)
            if problem is not None:
                raise InvalidSelector(problem[1], field="selector", rule="selector-value")
        values = tuple(sorted(set(self.values)))
        count = len(values)
        if operator is _EQUALS or operator is _NOT_EQUALS:
            ok = count == 1
        elif operator is _IN or operator is _NOT_IN:
            ok = count >= 1
        else:
            ok = count == 0
        if not ok:
            detail = f"operator {operator.value!r} cannot take {count} value{'' if count == 1 else 's'}"
            raise InvalidSelector(detail, field="selector", rule="selector-syntax")
        object.__setattr__(self, "operator", operator)
        object.__setattr__(self, "values", values)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` meet this requirement (Kubernetes semantics)."""
        operator = self.operator
        if operator is _EXISTS:
            return self.key in labels
        if operator is _DOES_NOT_EXIST:
            return self.key not in labels
        value = labels.get(self.key)
        if operator is _EQUALS or operator is _IN:
            return value is not None and value in self.values
        return value is None or value not in self.values

    def __str__(self) -> str:
        operator = self.operator
        if operator is _EXISTS:
            return self.key
        if operator is _DOES_NOT_EXIST:
            return "!" + self.key
        if operator is _EQUALS or operator is _NOT_EQUALS:
            return f"{self.key}{operator.value}{self.values[0]}"
        return f"{self.key} {operator.value} ({','.join(self.values)})"


def _requirement_order(requirement: Requirement) -> tuple[str, int, tuple[str, ...]]:
    return requirement.key, _OPERATOR_RANK[requirement.operator], requirement.values


@dataclass(frozen=True, slots=True)
class Selector:
    """A label selector: labels match when they meet every requirement.

    ``requirements`` is kept sorted and without duplicates, so selectors that differ
    only in the order or repetition of requirements compare equal and print the same.
    The empty selector matches everything.
    """

    requirements: tuple[Requirement, ...] = ()

    def __post_init__(self) -> None:
        canonical = tuple(sorted(set(self.requirements), key=_requirement_order))
        object.__setattr__(self, "requirements", canonical)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` meet every requirement."""
        # A plain loop: all() over a generator costs a frame per call, and this runs
        # once per object listed.
        for requirement in self.requirements:  # noqa: SIM110
            if not requirement.matches(labels):
                return False
        return True

    def __str__(self) -> str:
        """The canonical text, which ``parse_selector`` reads back to an equal selector."""
        return ",".join(map(str, self.requirements))


# Longer selectors are parsed every time rather than cached, so that a few huge ones
# cannot hold on to memory in the cache.
_CACHED_SELECTOR_LENGTH: Final = 1024


def parse_selector(text: str) -> Selector:
    """Parse a Kubernetes label selector; the empty (or blank) selector selects all.

    Raise ``InvalidSelector`` (``field="selector"``) saying at which 1-based position
    what was expected, with ``rule`` one of ``selector-type``, ``selector-syntax``,
    ``selector-key`` or ``selector-value``. Results are cached by text, since the same
    few selectors arrive on many requests.
    """
    # Untyped callers (and lru_cache's hashing) must get an InvalidSelector too.
    if not isinstance(text, str):
        detail = f"selector must be a string, got {_type_name(text)}"  # type: ignore[unreachable]
        raise InvalidSelector(detail, field="selector", rule="selector-type")
    if len(text) > _CACHED_SELECTOR_LENGTH:
        return _Parser(text).parse()
    return _parse_cached(text)


@lru_cache(maxsize=1024)
def _parse_cached(text: str) -> Selector:
    return _Parser(text).parse()


class _Token(NamedTuple):
    kind: str  # the symbol itself ("!=", "(", ...), "name" or "" for the end of input
    text: str
    position: int  # 1-based


_NAME_TOKEN: Final = "name"
_END: Final = ""
# As in the Kubernetes lexer: the symbols, the longest first, and names are runs of
# anything else that is not whitespace. Every character is whitespace, part of a
# symbol or part of a name, so finditer only ever skips whitespace. Names are checked
# against the label syntax once the parser knows whether they are a key or a value.
_finditer_tokens: Final = re.compile(r"(!=|==|[!=(),<>])|([^ \t\r\n!=(),<>]+)").finditer


def _tokenize(text: str) -> list[_Token]:
    tokens = [
        _Token(_NAME_TOKEN if symbol is None else symbol, match[0], match.start() + 1)
        for match in _finditer_tokens(text)
        for symbol in (match[1],)
    ]
    tokens.append(_Token(_END, "", len(text) + 1))
    return tokens


class _Parser:
    """Recursive descent over the tokens of one selector::

    selector    := [requirement ("," requirement)*]
    requirement := "!" key | key [("=" | "==" | "!=") [value] | ("in" | "notin") list]
    list        := "(" [value] ("," [value])* ")"
    """

    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.index = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        # The end token stays put, so reading past the end keeps seeing it.
        if token.kind != _END:
            self.index += 1
        return token

    def parse(self) -> Selector:
        if self.peek().kind == _END:
            return Selector()
        requirements = [self.requirement()]
        while True:
            token = self.take()
            if token.kind == _END:
                return Selector(tuple(requirements))
            if token.kind != ",":
                raise _expected(token, '"," or the end of the selector after a requirement')
            requirements.append(self.requirement())

    def requirement(self) -> Requirement:
        token = self.take()
        if token.kind == "!":
            key = self.key(self.take(), 'a label key after "!"')
            following = self.peek()
            if following.kind not in (",", _END):
                raise _expected(following, f'"," or the end of the selector ("!{key}" takes no operator)')
            return Requirement(key, _DOES_NOT_EXIST)
        key = self.key(token, 'a label key or "!"')
        token = self.peek()
        if token.kind in (",", _END):
            return Requirement(key, _EXISTS)
        self.take()
        if token.kind in ("=", "==", "!="):
            operator = _NOT_EQUALS if token.kind == "!=" else _EQUALS
            following = self.peek()
            # "k=" compares with the empty value, as in Kubernetes.
            if following.kind in (",", _END):
                return Requirement(key, operator, ("",))
            value = self.value(self.take(), f"a value after {quote(token.text)}")
            return Requirement(key, operator, (value,))
        if token.kind == _NAME_TOKEN and token.text in ("in", "notin"):
            operator = _IN if token.text == "in" else _NOT_IN
            return Requirement(key, operator, self.value_list(token.text))
        if token.kind in ("<", ">"):
            detail = (
                f"at position {token.position}: operator {quote(token.text)} is not supported"
                " (use =, ==, !=, in, notin)"
            )
            raise InvalidSelector(detail, field="selector", rule="selector-syntax")
        raise _expected(token, f'an operator (=, ==, !=, in, notin), "," or the end after key {quote(key)}')

    def value_list(self, operator: str) -> tuple[str, ...]:
        token = self.take()
        if token.kind != "(":
            raise _expected(token, f'"(" after "{operator}"')
        values: list[str] = []
        while True:
            token = self.take()
            # An item may be empty, meaning the empty value, as in Kubernetes.
            if token.kind == _NAME_TOKEN:
                values.append(self.value(token, "a value"))
                token = self.take()
            else:
                values.append("")
            if token.kind == ")":
                return tuple(values)
            if token.kind != ",":
                raise _expected(token, '")" to close the value list (or "," before another value)')

    @staticmethod
    def key(token: _Token, expected: str) -> str:
        if token.kind != _NAME_TOKEN:
            raise _expected(token, expected)
        problem = _key_problem(token.text)
        if problem is not None:
            detail = f"at position {token.position}: {problem[1]}"
            raise InvalidSelector(detail, field="selector", rule="selector-key")
        return token.text

    @staticmethod
    def value(token: _Token, expected: str) -> str:
        if token.kind != _NAME_TOKEN:
            raise _expected(token, expected)
        problem = _value_problem(token.text)
        if problem is not None:
            detail = f"at position {token.position}: {problem[1]}"
            raise InvalidSelector(detail, field="selector", rule="selector-value")
        return token.text


def _expected(token: _Token, what: str) -> InvalidSelector:
    found = "the end of the selector" if token.kind == _END else quote(token.text)
    detail = f"at position {token.position}: expected {what}, found {found}"
    return InvalidSelector(detail, field="selector", rule="selector-syntax")
