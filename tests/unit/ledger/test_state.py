"""The ledger: positions, orders, fills and P&L folded from events (SPEC §4.4)."""

from __future__ import annotations

from decimal import Decimal

from factories import ES, MNQ, NOON, fill, order, state
from risk_manager.domain import ContractCatalog, OrderSide, OrderStatus, OrderType, Quote
from risk_manager.ledger import Market


def test_realized_is_the_brokers_pnl_net_of_fees_and_voids_are_subtracted() -> None:
    st = state()
    st.apply_fill(fill(1, MNQ, OrderSide.BUY, 2, "21000", fees="0.74"), count_as_trade=True)
    st.apply_fill(fill(2, MNQ, OrderSide.SELL, 2, "20990", pnl="-40", fees="0.74"), count_as_trade=True)
    assert (st.realized_gross, st.fees, st.realized_net) == (
        Decimal("-40"),
        Decimal("1.48"),
        Decimal("-41.48"),
    )
    assert st.computed_realized == Decimal("-40")
    st.apply_fill(
        fill(2, MNQ, OrderSide.SELL, 2, "20990", pnl="-40", fees="0.74", voided=True), count_as_trade=True
    )
    assert (st.realized_gross, st.fees) == (Decimal("0"), Decimal("0.74"))


def test_a_repeated_fill_is_booked_once() -> None:
    st = state()
    f = fill(2, MNQ, OrderSide.SELL, 1, "20990", pnl="-10", fees="0.37")
    assert not st.apply_fill(f, count_as_trade=True).duplicate
    assert st.apply_fill(f, count_as_trade=True).duplicate
    assert st.realized_net == Decimal("-10.37")


def test_entry_and_exit_fills_and_reversal() -> None:
    st = state()
    assert st.apply_fill(fill(1, MNQ, OrderSide.BUY, 2, "100"), count_as_trade=True).is_entry
    exit_ = st.apply_fill(fill(2, MNQ, OrderSide.SELL, 1, "101"), count_as_trade=True)
    assert (exit_.is_entry, exit_.closed, exit_.computed_pnl) == (False, 1, Decimal("2"))
    flip = st.apply_fill(fill(3, MNQ, OrderSide.SELL, 3, "102"), count_as_trade=True)
    assert (flip.is_entry, flip.closed) == (True, 1)
    assert st.trades == {1: NOON, 3: NOON}


def test_partials_of_one_order_count_as_one_trade_and_daemon_fills_never() -> None:
    st = state()
    for fill_id in (1, 2, 3):
        st.apply_fill(fill(fill_id, MNQ, OrderSide.BUY, 1, "100", order_id=9), count_as_trade=True)
    st.apply_fill(fill(4, ES, OrderSide.BUY, 1, "100", order_id=10), count_as_trade=False)
    assert st.trades == {9: NOON}
    assert st.trades_between(NOON.replace(hour=15), NOON) == 1


def test_unrealized_uses_the_mark_and_skips_unknown_marks() -> None:
    st = state((MNQ, 2, "21000"), (ES, -1, "6000"), marks={MNQ: "20925"})
    assert st.position_unrealized(MNQ) == Decimal("-300")
    assert st.position_unrealized(ES) is None
    assert st.unrealized_pnl == Decimal("-300")
    st.market.apply(Quote(ES, Decimal("5990"), None, None, NOON))
    assert st.unrealized_pnl == Decimal("200")  # ES short 1 gains 40 ticks x 12.50


def test_unknown_tick_spec_leaves_unrealized_unknown() -> None:
    st = state(("CON.F.US.ZZZ.H26", 1, "10"), marks={"CON.F.US.ZZZ.H26": "11"})
    assert st.position_unrealized("CON.F.US.ZZZ.H26") is None


def test_orders_working_and_protective_stops() -> None:
    st = state((MNQ, 2, "21000"))
    stop = order(1, MNQ, OrderSide.SELL, 1, type=OrderType.STOP, stop="20990", price=None)
    wrong_side = order(2, MNQ, OrderSide.BUY, 1, type=OrderType.STOP, stop="21010", price=None)
    limit = order(3, MNQ, OrderSide.SELL, 2)
    for o in (stop, wrong_side, limit):
        st.apply_order(o)
    assert [o.id for o in st.protective_stops(MNQ)] == [1]
    assert st.protected_quantity(MNQ) == 1
    st.apply_order(
        order(1, MNQ, OrderSide.SELL, 1, type=OrderType.STOP, stop="20990", status=OrderStatus.CANCELLED)
    )
    assert st.protected_quantity(MNQ) == 0 and 1 not in st.orders


def test_new_day_clears_pnl_and_counters_but_keeps_positions() -> None:
    st = state((MNQ, 2, "21000"), realized_gross="-50", fees="3")
    st.trades[1] = NOON
    st.start_day(NOON.date(), NOON)
    assert (st.realized_net, st.trades, st.position_size(MNQ)) == (Decimal(0), {}, 2)


def test_mark_mid_and_partial_quotes() -> None:
    market = Market("mid")
    assert market.apply(Quote(MNQ, None, Decimal("10"), None, NOON)) is None
    assert market.apply(Quote(MNQ, None, None, Decimal("11"), NOON)) == Decimal("10.5")
    last = Market("last")
    last.apply(Quote(MNQ, None, Decimal("10"), Decimal("11"), NOON))
    assert last.mark(MNQ) == Decimal("10.5")  # mid while there is no last
    last.apply(Quote(MNQ, Decimal("10.75"), None, None, NOON))
    assert last.mark(MNQ) == Decimal("10.75")


def test_catalog_symbols_and_configured_ticks() -> None:
    from risk_manager.domain import TickSpec

    catalog = ContractCatalog({"XYZ": "MNQ"}, {"MNQ": TickSpec(Decimal("0.5"), Decimal("1"))})
    assert catalog.symbol("CON.F.US.EP.U25") == "ES"
    assert catalog.symbol("CON.F.US.XYZ.U25") == "MNQ"
    assert catalog.tick("CON.F.US.MNQ.U25") == TickSpec(Decimal("0.5"), Decimal("1"))
    assert catalog.tick("CON.F.US.ENQ.U25") == TickSpec(Decimal("0.25"), Decimal("5.00"))


def test_a_forgotten_contract_has_no_stale_mark_for_the_next_position() -> None:
    """Found by the chaos test: a contract nobody held kept its last quote, and a new position
    was marked at that old price until the next quote (a false -45.00 locked RULE-003)."""
    from factories import position_event

    st = state()
    st.market.apply(Quote(MNQ, Decimal("21000"), None, None, NOON))
    st.market.forget(MNQ)  # the daemon unsubscribed: nobody held it
    st.apply_position(position_event(MNQ, 1, "20977.50").position)
    assert st.market.mark(MNQ) is None and st.unrealized_pnl == 0  # unknown, not stale
    st.market.apply(Quote(MNQ, Decimal("20980"), None, None, NOON))
    assert st.unrealized_pnl == Decimal("5.00")  # 10 ticks of 0.50
