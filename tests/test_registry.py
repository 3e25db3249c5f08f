"""The registry core, in-process: what the store contract and the model test leave out."""

from __future__ import annotations

import asyncio

import pytest

from nsroot import errors
from nsroot.records import Spec
from nsroot.registry import Registry

SUBJECT = "user:test"


async def tree(registry: Registry, *ids: str, **labels: str) -> None:
    for ns_id in ids:
        await registry.create(ns_id, {"kind": "team", "labels": labels}, subject=SUBJECT)


async def test_create_checks_every_field_at_once(registry: Registry) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        await registry.create(
            "a",
            {"kind": "Bad Kind", "owner": "", "state": "gone", "labels": {"-x": "y"}, "metadata": []},
            subject=SUBJECT,
        )
    fields = {e.field for e in caught.value.errors}
    assert fields == {"/kind", "/owner", "/state", "/labels/-x", "/metadata"}
    assert await registry.revision() == 0


async def test_a_spec_object_is_checked_too(registry: Registry) -> None:
    with pytest.raises(errors.InvalidInput, match="kind"):
        await registry.create("a", Spec(kind="Not A Kind"), subject=SUBJECT)
    record = await registry.create("a", Spec(kind="team", labels={"tier": "gold"}), subject=SUBJECT)
    assert record.owner == SUBJECT


async def test_invalid_id_names_the_segment(registry: Registry) -> None:
    with pytest.raises(errors.InvalidId) as caught:
        await registry.get("platform.Bad_Name")
    assert 'segment 2 "Bad_Name"' in caught.value.detail
    assert caught.value.field == "id"


async def test_depth_limit_is_configurable(registry: Registry) -> None:
    deep = ".".join(f"s{i}" for i in range(9))
    with pytest.raises(errors.InvalidId, match="at most 8"):
        await registry.get(deep)


async def test_patch_merges_and_keeps_the_rest(registry: Registry) -> None:
    await registry.create(
        "a",
        {"kind": "team", "owner": "team:x", "labels": {"tier": "gold", "env": "prod"}, "metadata": {"p": {"q": 1}}},
        subject=SUBJECT,
    )
    record = await registry.patch(
        "a", {"labels": {"env": None, "new": "yes"}, "metadata": {"p": {"r": 2}}}, subject="user:b"
    )
    assert record.labels == {"tier": "gold", "new": "yes"}
    assert record.metadata == {"p": {"q": 1, "r": 2}}
    assert record.owner == "team:x"
    assert (record.version, record.updated_by, record.created_by) == (2, "user:b", SUBJECT)
    with pytest.raises(errors.InvalidInput, match="state"):
        await registry.patch("a", {"state": "bogus"}, subject=SUBJECT)
    with pytest.raises(errors.InvalidInput, match="kind"):
        await registry.patch("a", {"kind": None}, subject=SUBJECT)  # removing a required field


async def test_patch_with_expected_revision_conflicts(registry: Registry) -> None:
    await tree(registry, "a")
    with pytest.raises(errors.Conflict) as caught:
        await registry.patch("a", {"labels": {"x": "1"}}, subject=SUBJECT, expected=5)
    assert (caught.value.expected, caught.value.actual) == (5, 1)


async def test_concurrent_patches_all_land(registry: Registry) -> None:
    await tree(registry, "a")
    await asyncio.gather(*(registry.patch("a", {"labels": {f"k{i}": "v"}}, subject=SUBJECT) for i in range(40)))
    record = await registry.get("a")
    assert len(record.labels) == 40
    assert record.version == 41


async def test_list_pagination_and_selector(registry: Registry) -> None:
    await tree(registry, "a")
    for i in range(25):
        await registry.create(
            f"a.n{i:02d}", {"kind": "team", "labels": {"parity": "even" if i % 2 == 0 else "odd"}}, subject=SUBJECT
        )
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await registry.list(children_of="a", selector="parity=odd", limit=4, cursor=cursor)
        seen.extend(r.id for r in page.items)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [f"a.n{i:02d}" for i in range(1, 25, 2)]
    assert pages == 3
    assert await registry.count(children_of="a", selector="parity=odd") == (12, 26)
    assert await registry.count(prefix="a") == (26, 26)


async def test_list_input_errors(registry: Registry) -> None:
    await tree(registry, "a", "a.b")
    page = await registry.list(limit=1)
    assert page.next_cursor is not None
    with pytest.raises(errors.InvalidCursor, match="different query"):
        await registry.list(prefix="a", cursor=page.next_cursor)
    with pytest.raises(errors.InvalidCursor):
        await registry.list(cursor="not-a-cursor")
    with pytest.raises(errors.InvalidInput, match="limit"):
        await registry.list(limit=0)
    with pytest.raises(errors.InvalidInput, match="not both"):
        await registry.list(prefix="a", children_of="a")
    with pytest.raises(errors.InvalidSelector):
        await registry.list(selector="tier in (gold")
    with pytest.raises(errors.InvalidRevision):
        await registry.list(revision=0)
    with pytest.raises(errors.InvalidRevision, match="future"):
        await registry.list(revision=3)


async def test_history_pages(registry: Registry) -> None:
    await tree(registry, "a")
    for i in range(5):
        await registry.patch("a", {"labels": {"i": str(i)}}, subject=SUBJECT)
    first = await registry.history("a", limit=4)
    assert [v.revision for v in first.items] == [1, 2, 3, 4]
    assert first.next_cursor is not None
    rest = await registry.history("a", cursor=first.next_cursor)
    assert [v.revision for v in rest.items] == [5, 6]
    assert rest.next_cursor is None
    with pytest.raises(errors.NotFound):
        await registry.history("never")


async def test_metrics_record_operations_and_commits(registry: Registry) -> None:
    await tree(registry, "a")
    await registry.get("a")
    with pytest.raises(errors.NotFound):
        await registry.get("b")
    text = registry.metrics.exposition().decode()
    assert 'nsroot_operation_duration_seconds_count{operation="get",outcome="ok"} 1.0' in text
    assert 'nsroot_operation_duration_seconds_count{operation="get",outcome="not-found"} 1.0' in text
    assert 'nsroot_operations_total{operation="create",outcome="ok"} 1.0' in text
    assert "nsroot_store_commit_batch_size_count 1.0" in text
    assert 'le="0.05"' in text


async def test_reads_see_acknowledged_writes_immediately(registry: Registry) -> None:
    await tree(registry, "a")
    for i in range(20):
        await registry.patch("a", {"labels": {"i": str(i)}}, subject=SUBJECT)
        document = await registry.get_document("a")
        assert document.mod_revision == i + 2
        assert document.revision == i + 2
