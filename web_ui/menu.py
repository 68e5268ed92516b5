"""The main menu: what each kind of node uses, in the order its people use it.

- a **member** (an association's workshop): its workshop first, with Scan,
  Distribute and Recycle one tap away;
- a **hub**: its network (members, hand-offs), then the lots it collects
  and hands on;
- **national**: the national figures; it holds no lots.

Entries that write (Distribute, Recycle, the workshop station) are left out
for a read-only account, Settings for anyone but an admin. ``base.html``
draws the menu; on a phone it folds behind one "Menu" button.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Entry", "MENUS", "menu_for"]


def _(text: str) -> str:
    """Mark ``text`` for translation; translated where it is shown."""
    return text


@dataclass(frozen=True, slots=True)
class Entry:
    """One link of the menu: where it goes, its label, the paths it is current for, the user role it needs."""

    href: str
    label: str
    prefixes: tuple[str, ...] = ()
    role: str = "read_only"

    def current(self, path: str) -> bool:
        """Whether the page at ``path`` belongs to this entry (the home page only for itself)."""
        if self.href == "/":
            return path == "/"
        return any(path == p or path.startswith(p + "/") or path.startswith(p + ".") for p in (self.href, *self.prefixes))


HOME = Entry("/", _("Home"))
SCAN = Entry("/scan", _("Scan"), ("/i",))
WORKSHOP = Entry("/workshop", _("Workshop"))
DISTRIBUTE = Entry("/distribute", _("Distribute"), role="technician")
RECYCLE = Entry("/recycle", _("Recycle"), role="technician")
ITEMS = Entry("/items", _("Items"))
LOTS = Entry("/lots", _("Lots"))
DONORS = Entry("/donors", _("Donors"))
BENEFICIARIES = Entry("/beneficiaries", _("Beneficiaries"))
ERASURES = Entry("/erasures", _("Erasure"))
STATION = Entry("/station", _("Workshop station"), role="technician")
LABELS = Entry("/labels", _("Labels"))
REPORTS = Entry("/reports", _("Reports"))
HANDOFFS = Entry("/handoffs", _("Hand-offs"))
NETWORK = Entry("/network", _("Network"))
NATIONAL = Entry("/national", _("National figures"))
FEDERATION = Entry("/federation", _("Federation"))
SETTINGS = Entry("/settings", _("Settings"), role="admin")

MENUS: dict[str, tuple[Entry, ...]] = {
    "member": (HOME, SCAN, WORKSHOP, DISTRIBUTE, RECYCLE, ITEMS, LOTS, DONORS, BENEFICIARIES, ERASURES, STATION,
               LABELS, REPORTS, HANDOFFS, FEDERATION, SETTINGS),
    "hub": (HOME, NETWORK, HANDOFFS, SCAN, LOTS, ITEMS, WORKSHOP, DISTRIBUTE, RECYCLE, DONORS, LABELS, REPORTS,
            FEDERATION, SETTINGS),
    "national": (HOME, NATIONAL, FEDERATION, SETTINGS),
}  # fmt: skip


def menu_for(node_role: str, user) -> tuple[Entry, ...]:
    """The entries ``user`` (a ``node.domain.users.User``, or None) sees on a node of ``node_role``."""
    if user is None:
        return ()
    return tuple(entry for entry in MENUS.get(node_role, MENUS["member"]) if user.may(entry.role))
