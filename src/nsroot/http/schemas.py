"""The schema registry's HTTP routes, under ``/v1/schemas``: thin handlers over
:class:`~nsroot.schemas.schemaset.SchemaSet` (and, for the report, the registry)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final, cast

from nsroot.errors import InvalidInput
from nsroot.http.request import Request, int_param
from nsroot.records import encode, parse_decimal
from nsroot.schemas.schemaset import STATES, Schema, SchemaSet, SchemaVersion, VersionState, parse_mode

if TYPE_CHECKING:
    from nsroot.http.app import Response
    from nsroot.registry import Registry

SCHEMAS: Final = "/v1/schemas"
PREFIX: Final = SCHEMAS + "/"
REVISION_HEADER: Final = "nsroot-revision"

Handler = Callable[[Request], Awaitable["Response"]]


def _version_param(text: str, field: str = "version") -> int:
    number = parse_decimal(text) if len(text) <= 9 else None  # ASCII digits only
    if number is None or number < 1:
        raise InvalidInput(f'version must be a positive integer or "latest", got {text!r}', field=field, rule="version")
    return number


def _schema_body(schema: Schema, default_mode: str) -> dict[str, Any]:
    latest = schema.latest
    return {
        "name": schema.config.name,
        "compatibility": schema.config.compatibility or default_mode,
        "compatibility_inherited": schema.config.compatibility is None,
        "latest_version": latest.version if latest else None,
        "versions": [v.version for v in schema.versions],
        "revision": schema.config.revision,
    }


def _body_schema(body: Any) -> Any:
    """The schema document of a registration or dry-run body: ``{"schema": {...}}``."""
    if not isinstance(body, dict) or "schema" not in body:
        raise InvalidInput('the body must be {"schema": <a JSON Schema>}', field="/schema", rule="required")
    unknown = sorted(set(body) - {"schema"})
    if unknown:
        raise InvalidInput(
            f"unknown field {unknown[0]!r}; the body takes only schema", field=f"/{unknown[0]}", rule="unknown-field"
        )
    return body["schema"]


class SchemaRoutes:
    """Routing and handlers of ``/v1/schemas``; the app asks :meth:`match` for any path under it."""

    def __init__(self, registry: Registry, respond: Callable[..., Response], subject: str) -> None:
        self.registry = registry
        self.schemas: SchemaSet = registry.schemas
        self._response = respond
        self._subject = subject
        self.collection: dict[str, Handler] = {"GET": self.list}
        self._tables: dict[str, dict[str, Handler]] = {
            "": {"GET": self.get, "DELETE": self.delete_schema},
            "versions": {"GET": self.versions, "POST": self.register},
            "version": {"GET": self.version, "PATCH": self.set_state, "DELETE": self.delete_version},
            "report": {"GET": self.report},
            "config": {"GET": self.get_config, "PUT": self.put_config},
            "compatibility": {"POST": self.check},
            "validate": {"POST": self.validate},
        }

    def match(self, request: Request, rest: str) -> tuple[str, dict[str, Handler]]:
        """The route and its handlers for ``/v1/schemas/<rest>``; an empty table if none."""
        parts = rest.split("/")
        request.params["name"] = parts[0]
        tail = parts[1:]
        if not tail:
            return SCHEMAS + "/{name}", self._tables[""]
        if len(tail) == 1 and tail[0] in ("versions", "config", "compatibility", "validate"):
            return f"{SCHEMAS}/{{name}}/{tail[0]}", self._tables[tail[0]]
        if tail[0] == "versions" and len(tail) in (2, 3):
            request.params["version"] = tail[1]
            if len(tail) == 2:
                return SCHEMAS + "/{name}/versions/{version}", self._tables["version"]
            if tail[2] == "report":
                return SCHEMAS + "/{name}/versions/{version}/report", self._tables["report"]
        return "unmatched", {}

    def _json(self, value: Any, status: int = 200, revision: int | None = None) -> Response:
        headers = [] if revision is None else [(REVISION_HEADER, str(revision))]
        return self._response(status, encode(value), headers)

    def _version_response(self, found: SchemaVersion, status: int = 200) -> Response:
        response = self._json(found.to_dict(), status, found.stored.revision)
        response.headers.append(("etag", f'"{found.stored.fingerprint}"'))
        if status == 201:
            response.headers.append(("location", f"{SCHEMAS}/{found.name}/versions/{found.version}"))
        return response

    def _which(self, request: Request) -> int | str:
        text = request.params["version"]
        return "latest" if text == "latest" else _version_param(text)

    async def _number(self, request: Request) -> int:
        """The version of the path as a number ("latest" resolved now)."""
        which = self._which(request)
        if which == "latest":
            return (await self.schemas.version(request.params["name"], "latest")).version
        return cast(int, which)

    # -- handlers --------------------------------------------------------------------

    async def list(self, request: Request) -> Response:
        request.check_query(())
        mode = self.schemas.default_compatibility
        items = [_schema_body(s, mode) for s in await self.schemas.list()]
        return self._json({"items": items, "default_compatibility": mode})

    async def get(self, request: Request) -> Response:
        request.check_query(())
        schema = await self.schemas.get(request.params["name"])
        return self._json(_schema_body(schema, self.schemas.default_compatibility))

    async def versions(self, request: Request) -> Response:
        request.check_query(())
        schema = await self.schemas.get(request.params["name"])
        return self._json({"items": [v.to_dict(with_document=False) for v in schema.versions]})

    async def version(self, request: Request) -> Response:
        request.check_query(())
        which = self._which(request)
        found = await self.schemas.version(request.params["name"], cast(Any, which))
        return self._version_response(found)

    async def register(self, request: Request) -> Response:
        request.check_query(())
        document = _body_schema(await request.json())
        found, created = await self.schemas.register(request.params["name"], document, subject=self._subject)
        return self._version_response(found, 201 if created else 200)

    async def set_state(self, request: Request) -> Response:
        request.check_query(())
        body = await request.json("application/merge-patch+json", "application/json")
        if not isinstance(body, dict) or set(body) != {"state"} or body["state"] not in STATES:
            raise InvalidInput(
                'the body must be {"state": "deprecated"} or {"state": "active"}', field="/state", rule="enum"
            )
        number = await self._number(request)
        found, revision = await self.schemas.set_state(
            request.params["name"], number, cast(VersionState, body["state"]), subject=self._subject
        )
        response = self._version_response(found)
        response.headers[0] = (REVISION_HEADER, str(revision))  # this change's revision, not the registration's
        return response

    async def delete_version(self, request: Request) -> Response:
        request.check_query(())
        number = await self._number(request)
        written = await self.schemas.delete(request.params["name"], number, subject=self._subject)
        return self._json({"name": written.name, "deleted": list(written.deleted), "revision": written.revision})

    async def delete_schema(self, request: Request) -> Response:
        request.check_query(())
        written = await self.schemas.delete(request.params["name"], None, subject=self._subject)
        return self._json({"name": written.name, "deleted": list(written.deleted), "revision": written.revision})

    async def get_config(self, request: Request) -> Response:
        request.check_query(())
        schema = await self.schemas.get(request.params["name"])
        return self._json(_schema_body(schema, self.schemas.default_compatibility))

    async def put_config(self, request: Request) -> Response:
        request.check_query(())
        body = await request.json()
        if isinstance(body, dict) and "compatibility" in body and len(body) > 1:
            unknown = sorted(set(body) - {"compatibility"})[0]
            raise InvalidInput(
                f"unknown field {unknown!r}; the body takes only compatibility",
                field=f"/{unknown}",
                rule="unknown-field",
            )
        if not isinstance(body, dict) or set(body) != {"compatibility"}:
            raise InvalidInput(
                'the body must be {"compatibility": <mode>} (null: the registry default)',
                field="/compatibility",
                rule="required",
            )
        mode = None if body["compatibility"] is None else parse_mode(body["compatibility"])
        schema = await self.schemas.configure(request.params["name"], mode, subject=self._subject)
        return self._json(_schema_body(schema, self.schemas.default_compatibility))

    async def check(self, request: Request) -> Response:
        query = request.check_query(("version",))
        version = query.get("version")
        document = _body_schema(await request.json())
        report = await self.schemas.check(
            request.params["name"], document, version=None if version is None else _version_param(version)
        )
        return self._json(report.to_dict())

    async def validate(self, request: Request) -> Response:
        query = request.check_query(("version",))
        text = query.get("version")
        version = None if text is None or text == "latest" else _version_param(text)
        body = await request.json()
        batch = isinstance(body, list)
        target, outcomes = await self.schemas.validate(
            request.params["name"], body if batch else [body], version=version
        )
        schema = {"name": target.name, "version": target.version}
        if not batch:
            return self._json({**outcomes[0].to_dict(), "schema": schema})
        return self._json(
            {
                "schema": schema,
                "valid": all(o.valid for o in outcomes),
                "invalid_count": sum(not o.valid for o in outcomes),
                "results": [o.to_dict() for o in outcomes],
            }
        )

    async def report(self, request: Request) -> Response:
        query = request.check_query(("limit", "cursor"))
        which = self._which(request)
        page = await self.registry.schema_report(
            request.params["name"], which, limit=int_param(query, "limit"), cursor=query.get("cursor") or None
        )
        return self._json(
            {
                "schema": {"name": page.schema, "version": page.version},
                "items": [f.to_dict() for f in page.items],
                "scanned": page.scanned,
                "next_cursor": page.next_cursor,
                "revision": page.revision,
            },
            revision=page.revision,
        )


__all__ = ["PREFIX", "SCHEMAS", "SchemaRoutes"]
