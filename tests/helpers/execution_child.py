"""A trading process the SIGKILL tests start, stop at a chosen point, kill, and restart.

``trade``: one spatial episode (buy on a, sell on b) through the order manager and leg-risk
machine with the write-ahead journal (SQLite, or PostgreSQL with ``--pg-dsn``), against two
emulated Binance venues. With ``--pause`` it prints ``PAUSED`` and waits forever at that point,
so the parent can SIGKILL it exactly there:

* ``after-intent``: the legs' intents are journaled (one flush), no request has left (both
  venues pause: legs go out together, and leg B's request would otherwise race the kill);
* ``after-fill``: leg A reached the venue and filled, its answer is not processed;
* ``between-legs``: leg A is settled and journaled, leg B's intent is journaled, not sent;
* ``lookup``: leg B was sent and its answer lost (the parent arms ACK_LOST): the process dies
  while looking it up by client id (the episode is still SENDING, leg B UNKNOWN);
* ``held``: the episode ran to its end -- with ``--policy hold`` and leg B refused, HELD with
  leg A's exposure -- and the process dies after.

``--policy`` is the divergence policy of both the trading and the restarted process.

``reconcile``: the restarted process reconciles the journal with the venues -- every order, then
every open or HELD episode through its leg-risk machine (complete, unwind, or report) -- and
prints the report as one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from arbot.events import Leg, Opportunity, Side
from arbot.execution.journal import JournalStore, SqliteJournal
from arbot.execution.killswitch import KillSwitch
from arbot.execution.legs import LegPolicy, LegRiskMachine
from arbot.execution.orders import OrderManager, OrderPolicy
from arbot.execution.reconcile import Reconciler
from arbot.execution.runtime import AsyncioRuntime
from arbot.market import MarketState
from arbot.testing.execution import Renamed
from arbot.trading import OrderRequest, OrderState, TradingGateway
from arbot.trading.signing import ApiCredentials
from arbot_binance.trading import BinanceTradingGateway

SYMBOL = "BTC/USDT"


async def _forever() -> None:
    print("PAUSED", flush=True)
    await asyncio.Event().wait()


class Pausing(Renamed):
    """Pauses (forever) at the configured point of this venue's first order."""

    def __init__(self, inner: TradingGateway, venue: str, pause: str, other: Renamed | None) -> None:
        super().__init__(inner, venue)
        self.pause = pause
        self.other = other

    async def place_order(self, request: OrderRequest) -> OrderState:
        if self.pause == "after-intent":
            await _forever()
        if self.pause == "between-legs":
            await asyncio.sleep(1.0)  # leg A settles and is journaled meanwhile
            await _forever()
        state = await super().place_order(request)
        if self.pause == "after-fill":
            await _forever()
        return state

    async def get_order(self, symbol: str, client_id: str) -> OrderState:
        if self.pause == "lookup":
            await _forever()
        return await super().get_order(symbol, client_id)


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["trade", "reconcile"])
    ap.add_argument("--journal", required=True, help="execution.sqlite path, or the scope with --pg-dsn")
    ap.add_argument("--pg-dsn", default=None, help="journal in this PostgreSQL database (arbot-postgres)")
    ap.add_argument(
        "--venue", action="append", nargs=4, metavar=("NAME", "URL", "KEY", "SECRET"), required=True
    )
    ap.add_argument(
        "--pause",
        choices=["none", "after-intent", "after-fill", "between-legs", "lookup", "held"],
        default="none",
    )
    ap.add_argument("--policy", default="retry,unwind", help="divergence steps, comma-separated")
    ap.add_argument("--ask", type=float, default=0.0)
    ap.add_argument("--bid", type=float, default=0.0)
    args = ap.parse_args()
    gws: dict[str, TradingGateway] = {}
    for name, url, key, secret in args.venue:
        inner = BinanceTradingGateway(ApiCredentials(key, secret=secret), rest_url=url, timeout=3.0)
        pause = "none"
        if args.mode == "trade" and args.pause == "after-intent":
            pause = args.pause
        if args.mode == "trade" and name == "a" and args.pause == "after-fill":
            pause = args.pause
        if args.mode == "trade" and name == "b" and args.pause in ("between-legs", "lookup"):
            pause = args.pause
        gw = Pausing(inner, name, pause, None)
        await gw.start()
        gws[name] = gw
    rt = AsyncioRuntime(time.time)
    journal: JournalStore
    if args.pg_dsn is not None:
        from arbot_postgres.journal import PostgresJournal
        from arbot_postgres.settings import PostgresSettings

        journal = PostgresJournal(PostgresSettings(dsn=args.pg_dsn), args.journal)
    else:
        journal = SqliteJournal(args.journal)
    manager = OrderManager(gws, journal, rt, OrderPolicy(lookup_backoff_s=0.05))
    kill = KillSwitch(journal, rt)
    policy = LegPolicy(on_divergence=tuple(args.policy.split(",")), unknown_wait_s=3.0)
    machine = LegRiskMachine(manager, journal, rt, MarketState(), kill, policy, None, lambda v, s: 0.001)
    try:
        if args.mode == "trade":
            legs = (Leg("a", SYMBOL, Side.BUY, args.ask, 0.01), Leg("b", SYMBOL, Side.SELL, args.bid, 0.01))
            opp = Opportunity("crash-1", time.time(), "spatial", SYMBOL, legs, 0.0, 0.0, 0.0)
            res = await machine.run("crash-1", opp)
            print(json.dumps({"state": res.state}), flush=True)
            if args.pause == "held":
                await _forever()
        else:
            rep = await Reconciler(journal, manager, kill, rt, machine=machine).run()
            print(
                json.dumps(
                    {
                        "ready": rep.ready,
                        "resolved": {k: v.value for k, v in rep.resolved.items()},
                        "episodes": rep.episodes,
                        "residuals": [[r.venue, r.asset, r.amount] for r in rep.residuals],
                        "fills_recovered": rep.fills_recovered,
                    }
                ),
                flush=True,
            )
    finally:
        for gw in gws.values():
            await gw.close()
        journal.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
