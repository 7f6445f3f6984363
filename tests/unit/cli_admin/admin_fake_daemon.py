"""A fake control API on 127.0.0.1 for the CLI's unit tests: records requests, plays canned replies.

Only where a unit test needs a daemon to talk to (argument -> request translation, exit
codes for each error reply). The real daemon is in tests/integration/admin.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

Reply = tuple[int, dict[str, Any]]
TOKEN = "fake-token"
SESSION = (200, {"token": TOKEN, "expires_at": "2030-01-01T00:00:00Z"})
HEALTH = (
    200,
    {
        "version": "0.1.0",
        "pid": 4242,
        "started_at": "2025-01-02T14:00:00Z",
        "connection": "CONNECTED",
        "config_state": "OK",
    },
)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeDaemon:
    """Replies by ``"METHOD /v1/path"``: a list is played in order (the last one repeats)."""

    replies: dict[str, list[Reply]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    port: int = 0

    def reply(self, route: str, *answers: Reply) -> None:
        self.replies[route] = list(answers)

    def bodies(self, route: str) -> list[Any]:
        method, path = route.split(" ", 1)
        return [s.body for s in self.seen if s.method == method and s.path == path]

    def answer(self, method: str, path: str) -> Reply:
        queue = self.replies.get(f"{method} {path}")
        if not queue:
            return 404, {"code": "bad_request", "error": f"no fake reply for {method} {path}"}
        return queue.pop(0) if len(queue) > 1 else queue[0]


def _handler(fake: FakeDaemon) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            fake.seen.append(Seen(self.command, self.path, dict(self.headers), body))
            status, data = fake.answer(self.command, self.path)
            payload = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    return Handler


@contextmanager
def fake_daemon() -> Iterator[FakeDaemon]:
    fake = FakeDaemon()
    fake.reply("POST /v1/session", SESSION)
    fake.reply("GET /v1/health", HEALTH)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


ACCOUNTS_YAML = """version: 1
gateway: {firm: simulator, username: demo, api_key: ''}
accounts:
  - {id: 1, label: one}
  - id: 2
    label: two
    overrides: {rules: {daily_realized_loss: {limit: -400.0}}}
  - {name: PRAC-V2-1, risk_config_file: own.yaml}
"""
RISK_YAML = """version: 1
rules:
  max_contracts: {enabled: true, limit: 5}
  daily_realized_loss: {enabled: true, limit: -500.0, include_unrealized: true}
"""


def config_view(accounts: str = ACCOUNTS_YAML, risk: str = RISK_YAML) -> Reply:
    return 200, {
        "files": {"accounts.yaml": accounts, "risk_config.yaml": risk},
        "effective": {"one": {"rules": yaml.safe_load(risk)["rules"]}},
        "pending": {"apply_at": None, "changes": []},
        "config_state": "OK",
    }


def write_config_dir(config_dir: Path, port: int) -> Path:
    """A config dir whose general.control points at the fake."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "accounts.yaml").write_text(ACCOUNTS_YAML)
    (config_dir / "risk_config.yaml").write_text(
        RISK_YAML.replace("version: 1\n", f"version: 1\ngeneral:\n  control: {{port: {port}}}\n")
    )
    return config_dir
