"""What a node tells a person beyond a refusal: a stable code, its values, and an English sentence.

The command line prints the sentence; the web interface shows its own
translation of the code with the values in place (``web_ui``), so the two
never depend on the wording of the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Note", "Said"]


@dataclass(frozen=True, slots=True)
class Note:
    code: str
    text: str
    values: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text


class Said(str):
    """A line of a report: the English sentence itself (what the command line prints), keeping its code and values.

    It is a ``str``, so code that joins, prints or searches report lines sees
    the sentence; the web interface says ``code`` in the reader's language
    with ``values`` in place (``web_ui.import_lines``).
    """

    code: str
    values: dict[str, object]

    def __new__(cls, code: str, template: str, /, **values: object) -> Said:
        said = super().__new__(cls, template.format(**values))
        said.code, said.values = code, values
        return said
