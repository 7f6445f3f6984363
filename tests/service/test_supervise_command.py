"""``risk_manager supervise``'s own decisions, in process: which children, the meta pid, a bad config."""

from __future__ import annotations

from pathlib import Path

from process_harness import write_config
from risk_manager.cli.supervise import config_or_none, record_supervisor_pid, watchdog_configured
from risk_manager.store import Store


def test_the_watchdog_runs_only_when_risk_config_names_it(tmp_path: Path) -> None:
    write_config(tmp_path, "http://127.0.0.1:9", [1], {})
    config_set = config_or_none(tmp_path)
    assert config_set is not None and not watchdog_configured(config_set)  # its defaults alone: no
    write_config(tmp_path, "http://127.0.0.1:9", [1], {}, general={"watchdog": {"flatten_on_stale": True}})
    config_set = config_or_none(tmp_path)
    assert config_set is not None and watchdog_configured(config_set)


def test_an_invalid_config_is_the_daemons_to_report(tmp_path: Path) -> None:
    write_config(tmp_path, "http://127.0.0.1:9", [1], {"max_contracts": {"enabled": True, "limit": -1}})
    assert config_or_none(tmp_path) is None
    assert config_or_none(tmp_path / "missing") is None


def test_the_supervisor_pid_is_written_and_cleared(tmp_path: Path) -> None:
    database = tmp_path / "data" / "risk_manager.db"
    record_supervisor_pid(database, "4242")
    with Store.open(database, read_only=True) as store:
        assert store.get_meta("supervisor_pid") == "4242"
    record_supervisor_pid(database, "")
    with Store.open(database, read_only=True) as store:
        assert store.get_meta("supervisor_pid") == ""


def test_an_unwritable_database_does_not_stop_the_supervisor(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file where the data dir should be")
    record_supervisor_pid(tmp_path / "data" / "risk_manager.db", "1")  # logged, not raised
