"""The OpenAPI document (/openapi.json) against the app that serves it.

Requests are driven through the real app in-process; every answer is checked against
the document (status documented for the operation, media type, body schema, documented
headers), and every documented operation and status code must have been seen.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from nsroot.config import Config
from nsroot.http.app import NAMESPACES, App
from nsroot.http.request import Request
from nsroot.http.schemas import SCHEMAS
from nsroot.metrics import Metrics
from nsroot.registry import Registry
from nsroot.store.sqlite import SQLiteOptions, SQLiteStore

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
MIB = 1 << 20
JSON = {"Content-Type": "application/json"}

#: Documented (path, method, status) that no request in-process can produce, with why.
#: Empty: even 503 is reachable, by closing the store under a second app.
UNTRIGGERABLE: dict[tuple[str, str, str], str] = {}


@pytest.fixture
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (path, method): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def schema_validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A validator for ``schema`` whose ``#/components/...`` references resolve in ``document``."""
    return Draft202012Validator(
        {**schema, "components": document["components"]}, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def schema_errors(document: dict[str, Any], schema: dict[str, Any], instance: Any) -> list[str]:
    return [error.message for error in schema_validator(document, schema).iter_errors(instance)]


# -- the document itself -----------------------------------------------------------------


async def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.1.")
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


async def test_every_operation_has_a_unique_operation_id(document: dict[str, Any]) -> None:
    ids = [operation["operationId"] for operation in operations(document).values()]
    assert len(ids) == len(set(ids))


async def _no_body() -> AsyncIterator[bytes]:
    yield b""


def routed_at(app: App, path: str) -> tuple[str, dict[str, Any]]:
    """The route template and handler table the app dispatches ``path`` to."""
    route, _, table = app._match(Request("GET", path, "", lambda _: None, _no_body(), 0))
    return route, table


#: A concrete path for each branch of the schema router (``SchemaRoutes.match``).
SCHEMA_PROBES = (
    SCHEMAS,
    SCHEMAS + "/probe",
    SCHEMAS + "/probe/versions",
    SCHEMAS + "/probe/versions/1",
    SCHEMAS + "/probe/versions/latest/report",
    SCHEMAS + "/probe/config",
    SCHEMAS + "/probe/compatibility",
    SCHEMAS + "/probe/validate",
)


async def test_documented_paths_and_methods_are_the_routed_ones(document: dict[str, Any], app: App) -> None:
    routed = {(path, method.lower()) for path, table in app._routes.items() for method in table}
    routed |= {(NAMESPACES + "/{id}", method.lower()) for method in app._item}
    routed |= {(NAMESPACES + "/{id}/history", method.lower()) for method in app._history}
    # the schema routes are matched by SchemaRoutes; every one of its tables must be reached by a probe
    probed = [routed_at(app, path) for path in SCHEMA_PROBES]
    routed |= {(route, method.lower()) for route, table in probed for method in table}
    reached = {id(table) for _, table in probed}
    assert all(id(table) in reached for table in app._schemas._tables.values())
    assert "unmatched" not in {route for route, _ in probed}
    assert set(document["paths"]) == {path for path, _ in routed}
    assert set(operations(document)) == routed


# -- driving the app -----------------------------------------------------------------------


@dataclass
class Seen:
    path: str  # the documented template
    method: str  # lower case, as in the document
    response: httpx.Response

    @property
    def status(self) -> str:
        return str(self.response.status_code)

    @property
    def media_type(self) -> str | None:
        value = self.response.headers.get("content-type")
        return None if value is None else value.split(";", 1)[0].strip()


class Recorder:
    """Sends requests, checks each got the status the scenario meant, and keeps them."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.seen: list[Seen] = []

    async def __call__(
        self, method: str, template: str, expect: int, path: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        response = await self.client.request(method, path or template, **kwargs)
        assert response.status_code == expect, (method, path or template, response.text)
        self.seen.append(Seen(template, method.lower(), response))
        return response


ITEM = NAMESPACES + "/{id}"
HISTORY = NAMESPACES + "/{id}/history"


def item(ns_id: str, suffix: str = "") -> str:
    return f"{NAMESPACES}/{ns_id}{suffix}"


async def drive(send: Recorder) -> None:
    """Every operation, with each of its documented outcomes that a live store can give."""
    huge = b" " * (MIB + 1)
    text = {"content": b"{}", "headers": {"Content-Type": "text/plain"}}

    await send("GET", "/healthz", 200)
    await send("GET", "/readyz", 200)
    await send("GET", "/openapi.json", 200)
    await send("GET", "/v1/revision", 200)
    await send("GET", "/v1/revision", 400, "/v1/revision?at=1")

    # create
    await send("POST", NAMESPACES, 201, json={"id": "acme", "kind": "team", "labels": {"tier": "web"}})
    await send("POST", NAMESPACES, 201, json={"id": "acme.web", "kind": "service", "metadata": {"a": [1]}})
    await send("POST", NAMESPACES, 201, json={"id": "acme.db", "kind": "service", "annotations": {"n": "x"}})
    await send("POST", NAMESPACES, 400, json={"id": "Acme", "kind": "team"})
    await send("POST", NAMESPACES, 400, json={"id": "x", "kind": "team", "colour": "red"})
    await send("POST", NAMESPACES, 409, json={"id": "acme", "kind": "team"})
    await send("POST", NAMESPACES, 413, content=huge, headers=JSON)
    await send("POST", NAMESPACES, 415, **text)
    await send("POST", NAMESPACES, 422, json={"id": "nope.child", "kind": "team"})

    # read
    got = await send("GET", ITEM, 200, item("acme"))
    await send("GET", ITEM, 304, item("acme"), headers={"If-None-Match": got.headers["etag"]})
    await send("GET", ITEM, 200, item("acme") + "?revision=1")
    await send("GET", ITEM, 400, item("Acme"))
    await send("GET", ITEM, 400, item("acme") + "?revision=999")
    await send("GET", ITEM, 404, item("nothing"))

    # replace
    document = got.json()
    document["labels"]["more"] = "yes"
    await send("PUT", ITEM, 200, item("acme"), json=document)
    await send("PUT", ITEM, 200, item("acme.db"), json={"kind": "db"}, headers={"If-Match": '"3"'})
    await send("PUT", ITEM, 201, item("acme.cache"), json={"kind": "service"})
    await send("PUT", ITEM, 201, item("solo"), json={"kind": "team"}, headers={"If-None-Match": "*"})
    await send("PUT", ITEM, 400, item("acme"), json={"id": "other", "kind": "team"})
    await send("PUT", ITEM, 404, item("nothing"), json={"kind": "team", "mod_revision": 1})
    await send("PUT", ITEM, 409, item("acme"), json=document)  # its mod_revision is stale now
    await send("PUT", ITEM, 412, item("acme"), json={"kind": "team"}, headers={"If-Match": '"1"'})
    await send("PUT", ITEM, 412, item("solo"), json={"kind": "team"}, headers={"If-None-Match": "*"})
    await send("PUT", ITEM, 413, item("acme"), content=huge, headers=JSON)
    await send("PUT", ITEM, 415, item("acme"), **text)
    await send("PUT", ITEM, 422, item("nope.child"), json={"kind": "team"})

    # patch
    merge = {"Content-Type": "application/merge-patch+json"}
    await send("PATCH", ITEM, 200, item("acme"), content=b'{"labels": {"more": null}}', headers=merge)
    await send("PATCH", ITEM, 200, item("acme.web"), json={"state": "deprecated"})
    await send("PATCH", ITEM, 400, item("acme"), json={"version": 7})
    await send("PATCH", ITEM, 404, item("nothing"), json={"state": "retired"})
    await send("PATCH", ITEM, 409, item("acme"), json={"state": "retired", "mod_revision": 1})
    await send("PATCH", ITEM, 412, item("acme"), json={"state": "retired"}, headers={"If-Match": '"1"'})
    await send("PATCH", ITEM, 413, item("acme"), content=huge, headers=merge)
    await send("PATCH", ITEM, 415, item("acme"), **text)

    # list and count
    page = await send("GET", NAMESPACES, 200, NAMESPACES + "?limit=2")
    cursor = page.json()["next_cursor"]
    await send("GET", NAMESPACES, 200, NAMESPACES, params={"limit": 2, "cursor": cursor})
    await send("GET", NAMESPACES, 200, NAMESPACES, params={"prefix": "acme", "selector": "tier in (web)"})
    await send("GET", NAMESPACES, 200, NAMESPACES, params={"children_of": "", "revision": 2})
    await send("GET", NAMESPACES, 200, NAMESPACES, params={"count_only": "true"})
    await send("GET", NAMESPACES, 400, NAMESPACES, params={"limit": 0})
    await send("GET", NAMESPACES, 400, NAMESPACES, params={"selector": "a in"})

    # history
    await send("GET", HISTORY, 200, item("acme", "/history"))
    await send("GET", HISTORY, 200, item("acme", "/history"), params={"limit": 1})
    await send("GET", HISTORY, 400, item("acme", "/history"), params={"limit": "x"})
    await send("GET", HISTORY, 404, item("nothing", "/history"))

    # delete
    await send("DELETE", ITEM, 200, item("acme.cache"))
    await send("DELETE", ITEM, 200, item("solo"), headers={"If-Match": '"7"'})
    await send("DELETE", ITEM, 400, item("acme"), headers={"If-Match": "seven"})
    await send("DELETE", ITEM, 404, item("nothing"))
    await send("DELETE", ITEM, 409, item("acme"))
    await send("DELETE", ITEM, 412, item("acme.web"), headers={"If-Match": '"1"'})
    await send("GET", HISTORY, 200, item("acme.cache", "/history"))

    # compaction, and reads behind it
    await send("POST", "/v1/compaction", 200, json={"revision": 10})
    await send("POST", "/v1/compaction", 400, json={"revision": 0})
    await send("POST", "/v1/compaction", 400, json={"revision": 10_000})
    await send("POST", "/v1/compaction", 413, content=huge, headers=JSON)
    await send("POST", "/v1/compaction", 415, **text)
    await send("GET", "/v1/revision", 200)
    await send("GET", ITEM, 410, item("acme") + "?revision=2")
    await send("GET", NAMESPACES, 410, NAMESPACES + "?revision=2")
    await send("DELETE", ITEM, 200, item("acme"), params={"recursive": "true"})
    await send("GET", "/metrics", 200)


S_ONE = SCHEMAS + "/{name}"
S_VERSIONS = S_ONE + "/versions"
S_VERSION = S_VERSIONS + "/{version}"
S_REPORT = S_VERSION + "/report"
S_CONFIG = S_ONE + "/config"
S_COMPAT = S_ONE + "/compatibility"
S_VALIDATE = S_ONE + "/validate"

WIDGET = {"type": "object", "properties": {"size": {"type": "integer", "maximum": 10}}, "required": ["size"]}
#: Narrower than WIDGET (a new required property): refused under BACKWARD.
WIDGET_NARROWER = {
    **WIDGET,
    "properties": {**WIDGET["properties"], "colour": {"type": "string"}},
    "required": ["size", "colour"],
}


def schema(name: str, suffix: str = "") -> str:
    return f"{SCHEMAS}/{name}{suffix}"


async def drive_schemas(send: Recorder) -> None:
    """Every schema operation, with each of its documented outcomes that a live store can give."""
    huge = b" " * (MIB + 1)
    text = {"content": b"{}", "headers": {"Content-Type": "text/plain"}}
    merge = {"Content-Type": "application/merge-patch+json"}

    # register
    await send("POST", S_VERSIONS, 201, schema("widget", "/versions"), json={"schema": WIDGET})
    await send("POST", S_VERSIONS, 200, schema("widget", "/versions"), json={"schema": WIDGET})
    await send("POST", S_VERSIONS, 201, schema("gadget", "/versions"), json={"schema": True})
    await send("POST", S_VERSIONS, 400, schema("widget", "/versions"), json={"document": WIDGET})
    await send("POST", S_VERSIONS, 409, schema("widget", "/versions"), json={"schema": WIDGET_NARROWER})
    await send("POST", S_VERSIONS, 413, schema("widget", "/versions"), content=huge, headers=JSON)
    await send("POST", S_VERSIONS, 415, schema("widget", "/versions"), **text)
    await send("POST", S_VERSIONS, 422, schema("widget", "/versions"), json={"schema": {"type": "nonsense"}})

    # reads
    await send("GET", SCHEMAS, 200)
    await send("GET", SCHEMAS, 400, SCHEMAS + "?x=1")
    await send("GET", S_ONE, 200, schema("widget"))
    await send("GET", S_ONE, 400, schema("Widget"))
    await send("GET", S_ONE, 404, schema("nothing"))
    await send("GET", S_VERSIONS, 200, schema("widget", "/versions"))
    await send("GET", S_VERSIONS, 400, schema("widget", "/versions?limit=1"))
    await send("GET", S_VERSIONS, 404, schema("nothing", "/versions"))
    await send("GET", S_VERSION, 200, schema("widget", "/versions/1"))
    await send("GET", S_VERSION, 200, schema("widget", "/versions/latest"))
    await send("GET", S_VERSION, 400, schema("widget", "/versions/0"))
    await send("GET", S_VERSION, 404, schema("widget", "/versions/9"))

    # configuration
    await send("GET", S_CONFIG, 200, schema("widget", "/config"))
    await send("GET", S_CONFIG, 400, schema("widget", "/config?x=1"))
    await send("GET", S_CONFIG, 404, schema("nothing", "/config"))
    await send("PUT", S_CONFIG, 200, schema("widget", "/config"), json={"compatibility": "FULL"})
    await send("PUT", S_CONFIG, 200, schema("widget", "/config"), json={"compatibility": None})
    await send("PUT", S_CONFIG, 400, schema("widget", "/config"), json={"compatibility": "SOMETIMES"})
    await send("PUT", S_CONFIG, 413, schema("widget", "/config"), content=huge, headers=JSON)
    await send("PUT", S_CONFIG, 415, schema("widget", "/config"), **text)

    # compatibility, a dry run
    await send("POST", S_COMPAT, 200, schema("widget", "/compatibility"), json={"schema": WIDGET})
    await send("POST", S_COMPAT, 200, schema("widget", "/compatibility?version=1"), json={"schema": WIDGET_NARROWER})
    await send("POST", S_COMPAT, 400, schema("widget", "/compatibility?version=0"), json={"schema": WIDGET})
    await send("POST", S_COMPAT, 404, schema("widget", "/compatibility?version=9"), json={"schema": WIDGET})
    await send("POST", S_COMPAT, 413, schema("widget", "/compatibility"), content=huge, headers=JSON)
    await send("POST", S_COMPAT, 415, schema("widget", "/compatibility"), **text)
    await send("POST", S_COMPAT, 422, schema("widget", "/compatibility"), json={"schema": {"$ref": "https://x.test/"}})

    # validation
    await send("POST", S_VALIDATE, 200, schema("widget", "/validate"), json={"size": 11})
    await send("POST", S_VALIDATE, 200, schema("widget", "/validate?version=1"), json=[{"size": 1}, {}])
    await send("POST", S_VALIDATE, 400, schema("widget", "/validate"), json=[{}] * 1001)
    await send("POST", S_VALIDATE, 404, schema("nothing", "/validate"), json={})
    await send("POST", S_VALIDATE, 413, schema("widget", "/validate"), content=huge, headers=JSON)
    await send("POST", S_VALIDATE, 415, schema("widget", "/validate"), **text)

    # namespaces of the kind
    await send("POST", NAMESPACES, 201, json={"id": "w1", "kind": "widget", "metadata": {"size": 1}})
    await send("POST", NAMESPACES, 422, json={"id": "w2", "kind": "widget", "metadata": {"size": 11}})
    await send("POST", NAMESPACES, 201, json={"id": "w2", "kind": "widget@1", "metadata": {"size": 3}})
    await send("PUT", ITEM, 422, item("w1"), json={"kind": "widget", "metadata": {}})
    await send("PATCH", ITEM, 422, item("w1"), json={"metadata": {"size": "big"}})

    # deprecating
    await send("PATCH", S_VERSION, 200, schema("widget", "/versions/1"), json={"state": "deprecated"})
    await send("PATCH", ITEM, 200, item("w1"), json={"metadata": {"size": 2}})
    await send("PATCH", S_VERSION, 200, schema("widget", "/versions/1"), content=b'{"state": "active"}', headers=merge)
    await send("PATCH", S_VERSION, 400, schema("widget", "/versions/1"), json={"state": "retired"})
    await send("PATCH", S_VERSION, 404, schema("widget", "/versions/9"), json={"state": "deprecated"})
    await send("PATCH", S_VERSION, 413, schema("widget", "/versions/1"), content=huge, headers=merge)
    await send("PATCH", S_VERSION, 415, schema("widget", "/versions/1"), **text)

    # the report
    await send("PUT", S_CONFIG, 200, schema("widget", "/config"), json={"compatibility": "NONE"})
    await send("POST", S_VERSIONS, 201, schema("widget", "/versions"), json={"schema": WIDGET_NARROWER})
    await send("GET", S_REPORT, 200, schema("widget", "/versions/latest/report"))
    await send("GET", S_REPORT, 200, schema("widget", "/versions/1/report?limit=1"))
    await send("GET", S_REPORT, 400, schema("widget", "/versions/1/report?limit=0"))
    await send("GET", S_REPORT, 404, schema("nothing", "/versions/1/report"))
    # pages are read at the first page's revision: compacted past it, the next page is gone (410)
    first = await send("GET", S_REPORT, 200, schema("widget", "/versions/2/report?limit=1"))
    cursor = first.json()["next_cursor"]
    assert cursor
    await send("GET", S_REPORT, 200, schema("widget", "/versions/2/report"), params={"limit": 1, "cursor": cursor})
    await send("POST", NAMESPACES, 201, json={"id": "after-page-one", "kind": "team"})
    now = (await send("GET", "/v1/revision", 200)).json()["revision"]
    await send("POST", "/v1/compaction", 200, json={"revision": now})
    await send("GET", S_REPORT, 410, schema("widget", "/versions/2/report"), params={"limit": 1, "cursor": cursor})

    # deleting
    await send("DELETE", S_VERSION, 409, schema("widget", "/versions/1"))
    await send("DELETE", S_VERSION, 400, schema("widget", "/versions/0"))
    await send("DELETE", S_VERSION, 404, schema("widget", "/versions/9"))
    await send("DELETE", S_VERSION, 200, schema("widget", "/versions/2"))
    await send("DELETE", S_ONE, 409, schema("widget"))
    await send("DELETE", S_ONE, 400, schema("widget?recursive=true"))
    await send("DELETE", S_ONE, 404, schema("nothing"))
    await send("DELETE", S_ONE, 200, schema("gadget"))


async def drive_schemas_unavailable(send: Recorder) -> None:
    """With the store closed under a registry that shares its file (``serve --workers N``):
    every schema operation answers 503, reads included (they check the store for changes)."""
    body = {"json": {"schema": WIDGET}}
    await send("GET", SCHEMAS, 503)
    await send("GET", S_ONE, 503, schema("widget"))
    await send("DELETE", S_ONE, 503, schema("widget"))
    await send("GET", S_VERSIONS, 503, schema("widget", "/versions"))
    await send("POST", S_VERSIONS, 503, schema("widget", "/versions"), **body)
    await send("GET", S_VERSION, 503, schema("widget", "/versions/1"))
    await send("PATCH", S_VERSION, 503, schema("widget", "/versions/1"), json={"state": "deprecated"})
    await send("DELETE", S_VERSION, 503, schema("widget", "/versions/1"))
    await send("GET", S_REPORT, 503, schema("widget", "/versions/1/report"))
    await send("GET", S_CONFIG, 503, schema("widget", "/config"))
    await send("PUT", S_CONFIG, 503, schema("widget", "/config"), json={"compatibility": "NONE"})
    await send("POST", S_COMPAT, 503, schema("widget", "/compatibility"), **body)
    await send("POST", S_VALIDATE, 503, schema("widget", "/validate"), json={})


async def drive_unavailable(send: Recorder) -> None:
    """With the store closed: every operation that needs it answers 503."""
    body = {"json": {"id": "acme", "kind": "team"}}
    await send("GET", "/healthz", 200)
    await send("GET", "/readyz", 503)
    await send("GET", "/v1/revision", 503)
    await send("POST", "/v1/compaction", 503, json={"revision": 1})
    await send("GET", NAMESPACES, 503)
    await send("POST", NAMESPACES, 503, **body)
    await send("GET", ITEM, 503, item("acme"))
    await send("PUT", ITEM, 503, item("acme"), json={"kind": "team"})
    await send("PATCH", ITEM, 503, item("acme"), json={"state": "retired"})
    await send("DELETE", ITEM, 503, item("acme"))
    await send("GET", HISTORY, 503, item("acme", "/history"))


@pytest.fixture
async def closed_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose store has been closed under it."""
    path = tmp_path / "closed.db"
    metrics = Metrics()
    registry = Registry(
        SQLiteStore(SQLiteOptions(path), on_commit=metrics.observe_commit), metrics=metrics, schemaless_kinds=True
    )
    await registry.open()
    await registry.close()
    app = App(registry, Config(db=path), manage_lifespan=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://nsroot.test") as http:
        yield http


@pytest.fixture
async def closed_shared_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose store, opened as one of several processes sharing the file, has been closed under it."""
    path = tmp_path / "closed-shared.db"
    metrics = Metrics()
    store = SQLiteStore(SQLiteOptions(path, exclusive=False), on_commit=metrics.observe_commit)
    registry = Registry(store, metrics=metrics, schemaless_kinds=True)
    await registry.open()
    await registry.schemas.register("widget", WIDGET, subject="test")
    await registry.close()
    app = App(registry, Config(db=path, workers=2), manage_lifespan=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://nsroot.test") as http:
        yield http


@pytest.fixture
async def seen(
    client: httpx.AsyncClient, closed_client: httpx.AsyncClient, closed_shared_client: httpx.AsyncClient
) -> list[Seen]:
    live, closed, closed_shared = Recorder(client), Recorder(closed_client), Recorder(closed_shared_client)
    await drive(live)
    await drive_schemas(live)
    await drive_unavailable(closed)
    await drive_schemas_unavailable(closed_shared)
    return live.seen + closed.seen + closed_shared.seen


def header_value(value: str, schema: dict[str, Any]) -> Any:
    return int(value) if schema.get("type") == "integer" else value


async def test_every_answer_is_documented(document: dict[str, Any], seen: list[Seen]) -> None:
    ops = operations(document)
    problems: list[str] = []
    for answer in seen:
        where = f"{answer.method.upper()} {answer.path} -> {answer.status}"
        operation = ops.get((answer.path, answer.method))
        if operation is None:
            problems.append(f"{where}: operation not documented")
            continue
        documented = operation["responses"].get(answer.status)
        if documented is None:
            problems.append(f"{where}: status not documented")
            continue
        content = documented.get("content", {})
        if answer.response.content:
            if answer.media_type not in content:
                problems.append(f"{where}: media type {answer.media_type} not documented ({sorted(content)})")
                continue
            if answer.media_type is not None and answer.media_type.endswith("json"):
                schema = content[answer.media_type]["schema"]
                for message in schema_errors(document, schema, answer.response.json()):
                    problems.append(f"{where}: body does not match the schema: {message}")
        elif content:
            problems.append(f"{where}: documented with a body, answered without one")
        for name, header in documented.get("headers", {}).items():
            value = answer.response.headers.get(name)
            if value is None:
                problems.append(f"{where}: documented header {name} missing")
                continue
            try:
                typed = header_value(value, header["schema"])
            except ValueError:
                problems.append(f"{where}: header {name}={value!r} is not a {header['schema']['type']}")
                continue
            for message in schema_errors(document, header["schema"], typed):
                problems.append(f"{where}: header {name}: {message}")
    assert problems == []


async def test_every_documented_operation_and_status_is_served(document: dict[str, Any], seen: list[Seen]) -> None:
    documented = {
        (path, method, status)
        for (path, method), operation in operations(document).items()
        for status in operation["responses"]
    }
    observed = {(answer.path, answer.method, answer.status) for answer in seen}
    assert {(path, method) for path, method, _ in documented} <= {(p, m) for p, m, _ in observed}
    for key in UNTRIGGERABLE:
        assert key in documented, key
        assert key not in observed, f"{key} is served after all; drop it from UNTRIGGERABLE"
    assert documented - observed - set(UNTRIGGERABLE) == set()


async def test_route_problems_match_the_problem_schema(document: dict[str, Any], client: httpx.AsyncClient) -> None:
    problem = {"$ref": "#/components/schemas/Problem"}
    for method, path, status in (("GET", "/nowhere", 404), ("DELETE", "/v1/revision", 405)):
        response = await client.request(method, path)
        assert response.status_code == status
        assert response.headers["content-type"] == "application/problem+json"
        assert schema_errors(document, problem, response.json()) == []


# -- parameters ------------------------------------------------------------------------------

PROBE_VALUES = {"limit": "1", "revision": "1", "count_only": "false", "recursive": "false", "version": "1"}


def query_parameters(document: dict[str, Any], path: str, operation: dict[str, Any]) -> set[str]:
    parameters = document["paths"][path].get("parameters", []) + operation.get("parameters", [])
    return {p["name"] for p in parameters if p["in"] == "query"}


def concrete(path: str) -> str:
    return path.replace("{id}", "probe").replace("{name}", "probe").replace("{version}", "1")


def rejects_as_unknown(response: httpx.Response, name: str) -> bool:
    if response.status_code != 400:
        return False
    body = response.json()
    return body.get("rule") == "unknown-parameter" and body.get("field") == name


async def test_query_parameters_are_the_documented_ones(document: dict[str, Any], client: httpx.AsyncClient) -> None:
    ops = operations(document)
    every_name = {name for (path, _), op in ops.items() for name in query_parameters(document, path, op)}
    candidates = every_name | {"id", "page", "offset", "watch", "force"}
    checked = 0
    for (path, method), operation in sorted(ops.items()):
        documented = query_parameters(document, path, operation)
        strict = rejects_as_unknown(await client.request(method, concrete(path), params={"zz": "1"}), "zz")
        if not strict:
            # /healthz and friends ignore their query string; they must document none.
            assert documented == set(), (path, method)
            continue
        for name in sorted(candidates):
            response = await client.request(method, concrete(path), params={name: PROBE_VALUES.get(name, "")})
            accepted = not rejects_as_unknown(response, name)
            assert accepted == (name in documented), (method, path, name, response.text)
            checked += 1
    assert checked >= 9 * len(candidates)


# -- request bodies --------------------------------------------------------------------------


def request_schema(document: dict[str, Any], path: str, method: str, media: str = "application/json") -> Any:
    return document["paths"][path][method]["requestBody"]["content"][media]["schema"]


#: (body, whether the app should take it). Only rules a JSON schema can state are listed
#: (types, required and unknown fields), so the document and the app must agree on each.
CREATE_BODIES = [
    pytest.param({"id": "a", "kind": "team"}, True, id="minimal"),
    pytest.param(
        {
            "id": "a",
            "kind": "team",
            "owner": "team:a",
            "state": "retired",
            "labels": {"tier": "web"},
            "annotations": {"note": "free text"},
            "metadata": {"any": [1, {"x": None}]},
        },
        True,
        id="full",
    ),
    pytest.param({"id": "a", "kind": "team", "colour": "red"}, False, id="unknown-field"),
    pytest.param({"id": "a"}, False, id="kind-missing"),
    pytest.param({"kind": "team"}, False, id="id-missing"),
    pytest.param({"id": 5, "kind": "team"}, False, id="id-number"),
    pytest.param({"id": "a", "kind": 5}, False, id="kind-number"),
    pytest.param({"id": "a", "kind": "team", "state": "gone"}, False, id="state-enum"),
    pytest.param({"id": "a", "kind": "team", "labels": {"a": 1}}, False, id="label-number"),
    pytest.param({"id": "a", "kind": "team", "labels": []}, False, id="labels-empty-array"),
    pytest.param({"id": "a", "kind": "team", "metadata": []}, False, id="metadata-array"),
    pytest.param({"id": "a", "kind": "team", "metadata": None}, None, id="metadata-null"),
]


@pytest.mark.parametrize(("body", "valid"), CREATE_BODIES)
async def test_create_body_schema_agrees_with_the_app(
    document: dict[str, Any], client: httpx.AsyncClient, body: dict[str, Any], valid: bool | None
) -> None:
    """``valid`` None: either answer is defensible, but the document and the app must agree."""
    response = await client.post(NAMESPACES, json=body)
    assert response.status_code in (201, 400), response.text
    accepted = response.status_code == 201
    if valid is not None:
        assert accepted is valid, response.text
    assert (schema_errors(document, request_schema(document, NAMESPACES, "post"), body) == []) is accepted


PATCH_BODIES = [
    pytest.param({"state": "retired"}, True, id="state"),
    pytest.param({"labels": {"new": "x"}, "mod_revision": 1}, True, id="labels-and-revision"),
    pytest.param({"labels": {"tier": None}}, True, id="remove-a-label"),
    pytest.param({"metadata": {"a": None}}, True, id="remove-a-metadata-key"),
    pytest.param({"annotations": None}, True, id="remove-all-annotations"),
    pytest.param({"version": 2}, False, id="read-only-field"),
    pytest.param({"mod_revision": "1"}, False, id="mod-revision-string"),
]


@pytest.mark.parametrize(("body", "valid"), PATCH_BODIES)
async def test_patch_body_schema_agrees_with_the_app(
    document: dict[str, Any], client: httpx.AsyncClient, body: dict[str, Any], valid: bool
) -> None:
    """RFC 7396: null removes a member, so a merge-patch schema must allow null where the
    stored document has optional members."""
    created = await client.post(NAMESPACES, json={"id": "a", "kind": "team", "labels": {"tier": "web"}})
    assert created.status_code == 201
    response = await client.patch(
        item("a"), content=json.dumps(body), headers={"Content-Type": "application/merge-patch+json"}
    )
    assert response.status_code == (200 if valid else 400), response.text
    schema = request_schema(document, ITEM, "patch", "application/merge-patch+json")
    assert (schema_errors(document, schema, body) == []) is valid


async def test_a_get_answer_is_a_valid_replace_body(document: dict[str, Any], client: httpx.AsyncClient) -> None:
    await client.post(NAMESPACES, json={"id": "a", "kind": "team"})
    await client.post(NAMESPACES, json={"id": "a.b", "kind": "team", "labels": {"x": "y"}})
    for ns_id in ("a", "a.b"):
        body = (await client.get(item(ns_id))).json()
        assert schema_errors(document, request_schema(document, ITEM, "put"), body) == []
        response = await client.put(item(ns_id), json=body)
        assert response.status_code == 200
    assert schema_errors(document, request_schema(document, ITEM, "put"), {"kind": "t", "bogus": 1}) != []
    assert (await client.put(item("a"), json={"kind": "t", "bogus": 1})).status_code == 400
