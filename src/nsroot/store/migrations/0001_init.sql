-- ns-root schema, version 1.
-- meta: the global revision and the compaction point.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('revision', 0), ('compacted', 0);

-- namespaces: the current record of every live namespace, encoded as JSON.
-- parent is '' for a root so that "children of the roots" uses the same index.
CREATE TABLE namespaces (
    id           TEXT PRIMARY KEY,
    parent       TEXT NOT NULL,
    mod_revision INTEGER NOT NULL,
    doc          BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX namespaces_by_parent ON namespaces (parent, id);

-- history: every version of every namespace; deleted = 1 marks a deletion (doc NULL).
CREATE TABLE history (
    id       TEXT NOT NULL,
    revision INTEGER NOT NULL,
    parent   TEXT NOT NULL,
    deleted  INTEGER NOT NULL,
    doc      BLOB,
    PRIMARY KEY (id, revision)
) WITHOUT ROWID;
CREATE INDEX history_by_revision ON history (revision);
CREATE INDEX history_by_parent ON history (parent, id, revision);
