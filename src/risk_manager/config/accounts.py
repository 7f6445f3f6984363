"""accounts.yaml: which gateway to talk to, with which credentials, for which accounts (SPEC §8).

The API key is a ``SecretStr``: it prints as ``**********`` in reprs, logs and dumps,
and error messages never echo it. Plain ``http``/``ws`` is allowed only to a loopback
host (the local simulator), because the key and the session token travel in the clear.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from risk_manager.config.fields import ConfigModel, Issue, duplicates, fail, is_loopback_host, show


@dataclass(frozen=True, slots=True)
class GatewayEndpoints:
    """The three URLs a ProjectX client needs: REST base and the two SignalR hubs."""

    api_url: str
    user_hub_url: str
    market_hub_url: str


#: Firms whose gateway URLs we know; ``custom`` means all three URLs come from the file.
FIRM_PRESETS: Mapping[str, GatewayEndpoints] = {
    "topstepx": GatewayEndpoints(
        "https://api.topstepx.com",
        "https://rtc.topstepx.com/hubs/user",
        "https://rtc.topstepx.com/hubs/market",
    ),
    "simulator": GatewayEndpoints(
        "http://127.0.0.1:8765",
        "ws://127.0.0.1:8765/hubs/user",
        "ws://127.0.0.1:8765/hubs/market",
    ),
}
CUSTOM_FIRM = "custom"
_URL_KEYS: tuple[str, ...] = ("api_url", "user_hub_url", "market_hub_url")
_SECURE = {"api_url": ("https",), "user_hub_url": ("https", "wss"), "market_hub_url": ("https", "wss")}
_PLAIN = {"api_url": ("http",), "user_hub_url": ("http", "ws"), "market_hub_url": ("http", "ws")}


def url_problem(key: str, url: str) -> str | None:
    """Why a gateway URL is unacceptable, or ``None``: TLS required except to loopback."""
    parts = urlsplit(url)
    secure, plain = _SECURE[key], _PLAIN[key]
    if parts.scheme not in secure + plain or not parts.hostname:
        return f"must be a {'|'.join(secure)} URL (got {show(url)})"
    if parts.scheme in plain and not is_loopback_host(parts.hostname):
        return f"must use {'|'.join(secure)} ({'|'.join(plain)} only on a loopback host) (got {show(url)})"
    return None


class GatewayConfig(ConfigModel):
    """The ProjectX gateway: a firm preset or ``custom``, optional URL overrides, credentials.

    Empty credentials are allowed here: ``PROJECT_X_USERNAME``/``PROJECT_X_API_KEY``,
    the keyring or secrets.yaml may supply them (SPEC §8).
    """

    firm: str = Field(default="topstepx", examples=["topstepx"])
    api_url: str | None = Field(default=None, examples=["https://api.topstepx.com"])
    user_hub_url: str | None = Field(default=None, examples=["https://rtc.topstepx.com/hubs/user"])
    market_hub_url: str | None = Field(default=None, examples=["https://rtc.topstepx.com/hubs/market"])
    username: str = ""
    api_key: SecretStr = SecretStr("")

    @field_validator("firm")
    @classmethod
    def _known_firm(cls, firm: str) -> str:
        if firm not in FIRM_PRESETS and firm != CUSTOM_FIRM:
            choices = ", ".join([*FIRM_PRESETS, CUSTOM_FIRM])
            raise ValueError(f"must be one of {choices} (got {show(firm)})")
        return firm

    @field_validator(*_URL_KEYS)
    @classmethod
    def _secure_url(cls, url: str | None, info: ValidationInfo) -> str | None:
        problem = url_problem(str(info.field_name), url) if url is not None else None
        if problem is not None:
            raise ValueError(problem)
        return url

    @model_validator(mode="after")
    def _custom_urls(self) -> GatewayConfig:
        if self.firm != CUSTOM_FIRM:
            return self
        example = FIRM_PRESETS["topstepx"]
        issues: list[Issue] = [
            ((key,), f"required when firm is custom, e.g. {getattr(example, key)}")
            for key in _URL_KEYS
            if getattr(self, key) is None
        ]
        if issues:
            fail(issues)
        return self

    def endpoints(self) -> GatewayEndpoints:
        """The firm's URLs with this file's overrides applied."""
        preset = FIRM_PRESETS.get(self.firm)
        urls = {key: getattr(self, key) or (getattr(preset, key) if preset else "") for key in _URL_KEYS}
        return GatewayEndpoints(**urls)


class AccountEntry(ConfigModel):
    """One watched account: by id or name, with base rules, overrides or its own rules file."""

    id: int | None = Field(default=None, gt=0, examples=[9876543])
    name: str | None = Field(default=None, min_length=1, examples=["PRAC-V2-555123-00000001"])
    label: str | None = None
    enabled: bool = True
    overrides: dict[str, Any] | None = Field(
        default=None, examples=["{rules: {daily_realized_loss: {limit: -400.0}}}"]
    )
    risk_config_file: str | None = Field(default=None, min_length=1, examples=["combine.yaml"])

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> AccountEntry:
        issues: list[Issue] = []
        if self.id is None and self.name is None:
            issues.append(((), "set id (an integer > 0) or name, e.g. id: 9876543"))
        if self.overrides is not None and self.risk_config_file is not None:
            issues.append((("risk_config_file",), "use either overrides or risk_config_file, not both"))
        config_dir = (info.context or {}).get("config_dir")
        path = self.risk_config_path(config_dir) if isinstance(config_dir, Path) else None
        if path is not None and not path.is_file():
            issues.append((("risk_config_file",), f"file not found: {path}"))
        if issues:
            fail(issues)
        return self

    @property
    def ref(self) -> int | str:
        """How the account is looked up at the broker: its id, else its name (resolved at startup)."""
        return self.id if self.id is not None else str(self.name)

    @property
    def display(self) -> str:
        """Label for screens and logs: the label, else the name, else the id."""
        return self.label or self.name or str(self.id)

    def risk_config_path(self, config_dir: Path) -> Path | None:
        """The account's own rules file, relative to the config dir (``None`` if it has none)."""
        return config_dir / self.risk_config_file if self.risk_config_file is not None else None


class AccountsConfig(ConfigModel):
    """A whole accounts.yaml (after migration to the current version)."""

    version: Literal[1] = 1
    gateway: GatewayConfig
    accounts: list[AccountEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_and_enabled(self) -> AccountsConfig:
        issues: list[Issue] = []
        if not any(account.enabled for account in self.accounts):
            issues.append((("accounts",), "at least one account must be enabled"))
        for key in ("id", "name"):
            values = [getattr(account, key) for account in self.accounts]
            present = [(index, value) for index, value in enumerate(values) if value is not None]
            for later, first in duplicates([value for _, value in present]):
                index, value = present[later]
                issues.append(
                    (("accounts", index, key), f"duplicate of accounts[{present[first][0]}] ({value})")
                )
        if issues:
            fail(issues)
        return self

    def enabled_accounts(self) -> list[AccountEntry]:
        """Accounts to protect, in file order."""
        return [account for account in self.accounts if account.enabled]

    def find(self, ref: int | str) -> AccountEntry | None:
        """The entry with this id (int) or name (str), or ``None``."""
        for account in self.accounts:
            if (isinstance(ref, int) and account.id == ref) or (isinstance(ref, str) and account.name == ref):
                return account
        return None


__all__ = [
    "CUSTOM_FIRM",
    "FIRM_PRESETS",
    "AccountEntry",
    "AccountsConfig",
    "GatewayConfig",
    "GatewayEndpoints",
    "url_problem",
]
