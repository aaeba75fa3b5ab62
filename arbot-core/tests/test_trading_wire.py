"""The wire boundary of trading: rounding to tick/step, minimums, decimal text, query strings,
client ids, credentials that never print."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import quote, urlencode

import pytest
from arbot.market import MarketInfo
from arbot.trading.client_ids import ClientIdFactory
from arbot.trading.precision import increment_text, prepare_order, quote_size_text, to_increment
from arbot.trading.signing import (
    ApiCredentials,
    KeyedHash,
    compact_json,
    iso8601_ms,
    query_string,
    uri_component,
    uuid4_text,
)
from arbot.trading.stream_login import op_login_reply
from hypothesis import given, settings
from hypothesis import strategies as st

INCREMENTS = [1.0, 0.5, 0.1, 0.01, 0.001, 1e-05, 1e-06, 1e-08, 0.25, 5.0]


@settings(max_examples=300)
@given(value=st.floats(1e-6, 1e7, allow_nan=False), inc=st.sampled_from(INCREMENTS), up=st.booleans())
def test_rounding_lands_on_the_grid_on_the_asked_side_in_plain_text(
    value: float, inc: float, up: bool
) -> None:
    n, rounded = to_increment(value, inc, up=up)
    text = increment_text(n, inc)
    assert "e" not in text and "E" not in text
    exact = Decimal(text)
    assert exact == Decimal(n) * Decimal(repr(inc))  # the text is exactly n increments
    tolerance = inc * 1e-9 * max(1.0, value / inc)
    if up:
        assert rounded >= value - tolerance and rounded - value < inc + tolerance
    else:
        assert rounded <= value + tolerance and value - rounded < inc + tolerance


@given(n=st.integers(-(10**15), 10**15), inc=st.sampled_from([*INCREMENTS, 10.0, 0.0025, 2.5e-07]))
def test_increment_text_is_exact_plain_and_trimmed(n: int, inc: float) -> None:
    text = increment_text(n, inc)
    assert Decimal(text) == n * Decimal(repr(inc))
    assert "e" not in text.lower() and text != "-0"
    assert not ("." in text and text.endswith(("0", ".")))


def test_float_noise_is_not_a_tick_and_tiny_values_are_plain() -> None:
    assert to_increment(0.1 + 0.2, 0.1)[0] == 3
    assert increment_text(*to_increment(60000.009999999999, 0.01, up=True)[:1], 0.01) == "60000.01"
    assert increment_text(5, 1e-05) == "0.00005" and increment_text(100, 1e-08) == "0.000001"
    assert increment_text(6000000, 0.01) == "60000"


def test_prepare_order_checks_minimums_before_anything_is_sent() -> None:
    m = MarketInfo(
        "x",
        "BTC/USDT",
        "BTC",
        "USDT",
        "BTCUSDT",
        tick_size=0.01,
        step_size=0.00001,
        min_qty=0.0001,
        min_notional=5.0,
    )
    ok = prepare_order(m, 0.0123456, 60000.019, is_buy=True)
    assert (ok.quantity, ok.price, ok.problem) == ("0.01234", "60000.01", "")
    assert prepare_order(m, 0.0123456, 60000.011, is_buy=False).price == "60000.02"
    assert "rounds to 0" in prepare_order(m, 0.000001, 60000.0, True).problem
    assert "below the minimum" in prepare_order(m, 0.00005, 60000.0, True).problem
    assert "notional" in prepare_order(m, 0.0001, 100.0, True).problem
    with pytest.raises(ValueError, match="finite"):
        prepare_order(m, float("nan"), 1.0, True)


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.one_of(st.text(max_size=12), st.integers(), st.booleans()),
        max_size=6,
    )
)
def test_query_string_equals_urlencode_with_quote(params: dict[str, object]) -> None:
    expected = urlencode(
        {k: ("true" if v else "false") if isinstance(v, bool) else v for k, v in params.items()},
        quote_via=quote,
    )
    assert query_string(params) == expected


def test_query_string_joins_plain_pairs_and_encodes_the_rest() -> None:
    assert query_string({"symbol": "BTCUSDT", "quantity": "0.001", "timestamp": 17, "n": -1}) == (
        "symbol=BTCUSDT&quantity=0.001&timestamp=17&n=-1"
    )
    assert query_string({"postOnly": True, "b": 1}) == "postOnly=true&b=1"
    assert query_string({"reduce": False}) == "reduce=false"
    assert query_string({"a": "x&y", "b=": "1"}) == "a=x%26y&b%3D=1"
    assert query_string({"a": "x y", "b": "1"}) == "a=x%20y&b=1"
    assert query_string({"note": "True story"}) == "note=True%20story"
    assert query_string({}) == ""


def test_encodings() -> None:
    assert compact_json({"a": "1", "b": [1, 2]}) == '{"a":"1","b":[1,2]}'
    assert iso8601_ms(1_700_000_123_456) == "2023-11-14T22:15:23.456Z"
    assert iso8601_ms(1_700_000_123_005) == "2023-11-14T22:15:23.005Z"


def test_client_ids_are_unique_alphanumeric_and_time_ordered() -> None:
    now = [1_700_000_000.0]
    make = ClientIdFactory("arb", 32, clock=lambda: now[0])
    ids = [make() for _ in range(5000)]
    assert len(set(ids)) == 5000 and all(i.isalnum() and len(i) <= 32 for i in ids)
    other_run = ClientIdFactory("arb", 32, clock=lambda: now[0] + 1.0)()
    assert other_run[:14] > ids[0][:14]  # a later run's ids sort after (the time part)
    with pytest.raises(ValueError):
        ClientIdFactory("no-dash")
    with pytest.raises(ValueError):
        ClientIdFactory("p" * 20, 32)


def test_credentials_never_print_their_secret() -> None:
    c = ApiCredentials("key-123456", secret="S3CRET-VALUE", passphrase="PHRASE-VALUE")
    for text in (repr(c), str(c), f"{c}", repr([c])):
        assert "S3CRET" not in text and "PHRASE" not in text
    assert c.passphrase_value() == "PHRASE-VALUE" and c.has_passphrase


@settings(max_examples=300)
@given(key=st.binary(max_size=300), message=st.binary(max_size=600))
def test_the_keyed_hash_is_hmac_for_every_key_and_message(key: bytes, message: bytes) -> None:
    # keys shorter than, equal to and longer than both block sizes (64 and 128 bytes)
    assert KeyedHash(key, hashlib.sha256).digest(message) == hmac.digest(key, message, "sha256")
    assert KeyedHash(key, hashlib.sha512).digest(message) == hmac.digest(key, message, "sha512")


def test_credentials_sign_as_hmac_does_and_reuse_their_keyed_state() -> None:
    secret = "S3CRET-" * 20  # longer than a SHA-256 block
    c = ApiCredentials("key", secret=secret)
    for message in ("", "GET/api/v3/order?x=1", "é" * 300):
        raw = hmac.digest(secret.encode(), message.encode(), "sha256")
        assert c.hmac_sha256(message.encode()) == raw
        assert c.hmac_sha256_hex(message) == raw.hex()
        assert c.hmac_sha256_b64(message) == base64.b64encode(raw).decode()
        assert c.hmac_sha512_hex(message) == hmac.new(secret.encode(), message.encode(), "sha512").hexdigest()
    assert c.hmac_sha256_hex("a") == c.hmac_sha256_hex("a")  # the keyed state is not consumed


def test_uuid4_text_is_a_random_version_4_uuid() -> None:
    texts = [uuid4_text() for _ in range(2000)]
    assert len(set(texts)) == 2000
    for text in texts[:200]:
        u = uuid.UUID(text)
        assert str(u) == text and u.version == 4 and u.variant == uuid.RFC_4122


def test_iso8601_across_seconds_and_days() -> None:
    for ts in (0, 999, 1000, 86_399_999, 86_400_000, 1_700_000_123_456, 1_700_000_124_000):
        seconds, ms = divmod(ts, 1000)
        expected = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{ms:03d}Z"
        assert iso8601_ms(ts) == expected


def test_op_login_replies() -> None:
    assert op_login_reply({"event": "login", "code": "0", "msg": ""}) is True
    assert op_login_reply({"event": "login", "code": 0}) is True
    assert op_login_reply({"event": "login", "code": "60009", "msg": "Login failed."}) == "Login failed."
    refused = op_login_reply({"event": "error", "code": "60005", "msg": "Invalid apiKey"})
    assert refused == "60005: Invalid apiKey"
    assert op_login_reply({"event": "subscribe", "arg": {}}) is None
    assert op_login_reply(["login"]) is None


def test_quote_size_is_exact_decimal_text() -> None:
    assert quote_size_text("0.001", 27000.1) == "27.0001"
    assert quote_size_text("0.3", 0.1) == "0.03"
    assert quote_size_text("100", 70_000_000.0) == "7000000000"


@settings(max_examples=300)
@given(text=st.text(max_size=20), safe=st.sampled_from(["", "[]", "~()*!.'", "/:"]))
def test_uri_component_is_quote(text: str, safe: str) -> None:
    assert uri_component(text, safe) == quote(text, safe=safe)
    assert uri_component("KRW-BTC") == "KRW-BTC" and uri_component("a b&c") == "a%20b%26c"


def test_iso_times_of_answers() -> None:
    from arbot.trading.upbit_family import iso_time

    assert iso_time("2024-01-01T09:00:00+09:00") == 1_704_067_200.0
    assert iso_time("2024-01-01T00:00:00.250Z") == 1_704_067_200.25
    assert iso_time("2024-01-01T00:00:00") == datetime(2024, 1, 1).timestamp()  # local time
    assert iso_time("not a time") == 0.0 and iso_time(None) == 0.0


@given(raw=st.binary(max_size=100))
def test_unpadded_urlsafe_base64(raw: bytes) -> None:
    from arbot.trading.signing import _b64url

    assert _b64url(raw) == base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
