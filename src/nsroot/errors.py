"""The errors ns-root raises, one leaf per failure a caller can act on.

Every leaf maps to exactly one HTTP status and one problem ``type`` (RFC 9457); the
table is the class attributes below, and ``docs/errors.md`` lists it for users::

    NsRootError                          500 internal
    ├── InvalidInput                     400 invalid-input
    │   ├── InvalidId                    400 invalid-id
    │   ├── InvalidSelector              400 invalid-selector
    │   ├── InvalidCursor                400 invalid-cursor
    │   └── InvalidRevision              400 invalid-revision
    ├── Unauthenticated                  401 unauthenticated
    ├── Forbidden                        403 forbidden
    ├── NotFound                         404 not-found
    ├── AlreadyExists                    409 already-exists
    ├── Conflict                         409 conflict           (expected revision differs)
    ├── NotEmpty                         409 not-empty          (delete of a non-leaf)
    ├── Compacted                        410 compacted          (revision no longer kept)
    ├── PreconditionFailed               412 precondition-failed (If-Match / If-None-Match)
    ├── PayloadTooLarge                  413 payload-too-large
    ├── UnsupportedMediaType             415 unsupported-media-type
    ├── IncompatibleSchema               409 incompatible-schema (breaks the compatibility mode)
    ├── SchemaInUse                      409 schema-in-use      (delete of a version still used)
    ├── ParentNotFound                   422 parent-not-found
    ├── InvalidSchema                    422 invalid-schema     (not a valid JSON Schema, or a bad $ref)
    ├── UnknownKind                      422 unknown-kind       (a kind that names no schema)
    ├── SchemaViolation                  422 schema-violation   (metadata fails its kind's schema)
    └── Unavailable                      503 unavailable

``field`` names what is at fault: a JSON pointer into the request body (``/labels/app``)
or the name of a query, path or header parameter (``selector``). ``rule`` is a short
stable name of the rule that was broken, for programs to branch on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

PROBLEM_BASE = "urn:nsroot:problem:"


@dataclass(frozen=True, slots=True)
class FieldError:
    """One violation: where (``field``), which rule, and a message for people."""

    field: str
    rule: str
    detail: str
    schema_path: str | None = None  # for a schema violation: where in the schema the rule is

    def to_dict(self) -> dict[str, str]:
        found = {"field": self.field, "rule": self.rule, "detail": self.detail}
        if self.schema_path is not None:
            found["schema_path"] = self.schema_path
        return found


class NsRootError(Exception):
    """Root of every error ns-root raises on purpose."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal"
    title: ClassVar[str] = "Internal error"

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        rule: str | None = None,
        errors: list[FieldError] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.rule = rule
        self.errors = errors or []
        self.extra = extra or {}

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.slug

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        """The RFC 9457 problem document for this error."""
        body: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance is not None:
            body["instance"] = instance
        if self.field is not None:
            body["field"] = self.field
        if self.rule is not None:
            body["rule"] = self.rule
        if self.errors:
            body["errors"] = [e.to_dict() for e in self.errors]
        body.update(self.extra)
        return body

    def at(self, field: str) -> NsRootError:
        """The same error, re-anchored at ``field`` (e.g. a body pointer)."""
        self.field = field
        self.errors = [FieldError(field, e.rule, e.detail, e.schema_path) for e in self.errors]
        return self


class InvalidInput(NsRootError):
    status = 400
    slug = "invalid-input"
    title = "Invalid input"


class InvalidId(InvalidInput):
    slug = "invalid-id"
    title = "Invalid namespace id"


class InvalidSelector(InvalidInput):
    slug = "invalid-selector"
    title = "Invalid label selector"


class InvalidCursor(InvalidInput):
    slug = "invalid-cursor"
    title = "Invalid cursor"


class InvalidRevision(InvalidInput):
    slug = "invalid-revision"
    title = "Invalid revision"


class Unauthenticated(NsRootError):
    status = 401
    slug = "unauthenticated"
    title = "Unauthenticated"


class Forbidden(NsRootError):
    status = 403
    slug = "forbidden"
    title = "Forbidden"


class NotFound(NsRootError):
    status = 404
    slug = "not-found"
    title = "Not found"


class AlreadyExists(NsRootError):
    status = 409
    slug = "already-exists"
    title = "Already exists"


class Conflict(NsRootError):
    """The expected ``mod_revision`` is not the stored one."""

    status = 409
    slug = "conflict"
    title = "Revision conflict"

    def __init__(self, detail: str, *, expected: int, actual: int, **kw: Any) -> None:
        super().__init__(detail, extra={"expected_revision": expected, "actual_revision": actual}, **kw)
        self.expected = expected
        self.actual = actual


class NotEmpty(NsRootError):
    status = 409
    slug = "not-empty"
    title = "Namespace has children"


class Compacted(NsRootError):
    status = 410
    slug = "compacted"
    title = "Revision compacted"


class PreconditionFailed(NsRootError):
    status = 412
    slug = "precondition-failed"
    title = "Precondition failed"


class PayloadTooLarge(NsRootError):
    status = 413
    slug = "payload-too-large"
    title = "Payload too large"


class UnsupportedMediaType(NsRootError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class ParentNotFound(NsRootError):
    status = 422
    slug = "parent-not-found"
    title = "Parent namespace not found"


class IncompatibleSchema(NsRootError):
    """A new schema version breaks its schema's compatibility mode; ``errors`` lists every
    breaking difference and ``extra`` carries the mode and the full differences."""

    status = 409
    slug = "incompatible-schema"
    title = "Incompatible schema"


class SchemaInUse(NsRootError):
    status = 409
    slug = "schema-in-use"
    title = "Schema version in use"


class InvalidSchema(NsRootError):
    status = 422
    slug = "invalid-schema"
    title = "Invalid JSON Schema"


class UnknownKind(NsRootError):
    status = 422
    slug = "unknown-kind"
    title = "Unknown kind"


class SchemaViolation(NsRootError):
    """Metadata (or a document sent for validation) fails its schema; ``errors`` lists
    every violation with its instance path, keyword and schema path."""

    status = 422
    slug = "schema-violation"
    title = "Schema violation"


class Unavailable(NsRootError):
    status = 503
    slug = "unavailable"
    title = "Service unavailable"


ALL_ERRORS: tuple[type[NsRootError], ...] = (
    NsRootError,
    InvalidInput,
    InvalidId,
    InvalidSelector,
    InvalidCursor,
    InvalidRevision,
    Unauthenticated,
    Forbidden,
    NotFound,
    AlreadyExists,
    Conflict,
    NotEmpty,
    Compacted,
    PreconditionFailed,
    PayloadTooLarge,
    UnsupportedMediaType,
    IncompatibleSchema,
    SchemaInUse,
    ParentNotFound,
    InvalidSchema,
    UnknownKind,
    SchemaViolation,
    Unavailable,
)
