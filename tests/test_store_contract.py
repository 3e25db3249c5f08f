"""The storage contract: every backend passes the same suite.

To add a backend, add a factory to ``BACKENDS``; nothing else here should change.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from nsroot.errors import (
    AlreadyExists,
    Compacted,
    Conflict,
    InvalidRevision,
    NotEmpty,
    NotFound,
    ParentNotFound,
    Unavailable,
)
from nsroot.records import Namespace, Spec
from nsroot.store.base import Create, Delete, Replace, Scope, Store, Update
from nsroot.store.sqlite import SQLiteOptions, SQLiteStore

BACKENDS: dict[str, Callable[[Path], Store]] = {
    "sqlite": lambda tmp: SQLiteStore(SQLiteOptions(tmp / "contract.db")),
    "sqlite-shared": lambda tmp: SQLiteStore(SQLiteOptions(tmp / "contract.db", exclusive=False)),
    "sqlite-process-crash": lambda tmp: SQLiteStore(SQLiteOptions(tmp / "contract.db", durability="process-crash")),
}

SUBJECT = "user:test"


@pytest.fixture(params=sorted(BACKENDS))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    backend = BACKENDS[request.param](tmp_path)
    await backend.open()
    try:
        yield backend
    finally:
        await backend.close()


def spec(kind: str = "team", **labels: str) -> Spec:
    return Spec(kind=kind, labels=dict(labels))


async def create(store: Store, ns_id: str, **labels: str) -> int:
    written = await store.write(Create(ns_id, spec(**labels), SUBJECT))
    return written.revision


def test_implements_protocol(tmp_path: Path) -> None:
    for factory in BACKENDS.values():
        assert isinstance(factory(tmp_path), Store)


async def test_revisions_rise_by_one_per_write(store: Store) -> None:
    assert await store.revision() == 0
    assert await create(store, "a") == 1
    assert await create(store, "a.b") == 2
    written = await store.write(Replace("a", spec("org"), SUBJECT))
    assert written.revision == 3
    assert written.record is not None
    assert (written.record.create_revision, written.record.mod_revision, written.record.version) == (1, 3, 2)
    assert await store.revision() == 3


async def test_create_fills_system_fields(store: Store) -> None:
    written = await store.write(Create("a", Spec(kind="team", owner="team:x"), SUBJECT))
    record = written.record
    assert record is not None
    assert record.parent is None
    assert record.owner == "team:x"
    assert record.created_by == record.updated_by == SUBJECT
    assert record.created_at == record.updated_at
    assert record.created_at.endswith("Z")
    child = (await store.write(Create("a.b", spec(), "user:other"))).record
    assert child is not None
    assert child.parent == "a"
    assert child.owner == "user:other"  # no owner given: the creator


async def test_create_refuses_duplicates_and_orphans(store: Store) -> None:
    await create(store, "a")
    with pytest.raises(AlreadyExists):
        await create(store, "a")
    with pytest.raises(ParentNotFound):
        await create(store, "x.y")
    assert await store.revision() == 1  # refused writes use no revision


async def test_replace_checks_expected_revision(store: Store) -> None:
    await create(store, "a")
    with pytest.raises(Conflict) as caught:
        await store.write(Replace("a", spec("org"), SUBJECT, expected=7))
    assert (caught.value.expected, caught.value.actual) == (7, 1)
    written = await store.write(Replace("a", spec("org"), "user:b", expected=1))
    assert written.record is not None
    assert written.record.updated_by == "user:b"
    assert written.record.created_by == SUBJECT
    with pytest.raises(NotFound):
        await store.write(Replace("nope", spec(), SUBJECT))


async def test_delete_leaf_only_unless_recursive(store: Store) -> None:
    for ns_id in ("a", "a.b", "a.b.c", "ab"):
        await create(store, ns_id)
    with pytest.raises(NotEmpty):
        await store.write(Delete("a", SUBJECT))
    with pytest.raises(Conflict):
        await store.write(Delete("a", SUBJECT, expected=99, recursive=True))
    deleted = await store.write(Delete("a", SUBJECT, recursive=True))
    assert deleted.deleted == ("a", "a.b", "a.b.c")
    assert deleted.revision == 5  # one revision for the whole subtree
    assert store.get_document("a.b") is None
    assert store.get_document("ab") is not None  # not a descendant: a segment boundary
    with pytest.raises(NotFound):
        await store.write(Delete("a", SUBJECT))


async def test_get_document_is_current(store: Store) -> None:
    await create(store, "a")
    document = store.get_document("a")
    assert document is not None
    assert (document.mod_revision, document.revision) == (1, 1)
    await create(store, "b")
    document = store.get_document("a")
    assert document is not None
    assert (document.mod_revision, document.revision) == (1, 2)
    await store.write(Replace("a", spec("org"), SUBJECT))
    document = store.get_document("a")
    assert document is not None
    assert document.mod_revision == 3
    assert b'"org"' in document.body
    await store.write(Delete("a", SUBJECT))
    assert store.get_document("a") is None


async def test_get_at_revision(store: Store) -> None:
    await create(store, "a", v="1")
    await store.write(Replace("a", spec(v="2"), SUBJECT))
    await store.write(Delete("a", SUBJECT))
    await create(store, "a", v="3")
    seen = [await store.get_at("a", revision) for revision in (1, 2, 3, 4)]
    assert [r.labels["v"] if r else None for r in seen] == ["1", "2", None, "3"]
    with pytest.raises(InvalidRevision):
        await store.get_at("a", 5)


async def test_scan_scopes_and_order(store: Store) -> None:
    for ns_id in ("b", "a", "a.x", "a.b", "a.b.c", "ab", "a-b"):
        if ns_id == "a.b.c":
            await create(store, "a.b.c")
        else:
            await create(store, ns_id)

    async def ids(scope: Scope, after: str | None = None, limit: int = 100) -> list[str]:
        records, _ = await store.scan(scope, after, limit, None)
        return [r.id for r in records]

    assert await ids(Scope()) == sorted(["b", "a", "a.x", "a.b", "a.b.c", "ab", "a-b"])
    assert await ids(Scope(prefix="a")) == ["a", "a.b", "a.b.c", "a.x"]
    assert await ids(Scope(children_of="a")) == ["a.b", "a.x"]
    assert await ids(Scope(children_of="")) == ["a", "a-b", "ab", "b"]
    assert await ids(Scope(prefix="a"), after="a.b", limit=2) == ["a.b.c", "a.x"]
    count, revision = await store.count(Scope(prefix="a"), None)
    assert (count, revision) == (4, 7)


async def test_scan_at_revision_is_a_snapshot(store: Store) -> None:
    await create(store, "a")
    await create(store, "a.one")
    snapshot = await store.revision()
    await create(store, "a.two")
    await store.write(Replace("a.one", spec("changed"), SUBJECT))
    await store.write(Delete("a.one", SUBJECT))
    records, at = await store.scan(Scope(prefix="a"), None, 100, snapshot)
    assert at == snapshot
    assert [(r.id, r.kind) for r in records] == [("a", "team"), ("a.one", "team")]
    assert (await store.count(Scope(children_of="a"), snapshot))[0] == 1
    records, _ = await store.scan(Scope(prefix="a"), None, 100, None)
    assert [r.id for r in records] == ["a", "a.two"]


async def test_history_keeps_every_version(store: Store) -> None:
    await create(store, "a")
    await store.write(Replace("a", spec("org"), SUBJECT))
    await store.write(Delete("a", SUBJECT))
    versions, current = await store.history("a", 0, 100)
    assert current == 3
    assert [(v.revision, v.record.version if v.record else None) for v in versions] == [(1, 1), (2, 2), (3, None)]
    later, _ = await store.history("a", 1, 1)
    assert [v.revision for v in later] == [2]


async def test_compaction(store: Store) -> None:
    await create(store, "a", v="1")  # 1
    await store.write(Replace("a", spec(v="2"), SUBJECT))  # 2
    await create(store, "gone")  # 3
    await store.write(Delete("gone", SUBJECT))  # 4
    await store.write(Replace("a", spec(v="3"), SUBJECT))  # 5
    with pytest.raises(InvalidRevision):
        await store.compact(6)
    dropped = await store.compact(4)
    assert dropped == 3  # a@1, gone@3 and gone's tombstone@4; a@2 is what a read at 4 needs
    assert await store.compacted_revision() == 4
    assert await store.compact(3) == 0  # already done: idempotent
    with pytest.raises(Compacted):
        await store.get_at("a", 3)
    at_four = await store.get_at("a", 4)
    assert at_four is not None
    assert at_four.labels == {"v": "2"}
    assert await store.get_at("gone", 4) is None
    with pytest.raises(Compacted):
        await store.scan(Scope(), None, 10, 2)
    versions, _ = await store.history("a", 0, 10)
    assert [v.revision for v in versions] == [2, 5]


async def test_group_commit_under_concurrency(store: Store) -> None:
    await create(store, "load")
    results = await asyncio.gather(
        *(store.write(Create(f"load.n{i}", spec(), SUBJECT)) for i in range(300)),
        store.write(Create("load.n7", spec(), SUBJECT)),  # a duplicate in the same burst
        return_exceptions=True,
    )
    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == 1
    assert isinstance(failures[0], AlreadyExists)
    revisions = sorted(r.revision for r in results if not isinstance(r, BaseException))
    assert revisions == list(range(2, 302))  # unique and gapless: one per successful write
    assert (await store.count(Scope(children_of="load"), None))[0] == 300


async def test_closed_store_refuses_use(tmp_path: Path) -> None:
    closed = SQLiteStore(SQLiteOptions(tmp_path / "c.db"))
    await closed.open()
    await closed.close()
    with pytest.raises(Unavailable):
        await closed.write(Create("a", spec(), SUBJECT))
    with pytest.raises(Unavailable):
        closed.get_document("a")
    with pytest.raises(Unavailable):
        await closed.open()


async def test_exclusive_store_locks_the_file(tmp_path: Path) -> None:
    first = SQLiteStore(SQLiteOptions(tmp_path / "x.db"))
    await first.open()
    try:
        with pytest.raises(Unavailable, match="another nsroot process"):
            await SQLiteStore(SQLiteOptions(tmp_path / "x.db", exclusive=False)).open()
    finally:
        await first.close()
    shared = [SQLiteStore(SQLiteOptions(tmp_path / "x.db", exclusive=False)) for _ in range(2)]
    for s in shared:
        await s.open()
    try:
        await shared[0].write(Create("a", spec(), SUBJECT))
        assert shared[1].get_document("a") is not None  # shared stores read SQLite, never a stale cache
        await shared[1].write(Replace("a", spec("org"), SUBJECT))
        document = shared[0].get_document("a")
        assert document is not None
        assert document.mod_revision == 2
    finally:
        for s in shared:
            await s.close()


async def test_data_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    async with SQLiteStore(SQLiteOptions(path)) as first:
        await first.write(Create("a", spec(), SUBJECT))
        await first.write(Replace("a", spec("org"), SUBJECT))
    async with SQLiteStore(SQLiteOptions(path)) as second:
        assert await second.revision() == 2
        document = second.get_document("a")
        assert document is not None
        assert document.mod_revision == 2
        assert (await second.write(Create("b", spec(), SUBJECT))).revision == 3


async def test_update_computes_inside_the_transaction(store: Store) -> None:
    await create(store, "a")

    def add_label(i: int) -> Callable[[Namespace], Spec]:
        def change(current: Namespace) -> Spec:
            return Spec(kind=current.kind, labels={**current.labels, f"k{i}": "v"})

        return change

    def refuse(current: Namespace) -> Spec:
        raise InvalidRevision("refused by the change", rule="test")

    results = await asyncio.gather(
        *(store.write(Update("a", add_label(i), SUBJECT)) for i in range(30)),
        store.write(Update("a", refuse, SUBJECT)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, InvalidRevision) for r in results) == 1
    document = store.get_document("a")
    assert document is not None
    assert document.mod_revision == 31  # every update landed, none lost another's label
    with pytest.raises(Conflict):
        await store.write(Update("a", add_label(99), SUBJECT, expected=1))
    with pytest.raises(NotFound):
        await store.write(Update("b", add_label(1), SUBJECT))


async def test_a_batch_sees_its_own_deletes(store: Store) -> None:
    await create(store, "p")
    assert store.get_document("p") is not None  # now cached, where the store keeps a cache
    deleted, orphan = await asyncio.gather(
        store.write(Delete("p", SUBJECT)),
        store.write(Create("p.child", spec(), SUBJECT)),  # committed in the same group as the delete
        return_exceptions=True,
    )
    assert not isinstance(deleted, BaseException)
    assert isinstance(orphan, ParentNotFound)
    assert store.get_document("p.child") is None
    await create(store, "q")
    child, refused = await asyncio.gather(
        store.write(Create("q.child", spec(), SUBJECT)),
        store.write(Delete("q", SUBJECT)),
        return_exceptions=True,
    )
    assert not isinstance(child, BaseException)
    assert isinstance(refused, NotEmpty)
