"""The OpenAPI 3.1 document of the HTTP API.

Written out by hand, next to the handlers it describes; ``tests/test_openapi.py`` drives
every route through the real app and fails if a route, method or status code the app
answers with is missing here, or if a documented one is not served.
"""

from __future__ import annotations

from typing import Any, Final

from nsroot import __version__
from nsroot.records import STATES

_ID_PATTERN: Final = r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z]([a-z0-9-]{0,61}[a-z0-9])?)*$"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _ref("Problem")}},
    }


_REVISION_HEADER: Final = {
    "Nsroot-Revision": {
        "description": "The store revision this response reflects (for a write, the revision it committed at).",
        "schema": {"type": "integer"},
    }
}
_RECORD_HEADERS: Final = {
    **_REVISION_HEADER,
    "ETag": {"description": "The record's mod_revision, quoted.", "schema": {"type": "string"}},
}

_P400 = _problem("Invalid input: the problem names the field or parameter and the rule.")
_P404 = _problem("No such namespace.")
_P409 = _problem("Conflict: already exists, expected revision differs, or the namespace has children.")
_P410 = _problem("The revision asked for has been compacted.")
_P412 = _problem("If-Match or If-None-Match did not hold.")
_P413 = _problem("Request body too large.")
_P415 = _problem("Unsupported Content-Type.")
_P422 = _problem(
    "The parent does not exist, the kind names no schema (unknown-kind), or the metadata fails the kind's "
    "schema (schema-violation, with every error)."
)
_P503 = _problem("Storage unavailable.")


def _param(name: str, where: str, schema: dict[str, Any], description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "schema": schema, "description": description}


_ID = _param("id", "path", {"type": "string", "pattern": _ID_PATTERN}, "Namespace id, e.g. platform.registry", True)
_IF_MATCH = _param(
    "If-Match", "header", {"type": "string"}, 'Write only if the ETag (mod_revision) matches, e.g. "12".'
)
_LIMIT = _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 1000}, "Page size (default 100).")
_CURSOR = _param("cursor", "query", {"type": "string"}, "next_cursor of the previous page.")
_REVISION = _param("revision", "query", {"type": "integer", "minimum": 1}, "Read as of this revision.")


def _schemas() -> dict[str, Any]:
    string_map = {"type": ["object", "null"], "additionalProperties": {"type": "string"}}
    # Every optional field may be null, which means its default.
    spec_properties: dict[str, Any] = {
        "kind": {"type": "string", "maxLength": 253, "description": "What the namespace is (e.g. service, team)."},
        "owner": {
            "type": ["string", "null"],
            "maxLength": 253,
            "description": "The owning subject, e.g. team:platform; defaults to the creator.",
        },
        "state": {"enum": [*STATES, None], "default": "active"},
        "labels": {**string_map, "description": "Kubernetes-syntax labels, matched by selectors."},
        "annotations": {**string_map, "description": "Free-form strings."},
        "metadata": {"type": ["object", "null"], "description": "Any JSON object."},
    }
    # In a merge patch, null removes a member, at any depth (RFC 7396).
    patch_map = {"type": ["object", "null"], "additionalProperties": {"type": ["string", "null"]}}
    patch_properties: dict[str, Any] = {
        **spec_properties,
        "labels": {**patch_map, "description": "Labels to set; a null value removes that label."},
        "annotations": {**patch_map, "description": "Annotations to set; a null value removes one."},
        "metadata": {"type": ["object", "null"], "description": "Merged into the metadata (RFC 7396)."},
    }
    system: dict[str, Any] = {
        "id": {"type": "string"},
        "parent": {"type": ["string", "null"]},
        "create_revision": {"type": "integer"},
        "mod_revision": {"type": "integer"},
        "version": {"type": "integer"},
        "created_at": {"type": "string", "format": "date-time"},
        "created_by": {"type": "string"},
        "updated_at": {"type": "string", "format": "date-time"},
        "updated_by": {"type": "string"},
    }
    return {
        "Namespace": {
            "type": "object",
            "properties": {**system, **spec_properties},
            "required": [*system, *spec_properties],
            "additionalProperties": False,
        },
        "NamespaceCreate": {
            "type": "object",
            "properties": {"id": {"type": "string", "pattern": _ID_PATTERN, "maxLength": 253}, **spec_properties},
            "required": ["id", "kind"],
            "additionalProperties": False,
        },
        "NamespaceReplace": {
            "type": "object",
            "description": "The spec; the system fields of a GET answer may be sent back (mod_revision then "
            "acts as the expected revision).",
            "properties": {**spec_properties, **system},
            "required": ["kind"],
            "additionalProperties": False,
        },
        "NamespacePatch": {
            "type": "object",
            "description": "An RFC 7396 JSON merge patch of the spec; mod_revision, if given, must match.",
            "properties": {**patch_properties, "mod_revision": {"type": "integer"}},
            "additionalProperties": False,
        },
        "Page": {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": _ref("Namespace")},
                "next_cursor": {"type": ["string", "null"]},
                "revision": {"type": "integer"},
            },
            "required": ["items", "next_cursor", "revision"],
        },
        "Count": {
            "type": "object",
            "properties": {"count": {"type": "integer"}, "revision": {"type": "integer"}},
            "required": ["count", "revision"],
        },
        "History": {
            "type": "object",
            "properties": {
                "items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "revision": {"type": "integer"},
                            "event": {"type": "string", "enum": ["create", "update", "delete"]},
                            "namespace": {"oneOf": [_ref("Namespace"), {"type": "null"}]},
                        },
                        "required": ["revision", "event", "namespace"],
                    },
                },
                "next_cursor": {"type": ["string", "null"]},
                "revision": {"type": "integer"},
            },
            "required": ["items", "next_cursor", "revision"],
        },
        "Deleted": {
            "type": "object",
            "properties": {"deleted": {"type": "array", "items": {"type": "string"}}, "revision": {"type": "integer"}},
            "required": ["deleted", "revision"],
        },
        "Revision": {
            "type": "object",
            "properties": {"revision": {"type": "integer"}, "compacted_revision": {"type": "integer"}},
            "required": ["revision", "compacted_revision"],
        },
        "Compaction": {
            "type": "object",
            "properties": {
                "revision": {"type": "integer"},
                "compacted_revision": {"type": "integer"},
                "dropped": {"type": "integer"},
            },
            "required": ["revision", "compacted_revision", "dropped"],
        },
        "Status": {"type": "object", "properties": {"status": {"type": "string"}}, "required": ["status"]},
        "Problem": {
            "type": "object",
            "description": "RFC 9457 problem details.",
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "instance": {"type": "string"},
                "field": {"type": "string", "description": "JSON pointer into the body, or a parameter name."},
                "rule": {"type": "string"},
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "field": {"type": "string"},
                            "rule": {"type": "string"},
                            "detail": {"type": "string"},
                            "schema_path": {"type": "string", "description": "For a schema violation."},
                        },
                        "required": ["field", "rule", "detail"],
                    },
                },
            },
            "required": ["type", "title", "status", "detail"],
        },
    }


def _body(name: str, *media: str) -> dict[str, Any]:
    return {"required": True, "content": {m: {"schema": _ref(name)} for m in (media or ("application/json",))}}


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document, as a plain dict."""
    namespace_ok = _json(_ref("Namespace"), "The namespace.", _RECORD_HEADERS)
    created = _json(_ref("Namespace"), "Created.", {**_RECORD_HEADERS, "Location": {"schema": {"type": "string"}}})
    paths: dict[str, Any] = {
        "/v1/namespaces": {
            "get": {
                "operationId": "listNamespaces",
                "summary": "List namespaces (a consistent snapshot across pages), or count them.",
                "parameters": [
                    _param("prefix", "query", {"type": "string"}, "A namespace and all its descendants."),
                    _param("children_of", "query", {"type": "string"}, "Direct children only; empty for the roots."),
                    _param("selector", "query", {"type": "string"}, "Kubernetes label selector, e.g. tier in (a,b)."),
                    _LIMIT,
                    _CURSOR,
                    _REVISION,
                    _param("count_only", "query", {"type": "boolean"}, "Answer {count, revision} only."),
                ],
                "responses": {
                    "200": _json({"oneOf": [_ref("Page"), _ref("Count")]}, "A page, or a count.", _REVISION_HEADER),
                    "400": _P400,
                    "410": _P410,
                    "503": _P503,
                },
            },
            "post": {
                "operationId": "createNamespace",
                "summary": "Create a namespace; its parent must exist.",
                "requestBody": _body("NamespaceCreate"),
                "responses": {
                    "201": created,
                    "400": _P400,
                    "409": _P409,
                    "413": _P413,
                    "415": _P415,
                    "422": _P422,
                    "503": _P503,
                },
            },
        },
        "/v1/namespaces/{id}": {
            "parameters": [_ID],
            "get": {
                "operationId": "getNamespace",
                "summary": "Read a namespace, now or at a revision.",
                "parameters": [
                    _REVISION,
                    _param("If-None-Match", "header", {"type": "string"}, "Answer 304 if the ETag still matches."),
                ],
                "responses": {
                    "200": namespace_ok,
                    "304": {"description": "Not modified.", "headers": _RECORD_HEADERS},
                    "400": _P400,
                    "404": _P404,
                    "410": _P410,
                    "503": _P503,
                },
            },
            "put": {
                "operationId": "replaceNamespace",
                "summary": "Replace a namespace's spec, or create it if missing.",
                "parameters": [
                    _IF_MATCH,
                    _param("If-None-Match", "header", {"type": "string", "enum": ["*"]}, "Create only."),
                ],
                "requestBody": _body("NamespaceReplace"),
                "responses": {
                    "200": namespace_ok,
                    "201": created,
                    "400": _P400,
                    "404": _P404,
                    "409": _P409,
                    "412": _P412,
                    "413": _P413,
                    "415": _P415,
                    "422": _P422,
                    "503": _P503,
                },
            },
            "patch": {
                "operationId": "patchNamespace",
                "summary": "Apply an RFC 7396 JSON merge patch to the spec.",
                "parameters": [_IF_MATCH],
                "requestBody": _body("NamespacePatch", "application/merge-patch+json", "application/json"),
                "responses": {
                    "200": namespace_ok,
                    "400": _P400,
                    "404": _P404,
                    "409": _P409,
                    "412": _P412,
                    "413": _P413,
                    "415": _P415,
                    "422": _P422,
                    "503": _P503,
                },
            },
            "delete": {
                "operationId": "deleteNamespace",
                "summary": "Delete a leaf, or a whole subtree with recursive=true, at one revision.",
                "parameters": [
                    _IF_MATCH,
                    _param("recursive", "query", {"type": "boolean"}, "Delete the subtree too."),
                ],
                "responses": {
                    "200": _json(_ref("Deleted"), "Deleted.", _REVISION_HEADER),
                    "400": _P400,
                    "404": _P404,
                    "409": _P409,
                    "412": _P412,
                    "503": _P503,
                },
            },
        },
        "/v1/namespaces/{id}/history": {
            "parameters": [_ID],
            "get": {
                "operationId": "namespaceHistory",
                "summary": "Every kept version of a namespace, oldest first.",
                "parameters": [_LIMIT, _CURSOR],
                "responses": {
                    "200": _json(_ref("History"), "Versions.", _REVISION_HEADER),
                    "400": _P400,
                    "404": _P404,
                    "503": _P503,
                },
            },
        },
        "/v1/revision": {
            "get": {
                "operationId": "getRevision",
                "summary": "The current and the compacted revision.",
                "responses": {
                    "200": _json(_ref("Revision"), "Revisions.", _REVISION_HEADER),
                    "400": _P400,
                    "503": _P503,
                },
            }
        },
        "/v1/compaction": {
            "post": {
                "operationId": "compact",
                "summary": "Forget history older than a revision.",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"revision": {"type": "integer", "minimum": 1}},
                                "required": ["revision"],
                                "additionalProperties": False,
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json(_ref("Compaction"), "Compacted.", _REVISION_HEADER),
                    "400": _P400,
                    "413": _P413,
                    "415": _P415,
                    "503": _P503,
                },
            }
        },
        **schema_paths(),
        "/healthz": {
            "get": {
                "operationId": "healthz",
                "summary": "The process is alive.",
                "responses": {"200": _json(_ref("Status"), "Alive.")},
            }
        },
        "/readyz": {
            "get": {
                "operationId": "readyz",
                "summary": "Storage answers.",
                "responses": {"200": _json(_ref("Status"), "Ready."), "503": _P503},
            }
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "summary": "Prometheus metrics.",
                "responses": {
                    "200": {
                        "description": "Text exposition format.",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document.",
                "responses": {"200": _json({"type": "object"}, "The OpenAPI document.")},
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ns-root",
            "version": __version__,
            "description": "Namespace registry: hierarchical namespaces with revisions and history, whose "
            "metadata is validated against versioned JSON Schemas.",
        },
        "paths": paths,
        "components": {"schemas": {**_schemas(), **schema_components()}},
    }


# -- the schema registry ---------------------------------------------------------------

_S404 = _problem("No such schema or version.")
_S409 = _problem("Incompatible with the schema's compatibility mode (every breaking change listed), or in use.")
_S422 = _problem("Not a valid JSON Schema (meta-schema errors), an unknown dialect, or a bad $ref.")
_NAME = _param("name", "path", {"type": "string", "pattern": _ID_PATTERN}, "Schema name, e.g. service", True)
_VERSION = _param(
    "version", "path", {"oneOf": [{"type": "integer", "minimum": 1}, {"const": "latest"}]}, "A version or latest", True
)
_VERSION_QUERY = _param("version", "query", {"type": "integer", "minimum": 1}, "A version (default: latest).")
_MODES: Final = ["NONE", "BACKWARD", "FORWARD", "FULL", "BACKWARD_TRANSITIVE", "FORWARD_TRANSITIVE", "FULL_TRANSITIVE"]


def schema_components() -> dict[str, Any]:
    violation = {
        "type": "object",
        "properties": {
            "instance_path": {"type": "string", "description": "JSON pointer into the document."},
            "keyword": {"type": "string"},
            "schema_path": {"type": "string", "description": "JSON pointer into the schema."},
            "message": {"type": "string"},
        },
        "required": ["instance_path", "keyword", "schema_path", "message"],
    }
    outcome: dict[str, Any] = {
        "type": "object",
        "properties": {"valid": {"type": "boolean"}, "errors": {"type": "array", "items": violation}},
        "required": ["valid", "errors"],
    }
    schema_ref = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "version": {"type": "integer"}},
        "required": ["name", "version"],
    }
    version_fields: dict[str, Any] = {
        "name": {"type": "string"},
        "version": {"type": "integer"},
        "uri": {"type": "string", "description": "What other schemas $ref it by: nsroot:schemas/<name>/<version>."},
        "state": {"enum": ["active", "deprecated"]},
        "dialect": {"enum": ["2020-12", "draft-07"]},
        "fingerprint": {"type": "string", "description": "SHA-256 of the canonical JSON of the document."},
        "references": {"type": "array", "items": {"type": "string"}},
        "revision": {"type": "integer"},
        "created_by": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
    }
    return {
        "SchemaDocument": {
            "type": "object",
            "properties": {"schema": {"type": ["object", "boolean"], "description": "A JSON Schema."}},
            "required": ["schema"],
            "additionalProperties": False,
        },
        "SchemaVersion": {
            "type": "object",
            "properties": {**version_fields, "schema": {"type": ["object", "boolean"]}},
            "required": [*version_fields, "schema"],
        },
        "SchemaVersions": {
            "type": "object",
            "properties": {"items": {"type": "array", "items": {"type": "object", "properties": version_fields}}},
            "required": ["items"],
        },
        "Schema": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "compatibility": {"enum": _MODES},
                "compatibility_inherited": {"type": "boolean"},
                "latest_version": {"type": ["integer", "null"]},
                "versions": {"type": "array", "items": {"type": "integer"}},
                "revision": {"type": "integer"},
            },
            "required": ["name", "compatibility", "compatibility_inherited", "latest_version", "versions"],
        },
        "Schemas": {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": _ref("Schema")},
                "default_compatibility": {"enum": _MODES},
            },
            "required": ["items", "default_compatibility"],
        },
        "SchemaConfig": {
            "type": "object",
            "properties": {"compatibility": {"enum": [*_MODES, None]}},
            "required": ["compatibility"],
            "additionalProperties": False,
        },
        "SchemaState": {
            "type": "object",
            "properties": {"state": {"enum": ["active", "deprecated"]}},
            "required": ["state"],
            "additionalProperties": False,
        },
        "SchemaDeleted": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "deleted": {"type": "array", "items": {"type": "integer"}},
                "revision": {"type": "integer"},
            },
            "required": ["name", "deleted", "revision"],
        },
        "Compatibility": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "compatible": {"type": "boolean"},
                "mode": {"enum": _MODES},
                "compared_with": {"type": "array", "items": {"type": "integer"}},
                "breaking": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "pointer": {"type": "string"},
                            "change": {"type": "string"},
                            "rule": {"type": "string"},
                            "mode": {"type": "string"},
                            "direction": {
                                "enum": ["BACKWARD", "FORWARD"],
                                "description": "Which guarantee it breaks: BACKWARD (narrowing) or FORWARD (widening).",
                            },
                            "version": {"type": "integer"},
                            "message": {"type": "string"},
                        },
                        "required": ["pointer", "change", "rule", "mode", "direction", "version", "message"],
                    },
                },
            },
            "required": ["name", "compatible", "mode", "compared_with", "breaking"],
        },
        "Validation": {
            "oneOf": [
                {**outcome, "properties": {**outcome["properties"], "schema": schema_ref}},
                {
                    "type": "object",
                    "properties": {
                        "schema": schema_ref,
                        "valid": {"type": "boolean"},
                        "invalid_count": {"type": "integer"},
                        "results": {"type": "array", "items": outcome},
                    },
                    "required": ["schema", "valid", "invalid_count", "results"],
                },
            ]
        },
        "SchemaReport": {
            "type": "object",
            "properties": {
                "schema": schema_ref,
                "items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "string"},
                            "kind": {"type": "string"},
                            "mod_revision": {"type": "integer"},
                            "errors": {"type": "array", "items": violation},
                        },
                        "required": ["id", "kind", "mod_revision", "errors"],
                    },
                },
                "scanned": {"type": "integer"},
                "next_cursor": {"type": ["string", "null"]},
                "revision": {"type": "integer"},
            },
            "required": ["schema", "items", "scanned", "next_cursor", "revision"],
        },
    }


def schema_paths() -> dict[str, Any]:
    version_ok = _json(
        _ref("SchemaVersion"), "The version.", {**_REVISION_HEADER, "ETag": {"schema": {"type": "string"}}}
    )
    schema_ok = _json(_ref("Schema"), "The schema and its settings.")
    deleted = _json(_ref("SchemaDeleted"), "Deleted.")
    reads = {"400": _P400, "404": _S404, "503": _P503}
    return {
        "/v1/schemas": {
            "get": {
                "operationId": "listSchemas",
                "summary": "Every schema, with its versions and compatibility mode.",
                "responses": {"200": _json(_ref("Schemas"), "Schemas."), "400": _P400, "503": _P503},
            }
        },
        "/v1/schemas/{name}": {
            "parameters": [_NAME],
            "get": {
                "operationId": "getSchema",
                "summary": "A schema's versions and settings.",
                "responses": {"200": schema_ok, **reads},
            },
            "delete": {
                "operationId": "deleteSchema",
                "summary": "Delete a schema and all its versions (refused while any is in use).",
                "responses": {"200": deleted, **reads, "409": _S409},
            },
        },
        "/v1/schemas/{name}/versions": {
            "parameters": [_NAME],
            "get": {
                "operationId": "listSchemaVersions",
                "summary": "The live versions of a schema, oldest first (without documents).",
                "responses": {"200": _json(_ref("SchemaVersions"), "Versions."), **reads},
            },
            "post": {
                "operationId": "registerSchemaVersion",
                "summary": "Register the next version; an identical live version is returned as it is (200).",
                "requestBody": _body("SchemaDocument"),
                "responses": {
                    "200": version_ok,
                    "201": {**version_ok, "description": "Registered."},
                    "400": _P400,
                    "409": _S409,
                    "413": _P413,
                    "415": _P415,
                    "422": _S422,
                    "503": _P503,
                },
            },
        },
        "/v1/schemas/{name}/versions/{version}": {
            "parameters": [_NAME, _VERSION],
            "get": {
                "operationId": "getSchemaVersion",
                "summary": "One version, with its document.",
                "responses": {"200": version_ok, **reads},
            },
            "patch": {
                "operationId": "setSchemaVersionState",
                "summary": "Deprecate a version, or make it active again.",
                "requestBody": _body("SchemaState", "application/merge-patch+json", "application/json"),
                "responses": {"200": version_ok, **reads, "413": _P413, "415": _P415},
            },
            "delete": {
                "operationId": "deleteSchemaVersion",
                "summary": "Delete a version (refused while a namespace or another version uses it).",
                "responses": {"200": deleted, **reads, "409": _S409},
            },
        },
        "/v1/schemas/{name}/versions/{version}/report": {
            "parameters": [_NAME, _VERSION],
            "get": {
                "operationId": "schemaReport",
                "summary": "The namespaces of this kind whose current metadata fails this version.",
                "parameters": [_LIMIT, _CURSOR],
                "responses": {
                    "200": _json(_ref("SchemaReport"), "A page of failing namespaces.", _REVISION_HEADER),
                    **reads,
                    "410": _P410,
                },
            },
        },
        "/v1/schemas/{name}/config": {
            "parameters": [_NAME],
            "get": {
                "operationId": "getSchemaConfig",
                "summary": "The compatibility mode in effect.",
                "responses": {"200": schema_ok, **reads},
            },
            "put": {
                "operationId": "setSchemaConfig",
                "summary": "Set the compatibility mode (null: the registry default); creates the schema if need be.",
                "requestBody": _body("SchemaConfig"),
                "responses": {"200": schema_ok, "400": _P400, "413": _P413, "415": _P415, "503": _P503},
            },
        },
        "/v1/schemas/{name}/compatibility": {
            "parameters": [_NAME],
            "post": {
                "operationId": "checkSchemaCompatibility",
                "summary": "Dry run: would this document be accepted as the next version (or match one version)?",
                "parameters": [_VERSION_QUERY],
                "requestBody": _body("SchemaDocument"),
                "responses": {
                    "200": _json(_ref("Compatibility"), "The verdict, with every breaking change."),
                    **reads,
                    "413": _P413,
                    "415": _P415,
                    "422": _S422,
                },
            },
        },
        "/v1/schemas/{name}/validate": {
            "parameters": [_NAME],
            "post": {
                "operationId": "validate",
                "summary": "Validate one document, or each document of an array, against a schema version.",
                "parameters": [_VERSION_QUERY],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {}}}},
                "responses": {
                    "200": _json(_ref("Validation"), "Per document: valid, and every error."),
                    **reads,
                    "413": _P413,
                    "415": _P415,
                },
            },
        },
    }
