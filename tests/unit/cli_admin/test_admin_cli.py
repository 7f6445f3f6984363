"""risk-admin's commands against a fake control API: the requests they send and their exit codes.

The fake only records and answers; what the daemon really does with the requests is in
tests/integration/admin.
"""

from __future__ import annotations

import json
import socket
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from admin_fake_daemon import TOKEN, FakeDaemon, config_view, fake_daemon, write_config_dir
from typer.testing import CliRunner, Result

from risk_manager.cli.admin import admin_app
from risk_manager.cli.main import app as main_app
from risk_manager.config.pending import PendingConfig
from risk_manager.control.password import has_password, verify_password
from risk_manager.control.protocol import Change, Edit
from risk_manager.store import DATABASE_FILENAME, EnforcementRow, LockRow, Store

CHANGE = (
    200,
    {
        "applied": [
            {
                "text": "rules.daily_realized_loss.limit -500.0 -> -400 (tighter)",
                "direction": "tighten",
                "file": "risk_config.yaml",
                "path": ["rules", "daily_realized_loss", "limit"],
            }
        ],
        "pending": [],
        "diff": "-  limit: -500.0\n+  limit: -400\n",
    },
)
PENDING = (
    200,
    {
        "applied": [],
        "pending": [
            {
                "text": "rules.max_contracts.limit 5 -> 8 (looser)",
                "direction": "loosen",
                "file": "risk_config.yaml",
                "path": ["rules", "max_contracts", "limit"],
            }
        ],
        "apply_at": "2025-01-02T22:00:00Z",
        "diff": "",
    },
)


@pytest.fixture
def fake() -> Iterator[FakeDaemon]:
    with fake_daemon() as daemon:
        yield daemon


@pytest.fixture
def dirs(tmp_path: Path, fake: FakeDaemon) -> list[str]:
    config = write_config_dir(tmp_path / "config", fake.port)
    return ["--config-dir", str(config), "--data-dir", str(tmp_path / "data")]


def run(args: list[str], dirs: list[str], stdin: str = "pw-correct\n") -> Result:
    return CliRunner().invoke(admin_app, [*args, *dirs], input=stdin)


# --------------------------------------------------------------------------- rules set


def test_rules_set_sends_one_edit_with_the_session_token(fake: FakeDaemon, dirs: list[str]) -> None:
    fake.reply("POST /v1/config/edits", CHANGE)
    result = run(["rules", "set", "RULE-003", "limit", "-400", "--password-stdin"], dirs)
    assert result.exit_code == 0, result.output
    assert fake.bodies("POST /v1/session") == [{"password": "pw-correct"}]
    [body] = fake.bodies("POST /v1/config/edits")
    assert body["edits"] == [
        {
            "file": "risk_config.yaml",
            "path": ["rules", "daily_realized_loss", "limit"],
            "value": -400,
            "delete": False,
        }
    ]
    assert body["override"] is False and body["dry_run"] is False
    edits = next(s for s in fake.seen if s.path == "/v1/config/edits")
    assert edits.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "applied now:" in result.output and "(tighter)" in result.output


def test_rules_set_for_an_account_goes_to_its_overrides(fake: FakeDaemon, dirs: list[str]) -> None:
    fake.reply("GET /v1/config", config_view())
    fake.reply("POST /v1/config/edits", CHANGE)
    result = run(["rules", "set", "max_contracts", "limit", "2", "--account", "2", "--password-stdin"], dirs)
    assert result.exit_code == 0, result.output
    [body] = fake.bodies("POST /v1/config/edits")
    assert body["edits"][0]["file"] == "accounts.yaml"
    assert body["edits"][0]["path"] == ["accounts", 1, "overrides", "rules", "max_contracts", "limit"]


def test_a_loosening_is_reported_pending_with_its_time(fake: FakeDaemon, dirs: list[str]) -> None:
    fake.reply("POST /v1/config/edits", PENDING)
    result = run(["rules", "set", "RULE-001", "limit", "8", "--password-stdin"], dirs)
    assert result.exit_code == 0, result.output
    assert "pending until the next daily reset (2025-01-02" in result.output
    assert "--override --reason TEXT applies it now" in result.output


def test_override_needs_a_reason(fake: FakeDaemon, dirs: list[str]) -> None:
    result = run(["rules", "set", "RULE-001", "limit", "8", "--override", "--password-stdin"], dirs)
    assert result.exit_code == 2
    assert "--override needs --reason TEXT of at least 5 characters" in result.output
    fake.reply("POST /v1/config/edits", CHANGE)
    args = ["rules", "disable", "RULE-001", "--override", "--reason", "news day", "--password-stdin"]
    assert run(args, dirs).exit_code == 0
    [body] = fake.bodies("POST /v1/config/edits")
    assert body["override"] is True and body["reason"] == "news day"
    assert (
        body["edits"][0]["path"] == ["rules", "max_contracts", "enabled"]
        and body["edits"][0]["value"] is False
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rules", "set", "RULE-099", "limit", "1"], "unknown rule 'RULE-099'"),
        (["rules", "set", "RULE-001", "limit", "[1,"], "cannot read the value"),
        (["rules", "set", "RULE-001", "limit", "1", "--account", "7"], "account 7 is not in accounts.yaml"),
    ],
)
def test_usage_errors_exit_2_before_any_change(
    fake: FakeDaemon, dirs: list[str], args: list[str], message: str
) -> None:
    fake.reply("GET /v1/config", config_view())
    result = run([*args, "--password-stdin"], dirs)
    assert result.exit_code == 2 and message in result.output
    assert fake.bodies("POST /v1/config/edits") == []


def test_refused_config_exits_4_with_every_problem(fake: FakeDaemon, dirs: list[str]) -> None:
    problems = [
        "config/risk_config.yaml:4: rules.daily_realized_loss.limit: must be -1000000..-1 (got 500)",
        "config/risk_config.yaml:9: rules.x: unknown key",
    ]
    fake.reply(
        "POST /v1/config/edits",
        (422, {"code": "invalid_config", "error": "the change was refused", "problems": problems}),
    )
    result = run(["rules", "set", "RULE-003", "limit", "500", "--password-stdin"], dirs)
    assert result.exit_code == 4
    for problem in problems:
        assert problem in result.output


# --------------------------------------------------------------------------- authentication


def test_three_wrong_passwords_exit_3(fake: FakeDaemon, dirs: list[str]) -> None:
    wrong = (401, {"code": "auth_failed", "error": "wrong password", "retry_after": 0.0})
    fake.reply("POST /v1/session", wrong)
    result = run(["reset-day", "--reason", "fresh start"], dirs, stdin="a\nb\nc\nd\n")
    assert result.exit_code == 3
    assert [b["password"] for b in fake.bodies("POST /v1/session")] == ["a", "b", "c"]
    assert "2 attempt(s) left" in result.output and "1 attempt(s) left" in result.output
    assert fake.bodies("POST /v1/reset-day") == []


def test_password_stdin_gets_one_attempt(fake: FakeDaemon, dirs: list[str]) -> None:
    fake.reply(
        "POST /v1/session", (401, {"code": "auth_failed", "error": "wrong password", "retry_after": 1})
    )
    result = run(["reset-day", "--reason", "fresh start", "--password-stdin"], dirs, stdin="a\nb\n")
    assert result.exit_code == 3 and len(fake.bodies("POST /v1/session")) == 1


def test_throttled_prints_retry_after_and_exits_3(fake: FakeDaemon, dirs: list[str]) -> None:
    fake.reply(
        "POST /v1/session",
        (429, {"code": "throttled", "error": "too many failed attempts", "retry_after": 64.0}),
    )
    result = run(["reset-day", "--reason", "fresh start"], dirs, stdin="a\n")
    assert result.exit_code == 3 and "retry after 64 s" in result.output
    assert len(fake.bodies("POST /v1/session")) == 1


def test_no_password_at_all_exits_3(fake: FakeDaemon, dirs: list[str]) -> None:
    result = run(["reset-day", "--reason", "fresh start"], dirs, stdin="")
    assert result.exit_code == 3 and "no password given" in result.output
    result = run(["reset-day", "--reason", "fresh start", "--password-stdin"], dirs, stdin="")
    assert result.exit_code == 3 and "no password on stdin" in result.output


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_daemon_down_exits_1_and_says_how_to_start_it(tmp_path: Path) -> None:
    config = write_config_dir(tmp_path / "config", _closed_port())
    result = CliRunner().invoke(
        admin_app,
        ["reset-day", "--reason", "fresh start", "--password-stdin", "--config-dir", str(config)],
        input="pw\n",
    )
    assert result.exit_code == 1
    assert "does not answer" in result.output and "risk-admin service start" in result.output


# --------------------------------------------------------------------------- unlock / reset


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["unlock", "--reason", "fat finger"], "exactly one of --rule RULE-0xx and --all"),
        (["unlock", "--all", "--rule", "RULE-003", "--reason", "fat finger"], "exactly one of"),
        (["unlock", "--all", "--reason", "oops"], "at least 5 characters"),
        (["unlock", "--rule", "RULE-077", "--reason", "fat finger"], "unknown rule"),
        (["unlock", "--all", "--reason", "fat finger", "--account", "PRAC"], "account id (digits)"),
    ],
)
def test_unlock_usage_errors(fake: FakeDaemon, dirs: list[str], args: list[str], message: str) -> None:
    result = run([*args, "--password-stdin"], dirs)
    assert result.exit_code == 2 and message in result.output
    assert fake.bodies("POST /v1/unlock") == []


def test_unlock_sends_the_rule_id_and_prints_what_was_cleared(fake: FakeDaemon, dirs: list[str]) -> None:
    lock = {
        "id": 7,
        "account_id": 1,
        "rule": "RULE-003",
        "kind": "hard",
        "scope": "account",
        "reason": "daily P&L -550.00 <= -500.00",
        "expires_at": "2025-01-02T22:00:00Z",
    }
    fake.reply("POST /v1/unlock", (200, {"locks": [lock]}))
    args = ["unlock", "--rule", "daily_realized_loss", "--reason", "fat finger", "--account", "1"]
    result = run([*args, "--password-stdin"], dirs)
    assert result.exit_code == 0, result.output
    assert fake.bodies("POST /v1/unlock") == [
        {"reason": "fat finger", "rule": "RULE-003", "all": False, "account_id": 1}
    ]
    assert "RULE-003" in result.output and "re" in result.output


def test_refused_unlock_exits_3(fake: FakeDaemon, dirs: list[str]) -> None:
    fake.reply(
        "POST /v1/unlock", (403, {"code": "refused", "error": "RULE-010 follows the broker's canTrade"})
    )
    result = run(["unlock", "--rule", "RULE-010", "--reason", "please", "--password-stdin"], dirs)
    assert result.exit_code == 3 and "canTrade" in result.output


# --------------------------------------------------------------------------- accounts


def test_set_key_never_shows_the_key(fake: FakeDaemon, dirs: list[str]) -> None:
    fake.reply("GET /v1/config", config_view())
    fake.reply("POST /v1/accounts/api-key", (200, {"stored_in": "keyring", "masked": "****wxyz"}))
    key = "SECRETKEY-abcdefghijklmnopqrstuvwxyz"
    result = run(["accounts", "set-key", "--password-stdin"], dirs, stdin=f"pw-correct\n{key}\n")
    assert result.exit_code == 0, result.output
    assert fake.bodies("POST /v1/accounts/api-key") == [{"username": "demo", "api_key": key}]
    assert "****wxyz" in result.output and "stored in keyring" in result.output
    assert key not in result.output and "SECRETKEY" not in result.output


def test_accounts_add_appends_and_remove_deletes(fake: FakeDaemon, dirs: list[str]) -> None:
    fake.reply("GET /v1/config", config_view())
    fake.reply("POST /v1/config/edits", CHANGE)
    assert run(["accounts", "add", "77", "--label", "new one", "--password-stdin"], dirs).exit_code == 0
    assert run(["accounts", "remove", "PRAC-V2-1", "--password-stdin"], dirs).exit_code == 0
    added, removed = fake.bodies("POST /v1/config/edits")
    assert added["edits"] == [
        {
            "file": "accounts.yaml",
            "path": ["accounts", 3],
            "value": {"id": 77, "label": "new one", "enabled": True},
            "delete": False,
        }
    ]
    assert removed["edits"] == [
        {"file": "accounts.yaml", "path": ["accounts", 2], "value": None, "delete": True}
    ]
    assert run(["accounts", "add", "1", "--password-stdin"], dirs).exit_code == 2  # already listed


def test_accounts_list_reads_the_file_without_a_password(fake: FakeDaemon, dirs: list[str]) -> None:
    result = run(["accounts", "list"], dirs, stdin="")
    assert result.exit_code == 0, result.output
    assert "PRAC-V2-1" in result.output and "own file own.yaml" in result.output
    assert fake.bodies("POST /v1/session") == []


# --------------------------------------------------------------------------- local commands


def test_init_sets_the_first_password_and_refuses_a_second(tmp_path: Path) -> None:
    config = ["--config-dir", str(tmp_path)]
    result = CliRunner().invoke(
        admin_app, ["init", *config], input="short\nshort\nlongenough\nlongenougH\nlongenough\nlongenough\n"
    )
    assert result.exit_code == 0, result.output
    assert "at least 8 characters (got 5)" in result.output and "the two passwords differ" in result.output
    assert verify_password(tmp_path, "longenough")
    assert stat.S_IMODE((tmp_path / "admin_password.hash").stat().st_mode) == 0o600
    again = CliRunner().invoke(admin_app, ["init", *config], input="another1\nanother1\n")
    assert again.exit_code == 3 and "already set" in again.output
    assert verify_password(tmp_path, "longenough")


def test_init_with_three_bad_entries_writes_nothing(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        admin_app, ["init", "--config-dir", str(tmp_path)], input="a\na\nb\nb\nc\nc\n"
    )
    assert result.exit_code == 2 and not has_password(tmp_path)


def test_config_validate_is_local_and_exits_4_with_problems(tmp_path: Path) -> None:
    config = write_config_dir(tmp_path / "config", 8766)
    (config / "own.yaml").write_text("version: 1\nrules: {}\n")
    ok = CliRunner().invoke(admin_app, ["config", "validate", "--config-dir", str(config)])
    assert ok.exit_code == 0, ok.output
    (config / "risk_config.yaml").write_text(
        "version: 1\nrules:\n  max_contracts: {enabled: true, limit: 0}\n"
    )
    bad = CliRunner().invoke(admin_app, ["config", "validate", "--config-dir", str(config)])
    assert bad.exit_code == 4
    assert "risk_config.yaml:3: rules.max_contracts.limit: must be" in bad.output


def test_config_show_with_the_daemon_down_reads_the_files_masked(tmp_path: Path) -> None:
    config = write_config_dir(tmp_path / "config", _closed_port())
    (config / "own.yaml").write_text("version: 1\nrules: {}\n")
    text = (config / "accounts.yaml").read_text().replace("api_key: ''", "api_key: 'k-1234567890-zyxw'")
    (config / "accounts.yaml").write_text(text)
    result = CliRunner().invoke(admin_app, ["config", "show", "--config-dir", str(config)])
    assert result.exit_code == 0, result.output
    assert "daemon not running" in result.output and "****zyxw" in result.output
    assert "k-1234567890" not in result.output
    assert "# account two: effective config" in result.output and "limit: -400.0" in result.output
    assert "no pending changes" in result.output
    change = Change(text="rules.max_contracts.limit 5 -> 8 (looser)", direction="loosen",
                    file="risk_config.yaml", path=["rules", "max_contracts", "limit"])  # fmt: skip
    edit = Edit(file="risk_config.yaml", path=["rules", "max_contracts", "limit"], value=8)
    apply_at = datetime(2030, 1, 2, 22, 0, tzinfo=UTC)
    PendingConfig.add(config, [edit], [change], datetime.now(UTC), apply_at)
    result = CliRunner().invoke(admin_app, ["config", "show", "--config-dir", str(config)])
    assert "pending until 2030-01-0" in result.output and "limit 5 -> 8 (looser)" in result.output


def _store_with_rows(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    now = datetime.now(UTC)
    with Store.open(data_dir / DATABASE_FILENAME) as store:
        store.insert_lockout(
            LockRow(
                1,
                1,
                "RULE-003",
                "account",
                "hard",
                "daily P&L -550.00 <= -500.00",
                now,
                now + timedelta(hours=3),
            )
        )
        store.insert_lockout(
            LockRow(
                2,
                2,
                "RULE-006",
                "account",
                "cooldown",
                "4 trades > 3 per minute",
                now,
                now + timedelta(minutes=1),
            )
        )
        for minutes, rule, action in (
            (90, "RULE-001", "REDUCE_POSITION"),
            (5, "RULE-003", "CLOSE_ALL"),
            (1, None, "ADMIN_UNLOCK"),
        ):
            store.log_enforcement(
                EnforcementRow(
                    None,
                    now - timedelta(minutes=minutes),
                    1,
                    rule,
                    action,
                    None,
                    None,
                    f"{action} reason",
                    "OK",
                )
            )


def test_lockouts_and_logs_read_the_database_with_the_daemon_down(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _store_with_rows(data)
    runner = CliRunner()
    locks = runner.invoke(admin_app, ["lockouts", "--data-dir", str(data)])
    assert locks.exit_code == 0, locks.output
    assert "RULE-003" in locks.output and "RULE-006" in locks.output
    one = runner.invoke(admin_app, ["lockouts", "--account", "2", "--data-dir", str(data)])
    assert "RULE-006" in one.output and "RULE-003" not in one.output
    logs = runner.invoke(admin_app, ["logs", "--since", "30m", "--data-dir", str(data)])
    assert logs.exit_code == 0, logs.output
    assert (
        "CLOSE_ALL" in logs.output and "ADMIN_UNLOCK" in logs.output and "REDUCE_POSITION" not in logs.output
    )
    rule = runner.invoke(admin_app, ["logs", "--rule", "daily_realized_loss", "--data-dir", str(data)])
    assert "CLOSE_ALL" in rule.output and "ADMIN_UNLOCK" not in rule.output
    tail = runner.invoke(admin_app, ["logs", "--tail", "1", "--data-dir", str(data)])
    assert "ADMIN_UNLOCK" in tail.output and "CLOSE_ALL" not in tail.output


def test_no_database_is_a_clear_runtime_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(admin_app, ["lockouts", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1 and "no database" in result.output
    bad = CliRunner().invoke(admin_app, ["logs", "--since", "yesterday", "--data-dir", str(tmp_path)])
    assert bad.exit_code == 2 and "--since must be like 30m" in bad.output


def test_daemon_log_filtered_by_time_and_tail(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "risk_manager.log"
    log.parent.mkdir(parents=True)
    now = datetime.now(UTC)
    lines = [
        {"ts": (now - timedelta(hours=2)).isoformat(), "level": "INFO", "logger": "d", "msg": "old one"},
        {"ts": (now - timedelta(minutes=2)).isoformat(), "level": "WARNING", "logger": "d", "msg": "recent"},
        {"ts": now.isoformat(), "level": "INFO", "logger": "d", "msg": "newest"},
    ]
    log.write_text("".join(json.dumps(line) + "\n" for line in lines) + "not json\n")
    result = CliRunner().invoke(admin_app, ["logs", "--daemon", "--since", "1h", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "recent" in result.output and "newest" in result.output and "old one" not in result.output
    tail = CliRunner().invoke(admin_app, ["logs", "--daemon", "--tail", "1", "--data-dir", str(tmp_path)])
    assert tail.output.strip() == "not json"


# --------------------------------------------------------------------------- the app itself


def test_version_help_and_unknown_command(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(admin_app, ["--version"]).output.strip().startswith("risk-manager ")
    result = runner.invoke(admin_app, ["--help"])
    assert result.exit_code == 0
    for command in (
        "init",
        "rules",
        "accounts",
        "service",
        "config",
        "logs",
        "lockouts",
        "unlock",
        "reset-day",
        "change-password",
        "menu",
    ):
        assert command in result.output
    assert runner.invoke(admin_app, ["frobnicate"]).exit_code == 2
    assert runner.invoke(admin_app, []).exit_code == 2  # no terminal: usage, not the menu
    assert runner.invoke(main_app, ["admin", "--help"]).exit_code == 0


def test_menu_runs_actions_with_one_login_and_exits_on_0(fake: FakeDaemon, dirs: list[str]) -> None:
    fake.reply("POST /v1/reset-day", (200, {"trading_date": "2025-01-03", "accounts": [1, 2]}))
    fake.reply("POST /v1/unlock", (200, {"locks": []}))
    data_dir = Path(dirs[3])
    _store_with_rows(data_dir)
    stdin = "6\nd\nnew session\npw-correct\n6\na\nfat finger\n9\n0\n"
    result = CliRunner().invoke(admin_app, ["menu", *dirs], input=stdin)
    assert result.exit_code == 0, result.output
    assert "new trading day 2025-01-03 for accounts 1, 2" in result.output
    assert "no active lock matched" in result.output and "no such choice '9'" in result.output
    assert len(fake.bodies("POST /v1/session")) == 1  # asked once for both actions


def test_menu_logs_in_again_when_the_session_expired(fake: FakeDaemon, dirs: list[str]) -> None:
    expired = (401, {"code": "auth_failed", "error": "session expired: log in again with the password"})
    fake.reply("POST /v1/reset-day", expired, (200, {"trading_date": "2025-01-03", "accounts": [1]}))
    _store_with_rows(Path(dirs[3]))
    stdin = "6\nd\nnew session\npw-correct\npw-again\n0\n"
    result = CliRunner().invoke(admin_app, ["menu", *dirs], input=stdin)
    assert result.exit_code == 0, result.output
    assert "session expired" in result.output and "new trading day" in result.output
    assert [b["password"] for b in fake.bodies("POST /v1/session")] == ["pw-correct", "pw-again"]


def test_service_stop_needs_reason_and_sends_it(fake: FakeDaemon, dirs: list[str]) -> None:
    assert run(["service", "stop", "--password-stdin"], dirs).exit_code == 2
    assert fake.bodies("POST /v1/stop") == []


COMMANDS = [
    ["init"], ["menu"], ["logs"], ["lockouts"], ["unlock"], ["reset-day"], ["change-password"],
    ["rules", "set"], ["rules", "enable"], ["rules", "disable"], ["rules", "list"], ["rules", "wizard"],
    ["accounts", "list"], ["accounts", "add"], ["accounts", "remove"], ["accounts", "set-key"],
    ["accounts", "test"], ["config", "show"], ["config", "validate"], ["config", "drop-pending"],
    ["service", "start"], ["service", "stop"], ["service", "restart"], ["service", "status"],
    ["service", "reload"], ["service", "install"], ["service", "uninstall"],
]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_and_the_shared_options(command: list[str]) -> None:
    result = CliRunner().invoke(admin_app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "--config-dir" in result.output and "--data-dir" in result.output


def test_drop_pending_sends_the_reason(fake: FakeDaemon, dirs: list[str]) -> None:
    fake.reply("DELETE /v1/config/pending", (200, {"apply_at": None, "changes": []}))
    assert run(["config", "drop-pending", "--password-stdin"], dirs).exit_code == 2  # no reason
    result = run(["config", "drop-pending", "--reason", "changed my mind", "--password-stdin"], dirs)
    assert result.exit_code == 0, result.output
    assert fake.bodies("DELETE /v1/config/pending") == [{"reason": "changed my mind"}]
    assert "no pending changes" in result.output
