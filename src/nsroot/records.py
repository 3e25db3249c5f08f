"""The namespace record, its writable spec, and how input becomes one.

A :class:`Namespace` is what the registry stores and serves. Callers write only its
:class:`Spec` (kind, owner, state, labels, annotations, metadata); the registry assigns
the id-derived and revision fields. Input arrives as plain decoded JSON and is checked
field by field, collecting every violation (:class:`~nsroot.errors.FieldError`) rather
than stopping at the first, so an agent can fix a request in one round trip.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import msgspec

from nsroot import labels as label_rules
from nsroot import names
from nsroot.errors import FieldError, InvalidInput, NsRootError

State = Literal["active", "deprecated", "retired"]
STATES: Final = ("active", "deprecated", "retired")

#: Fields a caller may write.
SPEC_FIELDS: Final = ("kind", "owner", "state", "labels", "annotations", "metadata")
#: Fields the registry assigns. They may appear in a PUT body (a GET, edited, PUT back),
#: where ``id`` must match and ``mod_revision`` acts as the expected revision.
SYSTEM_FIELDS: Final = (
    "id",
    "parent",
    "create_revision",
    "mod_revision",
    "version",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
)

_KIND_RE: Final = re.compile(r"[a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*)*(?:@[1-9][0-9]{0,8})?\Z")
_SUBJECT_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@:/+=-]*\Z")
MAX_KIND_LEN: Final = 253
MAX_SUBJECT_LEN: Final = 253
MAX_METADATA_DEPTH: Final = 32


class Namespace(msgspec.Struct, frozen=True, kw_only=True):
    """One namespace as stored at ``mod_revision``."""

    id: str
    parent: str | None
    kind: str
    owner: str
    state: str
    labels: dict[str, str]
    annotations: dict[str, str]
    metadata: dict[str, Any]
    create_revision: int
    mod_revision: int
    version: int
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str

    def spec(self) -> Spec:
        return Spec(
            kind=self.kind,
            owner=self.owner,
            state=self.state,
            labels=self.labels,
            annotations=self.annotations,
            metadata=self.metadata,
        )


@dataclass(frozen=True, slots=True)
class Spec:
    """The writable part of a namespace."""

    kind: str
    owner: str | None = None
    state: str = "active"
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "owner": self.owner,
            "state": self.state,
            "labels": self.labels,
            "annotations": self.annotations,
            "metadata": self.metadata,
        }


def first_version(ns_id: str, spec: Spec, subject: str, revision: int, now: str) -> Namespace:
    """The record a create commits at ``revision``; the owner defaults to the creator."""
    return Namespace(
        id=ns_id,
        parent=names.parent_of(ns_id),
        kind=spec.kind,
        owner=spec.owner or subject,
        state=spec.state,
        labels=spec.labels,
        annotations=spec.annotations,
        metadata=spec.metadata,
        create_revision=revision,
        mod_revision=revision,
        version=1,
        created_at=now,
        created_by=subject,
        updated_at=now,
        updated_by=subject,
    )


def next_version(current: Namespace, spec: Spec, subject: str, revision: int, now: str) -> Namespace:
    """The record a change of ``current`` to ``spec`` commits at ``revision``; without an
    owner in the spec the current owner stays."""
    return Namespace(
        id=current.id,
        parent=current.parent,
        kind=spec.kind,
        owner=spec.owner or current.owner,
        state=spec.state,
        labels=spec.labels,
        annotations=spec.annotations,
        metadata=spec.metadata,
        create_revision=current.create_revision,
        mod_revision=revision,
        version=current.version + 1,
        created_at=current.created_at,
        created_by=current.created_by,
        updated_at=now,
        updated_by=subject,
    )


@dataclass(frozen=True, slots=True)
class Limits:
    """Size limits applied to specs. Defaults are documented in docs/configuration.md."""

    max_depth: int = names.DEFAULT_MAX_DEPTH
    max_metadata_bytes: int = 65_536
    max_annotations_bytes: int = 65_536


_encode = msgspec.json.Encoder().encode
_decode_namespace = msgspec.json.Decoder(Namespace).decode


def encode(value: Any) -> bytes:
    """JSON bytes of a record, page or plain value."""
    return _encode(value)


def decode_namespace(doc: bytes) -> Namespace:
    return _decode_namespace(doc)


_DECIMAL: Final = re.compile(r"[0-9]{1,18}\Z")


def parse_decimal(text: str) -> int | None:
    """A non-negative decimal integer of at most 18 ASCII digits (fits SQLite's 64 bits), else None."""
    return int(text) if _DECIMAL.match(text) else None


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _too_deep(value: object, levels_left: int) -> bool:
    """Whether a JSON value nests containers more than ``levels_left`` deep (scalars are free)."""
    if isinstance(value, dict):
        children: Any = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return False
    if levels_left == 0:
        return True
    return any(_too_deep(child, levels_left - 1) for child in children if isinstance(child, (dict, list)))


def check_kind(value: object, pointer: str = "/kind") -> list[FieldError]:
    if not isinstance(value, str):
        return [FieldError(pointer, "type", f"must be a string, got {_type_name(value)}")]
    if len(value) > MAX_KIND_LEN:
        return [FieldError(pointer, "kind-too-long", f"{len(value)} characters, at most {MAX_KIND_LEN}")]
    if not _KIND_RE.match(value):
        return [
            FieldError(
                pointer,
                "kind-syntax",
                f'"{value}" is not a kind: a schema name (dot-separated words of a-z, 0-9 and "-", each '
                'starting with a letter), optionally pinned to a version ("service@3")',
            )
        ]
    return []


def check_subject(value: object, pointer: str) -> list[FieldError]:
    if not isinstance(value, str):
        return [FieldError(pointer, "type", f"must be a string, got {_type_name(value)}")]
    if not value or len(value) > MAX_SUBJECT_LEN or not _SUBJECT_RE.match(value):
        return [
            FieldError(
                pointer,
                "subject-syntax",
                f'"{value}" is not a subject: 1 to {MAX_SUBJECT_LEN} characters of A-Z, a-z, 0-9 and '
                '"._@:/+=-", starting with a letter or digit (e.g. "team:platform")',
            )
        ]
    return []


def _collect(errors: list[FieldError], exc: NsRootError) -> None:
    if exc.errors:
        errors.extend(exc.errors)
    else:
        errors.append(FieldError(exc.field or "", exc.rule or "invalid", exc.detail))


def raise_if(errors: list[FieldError], what: str) -> None:
    """Raise one :class:`InvalidInput` carrying every error, if there are any."""
    if not errors:
        return
    first = errors[0]
    if len(errors) == 1:
        detail = f"{what}: {first.field}: {first.detail}"
    else:
        detail = f"{what}: {len(errors)} errors; first {first.field}: {first.detail}"
    raise InvalidInput(detail, field=first.field, rule=first.rule, errors=errors)


def check_spec(data: dict[str, Any], limits: Limits, errors: list[FieldError]) -> Spec | None:
    """Check the spec fields of ``data`` (already known to be an object); None if any failed."""
    before = len(errors)
    if "kind" not in data:
        errors.append(FieldError("/kind", "required", "is required"))
    else:
        errors.extend(check_kind(data["kind"]))
    owner = data.get("owner")
    if owner is not None:
        errors.extend(check_subject(owner, "/owner"))
    state = data.get("state")
    if state is None:  # absent or null: the default, as for every optional field
        state = "active"
    if state not in STATES:
        errors.append(
            FieldError(
                "/state", "enum", f"must be one of {', '.join(STATES)}; got {msgspec.json.encode(state).decode()}"
            )
        )
    try:
        labels = data.get("labels")
        label_map = label_rules.validate_labels({} if labels is None else labels)
    except NsRootError as exc:
        _collect(errors, exc)
        label_map = {}
    try:
        annotations = data.get("annotations")
        annotation_map = label_rules.validate_annotations(
            {} if annotations is None else annotations, max_bytes=limits.max_annotations_bytes
        )
    except NsRootError as exc:
        _collect(errors, exc)
        annotation_map = {}
    metadata = data.get("metadata")
    if metadata is None:
        metadata = {}
    elif not isinstance(metadata, dict):
        errors.append(FieldError("/metadata", "type", f"must be an object, got {_type_name(metadata)}"))
    else:
        size = len(_encode(metadata))
        if size > limits.max_metadata_bytes:
            errors.append(
                FieldError(
                    "/metadata",
                    "metadata-too-large",
                    f"{size} bytes encoded, at most {limits.max_metadata_bytes}",
                )
            )
        elif _too_deep(metadata, MAX_METADATA_DEPTH):
            errors.append(
                FieldError("/metadata", "metadata-too-deep", f"nested deeper than {MAX_METADATA_DEPTH} levels")
            )
    if len(errors) > before:
        return None
    return Spec(
        kind=data["kind"],
        owner=owner,
        state=state,
        labels=label_map,
        annotations=annotation_map,
        metadata=metadata,
    )


def _check_object(body: object, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput(f"{what}: the body must be a JSON object, got {_type_name(body)}", field="", rule="type")
    return body


def _unknown(data: dict[str, Any], allowed: tuple[str, ...], errors: list[FieldError]) -> None:
    for key in data:
        if key not in allowed:
            errors.append(
                FieldError(
                    label_rules.json_pointer(key),
                    "unknown-field",
                    f'unknown field "{key}"; allowed: {", ".join(allowed)}',
                )
            )


def _spec_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {key: data[key] for key in SPEC_FIELDS if key in data}


def _raise_with_spec(data: dict[str, Any], limits: Limits, errors: list[FieldError]) -> None:
    """If the envelope of a body is wrong, report its spec's errors in the same answer.

    When the envelope is right the spec is checked once, by the registry, on its way in.
    """
    if errors:
        check_spec(data, limits, errors)
        raise_if(errors, "invalid namespace")


@dataclass(frozen=True, slots=True)
class CreateRequest:
    id: str
    spec: dict[str, Any]  # the spec fields, checked by the registry


def parse_create(body: object, limits: Limits) -> CreateRequest:
    """A create body: ``id`` plus the spec fields."""
    data = _check_object(body, "create")
    errors: list[FieldError] = []
    _unknown(data, ("id", *SPEC_FIELDS), errors)
    ns_id = data.get("id")
    if ns_id is None:
        errors.append(FieldError("/id", "required", "is required"))
    else:
        try:
            names.parse_id(ns_id, max_depth=limits.max_depth)
        except NsRootError as exc:
            errors.append(FieldError("/id", exc.rule or "id-syntax", exc.detail))
    _raise_with_spec(data, limits, errors)
    assert isinstance(ns_id, str)
    return CreateRequest(ns_id, _spec_fields(data))


@dataclass(frozen=True, slots=True)
class ReplaceRequest:
    spec: dict[str, Any]  # the spec fields, checked by the registry
    expected_revision: int | None


def parse_replace(body: object, ns_id: str, limits: Limits) -> ReplaceRequest:
    """A PUT body: the spec, optionally with the system fields of a GET answer.

    ``id`` must equal the path's id; ``mod_revision`` becomes the expected revision, as
    ``metadata.resourceVersion`` does in Kubernetes; the other system fields are ignored.
    """
    data = _check_object(body, "replace")
    errors: list[FieldError] = []
    _unknown(data, (*SPEC_FIELDS, *SYSTEM_FIELDS), errors)
    if "id" in data and data["id"] != ns_id:
        errors.append(FieldError("/id", "id-mismatch", f'body id {data["id"]!r} differs from the path id "{ns_id}"'))
    expected = data.get("mod_revision")
    if expected is not None and (not isinstance(expected, int) or isinstance(expected, bool) or expected < 1):
        errors.append(FieldError("/mod_revision", "type", "must be a positive integer"))
    _raise_with_spec(data, limits, errors)
    return ReplaceRequest(_spec_fields(data), expected)


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply an RFC 7396 JSON merge patch to ``target``; neither is modified."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def parse_patch(body: object) -> tuple[dict[str, Any], int | None]:
    """A merge-patch body: spec fields only, plus an optional ``mod_revision`` precondition."""
    data = _check_object(body, "patch")
    errors: list[FieldError] = []
    _unknown(data, (*SPEC_FIELDS, "mod_revision"), errors)
    patch = dict(data)
    expected = patch.pop("mod_revision", None)
    if expected is not None and (not isinstance(expected, int) or isinstance(expected, bool) or expected < 1):
        errors.append(FieldError("/mod_revision", "type", "must be a positive integer"))
    raise_if(errors, "invalid patch")
    return patch, expected


def apply_patch(current: Spec, patch: dict[str, Any], limits: Limits) -> Spec:
    """The spec that results from merging ``patch`` into ``current``, checked."""
    merged = merge_patch(current.to_dict(), patch)
    errors: list[FieldError] = []
    spec = check_spec(merged, limits, errors)
    raise_if(errors, "patch result is invalid")
    assert spec is not None
    return spec
