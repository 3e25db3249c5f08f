"""One schema document as the checker sees it: its dialect, where its ``$id`` resources and
anchors are, and the resolution of a reference into it."""

from __future__ import annotations

import re
from typing import Any, Final
from urllib.parse import unquote, urljoin

from nsroot.schemas.compat.values import _canon, _child_kind, _children

_DEFAULT_BASE: Final = "https://ns-root.invalid/schema"


def _apply_id(base: str, node: Any, draft07: bool) -> str:
    ident = node.get("$id") if isinstance(node, dict) else None
    if not isinstance(ident, str) or (draft07 and ident.startswith("#")):
        return base
    return urljoin(base, ident).partition("#")[0]


class _Doc:
    """One schema document: its dialect, and where its ``$id``\\s and anchors are."""

    __slots__ = ("_canon", "anchors", "dialect", "draft07", "resources", "root")

    def __init__(self, root: Any) -> None:
        self.root = root
        declared = root.get("$schema") if isinstance(root, dict) else None
        self.draft07 = isinstance(declared, str) and "draft-07" in declared
        self.dialect = "draft-07" if self.draft07 else "2020-12"
        self.resources: dict[str, tuple[str, ...]] = {_DEFAULT_BASE: ()}
        self.anchors: dict[str, tuple[str, ...]] = {}
        self._canon: str | None = None
        stack: list[tuple[tuple[str, ...], Any, str]] = [((), root, _DEFAULT_BASE)]
        while stack:
            tokens, node, base = stack.pop()
            if not isinstance(node, dict):
                continue
            here = _apply_id(base, node, self.draft07)
            ident = node.get("$id")
            if isinstance(ident, str):
                if self.draft07 and ident.startswith("#"):
                    self.anchors.setdefault(here + ident, tokens)
                else:
                    self.resources.setdefault(here, tokens)
            for key in ("$anchor", "$dynamicAnchor"):
                if isinstance(node.get(key), str):
                    self.anchors.setdefault(f"{here}#{node[key]}", tokens)
            stack.extend((tokens + rel, child, here) for rel, child in _children(node))

    def canon(self) -> str:
        if self._canon is None:
            self._canon = _canon(self.root, "schema")
        return self._canon

    def locate(self, tokens: tuple[str, ...]) -> tuple[Any, str] | None:
        """The node at ``tokens`` and the base URI in effect there (before its own ``$id``)."""
        node, base, kind = self.root, _DEFAULT_BASE, "schema"
        for token in tokens:
            if kind == "schema":
                base = _apply_id(base, node, self.draft07)
            if isinstance(node, dict) and token in node:
                child = node[token]
            elif isinstance(node, list) and re.fullmatch(r"0|[1-9][0-9]*", token) and int(token) < len(node):
                child = node[int(token)]
            else:
                return None
            kind = _child_kind(kind, token, child)
            node = child
        return node, base

    def resolve(self, ref: str, base: str) -> tuple[str, tuple[str, ...], Any, str]:
        """("local", tokens, node, base) for a reference into this document; ("remote", ...)
        for another document; ("dangling", ...) for a local one that names nothing."""
        full = urljoin(base, ref)
        uri, _, fragment = full.partition("#")
        resource = self.resources.get(uri)
        if resource is None:
            return "remote", (), None, full
        fragment = unquote(fragment)
        if not fragment:
            tokens: tuple[str, ...] | None = resource
        elif fragment.startswith("/"):
            tokens = resource + tuple(t.replace("~1", "/").replace("~0", "~") for t in fragment[1:].split("/"))
        else:
            tokens = self.anchors.get(f"{uri}#{fragment}")
        located = self.locate(tokens) if tokens is not None else None
        if tokens is None or located is None:
            return "dangling", (), None, full
        return "local", tokens, located[0], located[1]
