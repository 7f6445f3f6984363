"""The generated LaunchDaemon plist and the macOS helpers (parsed with plistlib; launchd is not here)."""

from __future__ import annotations

import plistlib
from pathlib import Path

import pytest

from risk_manager.service.launchd import (
    LABEL,
    PlistSpec,
    create_account_commands,
    free_service_id,
    parse_dscl_ids,
    parse_print,
    render_plist,
)
from risk_manager.service.supervisor import supervise_argv

PYTHON = Path("/Library/Frameworks/Python.framework/Versions/3.12/bin/python3")
CONFIG = Path("/Library/Application Support/risk-manager")
DATA = Path("/Library/Application Support/risk-manager/data")


def test_the_plist_runs_the_supervisor_at_load_and_restarts_all_but_exit_0() -> None:
    job = plistlib.loads(render_plist(PlistSpec(PYTHON, CONFIG, DATA)).encode())
    assert job["Label"] == LABEL
    assert job["ProgramArguments"] == supervise_argv(PYTHON, CONFIG, DATA, 10.0)
    assert job["RunAtLoad"] is True
    assert job["KeepAlive"] == {"SuccessfulExit": False}
    assert (job["UserName"], job["GroupName"]) == ("_riskmanager", "_riskmanager")
    assert job["ThrottleInterval"] == 1
    assert job["ExitTimeOut"] > 10  # more than the supervisor's grace for the daemon
    assert Path(job["StandardErrorPath"]).parent == DATA / "logs"


def test_a_free_id_skips_every_taken_one() -> None:
    listed = "_www    70\n_riskx  300\nroot 0\nnobody -2\n_other 301\nbroken line\n"
    assert parse_dscl_ids(listed) == [70, 300, 0, -2, 301]
    assert free_service_id(parse_dscl_ids(listed)) == 302
    with pytest.raises(RuntimeError, match="no free service account id"):
        free_service_id(range(300, 500))


def test_the_account_is_hidden_without_a_shell_or_home() -> None:
    commands = create_account_commands("_riskmanager", 302)
    assert ["dscl", ".", "-create", "/Users/_riskmanager", "UniqueID", "302"] in commands
    assert ["dscl", ".", "-create", "/Users/_riskmanager", "UserShell", "/usr/bin/false"] in commands
    assert ["dscl", ".", "-create", "/Users/_riskmanager", "IsHidden", "1"] in commands
    assert ["dscl", ".", "-create", "/Groups/_riskmanager", "PrimaryGroupID", "302"] in commands


def test_launchctl_print_gives_state_and_pid() -> None:
    output = "system/com.riskmanager.supervisor = {\n\tactive count = 1\n\tstate = running\n\tpid = 4711\n"
    output += "\tjob state = running\n\tlast exit code = 0\n}\n"
    assert parse_print(output) == ("running", 4711)
    assert parse_print("system/x = {\n\tstate = not running\n}") == ("not running", None)
