"""Errors of the importers.

Hierarchy::

    NodeError              (node.errors)
    └── ImportFailed       a whole file cannot be imported

A problem confined to one row of a spreadsheet is not an exception: it is a
``RowError`` in the result (see ``node.imports.sheet``), so that one bad row
never hides the good ones.
"""

from __future__ import annotations

from node.errors import NodeError

__all__ = ["ImportFailed"]


class ImportFailed(NodeError):
    """The file cannot be imported at all.

    ``line`` is the line (or spreadsheet row) a person should look at, or
    ``None`` when the problem is the file as a whole; ``message`` is English
    and does not repeat the line, ``code`` is stable (for translated
    messages); ``str()`` gives both line and message.
    """

    code = "import_failed"

    def __init__(self, line: int | None, message: str, *, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.line = line

    def __reduce__(self):
        # It travels back from the worker process that parses imports (node.imports.parsing).
        return (type(self), (self.line, self.message), self.__dict__)

    def __str__(self) -> str:
        return self.message if self.line is None else f"line {self.line}: {self.message}"

    def __repr__(self) -> str:
        return f"ImportFailed(line={self.line!r}, message={self.message!r}, code={self.code!r})"
