"""Display names of the domain's codes, shared by every page.

Each dict maps a stable code of the domain (an item state, a category...) to
an English source string; pages pass the value through ``_()`` to show it:
``_(STATE_NAMES[item.state])``. The French translations are in
``locale/fr/LC_MESSAGES/catalogue.po``. The strings are marked with ``_``
below (an identity function) so that tests/web_ui/test_i18n.py checks them.
Codes the dicts do not know are shown as they are: use :func:`name_of`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

__all__ = [
    "STATE_NAMES",
    "CATEGORY_NAMES",
    "DONOR_TYPES",
    "ORIENTATIONS",
    "BENEFICIARY_CATEGORIES",
    "STORAGE",
    "STORAGE_TYPES",
    "LOT_STATUS",
    "LOT_SOURCES",
    "DOCUMENT_KINDS",
    "SORT_ORIENTATIONS",
    "name_of",
]


def _(text: str) -> str:
    """Mark ``text`` for translation; it is translated where it is shown."""
    return text


# node.states.STATES
STATE_NAMES: dict[str, str] = {
    "received": _("received"),
    "sorted": _("sorted"),
    "tested": _("tested"),
    "erased": _("erased"),
    "refurbished": _("refurbished"),
    "ready": _("ready"),
    "reserved": _("reserved"),
    "distributed": _("distributed"),
    "recycled": _("recycled"),
    "dismantled": _("dismantled"),
    "transferred": _("transferred"),
}

# protocol.kinds.CATEGORIES
CATEGORY_NAMES: dict[str, str] = {
    "desktop": _("desktop computer"),
    "laptop": _("laptop computer"),
    "tablet": _("tablet"),
    "smartphone": _("smartphone"),
    "screen": _("screen"),
    "printer": _("printer"),
    "multifunction_printer": _("multifunction printer"),
    "server": _("server"),
    "network": _("network equipment"),
    "peripheral": _("peripheral"),
    "component": _("component"),
    "other": _("other"),
}

# node.donors.DONOR_TYPES
DONOR_TYPES: dict[str, str] = {
    "public_body": _("public body"),
    "company": _("company"),
    "association": _("association"),
}

# node.lots.LotInput.orientations (what the donor asks for)
ORIENTATIONS: dict[str, str] = {
    "local_only": _("local beneficiaries only"),
    "social_priority": _("social priority"),
    "no_resale": _("no resale"),
}

# node.states.SORT_ORIENTATIONS (what sorting decides for an item)
SORT_ORIENTATIONS: dict[str, str] = {
    "refurbish": _("to refurbish"),
    "parts": _("for parts"),
    "recycle": _("to recycle"),
}

# node.beneficiaries.BENEFICIARY_CATEGORIES
BENEFICIARY_CATEGORIES: dict[str, str] = {
    "person": _("person in precarity"),
    "association": _("association"),
    "school": _("school"),
    "ess": _("social and solidarity economy organisation"),
    "other": _("other"),
}

# node.items.ItemInput.storage
STORAGE: dict[str, str] = {
    "none": _("no storage"),
    "present": _("storage present"),
    "removed": _("storage removed"),
    "unknown": _("storage unknown"),
}

# node.items.ItemInput.storage_type
STORAGE_TYPES: dict[str, str] = {
    "hdd": _("hard disk (HDD)"),
    "ssd": _("SSD"),
    "nvme": _("NVMe SSD"),
    "emmc": _("eMMC"),
    "other": _("other storage"),
}

# node.lots.Lot.status
LOT_STATUS: dict[str, str] = {
    "open": _("no item yet"),
    "in_progress": _("in progress"),
    "closed": _("every item has its fate"),
}

# node.lots.LotInput.source
LOT_SOURCES: dict[str, str] = {
    "direct": _("collected from the donor"),
    "hub": _("received from our hub"),
    "handoff": _("handed over by another node"),
}

# node.documents.DOCUMENT_KINDS
DOCUMENT_KINDS: dict[str, str] = {
    "convention": _("transfer agreement (convention de cession)"),
    "pickup_note": _("pickup note (bon d'enlèvement)"),
    "erasure_log": _("erasure log"),
    "other": _("other document"),
}


def name_of(names: Mapping[str, str], code: str | None, translate: Callable[[str], str]) -> str:
    """``code``'s translated name, or the code itself if ``names`` does not know it."""
    if code is None:
        return ""
    return translate(names[code]) if code in names else code
