"""Fault: a config file corrupted on disk while the daemon runs (SPEC §4.7).

The daemon polls the files' mtimes every 2 s. A broken set changes nothing: the last
good config stays in force (a breach under it is still enforced), ``CONFIG_REJECTED``
goes to the enforcement log with the problem in ``file:line`` form, and the status
(meta ``config_state``) says REJECTED. Putting a valid file back applies it (a
tightened limit bites at once) and the state returns to OK.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from faultkit import MAX_TWO, LiveDaemon, Trader, live_daemon, trader_for, until, write_config
from risk_manager.gateway import running_gateway
from risk_manager.store import Store

UNCLOSED = b"version: 1\nrules:\n  max_contracts: {enabled: true, limit: 2\n"
NOT_A_NUMBER = b"version: 1\nrules:\n  max_contracts: {enabled: true, limit: five}\n"
NOT_UTF8 = b"version: 1\nrules: {max_contracts: {enabled: true, limit: 2}}\n\xff\xfe\x00garbage"
#: Ways a risk_config.yaml gets broken on disk, and what the rejection must name.
CORRUPTIONS = [
    pytest.param(UNCLOSED, "risk_config.yaml:", id="syntax"),
    pytest.param(NOT_A_NUMBER, "risk_config.yaml:3: rules.max_contracts.limit", id="bad-value"),
    pytest.param(b"", "risk_config.yaml:1:", id="emptied"),
    pytest.param(NOT_UTF8, "risk_config.yaml: not UTF-8", id="not-utf8"),
]


def meta(data: Path) -> dict[str, str]:
    with Store.open(data / "risk_manager.db", read_only=True) as store:
        return store.meta()


def rejected_rows(data: Path) -> list[str]:
    with Store.open(data / "risk_manager.db", read_only=True) as store:
        return [row.reason for row in store.enforcement_rows(limit=None) if row.action == "CONFIG_REJECTED"]


async def breach_is_trimmed(trader: Trader, account: int, buy: int, to: int, what: str) -> None:
    mnq = await trader.contract("MNQ")
    await trader.quote(mnq, 21000.0)
    await trader.buy(account, mnq, buy)
    await trader.holds(account, mnq, to, what)


@pytest.mark.parametrize(("content", "names"), CORRUPTIONS)
def test_a_corrupted_config_is_rejected_and_the_last_good_one_keeps_enforcing(
    tmp_path: Path, content: bytes, names: str
) -> None:
    config, data = tmp_path / "config", tmp_path / "data"
    risk_file = config / "risk_config.yaml"

    async def scenario(live: LiveDaemon, trader: Trader) -> None:
        good = risk_file.read_text()
        risk_file.write_bytes(content)

        async def refused() -> bool:
            live.alive()
            return meta(data).get("config_state") == "REJECTED"

        await until(refused, "config_state REJECTED after the poll", timeout=6)
        assert names in meta(data).get("config_error", "")
        await until(lambda: _logged(data, names), "CONFIG_REJECTED in the enforcement log")
        await breach_is_trimmed(trader, 1, 3, 2, "the last good limit (2) still enforced")
        # a valid file again, and tighter: it applies at once
        tighter = yaml.safe_load(good)
        tighter["rules"]["max_contracts"]["limit"] = 1
        risk_file.write_text(yaml.safe_dump(tighter))

        async def accepted() -> bool:
            live.alive()
            return meta(data).get("config_state") == "OK"

        await until(accepted, "config_state OK after the repair", timeout=10)
        await breach_is_trimmed(trader, 2, 2, 1, "the tightened limit (1) enforced at once")

    async def main() -> None:
        async with running_gateway(port=0, accounts=2, seed=1, quote_rate=0) as gw:
            write_config(config, gw.url, MAX_TWO)
            async with live_daemon(config, data) as live, trader_for(gw.url) as trader:
                await scenario(live, trader)

    asyncio.run(main())


async def _logged(data: Path, names: str) -> bool:
    return any(names in reason for reason in rejected_rows(data))
