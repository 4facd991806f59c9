"""The one error a rule file can raise: it names the file, the line and what is wrong."""

from __future__ import annotations


class RulesError(ValueError):
    """A rule file that cannot be used, with the place to fix it.

    ``str()`` reads like a compiler message: ``rules.yaml:12: unknown compressor 'jsn_table'``.
    """

    def __init__(self, path: str, line: int, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        super().__init__(f"{path}:{line}: {message}")


class RulesErrors(RulesError):
    """Several problems in one file; behaves as the first, carries them all in ``errors``."""

    def __init__(self, errors: list[RulesError]) -> None:
        first = errors[0]
        self.errors = errors
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first.path, first.line, first.message + more)
