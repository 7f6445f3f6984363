"""``risk-admin rules``: set one key, enable/disable a rule, or walk a rule in the wizard.

Every change goes to the daemon as edits (POST /v1/config/edits); it validates the whole
set, applies a tightening at once and keeps a loosening pending until the daily reset
unless ``--override --reason`` (SPEC §4.7). Nothing is written here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer
from pydantic import BaseModel

from risk_manager.cli.admin.context import (
    AccountOption,
    Admin,
    OverrideOption,
    PasswordStdinOption,
    ReasonOption,
    admin_session,
    fail,
    require_reason,
)
from risk_manager.cli.admin.edits import (
    EditError,
    PathPart,
    account_index,
    diff_edits,
    parse_accounts_text,
    parse_value,
    resolve_rule,
    rule_edit,
)
from risk_manager.cli.admin.report import print_change_reply, print_table
from risk_manager.cli.admin.wizard import Wizard, sub_model
from risk_manager.cli.options import EXIT_USAGE, ConfigDirOption, DataDirOption
from risk_manager.config.paths import ACCOUNTS_FILE, RISK_CONFIG_FILE
from risk_manager.config.risk import RULE_IDS, RulesConfig
from risk_manager.config.yamlsource import parse_yaml, read_yaml
from risk_manager.control.protocol import MIN_REASON, ChangeRequest, ConfigFile, ConfigView, Edit

rules_app = typer.Typer(
    name="rules", help="Change the rules: set a key, enable or disable, or the wizard.", no_args_is_help=True
)

RuleArgument = Annotated[str, typer.Argument(help="Rule id (RULE-003) or YAML key (daily_realized_loss).")]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Show the diff and what would apply; write nothing.")
]


def rule_model(rule: str) -> type[BaseModel]:
    """The pydantic model of a rule block (its keys, types, ranges, defaults)."""
    model = sub_model(RulesConfig.model_fields[resolve_rule(rule)].annotation)
    assert model is not None  # every RulesConfig field is an optional rule model
    return model


def submit(
    admin: Admin, edits: list[Edit], *, override: bool, reason: str | None, dry_run: bool = False
) -> None:
    """Send the edits; print what applies now, what waits for the reset, and the diff."""
    if override:
        reason = require_reason(reason, "--override")
    request = ChangeRequest(edits=edits, override=override, reason=reason, dry_run=dry_run)
    reply = admin.authed().edit(request)
    print_change_reply(admin.console, reply)


def _edit_or_exit(build: Any) -> Any:
    try:
        return build()
    except EditError as exc:
        fail(str(exc), EXIT_USAGE)


def accounts_data(admin: Admin) -> object:
    """accounts.yaml as data: the file on disk when it reads (the trader may read config, and it is
    the file the daemon edits: the control address came from the same dir), else the daemon's view."""
    doc = read_yaml(admin.paths.config_dir / ACCOUNTS_FILE)
    if doc.data is not None:
        return doc.data
    return parse_accounts_text(admin.authed().config().files.get(ACCOUNTS_FILE, ""))


def set_key(
    admin: Admin,
    rule: str,
    key: str,
    value: str,
    *,
    account: str | None,
    override: bool,
    reason: str | None,
    dry_run: bool = False,
) -> None:
    if value.startswith("--"):
        fail(f"no such option: {value} (see `risk-admin rules set --help`)", EXIT_USAGE)
    parsed = _edit_or_exit(lambda: parse_value(value))
    admin.authed()
    data = accounts_data(admin) if account is not None else None
    edit = _edit_or_exit(lambda: rule_edit(rule, key, parsed, account=account, accounts_data=data))
    submit(admin, [edit], override=override, reason=reason, dry_run=dry_run)


@rules_app.command("set", context_settings={"ignore_unknown_options": True})  # -400 is a value
def set_command(
    rule: RuleArgument,
    key: Annotated[str, typer.Argument(help="Key in the rule block; dotted for nested: breakeven.enabled.")],
    value: Annotated[str, typer.Argument(help="YAML value: -400, true, 5m, [RTY, M2K], {MNQ: 4}.")],
    account: AccountOption = None,
    override: OverrideOption = False,
    reason: ReasonOption = None,
    dry_run: DryRunOption = False,
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Set one key of a rule: `rules set RULE-003 limit -400` (--account: that account's overrides)."""
    with admin_session(config_dir, data_dir, password_stdin=password_stdin) as admin:
        set_key(admin, rule, key, value, account=account, override=override, reason=reason, dry_run=dry_run)


def _switch(enabled: bool) -> Any:
    def command(
        rule: RuleArgument,
        account: AccountOption = None,
        override: OverrideOption = False,
        reason: ReasonOption = None,
        dry_run: DryRunOption = False,
        config_dir: ConfigDirOption = None,
        data_dir: DataDirOption = None,
        password_stdin: PasswordStdinOption = False,
    ) -> None:
        with admin_session(config_dir, data_dir, password_stdin=password_stdin) as admin:
            set_key(admin, rule, "enabled", "true" if enabled else "false",
                    account=account, override=override, reason=reason, dry_run=dry_run)  # fmt: skip

    command.__doc__ = (
        "Enable a rule (its required keys must be set: the wizard asks them)."
        if enabled
        else "Disable a rule: a loosening, pending until the next daily reset unless --override."
    )
    return command


rules_app.command("enable")(_switch(True))
rules_app.command("disable")(_switch(False))


# --------------------------------------------------------------------------- list


def rule_blocks(view: ConfigView) -> dict[str, Any]:
    """The base ``rules:`` block as written in risk_config.yaml (what the wizard edits)."""
    data = parse_yaml(view.files.get(RISK_CONFIG_FILE, ""), RISK_CONFIG_FILE, env={}).data
    rules = data.get("rules") if isinstance(data, Mapping) else None
    return dict(rules) if isinstance(rules, Mapping) else {}


def list_rules(admin: Admin) -> None:
    blocks = rule_blocks(admin.authed().config())
    rows = []
    for key, rule in RULE_IDS.items():
        block = blocks.get(key)
        state = "absent" if not isinstance(block, Mapping) else "yes" if block.get("enabled") else "no"
        rows.append([rule, key, state])
    print_table(admin.console, "rules (risk_config.yaml)", ("id", "key", "enabled"), rows)


@rules_app.command("list")
def list_command(
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """The thirteen rules and whether each is enabled (base config)."""
    with admin_session(config_dir, data_dir, password_stdin=password_stdin) as admin:
        list_rules(admin)


# --------------------------------------------------------------------------- wizard


def _account_block(view: ConfigView, accounts: object, account: str, key: str) -> dict[str, Any] | None:
    """The account's effective block: its overrides merged over the base, as the daemon runs it."""
    entries = accounts.get("accounts") if isinstance(accounts, Mapping) else None
    entry = entries[account_index(accounts, account)] if isinstance(entries, list) else {}
    for name in (entry.get("label"), entry.get("name"), str(entry.get("id"))):
        if name is not None and name in view.effective:
            block = view.effective[name].get("rules", {}).get(key)
            return dict(block) if isinstance(block, Mapping) else None
    raise EditError(f"the daemon shows no effective config for account {account}")


def _target(
    view: ConfigView, key: str, account: str | None
) -> tuple[dict[str, Any] | None, list[PathPart], ConfigFile]:
    """The block to start from, where its edits go, and in which file."""
    if account is None:
        block = rule_blocks(view).get(key)
        return (dict(block) if isinstance(block, Mapping) else None), ["rules", key], "risk_config.yaml"
    accounts = parse_accounts_text(view.files.get(ACCOUNTS_FILE, ""))
    block = _account_block(view, accounts, account, key)
    index = account_index(accounts, account)
    return block, ["accounts", index, "overrides", "rules", key], "accounts.yaml"


def run_wizard(admin: Admin, rule: str, *, account: str | None, override: bool, reason: str | None) -> None:
    """Ask every key, dry-run the change to show the diff, confirm, then apply it."""
    key = _edit_or_exit(lambda: resolve_rule(rule))
    model = rule_model(key)
    client = admin.authed()
    current, prefix, file = _edit_or_exit(lambda: _target(client.config(), key, account))
    typer.echo(f"{RULE_IDS[key]} {key}{f' for account {account}' if account else ''}: Enter keeps a value")
    answers = Wizard(model, current).run()
    edits = diff_edits(current, answers, prefix, file) if current is not None else [
        Edit(file=file, path=prefix, value=answers)
    ]  # fmt: skip
    if not edits:
        typer.echo("no change")
        return
    if override:
        reason = require_reason(reason, "--override")
    request = ChangeRequest(edits=edits, override=override, reason=reason, dry_run=True)
    preview = client.edit(request)
    print_change_reply(admin.console, preview)
    if not typer.confirm("Apply this change?", default=False):
        typer.echo("nothing written")
        return
    if preview.pending and not override and _override_wanted():
        reason = ask_reason()
        request = request.model_copy(update={"override": True, "reason": reason})
    reply = client.edit(request.model_copy(update={"dry_run": False}))
    print_change_reply(admin.console, reply, show_diff=False)


def _override_wanted() -> bool:
    return typer.confirm(
        "Apply the loosening now instead of at the next daily reset (override, written to the audit log)?",
        default=False,
    )


def ask_reason() -> str:
    while True:
        reason = str(typer.prompt("Reason (at least 5 characters)")).strip()
        if len(reason) >= MIN_REASON:
            return reason
        typer.echo(f"  at least {MIN_REASON} characters", err=True)


def choose_rule() -> str:
    """Ask which rule (the menu, or `rules wizard` without one)."""
    for number, (key, rule) in enumerate(RULE_IDS.items(), start=1):
        typer.echo(f"{number:2d} {rule} {key}")
    while True:
        answer = str(typer.prompt("Rule (number, id or key)")).strip()
        if answer.isdigit() and 1 <= int(answer) <= len(RULE_IDS):
            return list(RULE_IDS)[int(answer) - 1]
        try:
            return resolve_rule(answer)
        except EditError as exc:
            typer.echo(f"  {exc}", err=True)


@rules_app.command("wizard")
def wizard_command(
    rule: Annotated[str | None, typer.Argument(help="Rule id or key; asked when left out.")] = None,
    account: AccountOption = None,
    override: OverrideOption = False,
    reason: ReasonOption = None,
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Walk one rule key by key (value, type, range, default), see the diff, confirm, apply."""
    with admin_session(config_dir, data_dir, password_stdin=password_stdin) as admin:
        run_wizard(admin, rule or choose_rule(), account=account, override=override, reason=reason)


__all__ = [
    "accounts_data",
    "ask_reason",
    "choose_rule",
    "list_rules",
    "rule_model",
    "rules_app",
    "run_wizard",
    "set_key",
    "submit",
]
