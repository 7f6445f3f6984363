"""Config changes on a running daemon (SPEC §4.7): tightening bites at once, loosening waits for
the reset unless overridden, a bad change writes nothing, a hand edit is a change like any other."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx

from daemon_harness import PASSWORD, Live, live_daemon, until
from risk_manager.store import Store

RULES: dict[str, Any] = {"max_contracts": {"enabled": True, "limit": 5}}
LIMIT = ["rules", "max_contracts", "limit"]


def limit_of(live: Live, account: int = 1) -> int:
    engine = live.daemon.engine
    assert engine is not None
    config = engine.config_of(account)
    assert config is not None and config.rules.max_contracts is not None
    return config.rules.max_contracts.limit


def run(tmp_path: Path, scenario: Any) -> None:
    async def main() -> None:
        async with live_daemon(tmp_path, RULES) as live, httpx.AsyncClient(base_url=live.control_url) as api:
            token = (await api.post("/v1/session", json={"password": PASSWORD})).json()["token"]
            api.headers["Authorization"] = f"Bearer {token}"
            await scenario(live, api)

    asyncio.run(main())


def edit(value: Any, **more: Any) -> dict[str, Any]:
    return {"edits": [{"file": "risk_config.yaml", "path": LIMIT, "value": value}], **more}


def test_tighten_now_loosen_at_the_reset_override_and_refusal(tmp_path: Path) -> None:
    async def scenario(live: Live, api: httpx.AsyncClient) -> None:
        risk_file = live.config_dir / "risk_config.yaml"
        # Tighter: in force at once, and the trader's 4 contracts are now one too many.
        mnq = await live.front("MNQ")
        await live.quote(mnq, 21000.0)
        await live.trade(1, mnq, side=0, size=4)
        await until(lambda: live.position(1, mnq), "the position is seen")
        reply = await api.post("/v1/config/edits", json=edit(3))
        assert reply.status_code == 200, reply.text
        assert [c["direction"] for c in reply.json()["applied"]] == ["tighten"] and not reply.json()[
            "pending"
        ]
        assert limit_of(live) == 3 and "limit: 3" in risk_file.read_text()

        async def trimmed() -> bool:
            return await live.position(1, mnq) == 3

        await until(trimmed, "the lowered limit bit at once")
        # Looser: waits for the reset; the files still hold the limit in force.
        reply = await api.post("/v1/config/edits", json=edit(8))
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert not body["applied"] and [c["direction"] for c in body["pending"]] == ["loosen"]
        assert body["apply_at"] is not None
        assert limit_of(live) == 3 and "limit: 3" in risk_file.read_text()
        pending = (await api.get("/v1/config/pending")).json()
        assert [c["direction"] for c in pending["changes"]] == ["loosen"]
        # A bad change is refused with its problems and writes nothing.
        before = risk_file.read_text()
        reply = await api.post("/v1/config/edits", json=edit(-2))
        assert reply.status_code == 422 and reply.json()["code"] == "invalid_config"
        assert any("rules.max_contracts.limit" in p for p in reply.json()["problems"]), reply.text
        assert risk_file.read_text() == before and limit_of(live) == 3
        # An override needs a reason, then applies the loosening at once (ADMIN_OVERRIDE).
        reply = await api.post("/v1/config/edits", json=edit(6, override=True))
        assert reply.status_code == 403
        reply = await api.post("/v1/config/edits", json=edit(6, override=True, reason="coach approved"))
        assert reply.status_code == 200, reply.text
        assert limit_of(live) == 6
        # The admin's reset-day applies what was pending (8).
        reply = await api.post("/v1/reset-day", json={"reason": "new session"})
        assert reply.status_code == 200, reply.text
        assert limit_of(live) == 8 and (await api.get("/v1/config/pending")).json()["changes"] == []

    run(tmp_path, scenario)
    with Store.open(tmp_path / "data" / "risk_manager.db", read_only=True) as store:
        actions = [(r.action, r.reason) for r in store.enforcement_rows(limit=None)]
    assert any(a == "ADMIN_OVERRIDE" and r.startswith("coach approved") for a, r in actions), actions
    assert any(a == "CONFIG_PENDING_APPLIED" for a, _ in actions), actions
    assert any(a == "CONFIG_RELOADED" for a, _ in actions), actions


def test_a_hand_edit_that_loosens_goes_pending_and_a_broken_one_is_rejected(tmp_path: Path) -> None:
    async def scenario(live: Live, api: httpx.AsyncClient) -> None:
        risk_file = live.config_dir / "risk_config.yaml"
        risk_file.write_text(risk_file.read_text().replace("limit: 5", "limit: 9"))
        await until(lambda: (live.config_dir / "pending_config.yaml").exists(), "the poll saw the edit", 8)
        assert limit_of(live) == 5 and "limit: 5" in risk_file.read_text()  # the file holds what is in force
        risk_file.write_text("rules: [this is not valid\n")

        def rejected() -> bool:
            store = live.daemon.store
            return store is not None and store.get_meta("config_state") == "REJECTED"

        await until(rejected, "the broken file was rejected", 8)
        assert limit_of(live) == 5  # the config in force is kept
        store = live.daemon.store
        assert store is not None
        pending = json.loads(store.get_meta("pending_config") or "{}")
        assert [c["direction"] for c in pending["changes"]] == ["loosen"]

    run(tmp_path, scenario)
