"""A lean ASGI request and the helpers that turn its parts into checked values."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, Final
from urllib.parse import parse_qsl

import msgspec

from nsroot.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from nsroot.records import parse_decimal

JSON: Final = "application/json"
PROBLEM_JSON: Final = "application/problem+json"
MERGE_PATCH_JSON: Final = "application/merge-patch+json"

Scope = dict[str, Any]
Message = dict[str, Any]

#: How much of an oversized body is read and dropped before answering 413.
DRAIN_LIMIT: Final = 64 * 1024 * 1024
_TRUE: Final = ("true", "1", "yes")
_FALSE: Final = ("false", "0", "no")


class Request:
    """What a handler needs of one HTTP request, from either server interface.

    ``nsroot serve`` runs the app on granian's RSGI interface (its native one, and the
    faster: docs/benchmarks.md); any ASGI server, and the in-process tests, use ASGI.
    The body is read on demand, within a limit.
    """

    __slots__ = ("_chunks", "_header", "_query", "_read_all", "max_body", "method", "params", "path", "query_string")

    def __init__(
        self,
        method: str,
        path: str,
        query_string: str,
        header: Callable[[str], str | None],
        chunks: AsyncIterable[bytes],
        max_body: int,
        read_all: Callable[[], Awaitable[bytes]] | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.query_string = query_string
        self.max_body = max_body
        self.params: dict[str, str] = {}
        self._header = header
        self._chunks = chunks
        self._read_all = read_all
        self._query: dict[str, str] | None = None

    @classmethod
    def from_asgi(cls, scope: Scope, receive: Any, max_body: int) -> Request:
        query = scope.get("query_string", b"").decode("latin-1")
        return cls(
            scope["method"], scope["path"], query, _ASGIHeaders(scope["headers"]).get, _ASGIBody(receive), max_body
        )

    @classmethod
    def from_rsgi(cls, scope: Any, protocol: Any, max_body: int) -> Request:
        # The RSGI protocol object is itself an async iterable of body chunks, and called,
        # reads the whole body in one step (used when Content-Length bounds it).
        return cls(scope.method, scope.path, scope.query_string, scope.headers.get, protocol, max_body, protocol)

    def header(self, name: str) -> str | None:
        """A request header by its lower-case name."""
        return self._header(name)

    @property
    def query(self) -> dict[str, str]:
        if self._query is None:
            pairs = parse_qsl(self.query_string, keep_blank_values=True)
            query: dict[str, str] = {}
            for key, value in pairs:
                if key in query:
                    raise InvalidInput(f"query parameter {key!r} given more than once", field=key, rule="single")
                query[key] = value
            self._query = query
        return self._query

    def check_query(self, allowed: Iterable[str]) -> dict[str, str]:
        query = self.query
        known = set(allowed)
        for key in query:
            if key not in known:
                raise InvalidInput(
                    f"unknown query parameter {key!r}; allowed: {', '.join(sorted(known)) or 'none'}",
                    field=key,
                    rule="unknown-parameter",
                )
        return query

    async def body(self) -> bytes:
        """The whole body, or PayloadTooLarge past ``max_body``.

        An oversized body is still read to its end (and dropped), up to ``DRAIN_LIMIT``,
        so the client is reading when the 413 arrives; a client whose send blocks on a
        server that stopped reading would see a connection reset instead of the answer.
        """
        declared = self.header("content-length")
        expected = parse_decimal(declared) if declared is not None else None
        if expected is not None and expected > self.max_body + DRAIN_LIMIT:
            raise self._too_large(expected)
        if expected is not None and expected <= self.max_body and self._read_all is not None:
            # HTTP/1.1 framing stops the body at Content-Length, so one read is bounded;
            # it saves a round trip to the server per chunk (8% of a create's time).
            whole = await self._read_all()
            if len(whole) > self.max_body:
                raise self._too_large(len(whole))
            return whole
        chunks: list[bytes] = []
        size = 0
        async for chunk in self._chunks:
            size += len(chunk)
            if size <= self.max_body:
                chunks.append(chunk)
            elif size > self.max_body + DRAIN_LIMIT:
                break
        if size > self.max_body:
            raise self._too_large(expected if expected is not None else size)
        return b"".join(chunks)

    def _too_large(self, size: int) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"request body of {size} bytes exceeds the limit of {self.max_body} bytes",
            field="body",
            rule="max-body-bytes",
            extra={"limit": self.max_body},
        )

    async def json(self, *media_types: str) -> Any:
        """The body decoded as JSON, after checking its media type."""
        content_type = (self.header("content-type") or "application/json").split(";", 1)[0].strip().lower()
        accepted = media_types or ("application/json",)
        if content_type not in accepted:
            raise UnsupportedMediaType(
                f"Content-Type {content_type!r} is not accepted here; use {' or '.join(accepted)}",
                field="Content-Type",
                rule="media-type",
            )
        raw = await self.body()
        if not raw.strip():
            raise InvalidInput("the request body is empty; a JSON object is required", field="body", rule="json-syntax")
        try:
            return msgspec.json.decode(raw)
        except msgspec.DecodeError as exc:
            raise InvalidInput(f"the body is not valid JSON: {exc}", field="body", rule="json-syntax") from exc
        except RecursionError as exc:
            raise InvalidInput("the body is nested too deeply", field="body", rule="json-depth") from exc


class _ASGIHeaders:
    __slots__ = ("raw",)

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self.raw = raw

    def get(self, name: str) -> str | None:
        wanted = name.encode("latin-1")
        for key, value in self.raw:
            if key == wanted:
                return value.decode("latin-1")
        return None


class _ASGIBody:
    __slots__ = ("receive",)

    def __init__(self, receive: Any) -> None:
        self.receive = receive

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise InvalidInput("client disconnected before sending the whole body", rule="complete-body")
            yield message.get("body", b"")
            if not message.get("more_body", False):
                return


def int_param(
    query: dict[str, str], name: str, *, minimum: int = 1, error: type[InvalidInput] = InvalidInput
) -> int | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    number = parse_decimal(value)
    if number is None or number < minimum:
        raise error(f"{name} must be an integer of at least {minimum}, got {value!r}", field=name, rule="integer")
    return number


def bool_param(query: dict[str, str], name: str) -> bool:
    value = query.get(name, "false").lower()
    if value in _TRUE or value == "":  # a bare "?recursive" means true
        return True
    if value in _FALSE:
        return False
    raise InvalidInput(f"{name} must be true or false, got {value!r}", field=name, rule="boolean")
