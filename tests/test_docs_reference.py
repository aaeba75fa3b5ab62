"""The generated configuration and CLI reference (docs/gen_reference.py, run by ``nox -s docs``)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from arbot.config import BotConfig
from arbot.plugins import PluginHost
from pydantic import BaseModel, Field, SecretStr

ROOT = Path(__file__).resolve().parents[1]
SENTINEL = "sentinel-secret-4f1c9e"
SECRET_ENV = ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "TELEGRAM_BOT_TOKEN", "TELEGRAM_CHAT_ID")


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_reference", ROOT / "docs" / "gen_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_reference"] = module
    spec.loader.exec_module(module)
    return module


gen = _load()


def _all_keys(model: type[BaseModel]) -> int:
    n = 0
    for field in model.model_fields.values():
        if field.exclude:
            continue
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            n += _all_keys(ann)
        else:
            n += 1
            item = gen._dict_of_model(ann)
            if item is not None:
                n += _all_keys(item)
    return n


def test_every_core_key_is_documented_with_type_and_default() -> None:
    found = list(gen.sections(BotConfig))
    keys = [k for s in found for k in s.keys]
    assert len(keys) == _all_keys(BotConfig) > 40
    assert all(k.type and k.default for k in keys)
    tables = {s.table for s in found}
    expected = {"", "system", "exchanges", "exchanges.fees.<name>", "risk", "portfolio", "alerts.thresholds"}
    assert expected <= tables


def test_defaults_are_rendered_as_toml() -> None:
    class Model(BaseModel):
        flag: bool = Field(True, description="a flag")
        names: list[str] = Field(default_factory=lambda: ["a", "b"], description="names")
        limit: float = Field(1.5, gt=0, le=10, description="a limit")
        table: dict[str, float] = Field(default_factory=lambda: {"KRW": 1390.0}, description="rates")
        maybe: str | None = Field(None, description="optional")
        needed: int = Field(description="required")

    (section,) = gen.sections(Model)
    got = {k.key: (k.type, k.default, k.constraints) for k in section.keys}
    assert got == {
        "flag": ("bool", "true", ""),
        "names": ("list[str]", '["a", "b"]', ""),
        "limit": ("float", "1.5", "> 0, ≤ 10"),
        "table": ("dict[str, float]", "{ KRW = 1390.0 }", ""),
        "maybe": ("str | None", "unset", ""),
        "needed": ("int", "required", ""),
    }


def test_secrets_and_environment_are_not_rendered(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in SECRET_ENV:
        monkeypatch.setenv(var, SENTINEL)

    class Model(BaseModel):
        token: SecretStr = Field(
            default_factory=lambda: SecretStr(os.environ["TELEGRAM_BOT_TOKEN"]), description="a token"
        )
        chat_id: str = Field(default_factory=lambda: os.environ.get("TELEGRAM_CHAT_ID", ""), description="id")
        key: SecretStr = Field(SecretStr(SENTINEL), description="a secret with a literal default")

    own = "\n".join(gen._table(next(gen.sections(Model))))
    assert SENTINEL not in own
    assert own.count("secret, never shown") == 2
    assert '| <code>chat_id</code> | <code>str</code> | <code>""</code> |' in own
    core = "\n".join("\n".join(gen._table(s)) for s in gen.sections(BotConfig))
    components = _render_components_only(PluginHost())
    assert SENTINEL not in core + components
    assert gen.toml_value(SecretStr(SENTINEL)) == '"**********"'


def test_a_key_without_description_fails_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    class Section(BaseModel):
        documented: int = Field(1, description="has one")
        bare: int = 2

    class Config(BaseModel):
        section: Section = Field(default_factory=Section)

    monkeypatch.setattr(gen, "BotConfig", Config)
    with pytest.raises(gen.MissingDescriptionError, match=r"1 configuration keys .*section\.bare"):
        gen.render_config_reference(PluginHost(load_entry_points=False))


def test_component_settings_are_listed_under_their_tables() -> None:
    host = PluginHost()
    text = _render_components_only(host)
    for info in host.components():
        table = info.cls.config_section or f"{gen.COMPONENT_TABLES[info.kind]}.{info.name}"
        assert f"### `[{table}]`" in text
        for key in info.cls.Settings.model_fields:
            assert f"| <code>{key}</code> |" in text, f"{table}.{key}"


def _render_components_only(host: PluginHost) -> Any:
    """The page with the core check bypassed: this test is about the component part."""

    class Empty(BaseModel):
        pass

    original = gen.BotConfig
    gen.BotConfig = Empty
    try:
        return gen.render_config_reference(host)
    finally:
        gen.BotConfig = original


def test_cli_reference_has_every_command() -> None:
    text = gen.render_cli_reference(PluginHost())
    for command in ("arbot", "arbot backtest", "arbot plugins", "arbot run", "arbot record"):
        assert f"## `{command}`" in text
    assert "Usage: arbot backtest [OPTIONS] CONFIG" in text


def test_api_index_lists_every_exported_name_where_it_is_defined() -> None:
    import arbot.api

    text = gen.render_api_index()
    rows = [line for line in text.splitlines() if line.startswith("| <autoref")]
    assert len(rows) == len(arbot.api.__all__)
    assert '<autoref identifier="arbot.components.Detector" optional><code>Detector</code></autoref>' in text
    assert '<autoref identifier="arbot.hookspecs.hookimpl" optional>' in text
    alias = "type alias: <code>BookUpdate &#124; TradeTick &#124; FxRate</code>"
    assert f"| `arbot.components` | {alias} |" in text


def test_a_component_key_without_description_fails_the_build() -> None:
    from arbot.api import ComponentSettings, Detector, hookimpl

    class BareSettings(ComponentSettings):
        threshold: float = 1.0

    class BareDetector(Detector[BareSettings]):
        """A detector whose only setting has no description."""

        name = "bare_detector"
        Settings = BareSettings

        def on_book(self, venue: str, symbol: str, now: float) -> list[Any]:
            return []

    class Plugin:
        @hookimpl
        def arbot_register_detectors(self) -> list[type[Detector[Any]]]:
            return [BareDetector]

    host = PluginHost(load_entry_points=False)
    host.register(Plugin(), name="bare-plugin")
    with pytest.raises(gen.MissingDescriptionError, match=r"detector\.bare_detector\.threshold"):
        _render_components_only(host)
