"""The ``nsroot schema`` commands, run as real subprocesses against a real server started
without schemaless kinds (as tests/test_cli.py runs the rest of the CLI).

Exit codes (see ``nsroot.cli``): 0 ok, 2 usage, 3 not found, 4 conflict (an incompatible
version, a version in use), 5 invalid input (``validate`` also exits 5 when a document
is invalid), 6 server unreachable. No command may ever show a traceback.

Each command is a fresh interpreter (about half a second), so independent commands run
side by side, and scenes are set through the HTTP API rather than the command under test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from clirun import BaseCli, Cmd, Result, ok, run_many
from clirun import bytecode_cache as bytecode_cache  # the autouse fixture, one per test module
from conftest import ServerProcess, free_port

SERVICE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "tier": {"enum": ["gold", "silver", "bronze"]},
    },
    "required": ["port"],
}
#: A widening of SERVICE (one more enum value): BACKWARD-compatible.
WIDER: dict[str, Any] = {
    **SERVICE,
    "properties": {**SERVICE["properties"], "tier": {"enum": ["gold", "silver", "bronze", "platinum"]}},
}
#: A narrowing of SERVICE in two ways: BACKWARD-incompatible.
NARROWER: dict[str, Any] = {
    **SERVICE,
    "properties": {**SERVICE["properties"], "owner": {"type": "string"}, "tier": {"enum": ["silver", "bronze"]}},
    "required": ["port", "owner"],
}


def fails(result: Result, code: int) -> Result:
    """A refusal: the exit code, nothing on stdout, one ``error:`` message on stderr."""
    assert result.code == code, f"nsroot {' '.join(result.args)} exited {result.code}, not {code}:\n{result.err}"
    assert result.out == "", result.out
    assert result.err.startswith("error: "), result.err
    return result


class Cli(BaseCli):
    """The CLI pointed at one server, and a plain HTTP client to set the scene."""

    def __init__(self, url: str, tmp: Path) -> None:
        super().__init__(url)
        self.tmp = tmp

    def file(self, name: str, value: Any) -> str:
        path = self.tmp / name
        path.write_text(value if isinstance(value, str) else json.dumps(value), encoding="utf-8")
        return str(path)

    def http(self, method: str, path: str, status: int, **kwargs: Any) -> Any:
        with httpx.Client(base_url=self.url, timeout=10) as http:
            response = http.request(method, path, **kwargs)
        assert response.status_code == status, response.text
        return response.json()

    def register(self, name: str, schema: Any, status: int = 201) -> dict[str, Any]:
        found: dict[str, Any] = self.http("POST", f"/v1/schemas/{name}/versions", status, json={"schema": schema})
        return found

    def create(self, ns_id: str, kind: str, metadata: dict[str, Any]) -> None:
        self.http("POST", "/v1/namespaces", 201, json={"id": ns_id, "kind": kind, "metadata": metadata})


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    db = tmp_path_factory.mktemp("cli-schemas") / "cli.db"
    running = ServerProcess(db, schemaless_kinds=False).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def cli(strict_server: ServerProcess, tmp_path: Path) -> Cli:
    return Cli(strict_server.url, tmp_path)


# -- add, get, ls ---------------------------------------------------------------------


def test_add_from_a_file_and_from_stdin(cli: Cli) -> None:
    added = cli.ok("schema", "add", "svc", cli.file("svc.json", SERVICE))
    assert added.out.startswith("svc version 1 (nsroot:schemas/svc/1) at revision ")
    revision = int(added.out.split()[-1])
    from_stdin, again, wider = cli.many(
        cli.cmd("--json", "schema", "add", "acme.team", "-", stdin=json.dumps({"type": "object"})),
        ("--json", "schema", "add", "svc", cli.file("same.json", SERVICE)),
        ("schema", "add", "svc2", cli.file("wider.json", WIDER)),
    )
    team = ok(from_stdin).json()
    assert team["name"] == "acme.team"
    assert team["version"] == 1
    assert team["schema"] == {"type": "object"}
    assert team["revision"] > revision
    same = ok(again).json()  # identical: the same version, nothing written
    assert same["version"] == 1
    assert same["revision"] == revision
    assert ok(wider).out.startswith("svc2 version 1 ")
    assert cli.register("svc", SERVICE, 200)["version"] == 1


def test_get(cli: Cli) -> None:
    cli.register("getme", SERVICE)
    cli.register("getme", WIDER)
    latest, first, as_json, missing, missing_version = cli.many(
        ("schema", "get", "getme"),
        ("schema", "get", "getme", "1"),
        ("--json", "schema", "get", "getme", "latest"),
        ("schema", "get", "nothing"),
        ("schema", "get", "getme", "9"),
    )
    head, _, document = ok(latest).out.partition("\n")
    assert head.startswith("getme version 2 (active, 2020-12), revision ")
    assert json.loads(document) == WIDER
    assert json.loads(ok(first).out.partition("\n")[2]) == SERVICE
    body = ok(as_json).json()
    assert body["version"] == 2
    assert body["uri"] == "nsroot:schemas/getme/2"
    assert body["schema"] == WIDER
    assert "nothing" in fails(missing, 3).err
    assert "no version 9" in fails(missing_version, 3).err


def test_ls(cli: Cli) -> None:
    cli.register("lsa", SERVICE)
    cli.register("lsa", WIDER)
    cli.http("PUT", "/v1/schemas/lsb/config", 200, json={"compatibility": "FULL"})
    everything, one, as_json, one_json, missing = cli.many(
        ("schema", "ls"),
        ("schema", "ls", "lsa"),
        ("--json", "schema", "ls"),
        ("--json", "schema", "ls", "lsa"),
        ("schema", "ls", "nothing"),
    )
    text = ok(everything).out
    assert text.splitlines()[0].split() == ["NAME", "LATEST", "VERSIONS", "COMPATIBILITY"]
    rows = {row[0]: row for row in ok(everything).rows}
    assert rows["lsa"] == ["lsa", "2", "2", "BACKWARD"]
    assert rows["lsb"] == ["lsb", "-", "0", "FULL"]
    assert ok(one).out.splitlines()[0].split() == ["VERSION", "STATE", "DIALECT", "REV", "BY"]
    assert [row[:3] for row in ok(one).rows] == [["1", "active", "2020-12"], ["2", "active", "2020-12"]]
    assert all(row[4] == "anonymous" for row in ok(one).rows)
    listing = ok(as_json).json()
    assert listing["default_compatibility"] == "BACKWARD"
    assert {"lsa", "lsb"} <= {item["name"] for item in listing["items"]}
    assert [v["version"] for v in ok(one_json).json()["items"]] == [1, 2]
    fails(missing, 3)


# -- validate -------------------------------------------------------------------------


def test_validate(cli: Cli) -> None:
    cli.register("val", SERVICE)
    valid, invalid, batch, batch_json, stdin, missing = cli.many(
        ("schema", "validate", "val", cli.file("good.json", {"port": 80, "tier": "gold"})),
        ("schema", "validate", "val", cli.file("bad.json", {"port": 70000, "tier": "platinum"})),
        ("schema", "validate", "val", cli.file("batch.json", [{"port": 80}, {"port": "eighty"}, {"port": 1}])),
        ("--json", "schema", "validate", "val", cli.file("batch2.json", [{"port": 80}, {"port": "eighty"}])),
        cli.cmd("schema", "validate", "val", "-", stdin='{"port": 443}'),
        ("schema", "validate", "nothing", cli.file("good.json", {"port": 80})),
    )
    assert ok(valid).out.strip() == "valid against val version 1"
    assert invalid.code == 5, invalid
    lines = invalid.out.splitlines()
    assert lines[0] == "invalid against val version 1"
    assert "  /port: 70000 is greater than the maximum of 65535 [maximum at /properties/port/maximum]" in lines
    assert any(line.startswith("  /tier: ") and line.endswith("[enum at /properties/tier/enum]") for line in lines)
    assert len(lines) == 3
    assert batch.code == 5, batch
    assert batch.out.splitlines()[0] == "document 0: valid against val version 1"
    assert batch.out.splitlines()[1] == "document 1: invalid against val version 1"
    assert "[type at /properties/port/type]" in batch.out.splitlines()[2]
    assert batch.out.splitlines()[3] == "document 2: valid against val version 1"
    assert batch_json.code == 5
    body = batch_json.json()
    assert body["invalid_count"] == 1
    assert [r["valid"] for r in body["results"]] == [True, False]
    assert ok(stdin).out.strip() == "valid against val version 1"
    fails(missing, 3)


def test_validate_against_a_chosen_version(cli: Cli) -> None:
    cli.register("valv", SERVICE)
    cli.http("PUT", "/v1/schemas/valv/config", 200, json={"compatibility": "NONE"})
    cli.register("valv", NARROWER)
    document = cli.file("doc.json", {"port": 80})
    latest, first, missing = cli.many(
        ("schema", "validate", "valv", document),
        ("schema", "validate", "valv", document, "--version", "1"),
        ("schema", "validate", "valv", document, "--version", "7"),
    )
    assert latest.code == 5
    assert latest.out.startswith("invalid against valv version 2")
    assert ok(first).out.strip() == "valid against valv version 1"
    fails(missing, 3)


# -- check ----------------------------------------------------------------------------


def test_check(cli: Cli) -> None:
    cli.register("chk", SERVICE)
    before = cli.http("GET", "/v1/schemas/chk", 200)
    compatible, incompatible, as_json, one_version, first = cli.many(
        ("schema", "check", "chk", cli.file("wider.json", WIDER)),
        ("schema", "check", "chk", cli.file("narrower.json", NARROWER)),
        ("--json", "schema", "check", "chk", cli.file("narrower.json", NARROWER)),
        ("schema", "check", "chk", cli.file("same.json", SERVICE), "--version", "1"),
        ("schema", "check", "brand-new", cli.file("same.json", SERVICE)),
    )
    assert ok(compatible).out.strip() == "compatible (BACKWARD; compared with 1)"
    assert incompatible.code == 4, incompatible
    lines = incompatible.out.splitlines()
    assert lines[0] == "incompatible (BACKWARD; compared with 1)"
    assert len(lines) >= 3  # every breaking change, one per line
    assert any(line.startswith("  /properties/owner: became required") for line in lines), lines
    assert all("BACKWARD: documents valid under version 1 would be rejected" in line for line in lines[1:])
    assert as_json.code == 4
    report = as_json.json()
    assert report["compatible"] is False
    assert len(report["breaking"]) == len(lines) - 1
    assert ok(one_version).out.startswith("compatible (BACKWARD; compared with 1)")
    assert ok(first).out.strip() == "compatible (BACKWARD; compared with nothing (first version))"
    assert cli.http("GET", "/v1/schemas/chk", 200) == before  # nothing registered
    cli.http("GET", "/v1/schemas/brand-new", 404)


# -- config, deprecate ------------------------------------------------------------------


def test_config(cli: Cli) -> None:
    cli.register("cfg", SERVICE)
    shown = cli.ok("schema", "config", "cfg")
    assert shown.out.strip() == "cfg: BACKWARD (the registry default)"
    full = cli.ok("schema", "config", "cfg", "--compatibility", "FULL")
    assert full.out.strip() == "cfg: FULL"
    shown, as_json = cli.many(("schema", "config", "cfg"), ("--json", "schema", "config", "cfg"))
    assert ok(shown).out.strip() == "cfg: FULL"
    assert ok(as_json).json()["compatibility_inherited"] is False
    back = cli.ok("schema", "config", "cfg", "--compatibility", "DEFAULT")
    assert back.out.strip() == "cfg: BACKWARD (the registry default)"
    assert cli.http("GET", "/v1/schemas/cfg/config", 200)["compatibility_inherited"] is True
    # setting a mode before the first version creates the schema
    assert cli.ok("schema", "config", "cfg-new", "--compatibility", "NONE").out.strip() == "cfg-new: NONE"
    bad, missing = cli.many(
        ("schema", "config", "cfg", "--compatibility", "SOMETIMES"), ("schema", "config", "nothing")
    )
    assert bad.code == 2, bad
    assert "SOMETIMES" in bad.err
    fails(missing, 3)


def test_deprecate_and_undo(cli: Cli) -> None:
    cli.register("dep", SERVICE)
    assert cli.ok("schema", "deprecate", "dep", "1").out.strip() == "dep version 1 is deprecated"
    assert cli.http("GET", "/v1/schemas/dep/versions/1", 200)["state"] == "deprecated"
    with httpx.Client(base_url=cli.url, timeout=10) as http:
        created = http.post("/v1/namespaces", json={"id": "dep-user", "kind": "dep", "metadata": {"port": 1}})
    assert created.status_code == 201
    assert "deprecated" in created.headers["warning"]
    assert cli.ok("schema", "deprecate", "dep", "1", "--undo").out.strip() == "dep version 1 is active"
    as_json, missing, bad = cli.many(
        ("--json", "schema", "deprecate", "dep", "1"),
        ("schema", "deprecate", "dep", "9"),
        ("schema", "deprecate", "dep", "0"),
    )
    assert ok(as_json).json()["state"] == "deprecated"
    fails(missing, 3)
    assert bad.code == 2, bad


# -- rm -------------------------------------------------------------------------------


def test_rm(cli: Cli) -> None:
    cli.register("rmme", SERVICE)
    cli.register("rmme", WIDER)
    cli.create("rm-user", "rmme@1", {"port": 80})
    version_in_use, schema_in_use, missing = cli.many(
        ("schema", "rm", "rmme", "1"), ("schema", "rm", "rmme"), ("schema", "rm", "nothing")
    )
    for result in (version_in_use, schema_in_use):
        fails(result, 4)
        assert "rm-user" in result.err
        assert "1 namespace" in result.err
    fails(missing, 3)
    assert cli.http("GET", "/v1/schemas/rmme", 200)["versions"] == [1, 2]
    removed = cli.ok("schema", "rm", "rmme", "2")
    assert removed.out.strip() == "deleted rmme version(s) 2"
    cli.http("DELETE", "/v1/namespaces/rm-user", 200)
    as_json = cli.ok("--json", "schema", "rm", "rmme")
    assert as_json.json()["deleted"] == [1]
    cli.http("GET", "/v1/schemas/rmme", 404)


# -- report ---------------------------------------------------------------------------


def test_report(cli: Cli) -> None:
    cli.register("rep", SERVICE)
    cli.create("rep-a", "rep", {"port": 80})
    cli.create("rep-b", "rep@1", {"port": 81, "tier": "gold"})
    cli.create("rep-c", "rep", {"port": 82, "owner": "me"})
    cli.http("PUT", "/v1/schemas/rep/config", 200, json={"compatibility": "NONE"})
    cli.register("rep", NARROWER)
    latest, first, as_json, missing = cli.many(
        ("schema", "report", "rep"),
        ("schema", "report", "rep", "1"),
        ("--json", "schema", "report", "rep", "2"),
        ("schema", "report", "rep", "9"),
    )
    lines = ok(latest).out.splitlines()
    assert lines[0].startswith("2 of ")
    assert lines[0].endswith(" namespaces fail rep version 2")
    assert "rep-a:" in lines
    assert "rep-b:" in lines
    assert "rep-c:" not in lines
    assert any(line.startswith("    /metadata: ") and "[required at /required]" in line for line in lines)
    assert any(line.startswith("    /metadata/tier: ") for line in lines)  # rep-b's "gold" is gone
    assert ok(first).out.splitlines()[0].startswith("0 of ")
    body = ok(as_json).json()
    assert [item["id"] for item in body["items"]] == ["rep-a", "rep-b"]
    assert body["next_cursor"] is None
    fails(missing, 3)


# -- errors ---------------------------------------------------------------------------


def test_usage_errors_exit_2(cli: Cli) -> None:
    cli.register("use", SERVICE)
    not_json = cli.file("broken.json", "{not json")
    results = cli.many(
        ("schema", "add", "use", "/no/such/file.json"),
        ("schema", "add", "use", not_json),
        cli.cmd("schema", "add", "use", "-", stdin="[1, 2"),
        ("schema", "validate", "use", not_json),
        ("schema", "check", "use", "/no/such/file.json"),
        ("schema", "add", "use"),
        ("schema", "validate", "use", not_json, "--version", "0"),
        ("schema", "rm", "use", "abc"),
        ("schema", "bogus"),
    )
    for result in results:
        assert result.code == 2, result
        assert "Error" in result.err
        assert result.out == ""
    assert "cannot read /no/such/file.json" in results[0].err
    assert "not valid JSON" in results[1].err
    assert "not valid JSON" in results[2].err
    assert "not valid JSON" in results[3].err
    assert "cannot read" in results[4].err
    assert cli.http("GET", "/v1/schemas/use", 200)["versions"] == [1]


def test_a_file_that_is_not_utf8_is_a_usage_error(cli: Cli) -> None:
    latin1 = cli.tmp / "latin1.json"
    latin1.write_bytes('{"description": "caf\u00e9"}'.encode("latin-1"))
    directory = cli.tmp / "a-directory"
    directory.mkdir()
    results = cli.many(
        ("schema", "add", "enc", str(latin1)),
        ("schema", "validate", "enc", str(latin1)),
        ("schema", "add", "enc", str(directory)),
    )
    for result in results:
        assert result.code == 2, result
        assert "Error" in result.err
        assert result.out == ""


def test_refusals_exit_with_their_code_and_list_every_problem(cli: Cli) -> None:
    cli.register("ref", SERVICE)
    not_a_schema = cli.file("not-a-schema.json", {"type": "nonsense", "minimum": "x", "required": "port"})
    incompatible, invalid, dialect, bad_name, remote, bad_version = cli.many(
        ("schema", "add", "ref", cli.file("narrower.json", NARROWER)),
        ("schema", "add", "ref", not_a_schema),
        ("schema", "add", "ref", cli.file("d4.json", {"$schema": "http://json-schema.org/draft-04/schema#"})),
        ("schema", "add", "Bad_Name", cli.file("ok.json", SERVICE)),
        ("schema", "check", "ref", cli.file("remote.json", {"$ref": "https://example.com/s.json"})),
        ("schema", "get", "ref", "abc"),
    )
    fails(incompatible, 4)
    assert "breaks BACKWARD compatibility" in incompatible.err
    assert "  /schema/properties/owner: " in incompatible.err  # every breaking change, one per line
    assert "[required-added]" in incompatible.err
    fails(invalid, 5)
    assert "3 meta-schema error(s)" in invalid.err
    assert "  /schema/minimum: " in invalid.err
    assert "  /schema/required: " in invalid.err
    assert "dialect" in fails(dialect, 5).err
    assert "Bad_Name" in fails(bad_name, 5).err
    assert "never fetches" in fails(remote, 5).err
    assert "abc" in fails(bad_version, 5).err
    assert cli.http("GET", "/v1/schemas/ref", 200)["versions"] == [1]


def test_unreachable_server_exits_6(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    document = tmp_path / "doc.json"
    document.write_text("{}", encoding="utf-8")
    results = run_many(
        Cmd(("--url", url, "schema", "ls")),
        Cmd(("--url", url, "schema", "get", "x")),
        Cmd(("--url", url, "schema", "add", "x", str(document))),
        Cmd(("--url", url, "schema", "validate", "x", str(document))),
        Cmd(("--url", url, "schema", "check", "x", str(document))),
        Cmd(("--url", url, "schema", "config", "x", "--compatibility", "FULL")),
        Cmd(("--url", url, "schema", "deprecate", "x", "1")),
        Cmd(("--url", url, "schema", "rm", "x")),
        Cmd(("--url", url, "schema", "report", "x")),
    )
    for result in results:
        fails(result, 6)
        assert result.err.startswith(f"error: cannot reach ns-root at {url}"), result.err
        assert len(result.err.splitlines()) == 1


def test_help_lists_every_schema_command() -> None:
    (help_text,) = run_many(Cmd(("schema", "--help")))
    for command in ("add", "get", "ls", "validate", "check", "config", "deprecate", "rm", "report"):
        assert f"  {command} " in ok(help_text).out, command
