"""Placeholders in the manual's Markdown, filled at build time from the code and the scenarios.

A page asks for generated content with an HTML comment, so the source reads fine unbuilt:

``<!-- generated: config-reference -->``
    every key of the three config files (:mod:`risk_manager.docs.reference`);
``<!-- generated: keys rules.max_contracts -->``
    one block of risk_config.yaml and the blocks inside it (a rule page's keys);
``<!-- generated: scenario tests/scenarios/X.yaml -->``
    the scenario file and what ``python -m risk_manager replay`` prints for it, run now;
``<!-- generated: scenarios-for RULE-001 -->``
    every scenario of that rule under tests/scenarios/, with the header that says what it shows.

The replay output is never pasted by hand: if a rule's behaviour changes, the manual shows
the new behaviour at the next build, and a replay that fails stops the build.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from risk_manager.docs.reference import config_reference, render_sections, section_for

PLACEHOLDER = re.compile(r"<!-- generated: (?P<kind>[\w-]+)(?: (?P<arg>[^>]*?))? -->")
SCENARIO_DIR = "tests/scenarios"
_RULE_FILE = re.compile(r"^rule_(\d{3})_")


class GenerationError(Exception):
    """A placeholder could not be filled (unknown kind, missing file, a replay that failed)."""


def replay_command(scenario: str) -> list[str]:
    """The command the page shows, as run by the build (``python -m risk_manager replay FILE``)."""
    return [sys.executable, "-m", "risk_manager", "replay", scenario]


def run_replay(scenario: str, root: Path, timeout: float = 120.0) -> str:
    """What ``python -m risk_manager replay <scenario>`` prints, run from ``root`` (the repo).

    Plain text: no colour (``NO_COLOR``) and wide lines, so the page shows what a terminal
    would, without escape codes. Raises GenerationError if it does not exit 0.
    """
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "TERM": "dumb"}
    for name in ("RISK_MANAGER_CONFIG_DIR", "RISK_MANAGER_DATA_DIR"):
        env.pop(name, None)  # a replay uses its own temporary data dir; never the builder's
    result = subprocess.run(
        replay_command(scenario), cwd=root, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise GenerationError(
            f"python -m risk_manager replay {scenario} exited {result.returncode}: {result.stderr.strip()}"
        )
    return result.stdout.rstrip()


def scenario_header(path: Path) -> str:
    """The scenario's opening comment (what it shows), as one paragraph."""
    lines: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    return " ".join(lines)


def rule_scenarios(rule_id: str, root: Path) -> list[Path]:
    """Scenario files of one rule (``rule_003_*.yaml`` for RULE-003), sorted by name."""
    number = rule_id.removeprefix("RULE-")
    return sorted((root / SCENARIO_DIR).glob(f"rule_{number}_*.yaml"))


def scenario_rule(path: str) -> str | None:
    """The rule a scenario file is named after (``rule_003_x.yaml`` -> ``RULE-003``), or None."""
    match = _RULE_FILE.match(Path(path).name)
    return f"RULE-{match.group(1)}" if match else None


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


def render_scenario(scenario: str, root: Path, output: str) -> str:
    """A worked example: what it shows, the file (folded), the command and what it printed."""
    path = root / scenario
    text = path.read_text(encoding="utf-8").rstrip()
    header = scenario_header(path)
    return "\n".join(
        [
            f"**Scenario `{scenario}`**" + (f": {header}" if header else ""),
            "",
            f'??? example "The scenario file: {Path(scenario).name}"',
            "",
            "    ```yaml",
            _indent(text),
            "    ```",
            "",
            "Replayed from the source folder (this output is produced by running the command when the "
            "manual is built):",
            "",
            "```console",
            f"$ python -m risk_manager replay {scenario}",
            output,
            "```",
            "",
        ]
    )


def render_rule_scenarios(rule_id: str, root: Path) -> str:
    """A list of a rule's scenarios with what each shows."""
    paths = rule_scenarios(rule_id, root)
    if not paths:
        raise GenerationError(f"no scenario for {rule_id} under {SCENARIO_DIR}/")
    items = [f"- `{SCENARIO_DIR}/{path.name}`: {scenario_header(path)}" for path in paths]
    return "\n".join(items) + "\n"


def scenarios_in(markdown: str) -> list[str]:
    """The scenario files a page embeds (their replays are what the build must run)."""
    return [m.group("arg") for m in PLACEHOLDER.finditer(markdown) if m.group("kind") == "scenario"]


def replay_all(scenarios: Iterable[str], root: Path, workers: int = 4) -> dict[str, str]:
    """Replay many scenarios in parallel (each is a process of about a second)."""
    unique = sorted(set(scenarios))
    for scenario in unique:
        if not (root / scenario).is_file():
            raise GenerationError(f"scenario not found: {scenario}")
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outputs = list(pool.map(lambda s: run_replay(s, root), unique))
    return dict(zip(unique, outputs, strict=True))


def expand(markdown: str, root: Path, replays: Mapping[str, str] | None = None) -> str:
    """The page with every placeholder filled; ``replays`` are outputs already run (else run now)."""
    done = dict(replays or {})

    def fill(match: re.Match[str]) -> str:
        kind, arg = match.group("kind"), (match.group("arg") or "").strip()
        if kind == "config-reference":
            return config_reference()
        if kind == "keys":
            sections = section_for(arg)
            if not sections:
                raise GenerationError(f"no config block {arg!r} in risk_config.yaml")
            return render_sections(sections, level=3)
        if kind == "scenario":
            if not (root / arg).is_file():
                raise GenerationError(f"scenario not found: {arg}")
            if arg not in done:
                done[arg] = run_replay(arg, root)
            return render_scenario(arg, root, done[arg])
        if kind == "scenarios-for":
            return render_rule_scenarios(arg, root)
        raise GenerationError(f"unknown placeholder kind {kind!r}")

    return PLACEHOLDER.sub(fill, markdown)


__all__ = [
    "PLACEHOLDER",
    "SCENARIO_DIR",
    "GenerationError",
    "expand",
    "render_rule_scenarios",
    "render_scenario",
    "replay_all",
    "replay_command",
    "rule_scenarios",
    "run_replay",
    "scenario_header",
    "scenario_rule",
    "scenarios_in",
]
