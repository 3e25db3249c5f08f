"""The ``nsroot`` command run as real subprocesses: what tests/test_cli.py and
tests/test_cli_schemas.py share.

Each command is a fresh interpreter (about half a second), so independent commands run
side by side (``run_many``). No command may ever show a traceback: every result is checked
for one, and for finishing within TIMEOUT seconds.

A test module that runs commands imports the ``bytecode_cache`` fixture (module-scoped,
autouse) so that its interpreters share compiled bytecode, outside the source tree.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

TIMEOUT = 30


@dataclass(frozen=True)
class Result:
    args: tuple[str, ...]
    code: int | None
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    @property
    def rows(self) -> list[list[str]]:
        """The data rows of a table (the header line dropped), split on runs of spaces."""
        return [line.split() for line in self.out.splitlines()[1:]]

    @property
    def ids(self) -> list[str]:
        return [row[0] for row in self.rows]


@dataclass(frozen=True)
class Cmd:
    """One command line, optionally with standard input and extra environment variables."""

    argv: Sequence[str]
    stdin: str | None = None
    env: Mapping[str, str] | None = None


#: A bare command line, or a Cmd.
Command = Sequence[str] | Cmd


_PYCACHE: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def bytecode_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Let the many short-lived interpreters share compiled bytecode, outside the source tree."""
    cache = str(tmp_path_factory.mktemp("pycache"))
    _PYCACHE.append(cache)
    try:
        yield
    finally:
        _PYCACHE.remove(cache)


def _env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NSROOT_")}
    env["PYTHONUNBUFFERED"] = "1"
    if _PYCACHE:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = _PYCACHE[-1]
    env.update(extra or {})
    return env


def spawn(argv: Sequence[str], stdin: str | None = None, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "nsroot", *argv],
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(env),
        start_new_session=True,  # so that a hung ``serve`` can be killed with its workers
    )


def collect(argv: Sequence[str], process: subprocess.Popen[str], stdin: str | None = None) -> Result:
    """Wait for ``process``; one that hangs is killed with its process group (exit code None)."""
    try:
        out, err = process.communicate(stdin, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        return Result(tuple(argv), None, out, err)
    return Result(tuple(argv), process.returncode, out, err)


def _check(result: Result) -> Result:
    shown = "nsroot " + " ".join(result.args)
    assert result.code is not None, f"{shown} did not finish in {TIMEOUT}s:\n{result.out}\n{result.err}"
    assert "Traceback" not in result.err, f"{shown} showed a traceback:\n{result.err}"
    assert "Traceback" not in result.out, f"{shown} showed a traceback:\n{result.out}"
    return result


def run(*argv: str, env: Mapping[str, str] | None = None) -> Result:
    return _check(collect(argv, spawn(argv, env=env)))


def run_many(*commands: Command) -> list[Result]:
    """Run independent commands side by side; wait for all of them before checking any."""
    started = []
    for command in commands:
        cmd = command if isinstance(command, Cmd) else Cmd(command)
        started.append((cmd, spawn(cmd.argv, cmd.stdin, cmd.env)))
    results = [collect(cmd.argv, process, cmd.stdin) for cmd, process in started]
    return [_check(result) for result in results]


def ok(result: Result) -> Result:
    assert result.code == 0, f"nsroot {' '.join(result.args)} exited {result.code}:\n{result.out}\n{result.err}"
    return result


class BaseCli:
    """The CLI pointed at one server (``--url``); each test module adds its scene setters."""

    def __init__(self, url: str) -> None:
        self.url = url

    def cmd(self, *argv: str, stdin: str | None = None) -> Cmd:
        return Cmd(("--url", self.url, *argv), stdin)

    def __call__(self, *argv: str, stdin: str | None = None) -> Result:
        return run_many(self.cmd(*argv, stdin=stdin))[0]

    def ok(self, *argv: str, stdin: str | None = None) -> Result:
        return ok(self(*argv, stdin=stdin))

    def many(self, *commands: Command) -> list[Result]:
        """Bare command lines get ``--url``; a Cmd (from ``cmd``) is run as it is."""
        return run_many(*(c if isinstance(c, Cmd) else self.cmd(*c) for c in commands))
