"""Config problems in SPEC §8's one-line form, and the error that carries all of them.

Every problem found in a config set is collected before anything is raised, so an
operator fixes a file in one pass instead of one error per run. A problem prints as::

    config/risk_config.yaml:14: rules.daily_realized_loss.limit: must be -1000000..-1 (got 500.0), e.g. -500.0
    config/risk_config.yaml:3:7: YAML syntax error: mapping values are not allowed here

Exception tree::

    Exception
     └── ConfigError          problems: list[ConfigProblem], str = one problem per line
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: A path of keys into a YAML document: mapping keys (str) and list indices (int).
KeyPath = tuple[str | int, ...]


def format_key(path: Sequence[str | int]) -> str:
    """Dotted key of a path, list indices in brackets: ``("accounts", 1, "id")`` -> ``accounts[1].id``.

    A key that cannot be printed as it is (a newline, a carriage return, an empty string)
    is quoted and escaped, so each problem stays one line.
    """
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            name = str(part) if str(part).isprintable() and str(part) else repr(str(part))
            text += f".{name}" if text else name
    return text


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong (or, as a warning, doubtful) in one config file.

    ``line`` and ``col`` are 1-based; ``line`` is ``None`` when the problem has no place
    in a file (a missing file, an environment variable). ``key`` is the dotted key
    (``rules.max_contracts.limit``) or ``""`` when the problem concerns the whole file.
    """

    path: str
    line: int | None
    key: str
    message: str
    col: int | None = None

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"

    @classmethod
    def syntax(cls, path: str, line: int, col: int, detail: str) -> ConfigProblem:
        """A YAML syntax error, printed ``<path>:<line>:<col>: YAML syntax error: <detail>``."""
        return cls(path, line, "", f"YAML syntax error: {detail}", col)


class ConfigError(Exception):
    """Raised when a config file or set is invalid; carries every problem found.

    ``str()`` is the problems one per line, ready for the operator (``validate`` prints
    it and exits 4; the daemon logs it with ``CONFIG_REJECTED`` and keeps its last good set).
    """

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems: list[ConfigProblem] = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


__all__ = ["ConfigError", "ConfigProblem", "KeyPath", "format_key"]
