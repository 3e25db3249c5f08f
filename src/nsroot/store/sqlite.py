"""SQLite storage: one file, WAL mode, group commit, versioned migrations.

Writes are committed in groups. Each write joins a queue on the event loop; one flush
task takes everything queued, applies it in one transaction (each write at the next
revision) and commits once, so 256 concurrent writers cost a handful of fsyncs, not 256.
The statements of a batch run on the loop (they touch only SQLite's page cache: tens of
microseconds a write); only the ``COMMIT``, which waits for the disk, runs on a thread,
and the next batch gathers while it does. A write is answered only after its commit.

Why not a writer thread doing everything: Python's sqlite3 releases the GIL around every
statement, so a writer thread must win the GIL back several times per write from a busy
event loop, waiting up to the switch interval (5 ms) each time. On one core that capped
durable creates near 3,000/s with a 15 ms commit; here the fsync is the only hand-off.

Reads of one current record run synchronously on the event loop's own connection: a
primary-key lookup in WAL mode takes a few microseconds and never waits for the writer,
which is cheaper than a hop to a thread. Longer reads (lists, history, reads at an old
revision) run on a small reader pool.

Durability (``Durability``):

- ``power-loss`` (default): ``synchronous=FULL``; each group commit fsyncs the WAL, so an
  acknowledged write survives a crash of the process, the OS or the machine.
- ``process-crash``: ``synchronous=NORMAL``; the WAL is fsynced only at checkpoints. An
  acknowledged write survives ``kill -9`` of the server, but the last commits may be lost
  if the machine loses power.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from nsroot import names
from nsroot.errors import (
    AlreadyExists,
    Compacted,
    Conflict,
    InvalidRevision,
    NotEmpty,
    NotFound,
    NsRootError,
    ParentNotFound,
    Unavailable,
    UnknownKind,
)
from nsroot.records import Namespace, Spec, decode_namespace, encode, first_version, next_version
from nsroot.store import sqlite_schemas
from nsroot.store.base import (
    Admit,
    Create,
    Delete,
    DeleteSchema,
    Document,
    Replace,
    SchemaRows,
    SchemaWrite,
    SchemaWritten,
    Scope,
    Store,
    Update,
    Version,
    Write,
    Written,
)

log = logging.getLogger(__name__)

Durability = Literal["power-loss", "process-crash"]
_SYNCHRONOUS: Final = {"power-loss": "FULL", "process-crash": "NORMAL"}

CommitObserver = Callable[[float, int], None]
"""Called by the writer after each commit with (seconds, batch size)."""


@dataclass(frozen=True, slots=True)
class SQLiteOptions:
    path: Path
    durability: Durability = "power-loss"
    max_batch: int = 512
    busy_timeout_ms: int = 10_000
    readers: int = 2
    #: True: this process is the only one using the file (enforced with a lock), so
    #: current records are cached in memory and kept coherent by the writer. False:
    #: several processes share the file (``serve --workers N``) and every read asks SQLite.
    exclusive: bool = True
    cache_entries: int = 100_000


@dataclass(frozen=True, slots=True)
class _Compact:
    revision: int


_Job = tuple[Write | SchemaWrite | _Compact, asyncio.Future[Any]]
_ALONE: Final = (_Compact, DeleteSchema)  # writes that run alone, on the commit thread

_GET_CURRENT: Final = (
    "SELECT h.doc, n.mod_revision, (SELECT value FROM meta WHERE key = 'revision') "
    "FROM namespaces n JOIN history h ON h.id = n.id AND h.revision = n.mod_revision WHERE n.id = ?"
)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _migrations() -> list[tuple[int, str, str]]:
    folder = resources.files("nsroot.store").joinpath("migrations")
    found = []
    for item in folder.iterdir():
        if item.name.endswith(".sql"):
            version = int(item.name.split("_", 1)[0])
            found.append((version, item.name, item.read_text(encoding="utf-8")))
    return sorted(found)


def _connect(path: Path, options: SQLiteOptions) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=options.busy_timeout_ms / 1000)
    conn.execute(f"PRAGMA busy_timeout = {int(options.busy_timeout_ms)}")
    conn.execute(f"PRAGMA synchronous = {_SYNCHRONOUS[options.durability]}")
    conn.execute("PRAGMA cache_size = -32768")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _scope_sql(scope: Scope, table: str) -> tuple[str, tuple[str, ...]]:
    if scope.children_of:  # the id range lets history, which has no parent index, use its id index
        lo, hi = names.subtree_bounds(scope.children_of)
        return f"({table}.id > ? AND {table}.id < ? AND {table}.parent = ?)", (lo, hi, scope.children_of)
    if scope.children_of is not None:
        return f"{table}.parent = ?", (scope.children_of,)
    if scope.prefix is not None:
        lo, hi = names.subtree_bounds(scope.prefix)
        return f"({table}.id = ? OR ({table}.id > ? AND {table}.id < ?))", (scope.prefix, lo, hi)
    return "1", ()


_AT_REVISION: Final = (
    "h.deleted = 0 AND h.revision = (SELECT max(h2.revision) FROM history h2 WHERE h2.id = h.id AND h2.revision <= ?)"
)


class SQLiteStore:
    """The embedded default store. Use ``async with SQLiteStore(options)``."""

    def __init__(self, options: SQLiteOptions, *, on_commit: CommitObserver | None = None) -> None:
        self.options = options
        self._on_commit = on_commit
        self._pending: list[_Job] = []
        self._flusher: asyncio.Task[None] | None = None
        self._committer: ThreadPoolExecutor | None = None
        self._wconn: sqlite3.Connection | None = None
        self._rconn: sqlite3.Connection | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._pool_conns: list[sqlite3.Connection] = []
        self._pool_lock = threading.Lock()
        self._state = "new"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock_file: int | None = None
        self._cache: dict[str, tuple[bytes, int]] | None = None
        self._revision = 0
        self._schemas_changed = 0

    async def __aenter__(self) -> SQLiteStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- lifecycle -------------------------------------------------------------------

    async def open(self) -> None:
        if self._state != "new":
            raise Unavailable(f"store is {self._state}; open a new SQLiteStore")
        path = self.options.path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_file = _lock(path, exclusive=self.options.exclusive)
        try:
            self._wconn = await asyncio.to_thread(self._open_writer, path)
            self._rconn = _connect(path, self.options)
            self._revision = self._rconn.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()[0]
            self._schemas_changed = sqlite_schemas.changed_at(self._rconn)
        except sqlite3.Error as exc:
            os.close(self._lock_file)
            raise Unavailable(f"cannot open SQLite database {path}: {exc}") from exc
        self._loop = asyncio.get_running_loop()
        self._cache = {} if self.options.exclusive and self.options.cache_entries > 0 else None
        self._pool = ThreadPoolExecutor(self.options.readers, thread_name_prefix="nsroot-read")
        self._committer = ThreadPoolExecutor(1, thread_name_prefix="nsroot-commit")
        # From here on BEGIN must not wait on the loop: a busy database is waited for on a thread.
        self._wconn.execute("PRAGMA busy_timeout = 0")
        self._state = "open"

    def _open_writer(self, path: Path) -> sqlite3.Connection:
        conn = _connect(path, self.options)
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise sqlite3.OperationalError(f"could not enable WAL mode (got {mode})")
        self._migrate(conn)
        return conn

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            for version, name, sql in _migrations():
                if version <= current:
                    continue
                log.info("applying migration %s", name)
                for statement in sql.split(";\n"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    async def close(self) -> None:
        if self._state != "open":
            self._state = "closed"
            return
        self._state = "closing"
        if self._flusher is not None:
            await asyncio.shield(self._flusher)  # every queued write is committed or refused first
        for pool in (self._pool, self._committer):
            if pool is not None:
                pool.shutdown(wait=True)
        with self._pool_lock:
            for conn in self._pool_conns:
                conn.close()
            self._pool_conns.clear()
        for own in (self._rconn, self._wconn):
            if own is not None:
                own.close()
        if self._lock_file is not None:
            os.close(self._lock_file)  # releases the flock
        self._state = "closed"

    def _require_open(self) -> None:
        if self._state != "open":
            raise Unavailable(f"store is {self._state}")

    async def ping(self) -> None:
        self._require_open()
        assert self._rconn is not None
        try:
            self._rconn.execute("SELECT value FROM meta WHERE key = 'revision'").fetchall()
        except sqlite3.Error as exc:
            raise Unavailable(f"SQLite is not answering: {exc}") from exc

    # -- writes ----------------------------------------------------------------------

    async def write(self, op: Write) -> Written:
        result: Written = await self._submit(op)
        return result

    async def compact(self, revision: int) -> int:
        result: int = await self._submit(_Compact(revision))
        return result

    async def write_schema(self, op: SchemaWrite) -> SchemaWritten:
        result: SchemaWritten = await self._submit(op)
        return result

    async def _submit(self, op: Write | SchemaWrite | _Compact) -> Any:
        self._require_open()
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            raise RuntimeError("a SQLiteStore is used from the event loop that opened it only")
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((op, future))
        if self._flusher is None:
            self._flusher = loop.create_task(self._flush(), name="nsroot-group-commit")
        return await future

    async def _flush(self) -> None:
        """Commit queued writes, a batch at a time, until none are left."""
        try:
            while self._pending:
                batch = self._take_batch()
                if isinstance(batch[0][0], _ALONE):
                    await self._commit_alone(batch[0])
                else:
                    await self._commit(batch)
        finally:
            self._flusher = None

    def _take_batch(self) -> list[_Job]:
        pending = self._pending
        if isinstance(pending[0][0], _ALONE):  # a compaction or a schema delete runs alone, on a thread
            return [pending.pop(0)]
        size = 1
        limit = min(len(pending), self.options.max_batch)
        while size < limit and not isinstance(pending[size][0], _ALONE):
            size += 1
        batch = pending[:size]
        del pending[:size]
        return batch

    async def _begin(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if not _busy(exc):
                raise
        # another process holds the write lock (``--workers N``): wait for it off the loop
        await asyncio.get_running_loop().run_in_executor(self._committer, self._begin_waiting, conn)

    def _begin_waiting(self, conn: sqlite3.Connection) -> None:
        deadline = time.monotonic() + self.options.busy_timeout_ms / 1000
        pause = 0.0005
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _busy(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.02)

    @staticmethod
    def _finish(conn: sqlite3.Connection) -> None:
        """COMMIT (the fsync happens here); on failure roll back so nothing of the batch stays."""
        try:
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    async def _commit(self, batch: list[_Job]) -> None:
        conn = self._wconn
        assert conn is not None
        started = time.perf_counter()
        results: list[Any] = []
        try:
            await self._begin(conn)
            try:
                revision = conn.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()[0]
                now = _now()
                for op, _ in batch:
                    try:
                        written = self._apply(conn, op, revision + 1, now)  # type: ignore[arg-type]
                    except NsRootError as exc:
                        results.append(exc)
                        continue
                    except sqlite3.IntegrityError as exc:  # a constraint the checks before it should have caught
                        results.append(Unavailable(f"storage refused the write: {exc}"))
                        continue
                    results.append(written)
                    revision = max(revision, written.revision)  # an idempotent no-op takes no revision
                conn.execute("UPDATE meta SET value = ? WHERE key = 'revision'", (revision,))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            await asyncio.get_running_loop().run_in_executor(self._committer, self._finish, conn)
        except Exception as exc:  # the whole batch fails as one, and nothing of it is kept
            log.exception("commit of %d writes failed", len(batch))
            failure = Unavailable(f"storage commit failed, nothing was written: {exc}")
            results = [failure] * len(batch)
        if self._on_commit is not None:
            self._on_commit(time.perf_counter() - started, len(batch))
        self._committed([(future, result) for (_, future), result in zip(batch, results, strict=True)])

    async def _commit_alone(self, job: _Job) -> None:
        """A write that may scan whole tables (a compaction; a schema delete, which must
        find the namespaces a version admitted) runs alone, in its own transaction, on the
        commit thread: the event loop keeps serving reads meanwhile."""
        op, future = job
        assert isinstance(op, _ALONE)
        conn = self._wconn
        assert conn is not None

        def run() -> Any:
            self._begin_waiting(conn)
            try:
                current = conn.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()[0]
                if isinstance(op, _Compact):
                    result: Any = self._apply_compact(conn, op.revision, current)
                else:
                    result = sqlite_schemas.apply(conn, op, current + 1, _now())
                    conn.execute("UPDATE meta SET value = ? WHERE key = 'revision'", (current + 1,))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self._finish(conn)
            return result

        what = "compaction" if isinstance(op, _Compact) else "schema delete"
        result: Any
        try:
            result = await asyncio.get_running_loop().run_in_executor(self._committer, run)
        except NsRootError as exc:
            result = exc
        except Exception as exc:
            log.exception("%s failed", what)
            result = Unavailable(f"{what} failed, nothing was changed: {exc}")
        self._committed([(future, result)])

    def _committed(self, settled: list[tuple[asyncio.Future[Any], Any]]) -> None:
        """On the store's loop: bring the cache up to date, then acknowledge the writes.

        Every cache change happens here or in a read on this same loop, so a read that
        cached a record just before a commit is corrected before the write is answered.
        """
        cache = self._cache
        for future, result in settled:
            if isinstance(result, SchemaWritten) and result.created:
                self._revision = max(self._revision, result.revision)
                self._schemas_changed = max(self._schemas_changed, result.revision)
            elif isinstance(result, Written):
                self._revision = max(self._revision, result.revision)
                if cache is not None:
                    if result.record is not None and result.document is not None:
                        cache[result.record.id] = (result.document, result.revision)
                    for ns_id in result.deleted:
                        cache.pop(ns_id, None)
            if future.done():  # the caller was cancelled; the write stands regardless
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

    def _apply(
        self, conn: sqlite3.Connection, op: Write | SchemaWrite, revision: int, now: str
    ) -> Written | SchemaWritten:
        if isinstance(op, Create):
            return self._apply_create(conn, op, revision, now)
        if isinstance(op, Replace | Update):
            return self._apply_replace(conn, op, revision, now)
        if isinstance(op, Delete):
            return self._apply_delete(conn, op, revision)
        # a savepoint, so that a refused schema write leaves nothing of itself in the batch
        conn.execute("SAVEPOINT schema_write")
        try:
            written = sqlite_schemas.apply(conn, op, revision, now)
        except BaseException:
            conn.execute("ROLLBACK TO schema_write")
            conn.execute("RELEASE schema_write")
            raise
        conn.execute("RELEASE schema_write")
        return written

    @staticmethod
    def _keep(conn: sqlite3.Connection, record: Namespace) -> bytes:
        """Append ``record`` to history; returns it encoded."""
        doc = encode(record)
        conn.execute(
            "INSERT INTO history (id, revision, parent, deleted, doc) VALUES (?, ?, ?, 0, ?)",
            (record.id, record.mod_revision, record.parent or "", doc),
        )
        return doc

    def _apply_create(self, conn: sqlite3.Connection, op: Create, revision: int, now: str) -> Written:
        parent = names.parent_of(op.id)
        if parent is not None and not conn.execute("SELECT 1 FROM namespaces WHERE id = ?", (parent,)).fetchone():
            raise ParentNotFound(
                f'parent "{parent}" of "{op.id}" does not exist; create it first',
                field="/id",
                rule="parent-exists",
            )
        schema_ref = _admitted(op.admit, op.spec)
        try:  # the primary key is the existence check: one statement fewer per create
            conn.execute(
                "INSERT INTO namespaces (id, parent, mod_revision, schema_ref) VALUES (?, ?, ?, ?)",
                (op.id, parent or "", revision, schema_ref),
            )
        except sqlite3.IntegrityError as exc:
            if "FOREIGN KEY" in str(exc):
                raise _schema_gone(schema_ref) from None
            raise AlreadyExists(f'namespace "{op.id}" already exists', field="/id", rule="unique-id") from None
        record = first_version(op.id, op.spec, op.subject, revision, now)
        return Written(revision, record, document=self._keep(conn, record))

    @staticmethod
    def _current(conn: sqlite3.Connection, ns_id: str, expected: int | None) -> tuple[bytes, int]:
        row = conn.execute(
            "SELECT h.doc, n.mod_revision FROM namespaces n "
            "JOIN history h ON h.id = n.id AND h.revision = n.mod_revision WHERE n.id = ?",
            (ns_id,),
        ).fetchone()
        if row is None:
            raise NotFound(f'namespace "{ns_id}" does not exist')
        if expected is not None and expected != row[1]:
            raise Conflict(
                f'namespace "{ns_id}" is at mod_revision {row[1]}, not the expected {expected}',
                expected=expected,
                actual=row[1],
            )
        return row[0], row[1]

    def _apply_replace(self, conn: sqlite3.Connection, op: Replace | Update, revision: int, now: str) -> Written:
        doc, _ = self._current(conn, op.id, op.expected)
        current = decode_namespace(doc)
        spec = op.spec if isinstance(op, Replace) else op.change(current)
        schema_ref = _admitted(op.admit, spec)
        record = next_version(current, spec, op.subject, revision, now)
        try:
            conn.execute(
                "UPDATE namespaces SET mod_revision = ?, schema_ref = ? WHERE id = ?", (revision, schema_ref, record.id)
            )
        except sqlite3.IntegrityError:
            raise _schema_gone(schema_ref) from None
        return Written(revision, record, document=self._keep(conn, record))

    def _apply_delete(self, conn: sqlite3.Connection, op: Delete, revision: int) -> Written:
        self._current(conn, op.id, op.expected)
        lo, hi = names.subtree_bounds(op.id)
        descendants = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM namespaces WHERE id > ? AND id < ? ORDER BY id", (lo, hi)
            ).fetchall()
        ]
        if descendants and not op.recursive:
            shown = ", ".join(descendants[:5]) + (" …" if len(descendants) > 5 else "")
            raise NotEmpty(
                f'namespace "{op.id}" has {len(descendants)} descendants ({shown}); '
                "delete them first or delete recursively",
                field="recursive",
                rule="leaf-only",
            )
        deleted = (op.id, *descendants)
        conn.execute("DELETE FROM namespaces WHERE id = ? OR (id > ? AND id < ?)", (op.id, lo, hi))
        conn.executemany(
            "INSERT INTO history (id, revision, parent, deleted, doc) VALUES (?, ?, ?, 1, NULL)",
            [(ns_id, revision, names.parent_of(ns_id) or "") for ns_id in deleted],
        )
        return Written(revision, None, deleted)

    @staticmethod
    def _apply_compact(conn: sqlite3.Connection, target: int, current: int) -> int:
        if target > current:
            raise InvalidRevision(
                f"cannot compact to revision {target}: the current revision is {current}",
                field="revision",
                rule="not-future",
            )
        done = conn.execute("SELECT value FROM meta WHERE key = 'compacted'").fetchone()[0]
        if target <= done:
            return 0
        latest = "(SELECT max(h2.revision) FROM history h2 WHERE h2.id = history.id AND h2.revision <= ?)"
        dropped = conn.execute(
            f"DELETE FROM history WHERE revision < ? AND revision < {latest}", (target, target)
        ).rowcount
        dropped += conn.execute(
            f"DELETE FROM history WHERE deleted = 1 AND revision <= ? AND revision = {latest}", (target, target)
        ).rowcount
        conn.execute("UPDATE meta SET value = ? WHERE key = 'compacted'", (target,))
        return int(dropped)

    # -- reads -----------------------------------------------------------------------

    def schemas_changed_at(self) -> int:
        if self._cache is not None:  # the only process writing: its own count is current
            return self._schemas_changed
        if self._rconn is None or self._state != "open":
            raise Unavailable(f"store is {self._state}")
        try:
            return sqlite_schemas.changed_at(self._rconn)
        except sqlite3.Error as exc:
            raise Unavailable(f"SQLite read failed: {exc}") from exc

    async def schemas(self) -> SchemaRows:
        rows: SchemaRows = await self._read(sqlite_schemas.read_rows)
        return rows

    def get_document(self, id: str) -> Document | None:
        cache = self._cache
        if cache is not None:
            hit = cache.get(id)
            if hit is not None:
                return Document(hit[0], hit[1], self._revision)
        if self._rconn is None or self._state != "open":
            raise Unavailable(f"store is {self._state}")
        try:
            rows = self._rconn.execute(_GET_CURRENT, (id,)).fetchall()
        except sqlite3.Error as exc:
            raise Unavailable(f"SQLite read failed: {exc}") from exc
        if not rows:
            return None
        body, mod_revision, revision = rows[0]
        if cache is not None:
            if len(cache) >= self.options.cache_entries:
                del cache[next(iter(cache))]  # evict the oldest entry
            cache[id] = (body, mod_revision)
        return Document(body, mod_revision, max(revision, self._revision))

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.options.path, self.options)
            self._local.conn = conn
            with self._pool_lock:
                self._pool_conns.append(conn)
        return conn

    async def _read(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        self._require_open()
        assert self._pool is not None

        def run() -> Any:
            conn = self._reader()
            try:
                conn.execute("BEGIN")
                try:
                    return fn(conn)
                finally:
                    conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise Unavailable(f"SQLite read failed: {exc}") from exc

        return await asyncio.get_running_loop().run_in_executor(self._pool, run)

    @staticmethod
    def _bounds(conn: sqlite3.Connection, revision: int | None) -> tuple[int, bool]:
        """The revision to read at, and whether it is the latest (so the current table serves)."""
        current, compacted = (
            row[0]
            for row in conn.execute("SELECT value FROM meta WHERE key IN ('revision', 'compacted') ORDER BY key DESC")
        )
        if revision is None or revision == current:
            return current, True
        if revision > current:
            raise InvalidRevision(
                f"revision {revision} is in the future; the current revision is {current}",
                field="revision",
                rule="not-future",
            )
        if revision < compacted:
            raise Compacted(
                f"revision {revision} has been compacted; the oldest revision kept is {compacted}",
                field="revision",
                rule="not-compacted",
                extra={"compacted_revision": compacted},
            )
        return revision, False

    async def revision(self) -> int:
        value: int = await self._read(lambda c: self._bounds(c, None)[0])
        return value

    async def compacted_revision(self) -> int:
        value: int = await self._read(
            lambda c: c.execute("SELECT value FROM meta WHERE key = 'compacted'").fetchone()[0]
        )
        return value

    async def get_at(self, id: str, revision: int) -> Namespace | None:
        def run(conn: sqlite3.Connection) -> Namespace | None:
            at, _ = self._bounds(conn, revision)
            row = conn.execute(
                "SELECT deleted, doc FROM history WHERE id = ? AND revision <= ? ORDER BY revision DESC LIMIT 1",
                (id, at),
            ).fetchone()
            if row is None or row[0]:
                return None
            return decode_namespace(row[1])

        result: Namespace | None = await self._read(run)
        return result

    async def scan(
        self, scope: Scope, after: str | None, limit: int, revision: int | None
    ) -> tuple[Sequence[Namespace], int]:
        def run(conn: sqlite3.Connection) -> tuple[list[Namespace], int]:
            at, latest = self._bounds(conn, revision)
            where, params = _scope_sql(scope, "n" if latest else "h")
            if latest:
                sql = (
                    f"SELECT h.doc FROM namespaces n JOIN history h ON h.id = n.id AND h.revision = n.mod_revision "
                    f"WHERE {where} AND n.id > ? ORDER BY n.id LIMIT ?"
                )
                args: tuple[Any, ...] = (*params, after or "", limit)
            else:
                sql = f"SELECT doc FROM history h WHERE {where} AND h.id > ? AND {_AT_REVISION} ORDER BY h.id LIMIT ?"
                args = (*params, after or "", at, limit)
            return [decode_namespace(row[0]) for row in conn.execute(sql, args)], at

        result: tuple[list[Namespace], int] = await self._read(run)
        return result

    async def count(self, scope: Scope, revision: int | None) -> tuple[int, int]:
        def run(conn: sqlite3.Connection) -> tuple[int, int]:
            at, latest = self._bounds(conn, revision)
            if latest:
                where, params = _scope_sql(scope, "n")
                sql = f"SELECT count(*) FROM namespaces n WHERE {where}"
                args: tuple[Any, ...] = params
            else:
                where, params = _scope_sql(scope, "h")
                sql = f"SELECT count(*) FROM history h WHERE {where} AND {_AT_REVISION}"
                args = (*params, at)
            return int(conn.execute(sql, args).fetchone()[0]), at

        result: tuple[int, int] = await self._read(run)
        return result

    async def history(self, id: str, after: int, limit: int) -> tuple[Sequence[Version], int]:
        def run(conn: sqlite3.Connection) -> tuple[list[Version], int]:
            current, _ = self._bounds(conn, None)
            rows = conn.execute(
                "SELECT revision, deleted, doc FROM history WHERE id = ? AND revision > ? ORDER BY revision LIMIT ?",
                (id, after, limit),
            ).fetchall()
            versions = [Version(id, rev, None if deleted else decode_namespace(doc)) for rev, deleted, doc in rows]
            return versions, current

        result: tuple[list[Version], int] = await self._read(run)
        return result


def _admitted(admit: Admit | None, spec: Spec) -> str | None:
    return None if admit is None else admit(spec)


def _schema_gone(schema_ref: str | None) -> NsRootError:
    return UnknownKind(
        f'schema version "{schema_ref}" was deleted while this write was in flight; retry',
        field="/kind",
        rule="kind-has-schema",
    )


def _busy(exc: sqlite3.OperationalError) -> bool:
    return getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or (
        "locked" in str(exc) or "busy" in str(exc)
    )


def _lock(path: Path, *, exclusive: bool) -> int:
    """Hold a lock beside the database, as etcd locks its data directory: an exclusive
    store must be the file's only user (its cache depends on it); shared stores
    (several worker processes) may coexist with each other but not with an exclusive one.
    The kernel drops the lock when the process dies, even by kill -9."""
    fd = os.open(str(path) + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        how = "exclusively" if exclusive else "shared"
        raise Unavailable(
            f"cannot open {path} {how}: another nsroot process is using it "
            "(stop it, or run several workers of one `nsroot serve --workers N`)"
        ) from None
    return fd


if TYPE_CHECKING:

    def _conforms(store: SQLiteStore) -> Store:
        return store
