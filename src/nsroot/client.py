"""An async HTTP client for the ns-root API, raising the same errors as the core.

async with Client("http://127.0.0.1:8080") as client:
    await client.create({"id": "platform", "kind": "team"})
    record = await client.get("platform")
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Final

import httpx

from nsroot import errors
from nsroot.errors import NsRootError, Unavailable

DEFAULT_URL: Final = "http://127.0.0.1:8080"
_BY_TYPE: Final = {errors.PROBLEM_BASE + cls.slug: cls for cls in errors.ALL_ERRORS if cls is not errors.Conflict}


def _error(response: httpx.Response) -> NsRootError:
    """The NsRootError a problem+json answer describes."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    detail = str(body.get("detail") or f"HTTP {response.status_code}: {response.text[:200]}")
    field, rule = body.get("field"), body.get("rule")
    problems = [
        errors.FieldError(e["field"], e["rule"], e["detail"], e.get("schema_path")) for e in body.get("errors", [])
    ]
    kind = body.get("type", "")
    if kind == errors.PROBLEM_BASE + errors.Conflict.slug:
        return errors.Conflict(
            detail,
            expected=int(body.get("expected_revision", 0)),
            actual=int(body.get("actual_revision", 0)),
            field=field,
            rule=rule,
        )
    cls = _BY_TYPE.get(kind)
    if cls is None:
        exc = NsRootError(detail, field=field, rule=rule, errors=problems)
        exc.status = response.status_code  # type: ignore[misc]
        return exc
    known = {"type", "title", "status", "detail", "instance", "field", "rule", "errors"}
    return cls(detail, field=field, rule=rule, errors=problems, extra={k: v for k, v in body.items() if k not in known})


class Client:
    """A connection pool to one ns-root server."""

    def __init__(self, url: str = DEFAULT_URL, *, timeout: float = 10.0, token: str | None = None) -> None:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._http = httpx.AsyncClient(base_url=self.url, timeout=timeout, headers=headers)

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = await self._http.request(method, path, params=query, json=json, headers=headers)
        except httpx.TimeoutException as exc:
            raise Unavailable(
                f"cannot reach ns-root at {self.url}: no answer within {self.timeout} s (timed out)"
            ) from exc
        except httpx.TransportError as exc:
            reason = str(exc) or type(exc).__name__
            raise Unavailable(f"cannot reach ns-root at {self.url}: {reason}") from exc
        if response.status_code >= 400:
            raise _error(response)
        return response

    @staticmethod
    def _precondition(if_match: int | None) -> dict[str, str] | None:
        return {"if-match": f'"{if_match}"'} if if_match is not None else None

    async def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = (await self.request("POST", "/v1/namespaces", json=dict(body))).json()
        return result

    async def get(self, ns_id: str, *, revision: int | None = None) -> dict[str, Any]:
        response = await self.request("GET", f"/v1/namespaces/{ns_id}", params={"revision": revision})
        result: dict[str, Any] = response.json()
        return result

    async def replace(self, ns_id: str, body: Mapping[str, Any], *, if_match: int | None = None) -> dict[str, Any]:
        response = await self.request(
            "PUT", f"/v1/namespaces/{ns_id}", json=dict(body), headers=self._precondition(if_match)
        )
        result: dict[str, Any] = response.json()
        return result

    async def patch(self, ns_id: str, patch: Mapping[str, Any], *, if_match: int | None = None) -> dict[str, Any]:
        headers = {"content-type": "application/merge-patch+json", **(self._precondition(if_match) or {})}
        response = await self.request("PATCH", f"/v1/namespaces/{ns_id}", json=dict(patch), headers=headers)
        result: dict[str, Any] = response.json()
        return result

    async def delete(self, ns_id: str, *, recursive: bool = False, if_match: int | None = None) -> dict[str, Any]:
        response = await self.request(
            "DELETE",
            f"/v1/namespaces/{ns_id}",
            params={"recursive": "true" if recursive else None},
            headers=self._precondition(if_match),
        )
        result: dict[str, Any] = response.json()
        return result

    async def list(self, **params: Any) -> dict[str, Any]:
        """One page: ``prefix``, ``children_of``, ``selector``, ``limit``, ``cursor``, ``revision``."""
        result: dict[str, Any] = (await self.request("GET", "/v1/namespaces", params=params)).json()
        return result

    async def list_all(self, **params: Any) -> AsyncIterator[dict[str, Any]]:
        """Every matching record, following cursors (one snapshot across pages)."""
        cursor = None
        while True:
            page = await self.list(**params, cursor=cursor)
            for item in page["items"]:
                yield item
            cursor = page["next_cursor"]
            if not cursor:
                return

    async def count(self, **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = (
            await self.request("GET", "/v1/namespaces", params={**params, "count_only": "true"})
        ).json()
        return result

    async def history(self, ns_id: str, *, limit: int | None = None, cursor: str | None = None) -> dict[str, Any]:
        response = await self.request(
            "GET", f"/v1/namespaces/{ns_id}/history", params={"limit": limit, "cursor": cursor}
        )
        result: dict[str, Any] = response.json()
        return result

    async def revision(self) -> dict[str, Any]:
        result: dict[str, Any] = (await self.request("GET", "/v1/revision")).json()
        return result

    async def compact(self, revision: int) -> dict[str, Any]:
        result: dict[str, Any] = (await self.request("POST", "/v1/compaction", json={"revision": revision})).json()
        return result

    # -- schemas ---------------------------------------------------------------------

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return (await self.request(method, path, **kwargs)).json()

    async def register_schema(self, name: str, schema: Any) -> dict[str, Any]:
        """Register ``schema`` as the next version of ``name`` (an identical one is returned as is)."""
        result: dict[str, Any] = await self._json("POST", f"/v1/schemas/{name}/versions", json={"schema": schema})
        return result

    async def schemas(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._json("GET", "/v1/schemas")
        return result

    async def schema(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._json("GET", f"/v1/schemas/{name}")
        return result

    async def schema_versions(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._json("GET", f"/v1/schemas/{name}/versions")
        return result

    async def schema_version(self, name: str, version: int | str = "latest") -> dict[str, Any]:
        result: dict[str, Any] = await self._json("GET", f"/v1/schemas/{name}/versions/{version}")
        return result

    async def configure_schema(self, name: str, compatibility: str | None) -> dict[str, Any]:
        result: dict[str, Any] = await self._json(
            "PUT", f"/v1/schemas/{name}/config", json={"compatibility": compatibility}
        )
        return result

    async def check_schema(self, name: str, schema: Any, *, version: int | None = None) -> dict[str, Any]:
        """Dry run: would ``schema`` be accepted as the next version of ``name``?"""
        result: dict[str, Any] = await self._json(
            "POST", f"/v1/schemas/{name}/compatibility", params={"version": version}, json={"schema": schema}
        )
        return result

    async def validate(self, name: str, documents: Any, *, version: int | None = None) -> dict[str, Any]:
        """Validate one document (or, given a list, each of a batch) against schema ``name``."""
        result: dict[str, Any] = await self._json(
            "POST", f"/v1/schemas/{name}/validate", params={"version": version}, json=documents
        )
        return result

    async def set_schema_state(self, name: str, version: int, state: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._json(
            "PATCH", f"/v1/schemas/{name}/versions/{version}", json={"state": state}
        )
        return result

    async def delete_schema(self, name: str, version: int | None = None) -> dict[str, Any]:
        path = f"/v1/schemas/{name}" if version is None else f"/v1/schemas/{name}/versions/{version}"
        result: dict[str, Any] = await self._json("DELETE", path)
        return result

    async def schema_report(
        self, name: str, version: int | str = "latest", *, limit: int | None = None, cursor: str | None = None
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self._json(
            "GET", f"/v1/schemas/{name}/versions/{version}/report", params={"limit": limit, "cursor": cursor}
        )
        return result
