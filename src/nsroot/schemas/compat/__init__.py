"""Schema compatibility: which differences between two schema documents break whom.

A JSON Schema is read as the set of documents it accepts. A change is *narrowing* when a
document valid under the old schema is rejected by the new one (it breaks BACKWARD: new
readers cannot read old data) and *widening* when a document valid under the new schema is
rejected by the old one (it breaks FORWARD). ``differences`` lists every difference with
both flags; ``check`` applies a compatibility mode to them. docs/schema-compatibility.md
lists the rules; keep the two in step.

The comparison is keyword by keyword: a schema object is the conjunction of its keywords,
so if no keyword narrows, the schema does not narrow. Keywords that depend on each other
(``properties`` with ``patternProperties`` and ``additionalProperties``; ``prefixItems``
with ``items``; the bounds of one quantity; ``contains`` with its counts; ``if`` with
``then``/``else``) are compared as units. Where a subschema is read the other way round
(``not``) the flags are swapped; where it is read both ways (``if``, overlapping ``oneOf``
branches, ``contains`` with ``maxContains``) every change there counts both ways. What
ns-root cannot analyse counts as breaking both ways (rule ``unanalysed-change``): the
checker may refuse a compatible change, never accept an incompatible one.

Local ``$ref`` are followed (the targets are compared, in the polarity of the reference);
a definition reached by no reference is compared as if it were used directly. The walk
uses an explicit stack, so no schema can exhaust the Python stack.

The package, by concern (each module's docstring says more):

- ``__init__``: the public API, ``differences`` and ``check`` (and the names re-exported
  below: ``Mode``, ``MODES``, ``Difference``, ``Breaking``, ...).
- ``results``: the compatibility modes and what the checker reports (``Difference``,
  ``Breaking``, the ``unanalysed-change`` rule).
- ``vocabulary``: the keyword tables: annotations, how each keyword's value is read, the
  keyword families compared as units, the instance types.
- ``values``: helpers on JSON values and schema objects: canonical forms, pointers, type
  atoms, value sets, ``oneOf`` branch profiles and their overlap, property-name patterns,
  and the alignment of subschema lists.
- ``document``: one schema document: its dialect, its ``$id`` resources and anchors, and
  reference resolution.
- ``comparer``: the walk over two documents (``_Comparer``, its tasks and rows), keyword
  by keyword, with the layout helpers of object and array members.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nsroot.schemas.compat.comparer import _Comparer
from nsroot.schemas.compat.results import CANNOT_PROVE, MODES, UNANALYSED, Breaking, Difference, Direction, Mode
from nsroot.schemas.compat.vocabulary import ANNOTATIONS

__all__ = [
    "ANNOTATIONS",
    "CANNOT_PROVE",
    "MODES",
    "UNANALYSED",
    "Breaking",
    "Difference",
    "Direction",
    "Mode",
    "check",
    "differences",
]


def differences(old: Any, new: Any) -> list[Difference]:
    """Every difference between two schema documents (dicts or booleans, already-parsed
    JSON) that changes which documents are accepted, ordered by pointer."""
    comparer = _Comparer(old, new)
    comparer.run()
    return comparer.result()


def check(mode: Mode, candidate: Any, earlier: Sequence[tuple[int, Any]]) -> list[Breaking]:
    """The breaking differences of ``candidate`` against ``earlier`` ((version, document)
    pairs, oldest first) under ``mode``; [] when compatible.

    The non-transitive modes compare with the last element only, the transitive ones with
    every element. A difference yields one Breaking per direction the mode refuses: under
    FULL, a difference that is both narrowing and widening yields a BACKWARD and a FORWARD
    one (``mode`` is the configured mode, ``direction`` the side it breaks)."""
    if mode not in MODES:
        raise ValueError(f"unknown compatibility mode {mode!r}; expected one of {', '.join(MODES)}")
    if mode == "NONE" or not earlier:
        return []
    base = mode.removesuffix("_TRANSITIVE")
    backward = base in ("BACKWARD", "FULL")
    forward = base in ("FORWARD", "FULL")
    compared = list(earlier) if mode.endswith("_TRANSITIVE") else [earlier[-1]]
    found: list[Breaking] = []
    for version, document in compared:
        for diff in differences(document, candidate):
            if backward and diff.narrowing:
                found.append(Breaking(diff.pointer, diff.change, diff.rule, mode, version, "BACKWARD"))
            if forward and diff.widening:
                found.append(Breaking(diff.pointer, diff.change, diff.rule, mode, version, "FORWARD"))
    return found
