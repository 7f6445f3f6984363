"""Soak: the daemon for N minutes under steady load, against the gateway simulator (issue 7, item 7).

The gateway simulator runs in this process, and so does the trader: it places market
orders straight into the simulator's exchange (what ``/sim/trade`` does, without HTTP), so
this process's CPU goes to the simulator. The daemon runs as a child process (this script
again, with ``--serve-daemon``: ``risk_manager run``'s set-up with the request budget lifted,
as in live_latency.py), so the RSS measured is the daemon's alone. Its metrics endpoint
(``general.metrics``) is enabled and scraped once a minute.

Load: ``--accounts`` accounts (100), each holding one contract of ``--contracts`` (8) so all
stay in play; the simulator's market walk publishes ``--quote-rate`` quotes per second in
total (2,000). The trader places ``--trade-rate`` orders per second in total (15), round
robin over the accounts, each account cycling buy 1 (2 held, at RULE-001's limit of 2), buy 2
(4 held: a breach; the daemon sells 2 back) and sell 1 (1 held). So a third of the orders
breach, and each breach is enforced.

Enforcement latency, as in live_latency.py, is measured inside the simulator on its
``perf_counter_ns`` clock: from the publish of the breaching GatewayUserPosition to the
arrival of the first enforcement request for that account after it. Each minute the JSON
gets the daemon's RSS, that minute's latency p50/p99/max, events the daemon handled and
quotes per second published (and handled). The targets (RSS growth after the first minute
< 10 MB, every minute's p99 < 10 ms) are reported as pass/fail; the exit code is 0 anyway:
benchmarks report, they do not gate.

    python benchmarks/soak.py --minutes 1            # CI smoke
    python benchmarks/soak.py --minutes 30           # the soak
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import signal
import socket
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

from live_latency import UNLIMITED, percentile, unthrottled_budget
from risk_manager.broker.base import BrokerRejected
from risk_manager.broker.projectx.wire import OrderPlaceRequest
from risk_manager.gateway import GatewaySimulator, client_gateway_config, running_gateway

#: Roots whose front months carry the load; the simulator's market allows 1,000 quotes/s each.
ROOTS = ("MNQ", "MES", "M2K", "MYM", "ENQ", "EP", "RTY", "YM")
LIMIT = 2
#: One account's cycle: (side, size). 0 = buy, 1 = sell. The middle step breaches LIMIT.
CYCLE = ((0, 1), (0, 2), (1, 1))
TARGET_P99_MS = 10.0
TARGET_GROWTH_MB = 10.0
#: A breach with no enforcement request after this long counts as missed.
MISSED_AFTER_NS = 5_000_000_000
WAIT = 60.0
RULES: dict[str, Any] = {
    "max_contracts": {"enabled": True, "limit": LIMIT},
    # Enabled so every quote and fill goes through the P&L rules, with limits the load never reaches.
    "daily_realized_loss": {"enabled": True, "limit": -1_000_000.0, "include_unrealized": True},
    "daily_unrealized_loss": {"enabled": True, "limit": -900_000.0},
    "max_unrealized_profit": {"enabled": True, "target": 1_000_000.0},
    "trade_frequency_limit": {"enabled": True, "limits": {"per_minute": 1000}},
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=int, default=30, help="length of the soak (default 30)")
    parser.add_argument("--accounts", type=int, default=100, help="accounts, all watched (default 100)")
    parser.add_argument("--quote-rate", type=float, default=2000.0, help="quotes/s in total (default 2000)")
    parser.add_argument(
        "--trade-rate", type=float, default=15.0, help="trader orders/s in total (default 15)"
    )
    parser.add_argument("--contracts", type=int, default=8, choices=range(1, len(ROOTS) + 1),
                        help=f"contracts in play, from {', '.join(ROOTS)} (default 8)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=1, help="simulator seed (default 1)")
    parser.add_argument("--serve-daemon", nargs=2, metavar=("CONFIG_DIR", "DATA_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.minutes < 1 or args.accounts < 1 or args.trade_rate <= 0 or args.quote_rate < 0:
        parser.error("minutes and accounts must be >= 1, trade-rate > 0, quote-rate >= 0")
    if args.quote_rate / args.contracts > 1000:
        parser.error("at most 1000 quotes/s per contract (the simulator's market limit)")
    return args


# -- the daemon, in its own process ----------------------------------------------------------------


def serve_daemon(config_dir: Path, data_dir: Path) -> int:
    """``risk_manager run`` as the CLI does it (JSON log file, tuned GC), the request budget lifted."""
    from risk_manager.config.loader import load_config_set
    from risk_manager.daemon.daemon import run_daemon
    from risk_manager.daemon.logs import setup_logging
    from risk_manager.engine.runtime import tune_gc

    config_set = load_config_set(config_dir)
    logging_config = config_set.risk.general.logging
    setup_logging(logging_config.level, data_dir / "logs" / "risk_manager.log", stream=False,
                  max_bytes=logging_config.max_bytes, backups=logging_config.backups,
                  retention_days=logging_config.retention_days)  # fmt: skip
    unthrottled_budget()
    tune_gc()
    return asyncio.run(run_daemon(config_set, data_dir))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_config(config_dir: Path, url: str, accounts: int, metrics_port: int) -> None:
    config_dir.mkdir(parents=True)
    entries = [{"id": i, "label": f"acct-{i}"} for i in range(1, accounts + 1)]
    gateway = client_gateway_config(url)
    (config_dir / "accounts.yaml").write_text(
        yaml.safe_dump({"version": 1, "gateway": gateway, "accounts": entries})
    )
    general = {"metrics": {"enabled": True, "port": metrics_port}, "logging": {"level": "INFO"}}
    risk = {"version": 1, "general": general, "rules": RULES}
    (config_dir / "risk_config.yaml").write_text(yaml.safe_dump(risk))


def rss_bytes(pid: int) -> int:
    """Resident set size of a process (Linux /proc; the benchmark's platform)."""
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


async def scrape(http: httpx.AsyncClient, port: int) -> dict[str, float]:
    """The daemon's metrics, summed over labels except ``type`` (``name{type}``)."""
    reply = await http.get(f"http://127.0.0.1:{port}/metrics")
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(reply.text):
        for sample in family.samples:
            key = sample.name + (f"{{{sample.labels['type']}}}" if "type" in sample.labels else "")
            totals[key] = totals.get(key, 0.0) + sample.value
    return totals


# -- latency: breaches matched to enforcement requests, on the simulator's clock ---------------


@dataclass
class Matcher:
    """Pairs each breach with the first enforcement request for its account after it."""

    cursor_events: int = 0
    cursor_requests: int = 0
    open: dict[Any, int] = field(default_factory=dict)
    missed: int = 0

    def collect(self, sim: GatewaySimulator, until_ns: int) -> list[float]:
        """Latencies (ms) of breaches enforced since the last call, up to ``until_ns``."""
        events = self._new(sim.timings.events, self.cursor_events, until_ns)
        requests = self._new(sim.timings.requests, self.cursor_requests, until_ns)
        if events:
            self.cursor_events = events[-1][0]
        if requests:
            self.cursor_requests = requests[-1][0]
        merged = sorted(
            [(t, 0, account, size) for t, kind, account, size in events if kind == "GatewayUserPosition"]
            + [(t, 1, account, None) for t, _, account in requests]
        )
        samples: list[float] = []
        for t, is_request, account, size in merged:
            if is_request:
                started = self.open.pop(account, None)
                if started is not None:
                    samples.append((t - started) / 1e6)
            elif abs(size or 0) > LIMIT and account not in self.open:
                self.open[account] = t
        for account, started in list(self.open.items()):
            if until_ns - started > MISSED_AFTER_NS:
                del self.open[account]
                self.missed += 1
        return samples

    @staticmethod
    def _new(log: deque[Any], after: int, until: int) -> list[Any]:
        """Entries stamped in (after, until], oldest first; read from the newest end (the log is bounded)."""
        newer = itertools.takewhile(lambda entry: entry[0] > after, reversed(log))
        return [entry for entry in reversed(list(newer)) if entry[0] <= until]


# -- the trader -------------------------------------------------------------------------------------


@dataclass
class Trader:
    sim: GatewaySimulator
    holdings: dict[int, str]
    rate: float
    placed: int = 0
    refused: int = 0
    refusals: dict[str, int] = field(default_factory=dict)

    def place(self, account: int, side: int, size: int) -> None:
        request = OrderPlaceRequest.model_validate(
            {
                "accountId": account,
                "contractId": self.holdings[account],
                "type": 2,
                "side": side,
                "size": size,
            }
        )
        try:
            self.sim.exchange.place(request)
            self.placed += 1
        except BrokerRejected as exc:
            self.refused += 1
            self.refusals[str(exc)] = self.refusals.get(str(exc), 0) + 1

    async def run(self) -> None:
        """Round robin at ``rate`` orders/s; each account steps through CYCLE."""
        loop = asyncio.get_running_loop()
        accounts = list(self.holdings)
        step = dict.fromkeys(accounts, 0)
        started = loop.time()
        for n in itertools.count():
            delay = started + n / self.rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            account = accounts[n % len(accounts)]
            side, size = CYCLE[step[account] % len(CYCLE)]
            step[account] += 1
            self.place(account, side, size)


# -- the run ----------------------------------------------------------------------------------------


async def until(check: Any, what: str, timeout: float = WAIT) -> None:
    try:
        async with asyncio.timeout(timeout):
            while not await check():
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise RuntimeError(f"timed out waiting until {what}") from None


def stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50), 3),
        "p99_ms": round(percentile(values, 99), 3),
        "max_ms": round(max(values), 3),
    }


async def start_daemon(workdir: Path, log: Any) -> asyncio.subprocess.Process:
    command = [sys.executable, __file__, "--serve-daemon", str(workdir / "config"), str(workdir / "data")]
    return await asyncio.create_subprocess_exec(
        *command, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log
    )


async def stop_daemon(proc: asyncio.subprocess.Process) -> int | None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 15.0)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    return proc.returncode


async def soak(args: argparse.Namespace, workdir: Path, minutes: list[dict[str, Any]]) -> dict[str, Any]:
    metrics_port = free_port()
    async with running_gateway(port=0, accounts=args.accounts, seed=args.seed, quote_rate=0) as gw:
        sim = gw.simulator
        sim.limiter.configure(UNLIMITED, 60.0)
        by_root = {c["id"].split(".")[3]: c["id"] for c in sim.state()["contracts"]}
        contracts = [by_root[root] for root in ROOTS[: args.contracts]]
        holdings = {a: contracts[(a - 1) % len(contracts)] for a in range(1, args.accounts + 1)}
        write_config(workdir / "config", gw.url, args.accounts, metrics_port)
        with (workdir / "daemon.out").open("wb") as log:
            proc = await start_daemon(workdir, log)
            try:
                async with httpx.AsyncClient(timeout=10.0) as http:
                    return await measure(args, sim, proc, http, metrics_port, holdings, contracts, minutes)
            finally:
                exit_code = await stop_daemon(proc)
                print(f"daemon exit code {exit_code}", file=sys.stderr)


async def measure(
    args: argparse.Namespace,
    sim: GatewaySimulator,
    proc: asyncio.subprocess.Process,
    http: httpx.AsyncClient,
    port: int,
    holdings: dict[int, str],
    contracts: list[str],
    minutes: list[dict[str, Any]],
) -> dict[str, Any]:
    """Minute by minute into ``minutes`` (so an interrupted run still reports what it measured)."""

    async def connected() -> bool:
        if proc.returncode is not None:
            raise RuntimeError(f"the daemon exited with {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            metrics = await scrape(http, port)
            return (
                metrics.get("risk_manager_hub_connected", 0) == 2
                and "risk_manager_heartbeat_age_seconds" in metrics
            )
        return False

    await until(connected, "the daemon connected")
    trader = Trader(sim, holdings, args.trade_rate)
    for account in holdings:  # each holds 1: its contract stays in play and subscribed
        trader.place(account, 0, 1)

    async def subscribed() -> bool:
        return set(contracts) <= sim.hubs.subscribed_contracts()

    await until(subscribed, "the daemon subscribed to the quotes")
    sim.market.rate = args.quote_rate / len(contracts)
    sim.market_changed()
    matcher = Matcher(cursor_events=time.perf_counter_ns(), cursor_requests=time.perf_counter_ns())
    trading = asyncio.create_task(trader.run())
    loop = asyncio.get_running_loop()
    started = loop.time()
    before = await Snapshot.take(sim, http, port)
    try:
        for minute in range(1, args.minutes + 1):
            await asyncio.sleep(max(0.0, started + 60 * minute - loop.time()))
            if proc.returncode is not None:
                raise RuntimeError(f"the daemon exited with {proc.returncode} in minute {minute}")
            after = await Snapshot.take(sim, http, port)
            latencies = matcher.collect(sim, after.ns)
            minutes.append(minute_figures(minute, proc.pid, latencies, before, after))
            print(json.dumps(minutes[-1]), file=sys.stderr, flush=True)  # progress for a long run
            before = after
    finally:
        trading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await trading
    return report(args, minutes, matcher, trader)


@dataclass(frozen=True)
class Snapshot:
    """Counters at one instant: the daemon's metrics, the simulator's quotes, this process's CPU."""

    ns: int
    metrics: dict[str, float]
    quotes: int
    simulator_cpu_s: float

    @classmethod
    async def take(cls, sim: GatewaySimulator, http: httpx.AsyncClient, port: int) -> Snapshot:
        metrics = await scrape(http, port)
        return cls(time.perf_counter_ns(), metrics, sim.timings.quotes, time.process_time())

    def since(self, before: Snapshot, prefix: str) -> float:
        """The growth of every metric named ``prefix...`` (summed) since ``before``."""
        return sum(v for k, v in self.metrics.items() if k.startswith(prefix)) - sum(
            v for k, v in before.metrics.items() if k.startswith(prefix)
        )


def minute_figures(
    minute: int, pid: int, latencies: list[float], before: Snapshot, after: Snapshot
) -> dict[str, Any]:
    seconds = (after.ns - before.ns) / 1e9
    calls = after.since(before, "risk_manager_enforcement_latency_seconds_count")
    call_s = after.since(before, "risk_manager_enforcement_latency_seconds_sum")
    return {
        "minute": minute,
        "rss_mb": round(rss_bytes(pid) / 2**20, 1),
        "latency": stats(latencies),
        "events_handled": int(after.since(before, "risk_manager_events_total")),
        "event_errors": int(after.since(before, "risk_manager_event_errors_total")),
        "quotes_per_s_published": round((after.quotes - before.quotes) / seconds, 1),
        "quotes_per_s_handled": round(
            after.since(before, "risk_manager_events_total{GatewayQuote}") / seconds, 1
        ),
        "enforcement_actions": int(after.since(before, "risk_manager_enforcement_actions_total")),
        "broker_call_ms_mean": round(call_s / calls * 1000, 3) if calls else None,
        "daemon_cpu_s": round(after.since(before, "process_cpu_seconds_total"), 1),
        "simulator_cpu_s": round(after.simulator_cpu_s - before.simulator_cpu_s, 1),
        "queue_depth": int(after.metrics.get("risk_manager_event_queue_depth", 0)),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def report(
    args: argparse.Namespace, minutes: list[dict[str, Any]], matcher: Matcher, trader: Trader
) -> dict[str, Any]:
    rss = [m["rss_mb"] for m in minutes]
    growth = round(rss[-1] - rss[0], 1) if len(rss) > 1 else None
    p99s = [m["latency"]["p99_ms"] for m in minutes]
    latency_pass = all(p is not None and p < TARGET_P99_MS for p in p99s)
    return {
        "benchmark": "soak",
        "minutes": minutes,
        "rss_mb_after_warmup": rss[0],
        "rss_mb_end": rss[-1],
        "rss_growth_mb_after_warmup": growth,
        "rss_growth_max_mb_after_warmup": round(max(rss) - rss[0], 1) if len(rss) > 1 else None,
        "memory_flat": None if growth is None else growth < TARGET_GROWTH_MB,
        "p99_ms_worst_minute": max((p for p in p99s if p is not None), default=None),
        "latency_p99_under_target_every_minute": latency_pass,
        "breaches_missed": matcher.missed,
        "orders_placed": trader.placed,
        "orders_refused": trader.refused,
        "refusals": trader.refusals,
        "targets": {"rss_growth_mb": TARGET_GROWTH_MB, "p99_ms": TARGET_P99_MS},
        "measure": "latency: simulator publishes breaching GatewayUserPosition -> simulator receives the "
        "enforcement request (perf_counter_ns of the simulator); rss: /proc/<daemon pid>/statm each minute, "
        "growth = last minute - first minute (the first minute is warm-up)",
        "settings": {
            "accounts": args.accounts,
            "contracts": list(ROOTS[: args.contracts]),
            "quote_rate_total": args.quote_rate,
            "trade_rate_total": args.trade_rate,
            "rule": f"RULE-001 limit {LIMIT}; each account cycles buy 1, buy 2 (breach), sell 1",
            "other_rules": "RULE-003/004/005/006 enabled, limits never reached",
            "daemon": "child process (risk_manager run's set-up, request budget lifted), INFO JSON log file",
            "gateway": "in the benchmark process with the trader (orders straight into its exchange)",
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
        },
    }


def interrupted(signum: int, frame: object) -> None:
    """SIGTERM (and SIGINT, which a background job ignores by default) stop the run cleanly:
    the daemon is stopped and the minutes measured so far are still printed."""
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_daemon:
        return serve_daemon(Path(args.serve_daemon[0]), Path(args.serve_daemon[1]))
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, interrupted)
    wall = time.perf_counter()
    load_before = os.getloadavg()
    minutes: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="rm-soak-") as tmp:
        try:
            result = asyncio.run(soak(args, Path(tmp), minutes))
        except (Exception, KeyboardInterrupt) as exc:  # a benchmark reports, it does not gate
            daemon_out = Path(tmp, "daemon.out")
            tail = daemon_out.read_text(errors="replace")[-2000:] if daemon_out.exists() else ""
            error = f"{type(exc).__name__}: {exc}"
            result = {"benchmark": "soak", "error": error, "minutes": minutes, "daemon_output_tail": tail}
    result["load_avg_before"] = [round(x, 2) for x in load_before]
    result["load_avg_after"] = [round(x, 2) for x in os.getloadavg()]
    result["wall_s"] = round(time.perf_counter() - wall, 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
