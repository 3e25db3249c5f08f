"""Conformance to the official JSON Schema Test Suite, draft 2020-12 and draft-07.

The suite is vendored under ``tests/data/json-schema-test-suite`` (its README says from where and
how to refresh it); ``docs/schema-conformance.md`` explains this file and lists its results.

* ``test_suite``: one test per suite test (file / test case / test). The test case's schema is
  compiled once with ``compile_validator`` exactly as ns-root compiles a registered schema (format
  assertions on, patterns on the linear-time engine, references served only from ``resources``):
  the dialect is the suite folder's, and every document under ``remotes/`` is a resource, under
  the ``http://localhost:1234/<path>`` URI the suite refers to it by. The test checks that
  ``is_valid`` and ``iter_errors`` agree (ns-root reports every error, so both paths must give the
  same verdict) and that the verdict is the suite's ``valid``. A schema that does not compile
  fails every test of its test case.
* ``test_check_document``: ``check_document`` (meta-schema and dialect) accepts the schema of every
  test case in the required (non-optional) files. The suite promises that every schema is valid
  under its draft; draft-07 schemas get ``"$schema"`` added, as ns-root reads a document without
  one as 2020-12.

Known failures are strict xfails with one-line reasons, so a fixed one fails the run until its
entry is removed. They only catch a verdict that differs from the suite's (``SuiteMismatch``);
``is_valid`` and ``iter_errors`` disagreeing is always a plain failure.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from nsroot.errors import InvalidSchema
from nsroot.schemas.documents import Dialect, SchemaLimits, check_document, compile_validator

SUITE = Path(__file__).parent / "data" / "json-schema-test-suite"
DIALECTS: dict[str, Dialect] = {"draft2020-12": "2020-12", "draft7": "draft-07"}
DRAFT_07_URI = "http://json-schema.org/draft-07/schema#"
LIMITS = SchemaLimits()

# --- known failures ------------------------------------------------------------------------------
# Keyed by (file under tests/, test case description, test description). Reviewed one by one:
# each is one of ns-root's deliberate choices, named by its reason. Required (non-optional) files
# are listed too; docs/schema-conformance.md says why each is acceptable.

FORMAT_ASSERTED = (
    "ns-root asserts formats (validate_formats=True); the 2020-12 suite expects format to be only an annotation "
    "by default"
)
REMOTE_DIALECT = (
    "a resource with no $schema is 2020-12 to ns-root (as dialect_of says); the suite expects the remote to take "
    'the draft-07 referrer\'s dialect, where "$id": "#foo" is an anchor'
)

KNOWN_FAILURES: dict[tuple[str, str, str], str] = {
    # draft 2020-12, required: format is an annotation unless asserted; ns-root always asserts it.
    ("draft2020-12/format.json", "email format", "invalid email string is only an annotation by default"): (
        FORMAT_ASSERTED
    ),
    ("draft2020-12/format.json", "idn-email format", "invalid idn-email string is only an annotation by default"): (
        FORMAT_ASSERTED
    ),
    ("draft2020-12/format.json", "regex format", "invalid regex string is only an annotation by default"): (
        FORMAT_ASSERTED
    ),
    ("draft2020-12/format.json", "ipv4 format", "invalid ipv4 string is only an annotation by default"): (
        FORMAT_ASSERTED
    ),
    ("draft2020-12/format.json", "ipv6 format", "invalid ipv6 string is only an annotation by default"): (
        FORMAT_ASSERTED
    ),
    (
        "draft2020-12/format.json",
        "idn-hostname format",
        "invalid idn-hostname string is only an annotation by default",
    ): FORMAT_ASSERTED,
    ("draft2020-12/format.json", "hostname format", "invalid hostname string is only an annotation by default"): (
        FORMAT_ASSERTED
    ),
    ("draft2020-12/format.json", "date format", "invalid date string is only an annotation by default"): (
        FORMAT_ASSERTED
    ),
    ("draft2020-12/format.json", "date-time format", "invalid date-time string is only an annotation by default"): (
        FORMAT_ASSERTED
    ),
    ("draft2020-12/format.json", "time format", "invalid time string is only an annotation by default"): (
        FORMAT_ASSERTED
    ),
    (
        "draft2020-12/format.json",
        "json-pointer format",
        "invalid json-pointer string is only an annotation by default",
    ): FORMAT_ASSERTED,
    (
        "draft2020-12/format.json",
        "relative-json-pointer format",
        "invalid relative-json-pointer string is only an annotation by default",
    ): FORMAT_ASSERTED,
    ("draft2020-12/format.json", "iri format", "invalid iri string is only an annotation by default"): (
        FORMAT_ASSERTED
    ),
    (
        "draft2020-12/format.json",
        "iri-reference format",
        "invalid iri-reference string is only an annotation by default",
    ): FORMAT_ASSERTED,
    ("draft2020-12/format.json", "uri format", "invalid uri string is only an annotation by default"): (
        FORMAT_ASSERTED
    ),
    (
        "draft2020-12/format.json",
        "uri-reference format",
        "invalid uri-reference string is only an annotation by default",
    ): FORMAT_ASSERTED,
    (
        "draft2020-12/format.json",
        "uri-template format",
        "invalid uri-template string is only an annotation by default",
    ): FORMAT_ASSERTED,
    ("draft2020-12/format.json", "uuid format", "invalid uuid string is only an annotation by default"): (
        FORMAT_ASSERTED
    ),
    ("draft2020-12/format.json", "duration format", "invalid duration string is only an annotation by default"): (
        FORMAT_ASSERTED
    ),
    # draft-07, required: remotes/locationIndependentIdentifierPre2019.json declares no $schema.
    ("draft7/refRemote.json", "Location-independent identifier in remote ref", "integer is valid"): REMOTE_DIALECT,
    ("draft7/refRemote.json", "Location-independent identifier in remote ref", "string is invalid"): REMOTE_DIALECT,
}

# Keyed by (file under tests/, test case description): schemas check_document refuses.
KNOWN_CHECK_FAILURES: dict[tuple[str, str], str] = {
    ("draft2020-12/vocabulary.json", "schema that uses custom metaschema with with no validation vocabulary"): (
        "ns-root serves only the standard 2020-12 and draft-07 dialects; a custom meta-schema in $schema is refused"
    ),
    ("draft2020-12/vocabulary.json", "ignore unrecognized optional vocabulary"): (
        "ns-root serves only the standard 2020-12 and draft-07 dialects; a custom meta-schema in $schema is refused"
    ),
}


class SuiteMismatch(AssertionError):
    """ns-root's verdict (or its refusal to compile) differs from the suite's ``valid``."""


# --- the suite -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)  # hashed by identity: compiled once per group
class Group:
    """A suite test case: one schema and its tests."""

    file: str  # under tests/, e.g. "draft7/optional/bignum.json"
    description: str
    schema: Any
    dialect: Dialect
    tests: list[dict[str, Any]]

    @property
    def optional(self) -> bool:
        return "/optional/" in self.file


@dataclass(frozen=True, slots=True)
class Case:
    """A suite test: one instance and its expected verdict."""

    group: Group
    description: str
    data: Any
    valid: bool

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.group.file, self.group.description, self.description)


def _groups() -> Iterator[Group]:
    for folder, dialect in DIALECTS.items():
        for path in sorted((SUITE / "tests" / folder).rglob("*.json")):
            file = path.relative_to(SUITE / "tests").as_posix()
            for group in json.loads(path.read_text(encoding="utf-8")):
                yield Group(file, group["description"], group["schema"], dialect, group["tests"])


GROUPS = list(_groups())
CASES = [Case(group, test["description"], test["data"], test["valid"]) for group in GROUPS for test in group.tests]


def _remotes() -> list[tuple[str, Any]]:
    root = SUITE / "remotes"
    return [
        (f"http://localhost:1234/{path.relative_to(root).as_posix()}", json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(root.rglob("*.json"))
    ]


REMOTES = _remotes()


@cache
def _compiled(group: Group) -> jsonschema_rs.Validator | InvalidSchema:
    """The group's validator, compiled once; or why ns-root refused to compile it."""
    try:
        return compile_validator(group.schema, group.dialect, REMOTES, LIMITS)
    except InvalidSchema as refused:
        return refused


def _case_param(case: Case) -> Any:
    reason = KNOWN_FAILURES.get(case.key)
    marks = [pytest.mark.xfail(raises=SuiteMismatch, strict=True, reason=reason)] if reason else []
    return pytest.param(case, id="::".join(case.key), marks=marks)


def _group_param(group: Group) -> Any:
    reason = KNOWN_CHECK_FAILURES.get((group.file, group.description))
    marks = [pytest.mark.xfail(raises=InvalidSchema, strict=True, reason=reason)] if reason else []
    return pytest.param(group, id=f"{group.file}::{group.description}", marks=marks)


# --- tests -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", [_case_param(case) for case in CASES])
def test_suite(case: Case) -> None:
    validator = _compiled(case.group)
    if isinstance(validator, InvalidSchema):
        raise SuiteMismatch(f"ns-root refused the schema: {validator}")
    verdict = validator.is_valid(case.data)
    errors = list(validator.iter_errors(case.data))
    assert verdict is (not errors), f"is_valid() says {verdict} but iter_errors() gives {errors!r}"
    if verdict is not case.valid:
        raise SuiteMismatch(f"expected valid={case.valid}, got {verdict}; errors: {[e.message for e in errors]}")


@pytest.mark.parametrize("group", [_group_param(group) for group in GROUPS if not group.optional])
def test_check_document(group: Group) -> None:
    document = group.schema
    if group.dialect == "draft-07" and isinstance(document, dict) and "$schema" not in document:
        document = {"$schema": DRAFT_07_URI, **document}
    dialect = check_document(document, LIMITS)
    assert dialect == (group.dialect if isinstance(document, dict) else "2020-12")


def test_suite_is_vendored() -> None:
    """Both dialects' folders, required and optional, and the remotes are there."""
    assert (SUITE / "LICENSE").is_file()
    for folder in DIALECTS:
        files = {group.file for group in GROUPS if group.file.startswith(folder + "/")}
        assert f"{folder}/ref.json" in files
        assert f"{folder}/refRemote.json" in files
        assert f"{folder}/optional/format/email.json" in files
    assert any(uri.endswith("/draft2020-12/subSchemas.json") for uri, _ in REMOTES)


def test_known_failures_name_suite_tests() -> None:
    """Every known failure names a test that exists (a refreshed suite may rename one)."""
    assert set(KNOWN_FAILURES) <= {case.key for case in CASES}
    required = {(group.file, group.description) for group in GROUPS if not group.optional}
    assert set(KNOWN_CHECK_FAILURES) <= required
