"""Benchmarks of the schema issue, each beside a baseline measured in the same run.

    .venv/bin/python bench/schema_bench.py            # full run (about 5 minutes)
    .venv/bin/python bench/schema_bench.py --quick    # a smoke run of every step (about 30 s)

What it measures (servers pinned to core 0 with taskset, wrk pinned to core 1), all with
one realistic 15-field metadata schema (formats email, date-time, uri and uuid, patterns,
enums, bounds, a nested object and an array; ``SCHEMA`` below) and a valid document:

1. In-process validation on one core (the process pins itself to core 0), through
   ns-root's own code path: ``SchemaSet.violations(version, doc)`` on a registered
   version, and ``await SchemaSet.validate(name, [doc])`` per call. Beside them the
   ``jsonschema`` package (``Draft202012Validator(schema, format_checker=...).is_valid``)
   and raw ``jsonschema_rs`` ``is_valid`` (the ceiling); the arms alternate within each
   repeat. Target: 200,000/s.
2. ``POST /v1/schemas/{name}/validate`` with one document, 256 connections, ``nsroot
   serve`` with strict kinds; beside it ``GET /healthz`` on the same server, the same
   settings, alternating. Targets: 15,000 req/s and P99 <= 30 ms.
3. The same endpoint with batches of 100 documents per request (documents/s = req/s x
   100); beside it the in-process ``jsonschema_rs`` ceiling of step 1. Target: 150,000
   documents/s.
4. Durable creates from 256 connections (as in registry_bench.py) on one server started
   with ``--schemaless-kinds``: kind ``service`` (validated against the schema) against
   kind ``free`` (no schema), with the same metadata bytes, in ``--pairs`` pairs of runs
   alternating A B | B A | A B ... The verdict is the median of the pairs' ratios (each
   pair runs back to back, so the machine's drift between pairs cancels); the ratio of
   the arms' medians and the server's CPU time per create (from /proc, the server's
   process group) are reported beside it. Target: validated creates at most 15% slower.

Each figure is the median of ``--repeat`` runs. Needs ``wrk`` (``apt-get install wrk``).
Results go to stdout as a Markdown table and to ``bench/results/schemas.json``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from registry_bench import SERVER_CORE, Served, free_port, median
from registry_bench import wrk as registry_wrk

HERE = Path(__file__).resolve().parent
CONNECTIONS = 256
BATCH = 100
NAME = "service"
VALIDATE_PATH = f"/v1/schemas/{NAME}/validate"

TARGETS = {
    "inprocess_per_s": 200_000,
    "validate_rps": 15_000,
    "validate_p99_ms": 30.0,
    "batch_docs_per_s": 150_000,
    "create_max_slowdown": 0.15,
}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["service_id", "name", "owner_email", "created_at", "tier", "port", "contact"],
    "properties": {
        "service_id": {"type": "string", "format": "uuid"},
        "name": {"type": "string", "pattern": "^[a-z][a-z0-9-]{2,62}$"},
        "owner_email": {"type": "string", "format": "email"},
        "homepage": {"type": "string", "format": "uri"},
        "created_at": {"type": "string", "format": "date-time"},
        "tier": {"enum": ["gold", "silver", "bronze"]},
        "region": {"type": "string", "enum": ["eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-south-1"]},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "replicas": {"type": "integer", "minimum": 1, "maximum": 100},
        "cpu_limit": {"type": "number", "exclusiveMinimum": 0, "maximum": 64},
        "public": {"type": "boolean"},
        "version": {"type": "string", "pattern": r"^\d+\.\d+\.\d+$"},
        "description": {"type": "string", "maxLength": 500},
        "tags": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[a-z0-9-]+$", "maxLength": 32},
            "maxItems": 16,
            "uniqueItems": True,
        },
        "contact": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "email"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 100},
                "email": {"type": "string", "format": "email"},
                "slack": {"type": "string", "pattern": "^#[a-z0-9-]+$"},
            },
        },
    },
}

DOCUMENT: dict[str, Any] = {
    "service_id": "6f1c2a9e-3b4d-4e8f-9a0b-1c2d3e4f5a6b",
    "name": "payments-api",
    "owner_email": "platform-team@example.com",
    "homepage": "https://payments.example.com/docs",
    "created_at": "2026-03-14T09:26:53Z",
    "tier": "gold",
    "region": "eu-west-1",
    "port": 8443,
    "replicas": 3,
    "cpu_limit": 2.5,
    "public": False,
    "version": "4.12.0",
    "description": "Card payments API of the checkout flow",
    "tags": ["payments", "pci", "checkout"],
    "contact": {"name": "Payments on-call", "email": "payments-oncall@example.com", "slack": "#payments-oncall"},
}
assert len(DOCUMENT) == len(SCHEMA["properties"]) == 15

# invalid in a way every validator compared here must see (jsonschema's own email check
# only looks for an "@"), to show that each of them really validates
INVALID: dict[str, Any] = {**DOCUMENT, "owner_email": "nobody", "port": 70000}
FORMATS = ("email", "date-time", "uri", "uuid")


def require(condition: bool, message: str) -> None:
    """A sanity check of the setup (kept under ``python -O``, unlike assert)."""
    if not condition:
        raise RuntimeError(message)


def compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


# -- 1. in-process ---------------------------------------------------------------------


async def _rate(run: Callable[[int], Awaitable[None]], seconds: float) -> float:
    """Calls per second of ``run(n)`` (n calls) over ``seconds``, after one warm chunk."""
    chunk = 1000
    await run(chunk)
    done, started = 0, time.perf_counter()
    deadline = started + seconds
    while True:
        await run(chunk)
        done += chunk
        now = time.perf_counter()
        if now >= deadline:
            return done / (now - started)


async def inprocess(seconds: float, attempt: int) -> dict[str, Any]:
    """One repeat of step 1, in a process of its own pinned to the server core: the four
    arms one after another, their order rotated by ``attempt``."""
    import jsonschema
    import jsonschema_rs

    from nsroot.metrics import Metrics
    from nsroot.registry import Registry
    from nsroot.store.sqlite import SQLiteOptions, SQLiteStore

    os.sched_setaffinity(0, {int(SERVER_CORE)})
    work = Path(tempfile.mkdtemp(prefix="nsroot-schema-bench-"))
    try:
        async with Registry(SQLiteStore(SQLiteOptions(work / "inproc.db")), metrics=Metrics()) as registry:
            schemas = registry.schemas
            await schemas.register(NAME, SCHEMA, subject="bench")
            version = await schemas.version(NAME, "latest")
            cls = jsonschema.Draft202012Validator
            js = cls(SCHEMA, format_checker=cls.FORMAT_CHECKER)
            rs = jsonschema_rs.Draft202012Validator(SCHEMA, validate_formats=True)
            doc, batch = DOCUMENT, [DOCUMENT]
            _, outcomes = await schemas.validate(NAME, batch)
            valid = [not schemas.violations(version, doc), outcomes[0].valid, js.is_valid(doc), rs.is_valid(doc)]
            require(all(valid), f"the document must be valid for every arm: {valid}")
            caught = [bool(schemas.violations(version, INVALID)), js.is_valid(INVALID), rs.is_valid(INVALID)]
            require(caught == [True, False, False], f"the invalid document must be refused by every arm: {caught}")

            violations, validate = schemas.violations, schemas.validate
            js_valid, rs_valid = js.is_valid, rs.is_valid

            async def nsroot_violations(n: int) -> None:
                for _ in range(n):
                    violations(version, doc)

            async def nsroot_validate(n: int) -> None:
                for _ in range(n):
                    await validate(NAME, batch)

            async def jsonschema_is_valid(n: int) -> None:
                for _ in range(n):
                    js_valid(doc)

            async def jsonschema_rs_is_valid(n: int) -> None:
                for _ in range(n):
                    rs_valid(doc)

            arms = [nsroot_violations, nsroot_validate, jsonschema_is_valid, jsonschema_rs_is_valid]
            shift = attempt % len(arms)
            rates = {arm.__name__: await _rate(arm, seconds) for arm in arms[shift:] + arms[:shift]}
            return {
                **rates,
                "core": sorted(os.sched_getaffinity(0)),
                "jsonschema_formats_asserted": [f for f in FORMATS if f in cls.FORMAT_CHECKER.checkers],
            }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_inprocess(seconds: float, attempt: int) -> dict[str, Any]:
    code = (
        f"import asyncio, json, sys; sys.path.insert(0, {str(HERE)!r}); import schema_bench as b; "
        f"print(json.dumps(asyncio.run(b.inprocess({seconds}, {attempt}))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"in-process step failed:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# -- HTTP ------------------------------------------------------------------------------


def nsroot_server(db: Path, port: int, durability: str, *, schemaless: bool) -> Served:
    command = [sys.executable, "-m", "nsroot", "serve", "--db", str(db), "--port", str(port)]
    command += ["--log-level", "error", "--durability", durability]
    command.append("--schemaless-kinds" if schemaless else "--no-schemaless-kinds")
    env = {"NSROOT_CONFIG": "", "NSROOT_SCHEMALESS_KINDS": "true" if schemaless else "false"}
    return Served(command, env, "/readyz", port)


def wrk(
    url: str, seconds: int, script: str | None = None, env: dict[str, str] | None = None, path: str = ""
) -> dict[str, Any]:
    """wrk -t1 -c256 on the load core (without ``script``: GET ``url + path``)."""
    return registry_wrk(url, CONNECTIONS, seconds, script, env, path)


HTTP_ARMS = ["healthz", "single", "batch"]


def http_arm(name: str, url: str, seconds: int, env: dict[str, str]) -> dict[str, Any]:
    if name == "healthz":
        return wrk(url, seconds, path="/healthz")
    return wrk(url, seconds, "validate.lua" if name == "single" else "validate_batch.lua", env)


def group_cpu_seconds(pid: int) -> float:
    """CPU time (user + system, seconds) of every live process in ``pid``'s process group:
    the server and its worker. Linux only (reads /proc)."""
    total = 0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pid:  # field 5 of stat, the process group
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "rps": median(runs, "rps"),
        "p50_ms": median(runs, "p50_ms"),
        "p99_ms": median(runs, "p99_ms"),
        "non_2xx": sum(r["non_2xx"] for r in runs),
        "socket_errors": [r["socket_errors"] for r in runs if r["socket_errors"]],
        "runs": runs,
    }


def register_schema(client: httpx.Client) -> None:
    response = client.post(f"/v1/schemas/{NAME}/versions", json={"schema": SCHEMA})
    require(response.status_code in (200, 201), response.text)


def check_validate(client: httpx.Client, body: bytes, batch_body: bytes) -> None:
    """The endpoint answers 200 whether or not a document is valid: check that the bytes
    wrk sends are valid (and that an invalid one is caught) before measuring."""
    headers = {"content-type": "application/json"}
    one = client.post(VALIDATE_PATH, content=body, headers=headers)
    require(one.status_code == 200 and one.json()["valid"] is True, one.text)
    many = client.post(VALIDATE_PATH, content=batch_body, headers=headers)
    require(many.status_code == 200, many.text)
    require(len(many.json()["results"]) == BATCH and many.json()["invalid_count"] == 0, many.text[:500])
    bad = client.post(VALIDATE_PATH, json=INVALID)
    require(bad.status_code == 200 and bad.json()["valid"] is False, bad.text)


def check_creates(client: httpx.Client, metadata: dict[str, Any]) -> None:
    """Both arms create (201), and the validated arm really validates (422)."""
    for kind in (NAME, "free"):
        response = client.post(
            "/v1/namespaces", json={"id": f"bench.load.check-{kind}", "kind": kind, "metadata": metadata}
        )
        require(response.status_code == 201, response.text)
    bad = client.post("/v1/namespaces", json={"id": "bench.load.check-bad", "kind": NAME, "metadata": INVALID})
    require(bad.status_code == 422, bad.text)
    free = client.post("/v1/namespaces", json={"id": "bench.load.check-bad", "kind": "free", "metadata": INVALID})
    require(free.status_code == 201, free.text)


def met(ok: bool, errors: int = 0) -> str:
    if errors:
        return f"no ({errors:,} errors)"
    return "yes" if ok else "no"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs, one repeat: checks the bench works")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--pairs", type=int, default=6, help="alternating pairs of create runs (step 4)")
    parser.add_argument("--durability", default="power-loss", choices=["power-loss", "process-crash"])
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    seconds, repeat, warm = (2, 1, 1) if args.quick else (args.seconds, args.repeat, 3)
    pairs = 1 if args.quick else args.pairs
    inproc_seconds = 0.5 if args.quick else min(seconds, 5)
    work = Path(tempfile.mkdtemp(prefix="nsroot-schema-bench-"))
    results: dict[str, Any] = {
        "seconds": seconds,
        "repeat": repeat,
        "inprocess_seconds": inproc_seconds,
        "connections": CONNECTIONS,
        "batch": BATCH,
        "durability": args.durability,
        "cpu": os.cpu_count(),
        "versions": {p: importlib.metadata.version(p) for p in ("jsonschema", "jsonschema_rs", "granian")},
        "targets": TARGETS,
        "schema": SCHEMA,
        "document": DOCUMENT,
    }
    try:
        body_file = work / "document.json"
        body_file.write_bytes(compact(DOCUMENT))
        body = body_file.read_bytes()
        batch_body = b"[" + b",".join([body] * BATCH) + b"]"

        # 1. in-process, one process per repeat pinned to the server core
        inproc = [run_inprocess(inproc_seconds, attempt) for attempt in range(repeat)]
        ip: dict[str, Any] = {
            key: statistics.median(r[key] for r in inproc)
            for key in ("nsroot_violations", "nsroot_validate", "jsonschema_is_valid", "jsonschema_rs_is_valid")
        }
        ip["jsonschema_formats_asserted"] = inproc[0]["jsonschema_formats_asserted"]
        ip["runs"] = inproc
        results["inprocess"] = ip

        # 2 and 3. the validation endpoint (one document, a batch) beside GET /healthz, on
        # a strict server, a fresh one per repeat; the arms' order rotates per repeat
        db = work / "validate.db"
        http_runs: dict[str, list[dict[str, Any]]] = {name: [] for name in HTTP_ARMS}
        lua_env = {"NSROOT_BENCH_BODY": str(body_file), "NSROOT_BENCH_BATCH": str(BATCH)}
        for attempt in range(repeat):
            port = free_port()
            served = nsroot_server(db, port, args.durability, schemaless=False)
            try:
                url = f"http://127.0.0.1:{port}"
                with httpx.Client(base_url=url, timeout=10.0) as client:
                    register_schema(client)
                    check_validate(client, body, batch_body)
                for name in HTTP_ARMS:
                    http_arm(name, url, warm, lua_env)
                shift = attempt % len(HTTP_ARMS)
                for name in HTTP_ARMS[shift:] + HTTP_ARMS[:shift]:
                    http_runs[name].append(http_arm(name, url, seconds, lua_env))
            finally:
                served.stop()
        http = {name: summary(runs) for name, runs in http_runs.items()}
        http["batch"]["docs_per_s"] = http["batch"]["rps"] * BATCH
        http["single_ratio_to_healthz"] = http["single"]["rps"] / http["healthz"]["rps"]
        http["batch_ratio_to_ceiling"] = http["batch"]["docs_per_s"] / ip["jsonschema_rs_is_valid"]
        http["batch_ratio_to_single"] = http["batch"]["docs_per_s"] / http["single"]["rps"]
        results["validate_http"] = http

        # 4. creates, validated (kind service) and schemaless (kind free), one server,
        # runs alternating A B | B A | A B ... so that drift cancels
        db = work / "create.db"
        metadata_file = work / "metadata.json"
        metadata_file.write_bytes(body)
        port = free_port()
        served = nsroot_server(db, port, args.durability, schemaless=True)
        create_runs: dict[str, list[dict[str, Any]]] = {"validated": [], "schemaless": []}
        kinds = {"validated": NAME, "schemaless": "free"}

        def create_run(arm: str, secs: int, tag: str) -> dict[str, Any]:
            env = {
                "NSROOT_BENCH_KIND": kinds[arm],
                "NSROOT_BENCH_METADATA": str(metadata_file),
                "NSROOT_BENCH_RUN": f"{arm[0]}{tag}x{time.time_ns()}",
            }
            before = group_cpu_seconds(served.process.pid)
            result = wrk(f"http://127.0.0.1:{port}", secs, "create_kind.lua", env)
            result["cpu_us_per_request"] = (group_cpu_seconds(served.process.pid) - before) / result["requests"] * 1e6
            return result

        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10.0) as client:
                for ns_id in ("bench", "bench.load"):
                    response = client.post("/v1/namespaces", json={"id": ns_id, "kind": "team"})
                    require(response.status_code == 201, response.text)
                register_schema(client)
                check_creates(client, DOCUMENT)
            for arm in kinds:
                create_run(arm, warm, "w")
            for attempt in range(pairs):
                order = ["validated", "schemaless"] if attempt % 2 == 0 else ["schemaless", "validated"]
                for arm in order:
                    create_runs[arm].append(create_run(arm, seconds, str(attempt)))
        finally:
            served.stop()
        create = {arm: summary(runs) for arm, runs in create_runs.items()}
        for arm, runs in create_runs.items():
            create[arm]["cpu_us_per_request"] = median(runs, "cpu_us_per_request")
        pairs_ = list(zip(create_runs["validated"], create_runs["schemaless"], strict=True))
        # Each pair ran back to back, so its ratio is free of the machine's drift between
        # pairs; the median of the pair ratios is the verdict (the ratio of the two arms'
        # medians, which mixes runs minutes apart, is reported beside it).
        create["pair_ratios"] = [a["rps"] / b["rps"] for a, b in pairs_]
        create["ratio"] = statistics.median(create["pair_ratios"])
        create["slowdown"] = 1 - create["ratio"]
        create["ratio_of_medians"] = create["validated"]["rps"] / create["schemaless"]["rps"]
        create["cpu_pair_ratios"] = [a["cpu_us_per_request"] / b["cpu_us_per_request"] for a, b in pairs_]
        create["cpu_ratio"] = statistics.median(create["cpu_pair_ratios"])
        results["create"] = create
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "schemas.json").write_text(json.dumps(results, indent=2))
    report(results)


def report(results: dict[str, Any]) -> None:
    ip, http, create, t = results["inprocess"], results["validate_http"], results["create"], results["targets"]
    js, rs = ip["jsonschema_is_valid"], ip["jsonschema_rs_is_valid"]
    formats = ", ".join(ip["jsonschema_formats_asserted"])
    print(f"runs of {results['seconds']} s, median of {results['repeat']}; durability {results['durability']}\n")
    print("| measure | ns-root | baseline (same run) | ratio | target | met? |\n|---|---|---|---|---|---|")
    for key, what in (
        ("nsroot_violations", "`SchemaSet.violations(version, doc)`"),
        ("nsroot_validate", "`await SchemaSet.validate(name, [doc])`"),
    ):
        rate = ip[key]
        print(
            f"| in-process {what}, valid 15-field doc, 1 core | {rate:,.0f}/s | "
            f"jsonschema {js:,.0f}/s (formats asserted: {formats}); raw jsonschema_rs {rs:,.0f}/s | "
            f"{rate / js:.1f}x jsonschema; {rate / rs:.2f} of jsonschema_rs | "
            f"≥ {t['inprocess_per_s']:,}/s | {met(rate >= t['inprocess_per_s'])} |"
        )
    h, s, b = http["healthz"], http["single"], http["batch"]
    print(
        f"| POST {VALIDATE_PATH}, 1 doc, {CONNECTIONS} conns | {s['rps']:,.0f} req/s, P50 {s['p50_ms']:.2f} ms, "
        f"P99 {s['p99_ms']:.2f} ms | GET /healthz same server {h['rps']:,.0f} req/s, P99 {h['p99_ms']:.2f} ms | "
        f"{http['single_ratio_to_healthz']:.2f} of healthz | ≥ {t['validate_rps']:,} req/s, "
        f"P99 ≤ {t['validate_p99_ms']:.0f} ms | "
        f"{met(s['rps'] >= t['validate_rps'] and s['p99_ms'] <= t['validate_p99_ms'], s['non_2xx'])} |"
    )
    print(
        f"| same, batches of {BATCH} docs, {CONNECTIONS} conns | {b['docs_per_s']:,.0f} docs/s "
        f"({b['rps']:,.0f} req/s, P50 {b['p50_ms']:.2f} ms, P99 {b['p99_ms']:.2f} ms) | "
        f"in-process raw jsonschema_rs {rs:,.0f} docs/s (ceiling); 1-doc endpoint {s['rps']:,.0f} docs/s | "
        f"{http['batch_ratio_to_ceiling']:.2f} of ceiling; {http['batch_ratio_to_single']:.1f}x 1-doc | "
        f"≥ {t['batch_docs_per_s']:,} docs/s | {met(b['docs_per_s'] >= t['batch_docs_per_s'], b['non_2xx'])} |"
    )
    v, f = create["validated"], create["schemaless"]
    print(
        f"| durable creates, 15-field metadata, {CONNECTIONS} conns | validated (kind {NAME}) {v['rps']:,.0f}/s, "
        f"P50 {v['p50_ms']:.2f} ms, P99 {v['p99_ms']:.2f} ms | schemaless (kind free) {f['rps']:,.0f}/s, "
        f"P50 {f['p50_ms']:.2f} ms, P99 {f['p99_ms']:.2f} ms | {create['ratio']:.3f} "
        f"({create['slowdown']:+.1%} slower; median of {len(create['pair_ratios'])} back-to-back pairs; "
        f"ratio of medians {create['ratio_of_medians']:.3f}; server CPU per create "
        f"{v['cpu_us_per_request']:.1f} against {f['cpu_us_per_request']:.1f} us, "
        f"{create['cpu_ratio'] - 1:+.1%}) | ≤ {t['create_max_slowdown']:.0%} slower | "
        f"{met(create['slowdown'] <= t['create_max_slowdown'], v['non_2xx'] + f['non_2xx'])} |"
    )


if __name__ == "__main__":
    main()
