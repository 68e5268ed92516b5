"""The catalogue: donors, lots, items, and the ways in from a label (``/i/{gid}``, ``/scan``).

The pages live in ``catalogue_donors``, ``catalogue_lots``, ``catalogue_items``,
``catalogue_item_page``, ``catalogue_documents`` and ``catalogue_imports``; they all add their
routes to the one table of ``catalogue_common``, which this module exposes
as ``routes`` for ``web_ui.app.PAGES``.
"""

from __future__ import annotations

from web_ui.pages import (  # noqa: F401  (imported for their routes)
    catalogue_documents,
    catalogue_donors,
    catalogue_imports,
    catalogue_item_page,
    catalogue_items,
    catalogue_lots,
)
from web_ui.pages.catalogue_common import routes

__all__ = ["routes"]
