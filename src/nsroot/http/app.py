"""The HTTP API: a pure ASGI application over :class:`~nsroot.registry.Registry`.

It is deliberately lean (a direct dispatch on the path, no framework router) because the
namespace GET is the hottest path of the product: measured on one core it serves well
over half the rate of a bare ASGI app returning fixed bytes (docs/benchmarks.md).
Handlers only translate: query and body in, one registry call, JSON or problem+json out.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final, cast

import msgspec

from nsroot import records
from nsroot.config import Config, load_config
from nsroot.errors import (
    PROBLEM_BASE,
    AlreadyExists,
    Conflict,
    InvalidId,
    InvalidInput,
    InvalidRevision,
    NotFound,
    NsRootError,
    ParentNotFound,
    PreconditionFailed,
)
from nsroot.http import openapi
from nsroot.http.request import JSON, MERGE_PATCH_JSON, PROBLEM_JSON, Request, bool_param, int_param
from nsroot.http.schemas import SCHEMAS, SchemaRoutes
from nsroot.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from nsroot.metrics import Metrics
from nsroot.records import Namespace, encode
from nsroot.registry import Registry
from nsroot.schemas.compat import Mode
from nsroot.schemas.schemaset import SchemaSet
from nsroot.store.sqlite import SQLiteOptions, SQLiteStore

log = logging.getLogger(__name__)

GC_THRESHOLD: Final = 100_000  # gen-0 allocations between collections in a server worker
ANONYMOUS: Final = "anonymous"  # the subject of every request until authentication exists
REVISION_HEADER: Final = "nsroot-revision"
NAMESPACES: Final = "/v1/namespaces"
_PREFIX: Final = NAMESPACES + "/"
_HISTORY: Final = "/history"
_SCHEMAS_PREFIX: Final = "/v1/schemas/"


@dataclass(slots=True)
class Response:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str | None = JSON

    def header_list(self) -> list[tuple[str, str]]:
        """Every header to send, content type first."""
        headers = self.headers
        if self.status == 413:  # the rest of a body we did not read may still be coming: end the connection
            headers.append(("connection", "close"))
        if self.content_type is not None:
            headers = [("content-type", self.content_type), *headers]
        return headers

    def payload(self, method: str) -> bytes:
        return b"" if method == "HEAD" else self.body  # HEAD: as GET without the body (RFC 9110 9.3.2)


Handler = Callable[[Request], Awaitable[Response]]


class PageBody(msgspec.Struct):
    items: list[Namespace]
    next_cursor: str | None
    revision: int


class VersionBody(msgspec.Struct):
    revision: int
    event: str
    namespace: Namespace | None


class HistoryBody(msgspec.Struct):
    items: list[VersionBody]
    next_cursor: str | None
    revision: int


def _record_response(record: Namespace, status: int = 200) -> Response:
    tag = str(record.mod_revision)
    headers = [("etag", f'"{tag}"'), (REVISION_HEADER, tag)]
    if status == 201:
        headers.append(("location", _PREFIX + record.id))
    return Response(status, encode(record), headers)


def _json(value: Any, revision: int | None = None, status: int = 200) -> Response:
    headers = [] if revision is None else [(REVISION_HEADER, str(revision))]
    return Response(status, encode(value), headers)


def _if_match(request: Request) -> tuple[bool, int | None]:
    """(present, expected revision) from If-Match; ``*`` is present with no revision."""
    value = request.header("if-match")
    if value is None:
        return False, None
    tag = value.strip()
    if tag == "*":
        return True, None
    if "," in tag:
        raise InvalidInput("If-Match takes one entity tag", field="If-Match", rule="single-etag")
    revision = records.parse_decimal(tag.removeprefix("W/").strip('"'))
    if revision is None or revision < 1:
        raise InvalidInput(
            f"If-Match must be an ETag this server issued (a quoted mod_revision), got {value!r}",
            field="If-Match",
            rule="etag",
        )
    return True, revision


def _none_match(request: Request, mod_revision: int) -> bool:
    """Whether If-None-Match names the current version (weak comparison, RFC 9110 13.1.2)."""
    value = request.header("if-none-match")
    if value is None:
        return False
    current = str(mod_revision)
    for tag in value.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/").strip('"') == current:
            return True
    return False


def _precondition(exc: Conflict, has_if_match: bool) -> NsRootError:
    """A revision conflict as the client caused it: 412 for If-Match, else 409 on the body's mod_revision."""
    if has_if_match:
        return PreconditionFailed(exc.detail, field="If-Match", rule="if-match", extra=exc.extra)
    return exc.at("/mod_revision")


def _missing(exc: NotFound, has_if_match: bool) -> NsRootError:
    """RFC 9110 13.1.1: If-Match fails (412) when there is no current representation."""
    if has_if_match:
        return PreconditionFailed(exc.detail, field="If-Match", rule="if-match")
    return exc


class App:
    """The ASGI application. ``manage_lifespan`` opens and closes the registry with the
    server's lifespan; leave it off when the caller opens the registry itself."""

    def __init__(self, registry: Registry, config: Config, *, manage_lifespan: bool = True) -> None:
        self.registry = registry
        self.config = config
        self.metrics = registry.metrics
        self.manage_lifespan = manage_lifespan
        self._openapi = msgspec.json.encode(openapi.document())
        self._item: dict[str, Handler] = {
            "GET": self.get,
            "PUT": self.put,
            "PATCH": self.patch,
            "DELETE": self.delete,
        }
        self._routes: dict[str, dict[str, Handler]] = {
            NAMESPACES: {"GET": self.list, "POST": self.create},
            "/v1/revision": {"GET": self.revision},
            "/v1/compaction": {"POST": self.compact},
            "/healthz": {"GET": self.healthz},
            "/readyz": {"GET": self.readyz},
            "/metrics": {"GET": self.prometheus},
            "/openapi.json": {"GET": self.openapi},
        }
        self._history: dict[str, Handler] = {"GET": self.history}
        self._schemas = SchemaRoutes(registry, Response, ANONYMOUS)
        self._routes[SCHEMAS] = self._schemas.collection

    # -- server interfaces -------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """ASGI."""
        kind = scope["type"]
        if kind == "http":
            request = Request.from_asgi(scope, receive, self.config.max_body_bytes)
            response = await self.respond(request)
            method = request.method
            headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.header_list()]
            await send({"type": "http.response.start", "status": response.status, "headers": headers})
            await send({"type": "http.response.body", "body": response.payload(method)})
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        """RSGI, granian's native interface: what ``nsroot serve`` runs."""
        if scope.proto != "http":
            return
        request = Request.from_rsgi(scope, protocol, self.config.max_body_bytes)
        response = await self.respond(request)
        method = request.method
        protocol.response_bytes(response.status, response.header_list(), response.payload(method))

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        """RSGI startup: called once per worker before its loop serves."""
        if self.manage_lifespan:
            try:
                loop.run_until_complete(self.registry.open())
            except NsRootError as exc:
                log.error("startup failed: %s", exc.detail)
                raise SystemExit(1) from None
            gc.freeze()  # what startup built lives as long as the worker: no collection need walk it

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        """RSGI shutdown: after the worker's loop stopped serving."""
        if self.manage_lifespan:
            loop.run_until_complete(self.registry.close())

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    if self.manage_lifespan:
                        await self.registry.open()
                except NsRootError as exc:
                    log.error("startup failed: %s", exc.detail)
                    await send({"type": "lifespan.startup.failed", "message": exc.detail})
                    return
                except Exception as exc:
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.manage_lifespan:
                    await self.registry.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _match(self, request: Request) -> tuple[str, Handler | None, dict[str, Handler]]:
        path = request.path
        if path.startswith(_PREFIX):
            rest = path[len(_PREFIX) :]
            if rest.endswith(_HISTORY):
                request.params["id"] = rest[: -len(_HISTORY)]
                table, route = self._history, NAMESPACES + "/{id}/history"
            else:
                request.params["id"] = rest
                table, route = self._item, NAMESPACES + "/{id}"
        elif path.startswith(_SCHEMAS_PREFIX):
            route, table = self._schemas.match(request, path[len(_SCHEMAS_PREFIX) :])
        else:
            found = self._routes.get(path)
            if found is None:
                return "unmatched", None, {}
            table, route = found, path
        method = request.method
        if method == "HEAD":
            method = "GET"
        return route, table.get(method), table

    async def respond(self, request: Request) -> Response:
        """The answer to one request: routed, handled, errors as problems, and measured."""
        started = time.perf_counter()
        metrics = self.metrics
        metrics.http_in_flight.value += 1
        route = "unmatched"
        try:
            route, handler, table = self._match(request)
            if handler is None:
                response = self._unrouted(request, table)
            else:
                response = await handler(request)
        except NsRootError as exc:
            response = self._problem(exc, request)
        except Exception:
            log.exception("unhandled error answering %s %s", request.method, request.path)
            response = self._problem(NsRootError("internal error; the server log has the details"), request)
        finally:
            metrics.http_in_flight.value -= 1
        metrics.observe_http(request.method, route, response.status, time.perf_counter() - started)
        return response

    def _unrouted(self, request: Request, table: dict[str, Handler]) -> Response:
        if not table:
            return self._problem(NotFound(f"no route for {request.path}", field="path", rule="route"), request)
        allowed = ", ".join(sorted({*table, *(("HEAD",) if "GET" in table else ())}))
        problem = NsRootError(f"{request.method} is not allowed here; allowed: {allowed}", field="method")
        response = self._problem(problem, request, status=405, slug="method-not-allowed", title="Method not allowed")
        response.headers.append(("allow", allowed))
        return response

    @staticmethod
    def _problem(
        exc: NsRootError,
        request: Request,
        *,
        status: int | None = None,
        slug: str | None = None,
        title: str | None = None,
    ) -> Response:
        body = exc.to_problem(instance=request.path)
        if status is not None:
            body.update(status=status, type=PROBLEM_BASE + (slug or ""), title=title)
        return Response(body["status"], encode(body), [], PROBLEM_JSON)

    # -- namespaces ------------------------------------------------------------------

    def _written(self, record: Namespace, status: int = 200) -> Response:
        """The answer to a write; warns (RFC 9111 ``Warning``, as Kubernetes does for
        deprecated APIs) when a deprecated schema version admitted it."""
        response = _record_response(record, status)
        deprecated = self.registry.schemas.deprecated(record.kind)
        if deprecated is not None:
            response.headers.append(("warning", f'299 nsroot "{deprecated}"'))
        return response

    async def create(self, request: Request) -> Response:
        request.check_query(())
        parsed = records.parse_create(await request.json(), self.registry.limits)
        record = await self.registry.create(parsed.id, parsed.spec, subject=ANONYMOUS)
        return self._written(record, 201)

    async def get(self, request: Request) -> Response:
        revision = None
        if request.query_string:
            query = request.check_query(("revision",))
            revision = int_param(query, "revision", error=InvalidRevision)
        if revision is not None:
            record = await self.registry.get(request.params["id"], revision=revision)
            response = _record_response(record)
            response.headers[1] = (REVISION_HEADER, str(revision))
            return response
        document = await self.registry.get_document(request.params["id"])
        headers = [("etag", f'"{document.mod_revision}"'), (REVISION_HEADER, str(document.revision))]
        if _none_match(request, document.mod_revision):
            return Response(304, b"", headers, None)
        return Response(200, document.body, headers)

    async def put(self, request: Request) -> Response:
        request.check_query(())
        ns_id = request.params["id"]
        has_if_match, expected = _if_match(request)
        create_only = (request.header("if-none-match") or "").strip() == "*"
        parsed = records.parse_replace(await request.json(), ns_id, self.registry.limits)
        if create_only:
            try:
                return await self._put_create(ns_id, parsed.spec)
            except AlreadyExists as exc:
                raise PreconditionFailed(exc.detail, field="If-None-Match", rule="if-none-match") from exc
        if expected is None:
            expected = parsed.expected_revision
        for _ in range(2):
            try:
                record = await self.registry.replace(ns_id, parsed.spec, subject=ANONYMOUS, expected=expected)
                return self._written(record)
            except Conflict as exc:
                raise _precondition(exc, has_if_match) from exc
            except NotFound as exc:
                if has_if_match or expected is not None:
                    raise _missing(exc, has_if_match) from None
            try:  # PUT of a missing namespace creates it, as etcd's put does
                return await self._put_create(ns_id, parsed.spec)
            except AlreadyExists:
                continue  # created meanwhile by someone else: replace it
        raise Conflict(f'namespace "{ns_id}" was created and deleted concurrently; retry', expected=0, actual=0)

    async def _put_create(self, ns_id: str, spec: dict[str, Any]) -> Response:
        try:
            record = await self.registry.create(ns_id, spec, subject=ANONYMOUS)
        except (InvalidId, ParentNotFound) as exc:
            raise exc.at("id") from None  # the id came from the path, not the body
        return self._written(record, 201)

    async def patch(self, request: Request) -> Response:
        request.check_query(())
        has_if_match, expected = _if_match(request)
        body = await request.json(MERGE_PATCH_JSON, "application/json")
        patch, expected_in_body = records.parse_patch(body)
        try:
            record = await self.registry.patch(
                request.params["id"], patch, subject=ANONYMOUS, expected=expected or expected_in_body
            )
        except Conflict as exc:
            raise _precondition(exc, has_if_match) from exc
        except NotFound as exc:
            raise _missing(exc, has_if_match) from None
        return self._written(record)

    async def delete(self, request: Request) -> Response:
        query = request.check_query(("recursive",))
        has_if_match, expected = _if_match(request)
        try:
            deleted = await self.registry.delete(
                request.params["id"], subject=ANONYMOUS, recursive=bool_param(query, "recursive"), expected=expected
            )
        except Conflict as exc:
            raise _precondition(exc, has_if_match) from exc
        except NotFound as exc:
            raise _missing(exc, has_if_match) from None
        return _json({"deleted": list(deleted.ids), "revision": deleted.revision}, deleted.revision)

    async def list(self, request: Request) -> Response:
        query = request.check_query(("prefix", "children_of", "selector", "limit", "cursor", "revision", "count_only"))
        filters: dict[str, Any] = {
            "prefix": query.get("prefix") or None,
            "children_of": query.get("children_of"),
            "selector": query.get("selector"),
            "revision": int_param(query, "revision", error=InvalidRevision),
        }
        if bool_param(query, "count_only"):
            if "limit" in query or "cursor" in query:
                raise InvalidInput("count_only takes no limit or cursor", field="count_only", rule="exclusive")
            count, revision = await self.registry.count(**filters)
            return _json({"count": count, "revision": revision}, revision)
        page = await self.registry.list(**filters, limit=int_param(query, "limit"), cursor=query.get("cursor") or None)
        return _json(PageBody(list(page.items), page.next_cursor, page.revision), page.revision)

    async def history(self, request: Request) -> Response:
        query = request.check_query(("limit", "cursor"))
        page = await self.registry.history(
            request.params["id"], limit=int_param(query, "limit"), cursor=query.get("cursor") or None
        )
        items = [
            VersionBody(
                v.revision,
                "delete" if v.record is None else "create" if v.record.version == 1 else "update",
                v.record,
            )
            for v in page.items
        ]
        return _json(HistoryBody(items, page.next_cursor, page.revision), page.revision)

    # -- the store -------------------------------------------------------------------

    async def revision(self, request: Request) -> Response:
        request.check_query(())
        current = await self.registry.revision()
        compacted = await self.registry.store.compacted_revision()
        return _json({"revision": current, "compacted_revision": compacted}, current)

    async def compact(self, request: Request) -> Response:
        request.check_query(())
        body = await request.json()
        if not isinstance(body, dict) or set(body) != {"revision"}:
            raise InvalidInput('the body must be {"revision": <int>}', field="", rule="shape")
        target = body["revision"]
        if isinstance(target, bool) or not isinstance(target, int) or target < 1:
            raise InvalidInput("revision must be a positive integer", field="/revision", rule="positive-integer")
        try:
            dropped = await self.registry.compact(target)
        except InvalidRevision as exc:
            raise exc.at("/revision") from None
        current = await self.registry.revision()
        compacted = await self.registry.store.compacted_revision()
        return _json({"revision": current, "compacted_revision": compacted, "dropped": dropped}, current)

    # -- operations ------------------------------------------------------------------

    async def healthz(self, request: Request) -> Response:
        return _json({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        await self.registry.store.ping()
        return _json({"status": "ready"})

    async def prometheus(self, request: Request) -> Response:
        return Response(200, self.metrics.exposition(), [], METRICS_CONTENT_TYPE)

    async def openapi(self, request: Request) -> Response:
        return Response(200, self._openapi, [], JSON)


def create_app(config: Config) -> App:
    """The app for ``config`` on the embedded SQLite store; the lifespan opens it."""
    metrics = Metrics()
    store = SQLiteStore(
        SQLiteOptions(
            config.db,
            durability=config.durability,
            max_batch=config.group_commit_max,
            exclusive=config.workers == 1,
            cache_entries=config.cache_entries,
        ),
        on_commit=metrics.observe_commit,
    )
    schemas = SchemaSet(
        store,
        limits=config.schema_limits,
        metrics=metrics,
        default_compatibility=cast(Mode, config.schema_compatibility),
        schemaless_kinds=config.schemaless_kinds,
    )
    return App(Registry(store, limits=config.limits, metrics=metrics, schemas=schemas), config)


def app_from_env() -> App:
    """The factory ``nsroot serve`` gives the server: configuration from ``NSROOT_*``."""
    config = load_config()
    logging.basicConfig(level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # A request allocates a few dozen short-lived containers; at the default threshold
    # (700) the collector runs every few requests and, now and then, walks the whole
    # record cache. Collecting less often cut the P99 of GETs at 256 connections by
    # about a third (docs/benchmarks.md); garbage cycles are rare on this path.
    gc.set_threshold(GC_THRESHOLD, 50, 100)
    return create_app(config)
