"""The public contract: one import module, replay decoders through their own hook, book
observers as a role any component can take, plugin commands."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import arbot.api as api
from arbot.api import (
    BookObserver,
    BookUpdate,
    Bot,
    Detector,
    MarketEvent,
    OrderBook,
    ReplayDecoder,
    config_from_dict,
    hookimpl,
)


def test_every_public_name_is_importable_and_documented():
    for name in api.__all__:
        obj = getattr(api, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert (obj.__doc__ or "").strip(), f"{name} has no docstring"


class _ToyDecoder(ReplayDecoder):
    """Decodes ``{"b": [[px, qty]], "a": [[px, qty]], "s": symbol}`` lines as full books."""

    venue = "toyvenue"

    def feed(self, msg: object, ts: float) -> list[MarketEvent]:
        assert isinstance(msg, dict)
        return [BookUpdate(ts, self.venue, msg["s"], msg["b"], msg["a"], True, ts)]


class _DecoderPlugin:
    @hookimpl
    def arbot_register_decoders(self) -> list[type[ReplayDecoder]]:
        return [_ToyDecoder]


def test_a_recording_replays_with_only_a_decoder_plugin(tmp_path: Path):
    cap = tmp_path / "toy.ndjson"
    lines = [
        {
            "local_ts": 1.0 + i,
            "dir": "in",
            "msg": {"s": "X/USDT", "b": [[100.0 + i, 1.0]], "a": [[101.0 + i, 1.0]]},
        }
        for i in range(5)
    ]
    cap.write_text("".join(json.dumps(line) + "\n" for line in lines))
    cfg = config_from_dict(
        {
            "symbols": ["X/USDT"],
            "system": {"execution_mode": "backtest"},
            "exchanges": {"enabled": ["toyvenue"]},
            "source": {
                "name": "replay",
                "replay": {"format": "capture", "venue": "toyvenue", "path": [str(cap)]},
            },
            "detector": {},
            "sinks": {"enabled": []},
            "portfolio": {"initial": {"USDT": 1000}},
            "output_dir": str(tmp_path / "out"),
        }
    )
    bot = Bot(cfg, plugins=[_DecoderPlugin()], mode="backtest")
    summary = bot.run_backtest()
    assert summary["events"] == 5 and summary["source"]["lines"] == 5
    book = bot.ctx.market.book("toyvenue", "X/USDT")
    assert book.best_bid == 104.0 and book.best_ask == 105.0


class _WatchingDetector(Detector, BookObserver):
    """A detector that also observes every book update (the observer runs first)."""

    name = "watching"

    def __init__(self, settings, ctx):  # type: ignore[no-untyped-def]
        super().__init__(settings, ctx)
        self.observed: list[tuple[str, str]] = []
        self.detected: list[tuple[str, str]] = []

    def on_book_update(self, venue: str, symbol: str, book: OrderBook, now: float) -> None:
        self.observed.append((venue, symbol))

    def on_book(self, venue, symbol, now):  # type: ignore[no-untyped-def]
        assert self.observed and self.observed[-1] == (venue, symbol)
        self.detected.append((venue, symbol))
        return ()


class _WatchingPlugin:
    @hookimpl
    def arbot_register_detectors(self) -> list[type[Detector]]:
        return [_WatchingDetector]


def test_book_observers_are_a_contract_role():
    cfg = config_from_dict(
        {
            "symbols": ["BTC/USDT"],
            "system": {"execution_mode": "backtest"},
            "exchanges": {"enabled": ["binance", "okx"]},
            "backtest": {"duration_s": 10},
            "detector": {"watching": {"enabled": True}},
            "sinks": {"enabled": []},
            "portfolio": {"initial": {"USDT": 1000}},
        }
    )
    bot = Bot(cfg, plugins=[_WatchingPlugin()], mode="backtest")
    bot.run_backtest()
    det = bot.detectors[0]
    assert isinstance(det, _WatchingDetector)
    assert len(det.observed) == len(det.detected) > 100


def test_plugin_commands_join_the_cli(tmp_path: Path):
    """A plugin's ``arbot_register_commands`` adds a sub-command to ``arbot`` (real entry point)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "hello_cmd.py").write_text(
        "import click\nfrom arbot import hookimpl\n\n"
        "@click.command('hello')\ndef hello():\n    click.echo('hello from a plugin')\n\n"
        "@hookimpl\ndef arbot_register_commands(cli):\n    cli.add_command(hello)\n"
    )
    info = site / "hello_cmd-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hello-cmd\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[arbot]\nhello_cmd = hello_cmd\n")
    import os

    env = dict(os.environ, PYTHONPATH=str(site))
    res = subprocess.run([sys.executable, "-m", "arbot", "hello"], capture_output=True, text=True, env=env)
    assert res.returncode == 0 and res.stdout.strip() == "hello from a plugin", res.stderr


def test_every_native_venue_registers_its_decoder_through_the_hook():
    from arbot.plugins import PluginHost

    decoders = PluginHost().decoders()
    venues = {"binance", "okx", "bybit", "bitget", "kucoin", "gate", "upbit", "bithumb"}
    assert venues <= set(decoders)
    for venue in venues:
        assert decoders[venue].venue == venue
        assert isinstance(decoders[venue](), ReplayDecoder)
