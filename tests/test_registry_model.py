"""The registry against a plain in-memory model, driven by hypothesis.

Every step applies one operation to both and checks they agree on the outcome (the
record, or the error class), the global revision, lists (through every page) and reads
at every earlier revision.
"""

from __future__ import annotations

import asyncio
import copy
import shutil
import tempfile
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from nsroot import errors
from nsroot.registry import Registry
from nsroot.store.sqlite import SQLiteOptions, SQLiteStore

T = TypeVar("T")

IDS = ["a", "a.b", "a.b.c", "a.c", "ab", "b", "b.a", "b.a.x"]
KINDS = ["team", "service"]
LABEL_VALUES = ["gold", "silver", ""]
SELECTORS = ["", "tier", "!tier", "tier=gold", "tier!=gold", "tier in (gold,silver)", "tier notin (gold)", "env,tier"]

labels_st = st.dictionaries(st.sampled_from(["tier", "env"]), st.sampled_from(LABEL_VALUES), max_size=2)
metadata_st = st.dictionaries(
    st.sampled_from(["x", "y"]),
    st.one_of(st.integers(0, 3), st.dictionaries(st.sampled_from(["p", "q"]), st.integers(0, 3), max_size=2)),
    max_size=2,
)


@dataclass
class Rec:
    kind: str
    owner: str
    state: str
    labels: dict[str, str]
    metadata: dict[str, Any]
    create_revision: int
    mod_revision: int
    version: int = 1


@dataclass
class Model:
    revision: int = 0
    current: dict[str, Rec] = field(default_factory=dict)
    snapshots: dict[int, dict[str, Rec]] = field(default_factory=lambda: {0: {}})

    def commit(self) -> int:
        self.revision += 1
        self.snapshots[self.revision] = copy.deepcopy(self.current)
        return self.revision

    def parent(self, ns_id: str) -> str | None:
        return ns_id.rpartition(".")[0] or None

    def subtree(self, ns_id: str) -> list[str]:
        return sorted(i for i in self.current if i == ns_id or i.startswith(ns_id + "."))


def merge(target: Any, patch: Any) -> Any:
    """RFC 7396, written independently of nsroot.records.merge_patch."""
    if not isinstance(patch, dict):
        return patch
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge(out.get(key), value)
    return out


def selected(selector: str, labels: dict[str, str]) -> bool:
    """A reference evaluation of the handful of selectors used here."""
    tier = labels.get("tier")
    return {
        "": True,
        "tier": "tier" in labels,
        "!tier": "tier" not in labels,
        "tier=gold": tier == "gold",
        "tier!=gold": tier != "gold",
        "tier in (gold,silver)": tier in ("gold", "silver"),
        "tier notin (gold)": tier != "gold",
        "env,tier": "env" in labels and "tier" in labels,
    }[selector]


class RegistryMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="nsroot-model-"))
        self.loop = asyncio.new_event_loop()
        self.registry = Registry(
            SQLiteStore(SQLiteOptions(self.tmp / "m.db", durability="process-crash")), schemaless_kinds=True
        )
        self.run(self.registry.open())
        self.model = Model()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def outcome(self, coro: Coroutine[Any, Any, T]) -> T | errors.NsRootError:
        try:
            return self.run(coro)
        except errors.NsRootError as exc:
            return exc

    def teardown(self) -> None:
        self.run(self.registry.close())
        self.loop.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def check_record(self, got: Any, ns_id: str, want: Rec) -> None:
        assert not isinstance(got, errors.NsRootError), got
        assert got.id == ns_id
        assert (got.kind, got.owner, got.state) == (want.kind, want.owner, want.state)
        assert got.labels == want.labels
        assert got.metadata == want.metadata
        assert (got.create_revision, got.mod_revision, got.version) == (
            want.create_revision,
            want.mod_revision,
            want.version,
        )

    # -- writes ----------------------------------------------------------------------

    @rule(ns_id=st.sampled_from(IDS), kind=st.sampled_from(KINDS), labels=labels_st, metadata=metadata_st)
    def create(self, ns_id: str, kind: str, labels: dict[str, str], metadata: dict[str, Any]) -> None:
        got = self.outcome(
            self.registry.create(ns_id, {"kind": kind, "labels": labels, "metadata": metadata}, subject="user:m")
        )
        model = self.model
        parent = model.parent(ns_id)
        if ns_id in model.current:
            assert isinstance(got, errors.AlreadyExists), got
        elif parent is not None and parent not in model.current:
            assert isinstance(got, errors.ParentNotFound), got
        else:
            revision = model.revision + 1
            model.current[ns_id] = Rec(kind, "user:m", "active", labels, metadata, revision, revision)
            model.commit()
            self.check_record(got, ns_id, model.current[ns_id])

    @rule(
        ns_id=st.sampled_from(IDS),
        kind=st.sampled_from(KINDS),
        labels=labels_st,
        state=st.sampled_from(["active", "deprecated", "retired"]),
        precondition=st.sampled_from(["none", "right", "wrong"]),
    )
    def replace(self, ns_id: str, kind: str, labels: dict[str, str], state: str, precondition: str) -> None:
        model = self.model
        existing = model.current.get(ns_id)
        expected = None
        if precondition == "right" and existing:
            expected = existing.mod_revision
        elif precondition == "wrong":
            expected = 10_000
        spec = {"kind": kind, "labels": labels, "state": state}
        got = self.outcome(self.registry.replace(ns_id, spec, subject="user:r", expected=expected))
        if existing is None:
            assert isinstance(got, errors.NotFound), got
        elif expected is not None and expected != existing.mod_revision:
            assert isinstance(got, errors.Conflict), got
        else:
            revision = model.revision + 1
            model.current[ns_id] = Rec(
                kind, existing.owner, state, labels, {}, existing.create_revision, revision, existing.version + 1
            )
            model.commit()
            self.check_record(got, ns_id, model.current[ns_id])

    @rule(
        ns_id=st.sampled_from(IDS),
        labels=st.dictionaries(st.sampled_from(["tier", "env"]), st.none() | st.sampled_from(LABEL_VALUES), max_size=2),
        metadata=st.none()
        | st.dictionaries(
            st.sampled_from(["x", "y"]),
            st.none() | st.integers(0, 3) | st.dictionaries(st.sampled_from(["p"]), st.none() | st.integers(0, 3)),
            max_size=2,
        ),
    )
    def patch(self, ns_id: str, labels: dict[str, str | None], metadata: dict[str, Any] | None) -> None:
        patch: dict[str, Any] = {"labels": labels}
        if metadata is not None:
            patch["metadata"] = metadata
        got = self.outcome(self.registry.patch(ns_id, patch, subject="user:p"))
        model = self.model
        existing = model.current.get(ns_id)
        if existing is None:
            assert isinstance(got, errors.NotFound), got
            return
        revision = model.revision + 1
        model.current[ns_id] = Rec(
            existing.kind,
            existing.owner,
            existing.state,
            merge(existing.labels, labels),
            merge(existing.metadata, metadata) if metadata is not None else existing.metadata,
            existing.create_revision,
            revision,
            existing.version + 1,
        )
        model.commit()
        self.check_record(got, ns_id, model.current[ns_id])

    @rule(ns_id=st.sampled_from(IDS), recursive=st.booleans(), wrong_revision=st.booleans())
    def delete(self, ns_id: str, recursive: bool, wrong_revision: bool) -> None:
        expected = 10_000 if wrong_revision else None
        got = self.outcome(self.registry.delete(ns_id, subject="user:d", recursive=recursive, expected=expected))
        model = self.model
        if ns_id not in model.current:
            assert isinstance(got, errors.NotFound), got
        elif wrong_revision:
            assert isinstance(got, errors.Conflict), got
        elif len(model.subtree(ns_id)) > 1 and not recursive:
            assert isinstance(got, errors.NotEmpty), got
        else:
            doomed = model.subtree(ns_id)
            for gone in doomed:
                del model.current[gone]
            revision = model.commit()
            assert not isinstance(got, errors.NsRootError), got
            assert got.ids == tuple(doomed)
            assert got.revision == revision

    @rule(bad=st.sampled_from(["A", "a..b", "-a", "a.", "", "a_b"]))
    def create_invalid(self, bad: str) -> None:
        got = self.outcome(self.registry.create(bad, {"kind": "team"}, subject="user:m"))
        assert isinstance(got, errors.InvalidInput), got

    @rule(revision=st.integers(1, 60))
    def compact(self, revision: int) -> None:
        model = self.model
        if revision > model.revision:
            got = self.outcome(self.registry.compact(revision))
            assert isinstance(got, errors.InvalidRevision), got
            return
        self.run(self.registry.compact(revision))
        for old in [r for r in model.snapshots if r < revision]:
            del model.snapshots[old]

    # -- reads -----------------------------------------------------------------------

    @rule(ns_id=st.sampled_from(IDS))
    def get(self, ns_id: str) -> None:
        got = self.outcome(self.registry.get(ns_id))
        want = self.model.current.get(ns_id)
        if want is None:
            assert isinstance(got, errors.NotFound), got
        else:
            self.check_record(got, ns_id, want)

    @rule(ns_id=st.sampled_from(IDS), back=st.integers(0, 30))
    def get_at_revision(self, ns_id: str, back: int) -> None:
        model = self.model
        revision = model.revision - back
        if revision < 1:
            return
        got = self.outcome(self.registry.get(ns_id, revision=revision))
        if revision not in model.snapshots:
            assert isinstance(got, errors.Compacted), got
            return
        want = model.snapshots[revision].get(ns_id)
        if want is None:
            assert isinstance(got, errors.NotFound), got
        else:
            self.check_record(got, ns_id, want)

    @rule(
        scope=st.sampled_from([("prefix", "a"), ("prefix", "b.a"), ("children_of", ""), ("children_of", "a"), None]),
        selector=st.sampled_from(SELECTORS),
        limit=st.integers(1, 3),
        back=st.integers(0, 5),
        write_between=st.booleans(),
    )
    def list_all_pages(
        self, scope: tuple[str, str] | None, selector: str, limit: int, back: int, write_between: bool
    ) -> None:
        model = self.model
        revision = max(model.revision - back, 0)
        kwargs: dict[str, Any] = {"selector": selector, "limit": limit}
        if scope:
            kwargs[scope[0]] = scope[1]
        if revision:
            kwargs["revision"] = revision
        first = self.outcome(self.registry.list(**kwargs))
        if revision and revision not in model.snapshots:
            assert isinstance(first, errors.Compacted), first
            return
        assert not isinstance(first, errors.NsRootError), first
        snapshot = model.snapshots[first.revision]
        ids = [r.id for r in first.items]
        cursor = first.next_cursor
        if write_between and cursor:
            self.create("b", "team", {}, {})  # a write between pages must not show up in them
        while cursor:
            page = self.run(self.registry.list(**{**kwargs, "cursor": cursor}))
            assert page.revision == first.revision
            ids.extend(r.id for r in page.items)
            cursor = page.next_cursor

        def in_scope(ns_id: str) -> bool:
            if scope is None:
                return True
            if scope[0] == "prefix":
                return ns_id == scope[1] or ns_id.startswith(scope[1] + ".")
            return (ns_id.rpartition(".")[0]) == scope[1]

        want = sorted(i for i, rec in snapshot.items() if in_scope(i) and selected(selector, rec.labels))
        assert ids == want
        count, at = self.run(self.registry.count(**{k: v for k, v in kwargs.items() if k != "limit"}))
        if not write_between:
            assert (count, at) == (len(want), first.revision)

    @invariant()
    def revision_agrees(self) -> None:
        assert self.run(self.registry.revision()) == self.model.revision


RegistryMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRegistryModel = RegistryMachine.TestCase
