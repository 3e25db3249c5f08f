"""The HTTP API in-process: every endpoint through httpx's ASGI transport.

Each test gets a fresh store (the ``client`` fixture of conftest.py), so revisions start
at 0 and every write below bumps the global revision by exactly one.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from httpkit import assert_problem, assert_sane, fuzz_settings, json_values, nested, revision_now, samples

NS = "/v1/namespaces"
MIB = 1 << 20


# -- helpers ----------------------------------------------------------------------------


def url(ns_id: str, suffix: str = "") -> str:
    return f"{NS}/{ns_id}{suffix}"


def etag(revision: int) -> str:
    return f'"{revision}"'


async def create(client: httpx.AsyncClient, ns_id: str, kind: str = "team", **spec: Any) -> dict[str, Any]:
    response = await client.post(NS, json={"id": ns_id, "kind": kind, **spec})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def stored(client: httpx.AsyncClient) -> tuple[Any, Any]:
    """Everything a request could have changed: the revisions and every record."""
    revision = await client.get("/v1/revision")
    listing = await client.get(NS, params={"limit": 1000})
    assert revision.status_code == 200
    assert listing.status_code == 200
    return revision.json(), listing.json()["items"]


async def list_ids(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get(NS, params={"limit": 1000, **params})
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return [item["id"] for item in response.json()["items"]]


def forge_cursor(r: int, a: str, q: str, v: int = 1) -> str:
    """A cursor in the server's format (base64url of {v, r, a, q}) with chosen contents."""
    raw = json.dumps({"v": v, "r": r, "a": a, "q": q}).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def nested_list(depth: int) -> list[Any]:
    value: list[Any] = [1]
    for _ in range(depth - 1):
        value = [value]
    return value


# -- POST /v1/namespaces --------------------------------------------------------------


async def test_create_answers_201_with_record_location_etag_and_revision(client: httpx.AsyncClient) -> None:
    response = await client.post(
        NS, json={"id": "acme", "kind": "team", "owner": "team:acme", "labels": {"tier": "web"}}
    )
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    assert response.headers["location"] == "/v1/namespaces/acme"
    assert response.headers["etag"] == '"1"'
    assert response.headers["nsroot-revision"] == "1"
    body = response.json()
    assert body["id"] == "acme"
    assert body["parent"] is None
    assert body["kind"] == "team"
    assert body["owner"] == "team:acme"
    assert body["state"] == "active"
    assert body["labels"] == {"tier": "web"}
    assert body["annotations"] == {}
    assert body["metadata"] == {}
    assert body["create_revision"] == body["mod_revision"] == 1
    assert body["version"] == 1
    assert body["created_by"] == body["updated_by"] == "anonymous"
    assert body["created_at"] == body["updated_at"]


async def test_create_child_records_parent_and_defaults_owner(client: httpx.AsyncClient) -> None:
    await create(client, "acme")
    child = await client.post(NS, json={"id": "acme.billing", "kind": "service", "state": "deprecated"})
    assert child.status_code == 201
    assert child.headers["etag"] == '"2"'
    assert child.headers["nsroot-revision"] == "2"
    assert child.headers["location"] == "/v1/namespaces/acme.billing"
    body = child.json()
    assert body["parent"] == "acme"
    assert body["owner"] == "anonymous"
    assert body["state"] == "deprecated"
    assert (await client.get(url("acme.billing"))).json() == body


async def test_create_needs_an_existing_parent(client: httpx.AsyncClient) -> None:
    before = await stored(client)
    response = await client.post(NS, json={"id": "acme.billing", "kind": "service"})
    assert_problem(response, 422, "parent-not-found", "/id")
    assert await stored(client) == before


async def test_create_of_an_existing_id_is_409(client: httpx.AsyncClient) -> None:
    await create(client, "acme")
    before = await stored(client)
    response = await client.post(NS, json={"id": "acme", "kind": "other"})
    assert_problem(response, 409, "already-exists", "/id")
    assert await stored(client) == before
    assert (await client.get(url("acme"))).json()["kind"] == "team"


# -- GET /v1/namespaces/{id} ------------------------------------------------------------


async def test_get_answers_record_with_etag_and_store_revision(client: httpx.AsyncClient) -> None:
    created = await create(client, "acme")
    await create(client, "other")
    response = await client.get(url("acme"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == created
    assert response.headers["etag"] == '"1"'  # the record's mod_revision
    assert response.headers["nsroot-revision"] == "2"  # the store revision the read reflects


async def test_get_with_matching_if_none_match_is_304(client: httpx.AsyncClient) -> None:
    await create(client, "acme")
    first = await client.get(url("acme"))
    response = await client.get(url("acme"), headers={"If-None-Match": first.headers["etag"]})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == '"1"'
    assert response.headers["nsroot-revision"] == "1"
    await client.patch(url("acme"), json={"labels": {"a": "b"}})
    stale = await client.get(url("acme"), headers={"If-None-Match": first.headers["etag"]})
    assert stale.status_code == 200
    assert stale.headers["etag"] == '"2"'
    assert stale.json()["labels"] == {"a": "b"}


async def test_get_if_none_match_uses_weak_comparison_and_lists(client: httpx.AsyncClient) -> None:
    """RFC 9110 §13.1.2: If-None-Match is a list compared weakly, and "*" matches any
    current record. Proxies weaken ETags (nginx gzip turns "1" into W/"1"), so a server
    that only matches the exact strong tag never answers their revalidations with 304."""
    await create(client, "acme")
    for value in ('W/"1"', '"7", "1"', "*"):
        response = await client.get(url("acme"), headers={"If-None-Match": value})
        assert response.status_code == 304, value


async def test_get_at_a_revision_reads_history(client: httpx.AsyncClient) -> None:
    v1 = await create(client, "acme", labels={"v": "one"})
    await create(client, "other")
    patched = await client.patch(url("acme"), json={"labels": {"v": "two"}})
    assert patched.status_code == 200
    old = await client.get(url("acme"), params={"revision": 2})
    assert old.status_code == 200
    assert old.json() == v1
    assert old.headers["etag"] == '"1"'
    assert old.headers["nsroot-revision"] == "2"
    new = await client.get(url("acme"), params={"revision": 3})
    assert new.json() == patched.json()
    assert new.headers["etag"] == '"3"'
    assert new.headers["nsroot-revision"] == "3"
    assert_problem(await client.get(url("other"), params={"revision": 1}), 404, "not-found")


async def test_get_at_a_future_revision_is_400(client: httpx.AsyncClient) -> None:
    await create(client, "acme")
    response = await client.get(url("acme"), params={"revision": 2})
    assert_problem(response, 400, "invalid-revision", "revision")


async def test_get_at_a_compacted_revision_is_410(client: httpx.AsyncClient) -> None:
    await create(client, "acme")
    for n in range(3):
        await client.patch(url("acme"), json={"labels": {"n": str(n)}})
    compacted = await client.post("/v1/compaction", json={"revision": 3})
    assert compacted.status_code == 200
    body = assert_problem(await client.get(url("acme"), params={"revision": 2}), 410, "compacted", "revision")
    assert body["compacted_revision"] == 3
    kept = await client.get(url("acme"), params={"revision": 3})
    assert kept.status_code == 200
    assert kept.json()["labels"] == {"n": "1"}


async def test_get_of_a_missing_namespace_is_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(url("nothing")), 404, "not-found")


# -- PUT /v1/namespaces/{id} ------------------------------------------------------------


async def test_put_replaces_the_spec(client: httpx.AsyncClient) -> None:
    created = await create(client, "acme", labels={"a": "1"}, metadata={"x": 1})
    response = await client.put(url("acme"), json={"kind": "org", "annotations": {"note": "hi"}})
    assert response.status_code == 200
    assert response.headers["etag"] == '"2"'
    assert response.headers["nsroot-revision"] == "2"
    assert "location" not in response.headers
    body = response.json()
    assert body["version"] == created["version"] + 1 == 2
    assert body["mod_revision"] == 2
    assert body["create_revision"] == 1
    assert body["created_at"] == created["created_at"]
    assert body["kind"] == "org"
    assert body["labels"] == {}  # replaced, not merged
    assert body["metadata"] == {}
    assert body["annotations"] == {"note": "hi"}
    assert (await client.get(url("acme"))).json() == body


async def test_put_of_a_missing_namespace_creates_it(client: httpx.AsyncClient) -> None:
    response = await client.put(url("acme"), json={"kind": "team"})
    assert response.status_code == 201
    assert response.headers["location"] == "/v1/namespaces/acme"
    assert response.headers["etag"] == '"1"'
    assert response.headers["nsroot-revision"] == "1"
    assert response.json()["version"] == 1
    orphan = await client.put(url("nope.child"), json={"kind": "team"})
    assert_problem(orphan, 422, "parent-not-found")


async def test_put_if_none_match_star_creates_only(client: httpx.AsyncClient) -> None:
    created = await client.put(url("acme"), json={"kind": "team"}, headers={"If-None-Match": "*"})
    assert created.status_code == 201
    assert created.headers["location"] == "/v1/namespaces/acme"
    before = await stored(client)
    again = await client.put(url("acme"), json={"kind": "other"}, headers={"If-None-Match": "*"})
    assert_problem(again, 412, "precondition-failed", "If-None-Match")
    assert await stored(client) == before


async def test_put_if_match(client: httpx.AsyncClient) -> None:
    await create(client, "acme")
    await create(client, "other")
    before = await stored(client)
    stale = await client.put(url("acme"), json={"kind": "org"}, headers={"If-Match": '"2"'})
    body = assert_problem(stale, 412, "precondition-failed", "If-Match")
    assert body["expected_revision"] == 2
    assert body["actual_revision"] == 1
    assert await stored(client) == before
    fresh = await client.put(url("acme"), json={"kind": "org"}, headers={"If-Match": '"1"'})
    assert fresh.status_code == 200
    assert fresh.json()["kind"] == "org"


async def test_put_if_match_on_a_missing_namespace_is_412(client: httpx.AsyncClient) -> None:
    """RFC 9110 §13.1.1 and §13.2.1: without the header this PUT would create (201), so
    If-Match must be evaluated, and it is false when there is no current record."""
    response = await client.put(url("acme"), json={"kind": "team"}, headers={"If-Match": '"1"'})
    assert_problem(response, 412, "precondition-failed", "If-Match")
    assert_problem(await client.get(url("acme")), 404, "not-found")


async def test_put_body_mod_revision_mismatch_is_409(client: httpx.AsyncClient) -> None:
    await create(client, "acme")
    await client.patch(url("acme"), json={"labels": {"a": "b"}})
    before = await stored(client)
    response = await client.put(url("acme"), json={"kind": "org", "mod_revision": 1})
    body = assert_problem(response, 409, "conflict")
    assert body["expected_revision"] == 1
    assert body["actual_revision"] == 2
    assert await stored(client) == before
    missing = await client.put(url("nothing"), json={"kind": "org", "mod_revision": 1})
    assert_problem(missing, 404, "not-found")


async def test_put_back_an_edited_get_body(client: httpx.AsyncClient) -> None:
    await create(client, "acme", labels={"a": "1"})
    document = (await client.get(url("acme"))).json()
    document["labels"]["b"] = "2"
    document["metadata"] = {"nested": {"x": [1, 2]}}
    document["version"] = 99  # system fields other than id and mod_revision are ignored
    document["created_by"] = "someone:else"
    response = await client.put(url("acme"), json=document)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["labels"] == {"a": "1", "b": "2"}
    assert body["metadata"] == {"nested": {"x": [1, 2]}}
    assert body["version"] == 2
    assert body["created_by"] == "anonymous"
    # The same body again: its mod_revision is now stale.
    assert_problem(await client.put(url("acme"), json=document), 409, "conflict")


async def test_put_body_id_must_match_the_path(client: httpx.AsyncClient) -> None:
    await create(client, "acme")
    before = await stored(client)
    response = await client.put(url("acme"), json={"id": "other", "kind": "team"})
    body = assert_problem(response, 400, "invalid-input", "/id")
    assert body["rule"] == "id-mismatch"
    assert await stored(client) == before


async def test_put_errors_about_the_path_id_name_the_path_parameter(client: httpx.AsyncClient) -> None:
    """The id of a PUT is the path parameter ``id``, not a body member ``/id``; the same
    invalid id must not be blamed on different fields depending on If-None-Match."""
    plain = await client.put(url("Acme"), json={"kind": "team"})
    assert_problem(plain, 400, "invalid-id", "id")
    create_only = await client.put(url("Acme"), json={"kind": "team"}, headers={"If-None-Match": "*"})
    assert_problem(create_only, 400, "invalid-id", "id")
    orphan = await client.put(url("nope.child"), json={"kind": "team"})
    assert_problem(orphan, 422, "parent-not-found", "id")


# -- PATCH /v1/namespaces/{id} ----------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/merge-patch+json", "application/json"])
async def test_patch_merges_per_rfc_7396(client: httpx.AsyncClient, content_type: str) -> None:
    await create(
        client,
        "acme",
        owner="team:acme",
        labels={"keep": "1", "drop": "2"},
        annotations={"note": "x"},
        metadata={"a": {"x": 1, "y": 2}, "b": [1, 2], "c": "gone"},
    )
    patch = {
        "labels": {"drop": None, "add": "3"},
        "metadata": {"a": {"y": None, "z": {"deep": True}}, "b": [3], "c": None},
        "state": "deprecated",
    }
    response = await client.patch(url("acme"), content=json.dumps(patch), headers={"Content-Type": content_type})
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    assert response.headers["nsroot-revision"] == "2"
    body = response.json()
    assert body["labels"] == {"keep": "1", "add": "3"}
    assert body["metadata"] == {"a": {"x": 1, "z": {"deep": True}}, "b": [3]}
    assert body["annotations"] == {"note": "x"}
    assert body["owner"] == "team:acme"
    assert body["kind"] == "team"
    assert body["state"] == "deprecated"
    assert body["version"] == 2
    removed = await client.patch(url("acme"), json={"annotations": None, "metadata": None})
    assert removed.status_code == 200
    assert removed.json()["annotations"] == {}
    assert removed.json()["metadata"] == {}


async def test_patch_of_a_read_only_field_is_400(client: httpx.AsyncClient) -> None:
    await create(client, "acme")
    before = await stored(client)
    for read_only in ("version", "id", "created_at", "parent"):
        response = await client.patch(url("acme"), json={read_only: 5})
        body = assert_problem(response, 400, "invalid-input", "/" + read_only)
        assert body["rule"] == "unknown-field"
    assert await stored(client) == before


async def test_patch_whose_result_is_invalid_is_400(client: httpx.AsyncClient) -> None:
    await create(client, "acme")
    before = await stored(client)
    assert_problem(await client.patch(url("acme"), json={"kind": None}), 400, "invalid-input", "/kind")
    assert_problem(await client.patch(url("acme"), json={"labels": {"-x": "y"}}), 400, "invalid-input", "/labels/-x")
    assert_problem(await client.patch(url("acme"), json={"state": "gone"}), 400, "invalid-input", "/state")
    assert await stored(client) == before


async def test_patch_preconditions(client: httpx.AsyncClient) -> None:
    await create(client, "acme")
    await create(client, "other")
    before = await stored(client)
    stale = await client.patch(url("acme"), json={"labels": {"a": "b"}}, headers={"If-Match": '"2"'})
    assert_problem(stale, 412, "precondition-failed", "If-Match")
    body_stale = await client.patch(url("acme"), json={"labels": {"a": "b"}, "mod_revision": 2})
    body = assert_problem(body_stale, 409, "conflict")
    assert (body["expected_revision"], body["actual_revision"]) == (2, 1)
    assert await stored(client) == before
    fresh = await client.patch(url("acme"), json={"labels": {"a": "b"}}, headers={"If-Match": '"1"'})
    assert fresh.status_code == 200
    fresh_body = await client.patch(url("acme"), json={"labels": {"c": "d"}, "mod_revision": 3})
    assert fresh_body.status_code == 200
    assert fresh_body.json()["labels"] == {"a": "b", "c": "d"}


async def test_patch_rejects_other_media_types(client: httpx.AsyncClient) -> None:
    await create(client, "acme")
    before = await stored(client)
    response = await client.patch(url("acme"), content=b'{"state": "retired"}', headers={"Content-Type": "text/plain"})
    assert_problem(response, 415, "unsupported-media-type", "Content-Type")
    assert await stored(client) == before


async def test_patch_of_a_missing_namespace_is_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.patch(url("nothing"), json={"state": "retired"}), 404, "not-found")


# -- DELETE /v1/namespaces/{id} ---------------------------------------------------------


async def test_delete_a_leaf(client: httpx.AsyncClient) -> None:
    await create(client, "acme")
    await create(client, "acme.billing")
    response = await client.delete(url("acme.billing"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["nsroot-revision"] == "3"
    assert response.json() == {"deleted": ["acme.billing"], "revision": 3}
    assert_problem(await client.get(url("acme.billing")), 404, "not-found")
    assert_problem(await client.delete(url("acme.billing")), 404, "not-found")
    assert await list_ids(client) == ["acme"]


async def test_delete_of_a_non_leaf_needs_recursive(client: httpx.AsyncClient) -> None:
    await create(client, "acme")
    await create(client, "acme.billing")
    before = await stored(client)
    assert_problem(await client.delete(url("acme")), 409, "not-empty", "recursive")
    assert_problem(await client.delete(url("acme"), params={"recursive": "false"}), 409, "not-empty", "recursive")
    assert await stored(client) == before


async def test_delete_recursive_removes_the_subtree_at_one_revision(client: httpx.AsyncClient) -> None:
    for ns_id in ("acme", "acme.billing", "acme.billing.invoices", "acme.web", "acmeco", "other"):
        await create(client, ns_id)
    response = await client.delete(url("acme"), params={"recursive": "true"})
    assert response.status_code == 200
    body = response.json()
    assert body["revision"] == 7
    assert response.headers["nsroot-revision"] == "7"
    assert sorted(body["deleted"]) == ["acme", "acme.billing", "acme.billing.invoices", "acme.web"]
    assert await list_ids(client) == ["acmeco", "other"]
    assert await list_ids(client, revision=6) == [
        "acme",
        "acme.billing",
        "acme.billing.invoices",
        "acme.web",
        "acmeco",
        "other",
    ]
    for ns_id in body["deleted"]:
        history = (await client.get(url(ns_id, "/history"))).json()["items"]
        assert history[-1] == {"revision": 7, "event": "delete", "namespace": None}
    assert (await client.get(url("acme.web"), params={"revision": 6})).status_code == 200
    assert (await client.get(url("acme.web"), params={"revision": 7})).status_code == 404


async def test_delete_if_match(client: httpx.AsyncClient) -> None:
    await create(client, "acme")
    await client.patch(url("acme"), json={"labels": {"a": "b"}})
    before = await stored(client)
    stale = await client.delete(url("acme"), headers={"If-Match": '"1"'})
    body = assert_problem(stale, 412, "precondition-failed", "If-Match")
    assert (body["expected_revision"], body["actual_revision"]) == (1, 2)
    assert await stored(client) == before
    fresh = await client.delete(url("acme"), headers={"If-Match": '"2"'})
    assert fresh.status_code == 200
    assert fresh.json() == {"deleted": ["acme"], "revision": 3}


# -- GET /v1/namespaces -----------------------------------------------------------------

TREE = ("a", "a.b", "a.b.c", "a.d", "ab", "ab.c", "b")


@pytest.fixture
async def tree(client: httpx.AsyncClient) -> httpx.AsyncClient:
    for ns_id in TREE:
        await create(client, ns_id)
    return client


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, list(TREE)),
        ({"prefix": "a"}, ["a", "a.b", "a.b.c", "a.d"]),
        ({"prefix": "a.b"}, ["a.b", "a.b.c"]),
        ({"prefix": "ab"}, ["ab", "ab.c"]),
        ({"prefix": "zz"}, []),
        ({"prefix": ""}, list(TREE)),
        ({"children_of": "a"}, ["a.b", "a.d"]),
        ({"children_of": "a.b"}, ["a.b.c"]),
        ({"children_of": "a.b.c"}, []),
        ({"children_of": ""}, ["a", "ab", "b"]),
    ],
)
async def test_list_scopes(tree: httpx.AsyncClient, params: dict[str, str], expected: list[str]) -> None:
    response = await tree.get(NS, params=params)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["nsroot-revision"] == "7"
    body = response.json()
    assert [item["id"] for item in body["items"]] == expected
    assert body["revision"] == 7
    assert body["next_cursor"] is None


LABELLED = {
    "web": {"tier": "web", "env": "prod"},
    "db": {"tier": "db", "env": "prod"},
    "cache": {"tier": "cache"},
    "blank": {"tier": ""},
    "bare": {},
}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("tier=web", {"web"}),
        ("tier==web", {"web"}),
        ("tier!=web", {"db", "cache", "blank", "bare"}),
        ("tier in (web,db)", {"web", "db"}),
        ("tier notin (web,db)", {"cache", "blank", "bare"}),
        ("tier", {"web", "db", "cache", "blank"}),
        ("!tier", {"bare"}),
        ("env", {"web", "db"}),
        ("!env", {"cache", "blank", "bare"}),
        ("tier=", {"blank"}),
        ("tier in (web,db),env=prod", {"web", "db"}),
        ("env=prod,tier!=db", {"web"}),
        ("tier=nothing", set()),
        ("", set(LABELLED)),
    ],
)
async def test_list_selector_operators(client: httpx.AsyncClient, selector: str, expected: set[str]) -> None:
    for ns_id, labels in LABELLED.items():
        await create(client, ns_id, labels=labels)
    assert set(await list_ids(client, selector=selector)) == expected
    count = await client.get(NS, params={"selector": selector, "count_only": "true"})
    assert count.json() == {"count": len(expected), "revision": len(LABELLED)}


async def test_list_pages_with_limit_and_cursor(tree: httpx.AsyncClient) -> None:
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        response = await tree.get(NS, params=params)
        assert response.status_code == 200
        body = response.json()
        assert body["revision"] == 7
        assert response.headers["nsroot-revision"] == "7"
        assert len(body["items"]) <= 3
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == list(TREE)
    assert pages == 3


async def test_list_pages_with_a_selector(client: httpx.AsyncClient) -> None:
    for n in range(10):
        await create(client, f"n{n}", labels={"even": str(n % 2 == 0).lower()})
    seen: list[str] = []
    params: dict[str, Any] = {"selector": "even=true", "limit": 2}
    while True:
        body = (await client.get(NS, params=params)).json()
        seen += [item["id"] for item in body["items"]]
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    assert seen == ["n0", "n2", "n4", "n6", "n8"]


PAGED_QUERIES = [
    pytest.param({"prefix": "p"}, lambda ns_id, labels: ns_id == "p" or ns_id.startswith("p."), id="prefix"),
    pytest.param({"children_of": "p"}, lambda ns_id, labels: ns_id.startswith("p."), id="children_of"),
    pytest.param({"selector": "tier in (web,db)"}, lambda ns_id, labels: labels.get("tier") in ("web", "db"), id="sel"),
    pytest.param({}, lambda ns_id, labels: True, id="all"),
]


@pytest.mark.parametrize(("query", "wanted"), PAGED_QUERIES)
async def test_list_pages_are_one_snapshot_whatever_is_written_between_them(
    client: httpx.AsyncClient, query: dict[str, str], wanted: Any
) -> None:
    model: dict[str, dict[str, str]] = {"p": {"tier": "web"}, "q": {"tier": "db"}}
    for n in range(12):
        model[f"p.c{n:02d}"] = {"tier": ("web", "db", "cache")[n % 3]}
    for ns_id, labels in model.items():
        await create(client, ns_id, labels=labels)
    at = await revision_now(client)
    expected = sorted(ns_id for ns_id, labels in model.items() if wanted(ns_id, labels))

    async def write_between_pages(step: int) -> None:
        # New ids before and after the cursor, deletions of ids already returned and
        # of ids still to come, and an update of one still to come.
        await create(client, f"p.c{step}5x", labels={"tier": "web"})
        await create(client, f"p.z{step}", labels={"tier": "db"})
        await create(client, f"a{step}", labels={"tier": "web"})
        for victim in (f"p.c{step:02d}", f"p.c{step + 8:02d}"):
            assert (await client.delete(url(victim))).status_code == 200
        # p.c10 matches "tier in (web,db)" at the first page's revision, not after this.
        assert (await client.patch(url("p.c10"), json={"labels": {"tier": "other"}})).status_code == 200

    seen: list[dict[str, Any]] = []
    params: dict[str, Any] = {**query, "limit": 3}
    for step in range(100):
        response = await client.get(NS, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["revision"] == at
        assert response.headers["nsroot-revision"] == str(at)
        seen += body["items"]
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
        if step < 2:
            await write_between_pages(step)
    ids = [item["id"] for item in seen]
    assert ids == expected
    assert all(item["mod_revision"] <= at for item in seen)
    assert await revision_now(client) > at
    # The same set, read at that revision in one page.
    assert await list_ids(client, **query, revision=at) == expected


async def test_list_at_a_revision(tree: httpx.AsyncClient) -> None:
    await tree.delete(url("b"))
    await tree.patch(url("a"), json={"labels": {"x": "y"}})
    response = await tree.get(NS, params={"revision": 3})
    assert response.status_code == 200
    assert response.headers["nsroot-revision"] == "3"
    body = response.json()
    assert body["revision"] == 3
    assert [item["id"] for item in body["items"]] == ["a", "a.b", "a.b.c"]
    assert body["items"][0]["labels"] == {}
    assert await list_ids(tree, revision=9) == ["a", "a.b", "a.b.c", "a.d", "ab", "ab.c"]
    assert await list_ids(tree, prefix="a", revision=2) == ["a", "a.b"]
    assert await list_ids(tree, children_of="", revision=7) == ["a", "ab", "b"]
    assert_problem(await tree.get(NS, params={"revision": 10}), 400, "invalid-revision", "revision")


async def test_list_count_only(tree: httpx.AsyncClient) -> None:
    response = await tree.get(NS, params={"count_only": "true"})
    assert response.status_code == 200
    assert response.headers["nsroot-revision"] == "7"
    assert response.json() == {"count": 7, "revision": 7}
    assert (await tree.get(NS, params={"count_only": "true", "prefix": "a"})).json() == {"count": 4, "revision": 7}
    assert (await tree.get(NS, params={"count_only": "1", "children_of": ""})).json() == {"count": 3, "revision": 7}
    await tree.delete(url("a.d"))
    at_six = await tree.get(NS, params={"count_only": "true", "revision": 6})
    assert at_six.json() == {"count": 6, "revision": 6}
    assert at_six.headers["nsroot-revision"] == "6"
    assert (await tree.get(NS, params={"count_only": "true"})).json() == {"count": 6, "revision": 8}
    assert_problem(await tree.get(NS, params={"count_only": "true", "limit": 5}), 400, "invalid-input", "count_only")


async def test_list_prefix_and_children_of_together_is_400(tree: httpx.AsyncClient) -> None:
    response = await tree.get(NS, params={"prefix": "a", "children_of": "a"})
    assert_problem(response, 400, "invalid-input", "children_of")


# -- GET /v1/namespaces/{id}/history ----------------------------------------------------


async def test_history_lists_every_event(client: httpx.AsyncClient) -> None:
    await create(client, "acme")  # 1
    await client.patch(url("acme"), json={"labels": {"a": "b"}})  # 2
    await create(client, "other")  # 3
    await client.put(url("acme"), json={"kind": "org"})  # 4
    await client.delete(url("acme"))  # 5
    await create(client, "acme", kind="reborn")  # 6
    await create(client, "last")  # 7
    response = await client.get(url("acme", "/history"))
    assert response.status_code == 200
    assert response.headers["nsroot-revision"] == "7"
    body = response.json()
    assert body["revision"] == 7
    assert body["next_cursor"] is None
    events = [(item["revision"], item["event"]) for item in body["items"]]
    assert events == [(1, "create"), (2, "update"), (4, "update"), (5, "delete"), (6, "create")]
    versions = [item["namespace"] and item["namespace"]["version"] for item in body["items"]]
    assert versions == [1, 2, 3, None, 1]
    assert body["items"][2]["namespace"]["kind"] == "org"
    assert body["items"][4]["namespace"]["kind"] == "reborn"
    for item in body["items"]:
        if item["namespace"] is not None:
            assert item["namespace"]["mod_revision"] == item["revision"]


async def test_history_pages(client: httpx.AsyncClient) -> None:
    await create(client, "acme")
    for n in range(6):
        await client.patch(url("acme"), json={"labels": {"n": str(n)}})
    await create(client, "other")
    full = (await client.get(url("acme", "/history"))).json()["items"]
    assert [item["revision"] for item in full] == [1, 2, 3, 4, 5, 6, 7]
    seen: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 3}
    pages = 0
    while True:
        response = await client.get(url("acme", "/history"), params=params)
        assert response.status_code == 200
        assert response.headers["nsroot-revision"] == "8"
        body = response.json()
        assert body["revision"] == 8
        assert len(body["items"]) <= 3
        seen += body["items"]
        pages += 1
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    assert pages == 3
    assert seen == full


async def test_history_of_an_unknown_namespace_is_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(url("nothing", "/history")), 404, "not-found")


# -- revisions and compaction -----------------------------------------------------------


async def test_revision_endpoint(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/revision")
    assert response.status_code == 200
    assert response.json() == {"revision": 0, "compacted_revision": 0}
    assert response.headers["nsroot-revision"] == "0"
    await create(client, "acme")
    await create(client, "other")
    response = await client.get("/v1/revision")
    assert response.json() == {"revision": 2, "compacted_revision": 0}
    assert response.headers["nsroot-revision"] == "2"


async def test_compaction(client: httpx.AsyncClient) -> None:
    await create(client, "acme")  # 1
    await create(client, "gone")  # 2
    await client.patch(url("acme"), json={"labels": {"n": "1"}})  # 3
    await client.delete(url("gone"))  # 4
    await client.patch(url("acme"), json={"labels": {"n": "2"}})  # 5
    response = await client.post("/v1/compaction", json={"revision": 4})
    assert response.status_code == 200
    assert response.headers["nsroot-revision"] == "5"
    body = response.json()
    assert body["revision"] == 5
    assert body["compacted_revision"] == 4
    assert body["dropped"] == 3  # acme@1, gone@2 and gone's deletion; acme@3 is what a read at 4 sees
    assert (await client.get("/v1/revision")).json() == {"revision": 5, "compacted_revision": 4}
    assert_problem(await client.get(NS, params={"revision": 3}), 410, "compacted", "revision")
    assert_problem(await client.get(NS, params={"revision": 3, "count_only": "true"}), 410, "compacted")
    assert await list_ids(client, revision=4) == ["acme"]
    history = (await client.get(url("acme", "/history"))).json()["items"]
    assert [item["revision"] for item in history] == [3, 5]
    assert_problem(await client.get(url("gone", "/history")), 404, "not-found")
    assert_problem(await client.post("/v1/compaction", json={"revision": 6}), 400, "invalid-revision")


async def test_compaction_to_an_older_revision_reports_the_real_compaction_point(client: httpx.AsyncClient) -> None:
    await create(client, "acme")
    for n in range(4):
        await client.patch(url("acme"), json={"labels": {"n": str(n)}})
    assert (await client.post("/v1/compaction", json={"revision": 4})).status_code == 200
    again = await client.post("/v1/compaction", json={"revision": 2})
    assert again.status_code == 200
    assert again.json()["dropped"] == 0
    revisions = (await client.get("/v1/revision")).json()
    assert revisions["compacted_revision"] == 4
    assert again.json()["compacted_revision"] == revisions["compacted_revision"]


async def test_compaction_errors_point_into_the_body(client: httpx.AsyncClient) -> None:
    await create(client, "acme")
    assert_problem(await client.post("/v1/compaction", json={"revision": 0}), 400, "invalid-input", "/revision")
    assert_problem(await client.post("/v1/compaction", json={"revision": 2}), 400, "invalid-revision", "/revision")


async def test_every_revision_header_is_the_revision_the_answer_reflects(client: httpx.AsyncClient) -> None:
    def header(response: httpx.Response) -> int:
        assert response.status_code < 300, response.text
        return int(response.headers["nsroot-revision"])

    created = await client.post(NS, json={"id": "acme", "kind": "team"})
    assert header(created) == created.json()["mod_revision"] == 1
    put = await client.put(url("acme.web"), json={"kind": "service"})
    assert header(put) == put.json()["mod_revision"] == 2
    replaced = await client.put(url("acme.web"), json={"kind": "site"})
    assert header(replaced) == replaced.json()["mod_revision"] == 3
    patched = await client.patch(url("acme"), json={"state": "retired"})
    assert header(patched) == patched.json()["mod_revision"] == 4
    await create(client, "other")  # 5
    got = await client.get(url("acme"))
    assert header(got) == 5
    assert got.headers["etag"] == etag(4)
    assert header(await client.get(url("acme"), params={"revision": 3})) == 3
    page = await client.get(NS, params={"limit": 1})
    assert header(page) == page.json()["revision"] == 5
    following = await client.get(NS, params={"limit": 1, "cursor": page.json()["next_cursor"]})
    await create(client, "later")  # 6
    assert header(following) == following.json()["revision"] == 5
    counted = await client.get(NS, params={"count_only": "true"})
    assert header(counted) == counted.json()["revision"] == 6
    history = await client.get(url("acme", "/history"))
    assert header(history) == history.json()["revision"] == 6
    deleted = await client.delete(url("later"))
    assert header(deleted) == deleted.json()["revision"] == 7
    revision = await client.get("/v1/revision")
    assert header(revision) == revision.json()["revision"] == 7
    compacted = await client.post("/v1/compaction", json={"revision": 7})
    assert header(compacted) == compacted.json()["revision"] == 7
    assert header(await client.get(url("acme"))) == 7


# -- operations -------------------------------------------------------------------------


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    health = await client.get("/healthz")
    assert health.status_code == 200
    assert health.headers["content-type"] == "application/json"
    assert health.json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}


async def test_openapi_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert document["openapi"] == "3.1.0"
    assert "/v1/namespaces/{id}" in document["paths"]


async def test_metrics(client: httpx.AsyncClient) -> None:
    await create(client, "acme")
    await client.get(url("acme"))
    await client.get(url("acme"))
    await client.get(url("nothing"))
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "# TYPE nsroot_operation_duration_seconds histogram" in text
    found = samples(text)

    def value(name: str, **labels: str) -> float:
        matching = [v for n, lab, v in found if n == name and lab == labels]
        assert len(matching) == 1, (name, labels)
        return matching[0]

    assert value("nsroot_http_requests_total", method="POST", route="/v1/namespaces", status="201") == 1
    assert value("nsroot_http_requests_total", method="GET", route="/v1/namespaces/{id}", status="200") == 2
    assert value("nsroot_http_requests_total", method="GET", route="/v1/namespaces/{id}", status="404") == 1
    create_buckets = {
        lab["le"]: v
        for n, lab, v in found
        if n == "nsroot_operation_duration_seconds_bucket" and lab.get("operation") == "create"
    }
    assert "0.01" in create_buckets
    assert 0 <= create_buckets["0.01"] <= create_buckets["+Inf"] == 1
    assert value("nsroot_operation_duration_seconds_count", operation="get", outcome="ok") == 2
    assert value("nsroot_operation_duration_seconds_count", operation="get", outcome="not-found") == 1
    http_buckets = [lab for n, lab, _ in found if n == "nsroot_http_request_duration_seconds_bucket"]
    assert any(lab["le"] == "0.01" and lab["route"] == "/v1/namespaces" for lab in http_buckets)


# -- bad input --------------------------------------------------------------------------

BAD_JSON = {"Content-Type": "application/json"}
HUGE_DIGITS = "1" * 5000  # more digits than int() converts by default (4300)


def post(body: Any) -> tuple[str, str, dict[str, Any]]:
    return "POST", NS, {"json": body}


def raw(method: str, path: str, content: bytes, **headers: str) -> tuple[str, str, dict[str, Any]]:
    return method, path, {"content": content, "headers": {**BAD_JSON, **headers}}


def spec_with(**fields: Any) -> dict[str, Any]:
    return {"id": "fresh", "kind": "team", **fields}


BAD_INPUT = [
    # invalid ids, in the path and in the body
    pytest.param("GET", url("Acme"), {}, 400, "invalid-id", "id", id="path-id-upper"),
    pytest.param("GET", url("a..b"), {}, 400, "invalid-id", "id", id="path-id-empty-segment"),
    pytest.param("GET", url("-a"), {}, 400, "invalid-id", "id", id="path-id-dash"),
    pytest.param("GET", url("1a"), {}, 400, "invalid-id", "id", id="path-id-digit"),
    pytest.param("GET", url("a_b"), {}, 400, "invalid-id", "id", id="path-id-underscore"),
    pytest.param("GET", url("a" * 64), {}, 400, "invalid-id", "id", id="path-id-long-segment"),
    pytest.param("GET", url(".".join("a" * 9)), {}, 400, "invalid-id", "id", id="path-id-too-deep"),
    pytest.param("GET", NS + "/", {}, 400, "invalid-id", "id", id="path-id-empty"),
    pytest.param("PUT", url("Acme"), {"json": {"kind": "team"}}, 400, "invalid-id", "id", id="put-path-id"),
    pytest.param("PATCH", url("a b"), {"json": {}}, 400, "invalid-id", "id", id="patch-path-id"),
    pytest.param("DELETE", url("a/b"), {}, 400, "invalid-id", "id", id="delete-path-id"),
    pytest.param("GET", url("A", "/history"), {}, 400, "invalid-id", "id", id="history-path-id"),
    pytest.param(*post(spec_with(id="Acme")), 400, "invalid-input", "/id", id="body-id-upper"),
    pytest.param(*post(spec_with(id="")), 400, "invalid-input", "/id", id="body-id-empty"),
    pytest.param(*post(spec_with(id=5)), 400, "invalid-input", "/id", id="body-id-number"),
    pytest.param(*post(spec_with(id=["a"])), 400, "invalid-input", "/id", id="body-id-list"),
    pytest.param(*post({"kind": "team"}), 400, "invalid-input", "/id", id="body-id-missing"),
    pytest.param(*post(spec_with(id="a." * 8 + "a")), 400, "invalid-input", "/id", id="body-id-too-deep"),
    # unknown body fields
    pytest.param(*post(spec_with(colour="red")), 400, "invalid-input", "/colour", id="create-unknown-field"),
    pytest.param(*post(spec_with(mod_revision=1)), 400, "invalid-input", "/mod_revision", id="create-system-field"),
    pytest.param("PUT", url("a"), {"json": {"kind": "t", "x": 1}}, 400, "invalid-input", "/x", id="put-unknown"),
    pytest.param("PATCH", url("a"), {"json": {"version": 3}}, 400, "invalid-input", "/version", id="patch-ro"),
    pytest.param("PATCH", url("a"), {"json": {"a/b": 3}}, 400, "invalid-input", "/a~1b", id="patch-pointer"),
    pytest.param(
        "POST", "/v1/compaction", {"json": {"revision": 1, "x": 1}}, 400, "invalid-input", "", id="compact-unknown"
    ),
    # wrong types
    pytest.param(*post(spec_with(kind=5)), 400, "invalid-input", "/kind", id="kind-number"),
    pytest.param(*post({"id": "fresh"}), 400, "invalid-input", "/kind", id="kind-missing"),
    pytest.param(*post(spec_with(kind="Team")), 400, "invalid-input", "/kind", id="kind-syntax"),
    pytest.param(*post(spec_with(kind="k" * 254)), 400, "invalid-input", "/kind", id="kind-too-long"),
    pytest.param(*post(spec_with(owner=5)), 400, "invalid-input", "/owner", id="owner-number"),
    pytest.param(*post(spec_with(owner="")), 400, "invalid-input", "/owner", id="owner-empty"),
    pytest.param(*post(spec_with(owner="a b")), 400, "invalid-input", "/owner", id="owner-syntax"),
    pytest.param(*post(spec_with(state="gone")), 400, "invalid-input", "/state", id="state-enum"),
    pytest.param(*post(spec_with(labels=["a"])), 400, "invalid-input", "/labels", id="labels-list"),
    pytest.param(*post(spec_with(labels=[])), 400, "invalid-input", "/labels", id="labels-empty-list"),
    pytest.param(*post(spec_with(labels="")), 400, "invalid-input", "/labels", id="labels-empty-string"),
    pytest.param(*post(spec_with(labels=False)), 400, "invalid-input", "/labels", id="labels-false"),
    pytest.param(*post(spec_with(labels="a=b")), 400, "invalid-input", "/labels", id="labels-string"),
    pytest.param(*post(spec_with(labels={"a": 1})), 400, "invalid-input", "/labels/a", id="label-value-number"),
    pytest.param(*post(spec_with(annotations=[])), 400, "invalid-input", "/annotations", id="annotations-list"),
    pytest.param(*post(spec_with(annotations=0)), 400, "invalid-input", "/annotations", id="annotations-zero"),
    pytest.param(*post(spec_with(annotations="x")), 400, "invalid-input", "/annotations", id="annotations-str"),
    pytest.param(*post(spec_with(metadata=[])), 400, "invalid-input", "/metadata", id="metadata-list"),
    pytest.param(*post(spec_with(metadata=[1])), 400, "invalid-input", "/metadata", id="metadata-array"),
    pytest.param(*post(spec_with(metadata="x")), 400, "invalid-input", "/metadata", id="metadata-string"),
    pytest.param(*post(spec_with(metadata="")), 400, "invalid-input", "/metadata", id="metadata-empty-string"),
    pytest.param(*post(spec_with(metadata=0)), 400, "invalid-input", "/metadata", id="metadata-zero"),
    pytest.param(*post(spec_with(metadata=False)), 400, "invalid-input", "/metadata", id="metadata-false"),
    pytest.param(
        "PUT",
        url("a"),
        {"json": {"kind": "t", "mod_revision": "1"}},
        400,
        "invalid-input",
        "/mod_revision",
        id="put-mr",
    ),
    pytest.param(
        "PATCH", url("a"), {"json": {"mod_revision": True}}, 400, "invalid-input", "/mod_revision", id="patch-mr"
    ),
    pytest.param("PATCH", url("a"), {"json": {"labels": []}}, 400, "invalid-input", "/labels", id="patch-labels"),
    pytest.param("POST", "/v1/compaction", {"json": {"revision": "1"}}, 400, "invalid-input", "/revision", id="c-str"),
    pytest.param("POST", "/v1/compaction", {"json": {"revision": 0}}, 400, "invalid-input", "/revision", id="c-zero"),
    pytest.param(
        "POST", "/v1/compaction", {"json": {"revision": True}}, 400, "invalid-input", "/revision", id="c-bool"
    ),
    # malformed, empty and non-object bodies
    pytest.param(*raw("POST", NS, b'{"id": "x",'), 400, "invalid-input", "body", id="create-truncated-json"),
    pytest.param(*raw("POST", NS, b"{'id': 'x'}"), 400, "invalid-input", "body", id="create-single-quotes"),
    pytest.param(*raw("POST", NS, b'{"id": "x"} {}'), 400, "invalid-input", "body", id="create-trailing-data"),
    pytest.param(*raw("POST", NS, b"\xff\xfe"), 400, "invalid-input", "body", id="create-not-utf8"),
    pytest.param(*raw("POST", NS, b"NaN"), 400, "invalid-input", "body", id="create-nan"),
    pytest.param(*raw("POST", NS, b"[" * 5000 + b"]" * 5000), 400, "invalid-input", "body", id="create-deep-json"),
    pytest.param(*raw("PUT", url("a"), b"{"), 400, "invalid-input", "body", id="put-malformed"),
    pytest.param(*raw("PATCH", url("a"), b"{"), 400, "invalid-input", "body", id="patch-malformed"),
    pytest.param(*raw("POST", "/v1/compaction", b"{"), 400, "invalid-input", "body", id="compact-malformed"),
    pytest.param(*raw("POST", NS, b""), 400, "invalid-input", "body", id="create-empty"),
    pytest.param(*raw("POST", NS, b"  \n"), 400, "invalid-input", "body", id="create-blank"),
    pytest.param(*raw("PUT", url("a"), b""), 400, "invalid-input", "body", id="put-empty"),
    pytest.param(*raw("PATCH", url("a"), b""), 400, "invalid-input", "body", id="patch-empty"),
    pytest.param(*raw("POST", "/v1/compaction", b""), 400, "invalid-input", "body", id="compact-empty"),
    pytest.param(*post([]), 400, "invalid-input", "", id="create-array"),
    pytest.param(*post(5), 400, "invalid-input", "", id="create-number"),
    pytest.param(*post("x"), 400, "invalid-input", "", id="create-string"),
    pytest.param(*raw("POST", NS, b"null"), 400, "invalid-input", "", id="create-null"),
    pytest.param("PUT", url("a"), {"json": [1]}, 400, "invalid-input", "", id="put-array"),
    pytest.param("PATCH", url("a"), {"json": 7}, 400, "invalid-input", "", id="patch-number"),
    pytest.param("POST", "/v1/compaction", {"json": [4]}, 400, "invalid-input", "", id="compact-array"),
    # oversized bodies and fields
    pytest.param(*raw("POST", NS, b" " * (MIB + 1)), 413, "payload-too-large", "body", id="create-too-large"),
    pytest.param(*raw("PUT", url("a"), b" " * (MIB + 1)), 413, "payload-too-large", "body", id="put-too-large"),
    pytest.param(*raw("PATCH", url("a"), b" " * (MIB + 1)), 413, "payload-too-large", "body", id="patch-too-large"),
    pytest.param(
        *raw("POST", "/v1/compaction", b" " * (MIB + 1)), 413, "payload-too-large", "body", id="compact-too-large"
    ),
    pytest.param(
        *post(spec_with(metadata={"pad": "x" * 65_536})), 400, "invalid-input", "/metadata", id="metadata-too-large"
    ),
    pytest.param(*post(spec_with(metadata=nested(33))), 400, "invalid-input", "/metadata", id="metadata-too-deep"),
    pytest.param(
        *post(spec_with(metadata={"list": nested_list(33)})),
        400,
        "invalid-input",
        "/metadata",
        id="metadata-too-deep-lists",
    ),
    # labels and annotations
    pytest.param(*post(spec_with(labels={"-a": "b"})), 400, "invalid-input", "/labels/-a", id="label-key-start"),
    pytest.param(*post(spec_with(labels={"a/b/c": "d"})), 400, "invalid-input", "/labels/a~1b~1c", id="label-slashes"),
    pytest.param(*post(spec_with(labels={"Ex.com/a": "b"})), 400, "invalid-input", "/labels/Ex.com~1a", id="label-pfx"),
    pytest.param(
        *post(spec_with(labels={"a" * 64: "b"})), 400, "invalid-input", "/labels/" + "a" * 64, id="label-long"
    ),
    pytest.param(*post(spec_with(labels={"": "b"})), 400, "invalid-input", "/labels/", id="label-key-empty"),
    pytest.param(*post(spec_with(labels={"a": "-b"})), 400, "invalid-input", "/labels/a", id="label-value-start"),
    pytest.param(*post(spec_with(labels={"a": "b c"})), 400, "invalid-input", "/labels/a", id="label-value-space"),
    pytest.param(*post(spec_with(labels={"a": "v" * 64})), 400, "invalid-input", "/labels/a", id="label-value-long"),
    pytest.param(
        *post(spec_with(labels={f"k{n}": "v" for n in range(65)})), 400, "invalid-input", "/labels", id="labels-65"
    ),
    pytest.param(
        *post(spec_with(annotations={"bad key": "x"})), 400, "invalid-input", "/annotations/bad key", id="an-k"
    ),
    pytest.param(*post(spec_with(annotations={"a": 1})), 400, "invalid-input", "/annotations/a", id="annotation-num"),
    pytest.param(
        *post(spec_with(annotations={"a": None})), 400, "invalid-input", "/annotations/a", id="annotation-null"
    ),
    pytest.param(
        *post(spec_with(annotations={"big": "x" * 65_536})), 400, "invalid-input", "/annotations", id="annotations-big"
    ),
    # selectors
    pytest.param("GET", NS + "?selector=a%20in", {}, 400, "invalid-selector", "selector", id="selector-in-no-list"),
    pytest.param("GET", NS + "?selector=%3Dx", {}, 400, "invalid-selector", "selector", id="selector-no-key"),
    pytest.param("GET", NS + "?selector=a%3C1", {}, 400, "invalid-selector", "selector", id="selector-lt"),
    pytest.param("GET", NS + "?selector=!", {}, 400, "invalid-selector", "selector", id="selector-bang"),
    pytest.param("GET", NS + "?selector=a,,b", {}, 400, "invalid-selector", "selector", id="selector-empty-item"),
    pytest.param("GET", NS + "?selector=a%20notin%20x", {}, 400, "invalid-selector", "selector", id="selector-notin"),
    pytest.param("GET", NS + "?selector=a%3D(", {}, 400, "invalid-selector", "selector", id="selector-paren"),
    pytest.param("GET", NS + "?selector=a%3Db%3Dc", {}, 400, "invalid-selector", "selector", id="selector-2-ops"),
    pytest.param("GET", NS + "?selector=a%20b", {}, 400, "invalid-selector", "selector", id="selector-no-op"),
    pytest.param("GET", NS + "?selector=-a%3Db", {}, 400, "invalid-selector", "selector", id="selector-bad-key"),
    pytest.param("GET", NS + "?selector=a%3D-b", {}, 400, "invalid-selector", "selector", id="selector-bad-value"),
    pytest.param("GET", NS + "?selector=a%20in%20(x", {}, 400, "invalid-selector", "selector", id="selector-unclosed"),
    pytest.param(
        "GET", NS + "?count_only=true&selector=!!a", {}, 400, "invalid-selector", "selector", id="count-selector"
    ),
    # cursors (LIST_CURSOR and HISTORY_CURSOR are real ones, issued for other queries)
    pytest.param("GET", NS + "?cursor=garbage!!", {}, 400, "invalid-cursor", "cursor", id="cursor-garbage"),
    pytest.param("GET", NS + "?cursor=abc", {}, 400, "invalid-cursor", "cursor", id="cursor-short"),
    pytest.param("GET", NS + "?cursor=%C3%A9t%C3%A9", {}, 400, "invalid-cursor", "cursor", id="cursor-non-ascii"),
    pytest.param(
        "GET", NS + "?cursor=" + forge_cursor(1, "a", "x", v=2), {}, 400, "invalid-cursor", "cursor", id="c-v"
    ),
    pytest.param(
        "GET",
        NS + "?cursor=" + base64.urlsafe_b64encode(b'{"v": 1}').decode(),
        {},
        400,
        "invalid-cursor",
        "cursor",
        id="cursor-incomplete",
    ),
    pytest.param("GET", NS + "?prefix=a&cursor=LIST_CURSOR", {}, 400, "invalid-cursor", "cursor", id="cursor-other-q"),
    pytest.param(
        "GET", NS + "?selector=tier&cursor=LIST_CURSOR", {}, 400, "invalid-cursor", "cursor", id="cursor-other-sel"
    ),
    pytest.param("GET", NS + "?cursor=HISTORY_CURSOR", {}, 400, "invalid-cursor", "cursor", id="cursor-of-history"),
    pytest.param(
        "GET", url("a", "/history?cursor=LIST_CURSOR"), {}, 400, "invalid-cursor", "cursor", id="h-cursor-list"
    ),
    pytest.param(
        "GET", url("a.b", "/history?cursor=HISTORY_CURSOR"), {}, 400, "invalid-cursor", "cursor", id="h-cursor-other-id"
    ),
    pytest.param("GET", url("a", "/history?cursor=%%%"), {}, 400, "invalid-cursor", "cursor", id="h-cursor-garbage"),
    pytest.param(
        "GET",
        url("a", "/history?cursor=" + forge_cursor(0, "x", "history|a")),
        {},
        400,
        "invalid-cursor",
        "cursor",
        id="h-cursor-not-a-revision",
    ),
    pytest.param(
        "GET",
        url("a", "/history?cursor=" + forge_cursor(0, "9" * 30, "history|a")),
        {},
        400,
        "invalid-cursor",
        "cursor",
        id="h-cursor-huge-revision",
    ),
    pytest.param(
        "GET",
        url("a", "/history?cursor=" + forge_cursor(0, "\u00b2", "history|a")),
        {},
        400,
        "invalid-cursor",
        "cursor",
        id="h-cursor-superscript-digit",
    ),
    # revisions
    pytest.param("GET", NS + "?revision=0", {}, 400, None, "revision", id="list-revision-0"),
    pytest.param("GET", NS + "?revision=-1", {}, 400, None, "revision", id="list-revision-negative"),
    pytest.param("GET", NS + "?revision=abc", {}, 400, None, "revision", id="list-revision-abc"),
    pytest.param("GET", NS + "?revision=1.5", {}, 400, None, "revision", id="list-revision-float"),
    pytest.param("GET", NS + "?revision=99", {}, 400, "invalid-revision", "revision", id="list-revision-future"),
    pytest.param("GET", NS + "?revision=" + HUGE_DIGITS, {}, 400, None, "revision", id="list-revision-huge"),
    pytest.param("GET", url("a") + "?revision=0", {}, 400, None, "revision", id="get-revision-0"),
    pytest.param("GET", url("a") + "?revision=-1", {}, 400, None, "revision", id="get-revision-negative"),
    pytest.param("GET", url("a") + "?revision=abc", {}, 400, None, "revision", id="get-revision-abc"),
    pytest.param("GET", url("a") + "?revision=" + HUGE_DIGITS, {}, 400, None, "revision", id="get-revision-huge"),
    pytest.param("GET", url("a") + "?revision=%C2%B2", {}, 400, None, "revision", id="get-revision-superscript"),
    # limits
    pytest.param("GET", NS + "?limit=0", {}, 400, None, "limit", id="limit-0"),
    pytest.param("GET", NS + "?limit=1001", {}, 400, None, "limit", id="limit-1001"),
    pytest.param("GET", NS + "?limit=x", {}, 400, None, "limit", id="limit-x"),
    pytest.param("GET", NS + "?limit=-5", {}, 400, None, "limit", id="limit-negative"),
    pytest.param("GET", NS + "?limit=%C2%B2", {}, 400, None, "limit", id="limit-superscript-two"),
    pytest.param("GET", NS + "?limit=" + HUGE_DIGITS, {}, 400, None, "limit", id="limit-huge"),
    pytest.param("GET", url("a", "/history?limit=0"), {}, 400, None, "limit", id="history-limit-0"),
    pytest.param("GET", url("a", "/history?limit=1001"), {}, 400, None, "limit", id="history-limit-1001"),
    pytest.param("GET", url("a", "/history?limit=x"), {}, 400, None, "limit", id="history-limit-x"),
    # other query parameters
    pytest.param("GET", NS + "?count_only=maybe", {}, 400, None, "count_only", id="count-only-not-bool"),
    pytest.param("DELETE", url("a.b") + "?recursive=maybe", {}, 400, None, "recursive", id="recursive-not-bool"),
    pytest.param("GET", NS + "?bogus=1", {}, 400, "invalid-input", "bogus", id="list-unknown-param"),
    pytest.param("GET", NS + "?Prefix=a", {}, 400, "invalid-input", "Prefix", id="list-param-case"),
    pytest.param("POST", NS + "?dry_run=1", {"json": spec_with()}, 400, "invalid-input", "dry_run", id="create-param"),
    pytest.param("GET", url("a") + "?limit=1", {}, 400, "invalid-input", "limit", id="get-unknown-param"),
    pytest.param("PUT", url("a") + "?force=1", {"json": {"kind": "t"}}, 400, "invalid-input", "force", id="put-param"),
    pytest.param("PATCH", url("a") + "?dry=1", {"json": {}}, 400, "invalid-input", "dry", id="patch-param"),
    pytest.param("DELETE", url("a.b") + "?force=1", {}, 400, "invalid-input", "force", id="delete-param"),
    pytest.param("GET", url("a", "/history?revision=1"), {}, 400, "invalid-input", "revision", id="history-param"),
    pytest.param("GET", "/v1/revision?x=1", {}, 400, "invalid-input", "x", id="revision-param"),
    pytest.param(
        "POST", "/v1/compaction?now=1", {"json": {"revision": 1}}, 400, "invalid-input", "now", id="compact-param"
    ),
    pytest.param("GET", NS + "?limit=1&limit=2", {}, 400, "invalid-input", "limit", id="repeated-limit"),
    pytest.param("GET", NS + "?prefix=a&prefix=b", {}, 400, "invalid-input", "prefix", id="repeated-prefix"),
    pytest.param(
        "DELETE", url("a") + "?recursive=true&recursive=true", {}, 400, "invalid-input", "recursive", id="repeated-rec"
    ),
    pytest.param("GET", url("a") + "?revision=1&revision=1", {}, 400, "invalid-input", "revision", id="repeated-rev"),
    pytest.param("GET", NS + "?prefix=A", {}, 400, "invalid-id", "prefix", id="prefix-invalid"),
    pytest.param("GET", NS + "?children_of=a..b", {}, 400, "invalid-id", "children_of", id="children-of-invalid"),
    pytest.param("GET", NS + "?count_only=true&prefix=A", {}, 400, "invalid-id", "prefix", id="count-prefix-invalid"),
    # headers
    pytest.param("DELETE", url("a.b"), {"headers": {"If-Match": "abc"}}, 400, None, "If-Match", id="if-match-garbage"),
    pytest.param("DELETE", url("a.b"), {"headers": {"If-Match": '"0"'}}, 400, None, "If-Match", id="if-match-zero"),
    pytest.param(
        "DELETE", url("a.b"), {"headers": {"If-Match": '"1", "2"'}}, 400, None, "If-Match", id="if-match-list"
    ),
    pytest.param(
        "PUT",
        url("a"),
        {"json": {"kind": "t"}, "headers": {"If-Match": '"' + HUGE_DIGITS + '"'}},
        400,
        None,
        "If-Match",
        id="if-match-huge",
    ),
    pytest.param(
        "DELETE", url("a.b"), {"headers": {"If-Match": b'"\xb2"'}}, 400, None, "If-Match", id="if-match-superscript"
    ),
    pytest.param(*raw("POST", NS, b"{}", **{"Content-Type": "text/plain"}), 415, None, "Content-Type", id="create-415"),
    pytest.param(
        *raw("PUT", url("a"), b"{}", **{"Content-Type": "application/xml"}), 415, None, "Content-Type", id="put-415"
    ),
    pytest.param(
        *raw("POST", "/v1/compaction", b"{}", **{"Content-Type": "application/merge-patch+json"}),
        415,
        "unsupported-media-type",
        "Content-Type",
        id="compact-415",
    ),
    # preconditions and conflicts
    pytest.param(
        "PUT", url("a"), {"json": {"kind": "t"}, "headers": {"If-Match": '"99"'}}, 412, None, "If-Match", id="put-412"
    ),
    pytest.param(
        "PATCH", url("a"), {"json": {}, "headers": {"If-Match": '"99"'}}, 412, None, "If-Match", id="patch-412"
    ),
    pytest.param("DELETE", url("a.b"), {"headers": {"If-Match": '"99"'}}, 412, None, "If-Match", id="delete-412"),
    pytest.param(
        "PUT",
        url("a"),
        {"json": {"kind": "t"}, "headers": {"If-None-Match": "*"}},
        412,
        "precondition-failed",
        "If-None-Match",
        id="put-create-only-412",
    ),
    # the tree
    pytest.param(*post(spec_with(id="nope.child")), 422, "parent-not-found", "/id", id="parent-missing"),
    pytest.param(*post(spec_with(id="a")), 409, "already-exists", "/id", id="already-exists"),
    pytest.param("DELETE", url("a"), {}, 409, "not-empty", "recursive", id="delete-non-leaf"),
    # routing
    pytest.param("GET", "/v2/namespaces", {}, 404, "not-found", "path", id="route-v2"),
    pytest.param("GET", "/v1/namespace", {}, 404, "not-found", "path", id="route-singular"),
    pytest.param("GET", "/", {}, 404, "not-found", "path", id="route-root"),
    pytest.param("GET", "/healthz/", {}, 404, "not-found", "path", id="route-trailing-slash"),
    pytest.param("DELETE", NS, {}, 405, "method-not-allowed", "method", id="405-collection"),
    pytest.param("POST", url("a"), {"json": {}}, 405, "method-not-allowed", "method", id="405-item"),
    pytest.param("PUT", url("a", "/history"), {}, 405, "method-not-allowed", "method", id="405-history"),
    pytest.param("GET", "/v1/compaction", {}, 405, "method-not-allowed", "method", id="405-compaction"),
    pytest.param("POST", "/v1/revision", {}, 405, "method-not-allowed", "method", id="405-revision"),
    pytest.param("DELETE", "/healthz", {}, 405, "method-not-allowed", "method", id="405-healthz"),
]


@pytest.fixture
async def seeded(client: httpx.AsyncClient) -> dict[str, str]:
    """a (two versions) and its child a.b; returns real cursors of other queries."""
    await create(client, "a", labels={"tier": "web"})
    await create(client, "a.b")
    await client.patch(url("a"), json={"labels": {"tier": "db"}})
    listing = (await client.get(NS, params={"limit": 1})).json()
    history = (await client.get(url("a", "/history"), params={"limit": 1})).json()
    assert listing["next_cursor"]
    assert history["next_cursor"]
    return {"LIST_CURSOR": listing["next_cursor"], "HISTORY_CURSOR": history["next_cursor"]}


@pytest.mark.parametrize(("method", "path", "kwargs", "status", "slug", "field"), BAD_INPUT)
async def test_bad_input_is_a_problem_and_changes_nothing(
    client: httpx.AsyncClient,
    seeded: dict[str, str],
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    slug: str | None,
    field: str,
) -> None:
    for token, cursor in seeded.items():
        path = path.replace(token, cursor)
    before = await stored(client)
    response = await client.request(method, path, **kwargs)
    body = assert_problem(response, status, slug, field)
    assert isinstance(body["field"], str)
    assert await stored(client) == before


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", NS, "GET, HEAD, POST"),
        ("PUT", NS, "GET, HEAD, POST"),
        ("POST", url("a"), "DELETE, GET, HEAD, PATCH, PUT"),
        ("DELETE", url("a", "/history"), "GET, HEAD"),
        ("PUT", "/v1/revision", "GET, HEAD"),
        ("GET", "/v1/compaction", "POST"),
        ("POST", "/healthz", "GET, HEAD"),
        ("OPTIONS", "/readyz", "GET, HEAD"),
        ("PATCH", "/metrics", "GET, HEAD"),
        ("POST", "/openapi.json", "GET, HEAD"),
    ],
)
async def test_wrong_method_is_405_with_allow(client: httpx.AsyncClient, method: str, path: str, allow: str) -> None:
    response = await client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert_problem(response, 405, "method-not-allowed", "method")


@pytest.mark.parametrize("path", ["/healthz", url("acme")])
async def test_head_is_answered_like_get_without_a_body(client: httpx.AsyncClient, path: str) -> None:
    """RFC 9110 §9.1: every general-purpose server supports HEAD wherever it supports GET
    (load balancers and uptime checkers probe with HEAD)."""
    await create(client, "acme")
    get = await client.get(path)
    head = await client.head(path)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers.get("etag") == get.headers.get("etag")


async def test_streamed_oversized_body_is_413(client: httpx.AsyncClient) -> None:
    """No Content-Length (chunked): the limit holds while the body is read."""

    async def chunks() -> Any:
        for _ in range(11):
            yield b" " * 100_000

    before = await stored(client)
    response = await client.post(NS, content=chunks(), headers=BAD_JSON)
    assert "content-length" not in response.request.headers
    body = assert_problem(response, 413, "payload-too-large", "body")
    assert body["limit"] == MIB
    assert await stored(client) == before


async def test_body_just_under_the_limit_is_read(client: httpx.AsyncClient) -> None:
    body = json.dumps({"id": "acme", "kind": "team"}).encode()
    response = await client.post(NS, content=body + b" " * (MIB - len(body)), headers=BAD_JSON)
    assert response.status_code == 201


async def test_content_type_parameters_are_ignored(client: httpx.AsyncClient) -> None:
    response = await client.post(
        NS, content=b'{"id": "acme", "kind": "team"}', headers={"Content-Type": "Application/JSON; charset=utf-8"}
    )
    assert response.status_code == 201


# -- fuzzing ----------------------------------------------------------------------------

spec_keys = st.sampled_from(["id", "kind", "owner", "state", "labels", "annotations", "metadata", "mod_revision"])
shaped_bodies = st.dictionaries(spec_keys, json_values, max_size=7)
bodies = json_values | shaped_bodies | st.builds(lambda extra: {"id": "fz", "kind": "team", **extra}, shaped_bodies)

FUZZ = fuzz_settings(max_examples=150)


@FUZZ
@given(body=bodies)
async def test_fuzz_json_bodies_never_cause_5xx(client: httpx.AsyncClient, body: Any) -> None:
    content = json.dumps(body).encode()
    for method, path in (
        ("POST", NS),
        ("PUT", url("fz")),
        ("PATCH", url("fz")),
        ("POST", "/v1/compaction"),
    ):
        assert_sane(await client.request(method, path, content=content, headers=BAD_JSON))


# Anything, and strings made of what ids, selectors, cursors and integers are built from
# (including non-ASCII digits, which str.isdigit accepts and int() may not).
fuzz_strings = (
    st.text(max_size=40)
    | st.text(alphabet="abcxyzAZ0129\u00b2\u0663-_.,=!()<>/%~ ", max_size=24)
    | st.text(alphabet="0129\u00b2\u0663", min_size=1, max_size=6)
)


@FUZZ
@given(text=fuzz_strings)
async def test_fuzz_strings_never_cause_5xx(client: httpx.AsyncClient, text: str) -> None:
    quoted = quote(text, safe="")
    assert_sane(await client.get(url(quoted)))
    assert_sane(await client.get(url(quoted, "/history")))
    assert_sane(await client.delete(url(quoted)))
    for name in ("prefix", "children_of", "selector", "cursor", "limit", "revision", "count_only"):
        assert_sane(await client.get(NS, params={name: text}))
    assert_sane(await client.get(url("fz", "/history"), params={"cursor": text}))
    assert_sane(await client.get(NS, params={"count_only": "true", "selector": text}))


async def test_null_optional_fields_take_their_defaults(client: httpx.AsyncClient) -> None:
    body = {
        "id": "nulls",
        "kind": "team",
        "owner": None,
        "state": None,
        "labels": None,
        "annotations": None,
        "metadata": None,
    }
    response = await client.post(NS, json=body)
    assert response.status_code == 201, response.text
    record = response.json()
    assert (record["owner"], record["state"], record["labels"], record["metadata"]) == ("anonymous", "active", {}, {})
