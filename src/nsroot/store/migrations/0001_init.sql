-- ns-root schema, version 1.
-- meta: the global revision and the compaction point.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('revision', 0), ('compacted', 0);

-- history: every version of every namespace, in commit order; deleted = 1 marks a
-- deletion (doc NULL). Keyed by an append-only sequence so that a commit writes to the
-- end of the table instead of dirtying pages all over it; looked up by (id, revision).
CREATE TABLE history (
    seq      INTEGER PRIMARY KEY,
    id       TEXT NOT NULL,
    revision INTEGER NOT NULL,
    parent   TEXT NOT NULL,
    deleted  INTEGER NOT NULL,
    doc      BLOB
);
CREATE UNIQUE INDEX history_by_id ON history (id, revision);
-- No index by parent: a past listing of children scans its parent's id range instead,
-- which spares every write one more index insert.

-- namespaces: the live namespaces; (id, mod_revision) finds the history row holding the
-- current record (stored once). parent is '' for a root, so "children of the roots" uses
-- the index.
CREATE TABLE namespaces (
    id           TEXT PRIMARY KEY,
    parent       TEXT NOT NULL,
    mod_revision INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX namespaces_by_parent ON namespaces (parent, id);
