"""accounts.yaml: firm presets, the TLS rule, accounts by id or name, overrides xor file, secrets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from config_testkit import parse, problems

from risk_manager.config import (
    FIRM_PRESETS,
    AccountEntry,
    AccountsConfig,
    GatewayConfig,
    GatewayEndpoints,
    parse_model,
)

ACCOUNTS_PATH = "config/accounts.yaml"


def gateway(**keys: object) -> GatewayConfig:
    return parse_model(GatewayConfig, keys, {}, "x", ("gateway",))


def accounts(*entries: dict[str, Any], config_dir: Path | None = None) -> AccountsConfig:
    data = {"gateway": {"firm": "simulator"}, "accounts": list(entries)}
    context = {"config_dir": config_dir} if config_dir is not None else None
    return parse_model(AccountsConfig, data, {}, "x", context=context)


@pytest.mark.parametrize(
    ("firm", "api", "user_hub", "market_hub"),
    [
        pytest.param(
            "topstepx",
            "https://api.topstepx.com",
            "https://rtc.topstepx.com/hubs/user",
            "https://rtc.topstepx.com/hubs/market",
            id="topstepx",
        ),
        pytest.param(
            "simulator",
            "http://127.0.0.1:8765",
            "ws://127.0.0.1:8765/hubs/user",
            "ws://127.0.0.1:8765/hubs/market",
            id="simulator",
        ),
    ],
)
def test_firm_presets(firm: str, api: str, user_hub: str, market_hub: str) -> None:
    assert gateway(firm=firm).endpoints() == GatewayEndpoints(api, user_hub, market_hub)
    assert FIRM_PRESETS[firm] == GatewayEndpoints(api, user_hub, market_hub)


def test_gateway_defaults() -> None:
    parsed = GatewayConfig.model_validate({})
    assert (parsed.firm, parsed.username, parsed.api_key.get_secret_value()) == ("topstepx", "", "")
    assert (parsed.api_url, parsed.user_hub_url, parsed.market_hub_url) == (None, None, None)


def test_url_override_wins_over_the_preset() -> None:
    parsed = gateway(firm="topstepx", api_url="https://api.example.com")
    assert parsed.endpoints() == GatewayEndpoints(
        "https://api.example.com",
        "https://rtc.topstepx.com/hubs/user",
        "https://rtc.topstepx.com/hubs/market",
    )


def test_custom_firm_needs_all_three_urls() -> None:
    assert problems(lambda: gateway(firm="custom", api_url="https://api.example.com")) == [
        "x: gateway.user_hub_url: required when firm is custom, e.g. https://rtc.topstepx.com/hubs/user",
        "x: gateway.market_hub_url: required when firm is custom, e.g. https://rtc.topstepx.com/hubs/market",
    ]
    urls = {
        "api_url": "https://a.example",
        "user_hub_url": "wss://b.example/u",
        "market_hub_url": "wss://b.example/m",
    }
    assert gateway(firm="custom", **urls).endpoints() == GatewayEndpoints(*urls.values())


def test_unknown_firm_names_the_choices() -> None:
    assert problems(lambda: gateway(firm="topstep")) == [
        "x: gateway.firm: must be one of topstepx, simulator, custom (got 'topstep')"
    ]


@pytest.mark.parametrize(
    ("key", "url", "ok"),
    [
        pytest.param("api_url", "https://api.example.com", True, id="api-https"),
        pytest.param("api_url", "http://127.0.0.1:8765", True, id="api-http-loopback-v4"),
        pytest.param("api_url", "http://127.5.6.7:8765", True, id="api-http-loopback-range"),
        pytest.param("api_url", "http://localhost:8765", True, id="api-http-localhost"),
        pytest.param("api_url", "http://[::1]:8765", True, id="api-http-loopback-v6"),
        pytest.param("api_url", "http://api.example.com", False, id="api-http-remote"),
        pytest.param("api_url", "http://10.0.0.5:8765", False, id="api-http-lan"),
        pytest.param("api_url", "wss://api.example.com", False, id="api-wss"),
        pytest.param("api_url", "ftp://api.example.com", False, id="api-ftp"),
        pytest.param("api_url", "api.example.com", False, id="api-no-scheme"),
        pytest.param("user_hub_url", "https://rtc.example.com/hubs/user", True, id="hub-https"),
        pytest.param("user_hub_url", "wss://rtc.example.com/hubs/user", True, id="hub-wss"),
        pytest.param("market_hub_url", "ws://127.0.0.1:8765/hubs/market", True, id="hub-ws-loopback"),
        pytest.param("market_hub_url", "ws://rtc.example.com/hubs/market", False, id="hub-ws-remote"),
        pytest.param("user_hub_url", "http://rtc.example.com/hubs/user", False, id="hub-http-remote"),
    ],
)
def test_plain_http_and_ws_only_on_loopback(key: str, url: str, ok: bool) -> None:
    if ok:
        assert getattr(gateway(**{key: url}).endpoints(), key) == url
    else:
        found = problems(lambda: gateway(**{key: url}))
        assert len(found) == 1
        assert found[0].startswith(f"x: gateway.{key}: must ")


def test_remote_http_message_says_what_is_allowed() -> None:
    assert problems(lambda: gateway(api_url="http://api.example.com")) == [
        "x: gateway.api_url: must use https (http only on a loopback host) (got 'http://api.example.com')"
    ]


def test_api_key_never_printed() -> None:
    parsed = gateway(api_key="sk-very-secret")
    assert parsed.api_key.get_secret_value() == "sk-very-secret"
    assert "sk-very-secret" not in repr(parsed) + str(parsed) + parsed.model_dump_json()


def test_a_wrongly_typed_api_key_is_not_echoed() -> None:
    found = problems(lambda: gateway(api_key=918273645))
    assert found == ["x: gateway.api_key: must be text"]


def test_accounts_by_id_or_name_with_defaults() -> None:
    parsed = accounts({"id": 7}, {"name": "PRAC-V2-1", "label": "Practice", "enabled": False})
    first, second = parsed.accounts
    assert (first.ref, first.enabled, first.label, first.overrides, first.risk_config_file) == (
        7,
        True,
        None,
        None,
        None,
    )
    assert (second.ref, second.display) == ("PRAC-V2-1", "Practice")
    assert parsed.enabled_accounts() == [first]
    assert parsed.find(7) is first and parsed.find("PRAC-V2-1") is second and parsed.find(8) is None


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        pytest.param([{"id": 0}], ["x: accounts[0].id: must be > 0 (got 0), e.g. 9876543"], id="id-zero"),
        pytest.param(
            [{"id": "123"}],
            ["x: accounts[0].id: must be an integer > 0 (got '123'), e.g. 9876543"],
            id="id-text",
        ),
        pytest.param(
            [{"label": "no id"}],
            ["x: accounts[0]: set id (an integer > 0) or name, e.g. id: 9876543"],
            id="no-ref",
        ),
        pytest.param(
            [{"id": 1}, {"id": 2}, {"id": 1}],
            ["x: accounts[2].id: duplicate of accounts[0] (1)"],
            id="dup-id",
        ),
        pytest.param(
            [{"name": "A"}, {"name": "A"}],
            ["x: accounts[1].name: duplicate of accounts[0] (A)"],
            id="dup-name",
        ),
        pytest.param(
            [{"id": 1, "enabled": False}],
            ["x: accounts: at least one account must be enabled"],
            id="none-enabled",
        ),
        pytest.param([], ["x: accounts: must have at least 1 entry (got 0)"], id="empty"),
        pytest.param(
            [{"id": 1, "overrides": {}, "risk_config_file": "a.yaml"}],
            ["x: accounts[0].risk_config_file: use either overrides or risk_config_file, not both"],
            id="overrides-and-file",
        ),
        pytest.param(
            [{"id": 1, "overrides": [1]}],
            ["x: accounts[0].overrides: must be a mapping (got a list)"],
            id="overrides-list",
        ),
    ],
)
def test_account_list_problems(entries: list[dict[str, Any]], expected: list[str]) -> None:
    assert problems(lambda: accounts(*entries)) == expected


def test_risk_config_file_must_exist_relative_to_the_config_dir(tmp_path: Path) -> None:
    (tmp_path / "combine.yaml").write_text("rules: {}\n", encoding="utf-8")
    parsed = accounts({"id": 1, "risk_config_file": "combine.yaml"}, config_dir=tmp_path)
    assert parsed.accounts[0].risk_config_path(tmp_path) == tmp_path / "combine.yaml"
    found = problems(lambda: accounts({"id": 1, "risk_config_file": "other.yaml"}, config_dir=tmp_path))
    assert found == [f"x: accounts[0].risk_config_file: file not found: {tmp_path / 'other.yaml'}"]


def test_spec_example_accounts_file_parses() -> None:
    text = """\
    version: 1
    gateway:
      firm: topstepx
      username: ${PROJECT_X_USERNAME:-}
      api_key: ${PROJECT_X_API_KEY:-}
    accounts:
      - {name: PRAC-V2-555123-00000001, label: Practice, enabled: true}
      - id: 9876543
        label: Combine 50K
        enabled: true
        overrides: {rules: {daily_realized_loss: {limit: -400.0}}}
    """
    parsed = parse(AccountsConfig, text, ACCOUNTS_PATH)
    assert [entry.ref for entry in parsed.accounts] == ["PRAC-V2-555123-00000001", 9876543]
    assert parsed.accounts[1].overrides == {"rules": {"daily_realized_loss": {"limit": -400.0}}}
    assert parsed.gateway.username == ""


def test_account_entry_lines_in_file() -> None:
    text = """\
    gateway: {firm: simulator}
    accounts:
      - id: 1
      - id: 1
        enabled: maybe
    """
    assert problems(lambda: parse(AccountsConfig, text, ACCOUNTS_PATH)) == [
        "config/accounts.yaml:5: accounts[1].enabled: must be true or false (got 'maybe')"
    ]


def test_account_entry_model_is_usable_alone() -> None:
    assert AccountEntry.model_validate({"id": 5}).display == "5"
