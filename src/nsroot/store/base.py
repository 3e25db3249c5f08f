"""The storage contract every backend implements.

A store keeps the current namespaces and every earlier version of them, under one global
revision that rises by one per committed change (as etcd's does). Writes are a small set
of conditional primitives, like an etcd transaction: the registry composes them and the
store checks their preconditions inside the transaction that commits them, so two
writers can never both succeed against the same expected revision.

The contract test suite (``tests/test_store_contract.py``) runs against every backend.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol, runtime_checkable

from nsroot.records import Namespace, Spec

Admit = Callable[[Spec], "str | None"]
"""Called inside the transaction with the spec about to be written: raises an NsRootError
to refuse it (metadata that fails its kind's schema), or returns the schema version that
admitted it (``"<name>@<version>"``, kept beside the record so that a version in use
cannot be deleted), or None for a schemaless kind."""


@dataclass(frozen=True, slots=True)
class Create:
    """Create ``id`` with ``spec``. Fails with AlreadyExists, or ParentNotFound."""

    id: str
    spec: Spec
    subject: str
    admit: Admit | None = None


@dataclass(frozen=True, slots=True)
class Replace:
    """Replace the spec of ``id``. Fails with NotFound, or Conflict when ``expected`` differs."""

    id: str
    spec: Spec
    subject: str
    expected: int | None = None
    admit: Admit | None = None


@dataclass(frozen=True, slots=True)
class Update:
    """Replace the spec of ``id`` with ``change(current record)``, computed inside the
    transaction that commits it, so concurrent updates never lose each other's changes
    and never need a retry. ``change`` may raise an NsRootError to refuse the write.
    Fails with NotFound, or Conflict when ``expected`` differs."""

    id: str
    change: Callable[[Namespace], Spec]
    subject: str
    expected: int | None = None
    admit: Admit | None = None


@dataclass(frozen=True, slots=True)
class Delete:
    """Delete ``id`` (and, if ``recursive``, its subtree) at one revision.

    Fails with NotFound, Conflict when ``expected`` differs, or NotEmpty when it has
    children and ``recursive`` is false.
    """

    id: str
    subject: str
    expected: int | None = None
    recursive: bool = False


@dataclass(frozen=True, slots=True)
class StoredSchema:
    """One version of a schema as stored: immutable but for its ``state``."""

    name: str
    version: int
    document: bytes  # canonical JSON (sorted keys)
    fingerprint: str
    dialect: str
    references: tuple[str, ...]  # the versions it references, as "<name>@<version>"
    state: str  # "active" or "deprecated"
    revision: int  # the revision that registered it
    created_by: str
    created_at: str

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True, slots=True)
class SchemaConfig:
    """A schema's settings; ``compatibility`` None means the registry-wide default."""

    name: str
    compatibility: str | None
    next_version: int
    revision: int
    updated_by: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class PutSchema:
    """Register a new version of schema ``name`` (creating the schema if need be).

    If a live version has the same ``fingerprint``, nothing is written and that version
    is the result (registration is idempotent). Otherwise ``admit(config, live versions)``
    runs inside the transaction and may raise (an incompatible change), and the version
    takes the schema's next number: numbers are never reused. Fails with InvalidSchema
    when a referenced version does not exist or ``max_versions`` live versions exist."""

    name: str
    document: bytes
    fingerprint: str
    dialect: str
    references: tuple[str, ...]
    subject: str
    max_versions: int
    admit: Callable[[SchemaConfig | None, Sequence[StoredSchema]], None]


@dataclass(frozen=True, slots=True)
class ConfigureSchema:
    """Set the compatibility mode of ``name`` (None: back to the default); creates the schema if need be."""

    name: str
    compatibility: str | None
    subject: str


@dataclass(frozen=True, slots=True)
class SetSchemaState:
    """Mark a version "deprecated" or "active" again. Fails with NotFound."""

    name: str
    version: int
    state: str
    subject: str


@dataclass(frozen=True, slots=True)
class DeleteSchema:
    """Delete one version of ``name``, or with ``version`` None the whole schema. Fails
    with NotFound, or SchemaInUse while a namespace's current record was admitted by it
    or another version references it."""

    name: str
    version: int | None
    subject: str


SchemaWrite = PutSchema | ConfigureSchema | SetSchemaState | DeleteSchema


@dataclass(frozen=True, slots=True)
class SchemaWritten:
    """What a committed schema write did. ``created`` is False when a registration found
    an identical live version (and ``revision`` is then that version's)."""

    revision: int
    name: str
    version: StoredSchema | None = None
    config: SchemaConfig | None = None
    created: bool = True
    deleted: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class SchemaRows:
    """Every schema and live version, and the revision of the last schema change."""

    configs: tuple[SchemaConfig, ...]
    versions: tuple[StoredSchema, ...]
    changed_at: int


Write = Create | Replace | Update | Delete


@dataclass(frozen=True, slots=True)
class Written:
    """What a committed write did: the record it left (None for a delete), the ids it
    deleted, and the revision it committed at."""

    revision: int
    record: Namespace | None = None
    deleted: tuple[str, ...] = ()
    document: bytes | None = None  # ``record`` encoded as stored, when the backend has it


class Document(NamedTuple):
    """A stored record as encoded JSON, for answering without re-encoding.

    A NamedTuple rather than a frozen dataclass: one is built per GET, and it is three
    times cheaper to build."""

    body: bytes
    mod_revision: int
    revision: int  # the store revision the read reflects


@dataclass(frozen=True, slots=True)
class Scope:
    """Which namespaces a list covers: a subtree, direct children, or everything."""

    prefix: str | None = None  # the namespace and all its descendants
    children_of: str | None = None  # direct children only; "" means the roots

    def key(self) -> str:
        return f"p={self.prefix}|c={self.children_of}"


@dataclass(frozen=True, slots=True)
class Version:
    """One entry of a namespace's history; ``record`` is None for a deletion."""

    id: str
    revision: int
    record: Namespace | None


@runtime_checkable
class Store(Protocol):
    """Durable storage of namespaces and their history."""

    async def open(self) -> None:
        """Create or migrate the storage and start background work."""

    async def close(self) -> None:
        """Finish pending writes and release resources; the store cannot be reused."""

    async def ping(self) -> None:
        """Raise Unavailable unless storage answers."""

    async def revision(self) -> int:
        """The latest committed revision."""

    async def compacted_revision(self) -> int:
        """Revisions below this one are no longer kept."""

    async def write(self, op: Write) -> Written:
        """Commit one write durably; returns only after commit."""

    def get_document(self, id: str) -> Document | None:
        """The current record of ``id``, encoded; a cheap synchronous read."""

    async def get_at(self, id: str, revision: int) -> Namespace | None:
        """``id`` as it was at ``revision``: raises Compacted or InvalidRevision."""

    async def scan(
        self, scope: Scope, after: str | None, limit: int, revision: int | None
    ) -> tuple[Sequence[Namespace], int]:
        """Up to ``limit`` records of ``scope`` with id > ``after``, in id order, as of
        ``revision`` (None: the latest). Returns the records and the revision read."""

    async def count(self, scope: Scope, revision: int | None) -> tuple[int, int]:
        """How many records ``scope`` holds at ``revision``, and the revision read."""

    async def history(self, id: str, after: int, limit: int) -> tuple[Sequence[Version], int]:
        """Versions of ``id`` with revision > ``after``, oldest first, and the current revision."""

    async def compact(self, revision: int) -> int:
        """Drop history older than ``revision`` (keeping what a read at ``revision``
        needs); returns how many versions were dropped."""

    async def write_schema(self, op: SchemaWrite) -> SchemaWritten:
        """Commit one schema write durably (it takes a revision like any change)."""

    def schemas_changed_at(self) -> int:
        """The revision of the last schema change; cheap and synchronous, so a process can
        tell whether its schemas are current before it uses them."""

    async def schemas(self) -> SchemaRows:
        """Every schema and live schema version."""
