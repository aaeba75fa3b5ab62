"""Toyex's parts on their own: the plugin registration, the wire protocol and the replay of
recorded messages with the live sequence rule."""

from __future__ import annotations

from arbot.connectors.protocol import Channel, Subscription
from arbot.connectors.records import BookKind, BookRecord, Control, TradeMsg
from arbot.events import BookUpdate
from arbot.plugins import PluginHost
from arbot_example_connector import ToyexConnector, ToyexReplayDecoder
from arbot_example_connector.protocol import ToyexProtocol


def test_the_plugin_registers_the_connector() -> None:
    assert PluginHost().resolve("connector", "toyex") is ToyexConnector
    assert isinstance(ToyexConnector.replay_decoder(), ToyexReplayDecoder)


def test_protocol_requests_and_frames() -> None:
    p = ToyexProtocol()
    assert p.subscribe([Subscription(Channel.BOOK, "BTC-USDT")]) == [
        '{"op":"sub","ch":"book","sym":"BTC-USDT"}']
    (rec,) = p.decode(b'{"ch":"book","sym":"BTC-USDT","first":5,"last":7,'
                      b'"bids":[["100.5","2"]],"asks":[],"ts":1700000000000}')
    assert rec == BookRecord("BTC-USDT", BookKind.DELTA, [(100.5, 2.0)], [], 5, 7, None, 1.7e9)
    (trade,) = p.decode('{"ch":"trade","sym":"BTC-USDT","px":"1","qty":"2","side":"sell","id":3}')
    assert isinstance(trade, TradeMsg) and trade.trade_id == "3"
    assert p.decode('{"op":"pong"}') is Control.PONG and p.decode('{"op":"error"}') is Control.ERROR


def _delta(first: int, last: int, price: float) -> dict[str, object]:
    return {"ch": "book", "sym": "BTC-USDT", "first": first, "last": last,
            "bids": [[str(price), "1"]], "asks": [["200", "1"]], "ts": 1}


def test_replay_bridges_the_snapshot_and_catches_a_gap() -> None:
    dec = ToyexReplayDecoder()
    assert dec.feed(_delta(9, 10, 99.0), 1.0) == []  # buffered: no snapshot yet
    events = dec.snapshot("https://api.toyex.example/book?sym=BTC-USDT",
                          {"sym": "BTC-USDT", "id": 9, "bids": [["98", "1"]], "asks": []}, 2.0)
    assert [type(e) for e in events] == [BookUpdate] and events[0].snapshot
    assert dec.books["BTC/USDT"].best_bid == 99.0 and dec.books["BTC/USDT"].sequence == 10
    assert dec.feed(_delta(11, 11, 99.5), 3.0)
    assert dec.feed(_delta(13, 14, 99.7), 4.0) == []  # 12 is missing
    assert dec.counters["gaps"] == 1 and not dec.is_synced("BTC/USDT")
