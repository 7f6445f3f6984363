"""``risk_manager gateway``: a local ProjectX gateway simulator (SPEC §6)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from risk_manager.cli.options import EXIT_RUNTIME, ConfigDirOption, DataDirOption


def gateway(
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1 (0: any free).")
    ] = 8765,
    user: Annotated[str, typer.Option("--user", help="User name Auth/loginKey accepts.")] = "demo",
    api_key: Annotated[str, typer.Option("--api-key", help="API key Auth/loginKey accepts.")] = "demo",
    accounts: Annotated[
        int, typer.Option("--accounts", min=1, max=1000, help="Accounts 1..N, named SIM-<id>.")
    ] = 2,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed of the random market (same seed, same prices).")
    ] = None,
    quote_rate: Annotated[
        float, typer.Option("--quote-rate", min=0.0, help="Quotes per second per contract in play.")
    ] = 4.0,
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Run a ProjectX-compatible gateway simulator on 127.0.0.1 until Ctrl-C (REST, hubs, /sim)."""
    from risk_manager.gateway import GatewayError, serve

    def ready(url: str) -> None:
        typer.echo(f"gateway listening on {url}")

    options = {"user": user, "api_key": api_key, "accounts": accounts, "seed": seed, "quote_rate": quote_rate}
    try:
        asyncio.run(serve(port, ready=ready, **options))
    except KeyboardInterrupt:
        pass
    except GatewayError as exc:
        typer.echo(f"gateway: {exc}", err=True)
        raise typer.Exit(EXIT_RUNTIME) from exc


__all__ = ["gateway"]
