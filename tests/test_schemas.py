"""The schema registry core, in-process (no HTTP): documents, registration, compatibility,
references, admission of namespace writes, deletion, the report, validation, persistence
across processes, and metrics. Each test proves a sentence of docs/schemas.md on a real
SQLite store; the registries here refuse kinds that name no schema (unlike ``registry``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nsroot import errors
from nsroot.metrics import Metrics
from nsroot.records import Spec
from nsroot.registry import Registry
from nsroot.schemas import documents
from nsroot.schemas.documents import SchemaLimits
from nsroot.schemas.schemaset import SchemaSet
from nsroot.store.sqlite import SQLiteOptions, SQLiteStore

SUBJECT = "user:test"
LIMITS = SchemaLimits()
DRAFT_07 = "http://json-schema.org/draft-07/schema"

SERVICE_V1: dict[str, Any] = {
    "type": "object",
    "properties": {
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "tier": {"enum": ["gold", "silver"]},
        "owner_email": {"type": "string", "format": "email"},
    },
    "required": ["port"],
}
# BACKWARD-compatible with v1: one more enum value (a widening)
SERVICE_V2: dict[str, Any] = {
    **SERVICE_V1,
    "properties": {**SERVICE_V1["properties"], "tier": {"enum": ["gold", "silver", "bronze"]}},
}
# narrower than v1 (registered under NONE where a test needs it)
SERVICE_SMALL_PORTS: dict[str, Any] = {
    **SERVICE_V1,
    "properties": {**SERVICE_V1["properties"], "port": {"type": "integer", "minimum": 1, "maximum": 1000}},
}
COMMON: dict[str, Any] = {
    "$id": "urn:acme:common",
    "$defs": {
        "email": {"type": "string", "format": "email"},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
    },
}


def make_registry(
    path: Path, *, limits: SchemaLimits | None = None, schemaless_kinds: bool = False, exclusive: bool = True
) -> Registry:
    metrics = Metrics()
    store = SQLiteStore(SQLiteOptions(path, exclusive=exclusive))
    schemas = SchemaSet(store, limits=limits, metrics=metrics, schemaless_kinds=schemaless_kinds)
    return Registry(store, metrics=metrics, schemas=schemas)


@pytest.fixture
async def strict_registry(tmp_path: Path) -> AsyncIterator[Registry]:
    async with Registry(SQLiteStore(SQLiteOptions(tmp_path / "x.db"))) as opened:
        yield opened


async def register(registry: Registry, name: str, document: Any) -> int:
    version, _ = await registry.schemas.register(name, document, subject=SUBJECT)
    return version.version


async def snapshot(registry: Registry) -> tuple[int, list[tuple[str, str | None, list[int]]], int]:
    """Everything a refused write must leave as it was: the revision, every schema with
    its mode and versions, and how many namespaces exist."""
    schemas = [
        (s.config.name, s.config.compatibility, [v.version for v in s.versions]) for s in await registry.schemas.list()
    ]
    return await registry.revision(), schemas, (await registry.count())[0]


# --- documents -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "dialect"),
    [
        ({"type": "object"}, "2020-12"),
        ({"$schema": "https://json-schema.org/draft/2020-12/schema"}, "2020-12"),
        ({"$schema": DRAFT_07 + "#"}, "draft-07"),
        ({"$schema": DRAFT_07}, "draft-07"),
        (True, "2020-12"),
        (False, "2020-12"),
    ],
)
def test_dialects_served(document: Any, dialect: str) -> None:
    assert documents.check_document(document, LIMITS) == dialect


@pytest.mark.parametrize(
    "declared",
    ["http://json-schema.org/draft-04/schema#", "https://json-schema.org/draft/2019-09/schema", "garbage", 7],
)
def test_other_dialects_are_refused(declared: Any) -> None:
    with pytest.raises(errors.InvalidSchema) as caught:
        documents.check_document({"$schema": declared}, LIMITS)
    assert (caught.value.rule, caught.value.field) == ("known-dialect", "/schema/$schema")


def test_every_meta_schema_error_is_reported() -> None:
    with pytest.raises(errors.InvalidSchema) as caught:
        documents.check_document({"type": 5, "properties": {"a": {"minimum": "x"}}, "required": "a"}, LIMITS)
    assert caught.value.rule == "meta-schema"
    assert {e.field for e in caught.value.errors} == {
        "/schema/type",
        "/schema/properties/a/minimum",
        "/schema/required",
    }
    assert all(e.schema_path for e in caught.value.errors)
    with pytest.raises(errors.InvalidSchema) as caught:
        documents.check_document({"$schema": DRAFT_07 + "#", "minLength": -1, "items": 3}, LIMITS)
    assert {e.field for e in caught.value.errors} == {"/schema/minLength", "/schema/items"}


@pytest.mark.parametrize("document", [[], "schema", 1, 1.5, None])
def test_a_schema_is_an_object_or_a_boolean(document: Any) -> None:
    with pytest.raises(errors.InvalidSchema) as caught:
        documents.check_document(document, LIMITS)
    assert (caught.value.rule, caught.value.field) == ("type", "/schema")


def test_size_and_depth_limits() -> None:
    small = SchemaLimits(max_schema_bytes=100, max_schema_depth=3)
    with pytest.raises(errors.InvalidSchema) as caught:
        documents.check_document({"description": "x" * 200}, small)
    assert caught.value.rule == "schema-size"
    with pytest.raises(errors.InvalidSchema) as caught:
        documents.check_document({"properties": {"a": {"properties": {"b": {}}}}}, small)
    assert caught.value.rule == "schema-depth"
    assert documents.check_document({"properties": {"a": {"type": "string"}}}, small) == "2020-12"


def test_patterns_run_in_linear_time() -> None:
    validator = documents.compile_validator({"type": "string", "pattern": "^(a+)+$"}, "2020-12", [], LIMITS)
    assert not validator.is_valid("a" * 50_000 + "!")
    assert validator.is_valid("a" * 50_000)


@pytest.mark.parametrize("pattern", ["(?=a)b", "a(?!b)", "(?<=x)y", r"(a)\1"])
def test_backtracking_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(errors.InvalidSchema) as caught:
        documents.compile_validator({"pattern": pattern}, "2020-12", [], LIMITS)
    assert caught.value.rule == "compiles"
    assert "linear time" in caught.value.detail


def test_embedded_ids_and_external_references() -> None:
    document = {
        "$id": "https://example.com/root",
        "$defs": {
            "a": {"$id": "sub", "type": "string"},
            "local": {"$ref": "#/$defs/a"},
            "embedded": {"$ref": "sub"},  # resolves against the root $id: inside the document
            "canonical": {"$ref": "nsroot:schemas/common/1#/$defs/email"},
            "remote": {"$ref": "https://other.example/x.json#/y"},
            "data": {"const": {"$ref": "https://not.a/reference"}},  # data, not a schema
        },
    }
    assert documents.declared_ids(document) == {"https://example.com/root", "https://example.com/sub"}
    found = {(r.pointer, r.uri) for r in documents.external_references(document)}
    assert found == {
        ("/schema/$defs/canonical/$ref", "nsroot:schemas/common/1"),
        ("/schema/$defs/remote/$ref", "https://other.example/x.json"),
    }
    assert documents.parse_canonical_uri("nsroot:schemas/acme.common/12#/$defs/x") == ("acme.common", 12)
    assert documents.parse_canonical_uri("nsroot:schemas/common/0") is None


def test_a_relative_reference_needs_a_base() -> None:
    with pytest.raises(errors.InvalidSchema) as caught:
        documents.external_references({"properties": {"a": {"$ref": "other.json"}}})
    assert (caught.value.rule, caught.value.field) == ("ref-resolvable", "/schema/properties/a/$ref")


# --- registration --------------------------------------------------------------------------------


async def test_versions_count_up_and_an_identical_document_is_not_registered_twice(strict_registry: Registry) -> None:
    first, created = await strict_registry.schemas.register("service", SERVICE_V1, subject=SUBJECT)
    assert (first.version, created, first.uri, first.stored.dialect) == (1, True, "nsroot:schemas/service/1", "2020-12")
    assert first.to_dict()["schema"] == SERVICE_V1
    assert await register(strict_registry, "service", SERVICE_V2) == 2
    assert await register(strict_registry, "service", {**SERVICE_V2, "description": "v3"}) == 3
    before = await snapshot(strict_registry)
    reordered = dict(reversed(list(SERVICE_V1.items())))
    again, created = await strict_registry.schemas.register("service", reordered, subject="user:other")
    assert (again.version, created, again.stored.created_by) == (1, False, SUBJECT)
    assert again.stored.fingerprint == documents.fingerprint(SERVICE_V1)
    assert await snapshot(strict_registry) == before
    seven, _ = await strict_registry.schemas.register("legacy", {"$schema": DRAFT_07 + "#"}, subject=SUBJECT)
    assert seven.stored.dialect == "draft-07"


async def test_version_numbers_are_never_reused_after_deleting_the_latest(strict_registry: Registry) -> None:
    await register(strict_registry, "service", SERVICE_V1)
    await register(strict_registry, "service", SERVICE_V2)
    await strict_registry.schemas.delete("service", 2, subject=SUBJECT)
    with pytest.raises(errors.NotFound) as caught:
        await strict_registry.schemas.version("service", 2)
    assert caught.value.field == "version"
    assert await register(strict_registry, "service", {**SERVICE_V2, "title": "again"}) == 3
    assert [v.version for v in (await strict_registry.schemas.get("service")).versions] == [1, 3]


async def test_version_numbers_are_never_reused_after_deleting_the_schema(strict_registry: Registry) -> None:
    # docs/schemas.md: "A version number is never given out twice, even after a delete."
    await register(strict_registry, "service", SERVICE_V1)
    await strict_registry.schemas.delete("service", None, subject=SUBJECT)
    assert await register(strict_registry, "service", {"type": "object", "title": "another"}) != 1


async def test_max_versions(tmp_path: Path) -> None:
    async with make_registry(tmp_path / "x.db", limits=SchemaLimits(max_versions=2)) as registry:
        await register(registry, "service", SERVICE_V1)
        await register(registry, "service", SERVICE_V2)
        before = await snapshot(registry)
        with pytest.raises(errors.InvalidSchema) as caught:
            await register(registry, "service", {**SERVICE_V2, "title": "three"})
        assert caught.value.rule == "max-versions"
        assert await snapshot(registry) == before
        assert await register(registry, "service", SERVICE_V1) == 1  # idempotent even at the limit
        await registry.schemas.delete("service", 1, subject=SUBJECT)
        assert await register(registry, "service", {**SERVICE_V2, "title": "three"}) == 3


@pytest.mark.parametrize("name", ["Service", "a b", "", "-x", "a..b", "x@1"])
async def test_an_invalid_name_is_refused(strict_registry: Registry, name: str) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        await strict_registry.schemas.register(name, SERVICE_V1, subject=SUBJECT)
    assert (caught.value.field, caught.value.rule) == ("name", "schema-name")
    assert await snapshot(strict_registry) == (0, [], 0)


REFUSED: list[tuple[Any, type[errors.NsRootError], str]] = [
    ({"type": 5}, errors.InvalidSchema, "meta-schema"),
    ({"$schema": "http://json-schema.org/draft-04/schema#"}, errors.InvalidSchema, "known-dialect"),
    ([1, 2], errors.InvalidSchema, "type"),
    ({"description": "x" * (300 * 1024)}, errors.InvalidSchema, "schema-size"),
    ({"pattern": "(?=x)"}, errors.InvalidSchema, "compiles"),
    ({"$ref": "https://example.com/s.json"}, errors.InvalidSchema, "ref-registered"),
    ({"$ref": "nsroot:schemas/service/2"}, errors.InvalidSchema, "ref-acyclic"),
    ({"$ref": "nsroot:schemas/nothing/1"}, errors.InvalidSchema, "ref-exists"),
    ({"$ref": "s.json"}, errors.InvalidSchema, "ref-resolvable"),
    ({**SERVICE_V1, "required": ["port", "tier"]}, errors.IncompatibleSchema, "compatibility"),
]


@pytest.mark.parametrize(("document", "error", "rule"), REFUSED, ids=[r for _, _, r in REFUSED])
async def test_every_refusal_leaves_nothing_stored(
    strict_registry: Registry, document: Any, error: type[errors.NsRootError], rule: str
) -> None:
    await register(strict_registry, "service", SERVICE_V1)
    await strict_registry.create("a", {"kind": "service", "metadata": {"port": 1}}, subject=SUBJECT)
    before = await snapshot(strict_registry)
    for name in ("service", "fresh"):
        if name == "fresh" and error is errors.IncompatibleSchema:
            continue  # a first version has nothing to be incompatible with
        with pytest.raises(error) as caught:
            await register(strict_registry, name, document)
        # for another schema, service's version 2 is merely missing
        assert caught.value.rule == ("ref-exists" if (name, rule) == ("fresh", "ref-acyclic") else rule)
        assert await snapshot(strict_registry) == before


# --- compatibility -------------------------------------------------------------------------------


async def test_backward_refuses_a_new_required_property_until_mode_none(strict_registry: Registry) -> None:
    await register(strict_registry, "service", SERVICE_V1)
    await register(strict_registry, "service", SERVICE_V2)
    breaking = {**SERVICE_V2, "required": ["port", "tier"]}
    before = await snapshot(strict_registry)
    with pytest.raises(errors.IncompatibleSchema) as caught:
        await register(strict_registry, "service", breaking)
    refusal = caught.value
    assert refusal.extra["mode"] == "BACKWARD"
    assert [(b["pointer"], b["rule"], b["version"]) for b in refusal.extra["breaking"]] == [
        ("/properties/tier", "required-added", 2)
    ]
    assert [(e.field, e.rule) for e in refusal.errors] == [("/schema/properties/tier", "required-added")]
    assert await snapshot(strict_registry) == before
    config = (await strict_registry.schemas.configure("service", "NONE", subject=SUBJECT)).config
    assert config.compatibility == "NONE"
    assert await register(strict_registry, "service", breaking) == 3
    await strict_registry.schemas.configure("service", None, subject=SUBJECT)
    assert strict_registry.schemas.mode_of(await strict_registry.schemas.get("service")) == "BACKWARD"


async def test_forward_refuses_widening(strict_registry: Registry) -> None:
    await strict_registry.schemas.configure("service", "FORWARD", subject=SUBJECT)  # before the first version
    await register(strict_registry, "service", SERVICE_V1)
    with pytest.raises(errors.IncompatibleSchema) as caught:
        await register(strict_registry, "service", SERVICE_V2)
    assert [(b["pointer"], b["direction"]) for b in caught.value.extra["breaking"]] == [
        ("/properties/tier/enum", "FORWARD")
    ]
    assert await register(strict_registry, "service", SERVICE_SMALL_PORTS) == 2  # narrowing is fine


async def test_transitive_modes_compare_with_every_version(strict_registry: Registry) -> None:
    await strict_registry.schemas.configure("service", "NONE", subject=SUBJECT)
    await register(strict_registry, "service", SERVICE_V1)
    await register(strict_registry, "service", SERVICE_SMALL_PORTS)  # narrower than v1
    v3 = {**SERVICE_SMALL_PORTS, "title": "v3"}  # compatible with v2, still narrower than v1
    await strict_registry.schemas.configure("service", "BACKWARD_TRANSITIVE", subject=SUBJECT)
    report = await strict_registry.schemas.check("service", v3)
    assert (report.compatible, report.compared_with) == (False, (1, 2))
    with pytest.raises(errors.IncompatibleSchema) as caught:
        await register(strict_registry, "service", v3)
    assert {b["version"] for b in caught.value.extra["breaking"]} == {1}
    await strict_registry.schemas.configure("service", "BACKWARD", subject=SUBJECT)
    report = await strict_registry.schemas.check("service", v3)
    assert (report.compatible, report.compared_with) == (True, (2,))
    assert await register(strict_registry, "service", v3) == 3


async def test_check_is_a_dry_run(strict_registry: Registry) -> None:
    report = await strict_registry.schemas.check("service", SERVICE_V1)
    assert (report.compatible, report.compared_with, report.mode) == (True, (), "BACKWARD")
    await register(strict_registry, "service", SERVICE_V1)
    await register(strict_registry, "service", SERVICE_V2)
    before = await snapshot(strict_registry)
    uses_bronze = {**SERVICE_V2, "required": ["port", "tier"]}
    report = await strict_registry.schemas.check("service", uses_bronze)
    assert not report.compatible
    assert report.to_dict()["breaking"][0]["version"] == 2
    assert (await strict_registry.schemas.check("service", SERVICE_V2)).compatible
    against_one = await strict_registry.schemas.check("service", SERVICE_V1, version=1)
    assert (against_one.compatible, against_one.compared_with) == (True, (1,))
    against_two = await strict_registry.schemas.check("service", SERVICE_V1, version=2)
    assert not against_two.compatible  # v1 lacks "bronze": narrower than v2
    assert [b.against for b in against_two.breaking] == [2]
    with pytest.raises(errors.NotFound):
        await strict_registry.schemas.check("service", SERVICE_V1, version=7)
    with pytest.raises(errors.InvalidSchema):
        await strict_registry.schemas.check("service", {"type": 5})
    assert await snapshot(strict_registry) == before


# --- references ----------------------------------------------------------------------------------


async def test_references_to_registered_schemas(strict_registry: Registry) -> None:
    await register(strict_registry, "common", COMMON)
    document = {
        "type": "object",
        "properties": {
            "owner": {"$ref": "nsroot:schemas/common/1#/$defs/email"},
            "port": {"$ref": "urn:acme:common#/$defs/port"},
        },
    }
    version, _ = await strict_registry.schemas.register("service", document, subject=SUBJECT)
    assert version.stored.references == ("common@1",)
    target, outcomes = await strict_registry.schemas.validate(
        "service", [{"owner": "nobody", "port": 0}, {"owner": "a@example.com", "port": 80}]
    )
    assert target.ref == "service@1"
    assert [o.valid for o in outcomes] == [False, True]
    assert {(e.field, e.rule) for e in outcomes[0].errors} == {("/owner", "format"), ("/port", "minimum")}
    await strict_registry.create("a", {"kind": "service", "metadata": {"port": 80}}, subject=SUBJECT)
    with pytest.raises(errors.SchemaViolation):
        await strict_registry.create("b", {"kind": "service", "metadata": {"port": 70000}}, subject=SUBJECT)
    before = await snapshot(strict_registry)
    for target_version in (1, None):
        with pytest.raises(errors.SchemaInUse) as caught:
            await strict_registry.schemas.delete("common", target_version, subject=SUBJECT)
        assert (caught.value.field, caught.value.rule) == ("version", "not-referenced")
        assert "service@1" in caught.value.detail
    assert await snapshot(strict_registry) == before


@pytest.mark.parametrize(
    ("ref", "rule"),
    [
        ("https://example.com/schemas/port.json", "ref-registered"),
        ("urn:acme:nobody-declares-this", "ref-registered"),
        ("nsroot:schemas/common/2", "ref-exists"),
        ("nsroot:schemas/service/2#/$defs/x", "ref-acyclic"),
        ("nsroot:schemas/service/1", "ref-exists"),  # deleted: numbers below next_version are not cyclic
    ],
)
async def test_reference_refusals(strict_registry: Registry, ref: str, rule: str) -> None:
    await register(strict_registry, "common", COMMON)
    await register(strict_registry, "service", {"title": "deleted"})
    await strict_registry.schemas.delete("service", 1, subject=SUBJECT)
    before = await snapshot(strict_registry)
    with pytest.raises(errors.InvalidSchema) as caught:
        await register(strict_registry, "service", {"properties": {"x": {"$ref": ref}}})
    assert (caught.value.rule, caught.value.field) == (rule, "/schema/properties/x/$ref")
    assert await snapshot(strict_registry) == before


async def test_a_schema_cannot_refer_to_itself_by_an_id_it_declares(strict_registry: Registry) -> None:
    await register(strict_registry, "common", COMMON)
    await strict_registry.schemas.configure("common", "NONE", subject=SUBJECT)
    with pytest.raises(errors.InvalidSchema) as caught:
        await register(strict_registry, "common", {"$ref": "urn:acme:common#/$defs/port"})
    assert caught.value.rule == "ref-acyclic"
    assert "nsroot:schemas/common/1" in caught.value.detail
    # a version that declares the $id itself refers to itself locally: that is allowed
    redeclared = {"$id": "urn:acme:common", "$defs": {"p": {"type": "integer"}}, "$ref": "urn:acme:common#/$defs/p"}
    assert await register(strict_registry, "common", redeclared) == 2
    assert (await strict_registry.schemas.version("common", 2)).stored.references == ()


async def test_an_id_binds_to_the_latest_live_version_declaring_it(tmp_path: Path) -> None:
    # docs/schemas.md: a reference by $id binds "to the latest version declaring it"; after
    # deleting the newest of two versions declaring it, that is the older one, as a reload finds.
    path = tmp_path / "x.db"
    uses_id = {"properties": {"port": {"$ref": "urn:acme:common#/$defs/port"}}}
    async with make_registry(path) as registry:
        await register(registry, "common", COMMON)
        await register(registry, "common", {**COMMON, "title": "v2"})
        await registry.schemas.delete("common", 2, subject=SUBJECT)
        try:
            in_process: object = (await registry.schemas.check("service", uses_id)).compatible
        except errors.InvalidSchema as exc:
            in_process = exc.rule
    async with make_registry(path) as reopened:
        assert (await reopened.schemas.check("service", uses_id)).compatible
        version, _ = await reopened.schemas.register("service", uses_id, subject=SUBJECT)
        assert version.stored.references == ("common@1",)
    assert in_process is True  # the process that deleted common@2 refuses it (ref-registered) until restarted


async def test_deprecating_an_older_version_does_not_rebind_its_id(strict_registry: Registry) -> None:
    await register(strict_registry, "common", COMMON)
    await register(strict_registry, "common", {**COMMON, "title": "v2"})
    await strict_registry.schemas.set_state("common", 1, "deprecated", subject=SUBJECT)
    version, _ = await strict_registry.schemas.register(
        "service", {"properties": {"port": {"$ref": "urn:acme:common#/$defs/port"}}}, subject=SUBJECT
    )
    assert version.stored.references == ("common@2",)  # the latest version declaring the $id


# --- kinds and admission -------------------------------------------------------------------------


async def test_create_with_latest_and_pinned_kinds(strict_registry: Registry) -> None:
    await register(strict_registry, "service", SERVICE_V1)
    await register(strict_registry, "service", SERVICE_V2)
    await strict_registry.create("a", {"kind": "service", "metadata": {"port": 80, "tier": "bronze"}}, subject=SUBJECT)
    await strict_registry.create("b", {"kind": "service@1", "metadata": {"port": 80, "tier": "gold"}}, subject=SUBJECT)
    with pytest.raises(errors.SchemaViolation) as caught:
        await strict_registry.create(
            "c", {"kind": "service@1", "metadata": {"port": 80, "tier": "bronze"}}, subject=SUBJECT
        )
    assert caught.value.extra == {"schema": {"name": "service", "version": 1}}
    await register(strict_registry, "acme.service", {"type": "object"})
    record = await strict_registry.create("d", {"kind": "acme.service@1", "metadata": {"any": []}}, subject=SUBJECT)
    assert record.kind == "acme.service@1"


async def test_invalid_metadata_is_refused_with_every_error(strict_registry: Registry) -> None:
    await register(strict_registry, "service", SERVICE_V1)
    before = await snapshot(strict_registry)
    with pytest.raises(errors.SchemaViolation) as caught:
        await strict_registry.create(
            "a",
            {"kind": "service", "metadata": {"port": 70000, "tier": "platinum", "owner_email": "nope"}},
            subject=SUBJECT,
        )
    refusal = caught.value
    assert {(e.field, e.rule, e.schema_path) for e in refusal.errors} == {
        ("/metadata/port", "maximum", "/properties/port/maximum"),
        ("/metadata/tier", "enum", "/properties/tier/enum"),
        ("/metadata/owner_email", "format", "/properties/owner_email/format"),
    }
    assert (refusal.field, refusal.rule) == (refusal.errors[0].field, refusal.errors[0].rule)
    assert "service@1" in refusal.detail
    with pytest.raises(errors.SchemaViolation) as caught:
        await strict_registry.create("a", {"kind": "service"}, subject=SUBJECT)  # metadata {} lacks "port"
    assert [(e.field, e.rule) for e in caught.value.errors] == [("/metadata", "required")]
    assert await snapshot(strict_registry) == before


async def test_patch_and_replace_are_validated(strict_registry: Registry) -> None:
    await register(strict_registry, "service", SERVICE_V1)
    await strict_registry.create("a", {"kind": "service", "metadata": {"port": 80, "tier": "gold"}}, subject=SUBJECT)
    before = await snapshot(strict_registry)
    with pytest.raises(errors.SchemaViolation) as caught:
        await strict_registry.patch("a", {"metadata": {"port": None}}, subject=SUBJECT)  # removes a required key
    assert caught.value.errors[0].rule == "required"
    with pytest.raises(errors.SchemaViolation):
        await strict_registry.patch("a", {"metadata": {"tier": "tin"}}, subject=SUBJECT)
    with pytest.raises(errors.SchemaViolation):
        await strict_registry.replace("a", {"kind": "service", "metadata": {"port": "80"}}, subject=SUBJECT)
    with pytest.raises(errors.UnknownKind):
        await strict_registry.patch("a", {"kind": "nothing"}, subject=SUBJECT)
    assert await snapshot(strict_registry) == before
    record = await strict_registry.patch("a", {"metadata": {"tier": "silver"}}, subject=SUBJECT)
    assert record.metadata == {"port": 80, "tier": "silver"}
    record = await strict_registry.replace("a", {"kind": "service", "metadata": {"port": 81}}, subject=SUBJECT)
    assert (record.metadata, record.version) == ({"port": 81}, 3)


async def test_kinds_without_a_schema(tmp_path: Path) -> None:
    async with make_registry(tmp_path / "strict.db") as strict:
        await strict.schemas.configure("service", "FULL", subject=SUBJECT)  # a schema with no versions yet
        for kind in ("nothing", "nothing@1", "service", "service@1"):
            with pytest.raises(errors.UnknownKind) as caught:
                await strict.create("a", {"kind": kind}, subject=SUBJECT)
            assert (caught.value.field, caught.value.rule) == ("/kind", "kind-has-schema")
        assert await strict.count() == (0, 1)
    async with make_registry(tmp_path / "lax.db", schemaless_kinds=True) as lax:
        await register(lax, "service", SERVICE_V1)
        record = await lax.create("a", {"kind": "nothing", "metadata": {"anything": [1]}}, subject=SUBJECT)
        assert record.kind == "nothing"
        for kind in ("nothing@1", "service@2"):  # a pin always needs its version
            with pytest.raises(errors.UnknownKind):
                await lax.create("b", {"kind": kind}, subject=SUBJECT)
        with pytest.raises(errors.SchemaViolation):
            await lax.create("b", {"kind": "service", "metadata": {}}, subject=SUBJECT)


async def test_the_latest_version_applies_from_the_next_write_and_pins_hold(strict_registry: Registry) -> None:
    await strict_registry.schemas.configure("service", "NONE", subject=SUBJECT)
    await register(strict_registry, "service", SERVICE_V1)
    await strict_registry.create("a", {"kind": "service", "metadata": {"port": 5000}}, subject=SUBJECT)
    await register(strict_registry, "service", SERVICE_SMALL_PORTS)
    with pytest.raises(errors.SchemaViolation) as caught:
        await strict_registry.create("b", {"kind": "service", "metadata": {"port": 5000}}, subject=SUBJECT)
    assert caught.value.extra["schema"]["version"] == 2
    await strict_registry.create("b", {"kind": "service@1", "metadata": {"port": 5000}}, subject=SUBJECT)
    await strict_registry.patch("b", {"metadata": {"port": 6000}}, subject=SUBJECT)  # still pinned to v1
    with pytest.raises(errors.SchemaViolation):
        await strict_registry.patch("b", {"metadata": {"port": 70000}}, subject=SUBJECT)
    with pytest.raises(errors.SchemaViolation):  # an unpinned patch of an old record meets the latest version
        await strict_registry.patch("a", {"labels": {"x": "y"}}, subject=SUBJECT)


# --- in use, deprecation, deletion ---------------------------------------------------------------


async def test_a_version_in_use_cannot_be_deleted(strict_registry: Registry) -> None:
    await register(strict_registry, "service", SERVICE_V1)
    await strict_registry.create("a", {"kind": "service", "metadata": {"port": 1}}, subject=SUBJECT)
    await strict_registry.create("b", {"kind": "service", "metadata": {"port": 2}}, subject=SUBJECT)
    await register(strict_registry, "service", SERVICE_V2)
    before = await snapshot(strict_registry)
    with pytest.raises(errors.SchemaInUse) as caught:
        await strict_registry.schemas.delete("service", 1, subject=SUBJECT)
    assert (caught.value.field, caught.value.rule, caught.value.extra) == ("version", "not-in-use", {"namespaces": 2})
    assert "a, b" in caught.value.detail
    assert await snapshot(strict_registry) == before
    await strict_registry.replace("a", {"kind": "service", "metadata": {"port": 1}}, subject=SUBJECT)  # now v2's
    await strict_registry.delete("b", subject=SUBJECT)
    written = await strict_registry.schemas.delete("service", 1, subject=SUBJECT)
    assert written.deleted == (1,)
    with pytest.raises(errors.NotFound):
        await strict_registry.schemas.version("service", 1)
    with pytest.raises(errors.UnknownKind):
        await strict_registry.create("c", {"kind": "service@1", "metadata": {"port": 3}}, subject=SUBJECT)
    with pytest.raises(errors.SchemaInUse):
        await strict_registry.schemas.delete("service", None, subject=SUBJECT)  # v2 admitted "a"
    await strict_registry.delete("a", subject=SUBJECT)
    written = await strict_registry.schemas.delete("service", None, subject=SUBJECT)
    assert written.deleted == (2,)
    assert await strict_registry.schemas.list() == []
    for missing in (strict_registry.schemas.get("service"), strict_registry.schemas.version("service", 2)):
        with pytest.raises(errors.NotFound):
            await missing
    with pytest.raises(errors.NotFound):
        await strict_registry.schemas.delete("service", None, subject=SUBJECT)


async def test_deprecation_persists_and_can_be_undone(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    async with make_registry(path) as registry:
        await register(registry, "service", SERVICE_V1)
        await register(registry, "service", SERVICE_V2)
        version, revision = await registry.schemas.set_state("service", 1, "deprecated", subject=SUBJECT)
        assert version.stored.state == "deprecated"
        assert revision == await registry.revision()  # the change took a revision of its own
        assert registry.schemas.deprecated("service@1") == "schema version service@1 is deprecated"
        assert registry.schemas.deprecated("service") is None  # latest is v2
        await registry.create("a", {"kind": "service@1", "metadata": {"port": 1}}, subject=SUBJECT)  # still works
        with pytest.raises(errors.NotFound):
            await registry.schemas.set_state("service", 9, "deprecated", subject=SUBJECT)
    async with make_registry(path) as reopened:
        assert (await reopened.schemas.version("service", 1)).stored.state == "deprecated"
        assert reopened.schemas.deprecated("service@1") is not None
        await reopened.schemas.set_state("service", 1, "active", subject=SUBJECT)
        assert reopened.schemas.deprecated("service@1") is None
    async with make_registry(path) as again:
        assert [v.stored.state for v in (await again.schemas.get("service")).versions] == ["active", "active"]


# --- the report ----------------------------------------------------------------------------------


async def test_the_report_lists_what_a_version_would_break(strict_registry: Registry) -> None:
    await register(strict_registry, "team", {"type": "object"})
    await strict_registry.schemas.configure("service", "NONE", subject=SUBJECT)
    await register(strict_registry, "service", SERVICE_V1)
    for ns_id, kind, port in [("a", "service", 80), ("b", "service", 5000), ("c", "service@1", 6000), ("d", "team", 9)]:
        await strict_registry.create(ns_id, {"kind": kind, "metadata": {"port": port}}, subject=SUBJECT)
    await strict_registry.create("e", {"kind": "team", "metadata": {"port": 99999}}, subject=SUBJECT)
    await register(strict_registry, "service", SERVICE_SMALL_PORTS)
    report = await strict_registry.schema_report("service", "latest")
    assert (report.schema, report.version, report.next_cursor, report.scanned) == ("service", 2, None, 5)
    assert [(f.id, f.kind) for f in report.items] == [("b", "service"), ("c", "service@1")]
    assert report.items[0].to_dict()["errors"] == [
        {
            "instance_path": "/metadata/port",
            "keyword": "maximum",
            "schema_path": "/properties/port/maximum",
            "message": "5000 is greater than the maximum of 1000",
        }
    ]
    assert (await strict_registry.schema_report("service", 1)).items == []
    seen, cursor, pages = [], None, 0
    while True:
        page = await strict_registry.schema_report("service", 2, limit=1, cursor=cursor)
        seen += [f.id for f in page.items]
        pages += 1
        assert page.revision == report.revision
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ["b", "c"]
    assert pages <= 3
    first = await strict_registry.schema_report("service", 2, limit=1)
    assert first.next_cursor is not None
    with pytest.raises(errors.InvalidCursor):
        await strict_registry.schema_report("service", 2, cursor="not-a-cursor")
    with pytest.raises(errors.InvalidCursor):
        await strict_registry.schema_report("service", 1, cursor=first.next_cursor)  # another query's cursor
    with pytest.raises(errors.NotFound):
        await strict_registry.schema_report("service", 9)


# --- validation as a service ---------------------------------------------------------------------


async def test_validate_a_batch(tmp_path: Path) -> None:
    limits = SchemaLimits(max_batch=3, max_document_depth=3)
    async with make_registry(tmp_path / "x.db", limits=limits) as registry:
        await register(registry, "service", SERVICE_V1)
        await register(registry, "service", SERVICE_V2)
        docs = [{"port": 80}, {"port": "eighty", "tier": "bronze"}, {"port": 1, "tier": "bronze"}]
        target, outcomes = await registry.schemas.validate("service", docs)
        assert target.version == 2
        assert [o.valid for o in outcomes] == [True, False, True]
        assert outcomes[1].to_dict()["errors"] == [
            {
                "instance_path": "/port",
                "keyword": "type",
                "schema_path": "/properties/port/type",
                "message": '"eighty" is not of type "integer"',
            }
        ]
        target, outcomes = await registry.schemas.validate("service", docs, version=1)
        assert (target.version, [o.valid for o in outcomes]) == (1, [True, False, False])
        before = await snapshot(registry)
        with pytest.raises(errors.InvalidInput) as caught:
            await registry.schemas.validate("service", [*docs, {}])
        assert (caught.value.rule, caught.value.field) == ("max-batch", "body")
        deep = {"a": {"b": {"c": {}}}}
        with pytest.raises(errors.InvalidInput) as caught:
            await registry.schemas.validate("service", [{}, deep])
        assert (caught.value.rule, caught.value.field) == ("max-depth", "/1")
        with pytest.raises(errors.InvalidInput) as caught:
            await registry.schemas.validate("service", [deep])
        assert caught.value.field == "body"
        assert (await registry.schemas.validate("service", [{"a": {"b": {}}, "port": 2}]))[1][0].valid
        for name, version in (("service", 3), ("nothing", None)):
            with pytest.raises(errors.NotFound):
                await registry.schemas.validate(name, [{}], version=version)
        assert await snapshot(registry) == before


# --- persistence and several processes -----------------------------------------------------------


async def test_reopening_reloads_every_schema(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    async with make_registry(path) as registry:
        await register(registry, "common", COMMON)
        await registry.schemas.configure("service", "FULL_TRANSITIVE", subject=SUBJECT)
        await register(registry, "service", {"properties": {"port": {"$ref": "urn:acme:common#/$defs/port"}}})
        await register(registry, "legacy", {"$schema": DRAFT_07 + "#", "type": "object"})
        await register(registry, "legacy", {"$schema": DRAFT_07 + "#", "type": "object", "title": "2"})
        await registry.schemas.delete("legacy", 1, subject=SUBJECT)
        await registry.schemas.set_state("common", 1, "deprecated", subject=SUBJECT)
        expected = [(s.config, [v.to_dict() for v in s.versions]) for s in await registry.schemas.list()]
        revision = await registry.revision()
    async with make_registry(path) as reopened:
        assert [(s.config, [v.to_dict() for v in s.versions]) for s in await reopened.schemas.list()] == expected
        assert await reopened.revision() == revision
        assert (await reopened.schemas.version("service", 1)).stored.references == ("common@1",)
        with pytest.raises(errors.SchemaViolation):
            await reopened.create("a", {"kind": "service", "metadata": {"port": 0}}, subject=SUBJECT)
        with pytest.raises(errors.SchemaInUse):
            await reopened.schemas.delete("common", 1, subject=SUBJECT)
        assert await register(reopened, "legacy", {"$schema": DRAFT_07 + "#", "type": "object", "title": "3"}) == 3
        with pytest.raises(errors.IncompatibleSchema):  # FULL_TRANSITIVE came back
            await register(reopened, "service", {"properties": {"port": {"type": "string"}}})


async def test_shared_stores_see_each_others_schemas(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    async with (
        make_registry(path, exclusive=False) as one,
        make_registry(path, exclusive=False) as two,
    ):
        await one.schemas.configure("service", "NONE", subject=SUBJECT)
        await register(one, "service", SERVICE_V1)
        await two.create("a", {"kind": "service", "metadata": {"port": 5000}}, subject=SUBJECT)
        await register(one, "service", SERVICE_SMALL_PORTS)
        with pytest.raises(errors.SchemaViolation) as caught:
            await two.create("b", {"kind": "service", "metadata": {"port": 5000}}, subject=SUBJECT)
        assert caught.value.extra["schema"]["version"] == 2
        await one.schemas.set_state("service", 1, "deprecated", subject=SUBJECT)
        await two.schemas.refresh()
        assert two.schemas.deprecated("service@1") is not None
        with pytest.raises(errors.SchemaInUse):  # "a", created through two, was admitted by v1
            await one.schemas.delete("service", 1, subject=SUBJECT)
        await two.delete("a", subject=SUBJECT)
        await one.schemas.delete("service", 1, subject=SUBJECT)
        with pytest.raises(errors.UnknownKind):
            await two.create("c", {"kind": "service@1", "metadata": {"port": 5}}, subject=SUBJECT)


async def test_a_recreated_schema_is_not_validated_with_a_stale_validator(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    async with (
        make_registry(path, exclusive=False) as one,
        make_registry(path, exclusive=False) as two,
    ):
        await register(one, "service", {"properties": {"port": {"type": "integer"}}})
        assert (await two.schemas.validate("service", [{"port": 5}]))[1][0].valid  # two caches its validator
        await one.schemas.delete("service", None, subject=SUBJECT)
        await register(one, "service", {"properties": {"port": {"type": "string"}}})
        assert not (await one.schemas.validate("service", [{"port": 5}]))[1][0].valid
        assert not (await two.schemas.validate("service", [{"port": 5}]))[1][0].valid


# --- metrics -------------------------------------------------------------------------------------


async def test_metrics_count_validations_cache_and_refusals(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    async with make_registry(path) as registry:
        metrics = registry.metrics
        await register(registry, "service", SERVICE_V1)
        await registry.create("a", {"kind": "service", "metadata": {"port": 1}}, subject=SUBJECT)
        await registry.create("b", {"kind": "service", "metadata": {"port": 2}}, subject=SUBJECT)
        with pytest.raises(errors.SchemaViolation):
            await registry.create("c", {"kind": "service", "metadata": {"port": 0}}, subject=SUBJECT)
        assert metrics.schema_validators.value("miss") == 0  # registering compiled it
        assert metrics.schema_validators.value("hit") == 3
        await registry.schemas.validate("service", [{"port": 1}, {}])
        assert metrics.schema_validations.value("service", "valid") == 3
        assert metrics.schema_validations.value("service", "invalid") == 2
        assert metrics.schema_validators.value("hit") > 3
        assert metrics.schema_validators.value("miss") == 0
        with pytest.raises(errors.IncompatibleSchema):
            await register(registry, "service", {**SERVICE_V1, "required": ["port", "tier"]})
        assert metrics.schema_refusals.value("service", "BACKWARD") == 1
        text = metrics.exposition().decode()
        assert "nsroot_schema_compatibility_refusals_total" in text
        assert "nsroot_schema_compile_duration_seconds_count" in text
    async with make_registry(path) as reopened:
        await reopened.create("d", {"kind": "service", "metadata": {"port": 4}}, subject=SUBJECT)
        await reopened.create("e", {"kind": "service", "metadata": {"port": 5}}, subject=SUBJECT)
        assert (reopened.metrics.schema_validators.value("miss"), reopened.metrics.schema_validators.value("hit")) == (
            1,
            1,
        )
        assert reopened.metrics.schema_validations.value("service", "valid") == 2


# --- admission agrees with jsonschema-rs ---------------------------------------------------------

PROPERTY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "tier": {"enum": ["gold", "silver", None]},
        "owner_email": {"type": "string", "format": "email"},
        "name": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$", "maxLength": 6},
        "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True, "maxItems": 2},
    },
    "required": ["port"],
    "additionalProperties": False,
}
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-5, 70_000)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["gold", "silver", "a@example.com", "not an email", "web-1", "Web"])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)
# near misses (values each property may or may not accept) and anything at all: both verdicts are common
near_misses = st.fixed_dictionaries(
    {"port": st.integers(0, 66_000)},
    optional={
        "tier": st.sampled_from(["gold", "silver", None, "bronze"]),
        "owner_email": st.sampled_from(["a@example.com", "x@y.org", "not an email"]),
        "name": st.sampled_from(["web-1", "db", "Web", "abcdefg", "a_b"]),
        "tags": st.lists(st.sampled_from(["a", "b", "c"]), max_size=3),
    },
)
anything = st.dictionaries(
    st.sampled_from(["port", "tier", "owner_email", "name", "tags", "x"]), json_values, max_size=5
)
metadata_objects = near_misses | anything
REFERENCE_VALIDATOR = jsonschema_rs.validator_for(PROPERTY_SCHEMA, validate_formats=True)


@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(metadata=metadata_objects)
async def test_admit_agrees_with_jsonschema_rs(strict_registry: Registry, metadata: dict[str, Any]) -> None:
    if not (await strict_registry.schemas.list()):
        await register(strict_registry, "service", PROPERTY_SCHEMA)
    spec = Spec(kind="service", metadata=metadata)
    if REFERENCE_VALIDATOR.is_valid(metadata):
        assert strict_registry.schemas.admit(spec) == "service@1"
    else:
        with pytest.raises(errors.SchemaViolation) as caught:
            strict_registry.schemas.admit(spec)
        assert caught.value.errors
        assert all(e.field.startswith("/metadata") for e in caught.value.errors)
