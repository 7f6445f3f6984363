"""The daemon's Prometheus metrics (``general.metrics``), served as text on 127.0.0.1 only.

What is counted, and where it comes from:

* ``risk_manager_events_total{type}``: every event the daemon handled (hub events by their
  gateway name, ``Account/search`` for the RULE-010 poll); ``risk_manager_event_errors_total{type}``
  those the engine raised on instead.
* ``risk_manager_records_total{record,rule}``: every lock, unlock, reset and action the
  engine decided (the replay vocabulary: ``lockout``, ``reduce``, ``close_all``...).
* ``risk_manager_enforcement_actions_total{rule,action,result}``: each enforcement action
  as it finished (``OK``, ``FAILED``, ``SKIPPED``), and
  ``risk_manager_enforcement_latency_seconds``: a histogram of how long the broker calls of
  a finished action took (retries included; skipped ones are not observed).
* ``risk_manager_hub_reconnects_total{hub}``, ``risk_manager_hub_connected{hub}``.
* ``risk_manager_request_budget_used`` / ``_limit`` / ``_read_limit`` / ``_blocked_seconds``:
  the REST request budget (200 requests / 60 s, polls stop at 150).
* ``risk_manager_locks_active{rule}``, ``risk_manager_store_error``,
  ``risk_manager_store_errors_total``, ``risk_manager_event_queue_depth``.
* ``risk_manager_up``, ``risk_manager_start_time_seconds``,
  ``risk_manager_heartbeat_age_seconds``, and the standard ``process_*`` metrics (RSS, CPU).

Every daemon has its own registry (never prometheus_client's global one), so several
daemons in one process (tests, benchmarks) never share a counter. The HTTP server runs in
prometheus_client's own thread: a scrape never waits for the event loop, so a daemon whose
loop is stuck still answers, and the heartbeat age (computed at scrape time) shows it.
Everything else is sampled on the event loop once a second (:meth:`DaemonMetrics.sample`),
because reading the engine's dicts from another thread would race with the loop.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter as Tally
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import start_http_server
from prometheus_client.registry import Collector

from risk_manager.config.risk import MetricsConfig
from risk_manager.schedule import Clock

if TYPE_CHECKING:
    from risk_manager.broker.projectx.budget import RequestBudget
    from risk_manager.enforcement.executor import Outcome
    from risk_manager.engine import Record
    from risk_manager.schedule.lockouts import Lockout

log = logging.getLogger("risk_manager.daemon.metrics")

#: The metrics endpoint listens on loopback only: it is unauthenticated.
HOST = "127.0.0.1"
NO_RULE = "none"
#: Seconds; enforcement is meant to take milliseconds, a retry takes 0.5-1.5 s more.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Hub(Protocol):
    """What the metrics read of a hub: successful handshakes so far and whether it is up now."""

    @property
    def connections(self) -> int: ...

    @property
    def is_connected(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Sample:
    """The daemon's state once a second, taken on the event loop (see the module docstring)."""

    hubs: Mapping[str, Hub | None]
    budget: RequestBudget | None
    locks: Iterable[Lockout]
    store_error: str | None
    queued: int


class _HeartbeatAge(Collector):
    """``risk_manager_heartbeat_age_seconds``, computed when scraped (never from a stale sample)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.last: datetime | None = None

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "risk_manager_heartbeat_age_seconds",
            "Seconds since the daemon's loop last wrote its heartbeat (SPEC §5: RUNNING <= 3 s); "
            "absent before the first one.",
        )
        if self.last is not None:
            family.add_metric([], (self._clock.now() - self.last).total_seconds())
        yield family


class DaemonMetrics:
    """One daemon's metrics, in a registry of its own; see the module docstring for the names."""

    def __init__(self, clock: Clock) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        reg = self.registry
        ProcessCollector(registry=reg)
        self._heartbeat = _HeartbeatAge(clock)
        reg.register(self._heartbeat)
        self.up = Gauge("risk_manager_up", "1 while the daemon runs.", registry=reg)
        self.start_time = Gauge(
            "risk_manager_start_time_seconds", "When the daemon started (Unix time, UTC).", registry=reg
        )
        self.events = Counter(
            "risk_manager_events", "Events handled, by gateway event type.", ["type"], registry=reg
        )
        self.event_errors = Counter(
            "risk_manager_event_errors",
            "Events that could not be handled (logged with a traceback), by type.",
            ["type"],
            registry=reg,
        )
        self.records = Counter(
            "risk_manager_records",
            "Locks, unlocks, resets and actions the engine decided, by record and rule.",
            ["record", "rule"],
            registry=reg,
        )
        self.actions = Counter(
            "risk_manager_enforcement_actions",
            "Enforcement actions finished, by rule, action and result (OK, FAILED, SKIPPED).",
            ["rule", "action", "result"],
            registry=reg,
        )
        self.latency = Histogram(
            "risk_manager_enforcement_latency_seconds",
            "Time the broker calls of one enforcement action took, retries included.",
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self.reconnects = Counter(
            "risk_manager_hub_reconnects", "Hub reconnections after the first connect.", ["hub"], registry=reg
        )
        self.connected = Gauge(
            "risk_manager_hub_connected", "1 while the hub is connected.", ["hub"], registry=reg
        )
        budget = "risk_manager_request_budget"
        self.budget_used = Gauge(
            f"{budget}_used", "REST requests in the budget's current window.", registry=reg
        )
        self.budget_limit = Gauge(f"{budget}_limit", "REST requests per window (enforcement).", registry=reg)
        self.budget_read_limit = Gauge(
            f"{budget}_read_limit", "REST requests per window (polls).", registry=reg
        )
        self.budget_window = Gauge(f"{budget}_window_seconds", "The budget's sliding window.", registry=reg)
        self.budget_blocked = Gauge(
            f"{budget}_blocked_seconds", "Seconds left of a back-off after HTTP 429 (0 = none).", registry=reg
        )
        self.locks = Gauge("risk_manager_locks_active", "Active locks, by rule.", ["rule"], registry=reg)
        self.store_error = Gauge(
            "risk_manager_store_error", "1 while store writes fail and wait in memory.", registry=reg
        )
        self.store_errors = Counter(
            "risk_manager_store_errors", "Store error episodes (seen at the 1 s sample).", registry=reg
        )
        self.queue = Gauge("risk_manager_event_queue_depth", "Events waiting to be handled.", registry=reg)
        self._event_children: dict[str, Counter] = {}
        self._reconnects_seen: dict[str, int] = {}
        self._lock_rules: set[str] = set()
        self._in_error = False
        self.up.set(1)
        self.start_time.set(clock.now().timestamp())

    # -- the hot path: called on the event loop -------------------------------------------

    def event_handled(self, kind: str) -> None:
        """One event handled; the labelled child is cached (this runs thousands of times a second)."""
        child = self._event_children.get(kind)
        if child is None:
            child = self._event_children[kind] = self.events.labels(kind)
        child.inc()

    def event_failed(self, kind: str) -> None:
        """An event the engine raised on: not counted as handled, so the two never hide each other."""
        self.event_errors.labels(kind).inc()

    def recorded(self, record: Record) -> None:
        self.records.labels(record.action, record.rule or NO_RULE).inc()

    def enforced(self, outcome: Outcome) -> None:
        """An enforcement action finished; a skipped one took no broker call, so no latency."""
        job = outcome.job
        self.actions.labels(job.rule or NO_RULE, job.action.kind.value, outcome.result).inc()
        if outcome.result != "SKIPPED":
            self.latency.observe(outcome.latency_ms / 1000)

    # -- once a second -------------------------------------------------------------------

    def sample(self, sample: Sample, now: datetime) -> None:
        """The daemon's state at its heartbeat ``now`` (UTC)."""
        self._heartbeat.last = now
        self.queue.set(sample.queued)
        for name, hub in sample.hubs.items():
            self._sample_hub(name, hub)
        if sample.budget is not None:
            self._sample_budget(sample.budget)
        self._sample_locks(sample.locks, now)
        failing = sample.store_error is not None
        if failing and not self._in_error:
            self.store_errors.inc()
        self._in_error = failing
        self.store_error.set(int(failing))

    def _sample_hub(self, name: str, hub: Hub | None) -> None:
        connections = hub.connections if hub is not None else 0
        reconnects = max(0, connections - 1)
        seen = self._reconnects_seen.get(name, 0)
        self.reconnects.labels(name).inc(max(0, reconnects - seen))
        self._reconnects_seen[name] = max(seen, reconnects)
        self.connected.labels(name).set(int(hub is not None and hub.is_connected))

    def _sample_budget(self, budget: RequestBudget) -> None:
        self.budget_used.set(budget.used())
        self.budget_limit.set(budget.limit)
        self.budget_read_limit.set(budget.read_limit)
        self.budget_window.set(budget.window)
        self.budget_blocked.set(budget.blocked_for())

    def _sample_locks(self, locks: Iterable[Lockout], now: datetime) -> None:
        """Per rule; a rule whose last lock cleared drops to 0 rather than vanishing."""
        counts = Tally(lock.rule_id for lock in locks if lock.is_active(now))
        for rule in self._lock_rules | set(counts):
            self.locks.labels(rule).set(counts.get(rule, 0))
        self._lock_rules |= set(counts)

    def render(self) -> bytes:
        """The text exposition format, as the endpoint serves it."""
        return generate_latest(self.registry)


class MetricsServer:
    """The endpoint: ``GET /metrics`` (any path answers) on 127.0.0.1, in a thread of its own."""

    def __init__(self, metrics: DaemonMetrics, port: int) -> None:
        self._metrics = metrics
        self._requested_port = port
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port listened on (the real one when 0 was asked for); 0 before start."""
        return self._server.server_port if self._server is not None else 0

    @property
    def address(self) -> str:
        """The address listened on ("" before start): always 127.0.0.1."""
        return str(self._server.server_address[0]) if self._server is not None else ""

    def start(self) -> int:
        """Listen now; returns the port. Raises OSError when the port is taken."""
        self._server, self._thread = start_http_server(
            self._requested_port, addr=HOST, registry=self._metrics.registry
        )
        return self.port

    def stop(self) -> None:
        """Stop serving and free the port (idempotent)."""
        if self._server is None:
            return
        self._metrics.up.set(0)
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        self._server = self._thread = None


def serve_metrics(metrics: DaemonMetrics, config: MetricsConfig) -> MetricsServer | None:
    """The endpoint if ``general.metrics.enabled``; a taken port is logged, never fatal:
    metrics are for watching the daemon, enforcement must not depend on them."""
    if not config.enabled:
        return None
    server = MetricsServer(metrics, config.port)
    try:
        port = server.start()
    except OSError as exc:
        log.error("metrics endpoint not started on %s:%d: %s", HOST, config.port, exc)
        return None
    log.info("metrics endpoint on http://%s:%d/metrics", HOST, port)
    return server


__all__ = ["HOST", "LATENCY_BUCKETS", "DaemonMetrics", "MetricsServer", "Sample", "serve_metrics"]
