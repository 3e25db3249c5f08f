"""The registry core: every namespace operation, as plain async Python.

The HTTP API and the CLI are thin adapters over :class:`Registry`; so are the benchmarks.
It checks input, composes the store's conditional writes, and measures each operation::

    async with Registry(SQLiteStore(SQLiteOptions(Path("ns.db")))) as registry:
        await registry.create("platform", {"kind": "team"}, subject="user:alice")
        ns = await registry.get("platform")
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import Any, Final, ParamSpec, TypeVar

import msgspec

from nsroot import labels, names, records
from nsroot.errors import (
    FieldError,
    InvalidCursor,
    InvalidInput,
    InvalidRevision,
    NotFound,
    NsRootError,
)
from nsroot.metrics import Metrics
from nsroot.records import Limits, Namespace, Spec
from nsroot.schemas import schemaset
from nsroot.schemas.schemaset import SchemaSet
from nsroot.store.base import Create, Delete, Document, Replace, Scope, Store, Update, Version

DEFAULT_PAGE: Final = 100
MAX_PAGE: Final = 1000

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list, all read at ``revision``; pass ``next_cursor`` for the next."""

    items: Sequence[Namespace]
    next_cursor: str | None
    revision: int


@dataclass(frozen=True, slots=True)
class HistoryPage:
    items: Sequence[Version]
    next_cursor: str | None
    revision: int


@dataclass(frozen=True, slots=True)
class Deleted:
    ids: tuple[str, ...]
    revision: int


@dataclass(frozen=True, slots=True)
class Failing:
    """A namespace whose current metadata fails a schema version, and how."""

    id: str
    kind: str
    mod_revision: int
    errors: list[FieldError]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "mod_revision": self.mod_revision,
            "errors": [schemaset.violation_dict(e) for e in self.errors],
        }


@dataclass(frozen=True, slots=True)
class Report:
    """A page of the namespaces of a kind that fail a schema version; ``scanned`` counts
    the namespaces this page looked at (of every kind), all at ``revision``."""

    schema: str
    version: int
    items: Sequence[Failing]
    scanned: int
    next_cursor: str | None
    revision: int


class _Cursor(msgspec.Struct, frozen=True):
    v: int  # format version
    r: int  # the revision every page is read at
    a: str  # the last id (or revision, for history) already returned
    q: str  # the query the cursor belongs to


def _encode_cursor(cursor: _Cursor) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(cursor)).rstrip(b"=").decode()


def _decode_cursor(text: str, query: str) -> _Cursor:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        cursor = msgspec.json.decode(raw, type=_Cursor)
    except (binascii.Error, ValueError, msgspec.DecodeError) as exc:
        raise InvalidCursor(
            "cursor is not one this server issued; pass next_cursor unchanged", field="cursor", rule="cursor-format"
        ) from exc
    if cursor.v != 1 or not 0 <= cursor.r < 2**63:
        raise InvalidCursor("cursor is not one this server issued", field="cursor", rule="cursor-format")
    if cursor.q != query:
        raise InvalidCursor(
            "cursor belongs to a different query; repeat the query parameters of the first page",
            field="cursor",
            rule="cursor-query",
        )
    return cursor


def _page_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_PAGE
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be an integer from 1 to {MAX_PAGE}, got {limit!r}", field="limit", rule="range")
    return limit


def check_revision(revision: int | None) -> int | None:
    if revision is None:
        return None
    if isinstance(revision, bool) or not isinstance(revision, int) or revision < 1:
        raise InvalidRevision(
            f"revision must be a positive integer, got {revision!r}", field="revision", rule="positive-integer"
        )
    return revision


def _measured(operation: str) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Record the duration and outcome of a Registry method in its metrics."""

    def wrap(method: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @wraps(method)
        async def measured(*args: P.args, **kwargs: P.kwargs) -> R:
            metrics: Metrics = args[0].metrics  # type: ignore[attr-defined]
            started = time.perf_counter()
            outcome = "ok"
            try:
                return await method(*args, **kwargs)
            except NsRootError as exc:
                outcome = exc.slug
                raise
            except BaseException:
                outcome = "error"
                raise
            finally:
                metrics.observe_operation(operation, outcome, time.perf_counter() - started)

        return measured

    return wrap


class Registry:
    """Namespaces with revisions and history, over any :class:`Store`.

    Opened and closed with ``async with`` (or :meth:`open` / :meth:`close`), which opens
    and closes the store too.
    """

    def __init__(
        self,
        store: Store,
        *,
        limits: Limits | None = None,
        metrics: Metrics | None = None,
        schemas: SchemaSet | None = None,
        schemaless_kinds: bool = False,
    ) -> None:
        """``schemas`` holds the schemas that namespace metadata is validated against;
        without it, a SchemaSet over the same store with default settings, refusing kinds
        that name no schema unless ``schemaless_kinds``."""
        self.store = store
        self.limits = limits or Limits()
        self.metrics = metrics or Metrics()
        self.schemas = schemas or SchemaSet(store, metrics=self.metrics, schemaless_kinds=schemaless_kinds)

    async def open(self) -> None:
        await self.store.open()
        try:
            await self.schemas.load()
        except BaseException:
            await self.store.close()
            raise

    async def close(self) -> None:
        await self.store.close()

    async def __aenter__(self) -> Registry:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- input -----------------------------------------------------------------------

    def _id(self, text: str, field: str = "id") -> str:
        try:
            return names.parse_id(text, max_depth=self.limits.max_depth)
        except NsRootError as exc:
            raise exc.at(field) from None

    def _spec(self, spec: Spec | Mapping[str, Any]) -> Spec:
        data = spec.to_dict() if isinstance(spec, Spec) else dict(spec)
        if isinstance(spec, Spec) and spec.owner is None:
            data.pop("owner")
        errors: list[FieldError] = []
        checked = records.check_spec(data, self.limits, errors)
        records.raise_if(errors, "invalid namespace")
        assert checked is not None
        return checked

    # -- writes ----------------------------------------------------------------------

    @_measured("create")
    async def create(self, id: str, spec: Spec | Mapping[str, Any], *, subject: str) -> Namespace:
        """Create namespace ``id``; its parent must exist (unless it is a root)."""
        ns_id, checked = self._id(id, "/id"), self._spec(spec)
        await self.schemas.refresh()
        written = await self.store.write(Create(ns_id, checked, subject, self.schemas.admit))
        assert written.record is not None
        return written.record

    @_measured("replace")
    async def replace(
        self, id: str, spec: Spec | Mapping[str, Any], *, subject: str, expected: int | None = None
    ) -> Namespace:
        """Replace the spec of ``id``; if ``expected`` is given, only at that mod_revision."""
        ns_id, checked = self._id(id), self._spec(spec)
        await self.schemas.refresh()
        written = await self.store.write(Replace(ns_id, checked, subject, expected, self.schemas.admit))
        assert written.record is not None
        return written.record

    @_measured("patch")
    async def patch(self, id: str, patch: Mapping[str, Any], *, subject: str, expected: int | None = None) -> Namespace:
        """Apply an RFC 7396 merge patch to the spec of ``id``.

        The merge happens inside the storage transaction, against the record as it is
        at commit, so concurrent patches all land; with ``expected``, only at that
        mod_revision.
        """
        changes = dict(patch)
        limits = self.limits

        def merged(current: Namespace) -> Spec:
            return records.apply_patch(current.spec(), changes, limits)

        await self.schemas.refresh()
        written = await self.store.write(Update(self._id(id), merged, subject, expected, self.schemas.admit))
        assert written.record is not None
        return written.record

    @_measured("delete")
    async def delete(self, id: str, *, subject: str, recursive: bool = False, expected: int | None = None) -> Deleted:
        """Delete a leaf, or with ``recursive`` the whole subtree, at one revision."""
        written = await self.store.write(Delete(self._id(id), subject, expected, recursive))
        return Deleted(written.deleted, written.revision)

    @_measured("compact")
    async def compact(self, revision: int) -> int:
        """Forget history before ``revision``; reads at earlier revisions then fail."""
        checked = check_revision(revision)
        assert checked is not None
        return await self.store.compact(checked)

    # -- reads -----------------------------------------------------------------------

    async def _current(self, ns_id: str) -> Namespace:
        document = self.store.get_document(ns_id)
        if document is None:
            raise NotFound(f'namespace "{ns_id}" does not exist')
        return records.decode_namespace(document.body)

    async def get_document(self, id: str) -> Document:
        """The current record of ``id`` as stored JSON bytes, with its revisions.

        The hottest call of the product (every HTTP GET): measured inline rather than
        through ``_measured``, which costs a coroutine frame more.
        """
        started = time.perf_counter()
        try:
            ns_id = self._id(id)
            document = self.store.get_document(ns_id)
            if document is None:
                raise NotFound(f'namespace "{ns_id}" does not exist')
        except NsRootError as exc:
            self.metrics.observe_operation("get", exc.slug, time.perf_counter() - started)
            raise
        self.metrics.observe_operation("get", "ok", time.perf_counter() - started)
        return document

    @_measured("get")
    async def get(self, id: str, *, revision: int | None = None) -> Namespace:
        """The record of ``id`` now, or as it was at ``revision``."""
        ns_id = self._id(id)
        at = check_revision(revision)
        if at is None:
            return await self._current(ns_id)
        record = await self.store.get_at(ns_id, at)
        if record is None:
            raise NotFound(f'namespace "{ns_id}" did not exist at revision {at}')
        return record

    def _scope(self, prefix: str | None, children_of: str | None) -> Scope:
        if prefix is not None and children_of is not None:
            raise InvalidInput("give prefix or children_of, not both", field="children_of", rule="exclusive")
        if prefix:
            return Scope(prefix=self._id(prefix, "prefix"))
        if children_of is not None:
            return Scope(children_of=self._id(children_of, "children_of") if children_of else "")
        return Scope()

    @_measured("list")
    async def list(
        self,
        *,
        prefix: str | None = None,
        children_of: str | None = None,
        selector: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        revision: int | None = None,
    ) -> Page:
        """A page of namespaces in id order: a subtree (``prefix``), direct children
        (``children_of``; ``""`` for the roots) or all, filtered by a label ``selector``.

        Every page of one listing is read at the revision of the first, so a listing
        is a consistent snapshot however the registry changes between pages.
        """
        scope = self._scope(prefix, children_of)
        match = labels.parse_selector(selector or "")
        size = _page_limit(limit)
        at = check_revision(revision)
        query = f"{scope.key()}|s={match}"
        after: str | None = None
        if cursor:
            state = _decode_cursor(cursor, query)
            at, after = state.r, state.a
        items: list[Namespace] = []
        more = False
        want = size + 1 if not match.requirements else max(size * 2, 64)
        while True:
            batch, at = await self.store.scan(scope, after, want, at)
            for record in batch:
                if match.matches(record.labels):
                    if len(items) == size:
                        more = True
                        break
                    items.append(record)
                after = record.id
            if more or len(batch) < want:
                break
        next_cursor = _encode_cursor(_Cursor(1, at, items[-1].id, query)) if more else None
        return Page(items, next_cursor, at)

    @_measured("schema_report")
    async def schema_report(
        self,
        name: str,
        version: int | str = "latest",
        *,
        limit: int | None = None,
        cursor: str | None = None,
        scan: int = 10_000,
    ) -> Report:
        """The namespaces whose kind is schema ``name`` (pinned or not) and whose current
        metadata would fail ``version`` of it: what a new version would break.

        A page stops after ``limit`` failing namespaces or ``scan`` namespaces looked at,
        whichever comes first; every page reads at the first page's revision.
        """
        target = await self.schemas.version(name, "latest" if version == "latest" else int(version))
        size = _page_limit(limit)
        query = f"report|{target.ref}"
        at: int | None = None
        after: str | None = None
        if cursor:
            state = _decode_cursor(cursor, query)
            at, after = state.r, state.a
        items: list[Failing] = []
        scanned = 0
        exhausted = False
        while not exhausted and len(items) < size and scanned < scan:
            want = min(500, scan - scanned)
            batch, at = await self.store.scan(Scope(), after, want, at)
            consumed = 0
            for record in batch:
                consumed += 1
                after = record.id
                if schemaset.split_kind(record.kind)[0] == target.name:
                    errors = self.schemas.violations(target, record.metadata, "/metadata")
                    if errors:
                        items.append(Failing(record.id, record.kind, record.mod_revision, errors))
                        if len(items) == size:
                            break
            scanned += consumed
            exhausted = len(batch) < want and consumed == len(batch)
        more = not exhausted
        assert at is not None
        next_cursor = _encode_cursor(_Cursor(1, at, after, query)) if more and after is not None else None
        return Report(target.name, target.version, items, scanned, next_cursor, at)

    @_measured("count")
    async def count(
        self,
        *,
        prefix: str | None = None,
        children_of: str | None = None,
        selector: str | None = None,
        revision: int | None = None,
    ) -> tuple[int, int]:
        """How many namespaces a list with these filters would return, and the revision."""
        scope = self._scope(prefix, children_of)
        match = labels.parse_selector(selector or "")
        at = check_revision(revision)
        if not match.requirements:
            return await self.store.count(scope, at)
        total, after = 0, None
        while True:
            batch, at = await self.store.scan(scope, after, MAX_PAGE, at)
            total += sum(1 for record in batch if match.matches(record.labels))
            if len(batch) < MAX_PAGE:
                return total, at
            after = batch[-1].id

    @_measured("history")
    async def history(self, id: str, *, limit: int | None = None, cursor: str | None = None) -> HistoryPage:
        """Every kept version of ``id``, oldest first, including deletions."""
        ns_id = self._id(id)
        size = _page_limit(limit)
        query = f"history|{ns_id}"
        after = 0
        if cursor:
            decoded = records.parse_decimal(_decode_cursor(cursor, query).a)
            if decoded is None:
                raise InvalidCursor("cursor is not one this server issued", field="cursor", rule="cursor-format")
            after = decoded
        versions, current = await self.store.history(ns_id, after, size + 1)
        if not versions and not cursor:
            raise NotFound(f'namespace "{ns_id}" has no history (never created, or compacted away)')
        more = len(versions) > size
        items = versions[:size]
        next_cursor = _encode_cursor(_Cursor(1, current, str(items[-1].revision), query)) if more else None
        return HistoryPage(items, next_cursor, current)

    @_measured("revision")
    async def revision(self) -> int:
        """The latest committed revision."""
        return await self.store.revision()
