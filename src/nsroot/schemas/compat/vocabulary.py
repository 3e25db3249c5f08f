"""The keyword vocabulary of the checker: which keywords are annotations, how each keyword's
value is read, the keyword families compared as units, every keyword the checker knows
(any other keyword that changes counts as unanalysed), and the instance types ``type`` names."""

from __future__ import annotations

from typing import Final

#: Keywords that never change which documents are accepted (references to ``$id``,
#: ``$anchor`` and ``$dynamicAnchor`` are resolved on each side, so moving them is seen there).
ANNOTATIONS: Final = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "$comment",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$id",
        "$schema",
        "$anchor",
        "$dynamicAnchor",
        "$vocabulary",
        "contentSchema",
    }
)

# How each keyword's value is read: a schema, a list of schemas, a map of schemas, ...
_KW_KIND: Final[dict[str, str]] = {
    **dict.fromkeys(
        (
            "additionalProperties",
            "propertyNames",
            "contains",
            "not",
            "if",
            "then",
            "else",
            "unevaluatedProperties",
            "unevaluatedItems",
            "additionalItems",
        ),
        "schema",
    ),
    **dict.fromkeys(("properties", "patternProperties", "dependentSchemas", "$defs", "definitions"), "schemamap"),
    **dict.fromkeys(("allOf", "anyOf", "oneOf", "prefixItems"), "schemas"),
    "items": "items",  # a schema, or (draft-07) a list of schemas
    "dependencies": "deps",  # draft-07: a map of schemas or lists of names
}

_LOWER_UNITS: Final = (("minimum", "exclusiveMinimum"),)
_UPPER_UNITS: Final = (("maximum", "exclusiveMaximum"),)
_SIZE_MIN: Final = ("minLength", "minItems", "minProperties")
_SIZE_MAX: Final = ("maxLength", "maxItems", "maxProperties")
_STRING_ASSERTIONS: Final[dict[str, str]] = {
    "pattern": "pattern",
    "format": "format",
    "contentEncoding": "content-encoding",
    "contentMediaType": "content-media-type",
}
_IN_PLACE: Final = frozenset(
    {"allOf", "anyOf", "oneOf", "if", "then", "else", "dependentSchemas", "dependencies", "$ref", "$dynamicRef"}
)

_KNOWN: Final = frozenset(
    {
        "type",
        "enum",
        "const",
        "minimum",
        "exclusiveMinimum",
        "maximum",
        "exclusiveMaximum",
        "multipleOf",
        "minContains",
        "maxContains",
        "uniqueItems",
        "required",
        "dependentRequired",
        "$ref",
        "$dynamicRef",
        *_SIZE_MIN,
        *_SIZE_MAX,
        *_STRING_ASSERTIONS,
        *_KW_KIND,
    }
)

_TYPE_ATOMS: Final[dict[str, frozenset[str]]] = {
    "null": frozenset({"null"}),
    "boolean": frozenset({"boolean"}),
    "object": frozenset({"object"}),
    "array": frozenset({"array"}),
    "string": frozenset({"string"}),
    "integer": frozenset({"integer"}),
    "number": frozenset({"integer", "fraction"}),  # integer ⊂ number
}
_ALL_TYPES: Final = frozenset().union(*_TYPE_ATOMS.values())
