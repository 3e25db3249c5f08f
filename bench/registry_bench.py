"""Benchmarks of the registry core issue, each beside a baseline measured in the same run.

    .venv/bin/python bench/registry_bench.py            # full run (about 4 minutes)
    .venv/bin/python bench/registry_bench.py --quick    # a smoke run of every step

What it measures (the server pinned to core 0 with taskset, wrk pinned to core 1):

1. ``GET /v1/namespaces/{id}`` of random ones of 10,000 preloaded namespaces, at 64 and
   256 connections; beside it, bare apps returning the same bytes on the same server with
   the same settings (``bench/bare_app.py``): on ASGI, and on RSGI (the interface
   ``nsroot serve`` uses), and the ratios to each.
2. In-process ``Registry.get`` on one core (no HTTP).
3. Durable creates (each answered after its commit) from 256 connections; beside it,
   raw ``sqlite3`` inserting one row per commit with the same durability setting.

Each figure is the median of ``--repeat`` runs. Needs ``wrk`` (``apt-get install wrk``).
Results go to stdout as a Markdown table and to ``bench/results/registry.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from nsroot.metrics import Metrics
from nsroot.registry import Registry
from nsroot.store.sqlite import SQLiteOptions, SQLiteStore

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PRELOAD = 10_000
SERVER_CORE = "0"
LOAD_CORE = "1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer in {timeout}s")


class Served:
    """A server process pinned to the server core, in its own process group."""

    def __init__(self, command: list[str], env: dict[str, str], ready_path: str, port: int) -> None:
        self.port = port
        self.process = subprocess.Popen(
            ["taskset", "-c", SERVER_CORE, *command],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_ready(f"http://127.0.0.1:{port}{ready_path}")

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def nsroot_server(db: Path, port: int, durability: str) -> Served:
    command = [
        sys.executable,
        "-m",
        "nsroot",
        "serve",
        "--db",
        str(db),
        "--port",
        str(port),
        "--log-level",
        "error",
        "--durability",
        durability,
    ]
    return Served(command, {"NSROOT_CONFIG": "", "NSROOT_SCHEMALESS_KINDS": "true"}, "/readyz", port)


def bare_server(body: Path, port: int, interface: str) -> Served:
    target = "bare_app:app" if interface == "asgi" else "bare_app:rsgi_app"
    command = [sys.executable, "-m", "granian", "--interface", interface, "--loop", "uvloop", "--http", "1"]
    command += ["--no-ws", "--workers", "1", "--log-level", "error", "--port", str(port), target]
    return Served(command, {"NSROOT_BARE_BODY": str(body), "PYTHONPATH": str(HERE)}, "/", port)


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(
    url: str, connections: int, seconds: int, script: str | None, env: dict[str, str] | None = None, path: str = ""
) -> dict[str, Any]:
    """Run wrk on the load core (without ``script``: GET ``url + path``); returns
    requests/s, latency percentiles (ms) and errors."""
    command = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script is not None:
        command += ["-s", str(HERE / "lua" / script)]
    command.append(url + path)
    out = subprocess.run(command, capture_output=True, text=True, check=True, env={**os.environ, **(env or {})})
    text = out.stdout
    result: dict[str, Any] = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))}  # type: ignore[union-attr]
    for pct in ("50", "90", "99"):
        match = re.search(rf"^\s+{pct}%\s+(\S+)", text, re.M)
        result[f"p{pct}_ms"] = _ms(match.group(1)) if match else None
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    socket_errors = re.search(r"Socket errors: (.*)", text)
    result["non_2xx"] = int(non_2xx.group(1)) if non_2xx else 0
    result["socket_errors"] = socket_errors.group(1) if socket_errors else ""
    result["requests"] = int(re.search(r"(\d+) requests in", text).group(1))  # type: ignore[union-attr]
    return result


async def preload(db: Path, durability: str) -> bytes:
    """Create bench and PRELOAD children in-process; return one GET body for the bare app."""
    store = SQLiteStore(SQLiteOptions(db, durability=durability))  # type: ignore[arg-type]
    async with Registry(store, schemaless_kinds=True) as registry:
        await registry.create("bench", {"kind": "team"}, subject="bench")
        await registry.create("bench.load", {"kind": "team"}, subject="bench")
        for start in range(0, PRELOAD, 1000):
            await asyncio.gather(
                *(
                    registry.create(
                        f"bench.n{i}",
                        {
                            "kind": "service",
                            "labels": {"tier": "gold", "team": "platform"},
                            "metadata": {"port": 8080, "replicas": 3},
                        },
                        subject="bench",
                    )
                    for i in range(start, min(start + 1000, PRELOAD))
                )
            )
        document = await registry.get_document("bench.n42")
        return document.body


async def inprocess_get(db: Path, seconds: float) -> float:
    """Registry.get of random preloaded namespaces, one caller, for ``seconds``."""
    store = SQLiteStore(SQLiteOptions(db))
    ids = [f"bench.n{i}" for i in range(PRELOAD)]
    async with Registry(store, metrics=Metrics(), schemaless_kinds=True) as registry:
        for ns_id in ids:  # warm
            await registry.get(ns_id)
        done, index, started = 0, 0, time.perf_counter()
        deadline = started + seconds
        while True:
            for _ in range(1000):
                await registry.get(ids[index])
                index = (index + 7919) % PRELOAD
            done += 1000
            now = time.perf_counter()
            if now >= deadline:
                return done / (now - started)


def raw_sqlite_commits(path: Path, seconds: float, synchronous: str) -> float:
    """sqlite3 inserting one row per transaction (WAL), the no-group-commit baseline."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY, doc BLOB)")
    doc = b"x" * 400
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t VALUES (?, ?)", (f"id{done}", doc))
        conn.execute("COMMIT")
        done += 1
    rate = done / (time.perf_counter() - started)
    conn.close()
    return rate


def median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs if r[key] is not None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 s runs, one repeat: checks the bench works")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--durability", default="power-loss", choices=["power-loss", "process-crash"])
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    seconds, repeat, warm = (2, 1, 1) if args.quick else (args.seconds, args.repeat, 3)
    work = Path(tempfile.mkdtemp(prefix="nsroot-bench-"))
    results: dict[str, Any] = {
        "seconds": seconds,
        "repeat": repeat,
        "durability": args.durability,
        "cpu": os.cpu_count(),
    }
    try:
        db = work / "bench.db"
        body = asyncio.run(preload(db, args.durability))
        body_file = work / "body.json"
        body_file.write_bytes(body)

        # 2. in-process get, pinned to the server core
        code = (
            f"import asyncio, sys; sys.path.insert(0, {str(HERE)!r}); import registry_bench as b; "
            f"from pathlib import Path; print(asyncio.run(b.inprocess_get(Path({str(db)!r}), {seconds})))"
        )
        rates = [
            float(
                subprocess.run(
                    ["taskset", "-c", SERVER_CORE, sys.executable, "-c", code],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
            for _ in range(repeat)
        ]
        results["inprocess_get_per_s"] = statistics.median(rates)

        # 1. GET over HTTP, ns-root and the bare app, alternating runs
        get_runs: dict[str, list[dict[str, Any]]] = {}
        for _ in range(repeat):
            for name in ("nsroot", "bare", "rsgi"):
                port = free_port()
                if name == "nsroot":
                    served = nsroot_server(db, port, args.durability)
                else:
                    served = bare_server(body_file, port, "asgi" if name == "bare" else "rsgi")
                try:
                    url = f"http://127.0.0.1:{port}"
                    wrk(url, 64, warm, "get.lua")
                    for conns in (64, 256):
                        get_runs.setdefault(f"{name}_{conns}", []).append(wrk(url, conns, seconds, "get.lua"))
                finally:
                    served.stop()
        results["get"] = {
            key: {
                "rps": median(runs, "rps"),
                "p50_ms": median(runs, "p50_ms"),
                "p99_ms": median(runs, "p99_ms"),
                "non_2xx": sum(r["non_2xx"] for r in runs),
                "runs": runs,
            }
            for key, runs in get_runs.items()
        }
        for conns in (64, 256):
            nsroot_rps = results["get"][f"nsroot_{conns}"]["rps"]
            results["get"][f"ratio_{conns}"] = nsroot_rps / results["get"][f"bare_{conns}"]["rps"]
            results["get"][f"ratio_rsgi_{conns}"] = nsroot_rps / results["get"][f"rsgi_{conns}"]["rps"]

        # 3. durable creates over HTTP, and raw sqlite3 one-commit-per-insert
        create_runs, raw = [], []
        synchronous = "FULL" if args.durability == "power-loss" else "NORMAL"
        for attempt in range(repeat):
            port = free_port()
            served = nsroot_server(db, port, args.durability)
            try:
                create_runs.append(
                    wrk(
                        f"http://127.0.0.1:{port}",
                        256,
                        seconds,
                        "create.lua",
                        {"NSROOT_BENCH_RUN": f"r{attempt}x{time.time_ns()}"},
                    )
                )
            finally:
                served.stop()
            raw.append(raw_sqlite_commits(work / f"raw{attempt}.db", min(seconds, 5), synchronous))
        results["create"] = {
            "rps": median(create_runs, "rps"),
            "p50_ms": median(create_runs, "p50_ms"),
            "p99_ms": median(create_runs, "p99_ms"),
            "non_2xx": sum(r["non_2xx"] for r in create_runs),
            "runs": create_runs,
            "raw_sqlite_commits_per_s": statistics.median(raw),
        }
        results["create"]["ratio_to_raw"] = results["create"]["rps"] / results["create"]["raw_sqlite_commits_per_s"]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "registry.json").write_text(json.dumps(results, indent=2))
    g, c = results["get"], results["create"]
    print("| measure | ns-root | baseline (same run) | ratio |\n|---|---|---|---|")
    for conns in (64, 256):
        n, b, r = g[f"nsroot_{conns}"], g[f"bare_{conns}"], g[f"rsgi_{conns}"]
        print(
            f"| GET /v1/namespaces/{{id}}, {conns} conns | {n['rps']:,.0f} req/s, P50 {n['p50_ms']:.2f} ms, "
            f"P99 {n['p99_ms']:.2f} ms | bare ASGI {b['rps']:,.0f} req/s, P99 {b['p99_ms']:.2f} ms; "
            f"bare RSGI {r['rps']:,.0f} req/s, P99 {r['p99_ms']:.2f} ms | "
            f"{g[f'ratio_{conns}']:.2f} of ASGI, {g[f'ratio_rsgi_{conns}']:.2f} of RSGI |"
        )
    print(f"| in-process Registry.get | {results['inprocess_get_per_s']:,.0f}/s | | |")
    print(
        f"| durable creates, 256 conns | {c['rps']:,.0f}/s, P50 {c['p50_ms']:.2f} ms, P99 {c['p99_ms']:.2f} ms "
        f"(non-2xx: {c['non_2xx']}) | raw sqlite3 1 insert/commit {c['raw_sqlite_commits_per_s']:,.0f}/s | "
        f"{c['ratio_to_raw']:.1f}x |"
    )


if __name__ == "__main__":
    main()
