"""Display names of the domain's codes, shared by every page.

Each dict maps a stable code of the domain (an item state, a category...) to
an English source string; pages pass the value through ``_()`` to show it:
``_(STATE_NAMES[item.state])``. The French translations are in
``locale/fr/LC_MESSAGES/catalogue.po``. The strings are marked with ``_``
below (an identity function) so that tests/web_ui/test_i18n.py checks them.
Codes the dicts do not know are shown as they are: use :func:`name_of`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

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
    "STEP_NAMES",
    "DOCUMENT_KINDS",
    "SORT_ORIENTATIONS",
    "FIGURE_NAMES",
    "CATEGORY_FIGURE_NAMES",
    "name_of",
    "ordered_categories",
    "figure_name",
    "figure_groups",
    "figure_unit",
]


def _(text: str) -> str:
    """Mark ``text`` for translation; it is translated where it is shown."""
    return text


# node.domain.states.STATES
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

# node.domain.donors.DONOR_TYPES
DONOR_TYPES: dict[str, str] = {
    "public_body": _("public body"),
    "company": _("company"),
    "association": _("association"),
}

# node.domain.lots.LotInput.orientations (what the donor asks for)
ORIENTATIONS: dict[str, str] = {
    "local_only": _("local beneficiaries only"),
    "social_priority": _("social priority"),
    "no_resale": _("no resale"),
}

# node.domain.states.SORT_ORIENTATIONS (what sorting decides for an item)
SORT_ORIENTATIONS: dict[str, str] = {
    "refurbish": _("to refurbish"),
    "parts": _("for parts"),
    "recycle": _("to recycle"),
}

# node.domain.beneficiaries.BENEFICIARY_CATEGORIES
BENEFICIARY_CATEGORIES: dict[str, str] = {
    "person": _("person in precarity"),
    "association": _("association"),
    "school": _("school"),
    "ess": _("social and solidarity economy organisation"),
    "other": _("other"),
}

# node.domain.items.ItemInput.storage
STORAGE: dict[str, str] = {
    "none": _("no storage"),
    "present": _("storage present"),
    "removed": _("storage removed"),
    "unknown": _("storage unknown"),
}

# node.domain.items.ItemInput.storage_type
STORAGE_TYPES: dict[str, str] = {
    "hdd": _("hard disk (HDD)"),
    "ssd": _("SSD"),
    "nvme": _("NVMe SSD"),
    "emmc": _("eMMC"),
    "other": _("other storage"),
}

# node.domain.lots.Lot.status
LOT_STATUS: dict[str, str] = {
    "open": _("no item yet"),
    "in_progress": _("in progress"),
    "closed": _("every item has its fate"),
}

# node.domain.lots.LotInput.source
LOT_SOURCES: dict[str, str] = {
    "direct": _("collected from the donor"),
    "hub": _("received from our hub"),
    "handoff": _("handed over by another node"),
}

# Steps the domain itself names (node.domain.workflow; the others are the association's own names, shown as
# they are).
STEP_NAMES: dict[str, str] = {
    "correction": _("correction"),
    "storage_removed": _("storage removed"),
    "erasure_proven": _("erasure proven by its records"),
}

# node.domain.documents.DOCUMENT_KINDS
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


# The figures of a statistics report (node.domain.stats.Stats.as_figures, node.network.stats_reports, node.network.regional):
# the keys without a category or beneficiary category in them.
FIGURE_NAMES: dict[str, str] = {
    "recycled.weight_g": _("Weight handed to recyclers"),
    "reuse_rate_permille": _("Reuse rate"),
    "lead_time.median_days": _("Days from reception to fate (median)"),
    "lead_time.mean_days": _("Days from reception to fate (mean)"),
    "impact.years": _("Years of second life assumed"),
    "impact.co2e_g": _("Greenhouse gases avoided (total)"),
    "impact.materials_g": _("Raw materials avoided (total)"),
    "workforce.fte_hundredths": _("Full-time equivalents (FTE)"),
    "workforce.insertion_jobs": _("Work-integration jobs"),
    "workforce.volunteers": _("Volunteers"),
    "lots.from_donors": _("Lots received from donors"),
    "donors.count": _("Donors of those lots"),
    "members.reporting": _("Member associations whose report counts"),
    "members.missing": _("Member associations without a report"),
}

# "<first>.<category>.<last>" keys; {category} is the category's translated name.
CATEGORY_FIGURE_NAMES: dict[tuple[str, str], str] = {
    ("received", "units"): _("Received: {category} (units)"),
    ("received", "weight_g"): _("Received: {category} (weight)"),
    ("distributed", "units"): _("Distributed: {category} (units)"),
    ("transferred", "units"): _("Handed over to another node: {category} (units)"),
    ("entered", "units"): _("Entered the network from donors: {category} (units)"),
    ("entered", "weight_g"): _("Entered the network from donors: {category} (weight)"),
    ("moved_in", "units"): _("Received from the network: {category} (units)"),
    ("moved_in", "weight_g"): _("Received from the network: {category} (weight)"),
    ("from_other_network", "units"): _("Received from another network: {category} (units)"),
    ("from_other_network", "weight_g"): _("Received from another network: {category} (weight)"),
    ("moved_out", "units"): _("Handed to a node of the network: {category} (units)"),
    ("left", "units"): _("Left the network: {category} (units)"),
    ("recycled", "units"): _("Recycled: {category} (units)"),
    ("recycled", "weight_g"): _("Recycled: {category} (weight)"),
    ("dismantled", "units"): _("Dismantled: {category} (units)"),
    ("dismantled", "weight_g"): _("Dismantled: {category} (weight)"),
    ("impact", "co2e_g"): _("CO2e avoided: {category}"),
    ("impact", "materials_g"): _("Raw materials avoided: {category}"),
    ("unfactored", "units"): _("Distributed without an impact factor: {category} (units)"),
}
_BENEFICIARIES = _("Beneficiaries served: {category}")


def figure_name(key: str, translate: Callable[..., str]) -> str:
    """The translated name of a report's figure ``key``; an unknown key is shown as it is."""
    if key in FIGURE_NAMES:
        return translate(FIGURE_NAMES[key])
    parts = key.split(".")
    if len(parts) == 2 and parts[0] == "beneficiaries":
        return translate(_BENEFICIARIES, category=name_of(BENEFICIARY_CATEGORIES, parts[1], translate))
    if len(parts) == 4 and parts[:2] == ["impact", "unfactored"]:
        parts = parts[1:]
    if len(parts) == 3 and (parts[0], parts[2]) in CATEGORY_FIGURE_NAMES:
        category = name_of(CATEGORY_NAMES, parts[1], translate)
        return translate(CATEGORY_FIGURE_NAMES[(parts[0], parts[2])], category=category)
    return key


_OTHER_FIGURES = _("other figures ({count})")


def figure_groups(keys: Iterable[str], translate: Callable[..., str]) -> list[str]:
    """The figures ``keys`` named for a person, in the order given, a kind of figure once with all its categories.

    ``dismantled.desktop.units`` and ``dismantled.printer.units`` read "Dismantled: desktop computer, printer
    (units)"; keys without a name are counted ("other figures (2)"), never shown as they are.
    """
    groups: dict[tuple[str, ...], list[str]] = {}
    unknown = 0
    for key in keys:
        parts = key.split(".")
        if len(parts) == 4 and parts[:2] == ["impact", "unfactored"]:
            parts = parts[1:]
        if key in FIGURE_NAMES:
            groups.setdefault((key,), [])
        elif len(parts) == 2 and parts[0] == "beneficiaries":
            groups.setdefault(("beneficiaries",), []).append(parts[1])
        elif len(parts) == 3 and (parts[0], parts[2]) in CATEGORY_FIGURE_NAMES:
            groups.setdefault((parts[0], parts[2]), []).append(parts[1])
        else:
            unknown += 1
    out = []
    for group, codes in groups.items():
        if len(group) == 1 and group[0] in FIGURE_NAMES:
            out.append(translate(FIGURE_NAMES[group[0]]))
        elif group == ("beneficiaries",):
            names = ", ".join(name_of(BENEFICIARY_CATEGORIES, code, translate) for code in dict.fromkeys(codes))
            out.append(translate(_BENEFICIARIES, category=names))
        else:
            names = ", ".join(name_of(CATEGORY_NAMES, code, translate) for code in ordered_categories(codes))
            out.append(translate(CATEGORY_FIGURE_NAMES[group], category=names))  # type: ignore[index]
    if unknown:
        out.append(translate(_OTHER_FIGURES, count=unknown))
    return out


def figure_unit(key: str) -> str:
    """How a figure's value reads: ``grams``, ``permille``, ``days``, ``hundredths``, ``years`` or ``count``."""
    if key.endswith(("weight_g", "co2e_g", "materials_g")):
        return "grams"
    if key.endswith("_permille"):
        return "permille"
    if key.endswith("_days"):
        return "days"
    if key.endswith("_hundredths"):
        return "hundredths"
    if key == "impact.years":
        return "years"
    return "count"


def ordered_categories(categories: Iterable[str]) -> list[str]:
    """Item categories in the order the interface lists them (``CATEGORY_NAMES``), unknown ones after."""
    present = set(categories)
    return [c for c in CATEGORY_NAMES if c in present] + sorted(present - set(CATEGORY_NAMES))
