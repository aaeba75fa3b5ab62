"""Core CRC32 book checksum (``arbot.connectors.checksum``): OKX's documented vectors, the
string layout, and the ``BookSync`` hook keeping raw strings across updates."""

from __future__ import annotations

import zlib
from types import SimpleNamespace
from typing import Any

from arbot.book import OrderBook
from arbot.connectors.checksum import (
    CHECKSUM_DEPTH,
    Crc32Checksum,
    book_checksum,
    checksum_string,
    crc32_signed,
)


def _rec(bids: list[tuple[str, str]], asks: list[tuple[str, str]], checksum: int | None) -> Any:
    return SimpleNamespace(
        bids=[(float(p), float(q)) for p, q in bids], asks=[(float(p), float(q)) for p, q in asks],
        raw_bids=bids, raw_asks=asks, checksum=checksum,
    )


def test_okx_documented_example() -> None:
    # OKX v5 docs (shared/exchanges/okx.md, [O3]): bids 3366.1/7, 3366/6; asks 3366.8/9, 3368/8
    s = checksum_string([("3366.1", "7"), ("3366", "6")], [("3366.8", "9"), ("3368", "8")])
    assert s == "3366.1:7:3366.8:9:3366:6:3368:8"
    assert crc32_signed(s) == -1881014294  # unsigned 2413953002
    assert crc32_signed("3366.1:7:3366.8:9:3368:8:3372:8") == 831078360


def test_crc32_signed_matches_zlib_as_signed_int32() -> None:
    for text in ("", "a", "1:2:3:4", "3366.1:7:3366.8:9"):
        u = zlib.crc32(text.encode())
        v = crc32_signed(text)
        assert -(2**31) <= v < 2**31 and v % 2**32 == u


def test_checksum_string_interleaves_and_skips_missing_entries() -> None:
    assert checksum_string([("1", "2")], [("3", "4"), ("5", "6")]) == "1:2:3:4:5:6"
    assert checksum_string([("1", "2"), ("0.5", "1")], []) == "1:2:0.5:1"
    bids = [(str(100 - i), "1") for i in range(40)]
    asks = [(str(200 + i), "1") for i in range(40)]
    parts = checksum_string(bids, asks).split(":")
    assert len(parts) == 4 * CHECKSUM_DEPTH  # both sides cut at the depth
    assert checksum_string(bids, asks, depth=1) == "100:1:200:1"


def test_hook_keeps_original_strings_and_detects_a_wrong_book() -> None:
    ck = Crc32Checksum(lambda rec: rec.checksum is not None)
    book = OrderBook("v", "BTC/USDT")
    bids, asks = [("100.10", "1.50"), ("100.00", "2")], [("100.20", "0.10")]
    snap = _rec(bids, asks, crc32_signed(checksum_string(bids, asks)))
    assert ck.reset("BTC/USDT", snap) and ck.ok == 1
    book.apply_snapshot(snap.bids, snap.asks, 1.0)
    # an update changing one bid and deleting the other: the checksum uses the new raw strings
    upd_bids = [("100.10", "3.00"), ("100.00", "0")]
    after = crc32_signed(checksum_string([("100.10", "3.00")], asks))
    upd = _rec(upd_bids, [], after)
    book.apply_delta(upd.bids, upd.asks, 2.0)
    assert ck(book, upd) and ck.ok == 2
    assert book_checksum(book, {100.1: ("100.10", "3.00")}, {100.2: ("100.20", "0.10")}) == after
    # a checksum that does not match the book fails and is not counted as ok
    bad = _rec([("99.90", "1")], [], after)
    book.apply_delta(bad.bids, bad.asks, 3.0)
    assert not ck(book, bad) and ck.ok == 2


def test_hook_skips_checksums_that_do_not_apply_or_when_disabled() -> None:
    bids, asks = [("1", "1")], [("2", "1")]
    assert Crc32Checksum(lambda rec: False).reset("X", _rec(bids, asks, 12345))
    off = Crc32Checksum(lambda rec: True, verify=False)
    assert off.reset("X", _rec(bids, asks, 12345)) and off.ok == 0
    on = Crc32Checksum(lambda rec: True)
    assert not on.reset("X", _rec(bids, asks, 12345)) and on.ok == 0


def test_hook_matches_the_reference_string_over_random_updates() -> None:
    """The hook's incremental per-level texts give the checksum of the reference
    :func:`checksum_string` over the book's best levels, through inserts, changes and deletes
    on both sides, with more and fewer levels than the checksum depth."""
    import random

    rng = random.Random(7)
    ck = Crc32Checksum(lambda rec: True)
    book = OrderBook("v", "X/Y")
    held: dict[str, dict[str, str]] = {"b": {}, "a": {}}  # price text -> size text
    ck.reset("X/Y", _rec([], [], crc32_signed("")))
    for step in range(300):
        ups: dict[str, list[tuple[str, str]]] = {"b": [], "a": []}
        for side, lo in (("b", 900), ("a", 1001)):
            for _ in range(rng.randint(1, 6)):
                px = f"{lo + rng.randint(0, 60) / 10:.1f}" if side == "a" else \
                    f"{lo + rng.randint(0, 999) / 10:.1f}"
                sz = "0" if held[side] and rng.random() < 0.3 else f"{rng.randint(1, 99) / 4}"
                ups[side] = [u for u in ups[side] if u[0] != px] + [(px, sz)]
        for side in ("b", "a"):
            for px, sz in ups[side]:
                if float(sz) > 0:
                    held[side][px] = sz
                else:
                    held[side].pop(px, None)
        best_b = sorted(held["b"].items(), key=lambda kv: -float(kv[0]))
        best_a = sorted(held["a"].items(), key=lambda kv: float(kv[0]))
        want = crc32_signed(checksum_string(best_b, best_a))
        upd = _rec(ups["b"], ups["a"], want)
        book.apply_delta(upd.bids, upd.asks, float(step))
        assert ck(book, upd), step
        wrong = _rec([], [], want ^ 1)
        assert not ck(book, wrong)
    assert ck.ok == 301  # the empty snapshot, then every update
