"""``risk_manager init``: a working configuration for the local gateway simulator."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from risk_manager.cli.options import EXIT_RUNTIME, ConfigDirOption, DataDirOption
from risk_manager.config.paths import resolve_paths

TEMPLATES = ("accounts.yaml", "risk_config.yaml", "holidays.yaml")


def template(name: str) -> str:
    """A shipped config file (the same files as examples/config/)."""
    return resources.files("risk_manager.config").joinpath("templates", name).read_text(encoding="utf-8")


def write_templates(config_dir: Path, *, force: bool = False) -> list[Path]:
    """Write the three files; an existing file is kept unless ``force``. Returns what was written."""
    config_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in TEMPLATES:
        target = config_dir / name
        if target.exists() and not force:
            continue
        target.write_text(template(name), encoding="utf-8")
        written.append(target)
    return written


def init(
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Write accounts.yaml, risk_config.yaml and holidays.yaml for the local simulator."""
    paths = resolve_paths(config_dir, data_dir)
    try:
        written = write_templates(paths.config_dir, force=force)
    except OSError as exc:
        typer.echo(f"cannot write {paths.config_dir}: {exc.strerror}", err=True)
        raise typer.Exit(EXIT_RUNTIME) from exc
    for path in written:
        typer.echo(f"wrote {path}")
    kept = len(TEMPLATES) - len(written)
    if kept:
        typer.echo(f"kept {kept} existing file(s) in {paths.config_dir} (--force overwrites)")
    typer.echo(f"check it: python -m risk_manager validate --config-dir {paths.config_dir}")


__all__ = ["TEMPLATES", "init", "template", "write_templates"]
