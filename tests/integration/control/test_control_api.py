"""The control API of a real daemon, over HTTP on 127.0.0.1: the locked door (SPEC §6, issue 6).

Every admin route refuses a request without credentials, with a wrong password and with an
expired token; failures are throttled (and logged); unlock, reset-day and stop work with the
password and are audited; RULE-010 cannot be unlocked.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from daemon_harness import PASSWORD, Live, live_daemon, until
from risk_manager.control import auth
from risk_manager.schedule import ManualClock
from risk_manager.store import Store

RULES: dict[str, Any] = {
    "daily_realized_loss": {"enabled": True, "limit": -100.0, "include_unrealized": True},
    "auth_loss_guard": {"enabled": True},
}
ADMIN_ROUTES = [
    ("GET", "/v1/config", None),
    ("POST", "/v1/config/edits", {"edits": []}),
    ("POST", "/v1/config/files", {"files": {}}),
    ("POST", "/v1/config/validate", {"files": {}}),
    ("POST", "/v1/config/reload", None),
    ("GET", "/v1/config/pending", None),
    ("DELETE", "/v1/config/pending", {"reason": "because"}),
    ("GET", "/v1/lockouts", None),
    ("POST", "/v1/unlock", {"all": True, "reason": "testing"}),
    ("POST", "/v1/reset-day", {"reason": "testing"}),
    ("POST", "/v1/stop", {"reason": "testing"}),
    ("POST", "/v1/accounts/api-key", {"username": "u", "api_key": "k" * 20}),
    ("POST", "/v1/accounts/test", None),
]


def run(tmp_path: Path, scenario: Any, rules: dict[str, Any] = RULES) -> None:
    async def main() -> None:
        async with live_daemon(tmp_path, rules) as live, httpx.AsyncClient(base_url=live.control_url) as api:
            await scenario(live, api)

    asyncio.run(main())


async def session(api: httpx.AsyncClient) -> dict[str, str]:
    reply = await api.post("/v1/session", json={"password": PASSWORD})
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['token']}"}


async def lock_account_1(live: Live) -> str:
    """RULE-003: 2 MNQ falling 100 points is -400.00, past -100: flattened and locked."""
    mnq = await live.front("MNQ")
    await live.quote(mnq, 21000.0)
    await live.trade(1, mnq, side=0, size=2)
    await until(lambda: live.position(1, mnq), "the position is seen")

    async def locked() -> bool:  # quotes until the daemon's market subscription hears one
        await live.quote(mnq, 20900.0)
        engine = live.daemon.engine
        return engine is not None and any(lock.rule_id == "RULE-003" for lock in engine.locks.active(1))

    await until(locked, "RULE-003 locked account 1")
    return mnq


def test_every_admin_route_refuses_no_credentials_a_wrong_password_and_an_expired_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario(live: Live, api: httpx.AsyncClient) -> None:
        assert (await api.get("/v1/health")).status_code == 200  # the only open door
        for method, path, body in ADMIN_ROUTES:
            reply = await api.request(method, path, json=body)
            assert reply.status_code == 401, (path, reply.text)
            assert reply.json()["code"] == "auth_failed"
            reply = await api.request(method, path, json=body, headers={"Authorization": "Bearer forged"})
            assert reply.status_code == 401, (path, reply.text)
        # A wrong password is refused, and makes the next attempt wait (even the right one).
        reply = await api.request("GET", "/v1/lockouts", headers={"X-Admin-Password": "wrong password"})
        assert reply.status_code == 401 and reply.json()["retry_after"] == pytest.approx(1.0)
        reply = await api.post("/v1/session", json={"password": PASSWORD})
        assert reply.status_code == 429 and reply.json()["code"] == "throttled"
        await asyncio.sleep(1.1)
        monkeypatch.setattr(auth, "TOKEN_TTL", timedelta(seconds=1))
        headers = await session(api)
        assert (await api.get("/v1/lockouts", headers=headers)).status_code == 200
        await asyncio.sleep(1.2)
        for method, path, body in ADMIN_ROUTES:
            reply = await api.request(method, path, json=body, headers=headers)
            assert reply.status_code == 401 and "expired" in reply.json()["error"], (path, reply.text)
        assert live.daemon.stop.event.is_set() is False  # no stop got through

    run(tmp_path, scenario)
    with Store.open(tmp_path / "data" / "risk_manager.db", read_only=True) as store:
        rows = store.enforcement_rows(limit=None)
        meta = store.meta()
    assert [r.action for r in rows].count("ADMIN_AUTH_FAILED") == 1
    assert meta["auth_failures"] == "0"  # the right password, once heard, clears the count


def test_throttle_grows_and_survives_a_restart(tmp_path: Path) -> None:
    """The count and the wait are in the database, not in the process."""

    clock = ManualClock(datetime(2026, 3, 10, 14, 0, tzinfo=UTC))
    path = tmp_path / "risk_manager.db"
    with Store.open(path) as store:
        throttle = auth.Throttle(store, clock)
        assert [throttle.failed() for _ in range(4)] == [1.0, 2.0, 4.0, 8.0]
    with Store.open(path) as store:  # a restarted daemon
        throttle = auth.Throttle(store, clock)
        assert throttle.wait_left() == 8.0
        assert throttle.failed() == 16.0
        clock.advance(hours=1)
        assert [throttle.failed() for _ in range(20)][-1] == auth.MAX_DELAY.total_seconds()


def test_unlock_is_audited_break_glass_and_refused_for_broker_locks(tmp_path: Path) -> None:
    async def scenario(live: Live, api: httpx.AsyncClient) -> None:
        await lock_account_1(live)
        await live.sim.post("/sim/account", json={"accountId": 2, "canTrade": False})

        def broker_locked() -> bool:
            engine = live.daemon.engine
            return engine is not None and any(lock.rule_id == "RULE-010" for lock in engine.locks.active(2))

        await until(broker_locked, "RULE-010 locked account 2")
        headers = await session(api)
        reply = await api.post("/v1/unlock", json={"rule": "RULE-010", "reason": "please"}, headers=headers)
        assert reply.status_code == 403 and reply.json()["code"] == "refused"
        reply = await api.post("/v1/unlock", json={"rule": "RULE-003", "reason": "no"}, headers=headers)
        assert reply.status_code == 400  # a reason of at least 5 characters
        reply = await api.post("/v1/unlock", json={"all": True, "reason": "coach agreed"}, headers=headers)
        assert reply.status_code == 200, reply.text
        assert [(lock["account_id"], lock["rule"]) for lock in reply.json()["locks"]] == [(1, "RULE-003")]
        locks = (await api.get("/v1/lockouts", headers=headers)).json()["locks"]
        assert [(lock["account_id"], lock["rule"]) for lock in locks] == [(2, "RULE-010")]

    run(tmp_path, scenario)
    with Store.open(tmp_path / "data" / "risk_manager.db", read_only=True) as store:
        rows = store.enforcement_rows(limit=None)
        active = store.active_lockouts()
    unlocks = [(r.account_id, r.rule_id, r.reason) for r in rows if r.action == "ADMIN_UNLOCK"]
    assert unlocks == [(1, "RULE-003", "coach agreed")]
    assert [(lock.account_id, lock.rule_id) for lock in active] == [(2, "RULE-010")]


def test_reset_day_starts_a_fresh_day_and_stop_exits_zero_with_a_record(tmp_path: Path) -> None:
    async def scenario(live: Live, api: httpx.AsyncClient) -> None:
        await lock_account_1(live)
        headers = await session(api)
        engine = live.daemon.engine
        assert engine is not None and engine.states[1].realized_net < 0
        reply = await api.post("/v1/reset-day", json={"reason": "fresh start"}, headers=headers)
        assert reply.status_code == 200, reply.text
        assert [lock["rule"] for lock in reply.json()["unlocked"]] == ["RULE-003"]
        assert engine.states[1].realized_net == 0 and not engine.locks.active(1)
        reply = await api.post("/v1/stop", json={"reason": "end of the week"}, headers=headers)
        assert reply.status_code == 200
        assert await asyncio.wait_for(live.task, 10) == 0  # an authenticated stop: exit 0

    run(tmp_path, scenario)
    with Store.open(tmp_path / "data" / "risk_manager.db", read_only=True) as store:
        actions = [(r.action, r.reason) for r in store.enforcement_rows(limit=None)]
    assert ("ADMIN_RESET_DAY", "fresh start") in actions
    assert ("SERVICE_STOP", "by admin: end of the week") in actions
    assert any(action == "SERVICE_START" for action, _ in actions)


def test_risk_admin_refuses_a_daemon_that_watches_another_config_dir(tmp_path: Path) -> None:
    """Two daemons on one machine: the one holding the control port is not necessarily yours."""
    from typer.testing import CliRunner

    from risk_manager.cli.admin import admin_app

    async def scenario(live: Live, api: httpx.AsyncClient) -> None:
        other = tmp_path / "other-config"
        other.mkdir()
        for name in ("accounts.yaml", "risk_config.yaml"):
            (other / name).write_text((live.config_dir / name).read_text())
        argv = ["unlock", "--all", "--reason", "wrong daemon", "--password-stdin",
                "--config-dir", str(other), "--data-dir", str(tmp_path / "other-data")]  # fmt: skip
        result = await asyncio.to_thread(CliRunner().invoke, admin_app, argv, input=PASSWORD + "\n")
        assert result.exit_code == 1, result.output
        assert f"watches {live.config_dir.resolve()}" in result.output
        assert "general.control.port" in result.output

    run(tmp_path, scenario)
