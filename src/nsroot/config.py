"""Server configuration: one immutable object, read from a file, the environment and flags.

Precedence, lowest to highest: built-in defaults, a TOML file (``--config`` or
``NSROOT_CONFIG``), ``NSROOT_*`` environment variables, command-line flags. Only the CLI
and the app factory call :func:`load_config`; everything else is handed a :class:`Config`.

Example ``nsroot.toml``::

    db = "/var/lib/nsroot/nsroot.db"
    port = 8080
    durability = "power-loss"
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, get_args

from nsroot.errors import InvalidInput
from nsroot.records import Limits
from nsroot.schemas.compat import MODES
from nsroot.schemas.documents import SchemaLimits
from nsroot.store.sqlite import Durability

ENV_PREFIX: Final = "NSROOT_"
LOG_LEVELS: Final = ("critical", "error", "warning", "info", "debug")


def default_db_path(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/nsroot/nsroot.db``, else ``~/.local/share/nsroot/nsroot.db``."""
    env = os.environ if env is None else env
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "nsroot" / "nsroot.db"


class ConfigError(InvalidInput):
    slug = "invalid-config"
    title = "Invalid configuration"


@dataclass(frozen=True, slots=True)
class Config:
    """Everything the server needs to start. Field names are the file keys; the
    environment variable of each is ``NSROOT_`` + its name in upper case."""

    db: Path = field(default_factory=default_db_path)
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    log_level: str = "info"
    durability: Durability = "power-loss"
    max_depth: int = 8
    max_body_bytes: int = 1_048_576
    max_metadata_bytes: int = 65_536
    max_annotations_bytes: int = 65_536
    group_commit_max: int = 512
    cache_entries: int = 100_000
    schemaless_kinds: bool = False
    schema_compatibility: str = "BACKWARD"
    max_schema_bytes: int = 262_144
    max_schema_versions: int = 1_000
    max_validate_batch: int = 1_000

    def __post_init__(self) -> None:
        problems = []
        if not 0 <= self.port <= 65535:
            problems.append(f"port {self.port} is not 0-65535")
        if self.workers < 1:
            problems.append(f"workers must be at least 1, got {self.workers}")
        if self.log_level not in LOG_LEVELS:
            problems.append(f"log_level must be one of {', '.join(LOG_LEVELS)}, got {self.log_level!r}")
        if self.durability not in get_args(Durability):
            problems.append(f"durability must be one of {', '.join(get_args(Durability))}, got {self.durability!r}")
        if not 1 <= self.max_depth <= 127:
            problems.append(f"max_depth must be 1-127, got {self.max_depth}")
        if self.schema_compatibility not in MODES:
            problems.append(
                f"schema_compatibility must be one of {', '.join(MODES)}, got {self.schema_compatibility!r}"
            )
        for name in (
            "max_body_bytes",
            "max_metadata_bytes",
            "max_annotations_bytes",
            "group_commit_max",
            "max_schema_bytes",
            "max_schema_versions",
            "max_validate_batch",
        ):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be positive")
        if problems:
            raise ConfigError("; ".join(problems), rule="config")

    @property
    def limits(self) -> Limits:
        return Limits(
            max_depth=self.max_depth,
            max_metadata_bytes=self.max_metadata_bytes,
            max_annotations_bytes=self.max_annotations_bytes,
        )

    @property
    def schema_limits(self) -> SchemaLimits:
        return SchemaLimits(
            max_schema_bytes=self.max_schema_bytes,
            max_versions=self.max_schema_versions,
            max_batch=self.max_validate_batch,
        )

    def to_env(self) -> dict[str, str]:
        """This configuration as ``NSROOT_*`` variables (how ``serve`` hands it to workers)."""
        return {ENV_PREFIX + f.name.upper(): str(getattr(self, f.name)) for f in dataclasses.fields(self)}


def _convert(name: str, kind: Any, value: Any, source: str) -> Any:
    try:
        if kind in (bool, "bool"):
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("true", "1", "yes", "on"):
                return True
            if text in ("false", "0", "no", "off"):
                return False
            raise ValueError(value)
        if kind in (int, "int"):
            if isinstance(value, bool):
                raise ValueError(value)
            return int(value)
        if kind in (Path, "Path"):
            return Path(str(value)).expanduser()
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"{source}: {name} must be {kind if isinstance(kind, str) else kind.__name__}, got {value!r}",
            field=name,
            rule="type",
        ) from exc


def load_config(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    file: Path | None = None,
) -> Config:
    """Merge defaults, ``file`` (or ``NSROOT_CONFIG``), ``env`` and ``flags`` (None values skipped)."""
    env = os.environ if env is None else env
    fields = {f.name: f.type for f in dataclasses.fields(Config)}
    values: dict[str, Any] = {}
    path = file or (Path(env[ENV_PREFIX + "CONFIG"]) if env.get(ENV_PREFIX + "CONFIG") else None)
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(
                f"cannot read config file {path}: {exc.strerror}", field="config", rule="readable"
            ) from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}", field="config", rule="toml") from exc
        for key, value in data.items():
            name = key.replace("-", "_")
            if name not in fields:
                raise ConfigError(f"config file {path}: unknown key {key!r}", field=key, rule="unknown-key")
            values[name] = _convert(name, fields[name], value, str(path))
    for name, kind in fields.items():
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is not None and raw != "":
            values[name] = _convert(name, kind, raw, ENV_PREFIX + name.upper())
    for name, value in (flags or {}).items():
        if value is not None:
            if name not in fields:
                raise ConfigError(f"unknown setting {name!r}", field=name, rule="unknown-key")
            values[name] = _convert(name, fields[name], value, "--" + name.replace("_", "-"))
    if "db" not in values:
        values["db"] = default_db_path(env)
    return Config(**values)
