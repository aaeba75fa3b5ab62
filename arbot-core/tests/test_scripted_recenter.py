"""ScriptedBook.recenter moves the whole book to a given mid, keeping its shape."""

from arbot.testing.emulator.scripted import ScriptedBook


def test_recenter_moves_every_level():
    sb = ScriptedBook("upbit", "BTC/KRW", seed=1, mid=60_000.0, tick=0.01)
    before = list(sb.book.bids)
    sb.recenter(83_400_000.0)
    assert abs(sb.book.mid - 83_400_000.0) <= sb.tick
    shift = sb.book.best_bid - before[0][0]
    assert [round(p - shift, 6) for p, _ in sb.book.bids] == [round(p, 6) for p, _ in before]
    assert [q for _, q in sb.book.bids] == [q for _, q in before]
    bids, asks = sb.levels_text()
    assert float(bids[0][0]) == sb.book.best_bid and float(asks[0][0]) == sb.book.best_ask
