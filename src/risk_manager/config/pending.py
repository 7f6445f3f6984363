"""Loosening that waits for the daily reset, kept in ``<config_dir>/pending_config.yaml`` (SPEC §4.7).

The file survives restarts and reinstalls with the config it belongs to, and the
status screen shows it. Each request keeps its edits in order, the changes they make
in words, when and why it was asked; ``apply_at`` is the next reset. At the reset
``apply_pending`` applies the edits onto the files as they are then: if the result no
longer validates (the files changed since), nothing is written, the problems are
recorded in the file and raised, and the edits stay pending.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from risk_manager.config.change_plan import CONFIG_FILES, Plan, plan_texts
from risk_manager.config.edits import read_config_texts, write_config_files, write_text_atomic
from risk_manager.config.loader import ConfigSet, load_config_set
from risk_manager.config.problems import ConfigError, ConfigProblem
from risk_manager.control.protocol import Change, Edit, PendingView

PENDING_FILE = "pending_config.yaml"
_HEADER = (
    "# Config changes waiting for the next daily reset (SPEC §4.7), written by the risk manager.\n"
    "# Drop them with `risk-admin` (DELETE /v1/config/pending), not by editing this file.\n"
)


class PendingRequest(BaseModel):
    """One change request's loosening part: its edits in order and what they change."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requested_at: dt.datetime
    reason: str | None = None
    edits: list[Edit]
    changes: list[Change] = Field(default_factory=list)


class PendingRefused(ConfigError):
    """Pending edits that no longer make a valid set (the files changed since): kept pending."""


class PendingConfig(BaseModel):
    """The whole pending file. An empty one (no requests) means nothing is pending."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    apply_at: dt.datetime | None = None
    requests: list[PendingRequest] = Field(default_factory=list)
    refused_at: dt.datetime | None = None
    """Last time the reset could not apply them; ``problems`` say why."""
    problems: list[str] = Field(default_factory=list)

    @property
    def edits(self) -> list[Edit]:
        """Every pending edit, in the order requested."""
        return [edit for request in self.requests for edit in request.edits]

    @property
    def changes(self) -> list[Change]:
        """Every pending change in words, in the order requested."""
        return [change for request in self.requests for change in request.changes]

    def view(self) -> PendingView:
        """For the control API and ``risk-admin config show``."""
        return PendingView(apply_at=self.apply_at if self.requests else None, changes=self.changes)

    def status(self) -> dict[str, Any]:
        """The meta ``pending_config`` JSON the status screen reads: apply_at and the changes."""
        return pending_status(self)

    # -- storage --------------------------------------------------------------------------

    @classmethod
    def load(cls, config_dir: Path) -> PendingConfig:
        """The pending file of ``config_dir`` (none: nothing pending). ConfigError if unreadable."""
        path = config_dir / PENDING_FILE
        if not path.is_file():
            return cls()
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            return cls.model_validate(data or {})
        except (yaml.YAMLError, ValidationError, UnicodeDecodeError) as exc:
            message = f"pending config unreadable ({type(exc).__name__}); drop it and ask again"
            raise ConfigError([ConfigProblem(str(path), None, "", message)]) from exc

    def save(self, config_dir: Path) -> None:
        """Write atomically (temp + fsync + rename); no requests and no problems removes the file."""
        path = config_dir / PENDING_FILE
        if not self.requests and not self.problems:
            path.unlink(missing_ok=True)
            return
        body = yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
        write_text_atomic(path, _HEADER + body, backup=False)

    @classmethod
    def add(
        cls,
        config_dir: Path,
        edits: Sequence[Edit],
        changes: Sequence[Change],
        requested_at: dt.datetime,
        apply_at: dt.datetime | None,
        reason: str | None = None,
    ) -> PendingConfig:
        """Append one request to the pending file (after those already waiting) and save it."""
        current = cls.load(config_dir)
        request = PendingRequest(
            requested_at=requested_at, reason=reason, edits=list(edits), changes=list(changes)
        )
        updated = current.model_copy(
            update={"requests": [*current.requests, request], "apply_at": apply_at or current.apply_at}
        )
        updated.save(config_dir)
        return updated

    @staticmethod
    def clear(config_dir: Path) -> None:
        """Nothing pending any more (applied at the reset, or dropped by the admin)."""
        (config_dir / PENDING_FILE).unlink(missing_ok=True)


def pending_status(pending: PendingConfig) -> dict[str, Any]:
    """``{"apply_at": iso|None, "changes": [{"text", "direction"}], "problems": [...]}``."""
    return {
        "apply_at": pending.apply_at.isoformat() if pending.apply_at and pending.requests else None,
        "changes": [{"text": change.text, "direction": change.direction} for change in pending.changes],
        "problems": list(pending.problems),
    }


def pending_view(config_dir: Path) -> PendingView:
    """apply_at and the changes waiting, for the status screen and the control API."""
    return PendingConfig.load(config_dir).view()


def apply_pending(
    config_dir: Path,
    now: dt.datetime,
    *,
    in_force: ConfigSet | None = None,
    env: Mapping[str, str] | None = None,
) -> Plan | None:
    """At the daily reset (or ``reset-day``): apply the pending edits onto the files as they are.

    Returns the plan written (``applied`` = every change against the config in force), or
    None when nothing is pending. If the edits no longer make a valid set, nothing is
    written, the problems are saved in the pending file (``refused_at``, ``problems``) and
    PendingRefused (a ConfigError) is raised; the edits stay pending for the next reset.
    The caller decides when: ``apply_at`` is not checked here.
    """
    pending = PendingConfig.load(config_dir)
    if not pending.requests:
        return None
    texts = read_config_texts(config_dir, CONFIG_FILES)
    if in_force is None:
        try:
            in_force = load_config_set(config_dir, env=env)
        except ConfigError:
            in_force = None
    try:
        plan = plan_texts(config_dir, texts, pending.edits, override=True, in_force=in_force, env=env)
    except ConfigError as exc:
        problems = [str(problem) for problem in exc.problems]
        pending.model_copy(update={"refused_at": now, "problems": problems}).save(config_dir)
        raise PendingRefused(exc.problems) from None
    write_config_files(config_dir, plan.now_texts)
    PendingConfig.clear(config_dir)
    return plan


__all__ = [
    "PENDING_FILE",
    "PendingConfig",
    "PendingRefused",
    "PendingRequest",
    "apply_pending",
    "pending_status",
    "pending_view",
]
