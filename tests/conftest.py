"""Shared fixtures for the three tiers: the core in-process, the HTTP app in-process
(httpx ASGITransport), and a real ``nsroot serve`` process over a socket."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from nsroot.config import Config
from nsroot.http.app import App
from nsroot.metrics import Metrics
from nsroot.registry import Registry
from nsroot.store.sqlite import SQLiteOptions, SQLiteStore


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "nsroot.db"


@pytest.fixture
async def registry(db_path: Path) -> AsyncIterator[Registry]:
    metrics = Metrics()
    store = SQLiteStore(SQLiteOptions(db_path), on_commit=metrics.observe_commit)
    # kinds name no schema in the tests of the registry core; the schema tests use `strict_registry`
    async with Registry(store, metrics=metrics, schemaless_kinds=True) as opened:
        yield opened


@pytest.fixture
def config(db_path: Path) -> Config:
    return Config(db=db_path)


@pytest.fixture
def app(registry: Registry, config: Config) -> App:
    return App(registry, config, manage_lifespan=False)


@pytest.fixture
async def client(app: App) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://nsroot.test") as http:
        yield http


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    """A real ``nsroot serve`` in its own process group."""

    db: Path
    port: int = field(default_factory=free_port)
    extra: tuple[str, ...] = ()
    schemaless_kinds: bool = True
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> ServerProcess:
        self.log = self.db.with_suffix(".log")
        env = {
            **os.environ,
            "NSROOT_CONFIG": "",
            "PYTHONUNBUFFERED": "1",
            "NSROOT_SCHEMALESS_KINDS": str(self.schemaless_kinds).lower(),
        }
        command = [
            sys.executable,
            "-m",
            "nsroot",
            "serve",
            "--db",
            str(self.db),
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            *self.extra,
        ]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nsroot serve exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nsroot serve did not become ready in {timeout}s:\n{self.log.read_text()}")

    def kill(self) -> None:
        """SIGKILL the whole process group: the server and its workers, with no chance to clean up."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    running = ServerProcess(tmp_path / "server.db").start()
    try:
        yield running
    finally:
        running.stop()
