"""What a node tells a person beyond a refusal: a stable code, its values, and an English sentence.

The command line prints the sentence; the web interface shows its own
translation of the code with the values in place (``web_ui``), so the two
never depend on the wording of the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Note"]


@dataclass(frozen=True, slots=True)
class Note:
    code: str
    text: str
    values: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text
