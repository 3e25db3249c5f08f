"""The schema registry's core: registered schemas, their versions and validators.

``SchemaSet`` keeps every live schema version in memory (they are few and small) and
reloads them whenever the store says a schema changed since it last looked: in one
process that is never (it hears of its own writes before they are acknowledged); with
``serve --workers N`` it is one cheap read per use. Compiled validators are cached by
``(name, version)``. A version number names one document forever (numbers are never
reused), so a cached validator cannot be stale; "latest" is resolved from the current
list of versions on every use, never cached.

Kinds: a namespace's ``kind`` names a schema, optionally pinned (``service@3``); without
a pin the latest version applies. ``admit`` is what the registry's writes call inside
their transaction.
"""

from __future__ import annotations

import asyncio
import builtins
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, cast

import jsonschema_rs
import msgspec

from nsroot import names
from nsroot.errors import (
    FieldError,
    IncompatibleSchema,
    InvalidInput,
    InvalidSchema,
    NotFound,
    NsRootError,
    SchemaViolation,
    UnknownKind,
)
from nsroot.metrics import Metrics
from nsroot.records import Spec
from nsroot.schemas import compat, documents
from nsroot.schemas.compat import Mode
from nsroot.schemas.documents import Dialect, SchemaLimits
from nsroot.store.base import (
    ConfigureSchema,
    DeleteSchema,
    PutSchema,
    SchemaConfig,
    SchemaWritten,
    SetSchemaState,
    Store,
    StoredSchema,
)

VersionState = Literal["active", "deprecated"]
STATES: Final = ("active", "deprecated")
_decode = msgspec.json.decode
_VALIDATOR_CACHE: Final = 4096


@dataclass(frozen=True, slots=True)
class SchemaVersion:
    """One registered version: the stored row with its document parsed."""

    stored: StoredSchema
    document: Any

    @property
    def name(self) -> str:
        return self.stored.name

    @property
    def version(self) -> int:
        return self.stored.version

    @property
    def ref(self) -> str:
        return self.stored.ref

    @property
    def uri(self) -> str:
        return documents.canonical_uri(self.stored.name, self.stored.version)

    def to_dict(self, *, with_document: bool = True) -> dict[str, Any]:
        s = self.stored
        found: dict[str, Any] = {
            "name": s.name,
            "version": s.version,
            "uri": self.uri,
            "state": s.state,
            "dialect": s.dialect,
            "fingerprint": s.fingerprint,
            "references": list(s.references),
            "revision": s.revision,
            "created_by": s.created_by,
            "created_at": s.created_at,
        }
        if with_document:
            found["schema"] = self.document
        return found


@dataclass(slots=True)
class Schema:
    """A schema's settings and its live versions, oldest first."""

    config: SchemaConfig
    versions: list[SchemaVersion] = field(default_factory=list)

    @property
    def latest(self) -> SchemaVersion | None:
        return self.versions[-1] if self.versions else None

    def get(self, version: int) -> SchemaVersion | None:
        for found in self.versions:
            if found.version == version:
                return found
        return None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of validating one document: ``errors`` is empty when it is valid."""

    errors: list[FieldError]

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        if not self.errors:
            return {"valid": True, "errors": []}
        return {"valid": False, "errors": [violation_dict(e) for e in self.errors]}


_VALID: Final = Outcome([])  # shared by every valid document: it is never changed


def violation_dict(error: FieldError) -> dict[str, Any]:
    """A schema violation as the API shows it."""
    return {
        "instance_path": error.field,
        "keyword": error.rule,
        "schema_path": error.schema_path,
        "message": error.detail,
    }


@dataclass(frozen=True, slots=True)
class CompatibilityReport:
    """A dry run: would ``candidate`` be accepted as the next version of a schema?"""

    name: str
    mode: Mode
    compared_with: tuple[int, ...]
    breaking: tuple[compat.Breaking, ...]

    @property
    def compatible(self) -> bool:
        return not self.breaking

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "compatible": self.compatible,
            "mode": self.mode,
            "compared_with": list(self.compared_with),
            "breaking": [b.as_dict() for b in self.breaking],
        }


def parse_name(name: str, field: str = "name") -> str:
    """A schema name: one namespace segment or a dotted name (``service``, ``acme.service``)."""
    try:
        return names.parse_id(name, max_depth=names.DEFAULT_MAX_DEPTH)
    except NsRootError as exc:
        raise InvalidInput(
            f'"{name}" is not a schema name: ' + exc.detail.removeprefix("invalid namespace id: "),
            field=field,
            rule="schema-name",
        ) from None


def parse_mode(value: object, field: str = "/compatibility") -> Mode:
    if value not in compat.MODES:
        raise InvalidInput(
            f"compatibility must be one of {', '.join(compat.MODES)}, got {value!r}", field=field, rule="enum"
        )
    return value


def split_kind(kind: str) -> tuple[str, int | None]:
    """``"service@3"`` -> ("service", 3); ``"service"`` -> ("service", None)."""
    name, at, pin = kind.partition("@")
    return name, (int(pin) if at else None)


class SchemaSet:
    """Registered schemas over a :class:`Store`; loaded by :meth:`load` after the store opens."""

    def __init__(
        self,
        store: Store,
        *,
        limits: SchemaLimits | None = None,
        metrics: Metrics | None = None,
        default_compatibility: Mode = "BACKWARD",
        schemaless_kinds: bool = False,
    ) -> None:
        self.store = store
        self.limits = limits or SchemaLimits()
        self.metrics = metrics or Metrics()
        self.default_compatibility = default_compatibility
        self.schemaless_kinds = schemaless_kinds
        self._schemas: dict[str, Schema] = {}
        self._by_id: dict[str, SchemaVersion] = {}  # a declared $id -> the latest version declaring it
        self._validators: OrderedDict[tuple[str, int], jsonschema_rs.Validator] = OrderedDict()
        self._loaded_at = -1

    # -- state -----------------------------------------------------------------------

    async def load(self) -> None:
        """Read every schema from the store (at open, and after another process changed one)."""
        rows = await self.store.schemas()
        self._install(rows.configs, rows.versions, rows.changed_at)

    def _install(self, configs: Iterable[SchemaConfig], versions: Iterable[StoredSchema], changed_at: int) -> None:
        schemas = {c.name: Schema(c) for c in configs}
        for stored in versions:
            schemas[stored.name].versions.append(SchemaVersion(stored, _decode(stored.document)))
        self._schemas = schemas
        self._validators.clear()  # cheap insurance: a reload is rare, a stale validator is not acceptable
        self._bind_ids()
        self._loaded_at = changed_at

    def _bind_ids(self) -> None:
        """Bind each declared ``$id`` to the live version that declares it and was
        registered last: the same answer in every process and after every reload."""
        by_id: dict[str, SchemaVersion] = {}
        for schema in self._schemas.values():
            for version in schema.versions:
                for declared in documents.declared_ids(version.document):
                    bound = by_id.get(declared)
                    if bound is None or bound.stored.revision < version.stored.revision:
                        by_id[declared] = version
        self._by_id = by_id

    async def _current(self) -> None:
        if self.store.schemas_changed_at() != self._loaded_at:
            await self.load()

    def _apply(self, written: SchemaWritten) -> None:
        """Bring memory up to date with a schema write this process committed."""
        if not written.created:
            return
        schema = self._schemas.get(written.name)
        if written.config is not None:
            if schema is None:
                schema = self._schemas[written.name] = Schema(written.config)
            else:
                schema.config = written.config
        if schema is not None and written.version is not None:
            version = SchemaVersion(written.version, _decode(written.version.document))
            others = [v for v in schema.versions if v.version != version.version]
            schema.versions = sorted([*others, version], key=lambda v: v.version)
        if schema is not None and written.deleted:
            gone = {f"{written.name}@{number}" for number in written.deleted}
            schema.versions = [v for v in schema.versions if v.ref not in gone]
        self._bind_ids()
        # other processes notice the change through schemas_changed_at; this one is current
        if self.store.schemas_changed_at() == written.revision:
            self._loaded_at = written.revision

    # -- reads -----------------------------------------------------------------------

    async def list(self) -> builtins.list[Schema]:
        await self._current()
        return [self._schemas[n] for n in sorted(self._schemas)]

    async def get(self, name: str) -> Schema:
        await self._current()
        return self._schema(parse_name(name))

    def _schema(self, name: str) -> Schema:
        schema = self._schemas.get(name)
        if schema is None:
            raise NotFound(f'schema "{name}" does not exist', field="name", rule="exists")
        return schema

    async def version(self, name: str, version: int | Literal["latest"]) -> SchemaVersion:
        await self._current()
        return self._version(parse_name(name), version)

    def _version(self, name: str, version: int | Literal["latest"] | None) -> SchemaVersion:
        schema = self._schema(name)
        found = schema.latest if version in (None, "latest") else schema.get(cast(int, version))
        if found is None:
            if not schema.versions:
                raise NotFound(f'schema "{name}" has no versions', field="version", rule="exists")
            have = ", ".join(str(v.version) for v in schema.versions)
            raise NotFound(f'schema "{name}" has no version {version} (it has {have})', field="version", rule="exists")
        return found

    def mode_of(self, schema: Schema | None) -> Mode:
        if schema is not None and schema.config.compatibility is not None:
            return cast(Mode, schema.config.compatibility)
        return self.default_compatibility

    # -- registering -----------------------------------------------------------------

    def _prepare(self, name: str, document: Any) -> tuple[Dialect, tuple[str, ...], builtins.list[tuple[str, Any]]]:
        """Check a candidate document: dialect, meta-schema, references. Returns its
        dialect, the versions it references, and the resources compiling it needs."""
        dialect = documents.check_document(document, self.limits)
        for declared in sorted(documents.declared_ids(document)):
            owner = self._by_id.get(declared)
            if owner is not None and owner.name != name:
                raise InvalidSchema(
                    f'$id "{declared}" is already declared by schema "{owner.name}" (version {owner.version}); '
                    "an $id names one schema",
                    field="/schema/$id",
                    rule="id-unique",
                )
        refs: dict[str, SchemaVersion] = {}
        for reference in documents.external_references(document):
            refs[reference.uri] = self._bind(name, reference)
        return dialect, tuple(sorted({v.ref for v in refs.values()})), self._resources(refs.values())

    def _bind(self, name: str, reference: documents.Reference) -> SchemaVersion:
        canonical = documents.parse_canonical_uri(reference.uri)
        if canonical is not None:
            ref_name, ref_version = canonical
            schema = self._schemas.get(ref_name)
            target = schema.get(ref_version) if schema is not None else None
            if target is None:
                if ref_name == name and ref_version == (schema.config.next_version if schema else 1):
                    raise InvalidSchema(
                        f'"{reference.uri}" is this schema\'s own next version: a cyclic reference',
                        field=reference.pointer,
                        rule="ref-acyclic",
                    )
                raise InvalidSchema(
                    f'"{reference.uri}" names no registered schema version', field=reference.pointer, rule="ref-exists"
                )
            return target
        bound = self._by_id.get(reference.uri)
        if bound is None:
            raise InvalidSchema(
                f'"{reference.uri}" is neither a registered schema ("nsroot:schemas/<name>/<version>") nor an $id '
                "a registered schema declares; ns-root never fetches references from the network",
                field=reference.pointer,
                rule="ref-registered",
            )
        if bound.name == name:
            raise InvalidSchema(
                f'"{reference.uri}" is declared by schema "{name}" itself (version {bound.version}); refer to a '
                f'version explicitly with "{bound.uri}"',
                field=reference.pointer,
                rule="ref-acyclic",
            )
        return bound

    def _resources(self, roots: Iterable[SchemaVersion]) -> builtins.list[tuple[str, Any]]:
        """Every version ``roots`` reach through references, each under its canonical URI
        and the ``$id`` it declares."""
        seen: dict[str, SchemaVersion] = {}
        stack = list(roots)
        while stack:
            current = stack.pop()
            if current.ref in seen:
                continue
            seen[current.ref] = current
            for ref in current.stored.references:
                ref_name, ref_version = split_kind(ref)
                target = self._schemas[ref_name].get(cast(int, ref_version)) if ref_name in self._schemas else None
                if target is not None:
                    stack.append(target)
        resources: dict[str, Any] = {}
        for version in seen.values():
            resources[version.uri] = version.document
            for declared in documents.declared_ids(version.document):
                if declared in resources and resources[declared] is not version.document:
                    continue  # two versions declare one $id: the canonical URIs still tell them apart
                resources[declared] = version.document
        return list(resources.items())

    async def _compile(
        self, document: Any, dialect: Dialect, resources: Sequence[tuple[str, Any]]
    ) -> jsonschema_rs.Validator:
        """Compile off the event loop, within the compile timeout."""
        started = time.perf_counter()
        try:
            validator = await asyncio.wait_for(
                asyncio.to_thread(documents.compile_validator, document, dialect, resources, self.limits),
                self.limits.compile_timeout,
            )
        except TimeoutError:
            raise InvalidSchema(
                f"the schema did not compile within {self.limits.compile_timeout} s", field="/schema", rule="compiles"
            ) from None
        self.metrics.schema_compile.observe(time.perf_counter() - started)
        return validator

    async def register(self, name: str, document: Any, *, subject: str) -> tuple[SchemaVersion, bool]:
        """Register ``document`` as the next version of ``name``; returns it and whether it
        is new (an identical live version is returned as it is). Raises InvalidSchema or
        IncompatibleSchema."""
        name = parse_name(name)
        await self._current()
        dialect, references, resources = self._prepare(name, document)
        validator = await self._compile(document, dialect, resources)
        body = documents.canonical_bytes(document)

        def admit(config: SchemaConfig | None, live: Sequence[StoredSchema]) -> None:
            mode = cast(Mode, config.compatibility) if config and config.compatibility else self.default_compatibility
            earlier = [(s.version, _decode(s.document)) for s in live]
            breaking = compat.check(mode, document, earlier)
            if breaking:
                self.metrics.schema_refusals.inc(name, mode)
                raise _incompatible(name, mode, breaking)

        written = await self.store.write_schema(
            PutSchema(
                name,
                body,
                documents.fingerprint(document),
                dialect,
                references,
                subject,
                self.limits.max_versions,
                admit,
            )
        )
        self._apply(written)
        assert written.version is not None
        registered = self._version(name, written.version.version)
        self._validators[(name, registered.version)] = validator if written.created else self._validator(registered)
        return registered, written.created

    async def check(self, name: str, document: Any, *, version: int | None = None) -> CompatibilityReport:
        """Dry run: whether ``document`` would be accepted as the next version of ``name``
        (or, with ``version``, is compatible with that one version), without registering."""
        name = parse_name(name)
        await self._current()
        dialect, _, resources = self._prepare(name, document)
        await self._compile(document, dialect, resources)
        schema = self._schemas.get(name)
        mode = self.mode_of(schema)
        live = schema.versions if schema is not None else []
        if version is not None:
            target = self._version(name, version)
            live = [target]
            mode = cast(Mode, mode.removesuffix("_TRANSITIVE"))
        earlier = [(v.version, v.document) for v in live]
        compared = earlier if mode.endswith("_TRANSITIVE") else earlier[-1:]
        breaking = tuple(compat.check(mode, document, earlier))
        return CompatibilityReport(name, mode, tuple(v for v, _ in compared), breaking)

    async def configure(self, name: str, compatibility: Mode | None, *, subject: str) -> Schema:
        name = parse_name(name)
        written = await self.store.write_schema(ConfigureSchema(name, compatibility, subject))
        self._apply(written)
        return self._schema(name)

    async def set_state(
        self, name: str, version: int, state: VersionState, *, subject: str
    ) -> tuple[SchemaVersion, int]:
        """Mark a version deprecated or active; returns it and the revision the change committed at."""
        name = parse_name(name)
        written = await self.store.write_schema(SetSchemaState(name, version, state, subject))
        self._apply(written)
        return self._version(name, version), written.revision

    async def delete(self, name: str, version: int | None, *, subject: str) -> SchemaWritten:
        """Delete one version, or with ``version`` None the whole schema; raises SchemaInUse."""
        name = parse_name(name)
        written = await self.store.write_schema(DeleteSchema(name, version, subject))
        for number in written.deleted:
            self._validators.pop((name, number), None)
        self._apply(written)
        if version is None:
            self._schemas.pop(name, None)
        return written

    # -- validating ------------------------------------------------------------------

    def _validator(self, version: SchemaVersion) -> jsonschema_rs.Validator:
        key = (version.name, version.version)
        cache = self._validators
        found = cache.get(key)
        if found is not None:
            self.metrics.schema_validators.inc("hit")
            return found
        self.metrics.schema_validators.inc("miss")
        started = time.perf_counter()
        found = documents.compile_validator(
            version.document,
            cast(Dialect, version.stored.dialect),
            self._resources(self._referenced(version)),
            self.limits,
        )
        self.metrics.schema_compile.observe(time.perf_counter() - started)
        if len(cache) >= _VALIDATOR_CACHE:
            cache.popitem(last=False)
        cache[key] = found
        return found

    def _referenced(self, version: SchemaVersion) -> builtins.list[SchemaVersion]:
        found = []
        for ref in version.stored.references:
            ref_name, ref_version = split_kind(ref)
            target = self._schemas[ref_name].get(cast(int, ref_version)) if ref_name in self._schemas else None
            if target is not None:
                found.append(target)
        return found

    def violations(self, version: SchemaVersion, instance: Any, prefix: str = "") -> builtins.list[FieldError]:
        """Every way ``instance`` fails ``version`` (empty when it is valid)."""
        errors = documents.errors_of(self._validator(version), instance, prefix)
        self.metrics.schema_validations.inc(version.name, "invalid" if errors else "valid")
        return errors

    async def validate(
        self, name: str, documents_: Sequence[Any], *, version: int | None = None
    ) -> tuple[SchemaVersion, builtins.list[Outcome]]:
        """Validate each document against ``name`` (its latest version unless ``version``)."""
        if self.store.schemas_changed_at() != self._loaded_at:
            await self.load()
        if len(documents_) > self.limits.max_batch:
            raise InvalidInput(
                f"{len(documents_)} documents in one request; at most {self.limits.max_batch}",
                field="body",
                rule="max-batch",
            )
        schema = self._schemas.get(name)  # a stored name is a valid one: parse only what is not found
        target = self._version(name if schema is not None else parse_name(name), version)
        validator = self._validator(target)
        depth = self.limits.max_document_depth
        outcomes = []
        invalid = 0
        for i, document in enumerate(documents_):
            if documents.too_deep(document, depth):
                where = f"/{i}" if len(documents_) > 1 else ""
                raise InvalidInput(
                    f"document{where} nests deeper than {depth} levels", field=where or "body", rule="max-depth"
                )
            errors = documents.errors_of(validator, document, "")
            if errors:
                invalid += 1
                outcomes.append(Outcome(errors))
            else:
                outcomes.append(_VALID)
        counter = self.metrics.schema_validations
        if invalid:
            counter.add(invalid, target.name, "invalid")
        if invalid < len(outcomes):
            counter.add(len(outcomes) - invalid, target.name, "valid")
        return target, outcomes

    def admit(self, spec: Spec) -> str | None:
        """Check ``spec`` against its kind's schema: returns the admitting version's ref,
        None for a schemaless kind (when allowed); raises UnknownKind or SchemaViolation."""
        name, pin = split_kind(spec.kind)
        schema = self._schemas.get(name)
        if schema is None or not schema.versions:
            if self.schemaless_kinds and pin is None:
                return None
            raise UnknownKind(
                f'kind "{spec.kind}" names no registered schema; register one with POST /v1/schemas/{name}/versions',
                field="/kind",
                rule="kind-has-schema",
            )
        version = schema.latest if pin is None else schema.get(pin)
        if version is None:
            have = ", ".join(str(v.version) for v in schema.versions)
            raise UnknownKind(
                f'kind "{spec.kind}": schema "{name}" has no version {pin} (it has {have})',
                field="/kind",
                rule="kind-has-schema",
            )
        errors = self.violations(version, spec.metadata, "/metadata")
        if errors:
            raise SchemaViolation(
                f'metadata does not match schema "{version.ref}": {len(errors)} error(s); '
                f"first {errors[0].field or '/metadata'}: {errors[0].detail}",
                field=errors[0].field or "/metadata",
                rule=errors[0].rule,
                errors=errors,
                extra={"schema": {"name": name, "version": version.version}},
            )
        return version.ref

    def deprecated(self, kind: str) -> str | None:
        """A warning if ``kind`` resolves to a deprecated schema version, else None."""
        name, pin = split_kind(kind)
        schema = self._schemas.get(name)
        if schema is None:
            return None
        version = schema.latest if pin is None else schema.get(pin)
        if version is None or version.stored.state != "deprecated":
            return None
        return f"schema version {version.ref} is deprecated"

    async def refresh(self) -> None:
        """Reload if another process changed a schema (a no-op in a single process)."""
        await self._current()


def _incompatible(name: str, mode: Mode, breaking: Sequence[compat.Breaking]) -> IncompatibleSchema:
    errors = [FieldError("/schema" + b.pointer, b.rule, b.message()) for b in breaking]
    return IncompatibleSchema(
        f'the new version of "{name}" breaks {mode} compatibility in {len(breaking)} way(s); '
        f"first: {breaking[0].message()}",
        field="/schema",
        rule="compatibility",
        errors=errors,
        extra={"mode": mode, "breaking": [b.as_dict() for b in breaking]},
    )


def decode_body_documents(body: Any) -> builtins.list[Any]:
    """A validation request's documents: an array is a batch, anything else one document."""
    return list(body) if isinstance(body, list) else [body]


__all__ = [
    "STATES",
    "CompatibilityReport",
    "Outcome",
    "Schema",
    "SchemaLimits",
    "SchemaSet",
    "SchemaVersion",
    "VersionState",
    "decode_body_documents",
    "parse_mode",
    "parse_name",
    "split_kind",
]
