"""The ``nsroot`` command, run as a real subprocess against a real server.

Exit codes (see ``nsroot.cli``): 0 ok, 2 usage, 3 not found, 4 conflict or failed
precondition, 5 invalid input, 6 server unreachable. No command may ever show a
traceback, whatever goes wrong.

Each command is a fresh interpreter (about half a second), so independent commands run
side by side (``many``), and fixtures that only set the scene write through the HTTP
API rather than through the command under test.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from clirun import BaseCli, Cmd, Command, collect, ok, run, run_many, spawn
from clirun import bytecode_cache as bytecode_cache  # the autouse fixture, one per test module
from conftest import ServerProcess, free_port
from nsroot.registry import Registry
from nsroot.store.sqlite import SQLiteOptions, SQLiteStore

PAGES = 1005  # more than one page (1000) of the CLI's listing


class Cli(BaseCli):
    """The CLI pointed at one server, and a plain HTTP client to set the scene."""

    def seed(self, *records: dict[str, Any]) -> list[dict[str, Any]]:
        with httpx.Client(base_url=self.url, timeout=10) as http:
            responses = [http.post("/v1/namespaces", json=record) for record in records]
        assert [r.status_code for r in responses] == [201] * len(records), [r.text for r in responses]
        return [r.json() for r in responses]


def _seed_pages(db: Path) -> None:
    """``pages`` with PAGES children, written in-process: group commit makes it quick."""

    async def go() -> None:
        async with Registry(SQLiteStore(SQLiteOptions(db)), schemaless_kinds=True) as registry:
            await registry.create("pages", {"kind": "team"}, subject="seed")
            await asyncio.gather(
                *(registry.create(f"pages.n{i:04d}", {"kind": "t"}, subject="seed") for i in range(PAGES))
            )

    asyncio.run(go())


@pytest.fixture(scope="module")
def cli_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    db = tmp_path_factory.mktemp("cli") / "cli.db"
    warm_up = spawn(("--help",))  # fills the bytecode cache meanwhile
    try:
        _seed_pages(db)
        running = ServerProcess(db).start()
    finally:
        collect(("--help",), warm_up)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def cli(cli_server: ServerProcess) -> Cli:
    return Cli(cli_server.url)


# -- ns create / get -----------------------------------------------------------------


def test_create_with_every_option_and_get(cli: Cli, tmp_path: Path) -> None:
    created = cli.ok(
        *("ns", "create", "crt", "--kind", "team", "--owner", "team:platform"),
        *("-l", "tier=gold", "--label", "env=prod", "--annotation", "note=hello world"),
        *("-m", '{"cost_center": 42, "nested": {"a": [1, 2]}}'),
    )
    assert created.out.startswith("created crt at revision ")
    revision = int(created.out.split()[-1])
    metadata_file = tmp_path / "meta.json"
    metadata_file.write_text(json.dumps({"from": "file", "n": 7}), encoding="utf-8")
    created_child, human, as_json = cli.many(
        ("--json", "ns", "create", "crt.svc", "--kind", "service", "-m", f"@{metadata_file}"),
        ("ns", "get", "crt"),
        ("--json", "ns", "get", "crt"),
    )
    child = ok(created_child).json()
    assert child["metadata"] == {"from": "file", "n": 7}
    assert child["parent"] == "crt"
    assert child["kind"] == "service"
    assert child["mod_revision"] > revision
    text = ok(human).out
    assert "id: crt\n" in text
    assert "kind: team\n" in text
    assert "owner: team:platform\n" in text
    assert "state: active\n" in text
    assert "labels: env=prod,tier=gold\n" in text
    assert 'annotations: {"note": "hello world"}\n' in text
    assert 'metadata: {"cost_center": 42, "nested": {"a": [1, 2]}}\n' in text
    assert f"revision: create {revision}, mod {revision}, version 1\n" in text
    assert "created: " in text
    assert "by anonymous" in text
    record = ok(as_json).json()
    assert record["id"] == "crt"
    assert record["mod_revision"] == record["create_revision"] == revision
    assert record["labels"] == {"tier": "gold", "env": "prod"}
    assert record["annotations"] == {"note": "hello world"}
    assert record["metadata"] == {"cost_center": 42, "nested": {"a": [1, 2]}}
    assert record["owner"] == "team:platform"

    # reading the past
    cli.ok("ns", "patch", "crt", "-l", "tier=silver")
    then, now = cli.many(("--json", "ns", "get", "crt", "--revision", str(revision)), ("--json", "ns", "get", "crt"))
    assert ok(then).json()["labels"]["tier"] == "gold"
    assert ok(now).json()["labels"]["tier"] == "silver"


# -- ns ls ---------------------------------------------------------------------------


def test_ls(cli: Cli) -> None:
    cli.seed(
        {"id": "lst", "kind": "team", "labels": {"tier": "gold"}},
        {"id": "lst.a", "kind": "service", "labels": {"tier": "gold", "app": "a"}},
        {"id": "lst.b", "kind": "service", "labels": {"tier": "silver"}},
    )
    x, _ = cli.seed({"id": "lst.a.x", "kind": "job", "owner": "team:x"}, {"id": "lstother", "kind": "team"})
    before_x = x["mod_revision"] - 1

    table, children, roots, selected, count, count_selected, limited, at_revision, as_json = cli.many(
        ("ns", "ls", "lst"),
        ("ns", "ls", "lst", "--children"),
        ("ns", "ls", "--children"),
        ("ns", "ls", "lst", "-s", "tier=gold,app"),
        ("ns", "ls", "lst", "--count"),
        ("ns", "ls", "lst", "--count", "--selector", "tier in (gold,silver)"),
        ("ns", "ls", "lst", "--limit", "2"),
        ("ns", "ls", "lst", "--revision", str(before_x)),
        ("--json", "ns", "ls", "lst"),
    )
    header = ok(table).out.splitlines()[0].split()
    assert header == ["ID", "KIND", "OWNER", "STATE", "LABELS", "REV"]
    assert table.ids == ["lst", "lst.a", "lst.a.x", "lst.b"]  # a subtree: not "lstother"
    assert table.rows[2] == ["lst.a.x", "job", "team:x", "active", "-", str(before_x + 1)]
    assert table.rows[1][4] == "app=a,tier=gold"
    assert ok(children).ids == ["lst.a", "lst.b"]
    assert {"lst", "lstother", "pages"} <= set(ok(roots).ids)
    assert "lst.a" not in roots.ids
    assert ok(selected).ids == ["lst.a"]
    assert ok(count).out.strip() == "4"
    assert ok(count_selected).out.strip() == "3"
    assert ok(limited).ids == ["lst", "lst.a"]
    assert ok(at_revision).ids == ["lst", "lst.a", "lst.b"]
    items = ok(as_json).json()
    assert [item["id"] for item in items] == ["lst", "lst.a", "lst.a.x", "lst.b"]
    assert all("mod_revision" in item for item in items)


def test_ls_follows_cursors_past_one_page(cli: Cli) -> None:
    everything, limited, counted = cli.many(
        ("ns", "ls", "pages", "--children"),
        ("--json", "ns", "ls", "pages", "--children", "--limit", "1002"),
        ("ns", "ls", "pages", "--count"),
    )
    assert len(ok(everything).ids) == PAGES
    assert everything.ids == [f"pages.n{i:04d}" for i in range(PAGES)]
    assert len(ok(limited).json()) == 1002
    assert ok(counted).out.strip() == str(PAGES + 1)


def test_ls_limit_zero_lists_nothing(cli: Cli) -> None:
    """``--limit`` is "at most this many": 0 must not mean "all" (reject it, or list none)."""
    result = cli("ns", "ls", "pages", "--children", "--limit", "0")
    assert result.code != 0 or result.ids == [], f"--limit 0 listed {len(result.ids)} namespaces"


# -- ns set --------------------------------------------------------------------------


def test_set(cli: Cli, tmp_path: Path) -> None:
    first = cli.ok("ns", "set", "st", "--kind", "team", "-l", "a=1", "-m", '{"x": 1}')  # creates it
    assert first.out.startswith("set st at revision ")
    assert first.out.strip().endswith("(version 1)")
    record = cli.ok(
        *("--json", "ns", "set", "st", "--kind", "team", "--owner", "team:y", "--state", "deprecated")
    ).json()
    assert record["version"] == 2
    assert record["labels"] == {}  # unset fields take their defaults
    assert record["metadata"] == {}
    assert record["owner"] == "team:y"
    assert record["state"] == "deprecated"

    # the kubectl-edit loop: get --json, edit, set -f @file
    edited = cli.ok("--json", "ns", "get", "st").json()
    edited["labels"] = {"edited": "yes"}
    edited["metadata"] = {"from": "file"}
    edit_file = tmp_path / "st.json"
    edit_file.write_text(json.dumps(edited), encoding="utf-8")
    saved = cli.ok("--json", "ns", "set", "st", "-f", f"@{edit_file}").json()
    assert saved["labels"] == {"edited": "yes"}
    assert saved["metadata"] == {"from": "file"}
    assert saved["version"] == 3
    assert saved["create_revision"] == edited["create_revision"]
    assert saved["owner"] == "team:y"

    stale, mismatch, not_object = cli.many(
        ("ns", "set", "st", "-f", f"@{edit_file}"),  # the same file again: its mod_revision is stale now
        ("ns", "set", "st", "--kind", "team", "--if-match", str(saved["mod_revision"] - 1)),
        ("ns", "set", "st", "-f", "[1, 2]"),
    )
    assert stale.code == 4, stale
    assert stale.err.startswith("error: ")
    assert str(edited["mod_revision"]) in stale.err
    assert mismatch.code == 4, mismatch
    assert mismatch.err.startswith("error: ")
    assert not_object.code == 2, not_object
    assert "JSON object" in not_object.err

    # inline JSON, with a matching --if-match: neither refused write changed anything
    inline = cli.ok(
        *("--json", "ns", "set", "st", "--file", '{"kind": "team", "labels": {"i": "1"}}'),
        *("--if-match", str(saved["mod_revision"])),
    ).json()
    assert inline["labels"] == {"i": "1"}
    assert inline["version"] == 4


# -- ns patch ------------------------------------------------------------------------


def test_patch(cli: Cli, tmp_path: Path) -> None:
    cli.seed({"id": "pt", "kind": "team", "labels": {"a": "1", "b": "2"}, "metadata": {"keep": 1, "drop": 2}})
    labelled = cli.ok("ns", "patch", "pt", "-l", "c=3", "-l", "a=10")
    assert labelled.out.startswith("patched pt at revision ")
    assert labelled.out.strip().endswith("(version 2)")

    merged = cli.ok(
        *("--json", "ns", "patch", "pt", "--unlabel", "b", "--unlabel", "c"),
        *("--merge", '{"metadata": {"drop": null, "new": {"x": 1}}}'),
    ).json()
    assert merged["labels"] == {"a": "10"}
    assert merged["metadata"] == {"keep": 1, "new": {"x": 1}}
    assert merged["kind"] == "team"
    assert merged["version"] == 3

    patch_file = tmp_path / "patch.json"
    patch_file.write_text(json.dumps({"state": "retired", "annotations": {"why": "done"}}), encoding="utf-8")
    from_file = cli.ok("--json", "ns", "patch", "pt", "--merge", f"@{patch_file}", "--owner", "team:z").json()
    assert from_file["state"] == "retired"
    assert from_file["annotations"] == {"why": "done"}
    assert from_file["owner"] == "team:z"
    assert from_file["metadata"] == {"keep": 1, "new": {"x": 1}}

    stale, invalid = cli.many(
        ("ns", "patch", "pt", "-l", "z=1", "--if-match", str(from_file["mod_revision"] - 1)),
        ("ns", "patch", "pt", "--merge", '{"labels": {"bad key": "v"}}'),
    )
    assert stale.code == 4, stale
    assert invalid.code == 5, invalid
    assert "/labels/bad key" in invalid.err


def test_patch_merge_and_label_flags_combine(cli: Cli) -> None:
    """``--merge`` and ``-l``/``-m`` are both merge patches: neither may silently drop the other."""
    cli.seed({"id": "ptm", "kind": "team", "labels": {"old": "1"}, "metadata": {"old": 1}})
    cli.ok(
        *("ns", "patch", "ptm", "--merge", '{"labels": {"from-merge": "1"}, "metadata": {"merge": 1}}'),
        *("-l", "from-flag=1", "-m", '{"flag": 1}'),
    )
    record = cli.ok("--json", "ns", "get", "ptm").json()
    assert record["labels"] == {"old": "1", "from-merge": "1", "from-flag": "1"}
    assert record["metadata"] == {"old": 1, "merge": 1, "flag": 1}


# -- ns rm ---------------------------------------------------------------------------


def test_rm(cli: Cli) -> None:
    cli.seed(*({"id": ns_id, "kind": "test"} for ns_id in ("rmt", "rmt.a", "rmt.a.b", "rmt.leaf")))
    leaf, refused, stale = cli.many(
        ("ns", "rm", "rmt.leaf"),
        ("ns", "rm", "rmt"),
        ("ns", "rm", "rmt.a.b", "--if-match", "1"),
    )
    assert ok(leaf).out.startswith("deleted 1 at revision ")
    assert leaf.out.strip().endswith(": rmt.leaf")
    assert refused.code == 4, refused
    assert refused.out == ""
    assert refused.err.startswith("error: ")
    assert "rmt.a" in refused.err
    assert "recursive" in refused.err
    assert stale.code == 4, stale

    recursive = cli.ok("--json", "ns", "rm", "rmt", "-r").json()
    assert sorted(recursive["deleted"]) == ["rmt", "rmt.a", "rmt.a.b"]  # rmt.leaf was gone already
    counted, again = cli.many(("ns", "ls", "rmt", "--count"), ("ns", "rm", "rmt", "--recursive"))
    assert ok(counted).out.strip() == "0"
    assert again.code == 3, again


# -- ns history / revision / compact -------------------------------------------------


def test_history_and_revision(cli: Cli) -> None:
    cli.seed({"id": "hist", "kind": "team", "labels": {"v": "1"}})
    with httpx.Client(base_url=cli.url) as http:
        patched = http.patch(
            "/v1/namespaces/hist",
            json={"labels": {"v": "2"}, "state": "deprecated"},
            headers={"content-type": "application/merge-patch+json"},
        )
        assert patched.status_code == 200
        assert http.delete("/v1/namespaces/hist").status_code == 200
    table, as_json, revision, revision_json = cli.many(
        ("ns", "history", "hist"),
        ("--json", "ns", "history", "hist"),
        ("revision",),
        ("--json", "revision"),
    )
    lines = ok(table).out.splitlines()
    assert lines[0].split() == ["REV", "EVENT", "BY", "STATE", "LABELS"]
    assert [row[1:] for row in table.rows] == [
        ["create", "anonymous", "active", "v=1"],
        ["update", "anonymous", "deprecated", "v=2"],
        ["delete", "-", "-", "-"],
    ]
    revisions = [int(row[0]) for row in table.rows]
    assert revisions == sorted(revisions)
    assert revisions[1] == patched.json()["mod_revision"]
    history = ok(as_json).json()
    assert [v["event"] for v in history["items"]] == ["create", "update", "delete"]
    assert history["items"][-1]["namespace"] is None

    current = ok(revision_json).json()
    assert set(current) == {"revision", "compacted_revision"}
    assert current["revision"] >= revisions[-1]
    expected = f"revision {current['revision']} (compacted below {current['compacted_revision']})"
    assert ok(revision).out.strip() == expected


def test_history_shows_every_version(cli: Cli) -> None:
    """``ns history`` shows "every kept version": more than one page (100) of them too."""
    cli.seed({"id": "long", "kind": "team"})
    with httpx.Client(base_url=cli.url) as http:
        for i in range(104):
            response = http.patch(
                "/v1/namespaces/long",
                json={"labels": {"n": str(i)}},
                headers={"content-type": "application/merge-patch+json"},
            )
            assert response.status_code == 200
    everything, limited = cli.many(("ns", "history", "long"), ("ns", "history", "long", "--limit", "3"))
    assert len(ok(limited).rows) == 3
    assert len(ok(everything).rows) == 105, f"ns history showed {len(everything.rows)} of 105 versions"
    assert everything.rows[-1][1:] == ["update", "anonymous", "active", "n=103"]


def test_compact(server: ServerProcess) -> None:
    cli = Cli(server.url)  # its own server: compaction would cut the history other tests read
    (first,) = cli.seed({"id": "cmp", "kind": "team", "labels": {"v": "1"}})
    with httpx.Client(base_url=cli.url) as http:
        for value in ("2", "3"):
            response = http.patch(
                "/v1/namespaces/cmp",
                json={"labels": {"v": value}},
                headers={"content-type": "application/merge-patch+json"},
            )
            assert response.status_code == 200
    current = response.json()["mod_revision"]
    compacted = cli.ok("compact", str(current))
    assert compacted.out.strip() == f"compacted below revision {current}: dropped 2 versions"
    revision, gone, history, future, again = cli.many(
        ("--json", "revision"),
        ("ns", "get", "cmp", "--revision", str(first["mod_revision"])),
        ("ns", "history", "cmp"),
        ("compact", str(current + 100)),
        ("--json", "compact", str(current)),
    )
    assert ok(revision).json() == {"revision": current, "compacted_revision": current}
    assert gone.code == 5, gone
    assert "compacted" in gone.err
    assert [row[1] for row in ok(history).rows] == ["update"]
    assert future.code == 5, future
    assert "revision" in future.err
    assert ok(again).json()["dropped"] == 0


# -- errors --------------------------------------------------------------------------


def test_not_found_exits_3(cli: Cli) -> None:
    results = cli.many(
        ("ns", "get", "no-such-ns"),
        ("ns", "patch", "no-such-ns", "-l", "a=b"),
        ("ns", "rm", "no-such-ns"),
        ("ns", "history", "no-such-ns"),
    )
    for result in results:
        assert result.code == 3, result
        assert result.out == ""
        assert result.err.startswith("error: ")
        assert "no-such-ns" in result.err


INVALID = {
    "id": (("ns", "create", "Bad_Id", "--kind", "team"), "/id"),
    "kind": (("ns", "create", "fine", "--kind", "Not A Kind"), "/kind"),
    "label": (("ns", "create", "fine", "--kind", "team", "-l", "bad key=1"), "/labels/bad key"),
    "owner": (("ns", "create", "fine", "--kind", "team", "--owner", "no spaces"), "/owner"),
    "annotation": (("ns", "create", "fine", "--kind", "team", "--annotation", "=x"), "/annotations"),
    "metadata": (("ns", "create", "fine", "--kind", "team", "-m", "[1]"), "/metadata"),
    "parent": (("ns", "create", "missing-parent.child", "--kind", "team"), "missing-parent"),
    "revision": (("ns", "get", "whatever", "--revision", "0"), "revision"),
    "selector": (("ns", "ls", "-s", "tier in (gold"), "selector"),
}


def test_invalid_input_exits_5_naming_the_field(cli: Cli) -> None:
    several = ("ns", "create", "Bad_Id", "--kind", "Bad Kind", "-l", "bad key=1")
    *results, all_listed = cli.many(*(argv for argv, _ in INVALID.values()), several)
    failures = []
    for (case, (_, field)), result in zip(INVALID.items(), results, strict=True):
        if result.code != 5 or result.out or not result.err.startswith("error: ") or field not in result.err:
            failures.append(f"{case}: exit {result.code}, stderr {result.err!r} (should name {field!r})")
    assert not failures, "\n".join(failures)
    # several problems at once: every one is listed
    assert all_listed.code == 5, all_listed
    assert "3 errors" in all_listed.err
    for field in ("/id", "/kind", "/labels/bad key"):
        assert field in all_listed.err
    assert cli("ns", "get", "fine").code == 3  # none of them was written


def test_usage_errors_exit_2(cli: Cli) -> None:
    results = cli.many(
        ("ns", "create", "x", "--kind", "team", "-l", "no-equals-sign"),
        ("ns", "create", "x", "--kind", "team", "-m", "{not json"),
        ("ns", "create", "x", "--kind", "team", "-m", "@/no/such/file.json"),
        ("ns", "create"),
        ("ns", "create", "x", "--kind", "team", "--state", "bogus"),
        ("ns", "ls", "--limit", "-1"),
    )
    for result in results:
        assert result.code == 2, result
        assert "Error" in result.err
        assert result.out == ""
    assert "KEY=VALUE" in results[0].err
    assert "not valid JSON" in results[1].err
    assert "cannot read" in results[2].err


def test_unreachable_server_exits_6() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    results = run_many(
        ("--url", url, "revision"),
        ("--url", url, "ns", "get", "x"),
        ("--url", url, "ns", "ls"),
        ("--url", url, "ns", "create", "x", "--kind", "team"),
    )
    for result in results:
        assert result.code == 6, result
        assert result.out == ""
        assert result.err.startswith(f"error: cannot reach ns-root at {url}"), result.err
        assert len(result.err.splitlines()) == 1


def test_a_server_that_never_answers_exits_6_saying_why() -> None:
    with socket.socket() as listener:  # accepts connections (the backlog) and never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        result = run("--url", url, "--timeout", "0.2", "revision")
    assert result.code == 6, result
    assert result.err.startswith(f"error: cannot reach ns-root at {url}")
    assert not result.err.rstrip().endswith(":"), f"the message does not say what went wrong: {result.err!r}"
    assert "time" in result.err.lower(), result.err


def test_nsroot_url_environment_variable(cli_server: ServerProcess) -> None:
    elsewhere = f"http://127.0.0.1:{free_port()}"
    via_env, flag_wins, unreachable = run_many(
        Cmd(("--json", "revision"), env={"NSROOT_URL": cli_server.url}),
        Cmd(("--url", cli_server.url, "revision"), env={"NSROOT_URL": elsewhere}),
        Cmd(("revision",), env={"NSROOT_URL": elsewhere}),
    )
    assert ok(via_env).json()["revision"] > PAGES
    ok(flag_wins)
    assert unreachable.code == 6, unreachable
    assert elsewhere in unreachable.err


# -- serve ---------------------------------------------------------------------------


def test_serve_help_lists_its_options() -> None:
    serve, top, version = run_many(("serve", "--help"), ("--help",), ("--version",))
    for option in ("--host", "--port", "--db", "--workers", "--log-level", "--config", "--durability"):
        assert option in ok(serve).out
    for command in ("serve", "ns", "revision", "compact"):
        assert command in ok(top).out
    assert "nsroot" in ok(version).out


def test_serve_with_an_invalid_config_fails_cleanly(tmp_path: Path) -> None:
    cases = {
        "bad-toml": ("port = [unclosed\n", "not valid TOML"),
        "unknown-key": ("prot = 8080\n", "unknown key 'prot'"),
        "bad-type": ('port = "eighty"\n', "port"),
        "bad-durability": ('durability = "maybe"\n', "durability"),
        "bad-workers": ("workers = 0\n", "workers"),
    }
    commands: list[Command] = []
    for case, (content, _) in cases.items():
        config = tmp_path / f"{case}.toml"
        config.write_text(content, encoding="utf-8")
        db = tmp_path / f"{case}.db"
        commands.append(("serve", "--config", str(config), "--db", str(db), "--port", str(free_port())))
    db = tmp_path / "flags.db"
    commands += [
        ("serve", "--config", str(tmp_path / "absent.toml"), "--db", str(db)),
        ("serve", "--port", "70000", "--db", str(db)),
        Cmd(("serve", "--db", str(db)), env={"NSROOT_WORKERS": "lots"}),
    ]
    expected = [message for _, message in cases.values()] + ["cannot read config file", "70000", "NSROOT_WORKERS"]
    for result, message in zip(run_many(*commands), expected, strict=True):
        assert result.code == 5, result  # invalid input, before anything starts
        assert result.out == ""
        assert result.err.startswith("error: "), result.err
        assert message in result.err, result.err
        assert len(result.err.splitlines()) == 1, result.err
    assert not list(tmp_path.glob("*.db*")), "nothing may be created for a bad configuration"


def test_serve_with_an_unusable_db_fails_cleanly(tmp_path: Path) -> None:
    """A database path that cannot be opened (here a directory) is an operator error, not a crash."""
    directory = tmp_path / "a-directory.db"
    directory.mkdir()
    result = run("serve", "--db", str(directory), "--port", str(free_port()), "--log-level", "warning")
    assert result.code != 0, result
    assert "cannot open SQLite database" in result.err


def test_serve_refuses_a_port_in_use(cli_server: ServerProcess, tmp_path: Path) -> None:
    """granian binds with SO_REUSEPORT; a second server on the same port must not start beside the first."""
    result = run("serve", "--db", str(tmp_path / "other.db"), "--port", str(cli_server.port), "--log-level", "warning")
    assert result.code == 6, result
    assert f"cannot listen on 127.0.0.1:{cli_server.port}" in result.err
    assert "Traceback" not in result.err
    assert not (tmp_path / "other.db").exists()
