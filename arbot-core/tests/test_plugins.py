"""Plugin discovery: built-ins through the same hooks, entry points, conflicts, failures, tracing."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import pytest
from arbot import hookimpl
from arbot.components import Detector
from arbot.errors import PluginConflictError, UnknownComponentError
from arbot.events import Opportunity
from arbot.plugins import PluginHost


class _Quiet(Detector):
    name: ClassVar[str] = "quiet"

    def on_book(self, venue: str, symbol: str, now: float) -> Sequence[Opportunity]:
        return ()


class _QuietAgain(_Quiet):
    name: ClassVar[str] = "quiet"


class PluginA:
    @hookimpl
    def arbot_register_detectors(self) -> list[type[Detector]]:
        return [_Quiet]


class PluginB:
    @hookimpl
    def arbot_register_detectors(self) -> list[type[Detector]]:
        return [_QuietAgain]


def _fake_distribution(root: Path, dist: str, module: str, source: str, ep_name: str) -> None:
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-9.9.9.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 9.9.9\n")
    (info / "entry_points.txt").write_text(f"[arbot]\n{ep_name} = {module}\n")
    (info / "top_level.txt").write_text(module + "\n")


def test_builtins_register_through_the_same_hooks():
    host = PluginHost(load_entry_points=False)
    names = {(c.kind, c.name) for c in host.components()}
    assert {
        ("executor", "backtest"),
        ("executor", "paper"),
        ("executor", "live"),
        ("sink", "sqlite_journal"),
        ("sink", "parquet_recorder"),
        ("source", "simulator"),
        ("source", "replay"),
        ("risk_rule", "exposure"),
        ("risk_rule", "circuit_breaker"),
    } <= names
    assert all(c.plugin == "arbot" for c in host.components())
    assert "arbot" in [name for name, _ in host.plugin_modules()]


def test_installed_spatial_plugin_is_discovered():
    host = PluginHost()
    info = {c.name: c for c in host.components("detector")}
    assert "spatial" in info
    assert info["spatial"].package == "arbot-spatial"
    assert info["spatial"].version


def test_two_plugins_claiming_one_name_names_both():
    host = PluginHost([PluginA(), PluginB()], load_entry_points=False)
    with pytest.raises(PluginConflictError) as exc:
        host.components()
    msg = str(exc.value)
    assert "detector named 'quiet'" in msg
    assert "_Quiet" in msg and "_QuietAgain" in msg


def test_broken_entry_point_is_reported_and_others_still_load(tmp_path, monkeypatch):
    _fake_distribution(
        tmp_path, "arbot-broken", "arbot_broken_xyz", "raise ImportError('needs libfoo 3')\n", "broken"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    host = PluginHost()
    assert [f.entry_point for f in host.failures] == ["broken"]
    failure = host.failures[0]
    assert "arbot-broken 9.9.9" in str(failure) and "needs libfoo 3" in str(failure)
    # the rest still loads
    assert "spatial" in {c.name for c in host.components("detector")}
    with pytest.raises(UnknownComponentError) as exc:
        host.resolve("detector", "nope")
    assert "available: " in str(exc.value) and "spatial" in str(exc.value)
    assert "broken" in str(exc.value)


def test_third_party_entry_point_conflict_names_packages(tmp_path, monkeypatch):
    _fake_distribution(
        tmp_path,
        "arbot-shadow",
        "arbot_shadow_xyz",
        """
        from arbot import hookimpl
        from arbot_spatial.detector import SpatialDetector

        class Shadow(SpatialDetector):
            pass

        @hookimpl
        def arbot_register_detectors():
            return [Shadow]
        """,
        "shadow",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginConflictError) as exc:
        PluginHost().components()
    msg = str(exc.value)
    assert "arbot-spatial" in msg and "arbot-shadow" in msg
    monkeypatch.setenv("ARBOT_DISABLE_PLUGINS", "shadow")
    assert "spatial" in {c.name for c in PluginHost().components("detector")}


def test_unknown_component_lists_what_is_available():
    host = PluginHost(load_entry_points=False)
    with pytest.raises(UnknownComponentError) as exc:
        host.resolve("sink", "postgress")
    assert "no sink named 'postgress'" in str(exc.value)
    assert "parquet_recorder, sqlite_journal" in str(exc.value)


def test_trace_switch_prints_hook_calls(monkeypatch, capsys, make_config):
    monkeypatch.setenv("ARBOT_TRACE_HOOKS", "1")
    host = PluginHost(load_entry_points=False)
    host.hook.arbot_configure(config=make_config())
    host.components()
    err = capsys.readouterr().err
    assert "arbot hook: arbot_configure" in err
    assert "arbot_register_executors from arbot" in err


def test_each_host_is_independent():
    a = PluginHost([PluginA()], load_entry_points=False)
    b = PluginHost(load_entry_points=False)
    assert "quiet" in {c.name for c in a.components("detector")}
    assert "quiet" not in {c.name for c in b.components("detector")}
