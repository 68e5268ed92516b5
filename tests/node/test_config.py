"""A node's data directory: created once, read back, refused when broken."""

from __future__ import annotations

import errno
import stat
from pathlib import Path

import pytest

from node.config import CONFIG_FILE, KEY_FILE, Config, init_node, is_loopback, load_node
from node.errors import AlreadyExists, ConfigError


def test_init_then_load(tmp_path):
    made = init_node(tmp_path / "n", Config(name="Atelier « Ré-emploi »", role="hub", port=9000))
    loaded = load_node(tmp_path / "n")
    assert loaded.config == made.config
    assert loaded.key.public == made.key.public
    assert stat.S_IMODE((tmp_path / "n" / KEY_FILE).stat().st_mode) == 0o600


def test_init_never_overwrites_a_key(tmp_path):
    first = init_node(tmp_path, Config(name="A"))
    with pytest.raises(AlreadyExists):
        init_node(tmp_path, Config(name="B"))
    assert load_node(tmp_path).key.public == first.key.public


@pytest.mark.parametrize(
    "config",
    [Config(name=" "), Config(name="A", role="king"), Config(name="A", port=70000)],  # type: ignore[arg-type]
)
def test_init_refuses_bad_settings_and_writes_nothing(tmp_path, config):
    with pytest.raises(ConfigError):
        init_node(tmp_path / "n", config)
    assert not (tmp_path / "n").exists()


@pytest.mark.parametrize(
    "text",
    ['name = "A"\nport = "x"\n', 'name = "A"\ncolour = "red"\n', "name = \n", 'role = "hub"\n'],
)
def test_load_refuses_broken_configuration(tmp_path, text):
    init_node(tmp_path, Config(name="A"))
    (tmp_path / CONFIG_FILE).write_text(text)
    with pytest.raises(ConfigError):
        load_node(tmp_path)


def test_load_refuses_a_missing_directory(tmp_path):
    with pytest.raises(ConfigError, match="maillon init"):
        load_node(tmp_path / "nowhere")


def test_init_leaves_nothing_behind_when_the_configuration_cannot_be_written(tmp_path, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", disk_full)
    with pytest.raises(ConfigError, match="No space left"):
        init_node(tmp_path, Config(name="A"))
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    assert init_node(tmp_path, Config(name="A"))


def test_loopback_hosts_are_the_machine_itself_only():
    for host in ("127.0.0.1", "127.0.1.1", "localhost", "LOCALHOST.", "demo.localhost", "::1", "[::1]"):
        assert is_loopback(host), host
    for host in ("192.168.1.20", "0.0.0.0", "ordi.example.org", "10.0.0.1", "[2001:db8::1]", ""):
        assert not is_loopback(host), host
