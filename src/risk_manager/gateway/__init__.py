"""A local ProjectX-compatible gateway simulator (SPEC §6 ``risk_manager gateway``).

One ASGI app on 127.0.0.1, one port for REST (``/api/...``), the SignalR hubs
(``/hubs/user``, ``/hubs/market``) and the control API (``/sim/...``). It shares the
wire models (:mod:`risk_manager.broker.projectx.wire`) and the SignalR framing
(:mod:`risk_manager.broker.projectx.signalr`) with our client, so the two cannot
drift, and it matches orders with :class:`~risk_manager.broker.sim.SimBroker`.

In-process (tests, the daemon's demo)::

    async with running_gateway(port=0, accounts=2, seed=1) as gw:
        gw.url              # http://127.0.0.1:PORT, REST base and /sim
        gw.user_hub_url     # ws://127.0.0.1:PORT/hubs/user (add ?access_token=...)
        gw.simulator        # the state: .exchange, .market, .hubs, .tokens, .state()

From the shell: ``risk_manager gateway [--port 8765] [--user demo] [--api-key demo]
[--accounts 2] [--seed N]`` prints ``gateway listening on http://127.0.0.1:PORT``.

REST (PROJECTX.md §2): ``POST /api/Auth/loginKey``, ``Auth/validate``, ``GET Status/ping``,
``Account/search``, ``Contract/search``, ``Contract/searchById``, ``Contract/available``,
``Order/place`` (market, limit, stop; brackets in Auto OCO mode), ``Order/modify``,
``Order/cancel``, ``Order/search``, ``Order/searchOpen``, ``Order/searchById``,
``Order/v2/query``, ``Position/searchOpen``, ``Position/closeContract``,
``Position/partialCloseContract``, ``Trade/search``.

Control API (JSON POST bodies; ``GET /sim`` prints :func:`docs_sim_api`)::

    GET  /sim/state          everything: accounts, orders, positions, trades, market, hubs, faults
    GET  /sim/timings        perf_counter_ns stamps: user position/trade publishes, enforcement requests
    POST /sim/quote          {contractId, lastPrice, bestBid?, bestAsk?}
    POST /sim/trade          {accountId, contractId, side, size, type?=2, limitPrice?, stopPrice?, ...}
    POST /sim/account        {accountId, canTrade?, balance?}
    POST /sim/drop           {hub?, graceful?=false}
    POST /sim/fail           {endpoint, times?=1, status?=500, apply?=false, errorCode?, errorMessage?}
    POST /sim/delay          {endpoint, seconds, times?=1}
    POST /sim/clear-faults   {}
    POST /sim/malformed      {kind?=payload|json|raw|event, hub?=user, text?, target?, arguments?}
    POST /sim/logout         {}
    POST /sim/market         {rate?, paused?, closed?}
    POST /sim/oco            {accountId, enabled?=true}
    POST /sim/expire-tokens  {}
    POST /sim/rate-limit     {limit, window}

Where the simulator guesses (PROJECTX.md marks these [?] or says nothing):

* 401 has an empty body and ``WWW-Authenticate: Bearer ...``; 429 an empty body and no
  ``Retry-After``; malformed JSON or a body that fails the wire model -> 400 ASP.NET
  ValidationProblemDetails (also on login); a non-JSON content type -> 415.
* The rate limit is one sliding window per gateway over every ``/api`` call (login, ping
  and 401s included); hub traffic and ``/sim`` do not count.
* Failed logins answer errorCode 3 with a null errorMessage; on a business failure the
  payload field is null (orderId, token, orders, contract...) or left out when the wire
  model does not allow null (accounts, positions, trades).
* Tokens: HS256 JWT with ``sub``, ``name``, ``jti``, ``iat``, ``nbf``, ``exp``; validate
  issues a new token and the old one stays valid until its own exp; an expired token
  gets 401 everywhere (validate included), but an open hub socket stays open.
* ``action`` on user events: 1 for accounts, orders and open positions, 2 for a closed
  position, 0 for trades; a terminal order (filled, cancelled) is still action 1.
* Event order of a market fill: Order Pending (6), Order Filled (2), Trade, Position, then
  GatewayUserAccount with the new balance (fees and P&L move it on every fill).
* Hubs: ASP.NET's messages ("Failed to invoke 'X' due to an error on the server.
  HubException: Method does not exist.", "The protocol 'x' is not supported."); target
  names case-insensitive; ping after 15 s of silence, close after 30 s without a client
  message, 15 s handshake timeout; an unknown account or contract id is accepted by
  Subscribe* silently; negotiate lists WebSockets only; the token may also come as an
  ``Authorization`` header; abrupt drops are close code 1011 (no TCP reset); GatewayLogout
  carries no arguments; GatewayTrade and GatewayDepth data are lists.
* Market: quote ``symbolName`` is ``/<symbol>`` (``/MNQ``), ``changePercent`` in percent,
  volume counts from 0 at start; spread one tick; the walk only moves contracts in play
  (subscribed, held or with working orders); the market never closes by itself.
* Orders: ids start at 3,000,000,001 (trades 3,500,000,001, positions 100,000,001);
  prices must lie on the tick grid (errorCode 2); a limit or stop already marketable when
  placed or modified fills at once at the last price; resting stops fill at their stop
  price, limits at their limit price (SimBroker's rule, no slippage); trailing stops,
  StopLimit, JoinBid/JoinAsk are refused with errorCode 2; canTrade false -> Order/place
  errorCode 4 AccountViolation while cancel, modify and closes still work; a back month
  of a known product is errorCode 9 ContractNotActive; rejected places return no orderId.
* Brackets: stop-loss legs must be Stop (4), take-profit legs Limit (1), ticks signed
  (long: SL < 0 < TP), at most 1000; legs get tags ``<tag>-SL``/``<tag>-TP``; cancelling an
  unfilled entry cancels its legs; closing the position leaves the Open legs working.
  Suspended legs are missing from Order/search as well as Order/searchOpen; Order/v2/query
  shows them. ``Order/searchById`` of an unknown order answers success with ``order`` null.
* Fees per contract per side: 0.37 for the micros (MNQ MES M2K MYM), 1.40 for NQ ES RTY YM,
  MCL 0.52, CL 1.52, MGC 0.62, GC 1.62; no separate ``commissions``.
* Catalog: roots MNQ ENQ MES EP M2K RTY MYM YM MCLE CLE MGC GCE; front months by roll
  rules in :mod:`.catalog`; Contract/search matches name, description, symbol id and
  trader symbol; ``live`` and ``onlyActiveAccounts`` change nothing.
"""

from risk_manager.gateway.app import create_app
from risk_manager.gateway.catalog import Catalog
from risk_manager.gateway.control import SIM_API, docs_sim_api
from risk_manager.gateway.exchange import Exchange
from risk_manager.gateway.server import (
    HOST,
    GatewayError,
    RunningGateway,
    client_gateway_config,
    running_gateway,
    serve,
)
from risk_manager.gateway.simulator import GatewayConfig, GatewaySimulator
from risk_manager.gateway.tokens import token_claims

__all__ = [
    "HOST",
    "SIM_API",
    "Catalog",
    "Exchange",
    "GatewayConfig",
    "GatewayError",
    "GatewaySimulator",
    "RunningGateway",
    "client_gateway_config",
    "create_app",
    "docs_sim_api",
    "running_gateway",
    "serve",
    "token_claims",
]
