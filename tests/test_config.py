"""Configuration: defaults < TOML file < NSROOT_* environment < flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from nsroot.config import Config, ConfigError, default_db_path, load_config


def test_defaults(tmp_path: Path) -> None:
    config = load_config({}, env={"XDG_DATA_HOME": str(tmp_path)})
    assert config.db == tmp_path / "nsroot" / "nsroot.db"
    assert (config.host, config.port, config.workers, config.durability) == ("127.0.0.1", 8080, 1, "power-loss")


def test_default_db_without_xdg() -> None:
    assert default_db_path({}).parts[-3:] == ("share", "nsroot", "nsroot.db")


def test_precedence(tmp_path: Path) -> None:
    file = tmp_path / "nsroot.toml"
    file.write_text('port = 7000\nhost = "0.0.0.0"\nlog-level = "debug"\nmax_depth = 5\n')
    env = {"NSROOT_CONFIG": str(file), "NSROOT_PORT": "7100", "NSROOT_WORKERS": "3"}
    config = load_config({"workers": 2, "db": str(tmp_path / "x.db"), "host": None}, env=env)
    assert config.port == 7100  # env beats file
    assert config.workers == 2  # flag beats env
    assert config.host == "0.0.0.0"  # file beats default; a None flag is "not given"
    assert config.log_level == "debug"
    assert config.limits.max_depth == 5
    assert config.db == tmp_path / "x.db"


def test_round_trip_through_environment(tmp_path: Path) -> None:
    config = Config(db=tmp_path / "a.db", port=9123, durability="process-crash", cache_entries=10)
    assert load_config({}, env=config.to_env()) == config


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("port = ", "not valid TOML"),
        ("colour = 1", "unknown key"),
        ('port = "eighty"', "port must be int"),
        ("port = 70000", "port 70000"),
        ('durability = "sometimes"', "durability must be one of"),
        ('log_level = "loud"', "log_level must be one of"),
        ("workers = 0", "workers must be at least 1"),
    ],
)
def test_bad_files_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    file = tmp_path / "bad.toml"
    file.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config({}, env={}, file=file)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config({}, env={"NSROOT_CONFIG": str(tmp_path / "absent.toml")})


def test_bad_environment_value() -> None:
    with pytest.raises(ConfigError, match="NSROOT_PORT: port must be int"):
        load_config({}, env={"NSROOT_PORT": "http"})
