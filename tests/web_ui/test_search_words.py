"""The words the item search knows for each category include what the interface calls it."""

from __future__ import annotations

from node.store.search import CATEGORY_WORDS, fold
from protocol.kinds import CATEGORIES
from web_ui.i18n import LANGUAGES, translator
from web_ui.labels import CATEGORY_NAMES


def test_every_category_is_found_by_its_name_in_every_language():
    assert set(CATEGORY_WORDS) == set(CATEGORIES) == set(CATEGORY_NAMES)
    for language in LANGUAGES:
        _ = translator(language)
        for category, name in CATEGORY_NAMES.items():
            assert fold(_(name)) in fold(CATEGORY_WORDS[category]), (language, category, _(name))
