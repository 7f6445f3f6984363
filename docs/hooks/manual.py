"""MkDocs hook (mkdocs.yml ``hooks:``): fill the manual's generated parts at build time.

The work is in ``risk_manager.docs`` (tested like the rest of the package); this file only
connects it to MkDocs: before the build every scenario the pages embed is replayed once, in
parallel, then each page's ``<!-- generated: ... -->`` placeholders are filled.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

from risk_manager.docs.pages import GenerationError, expand, replay_all, scenarios_in

_replays: dict[str, str] = {}


def _root(config: Any) -> Path:
    return Path(config["config_file_path"]).resolve().parent


def on_pre_build(config: Any) -> None:
    """Replay every embedded scenario once, before any page is rendered."""
    docs = Path(config["docs_dir"])
    wanted = [s for page in docs.rglob("*.md") for s in scenarios_in(page.read_text(encoding="utf-8"))]
    try:
        _replays.update(replay_all(wanted, _root(config)))
    except GenerationError as exc:
        raise PluginError(str(exc)) from exc


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Fill the page's placeholders (a failure stops the build, naming the page)."""
    try:
        return expand(markdown, _root(config), _replays)
    except GenerationError as exc:
        raise PluginError(f"{page.file.src_path}: {exc}") from exc
