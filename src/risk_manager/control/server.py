"""The control API's HTTP side: routes, authentication and error replies (protocol.py).

The server knows nothing of the engine: each route calls a method of an :class:`Admin`
(the daemon implements it), so the same routes serve the service and a foreground run.
Loopback only: ``general.control`` refuses any other host, and so does :func:`serve`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol, TypeVar

import uvicorn
from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from risk_manager.config.fields import is_loopback_host
from risk_manager.control.auth import AuthFailed, Gatekeeper
from risk_manager.control.password import set_password, validate_new_password
from risk_manager.control.protocol import (
    API,
    PASSWORD_HEADER,
    STATUS_OF,
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
from risk_manager.http_server import InProcessServer

log = logging.getLogger("risk_manager.control")
M = TypeVar("M", bound=BaseModel)


class ControlFailure(Exception):
    """An admin request the daemon refuses; becomes an :class:`ErrorReply`."""

    def __init__(self, code: ErrorCode, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.code, self.problems = code, problems or []


class Admin(Protocol):
    """What the daemon does for an authenticated admin."""

    def health(self) -> Health: ...
    def config_view(self) -> ConfigView: ...
    async def change(self, request: ChangeRequest) -> ChangeReply: ...
    async def change_files(self, request: FilesRequest) -> ChangeReply: ...
    def validate(self, request: FilesRequest) -> ValidateReply: ...
    async def reload(self) -> ChangeReply: ...
    def pending(self) -> PendingView: ...
    def drop_pending(self, request: ReasonRequest) -> PendingView: ...
    def lockouts(self) -> LockoutsReply: ...
    def unlock(self, request: UnlockRequest) -> LockoutsReply: ...
    def reset_day(self, request: ResetRequest) -> ResetReply: ...
    def stop(self, request: StopRequest) -> OkReply: ...
    async def store_api_key(self, request: ApiKeyRequest) -> ApiKeyReply: ...
    async def test_connection(self) -> ConnectionReply: ...
    def audit(self, action: str, reason: str) -> None: ...


def _error(code: ErrorCode, message: str, **more: Any) -> JSONResponse:
    reply = ErrorReply(code=code, error=message, **more)
    return JSONResponse(reply.model_dump(mode="json"), status_code=STATUS_OF[code])


def _refused(exc: AuthFailed) -> JSONResponse:
    return _error("throttled" if exc.throttled else "auth_failed", str(exc), retry_after=exc.retry_after)


def _reply(model: BaseModel) -> JSONResponse:
    return JSONResponse(model.model_dump(mode="json"))


async def _body(request: Request, model: type[M]) -> M:
    raw = await request.body()
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
        raise ControlFailure("bad_request", details) from exc


class ControlApp:
    """The Starlette app: one handler per route of protocol.py."""

    def __init__(self, admin: Admin, gate: Gatekeeper) -> None:
        self.admin, self.gate = admin, gate
        self.app = Starlette(routes=self._routes())

    def _routes(self) -> list[Route]:
        def route(path: str, handler: Callable[[Request], Awaitable[Response]], method: str) -> Route:
            return Route(API + path, handler, methods=[method])

        return [
            route("/health", self._health, "GET"),
            route("/session", self._session, "POST"),
            route("/config", self._guarded(self._config), "GET"),
            route("/config/edits", self._guarded(self._edits), "POST"),
            route("/config/files", self._guarded(self._files), "POST"),
            route("/config/validate", self._guarded(self._validate), "POST"),
            route("/config/reload", self._guarded(self._reload), "POST"),
            route("/config/pending", self._guarded(self._pending), "GET"),
            route("/config/pending", self._guarded(self._drop_pending), "DELETE"),
            route("/lockouts", self._guarded(self._lockouts), "GET"),
            route("/unlock", self._guarded(self._unlock), "POST"),
            route("/reset-day", self._guarded(self._reset_day), "POST"),
            route("/stop", self._guarded(self._stop), "POST"),
            route("/password", self._password, "POST"),
            route("/accounts/api-key", self._guarded(self._api_key), "POST"),
            route("/accounts/test", self._guarded(self._test), "POST"),
        ]

    # -- authentication -------------------------------------------------------------------

    def _guarded(
        self, handler: Callable[[Request], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            try:
                await self._authenticate(request)
                return await handler(request)
            except AuthFailed as exc:
                return _refused(exc)
            except ControlFailure as exc:
                return _error(exc.code, str(exc), problems=exc.problems)

        return guarded

    async def _authenticate(self, request: Request) -> None:
        authorization = request.headers.get("authorization", "")
        if authorization.lower().startswith("bearer "):
            self.gate.check_token(authorization[7:].strip())
            return
        password = request.headers.get(PASSWORD_HEADER)
        if password is None:
            raise AuthFailed("admin password or session token required")
        await asyncio.to_thread(self.gate.check_password, password)

    async def _session(self, request: Request) -> Response:
        try:
            body = await _body(request, SessionRequest)
            session = await asyncio.to_thread(self.gate.open_session, body.password)
        except ControlFailure as exc:
            return _error(exc.code, str(exc))
        except AuthFailed as exc:
            return _refused(exc)
        return _reply(SessionReply(token=session.token, expires_at=session.expires_at))

    async def _password(self, request: Request) -> Response:
        try:
            body = await _body(request, PasswordRequest)
            await asyncio.to_thread(self.gate.check_password, body.old)
        except ControlFailure as exc:
            return _error(exc.code, str(exc))
        except AuthFailed as exc:
            return _refused(exc)
        problem = validate_new_password(body.new, body.new)
        if problem is not None:
            return _error("refused", problem)
        await asyncio.to_thread(set_password, self.gate.config_dir, body.new)
        self.gate.end_sessions()
        self.admin.audit("ADMIN_PASSWORD_CHANGED", "admin password changed")
        return _reply(OkReply(message="password changed; log in again"))

    # -- routes -----------------------------------------------------------------------------

    async def _health(self, request: Request) -> Response:
        try:
            return _reply(self.admin.health())
        except ControlFailure as exc:
            return _error(exc.code, str(exc))

    async def _config(self, request: Request) -> Response:
        return _reply(self.admin.config_view())

    async def _edits(self, request: Request) -> Response:
        return _reply(await self.admin.change(await _body(request, ChangeRequest)))

    async def _files(self, request: Request) -> Response:
        return _reply(await self.admin.change_files(await _body(request, FilesRequest)))

    async def _validate(self, request: Request) -> Response:
        return _reply(self.admin.validate(await _body(request, FilesRequest)))

    async def _reload(self, request: Request) -> Response:
        return _reply(await self.admin.reload())

    async def _pending(self, request: Request) -> Response:
        return _reply(self.admin.pending())

    async def _drop_pending(self, request: Request) -> Response:
        return _reply(self.admin.drop_pending(await _body(request, ReasonRequest)))

    async def _lockouts(self, request: Request) -> Response:
        return _reply(self.admin.lockouts())

    async def _unlock(self, request: Request) -> Response:
        return _reply(self.admin.unlock(await _body(request, UnlockRequest)))

    async def _reset_day(self, request: Request) -> Response:
        return _reply(self.admin.reset_day(await _body(request, ResetRequest)))

    async def _stop(self, request: Request) -> Response:
        return _reply(self.admin.stop(await _body(request, StopRequest)))

    async def _api_key(self, request: Request) -> Response:
        return _reply(await self.admin.store_api_key(await _body(request, ApiKeyRequest)))

    async def _test(self, request: Request) -> Response:
        return _reply(await self.admin.test_connection())


@contextlib.asynccontextmanager
async def serve(app: ControlApp, host: str, port: int) -> AsyncIterator[uvicorn.Server]:
    """Serve ``app`` on ``host:port`` (loopback only) for the life of the ``async with``."""
    if not is_loopback_host(host):
        raise ValueError(f"control API must listen on loopback, not {host!r}")
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:  # bound here, so a taken port is an OSError (uvicorn would exit the process)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    # log_config=None: uvicorn must not reconfigure the daemon's logging (dictConfig would
    # re-enable loggers and replace handlers, redaction filters included)
    config = uvicorn.Config(app.app, log_config=None, log_level="warning", access_log=False, lifespan="off")
    server = InProcessServer(config)  # the daemon owns the signals
    task = asyncio.create_task(server.serve(sockets=[sock]), name="control-api")
    try:
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        if task.done():
            task.result()
            raise OSError(f"control API could not start on {host}:{port}")
        yield server
    finally:
        server.stop()
        sock.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 5.0)  # cancelled if slower: nothing may answer after this


__all__ = ["Admin", "ControlApp", "ControlFailure", "serve"]
