"""Splitting a config change into what applies now and what waits for the reset (SPEC §4.7).

``plan_change`` takes edits (from ``risk-admin``, the control API, or ``diff_edits`` of a
hand-edited file), classifies each on its own against the config in force, and returns
a :class:`Plan`: the texts to write now (every edit that does not loosen; all of them
with ``override``), the loosening edits to keep pending, both as ``Change`` lines, and
the diff. It writes nothing: the caller writes ``now_texts`` and records the pending
edits (``pending.add``). Both the set written now and the set with the pending edits too
must validate with the real loader, so a refused change writes nothing and a pending
change cannot become invalid by the split alone.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from risk_manager.config.direction import classify, is_loosening
from risk_manager.config.edits import apply_edits, plain_data, read_config_texts, unified_diff
from risk_manager.config.loader import ConfigSet, display_path, load_config_set
from risk_manager.config.paths import ACCOUNTS_FILE, HOLIDAYS_FILE, RISK_CONFIG_FILE
from risk_manager.config.problems import ConfigError, ConfigProblem, KeyPath
from risk_manager.control.protocol import Change, Edit

#: The files an Edit may name, in the order they are shown.
CONFIG_FILES: tuple[str, ...] = (ACCOUNTS_FILE, RISK_CONFIG_FILE, HOLIDAYS_FILE)


@dataclass
class Plan:
    """What a change does: ``now_texts`` are every config file's text to write now (unchanged
    ones included, byte for byte); ``pending_edits`` wait for the reset (in request order).

    ``applied`` are the effective changes of ``now_texts`` against the config in force;
    ``pending`` those the pending edits will make at the reset (on top of ``now_texts``).
    ``diff`` is the unified diff of the files written now, ``pending_diff`` of the reset's.
    """

    now_texts: dict[str, str]
    applied: list[Change] = field(default_factory=list)
    pending_edits: list[Edit] = field(default_factory=list)
    pending: list[Change] = field(default_factory=list)
    diff: str = ""
    pending_diff: str = ""
    warnings: list[str] = field(default_factory=list)
    """Doubtful-but-valid settings of the resulting set (SPEC §8), ``file:line: key: message``."""


# --------------------------------------------------------------------------- validation


def validate_texts(
    config_dir: Path, texts: Mapping[str, str], *, env: Mapping[str, str] | None = None
) -> ConfigSet:
    """Load ``texts`` (file name -> text) as a config set with the real loader; ConfigError lists
    every problem as ``<config_dir>/<file>:<line>: key: message``.

    The texts are written to a temporary directory beside nothing the daemon polls; an
    account's own ``risk_config_file`` is copied from ``config_dir`` so it still resolves.
    """
    with tempfile.TemporaryDirectory(prefix="risk-config-") as tmp:
        scratch = Path(tmp)
        for name, text in texts.items():
            (scratch / name).write_text(text, encoding="utf-8")
        _copy_own_files(config_dir, scratch, texts)
        try:
            return load_config_set(scratch, env=env, cwd=scratch)
        except ConfigError as exc:
            raise ConfigError([_relocated(problem, config_dir) for problem in exc.problems]) from None


def _copy_own_files(config_dir: Path, scratch: Path, texts: Mapping[str, str]) -> None:
    """Accounts' ``risk_config_file`` paths, relative to the config dir, copied if they exist."""
    try:
        data = plain_data(texts.get(ACCOUNTS_FILE, ""), ACCOUNTS_FILE)
    except ConfigError:
        return  # the loader reports the syntax error
    entries = data.get("accounts") if isinstance(data, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        name = entry.get("risk_config_file") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name or Path(name).is_absolute():
            continue
        source, target = config_dir / name, scratch / name
        if source.is_file() and scratch.resolve() in target.resolve().parents:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)


def _relocated(problem: ConfigProblem, config_dir: Path) -> ConfigProblem:
    """A problem found in the scratch dir, shown at the file in the config dir it stands for."""
    if problem.path == "environment" or Path(problem.path).is_absolute():
        return problem
    shown = display_path(config_dir / problem.path)
    return ConfigProblem(shown, problem.line, problem.key, problem.message, problem.col)


# --------------------------------------------------------------------------- ordering


def _overlaps(a: Edit, b: Edit) -> bool:
    """Two edits whose order matters: same file, one path inside the other, or one deletes a
    list item of a list the other reaches into (indexes shift)."""
    if a.file != b.file:
        return False
    short, long = sorted((tuple(a.path), tuple(b.path)), key=len)
    if long[: len(short)] == short:
        return True
    for edit, other in ((a, b), (b, a)):
        path, other_path = tuple(edit.path), tuple(other.path)
        if edit.delete and path and isinstance(path[-1], int) and other_path[: len(path) - 1] == path[:-1]:
            return True
    return False


def _supersedes(later: Edit, earlier: Edit) -> bool:
    """``later`` rewrites everything ``earlier`` did: same file, same path or an ancestor."""
    path: KeyPath = tuple(later.path)
    return later.file == earlier.file and tuple(earlier.path)[: len(path)] == path


def _shifts(edit: Edit) -> bool:
    """Deleting a list item moves the items after it: later paths mean other items."""
    return edit.delete and bool(edit.path) and isinstance(edit.path[-1], int)


def _superseded(edit: Edit, later: Sequence[Edit]) -> bool:
    if _shifts(edit):
        return False  # two deletions of item 0 delete two items
    for other in later:
        if other.file == edit.file and _shifts(other):
            return False  # past this point the same path may name another item
        if _supersedes(other, edit):
            return True
    return False


def effective_edits(edits: Sequence[Edit]) -> list[Edit]:
    """The edits in order, without those a later edit overwrites (same key or a parent key)."""
    return [edit for index, edit in enumerate(edits) if not _superseded(edit, edits[index + 1 :])]


# --------------------------------------------------------------------------- planning


def _changes_of(
    config_dir: Path,
    bases: Sequence[Mapping[str, str]],
    edit: Edit,
    in_force: ConfigSet,
    env: Mapping[str, str] | None,
) -> list[Change] | None:
    """The changes ``edit`` makes to the config in force, applied to the first base on which
    it gives a valid set; None if it gives none (it needs a later edit, or is invalid)."""
    for base in bases:
        try:
            candidate = validate_texts(config_dir, apply_edits(base, [edit]), env=env)
        except ConfigError:
            continue
        return classify(in_force, candidate)
    return None


def split_edits(
    config_dir: Path,
    texts: Mapping[str, str],
    edits: Sequence[Edit],
    in_force: ConfigSet | None,
    *,
    override: bool,
    env: Mapping[str, str] | None = None,
) -> tuple[list[Edit], list[Edit]]:
    """(now, pending): each edit classified on its own against ``in_force``.

    An edit is tried alone on ``texts``, else on top of the edits already going now (an
    edit may need an earlier one: per_minute lowered before per_hour). One that loosens
    anything, that is valid only with a later edit, or with no config in force to compare
    with, waits (the safe side). A non-loosening edit that follows an overlapping pending
    one applies now *and* again after it at the reset, so the result is the request order.
    """
    if override:
        return effective_edits(edits), []
    now: list[Edit] = []
    pending: list[Edit] = []
    for edit in effective_edits(edits):
        bases = [texts, apply_edits(texts, now)] if now else [texts]
        changes = _changes_of(config_dir, bases, edit, in_force, env) if in_force is not None else None
        if changes is None or is_loosening(changes):
            pending.append(edit)
            continue
        now.append(edit)
        if any(_overlaps(edit, earlier) for earlier in pending):
            pending.append(edit)
    return now, pending


def plan_texts(
    config_dir: Path,
    texts: Mapping[str, str],
    edits: Sequence[Edit],
    *,
    override: bool,
    in_force: ConfigSet | None = None,
    env: Mapping[str, str] | None = None,
) -> Plan:
    """``plan_change`` on given current texts (e.g. the last good set when files were hand-edited).

    Raises ConfigError (nothing is written by anyone) when an edit's path cannot exist,
    or when the set written now or the set after the pending edits does not validate.
    """
    apply_edits(texts, edits)  # an impossible path fails here, before anything is classified
    now, pending = split_edits(config_dir, texts, edits, in_force, override=override, env=env)
    now_texts = apply_edits(texts, now)
    after_texts = apply_edits(now_texts, pending)
    problems: list[ConfigProblem] = []
    now_set = _try(config_dir, now_texts, env, problems)
    after_set = _try(config_dir, after_texts, env, problems) if pending else now_set
    if problems or now_set is None or after_set is None:
        raise ConfigError(_unique(problems))
    baseline = in_force if in_force is not None else now_set
    return Plan(
        now_texts=now_texts,
        applied=classify(baseline, now_set) if in_force is not None else [],
        pending_edits=pending,
        pending=classify(now_set, after_set) if pending else [],
        diff=unified_diff(texts, now_texts),
        pending_diff=unified_diff(now_texts, after_texts),
        warnings=[str(problem) for problem in after_set.warnings],
    )


def _try(
    config_dir: Path, texts: Mapping[str, str], env: Mapping[str, str] | None, problems: list[ConfigProblem]
) -> ConfigSet | None:
    try:
        return validate_texts(config_dir, texts, env=env)
    except ConfigError as exc:
        problems += exc.problems
        return None


def _unique(problems: list[ConfigProblem]) -> list[ConfigProblem]:
    seen: list[ConfigProblem] = []
    for problem in problems:
        if problem not in seen:
            seen.append(problem)
    return seen


def plan_change(
    config_dir: Path,
    edits: Sequence[Edit],
    *,
    override: bool,
    in_force: ConfigSet | None = None,
    env: Mapping[str, str] | None = None,
) -> Plan:
    """Plan ``edits`` against the files in ``config_dir`` (SPEC §4.7); writes nothing.

    ``in_force`` is the config the daemon runs with (default: the files in ``config_dir``
    loaded now; if they do not load, every edit waits unless ``override``). ``override``
    applies loosening at once (the caller logs ADMIN_OVERRIDE with the reason). Conflicting
    edits apply in order. Raises ConfigError with every problem, ``file:line: key: message``.
    """
    texts = read_config_texts(config_dir, CONFIG_FILES)
    if in_force is None:
        try:
            in_force = load_config_set(config_dir, env=env)
        except ConfigError:
            in_force = None
    return plan_texts(config_dir, texts, edits, override=override, in_force=in_force, env=env)


__all__ = [
    "CONFIG_FILES",
    "Plan",
    "effective_edits",
    "plan_change",
    "plan_texts",
    "split_edits",
    "validate_texts",
]
