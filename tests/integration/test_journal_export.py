"""``journal export``: a trading day of the journal comes back as a replayable scenario (SPEC §6).

The RULE-003 lock/restart/reset scenario is replayed into a persistent data dir, the day
is exported with a config dir holding the same rules, and the export is checked as a file
(a valid scenario in time order, ``sim.execute`` false, the original gateway events) and
as a run: replayed, it must take the decisions the original run took that day.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from risk_manager.cli.main import app
from risk_manager.replay import LoadedScenario, load_scenario

ROOT = Path(__file__).resolve().parents[2]
ORIGINAL = ROOT / "tests" / "scenarios" / "rule_003_lock_restart_reset.yaml"
EXAMPLE_CONFIG = ROOT / "examples" / "config"
DAY = "2026-03-10"
#: The trading day 2026-03-10 runs from the 17:00 New York reset before it to the one ending it.
DAY_START = datetime(2026, 3, 9, 21, 0, tzinfo=UTC)
DAY_END = datetime(2026, 3, 10, 21, 0, tzinfo=UTC)

Key = tuple[str, object, datetime]


@dataclass(frozen=True)
class Exported:
    original: LoadedScenario
    original_actions: list[dict[str, Any]]
    path: Path
    scenario: LoadedScenario
    raw: dict[str, Any]


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def actions(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def decisions(records: list[dict[str, Any]]) -> list[tuple[str, str, str | None, str]]:
    """What was decided that trading day: time, action, rule, reason (the reset ending it too)."""
    return [
        (r["at"], r["action"], r.get("rule"), r["reason"])
        for r in records
        if datetime.fromisoformat(r["at"]) <= DAY_END
    ]


def gateway_key(event: Any) -> Key:
    """An event's identity for comparing files: its type, the gateway's id and its time."""
    ident = event.contractId if event.type == "GatewayQuote" else event.data["id"]
    return (event.type, ident, event.at)


def write_config(config_dir: Path, original: Path) -> None:
    """The example accounts and holidays, and a risk_config.yaml with the scenario's own rules."""
    config_dir.mkdir()
    for name in ("accounts.yaml", "holidays.yaml"):
        (config_dir / name).write_text((EXAMPLE_CONFIG / name).read_text())
    scenario = yaml.safe_load(original.read_text())
    risk = {"version": 1, "general": scenario.get("general", {}), "rules": scenario["rules"]}
    (config_dir / "risk_config.yaml").write_text(yaml.safe_dump(risk, sort_keys=False))


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    tmp = tmp_path_factory.mktemp("journal-export")
    data_dir, config_dir, out = tmp / "data", tmp / "config", tmp / "out.yaml"
    run = invoke("replay", str(ORIGINAL), "--json", "--data-dir", str(data_dir))
    assert run.exit_code == 0, run.output
    write_config(config_dir, ORIGINAL)

    result = invoke(
        "journal", "export", "--date", DAY,
        "--config-dir", str(config_dir), "--data-dir", str(data_dir), "-o", str(out),
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert f"of {DAY} to {out}" in result.stderr
    return Exported(
        load_scenario(ORIGINAL), actions(run.stdout), out, load_scenario(out), yaml.safe_load(out.read_text())
    )


# -- the file ---------------------------------------------------------------------------------


def test_the_export_is_a_valid_scenario_of_that_trading_day(exported: Exported) -> None:
    scenario = exported.scenario.scenario
    assert exported.raw["sim"] == {"execute": False}  # the events already hold the broker's answers
    assert scenario.sim.execute is False
    assert (scenario.start, scenario.end) == (DAY_START, DAY_END)
    assert [(a.id, a.name) for a in scenario.accounts] == [(101, "PRAC-101")]
    assert exported.scenario.rules == exported.original.rules
    assert exported.scenario.general.daily_reset == exported.original.general.daily_reset
    times = [e.at for e in scenario.events]
    assert times == sorted(times)
    assert all(DAY_START <= t < DAY_END for t in times)
    assert {e.type for e in scenario.events} <= {
        "GatewayUserAccount", "GatewayUserOrder", "GatewayUserPosition", "GatewayUserTrade", "GatewayQuote",
    }  # fmt: skip


def test_every_original_gateway_event_is_exported_at_its_own_time(exported: Exported) -> None:
    exported_keys = Counter(gateway_key(e) for e in exported.scenario.scenario.events)
    original = [gateway_key(e) for e in exported.original.scenario.events if e.type != "Restart"]
    assert Counter(original) - exported_keys == Counter()


# -- the run ----------------------------------------------------------------------------------


def replayed(exported: Exported) -> list[tuple[str, str, str | None, str]]:
    result = invoke("replay", str(exported.path), "--json")
    assert result.exit_code == 0, result.output
    return decisions(actions(result.stdout))


def test_replaying_the_export_reproduces_the_original_decisions(exported: Exported) -> None:
    assert replayed(exported) == decisions(exported.original_actions)


def _at(decision: tuple[str, str, str | None, str]) -> datetime:
    return datetime.fromisoformat(decision[0])


def test_a_cancel_awaiting_confirmation_is_not_reflattened_by_the_reconciler(tmp_path: Path) -> None:
    """SPEC §4.1: while an action awaits confirmation (<= 5 s) the same rule sends nothing new.

    An exported day replays with ``execute: false``: the cancel of an order placed while
    locked is confirmed by the journaled order update, 300 ms later as on the live gateway.
    Nothing else may be sent in between; the reconciler re-flattens at once instead (its
    5-s deadline went stale while nothing was exposed, and only a running call holds it).
    """
    mnq = "CON.F.US.MNQ.H26"
    order = {
        "id": 8, "accountId": 101, "contractId": mnq, "creationTimestamp": "2026-03-10T19:10:00Z",
        "status": 1, "type": 1, "side": 0, "size": 1, "limitPrice": 20990.0,
    }  # fmt: skip
    loss = {
        "id": 4, "accountId": 101, "contractId": mnq, "creationTimestamp": "2026-03-10T18:00:00Z",
        "price": 20800.0, "profitAndLoss": -600.0, "fees": 0, "side": 1, "size": 1, "voided": False,
        "orderId": 3,
    }  # fmt: skip
    scenario = {
        "start": "2026-03-10T17:00:00Z",
        "end": "2026-03-10T19:20:00Z",
        "accounts": [{"id": 101, "name": "PRAC-101"}],
        "rules": {"daily_realized_loss": {"enabled": True, "limit": -500.0, "include_unrealized": False}},
        "sim": {"execute": False},
        "events": [
            {"at": "2026-03-10T18:00:00Z", "type": "GatewayUserTrade", "data": loss},
            {"at": "2026-03-10T19:10:00Z", "type": "GatewayUserOrder", "data": order},
            {"at": "2026-03-10T19:10:00.300Z", "type": "GatewayUserOrder", "data": {**order, "status": 3}},
        ],
    }
    path = tmp_path / "cancel_confirmed_at_once.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))

    result = invoke("replay", str(path), "--json")

    assert result.exit_code == 0, result.output
    assert [(a["at"][11:19], a["action"]) for a in actions(result.stdout)] == [
        ("18:00:00", "lockout"),
        ("18:00:00", "cancel_all"),
        ("18:00:00", "close_all"),
        ("19:10:00", "cancel_order"),
    ]


# -- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["2026-13-01", "10/03/2026", "yesterday", ""])
def test_export_with_a_bad_date_exits_4(tmp_path: Path, bad: str) -> None:
    result = invoke("journal", "export", "--date", bad, "--config-dir", str(EXAMPLE_CONFIG),
                    "--data-dir", str(tmp_path))  # fmt: skip

    assert result.exit_code == 4, result.output
    assert f"--date: expected YYYY-MM-DD (got {bad!r})" in result.stderr
    assert result.stdout == ""


def test_export_without_a_database_exits_1_and_names_it(tmp_path: Path) -> None:
    result = invoke("journal", "export", "--date", DAY, "--config-dir", str(EXAMPLE_CONFIG),
                    "--data-dir", str(tmp_path / "empty"), "-o", str(tmp_path / "out.yaml"))  # fmt: skip

    assert result.exit_code == 1, result.output
    assert f"no database at {tmp_path / 'empty' / 'risk_manager.db'}" in result.stderr
    assert not (tmp_path / "out.yaml").exists()
