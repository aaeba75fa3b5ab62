"""``arbot emulate VENUE``: serve one venue's emulator on 127.0.0.1 from the command line.

The emulator comes from the installed connector of that venue (``Connector.emulator()``:
whatever connector plugins are installed, nothing here names a venue). It serves the venue's
market data and, when it has one, its private API at the venue's own paths. The first line on
standard output is one JSON object: the URLs, the symbols, and the credentials of a funded test
account (``api_key``, ``secret``, and ``passphrase`` where the venue has one) — made-up keys of
the emulator, never real ones. ``--accounts FILE`` (JSON list of ``{"api_key", "secret",
"passphrase", "balances", "withdraw"}``) creates those accounts instead (``"withdraw": true``
gives the key withdrawal rights; keys can only trade otherwise); ``--faults SPEC`` arms trading
faults (``reject_balance:2,rate_limit@1.5,ack_lost``...). Runs until interrupted, or for
``--duration`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import NoReturn

import click

from arbot.components import Connector
from arbot.errors import ArbotError
from arbot.plugins import PluginHost
from arbot.testing.emulator.exchange import EmulatedExchange
from arbot.testing.emulator.exchange_faults import parse_faults
from arbot.testing.emulator.exchange_models import Account
from arbot.testing.emulator.server import EmulatorServer

__all__ = ["emulate", "emulator_registry"]

#: What a default test account starts with.
DEFAULT_BALANCES: Mapping[str, str] = {"BTC": "10", "ETH": "100", "USDT": "1000000", "KRW": "10000000000"}


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def emulator_registry(host: PluginHost) -> dict[str, type[Connector]]:
    """Venue name -> connector class, for every installed connector (its ``emulator()`` says
    whether it ships one)."""
    out: dict[str, type[Connector]] = {}
    for info in host.components("connector"):
        cls = info.cls
        if isinstance(cls, type) and issubclass(cls, Connector):
            out[info.name] = cls
    return out


def _accounts_from(path: Path) -> list[dict[str, object]]:
    try:
        doc = json.loads(path.read_text())
    except OSError as exc:
        _fail(f"cannot read the accounts file {path}: {exc.strerror}")
    except json.JSONDecodeError as exc:
        _fail(f"accounts file {path}: not valid JSON ({exc.msg} at line {exc.lineno})")
    if not isinstance(doc, list) or not doc or not all(isinstance(a, dict) for a in doc):
        _fail(f"accounts file {path}: expected a non-empty JSON list of account objects")
    return doc


#: Keys of one account in the accounts file.
ACCOUNT_KEYS = ("api_key", "secret", "passphrase", "balances", "withdraw")


def _balance(value: object, asset: str, where: str) -> str:
    """One balance as decimal text: a finite, non-negative number (or its text)."""
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise InvalidOperation
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        _fail(f"{where}: balance {asset} = {value!r} is not a number")
    if not amount.is_finite() or amount < 0:
        _fail(f"{where}: balance {asset} = {value!r} must be a finite number >= 0")
    return str(amount)


def _create(exchange: EmulatedExchange, spec: Mapping[str, object], where: str) -> Account:
    unknown = sorted(set(spec) - set(ACCOUNT_KEYS))
    if unknown:  # a misspelt key ("withdrawl") would silently not do what it says
        _fail(f"{where}: unknown key {', '.join(map(repr, unknown))} (known: {', '.join(ACCOUNT_KEYS)})")
    balances = spec.get("balances", DEFAULT_BALANCES)
    if not isinstance(balances, dict):
        _fail(f"{where}: 'balances' must be an object of asset -> amount")
    balances = {str(k): _balance(v, str(k), where) for k, v in balances.items()}
    withdraw = spec.get("withdraw", False)
    if not isinstance(withdraw, bool):
        _fail(f"{where}: 'withdraw' must be true or false")
    try:
        account = exchange.create_account(
            balances,
            api_key=str(spec["api_key"]) if spec.get("api_key") else None,
            secret=str(spec["secret"]) if spec.get("secret") else None,
            passphrase=str(spec["passphrase"]) if spec.get("passphrase") else None,
        )
        if withdraw:
            exchange.withdraw_keys.add(account.api_key)
        return account
    except ArbotError as exc:
        _fail(f"{where}: {exc}")
    except ArithmeticError:
        _fail(f"{where}: a balance is not a number")


def _banner(emulator: EmulatorServer, venue: str, account: Account, symbols: list[str]) -> str:
    info: dict[str, object] = {
        "venue": venue,
        "http_url": emulator.http_url,
        "ws_url": emulator.ws_url,
        "symbols": symbols,
        "api_key": account.api_key,
        "secret": account.secret,
    }
    if emulator.passphrase_required:
        info["passphrase"] = account.passphrase
    return json.dumps(info)


async def _serve(
    emulator: EmulatorServer,
    venue: str,
    accounts: list[dict[str, object]] | None,
    faults: str | None,
    symbols: list[str],
    duration: float | None,
) -> None:
    private = emulator.private
    if private is None:
        _fail(f"the {venue} emulator has no private API (market data only)")
    exchange = private.exchange
    if faults:
        try:
            armed = parse_faults(faults)
        except ArbotError as exc:
            _fail(str(exc))
        for f in armed:
            exchange.faults.inject(f.kind, f.count, f.param)
    passphrase = "arbot-emulator" if emulator.passphrase_required else None
    specs = accounts or [{"passphrase": passphrase}]
    created = [
        _create(exchange, {"passphrase": passphrase, **spec}, f"account {i}") for i, spec in enumerate(specs)
    ]
    await emulator.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        print(_banner(emulator, venue, created[0], symbols), flush=True)
        if duration is None:
            await stop.wait()
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), duration)
    finally:
        await emulator.stop()


@click.command()
@click.argument("venue")
@click.option(
    "--port", type=int, default=None, help="HTTP port (WebSocket on the next one); default: free ports"
)
@click.option("--symbols", default="BTC/USDT,ETH/USDT", show_default=True, help="unified symbols to quote")
@click.option(
    "--accounts",
    "accounts_file",
    type=click.Path(dir_okay=False, exists=True),
    help="JSON list of accounts: api_key, secret, passphrase, balances",
)
@click.option("--faults", help="trading faults to arm: kind[:count][@param],...")
@click.option("--seed", type=int, default=0, help="seed of the scripted books")
@click.option("--duration", type=float, default=None, help="stop after this many seconds")
def emulate(
    venue: str,
    port: int | None,
    symbols: str,
    accounts_file: str | None,
    faults: str | None,
    seed: int,
    duration: float | None,
) -> None:
    """Serve the emulator of VENUE on 127.0.0.1 (market data and private API).

    The first stdout line is a JSON object with the URLs and a funded test account's
    credentials (made-up keys of the emulator).
    """
    registry = emulator_registry(PluginHost())
    cls = registry.get(venue)
    if cls is None:
        _fail(f"no emulator for venue {venue!r} (installed: {', '.join(sorted(registry)) or 'none'})")
    wanted = [s.strip() for s in symbols.split(",") if s.strip()]
    if not wanted or any("/" not in s for s in wanted):
        _fail(f"--symbols {symbols!r}: give unified symbols such as BTC/USDT,ETH/USDT")
    try:
        emulator = cls.emulator(wanted, seed=seed)
    except ArbotError as exc:
        _fail(str(exc))
    if port is not None:
        emulator.ports_wanted = (port, port + 1)
    accounts = _accounts_from(Path(accounts_file)) if accounts_file else None
    asyncio.run(_serve(emulator, venue, accounts, faults, wanted, duration))
