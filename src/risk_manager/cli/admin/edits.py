"""From command-line words to control-API edits: ``rules set RULE-003 limit -400`` -> one Edit.

Pure functions, so the translation is tested without a daemon. Values are YAML, read the
way the config loader reads files (YAML 1.2 core: ``17:00`` stays text, ``yes`` is not a
boolean), so a value typed here means what it would mean written in the file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from risk_manager.config.paths import ACCOUNTS_FILE
from risk_manager.config.risk import RULE_IDS, rule_key
from risk_manager.config.yamlsource import parse_yaml
from risk_manager.control.protocol import ConfigFile, Edit

PathPart = str | int


class EditError(ValueError):
    """A command line that names no valid edit (unknown rule, bad key, unknown account...)."""


def parse_value(text: str) -> Any:
    """A YAML scalar, list or mapping: ``-400`` -> -400, ``[RTY, M2K]`` -> a list, ``5m`` -> "5m".

    ``${VAR}`` references stay as written: the loader expands them when it reads the file.
    An empty text is ``null``.
    """
    if "${" in text:
        return text
    doc = parse_yaml(text, "value", env={})
    if doc.problems:
        raise EditError(f"cannot read the value {text!r}: {doc.problems[0].message}")
    return doc.data


def key_path(key: str) -> list[PathPart]:
    """``breakeven.enabled`` -> ["breakeven", "enabled"]; ``tiers.0.duration`` or ``tiers[0].duration``
    -> ["tiers", 0, "duration"]: digits are list indices."""
    parts: list[PathPart] = []
    for raw in key.replace("[", ".").replace("]", "").split("."):
        if not raw:
            raise EditError(f"invalid key {key!r}: empty part (write e.g. breakeven.enabled)")
        parts.append(int(raw) if raw.isdigit() else raw)
    return parts


def resolve_rule(rule: str) -> str:
    """The rule's YAML key from ``RULE-003`` (any case) or ``daily_realized_loss``."""
    try:
        return rule_key(rule)
    except ValueError as exc:
        raise EditError(str(exc)) from None


def rule_id(rule: str) -> str:
    """``RULE-003`` from either spelling."""
    return RULE_IDS[resolve_rule(rule)]


def account_ref(text: str) -> int | str:
    """``--account 2`` is an id, ``--account PRAC-V2-...`` a name."""
    return int(text) if text.isdigit() else text


def account_index(accounts_data: object, account: str) -> int:
    """Where ``account`` (id or name) is listed in accounts.yaml's ``accounts``; EditError if nowhere
    or if it takes its rules from its own file (that file is not editable through the API)."""
    entries = accounts_data.get("accounts") if isinstance(accounts_data, Mapping) else None
    ref = account_ref(account)
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, Mapping) or ref not in (entry.get("id"), entry.get("name")):
            continue
        if entry.get("risk_config_file"):
            raise EditError(
                f"account {account} takes its rules from {entry['risk_config_file']}; "
                "edit that file (then `risk-admin service reload`), or replace it by overrides"
            )
        return index
    raise EditError(f"account {account} is not in {ACCOUNTS_FILE}; `risk-admin accounts list` shows them")


def rule_edit(
    rule: str, key: str, value: Any, *, account: str | None = None, accounts_data: object = None
) -> Edit:
    """One key of one rule, in risk_config.yaml or in an account's overrides in accounts.yaml."""
    path: list[PathPart] = ["rules", resolve_rule(rule), *key_path(key)]
    if account is None:
        return Edit(file="risk_config.yaml", path=path, value=value)
    index = account_index(accounts_data, account)
    return Edit(file="accounts.yaml", path=["accounts", index, "overrides", *path], value=value)


def diff_edits(
    old: object, new: object, prefix: list[PathPart], file: ConfigFile = "risk_config.yaml"
) -> list[Edit]:
    """The edits turning ``old`` into ``new`` under ``prefix``: mappings key by key, the rest whole.

    A key gone from a mapping is a delete; lists are set whole (SPEC §8: lists replace).
    """
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        edits: list[Edit] = []
        for name, value in new.items():
            if name not in old:
                edits.append(Edit(file=file, path=[*prefix, name], value=value))
            else:
                edits += diff_edits(old[name], value, [*prefix, name], file)
        edits += [Edit(file=file, path=[*prefix, name], delete=True) for name in old if name not in new]
        return edits
    if old == new and type(old) is type(new):
        return []
    return [Edit(file=file, path=prefix, value=new)]


_BARE_MASK = re.compile(r"(?<=[\s:\[{,])(\*{4}[^\s,\]}#]*)")


def parse_accounts_text(text: str) -> object:
    """accounts.yaml's data from its text, for finding an account's index.

    The daemon's view masks secrets in place (``api_key: ****abcd``), and a bare ``*`` starts a
    YAML alias, so a text that does not parse is read again with the masks quoted.
    """
    doc = parse_yaml(text, ACCOUNTS_FILE, env=os.environ)
    if doc.data is None and "****" in text:
        doc = parse_yaml(_BARE_MASK.sub(r"'\1'", text), ACCOUNTS_FILE, env=os.environ)
    return doc.data


__all__ = [
    "EditError",
    "account_index",
    "account_ref",
    "diff_edits",
    "key_path",
    "parse_accounts_text",
    "parse_value",
    "resolve_rule",
    "rule_edit",
    "rule_id",
]
