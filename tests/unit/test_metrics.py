"""DaemonMetrics on its own: per-daemon registries, the 1 s sample, the endpoint's port handling."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from risk_manager.broker.projectx.budget import Priority, RequestBudget
from risk_manager.config.risk import MetricsConfig
from risk_manager.daemon.metrics import DaemonMetrics, MetricsServer, Sample, serve_metrics
from risk_manager.schedule import ManualClock
from risk_manager.schedule.lockouts import Lockout

NOON = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)


@dataclass
class HubState:
    """What a hub shows the metrics: handshakes so far, connected now."""

    connections: int = 1
    is_connected: bool = True


def values(metrics: DaemonMetrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = metrics.render().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def sample(*, hub: HubState | None = None, locks: tuple[Lockout, ...] = (), store_error: str | None = None,
           budget: RequestBudget | None = None) -> Sample:  # fmt: skip
    return Sample({"user": hub}, budget, locks, store_error, queued=0)


def lock(rule: str, *, until: datetime | None = None, cleared: bool = False) -> Lockout:
    return Lockout(1, 101, rule, "account", "hard", "test", NOON, until, NOON if cleared else None)


def test_each_daemon_counts_in_its_own_registry() -> None:
    first, second = DaemonMetrics(ManualClock(NOON)), DaemonMetrics(ManualClock(NOON))
    first.event_handled("GatewayQuote")
    first.event_handled("GatewayQuote")
    assert values(first)[("risk_manager_events_total", frozenset({("type", "GatewayQuote")}))] == 2
    assert ("risk_manager_events_total", frozenset({("type", "GatewayQuote")})) not in values(second)


def test_heartbeat_age_is_computed_from_the_clock_when_scraped() -> None:
    clock = ManualClock(NOON)
    metrics = DaemonMetrics(clock)
    assert ("risk_manager_heartbeat_age_seconds", frozenset()) not in values(metrics)
    metrics.sample(sample(), clock.now())
    clock.advance(seconds=4.5)  # the loop stopped beating: the age keeps growing without a sample
    assert values(metrics)[("risk_manager_heartbeat_age_seconds", frozenset())] == 4.5


def test_a_store_error_episode_counts_once_however_long_it_lasts() -> None:
    metrics = DaemonMetrics(ManualClock(NOON))
    for error in (None, "disk full", "disk full", None, "locked"):
        metrics.sample(sample(store_error=error), NOON)
    got = values(metrics)
    assert got[("risk_manager_store_errors_total", frozenset())] == 2
    assert got[("risk_manager_store_error", frozenset())] == 1


def test_reconnects_are_handshakes_after_the_first_and_never_count_down() -> None:
    metrics = DaemonMetrics(ManualClock(NOON))
    hub = HubState(connections=1)
    metrics.sample(sample(hub=hub), NOON)
    hub.connections, hub.is_connected = 3, False
    metrics.sample(sample(hub=hub), NOON)
    metrics.sample(sample(hub=hub), NOON)
    metrics.sample(sample(hub=None), NOON)  # the hub object went away (shutdown)
    got = values(metrics)
    assert got[("risk_manager_hub_reconnects_total", frozenset({("hub", "user")}))] == 2
    assert got[("risk_manager_hub_connected", frozenset({("hub", "user")}))] == 0


def test_active_locks_by_rule_drop_to_zero_when_cleared_or_expired() -> None:
    metrics = DaemonMetrics(ManualClock(NOON))
    later = NOON + timedelta(minutes=5)
    metrics.sample(sample(locks=(lock("RULE-003"), lock("RULE-007", until=later))), NOON)
    first = values(metrics)
    assert first[("risk_manager_locks_active", frozenset({("rule", "RULE-003")}))] == 1
    assert first[("risk_manager_locks_active", frozenset({("rule", "RULE-007")}))] == 1
    metrics.sample(sample(locks=(lock("RULE-003", cleared=True), lock("RULE-007", until=later))), later)
    second = values(metrics)
    assert second[("risk_manager_locks_active", frozenset({("rule", "RULE-003")}))] == 0
    assert second[("risk_manager_locks_active", frozenset({("rule", "RULE-007")}))] == 0


def test_the_request_budget_is_sampled() -> None:
    now = [0.0]
    budget = RequestBudget(monotonic=lambda: now[0])

    async def spend() -> None:
        for _ in range(3):
            await budget.acquire(Priority.POLL)

    asyncio.run(spend())
    metrics = DaemonMetrics(ManualClock(NOON))
    metrics.sample(sample(budget=budget), NOON)
    got = values(metrics)
    assert got[("risk_manager_request_budget_used", frozenset())] == 3
    assert got[("risk_manager_request_budget_limit", frozenset())] == 200
    assert got[("risk_manager_request_budget_read_limit", frozenset())] == 150
    now[0] = 61.0  # the window slid past them
    metrics.sample(sample(budget=budget), NOON)
    assert values(metrics)[("risk_manager_request_budget_used", frozenset())] == 0


def test_disabled_metrics_serve_nothing() -> None:
    assert serve_metrics(DaemonMetrics(ManualClock(NOON)), MetricsConfig(enabled=False)) is None


def test_the_endpoint_serves_on_loopback_a_taken_port_is_logged_not_fatal_and_stop_frees_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics = DaemonMetrics(ManualClock(NOON))
    server = MetricsServer(metrics, 0)
    port = server.start()
    try:
        assert server.address == "127.0.0.1"
        reply = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5.0)
        assert reply.status_code == 200 and "risk_manager_up 1.0" in reply.text
        with caplog.at_level(logging.ERROR, "risk_manager.daemon.metrics"):
            assert (
                serve_metrics(DaemonMetrics(ManualClock(NOON)), MetricsConfig(enabled=True, port=port))
                is None
            )
        assert f"metrics endpoint not started on 127.0.0.1:{port}" in caplog.text
    finally:
        server.stop()
    server.stop()  # idempotent
    again = MetricsServer(metrics, port)  # a restarted daemon gets its port back at once
    assert again.start() == port
    again.stop()


def test_an_event_that_failed_is_counted_as_an_error_not_as_handled() -> None:
    metrics = DaemonMetrics(ManualClock(NOON))
    metrics.event_handled("GatewayQuote")
    metrics.event_failed("GatewayQuote")
    got = values(metrics)
    assert got[("risk_manager_events_total", frozenset({("type", "GatewayQuote")}))] == 1
    assert got[("risk_manager_event_errors_total", frozenset({("type", "GatewayQuote")}))] == 1
