"""What the in-process HTTP tests (tests/test_http.py and tests/test_http_schemas.py) share:
checks of problem documents (RFC 9457), the fuzzing setup, and a few small helpers."""

from __future__ import annotations

import re
from typing import Any

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

PROBLEM = "application/problem+json"


def assert_problem(
    response: httpx.Response,
    status: int,
    slug: str | None = None,
    field: str | None = None,
    rule: str | None = None,
) -> dict[str, Any]:
    """A problem document with this status (and, where given, this type slug, field and rule)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM, response.headers
    body: dict[str, Any] = response.json()
    assert body["type"].startswith("urn:nsroot:problem:"), body
    if slug is not None:
        assert body["type"] == "urn:nsroot:problem:" + slug, body
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    if field is not None:
        assert body.get("field") == field, body
    if rule is not None:
        assert body.get("rule") == rule, body
    return body


def assert_sane(response: httpx.Response, *, texts: bool = True) -> None:
    """Never a 5xx; every 4xx a problem document (with a string title and detail, if ``texts``)."""
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == PROBLEM
        body = response.json()
        assert body["status"] == response.status_code
        assert body["type"].startswith("urn:nsroot:problem:")
        if texts:
            assert isinstance(body["title"], str)
            assert isinstance(body["detail"], str)


# -- fuzzing ----------------------------------------------------------------------------

#: Any JSON value, nested a little.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


def fuzz_settings(max_examples: int) -> settings:
    """Reproducible runs (derandomized, no example database) over function-scoped fixtures."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# -- small helpers ----------------------------------------------------------------------


async def revision_now(client: httpx.AsyncClient) -> int:
    response = await client.get("/v1/revision")
    assert response.status_code == 200
    value: int = response.json()["revision"]
    return value


def samples(exposition: str) -> list[tuple[str, dict[str, str], float]]:
    """(name, labels, value) of every sample line of a Prometheus text exposition."""
    found = []
    for line in exposition.splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        name, _, rest = head.partition("{")
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', rest))
        found.append((name, labels, float(value)))
    return found


def nested(depth: int) -> dict[str, Any]:
    """An object ``depth`` levels deep."""
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"n": value}
    return value
