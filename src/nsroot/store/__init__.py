"""Storage backends behind the :class:`~nsroot.store.base.Store` protocol."""

from nsroot.store.base import Create, Delete, Document, Replace, Scope, Store, Update, Version, Write, Written

__all__ = ["Create", "Delete", "Document", "Replace", "Scope", "Store", "Update", "Version", "Write", "Written"]
