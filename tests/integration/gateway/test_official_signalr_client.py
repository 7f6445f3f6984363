"""Microsoft's own SignalR client (@microsoft/signalr, Node.js) works against the simulator unchanged.

The issue asks that any client written against ProjectX's official documentation work; the
official sample uses this library with skipNegotiation and WebSockets. `.ci/run` installs the
npm package into `.ci/node`; without Node.js or the package the test says so and is skipped.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from risk_manager.gateway import running_gateway

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = Path(__file__).parent / "js" / "official_client.js"
NODE_PATH = Path(os.environ.get("RISK_MANAGER_NODE_MODULES", ROOT / ".ci" / "node" / "node_modules"))


@pytest.mark.skipif(
    shutil.which("node") is None or not (NODE_PATH / "@microsoft" / "signalr").is_dir(),
    reason="needs Node.js and @microsoft/signalr (.ci/run installs it into .ci/node)",
)
def test_microsofts_signalr_client_subscribes_and_receives_wrapped_user_events() -> None:
    async def official_client(hub_url: str, token: str) -> asyncio.subprocess.Process:
        # an http URL, as in the official sample: the library turns it into ws:// itself
        return await asyncio.create_subprocess_exec(
            "node", str(SCRIPT), hub_url, token, "1",
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "NODE_PATH": str(NODE_PATH)},
        )  # fmt: skip

    async def main() -> list[dict[str, object]]:
        async with (
            running_gateway(port=0, accounts=1, seed=1, quote_rate=0) as gw,
            httpx.AsyncClient(base_url=gw.url) as http,
        ):
            login = await http.post("/api/Auth/loginKey", json={"userName": "demo", "apiKey": "demo"})
            node = await official_client(f"{gw.url}/hubs/user", login.json()["token"])
            assert node.stdout is not None
            first = json.loads(await asyncio.wait_for(node.stdout.readline(), 15))
            assert first == {"event": "subscribed"}
            state = (await http.get("/sim/state")).json()
            mnq = next(c["id"] for c in state["contracts"] if ".MNQ." in c["id"])
            await http.post("/sim/quote", json={"contractId": mnq, "lastPrice": 21000.0})
            trade = {"accountId": 1, "contractId": mnq, "type": 2, "side": 0, "size": 1}
            await http.post("/sim/trade", json=trade)
            out, err = await asyncio.wait_for(node.communicate(), 15)
            assert node.returncode == 0, err.decode()
            return [json.loads(line) for line in out.decode().splitlines() if line.strip()]

    events = asyncio.run(main())
    names = [e["event"] for e in events]
    assert names[-1] == "GatewayUserPosition" and "GatewayUserTrade" in names and "GatewayUserOrder" in names
    position = events[-1]["payload"]
    assert isinstance(position, dict) and set(position) == {
        "action",
        "data",
    }  # wrapped, as the live service sends
