"""The schema registry's HTTP API (``/v1/schemas``) and schema-checked namespace writes.

In-process through httpx's ASGI transport, over a **strict** registry (kinds must name a
registered schema, unlike the schemaless ``client`` fixture of conftest.py), plus one
module of real-socket checks against ``nsroot serve`` started without schemaless kinds.
docs/schemas.md is the contract these tests hold the server to.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import ServerProcess
from httpkit import assert_problem, assert_sane, fuzz_settings, json_values, nested, revision_now, samples
from nsroot.config import Config
from nsroot.http.app import App
from nsroot.metrics import Metrics
from nsroot.registry import Registry
from nsroot.schemas.documents import SchemaLimits
from nsroot.schemas.schemaset import SchemaSet
from nsroot.store.sqlite import SQLiteOptions, SQLiteStore

JSON = {"Content-Type": "application/json"}
MERGE = {"Content-Type": "application/merge-patch+json"}
TEXT = {"Content-Type": "text/plain"}
NS = "/v1/namespaces"
SCHEMAS = "/v1/schemas"
MIB = 1 << 20
DRAFT_07 = "http://json-schema.org/draft-07/schema#"

#: The schema of docs/schemas.md.
SERVICE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "tier": {"enum": ["gold", "silver", "bronze"]},
        "owner_email": {"type": "string", "format": "email"},
    },
    "required": ["port"],
}
#: SERVICE with one more enum value: a widening, so BACKWARD-compatible.
SERVICE_WIDER: dict[str, Any] = {
    **SERVICE,
    "properties": {**SERVICE["properties"], "tier": {"enum": ["gold", "silver", "bronze", "platinum"]}},
}
#: SERVICE narrowed twice: a new required property and an enum value removed.
SERVICE_NARROWER: dict[str, Any] = {
    **SERVICE,
    "properties": {**SERVICE["properties"], "owner": {"type": "string"}, "tier": {"enum": ["silver", "bronze"]}},
    "required": ["port", "owner"],
}


# -- helpers ----------------------------------------------------------------------------


def versions_url(name: str, suffix: str = "") -> str:
    return f"{SCHEMAS}/{name}/versions{suffix}"


def ns_url(ns_id: str) -> str:
    return f"{NS}/{ns_id}"


async def register(http: httpx.AsyncClient, name: str, schema: Any, status: int = 201) -> dict[str, Any]:
    response = await http.post(versions_url(name), json={"schema": schema})
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def configure(http: httpx.AsyncClient, name: str, mode: str | None) -> dict[str, Any]:
    response = await http.put(f"{SCHEMAS}/{name}/config", json={"compatibility": mode})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def create(http: httpx.AsyncClient, ns_id: str, kind: str, metadata: Any = None) -> httpx.Response:
    body: dict[str, Any] = {"id": ns_id, "kind": kind}
    if metadata is not None:
        body["metadata"] = metadata
    response = await http.post(NS, json=body)
    assert response.status_code == 201, response.text
    return response


async def state(http: httpx.AsyncClient) -> tuple[Any, ...]:
    """Everything a refused request must leave as it was: schemas, versions, revision, records."""
    schemas = await http.get(SCHEMAS)
    revision = await http.get("/v1/revision")
    records = await http.get(NS, params={"limit": 1000})
    assert schemas.status_code == revision.status_code == records.status_code == 200
    versions = []
    for item in schemas.json()["items"]:
        listing = await http.get(versions_url(item["name"]))
        assert listing.status_code == 200
        versions.append(listing.json())
    return schemas.json(), revision.json(), records.json()["items"], versions


def deep_schema(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"type": "object"}
    for _ in range(depth):
        value = {"properties": {"n": value}}
    return value


# -- fixtures ---------------------------------------------------------------------------


def strict_registry(db: Path, limits: SchemaLimits | None = None) -> Registry:
    """A registry without schemaless kinds: every kind must name a registered schema."""
    metrics = Metrics()
    store = SQLiteStore(SQLiteOptions(db), on_commit=metrics.observe_commit)
    schemas = SchemaSet(store, limits=limits, metrics=metrics) if limits is not None else None
    return Registry(store, metrics=metrics, schemas=schemas)


async def strict_client(registry: Registry, db: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with registry:
        app = App(registry, Config(db=db), manage_lifespan=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://nsroot.test") as http:
            yield http


@pytest.fixture
async def http(db_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for client in strict_client(strict_registry(db_path), db_path):
        yield client


@pytest.fixture
async def service(http: httpx.AsyncClient) -> httpx.AsyncClient:
    """Schema ``service`` version 1 (SERVICE) registered."""
    await register(http, "service", SERVICE)
    return http


# -- registering ------------------------------------------------------------------------


async def test_register_answers_201_with_location_etag_and_revision(http: httpx.AsyncClient) -> None:
    before = await revision_now(http)
    response = await http.post(versions_url("service"), json={"schema": SERVICE})
    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["location"] == "/v1/schemas/service/versions/1"
    body = response.json()
    assert response.headers["etag"] == f'"{body["fingerprint"]}"'
    assert re.fullmatch(r"[0-9a-f]{64}", body["fingerprint"])
    assert body["name"] == "service"
    assert body["version"] == 1
    assert body["uri"] == "nsroot:schemas/service/1"
    assert body["state"] == "active"
    assert body["dialect"] == "2020-12"
    assert body["references"] == []
    assert body["created_by"] == "anonymous"
    assert body["schema"] == SERVICE
    # registering takes one revision of the global sequence
    assert body["revision"] == before + 1 == await revision_now(http)
    assert response.headers["nsroot-revision"] == str(body["revision"])


async def test_identical_registration_is_200_with_the_same_version_and_writes_nothing(
    service: httpx.AsyncClient,
) -> None:
    first = await service.get(versions_url("service", "/1"))
    before = await state(service)
    # equal after sorting keys: the same document
    reordered = json.loads(json.dumps(SERVICE, sort_keys=True))
    reordered = dict(reversed(list(reordered.items())))
    response = await service.post(versions_url("service"), json={"schema": reordered})
    assert response.status_code == 200, response.text
    assert "location" not in response.headers
    assert response.headers["etag"] == first.headers["etag"]
    assert response.json() == first.json()
    assert await state(service) == before


async def test_new_versions_count_up_and_the_draft_07_dialect_is_recognised(service: httpx.AsyncClient) -> None:
    second = await register(service, "service", SERVICE_WIDER)
    assert second["version"] == 2
    assert second["uri"] == "nsroot:schemas/service/2"
    seven = await register(service, "legacy", {"$schema": DRAFT_07, "type": "object"})
    assert seven["dialect"] == "draft-07"
    assert (await register(service, "plain", True))["schema"] is True


async def test_reads(service: httpx.AsyncClient) -> None:
    await register(service, "service", SERVICE_WIDER)
    await register(service, "acme.team", {"type": "object"})

    listing = await service.get(SCHEMAS)
    assert listing.status_code == 200
    body = listing.json()
    assert body["default_compatibility"] == "BACKWARD"
    assert [item["name"] for item in body["items"]] == ["acme.team", "service"]
    entry = body["items"][1]
    assert entry["latest_version"] == 2
    assert entry["versions"] == [1, 2]
    assert entry["compatibility"] == "BACKWARD"
    assert entry["compatibility_inherited"] is True

    one = await service.get(f"{SCHEMAS}/service")
    assert one.status_code == 200
    assert one.json() == entry

    versions = await service.get(versions_url("service"))
    assert versions.status_code == 200
    items = versions.json()["items"]
    assert [v["version"] for v in items] == [1, 2]
    assert all("schema" not in v for v in items)  # listed without documents

    first = await service.get(versions_url("service", "/1"))
    latest = await service.get(versions_url("service", "/latest"))
    assert first.status_code == latest.status_code == 200
    assert first.json()["schema"] == SERVICE
    assert latest.json()["schema"] == SERVICE_WIDER
    assert latest.json()["version"] == 2
    assert latest.headers["etag"] == f'"{latest.json()["fingerprint"]}"'
    assert first.headers["etag"] != latest.headers["etag"]
    assert latest.headers["nsroot-revision"] == str(latest.json()["revision"])
    assert {k: v for k, v in latest.json().items() if k != "schema"} == items[1]

    head = await service.head(SCHEMAS)
    assert head.status_code == 200
    assert head.content == b""

    for missing in (f"{SCHEMAS}/nothing", versions_url("nothing"), versions_url("service", "/3")):
        assert_problem(await service.get(missing), 404, "not-found")


async def test_a_version_number_is_never_given_out_twice(service: httpx.AsyncClient) -> None:
    await register(service, "service", SERVICE_WIDER)
    deleted = await service.delete(versions_url("service", "/2"))
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["deleted"] == [2]
    assert_problem(await service.get(versions_url("service", "/2")), 404, "not-found", "version")
    again = await register(service, "service", SERVICE_WIDER)
    assert again["version"] == 3


async def test_max_versions_is_a_422(db_path: Path) -> None:
    async for http in strict_client(strict_registry(db_path, SchemaLimits(max_versions=2)), db_path):
        await configure(http, "few", "NONE")
        await register(http, "few", {"type": "object"})
        await register(http, "few", {"type": "string"})
        before = await state(http)
        response = await http.post(versions_url("few"), json={"schema": {"type": "integer"}})
        assert_problem(response, 422, "invalid-schema", rule="max-versions")
        assert await state(http) == before


# -- configuration ----------------------------------------------------------------------


async def test_config_set_and_back_to_the_default(service: httpx.AsyncClient) -> None:
    config = await service.get(f"{SCHEMAS}/service/config")
    assert config.status_code == 200
    assert config.json()["compatibility"] == "BACKWARD"
    assert config.json()["compatibility_inherited"] is True

    before = await revision_now(service)
    full = await configure(service, "service", "FULL")
    assert full["compatibility"] == "FULL"
    assert full["compatibility_inherited"] is False
    assert full["revision"] == before + 1 == await revision_now(service)
    assert (await service.get(f"{SCHEMAS}/service/config")).json()["compatibility"] == "FULL"
    assert (await service.get(SCHEMAS)).json()["items"][0]["compatibility"] == "FULL"

    default = await configure(service, "service", None)
    assert default["compatibility"] == "BACKWARD"
    assert default["compatibility_inherited"] is True


async def test_config_before_the_first_version_creates_the_schema(http: httpx.AsyncClient) -> None:
    created = await configure(http, "future", "NONE")
    assert created["latest_version"] is None
    assert created["versions"] == []
    got = await http.get(f"{SCHEMAS}/future")
    assert got.status_code == 200
    assert got.json()["compatibility"] == "NONE"
    assert_problem(await http.get(versions_url("future", "/latest")), 404, "not-found", "version")
    assert (await register(http, "future", {"type": "object"}))["version"] == 1


# -- compatibility ----------------------------------------------------------------------


async def test_dry_run_compatible(service: httpx.AsyncClient) -> None:
    before = await state(service)
    response = await service.post(f"{SCHEMAS}/service/compatibility", json={"schema": SERVICE_WIDER})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["compatible"] is True
    assert body["mode"] == "BACKWARD"
    assert body["compared_with"] == [1]
    assert body["breaking"] == []
    assert await state(service) == before  # nothing registered


async def test_dry_run_incompatible_lists_every_breaking_change(service: httpx.AsyncClient) -> None:
    before = await state(service)
    response = await service.post(f"{SCHEMAS}/service/compatibility", json={"schema": SERVICE_NARROWER})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["compatible"] is False
    assert body["mode"] == "BACKWARD"
    assert body["compared_with"] == [1]
    found = {(b["pointer"], b["rule"]) for b in body["breaking"]}
    assert ("/properties/owner", "required-added") in found
    assert any(pointer.startswith("/properties/tier") for pointer, _ in found), found
    assert len(body["breaking"]) >= 2
    for breaking in body["breaking"]:
        assert breaking["version"] == 1
        assert breaking["message"].startswith(breaking["pointer"])
        assert breaking["change"]
    assert await state(service) == before


async def test_dry_run_against_one_version(service: httpx.AsyncClient) -> None:
    await configure(service, "service", "NONE")
    await register(service, "service", SERVICE_NARROWER)
    await configure(service, "service", "BACKWARD_TRANSITIVE")
    # SERVICE is compatible with version 1 (itself) but not, as a next version, with 1 and 2
    transitive = await service.post(f"{SCHEMAS}/service/compatibility", json={"schema": SERVICE_NARROWER})
    assert transitive.json()["compared_with"] == [1, 2]
    assert transitive.json()["compatible"] is False
    only_two = await service.post(
        f"{SCHEMAS}/service/compatibility", params={"version": 2}, json={"schema": SERVICE_NARROWER}
    )
    assert only_two.status_code == 200, only_two.text
    assert only_two.json()["compared_with"] == [2]
    assert only_two.json()["compatible"] is True
    assert only_two.json()["mode"] == "BACKWARD"  # one version: the mode without _TRANSITIVE
    only_one = await service.post(f"{SCHEMAS}/service/compatibility?version=1", json={"schema": SERVICE_NARROWER})
    assert only_one.json()["compared_with"] == [1]
    assert only_one.json()["compatible"] is False
    assert {b["version"] for b in only_one.json()["breaking"]} == {1}
    assert_problem(
        await service.post(f"{SCHEMAS}/service/compatibility?version=7", json={"schema": SERVICE}),
        404,
        "not-found",
        "version",
    )


async def test_dry_run_of_a_first_version_is_compatible(http: httpx.AsyncClient) -> None:
    response = await http.post(f"{SCHEMAS}/fresh/compatibility", json={"schema": SERVICE})
    assert response.status_code == 200, response.text
    assert response.json()["compatible"] is True
    assert response.json()["compared_with"] == []
    assert_problem(await http.get(f"{SCHEMAS}/fresh"), 404, "not-found")


async def test_incompatible_registration_is_409_with_every_difference(service: httpx.AsyncClient) -> None:
    before = await state(service)
    response = await service.post(versions_url("service"), json={"schema": SERVICE_NARROWER})
    body = assert_problem(response, 409, "incompatible-schema", "/schema", "compatibility")
    assert body["mode"] == "BACKWARD"
    assert len(body["breaking"]) >= 2
    assert len(body["errors"]) == len(body["breaking"])
    for breaking, error in zip(body["breaking"], body["errors"], strict=True):
        assert breaking["version"] == 1
        assert {"pointer", "change", "rule", "message"} <= set(breaking)
        assert error["field"] == "/schema" + breaking["pointer"]
        assert error["rule"] == breaking["rule"]
    assert ("/properties/owner", "required-added") in {(b["pointer"], b["rule"]) for b in body["breaking"]}
    assert await state(service) == before
    # with mode NONE the same document is accepted
    await configure(service, "service", "NONE")
    assert (await register(service, "service", SERVICE_NARROWER))["version"] == 2


async def test_concurrent_registrations_cannot_both_pass_against_the_same_version(http: httpx.AsyncClient) -> None:
    """Each candidate is compatible with version 1, but not with the other: exactly one lands."""
    await register(http, "race", {"type": "object", "properties": {"x": {"type": "integer", "maximum": 10}}})
    higher = {"type": "object", "properties": {"x": {"type": "integer", "maximum": 20}}}
    or_text = {"type": "object", "properties": {"x": {"type": ["integer", "string"], "maximum": 10}}}
    for candidate in (higher, or_text):
        check = await http.post(f"{SCHEMAS}/race/compatibility", json={"schema": candidate})
        assert check.json()["compatible"] is True, check.text
    answers = await asyncio.gather(
        http.post(versions_url("race"), json={"schema": higher}),
        http.post(versions_url("race"), json={"schema": or_text}),
    )
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    assert (await http.get(f"{SCHEMAS}/race")).json()["versions"] == [1, 2]


# -- references -------------------------------------------------------------------------


async def test_references_to_registered_schemas(http: httpx.AsyncClient) -> None:
    common = {"$id": "urn:acme:common", "$defs": {"email": {"type": "string", "format": "email"}}}
    await register(http, "common", common)
    by_uri = await register(
        http, "contact", {"type": "object", "properties": {"mail": {"$ref": "nsroot:schemas/common/1#/$defs/email"}}}
    )
    assert by_uri["references"] == ["common@1"]
    by_id = await register(
        http, "person", {"type": "object", "properties": {"mail": {"$ref": "urn:acme:common#/$defs/email"}}}
    )
    assert by_id["references"] == ["common@1"]
    good = await http.post(f"{SCHEMAS}/contact/validate", json={"mail": "a@example.com"})
    bad = await http.post(f"{SCHEMAS}/person/validate", json={"mail": "not an email"})
    assert good.json()["valid"] is True
    assert bad.json()["valid"] is False
    assert bad.json()["errors"][0]["instance_path"] == "/mail"
    # a referenced version cannot be deleted
    in_use = await http.delete(versions_url("common", "/1"))
    assert_problem(in_use, 409, "schema-in-use", rule="not-referenced")


# -- validation as a service ------------------------------------------------------------


async def test_validate_one_document(service: httpx.AsyncClient) -> None:
    valid = await service.post(f"{SCHEMAS}/service/validate", json={"port": 80, "tier": "gold"})
    assert valid.status_code == 200
    assert valid.json() == {"valid": True, "errors": [], "schema": {"name": "service", "version": 1}}
    invalid = await service.post(
        f"{SCHEMAS}/service/validate", json={"port": 70000, "tier": "platinum", "owner_email": "nope"}
    )
    assert invalid.status_code == 200
    body = invalid.json()
    assert body["valid"] is False
    assert body["schema"] == {"name": "service", "version": 1}
    found = {(e["instance_path"], e["keyword"], e["schema_path"]) for e in body["errors"]}
    assert found == {
        ("/port", "maximum", "/properties/port/maximum"),
        ("/tier", "enum", "/properties/tier/enum"),
        ("/owner_email", "format", "/properties/owner_email/format"),  # format is a rule, not an annotation
    }
    assert all(e["message"] for e in body["errors"])


async def test_validate_a_batch_and_a_chosen_version(service: httpx.AsyncClient) -> None:
    await configure(service, "service", "NONE")
    await register(service, "service", SERVICE_NARROWER)
    documents = [{"port": 80}, {"port": "eighty"}, {"port": 1, "owner": "x", "tier": "silver"}]
    latest = await service.post(f"{SCHEMAS}/service/validate", json=documents)
    assert latest.status_code == 200
    body = latest.json()
    assert body["schema"] == {"name": "service", "version": 2}
    assert body["valid"] is False
    assert body["invalid_count"] == 2
    assert [r["valid"] for r in body["results"]] == [False, False, True]
    assert {(e["instance_path"], e["keyword"]) for e in body["results"][1]["errors"]} == {
        ("", "required"),
        ("/port", "type"),
    }

    first = await service.post(f"{SCHEMAS}/service/validate", params={"version": 1}, json=documents)
    assert first.json()["schema"] == {"name": "service", "version": 1}
    assert first.json()["invalid_count"] == 1
    assert [r["valid"] for r in first.json()["results"]] == [True, False, True]
    explicit = await service.post(f"{SCHEMAS}/service/validate?version=latest", json=documents)
    assert explicit.json() == body

    empty = await service.post(f"{SCHEMAS}/service/validate", json=[])
    assert empty.json() == {
        "schema": {"name": "service", "version": 2},
        "valid": True,
        "invalid_count": 0,
        "results": [],
    }


# -- deprecating ------------------------------------------------------------------------


async def test_deprecated_versions_warn_on_writes(service: httpx.AsyncClient) -> None:
    plain = await create(service, "before", "service", {"port": 80})
    assert "warning" not in plain.headers

    before = await revision_now(service)
    response = await service.patch(versions_url("service", "/1"), json={"state": "deprecated"}, headers=MERGE)
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "deprecated"
    assert response.headers["etag"] == f'"{response.json()["fingerprint"]}"'
    assert await revision_now(service) == before + 1  # a change: it takes a revision
    assert (await service.get(versions_url("service", "/1"))).json()["state"] == "deprecated"

    # still works, and every kind of write says so
    created = await create(service, "svc", "service", {"port": 80})
    replaced = await service.put(ns_url("svc"), json={"kind": "service", "metadata": {"port": 81}})
    patched = await service.patch(ns_url("svc"), json={"metadata": {"port": 82}}, headers=MERGE)
    pinned = await create(service, "pinned", "service@1", {"port": 80})
    assert replaced.status_code == patched.status_code == 200
    for answer in (created, replaced, patched, pinned):
        assert "deprecated" in answer.headers["warning"], answer.headers
        assert answer.headers["warning"].startswith("299 ")
        assert "service@1" in answer.headers["warning"]

    # a newer active version: unpinned kinds use it, pinned ones still warn
    await register(service, "service", SERVICE_WIDER)
    assert "warning" not in (await create(service, "newer", "service", {"port": 80})).headers
    assert "warning" in (await create(service, "pinned2", "service@1", {"port": 80})).headers

    undone = await service.patch(versions_url("service", "/1"), json={"state": "active"})
    assert undone.status_code == 200
    assert undone.json()["state"] == "active"
    assert "warning" not in (await create(service, "pinned3", "service@1", {"port": 80})).headers


async def test_set_state_answers_the_revision_it_committed_at(service: httpx.AsyncClient) -> None:
    """Nsroot-Revision is, for a write, the revision it committed at (openapi.py's
    _REVISION_HEADER), as it is for a registration."""
    await create(service, "svc", "service", {"port": 80})
    response = await service.patch(versions_url("service", "/1"), json={"state": "deprecated"})
    assert response.status_code == 200
    assert response.headers["nsroot-revision"] == str(await revision_now(service))


async def test_patch_and_delete_take_latest(service: httpx.AsyncClient) -> None:
    """``latest`` names the newest version for PATCH and DELETE too, resolved when the request arrives."""
    await register(service, "service", SERVICE_WIDER)
    response = await service.patch(versions_url("service", "/latest"), json={"state": "deprecated"})
    assert response.status_code == 200, response.text
    assert (response.json()["version"], response.json()["state"]) == (2, "deprecated")
    response = await service.delete(versions_url("service", "/latest"))
    assert response.status_code == 200, response.text
    assert response.json()["deleted"] == [2]
    body = assert_problem(await service.delete(versions_url("service", "/x1")), 400, "invalid-input", "version")
    assert '"latest"' in body["detail"]


# -- deleting ---------------------------------------------------------------------------


async def test_delete_refused_while_a_namespace_uses_the_version(service: httpx.AsyncClient) -> None:
    await create(service, "a", "service", {"port": 80})
    await create(service, "b", "service@1", {"port": 81})
    before = await state(service)
    for path in (versions_url("service", "/1"), f"{SCHEMAS}/service"):
        body = assert_problem(await service.delete(path), 409, "schema-in-use", rule="not-in-use")
        assert body["namespaces"] == 2
        assert "(a, b)" in body["detail"]
    assert await state(service) == before

    # a namespace moved to another version no longer holds version 1
    await register(service, "service", SERVICE_WIDER)
    assert (await service.put(ns_url("a"), json={"kind": "service", "metadata": {"port": 80}})).status_code == 200
    body = assert_problem(await service.delete(versions_url("service", "/1")), 409, "schema-in-use")
    assert body["namespaces"] == 1
    assert (await service.delete(ns_url("b"))).status_code == 200

    before_delete = await revision_now(service)
    deleted = await service.delete(versions_url("service", "/1"))
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"name": "service", "deleted": [1], "revision": before_delete + 1}
    assert (await service.get(f"{SCHEMAS}/service")).json()["versions"] == [2]
    assert_problem(await service.delete(versions_url("service", "/1")), 404, "not-found", "version")


async def test_delete_schema(service: httpx.AsyncClient) -> None:
    await register(service, "service", SERVICE_WIDER)
    deleted = await service.delete(f"{SCHEMAS}/service")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["name"] == "service"
    assert deleted.json()["deleted"] == [1, 2]
    assert deleted.json()["revision"] == await revision_now(service)
    assert (await service.get(SCHEMAS)).json()["items"] == []
    assert_problem(await service.get(f"{SCHEMAS}/service"), 404, "not-found", "name")
    assert_problem(await service.delete(f"{SCHEMAS}/service"), 404, "not-found", "name")
    # and the kind is unknown again
    response = await service.post(NS, json={"id": "x", "kind": "service", "metadata": {"port": 1}})
    assert_problem(response, 422, "unknown-kind", "/kind")
    # a version number is never given out twice, even after the whole schema was deleted
    again = await register(service, "service", SERVICE)
    assert again["version"] == 3
    assert again["uri"] == "nsroot:schemas/service/3"
    assert (await service.get(f"{SCHEMAS}/service")).json()["compatibility_inherited"] is True


# -- the report -------------------------------------------------------------------------


async def test_report_pages_the_namespaces_a_version_would_break(service: httpx.AsyncClient) -> None:
    await register(service, "other", {"type": "object"})
    for i in range(5):
        await create(service, f"bad{i}", "service" if i % 2 else "service@1", {"port": 80 + i})
    await create(service, "good", "service", {"port": 1, "owner": "x", "tier": "silver"})
    await create(service, "unrelated", "other", {"port": "not checked"})
    await configure(service, "service", "NONE")
    await register(service, "service", SERVICE_NARROWER)

    one = await service.get(versions_url("service", "/1/report"))
    assert one.status_code == 200
    assert one.json()["items"] == []
    assert one.json()["schema"] == {"name": "service", "version": 1}

    pages, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        response = await service.get(versions_url("service", "/latest/report"), params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["schema"] == {"name": "service", "version": 2}
        assert response.headers["nsroot-revision"] == str(page["revision"])
        assert len(page["items"]) <= 2
        pages.append(page)
        cursor = page["next_cursor"]
        if not cursor:
            break
        # a write between pages changes nothing: every page reads at the first page's revision
        await create(service, f"late{len(pages)}", "service@1", {"port": 9})
    assert len(pages) >= 3
    assert len({p["revision"] for p in pages}) == 1
    failing = [item for page in pages for item in page["items"]]
    assert [item["id"] for item in failing] == [f"bad{i}" for i in range(5)]
    assert {item["kind"] for item in failing} == {"service", "service@1"}
    for item in failing:
        assert item["mod_revision"] > 0
        found = {(e["instance_path"], e["keyword"]) for e in item["errors"]}
        assert ("/metadata", "required") in found
        assert all(e["schema_path"] and e["message"] for e in item["errors"])
    assert sum(p["scanned"] for p in pages) >= 7

    everything = (await service.get(versions_url("service", "/2/report"))).json()
    assert [item["id"] for item in everything["items"]] == [f"bad{i}" for i in range(5)] + ["late1", "late2"]
    assert everything["next_cursor"] is None
    assert_problem(
        await service.get(versions_url("service", "/2/report"), params={"cursor": pages[0]["next_cursor"], "x": 1}),
        400,
        "invalid-input",
        "x",
        "unknown-parameter",
    )


# -- namespace writes checked against their kind's schema -------------------------------

INVALID_METADATA = {"port": 70000, "tier": "platinum", "owner_email": "nope"}
VIOLATIONS = {
    ("/metadata/port", "maximum", "/properties/port/maximum"),
    ("/metadata/tier", "enum", "/properties/tier/enum"),
    ("/metadata/owner_email", "format", "/properties/owner_email/format"),
}


def assert_violations(response: httpx.Response, expected: set[tuple[str, str, str]], version: int = 1) -> None:
    body = assert_problem(response, 422, "schema-violation")
    assert {(e["field"], e["rule"], e["schema_path"]) for e in body["errors"]} == expected
    assert len(body["errors"]) == len(expected)
    assert all(e["detail"] for e in body["errors"])
    assert (body["field"], body["rule"]) in {(f, r) for f, r, _ in expected}
    assert body["schema"] == {"name": "service", "version": version}
    assert f"{len(expected)} error(s)" in body["detail"]


async def test_create_with_invalid_metadata_is_refused_with_every_error(service: httpx.AsyncClient) -> None:
    before = await state(service)
    response = await service.post(NS, json={"id": "svc", "kind": "service", "metadata": INVALID_METADATA})
    assert_violations(response, VIOLATIONS)
    missing = await service.post(NS, json={"id": "svc", "kind": "service"})
    assert_violations(missing, {("/metadata", "required", "/required")})
    assert await state(service) == before
    assert_problem(await service.get(ns_url("svc")), 404, "not-found")


async def test_replace_with_invalid_metadata_is_refused_and_changes_nothing(service: httpx.AsyncClient) -> None:
    await create(service, "svc", "service", {"port": 80})
    before = await state(service)
    response = await service.put(ns_url("svc"), json={"kind": "service", "metadata": INVALID_METADATA})
    assert_violations(response, VIOLATIONS)
    # PUT that would create is refused too
    creating = await service.put(ns_url("fresh"), json={"kind": "service", "metadata": INVALID_METADATA})
    assert_violations(creating, VIOLATIONS)
    assert await state(service) == before
    assert (await service.get(ns_url("svc"))).json()["metadata"] == {"port": 80}
    assert_problem(await service.get(ns_url("fresh")), 404, "not-found")


async def test_patch_is_validated_on_its_result(service: httpx.AsyncClient) -> None:
    await create(service, "svc", "service", {"port": 80, "tier": "gold"})
    before = await state(service)
    response = await service.patch(
        ns_url("svc"), json={"metadata": {"tier": "platinum", "owner_email": "nope", "port": 70000}}, headers=MERGE
    )
    assert_violations(response, VIOLATIONS)
    # each part of the patch is fine alone; removing port breaks `required` in the merged result
    removed = await service.patch(ns_url("svc"), json={"metadata": {"port": None}}, headers=MERGE)
    assert_violations(removed, {("/metadata", "required", "/required")})
    assert await state(service) == before
    assert (await service.get(ns_url("svc"))).json()["metadata"] == {"port": 80, "tier": "gold"}


async def test_pinned_kinds_use_their_version(service: httpx.AsyncClient) -> None:
    await configure(service, "service", "NONE")
    await register(service, "service", SERVICE_NARROWER)
    await create(service, "old", "service@1", {"port": 80})  # valid under 1, not under 2
    response = await service.post(NS, json={"id": "new", "kind": "service", "metadata": {"port": 80}})
    body = assert_problem(response, 422, "schema-violation", "/metadata", "required")
    assert body["schema"] == {"name": "service", "version": 2}


@pytest.mark.parametrize("kind", ["nothing", "nothing@1", "service@2", "service@999999999"])
async def test_unknown_kinds_are_refused(service: httpx.AsyncClient, kind: str) -> None:
    before = await state(service)
    response = await service.post(NS, json={"id": "svc", "kind": kind, "metadata": {"port": 80}})
    assert_problem(response, 422, "unknown-kind", "/kind", "kind-has-schema")
    replaced = await service.put(ns_url("svc"), json={"kind": kind, "metadata": {"port": 80}})
    assert_problem(replaced, 422, "unknown-kind", "/kind")
    assert await state(service) == before


async def test_schemaless_kinds_still_check_registered_kinds_and_pins(client: httpx.AsyncClient) -> None:
    """``client`` (conftest.py) runs with schemaless kinds: a kind without a schema takes any
    metadata, a registered one is still checked, and a pinned kind always needs its version."""
    await register(client, "service", SERVICE)
    free = await client.post(NS, json={"id": "free", "kind": "anything", "metadata": {"port": "any"}})
    assert free.status_code == 201, free.text
    checked = await client.post(NS, json={"id": "svc", "kind": "service", "metadata": {"port": "x"}})
    assert_problem(checked, 422, "schema-violation", "/metadata/port", "type")
    for kind in ("anything@1", "service@2"):
        pinned = await client.post(NS, json={"id": "pinned", "kind": kind})
        assert_problem(pinned, 422, "unknown-kind", "/kind")


async def test_patch_to_an_unknown_kind_is_refused(service: httpx.AsyncClient) -> None:
    await create(service, "svc", "service", {"port": 80})
    before = await state(service)
    response = await service.patch(ns_url("svc"), json={"kind": "nothing"}, headers=MERGE)
    assert_problem(response, 422, "unknown-kind", "/kind")
    assert await state(service) == before


# -- bad input --------------------------------------------------------------------------

SIMPLE = {"type": "object"}
HUGE = b'{"schema": {"description": "' + b"x" * MIB + b'"}}'


def body(method: str, path: str, value: Any) -> tuple[str, str, dict[str, Any]]:
    return method, path, {"json": value}


def raw(
    method: str, path: str, content: bytes, headers: dict[str, str] | None = None
) -> tuple[str, str, dict[str, Any]]:
    return method, path, {"content": content, "headers": headers or JSON}


V = versions_url("service")
V1 = versions_url("service", "/1")
COMPAT = f"{SCHEMAS}/service/compatibility"
VALIDATE = f"{SCHEMAS}/service/validate"
CONFIG = f"{SCHEMAS}/service/config"
REPORT = versions_url("service", "/1/report")

BAD_INPUT = [
    # malformed JSON
    pytest.param(*raw("POST", V, b"{nope"), 400, "invalid-input", "body", "json-syntax", id="register-malformed"),
    pytest.param(*raw("POST", V, b""), 400, "invalid-input", "body", "json-syntax", id="register-empty"),
    pytest.param(*raw("POST", COMPAT, b'{"schema": '), 400, "invalid-input", "body", "json-syntax", id="compat-cut"),
    pytest.param(*raw("POST", VALIDATE, b"[1,"), 400, "invalid-input", "body", "json-syntax", id="validate-cut"),
    pytest.param(*raw("PUT", CONFIG, b"{'a': 1}"), 400, "invalid-input", "body", "json-syntax", id="config-quotes"),
    pytest.param(*raw("PATCH", V1, b"nope"), 400, "invalid-input", "body", "json-syntax", id="state-malformed"),
    pytest.param(
        *raw("POST", VALIDATE, b"[" * 100_000 + b"]" * 100_000),
        400,
        "invalid-input",
        "body",
        "json-depth",
        id="validate-json-too-deep",
    ),
    # wrong body shape
    pytest.param(*body("POST", V, [SIMPLE]), 400, "invalid-input", "/schema", "required", id="register-array"),
    pytest.param(*body("POST", V, SIMPLE), 400, "invalid-input", "/schema", "required", id="register-bare-schema"),
    pytest.param(*body("POST", V, "x"), 400, "invalid-input", "/schema", "required", id="register-string"),
    pytest.param(*body("POST", COMPAT, {}), 400, "invalid-input", "/schema", "required", id="compat-empty-object"),
    pytest.param(*body("PUT", CONFIG, {}), 400, "invalid-input", "/compatibility", "required", id="config-empty"),
    pytest.param(*body("PUT", CONFIG, ["NONE"]), 400, "invalid-input", "/compatibility", "required", id="config-list"),
    pytest.param(*body("PATCH", V1, {}), 400, "invalid-input", "/state", "enum", id="state-empty"),
    pytest.param(*body("PATCH", V1, "deprecated"), 400, "invalid-input", "/state", "enum", id="state-string"),
    # unknown body fields
    pytest.param(
        *body("POST", V, {"schema": SIMPLE, "x": 1}),
        400,
        "invalid-input",
        "/x",
        "unknown-field",
        id="register-unknown-field",
    ),
    pytest.param(
        *body("POST", COMPAT, {"schema": SIMPLE, "mode": "NONE"}),
        400,
        "invalid-input",
        "/mode",
        "unknown-field",
        id="compat-unknown-field",
    ),
    pytest.param(
        *body("PUT", CONFIG, {"compatibility": "NONE", "x": 1}),
        400,
        "invalid-input",
        "/x",
        "unknown-field",
        id="config-unknown-field",
    ),
    pytest.param(
        *body("PATCH", V1, {"state": "deprecated", "x": 1}),
        400,
        "invalid-input",
        "/state",
        "enum",
        id="state-unknown-field",
    ),
    # bad names
    pytest.param("GET", f"{SCHEMAS}/Bad_Name", {}, 400, "invalid-input", "name", "schema-name", id="get-bad-name"),
    pytest.param("GET", f"{SCHEMAS}/a..b", {}, 400, "invalid-input", "name", "schema-name", id="get-empty-segment"),
    pytest.param("GET", f"{SCHEMAS}/", {}, 400, "invalid-input", "name", "schema-name", id="get-empty-name"),
    pytest.param("GET", f"{SCHEMAS}/{'a' * 64}", {}, 400, "invalid-input", "name", "schema-name", id="get-long-name"),
    pytest.param(
        "GET", f"{SCHEMAS}/1a/versions", {}, 400, "invalid-input", "name", "schema-name", id="versions-bad-name"
    ),
    pytest.param(
        *body("POST", versions_url("Bad"), {"schema": SIMPLE}),
        400,
        "invalid-input",
        "name",
        "schema-name",
        id="register-bad-name",
    ),
    pytest.param(
        *body("PUT", f"{SCHEMAS}/a_b/config", {"compatibility": "NONE"}),
        400,
        "invalid-input",
        "name",
        "schema-name",
        id="config-bad-name",
    ),
    pytest.param(
        *body("POST", f"{SCHEMAS}/-x/validate", {}), 400, "invalid-input", "name", "schema-name", id="validate-bad-name"
    ),
    pytest.param(
        *body("POST", f"{SCHEMAS}/X/compatibility", {"schema": SIMPLE}),
        400,
        "invalid-input",
        "name",
        "schema-name",
        id="compat-bad-name",
    ),
    pytest.param("DELETE", f"{SCHEMAS}/a%20b", {}, 400, "invalid-input", "name", "schema-name", id="delete-bad-name"),
    # bad versions
    pytest.param("GET", versions_url("service", "/0"), {}, 400, "invalid-input", "version", "version", id="version-0"),
    pytest.param(
        "GET", versions_url("service", "/abc"), {}, 400, "invalid-input", "version", "version", id="version-abc"
    ),
    pytest.param(
        "GET",
        versions_url("service", "/" + "9" * 30),
        {},
        400,
        "invalid-input",
        "version",
        "version",
        id="version-huge",
    ),
    pytest.param(
        "GET", versions_url("service", "/-1"), {}, 400, "invalid-input", "version", "version", id="version-negative"
    ),
    pytest.param(
        "GET",
        versions_url("service", "/%C2%B2"),
        {},
        400,
        "invalid-input",
        "version",
        "version",
        id="version-superscript-digit",
    ),
    pytest.param(
        "GET",
        versions_url("service", "/%D9%A1"),
        {},
        400,
        "invalid-input",
        "version",
        "version",
        id="version-arabic-indic-digit",
    ),
    pytest.param(
        "GET",
        versions_url("service", "/0/report"),
        {},
        400,
        "invalid-input",
        "version",
        "version",
        id="report-version-0",
    ),
    pytest.param(
        *body("PATCH", versions_url("service", "/abc"), {"state": "deprecated"}),
        400,
        "invalid-input",
        "version",
        "version",
        id="state-version-abc",
    ),
    pytest.param(
        "DELETE", versions_url("service", "/0"), {}, 400, "invalid-input", "version", "version", id="delete-version-0"
    ),
    pytest.param(
        *body("POST", VALIDATE + "?version=0", {}), 400, "invalid-input", "version", "version", id="validate-version-0"
    ),
    pytest.param(
        *body("POST", VALIDATE + "?version=abc", {}),
        400,
        "invalid-input",
        "version",
        "version",
        id="validate-version-abc",
    ),
    pytest.param(
        *body("POST", COMPAT + "?version=" + "9" * 30, {"schema": SIMPLE}),
        400,
        "invalid-input",
        "version",
        "version",
        id="compat-version-huge",
    ),
    # unknown or repeated query parameters, bad paging
    pytest.param("GET", SCHEMAS + "?x=1", {}, 400, "invalid-input", "x", "unknown-parameter", id="list-unknown-param"),
    pytest.param(
        "GET",
        f"{SCHEMAS}/service?version=1",
        {},
        400,
        "invalid-input",
        "version",
        "unknown-parameter",
        id="get-unknown-param",
    ),
    pytest.param(
        *body("POST", V + "?force=true", {"schema": SIMPLE}),
        400,
        "invalid-input",
        "force",
        "unknown-parameter",
        id="register-unknown-param",
    ),
    pytest.param(
        "DELETE",
        V1 + "?recursive=true",
        {},
        400,
        "invalid-input",
        "recursive",
        "unknown-parameter",
        id="delete-unknown-param",
    ),
    pytest.param(
        *body("POST", VALIDATE + "?strict=1", {}),
        400,
        "invalid-input",
        "strict",
        "unknown-parameter",
        id="validate-unknown-param",
    ),
    pytest.param(
        *body("POST", VALIDATE + "?version=1&version=1", {}),
        400,
        "invalid-input",
        "version",
        "single",
        id="validate-repeated-param",
    ),
    pytest.param(
        "GET", REPORT + "?offset=1", {}, 400, "invalid-input", "offset", "unknown-parameter", id="report-unknown-param"
    ),
    pytest.param("GET", REPORT + "?limit=0", {}, 400, "invalid-input", "limit", "integer", id="report-limit-0"),
    pytest.param("GET", REPORT + "?limit=x", {}, 400, "invalid-input", "limit", "integer", id="report-limit-x"),
    pytest.param(
        "GET", REPORT + "?cursor=zzz", {}, 400, "invalid-cursor", "cursor", "cursor-format", id="report-bad-cursor"
    ),
    # bad modes and states
    pytest.param(
        *body("PUT", CONFIG, {"compatibility": "SOMETIMES"}),
        400,
        "invalid-input",
        "/compatibility",
        "enum",
        id="mode-unknown",
    ),
    pytest.param(
        *body("PUT", CONFIG, {"compatibility": "backward"}),
        400,
        "invalid-input",
        "/compatibility",
        "enum",
        id="mode-lower-case",
    ),
    pytest.param(
        *body("PUT", CONFIG, {"compatibility": 1}), 400, "invalid-input", "/compatibility", "enum", id="mode-number"
    ),
    pytest.param(
        *body("PUT", CONFIG, {"compatibility": "DEFAULT"}),
        400,
        "invalid-input",
        "/compatibility",
        "enum",
        id="mode-default-word",
    ),
    pytest.param(*body("PATCH", V1, {"state": "retired"}), 400, "invalid-input", "/state", "enum", id="state-enum"),
    # not a JSON Schema
    pytest.param(*body("POST", V, {"schema": 5}), 422, "invalid-schema", "/schema", "type", id="schema-number"),
    pytest.param(*body("POST", V, {"schema": [SIMPLE]}), 422, "invalid-schema", "/schema", "type", id="schema-array"),
    pytest.param(
        *body("POST", V, {"schema": {"type": "nonsense"}}),
        422,
        "invalid-schema",
        "/schema/type",
        "meta-schema",
        id="schema-bad-type",
    ),
    pytest.param(
        *body("POST", V, {"schema": {"minimum": "x", "required": "port"}}),
        422,
        "invalid-schema",
        None,
        "meta-schema",
        id="schema-meta-errors",
    ),
    pytest.param(
        *body("POST", COMPAT, {"schema": {"type": 5}}),
        422,
        "invalid-schema",
        "/schema/type",
        "meta-schema",
        id="compat-meta-errors",
    ),
    pytest.param(
        *body("POST", V, {"schema": {"$schema": "http://json-schema.org/draft-04/schema#"}}),
        422,
        "invalid-schema",
        "/schema/$schema",
        "known-dialect",
        id="dialect-draft-04",
    ),
    pytest.param(
        *body("POST", V, {"schema": {"$schema": 7}}),
        422,
        "invalid-schema",
        "/schema/$schema",
        "known-dialect",
        id="dialect-number",
    ),
    pytest.param(
        *body("POST", V, {"schema": {"$schema": "https://example.com/s"}}),
        422,
        "invalid-schema",
        "/schema/$schema",
        "known-dialect",
        id="dialect-elsewhere",
    ),
    # references
    pytest.param(
        *body("POST", V, {"schema": {"$ref": "https://example.com/s.json"}}),
        422,
        "invalid-schema",
        "/schema/$ref",
        "ref-registered",
        id="ref-remote",
    ),
    pytest.param(
        *body("POST", V, {"schema": {"properties": {"a": {"$ref": "http://localhost/x#/a"}}}}),
        422,
        "invalid-schema",
        "/schema/properties/a/$ref",
        "ref-registered",
        id="ref-remote-nested",
    ),
    pytest.param(
        *body("POST", versions_url("client"), {"schema": {"$ref": "nsroot:schemas/service/9"}}),
        422,
        "invalid-schema",
        "/schema/$ref",
        "ref-exists",
        id="ref-missing-version",
    ),
    pytest.param(
        *body("POST", V, {"schema": {"$ref": "nsroot:schemas/nothing/1"}}),
        422,
        "invalid-schema",
        "/schema/$ref",
        "ref-exists",
        id="ref-missing-schema",
    ),
    pytest.param(
        *body("POST", V, {"schema": {"$ref": "nsroot:schemas/service/2"}}),
        422,
        "invalid-schema",
        "/schema/$ref",
        "ref-acyclic",
        id="ref-own-next-version",
    ),
    pytest.param(
        *body("POST", V, {"schema": {"$ref": "other.json"}}),
        422,
        "invalid-schema",
        "/schema/$ref",
        "ref-resolvable",
        id="ref-relative",
    ),
    pytest.param(
        *body("POST", COMPAT, {"schema": {"$ref": "https://example.com/s.json"}}),
        422,
        "invalid-schema",
        "/schema/$ref",
        "ref-registered",
        id="compat-ref-remote",
    ),
    # patterns that need backtracking
    pytest.param(
        *body("POST", V, {"schema": {"type": "string", "pattern": "^(?=a)b"}}),
        422,
        "invalid-schema",
        "/schema",
        "compiles",
        id="pattern-lookahead",
    ),
    pytest.param(
        *body("POST", V, {"schema": {"type": "string", "pattern": "(?<!a)b"}}),
        422,
        "invalid-schema",
        "/schema",
        "compiles",
        id="pattern-lookbehind",
    ),
    pytest.param(
        *body("POST", V, {"schema": {"patternProperties": {"(a)\\1": {}}}}),
        422,
        "invalid-schema",
        "/schema",
        "compiles",
        id="pattern-backreference",
    ),
    # limits
    pytest.param(*raw("POST", V, HUGE), 413, "payload-too-large", "body", "max-body-bytes", id="register-413"),
    pytest.param(*raw("POST", COMPAT, HUGE), 413, "payload-too-large", "body", "max-body-bytes", id="compat-413"),
    pytest.param(*raw("POST", VALIDATE, HUGE), 413, "payload-too-large", "body", "max-body-bytes", id="validate-413"),
    pytest.param(*raw("PUT", CONFIG, HUGE), 413, "payload-too-large", "body", "max-body-bytes", id="config-413"),
    pytest.param(*raw("PATCH", V1, HUGE), 413, "payload-too-large", "body", "max-body-bytes", id="state-413"),
    pytest.param(
        *body("POST", V, {"schema": {"description": "x" * 300_000}}),
        422,
        "invalid-schema",
        "/schema",
        "schema-size",
        id="schema-too-large",
    ),
    pytest.param(
        *body("POST", V, {"schema": deep_schema(40)}),
        422,
        "invalid-schema",
        "/schema",
        "schema-depth",
        id="schema-too-deep",
    ),
    pytest.param(*body("POST", VALIDATE, [{}] * 1001), 400, "invalid-input", "body", "max-batch", id="batch-over"),
    pytest.param(*body("POST", VALIDATE, nested(40)), 400, "invalid-input", "body", "max-depth", id="document-deep"),
    pytest.param(
        *body("POST", VALIDATE, [{}, nested(40)]), 400, "invalid-input", "/1", "max-depth", id="batch-document-deep"
    ),
    # media types
    pytest.param(
        *raw("POST", V, b'{"schema": {}}', TEXT),
        415,
        "unsupported-media-type",
        "Content-Type",
        "media-type",
        id="register-415",
    ),
    pytest.param(
        *raw("POST", COMPAT, b'{"schema": {}}', TEXT),
        415,
        "unsupported-media-type",
        "Content-Type",
        "media-type",
        id="compat-415",
    ),
    pytest.param(
        *raw("POST", VALIDATE, b"{}", {"Content-Type": "application/x-www-form-urlencoded"}),
        415,
        "unsupported-media-type",
        "Content-Type",
        "media-type",
        id="validate-415",
    ),
    pytest.param(
        *raw("PUT", CONFIG, b'{"compatibility": "NONE"}', MERGE),
        415,
        "unsupported-media-type",
        "Content-Type",
        "media-type",
        id="config-415",
    ),
    pytest.param(
        *raw("PATCH", V1, b'{"state": "deprecated"}', TEXT),
        415,
        "unsupported-media-type",
        "Content-Type",
        "media-type",
        id="state-415",
    ),
    # no such schema or version
    pytest.param(
        *body("POST", f"{SCHEMAS}/nothing/validate", {}), 404, "not-found", "name", "exists", id="validate-no-schema"
    ),
    pytest.param(
        *body("POST", VALIDATE + "?version=9", {}), 404, "not-found", "version", "exists", id="validate-no-version"
    ),
    pytest.param(
        *body("PATCH", versions_url("service", "/9"), {"state": "deprecated"}),
        404,
        "not-found",
        "version",
        "exists",
        id="state-no-version",
    ),
    pytest.param(
        "GET", versions_url("nothing", "/1/report"), {}, 404, "not-found", "name", "exists", id="report-no-schema"
    ),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status", "slug", "field", "rule"), BAD_INPUT)
async def test_bad_input_is_a_problem_and_changes_nothing(
    service: httpx.AsyncClient,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    slug: str,
    field: str | None,
    rule: str,
) -> None:
    await create(service, "svc", "service", {"port": 80})
    before = await state(service)
    response = await service.request(method, path, **kwargs)
    problem = assert_problem(response, status, slug, field, rule)
    assert isinstance(problem["field"], str)
    assert problem["field"]
    assert problem["instance"] == unquote(path.split("?", 1)[0])
    assert await state(service) == before


async def test_a_non_schema_document_lists_every_meta_schema_error(service: httpx.AsyncClient) -> None:
    document = {"type": "nonsense", "minimum": "x", "properties": {"a": {"type": 5}}, "required": "port"}
    for path in (V, COMPAT):
        response = await service.post(path, json={"schema": document})
        problem = assert_problem(response, 422, "invalid-schema", rule="meta-schema")
        fields = [e["field"] for e in problem["errors"]]
        assert set(fields) >= {"/schema/type", "/schema/minimum", "/schema/properties/a/type", "/schema/required"}
        assert problem["field"] == fields[0]
        assert f"{len(fields)} meta-schema error(s)" in problem["detail"]
        for error in problem["errors"]:
            assert error["rule"]
            assert error["detail"]


async def test_a_pattern_never_hangs_the_server(service: httpx.AsyncClient) -> None:
    """``^(a+)+$`` backtracks catastrophically elsewhere; here it is linear."""
    await register(service, "redos", {"type": "string", "pattern": "^(a+)+$"})
    response = await asyncio.wait_for(service.post(f"{SCHEMAS}/redos/validate", json="a" * 50_000 + "!"), 5)
    assert response.status_code == 200
    assert response.json()["valid"] is False
    assert response.json()["errors"][0]["keyword"] == "pattern"


async def test_a_refusal_in_the_pattern_says_why(service: httpx.AsyncClient) -> None:
    response = await service.post(V, json={"schema": {"type": "string", "pattern": "^(?=a)b"}})
    problem = assert_problem(response, 422, "invalid-schema", "/schema", "compiles")
    assert "lookaround" in problem["detail"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", SCHEMAS, "GET, HEAD"),
        ("PUT", f"{SCHEMAS}/service", "DELETE, GET, HEAD"),
        ("DELETE", versions_url("service"), "GET, HEAD, POST"),
        ("PUT", V1, "DELETE, GET, HEAD, PATCH"),
        ("POST", REPORT, "GET, HEAD"),
        ("POST", CONFIG, "GET, HEAD, PUT"),
        ("GET", COMPAT, "POST"),
        ("GET", VALIDATE, "POST"),
    ],
)
async def test_wrong_method_is_405_with_allow(http: httpx.AsyncClient, method: str, path: str, allow: str) -> None:
    response = await http.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert_problem(response, 405, "method-not-allowed", "method")


@pytest.mark.parametrize(
    "path", [f"{SCHEMAS}/service/nothing", versions_url("service", "/1/x"), versions_url("service", "/1/report/x")]
)
async def test_unknown_paths_under_schemas_are_404(http: httpx.AsyncClient, path: str) -> None:
    assert_problem(await http.get(path), 404, "not-found", "path", "route")


# -- fuzzing ----------------------------------------------------------------------------

schema_keys = st.sampled_from(
    ["type", "properties", "required", "enum", "pattern", "$ref", "$id", "$schema", "items", "minimum", "format"]
)
schemas = json_values | st.dictionaries(schema_keys, json_values, max_size=5)
FUZZ = fuzz_settings(max_examples=60)


@FUZZ
@given(document=schemas)
async def test_fuzz_schema_bodies_never_cause_5xx(service: httpx.AsyncClient, document: Any) -> None:
    await configure(service, "fuzz", "NONE")
    for method, path, sent in (
        ("POST", versions_url("fuzz"), {"schema": document}),
        ("POST", f"{SCHEMAS}/service/compatibility", {"schema": document}),
        ("POST", VALIDATE, document),
        ("PUT", CONFIG, document),
        ("PATCH", V1, document),
    ):
        assert_sane(await service.request(method, path, content=json.dumps(sent).encode(), headers=JSON))


@FUZZ
@given(text=st.text(max_size=30) | st.text(alphabet="0129\u00b2\u0663-.latesAZ", max_size=12))
async def test_fuzz_names_and_versions_never_cause_5xx(service: httpx.AsyncClient, text: str) -> None:
    quoted = quote(text, safe="")
    assert_sane(await service.get(f"{SCHEMAS}/{quoted}"))
    assert_sane(await service.get(versions_url("service", f"/{quoted}")))
    assert_sane(await service.get(versions_url("service", f"/{quoted}/report")))
    assert_sane(await service.post(f"{SCHEMAS}/{quoted}/validate", json={}))
    assert_sane(await service.post(VALIDATE, params={"version": text}, json={}))
    assert_sane(await service.get(REPORT, params={"cursor": text}))


# -- metrics ----------------------------------------------------------------------------


async def test_metrics(service: httpx.AsyncClient) -> None:
    await service.post(VALIDATE, json=[{"port": 80}, {"port": "x"}])
    await create(service, "svc", "service", {"port": 80})
    await service.post(NS, json={"id": "bad", "kind": "service", "metadata": {"port": 0}})
    await service.post(V, json={"schema": SERVICE_NARROWER})  # refused: BACKWARD
    await configure(service, "service", "FULL")
    await service.post(V, json={"schema": SERVICE_NARROWER})  # refused: FULL
    response = await service.get("/metrics")
    assert response.status_code == 200
    found = samples(response.text)

    def value(name: str, **labels: str) -> float:
        matching = [v for n, lab, v in found if n == name and lab == labels]
        assert len(matching) == 1, (name, labels, [(n, lab) for n, lab, _ in found if n == name])
        return matching[0]

    assert value("nsroot_schema_validations_total", schema="service", result="valid") == 2
    assert value("nsroot_schema_validations_total", schema="service", result="invalid") == 2
    hits = value("nsroot_schema_validator_cache_total", result="hit")
    assert hits >= 3
    assert value("nsroot_schema_compile_duration_seconds_count") >= 1
    assert value("nsroot_schema_compatibility_refusals_total", schema="service", mode="BACKWARD") == 1
    assert value("nsroot_schema_compatibility_refusals_total", schema="service", mode="FULL") == 1
    assert value("nsroot_http_requests_total", method="POST", route="/v1/schemas/{name}/versions", status="409") == 2
    assert value("nsroot_http_requests_total", method="POST", route="/v1/schemas/{name}/validate", status="200") == 1


async def test_validator_cache_misses_after_a_restart(db_path: Path) -> None:
    """A registration compiles its validator; another process (here: a reopened registry)
    compiles on first use, and then hits."""
    async for http in strict_client(strict_registry(db_path), db_path):
        await register(http, "service", SERVICE)
    async for http in strict_client(strict_registry(db_path), db_path):
        for _ in range(3):
            assert (await http.post(VALIDATE, json={"port": 1})).json()["valid"] is True
        found = samples((await http.get("/metrics")).text)
        counts = {lab["result"]: v for n, lab, v in found if n == "nsroot_schema_validator_cache_total"}
        assert counts == {"miss": 1, "hit": 2}


# -- a real server ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    db = tmp_path_factory.mktemp("strict") / "strict.db"
    running = ServerProcess(db, schemaless_kinds=False).start()
    try:
        yield running
    finally:
        running.stop()


async def test_over_a_real_socket(strict_server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=strict_server.url, timeout=10) as http:
        assert_problem(
            await http.post(NS, json={"id": "real", "kind": "service", "metadata": {"port": 1}}),
            422,
            "unknown-kind",
            "/kind",
        )
        registered = await http.post(versions_url("service"), json={"schema": SERVICE})
        assert registered.status_code == 201, registered.text
        assert registered.headers["location"] == "/v1/schemas/service/versions/1"
        again = await http.post(versions_url("service"), json={"schema": SERVICE})
        assert again.status_code == 200

        invalid = await http.post(NS, json={"id": "real", "kind": "service", "metadata": INVALID_METADATA})
        assert_violations(invalid, VIOLATIONS)
        assert (await http.get(ns_url("real"))).status_code == 404

        created = await http.post(NS, json={"id": "real", "kind": "service", "metadata": {"port": 443}})
        assert created.status_code == 201, created.text
        assert (await http.patch(versions_url("service", "/1"), json={"state": "deprecated"})).status_code == 200
        patched = await http.patch(ns_url("real"), json={"metadata": {"tier": "gold"}}, headers=MERGE)
        assert patched.status_code == 200, patched.text
        assert "deprecated" in patched.headers["warning"]

        batch = await http.post(VALIDATE, json=[{"port": 1}, {"port": 0}])
        assert batch.json()["invalid_count"] == 1
        in_use = await http.delete(versions_url("service", "/1"))
        assert assert_problem(in_use, 409, "schema-in-use")["namespaces"] == 1
        too_big = await http.post(versions_url("service"), content=HUGE, headers=JSON)
        assert_problem(too_big, 413, "payload-too-large", "body")

        report = await http.get(versions_url("service", "/latest/report"))
        assert report.status_code == 200
        assert report.json()["items"] == []
        assert "nsroot_schema_validations_total" in (await http.get("/metrics")).text
