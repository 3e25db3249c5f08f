"""The comparison of two schema documents: ``_Comparer`` walks both with an explicit stack
of ``_Task``\\s (pairs of subschemas, each with the polarity in which it is read), compares
each pair keyword by keyword, and collects one ``_Row`` per (pointer, rule, change)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from nsroot.schemas.compat.document import _DEFAULT_BASE, _apply_id, _Doc
from nsroot.schemas.compat.results import CANNOT_PROVE, UNANALYSED, Difference
from nsroot.schemas.compat.values import (
    _align,
    _apart,
    _canon,
    _child_kind,
    _has_in_place,
    _has_refs,
    _integral,
    _is_false,
    _is_number,
    _is_schema,
    _names,
    _pattern_matches,
    _pointer,
    _Profile,
    _profile,
    _show,
    _trivially_true,
    _type_atoms,
    _type_text,
)
from nsroot.schemas.compat.vocabulary import (
    _KNOWN,
    _LOWER_UNITS,
    _SIZE_MAX,
    _SIZE_MIN,
    _STRING_ASSERTIONS,
    _UPPER_UNITS,
    ANNOTATIONS,
)

_MAX_DEPTH: Final = 256  # subschema steps (each reference followed counts one); beyond: unanalysed

_POS: Final = 1
_NEG: Final = 2
_MIXED: Final = 3
_FLIP: Final = {_POS: _NEG, _NEG: _POS, _MIXED: _MIXED}

_WHY_NOT: Final = 'inside "not", so its effect is reversed'
_WHY_IF: Final = 'inside "if": a change moves documents between "then" and "else", so it breaks both ways'
_WHY_ONE_OF: Final = (
    'inside a "oneOf" branch that may overlap another: a change can make a document match none or two, '
    "so it breaks both ways"
)
_WHY_CONTAINS: Final = 'inside "contains" with "maxContains": a change moves the count either way'


@dataclass(slots=True)
class _Task:
    old: Any
    new: Any
    otoks: tuple[str, ...]  # where ``old`` is in the old document
    ntoks: tuple[str, ...]  # where ``new`` is in the new document: the pointer reported
    pol: int  # how a local change reads at the root: _POS, _NEG (swapped) or _MIXED (both)
    why: str | None  # said after the change text when pol is not _POS
    depth: int
    obase: str
    nbase: str


@dataclass(slots=True)
class _Row:
    narrowing: bool = False
    widening: bool = False
    whys: set[str] = field(default_factory=set)


class _Comparer:
    def __init__(self, old: Any, new: Any) -> None:
        self.old = _Doc(old)
        self.new = _Doc(new)
        self.refs_replace = self.old.draft07 or self.new.draft07  # draft-07: $ref hides its siblings
        self.rows: dict[tuple[tuple[str, ...], str, str], _Row] = {}
        self.stack: list[_Task] = []
        self.deferred: list[_Task] = []
        self.visited: set[tuple[tuple[str, ...], tuple[str, ...], int]] = set()
        self.reached: set[tuple[tuple[str, ...], tuple[str, ...]]] = set()

    # running

    def run(self) -> None:
        if self.old.dialect != self.new.dialect:
            self.unanalysed(("$schema",), f"dialect changed from {self.old.dialect} to {self.new.dialect}")
        self.stack.append(_Task(self.old.root, self.new.root, (), (), _POS, None, 0, _DEFAULT_BASE, _DEFAULT_BASE))
        self.visited.add(((), (), _POS))
        while True:
            while self.stack:
                self.compare(self.stack.pop())
            # definitions no reference reached: compared as if used directly
            while self.deferred and (self.deferred[-1].otoks, self.deferred[-1].ntoks) in self.reached:
                self.deferred.pop()
            if not self.deferred:
                return
            task = self.deferred.pop()
            self.reached.add((task.otoks, task.ntoks))
            self.stack.append(task)

    def result(self) -> list[Difference]:
        found = []
        for (tokens, rule, change), row in sorted(self.rows.items(), key=lambda item: item[0]):
            whys = (["directly"] if "" in row.whys else []) + sorted(row.whys - {""})
            if len(whys) > 1:  # reached several ways
                change = f"{change} (reached more than one way: {'; '.join(whys)})"
            elif whys != ["directly"]:
                change = f"{change} ({whys[0]})"
            found.append(Difference(_pointer(tokens), change, row.narrowing, row.widening, rule))
        return found

    # reporting

    def emit(
        self, task: _Task, tokens: tuple[str, ...], rule: str, change: str, narrowing: bool, widening: bool
    ) -> None:
        """Record a local change at ``tokens`` (relative to the task's schema)."""
        if not (narrowing or widening):
            return
        pol = task.pol
        n = (pol & _POS and narrowing) or (pol & _NEG and widening)
        w = (pol & _POS and widening) or (pol & _NEG and narrowing)
        self.add(task.ntoks + tokens, rule, change, bool(n), bool(w), task.why)

    def unanalysed(self, tokens: tuple[str, ...], detail: str) -> None:
        self.add(tokens, UNANALYSED, f"{detail}; {CANNOT_PROVE}", True, True, None)

    def add(
        self, tokens: tuple[str, ...], rule: str, change: str, narrowing: bool, widening: bool, why: str | None
    ) -> None:
        """One row per (pointer, rule, change): a change reached several ways (a definition
        referenced from several places) keeps every direction and every reason."""
        found = self.rows.setdefault((tokens, rule, change), _Row())
        found.narrowing |= narrowing
        found.widening |= widening
        found.whys.add(why or "")

    def sub(
        self,
        task: _Task,
        old: Any,
        new: Any,
        orel: tuple[str, ...],
        nrel: tuple[str, ...],
        pol: int = _POS,
        why: str | None = None,
    ) -> None:
        """Queue the comparison of two subschemas (relative paths ``orel``/``nrel``), read in
        polarity ``pol`` relative to this schema."""
        if task.pol == _MIXED:
            combined, reason = _MIXED, task.why
        elif task.pol == _NEG:
            combined = _FLIP[pol]
            reason = why if pol == _MIXED else (_WHY_NOT if combined == _NEG else None)
        else:
            combined, reason = pol, why
        self.stack.append(
            _Task(
                old,
                new,
                task.otoks + orel,
                task.ntoks + nrel,
                combined,
                reason,
                task.depth + 1,
                task.obase,
                task.nbase,
            )
        )

    def malformed(self, task: _Task, o: dict[str, Any], n: dict[str, Any], keyword: str) -> None:
        if _canon(o.get(keyword), _child_kind("schema", keyword, o.get(keyword))) != _canon(
            n.get(keyword), _child_kind("schema", keyword, n.get(keyword))
        ) or ((keyword in o) != (keyword in n)):
            self.unanalysed((*task.ntoks, keyword), f"{keyword} changed and is not in a form ns-root reads")

    # one pair of schemas

    def compare(self, task: _Task) -> None:
        old, new = task.old, task.new
        if task.depth > _MAX_DEPTH:
            if _canon(old, "schema") != _canon(new, "schema"):
                self.unanalysed(task.ntoks, "changed deeper than ns-root follows")
            return
        if not _is_schema(old) or not _is_schema(new):
            if _canon(old, "schema") != _canon(new, "schema"):
                self.unanalysed(task.ntoks, "changed, and is not a schema")
            return
        old_false, new_false = _is_false(old), _is_false(new)
        if old_false or new_false:
            if not new_false:
                self.emit(
                    task, (), "no-longer-false", "was false (rejected every value); now accepts some", False, True
                )
            elif not old_false:
                self.emit(task, (), "became-false", "became false (now rejects every value)", True, False)
            return
        o: dict[str, Any] = {} if old is True else old
        n: dict[str, Any] = {} if new is True else new
        task.obase = _apply_id(task.obase, o, self.old.draft07)
        task.nbase = _apply_id(task.nbase, n, self.new.draft07)
        self.definitions(task, o, n)
        if (self.old.draft07 and "$ref" in o) or (self.new.draft07 and "$ref" in n):
            self.ref(task, o, n, replaces=True)  # draft-07: $ref replaces every sibling keyword
            return
        self.ref(task, o, n, replaces=False)
        self.dynamic_ref(task, o, n)
        self.type_(task, o, n)
        self.enum(task, o, n)
        self.const(task, o, n)
        for lower in _LOWER_UNITS:
            self.bound_unit(task, o, n, lower, lower=True)
        for upper in _UPPER_UNITS:
            self.bound_unit(task, o, n, upper, lower=False)
        self.multiple_of(task, o, n)
        for keyword in _SIZE_MIN:
            self.size(task, o, n, keyword, lower=True)
        for keyword in _SIZE_MAX:
            self.size(task, o, n, keyword, lower=False)
        for keyword, slug in _STRING_ASSERTIONS.items():
            self.assertion(task, o, n, keyword, slug)
        self.unique_items(task, o, n)
        self.required(task, o, n)
        self.dependencies(task, o, n)
        self.object_members(task, o, n)
        self.array_members(task, o, n)
        self.contains(task, o, n)
        self.combinators(task, o, n)
        self.conditional(task, o, n)
        for keyword in sorted((o.keys() | n.keys()) - _KNOWN - ANNOTATIONS):
            if _canon(o.get(keyword)) != _canon(n.get(keyword)) or (keyword in o) != (keyword in n):
                self.unanalysed((*task.ntoks, keyword), f"unknown keyword {keyword} changed")

    # references and definitions

    def definitions(self, task: _Task, o: dict[str, Any], n: dict[str, Any]) -> None:
        for keyword in ("$defs", "definitions"):
            od, nd = o.get(keyword), n.get(keyword)
            if isinstance(od, dict) and isinstance(nd, dict):
                for name in sorted(od.keys() & nd.keys()):
                    self.deferred.append(
                        _Task(
                            od[name],
                            nd[name],
                            (*task.otoks, keyword, name),
                            (*task.ntoks, keyword, name),
                            _POS,
                            None,
                            task.depth + 1,
                            task.obase,
                            task.nbase,
                        )
                    )

    def ref(self, task: _Task, o: dict[str, Any], n: dict[str, Any], *, replaces: bool) -> None:
        ro, rn = o.get("$ref"), n.get("$ref")
        if ro is None and rn is None:
            return
        if (ro is not None and not isinstance(ro, str)) or (rn is not None and not isinstance(rn, str)):
            self.malformed(task, o, n, "$ref")
            return
        if ro is None or rn is None:
            if replaces:
                what = f"$ref {_show(rn)} added" if ro is None else f"$ref {_show(ro)} removed"
                self.unanalysed((*task.ntoks, "$ref"), f"{what}, and in draft-07 it replaces its sibling keywords")
            elif ro is None:
                self.emit(task, ("$ref",), "ref-added", f"$ref {_show(rn)} added", True, False)
            else:
                self.emit(task, ("$ref",), "ref-removed", f"$ref {_show(ro)} removed", False, True)
            return
        old_status, old_tokens, old_node, old_base = self.old.resolve(ro, task.obase)
        new_status, new_tokens, new_node, new_base = self.new.resolve(rn, task.nbase)
        if old_status == "local" and new_status == "local":
            key = (old_tokens, new_tokens, task.pol)
            self.reached.add((old_tokens, new_tokens))
            if key not in self.visited:
                self.visited.add(key)
                self.stack.append(
                    _Task(
                        old_node,
                        new_node,
                        old_tokens,
                        new_tokens,
                        task.pol,
                        task.why,
                        task.depth + 1,
                        old_base,
                        new_base,
                    )
                )
        elif old_status != new_status or old_base != new_base:
            # old_base/new_base hold the absolute URIs for remote and dangling references
            self.unanalysed((*task.ntoks, "$ref"), f"$ref changed from {_show(ro)} to {_show(rn)}")

    def dynamic_ref(self, task: _Task, o: dict[str, Any], n: dict[str, Any]) -> None:
        if ("$dynamicRef" in o or "$dynamicRef" in n) and self.old.canon() != self.new.canon():
            self.unanalysed(
                (*task.ntoks, "$dynamicRef"),
                "the document changed and $dynamicRef is resolved by the dynamic scope at validation time",
            )

    # single keywords

    def type_(self, task: _Task, o: dict[str, Any], n: dict[str, Any]) -> None:
        if "type" not in o and "type" not in n:
            return
        old_atoms, new_atoms = _type_atoms(o), _type_atoms(n)
        if old_atoms is None or new_atoms is None:
            self.malformed(task, o, n, "type")
            return
        narrowing, widening = bool(old_atoms - new_atoms), bool(new_atoms - old_atoms)
        before, after = _type_text(o), _type_text(n)
        if narrowing and widening:
            self.emit(task, ("type",), "type-changed", f"changed from {before} to {after}", True, True)
        elif narrowing:
            self.emit(task, ("type",), "type-narrowed", f"narrowed from {before} to {after}", True, False)
        elif widening:
            self.emit(task, ("type",), "type-widened", f"widened from {before} to {after}", False, True)

    def enum(self, task: _Task, o: dict[str, Any], n: dict[str, Any]) -> None:
        eo, en = o.get("enum"), n.get("enum")
        if eo is None and en is None:
            return
        if (eo is not None and not isinstance(eo, list)) or (en is not None and not isinstance(en, list)):
            self.malformed(task, o, n, "enum")
            return
        if eo is None or en is None:
            values = ", ".join(_show(v) for v in (en if eo is None else eo) or [])
            if eo is None:
                self.emit(task, ("enum",), "enum-added", f"enum added: only {values} allowed", True, False)
            else:
                self.emit(task, ("enum",), "enum-removed", f"enum removed (allowed only {values})", False, True)
            return
        old_values = {_canon(v): v for v in eo}
        new_values = {_canon(v): v for v in en}
        for text, value in old_values.items():
            if text not in new_values:
                self.emit(task, ("enum",), "enum-value-removed", f"value {_show(value)} removed", True, False)
        for text, value in new_values.items():
            if text not in old_values:
                self.emit(task, ("enum",), "enum-value-added", f"value {_show(value)} added", False, True)

    def const(self, task: _Task, o: dict[str, Any], n: dict[str, Any]) -> None:
        if "const" in o and "const" in n:
            if _canon(o["const"]) != _canon(n["const"]):
                change = f"const changed from {_show(o['const'])} to {_show(n['const'])}"
                self.emit(task, ("const",), "const-changed", change, True, True)
        elif "const" in n:
            self.emit(task, ("const",), "const-added", f"const {_show(n['const'])} added", True, False)
        elif "const" in o:
            self.emit(task, ("const",), "const-removed", f"const {_show(o['const'])} removed", False, True)

    def bound_unit(
        self, task: _Task, o: dict[str, Any], n: dict[str, Any], keywords: tuple[str, str], *, lower: bool
    ) -> None:
        """``minimum``/``exclusiveMinimum`` (or the maximums): each keyword's change is
        reported, in the direction the effective bound moved (so trading ``minimum: 5``
        for ``exclusiveMinimum: 4`` is widening only)."""
        present = [k for k in keywords if k in o or k in n]
        if not present:
            return
        for keyword in present:
            if any(keyword in d and not _is_number(d[keyword]) for d in (o, n)):
                for other in present:
                    self.malformed(task, o, n, other)
                return
        sign = 1 if lower else -1

        def tightness(d: dict[str, Any]) -> tuple[float, bool]:
            best: tuple[float, bool] = (-math.inf, False)
            for keyword, exclusive in zip(keywords, (False, True), strict=True):
                if keyword in d:
                    best = max(best, (sign * d[keyword], exclusive))
            return best

        unit_narrowing = tightness(n) > tightness(o)
        unit_widening = tightness(n) < tightness(o)
        for keyword in present:
            self.bound(task, o, n, keyword, lower, unit_narrowing, unit_widening, None)

    def bound(
        self,
        task: _Task,
        o: dict[str, Any],
        n: dict[str, Any],
        keyword: str,
        lower: bool,
        allow_narrowing: bool,
        allow_widening: bool,
        default: float | None,
    ) -> None:
        a, b = o.get(keyword), n.get(keyword)
        if a is None and b is None:
            return
        effective_a = a if a is not None else default
        effective_b = b if b is not None else default
        up, down = ("raised", "lowered") if lower else ("lowered", "raised")
        if effective_a is not None and effective_b is not None:
            if effective_a == effective_b:
                return
            tighter = effective_b > effective_a if lower else effective_b < effective_a
            if a is not None and b is not None:
                change = f"{keyword} {up if tighter else down} from {_show(a)} to {_show(b)}"
            elif b is not None:
                change = f"{keyword} {_show(b)} added" + (f" (the default is {_show(default)})" if default else "")
            else:
                change = f"{keyword} {_show(a)} removed" + (f" (the default is {_show(default)})" if default else "")
        elif b is not None:
            tighter, change = True, f"{keyword} {_show(b)} added"
        else:
            tighter, change = False, f"{keyword} {_show(a)} removed"
        if tighter and allow_narrowing:
            self.emit(task, (keyword,), "bound-tightened", change, True, False)
        elif not tighter and allow_widening:
            self.emit(task, (keyword,), "bound-loosened", change, False, True)

    def size(self, task: _Task, o: dict[str, Any], n: dict[str, Any], keyword: str, *, lower: bool) -> None:
        if keyword not in o and keyword not in n:
            return
        if any(keyword in d and not (_is_number(d[keyword]) and d[keyword] >= 0) for d in (o, n)):
            self.malformed(task, o, n, keyword)
            return
        self.bound(task, o, n, keyword, lower, True, True, 0 if lower else None)

    def multiple_of(self, task: _Task, o: dict[str, Any], n: dict[str, Any]) -> None:
        a, b = o.get("multipleOf"), n.get("multipleOf")
        if a is None and b is None:
            return
        if any(v is not None and not (_is_number(v) and v > 0) for v in (a, b)):
            self.malformed(task, o, n, "multipleOf")
            return
        if a is None:
            self.emit(task, ("multipleOf",), "multiple-of-added", f"multipleOf {_show(b)} added", True, False)
        elif b is None:
            self.emit(task, ("multipleOf",), "multiple-of-removed", f"multipleOf {_show(a)} removed", False, True)
        elif a != b:
            change = f"multipleOf changed from {_show(a)} to {_show(b)}"
            if _integral(a) and _integral(b):  # exact; fractions are left to the validator's float rounding
                ia, ib = int(a), int(b)
                if ib % ia == 0:
                    self.emit(task, ("multipleOf",), "multiple-of-narrowed", change, True, False)
                    return
                if ia % ib == 0:
                    self.emit(task, ("multipleOf",), "multiple-of-widened", change, False, True)
                    return
            self.emit(task, ("multipleOf",), "multiple-of-changed", change, True, True)

    def assertion(self, task: _Task, o: dict[str, Any], n: dict[str, Any], keyword: str, slug: str) -> None:
        if keyword in o and keyword in n:
            if _canon(o[keyword]) != _canon(n[keyword]):
                change = f"{keyword} changed from {_show(o[keyword])} to {_show(n[keyword])}"
                self.emit(task, (keyword,), f"{slug}-changed", change, True, True)
        elif keyword in n:
            self.emit(task, (keyword,), f"{slug}-added", f"{keyword} {_show(n[keyword])} added", True, False)
        elif keyword in o:
            self.emit(task, (keyword,), f"{slug}-removed", f"{keyword} {_show(o[keyword])} removed", False, True)

    def unique_items(self, task: _Task, o: dict[str, Any], n: dict[str, Any]) -> None:
        a, b = o.get("uniqueItems", False), n.get("uniqueItems", False)
        if not isinstance(a, bool) or not isinstance(b, bool):
            self.malformed(task, o, n, "uniqueItems")
        elif b and not a:
            self.emit(task, ("uniqueItems",), "unique-items-added", "uniqueItems became true", True, False)
        elif a and not b:
            self.emit(task, ("uniqueItems",), "unique-items-removed", "uniqueItems is no longer true", False, True)

    def required(self, task: _Task, o: dict[str, Any], n: dict[str, Any]) -> None:
        a, b = o.get("required", []), n.get("required", [])
        if not _names(a) or not _names(b):
            self.malformed(task, o, n, "required")
            return
        for name in sorted(set(b) - set(a)):
            self.emit(task, ("properties", name), "required-added", "became required", True, False)
        for name in sorted(set(a) - set(b)):
            self.emit(task, ("properties", name), "required-removed", "no longer required", False, True)

    def dependencies(self, task: _Task, o: dict[str, Any], n: dict[str, Any]) -> None:
        """``dependentRequired`` and ``dependentSchemas``, and draft-07 ``dependencies``."""
        for keyword in ("dependentRequired", "dependentSchemas", "dependencies"):
            od, nd = o.get(keyword, {}), n.get(keyword, {})
            if not isinstance(od, dict) or not isinstance(nd, dict):
                self.malformed(task, o, n, keyword)
                continue
            for key in sorted(od.keys() | nd.keys()):
                a, b = od.get(key), nd.get(key)
                where = (keyword, key)
                if (a is None or isinstance(a, list)) and (b is None or isinstance(b, list)):
                    if not _names(a or []) or not _names(b or []):
                        self.malformed(task, o, n, keyword)
                        continue
                    for name in sorted(set(b or []) - set(a or [])):
                        change = f"{_show(name)} became required when {_show(key)} is present"
                        self.emit(task, where, "dependent-required-added", change, True, False)
                    for name in sorted(set(a or []) - set(b or [])):
                        change = f"{_show(name)} no longer required when {_show(key)} is present"
                        self.emit(task, where, "dependent-required-removed", change, False, True)
                elif a is None:
                    if not _trivially_true(b):
                        change = f"dependent schema for {_show(key)} added"
                        self.emit(task, where, "dependent-schema-added", change, True, False)
                elif b is None:
                    if not _trivially_true(a):
                        change = f"dependent schema for {_show(key)} removed"
                        self.emit(task, where, "dependent-schema-removed", change, False, True)
                else:  # schemas (a list of names reads as {"required": names})
                    sa = {"required": a} if isinstance(a, list) else a
                    sb = {"required": b} if isinstance(b, list) else b
                    self.sub(task, sa, sb, where, where)

    # objects

    def object_members(self, task: _Task, o: dict[str, Any], n: dict[str, Any]) -> None:
        """``properties``, ``patternProperties``, ``additionalProperties``,
        ``unevaluatedProperties`` and ``propertyNames``, as one unit."""
        shapes = []
        for d, keyword in ((o, "properties"), (n, "properties"), (o, "patternProperties"), (n, "patternProperties")):
            value = d.get(keyword, {})
            if not isinstance(value, dict):
                self.malformed(task, o, n, keyword)
                value = {}
            shapes.append(value)
        old_props, new_props, old_patterns, new_patterns = shapes
        old_rest, old_rest_kw = _closure(o, "properties", self.old.draft07)
        new_rest, new_rest_kw = _closure(n, "properties", self.new.draft07)

        for name in sorted(old_props.keys() | new_props.keys()):
            where = ("properties", name)
            if name in old_props and name in new_props:
                self.sub(task, old_props[name], new_props[name], where, where)
                continue
            added = name in new_props
            patterns, rest, rest_kw = (
                (old_patterns, old_rest, old_rest_kw) if added else (new_patterns, new_rest, new_rest_kw)
            )
            matches = [_pattern_matches(p, name) for p in patterns]
            if any(matches):
                rest, rest_kw = True, "patternProperties"  # compared on their own
            elif _trivially_true(rest):
                rest, rest_kw = True, None
            elif None in matches:
                side = "old" if added else "new"
                self.unanalysed(
                    task.ntoks + where,
                    f"property {_show(name)} {'added' if added else 'removed'}; ns-root cannot tell whether "
                    f"patternProperties of the {side} schema match it",
                )
                continue
            self.slot(
                task, "property", f"property {_show(name)}", where, rest, rest_kw, added, old_props, new_props, name
            )

        for pattern in sorted(old_patterns.keys() | new_patterns.keys()):
            where = ("patternProperties", pattern)
            if pattern in old_patterns and pattern in new_patterns:
                self.sub(task, old_patterns[pattern], new_patterns[pattern], where, where)
                continue
            added = pattern in new_patterns
            schema = new_patterns[pattern] if added else old_patterns[pattern]
            rest, rest_kw = (old_rest, old_rest_kw) if added else (new_rest, new_rest_kw)
            verb, side = ("added", "old") if added else ("removed", "new")
            # it may also match named properties or other patterns: constraining it narrows
            constrains = not _trivially_true(schema)
            if _trivially_true(rest):
                frees, slug, change = False, f"pattern-property-{verb}", f"pattern property {_show(pattern)} {verb}"
            elif _is_false(rest):
                frees = not _is_false(schema)
                slug = f"pattern-property-{verb}-{'to' if added else 'from'}-closed"
                change = f"pattern property {_show(pattern)} {verb} while {rest_kw} is false in the {side} schema"
            else:
                frees, slug, change = False, f"pattern-property-{verb}", f"pattern property {_show(pattern)} {verb}"
                rest_where = (rest_kw or "additionalProperties",)
                if added:
                    self.sub(task, rest, schema, rest_where, where)
                else:  # reported where the pattern was
                    self.sub(task, schema, rest, where, where)
            if added:
                self.emit(task, where, slug, change, constrains, frees)
            else:
                self.emit(task, where, slug, change, frees, constrains)

        if old_rest_kw or new_rest_kw:
            keyword = (
                "additionalProperties"
                if "additionalProperties" in (old_rest_kw, new_rest_kw)
                else "unevaluatedProperties"
            )
            self.sub(task, old_rest, new_rest, (old_rest_kw or keyword,), (new_rest_kw or keyword,))
        self.unevaluated(task, o, n, "additionalProperties", "unevaluatedProperties", frozenset())

        if "propertyNames" in o or "propertyNames" in n:
            names = ("propertyNames",)
            self.sub(task, o.get("propertyNames", True), n.get("propertyNames", True), names, names)

    def slot(
        self,
        task: _Task,
        noun: str,
        label: str,
        where: tuple[str, ...],
        rest: Any,
        rest_kw: str | None,
        added: bool,
        old_map: Any,
        new_map: Any,
        key: Any,
    ) -> None:
        """A property (or tuple item) on one side only; on the other side ``rest`` (the
        additionalProperties or items schema in effect there) governed its values."""
        schema = new_map[key] if added else old_map[key]
        if _is_false(rest):
            if not _is_false(schema):
                if added:
                    change = f"{label} added while {rest_kw} is false in the old schema"
                    self.emit(task, where, f"{noun}-added-to-closed", change, False, True)
                else:
                    change = f"{label} removed while {rest_kw} is false in the new schema"
                    self.emit(task, where, f"{noun}-removed-from-closed", change, True, False)
        elif _trivially_true(rest):
            if not _trivially_true(schema):
                by_pattern = rest_kw == "patternProperties"
                if added:
                    how = "constrained it only through patternProperties" if by_pattern else "did not constrain it"
                    self.emit(task, where, f"{noun}-added", f"{label} added; the old schema {how}", True, False)
                else:
                    how = "constrains it only through patternProperties" if by_pattern else "does not constrain it"
                    self.emit(task, where, f"{noun}-removed", f"{label} removed; the new schema {how}", False, True)
        elif added:  # compare the old rest schema with the new one
            self.sub(task, rest, schema, (rest_kw or "",), where)
        else:  # reported where it was
            self.sub(task, schema, rest, where, where)

    def unevaluated(
        self, task: _Task, o: dict[str, Any], n: dict[str, Any], rest_kw: str, keyword: str, extra: frozenset[str]
    ) -> None:
        """``unevaluatedProperties``/``unevaluatedItems`` beside in-place applicators: what they
        cover depends on every subschema, so any change there counts both ways."""

        def sensitive(d: dict[str, Any], draft07: bool) -> bool:
            rest_present = _array_layout(d)[3] is not None if keyword == "unevaluatedItems" else rest_kw in d
            return (
                not draft07  # draft-07 has no unevaluated keywords
                and not rest_present
                and keyword in d
                and not _trivially_true(d[keyword])
                and _has_in_place(d, extra)
            )

        if not (sensitive(o, self.old.draft07) or sensitive(n, self.new.draft07)):
            return
        changed = _canon(o, "schema") != _canon(n, "schema")
        if not changed and (_has_refs(o) or _has_refs(n)):
            changed = self.old.canon() != self.new.canon()
        if changed:
            self.unanalysed(
                (*task.ntoks, keyword),
                f"the schema changed beside {keyword} and in-place subschemas, which decide what it covers",
            )

    # arrays

    def array_members(self, task: _Task, o: dict[str, Any], n: dict[str, Any]) -> None:
        """``prefixItems`` (or draft-07 ``items`` as a list), ``items`` (or ``additionalItems``)
        and ``unevaluatedItems``, as one unit."""
        old_prefix, old_prefix_kw, _, _ = _array_layout(o)
        new_prefix, new_prefix_kw, _, _ = _array_layout(n)
        if old_prefix is None or new_prefix is None:
            for keyword in ("prefixItems", "items", "additionalItems"):
                self.malformed(task, o, n, keyword)
            return
        old_rest, old_rest_kw = _closure(o, "items", self.old.draft07)
        new_rest, new_rest_kw = _closure(n, "items", self.new.draft07)
        for i in range(max(len(old_prefix), len(new_prefix))):
            if i < len(old_prefix) and i < len(new_prefix):
                self.sub(task, old_prefix[i], new_prefix[i], (old_prefix_kw, str(i)), (new_prefix_kw, str(i)))
                continue
            added = i >= len(old_prefix)
            where = ((new_prefix_kw if added else old_prefix_kw), str(i))
            rest, rest_kw = (old_rest, old_rest_kw) if added else (new_rest, new_rest_kw)
            self.slot(task, "item", f"item {i}", where, rest, rest_kw, added, old_prefix, new_prefix, i)
        if old_rest_kw or new_rest_kw:
            kws = (old_rest_kw, new_rest_kw)
            keyword = next(k for k in ("items", "additionalItems", "unevaluatedItems") if k in kws)
            self.sub(task, old_rest, new_rest, (old_rest_kw or keyword,), (new_rest_kw or keyword,))
        self.unevaluated(task, o, n, "", "unevaluatedItems", frozenset({"contains"}))

    def contains(self, task: _Task, o: dict[str, Any], n: dict[str, Any]) -> None:
        """``contains`` with ``minContains`` (default 1) and ``maxContains``, as one unit."""
        if "contains" not in o and "contains" not in n:
            return  # minContains/maxContains do nothing without contains
        # draft-07 has no minContains/maxContains: there contains means "at least one"
        o = {k: v for k, v in o.items() if not (self.old.draft07 and k in ("minContains", "maxContains"))}
        n = {k: v for k, v in n.items() if not (self.new.draft07 and k in ("minContains", "maxContains"))}
        for keyword in ("minContains", "maxContains"):
            if any(keyword in d and not (_is_number(d[keyword]) and d[keyword] >= 0) for d in (o, n)):
                self.malformed(task, o, n, keyword)
                return
        if "contains" in o and "contains" in n:
            counted = "maxContains" in o or "maxContains" in n
            pol, why = (_MIXED, _WHY_CONTAINS) if counted else (_POS, None)
            self.sub(task, o["contains"], n["contains"], ("contains",), ("contains",), pol, why)
            self.bound(task, o, n, "minContains", True, True, True, 1)
            self.bound(task, o, n, "maxContains", False, True, True, None)
            return
        d = n if "contains" in n else o
        vacuous = d.get("minContains", 1) == 0 and "maxContains" not in d
        if not vacuous and "contains" in n:
            self.emit(task, ("contains",), "contains-added", "contains added", True, False)
        elif not vacuous:
            self.emit(task, ("contains",), "contains-removed", "contains removed", False, True)

    # combinators

    def combinators(self, task: _Task, o: dict[str, Any], n: dict[str, Any]) -> None:
        for keyword in ("allOf", "anyOf", "oneOf"):
            a, b = o.get(keyword), n.get(keyword)
            if a is None and b is None:
                continue
            if (a is not None and not isinstance(a, list)) or (b is not None and not isinstance(b, list)):
                self.malformed(task, o, n, keyword)
                continue
            if keyword == "allOf":
                self.all_of(task, a or [], b or [])
            elif a is None or b is None:
                self.union_presence(task, keyword, a, b)
            elif keyword == "anyOf":
                self.any_of(task, a, b)
            else:
                self.one_of(task, a, b)
        if "not" in o and "not" in n:
            self.sub(task, o["not"], n["not"], ("not",), ("not",), _NEG, _WHY_NOT)
        elif "not" in n and not _is_false(n["not"]):
            self.emit(task, ("not",), "not-added", '"not" added', True, False)
        elif "not" in o and not _is_false(o["not"]):
            self.emit(task, ("not",), "not-removed", '"not" removed', False, True)

    def all_of(self, task: _Task, a: list[Any], b: list[Any]) -> None:
        pairs, added, removed = _align(a, b)
        for i, j in pairs:
            self.sub(task, a[i], b[j], ("allOf", str(i)), ("allOf", str(j)))
        for j in added:
            if not _trivially_true(b[j]):
                self.emit(task, ("allOf", str(j)), "all-of-branch-added", f"allOf branch {j} added", True, False)
        for i in removed:
            if not _trivially_true(a[i]):
                self.emit(task, ("allOf", str(i)), "all-of-branch-removed", f"allOf branch {i} removed", False, True)

    def union_presence(self, task: _Task, keyword: str, a: list[Any] | None, b: list[Any] | None) -> None:
        slug = "any-of" if keyword == "anyOf" else "one-of"
        branches = b if a is None else a
        assert branches is not None
        if keyword == "anyOf":
            vacuous = any(_trivially_true(s) for s in branches)
        else:
            vacuous = len(branches) == 1 and _trivially_true(branches[0])
        if vacuous:
            return
        if a is None:
            self.emit(task, (keyword,), f"{slug}-added", f"{keyword} added", True, False)
        else:
            self.emit(task, (keyword,), f"{slug}-removed", f"{keyword} removed", False, True)

    def any_of(self, task: _Task, a: list[Any], b: list[Any]) -> None:
        pairs, added, removed = _align(a, b)
        for i, j in pairs:
            self.sub(task, a[i], b[j], ("anyOf", str(i)), ("anyOf", str(j)))
        for j in added:
            if not _is_false(b[j]):
                self.emit(task, ("anyOf", str(j)), "any-of-branch-added", f"anyOf branch {j} added", False, True)
        for i in removed:
            if not _is_false(a[i]):
                self.emit(task, ("anyOf", str(i)), "any-of-branch-removed", f"anyOf branch {i} removed", True, False)

    def one_of(self, task: _Task, a: list[Any], b: list[Any]) -> None:
        """Exactly one branch must match: a branch that may overlap another is read both
        ways (widening it can make a document match two branches)."""
        pairs, added, removed = _align(a, b)
        old_profiles = [_profile(s, self.refs_replace) for s in a]
        new_profiles = [_profile(s, self.refs_replace) for s in b]

        def apart(mine: Sequence[_Profile], skip_old: int | None, skip_new: int | None) -> bool:
            """Whether ``mine`` are disjoint from every other branch, old or new."""
            others = [p for k, p in enumerate(old_profiles) if k != skip_old]
            others += [p for k, p in enumerate(new_profiles) if k != skip_new]
            return all(_apart(p, other) for p in mine for other in others)

        for i, j in pairs:
            disjoint = apart((old_profiles[i], new_profiles[j]), i, j)
            pol, why = (_POS, None) if disjoint else (_MIXED, _WHY_ONE_OF)
            self.sub(task, a[i], b[j], ("oneOf", str(i)), ("oneOf", str(j)), pol, why)
        for j in added:
            if not _is_false(b[j]):
                overlaps = not apart((new_profiles[j],), None, j)
                self.emit(task, ("oneOf", str(j)), "one-of-branch-added", f"oneOf branch {j} added", overlaps, True)
        for i in removed:
            if not _is_false(a[i]):
                overlaps = not apart((old_profiles[i],), i, None)
                self.emit(task, ("oneOf", str(i)), "one-of-branch-removed", f"oneOf branch {i} removed", True, overlaps)

    def conditional(self, task: _Task, o: dict[str, Any], n: dict[str, Any]) -> None:
        if "if" in o and "if" in n:
            self.sub(task, o["if"], n["if"], ("if",), ("if",), _MIXED, _WHY_IF)
            for keyword in ("then", "else"):
                if keyword in o or keyword in n:
                    self.sub(task, o.get(keyword, True), n.get(keyword, True), (keyword,), (keyword,))
            return
        d = n if "if" in n else o
        if "if" not in d or (_trivially_true(d.get("then", True)) and _trivially_true(d.get("else", True))):
            return
        if "if" in n:
            self.emit(task, ("if",), "conditional-added", "if/then/else added", True, False)
        else:
            self.emit(task, ("if",), "conditional-removed", "if/then/else removed", False, True)


def _array_layout(d: dict[str, Any]) -> tuple[list[Any] | None, str, Any, str | None]:
    """(prefix schemas, their keyword, the schema for the items after them, its keyword);
    the prefix is None when malformed. Absent rest is (True, None)."""
    items = d.get("items")
    if "prefixItems" in d:
        if not isinstance(d["prefixItems"], list) or isinstance(items, list):
            return None, "prefixItems", True, None
        return d["prefixItems"], "prefixItems", items if "items" in d else True, "items" if "items" in d else None
    if isinstance(items, list):  # draft-07 tuple form
        rest_present = "additionalItems" in d
        return items, "items", d.get("additionalItems", True), "additionalItems" if rest_present else None
    if "items" in d:
        return [], "prefixItems", items, "items"
    return [], "prefixItems", True, None


def _closure(d: dict[str, Any], members: Literal["properties", "items"], draft07: bool) -> tuple[Any, str | None]:
    """The schema governing the members no name (or index) covers, and its keyword: the
    rest keyword (additionalProperties; items or additionalItems), else the unevaluated one
    (not in draft-07) when no in-place subschema can evaluate members, else (True, None)."""
    if members == "items":
        _, _, rest, kw = _array_layout(d)
        unevaluated, extra = "unevaluatedItems", frozenset({"contains"})
    else:
        kw = "additionalProperties" if "additionalProperties" in d else None
        rest = d.get("additionalProperties", True)
        unevaluated, extra = "unevaluatedProperties", frozenset()
    if kw is not None:
        return rest, kw
    if unevaluated in d and not draft07 and not _has_in_place(d, extra):
        return d[unevaluated], unevaluated
    return True, None
