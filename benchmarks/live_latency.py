"""End-to-end enforcement latency over loopback against the gateway simulator (issue 5, item 6).

The gateway simulator runs in its own process (``python -m risk_manager gateway``); the
daemon runs in this one (``tune_gc()`` first, as ``risk_manager run`` does), with RULE-001
max_contracts limit 1 on every account. Each account first holds 1 contract of one of
``--contracts`` micro futures (so those contracts stay in play and the daemon stays
subscribed to their quotes), then the simulator's market walk streams ``--quote-rate``
quotes per second in total (``/sim/market`` rate = total / contracts). Every ``--interval``
seconds, round robin over the accounts, the trader buys ``--size`` more through
``/sim/trade``; the daemon sells the excess back (Position/partialCloseContract).

A sample is measured inside the simulator process, on its ``perf_counter_ns`` clock
(``GET /sim/timings``): from the publish of the breaching GatewayUserPosition to the
arrival of the first enforcement request (Position/closeContract,
Position/partialCloseContract or Order/cancel) for that account after it. The first
``--warmup`` breaches are left out of the statistics (reported separately). Prints one
JSON object on stdout; the target (p99 < 10 ms) is reported, never enforced.

    python benchmarks/live_latency.py                              # 200 samples, 20 accounts
    python benchmarks/live_latency.py --samples 50 --accounts 5    # quick look
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from risk_manager.broker.projectx.budget import RequestBudget
from risk_manager.broker.projectx.client import ProjectXClient
from risk_manager.config.loader import load_config_set
from risk_manager.daemon.daemon import Daemon
from risk_manager.engine.runtime import tune_gc
from risk_manager.gateway import client_gateway_config

SYMBOLS = ("MNQ", "MES", "M2K", "MYM")
LIMIT = 1
TARGET_P99_MS = 10.0
WAIT = 20.0
#: Large enough that neither the daemon's request budget nor the simulator's rate limit
#: (both 200 / 60 s, the live service's) ever holds a request during the run.
UNLIMITED = 1_000_000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=200, help="measured breaches (default 200)")
    parser.add_argument("--accounts", type=int, default=20, help="accounts, all watched (default 20)")
    parser.add_argument(
        "--warmup", type=int, default=None, help="unmeasured breaches first (default: accounts)"
    )
    parser.add_argument(
        "--interval", type=float, default=0.05, help="seconds between breaches (default 0.05)"
    )
    parser.add_argument("--quote-rate", type=float, default=1000.0, help="quotes/s in total (default 1000)")
    parser.add_argument("--contracts", type=int, default=4, choices=range(1, len(SYMBOLS) + 1),
                        help=f"contracts in play, from {', '.join(SYMBOLS)} (default 4)")  # fmt: skip
    parser.add_argument("--size", type=int, default=2, help="contracts bought per breach (default 2)")
    parser.add_argument("--seed", type=int, default=1, help="simulator seed (default 1)")
    args = parser.parse_args(argv)
    if args.warmup is None:
        args.warmup = args.accounts
    if args.samples < 1 or args.accounts < 1 or args.interval <= 0 or args.size < 1:
        parser.error("samples, accounts, size must be >= 1 and interval > 0")
    if args.quote_rate / args.contracts > 1000:
        parser.error("at most 1000 quotes/s per contract (the simulator's /sim/market limit)")
    return args


def unthrottled_budget() -> None:
    """The daemon builds its client with ProjectXClient.from_config: give it a budget that never waits."""
    original = ProjectXClient.from_config.__func__  # type: ignore[attr-defined]

    def from_config(cls: type[ProjectXClient], gateway: Any, /, **options: Any) -> ProjectXClient:
        options.setdefault("budget", RequestBudget(UNLIMITED, 60.0, UNLIMITED))
        client: ProjectXClient = original(cls, gateway, **options)
        return client

    ProjectXClient.from_config = classmethod(from_config)  # type: ignore[method-assign,assignment]


async def start_gateway(args: argparse.Namespace) -> tuple[asyncio.subprocess.Process, str]:
    command = [sys.executable, "-m", "risk_manager", "gateway", "--port", "0", "--accounts",
               str(args.accounts), "--seed", str(args.seed), "--quote-rate", "0"]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=None, stdin=asyncio.subprocess.DEVNULL
    )
    assert proc.stdout is not None
    async with asyncio.timeout(WAIT):
        line = (await proc.stdout.readline()).decode().strip()
    prefix = "gateway listening on "
    if not line.startswith(prefix):
        proc.terminate()
        raise RuntimeError(f"gateway did not start: {line!r}")
    return proc, line.removeprefix(prefix)


def write_config(config_dir: Path, url: str, accounts: int) -> None:
    config_dir.mkdir(parents=True)
    gateway = client_gateway_config(url)
    entries = [{"id": i, "label": f"acct-{i}"} for i in range(1, accounts + 1)]
    (config_dir / "accounts.yaml").write_text(
        yaml.safe_dump({"version": 1, "gateway": gateway, "accounts": entries})
    )
    rules = {"max_contracts": {"enabled": True, "limit": LIMIT}}
    (config_dir / "risk_config.yaml").write_text(yaml.safe_dump({"version": 1, "rules": rules}))


async def until(check: Any, what: str, timeout: float = WAIT) -> None:
    try:
        async with asyncio.timeout(timeout):
            while not await check():
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise RuntimeError(f"timed out waiting until {what}") from None


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def match(timings: dict[str, Any], after_ns: int) -> tuple[list[tuple[int, float, float | None]], int]:
    """``(publish ns, ms, ms from the fill's trade event)`` per breach published after ``after_ns``,
    in publish order, and the number of breaches without an enforcement request.

    A breach is a GatewayUserPosition with size > LIMIT; its sample ends at the first
    enforcement request for the account after it, if that comes before the account's next breach.
    """
    events: dict[int, list[dict[str, Any]]] = {}
    for event in timings["events"]:
        events.setdefault(event["accountId"], []).append(event)
    requests: dict[int, list[int]] = {}
    for request in timings["requests"]:
        requests.setdefault(request["accountId"], []).append(request["t"])
    samples: list[tuple[int, float, float | None]] = []
    missed = 0
    for account, stream in events.items():
        stream.sort(key=lambda e: e["t"])
        breaches = [
            (i, e) for i, e in enumerate(stream)
            if e["type"] == "GatewayUserPosition" and abs(e["size"] or 0) > LIMIT and e["t"] > after_ns
        ]  # fmt: skip
        arrivals = sorted(requests.get(account, []))
        for n, (index, breach) in enumerate(breaches):
            end = breaches[n + 1][1]["t"] if n + 1 < len(breaches) else None
            arrival = next((t for t in arrivals if t > breach["t"]), None)
            if arrival is None or (end is not None and arrival > end):
                missed += 1
                continue
            trade = next(  # the fill's trade, published just before its position
                (e for e in reversed(stream[:index]) if e["type"] == "GatewayUserTrade"), None
            )
            from_trade = (arrival - trade["t"]) / 1e6 if trade is not None else None
            samples.append((breach["t"], (arrival - breach["t"]) / 1e6, from_trade))
    samples.sort()
    return samples, missed


def summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50), 3),
        "p99_ms": round(percentile(values, 99), 3),
        "max_ms": round(max(values), 3),
        "mean_ms": round(statistics.fmean(values), 3),
    }


async def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    proc, url = await start_gateway(args)
    daemon: Daemon | None = None
    task: asyncio.Task[int] | None = None
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10.0) as http:

            async def sim(path: str, body: dict[str, Any] | None = None) -> Any:
                reply = await (http.get(path) if body is None else http.post(path, json=body))
                if reply.status_code >= 300:
                    raise RuntimeError(f"{path}: {reply.status_code} {reply.text}")
                return reply.json()

            await sim("/sim/rate-limit", {"limit": UNLIMITED, "window": 60})
            state = await sim("/sim/state")
            by_symbol = {c["id"].split(".")[3]: c["id"] for c in state["contracts"]}
            contracts = [by_symbol[s] for s in SYMBOLS[: args.contracts]]

            write_config(workdir / "config", url, args.accounts)
            daemon = Daemon(load_config_set(workdir / "config"), workdir / "data")
            task = asyncio.create_task(daemon.run())

            async def connected() -> bool:
                if task.done():
                    task.result()
                    raise RuntimeError("the daemon stopped")
                assert daemon is not None
                hub = daemon.user_hub
                return daemon.engine is not None and hub is not None and hub.is_connected

            await until(connected, "the daemon connected")

            # Each account holds 1 (at the limit): the contracts stay in play and subscribed.
            account_contract = {a: contracts[(a - 1) % len(contracts)] for a in range(1, args.accounts + 1)}
            for account, contract in account_contract.items():
                await sim("/sim/trade", {"accountId": account, "contractId": contract, "side": 0, "size": 1})

            async def subscribed() -> bool:
                subs: set[str] = set()
                for connection in (await sim("/sim/state"))["connections"]:
                    subs |= set(connection.get("subscriptions", {}).get("quotes", []))
                return set(contracts) <= subs

            await until(subscribed, "the daemon subscribed to the quotes")
            await sim("/sim/market", {"rate": args.quote_rate / len(contracts), "paused": False})
            await asyncio.sleep(1.0)  # let the quote stream settle

            before = await sim("/sim/timings")
            start_ns, quotes_before = before["now"], before["quotes"]
            total = args.warmup + args.samples
            accounts = list(account_contract)
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            for k in range(total):
                delay = t0 + k * args.interval - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                account = accounts[k % len(accounts)]
                await sim("/sim/trade", {"accountId": account, "contractId": account_contract[account],
                                         "side": 0, "size": args.size})  # fmt: skip

            async def enforced() -> bool:
                books = (await sim("/sim/state"))["accounts"]
                return all(
                    sum(abs(p["size"]) for p in book["positions"]) <= LIMIT
                    for book in books
                    if book["id"] in account_contract
                )

            await until(enforced, "every breach was enforced")
            after = await sim("/sim/timings")
            quote_rate = (after["quotes"] - quotes_before) / ((after["now"] - start_ns) / 1e9)
            daemon.stop.request(0)
            code = await asyncio.wait_for(task, WAIT)
    finally:
        if task is not None and not task.done():
            assert daemon is not None
            daemon.stop.request(0)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, WAIT)
        if proc.returncode is None:
            proc.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 5.0)
            if proc.returncode is None:
                proc.kill()
                await proc.wait()

    samples, missed = match(after, start_ns)
    warm = [ms for _, ms, _ in samples[: args.warmup]]
    measured = [ms for _, ms, _ in samples[args.warmup :]]
    from_trade = [ms for _, _, ms in samples[args.warmup :] if ms is not None]
    stats = summary(measured)
    return {
        "benchmark": "live_latency",
        "measure": "simulator publishes breaching GatewayUserPosition -> simulator receives the "
        "enforcement request (same process, perf_counter_ns)",
        **{key: stats.get(key) for key in ("p50_ms", "p99_ms", "max_ms", "mean_ms")},
        "samples": stats["n"],
        "missed": missed,
        "target_p99_ms": TARGET_P99_MS,
        "target_met": stats["n"] > 0 and stats["p99_ms"] < TARGET_P99_MS,
        "warmup": summary(warm),
        "from_trade_event": summary(from_trade),
        "quotes_per_s_measured": round(quote_rate, 1),
        "daemon_exit": code,
        "settings": {
            "accounts": args.accounts,
            "samples_requested": args.samples,
            "warmup": args.warmup,
            "interval_s": args.interval,
            "quote_rate_total": args.quote_rate,
            "contracts": [c for c in SYMBOLS[: args.contracts]],
            "quote_rate_per_contract": args.quote_rate / args.contracts,
            "rule": f"RULE-001 max_contracts limit {LIMIT} (gross), each account holds 1, buys {args.size}",
            "gateway": "separate process: python -m risk_manager gateway --port 0 "
            f"--accounts {args.accounts} --seed {args.seed} --quote-rate 0, then /sim/market",
            "request_budget": "lifted (daemon budget and simulator rate limit set to 1,000,000/60 s)",
            "transport": "loopback 127.0.0.1",
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
        },
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    unthrottled_budget()
    tune_gc()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="rm-live-latency-") as tmp:
        result = asyncio.run(run(args, Path(tmp)))
    result["wall_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
