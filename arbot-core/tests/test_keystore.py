"""The encrypted key store and ``arbot keys``, run as real commands (subprocess): round trip,
a wrong master key, tampered files, rotation, environment variables first; every output of
every command is searched for the secret and the passphrase."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from arbot.keystore import KeyStore, KeyStoreError, resolve_credentials

SECRET = "s3cr3t-Vq8ZpL2mN4xR7tY1uW9kJ6hG5fD0aS"
PASSPHRASE = "pass-phrase-QwErTy-8812"
API_KEY = "AKIA1234567890abcdef"
MASTER = "a" * 64  # 32 bytes as hex
OTHER_MASTER = "correct horse battery staple"  # a passphrase: stretched with scrypt


def run(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``arbot ARGS`` with ``env``; fails the test if the secret shows up anywhere."""
    proc = subprocess.run([sys.executable, "-m", "arbot", *args], input=stdin, capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=60)
    for text in (proc.stdout, proc.stderr):
        assert SECRET not in text and PASSPHRASE not in text, f"a secret was printed by arbot {args}"
    return proc


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    return {"ARBOT_KEYSTORE": str(tmp_path / "keys.json"), "ARBOT_MASTER_KEY": MASTER,
            "OKX_API_KEY": "", "OKX_API_SECRET": ""}


def test_add_list_remove_round_trip(env: dict[str, str], tmp_path: Path) -> None:
    added = run(["keys", "add", "OKX", "main", "--passphrase"], env, f"{API_KEY}\n{SECRET}\n{PASSPHRASE}\n")
    assert added.returncode == 0, added.stderr
    assert "okx/main" in added.stdout
    raw = (tmp_path / "keys.json").read_text()
    assert SECRET not in raw and PASSPHRASE not in raw and API_KEY not in raw
    assert (tmp_path / "keys.json").stat().st_mode & 0o777 == 0o600
    doc = json.loads(raw)
    assert doc["format"] == "arbot-keystore" and doc["version"] == 1
    listed = run(["keys", "list"], env)
    assert listed.returncode == 0 and "okx" in listed.stdout and "main" in listed.stdout
    assert API_KEY[:4] + "********" in listed.stdout and API_KEY not in listed.stdout
    creds = KeyStore.open(Path(env["ARBOT_KEYSTORE"]), MASTER).get("okx", "main")
    assert creds.api_key == API_KEY and creds.passphrase_value() == PASSPHRASE
    assert creds.hmac_sha256_hex("x") == __import__("hmac").new(SECRET.encode(), b"x", "sha256").hexdigest()
    assert SECRET not in repr(creds)
    found = resolve_credentials("okx", "main", {**env})
    assert found is not None and found.api_key == API_KEY
    again = run(["keys", "add", "okx", "main"], env, f"{API_KEY}\n{SECRET}\n")
    assert again.returncode == 2 and "already stored" in again.stderr
    assert run(["keys", "remove", "okx", "main"], env).returncode == 0
    assert "no keys stored" in run(["keys", "list"], env).stdout


def test_every_record_gets_its_own_nonce(env: dict[str, str], tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert run(["keys", "add", "binance", name], env, f"{API_KEY}\n{SECRET}\n").returncode == 0
    records = json.loads((tmp_path / "keys.json").read_text())["records"]
    assert len({r["nonce"] for r in records}) == 2 and len({r["data"] for r in records}) == 2


def test_wrong_master_key_is_a_clear_error(env: dict[str, str]) -> None:
    assert run(["keys", "add", "bybit", "main"], env, f"{API_KEY}\n{SECRET}\n").returncode == 0
    bad = run(["keys", "list"], {**env, "ARBOT_MASTER_KEY": "b" * 64})
    assert bad.returncode == 2 and "wrong master key" in bad.stderr
    missing = run(["keys", "list"], {**env, "ARBOT_MASTER_KEY": ""})
    assert missing.returncode == 2 and "ARBOT_MASTER_KEY" in missing.stderr


@pytest.mark.parametrize("where", ["data", "nonce", "venue", "check"])
def test_tampered_file_is_a_clear_error(env: dict[str, str], tmp_path: Path, where: str) -> None:
    assert run(["keys", "add", "upbit", "main"], env, f"{API_KEY}\n{SECRET}\n").returncode == 0
    path = tmp_path / "keys.json"
    doc = json.loads(path.read_text())
    if where == "venue":
        doc["records"][0]["venue"] = "bithumb"  # the record moved to another venue
    elif where == "check":
        doc["check"]["data"] = base64.b64encode(b"\x00" * 39).decode()
    else:
        raw = bytearray(base64.b64decode(doc["records"][0][where]))
        raw[0] ^= 0x01
        doc["records"][0][where] = base64.b64encode(bytes(raw)).decode()
    path.write_text(json.dumps(doc))
    out = run(["keys", "list"], env)
    assert out.returncode == 2
    assert "tampered" in out.stderr or "wrong master key" in out.stderr
    with pytest.raises(KeyStoreError):
        KeyStore.open(path, MASTER)


def test_garbage_and_foreign_files_are_refused(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text("{not json")
    assert "not valid JSON" in run(["keys", "list"], env).stderr
    path.write_text(json.dumps({"format": "arbot-keystore", "version": 99}))
    assert "version 99 is not supported" in run(["keys", "list"], env).stderr


def test_rotate_master(env: dict[str, str], tmp_path: Path) -> None:
    assert run(["keys", "add", "gate", "main"], env, f"{API_KEY}\n{SECRET}\n").returncode == 0
    before = json.loads((tmp_path / "keys.json").read_text())
    key_file = tmp_path / "new.key"
    key_file.write_text(OTHER_MASTER + "\n")
    rotated = run(["keys", "rotate-master"], {**env, "ARBOT_NEW_MASTER_KEY_FILE": str(key_file)})
    assert rotated.returncode == 0, rotated.stderr
    after = json.loads((tmp_path / "keys.json").read_text())
    assert after["salt"] != before["salt"] and after["records"][0]["data"] != before["records"][0]["data"]
    assert "wrong master key" in run(["keys", "list"], env).stderr
    ok = run(["keys", "list"], {**env, "ARBOT_MASTER_KEY": "", "ARBOT_MASTER_KEY_FILE": str(key_file)})
    assert ok.returncode == 0 and "gate" in ok.stdout
    assert KeyStore.open(tmp_path / "keys.json", OTHER_MASTER).get("gate", "main").api_key == API_KEY


def test_environment_variables_come_first(env: dict[str, str]) -> None:
    assert run(["keys", "add", "okx", "default", "--passphrase"], env,
               f"{API_KEY}\n{SECRET}\n{PASSPHRASE}\n").returncode == 0
    overrides = {"OKX_API_KEY": "envkey", "OKX_API_SECRET": "envsecret", "OKX_PASSPHRASE": "envpass"}
    from_env = resolve_credentials("okx", environ={**env, **overrides})
    assert from_env is not None and from_env.api_key == "envkey" and from_env.passphrase_value() == "envpass"
    from_store = resolve_credentials("okx", environ=env)
    assert from_store is not None and from_store.api_key == API_KEY
    assert resolve_credentials("kraken", environ=env) is None
