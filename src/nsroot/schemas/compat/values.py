"""Helpers on JSON values and schema objects: pointers, canonical texts, type atoms, value
sets, the profiles that test ``oneOf`` branches for overlap, property-name patterns, and the
alignment of two lists of subschemas. Pure functions; none of them follows a ``$ref``."""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeGuard

from nsroot.schemas.compat.vocabulary import _ALL_TYPES, _IN_PLACE, _KW_KIND, _TYPE_ATOMS, ANNOTATIONS

# --- JSON helpers ---------------------------------------------------------------------


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _pointer(tokens: Sequence[str]) -> str:
    return "".join("/" + _escape(t) for t in tokens)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _integral(value: float) -> bool:
    return isinstance(value, int) or value.is_integer()


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)  # not JSON; kept distinct


def _child_kind(kind: str, key: str, child: Any) -> str:
    if kind == "schema":
        found = _KW_KIND.get(key, "value")
        if found == "items":
            return "schemas" if isinstance(child, list) else "schema"
        return found
    if kind in ("schemas", "schemamap"):
        return "schema"
    if kind == "deps":
        return "value" if isinstance(child, list) else "schema"
    return "value"


def _canon(value: Any, kind: str = "value") -> str:
    """A canonical text of a JSON value: equal JSON values (1 == 1.0, key order ignored,
    true != 1) give equal texts. With kind "schema", annotations are dropped and ``true``
    reads as ``{}``. Iterative: no recursion limit."""
    out: list[str] = []
    stack: list[str | tuple[Any, str]] = [(value, kind)]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        node, k = item
        if k == "schema" and node is True:
            node = {}
        if isinstance(node, dict):
            keys = sorted(key for key in node if not (k == "schema" and key in ANNOTATIONS))
            out.append("{")
            stack.append("}")
            for i, key in reversed(list(enumerate(keys))):
                stack.append((node[key], _child_kind(k, key, node[key])))
                stack.append(json.dumps(key) + ":")
                if i:
                    stack.append(",")
        elif isinstance(node, list):
            child = "schema" if k == "schemas" else "value"
            out.append("[")
            stack.append("]")
            for i, element in reversed(list(enumerate(node))):
                stack.append((element, child))
                if i:
                    stack.append(",")
        else:
            out.append(_scalar(node))
    return "".join(out)


def _has_refs(value: Any) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "$ref" in node or "$dynamicRef" in node:
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 60 else text[:59] + "…"


def _children(node: dict[str, Any]) -> Iterator[tuple[tuple[str, ...], Any]]:
    """The subschemas of a schema object, with their path relative to it."""
    for key, value in node.items():
        kind = _child_kind("schema", key, value)
        if kind == "schema":
            yield (key,), value
        elif kind == "schemas" and isinstance(value, list):
            for i, element in enumerate(value):
                yield (key, str(i)), element
        elif kind in ("schemamap", "deps") and isinstance(value, dict):
            for name, element in value.items():
                if not (kind == "deps" and isinstance(element, list)):
                    yield (key, name), element


# --- schema helpers -------------------------------------------------------------------


def _is_schema(value: Any) -> bool:
    return isinstance(value, (dict, bool))


def _trivially_true(schema: Any) -> bool:
    """``true``, ``{}``, or an object holding only annotations and definitions."""
    if schema is True:
        return True
    return isinstance(schema, dict) and all(k in ANNOTATIONS or k in ("$defs", "definitions") for k in schema)


def _is_false(schema: Any) -> bool:
    """``false``, or ``{"not": <trivially true>}``."""
    if schema is False:
        return True
    if not isinstance(schema, dict) or "not" not in schema:
        return False
    return _trivially_true(schema["not"]) and all(k == "not" or k in ANNOTATIONS for k in schema)


def _type_atoms(schema: dict[str, Any]) -> frozenset[str] | None:
    """The instance types ``type`` allows (integer and fraction for number); None if malformed."""
    declared = schema.get("type")
    if "type" not in schema:
        return _ALL_TYPES
    names = [declared] if isinstance(declared, str) else declared
    if not isinstance(names, list) or not all(isinstance(n, str) and n in _TYPE_ATOMS for n in names):
        return None
    return frozenset().union(*(_TYPE_ATOMS[n] for n in names))


def _type_text(schema: dict[str, Any]) -> str:
    declared = schema.get("type")
    if "type" not in schema:
        return "any type"
    if isinstance(declared, list):
        return " or ".join(str(n) for n in declared) if declared else "no type"
    return str(declared)


def _value_atom(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "integer" if _integral(value) else "fraction"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _value_set(schema: Any) -> frozenset[str] | None:
    """The canonical texts of the only values ``const``/``enum`` allow, or None if unlimited."""
    if not isinstance(schema, dict):
        return None
    found: frozenset[str] | None = None
    if "const" in schema:
        found = frozenset({_canon(schema["const"])})
    if isinstance(schema.get("enum"), list):
        values = frozenset(_canon(v) for v in schema["enum"])
        found = values if found is None else found & values
    return found


@dataclass(frozen=True, slots=True)
class _Profile:
    """What a schema is known to accept, for the disjointness test of ``oneOf`` branches:
    instance types (an over-approximation), the only values (const/enum) or None, and for
    object-only schemas the only values of required properties."""

    atoms: frozenset[str]
    values: frozenset[str] | None
    discriminators: dict[str, frozenset[str]]


def _profile(schema: Any, refs_replace: bool) -> _Profile:
    if _is_false(schema):
        return _Profile(frozenset(), frozenset(), {})
    if not isinstance(schema, dict) or (refs_replace and "$ref" in schema):
        return _Profile(_ALL_TYPES, None, {})
    atoms = _type_atoms(schema) or _ALL_TYPES
    if "const" in schema:
        atoms &= {_value_atom(schema["const"])}
    if isinstance(schema.get("enum"), list):
        atoms &= {_value_atom(v) for v in schema["enum"]}
    discriminators: dict[str, frozenset[str]] = {}
    required, properties = schema.get("required"), schema.get("properties")
    if atoms <= {"object"} and _names(required) and isinstance(properties, dict):
        for name in required:
            values = _value_set(properties.get(name))
            if values is not None:
                discriminators[name] = values
    return _Profile(atoms, _value_set(schema), discriminators)


def _apart(a: _Profile, b: _Profile) -> bool:
    """Whether no document can be valid under both (a sound, partial test)."""
    if not a.atoms & b.atoms:
        return True
    if a.values is not None and b.values is not None and not a.values & b.values:
        return True
    return any(not values & b.discriminators.get(name, values) for name, values in a.discriminators.items())


def _has_in_place(schema: dict[str, Any], extra: frozenset[str]) -> bool:
    return any(k in schema for k in _IN_PLACE | extra)


# Constructs Python's ``re`` reads differently from the validator's regex engine (nested
# classes and class set operations, Unicode classes, \z, inline flags, ...).
_FOREIGN_REGEX: Final = re.compile(r"\[\[|&&|--|~~|\\[pPxuQEzZ]|\(\?(?!:)")


def _pattern_matches(pattern: Any, key: str) -> bool | None:
    """Whether ``pattern`` matches property name ``key``; None when Python's ``re`` may read
    the pattern or the name differently from the validator (then ns-root does not guess)."""
    if not isinstance(pattern, str) or _FOREIGN_REGEX.search(pattern) or not (key.isascii() and key.isprintable()):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return re.search(pattern, key) is not None
    except (re.error, Warning, RecursionError, OverflowError):
        return None


def _align(old: list[Any], new: list[Any]) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Pair up two lists of subschemas: (pairs (old index, new index), added new indexes,
    removed old indexes). Equal lengths pair by index; otherwise, when the shorter list is
    the longer with some elements taken out, the others are added or removed; failing that,
    pair by index and the tail is added or removed. Symmetric in old and new."""
    if len(old) == len(new):
        return [(i, i) for i in range(len(old))], [], []
    short, long = (old, new) if len(old) < len(new) else (new, old)
    long_canon = [_canon(s, "schema") for s in long]
    matched: list[tuple[int, int]] = []
    j = 0
    for i, schema in enumerate(short):
        text = _canon(schema, "schema")
        while j < len(long) and long_canon[j] != text:
            j += 1
        if j == len(long):
            break
        matched.append((i, j))
        j += 1
    if len(matched) == len(short):
        used = {lj for _, lj in matched}
        extra = [lj for lj in range(len(long)) if lj not in used]
    else:
        matched = [(i, i) for i in range(len(short))]
        extra = list(range(len(short), len(long)))
    if short is old:
        return matched, extra, []
    return [(lj, si) for si, lj in matched], [], extra


def _names(value: Any) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
