"""The schema compatibility checker (nsroot.schemas.compat).

Every rule has a row in ``RULES``; each row is checked old→new and new→old (which swaps
narrowing and widening and mirrors the rule), and under every mode. Then: messages,
pointers, ``check`` with transitive modes, and properties for random schemas (identity,
symmetry, and soundness against the validator ns-root uses).
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nsroot.schemas.compat import MODES, Breaking, Difference, Mode, check, differences

D7 = "http://json-schema.org/draft-07/schema#"

# rule -> the rule the same change reads as when old and new are swapped
MIRROR: dict[str, str] = {}
for _a, _b in [
    ("type-narrowed", "type-widened"),
    ("type-changed", "type-changed"),
    ("enum-value-removed", "enum-value-added"),
    ("enum-added", "enum-removed"),
    ("const-added", "const-removed"),
    ("const-changed", "const-changed"),
    ("bound-tightened", "bound-loosened"),
    ("multiple-of-added", "multiple-of-removed"),
    ("multiple-of-narrowed", "multiple-of-widened"),
    ("multiple-of-changed", "multiple-of-changed"),
    *[(f"{s}-added", f"{s}-removed") for s in ("pattern", "format", "content-encoding", "content-media-type")],
    *[(f"{s}-changed", f"{s}-changed") for s in ("pattern", "format", "content-encoding", "content-media-type")],
    ("unique-items-added", "unique-items-removed"),
    ("required-added", "required-removed"),
    ("dependent-required-added", "dependent-required-removed"),
    ("dependent-schema-added", "dependent-schema-removed"),
    ("property-added", "property-removed"),
    ("property-added-to-closed", "property-removed-from-closed"),
    ("pattern-property-added", "pattern-property-removed"),
    ("pattern-property-added-to-closed", "pattern-property-removed-from-closed"),
    ("item-added", "item-removed"),
    ("item-added-to-closed", "item-removed-from-closed"),
    ("became-false", "no-longer-false"),
    ("contains-added", "contains-removed"),
    ("all-of-branch-added", "all-of-branch-removed"),
    ("any-of-added", "any-of-removed"),
    ("any-of-branch-added", "any-of-branch-removed"),
    ("one-of-added", "one-of-removed"),
    ("one-of-branch-added", "one-of-branch-removed"),
    ("not-added", "not-removed"),
    ("conditional-added", "conditional-removed"),
    ("ref-added", "ref-removed"),
    ("unanalysed-change", "unanalysed-change"),
]:
    MIRROR[_a], MIRROR[_b] = _b, _a

Expected = list[tuple[str, str, bool, bool]]  # (pointer, rule, narrowing, widening)
N, W, B = (True, False), (False, True), (True, True)  # narrowing only, widening only, both


def row(id_: str, old: Any, new: Any, *expected: tuple[str, str, tuple[bool, bool]]) -> Any:
    return pytest.param(old, new, [(p, r, *flags) for p, r, flags in expected], id=id_)


def obj(**props: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props}


RULES = [
    # type (integer ⊂ number; absent = any type)
    row("type narrowed number->integer", {"type": "number"}, {"type": "integer"}, ("/type", "type-narrowed", N)),
    row("type widened integer->number", {"type": "integer"}, {"type": "number"}, ("/type", "type-widened", W)),
    row("type changed string->integer", {"type": "string"}, {"type": "integer"}, ("/type", "type-changed", B)),
    row("type list member removed", {"type": ["string", "null"]}, {"type": "string"}, ("/type", "type-narrowed", N)),
    row("type added", {}, {"type": "string"}, ("/type", "type-narrowed", N)),
    row("type same set", {"type": ["integer", "number"]}, {"type": "number"}),
    # required
    row(
        "required added",
        obj(owner={}),
        {**obj(owner={}), "required": ["owner"]},
        ("/properties/owner", "required-added", N),
    ),
    # enum and const
    row(
        "enum value removed",
        obj(tier={"enum": ["gold", "silver"]}),
        obj(tier={"enum": ["silver"]}),
        ("/properties/tier/enum", "enum-value-removed", N),
    ),
    row("enum value added", {"enum": [1]}, {"enum": [1, 2]}, ("/enum", "enum-value-added", W)),
    row("enum 1 equals 1.0", {"enum": [1]}, {"enum": [1.0]}),
    row(
        "enum true is not 1",
        {"enum": [1]},
        {"enum": [True]},
        ("/enum", "enum-value-removed", N),
        ("/enum", "enum-value-added", W),
    ),
    row("enum added", {}, {"enum": ["a"]}, ("/enum", "enum-added", N)),
    row("const added", {}, {"const": 1}, ("/const", "const-added", N)),
    row("const changed", {"const": 1}, {"const": 2}, ("/const", "const-changed", B)),
    row("const same object", {"const": {"a": 1, "b": [1]}}, {"const": {"b": [1.0], "a": 1}}),
    # numeric bounds
    row("minimum raised", {"minimum": 1}, {"minimum": 2}, ("/minimum", "bound-tightened", N)),
    row("minimum lowered", {"minimum": 2}, {"minimum": 1}, ("/minimum", "bound-loosened", W)),
    row("minimum added", {}, {"minimum": 0}, ("/minimum", "bound-tightened", N)),
    row(
        "exclusiveMinimum raised",
        {"exclusiveMinimum": 1},
        {"exclusiveMinimum": 1.5},
        ("/exclusiveMinimum", "bound-tightened", N),
    ),
    row("maximum lowered", {"maximum": 10}, {"maximum": 5}, ("/maximum", "bound-tightened", N)),
    row("maximum removed", {"maximum": 10}, {}, ("/maximum", "bound-loosened", W)),
    row(
        "exclusiveMaximum lowered",
        {"exclusiveMaximum": 10},
        {"exclusiveMaximum": 9},
        ("/exclusiveMaximum", "bound-tightened", N),
    ),
    row(
        "minimum 5 traded for exclusiveMinimum 4",
        {"minimum": 5},
        {"exclusiveMinimum": 4},
        ("/minimum", "bound-loosened", W),
    ),
    row(
        "maximum 5 traded for exclusiveMaximum 5",
        {"maximum": 5},
        {"exclusiveMaximum": 5},
        ("/exclusiveMaximum", "bound-tightened", N),
    ),
    row("redundant exclusiveMinimum dropped", {"minimum": 5, "exclusiveMinimum": 5}, {"exclusiveMinimum": 5}),
    # size bounds
    row("minLength raised", {"minLength": 1}, {"minLength": 3}, ("/minLength", "bound-tightened", N)),
    row("minLength 0 added", {}, {"minLength": 0}),
    row("maxLength lowered", {"maxLength": 10}, {"maxLength": 5}, ("/maxLength", "bound-tightened", N)),
    row("minItems added", {}, {"minItems": 1}, ("/minItems", "bound-tightened", N)),
    row("maxItems raised", {"maxItems": 1}, {"maxItems": 2}, ("/maxItems", "bound-loosened", W)),
    row("minProperties raised", {"minProperties": 1}, {"minProperties": 2}, ("/minProperties", "bound-tightened", N)),
    row("maxProperties added", {}, {"maxProperties": 4}, ("/maxProperties", "bound-tightened", N)),
    row(
        "minContains raised from default",
        {"contains": {}},
        {"contains": {}, "minContains": 2},
        ("/minContains", "bound-tightened", N),
    ),
    row("minContains 1 is the default", {"contains": {}}, {"contains": {}, "minContains": 1}),
    row(
        "maxContains added",
        {"contains": {}},
        {"contains": {}, "maxContains": 3},
        ("/maxContains", "bound-tightened", N),
    ),
    row("minContains without contains", {}, {"minContains": 3}),
    # multipleOf
    row("multipleOf added", {}, {"multipleOf": 2}, ("/multipleOf", "multiple-of-added", N)),
    row("multipleOf 2->4", {"multipleOf": 2}, {"multipleOf": 4}, ("/multipleOf", "multiple-of-narrowed", N)),
    row("multipleOf 2->3", {"multipleOf": 2}, {"multipleOf": 3}, ("/multipleOf", "multiple-of-changed", B)),
    row("multipleOf 0.1->0.3", {"multipleOf": 0.1}, {"multipleOf": 0.3}, ("/multipleOf", "multiple-of-changed", B)),
    row("multipleOf 2 equals 2.0", {"multipleOf": 2}, {"multipleOf": 2.0}),
    # string assertions (format is asserted in ns-root)
    row("pattern added", {}, {"pattern": "^a"}, ("/pattern", "pattern-added", N)),
    row("pattern changed", {"pattern": "^a"}, {"pattern": "^b"}, ("/pattern", "pattern-changed", B)),
    row("format added", {}, {"format": "email"}, ("/format", "format-added", N)),
    row("format changed", {"format": "date"}, {"format": "date-time"}, ("/format", "format-changed", B)),
    row("contentEncoding added", {}, {"contentEncoding": "base64"}, ("/contentEncoding", "content-encoding-added", N)),
    row(
        "contentEncoding changed",
        {"contentEncoding": "base64"},
        {"contentEncoding": "base32"},
        ("/contentEncoding", "content-encoding-changed", B),
    ),
    row(
        "contentMediaType added",
        {},
        {"contentMediaType": "application/json"},
        ("/contentMediaType", "content-media-type-added", N),
    ),
    row(
        "contentMediaType changed",
        {"contentMediaType": "text/plain"},
        {"contentMediaType": "text/html"},
        ("/contentMediaType", "content-media-type-changed", B),
    ),
    # uniqueItems
    row(
        "uniqueItems became true",
        {"uniqueItems": False},
        {"uniqueItems": True},
        ("/uniqueItems", "unique-items-added", N),
    ),
    row("uniqueItems false is the default", {}, {"uniqueItems": False}),
    # dependentRequired / dependentSchemas / draft-07 dependencies
    row(
        "dependentRequired name added",
        {"dependentRequired": {"card": ["name"]}},
        {"dependentRequired": {"card": ["name", "zip"]}},
        ("/dependentRequired/card", "dependent-required-added", N),
    ),
    row(
        "dependentRequired key added",
        {},
        {"dependentRequired": {"card": ["zip"]}},
        ("/dependentRequired/card", "dependent-required-added", N),
    ),
    row(
        "dependentSchemas added",
        {},
        {"dependentSchemas": {"card": {"required": ["zip"]}}},
        ("/dependentSchemas/card", "dependent-schema-added", N),
    ),
    row(
        "dependentSchemas recurse",
        {"dependentSchemas": {"card": {"maxProperties": 3}}},
        {"dependentSchemas": {"card": {"maxProperties": 4}}},
        ("/dependentSchemas/card/maxProperties", "bound-loosened", W),
    ),
    row(
        "draft-07 dependencies list added",
        {"$schema": D7},
        {"$schema": D7, "dependencies": {"card": ["zip"]}},
        ("/dependencies/card", "dependent-required-added", N),
    ),
    row(
        "draft-07 dependencies list to schema",
        {"$schema": D7, "dependencies": {"a": ["b"]}},
        {"$schema": D7, "dependencies": {"a": {"required": ["b", "c"]}}},
        ("/dependencies/a/properties/c", "required-added", N),
    ),
    # properties, additionalProperties, patternProperties, unevaluatedProperties
    row(
        "property added to open schema",
        obj(a={}),
        obj(a={}, x={"type": "string"}),
        ("/properties/x", "property-added", N),
    ),
    row("unconstrained property added to open schema", obj(a={}), obj(a={}, x={"description": "free"})),
    row(
        "property added to closed schema",
        {**obj(a={}), "additionalProperties": False},
        {**obj(a={}, x={"type": "string"}), "additionalProperties": False},
        ("/properties/x", "property-added-to-closed", W),
    ),
    row(
        "false property added to closed schema",
        {**obj(a={}), "additionalProperties": False},
        {**obj(a={}, x=False), "additionalProperties": False},
    ),
    row(
        "property added: compared with the old additionalProperties",
        {"additionalProperties": {"type": "string"}},
        {"additionalProperties": {"type": "string"}, "properties": {"x": {"type": "string", "maxLength": 3}}},
        ("/properties/x/maxLength", "bound-tightened", N),
    ),
    row(
        "property added: a pattern covered it",
        {"patternProperties": {"^x": {"type": "string"}}, "additionalProperties": False},
        {"patternProperties": {"^x": {"type": "string"}}, "additionalProperties": False, "properties": {"xy": {}}},
    ),
    row(
        "property added to schema closed by unevaluatedProperties",
        {**obj(a={}), "unevaluatedProperties": False},
        {**obj(a={}, b={}), "unevaluatedProperties": False},
        ("/properties/b", "property-added-to-closed", W),
    ),
    row(
        "property changed",
        obj(port={"type": "number"}),
        obj(port={"type": "integer"}),
        ("/properties/port/type", "type-narrowed", N),
    ),
    row(
        "additionalProperties became false",
        {},
        {"additionalProperties": False},
        ("/additionalProperties", "became-false", N),
    ),
    row(
        "additionalProperties true->schema",
        {"additionalProperties": True},
        {"additionalProperties": {"type": "string"}},
        ("/additionalProperties/type", "type-narrowed", N),
    ),
    row(
        "pattern property added to open schema",
        {},
        {"patternProperties": {"^x-": {"type": "string"}}},
        ("/patternProperties/^x-", "pattern-property-added", N),
    ),
    row(
        "unconstrained pattern property added to closed schema",
        {"additionalProperties": False},
        {"additionalProperties": False, "patternProperties": {"^x-": {}}},
        ("/patternProperties/^x-", "pattern-property-added-to-closed", W),
    ),
    row(
        "pattern property added to closed schema",
        {"additionalProperties": False},
        {"additionalProperties": False, "patternProperties": {"^x-": {"type": "string"}}},
        ("/patternProperties/^x-", "pattern-property-added-to-closed", B),
    ),
    row(
        "pattern property changed",
        {"patternProperties": {"^x-": {"type": "string"}}},
        {"patternProperties": {"^x-": {"type": "integer"}}},
        ("/patternProperties/^x-/type", "type-changed", B),
    ),
    row(
        "propertyNames added",
        {},
        {"propertyNames": {"maxLength": 8}},
        ("/propertyNames/maxLength", "bound-tightened", N),
    ),
    row(
        "unevaluatedProperties beside allOf",
        {"allOf": [{"properties": {"a": {}}}], "unevaluatedProperties": False},
        {"allOf": [{"properties": {"a": {}, "b": {}}}], "unevaluatedProperties": False},
        ("/unevaluatedProperties", "unanalysed-change", B),
    ),
    # arrays
    row(
        "items narrowed",
        {"items": {"type": "number"}},
        {"items": {"type": "integer"}},
        ("/items/type", "type-narrowed", N),
    ),
    row(
        "tuple item added to open tuple",
        {"prefixItems": [{}]},
        {"prefixItems": [{}, {"type": "string"}]},
        ("/prefixItems/1", "item-added", N),
    ),
    row(
        "tuple item added to closed tuple",
        {"prefixItems": [{}], "items": False},
        {"prefixItems": [{}, {"type": "string"}], "items": False},
        ("/prefixItems/1", "item-added-to-closed", W),
    ),
    row(
        "tuple item added: compared with the old items",
        {"prefixItems": [{}], "items": {"type": "string"}},
        {"prefixItems": [{}, {"type": "string", "minLength": 1}], "items": {"type": "string"}},
        ("/prefixItems/1/minLength", "bound-tightened", N),
    ),
    row(
        "draft-07 tuple item added while additionalItems is false",
        {"$schema": D7, "items": [{}], "additionalItems": False},
        {"$schema": D7, "items": [{}, {}], "additionalItems": False},
        ("/items/1", "item-added-to-closed", W),
    ),
    row("contains added", {}, {"contains": {"type": "string"}}, ("/contains", "contains-added", N)),
    row("contains with minContains 0 added", {}, {"contains": {"type": "string"}, "minContains": 0}),
    row(
        "contains widened",
        {"contains": {"type": "string"}},
        {"contains": {"type": ["string", "null"]}},
        ("/contains/type", "type-widened", W),
    ),
    row(
        "contains widened beside maxContains",
        {"contains": {"type": "string"}, "maxContains": 2},
        {"contains": {"type": ["string", "null"]}, "maxContains": 2},
        ("/contains/type", "type-widened", B),
    ),
    # booleans
    row("true to false", True, False, ("", "became-false", N)),
    row("false to object", False, {"type": "string"}, ("", "no-longer-false", W)),
    row("true to object", True, {"type": "string"}, ("/type", "type-narrowed", N)),
    row("true equals {}", True, {}),
    row("not {} is false", {"not": {}}, False),
    # combinators
    row("allOf branch added", {}, {"allOf": [{"type": "string"}]}, ("/allOf/0", "all-of-branch-added", N)),
    row(
        "allOf branch recursed",
        {"allOf": [{"maxLength": 3}]},
        {"allOf": [{"maxLength": 2}]},
        ("/allOf/0/maxLength", "bound-tightened", N),
    ),
    row(
        "allOf branch removed from the middle",
        {"allOf": [{"type": "string"}, {"minLength": 1}, {"maxLength": 9}]},
        {"allOf": [{"type": "string"}, {"maxLength": 9}]},
        ("/allOf/1", "all-of-branch-removed", W),
    ),
    row("anyOf added", {}, {"anyOf": [{"type": "string"}, {"type": "null"}]}, ("/anyOf", "any-of-added", N)),
    row(
        "anyOf branch inserted",
        {"anyOf": [{"type": "string"}, {"type": "null"}]},
        {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]},
        ("/anyOf/1", "any-of-branch-added", W),
    ),
    row(
        "anyOf branch recursed",
        {"anyOf": [{"type": "string"}, {"type": "null"}]},
        {"anyOf": [{"type": "string", "maxLength": 5}, {"type": "null"}]},
        ("/anyOf/0/maxLength", "bound-tightened", N),
    ),
    row("oneOf added", {}, {"oneOf": [{"type": "string"}, {"type": "null"}]}, ("/oneOf", "one-of-added", N)),
    row(
        "oneOf disjoint branch added",
        {"oneOf": [{"type": "string"}]},
        {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        ("/oneOf/1", "one-of-branch-added", W),
    ),
    row(
        "oneOf overlapping branch added",
        {"oneOf": [{"type": "string"}]},
        {"oneOf": [{"type": "string"}, {"minLength": 2}]},
        ("/oneOf/1", "one-of-branch-added", B),
    ),
    row(
        "oneOf disjoint branch recursed",
        {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        {"oneOf": [{"type": "string", "maxLength": 3}, {"type": "integer"}]},
        ("/oneOf/0/maxLength", "bound-tightened", N),
    ),
    row(
        "oneOf overlapping branch recursed",
        {"oneOf": [{"type": "string"}, {"minimum": 3}]},
        {"oneOf": [{"type": "string", "maxLength": 3}, {"minimum": 3}]},
        ("/oneOf/0/maxLength", "bound-tightened", B),
    ),
    row(
        "oneOf discriminated branch recursed",
        {
            "oneOf": [
                {"type": "object", "required": ["kind"], "properties": {"kind": {"const": "a"}}},
                {
                    "type": "object",
                    "required": ["kind"],
                    "properties": {"kind": {"const": "b"}, "x": {"type": "string"}},
                },
            ]
        },
        {
            "oneOf": [
                {"type": "object", "required": ["kind"], "properties": {"kind": {"const": "a"}}},
                {
                    "type": "object",
                    "required": ["kind"],
                    "properties": {"kind": {"const": "b"}, "x": {"type": ["string", "integer"]}},
                },
            ]
        },
        ("/oneOf/1/properties/x/type", "type-widened", W),
    ),
    row("not added", {}, {"not": {"type": "null"}}, ("/not", "not-added", N)),
    row("not false added", {}, {"not": False}),
    row(
        "not widened",
        {"not": {"type": "string"}},
        {"not": {"type": ["string", "null"]}},
        ("/not/type", "type-widened", N),
    ),
    # if/then/else
    row(
        "if/then added",
        {},
        {"if": {"required": ["a"]}, "then": {"required": ["b"]}},
        ("/if", "conditional-added", N),
    ),
    row("if alone added", {}, {"if": {"required": ["a"]}}),
    row(
        "then narrowed",
        {"if": {"required": ["a"]}, "then": {"required": ["b"]}},
        {"if": {"required": ["a"]}, "then": {"required": ["b", "c"]}},
        ("/then/properties/c", "required-added", N),
    ),
    row(
        "else added",
        {"if": {"required": ["a"]}},
        {"if": {"required": ["a"]}, "else": {"maxProperties": 3}},
        ("/else/maxProperties", "bound-tightened", N),
    ),
    row(
        "if changed",
        {"if": {"properties": {"k": {"const": 1}}}, "then": {"required": ["a"]}},
        {"if": {"properties": {"k": {"const": 2}}}, "then": {"required": ["a"]}},
        ("/if/properties/k/const", "const-changed", B),
    ),
    # references and definitions
    row("$ref added", {"$defs": {"a": {}}}, {"$defs": {"a": {}}, "$ref": "#/$defs/a"}, ("/$ref", "ref-added", N)),
    row(
        "referenced definition narrowed",
        {"$defs": {"a": {"type": "string"}}, "properties": {"x": {"$ref": "#/$defs/a"}}},
        {"$defs": {"a": {"type": "string", "maxLength": 4}}, "properties": {"x": {"$ref": "#/$defs/a"}}},
        ("/$defs/a/maxLength", "bound-tightened", N),
    ),
    row(
        "definition referenced under not",
        {"$defs": {"a": {"type": "string"}}, "not": {"$ref": "#/$defs/a"}},
        {"$defs": {"a": {"type": "string", "maxLength": 4}}, "not": {"$ref": "#/$defs/a"}},
        ("/$defs/a/maxLength", "bound-tightened", W),
    ),
    row(
        "definition referenced both ways",
        {
            "$defs": {"a": {"type": "string"}},
            "properties": {"x": {"$ref": "#/$defs/a"}, "y": {"not": {"$ref": "#/$defs/a"}}},
        },
        {
            "$defs": {"a": {"type": "string", "maxLength": 4}},
            "properties": {"x": {"$ref": "#/$defs/a"}, "y": {"not": {"$ref": "#/$defs/a"}}},
        },
        ("/$defs/a/maxLength", "bound-tightened", B),
    ),
    row(
        "definition renamed",
        {"$defs": {"a": {"type": "string"}}, "$ref": "#/$defs/a"},
        {"$defs": {"b": {"type": "string"}}, "$ref": "#/$defs/b"},
    ),
    row(
        "definition added and removed",
        {"$defs": {"a": {"type": "string"}}},
        {"$defs": {"b": {"type": "integer"}}},
    ),
    row(
        "unreferenced definition changed",
        {"$defs": {"a": {"type": "string"}}},
        {"$defs": {"a": {"type": "integer"}}},
        ("/$defs/a/type", "type-changed", B),
    ),
    row(
        "anchor reference followed",
        {"$defs": {"a": {"$anchor": "A", "type": "string"}}, "$ref": "#A"},
        {"$defs": {"a": {"$anchor": "A", "type": "string", "minLength": 1}}, "$ref": "#A"},
        ("/$defs/a/minLength", "bound-tightened", N),
    ),
    row(
        "recursive definition",
        {"$defs": {"node": {"properties": {"kids": {"items": {"$ref": "#/$defs/node"}}}}}, "$ref": "#/$defs/node"},
        {
            "$defs": {"node": {"properties": {"kids": {"items": {"$ref": "#/$defs/node"}, "maxItems": 9}}}},
            "$ref": "#/$defs/node",
        },
        ("/$defs/node/properties/kids/maxItems", "bound-tightened", N),
    ),
    row(
        "draft-07 definitions",
        {"$schema": D7, "definitions": {"a": {"type": "number"}}, "items": {"$ref": "#/definitions/a"}},
        {"$schema": D7, "definitions": {"a": {"type": "integer"}}, "items": {"$ref": "#/definitions/a"}},
        ("/definitions/a/type", "type-narrowed", N),
    ),
    row(
        "draft-07 has no unevaluatedProperties",
        {"$schema": D7, "unevaluatedProperties": False},
        {"$schema": D7, "unevaluatedProperties": False, "properties": {"a": {"type": "string"}}},
        ("/properties/a", "property-added", N),
    ),
    row(
        "draft-07 has no minContains",
        {"$schema": D7},
        {"$schema": D7, "contains": {"type": "string"}, "minContains": 0},
        ("/contains", "contains-added", N),
    ),
    row(
        "draft-07 $ref hides its siblings",
        {"$schema": D7, "definitions": {"a": {}}, "$ref": "#/definitions/a", "type": "string"},
        {"$schema": D7, "definitions": {"a": {}}, "$ref": "#/definitions/a", "type": "integer"},
    ),
    # what ns-root cannot analyse counts both ways
    row(
        "remote $ref changed",
        {"$ref": "nsroot:schemas/a/1"},
        {"$ref": "nsroot:schemas/a/2"},
        ("/$ref", "unanalysed-change", B),
    ),
    row("remote $ref unchanged", {"$ref": "nsroot:schemas/a/1"}, {"$ref": "nsroot:schemas/a/1"}),
    row(
        "draft-07 $ref removed",
        {"$schema": D7, "definitions": {"a": {}}, "$ref": "#/definitions/a", "type": "string"},
        {"$schema": D7, "definitions": {"a": {}}, "type": "string"},
        ("/$ref", "unanalysed-change", B),
    ),
    row(
        "$dynamicRef in a changed document",
        {"$dynamicRef": "#node", "maxProperties": 3},
        {"$dynamicRef": "#node", "maxProperties": 4},
        ("/$dynamicRef", "unanalysed-change", B),
        ("/maxProperties", "bound-loosened", W),
    ),
    row("unknown keyword changed", {"x-rule": 1}, {"x-rule": 2}, ("/x-rule", "unanalysed-change", B)),
    row("dialect changed", {"$schema": D7}, {}, ("/$schema", "unanalysed-change", B)),
    row("malformed keyword changed", {"minLength": "1"}, {"minLength": "2"}, ("/minLength", "unanalysed-change", B)),
    row(
        "property added: pattern ns-root cannot read",
        {"patternProperties": {"\\p{L}": {}}, "additionalProperties": False},
        {"patternProperties": {"\\p{L}": {}}, "additionalProperties": False, "properties": {"a": {}}},
        ("/properties/a", "unanalysed-change", B),
    ),
]


def summary(found: list[Difference]) -> Expected:
    return sorted((d.pointer, d.rule, d.narrowing, d.widening) for d in found)


def mirrored(expected: Expected) -> Expected:
    return sorted((p, MIRROR[r], w, n) for p, r, n, w in expected)


@pytest.mark.parametrize(("old", "new", "expected"), RULES)
def test_rule(old: Any, new: Any, expected: Expected) -> None:
    assert summary(differences(old, new)) == sorted(expected)


@pytest.mark.parametrize(("old", "new", "expected"), RULES)
def test_rule_reversed(old: Any, new: Any, expected: Expected) -> None:
    assert summary(differences(new, old)) == mirrored(expected)


def refused(mode: Mode, expected: Expected) -> list[tuple[str, str, str]]:
    base = mode.removesuffix("_TRANSITIVE")
    found = []
    for pointer, rule, narrowing, widening in expected:
        if narrowing and base in ("BACKWARD", "FULL"):
            found.append((pointer, rule, "BACKWARD"))
        if widening and base in ("FORWARD", "FULL"):
            found.append((pointer, rule, "FORWARD"))
    return sorted(found)


@pytest.mark.parametrize("reverse", [False, True], ids=["old-to-new", "new-to-old"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("old", "new", "expected"), RULES)
def test_rule_under_mode(old: Any, new: Any, expected: Expected, mode: Mode, reverse: bool) -> None:
    if reverse:
        old, new, expected = new, old, mirrored(expected)
    breaking = check(mode, new, [(7, old)])
    assert sorted((b.pointer, b.rule, b.direction) for b in breaking) == refused(mode, expected)
    assert all(b.mode == mode and b.against == 7 for b in breaking)


def test_every_rule_has_a_row() -> None:
    covered = {rule for param in RULES for _, rule, _, _ in param.values[2]}
    covered |= {MIRROR[rule] for rule in covered}
    assert covered == set(MIRROR)


# --- no differences ---------------------------------------------------------------------

RICH: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://example.com/service.json",
    "title": "service",
    "type": "object",
    "required": ["port", "tier"],
    "properties": {
        "port": {"type": "integer", "minimum": 1, "maximum": 65535, "description": "TCP port"},
        "tier": {"enum": ["gold", "silver"], "default": "silver"},
        "tags": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$"}, "uniqueItems": True},
        "owner": {"$ref": "#/$defs/subject"},
        "title": {"type": "string", "maxLength": 80},
    },
    "patternProperties": {"^x-": {}},
    "additionalProperties": False,
    "dependentRequired": {"tier": ["owner"]},
    "if": {"properties": {"tier": {"const": "gold"}}},
    "then": {"required": ["owner"]},
    "oneOf": [{"required": ["port"]}, {"required": ["tags"]}],
    "not": {"required": ["legacy"]},
    "$defs": {"subject": {"type": "string", "format": "email", "examples": ["a@b.c"]}},
}


@pytest.mark.parametrize(
    "schema", [True, False, {}, {"type": "string"}, RICH, {"$schema": D7, "items": [{}], "additionalItems": False}]
)
def test_identical_schemas_have_no_differences(schema: Any) -> None:
    assert differences(schema, schema) == []
    assert differences(schema, copy.deepcopy(schema)) == []


def test_annotation_only_changes_have_no_differences() -> None:
    changed = {
        **RICH,
        "$id": "https://example.com/service-v2.json",
        "title": "the service",
        "description": "a service",
        "$comment": "v2",
        "examples": [{"port": 1}],
        "deprecated": True,
        "properties": {
            **RICH["properties"],
            "port": {**RICH["properties"]["port"], "description": "the TCP port", "readOnly": True, "default": 80},
            "tier": {"enum": ["gold", "silver"], "writeOnly": True, "deprecated": True},
        },
        "$defs": {"subject": {"type": "string", "format": "email", "$anchor": "subject", "contentSchema": {}}},
    }
    assert differences(RICH, changed) == []
    assert differences(changed, RICH) == []


def test_a_property_named_like_an_annotation_is_not_one() -> None:
    old = {"properties": {"title": {"type": "string"}}}
    new = {"properties": {"title": {"type": "integer"}}}
    assert summary(differences(old, new)) == [("/properties/title/type", "type-changed", True, True)]


# --- texts, pointers, messages -----------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "pointer", "change"),
    [
        pytest.param({"type": "number"}, {"type": "integer"}, "/type", "narrowed from number to integer", id="type"),
        pytest.param(
            obj(owner={}),
            {**obj(owner={}), "required": ["owner"]},
            "/properties/owner",
            "became required",
            id="required",
        ),
        pytest.param(
            obj(tier={"enum": ["gold", "silver"]}),
            obj(tier={"enum": ["silver"]}),
            "/properties/tier/enum",
            'value "gold" removed',
            id="enum",
        ),
        pytest.param({"maximum": 10}, {"maximum": 5}, "/maximum", "maximum lowered from 10 to 5", id="maximum"),
        pytest.param(
            {"additionalProperties": False},
            {"additionalProperties": False, "properties": {"x": {}}},
            "/properties/x",
            'property "x" added while additionalProperties is false in the old schema',
            id="closed",
        ),
        pytest.param(
            {"not": {"type": "string"}},
            {"not": {"type": ["string", "null"]}},
            "/not/type",
            'widened from string to string or null (inside "not", so its effect is reversed)',
            id="not",
        ),
        pytest.param(
            {"x-rule": 1},
            {"x-rule": 2},
            "/x-rule",
            "unknown keyword x-rule changed; ns-root cannot prove either direction, so it counts as breaking both",
            id="unanalysed",
        ),
    ],
)
def test_change_text(old: Any, new: Any, pointer: str, change: str) -> None:
    assert [(d.pointer, d.change) for d in differences(old, new)] == [(pointer, change)]


@pytest.mark.parametrize(
    ("name", "pointer"),
    [
        pytest.param("a/b", "/properties/a~1b", id="slash"),
        pytest.param("a~b", "/properties/a~0b", id="tilde"),
        pytest.param("~/~1", "/properties/~0~1~01", id="both"),
        pytest.param("", "/properties/", id="empty"),
    ],
)
def test_pointer_escaping(name: str, pointer: str) -> None:
    found = differences({"properties": {name: {"type": "string"}}}, {"properties": {name: {"type": "integer"}}})
    assert [d.pointer for d in found] == [pointer + "/type"]
    required = differences({}, {"required": [name]})
    assert [d.pointer for d in required] == [pointer]


def test_reference_with_escaped_pointer_is_followed() -> None:
    old = {"$defs": {"a/b": {"type": "string"}, "c%d": {}}, "$ref": "#/$defs/a~1b", "not": {"$ref": "#/$defs/c%25d"}}
    new = {
        "$defs": {"a/b": {"type": "integer"}, "c%d": {"type": "null"}},
        "$ref": "#/$defs/a~1b",
        "not": {"$ref": "#/$defs/c%25d"},
    }
    assert summary(differences(old, new)) == [
        ("/$defs/a~1b/type", "type-changed", True, True),
        ("/$defs/c%d/type", "type-narrowed", False, True),
    ]


def test_messages() -> None:
    old = obj(owner={"type": "string"})
    new = {**obj(owner={"type": "string"}), "required": ["owner"]}
    (backward,) = check("BACKWARD", new, [(3, old)])
    assert backward.message() == (
        "/properties/owner: became required (BACKWARD: documents valid under version 3 would be rejected)"
    )
    (forward,) = check("FORWARD", old, [(3, new)])
    assert forward.message() == (
        "/properties/owner: no longer required "
        "(FORWARD: documents valid under the new schema would be rejected by version 3)"
    )
    assert forward.as_dict() == {
        "pointer": "/properties/owner",
        "change": "no longer required",
        "rule": "required-removed",
        "mode": "FORWARD",
        "direction": "FORWARD",
        "version": 3,
        "message": forward.message(),
    }
    (root,) = check("BACKWARD", False, [(1, True)])
    assert root.message() == (
        "(root): became false (now rejects every value) (BACKWARD: documents valid under version 1 would be rejected)"
    )


# --- check: modes ------------------------------------------------------------------------


def test_full_reports_a_two_way_difference_once_per_direction() -> None:
    breaking = check("FULL", {"type": "integer"}, [(2, {"type": "string"})])
    assert [(b.direction, b.mode, b.against, b.rule) for b in breaking] == [
        ("BACKWARD", "FULL", 2, "type-changed"),
        ("FORWARD", "FULL", 2, "type-changed"),
    ]
    assert breaking[0].message().endswith("(BACKWARD: documents valid under version 2 would be rejected)")
    assert (
        breaking[1].message().endswith("(FORWARD: documents valid under the new schema would be rejected by version 2)")
    )


# v1 allowed "a"; v2 (registered while the mode was NONE) swapped it for "c".
HISTORY = [(1, {"enum": ["a", "b"]}), (2, {"enum": ["b", "c"]})]


@pytest.mark.parametrize(
    ("mode", "candidate", "expected"),
    [
        pytest.param("BACKWARD", {"enum": ["b", "c", "d"]}, [], id="backward-latest-only"),
        pytest.param(
            "BACKWARD_TRANSITIVE",
            {"enum": ["b", "c", "d"]},
            [(1, "BACKWARD", 'value "a" removed')],
            id="backward-transitive",
        ),
        pytest.param("FORWARD", {"enum": ["c"]}, [], id="forward-latest-only"),
        pytest.param(
            "FORWARD_TRANSITIVE",
            {"enum": ["c"]},
            [(1, "FORWARD", 'value "c" added')],
            id="forward-transitive",
        ),
        pytest.param("FULL", {"enum": ["b", "c"]}, [], id="full-latest-only"),
        pytest.param(
            "FULL_TRANSITIVE",
            {"enum": ["b", "c"]},
            [(1, "FORWARD", 'value "c" added'), (1, "BACKWARD", 'value "a" removed')],
            id="full-transitive",
        ),
        pytest.param("NONE", {"type": "null"}, [], id="none"),
    ],
)
def test_transitive_modes_compare_with_every_version(mode: Mode, candidate: Any, expected: list[Any]) -> None:
    assert [(b.against, b.direction, b.change) for b in check(mode, candidate, HISTORY)] == expected


def test_transitive_reports_each_version() -> None:
    breaking = check(
        "BACKWARD_TRANSITIVE", {"type": "string", "maxLength": 2}, [(1, {"type": "string"}), (4, {"type": "string"})]
    )
    assert [(b.against, b.rule) for b in breaking] == [(1, "bound-tightened"), (4, "bound-tightened")]


def test_check_edge_cases() -> None:
    assert check("FULL_TRANSITIVE", {"type": "string"}, []) == []
    with pytest.raises(ValueError, match="unknown compatibility mode"):
        check("SIDEWAYS", {}, [(1, {})])  # type: ignore[arg-type]


def test_breaking_is_frozen() -> None:
    breaking = Breaking("/type", "changed", "type-changed", "FULL", 1, "BACKWARD")
    with pytest.raises(AttributeError):
        breaking.pointer = "/x"  # type: ignore[misc]


# --- depth ---------------------------------------------------------------------------------


def test_deep_schemas_do_not_exhaust_the_stack() -> None:
    def nest(depth: int, leaf: Any) -> Any:
        schema = leaf
        for _ in range(depth):
            schema = {"properties": {"a": schema}}
        return schema

    assert differences(nest(3000, {"type": "string"}), nest(3000, {"type": "string"})) == []
    found = differences(nest(3000, {"type": "string"}), nest(3000, {"type": "integer"}))
    assert [(d.rule, d.narrowing, d.widening) for d in found] == [("unanalysed-change", True, True)]
    assert found[0].pointer.count("/properties/a") == 257
    shallow = differences(nest(100, {"type": "string"}), nest(100, {"type": "integer"}))
    assert [d.rule for d in shallow] == ["type-changed"]


# --- properties for random schemas ---------------------------------------------------------

NAMES = ["a", "b", "c"]
PATTERNS = ["^a", "b$", "^x-", "^[a-c]+$"]
TYPES = ["null", "boolean", "object", "array", "number", "string", "integer"]
SCALARS: list[Any] = [None, True, False, 0, 1, 2, 3, -1, 1.5, "", "a", "ab", "abc", "b", "x-1"]
scalars = st.sampled_from(SCALARS)
names = st.lists(st.sampled_from(NAMES), max_size=2, unique=True)


def leaf_keywords() -> st.SearchStrategy[tuple[str, Any]]:
    bounds = ["minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"]
    return st.one_of(
        st.tuples(
            st.just("type"),
            st.sampled_from(TYPES) | st.lists(st.sampled_from(TYPES), min_size=1, max_size=3, unique=True),
        ),
        st.tuples(st.just("enum"), st.lists(scalars, min_size=1, max_size=4)),
        st.tuples(st.just("const"), scalars),
        st.tuples(
            st.sampled_from(["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]),
            st.sampled_from([-1, 0, 1, 2, 1.5]),
        ),
        st.tuples(st.just("multipleOf"), st.sampled_from([1, 2, 3, 4])),
        st.tuples(st.sampled_from(bounds), st.integers(0, 3)),
        st.tuples(st.sampled_from(["minContains", "maxContains"]), st.integers(0, 3)),
        st.tuples(st.just("pattern"), st.sampled_from(PATTERNS)),
        st.tuples(st.just("uniqueItems"), st.booleans()),
        st.tuples(st.just("required"), names),
        st.tuples(st.just("dependentRequired"), st.dictionaries(st.sampled_from(NAMES), names, max_size=2)),
        st.tuples(st.just("$ref"), st.just("#/$defs/d")),
        st.tuples(st.just("title"), st.sampled_from(["t", "u"])),
    )


def applicator_keywords(sub: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[str, Any]]:
    one = ["additionalProperties", "propertyNames", "items", "contains", "not", "if", "then", "else"]
    return st.one_of(
        st.tuples(st.sampled_from([*one, "unevaluatedProperties", "unevaluatedItems"]), sub),
        st.tuples(
            st.sampled_from(["properties", "dependentSchemas"]),
            st.dictionaries(st.sampled_from(NAMES), sub, max_size=2),
        ),
        st.tuples(st.just("patternProperties"), st.dictionaries(st.sampled_from(PATTERNS), sub, max_size=2)),
        st.tuples(st.sampled_from(["allOf", "anyOf", "oneOf", "prefixItems"]), st.lists(sub, min_size=1, max_size=3)),
    )


def schema_of(keywords: st.SearchStrategy[tuple[str, Any]]) -> st.SearchStrategy[Any]:
    return st.booleans() | st.lists(keywords, max_size=4).map(dict)


leaf_schemas = schema_of(leaf_keywords())
schemas = st.recursive(
    leaf_schemas, lambda inner: schema_of(leaf_keywords() | applicator_keywords(inner)), max_leaves=8
)
instances = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "b", "c", "x-1", "ab"]), inner, max_size=3)
    ),
    max_leaves=6,
)
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
SCHEMA_MAPS = ("properties", "patternProperties", "dependentSchemas")


@st.composite
def mutated(draw: st.DrawFn, schema: Any) -> Any:
    """``schema`` with one change somewhere: replaced, a keyword dropped or set, or a subschema changed."""
    choice = draw(st.integers(0, 4))
    if not isinstance(schema, dict) or choice == 0:
        return draw(schemas)
    out = dict(schema)
    if choice == 1 and out:
        del out[draw(st.sampled_from(sorted(out)))]
        return out
    if choice == 2:
        key, value = draw(leaf_keywords() | applicator_keywords(schemas))
        return {**out, key: value}
    inner = sorted(
        k for k, v in out.items() if isinstance(v, (dict, bool, list)) and k not in ("enum", "const", "required")
    )
    if not inner:
        return out
    key = draw(st.sampled_from(inner))
    value = out[key]
    if key in SCHEMA_LISTS and isinstance(value, list) and value:
        i = draw(st.integers(0, len(value) - 1))
        out[key] = [*value[:i], draw(mutated(value[i])), *value[i + 1 :]]
    elif key in SCHEMA_MAPS and isinstance(value, dict) and value:
        name = draw(st.sampled_from(sorted(value)))
        out[key] = {**value, name: draw(mutated(value[name]))}
    elif key not in SCHEMA_MAPS and key not in SCHEMA_LISTS and key != "dependentRequired":
        out[key] = draw(mutated(value))
    return out


@st.composite
def documents(draw: st.DrawFn) -> Any:
    schema = draw(schemas)
    return {**schema, "$defs": {"d": draw(leaf_schemas)}} if isinstance(schema, dict) else schema


@st.composite
def pairs(draw: st.DrawFn) -> tuple[Any, Any]:
    """Two schemas: independent, or the second a small change of the first (which finds
    more near misses)."""
    old = draw(documents())
    if draw(st.booleans()):
        return old, draw(documents())
    new = draw(mutated(old))
    if isinstance(new, dict):
        defs = old.get("$defs", {"d": True}) if isinstance(old, dict) else {"d": True}
        new = {**new, "$defs": {"d": draw(mutated(defs["d"]))} if draw(st.booleans()) else defs}
    return old, new


PROPERTY_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


@PROPERTY_SETTINGS
@given(documents())
def test_a_schema_has_no_differences_with_itself(schema: Any) -> None:
    assert differences(schema, schema) == []


@PROPERTY_SETTINGS
@given(pairs())
def test_swapping_old_and_new_swaps_narrowing_and_widening(pair: tuple[Any, Any]) -> None:
    old, new = pair
    forward = summary(differences(old, new))
    assert summary(differences(new, old)) == mirrored(forward)


@PROPERTY_SETTINGS
@given(pairs(), st.lists(instances, min_size=10, max_size=30))
def test_never_compatible_when_the_validator_disagrees(pair: tuple[Any, Any], docs: list[Any]) -> None:
    """Soundness against ns-root's validator: a document accepted by the old schema and
    rejected by the new one means some difference is narrowing (and the other way round)."""
    old, new = pair
    try:
        old_validator = jsonschema_rs.Draft202012Validator(old, validate_formats=True)
        new_validator = jsonschema_rs.Draft202012Validator(new, validate_formats=True)
    except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError):
        return  # not a schema the registry would accept
    found = differences(old, new)
    for doc in docs:
        old_ok, new_ok = old_validator.is_valid(doc), new_validator.is_valid(doc)
        if old_ok and not new_ok:
            assert any(d.narrowing for d in found), (old, new, doc, found)
        if new_ok and not old_ok:
            assert any(d.widening for d in found), (old, new, doc, found)
