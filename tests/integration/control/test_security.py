"""The locked door, proved on a full run of real processes (issue 6, point 5).

The gateway simulator and the daemon run as processes at DEBUG; a trader breaks a rule; an
admin logs in, stores a second API key and reads the config. Then every byte the run left
(daemon log, database and its backups, what the status and admin commands printed) is
searched for the API keys and the password; and an unprivileged user (``runuser``, since CI
runs as root) tries to write the config, the database and the data dir, and to read the
password hash and the secrets file.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from process_harness import connected_daemon_pid, free_port, front_month, sim, wait_for
from risk_manager.control.password import set_password
from risk_manager.gateway import client_gateway_config

API_KEY = "pxk-7Hq2Zt9W-LIVE-SECRET-41"
SECOND_KEY = "pxk-Rr55-SECOND-SECRET-93"
PASSWORD = "admin-door-Secret-77"
SECRETS = (API_KEY, SECOND_KEY, PASSWORD)
UNPRIVILEGED = "nobody"


@pytest.fixture
def world_dir() -> Iterator[Path]:
    """A directory an unprivileged user can traverse (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="risk-security-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def gateway(port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "risk_manager", "gateway", "--port", str(port), "--accounts", "2",
         "--user", "trader1", "--api-key", API_KEY, "--quote-rate", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip


def write_config(config_dir: Path, url: str, control_port: int) -> None:
    config_dir.mkdir(parents=True)
    accounts = {
        "version": 1,
        "gateway": client_gateway_config(url, username="trader1", api_key="${PROJECT_X_API_KEY:-}"),
        "accounts": [{"id": 1}],
    }
    rules = {"max_contracts": {"enabled": True, "limit": 2}}
    risk = {"version": 1, "general": {"control": {"port": control_port}}, "rules": rules}
    (config_dir / "accounts.yaml").write_text(yaml.safe_dump(accounts))
    (config_dir / "risk_config.yaml").write_text(yaml.safe_dump(risk))
    set_password(config_dir, PASSWORD)


def full_run(root: Path) -> list[str]:
    """The run; returns what the trader's and the admin's commands printed."""
    config_dir, data_dir = root / "config", root / "data"
    env = {**os.environ, "PROJECT_X_API_KEY": API_KEY, "RISK_MANAGER_LOG_LEVEL": "DEBUG", "NO_COLOR": "1",
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}  # fmt: skip
    dirs = ["--config-dir", str(config_dir), "--data-dir", str(data_dir)]
    control_port, gateway_port = free_port(), free_port()
    sim_proc = gateway(gateway_port)
    printed: list[str] = []
    try:
        url = f"http://127.0.0.1:{gateway_port}"
        assert sim_proc.stdout is not None and "listening" in sim_proc.stdout.readline()
        write_config(config_dir, url, control_port)
        daemon = subprocess.Popen([sys.executable, "-m", "risk_manager", "run", *dirs], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
        try:
            wait_for(lambda: connected_daemon_pid(data_dir), "the daemon connected", timeout=60)
            with httpx.Client(base_url=url, timeout=10) as http:
                mnq = front_month(http, "MNQ")
                sim(http, "quote", {"contractId": mnq, "lastPrice": 21000.0})
                sim(http, "trade", {"accountId": 1, "contractId": mnq, "type": 2, "side": 0, "size": 3})
                wait_for(lambda: sim_position(http, mnq) == 2, "RULE-001 trimmed the position")
            with httpx.Client(base_url=f"http://127.0.0.1:{control_port}", timeout=10) as api:
                token = api.post("/v1/session", json={"password": PASSWORD}).json()["token"]
                headers = {"Authorization": f"Bearer {token}"}
                reply = api.post("/v1/accounts/api-key", json={"username": "other", "api_key": SECOND_KEY},
                                 headers=headers)  # fmt: skip
                assert reply.status_code == 200, reply.text
                printed += [reply.text, api.get("/v1/config", headers=headers).text]
            for command in (["status", "--once"], ["status", "--json"], ["admin", "config", "show"],
                            ["admin", "lockouts"], ["admin", "logs", "--daemon"]):  # fmt: skip
                done = subprocess.run([sys.executable, "-m", "risk_manager", *command, *dirs], env=env,
                                      input="", capture_output=True, text=True, timeout=60)  # fmt: skip
                printed.append(done.stdout + done.stderr)
        finally:
            daemon.send_signal(signal.SIGTERM)
            _, stderr = daemon.communicate(timeout=30)
            printed.append(stderr)  # the daemon's own stderr log lines
    finally:
        sim_proc.terminate()
        sim_proc.wait(timeout=10)
    return printed


def sim_position(http: httpx.Client, contract_id: str) -> int:
    account = next(a for a in http.get("/sim/state").json()["accounts"] if a["id"] == 1)
    return sum(p["size"] for p in account["positions"] if p["contractId"] == contract_id)


def test_no_secret_in_any_log_database_or_output_and_the_files_keep_strangers_out(world_dir: Path) -> None:
    printed = full_run(world_dir)
    data_dir, config_dir = world_dir / "data", world_dir / "config"
    assert any("daemon" in text for text in printed)  # the commands really ran
    for text in printed:
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} printed: {text[:300]}"
    written = [path for path in data_dir.rglob("*") if path.is_file()]
    assert any(path.name.startswith("risk_manager.log") for path in written)
    assert any(path.suffix == ".db" for path in written)
    for path in [*written, config_dir / "accounts.yaml", config_dir / "risk_config.yaml"]:
        body = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in body, f"{secret!r} in {path}"
    # the second key is where it belongs (no keyring here): the secrets file, owner-only
    secrets_file = config_dir / "secrets.yaml"
    assert SECOND_KEY in secrets_file.read_text()
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((config_dir / "admin_password.hash").stat().st_mode) == 0o600
    assert PASSWORD.encode() not in (config_dir / "admin_password.hash").read_bytes()
    check_strangers_are_kept_out(world_dir)


def as_stranger(script: str) -> int:
    return subprocess.run(["runuser", "-u", UNPRIVILEGED, "--", "sh", "-c", script],
                          capture_output=True, timeout=30).returncode  # fmt: skip


def check_strangers_are_kept_out(root: Path) -> None:
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("needs root and runuser to act as an unprivileged user")
    config_dir, data_dir = root / "config", root / "data"
    for path in ("config/accounts.yaml", "config/risk_config.yaml", "config/admin_password.hash",
                 "config/secrets.yaml", "data/risk_manager.db"):  # fmt: skip
        assert as_stranger(f"echo x >> {root / path}") != 0, f"{path} is writable by others"
    for directory in (config_dir, data_dir):
        assert as_stranger(f"touch {directory}/intruder") != 0, f"{directory} accepts new files"
    for private in ("admin_password.hash", "secrets.yaml"):
        assert as_stranger(f"cat {config_dir / private}") != 0, f"{private} is readable by others"
    # what the trader may do: read the rules, and the database the way the status screen does
    # with the daemon down (our venv's interpreter is not theirs to run, the system's sqlite is)
    assert as_stranger(f"cat {config_dir / 'risk_config.yaml'}") == 0
    system_python = shutil.which("python3", path="/usr/bin:/bin")
    if system_python is not None:
        for query, readable in (("mode=ro", False), ("mode=ro&immutable=1", True)):
            uri = f"file:{data_dir / 'risk_manager.db'}?{query}"
            read_db = f"import sqlite3; sqlite3.connect('{uri}', uri=True).execute('select 1 from lockouts')"
            assert (as_stranger(f'{system_python} -c "{read_db}"') == 0) is readable, query
