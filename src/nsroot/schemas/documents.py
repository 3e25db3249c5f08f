"""Schema documents: their dialect, the meta-schema, limits, references, and compiling.

A schema document is checked in this order, and every step reports all it finds:

1. it is a JSON object or boolean, within the size and nesting limits (``SchemaLimits``);
2. its ``$schema`` names a dialect ns-root serves: draft 2020-12 (the default when
   ``$schema`` is absent) or draft-07;
3. it is valid against that dialect's meta-schema;
4. every ``$ref`` is local (``#...``), inside the document (an embedded ``$id``), or names a
   registered schema (``nsroot:schemas/<name>/<version>``, or an ``$id`` a registered
   schema declares). Nothing is ever fetched from the network;
5. it compiles, with format assertions on and patterns on a linear-time engine (Rust's
   ``regex``: no lookaround or backreferences, so no pattern can backtrack
   catastrophically).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import urldefrag, urljoin, urlsplit

import jsonschema_rs
import msgspec

from nsroot.errors import FieldError, InvalidSchema

Dialect = Literal["2020-12", "draft-07"]

DIALECT_URIS: Final[Mapping[str, Dialect]] = {
    "https://json-schema.org/draft/2020-12/schema": "2020-12",
    "http://json-schema.org/draft-07/schema": "draft-07",
}
_META_URI: Final[Mapping[Dialect, str]] = {
    "2020-12": "https://json-schema.org/draft/2020-12/schema",
    "draft-07": "http://json-schema.org/draft-07/schema#",
}
_VALIDATOR: Final = {"2020-12": jsonschema_rs.Draft202012Validator, "draft-07": jsonschema_rs.Draft7Validator}

CANONICAL_SCHEME: Final = "nsroot:schemas/"
_CANONICAL_RE: Final = re.compile(r"nsroot:schemas/([a-z][a-z0-9.-]*)/([1-9][0-9]{0,8})\Z")

#: Keywords whose values are data, not schemas: a ``{"$ref": ...}`` inside them is not a reference.
_DATA_KEYWORDS: Final = frozenset({"enum", "const", "default", "examples"})


@dataclass(frozen=True, slots=True)
class SchemaLimits:
    """Limits on schemas and on validation requests; docs/schemas.md lists them."""

    max_schema_bytes: int = 256 * 1024
    max_schema_depth: int = 32
    max_versions: int = 1_000
    max_document_depth: int = 32
    max_batch: int = 1_000
    regex_size_limit: int = 1024 * 1024  # compiled size of one pattern, in bytes
    compile_timeout: float = 5.0  # seconds


def canonical_uri(name: str, version: int) -> str:
    """The URI another schema uses to ``$ref`` version ``version`` of ``name``."""
    return f"{CANONICAL_SCHEME}{name}/{version}"


def parse_canonical_uri(uri: str) -> tuple[str, int] | None:
    """``(name, version)`` of an ``nsroot:schemas/<name>/<version>`` URI (fragment allowed), else None."""
    found = _CANONICAL_RE.match(urldefrag(uri)[0])
    return (found[1], int(found[2])) if found else None


_canonical_encode = msgspec.json.Encoder(order="sorted").encode


def canonical_bytes(document: Any) -> bytes:
    """The document as compact JSON with sorted keys: equal documents give equal bytes."""
    return _canonical_encode(document)


def fingerprint(document: Any) -> str:
    """SHA-256 of the canonical bytes: the identity of a schema's content."""
    return hashlib.sha256(canonical_bytes(document)).hexdigest()


def pointer(path: Sequence[str | int]) -> str:
    """An RFC 6901 JSON pointer from path segments."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def dialect_of(document: Any) -> Dialect:
    """The dialect ``document`` declares with ``$schema`` (2020-12 when it declares none)."""
    declared = document.get("$schema") if isinstance(document, dict) else None
    if declared is None:
        return "2020-12"
    if isinstance(declared, str):
        dialect = DIALECT_URIS.get(declared.removesuffix("#"))
        if dialect is not None:
            return dialect
    known = ", ".join(f'"{uri}"' for uri in DIALECT_URIS)
    raise InvalidSchema(
        f"unknown JSON Schema dialect {declared!r}; ns-root serves {known}",
        field="/schema/$schema",
        rule="known-dialect",
    )


def _depth(value: Any, limit: int) -> bool:
    """Whether ``value`` nests containers deeper than ``limit`` (iteratively: no recursion limit)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if level >= limit:
            return True
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return False


def too_deep(value: Any, limit: int) -> bool:
    """Whether a JSON value nests objects and arrays more than ``limit`` levels deep.

    Recursive, but never deeper than ``limit`` (it stops there); per call on a flat
    15-field document it costs about a third of the iterative walk ``_depth`` does."""
    kind = type(value)
    if kind is dict:
        children: Any = value.values()
    elif kind is list:
        children = value
    else:
        return False
    if limit == 0:
        return True
    for child in children:
        kind = type(child)
        if (kind is dict or kind is list) and too_deep(child, limit - 1):
            return True
    return False


def check_document(document: Any, limits: SchemaLimits) -> Dialect:
    """Steps 1-3 of the module docstring; raises InvalidSchema with every error found."""
    if not isinstance(document, (dict, bool)):
        raise InvalidSchema("a schema must be a JSON object or a boolean", field="/schema", rule="type", errors=[])
    size = len(canonical_bytes(document))
    if size > limits.max_schema_bytes:
        raise InvalidSchema(
            f"the schema is {size} bytes; at most {limits.max_schema_bytes} are allowed",
            field="/schema",
            rule="schema-size",
        )
    if _depth(document, limits.max_schema_depth):
        raise InvalidSchema(
            f"the schema nests deeper than {limits.max_schema_depth} levels",
            field="/schema",
            rule="schema-depth",
        )
    dialect = dialect_of(document)
    meta = _meta_validator(dialect)
    errors = errors_of(meta, document, "/schema")
    if errors:
        raise InvalidSchema(
            f"not a valid {dialect} JSON Schema: {len(errors)} meta-schema error(s); "
            f"first {errors[0].field}: {errors[0].detail}",
            field=errors[0].field,
            rule="meta-schema",
            errors=errors,
        )
    return dialect


_META_CACHE: dict[Dialect, jsonschema_rs.Validator] = {}


def _meta_validator(dialect: Dialect) -> jsonschema_rs.Validator:
    found = _META_CACHE.get(dialect)
    if found is None:  # built on first use (not at import): compiling a meta-schema takes ~1 ms
        found = _VALIDATOR[dialect]({"$ref": _META_URI[dialect]}, validate_formats=True)
        _META_CACHE[dialect] = found
    return found


def errors_of(validator: jsonschema_rs.Validator, instance: Any, prefix: str = "") -> list[FieldError]:
    """Every way ``instance`` fails ``validator`` (empty when valid), each with its instance
    path under ``prefix``, keyword, schema path and message."""
    if validator.is_valid(instance):  # the common case, and much cheaper than collecting errors
        return []
    return [
        FieldError(prefix + pointer(e.instance_path), _keyword(e.schema_path), e.message, pointer(e.schema_path))
        for e in validator.iter_errors(instance)
    ]


def _keyword(schema_path: Sequence[str | int]) -> str:
    for part in reversed(schema_path):
        if isinstance(part, str) and not part.isdigit():
            return part
    return "schema"


def _walk(
    node: Any, path: tuple[str | int, ...], base: str | None
) -> Iterator[tuple[tuple[str | int, ...], str, str | None]]:
    """Every ``$ref`` / ``$dynamicRef`` in ``node``: (path, value, base URI in effect)."""
    stack: list[tuple[Any, tuple[str | int, ...], str | None]] = [(node, path, base)]
    while stack:
        current, where, in_effect = stack.pop()
        if isinstance(current, dict):
            declared = current.get("$id")
            if isinstance(declared, str):
                in_effect = urljoin(in_effect, declared) if in_effect else declared
            for key, value in current.items():
                if key in ("$ref", "$dynamicRef") and isinstance(value, str):
                    yield (*where, key), value, in_effect
                elif key not in _DATA_KEYWORDS and isinstance(value, (dict, list)):
                    stack.append((value, (*where, key), in_effect))
        elif isinstance(current, list):
            stack.extend(
                (item, (*where, i), in_effect) for i, item in enumerate(current) if isinstance(item, (dict, list))
            )


def declared_ids(document: Any) -> set[str]:
    """The ``$id`` of the document and of every resource embedded in it (absolute, no fragment)."""
    found: set[str] = set()
    stack: list[tuple[Any, str | None]] = [(document, None)]
    while stack:
        current, base = stack.pop()
        if isinstance(current, dict):
            declared = current.get("$id")
            if isinstance(declared, str):
                base = urljoin(base, declared) if base else declared
                found.add(urldefrag(base)[0])
            stack.extend(
                (value, base)
                for key, value in current.items()
                if key not in _DATA_KEYWORDS and isinstance(value, (dict, list))
            )
        elif isinstance(current, list):
            stack.extend((item, base) for item in current if isinstance(item, (dict, list)))
    return found


@dataclass(frozen=True, slots=True)
class Reference:
    """A ``$ref`` that leaves its document: where it is and the absolute URI it names."""

    pointer: str
    uri: str  # absolute, without fragment


def external_references(document: Any) -> list[Reference]:
    """Every reference that points outside ``document``; raises InvalidSchema for a relative
    reference with no base URI to resolve it against."""
    internal = declared_ids(document)
    found: list[Reference] = []
    for path, value, base in _walk(document, (), None):
        if value.startswith("#"):
            continue
        target = urljoin(base, value) if base else value
        if not urlsplit(target).scheme:
            raise InvalidSchema(
                f'"{value}" is a relative reference and the schema declares no $id to resolve it against; '
                f'use "nsroot:schemas/<name>/<version>" or an absolute URI a registered schema declares',
                field="/schema" + pointer(path),
                rule="ref-resolvable",
            )
        uri = urldefrag(target)[0]
        if uri not in internal:
            found.append(Reference("/schema" + pointer(path), uri))
    return found


def _refuse_network(uri: str) -> Any:
    raise InvalidSchema(f'"{uri}" is not a registered schema; ns-root never fetches a reference from the network')


def compile_validator(
    document: Any, dialect: Dialect, resources: Sequence[tuple[str, Any]], limits: SchemaLimits
) -> jsonschema_rs.Validator:
    """Step 5: a validator for ``document``, its references served from ``resources``
    ((uri, document) pairs) only. Raises InvalidSchema if it does not compile."""
    options = jsonschema_rs.RegexOptions(size_limit=limits.regex_size_limit, dfa_size_limit=limits.regex_size_limit)
    try:
        return _VALIDATOR[dialect](
            document,
            validate_formats=True,
            pattern_options=options,
            retriever=_refuse_network,
            registry=jsonschema_rs.Registry(list(resources)) if resources else None,
        )
    except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError) as exc:
        detail = str(exc).split("\n", 1)[0]
        if "regex" in detail:
            detail += " (ns-root matches patterns in linear time: lookaround and backreferences are not supported)"
        raise InvalidSchema(f"the schema does not compile: {detail}", field="/schema", rule="compiles") from None
