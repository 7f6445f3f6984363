"""The config in force, and how it changes while the daemon runs (SPEC §4.7).

Changes arrive from the control API (edits or whole files) or as files edited on disk
(mtimes polled every 2 s). Each is validated against the whole set; a bad one changes
nothing (``CONFIG_REJECTED``, the status shows it). What tightens applies at once; what
loosens waits in ``pending_config.yaml`` for the next daily reset, unless an admin
overrides it with a reason (``ADMIN_OVERRIDE``). The files on disk always hold the
config in force, and the last good set is copied to ``<data_dir>/last_good_config/``
so a start with broken files still protects the accounts.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from risk_manager.config.change_plan import CONFIG_FILES, Plan, plan_change, validate_texts
from risk_manager.config.edits import apply_edits, diff_edits, file_sha, plain_data, write_config_files
from risk_manager.config.loader import ConfigSet, load_config_set
from risk_manager.config.pending import PendingConfig, apply_pending
from risk_manager.config.problems import ConfigError
from risk_manager.control.protocol import (
    MIN_REASON,
    ChangeReply,
    ChangeRequest,
    ConfigView,
    Edit,
    FilesRequest,
    PendingView,
    ValidateReply,
    mask,
)
from risk_manager.control.server import ControlFailure

log = logging.getLogger("risk_manager.config")

LAST_GOOD = "last_good_config"


def read_texts(config_dir: Path) -> dict[str, str]:
    """The config files' texts (a missing holidays.yaml is simply absent); ValueError names a file
    that is not UTF-8 text."""
    return {name: _read(config_dir / name) for name in CONFIG_FILES if (config_dir / name).is_file()}


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def save_last_good(texts: Mapping[str, str], data_dir: Path) -> None:
    """Keep a copy of the set in force for a start with broken files (SPEC §4.7)."""
    target = data_dir / LAST_GOOD
    target.mkdir(parents=True, exist_ok=True)
    for name in CONFIG_FILES:
        path = target / name
        if name in texts:
            path.write_text(texts[name], encoding="utf-8")
        else:
            path.unlink(missing_ok=True)


def last_good_dir(data_dir: Path) -> Path | None:
    path = data_dir / LAST_GOOD
    return path if (path / "accounts.yaml").is_file() and (path / "risk_config.yaml").is_file() else None


class ConfigKeeper:
    """Owns the config files for the daemon: the set in force, pending loosening, reloads.

    ``apply`` is how a new valid set reaches the engine (the daemon decides whether in
    place or by an in-process restart); ``audit`` writes the enforcement log.
    """

    def __init__(
        self,
        config_dir: Path,
        data_dir: Path,
        config_set: ConfigSet,
        *,
        apply: Callable[[ConfigSet, ConfigSet], None],
        audit: Callable[[str, str], None],
        publish: Callable[[dict[str, str]], None],
        next_reset: Callable[[], datetime | None],
        now: Callable[[], datetime],
    ) -> None:
        self.config_dir, self.data_dir = config_dir, data_dir
        self.config_set = config_set
        self._apply, self._audit, self._publish = apply, audit, publish
        self._next_reset, self._now = next_reset, now
        self.texts = read_texts(config_set.config_dir)
        self.state, self.error = "OK", ""
        self._mtimes = self._stat()
        self._rejected_mtimes: dict[str, float] | None = None
        self._pending_at: datetime | None = None
        if config_set.config_dir != config_dir:  # started from the last good copy
            self._reject(f"{config_dir}: invalid config; running with the last good copy")
        else:
            save_last_good(self.texts, data_dir)
        self.publish()

    # -- views --------------------------------------------------------------------------------

    def pending_view(self) -> PendingView:
        try:
            pending = PendingConfig.load(self.config_dir)
        except ConfigError as exc:
            log.error("pending config unreadable: %s", exc)
            return PendingView()
        return PendingView(
            apply_at=pending.apply_at if pending.changes else None, changes=list(pending.changes)
        )

    def view(self) -> ConfigView:
        effective: dict[str, dict[str, Any]] = {}
        for entry in self.config_set.accounts.accounts:
            risk = self.config_set.effective_risk(entry)
            effective[str(entry.ref)] = risk.model_dump(mode="json")
        return ConfigView(
            files={name: self._masked(name, text) for name, text in self.texts.items()},
            effective=effective,
            pending=self.pending_view(),
            config_state=self.state,
            config_error=self.error or None,
        )

    def _masked(self, name: str, text: str) -> str:
        """A key written into accounts.yaml is shown as ``****abcd``, still valid YAML."""
        if name != "accounts.yaml":
            return text
        written = plain_data(text, name)
        key = written.get("gateway", {}).get("api_key") if isinstance(written, dict) else None
        if not isinstance(key, str) or not key or key.startswith("${"):
            return text
        edit = Edit(file="accounts.yaml", path=["gateway", "api_key"], value=mask(key))
        return apply_edits({name: text}, [edit])[name]

    def publish(self) -> None:
        """The status screen reads these from the database (SPEC §6)."""
        view = self.pending_view()
        self._pending_at = view.apply_at
        pending = {
            "apply_at": view.apply_at.isoformat() if view.apply_at else None,
            "changes": [{"text": c.text, "direction": c.direction} for c in view.changes],
        }
        self._publish({
            "config_state": self.state,
            "config_error": self.error,
            "pending_config": json.dumps(pending) if view.changes else "",
        })  # fmt: skip

    # -- changes ------------------------------------------------------------------------------

    def validate(self, files: Mapping[str, str]) -> ValidateReply:
        """Would these files (the others as they are) make a valid set?"""
        try:
            loaded = validate_texts(self.config_dir, {**self.texts, **files})
        except ConfigError as exc:
            return ValidateReply(ok=False, problems=[str(p) for p in exc.problems])
        return ValidateReply(ok=True, warnings=[str(w) for w in loaded.warnings])

    def change(self, request: ChangeRequest) -> ChangeReply:
        self._check_base(request.base)
        return self._plan_and_apply(request.edits, request.override, request.reason, request.dry_run)

    def change_files(self, request: FilesRequest) -> ChangeReply:
        posted = {str(name): text for name, text in request.files.items()}
        edits = diff_edits(self.texts, {**self.texts, **posted})
        return self._plan_and_apply(edits, request.override, request.reason, request.dry_run)

    def reload_from_disk(self) -> ChangeReply:
        """``risk-admin service reload``, and what the mtime poll runs when a file changed."""
        disk = read_texts(self.config_dir)
        self._mtimes = self._stat()
        if disk == self.texts:
            if self.state != "OK":
                self._accept()
            return ChangeReply(applied=[], pending=[])
        try:
            load_config_set(self.config_dir)
        except ConfigError as exc:
            self._reject(str(exc))
            why = "the files on disk are invalid; the config in force is kept"
            raise ControlFailure("invalid_config", why, [str(p) for p in exc.problems]) from exc
        edits = diff_edits(self.texts, disk)
        write_config_files(self.config_dir, self.texts)  # back to the set in force; the plan decides
        return self._plan_and_apply(edits, override=False, reason=None, dry_run=False)

    def poll(self) -> None:
        """Every 2 s: a file edited on disk is a change like any other."""
        mtimes = self._stat()
        if mtimes == self._mtimes or mtimes == self._rejected_mtimes:
            return
        try:
            self.reload_from_disk()
        except (OSError, ValueError) as exc:  # unreadable: as invalid as a syntax error
            self._rejected_mtimes = mtimes
            self._reject(f"config files unreadable: {exc}")
            log.error("config change on disk rejected: %s", exc)
        except ControlFailure as exc:
            self._rejected_mtimes = mtimes
            log.error("config change on disk rejected: %s", "; ".join(exc.problems) or exc)

    def apply_due(self, now: datetime) -> None:
        """Every tick: pending config whose time has come (the reset just ran, or it was missed
        while the daemon was down) takes effect."""
        if self._pending_at is not None and now >= self._pending_at:
            self.apply_pending_now(now)

    def drop_pending(self) -> None:
        PendingConfig.clear(self.config_dir)
        self.publish()

    def apply_pending_now(self, now: datetime) -> None:
        """At the daily reset (or an admin reset-day): the waiting loosening takes effect."""
        try:
            plan = apply_pending(self.config_dir, now, in_force=self.config_set)
        except ConfigError as exc:
            self._audit("CONFIG_PENDING_REFUSED", "pending config no longer valid, kept pending: "
                        + "; ".join(str(p) for p in exc.problems))  # fmt: skip
            self._pending_at = self._next_reset()  # tried again at the next reset, not every tick
            return
        if plan is None:
            return
        self._audit(
            "CONFIG_PENDING_APPLIED", "; ".join(c.text for c in plan.applied) or "pending config applied"
        )
        self._take()

    # -- internals ----------------------------------------------------------------------------

    def _plan_and_apply(
        self, edits: list[Any], override: bool, reason: str | None, dry_run: bool
    ) -> ChangeReply:
        if override and len((reason or "").strip()) < MIN_REASON:
            raise ControlFailure("refused", f"--override needs --reason of at least {MIN_REASON} characters")
        try:
            plan = plan_change(self.config_dir, edits, override=override, in_force=self.config_set)
        except ConfigError as exc:
            raise ControlFailure("invalid_config", "the change was refused; nothing was written",
                                 [str(p) for p in exc.problems]) from exc  # fmt: skip
        reply = self._reply(plan, dry_run)
        if dry_run or not (plan.applied or plan.pending):
            return reply
        write_config_files(self.config_dir, plan.now_texts)
        if plan.pending_edits:
            PendingConfig.add(
                self.config_dir, plan.pending_edits, plan.pending, self._now(), reply.apply_at, reason
            )
        if override and any(c.direction == "loosen" for c in plan.applied):
            texts = "; ".join(c.text for c in plan.applied if c.direction == "loosen")
            self._audit("ADMIN_OVERRIDE", f"{reason}: {texts}")
        if plan.applied:
            self._audit("CONFIG_RELOADED", "; ".join(c.text for c in plan.applied))
        self._take()
        return reply

    def _reply(self, plan: Plan, dry_run: bool) -> ChangeReply:
        apply_at = self._next_reset() if plan.pending else None
        return ChangeReply(applied=plan.applied, pending=plan.pending, apply_at=apply_at, diff=plan.diff,
                           dry_run=dry_run)  # fmt: skip

    def _take(self) -> None:
        """The files on disk are now the set in force: load, keep a copy, give it to the engine."""
        new = load_config_set(self.config_dir)
        old, self.config_set = self.config_set, new
        self.texts = read_texts(self.config_dir)
        self._mtimes = self._stat()
        save_last_good(self.texts, self.data_dir)
        self._accept()
        self._apply(old, new)

    def _accept(self) -> None:
        self.state, self.error, self._rejected_mtimes = "OK", "", None
        self.publish()

    def _reject(self, error: str) -> None:
        if self.state != "REJECTED" or self.error != error:
            self._audit("CONFIG_REJECTED", error)
        self.state, self.error = "REJECTED", error
        self.publish()

    def _check_base(self, base: Mapping[str, str]) -> None:
        for name, sha in base.items():
            if file_sha(self.texts.get(name, "")) != sha:
                raise ControlFailure("conflict", f"{name} changed since you read it: read it again")

    def _stat(self) -> dict[str, float]:
        return {name: (self.config_dir / name).stat().st_mtime for name in CONFIG_FILES
                if (self.config_dir / name).is_file()}  # fmt: skip


__all__ = ["ConfigKeeper", "last_good_dir", "read_texts", "save_last_good"]
