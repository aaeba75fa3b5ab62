"""ScriptedBook dislocations: whole-book shifts that a delta-applying client follows exactly."""

from __future__ import annotations

from arbot.book import OrderBook
from arbot.testing.emulator.scripted import ScriptedBook


def _levels(changes):
    return [(float(p), float(q)) for p, q in changes]


def test_dislocations_shift_the_book_and_come_back():
    sb = ScriptedBook("v", "BTC/USDT", seed=3, mid=60_000.0, tick=0.01)
    sb.configure_dislocations(0.05, pct=(0.5, 0.5), steps=(5, 5))
    client = OrderBook("v", "BTC/USDT")
    bids, asks = sb.levels_text()
    client.apply_snapshot(_levels(bids), _levels(asks), 0.0)
    start = client.mid
    mids = []
    for _ in range(400):
        b, a = sb.step()
        client.apply_delta(_levels(b), _levels(a), 0.0)
        assert list(client.bids) == list(sb.book.bids)
        assert list(client.asks) == list(sb.book.asks)
        assert not client.is_crossed
        mids.append(client.mid)
    moves = [abs(m / start - 1) for m in mids]
    assert max(moves) > 0.004  # at least one 0.5 % dislocation happened
    assert min(moves) < 0.001  # and the book came back


def test_no_dislocation_by_default_keeps_the_seeded_walk():
    a = ScriptedBook("v", "X/Y", seed=9, mid=100.0)
    b = ScriptedBook("v", "X/Y", seed=9, mid=100.0)
    b.configure_dislocations(0.0)
    assert [a.step() for _ in range(50)] == [b.step() for _ in range(50)]
