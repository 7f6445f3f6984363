"""The admin side of the control API (protocol.py): one method per route, reply models back.

``risk-admin`` talks to the daemon only through this client, over loopback HTTP. The
daemon's refusals arrive as :class:`~risk_manager.control.protocol.ErrorReply` and are
raised as :class:`ControlError`; a daemon that does not answer is :class:`DaemonDown`.

Exception tree::

    Exception
     └── ControlClientError
          ├── DaemonDown        nothing listens on the control address (or it never answers)
          └── ControlError      the daemon answered with an ErrorReply: code, message,
                                problems (``file:line: key: message``), retry_after (s)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from risk_manager.config.paths import RISK_CONFIG_FILE
from risk_manager.config.risk import ControlConfig
from risk_manager.config.yamlsource import read_yaml
from risk_manager.control.protocol import (
    API,
    PASSWORD_HEADER,
    TOKEN_HEADER,
    ApiKeyReply,
    ApiKeyRequest,
    ChangeReply,
    ChangeRequest,
    ConfigView,
    ConnectionReply,
    ErrorCode,
    ErrorReply,
    FilesRequest,
    Health,
    LockoutsReply,
    OkReply,
    PasswordRequest,
    PendingView,
    ReasonRequest,
    ResetReply,
    ResetRequest,
    SessionReply,
    SessionRequest,
    StopRequest,
    UnlockRequest,
    ValidateReply,
)

M = TypeVar("M", bound=BaseModel)
#: Long enough for a dry run over the whole config set or a gateway round trip (accounts test).
TIMEOUT = 30.0


class ControlClientError(Exception):
    """Base of the client's errors."""


class DaemonDown(ControlClientError):
    """No daemon answers at ``url``: it is not running, or listens elsewhere."""

    def __init__(self, url: str, detail: str) -> None:
        super().__init__(f"the daemon does not answer at {url} ({detail})")
        self.url = url


class ControlError(ControlClientError):
    """The daemon refused: ``code`` as in protocol.ErrorCode, ``problems`` for a refused config."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        problems: list[str] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message
        self.problems = problems or []
        self.retry_after = retry_after

    @classmethod
    def from_reply(cls, reply: ErrorReply) -> ControlError:
        return cls(reply.code, reply.error, list(reply.problems), reply.retry_after)


def control_address(config_dir: Path) -> ControlConfig:
    """``general.control`` of the config dir's risk_config.yaml; the defaults when it is unreadable.

    Only this block is read, so a config that is otherwise broken still lets the admin reach
    the daemon (to see why it rejected the files). A non-loopback host raises ValueError:
    the password must never leave the machine.
    """
    doc = read_yaml(config_dir / RISK_CONFIG_FILE)
    data = doc.data if isinstance(doc.data, dict) else {}
    general = data.get("general")
    control = general.get("control") if isinstance(general, dict) else None
    if not isinstance(control, dict):
        return ControlConfig()
    try:
        return ControlConfig.model_validate(control)
    except ValidationError as exc:
        if any(error["loc"][:1] == ("host",) for error in exc.errors()):
            raise ValueError(
                f"general.control.host must be a loopback host (got {control.get('host')!r})"
            ) from None
        return ControlConfig()


def base_url(control: ControlConfig) -> str:
    """``http://127.0.0.1:8766`` (IPv6 hosts in brackets)."""
    host = f"[{control.host}]" if ":" in control.host else control.host
    return f"http://{host}:{control.port}"


class ControlClient:
    """A synchronous client of one daemon's control API.

    Authenticate once with :meth:`session` (the token is then sent with every call) or
    :meth:`use_password` (the password travels with every call: each is a bcrypt check
    on the daemon, so only for one-shot scripts). Usable as a context manager.
    """

    def __init__(
        self, base_url: str, *, timeout: float = TIMEOUT, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token: str | None = None
        self.on_expired: Callable[[ControlError], None] | None = None
        """Called when the daemon no longer accepts our token (it lasts 15 minutes): it should open
        a new session (ask the password again); the refused call is then sent once more."""
        # trust_env=False: no proxy from the environment may see a loopback admin password.
        self._http = httpx.Client(
            base_url=self.base_url + API, timeout=timeout, transport=transport, trust_env=False
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- authentication ---------------------------------------------------------------------

    def session(self, password: str) -> SessionReply:
        """Open a session with the admin password; later calls send its token."""
        reply = self._send("POST", "/session", SessionReply, SessionRequest(password=password))
        self.use_token(reply.token)
        return reply

    def use_token(self, token: str) -> None:
        """Send ``token`` from now on (one obtained earlier, e.g. by a script)."""
        self.token = token
        self._http.headers.pop(PASSWORD_HEADER, None)
        self._http.headers[TOKEN_HEADER] = f"Bearer {token}"

    def use_password(self, password: str) -> None:
        """Send the password itself with every call instead of a token."""
        self.token = None
        self._http.headers.pop(TOKEN_HEADER, None)
        self._http.headers[PASSWORD_HEADER] = password

    # -- routes -------------------------------------------------------------------------------

    def health(self) -> Health:
        return self._call("GET", "/health", Health)

    def config(self) -> ConfigView:
        return self._call("GET", "/config", ConfigView)

    def edit(self, request: ChangeRequest) -> ChangeReply:
        return self._call("POST", "/config/edits", ChangeReply, request)

    def write_files(self, request: FilesRequest) -> ChangeReply:
        return self._call("POST", "/config/files", ChangeReply, request)

    def validate(self, request: FilesRequest) -> ValidateReply:
        return self._call("POST", "/config/validate", ValidateReply, request)

    def reload(self) -> ChangeReply:
        return self._call("POST", "/config/reload", ChangeReply)

    def pending(self) -> PendingView:
        return self._call("GET", "/config/pending", PendingView)

    def drop_pending(self, reason: str) -> PendingView:
        return self._call("DELETE", "/config/pending", PendingView, ReasonRequest(reason=reason))

    def lockouts(self) -> LockoutsReply:
        return self._call("GET", "/lockouts", LockoutsReply)

    def unlock(self, request: UnlockRequest) -> LockoutsReply:
        return self._call("POST", "/unlock", LockoutsReply, request)

    def reset_day(self, request: ResetRequest) -> ResetReply:
        return self._call("POST", "/reset-day", ResetReply, request)

    def stop(self, request: StopRequest) -> OkReply:
        return self._call("POST", "/stop", OkReply, request)

    def change_password(self, old: str, new: str) -> OkReply:
        """The old password is the credential here; every open session ends."""
        return self._call("POST", "/password", OkReply, PasswordRequest(old=old, new=new))

    def set_api_key(self, request: ApiKeyRequest) -> ApiKeyReply:
        return self._call("POST", "/accounts/api-key", ApiKeyReply, request)

    def test_connection(self) -> ConnectionReply:
        return self._call("POST", "/accounts/test", ConnectionReply)

    # -- plumbing -------------------------------------------------------------------------------

    def _call(self, method: str, path: str, reply: type[M], body: BaseModel | None = None) -> M:
        try:
            return self._send(method, path, reply, body)
        except ControlError as exc:
            if exc.code != "auth_failed" or self.token is None or self.on_expired is None:
                raise
            self.on_expired(exc)
            return self._send(method, path, reply, body)

    def _send(self, method: str, path: str, reply: type[M], body: BaseModel | None = None) -> M:
        content = body.model_dump_json().encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else None
        try:
            response = self._http.request(method, path, content=content, headers=headers)
        except httpx.ConnectError as exc:
            raise DaemonDown(self.base_url, "connection refused: is it running?") from exc
        except httpx.TimeoutException as exc:
            raise DaemonDown(self.base_url, "no answer in time: it may be stuck (STALE)") from exc
        except httpx.TransportError as exc:
            raise DaemonDown(self.base_url, f"{type(exc).__name__}: {exc}") from exc
        if response.is_success:
            return self._parse(response, reply)
        raise self._error(response)

    def _parse(self, response: httpx.Response, reply: type[M]) -> M:
        try:
            return reply.model_validate_json(response.content)
        except ValidationError as exc:
            raise ControlError(
                "bad_request",
                f"unexpected reply from {response.request.url} ({response.status_code}): "
                f"not a {reply.__name__}; is this risk-manager's control API of the same version?",
            ) from exc

    @staticmethod
    def _error(response: httpx.Response) -> ControlError:
        try:
            return ControlError.from_reply(ErrorReply.model_validate_json(response.content))
        except ValidationError:
            text = response.text.strip()[:200] or response.reason_phrase
            code: ErrorCode = "auth_failed" if response.status_code == 401 else "bad_request"
            return ControlError(code, f"{response.status_code} from {response.request.url}: {text}")


__all__ = [
    "TIMEOUT",
    "ControlClient",
    "ControlClientError",
    "ControlError",
    "DaemonDown",
    "base_url",
    "control_address",
]
