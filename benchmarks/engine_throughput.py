"""Engine throughput and decision latency on a generated stream (issue: engine spine, item 9).

Replays a generated stream of mixed gateway events (quotes, and the orders, fills and
position updates of random market orders executed by the simulated broker) across many
accounts through the very engine the daemon runs, with every implemented rule on, a real
SQLite store in a temporary directory and the in-process simulated broker executing the
enforcement. Prints one JSON object.

    python benchmarks/engine_throughput.py                       # 200,000 events, 100 accounts
    python benchmarks/engine_throughput.py --events 20000 --accounts 20   # CI smoke size
    python benchmarks/engine_throughput.py --events 50000 --profile engine.prof   # cProfile of the engine

``--profile`` profiles only what the figures time (the events delivered to the engine), not the
simulated exchange; read it with ``python -m pstats engine.prof``. For a sampling profile of
the whole process, ``py-spy record -o engine.svg -- python benchmarks/engine_throughput.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import logging
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from risk_manager.broker import BrokerError
from risk_manager.config.risk import GeneralConfig, RulesConfig
from risk_manager.domain import OrderSide, OrderType
from risk_manager.engine.runtime import tune_gc
from risk_manager.replay import Scenario, ScenarioRun
from risk_manager.replay.scenario import LoadedScenario, Snapshot
from risk_manager.rules import REGISTRY

START = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
CONTRACTS = {
    "CON.F.US.MNQ.H26": 21000.0,
    "CON.F.US.EP.H26": 6000.0,
    "CON.F.US.ENQ.H26": 21000.0,
    "CON.F.US.MES.H26": 6000.0,
}
#: every rule of SPEC §3, with limits a busy day breaks now and then; those not implemented yet are left out
ALL_RULES: dict[str, dict[str, Any]] = {
    "max_contracts": {"enabled": True, "limit": 5},
    "max_contracts_per_instrument": {"enabled": True, "limits": {"MNQ": 4, "MES": 4, "ES": 2, "NQ": 2}},
    "daily_realized_loss": {"enabled": True, "limit": -3000.0, "include_unrealized": True},
    "daily_unrealized_loss": {"enabled": True, "limit": -1500.0},
    "max_unrealized_profit": {"enabled": True, "target": 2000.0},
    "trade_frequency_limit": {
        "enabled": True,
        "limits": {"per_minute": 30, "per_hour": 600, "per_session": 1000},
    },
    "cooldown_after_loss": {"enabled": True, "tiers": [{"loss_amount": -1000.0, "duration": "1m"}]},
    "no_stop_loss_grace": {"enabled": True, "grace_period_seconds": 30},
    "session_block_outside": {"enabled": True, "session": {"start": "09:30", "end": "16:00"}},
    "auth_loss_guard": {"enabled": True, "poll_interval_seconds": 30},
    "symbol_blocks": {"enabled": True, "blocked_symbols": ["RTY", "M2K"]},
    "trade_management": {
        "enabled": True,
        "auto_stop_loss": {"enabled": True, "ticks": 200},
        "trailing_stop": {"enabled": True, "activation_ticks": 80, "trail_ticks": 40},
    },
    "daily_realized_profit": {"enabled": True, "target": 5000.0},
}
#: the engine spine's benchmark (issue 3) ran RULE-001 and RULE-003 only
SPINE = ("max_contracts", "daily_realized_loss")


def rules_for(preset: str) -> dict[str, dict[str, Any]]:
    """``all``: every implemented rule; ``spine``: RULE-001 and RULE-003."""
    implemented = {spec.key for spec in REGISTRY.values()}
    keys = SPINE if preset == "spine" else tuple(ALL_RULES)
    return {key: ALL_RULES[key] for key in keys if key in implemented}


class Market:
    """A random walk per contract; traders send market orders to the simulated broker."""

    def __init__(self, accounts: list[int], seed: int) -> None:
        self.rng = random.Random(seed)
        self.prices = dict(CONTRACTS)
        self.accounts = accounts

    def quote(self) -> tuple[str, dict[str, Any]]:
        contract = self.rng.choice(list(self.prices))
        tick = 0.25
        self.prices[contract] = round(self.prices[contract] + self.rng.choice((-2, -1, 0, 1, 2)) * tick, 2)
        price = self.prices[contract]
        return contract, {"symbol": contract, "lastPrice": price, "bestBid": price - tick, "bestAsk": price}

    def order(self) -> tuple[int, str, OrderSide, int]:
        return (
            self.rng.choice(self.accounts),
            self.rng.choice(list(self.prices)),
            self.rng.choice((OrderSide.BUY, OrderSide.SELL)),
            self.rng.randint(1, 3),
        )


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


async def run(
    events: int,
    accounts: int,
    seed: int,
    data_dir: Path,
    rules: dict[str, Any],
    profiler: cProfile.Profile | None = None,
) -> dict[str, Any]:
    ids = [101 + n for n in range(accounts)]
    market = Market(ids, seed)
    scenario = Scenario(start=START, accounts=[{"id": i, "name": f"PRAC-{i}"} for i in ids])
    loaded = LoadedScenario(
        Path("<generated>"),
        scenario,
        GeneralConfig(),
        RulesConfig.model_validate(rules),
        None,
        Snapshot([], [], []),
    )
    actions: list[object] = []
    runner = ScenarioRun(loaded, data_dir, actions.append)
    await runner._boot()
    latencies: list[float] = []
    deliver = runner._deliver

    def timed(kind: str, data: Any, contract_id: str | None) -> None:
        if profiler is not None:
            profiler.enable()
        t0 = time.perf_counter()
        deliver(kind, data, contract_id)  # parse + journal + ledger + rules + merge + dispatch
        latencies.append(time.perf_counter() - t0)
        if profiler is not None:
            profiler.disable()

    runner._deliver = timed  # type: ignore[method-assign]
    for contract in CONTRACTS:  # every contract has a price before anyone trades
        runner.broker.observe("GatewayQuote", market.quote()[1], contract)
    started = time.perf_counter()
    at = START
    while len(latencies) < events:
        at += timedelta(milliseconds=5)
        await runner.advance_to(at)
        if market.rng.random() < 0.6:
            contract, data = market.quote()
            runner.broker.observe("GatewayQuote", data, contract)
            timed("GatewayQuote", data, contract)
        else:
            account, contract, side, size = market.order()
            with contextlib.suppress(BrokerError):  # a rejected order is part of trading too
                await runner.broker.place_order(account, contract, OrderType.MARKET, side, size)
        await runner.settle()  # the order's events, and any enforcement and its events
    elapsed = time.perf_counter() - started
    runner.close()
    latencies.sort()
    return {
        "benchmark": "engine_throughput",
        "events": len(latencies),
        "accounts": accounts,
        "rules": sorted(rules),
        "elapsed_s": round(elapsed, 3),
        "engine_s": round(sum(latencies), 3),
        # events / time spent in the engine (parse, journal, ledger, rules, merge, locks, dispatch, store
        # flushes); the wall figure also pays for the simulated exchange executing every order and close
        "events_per_s": round(len(latencies) / sum(latencies)),
        "wall_events_per_s": round(len(latencies) / elapsed),
        "decision_latency_us": {
            "p50": round(percentile(latencies, 0.50) * 1e6, 1),
            "p99": round(percentile(latencies, 0.99) * 1e6, 1),
            "max": round(latencies[-1] * 1e6, 1),
        },
        "enforcement_records": len(actions),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "python": sys.version.split()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--rules", choices=("all", "spine"), default="all", help="all rules, or RULE-001 and RULE-003"
    )
    parser.add_argument(
        "--profile", type=Path, metavar="FILE", help="write a cProfile of the engine's part (slows it down)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    tune_gc()  # as the daemon and replay do
    profiler = cProfile.Profile() if args.profile else None
    with tempfile.TemporaryDirectory(prefix="rm-bench-") as tmp:
        rules = rules_for(args.rules)
        result = asyncio.run(run(args.events, args.accounts, args.seed, Path(tmp), rules, profiler))
    if profiler is not None:
        profiler.dump_stats(args.profile)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
