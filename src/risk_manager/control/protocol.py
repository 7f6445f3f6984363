"""The control API between ``risk-admin`` and the daemon (SPEC §6): JSON over HTTP on loopback.

One module for both sides, so the admin CLI and the daemon cannot drift. Every route but
``GET /v1/health`` and ``POST /v1/session`` needs ``Authorization: Bearer <token>``, a
session token obtained with the admin password (``POST /v1/session``), or the password
itself in ``X-Admin-Password`` (scripts). Failures answer with :class:`ErrorReply` and the
HTTP status of its ``code`` (see :data:`STATUS_OF`).

Routes (request model -> reply model):

====== ======================== ===================== ==========================================
method path                      request               reply
====== ======================== ===================== ==========================================
GET    /v1/health                -                     Health (no auth)
POST   /v1/session               SessionRequest        SessionReply (no auth; throttled)
GET    /v1/config                -                     ConfigView (secrets masked)
POST   /v1/config/edits          ChangeRequest         ChangeReply (422 invalid_config)
POST   /v1/config/files          FilesRequest          ChangeReply (whole files, e.g. an editor)
POST   /v1/config/validate       FilesRequest          ValidateReply
POST   /v1/config/reload         -                     ChangeReply (re-read the files on disk)
GET    /v1/config/pending        -                     PendingView
DELETE /v1/config/pending        ReasonRequest         PendingView (pending dropped; tightens)
GET    /v1/lockouts              -                     LockoutsReply
POST   /v1/unlock                UnlockRequest         LockoutsReply (the cleared ones; 403 refused)
POST   /v1/reset-day             ResetRequest          ResetReply
POST   /v1/stop                  StopRequest           OkReply (daemon exits 0, or 75 to restart)
POST   /v1/password              PasswordRequest       OkReply
POST   /v1/accounts/api-key      ApiKeyRequest         ApiKeyReply (where it was stored)
POST   /v1/accounts/test         -                     ConnectionReply
====== ======================== ===================== ==========================================
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

API = "/v1"
TOKEN_HEADER = "Authorization"
PASSWORD_HEADER = "X-Admin-Password"
#: the daemon's exit code for an authenticated restart: the supervisor restarts at once (EX_TEMPFAIL)
EXIT_RESTART = 75
MIN_REASON = 5
MIN_PASSWORD = 8

ConfigFile = Literal["accounts.yaml", "risk_config.yaml", "holidays.yaml"]
Direction = Literal["tighten", "loosen", "neutral"]
ErrorCode = Literal[
    "auth_failed",  # no, wrong or expired password/token
    "throttled",  # too many failures: retry after ``retry_after`` seconds
    "refused",  # allowed by nobody (RULE-009/010 unlock, allow_admin_unlock false, short reason)
    "invalid_config",  # the change would break the config set: ``problems`` lists them
    "conflict",  # the files changed since the edit was computed (``base``)
    "bad_request",
    "unavailable",  # the daemon cannot do it now (e.g. not connected to the gateway)
]
STATUS_OF: dict[str, int] = {
    "auth_failed": 401,
    "throttled": 429,
    "refused": 403,
    "invalid_config": 422,
    "conflict": 409,
    "bad_request": 400,
    "unavailable": 503,
}


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ErrorReply(Message):
    code: ErrorCode
    error: str
    retry_after: float | None = None
    problems: list[str] = Field(default_factory=list)
    """``file:line: key: message`` lines of a refused config."""


class OkReply(Message):
    ok: bool = True
    message: str = ""


class Health(Message):
    version: str
    pid: int
    started_at: datetime
    connection: str
    config_state: str
    store_error: str | None = None
    config_dir: str = ""
    """The daemon's config dir (resolved): risk-admin checks it is talking to the right daemon."""
    data_dir: str = ""


class SessionRequest(Message):
    password: str


class SessionReply(Message):
    token: str
    expires_at: datetime


class Edit(Message):
    """One key of one config file set (or deleted). ``path`` is the YAML path from the file's
    root: ``["rules", "max_contracts", "limit"]`` in risk_config.yaml, or
    ``["accounts", 0, "overrides", "rules", "max_contracts", "limit"]`` in accounts.yaml; a
    list is set as a whole (``["rules", "symbol_blocks", "blocked_symbols"]``)."""

    file: ConfigFile
    path: list[str | int]
    value: Any = None
    delete: bool = False


class ChangeRequest(Message):
    edits: list[Edit]
    override: bool = False
    """Apply loosening at once (needs ``reason``; logged ADMIN_OVERRIDE) instead of at the reset."""
    reason: str | None = None
    dry_run: bool = False
    """Classify, validate and diff; write nothing."""
    base: dict[str, str] = Field(default_factory=dict)
    """sha256 of each file's text the edits were computed against; a mismatch is a conflict."""


class FilesRequest(Message):
    files: dict[ConfigFile, str]
    override: bool = False
    reason: str | None = None
    dry_run: bool = False


class Change(Message):
    """One effective change, in words: ``rules.max_contracts.limit 5 -> 8 (looser)``."""

    text: str
    direction: Direction
    file: ConfigFile
    path: list[str | int]
    account: str | None = None
    """Which account's effective config it changes (None: every account / daemon-wide)."""


class ChangeReply(Message):
    applied: list[Change]
    """In force now (tightening, neutral, or loosening with an override)."""
    pending: list[Change]
    """Waiting for the next daily reset."""
    apply_at: datetime | None = None
    diff: str = ""
    """Unified diff of the files written (or that would be, on a dry run)."""
    dry_run: bool = False


class ValidateReply(Message):
    ok: bool
    problems: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


class PendingView(Message):
    apply_at: datetime | None = None
    changes: list[Change] = Field(default_factory=list)


class ConfigView(Message):
    files: dict[str, str]
    """The files in force, secrets masked (``****abcd``)."""
    effective: dict[str, dict[str, Any]]
    """Per account (id or name as in accounts.yaml): its effective risk config."""
    pending: PendingView
    config_state: str
    config_error: str | None = None


class LockView(Message):
    id: int | None = None
    account_id: int
    rule: str
    kind: str
    scope: str
    reason: str
    created_at: datetime | None = None
    expires_at: datetime | None = None


class LockoutsReply(Message):
    locks: list[LockView]


class ReasonRequest(Message):
    reason: str = Field(min_length=MIN_REASON)


class UnlockRequest(Message):
    reason: str = Field(min_length=MIN_REASON)
    rule: str | None = None
    """``RULE-003`` (or the rule's YAML key); None with ``all``."""
    all: bool = False
    account_id: int | None = None
    """None: every monitored account."""


class ResetRequest(Message):
    """The daily reset, now, for every account (SPEC §4.6: the day is the daemon's, not an account's)."""

    reason: str = Field(min_length=MIN_REASON)


class ResetReply(Message):
    trading_date: str
    accounts: list[int]
    unlocked: list[LockView] = Field(default_factory=list)


class StopRequest(Message):
    reason: str = Field(min_length=MIN_REASON)
    restart: bool = False


class PasswordRequest(Message):
    old: str
    new: str = Field(min_length=MIN_PASSWORD)


class ApiKeyRequest(Message):
    username: str
    api_key: str


class ApiKeyReply(Message):
    stored_in: str
    """``keyring`` or the secrets file's path."""
    masked: str


class AccountCheck(Message):
    id: int
    name: str
    can_trade: bool
    balance: str
    monitored: bool


class ConnectionReply(Message):
    ok: bool
    accounts: list[AccountCheck] = Field(default_factory=list)
    error: str | None = None


def mask(secret: str) -> str:
    """How a secret is ever shown: ``****`` and its last four characters (SPEC §6)."""
    return "****" + secret[-4:] if len(secret) > 8 else "****"


__all__ = [
    "API",
    "EXIT_RESTART",
    "MIN_PASSWORD",
    "MIN_REASON",
    "PASSWORD_HEADER",
    "STATUS_OF",
    "TOKEN_HEADER",
    "AccountCheck",
    "ApiKeyReply",
    "ApiKeyRequest",
    "Change",
    "ChangeReply",
    "ChangeRequest",
    "ConfigFile",
    "ConfigView",
    "ConnectionReply",
    "Direction",
    "Edit",
    "ErrorCode",
    "ErrorReply",
    "FilesRequest",
    "Health",
    "LockView",
    "LockoutsReply",
    "Message",
    "OkReply",
    "PasswordRequest",
    "PendingView",
    "ReasonRequest",
    "ResetReply",
    "ResetRequest",
    "SessionReply",
    "SessionRequest",
    "StopRequest",
    "UnlockRequest",
    "ValidateReply",
    "mask",
]
