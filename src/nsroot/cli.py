"""The ``nsroot`` command: run the server, and talk to one.

Exit codes: 0 success; 1 other error; 2 usage; 3 not found; 4 conflict or failed
precondition; 5 invalid input; 6 server unreachable or unavailable.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, Final, TypeVar

import click

from nsroot import __version__, errors
from nsroot.client import DEFAULT_URL, Client
from nsroot.config import LOG_LEVELS, Config, load_config

T = TypeVar("T")

EXIT_CODES: Final[tuple[tuple[type[errors.NsRootError], int], ...]] = (
    (errors.NotFound, 3),
    (errors.AlreadyExists, 4),
    (errors.Conflict, 4),
    (errors.NotEmpty, 4),
    (errors.PreconditionFailed, 4),
    (errors.IncompatibleSchema, 4),
    (errors.SchemaInUse, 4),
    (errors.InvalidInput, 5),
    (errors.ParentNotFound, 5),
    (errors.InvalidSchema, 5),
    (errors.UnknownKind, 5),
    (errors.SchemaViolation, 5),
    (errors.PayloadTooLarge, 5),
    (errors.Compacted, 5),
    (errors.Unavailable, 6),
)


def _exit_code(exc: errors.NsRootError) -> int:
    for cls, code in EXIT_CODES:
        if isinstance(exc, cls):
            return code
    return 1


def _fail(exc: errors.NsRootError) -> None:
    where = f"{exc.field}: " if exc.field and not exc.errors and exc.field not in exc.detail else ""
    message = f"error: {where}{exc.detail}"
    for problem in exc.errors[1:] if len(exc.errors) > 1 else ():
        message += f"\n  {problem.field}: {problem.detail} [{problem.rule}]"
    click.echo(message, err=True)
    sys.exit(_exit_code(exc))


def _run(ctx: click.Context, call: Callable[[Client], Awaitable[T]]) -> T:
    """Run ``call`` with a client for the context's server, turning errors into exit codes."""

    async def go() -> T:
        async with Client(ctx.obj["url"], timeout=ctx.obj["timeout"], token=ctx.obj["token"]) as client:
            return await call(client)

    try:
        return asyncio.run(go())
    except errors.NsRootError as exc:
        _fail(exc)
        raise AssertionError("unreachable") from exc


def _emit(ctx: click.Context, value: Any, human: Callable[[Any], str]) -> None:
    if ctx.obj["json"]:
        click.echo(json.dumps(value, indent=2, sort_keys=False))
    else:
        click.echo(human(value))


def _table(rows: Iterable[Iterable[str]], header: Iterable[str]) -> str:
    grid = [list(header), *[list(r) for r in rows]]
    widths = [max(len(row[i]) for row in grid) for i in range(len(grid[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in grid)


def _labels(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "-"


def _record_text(record: dict[str, Any]) -> str:
    lines = [f"{key}: {record[key]}" for key in ("id", "kind", "owner", "state") if key in record]
    lines.append(f"labels: {_labels(record.get('labels', {}))}")
    if record.get("annotations"):
        lines.append("annotations: " + json.dumps(record["annotations"], sort_keys=True))
    lines.append("metadata: " + json.dumps(record.get("metadata", {}), sort_keys=True))
    lines.append(
        f"revision: create {record.get('create_revision')}, mod {record.get('mod_revision')}, "
        f"version {record.get('version')}"
    )
    lines.append(f"created: {record.get('created_at')} by {record.get('created_by')}")
    lines.append(f"updated: {record.get('updated_at')} by {record.get('updated_by')}")
    return "\n".join(lines)


def _pairs(values: Iterable[str], what: str) -> dict[str, str]:
    result = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r}: expected KEY=VALUE", param_hint=f"--{what}")
        result[key] = value
    return result


def _json_arg(text: str | None, what: str) -> Any:
    if text is None:
        return None
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise click.BadParameter(f"cannot read {text[1:]}: {exc.strerror}", param_hint=what) from exc
        except UnicodeDecodeError as exc:
            raise click.BadParameter(f"{text[1:]} is not UTF-8 text: {exc.reason}", param_hint=what) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not valid JSON: {exc}", param_hint=what) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nsroot")
@click.option("--url", envvar="NSROOT_URL", default=DEFAULT_URL, show_default=True, help="Server URL (NSROOT_URL).")
@click.option("--token", envvar="NSROOT_TOKEN", default=None, help="Bearer token (NSROOT_TOKEN).")
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds to wait for the server.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@click.pass_context
def main(ctx: click.Context, url: str, token: str | None, timeout: float, as_json: bool) -> None:
    """ns-root: a namespace registry for fleets of automated agents."""
    ctx.obj = {"url": url, "token": token, "timeout": timeout, "json": as_json}


# -- serve ---------------------------------------------------------------------------


@main.command()
@click.option("--config", "config_file", type=click.Path(path_type=Path), help="TOML file (NSROOT_CONFIG).")
@click.option("--host", help="Address to listen on [127.0.0.1].")
@click.option("--port", type=int, help="Port to listen on [8080].")
@click.option("--db", type=click.Path(path_type=Path), help="SQLite file [$XDG_DATA_HOME/nsroot/nsroot.db].")
@click.option("--workers", type=int, help="Worker processes [1].")
@click.option("--log-level", type=click.Choice(LOG_LEVELS), help="Log level [info].")
@click.option("--durability", type=click.Choice(["power-loss", "process-crash"]), help="What a commit survives.")
@click.option(
    "--schemaless-kinds/--no-schemaless-kinds",
    default=None,
    help="Accept kinds that name no registered schema [refused].",
)
@click.option(
    "--schema-compatibility",
    type=click.Choice(
        ["NONE", "BACKWARD", "FORWARD", "FULL", "BACKWARD_TRANSITIVE", "FORWARD_TRANSITIVE", "FULL_TRANSITIVE"]
    ),
    help="Compatibility mode of schemas that set none [BACKWARD].",
)
def serve(config_file: Path | None, **flags: Any) -> None:
    """Run the ns-root server."""
    try:
        config = load_config(flags, file=config_file)
    except errors.NsRootError as exc:
        _fail(exc)
        return
    try:
        _check_port(config.host, config.port)
    except errors.NsRootError as exc:
        _fail(exc)
        return
    run_server(config)


def _check_port(host: str, port: int) -> None:
    """Refuse a port another server listens on. granian binds with SO_REUSEPORT, which
    would otherwise let a second server start there and silently take half the traffic."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a closed server's TIME_WAIT is fine
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise errors.Unavailable(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def run_server(config: Config) -> None:
    """Serve ``config`` with granian; workers build the app from the NSROOT_* it sets."""
    # granian is imported here, not at the top: the client commands never need it and
    # start faster without it.
    from granian.constants import HTTPModes, Interfaces, Loops, RuntimeModes
    from granian.log import LogLevels
    from granian.server import Server

    os.environ.update(config.to_env())
    config.db.parent.mkdir(parents=True, exist_ok=True)
    click.echo(f"nsroot {__version__} serving http://{config.host}:{config.port} (db {config.db})", err=True)
    Server(
        "nsroot.http.app:app_from_env",
        address=config.host,
        port=config.port,
        interface=Interfaces.RSGI,
        workers=config.workers,
        factory=True,
        loop=Loops.uvloop,
        http=HTTPModes.http1,
        # One runtime thread per worker: on one core a multi-threaded runtime measured no faster.
        runtime_mode=RuntimeModes.st,
        websockets=False,
        log_level=LogLevels(config.log_level),
    ).serve()


# -- namespaces ----------------------------------------------------------------------


@main.group()
def ns() -> None:
    """Create, read, list, change and delete namespaces."""


def _spec_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option("--kind", help="Kind of namespace, e.g. service."),
            click.option("--owner", help="Owning subject, e.g. team:platform."),
            click.option("--state", type=click.Choice(["active", "deprecated", "retired"])),
            click.option("--label", "-l", "labels", multiple=True, metavar="K=V", help="A label (repeatable)."),
            click.option("--annotation", "annotations", multiple=True, metavar="K=V", help="An annotation."),
            click.option("--metadata", "-m", help="Metadata JSON object, or @file."),
        ]
    ):
        fn = option(fn)
    return fn


def _spec(
    kind: str | None,
    owner: str | None,
    state: str | None,
    labels: tuple[str, ...],
    annotations: tuple[str, ...],
    metadata: str | None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if kind is not None:
        spec["kind"] = kind
    if owner is not None:
        spec["owner"] = owner
    if state is not None:
        spec["state"] = state
    if labels:
        spec["labels"] = _pairs(labels, "label")
    if annotations:
        spec["annotations"] = _pairs(annotations, "annotation")
    parsed = _json_arg(metadata, "--metadata")
    if parsed is not None:
        spec["metadata"] = parsed
    return spec


def _compose(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """One merge patch that does what ``first`` then ``second`` do (nulls kept: they delete)."""
    out = dict(first)
    for key, value in second.items():
        earlier = out.get(key)
        out[key] = _compose(earlier, value) if isinstance(earlier, dict) and isinstance(value, dict) else value
    return out


def _merge_flags(document: dict[str, Any], flags: dict[str, Any]) -> dict[str, Any]:
    """Flags on top of a JSON document: -l and --annotation add to its maps, the rest replace."""
    merged = dict(document)
    for key, value in flags.items():
        if key in ("labels", "annotations") and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


@ns.command("create")
@click.argument("ns_id", metavar="ID")
@_spec_options
@click.pass_context
def ns_create(ctx: click.Context, /, ns_id: str, **options: Any) -> None:
    """Create namespace ID (its parent must exist)."""
    body = {"id": ns_id, **_spec(**options)}
    record = _run(ctx, lambda c: c.create(body))
    _emit(ctx, record, lambda r: f"created {r['id']} at revision {r['mod_revision']}")


@ns.command("get")
@click.argument("ns_id", metavar="ID")
@click.option("--revision", type=int, help="Read as of this revision.")
@click.pass_context
def ns_get(ctx: click.Context, ns_id: str, revision: int | None) -> None:
    """Show namespace ID."""
    _emit(ctx, _run(ctx, lambda c: c.get(ns_id, revision=revision)), _record_text)


@ns.command("ls")
@click.argument("prefix", required=False)
@click.option("--children", is_flag=True, help="Direct children of PREFIX only (of the roots without PREFIX).")
@click.option("--selector", "-s", help="Label selector, e.g. 'tier in (gold,silver),!legacy'.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many (default: all).")
@click.option("--revision", type=int, help="List as of this revision.")
@click.option("--count", is_flag=True, help="Print only how many match.")
@click.pass_context
def ns_ls(
    ctx: click.Context,
    prefix: str | None,
    children: bool,
    selector: str | None,
    limit: int | None,
    revision: int | None,
    count: bool,
) -> None:
    """List namespaces under PREFIX (all without it)."""
    params: dict[str, Any] = {"selector": selector, "revision": revision}
    if children:
        params["children_of"] = prefix or ""
    else:
        params["prefix"] = prefix
    if count:
        _emit(ctx, _run(ctx, lambda c: c.count(**params)), lambda r: str(r["count"]))
        return

    async def collect(client: Client) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page_size = min(limit, 1000) if limit is not None else 1000
        async for item in client.list_all(**params, limit=page_size):
            items.append(item)
            if limit is not None and len(items) >= limit:
                break
        return items

    items = _run(ctx, collect)
    _emit(
        ctx,
        items,
        lambda rows: _table(
            ((r["id"], r["kind"], r["owner"], r["state"], _labels(r["labels"]), str(r["mod_revision"])) for r in rows),
            ("ID", "KIND", "OWNER", "STATE", "LABELS", "REV"),
        ),
    )


@ns.command("set")
@click.argument("ns_id", metavar="ID")
@_spec_options
@click.option("--file", "-f", "from_file", help="The whole record as JSON, or @file (e.g. an edited `get --json`).")
@click.option("--if-match", type=int, help="Only if the namespace is at this mod_revision.")
@click.pass_context
def ns_set(ctx: click.Context, /, ns_id: str, from_file: str | None, if_match: int | None, **options: Any) -> None:
    """Replace the spec of ID (creating it if missing); unset fields take their defaults."""
    body = _json_arg(from_file, "--file") if from_file else {}
    if not isinstance(body, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--file")
    body = _merge_flags(body, _spec(**options))
    record = _run(ctx, lambda c: c.replace(ns_id, body, if_match=if_match))
    _emit(ctx, record, lambda r: f"set {r['id']} at revision {r['mod_revision']} (version {r['version']})")


@ns.command("patch")
@click.argument("ns_id", metavar="ID")
@_spec_options
@click.option("--unlabel", multiple=True, metavar="K", help="Remove a label (repeatable).")
@click.option("--merge", help="An RFC 7396 merge patch as JSON, or @file.")
@click.option("--if-match", type=int, help="Only if the namespace is at this mod_revision.")
@click.pass_context
def ns_patch(
    ctx: click.Context, /, ns_id: str, unlabel: tuple[str, ...], merge: str | None, if_match: int | None, **options: Any
) -> None:
    """Change only the given fields of ID (labels and metadata are merged)."""
    patch = _json_arg(merge, "--merge") or {}
    if not isinstance(patch, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--merge")
    patch = _compose(patch, _spec(**options))
    if unlabel:
        patch.setdefault("labels", {}).update(dict.fromkeys(unlabel))
    record = _run(ctx, lambda c: c.patch(ns_id, patch, if_match=if_match))
    _emit(ctx, record, lambda r: f"patched {r['id']} at revision {r['mod_revision']} (version {r['version']})")


@ns.command("rm")
@click.argument("ns_id", metavar="ID")
@click.option("--recursive", "-r", is_flag=True, help="Delete the whole subtree.")
@click.option("--if-match", type=int, help="Only if the namespace is at this mod_revision.")
@click.pass_context
def ns_rm(ctx: click.Context, ns_id: str, recursive: bool, if_match: int | None) -> None:
    """Delete ID (a leaf, or with --recursive its subtree)."""
    result = _run(ctx, lambda c: c.delete(ns_id, recursive=recursive, if_match=if_match))
    _emit(ctx, result, lambda r: f"deleted {len(r['deleted'])} at revision {r['revision']}: {', '.join(r['deleted'])}")


@ns.command("history")
@click.argument("ns_id", metavar="ID")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many versions (default: all).")
@click.pass_context
def ns_history(ctx: click.Context, ns_id: str, limit: int | None) -> None:
    """Show every kept version of ID."""

    async def collect(client: Client) -> dict[str, Any]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = await client.history(ns_id, limit=min(limit or 1000, 1000), cursor=cursor)
            items.extend(page["items"])
            cursor = page["next_cursor"]
            if not cursor or (limit is not None and len(items) >= limit):
                return {**page, "items": items[:limit], "next_cursor": None}

    result = _run(ctx, collect)
    _emit(
        ctx,
        result,
        lambda r: _table(
            (
                (
                    str(v["revision"]),
                    v["event"],
                    (v["namespace"] or {}).get("updated_by", "-"),
                    (v["namespace"] or {}).get("state", "-"),
                    _labels((v["namespace"] or {}).get("labels", {})),
                )
                for v in r["items"]
            ),
            ("REV", "EVENT", "BY", "STATE", "LABELS"),
        ),
    )


# -- schemas -------------------------------------------------------------------------

MODES: Final = ("NONE", "BACKWARD", "FORWARD", "FULL", "BACKWARD_TRANSITIVE", "FORWARD_TRANSITIVE", "FULL_TRANSITIVE")


def _json_file(path: str, what: str) -> Any:
    """JSON from a file, or from standard input for ``-``."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path}: {exc.strerror}", param_hint=what) from exc
    except UnicodeDecodeError as exc:
        raise click.BadParameter(f"{path} is not UTF-8 text: {exc.reason}", param_hint=what) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"{path} is not valid JSON: {exc}", param_hint=what) from exc


def _violations(errors_: list[dict[str, Any]], indent: str = "  ") -> str:
    return "\n".join(
        f"{indent}{e['instance_path'] or '/'}: {e['message']} [{e['keyword']} at {e['schema_path']}]" for e in errors_
    )


@main.group()
def schema() -> None:
    """Register, inspect and use JSON Schemas (the kinds of namespaces)."""


@schema.command("add")
@click.argument("name")
@click.argument("file", metavar="FILE")
@click.pass_context
def schema_add(ctx: click.Context, name: str, file: str) -> None:
    """Register the JSON Schema in FILE (- for stdin) as the next version of NAME."""
    document = _json_file(file, "FILE")
    found = _run(ctx, lambda c: c.register_schema(name, document))
    _emit(ctx, found, lambda r: f"{r['name']} version {r['version']} ({r['uri']}) at revision {r['revision']}")


@schema.command("get")
@click.argument("name")
@click.argument("version", default="latest")
@click.pass_context
def schema_get(ctx: click.Context, name: str, version: str) -> None:
    """Show VERSION (default: latest) of schema NAME, with its document."""

    def human(r: dict[str, Any]) -> str:
        head = f"{r['name']} version {r['version']} ({r['state']}, {r['dialect']}), revision {r['revision']}"
        return head + "\n" + json.dumps(r["schema"], indent=2)

    _emit(ctx, _run(ctx, lambda c: c.schema_version(name, version)), human)


@schema.command("ls")
@click.argument("name", required=False)
@click.pass_context
def schema_ls(ctx: click.Context, name: str | None) -> None:
    """List schemas, or the versions of schema NAME."""
    if name is None:
        _emit(
            ctx,
            _run(ctx, lambda c: c.schemas()),
            lambda r: _table(
                (
                    (s["name"], str(s["latest_version"] or "-"), str(len(s["versions"])), s["compatibility"])
                    for s in r["items"]
                ),
                ("NAME", "LATEST", "VERSIONS", "COMPATIBILITY"),
            ),
        )
        return
    _emit(
        ctx,
        _run(ctx, lambda c: c.schema_versions(name)),
        lambda r: _table(
            ((str(v["version"]), v["state"], v["dialect"], str(v["revision"]), v["created_by"]) for v in r["items"]),
            ("VERSION", "STATE", "DIALECT", "REV", "BY"),
        ),
    )


@schema.command("validate")
@click.argument("name")
@click.argument("file", metavar="FILE")
@click.option("--version", type=click.IntRange(min=1), help="Validate against this version [latest].")
@click.pass_context
def schema_validate(ctx: click.Context, name: str, file: str, version: int | None) -> None:
    """Validate the JSON document in FILE (an array: each element) against NAME.

    Exits 0 when every document is valid, 5 otherwise."""
    documents = _json_file(file, "FILE")
    result = _run(ctx, lambda c: c.validate(name, documents, version=version))
    results = result.get("results", [result])

    def human(r: dict[str, Any]) -> str:
        where = f"{r['schema']['name']} version {r['schema']['version']}"
        lines = []
        for i, outcome in enumerate(results):
            label = f"document {i}: " if "results" in r else ""
            lines.append(f"{label}{'valid' if outcome['valid'] else 'invalid'} against {where}")
            if outcome["errors"]:
                lines.append(_violations(outcome["errors"]))
        return "\n".join(lines)

    _emit(ctx, result, human)
    if not all(o["valid"] for o in results):
        sys.exit(5)


@schema.command("check")
@click.argument("name")
@click.argument("file", metavar="FILE")
@click.option("--version", type=click.IntRange(min=1), help="Compare with this version only.")
@click.pass_context
def schema_check(ctx: click.Context, name: str, file: str, version: int | None) -> None:
    """Dry run: would FILE be accepted as the next version of NAME? Exits 4 if not."""
    document = _json_file(file, "FILE")
    report = _run(ctx, lambda c: c.check_schema(name, document, version=version))

    def human(r: dict[str, Any]) -> str:
        against = ", ".join(str(v) for v in r["compared_with"]) or "nothing (first version)"
        head = f"{'compatible' if r['compatible'] else 'incompatible'} ({r['mode']}; compared with {against})"
        return "\n".join([head, *(f"  {b['message']}" for b in r["breaking"])])

    _emit(ctx, report, human)
    if not report["compatible"]:
        sys.exit(4)


@schema.command("config")
@click.argument("name")
@click.option("--compatibility", type=click.Choice([*MODES, "DEFAULT"]), help="Set the mode (DEFAULT: inherit).")
@click.pass_context
def schema_config(ctx: click.Context, name: str, compatibility: str | None) -> None:
    """Show or set the compatibility mode of schema NAME."""
    if compatibility is None:
        found = _run(ctx, lambda c: c.schema(name))
    else:
        mode = None if compatibility == "DEFAULT" else compatibility
        found = _run(ctx, lambda c: c.configure_schema(name, mode))
    inherited = " (the registry default)" if found["compatibility_inherited"] else ""
    _emit(ctx, found, lambda r: f"{r['name']}: {r['compatibility']}{inherited}")


@schema.command("deprecate")
@click.argument("name")
@click.argument("version", type=click.IntRange(min=1))
@click.option("--undo", is_flag=True, help="Mark the version active again.")
@click.pass_context
def schema_deprecate(ctx: click.Context, name: str, version: int, undo: bool) -> None:
    """Mark VERSION of NAME deprecated (it keeps working; writes that use it are warned)."""
    found = _run(ctx, lambda c: c.set_schema_state(name, version, "active" if undo else "deprecated"))
    _emit(ctx, found, lambda r: f"{r['name']} version {r['version']} is {r['state']}")


@schema.command("rm")
@click.argument("name")
@click.argument("version", type=click.IntRange(min=1), required=False)
@click.pass_context
def schema_rm(ctx: click.Context, name: str, version: int | None) -> None:
    """Delete VERSION of NAME, or without VERSION the whole schema (refused while in use)."""
    found = _run(ctx, lambda c: c.delete_schema(name, version))
    _emit(ctx, found, lambda r: f"deleted {r['name']} version(s) {', '.join(map(str, r['deleted'])) or '-'}")


@schema.command("report")
@click.argument("name")
@click.argument("version", default="latest")
@click.pass_context
def schema_report(ctx: click.Context, name: str, version: str) -> None:
    """List the namespaces of kind NAME whose metadata fails VERSION [latest]."""

    async def collect(client: Client) -> dict[str, Any]:
        items: list[dict[str, Any]] = []
        cursor, scanned = None, 0
        while True:
            page = await client.schema_report(name, version, limit=1000, cursor=cursor)
            items.extend(page["items"])
            scanned += page["scanned"]
            cursor = page["next_cursor"]
            if not cursor:
                return {**page, "items": items, "scanned": scanned}

    def human(r: dict[str, Any]) -> str:
        target = f"{r['schema']['name']} version {r['schema']['version']}"
        head = f"{len(r['items'])} of {r['scanned']} namespaces fail {target}"
        return "\n".join([head, *(f"{f['id']}:\n{_violations(f['errors'], '    ')}" for f in r["items"])])

    _emit(ctx, _run(ctx, collect), human)


# -- the store -----------------------------------------------------------------------


@main.command()
@click.pass_context
def revision(ctx: click.Context) -> None:
    """Show the current and compacted revision."""
    _emit(
        ctx,
        _run(ctx, lambda c: c.revision()),
        lambda r: f"revision {r['revision']} (compacted below {r['compacted_revision']})",
    )


@main.command()
@click.argument("target", metavar="REVISION", type=int)
@click.pass_context
def compact(ctx: click.Context, target: int) -> None:
    """Forget history older than REVISION."""
    _emit(
        ctx,
        _run(ctx, lambda c: c.compact(target)),
        lambda r: f"compacted below revision {r['compacted_revision']}: dropped {r['dropped']} versions",
    )


if __name__ == "__main__":
    main()
