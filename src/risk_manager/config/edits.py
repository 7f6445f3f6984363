"""Editing config files as text, keeping the trader's comments and layout (SPEC §4.7, §6).

The admin CLI and the control API change config one key at a time (``Edit``), but the
files are the trader's: hand-written comments, key order, flow mappings on one line.
``apply_edits`` therefore edits with ruamel.yaml's round-trip mode rather than dumping
the models, so a change of one limit changes one line. ``diff_edits`` goes the other way
(a hand-edited or posted file -> the leaf edits it makes), so every path into the daemon
is classified key by key. ``write_config_files`` writes atomically with a ``.bak``.

Values are JSON-shaped (str, int, float, bool, None, list, dict); ``Decimal``,
``timedelta``, ``time`` and ``date`` (from models) are written the way the files spell
them (``-500.0``, ``5m``, ``"17:00"``, ``2025-12-25``).
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import io
import os
import re
import stat
import tempfile
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarstring import ScalarString
from ruamel.yaml.tokens import CommentToken

from risk_manager.config.fields import format_duration
from risk_manager.config.problems import ConfigError, ConfigProblem, KeyPath, format_key
from risk_manager.control.protocol import Edit

#: What a file that does not exist yet starts as (holidays.yaml is optional).
NEW_FILE_TEXT = "version: 1\n"
#: Mode of a config file written for the first time (the daemon's account writes, others read).
NEW_FILE_MODE = 0o644
BACKUP_SUFFIX = ".bak"

# (mapping indent, sequence indent, dash offset) styles tried to reproduce a file byte for byte.
_INDENTS: tuple[tuple[int, int, int], ...] = ((2, 4, 2), (2, 2, 0), (4, 4, 0), (4, 6, 2), (2, 4, 0))
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Finding a file's indentation costs a dump per style tried; a plan parses the same texts often.
_INDENT_OF: dict[str, tuple[int, int, int]] = {}
_INDENT_CACHE = 64


class EditError(ConfigError):
    """An edit that cannot be applied: a path through a scalar, a list index out of range,
    a file that is not YAML. One problem per bad edit, ``file: key: message``."""


# --------------------------------------------------------------------------- YAML round trip


def _represent_none(representer: RoundTripRepresenter, _: None) -> Any:
    # ruamel writes None as an empty value; the shipped files (and SPEC §3) spell it ``null``.
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def _yaml(indent: tuple[int, int, int] = _INDENTS[0]) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line the trader wrote
    mapping, sequence, offset = indent
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    yaml.representer.add_representer(type(None), _represent_none)
    return yaml


def _dump(yaml: YAML, data: Any) -> str:
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _load(name: str, text: str) -> tuple[YAML, Any]:
    """Parse ``text`` round-trip, with the indentation style that reproduces it best."""
    known = _INDENT_OF.get(file_sha(text))
    if known is not None:
        yaml = _yaml(known)
        return yaml, _parse(name, yaml, text)
    best: tuple[int, YAML, Any, tuple[int, int, int]] | None = None
    for indent in _INDENTS:
        yaml = _yaml(indent)
        data = _parse(name, yaml, text)
        distance = _distance(text, _dump(yaml, data))
        if best is None or distance < best[0]:
            best = (distance, yaml, data, indent)
        if distance == 0:
            break
    assert best is not None
    if len(_INDENT_OF) > _INDENT_CACHE:
        _INDENT_OF.clear()
    _INDENT_OF[file_sha(text)] = best[3]
    return best[1], best[2]


def _parse(name: str, yaml: YAML, text: str) -> Any:
    try:
        data = yaml.load(text)
    except YAMLError as exc:
        raise EditError([_syntax_problem(name, exc)]) from None
    return CommentedMap() if data is None else data


def _syntax_problem(name: str, exc: YAMLError) -> ConfigProblem:
    """SPEC §8's one-line form: ``<file>:<line>:<col>: YAML syntax error: <detail>``."""
    mark = getattr(exc, "problem_mark", None)
    detail = str(getattr(exc, "problem", None) or "invalid YAML")
    if mark is None:
        return ConfigProblem(name, None, "", f"YAML syntax error: {detail}")
    return ConfigProblem.syntax(name, int(mark.line) + 1, int(mark.column) + 1, detail)


def _distance(a: str, b: str) -> int:
    if a == b:
        return 0
    lines = difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0)
    return sum(1 for line in lines if line[:1] in "+-")


# --------------------------------------------------------------------------- comments


def _is_block(node: Any) -> bool:
    return isinstance(node, CommentedMap | CommentedSeq) and len(node) > 0 and not node.fa.flow_style()


def _last_key(node: CommentedMap | CommentedSeq) -> Any:
    return list(node.keys())[-1] if isinstance(node, CommentedMap) else len(node) - 1


def _slot_index(owner: CommentedMap | CommentedSeq) -> int:
    return 2 if isinstance(owner, CommentedMap) else 0


def _split(value: str) -> tuple[str, str]:
    """A post-comment token is ``<end of this line>\\n<lines after it>``: split the two."""
    head, newline, rest = value.partition("\n")
    return head + newline, rest


def _absorb_end(node: Any) -> None:
    """Move a block list's end comments (``ca.end``) onto its last item, the one place
    ``_trailer`` and ``_set_trailer`` look for the lines after an entry."""
    if not (_is_block(node) and isinstance(node, CommentedSeq) and node.ca.end):
        return
    text = "".join(_end_line(token) for token in node.ca.end)
    node.ca.end = []
    last = len(node) - 1
    _set_trailer(node, last, _trailer(node, last) + text)


def _trailer(owner: CommentedMap | CommentedSeq, key: Any) -> str:
    """The comment lines after the entry ``owner[key]`` (blank lines and the next key's header).

    ruamel keeps them on the deepest last item of the entry, so deleting or replacing the
    entry would take the *next* key's header comment with it.
    """
    _absorb_end(owner)
    value = owner[key]
    _absorb_end(value)
    if _is_block(value):
        return _trailer(value, _last_key(value))
    slot = owner.ca.items.get(key)
    token = slot[_slot_index(owner)] if slot and len(slot) > _slot_index(owner) else None
    return _split(token.value)[1] if isinstance(token, CommentToken) else ""


def _end_line(token: CommentToken) -> str:
    value = str(token.value)
    return " " * token.column + value if value.startswith("#") else value


def _set_trailer(owner: CommentedMap | CommentedSeq, key: Any, rest: str) -> None:
    """Make ``rest`` the comment lines after the entry ``owner[key]`` (its own line comment kept)."""
    _absorb_end(owner)
    value = owner[key]
    _absorb_end(value)
    if _is_block(value):
        _set_trailer(value, _last_key(value), rest)
        return
    index = _slot_index(owner)
    slot = owner.ca.items.setdefault(key, [None, None, None, None])
    while len(slot) <= index:
        slot.append(None)
    token = slot[index]
    if isinstance(token, CommentToken):
        token.value = _split(str(token.value))[0] + rest
    elif rest:
        slot[index] = CommentToken("\n" + rest, CommentMark(0))


def _detach(rest: str) -> tuple[str, str]:
    """Trailer lines up to the first blank line still belong to the entry (a commented-out key
    under it); from the blank line on they introduce what follows (the next rule's header)."""
    lines = rest.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if not line.strip():
            return "".join(lines[:index]), "".join(lines[index:])
    return rest, ""


def _delete(owner: CommentedMap | CommentedSeq, key: Any) -> None:
    """Delete an entry; the lines after it (the next key's header) stay with the entry before it."""
    rest = _detach(_trailer(owner, key))[1]
    keys = list(owner.keys()) if isinstance(owner, CommentedMap) else list(range(len(owner)))
    position = keys.index(key)
    del owner[key]
    if isinstance(owner, CommentedMap):
        owner.ca.items.pop(key, None)
    else:
        _shift_seq_comments(owner, position)
    if not owner:
        owner.fa.set_flow_style()  # an empty block would print as a bare ``{}`` line: invalid YAML
    if position > 0:
        _set_trailer(owner, keys[position - 1], rest)  # the deleted key's own header goes with it
    elif isinstance(owner, CommentedMap):
        _set_leader(owner, rest.lstrip("\n"))


def _set_leader(owner: CommentedMap, rest: str) -> None:
    """Replace the comment lines before a mapping's first key (after its first key was deleted)."""
    comment = owner.ca.comment
    tokens = comment[1] if isinstance(comment, list) and len(comment) > 1 else None
    if not isinstance(tokens, list):
        if rest and len(owner) > 0:
            owner.ca.comment = [None, _tokens(rest)]
        return
    tokens[:] = _tokens(rest)  # the same list may also hang on the parent's key


def _tokens(lines: str) -> list[CommentToken]:
    """Comment lines as the pre-comment tokens ruamel keeps: one per line, with its column."""
    tokens: list[CommentToken] = []
    for line in lines.splitlines(keepends=True):
        stripped = line.lstrip(" ")
        tokens.append(CommentToken(stripped, CommentMark(len(line) - len(stripped))))
    return tokens


def _append(owner: CommentedMap | CommentedSeq, key: Any, value: Any) -> None:
    """Add an entry at the end; the lines that followed the old last entry (the next section's
    header) now follow the new one, so the new key lands above them, not under them."""
    own, rest = _detach(_trailer(owner, _last_key(owner))) if len(owner) else ("", "")
    if rest:
        _set_trailer(owner, _last_key(owner), own)
    if isinstance(owner, CommentedSeq):
        owner.append(value)
    else:
        owner[key] = value
    if rest:
        _set_trailer(owner, key if isinstance(owner, CommentedMap) else len(owner) - 1, rest)


def _shift_seq_comments(owner: CommentedSeq, removed: int) -> None:
    items = owner.ca.items
    shifted = {
        (index - 1 if index > removed else index): slot for index, slot in items.items() if index != removed
    }
    items.clear()
    items.update(shifted)


# --------------------------------------------------------------------------- values


def _plain(value: Any) -> Any:
    """A model-side value as the files spell it (Decimal -> float, 5 min -> ``5m``...)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and "." not in str(value) else float(value)
    if isinstance(value, dt.timedelta):
        return format_duration(value)
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _styled(new: Any, old: Any) -> Any:
    """``new`` dressed like ``old``: flow or block, quoting, dates unquoted (new list items follow
    the last old item), so a replaced value reads like the one the trader wrote."""
    if isinstance(new, Mapping):
        result = CommentedMap()
        for key, item in new.items():
            result[key] = _styled(item, old.get(key) if isinstance(old, Mapping) else None)
        if isinstance(old, CommentedMap) and old.fa.flow_style():
            result.fa.set_flow_style()
        return result
    if isinstance(new, list):
        template = old if isinstance(old, list) else []
        styled = [
            _styled(item, template[min(i, len(template) - 1)] if template else None)
            for i, item in enumerate(new)
        ]
        seq = CommentedSeq(styled)
        if isinstance(old, CommentedSeq) and old.fa.flow_style():
            seq.fa.set_flow_style()
        return seq
    if isinstance(new, str) and isinstance(old, ScalarString):
        return type(old)(new)
    if isinstance(new, str) and isinstance(old, dt.date) and _ISO_DATE.match(new):
        return dt.date.fromisoformat(new)
    return new


# --------------------------------------------------------------------------- apply


def _step(node: Any, part: str | int, name: str, path: KeyPath, create: bool) -> Any:
    """The child at ``part``; with ``create``, a missing mapping key becomes an empty mapping."""
    if isinstance(node, CommentedMap) and isinstance(part, str):
        if part not in node:
            if not create:
                return None
            _append(node, part, CommentedMap())
        return node[part]
    if isinstance(node, CommentedSeq) and isinstance(part, int) and not isinstance(part, bool):
        if -len(node) <= part < len(node):
            return node[part]
        raise _impossible(name, path, f"list index {part} out of range (the list has {len(node)} items)")
    where = format_key(path[:-1]) or "the file"
    if isinstance(node, list):
        message = f"{where} is a list: use an item index (got {part!r})"
    elif isinstance(node, dict):
        message = f"{where} is a mapping: use a key name (got {part!r})"
    else:
        message = f"{where} is a value ({node!r}), not a mapping or list: cannot hold {part!r}"
    raise _impossible(name, path, message)


def _impossible(name: str, path: KeyPath, message: str) -> EditError:
    return EditError([ConfigProblem(name, None, format_key(path), message)])


def _apply(root: Any, edit: Edit) -> None:
    """Apply one edit in place; EditError if the path cannot exist."""
    path: KeyPath = tuple(edit.path)
    if not path:
        raise _impossible(edit.file, path, "an edit needs a key path (the whole file cannot be set)")
    parent = root
    for depth, part in enumerate(path[:-1]):
        parent = _step(parent, part, edit.file, path[: depth + 1], create=not edit.delete)
        if parent is None:
            return  # deleting under a key that is absent: nothing to delete
    last = path[-1]
    if isinstance(parent, CommentedMap) and isinstance(last, str):
        _apply_to_map(parent, last, edit)
    elif isinstance(parent, CommentedSeq) and isinstance(last, int) and not isinstance(last, bool):
        _apply_to_seq(parent, last, edit, path)
    else:
        _step(parent, last, edit.file, path, create=False)  # raises the shape problem


def _apply_to_map(parent: CommentedMap, key: str, edit: Edit) -> None:
    if edit.delete:
        if key in parent:
            _delete(parent, key)
        return
    if key not in parent:
        _append(parent, key, _styled(_plain(edit.value), None))
        return
    old = parent[key]
    rest = _trailer(parent, key) if _is_block(old) else None
    parent[key] = _styled(_plain(edit.value), old)
    if rest is not None:
        _set_trailer(parent, key, rest)


def _apply_to_seq(parent: CommentedSeq, index: int, edit: Edit, path: KeyPath) -> None:
    size = len(parent)
    if edit.delete:
        if -size <= index < size:
            _delete(parent, index % size)
        return
    if index == size:  # one past the end appends, e.g. a new account
        template = parent[-1] if size else None
        _append(parent, size, _styled(_plain(edit.value), template))
        return
    if not -size <= index < size:
        message = f"list index {index} out of range (the list has {size} items; {size} appends)"
        raise _impossible(edit.file, path, message)
    old = parent[index]
    rest = _trailer(parent, index % size) if _is_block(old) else None
    parent[index] = _styled(_plain(edit.value), old)
    if rest is not None:
        _set_trailer(parent, index % size, rest)


def apply_edits(texts: Mapping[str, str], edits: Sequence[Edit]) -> dict[str, str]:
    """The file texts after ``edits``, in order; untouched files come back byte for byte.

    ``texts`` maps file name (``risk_config.yaml``) to its text; a file not in it starts
    as ``version: 1`` (holidays.yaml may not exist yet). Missing mappings on the way are
    created; a list index equal to the list's length appends; deleting what is absent is
    a no-op. Raises EditError (a ConfigError) listing every edit whose path cannot exist
    (through a scalar, an index out of range) or whose file is not valid YAML.
    """
    loaded: dict[str, tuple[YAML, Any]] = {}
    problems: list[ConfigProblem] = []
    for edit in edits:
        try:
            if edit.file not in loaded:
                loaded[edit.file] = _load(edit.file, texts.get(edit.file, NEW_FILE_TEXT))
            _apply(loaded[edit.file][1], edit)
        except EditError as exc:
            problems += exc.problems
    if problems:
        raise EditError(problems)
    result = dict(texts)
    for name, (yaml, data) in loaded.items():
        result[name] = _dump(yaml, data)
    return result


# --------------------------------------------------------------------------- diff


def plain_data(text: str, name: str = "") -> Any:
    """A YAML text as plain dicts, lists and scalars (dates as ISO text), ``${VAR}`` unexpanded."""
    _, data = _load(name, text)
    return _to_plain(data)


def _to_plain(node: Any) -> Any:
    if isinstance(node, Mapping):
        return {str(key): _to_plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_to_plain(value) for value in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, dt.datetime | dt.date):
        return node.isoformat()
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return str(node)


def _same(a: Any, b: Any) -> bool:
    """Equal as config values: ``True`` is not ``1``, but ``5`` is ``5.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[key], b[key]) for key in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    numbers = (int, float)
    return (type(a) in numbers and type(b) in numbers and a == b) or (type(a) is type(b) and a == b)


def _diff(name: str, path: KeyPath, old: Any, new: Any) -> list[Edit]:
    if isinstance(old, dict) and isinstance(new, dict):
        edits = [Edit(file=name, path=[*path, key], delete=True) for key in old if key not in new]  # type: ignore[arg-type]
        for key, value in new.items():
            if key not in old:
                edits.append(Edit(file=name, path=[*path, key], value=value))  # type: ignore[arg-type]
            else:
                edits += _diff(name, (*path, key), old[key], value)
        return edits
    if _same(old, new):
        return []
    return [Edit(file=name, path=list(path), value=new)]  # type: ignore[arg-type]


def diff_edits(old_texts: Mapping[str, str], new_texts: Mapping[str, str]) -> list[Edit]:
    """The leaf edits that turn the files ``old_texts`` into ``new_texts`` (as parsed data).

    Mappings are recursed; lists and scalars are leaves (set whole). A file missing from
    ``new_texts`` is left alone (a posted set may carry only the files it changes); a file
    missing from ``old_texts`` is compared with an empty one. Comments and layout are not
    data: changing only them gives no edit. Raises EditError for a file that is not YAML.
    """
    edits: list[Edit] = []
    for name, new_text in new_texts.items():
        old_text = old_texts.get(name)
        old = plain_data(old_text, name) if old_text is not None else {}
        new = plain_data(new_text, name)
        root_old = old if isinstance(old, dict) else {}
        if not isinstance(new, dict):
            raise EditError([ConfigProblem(name, 1, "", "must be a YAML mapping (key: value lines)")])
        edits += _diff(name, (), root_old, new)
    return edits


def unified_diff(old_texts: Mapping[str, str], new_texts: Mapping[str, str]) -> str:
    """A ``diff -u`` of every file that differs, in file-name order (``a/`` = old, ``b/`` = new)."""
    chunks: list[str] = []
    for name in sorted(set(old_texts) | set(new_texts)):
        old, new = old_texts.get(name, ""), new_texts.get(name, "")
        if old == new:
            continue
        fromfile = f"a/{name}" if name in old_texts else "/dev/null"
        lines = difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), fromfile, f"b/{name}"
        )
        chunks.append("".join(line if line.endswith("\n") else line + "\n" for line in lines))
    return "".join(chunks)


def file_sha(text: str) -> str:
    """sha256 (hex) of a file's UTF-8 text: the ``base`` a client computed its edits against."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- files


def read_config_texts(config_dir: Path, names: Sequence[str]) -> dict[str, str]:
    """The texts of those files that exist in ``config_dir`` (absent ones are left out)."""
    texts: dict[str, str] = {}
    for name in names:
        path = config_dir / name
        if path.is_file():
            texts[name] = path.read_text(encoding="utf-8")
    return texts


def write_text_atomic(path: Path, text: str, *, backup: bool = True) -> None:
    """Replace ``path`` with ``text`` all at once: a temp file in the same directory, fsync,
    ``os.replace``. The old version, if any, is kept as ``<name>.bak`` and its mode is kept;
    a new file gets 0644. A crash leaves either the old file or the new one, never half."""
    previous = path.stat() if path.exists() else None
    mode = stat.S_IMODE(previous.st_mode) if previous is not None else NEW_FILE_MODE
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        if previous is not None and backup:
            _backup(path)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _backup(path: Path) -> None:
    """``<name>.bak`` := the current file, itself written atomically (a hard link would share edits)."""
    target = path.with_name(path.name + BACKUP_SUFFIX)
    data = path.read_bytes()
    mode = stat.S_IMODE(path.stat().st_mode)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _fsync_dir(directory: Path) -> None:
    # The rename is durable only once the directory entry is; Windows cannot open directories.
    if os.name == "nt":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_config_files(config_dir: Path, texts: Mapping[str, str]) -> list[str]:
    """Write each file whose text differs from what is on disk (atomic, ``.bak`` kept).

    Returns the names written, in the order given. Files are replaced one by one, so a
    reader polling mtimes may see one new file before the next; the daemon validates the
    whole set on reload anyway (SPEC §4.7).
    """
    written: list[str] = []
    for name, text in texts.items():
        path = config_dir / name
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        write_text_atomic(path, text)
        written.append(name)
    return written


__all__ = [
    "BACKUP_SUFFIX",
    "NEW_FILE_MODE",
    "NEW_FILE_TEXT",
    "EditError",
    "apply_edits",
    "diff_edits",
    "file_sha",
    "plain_data",
    "read_config_texts",
    "unified_diff",
    "write_config_files",
    "write_text_atomic",
]
