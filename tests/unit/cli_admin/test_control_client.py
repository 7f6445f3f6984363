"""The control client: reply models back, ErrorReply raised as ControlError, silence as DaemonDown."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx
import pytest

from risk_manager.config.risk import ControlConfig
from risk_manager.control.client import ControlClient, ControlError, DaemonDown, base_url, control_address
from risk_manager.control.protocol import ChangeRequest, Edit, UnlockRequest


def _client(handler: httpx.MockTransport) -> ControlClient:
    return ControlClient("http://127.0.0.1:8766", transport=handler)


def test_session_token_is_sent_with_later_calls() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/v1/session":
            assert json.loads(request.content) == {"password": "secret pw"}
            return httpx.Response(200, json={"token": "t0k", "expires_at": "2025-01-02T03:04:05Z"})
        return httpx.Response(200, json={"locks": []})

    client = _client(httpx.MockTransport(handle))
    assert client.session("secret pw").token == "t0k"
    assert client.lockouts().locks == []
    assert "authorization" not in seen[0].headers
    assert seen[1].headers["authorization"] == "Bearer t0k"
    assert seen[1].url.path == "/v1/lockouts" and seen[1].method == "GET"


def test_request_bodies_are_the_protocol_models() -> None:
    bodies: dict[str, object] = {}

    def handle(request: httpx.Request) -> httpx.Response:
        bodies[request.url.path] = json.loads(request.content)
        if request.url.path == "/v1/unlock":
            return httpx.Response(200, json={"locks": []})
        return httpx.Response(200, json={"applied": [], "pending": [], "dry_run": True})

    client = _client(httpx.MockTransport(handle))
    edit = Edit(file="risk_config.yaml", path=["rules", "max_contracts", "limit"], value=3)
    assert client.edit(ChangeRequest(edits=[edit], dry_run=True)).dry_run
    client.unlock(UnlockRequest(reason="fat finger", rule="RULE-003"))
    assert bodies["/v1/config/edits"]["edits"] == [  # type: ignore[index]
        {"file": "risk_config.yaml", "path": ["rules", "max_contracts", "limit"], "value": 3, "delete": False}
    ]
    assert bodies["/v1/unlock"]["rule"] == "RULE-003"  # type: ignore[index]


@pytest.mark.parametrize(
    ("status", "body", "code", "retry_after", "problems"),
    [
        pytest.param(
            401,
            {"code": "auth_failed", "error": "wrong password", "retry_after": 1.0},
            "auth_failed",
            1.0,
            [],
            id="auth",
        ),
        pytest.param(
            429,
            {"code": "throttled", "error": "too many", "retry_after": 8.0},
            "throttled",
            8.0,
            [],
            id="throttled",
        ),
        pytest.param(
            422,
            {"code": "invalid_config", "error": "refused", "problems": ["risk_config.yaml:5: rules.x: bad"]},
            "invalid_config",
            None,
            ["risk_config.yaml:5: rules.x: bad"],
            id="invalid",
        ),
        pytest.param(401, "not json", "auth_failed", None, [], id="401-not-json"),
        pytest.param(500, "boom", "bad_request", None, [], id="500-not-json"),
    ],
)
def test_error_replies_become_control_errors(
    status: int, body: object, code: str, retry_after: float | None, problems: list[str]
) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    with pytest.raises(ControlError) as raised:
        _client(httpx.MockTransport(handle)).session("whatever")
    assert raised.value.code == code
    assert raised.value.retry_after == retry_after
    assert raised.value.problems == problems


def test_a_reply_of_the_wrong_shape_is_an_error_not_a_crash() -> None:
    client = _client(httpx.MockTransport(lambda request: httpx.Response(200, json={"unexpected": 1})))
    with pytest.raises(ControlError, match="not a Health"):
        client.health()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_nothing_listening_is_daemon_down() -> None:
    client = ControlClient(f"http://127.0.0.1:{_closed_port()}")
    with pytest.raises(DaemonDown, match="connection refused"):
        client.health()


def test_control_address_from_the_config_dir(tmp_path: Path) -> None:
    assert control_address(tmp_path) == ControlConfig()  # no file: the defaults
    (tmp_path / "risk_config.yaml").write_text("version: 1\ngeneral:\n  control: {port: 9001}\nrules: {}\n")
    assert base_url(control_address(tmp_path)) == "http://127.0.0.1:9001"
    (tmp_path / "risk_config.yaml").write_text("general:\n  control: {host: '::1', port: 9002}\n")
    assert base_url(control_address(tmp_path)) == "http://[::1]:9002"


def test_control_address_refuses_a_non_loopback_host(tmp_path: Path) -> None:
    (tmp_path / "risk_config.yaml").write_text("general:\n  control: {host: 10.0.0.5, port: 9001}\n")
    with pytest.raises(ValueError, match="loopback"):
        control_address(tmp_path)


def test_an_expired_token_asks_for_a_new_session_and_retries_once() -> None:
    tokens: list[str | None] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/session":
            return httpx.Response(200, json={"token": "second", "expires_at": "2030-01-01T00:00:00Z"})
        tokens.append(request.headers.get("authorization"))
        if request.headers.get("authorization") == "Bearer first":
            return httpx.Response(401, json={"code": "auth_failed", "error": "session expired"})
        return httpx.Response(200, json={"locks": []})

    client = _client(httpx.MockTransport(handle))
    client.use_token("first")
    expired: list[str] = []
    client.on_expired = lambda exc: (expired.append(exc.message), client.session("pw"))  # type: ignore[func-returns-value]
    assert client.lockouts().locks == []
    assert expired == ["session expired"] and tokens == ["Bearer first", "Bearer second"]


def test_without_a_token_or_a_handler_auth_failed_is_raised() -> None:
    refusal = {"code": "auth_failed", "error": "admin password or session token required"}
    client = _client(httpx.MockTransport(lambda request: httpx.Response(401, json=refusal)))
    client.on_expired = lambda exc: None
    with pytest.raises(ControlError, match="token required"):
        client.lockouts()  # no token was in use: nothing to renew
