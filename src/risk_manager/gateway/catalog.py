"""The simulator's contract list: the CME products of SPEC §4.4 in their current front months.

Contract ids follow ProjectX's grammar (PROJECTX.md §5): ``CON.F.US.<root>.<month><yy>``
with ProjectX's roots (ES -> EP, NQ -> ENQ, CL -> CLE, GC -> GCE, MCL -> MCLE), names
like ``MNQZ6`` and symbol ids ``F.US.<root>``. The front month is computed from a date
with the usual roll habits (guesses, listed in the package docstring):

* equity indices (quarterly H M U Z): roll 8 days before the third Friday of the month;
* crude oil (every month): the next month's contract until the 15th of the month before
  its delivery month, e.g. January (F) is front from November 15 to December 14;
* gold (G J M Q V Z): roll on the 20th of the month before the delivery month.

Tick specs come from :data:`risk_manager.domain.CME_TICKS`; start prices are round,
plausible numbers for the random walk.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from risk_manager.broker.projectx.wire import WireContract, symbol_id
from risk_manager.domain import CME_TICKS, TickSpec

MONTH_CODES = "FGHJKMNQUVXZ"  # January .. December
QUARTERLY = "HMUZ"
MONTHLY = MONTH_CODES
GOLD = "GJMQVZ"


@dataclass(frozen=True, slots=True)
class Product:
    """One futures product as ProjectX lists it."""

    root: str
    """ProjectX root, the 4th part of a contract id (``EP`` for ES)."""
    symbol: str
    """The trader's symbol, a key of CME_TICKS (``ES``)."""
    description: str
    months: str
    """Listed month codes."""
    start_price: Decimal
    """Where the random walk starts."""

    @property
    def tick(self) -> TickSpec:
        return CME_TICKS[self.symbol]


PRODUCTS: tuple[Product, ...] = (
    Product("MNQ", "MNQ", "Micro E-mini Nasdaq-100", QUARTERLY, Decimal("21000.00")),
    Product("ENQ", "NQ", "E-mini Nasdaq-100", QUARTERLY, Decimal("21000.00")),
    Product("MES", "MES", "Micro E-mini S&P 500", QUARTERLY, Decimal("6000.00")),
    Product("EP", "ES", "E-mini S&P 500", QUARTERLY, Decimal("6000.00")),
    Product("M2K", "M2K", "Micro E-mini Russell 2000", QUARTERLY, Decimal("2300.0")),
    Product("RTY", "RTY", "E-mini Russell 2000", QUARTERLY, Decimal("2300.0")),
    Product("MYM", "MYM", "Micro E-mini Dow Jones", QUARTERLY, Decimal("44000")),
    Product("YM", "YM", "E-mini Dow Jones ($5)", QUARTERLY, Decimal("44000")),
    Product("MCLE", "MCL", "Micro WTI Crude Oil", MONTHLY, Decimal("70.00")),
    Product("CLE", "CL", "Crude Oil", MONTHLY, Decimal("70.00")),
    Product("MGC", "MGC", "Micro Gold", GOLD, Decimal("2650.0")),
    Product("GCE", "GC", "Gold", GOLD, Decimal("2650.0")),
)


def _third_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    first_friday = first + timedelta(days=(calendar.FRIDAY - first.weekday()) % 7)
    return first_friday + timedelta(weeks=2)


def _month_before(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def roll_date(product: Product, year: int, month: int) -> date:
    """The first day on which the (year, month) contract is no longer the front month."""
    if product.months == QUARTERLY:
        return _third_friday(year, month) - timedelta(days=8)
    before_year, before_month = _month_before(year, month)
    day = 15 if product.months == MONTHLY else 20
    return date(before_year, before_month, day)


def front_month(product: Product, today: date) -> tuple[int, int]:
    """(year, month) of the contract that is front on ``today``."""
    year, month = today.year, today.month
    for _ in range(36):
        if MONTH_CODES[month - 1] in product.months and today < roll_date(product, year, month):
            return year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise AssertionError(f"no front month for {product.root} near {today}")  # every product lists a month


def contract_id(product: Product, year: int, month: int) -> str:
    """``CON.F.US.MNQ.Z26``."""
    return f"CON.F.US.{product.root}.{MONTH_CODES[month - 1]}{year % 100:02d}"


@dataclass(frozen=True, slots=True)
class Listing:
    """One contract of the catalog: a product in one month."""

    product: Product
    year: int
    month: int
    active: bool

    @property
    def id(self) -> str:
        return contract_id(self.product, self.year, self.month)

    def to_wire(self) -> WireContract:
        code = MONTH_CODES[self.month - 1]
        return WireContract(
            id=self.id,
            name=f"{self.product.root}{code}{self.year % 10}",
            description=f"{self.product.description}: {calendar.month_name[self.month]} {self.year}",
            tickSize=self.product.tick.tick_size,
            tickValue=self.product.tick.tick_value,
            activeContract=self.active,
            symbolId=symbol_id(self.id),
        )

    def payload(self) -> dict[str, object]:
        return self.to_wire().payload()


class Catalog:
    """The contracts the simulator knows on ``today``: one front month per product.

    :meth:`find` also resolves other listed months of a known product (a rolled or a
    back month, ``activeContract`` false), as ``Contract/searchById`` does live.
    """

    def __init__(self, today: date, products: tuple[Product, ...] = PRODUCTS) -> None:
        self._products = {p.root: p for p in products}
        self.front: dict[str, Listing] = {}
        """Front-month listings by contract id, in product order."""
        for product in products:
            year, month = front_month(product, today)
            listing = Listing(product, year, month, active=True)
            self.front[listing.id] = listing

    def find(self, contract_id: str) -> Listing | None:
        """The listing of any well-formed id of a known product; None for anything else."""
        if contract_id in self.front:
            return self.front[contract_id]
        parts = contract_id.split(".")
        if len(parts) != 5 or parts[:3] != ["CON", "F", "US"] or len(parts[4]) != 3:
            return None
        product = self._products.get(parts[3])
        code, yy = parts[4][0], parts[4][1:]
        if product is None or code not in product.months or not yy.isdigit():
            return None
        return Listing(product, 2000 + int(yy), MONTH_CODES.index(code) + 1, active=False)

    def is_active(self, contract_id: str) -> bool:
        return contract_id in self.front

    def search(self, text: str, limit: int = 20) -> list[Listing]:
        """Front months whose name, description, symbol id or trader symbol contains ``text``."""
        needle = text.strip().upper()
        found = []
        for listing in self.front.values():
            wire = listing.to_wire()
            haystack = [wire.name, wire.description or "", wire.symbolId or "", listing.product.symbol]
            if not needle or any(needle in field.upper() for field in haystack):
                found.append(listing)
        return found[:limit]

    def start_price(self, contract_id: str) -> Decimal | None:
        listing = self.find(contract_id)
        return listing.product.start_price if listing is not None else None

    def tick(self, contract_id: str) -> TickSpec | None:
        listing = self.find(contract_id)
        return listing.product.tick if listing is not None else None


__all__ = ["PRODUCTS", "Catalog", "Listing", "Product", "contract_id", "front_month", "roll_date"]
