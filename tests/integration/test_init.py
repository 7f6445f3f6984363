"""``risk_manager init`` writes a working simulator configuration."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from risk_manager.cli.init import TEMPLATES, template
from risk_manager.cli.main import app

ROOT = Path(__file__).resolve().parents[2]


def test_init_writes_a_valid_config_and_keeps_existing_files(tmp_path: Path) -> None:
    runner = CliRunner()
    config = tmp_path / "config"
    result = runner.invoke(app, ["init", "--config-dir", str(config)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in config.iterdir()) == sorted(TEMPLATES)
    assert runner.invoke(app, ["validate", "--config-dir", str(config)]).exit_code == 0
    (config / "risk_config.yaml").write_text("version: 1\n")
    again = runner.invoke(app, ["init", "--config-dir", str(config)])
    assert "kept 3 existing" in again.output
    assert (config / "risk_config.yaml").read_text() == "version: 1\n"


def test_the_shipped_templates_are_the_examples() -> None:
    for name in TEMPLATES:
        assert template(name) == (ROOT / "examples" / "config" / name).read_text(), name
