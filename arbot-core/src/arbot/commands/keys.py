"""``arbot keys``: the encrypted API key store (add, list, remove, rotate-master).

The master key comes from ``ARBOT_MASTER_KEY`` or ``ARBOT_MASTER_KEY_FILE``; ``rotate-master``
takes the new one from ``ARBOT_NEW_MASTER_KEY`` / ``ARBOT_NEW_MASTER_KEY_FILE``. ``keys add``
reads the secret (and, with ``--passphrase``, the passphrase) without echo from the terminal, or
line by line from standard input when it is not a terminal. Nothing here prints a secret.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click

from arbot.keystore import KeyStore, KeyStoreError, default_store_path, master_key_from_env

__all__ = ["keys"]


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _store_path(path: str | None) -> Path:
    return Path(path).expanduser() if path else default_store_path()


def _read_hidden(what: str) -> str:
    """A value typed without echo, or the next line of a non-terminal standard input."""
    if sys.stdin.isatty():
        value: str = click.prompt(what, hide_input=True, err=True)
        return value.strip()
    line = sys.stdin.readline()
    if not line:
        _fail(f"no {what} on standard input (one line each: secret, then passphrase)")
    return line.rstrip("\r\n")


_store_option = click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False),
    help="key store file (default: ARBOT_KEYSTORE or ~/.config/arbot/keys.json)",
)


@click.group()
def keys() -> None:
    """The encrypted API key store (AES-256-GCM under ARBOT_MASTER_KEY)."""


@keys.command("add")
@click.argument("venue")
@click.argument("name")
@click.option("--api-key", help="the API key (prompted when not given)")
@click.option(
    "--passphrase", "with_passphrase", is_flag=True, help="the key has a passphrase (OKX, KuCoin...)"
)
@click.option("--replace", is_flag=True, help="replace a key stored under the same venue and name")
@_store_option
def add(
    venue: str, name: str, api_key: str | None, with_passphrase: bool, replace: bool, store_path: str | None
) -> None:
    """Store the API key NAME of VENUE; the secret is read without echo (or from stdin)."""
    try:
        store = KeyStore.open(_store_path(store_path), master_key_from_env(), create=True)
        if api_key is None:
            api_key = (
                click.prompt("API key", err=True).strip() if sys.stdin.isatty() else _read_hidden("API key")
            )
        secret = _read_hidden("secret")
        passphrase = _read_hidden("passphrase") if with_passphrase else None
        store.add(venue, name, api_key, secret, passphrase, replace=replace)
        store.save()
    except KeyStoreError as exc:
        _fail(str(exc))
    click.echo(f"stored {venue.lower()}/{name} in {store.path}")


@keys.command("list")
@_store_option
def list_keys(store_path: str | None) -> None:
    """The stored keys, API keys masked."""
    try:
        records = KeyStore.open(_store_path(store_path), master_key_from_env()).list()
    except KeyStoreError as exc:
        _fail(str(exc))
    if not records:
        click.echo("no keys stored")
    for r in records:
        click.echo(
            f"{r.venue:<10} {r.name:<16} {r.masked_api_key}{'  (passphrase)' if r.has_passphrase else ''}"
        )


@keys.command("remove")
@click.argument("venue")
@click.argument("name")
@_store_option
def remove(venue: str, name: str, store_path: str | None) -> None:
    """Remove the key NAME of VENUE."""
    try:
        store = KeyStore.open(_store_path(store_path), master_key_from_env())
        store.remove(venue, name)
        store.save()
    except KeyStoreError as exc:
        _fail(str(exc))
    click.echo(f"removed {venue.lower()}/{name}")


@keys.command("rotate-master")
@_store_option
def rotate_master(store_path: str | None) -> None:
    """Re-encrypt every key under ARBOT_NEW_MASTER_KEY (or ARBOT_NEW_MASTER_KEY_FILE)."""
    try:
        store = KeyStore.open(_store_path(store_path), master_key_from_env())
        store.rotate(master_key_from_env(var="ARBOT_NEW_MASTER_KEY"))
        store.save()
    except KeyStoreError as exc:
        _fail(str(exc))
    click.echo(f"re-encrypted {len(store.list())} keys in {store.path} under the new master key")
