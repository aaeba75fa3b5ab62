"""An encrypted store of API keys (TRD §7): AES-256-GCM under one master key.

File format (JSON, ``"format": "arbot-keystore"``, ``"version": 1``)::

    {"format": "arbot-keystore", "version": 1, "salt": "<b64>",
     "check": {"nonce": "<b64>", "data": "<b64>"},
     "records": [{"venue": "binance", "name": "main", "nonce": "<b64>", "data": "<b64>"}, ...]}

Each record is ``{"api_key", "secret", "passphrase"}`` encrypted with AES-256-GCM under a fresh
random 96-bit nonce, with ``arbot-keystore/1/<venue>/<name>`` as associated data: a record moved
to another venue or name, or changed in any byte, fails to decrypt. ``check`` encrypts a
constant under the same key, so a wrong master key is told apart from a tampered record.

The master key comes from ``ARBOT_MASTER_KEY`` or a key file (``ARBOT_MASTER_KEY_FILE``): 32
bytes written as 64 hex characters or in base64 are used as they are; any other text is a
passphrase stretched with scrypt (n=2**15, r=8, p=1) and the file's salt. Secrets are decrypted
only by :meth:`KeyStore.get` (for the signer) and are never part of an error message.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path

import attrs
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from arbot.errors import ArbotError
from arbot.trading.signing import ApiCredentials

__all__ = [
    "FORMAT",
    "VERSION",
    "KeyRecord",
    "KeyStore",
    "KeyStoreError",
    "default_store_path",
    "master_key_from_env",
    "resolve_credentials",
]

FORMAT = "arbot-keystore"
VERSION = 1
_CHECK = b"arbot-keystore check v1"


class KeyStoreError(ArbotError):
    """The key store cannot be read or written (wrong master key, tampered file, bad format)."""


@attrs.frozen(slots=True)
class KeyRecord:
    """What :meth:`KeyStore.list` shows of a key: where it belongs and its masked API key."""

    venue: str
    name: str
    masked_api_key: str
    has_passphrase: bool


def default_store_path(environ: Mapping[str, str] | None = None) -> Path:
    """``ARBOT_KEYSTORE``, else ``$XDG_CONFIG_HOME/arbot/keys.json`` (``~/.config/...``)."""
    env = os.environ if environ is None else environ
    if env.get("ARBOT_KEYSTORE"):
        return Path(env["ARBOT_KEYSTORE"]).expanduser()
    base = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "arbot" / "keys.json"


def master_key_from_env(environ: Mapping[str, str] | None = None, var: str = "ARBOT_MASTER_KEY") -> str:
    """The master key text from ``var`` or from the file named by ``<var>_FILE``."""
    env = os.environ if environ is None else environ
    text = env.get(var, "")
    if text:
        return text
    key_file = env.get(f"{var}_FILE", "")
    if key_file:
        path = Path(key_file).expanduser()
        try:
            text = path.read_text().strip()
        except OSError as exc:
            raise KeyStoreError(f"cannot read the master key file {path}: {exc.strerror}") from None
        if not text:
            raise KeyStoreError(f"the master key file {path} is empty")
        return text
    raise KeyStoreError(f"no master key: set {var} (or {var}_FILE to a key file)")


def _raw_key(text: str) -> bytes | None:
    if len(text) == 64:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            return None
    return raw if len(raw) == 32 else None


def _derive(master: str, salt: bytes) -> bytes:
    raw = _raw_key(master)
    if raw is not None:
        return raw
    return Scrypt(salt=salt, length=32, n=2**15, r=8, p=1).derive(master.encode())


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise KeyStoreError(f"key store: {what} is not base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyStoreError(f"key store: {what} is not valid base64") from None


def _aad(venue: str, name: str) -> bytes:
    return f"{FORMAT}/{VERSION}/{venue}/{name}".encode()


def _check_name(kind: str, value: str) -> str:
    if not value or any(c in value for c in "/\n\r\t ") or len(value) > 64:
        raise KeyStoreError(f"{kind} {value!r}: use 1-64 characters without '/' or spaces")
    return value.lower() if kind == "venue" else value


class KeyStore:
    """One key store file under one master key (module docstring).

    :meth:`open` reads an existing file (verifying the master key) or starts an empty one;
    :meth:`add` / :meth:`remove` / :meth:`rotate` change it in memory and :meth:`save` writes it
    atomically with mode 0600.
    """

    def __init__(self, path: Path, key: bytes, salt: bytes, records: list[dict[str, str]]) -> None:
        self.path = path
        self._aes = AESGCM(key)
        self._salt = salt
        self._records = records

    def __repr__(self) -> str:
        return f"KeyStore({str(self.path)!r}, {len(self._records)} keys)"

    @classmethod
    def open(cls, path: Path, master: str, *, create: bool = False) -> KeyStore:
        """Read ``path`` with ``master``; with ``create``, a missing file is an empty store."""
        if not path.exists():
            if not create:
                raise KeyStoreError(f"no key store at {path} (add a key first: arbot keys add VENUE NAME)")
            salt = secrets.token_bytes(16)
            return cls(path, _derive(master, salt), salt, [])
        try:
            doc = json.loads(path.read_text())
        except OSError as exc:
            raise KeyStoreError(f"cannot read the key store {path}: {exc.strerror}") from None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise KeyStoreError(
                f"the key store {path} is not valid JSON (damaged or not a key store)"
            ) from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise KeyStoreError(f"{path} is not an ArBot key store (format {FORMAT!r} expected)")
        if doc.get("version") != VERSION:
            raise KeyStoreError(
                f"{path}: key store version {doc.get('version')!r} is not supported "
                f"(this ArBot reads version {VERSION})"
            )
        salt = _unb64(doc.get("salt"), "salt")
        check = doc.get("check")
        records = doc.get("records")
        if not isinstance(check, dict) or not isinstance(records, list):
            raise KeyStoreError(f"{path}: the key store is missing its check or records")
        store = cls(path, _derive(master, salt), salt, [])
        try:
            plain = store._aes.decrypt(
                _unb64(check.get("nonce"), "check nonce"),
                _unb64(check.get("data"), "check data"),
                FORMAT.encode(),
            )
        except InvalidTag:
            raise KeyStoreError(
                f"{path}: wrong master key (or the key store's check was tampered with)"
            ) from None
        if plain != _CHECK:
            raise KeyStoreError(f"{path}: the key store's check does not match (tampered file)")
        for i, rec in enumerate(records):
            if not isinstance(rec, dict) or not all(
                isinstance(rec.get(k), str) for k in ("venue", "name", "nonce", "data")
            ):
                raise KeyStoreError(f"{path}: record {i} is malformed")
            store._records.append({k: rec[k] for k in ("venue", "name", "nonce", "data")})
        for rec in store._records:
            store._decrypt(rec)  # every record must decrypt: a tampered one is reported now
        return store

    # -- records -----------------------------------------------------------------------------

    def _find(self, venue: str, name: str) -> dict[str, str] | None:
        return next((r for r in self._records if r["venue"] == venue and r["name"] == name), None)

    def _decrypt(self, rec: dict[str, str]) -> ApiCredentials:
        api_key, secret, passphrase = self._decrypt_raw(rec)
        return ApiCredentials(api_key, secret=secret, passphrase=passphrase)

    def _decrypt_raw(self, rec: dict[str, str]) -> tuple[str, str, str | None]:
        where = f"{rec['venue']}/{rec['name']}"
        try:
            plain = self._aes.decrypt(
                _unb64(rec["nonce"], f"{where} nonce"),
                _unb64(rec["data"], f"{where} data"),
                _aad(rec["venue"], rec["name"]),
            )
        except InvalidTag:
            raise KeyStoreError(
                f"{self.path}: the record {where} was tampered with (authentication failed)"
            ) from None
        try:
            doc = json.loads(plain)
            return (
                str(doc["api_key"]),
                str(doc["secret"]),
                (str(doc["passphrase"]) if doc.get("passphrase") else None),
            )
        except (json.JSONDecodeError, KeyError, TypeError):
            raise KeyStoreError(f"{self.path}: the record {where} has no valid content") from None

    def _encrypt(
        self, venue: str, name: str, api_key: str, secret: str, passphrase: str | None
    ) -> dict[str, str]:
        nonce = secrets.token_bytes(12)
        plain = json.dumps({"api_key": api_key, "secret": secret, "passphrase": passphrase}).encode()
        return {
            "venue": venue,
            "name": name,
            "nonce": _b64(nonce),
            "data": _b64(self._aes.encrypt(nonce, plain, _aad(venue, name))),
        }

    def add(
        self,
        venue: str,
        name: str,
        api_key: str,
        secret: str,
        passphrase: str | None = None,
        *,
        replace: bool = False,
    ) -> None:
        """Store a key; an existing ``venue``/``name`` is an error unless ``replace``."""
        venue, name = _check_name("venue", venue), _check_name("name", name)
        if not api_key or not secret:
            raise KeyStoreError(f"{venue}/{name}: the API key and the secret must not be empty")
        existing = self._find(venue, name)
        if existing is not None:
            if not replace:
                raise KeyStoreError(f"{venue}/{name} is already stored (remove it first, or replace it)")
            self._records.remove(existing)
        self._records.append(self._encrypt(venue, name, api_key, secret, passphrase))

    def get(self, venue: str, name: str = "default") -> ApiCredentials:
        """The credentials of ``venue``/``name`` (decrypted now)."""
        rec = self._find(venue.lower(), name)
        if rec is None:
            raise KeyStoreError(f"no key {venue}/{name} in {self.path}")
        return self._decrypt(rec)

    def remove(self, venue: str, name: str) -> None:
        """Forget ``venue``/``name``."""
        rec = self._find(venue.lower(), name)
        if rec is None:
            raise KeyStoreError(f"no key {venue}/{name} in {self.path}")
        self._records.remove(rec)

    def list(self) -> list[KeyRecord]:
        """Every stored key, its API key masked."""
        out = []
        for rec in self._records:
            creds = self._decrypt(rec)
            key = creds.api_key
            masked = key[:4] + "*" * 8 if len(key) > 8 else "*" * 8
            out.append(KeyRecord(rec["venue"], rec["name"], masked, creds.has_passphrase))
        return sorted(out, key=lambda r: (r.venue, r.name))

    def rotate(self, new_master: str) -> None:
        """Re-encrypt every record under ``new_master`` (new salt, new nonces)."""
        plain = [(r["venue"], r["name"], *self._decrypt_raw(r)) for r in self._records]
        self._salt = secrets.token_bytes(16)
        self._aes = AESGCM(_derive(new_master, self._salt))
        self._records = [self._encrypt(v, n, k, s, p) for v, n, k, s, p in plain]

    def save(self) -> None:
        """Write the store atomically (a temporary file renamed over it), readable by the owner only."""
        nonce = secrets.token_bytes(12)
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "salt": _b64(self._salt),
            "check": {"nonce": _b64(nonce), "data": _b64(self._aes.encrypt(nonce, _CHECK, FORMAT.encode()))},
            "records": self._records,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".keys-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(doc, f, indent=1)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise KeyStoreError(f"cannot write the key store {self.path}: {exc.strerror}") from None


def resolve_credentials(
    venue: str, name: str = "default", environ: Mapping[str, str] | None = None
) -> ApiCredentials | None:
    """The credentials of ``venue``: the TRD §7 environment variables first
    (``<VENUE>_API_KEY`` ...), then the key store (when a master key is configured and the store
    exists); None when neither has one."""
    env = os.environ if environ is None else environ
    creds = ApiCredentials.from_env(venue, env)
    if creds is not None:
        return creds
    path = default_store_path(env)
    if not path.exists() or not (env.get("ARBOT_MASTER_KEY") or env.get("ARBOT_MASTER_KEY_FILE")):
        return None
    store = KeyStore.open(path, master_key_from_env(env))
    try:
        return store.get(venue, name)
    except KeyStoreError:
        return None
