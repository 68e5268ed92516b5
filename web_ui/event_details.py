"""An item event's details (``node.domain.items.Event.detail``) in the reader's words: the item page's
history and the events export (``web_ui.sheets``) say them alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from web_ui.labels import SORT_ORIENTATIONS

__all__ = ["event_details", "in_words"]


def in_words(value: Any, _: Callable[..., str]) -> str:
    """A detail's value the page does not know, readable: yes/no, lists and mappings spelt out."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if value is None:
        return "–"
    if isinstance(value, dict):
        return " · ".join(_("{name}: {value}", name=str(k), value=in_words(v, _)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(in_words(v, _) for v in value)
    return str(value)


def event_details(detail: dict[str, Any], _: Callable[..., str], money: Callable[[int], str],
                  nodes: dict[str, str]) -> list[tuple[str, str, str]]:  # fmt: skip
    """An event's details as (label, value, link) in words; ``money`` writes cents, ``nodes`` names node ids."""
    shown: list[tuple[str, ...]] = []
    for key, value in sorted(detail.items()):
        if key == "orientation":
            shown.append(
                (_("Orientation"), _(SORT_ORIENTATIONS[value]) if value in SORT_ORIENTATIONS else str(value))
            )
        elif key == "grade":
            shown.append((_("Grade"), str(value)))
        elif key == "os":
            shown.append((_("Operating system"), str(value)))
        elif key == "note":
            shown.append((_("Note"), str(value)))
        elif key == "reason":
            shown.append((_("Reason of the correction"), str(value)))
        elif key == "destroyed":
            shown.append((_("Disk"), _("destroyed") if value else _("taken out")))
        elif key == "proof":
            shown.append((_("Proof"), _("disk taken out or destroyed") if value == "storage_removed"
                           else _("erasure records of its disks")))  # fmt: skip
        elif key == "price_cents" and isinstance(value, int):
            shown.append((_("Price"), money(value) if value else _("free")))
        elif key == "recipient":
            shown.append((_("Recipient"), str(value)))
        elif key == "outflow":
            shown.append((_("Outflow"), f"#{value}"))
        elif key in ("from", "to"):
            label = _("Received from") if key == "from" else _("Handed to")
            shown.append((label, nodes.get(str(value)) or _("a node this one does not know")))
        elif key == "offer" and isinstance(value, str) and len(value) == 64:
            shown.append((_("Lot hand-off"), _("see the hand-off"), f"/handoffs/{value}"))
        elif key == "receipt" and isinstance(value, str):
            shown.append((_("Receipt"), _("signed by the receiving node (record {short})", short=value[:12])))
        elif key == "station":
            shown.append((_("Workshop station"), str(value)))
        elif key == "import":  # node.domain.history_import: the row of a sheet it came from
            if value:
                shown.append((_("Source"), _("imported from a sheet")))
        elif key == "notes" and isinstance(value, dict):  # the sheet's columns no field took
            shown.append((_("Notes from the sheet"), in_words(value, _)))
        else:
            shown.append((key.replace("_", " ").capitalize(), in_words(value, _)))
    return [(label, value, link[0] if link else "") for label, value, *link in shown]
