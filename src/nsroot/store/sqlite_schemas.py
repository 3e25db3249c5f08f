"""The schema registry's part of the SQLite store: applying schema writes inside a group
commit, and reading every schema back. Tables are in ``migrations/0002_schemas.sql``."""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Final

from nsroot.errors import InvalidSchema, NotFound, SchemaInUse
from nsroot.store.base import (
    ConfigureSchema,
    DeleteSchema,
    PutSchema,
    SchemaConfig,
    SchemaRows,
    SchemaWrite,
    SchemaWritten,
    SetSchemaState,
    StoredSchema,
)

_VERSION_COLUMNS: Final = "name, version, document, fingerprint, dialect, refs, state, revision, created_by, created_at"
_CONFIG_COLUMNS: Final = "name, compatibility, next_version, revision, updated_by, updated_at"  # not `deleted`


def _version(row: tuple[Any, ...]) -> StoredSchema:
    name, version, document, fingerprint, dialect, refs, state, revision, created_by, created_at = row
    return StoredSchema(
        name,
        version,
        bytes(document),
        fingerprint,
        dialect,
        tuple(json.loads(refs)),
        state,
        revision,
        created_by,
        created_at,
    )


def _config(row: tuple[Any, ...]) -> SchemaConfig:
    return SchemaConfig(*row)


def read_rows(conn: sqlite3.Connection) -> SchemaRows:
    configs = tuple(
        _config(r) for r in conn.execute(f"SELECT {_CONFIG_COLUMNS} FROM schemas WHERE deleted = 0 ORDER BY name")
    )
    versions = tuple(
        _version(r) for r in conn.execute(f"SELECT {_VERSION_COLUMNS} FROM schema_versions ORDER BY name, version")
    )
    changed_at = conn.execute("SELECT value FROM meta WHERE key = 'schemas'").fetchone()[0]
    return SchemaRows(configs, versions, changed_at)


def changed_at(conn: sqlite3.Connection) -> int:
    value: int = conn.execute("SELECT value FROM meta WHERE key = 'schemas'").fetchone()[0]
    return value


def apply(conn: sqlite3.Connection, op: SchemaWrite, revision: int, now: str) -> SchemaWritten:
    """Apply one schema write at ``revision`` inside the open transaction."""
    if isinstance(op, PutSchema):
        written = _put(conn, op, revision, now)
    elif isinstance(op, ConfigureSchema):
        written = SchemaWritten(revision, op.name, config=_configure(conn, op, revision, now))
    elif isinstance(op, SetSchemaState):
        written = _set_state(conn, op, revision)
    else:
        written = _delete(conn, op, revision)
    if written.created:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schemas'", (revision,))
    return written


def _get_config(conn: sqlite3.Connection, name: str, *, deleted: bool = False) -> SchemaConfig | None:
    """The schema's row; with ``deleted``, also the row a whole-schema delete left behind
    (it keeps ``next_version``, so version numbers are never given out twice)."""
    where = "" if deleted else " AND deleted = 0"
    row = conn.execute(f"SELECT {_CONFIG_COLUMNS} FROM schemas WHERE name = ?{where}", (name,)).fetchone()
    return None if row is None else _config(row)


def _live(conn: sqlite3.Connection, name: str) -> list[StoredSchema]:
    return [
        _version(r)
        for r in conn.execute(
            f"SELECT {_VERSION_COLUMNS} FROM schema_versions WHERE name = ? ORDER BY version", (name,)
        )
    ]


def _put(conn: sqlite3.Connection, op: PutSchema, revision: int, now: str) -> SchemaWritten:
    config = _get_config(conn, op.name, deleted=True)
    live = _live(conn, op.name) if config is not None else []
    for existing in live:
        if existing.fingerprint == op.fingerprint:
            return SchemaWritten(existing.revision, op.name, version=existing, config=config, created=False)
    if len(live) >= op.max_versions:
        raise InvalidSchema(
            f'schema "{op.name}" has {len(live)} versions, the most allowed; delete old versions first',
            field="name",
            rule="max-versions",
        )
    op.admit(config, live)
    for ref in op.references:
        if conn.execute("SELECT 1 FROM schema_versions WHERE ref = ?", (ref,)).fetchone() is None:
            raise InvalidSchema(
                f'the referenced schema version "{ref}" does not exist', field="/schema", rule="ref-exists"
            )
    if config is None:
        conn.execute(
            f"INSERT INTO schemas ({_CONFIG_COLUMNS}) VALUES (?, NULL, 1, ?, ?, ?)",
            (op.name, revision, op.subject, now),
        )
        number = 1
    else:
        number = config.next_version
        conn.execute("UPDATE schemas SET deleted = 0 WHERE name = ?", (op.name,))
    conn.execute("UPDATE schemas SET next_version = ? WHERE name = ?", (number + 1, op.name))
    stored = StoredSchema(
        op.name, number, op.document, op.fingerprint, op.dialect, op.references, "active", revision, op.subject, now
    )
    conn.execute(
        f"INSERT INTO schema_versions (ref, {_VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (stored.ref, op.name, number, op.document, op.fingerprint, op.dialect, json.dumps(op.references), "active",
         revision, op.subject, now),
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO schema_references (to_ref, from_ref) VALUES (?, ?)", [(ref, stored.ref) for ref in op.references]
    )
    return SchemaWritten(revision, op.name, version=stored, config=_get_config(conn, op.name))


def _configure(conn: sqlite3.Connection, op: ConfigureSchema, revision: int, now: str) -> SchemaConfig:
    conn.execute(
        f"INSERT INTO schemas ({_CONFIG_COLUMNS}) VALUES (?, ?, 1, ?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET compatibility = excluded.compatibility, revision = excluded.revision, "
        "updated_by = excluded.updated_by, updated_at = excluded.updated_at, deleted = 0",
        (op.name, op.compatibility, revision, op.subject, now),
    )
    config = _get_config(conn, op.name)
    assert config is not None
    return config


def _missing(name: str, version: int | None) -> NotFound:
    if version is None:
        return NotFound(f'schema "{name}" does not exist', field="name", rule="exists")
    return NotFound(f'schema "{name}" has no version {version}', field="version", rule="exists")


def _set_state(conn: sqlite3.Connection, op: SetSchemaState, revision: int) -> SchemaWritten:
    ref = f"{op.name}@{op.version}"
    if conn.execute("UPDATE schema_versions SET state = ? WHERE ref = ?", (op.state, ref)).rowcount == 0:
        raise _missing(op.name, op.version)
    row = conn.execute(f"SELECT {_VERSION_COLUMNS} FROM schema_versions WHERE ref = ?", (ref,)).fetchone()
    return SchemaWritten(revision, op.name, version=_version(row))


def _users(conn: sqlite3.Connection, ref: str) -> tuple[int, list[str]]:
    count = conn.execute("SELECT count(*) FROM namespaces WHERE schema_ref = ?", (ref,)).fetchone()[0]
    sample = [r[0] for r in conn.execute("SELECT id FROM namespaces WHERE schema_ref = ? ORDER BY id LIMIT 5", (ref,))]
    return count, sample


def _delete(conn: sqlite3.Connection, op: DeleteSchema, revision: int) -> SchemaWritten:
    config = _get_config(conn, op.name)
    if config is None:
        raise _missing(op.name, None)
    live = _live(conn, op.name)
    doomed = [v for v in live if op.version is None or v.version == op.version]
    if op.version is not None and not doomed:
        raise _missing(op.name, op.version)
    doomed_refs = {v.ref for v in doomed}
    for stored in doomed:
        count, sample = _users(conn, stored.ref)
        if count:
            shown = ", ".join(sample) + (" …" if count > len(sample) else "")
            raise SchemaInUse(
                f'version {stored.version} of schema "{op.name}" admitted the current record of {count} '
                f"namespace(s) ({shown}); change or delete them first",
                field="version",
                rule="not-in-use",
                extra={"namespaces": count},
            )
        referrers = [
            r[0]
            for r in conn.execute("SELECT from_ref FROM schema_references WHERE to_ref = ?", (stored.ref,))
            if r[0] not in doomed_refs
        ]
        if referrers:
            raise SchemaInUse(
                f'version {stored.version} of schema "{op.name}" is referenced by {", ".join(sorted(referrers))}',
                field="version",
                rule="not-referenced",
            )
    for stored in doomed:
        conn.execute("DELETE FROM schema_references WHERE from_ref = ?", (stored.ref,))
    for stored in doomed:
        conn.execute("DELETE FROM schema_versions WHERE ref = ?", (stored.ref,))
    if op.version is None:  # the row stays, marked deleted, to keep next_version
        conn.execute(
            "UPDATE schemas SET deleted = 1, compatibility = NULL, revision = ?, updated_by = ? WHERE name = ?",
            (revision, op.subject, op.name),
        )
    return SchemaWritten(revision, op.name, deleted=tuple(v.version for v in doomed))
