"""``risk_manager gateway`` and ``risk_manager run`` as real processes: ready, then SIGTERM -> 143."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from risk_manager.gateway import client_gateway_config
from risk_manager.store import Store, StoreError


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_run_connects_keeps_a_heartbeat_and_stops_gracefully_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    gateway = subprocess.Popen(
        [sys.executable, "-m", "risk_manager", "gateway", "--port", str(port), "--accounts", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert gateway.stdout is not None
        assert gateway.stdout.readline().strip() == f"gateway listening on http://127.0.0.1:{port}"
        config = tmp_path / "config"
        config.mkdir()
        base = f"http://127.0.0.1:{port}"
        gateway_config = client_gateway_config(base)
        accounts = {"version": 1, "gateway": gateway_config, "accounts": [{"id": 1}]}
        (config / "accounts.yaml").write_text(yaml.safe_dump(accounts))
        rules = {"version": 1, "rules": {"max_contracts": {"enabled": True, "limit": 2}}}
        (config / "risk_config.yaml").write_text(yaml.safe_dump(rules))
        data = tmp_path / "data"
        daemon = subprocess.Popen(
            [sys.executable, "-m", "risk_manager", "run", "--config-dir", str(config), "--data-dir", str(data)],  # noqa: E501
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        meta: dict[str, str] = {}
        while time.monotonic() < deadline:
            if (data / "risk_manager.db").exists():
                try:
                    with Store.open(data / "risk_manager.db", read_only=True) as store:
                        meta = store.meta()
                except StoreError:  # the daemon is still creating and migrating it
                    pass
                if meta.get("connection") == "CONNECTED" and "heartbeat_at" in meta:
                    break
            time.sleep(0.2)
        assert meta.get("connection") == "CONNECTED", meta
        assert meta["daemon_pid"] == str(daemon.pid)
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=10) == 143
        with Store.open(data / "risk_manager.db", read_only=True) as store:
            assert store.get_meta("connection") == "DISCONNECTED"
    finally:
        gateway.send_signal(signal.SIGINT)
        gateway.wait(timeout=10)
