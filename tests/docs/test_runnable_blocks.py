"""The manual's commands, run as written: each page's runnable blocks in order, in one session.

A page is read top to bottom like a trader at a terminal: ``cd``, an activated virtual
environment and exported variables carry over from one block to the next. The session has a
temporary HOME (so ``~/risk-manager`` and the per-user dirs are temporary),
RISK_MANAGER_CONFIG_DIR and RISK_MANAGER_DATA_DIR in it, a file-backed test keyring, the
source folder copied to ``~/risk-manager/src``, and the gateway simulator on a free loopback
port standing in for TopstepX. The marker grammar is in ``runnable.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from runnable import Block, blocks, titled_files, unmarked_shell_blocks

from risk_manager.cli.init import write_templates
from risk_manager.gateway import client_gateway_config
from risk_manager.schedule.trading_day import DailyReset
from risk_manager.store import Store, StoreError
from risk_manager.store.rows import LockRow

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "hooks" not in p.parts)
RUN_PAGES = [p for p in PAGES if any(b.runnable for b in blocks(p, ROOT))]
WINDOWS = os.name == "nt"
PYPI = bool(os.environ.get("CI")) or os.environ.get("RISK_MANAGER_DOCS_PYPI") == "1"
USERNAME = API_KEY = "demo"  # what the simulator accepts
_STATELESS: dict[str, tuple[int, str]] = {}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def gateway_url() -> Iterator[str]:
    """The simulator, standing in for the firm's gateway for every page."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "risk_manager", "gateway", "--port", str(port), "--accounts", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == f"gateway listening on http://127.0.0.1:{port}"
    yield f"http://127.0.0.1:{port}"
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=10)


@dataclass
class Session:
    """One terminal: its environment, current directory, and what the harness started."""

    home: Path
    env: dict[str, str]
    cwd: Path
    gateway_url: str
    daemons: list[subprocess.Popen[str]] = field(default_factory=list)

    @property
    def config_dir(self) -> Path:
        return Path(self.env["RISK_MANAGER_CONFIG_DIR"])

    @property
    def data_dir(self) -> Path:
        return Path(self.env["RISK_MANAGER_DATA_DIR"])


def new_session(tmp: Path, gateway_url: str) -> Session:
    home = tmp / "home"
    source = home / "risk-manager" / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    for name in ("src", "examples"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    shutil.copytree(ROOT / "tests" / "scenarios", source / "tests" / "scenarios", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PROJECT_X_", "RISK_MANAGER_", "XDG_", "PYTHON_KEYRING", "VIRTUAL_ENV"))
    }
    env.update(
        HOME=str(home),
        PATH=str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
        RISK_MANAGER_CONFIG_DIR=str(tmp / "config"),
        RISK_MANAGER_DATA_DIR=str(tmp / "data"),
        PYTHON_KEYRING_BACKEND="doc_keyring.FileKeyring",
        DOC_KEYRING_FILE=str(tmp / "keyring.json"),
        PYTHONPATH=str(Path(__file__).parent),
        NO_COLOR="1",
        COLUMNS="200",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    return Session(home, env, source, gateway_url)


# --------------------------------------------------------------------------- harness steps


def edit_accounts(session: Session) -> None:
    """What the trader does in an editor: accounts.yaml points at the gateway, key left empty."""
    write_templates(session.config_dir)
    gateway = client_gateway_config(session.gateway_url, username=USERNAME, api_key="")
    accounts = {"version": 1, "gateway": gateway, "accounts": [{"id": 1, "label": "Practice"}, {"id": 2}]}
    (session.config_dir / "accounts.yaml").write_text(yaml.safe_dump(accounts), encoding="utf-8")


def store_key(session: Session) -> None:
    path = Path(session.env["DOC_KEYRING_FILE"])
    path.write_text(json.dumps({f"risk-manager/{USERNAME}": API_KEY}), encoding="utf-8")


def _meta(db: Path) -> dict[str, str]:
    if not db.exists():
        return {}
    try:
        with Store.open(db, read_only=True) as store:
            return store.meta()
    except StoreError:  # still being created and migrated
        return {}


def start_daemon(session: Session) -> subprocess.Popen[str]:
    """The daemon as the service would run it, waited for until it is connected and beating."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "risk_manager", "run"], env=session.env, cwd=session.cwd,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    db = session.data_dir / "risk_manager.db"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        meta = _meta(db)
        if meta.get("connection") == "CONNECTED" and meta.get("daemon_pid") == str(proc.pid):
            return proc
        assert proc.poll() is None, f"the daemon exited {proc.returncode}"
        time.sleep(0.2)
    proc.terminate()
    raise AssertionError("the daemon did not connect within 30 s")


def stop_daemon(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM if not WINDOWS else signal.CTRL_BREAK_EVENT)
    proc.wait(timeout=15)


def add_lock(session: Session) -> None:
    """A RULE-003 lock on account 1 until the next reset, as a losing day would leave it."""
    if not (session.data_dir / "risk_manager.db").exists():
        stop_daemon(start_daemon(session))
    now = datetime.now(UTC)
    with Store.open(session.data_dir / "risk_manager.db") as store:
        lock_id = store.max_lockout_id() + 1
        reason = "daily P&L -550.00 <= -500.00"
        until = DailyReset().next_reset(now)
        store.insert_lockout(LockRow(lock_id, 1, "RULE-003", "account", "hard", reason, now, until))
        store.flush()


def make_venv(session: Session) -> None:
    venv = session.home / "risk-manager" / "venv"
    if not venv.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=session.env)
        pip = venv / ("Scripts" if WINDOWS else "bin") / "python"
        source = str(session.home / "risk-manager" / "src")
        subprocess.run([str(pip), "-m", "pip", "install", "-q", source], check=True, env=session.env)


def setup(session: Session, steps: list[str]) -> list[subprocess.Popen[str]]:
    """Run the harness steps; returns daemons to stop after the block."""
    started: list[subprocess.Popen[str]] = []
    for step in steps:
        if step == "edit-accounts":
            edit_accounts(session)
        elif step == "key":
            store_key(session)
        elif step == "daemon":
            started.append(start_daemon(session))
        elif step == "daemon-ran":
            stop_daemon(start_daemon(session))
        elif step == "lock":
            add_lock(session)
        elif step == "venv":
            make_venv(session)
        else:
            raise AssertionError(f"unknown setup step {step!r}")
    return started


# --------------------------------------------------------------------------- running a block


def substituted(block: Block) -> str:
    text = block.text
    trading_date = DailyReset().trading_date(datetime.now(UTC)).isoformat()
    for shown, used in block.options.get("replace", {}).items():
        text = text.replace(shown, used.replace("{trading_date}", trading_date))
    return text


def run_bash(session: Session, block: Block) -> tuple[int, str]:
    """The block in bash as one pasted chunk; the session keeps its cwd and environment after it."""
    env_out, pwd_out = session.home / ".env.out", session.home / ".pwd.out"
    script = f'trap \'env -0 > "{env_out}"; pwd > "{pwd_out}"\' EXIT\nset -e\n{substituted(block)}\n'
    timeout = float(block.options.get("timeout", 120))
    stdin = block.options.get("stdin")
    until = block.options.get("until")
    if until is None:
        result = subprocess.run(
            ["bash", "-c", script], cwd=session.cwd, env=session.env, input=stdin or "",
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
        )  # fmt: skip
        code, output = result.returncode, result.stdout
    else:
        code, output = _run_until_ctrl_c(session, script, until, timeout)
    if env_out.exists():
        pairs = [item.split("=", 1) for item in env_out.read_text().split("\0") if "=" in item]
        session.env = {key: value for key, value in pairs}
        session.cwd = Path(pwd_out.read_text().strip())
    return code, output


def _run_until_ctrl_c(session: Session, script: str, until: str, timeout: float) -> tuple[int, str]:
    """Start a long-running command, wait for ``until`` in its output, then press Ctrl-C."""
    proc = subprocess.Popen(
        ["bash", "-c", script], cwd=session.cwd, env=session.env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    lines: list[str] = []
    seen = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if until in line:
                seen.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    found = seen.wait(timeout)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C goes to the terminal's foreground process group
    code = proc.wait(timeout=20)
    reader.join(timeout=5)
    assert found, f"never saw {until!r}:\n{''.join(lines)}"
    return code, "".join(lines)


def run_powershell(session: Session, block: Block) -> tuple[int, str]:
    result = subprocess.run(
        ["powershell", "-NoProfile", "-Command", substituted(block)], cwd=session.cwd, env=session.env,
        input=block.options.get("stdin") or "", capture_output=True, text=True,
        timeout=float(block.options.get("timeout", 120)),
    )  # fmt: skip
    return result.returncode, result.stdout + result.stderr


def skip_reason(block: Block) -> str | None:
    shell = block.options.get("shell", "bash")
    if shell == "powershell" and not WINDOWS:
        return "PowerShell (Windows only)"
    if shell == "bash" and WINDOWS:
        return "bash (Linux and macOS)"
    if block.options.get("needs") == "pypi" and not PYPI:
        return "installs from PyPI (runs in CI, or set RISK_MANAGER_DOCS_PYPI=1)"
    return None


def run_block(session: Session, block: Block, page: Path) -> tuple[int, str]:
    for name, content in titled_files(page).items():
        if name in block.options.get("files", []):
            (session.cwd / name).write_text(content, encoding="utf-8")
    key = json.dumps([block.text, block.options], sort_keys=True)
    if block.options.get("stateless") and key in _STATELESS:
        return _STATELESS[key]
    started = setup(session, list(block.options.get("setup", [])))
    try:
        result = run_powershell(session, block) if WINDOWS else run_bash(session, block)
    finally:
        for proc in started:
            stop_daemon(proc)
    if block.options.get("stateless"):
        _STATELESS[key] = result
    return result


# --------------------------------------------------------------------------- tests


def test_every_shell_block_is_marked_runnable_or_says_why_not() -> None:
    missing = [where for page in PAGES for where in unmarked_shell_blocks(page, ROOT)]
    assert missing == [], "shell blocks without <!-- runnable --> or <!-- not-runnable: reason -->"


def test_the_install_pages_are_runnable_blocks_above_all() -> None:
    for name in ("windows", "linux", "macos"):
        found = blocks(DOCS / "install" / f"{name}.md", ROOT)
        assert sum(b.runnable for b in found) >= 8, name
        pending = [b for b in found if not b.runnable and "pending" not in b.reason]
        # a system installer, a security setting, the real service install (OS administrator rights)
        assert len(pending) <= 3, [b.label for b in pending]


@pytest.mark.slow
@pytest.mark.skipif(WINDOWS, reason="the harness drives bash; Windows runs PowerShell blocks only")
@pytest.mark.parametrize("page", RUN_PAGES, ids=[p.relative_to(DOCS).as_posix() for p in RUN_PAGES])
def test_page_commands_run_as_written(page: Path, tmp_path: Path, gateway_url: str) -> None:
    session = new_session(tmp_path, gateway_url)
    try:
        _run_page(session, page)
    finally:
        stop_background_supervisor(session)


def stop_background_supervisor(session: Session) -> None:
    """A ``risk-admin service start`` the page left running (or a failed block left behind)."""
    pid = _meta(session.data_dir / "risk_manager.db").get("supervisor_pid")
    if not pid:
        return
    try:
        os.kill(int(pid), signal.SIGTERM)
    except (OSError, ValueError):
        return
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(int(pid), 0)
        except OSError:
            return
        time.sleep(0.2)


def _run_page(session: Session, page: Path) -> None:
    ran: list[str] = []
    skipped: list[str] = []
    for block in blocks(page, ROOT):
        if not block.runnable:
            continue
        reason = skip_reason(block)
        if reason is not None:
            skipped.append(f"{block.label}: {reason}")
            continue
        code, output = run_block(session, block, page)
        expected_code = block.options.get("exit", 130 if "until" in block.options else 0)
        assert code == expected_code, f"{block.label}: exit {code}, expected {expected_code}\n{output}"
        for text in block.options.get("expect", []):
            assert text in output, f"{block.label}: {text!r} not in the output:\n{output}"
        ran.append(block.label)
    if not ran:
        pytest.skip("; ".join(skipped))
    print(f"ran {len(ran)} blocks; skipped: {skipped}")


def _check_marker_grammar(options: dict[str, Any]) -> list[str]:
    known = {"expect", "exit", "until", "stdin", "replace", "shell", "needs", "setup", "files", "stateless",
             "timeout"}  # fmt: skip
    return sorted(set(options) - known)


def test_markers_use_only_known_options() -> None:
    bad = {
        b.label: _check_marker_grammar(b.options)
        for page in PAGES
        for b in blocks(page, ROOT)
        if b.runnable and _check_marker_grammar(b.options)
    }
    assert bad == {}
