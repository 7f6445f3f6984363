"""The manual's shell blocks, found and run as a trader would type them (tests/docs).

A shell block in docs/ must carry a marker on the line before its fence:

``<!-- runnable -->`` or ``<!-- runnable: {json options} -->``
    run by tests/docs/test_runnable_blocks.py, in page order, in one terminal-like session;
``<!-- not-runnable: reason -->``
    shown only, with the reason a test cannot run it (a download, a pending command).

Options of a runnable block (all optional):

``expect``   strings the combined output must contain;
``exit``     the exit code (default 0; 130 with ``until``);
``until``    a long-running command: wait for this text, then press Ctrl-C (SIGINT);
``stdin``    what the trader types (a pasted API key);
``replace``  ``{"shown": "used"}`` substitutions (``jane.trader`` -> the simulator's ``demo``);
             the value ``{trading_date}`` is today's trading date;
``shell``    ``bash`` (default), ``any`` (valid in PowerShell and bash: run by bash on POSIX),
             ``powershell`` (run on Windows only);
``needs``    ``pypi``: installs from the internet, run only in CI (``CI`` set) or with
             ``RISK_MANAGER_DOCS_PYPI=1``;
``setup``    harness steps first, standing in for what the page asks the trader to do by
             hand: ``edit-accounts``, ``key``, ``daemon``, ``daemon-ran``, ``lock``, ``venv``;
``files``    titled blocks of the page (```` ```yaml title="x.yaml" ````) the trader saves first;
``stateless`` the result depends on nothing before it (the demo): run once per test session;
``timeout``  seconds (default 120).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SHELL_LANGS = ("bash", "sh", "console", "powershell", "pwsh", "ps1", "shell")
_MARKED = re.compile(
    r"^(?P<indent>[ \t]*)<!-- (?P<tag>runnable|not-runnable)(?::[ \t]*(?P<arg>.*?))?[ \t]*-->[ \t]*\n"
    r"(?P=indent)```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)\n(?P=indent)```",
    re.M | re.S,
)
_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]+)", re.M)
_TITLED = re.compile(
    r'^(?P<indent>[ \t]*)```\w+ title="(?P<title>[^"]+)"[^\n]*\n(?P<body>.*?)\n(?P=indent)```', re.M | re.S
)


@dataclass(frozen=True)
class Block:
    """One marked shell block of a page."""

    page: str
    line: int
    runnable: bool
    lang: str
    text: str
    options: dict[str, Any] = field(default_factory=dict)
    reason: str = ""

    @property
    def label(self) -> str:
        return f"{self.page}:{self.line}"


def _dedent(body: str, indent: str) -> str:
    return "\n".join(line.removeprefix(indent) for line in body.splitlines())


def blocks(path: Path, root: Path) -> list[Block]:
    """The marked shell blocks of one page, in order; raises ValueError on a bad marker."""
    text = path.read_text(encoding="utf-8")
    page = path.relative_to(root).as_posix()
    found: list[Block] = []
    for match in _MARKED.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        arg = (match.group("arg") or "").strip()
        body = _dedent(match.group("body"), match.group("indent"))
        if match.group("tag") == "not-runnable":
            if not arg:
                raise ValueError(f"{page}:{line}: not-runnable needs a reason")
            found.append(Block(page, line, False, match.group("lang"), body, reason=arg))
            continue
        try:
            options = json.loads(arg) if arg else {}
        except json.JSONDecodeError as exc:
            raise ValueError(f"{page}:{line}: runnable options are not JSON: {exc}") from exc
        found.append(Block(page, line, True, match.group("lang"), body, options))
    return found


def unmarked_shell_blocks(path: Path, root: Path) -> list[str]:
    """``page:line`` of every shell fence with no marker on the line before it."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    missing: list[str] = []
    for match in _FENCE.finditer(text):
        if match.group("lang") not in SHELL_LANGS:
            continue
        index = text.count("\n", 0, match.start())
        before = lines[index - 1].strip() if index else ""
        if not re.match(r"<!-- (runnable|not-runnable)\b", before):
            missing.append(f"{path.relative_to(root).as_posix()}:{index + 1}")
    return missing


def titled_files(path: Path) -> dict[str, str]:
    """Blocks with a ``title="name"``: files the page asks the trader to save."""
    text = path.read_text(encoding="utf-8")
    return {
        m.group("title"): _dedent(m.group("body"), m.group("indent")) + "\n" for m in _TITLED.finditer(text)
    }
