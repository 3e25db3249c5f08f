"""ns-root: a namespace registry and governance control plane."""

__version__ = "0.1.0"
