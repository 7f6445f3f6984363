"""Contracts, symbols and tick specs (SPEC §4.4).

A contract id looks like ``CON.F.US.<ROOT>.<MYY>``; its *symbol* is the root after
aliasing (EP -> ES), which is what the config speaks of.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

#: ProjectX roots that differ from the exchange symbol traders use.
DEFAULT_ALIASES: Mapping[str, str] = {"EP": "ES", "ENQ": "NQ", "CLE": "CL", "MCLE": "MCL", "GCE": "GC"}


@dataclass(frozen=True, slots=True)
class TickSpec:
    """Price increment and USD value of one tick for one contract."""

    tick_size: Decimal
    tick_value: Decimal


#: The normative table of SPEC §4.4, keyed by symbol (after aliasing).
CME_TICKS: Mapping[str, TickSpec] = {
    "MNQ": TickSpec(Decimal("0.25"), Decimal("0.50")),
    "NQ": TickSpec(Decimal("0.25"), Decimal("5.00")),
    "MES": TickSpec(Decimal("0.25"), Decimal("1.25")),
    "ES": TickSpec(Decimal("0.25"), Decimal("12.50")),
    "M2K": TickSpec(Decimal("0.10"), Decimal("0.50")),
    "RTY": TickSpec(Decimal("0.10"), Decimal("5.00")),
    "MYM": TickSpec(Decimal("1.00"), Decimal("0.50")),
    "YM": TickSpec(Decimal("1.00"), Decimal("5.00")),
    "MCL": TickSpec(Decimal("0.01"), Decimal("1.00")),
    "CL": TickSpec(Decimal("0.01"), Decimal("10.00")),
    "MGC": TickSpec(Decimal("0.10"), Decimal("1.00")),
    "GC": TickSpec(Decimal("0.10"), Decimal("10.00")),
}

#: The ProjectX root of each symbol in the table (the inverse of the aliases).
PROJECTX_ROOTS: Mapping[str, str] = {
    symbol: next((root for root, sym in DEFAULT_ALIASES.items() if sym == symbol), symbol)
    for symbol in CME_TICKS
}


def contract_root(contract_id: str) -> str:
    """The 4th dot part of a contract id (``CON.F.US.EP.U25`` -> ``EP``); the whole id if it has none."""
    parts = contract_id.split(".")
    return parts[3].upper() if len(parts) >= 5 else contract_id.upper()


@dataclass(frozen=True, slots=True)
class Contract:
    """A tradable contract as the gateway describes it."""

    id: str
    symbol: str
    name: str
    tick: TickSpec | None
    active: bool = True


class ContractCatalog:
    """Resolves contract ids to symbols and tick specs.

    Precedence for a tick spec (SPEC §4.4): ``general.instruments`` > what the broker's
    contract search said > the built-in CME table. Unknown stays unknown (``None``):
    rules then skip the contract rather than guess.
    """

    def __init__(
        self,
        aliases: Mapping[str, str] | None = None,
        instruments: Mapping[str, TickSpec] | None = None,
    ) -> None:
        self._aliases = {**DEFAULT_ALIASES, **{k.upper(): v.upper() for k, v in (aliases or {}).items()}}
        self._configured = {k.upper(): v for k, v in (instruments or {}).items()}
        self._from_broker: dict[str, Contract] = {}
        self._symbols: dict[str, str] = {}
        self._ticks: dict[str, TickSpec | None] = {}

    def symbol(self, contract_id: str) -> str:
        """The config symbol of a contract id, e.g. ``CON.F.US.EP.U25`` -> ``ES``."""
        cached = self._symbols.get(contract_id)
        if cached is None:
            root = contract_root(contract_id)
            cached = self._aliases.get(root, root)
            self._symbols[contract_id] = cached
        return cached

    def tick(self, contract_id: str) -> TickSpec | None:
        """Tick spec of a contract, or ``None`` when nothing knows it."""
        if contract_id in self._ticks:
            return self._ticks[contract_id]
        symbol = self.symbol(contract_id)
        spec = self._configured.get(symbol)
        if spec is None and contract_id in self._from_broker:
            spec = self._from_broker[contract_id].tick
        if spec is None:
            spec = CME_TICKS.get(symbol)
        self._ticks[contract_id] = spec
        return spec

    def add(self, contract: Contract) -> None:
        """Learn a contract from the broker's contract search (live mode)."""
        self._from_broker[contract.id] = contract
        self._ticks.pop(contract.id, None)

    def known(self) -> list[Contract]:
        """Contracts learnt from the broker."""
        return list(self._from_broker.values())


__all__ = [
    "CME_TICKS",
    "DEFAULT_ALIASES",
    "PROJECTX_ROOTS",
    "Contract",
    "ContractCatalog",
    "TickSpec",
    "contract_root",
]
