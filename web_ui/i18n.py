"""Translation catalogue: source strings are English, French is the default.

Catalogues are gettext ``.po`` files under ``web_ui/locale``, read once with
Babel, so translators can use their usual tools and no compile step exists.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "translator"]

DEFAULT_LANGUAGE = "fr"
LANGUAGES = ("fr", "en")
_LOCALE_DIR = Path(__file__).parent / "locale"


@lru_cache(maxsize=None)
def _catalogue(language: str) -> dict[str, str]:
    path = _LOCALE_DIR / language / "LC_MESSAGES" / "maillon.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        catalog = read_po(handle)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}


def translator(language: str) -> Callable[[str], str]:
    """Return ``_`` for ``language``; unknown strings fall back to English."""
    table = _catalogue(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    return lambda message: table.get(message, message)
