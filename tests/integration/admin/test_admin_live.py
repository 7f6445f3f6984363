"""risk-admin against a real daemon (SPEC §6, issue 6): real files, the real control API on 127.0.0.1,
the gateway simulator behind the daemon. The CLI runs through Typer's CliRunner in a worker
thread (it blocks, the daemon's event loop must not), exactly as a terminal would drive it.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import fail as fail_keyring
from typer.testing import CliRunner, Result

from daemon_harness import PASSWORD, Live, live_daemon, until
from risk_manager.cli.admin import admin_app
from risk_manager.config.secrets import load_api_key
from risk_manager.control import auth
from risk_manager.store import Store
from risk_manager.store.timefmt import from_iso

RULES: dict[str, Any] = {
    "max_contracts": {"enabled": True, "limit": 5},
    "daily_realized_loss": {"enabled": True, "limit": -100.0, "include_unrealized": True},
}
Scenario = Callable[[Live], Awaitable[None]]


def run(tmp_path: Path, scenario: Scenario) -> None:
    async def main() -> None:
        async with live_daemon(tmp_path, RULES) as live:
            await scenario(live)

    asyncio.run(main())


async def cli(live: Live, args: list[str], stdin: str = "") -> Result:
    """One risk-admin command with this daemon's dirs, off the event loop."""
    argv = [*args, "--config-dir", str(live.config_dir), "--data-dir", str(live.data_dir)]
    return await asyncio.to_thread(CliRunner().invoke, admin_app, argv, input=stdin)


def limit_of(live: Live, account: int = 1) -> int:
    engine = live.daemon.engine
    assert engine is not None
    config = engine.config_of(account)
    assert config is not None and config.rules.max_contracts is not None
    return config.rules.max_contracts.limit


def actions(tmp_path: Path) -> list[tuple[str, str]]:
    with Store.open(tmp_path / "data" / "risk_manager.db", read_only=True) as store:
        return [(row.action, row.reason) for row in store.enforcement_rows(limit=None)]


async def lock_account_1(live: Live) -> None:
    """RULE-003 at -100: 2 MNQ falling 100 points is -400.00 unrealized -> flatten and lock."""
    mnq = await live.front("MNQ")
    await live.quote(mnq, 21000.0)
    await live.trade(1, mnq, side=0, size=2)
    await until(lambda: live.position(1, mnq), "the position is seen")

    async def locked() -> bool:
        await live.quote(mnq, 20900.0)
        engine = live.daemon.engine
        return engine is not None and any(lock.rule_id == "RULE-003" for lock in engine.locks.active(1))

    await until(locked, "RULE-003 locked account 1")


async def _relocked(live: Live) -> None:
    """A new entry is the next evaluation: the day's loss is still past the limit."""
    mnq = await live.front("MNQ")
    await live.trade(1, mnq, side=0, size=1)

    async def locked() -> bool:
        engine = live.daemon.engine
        return engine is not None and any(lock.rule_id == "RULE-003" for lock in engine.locks.active(1))

    await until(locked, "RULE-003 locked account 1 again")


# --------------------------------------------------------------------------- config changes


def test_wizard_session_from_the_menu_tightens_at_once(tmp_path: Path) -> None:
    async def scenario(live: Live) -> None:
        answers = [
            "1",  # Configure rules
            PASSWORD,  # asked once, when the rule list needs the daemon
            "RULE-001",  # which rule
            "",  # base config (every account)
            "",  # enabled: keep true
            "0",  # limit 0: refused at once (1..1000)
            "3",  # limit 3
            "",  # count_type: leave absent (default gross)
            "",  # enforcement: leave absent
            "y",  # apply after the dry run's diff
            "0",  # exit the menu
        ]
        result = await cli(live, ["menu"], "".join(f"{a}\n" for a in answers))
        assert result.exit_code == 0, result.output
        out = result.output
        assert re.search(r"RULE-001 +max_contracts +yes", out)  # the rule list, plain columns
        assert "limit: integer 1..1000; default required; now 5" in out
        assert "limit: must be 1..1000 (got 0)" in out
        assert "-    limit: 5\n+    limit: 3" in out  # the dry run's diff
        assert "would apply now:" in out and "applied now:" in out and "dry run: nothing written" in out
        assert limit_of(live) == 3
        assert "limit: 3" in (live.config_dir / "risk_config.yaml").read_text()

    run(tmp_path, scenario)
    assert any(action == "CONFIG_RELOADED" for action, _ in actions(tmp_path))


def test_tightening_applies_at_once_and_bites(tmp_path: Path) -> None:
    async def scenario(live: Live) -> None:
        mnq = await live.front("MNQ")
        await live.quote(mnq, 21000.0)
        await live.trade(1, mnq, side=0, size=4)
        await until(lambda: live.position(1, mnq), "the position is seen")
        result = await cli(
            live, ["rules", "set", "RULE-001", "limit", "3", "--password-stdin"], f"{PASSWORD}\n"
        )
        assert result.exit_code == 0, result.output
        assert "applied now:" in result.output and "pending" not in result.output
        assert limit_of(live) == 3

        async def trimmed() -> bool:
            return await live.position(1, mnq) == 3

        await until(trimmed, "the lowered limit sold one back at once")

    run(tmp_path, scenario)


def test_loosening_waits_for_the_reset_and_shows_pending(tmp_path: Path) -> None:
    async def scenario(live: Live) -> None:
        risk_file = live.config_dir / "risk_config.yaml"
        before = risk_file.read_text()
        result = await cli(
            live, ["rules", "set", "max_contracts", "limit", "8", "--password-stdin"], f"{PASSWORD}\n"
        )
        assert result.exit_code == 0, result.output
        assert "pending until the next daily reset" in result.output and "applied now" not in result.output
        assert limit_of(live) == 5 and risk_file.read_text() == before  # the files keep what is in force
        shown = await cli(live, ["config", "show", "--password-stdin"], f"{PASSWORD}\n")
        assert shown.exit_code == 0, shown.output
        assert "pending until" in shown.output and "rules.max_contracts.limit" in shown.output
        assert "# account 1: effective config" in shown.output
        reset = await cli(live, ["reset-day", "--reason", "fresh start", "--password-stdin"], f"{PASSWORD}\n")
        assert reset.exit_code == 0, reset.output
        assert "new trading day" in reset.output
        assert limit_of(live) == 8 and "limit: 8" in risk_file.read_text()

    run(tmp_path, scenario)
    assert ("ADMIN_RESET_DAY", "fresh start") in actions(tmp_path)


def test_override_applies_a_loosening_now_and_is_audited(tmp_path: Path) -> None:
    async def scenario(live: Live) -> None:
        # The wizard: a loosening, applied now on request, with a reason.
        answers = [PASSWORD, "", "9", "", "", "y", "y", "coach approved"]
        result = await cli(live, ["rules", "wizard", "RULE-001"], "".join(f"{a}\n" for a in answers))
        assert result.exit_code == 0, result.output
        assert "would be pending until the next daily reset" in result.output
        assert "applied now:" in result.output
        assert limit_of(live) == 9
        # The command line: disable a rule, with --override --reason.
        args = ["rules", "disable", "RULE-003", "--override", "--reason", "news day", "--password-stdin"]
        result = await cli(live, args, f"{PASSWORD}\n")
        assert result.exit_code == 0, result.output
        engine = live.daemon.engine
        assert engine is not None
        config = engine.config_of(1)
        assert config is not None and config.rules.daily_realized_loss is not None
        assert config.rules.daily_realized_loss.enabled is False

    run(tmp_path, scenario)
    overrides = [reason for action, reason in actions(tmp_path) if action == "ADMIN_OVERRIDE"]
    assert len(overrides) == 2, overrides
    assert overrides[0].startswith("coach approved") and overrides[1].startswith("news day")


def test_a_bad_change_is_refused_with_its_problems_and_writes_nothing(tmp_path: Path) -> None:
    async def scenario(live: Live) -> None:
        files = {
            name: (live.config_dir / name).read_bytes() for name in ("risk_config.yaml", "accounts.yaml")
        }
        result = await cli(
            live, ["rules", "set", "RULE-001", "limit", "0", "--password-stdin"], f"{PASSWORD}\n"
        )
        assert result.exit_code == 4, result.output
        assert (
            "risk_config.yaml:" in result.output
            and "rules.max_contracts.limit: must be 1..1000" in result.output
        )
        args = ["rules", "set", "RULE-003", "limit", "250", "--account", "2", "--password-stdin"]
        result = await cli(live, args, f"{PASSWORD}\n")
        assert result.exit_code == 4, result.output
        assert "accounts.yaml:" in result.output and "daily_realized_loss.limit" in result.output
        assert {name: (live.config_dir / name).read_bytes() for name in files} == files
        assert limit_of(live) == 5

    run(tmp_path, scenario)


# --------------------------------------------------------------------------- break-glass


def test_unlock_and_reset_day(tmp_path: Path) -> None:
    async def scenario(live: Live) -> None:
        await lock_account_1(live)
        shown = await cli(live, ["lockouts"])  # read-only, no password
        assert shown.exit_code == 0 and "RULE-003" in shown.output, shown.output
        refused = await cli(
            live, ["unlock", "--rule", "RULE-010", "--reason", "please", "--password-stdin"], f"{PASSWORD}\n"
        )
        assert refused.exit_code == 3 and "RULE-010" in refused.output, refused.output
        args = [
            "unlock",
            "--rule",
            "RULE-003",
            "--reason",
            "coach agreed",
            "--account",
            "1",
            "--password-stdin",
        ]
        result = await cli(live, args, f"{PASSWORD}\n")
        assert result.exit_code == 0, result.output
        assert "cleared" in result.output and "RULE-003" in result.output
        assert "P&L and counters are unchanged" in result.output
        await _relocked(live)  # P&L unchanged, still in breach: it locks again on the next check
        result = await cli(
            live, ["reset-day", "--reason", "fresh start", "--password-stdin"], f"{PASSWORD}\n"
        )
        assert result.exit_code == 0, result.output
        assert "cleared by the reset" in result.output and "RULE-003" in result.output
        after = await cli(live, ["lockouts"])
        assert after.exit_code == 0 and "no active locks" in after.output
        logs = await cli(live, ["logs", "--rule", "RULE-003", "--since", "1h"])
        assert logs.exit_code == 0 and "ADMIN_UNLOCK" in logs.output and "coach agreed" in logs.output

    run(tmp_path, scenario)
    done = actions(tmp_path)
    assert ("ADMIN_UNLOCK", "coach agreed") in done and ("ADMIN_RESET_DAY", "fresh start") in done


# --------------------------------------------------------------------------- accounts, service


def test_api_key_stored_masked_connection_tested_and_authenticated_stop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keyring.core, "_keyring_backend", fail_keyring.Keyring())  # the 0600 file

    async def scenario(live: Live) -> None:
        key = "NEWKEY-0123456789abcdef"
        result = await cli(live, ["accounts", "set-key", "--password-stdin"], f"{PASSWORD}\n{key}\n")
        assert result.exit_code == 0, result.output
        assert "****cdef" in result.output and key not in result.output
        assert load_api_key(live.config_dir, "demo") == key
        tested = await cli(live, ["accounts", "test", "--password-stdin"], f"{PASSWORD}\n")
        assert tested.exit_code == 0, tested.output
        assert "SIM-1" in tested.output and "true" in tested.output
        stopped = await cli(
            live, ["service", "stop", "--reason", "end of the week", "--password-stdin"], f"{PASSWORD}\n"
        )
        assert stopped.exit_code == 0, stopped.output
        assert "enforcement is OFF" in stopped.output
        assert await asyncio.wait_for(live.task, 30) == 0  # the authenticated stop: exit 0
        down = await cli(live, ["service", "status"])
        assert down.exit_code == 1 and "NOT RUNNING" in down.output
        await _start_detached_then_stop(live)

    run(tmp_path, scenario)
    assert ("SERVICE_STOP", "by admin: end of the week") in actions(tmp_path)
    assert ("SERVICE_STOP", "by admin: back to the service") in actions(tmp_path)


async def _start_detached_then_stop(live: Live) -> None:
    """No OS service installed: `service start` runs `risk_manager supervise` in its own session;
    the authenticated stop ends the daemon with 0, and the supervisor with it."""
    started = await cli(live, ["service", "start"])
    match = re.search(r"supervise` \(pid (\d+)", started.output)
    pid = int(match.group(1)) if match else None
    try:
        assert started.exit_code == 0, started.output
        assert "daemon RUNNING" in started.output and pid is not None
        again = await cli(live, ["service", "start"])
        assert again.exit_code == 0 and "already running" in again.output
        stopped = await cli(
            live, ["service", "stop", "--reason", "back to the service", "--password-stdin"], f"{PASSWORD}\n"
        )
        assert stopped.exit_code == 0, stopped.output
        await until(lambda: _exited(pid), "the supervisor exited after the authenticated stop", timeout=30)
        pid = None
    finally:
        if pid is not None and not _exited(pid):
            os.kill(pid, signal.SIGTERM)  # the supervisor this test started, by its pid


def _exited(pid: int | None) -> bool:
    """Reaped (it is this process's child: the CLI ran in a thread here)."""
    if pid is None:
        return True
    try:
        return os.waitpid(pid, os.WNOHANG) != (0, 0)
    except ChildProcessError:
        return True  # already reaped by subprocess's own cleanup


# --------------------------------------------------------------------------- the locked door

ADMIN_COMMANDS: list[list[str]] = [
    ["rules", "set", "RULE-001", "limit", "9"],
    ["rules", "enable", "RULE-001"],
    ["rules", "disable", "RULE-003", "--override", "--reason", "sneaky"],
    ["rules", "list"],
    ["rules", "wizard", "RULE-001"],
    ["accounts", "add", "99"],
    ["accounts", "remove", "2", "--override", "--reason", "sneaky"],
    ["accounts", "set-key"],
    ["accounts", "test"],
    ["config", "show"],
    ["unlock", "--all", "--reason", "sneaky"],
    ["reset-day", "--reason", "sneaky"],
    ["service", "stop", "--reason", "sneaky"],
    ["service", "restart", "--reason", "sneaky"],
    ["service", "reload"],
    ["change-password"],
]


def test_every_admin_action_is_refused_without_password_with_a_wrong_one_and_with_an_expired_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario(live: Live) -> None:
        files = {path.name: path.read_bytes() for path in live.config_dir.iterdir()}
        for command in ADMIN_COMMANDS:  # no password at all (end of input)
            result = await cli(live, command)
            assert result.exit_code == 3, (command, result.output)
        for command in ADMIN_COMMANDS:  # a wrong one (then the throttle: refused too, exit 3)
            result = await cli(live, [*command, "--password-stdin"], "not the password\nnot it either\n")
            assert result.exit_code == 3, (command, result.output)
        three = await cli(live, ["reset-day", "--reason", "sneaky"], "a-wrong-1\na-wrong-2\na-wrong-3\n")
        assert three.exit_code == 3 and ("wrong password" in three.output or "retry after" in three.output)
        await _throttle_passed(live)
        monkeypatch.setattr(auth, "TOKEN_TTL", timedelta(0))  # every session is born expired
        for command in ADMIN_COMMANDS:
            if command == ["change-password"]:
                continue  # no session: the old password itself is the credential
            # the password, again when told the session expired (set-key's key prompt takes one too)
            result = await cli(live, [*command, "--password-stdin"], f"{PASSWORD}\n" * 3)
            assert result.exit_code == 3, (command, result.output)
            assert "session expired" in result.output, (command, result.output)
        assert {path.name: path.read_bytes() for path in live.config_dir.iterdir()} == files
        assert not live.task.done() and limit_of(live) == 5

    run(tmp_path, scenario)
    done = actions(tmp_path)
    assert "ADMIN_AUTH_FAILED" in {action for action, _ in done}
    assert not {
        "ADMIN_UNLOCK",
        "ADMIN_RESET_DAY",
        "ADMIN_OVERRIDE",
        "SERVICE_RESTART",
        "API_KEY_STORED",
        "ADMIN_PASSWORD_CHANGED",
        "CONFIG_RELOADED",
    } & {action for action, _ in done}
    assert not [reason for action, reason in done if action == "SERVICE_STOP" and "by admin" in reason]


async def _throttle_passed(live: Live) -> None:
    """Wait out the daemon's persisted retry time (it grows 1, 2, 4 s... per wrong password)."""
    store = live.daemon.store
    assert store is not None

    def clear() -> bool:
        stamp = store.get_meta(auth.RETRY_AT_KEY)
        return not stamp or from_iso(stamp) <= datetime.now(UTC)

    await until(clear, "the throttle let the next attempt through", timeout=300)
