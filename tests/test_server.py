"""The real server: ``python -m nsroot serve`` in its own process, over a real TCP socket.

These tests cover what only a real process can show: the wire format as granian serves
it, durability across ``kill -9`` and graceful restarts, concurrency through the HTTP
stack, and several worker processes sharing one SQLite file.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import ServerProcess
from nsroot import errors
from nsroot.client import Client

PROBLEM = "application/problem+json"


def _problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    """Check ``response`` is an RFC 9457 problem of ``status``/``slug`` and return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body: dict[str, Any] = response.json()
    assert body["type"] == errors.PROBLEM_BASE + slug, body
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    return body


async def _all_ids(client: Client, **params: Any) -> dict[str, dict[str, Any]]:
    return {item["id"]: item async for item in client.list_all(limit=1000, **params)}


# -- 1. smoke ------------------------------------------------------------------------


async def test_smoke_over_a_real_socket(server: ServerProcess) -> None:
    async with Client(server.url, timeout=10) as client:
        acme = await client.create({"id": "acme", "kind": "org", "owner": "team:platform", "labels": {"tier": "gold"}})
        assert acme["id"] == "acme"
        assert acme["parent"] is None
        assert acme["owner"] == "team:platform"
        assert acme["version"] == 1
        assert acme["create_revision"] == acme["mod_revision"] >= 1
        billing = await client.create(
            {
                "id": "acme.billing",
                "kind": "service",
                "labels": {"tier": "gold", "app": "billing"},
                "annotations": {"note": "free text"},
                "metadata": {"cost_center": 42, "tags": ["a", "b"]},
            }
        )
        assert billing["parent"] == "acme"
        assert billing["owner"] == "anonymous"
        assert billing["mod_revision"] == acme["mod_revision"] + 1
        search = await client.create({"id": "acme.search", "kind": "service", "labels": {"tier": "silver"}})
        invoices = await client.create({"id": "acme.billing.invoices", "kind": "service"})
        await client.create({"id": "other", "kind": "org"})

        got = await client.get("acme.billing")
        assert got == billing
        assert got["metadata"] == {"cost_center": 42, "tags": ["a", "b"]}
        assert got["annotations"] == {"note": "free text"}

        gold = await client.list(prefix="acme", selector="tier=gold")
        assert [r["id"] for r in gold["items"]] == ["acme", "acme.billing"]
        assert gold["next_cursor"] is None
        assert gold["revision"] == invoices["mod_revision"] + 1
        not_gold = await client.list(prefix="acme", selector="tier in (silver),!app")
        assert [r["id"] for r in not_gold["items"]] == ["acme.search"]
        children = await client.list(children_of="acme")
        assert [r["id"] for r in children["items"]] == ["acme.billing", "acme.search"]
        roots = await client.list(children_of="")
        assert [r["id"] for r in roots["items"]] == ["acme", "other"]
        assert (await client.count(prefix="acme"))["count"] == 4
        first = await client.list(prefix="acme", limit=2)
        assert len(first["items"]) == 2
        assert first["next_cursor"]
        assert [r["id"] for r in (await _all_ids(client, prefix="acme")).values()] == [
            "acme",
            "acme.billing",
            "acme.billing.invoices",
            "acme.search",
        ]

        patched = await client.patch("acme.search", {"labels": {"env": "prod"}, "metadata": {"x": 1}})
        assert patched["labels"] == {"tier": "silver", "env": "prod"}
        assert patched["metadata"] == {"x": 1}
        assert patched["version"] == 2
        assert patched["create_revision"] == search["mod_revision"]
        assert patched["mod_revision"] > search["mod_revision"]
        unlabelled = await client.patch("acme.search", {"labels": {"env": None}})
        assert unlabelled["labels"] == {"tier": "silver"}

        history = await client.history("acme.search")
        assert [v["event"] for v in history["items"]] == ["create", "update", "update"]
        assert [v["revision"] for v in history["items"]] == [
            search["mod_revision"],
            patched["mod_revision"],
            unlabelled["mod_revision"],
        ]
        assert history["items"][1]["namespace"]["labels"] == {"tier": "silver", "env": "prod"}

        with pytest.raises(errors.NotEmpty):
            await client.delete("acme")
        deleted = await client.delete("acme", recursive=True)
        assert sorted(deleted["deleted"]) == ["acme", "acme.billing", "acme.billing.invoices", "acme.search"]
        assert deleted["revision"] == unlabelled["mod_revision"] + 1
        with pytest.raises(errors.NotFound):
            await client.get("acme.billing")
        assert (await client.revision())["revision"] == deleted["revision"]
        # the past stays readable until compacted
        then = await client.get("acme.billing", revision=deleted["revision"] - 1)
        assert then["labels"] == billing["labels"]
        history = await client.history("acme.billing")
        assert [v["event"] for v in history["items"]] == ["create", "delete"]
        assert history["items"][-1]["namespace"] is None
        assert (await client.list(prefix="acme"))["items"] == []

    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        response = await http.get("/v1/namespaces/other")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        record = response.json()
        assert response.headers["etag"] == f'"{record["mod_revision"]}"'
        assert int(response.headers["nsroot-revision"]) == deleted["revision"]
        cached = await http.get("/v1/namespaces/other", headers={"if-none-match": response.headers["etag"]})
        assert cached.status_code == 304
        assert cached.content == b""

        created = await http.post("/v1/namespaces", json={"id": "other.child", "kind": "service"})
        assert created.status_code == 201
        assert created.headers["location"] == "/v1/namespaces/other.child"
        assert created.headers["etag"] == f'"{created.json()["mod_revision"]}"'

        health = await http.get("/healthz")
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        ready = await http.get("/readyz")
        assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
        metrics = await http.get("/metrics")
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain")
        assert 'nsroot_http_requests_total{method="POST",route="/v1/namespaces",status="201"}' in metrics.text
        assert "nsroot_operation_duration_seconds_bucket" in metrics.text
        openapi = await http.get("/openapi.json")
        assert openapi.status_code == 200
        assert "paths" in openapi.json()

        # problem+json answers for bad input
        bad = _problem(await http.post("/v1/namespaces", json={"id": "Bad_Id", "kind": "x"}), 400, "invalid-input")
        assert bad["field"] == "/id"
        assert bad["instance"] == "/v1/namespaces"
        several = _problem(
            await http.post("/v1/namespaces", json={"id": "ok", "kind": "Not A Kind", "labels": {"bad key": "v"}}),
            400,
            "invalid-input",
        )
        assert {e["field"] for e in several["errors"]} == {"/kind", "/labels/bad key"}
        _problem(await http.post("/v1/namespaces", content=b"{not json"), 400, "invalid-input")
        _problem(
            await http.post("/v1/namespaces", content=b"{}", headers={"content-type": "text/plain"}),
            415,
            "unsupported-media-type",
        )
        orphan = _problem(
            await http.post("/v1/namespaces", json={"id": "nope.child", "kind": "x"}), 422, "parent-not-found"
        )
        assert orphan["field"] == "/id"
        _problem(await http.post("/v1/namespaces", json={"id": "other", "kind": "org"}), 409, "already-exists")
        _problem(await http.get("/v1/namespaces/missing"), 404, "not-found")
        _problem(await http.get("/v1/namespaces", params={"selector": "a in (b"}), 400, "invalid-selector")
        _problem(await http.get("/v1/namespaces", params={"bogus": "1"}), 400, "invalid-input")
        _problem(await http.delete("/v1/namespaces/other"), 409, "not-empty")
        _problem(await http.get("/no/such/route"), 404, "not-found")
        not_allowed = await http.delete("/v1/revision")
        _problem(not_allowed, 405, "method-not-allowed")
        assert "GET" in not_allowed.headers["allow"].split(", ")
        assert "DELETE" not in not_allowed.headers["allow"]


async def test_an_oversized_body_is_answered_413_not_reset(server: ServerProcess) -> None:
    """A body over max_body_bytes (1 MiB) must get its problem answer, however large it is.

    Answering before the body has been read, and then closing, resets the connection
    while the client is still sending: the client sees a ReadError, never the 413.
    """
    outcomes: dict[int, str] = {}
    for size in (1_100_000, 4_000_000, 16_000_000):
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            body = {"id": "big", "kind": "x", "metadata": {"x": "y" * size}}
            try:
                response = await http.post("/v1/namespaces", json=body)
            except httpx.TransportError as exc:
                outcomes[size] = type(exc).__name__
            else:
                outcomes[size] = str(response.status_code)
                _problem(response, 413, "payload-too-large")
    assert outcomes == dict.fromkeys(outcomes, "413"), outcomes
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        assert (await http.get("/readyz")).status_code == 200
        assert (await http.get("/v1/namespaces/big")).status_code == 404


# -- 2. kill -9 ----------------------------------------------------------------------


@dataclass
class LoadLog:
    """What the load generator saw: acknowledged creates, refused ones, and the rest."""

    acked: dict[str, int] = field(default_factory=dict)  # id -> mod_revision of its 201
    refused: dict[str, int] = field(default_factory=dict)  # id -> 4xx status
    unknown: set[str] = field(default_factory=set)  # no answer: the server died meanwhile
    unexpected: list[str] = field(default_factory=list)  # answers that should not have happened
    in_flight: int = 0


TASKS = 64
ACKED_BEFORE_KILL = 300


async def _load(http: httpx.AsyncClient, task: int, log: LoadLog, enough: asyncio.Event) -> None:
    n = 0
    while True:
        n += 1
        ns_id = f"load.w{task}-{n}"
        body: dict[str, Any] = {"id": ns_id, "kind": "test", "labels": {"task": str(task)}}
        expect = 201
        if n % 7 == 3:  # refused: the parent does not exist
            ns_id = f"orphan-w{task}.n{n}"
            body["id"] = ns_id
            expect = 422
        elif n % 7 == 5:  # refused: an invalid label key, on an id that would be valid
            body["labels"] = {"bad key!": "x"}
            expect = 400
        log.in_flight += 1
        try:
            response = await http.post("/v1/namespaces", json=body)
        except httpx.TransportError:
            log.unknown.add(ns_id)
            return
        finally:
            log.in_flight -= 1
        status = response.status_code
        if status == 201:
            log.acked[ns_id] = response.json()["mod_revision"]
            if len(log.acked) >= ACKED_BEFORE_KILL:
                enough.set()
        elif 400 <= status < 500:
            log.refused[ns_id] = status
        else:  # e.g. a 503: not an acknowledgement, not a refusal
            log.unknown.add(ns_id)
        if status != expect:
            log.unexpected.append(f"{ns_id}: expected {expect}, got {status} {response.text[:200]}")


@pytest.mark.parametrize("durability", ["power-loss", "process-crash"])
async def test_kill_9_loses_no_acknowledged_write(tmp_path: Path, durability: str) -> None:
    extra = () if durability == "power-loss" else ("--durability", "process-crash")
    server = ServerProcess(tmp_path / "kill.db", extra=extra).start()
    started = time.monotonic()
    log = LoadLog()
    try:
        limits = httpx.Limits(max_connections=TASKS + 8, max_keepalive_connections=TASKS + 8)
        async with httpx.AsyncClient(base_url=server.url, timeout=10.0, limits=limits) as http:
            parent = await http.post("/v1/namespaces", json={"id": "load", "kind": "test"})
            assert parent.status_code == 201, parent.text
            enough = asyncio.Event()
            tasks = [asyncio.create_task(_load(http, t, log, enough)) for t in range(TASKS)]
            with contextlib.suppress(TimeoutError):  # a slow disk: kill anyway with what was acked so far
                await asyncio.wait_for(enough.wait(), timeout=25)
            in_flight_at_kill = log.in_flight
            acked_at_kill = len(log.acked)
            server.kill()  # SIGKILL to the whole process group, mid-load
            done, pending = await asyncio.wait(tasks, timeout=20)
            for task in pending:
                task.cancel()
            assert not pending, "client tasks did not finish after the server was killed"
            for task in done:
                task.result()  # no exception other than the transport errors _load handles
        print(
            f"\n[{durability}] acked={len(log.acked)} (at kill {acked_at_kill}) refused={len(log.refused)} "
            f"unknown={len(log.unknown)} in-flight at kill={in_flight_at_kill} "
            f"load+kill {time.monotonic() - started:.1f}s"
        )
        assert not log.unexpected, log.unexpected[:10]
        assert len(log.acked) >= 1
        assert in_flight_at_kill > 0
        assert log.unknown, "every task ends on a transport error once the server is dead"
        assert len(log.unknown) <= TASKS
        assert log.refused
        acked_revisions = list(log.acked.values())
        assert len(set(acked_revisions)) == len(acked_revisions), "two acknowledged writes share a revision"

        server.start()
        async with Client(server.url, timeout=10) as client:
            present = await _all_ids(client, prefix="load")
            assert "load" in present
            missing = sorted(set(log.acked) - set(present))
            assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {missing[:5]}"
            changed = {
                i: (r, present[i]["mod_revision"]) for i, r in log.acked.items() if present[i]["mod_revision"] != r
            }
            assert not changed, f"acknowledged writes at another revision: {list(changed.items())[:5]}"
            for ns_id, revision in log.acked.items():
                assert present[ns_id]["create_revision"] == revision
            resurrected = sorted(set(log.refused) & set(present))
            assert not resurrected, f"refused writes present after restart: {resurrected[:5]}"
            strangers = sorted(set(present) - set(log.acked) - log.unknown - {"load"})
            assert not strangers, f"writes nobody made: {strangers[:5]}"
            orphans = await client.list(children_of="")
            assert [r["id"] for r in orphans["items"]] == ["load"], "a refused orphan create is present"
            for ns_id in [i for i in log.refused if i.startswith("orphan")][:20]:
                with pytest.raises(errors.NotFound):
                    await client.get(ns_id)
            present_revisions = [r["mod_revision"] for r in present.values()]
            assert len(set(present_revisions)) == len(present_revisions)

            revision = (await client.revision())["revision"]
            assert revision >= max(acked_revisions)
            assert revision >= max(present_revisions)
            after = await client.create({"id": "load.after-restart", "kind": "test"})
            assert after["mod_revision"] == revision + 1
            assert (await client.get("load.after-restart"))["mod_revision"] == revision + 1
            await client.patch(next(iter(log.acked)), {"labels": {"checked": "yes"}})
        print(
            f"[{durability}] after restart: {len(present) - 1} present "
            f"({len(present) - 1 - len(log.acked)} of the unknown landed), revision {revision}, "
            f"total {time.monotonic() - started:.1f}s"
        )
    finally:
        server.stop()
    assert time.monotonic() - started < 60


# -- 3. graceful restart -------------------------------------------------------------


async def test_graceful_restart_keeps_data_and_history(server: ServerProcess) -> None:
    async with Client(server.url) as client:
        await client.create({"id": "keep", "kind": "team", "labels": {"a": "1"}})
        await client.create({"id": "keep.child", "kind": "service"})
        await client.create({"id": "keep.gone", "kind": "service"})
        await client.patch("keep", {"labels": {"b": "2"}})
        replaced = await client.replace("keep", {"kind": "team", "owner": "team:x", "metadata": {"m": True}})
        deleted = await client.delete("keep.gone")
        before = await client.revision()
        history_before = await client.history("keep")
        child_before = await client.get("keep.child")

    server.stop()  # SIGTERM: a graceful shutdown
    assert server.process is not None
    assert server.process.returncode == 0
    assert server.log is not None
    assert "Traceback" not in server.log.read_text()
    server.start()

    async with Client(server.url) as client:
        assert await client.revision() == before
        assert before["revision"] == deleted["revision"]
        assert await client.history("keep") == history_before
        assert [v["event"] for v in history_before["items"]] == ["create", "update", "update"]
        keep = await client.get("keep")
        assert keep == replaced
        assert keep["labels"] == {}
        assert keep["owner"] == "team:x"
        assert keep["version"] == 3
        assert await client.get("keep.child") == child_before
        with pytest.raises(errors.NotFound):
            await client.get("keep.gone")
        gone = await client.history("keep.gone")
        assert [v["event"] for v in gone["items"]] == ["create", "delete"]
        old = await client.get("keep", revision=replaced["mod_revision"] - 1)
        assert old["labels"] == {"a": "1", "b": "2"}
        after = await client.create({"id": "keep.new", "kind": "service"})
        assert after["mod_revision"] == before["revision"] + 1


# -- 4. concurrency ------------------------------------------------------------------


async def test_concurrent_patches_without_if_match_all_land(server: ServerProcess) -> None:
    limits = httpx.Limits(max_connections=40)
    async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as http:
        assert (await http.post("/v1/namespaces", json={"id": "hot", "kind": "test"})).status_code == 201

        async def add_label(i: int) -> httpx.Response:
            return await http.patch(
                "/v1/namespaces/hot",
                json={"labels": {f"l{i}": str(i)}},
                headers={"content-type": "application/merge-patch+json"},
            )

        responses = await asyncio.gather(*(add_label(i) for i in range(32)))
        statuses = sorted(r.status_code for r in responses)
        failures = [r.text for r in responses if r.status_code != 200]
        final = (await http.get("/v1/namespaces/hot")).json()
        assert statuses == [200] * 32, f"{len(failures)} PATCHes failed, e.g. {failures[:2]}"
        assert final["labels"] == {f"l{i}": str(i) for i in range(32)}
        assert final["version"] == 33
        assert len({r.json()["mod_revision"] for r in responses}) == 32


async def test_concurrent_puts_with_the_same_if_match_exactly_one_wins(server: ServerProcess) -> None:
    limits = httpx.Limits(max_connections=40)
    async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as http:
        created = await http.post("/v1/namespaces", json={"id": "race", "kind": "test"})
        etag = created.headers["etag"]

        async def put(i: int) -> httpx.Response:
            return await http.put(
                "/v1/namespaces/race", json={"kind": "test", "labels": {"winner": str(i)}}, headers={"if-match": etag}
            )

        responses = await asyncio.gather(*(put(i) for i in range(32)))
        statuses = [r.status_code for r in responses]
        assert statuses.count(200) == 1, statuses
        assert statuses.count(412) == 31, statuses
        winner = responses[statuses.index(200)]
        for response in responses:
            if response.status_code == 412:
                body = _problem(response, 412, "precondition-failed")
                assert body["field"] == "If-Match"
        final = (await http.get("/v1/namespaces/race")).json()
        assert final == winner.json()
        assert final["version"] == 2
        assert final["labels"] == {"winner": str(statuses.index(200))}


# -- 5. several workers --------------------------------------------------------------


def _create_counts(metrics: str) -> int:
    found = re.search(
        r'^nsroot_operation_duration_seconds_count\{operation="create",outcome="ok"\} (\S+)$', metrics, re.M
    )
    return int(float(found.group(1))) if found else 0


async def test_two_workers_share_one_sqlite_file(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "workers.db", extra=("--workers", "2")).start()
    try:
        async with Client(server.url) as client:
            await client.create({"id": "multi", "kind": "test"})

        # Many short-lived connections, so that both workers accept some of them.
        async def create_batch(b: int) -> list[dict[str, Any]]:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                results = await asyncio.gather(
                    *(http.post("/v1/namespaces", json={"id": f"multi.b{b}-{i}", "kind": "test"}) for i in range(10))
                )
            assert [r.status_code for r in results] == [201] * 10, [r.text for r in results if r.status_code != 201]
            return [r.json() for r in results]

        batches = await asyncio.gather(*(create_batch(b) for b in range(12)))
        created = [record for batch in batches for record in batch]
        revisions = [r["mod_revision"] for r in created]
        assert len(set(revisions)) == len(revisions) == 120

        # Scrape /metrics on fresh connections: each worker has its own counters.
        seen: set[int] = set()
        for _ in range(30):
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
                seen.add(_create_counts((await http.get("/metrics")).text))
            if len(seen) >= 2:
                break

        async with Client(server.url) as client:
            present = await _all_ids(client, prefix="multi")
            assert set(present) == {"multi"} | {r["id"] for r in created}
            for record in created:
                assert present[record["id"]]["mod_revision"] == record["mod_revision"]
            assert (await client.revision())["revision"] == max(revisions)
            # every record is readable through whichever worker answers
            for record in created[:40]:
                assert (await client.get(record["id"]))["mod_revision"] == record["mod_revision"]
        assert len(seen) == 2, f"expected two workers with their own counters, saw {seen}"
        assert sum(seen) == 121, f"both workers served creates: {seen}"
    finally:
        server.stop()
