"""The configuration reference is generated from the config models and cannot drift from them."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from risk_manager.config.risk import RULE_IDS
from risk_manager.docs import reference
from risk_manager.docs.reference import CONFIG_FILES, all_keys, config_reference, section_for


def _model_paths(model: type[BaseModel], prefix: str) -> list[str]:
    """Every key path, found by walking model_fields independently of the generator's walker."""
    paths: list[str] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        paths.append(path)
        for nested, suffix in _nested_models(info.annotation):
            paths += _model_paths(nested, path + suffix)
    return paths


def _nested_models(annotation: Any) -> list[tuple[type[BaseModel], str]]:
    found: list[tuple[type[BaseModel], str]] = []
    args = getattr(annotation, "__args__", ())
    origin = getattr(annotation, "__origin__", None)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, "")]
    for arg in args:
        inner = getattr(arg, "__origin__", None) and getattr(arg, "__metadata__", None) and arg.__origin__
        candidate = inner or arg
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            suffix = "[]" if origin is list else f".{reference.SYMBOL_KEY}" if origin is dict else ""
            found.append((candidate, suffix))
    return found


def test_every_config_key_has_a_description() -> None:
    assert reference.missing_descriptions() == [], "add the meaning to DESCRIPTIONS (or Field(description=))"


def test_every_config_key_has_an_example() -> None:
    assert reference.missing_examples() == []


def test_the_catalog_names_no_field_that_is_gone() -> None:
    assert reference.stale_catalog_entries() == []


@pytest.mark.parametrize(("file", "model"), CONFIG_FILES, ids=[f for f, _ in CONFIG_FILES])
def test_the_generated_page_documents_every_field(file: str, model: type[BaseModel]) -> None:
    page = config_reference()
    documented = {key.path for key in all_keys() if key.path}
    for path in _model_paths(model, ""):
        assert path in documented, f"{file}: {path} missing from the reference"
        block, _, name = path.rpartition(".")
        anchor = reference.Section(file, block, "").anchor
        assert f"{{#{anchor}}}" in page, f"{file}: no heading for {block or 'the top level'}"
        assert f"| `{name}` |" in page


def test_a_rule_block_shows_its_nested_blocks_and_not_its_neighbours() -> None:
    paths = [section.path for section in section_for("rules.trade_management")]
    assert paths[0] == "rules.trade_management"
    assert "rules.trade_management.breakeven" in paths
    assert all(path.startswith("rules.trade_management") for path in paths)
    assert len({section.path for key in RULE_IDS for section in section_for(f"rules.{key}")}) >= 13


def test_ranges_defaults_and_choices_come_from_the_models() -> None:
    keys = {key.path: key for key in all_keys()}
    limit = keys["rules.max_contracts.limit"]
    assert (limit.type, limit.allowed, limit.default) == ("integer", "1..1000", "**required**")
    assert keys["rules.daily_realized_loss.limit"].allowed == "-1000000..-1"
    assert keys["rules.max_contracts.count_type"].allowed == "`gross`, `net`"
    assert keys["rules.max_contracts.count_type"].default == "`gross`"
    assert keys["general.daily_reset.time"].default == '`"17:00"`'
    assert keys["rules.trade_frequency_limit.cooldowns.per_hour"].default == "`30m`"
    assert keys["rules.max_contracts_per_instrument.default_limit"].nullable


def test_every_example_is_yaml_of_the_right_key() -> None:
    for key in all_keys():
        assert key.example is not None
        parsed = yaml.safe_load(key.example)
        assert isinstance(parsed, dict) and list(parsed) == [key.name], key.example
