-- ns-root schema, version 2: the schema registry.
-- meta 'schemas': the revision of the last schema change, so that each process can tell
-- cheaply whether the schemas it holds in memory are current.
INSERT INTO meta (key, value) VALUES ('schemas', 0);

-- schemas: one row per schema name; compatibility NULL means the registry-wide default.
-- next_version only grows: a deleted version's number is never given out again, so a
-- version number names one document forever (and a cached validator can never be stale).
-- Deleting a whole schema marks its row deleted rather than removing it, to keep that.
CREATE TABLE schemas (
    name          TEXT PRIMARY KEY,
    compatibility TEXT,
    next_version  INTEGER NOT NULL,
    revision      INTEGER NOT NULL,
    updated_by    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    deleted       INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- schema_versions: the live versions, immutable but for state. ref is "<name>@<version>".
CREATE TABLE schema_versions (
    ref         TEXT PRIMARY KEY,
    name        TEXT NOT NULL REFERENCES schemas (name),
    version     INTEGER NOT NULL,
    document    BLOB NOT NULL,
    fingerprint TEXT NOT NULL,
    dialect     TEXT NOT NULL,
    refs        TEXT NOT NULL,
    state       TEXT NOT NULL,
    revision    INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX schema_versions_by_name ON schema_versions (name, version);

-- schema_references: which version references which; a referenced version cannot be deleted.
CREATE TABLE schema_references (
    to_ref   TEXT NOT NULL REFERENCES schema_versions (ref),
    from_ref TEXT NOT NULL REFERENCES schema_versions (ref),
    PRIMARY KEY (to_ref, from_ref)
) WITHOUT ROWID;
CREATE INDEX schema_references_from ON schema_references (from_ref);

-- namespaces.schema_ref: the version that admitted the current record (NULL: schemaless).
-- The foreign key makes "admitted by a version deleted meanwhile" impossible. There is
-- deliberately no index on it: one cost every validated create about 3 us, as much as
-- admitting the metadata (docs/benchmarks.md), while its only readers are schema
-- deletes, which are rare and scan the table on the commit thread instead.
ALTER TABLE namespaces ADD COLUMN schema_ref TEXT REFERENCES schema_versions (ref);
