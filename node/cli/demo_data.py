"""A year of one node's activity, for the demonstration federation, written with the domain's own functions.

``generate`` replays a workshop's past year in time order, each change
under ``clock_at``: donors and their lots (counted and weighed at
reception) with each item's description; then, week by week, the
workshop's batches: sorting (refurbish, parts, recycle), tests and grades,
data erasure per disk (nwipe, secure erase; a failed wipe is retried, or
the disk destroyed and the item taken apart), reinstallation, items ready,
distribution to beneficiaries at a prix solidaire, the recycler's monthly
pick-up, parts harvested from the items dismantled. Nothing is written to
the database but through the domain, so every rule holds (no item that may
hold data is distributed without a successful erasure; prices under the
caps, free where the donor asked) and the node's log signs the fates as
they happened. What would happen after today is left undone: the recent
lots are still in the workshop.

The numbers are those of the Ordi Grand Ouest 2023 activity report
(``DOMAIN.md``): the State experiment (5 lots, 1 350 products, over 5 t)
in the hub's warehouse, the Région Bretagne lot (18 pallets, 1 200
products, over 3.5 t) and La Poste's five lots (100 products, 850 kg) at
members. The randomness is seeded by the plan's name: a plan always gives
the same history.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from node.categories import DEFAULT_WEIGHT_G
from node.domain.beneficiaries import BeneficiaryInput, create_beneficiary
from node.domain.distribution import DistributionInput, OutflowInput, distribute, price_problems, recycle
from node.domain.donors import DonorInput, create_donor
from node.domain.erasure import ErasureInput, needs_erasure, record_erasure
from node.domain.items import ItemInput, create_items
from node.domain.lots import LotInput, Reception, create_lot, receive_lot
from node.domain.settings import set_setting
from node.domain.workflow import (
    StepInput,
    define_step,
    fit_component,
    harvest_component,
    record_step,
    remove_storage,
)
from node.store.database import Store, Tx, clock_at, day_ms, now_ms

__all__ = ["DonorPlan", "LotPlan", "Plan", "Generated", "PLANS", "history_start", "ended_months", "generate",
           "sort_received_lot"]  # fmt: skip

HOUR_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class DonorPlan:
    name: str
    type: str  # public_body, company, association
    address: str | None = None
    asset_prefix: str | None = None  # the donor's own inventory numbers, when it has some


@dataclass(frozen=True, slots=True)
class LotPlan:
    reference: str
    donor: str  # a DonorPlan's name
    ago: int  # received this many days before today
    units: Mapping[str, int]  # per item category
    weight_kg: int | None = None  # declared by the donor (default: the items' weights)
    orientations: tuple[str, ...] = ()
    site: str | None = None
    workshop: bool = True  # refurbished here; False: kept in the warehouse, for hand-offs


@dataclass(frozen=True, slots=True)
class Plan:
    """What one node did in the year: its donors, its lots, its workshop's pace and its people."""

    slug: str
    asset_prefix: str
    donors: tuple[DonorPlan, ...]
    lots: tuple[LotPlan, ...]
    weekly: int = 20  # items the workshop sorts per week and lot
    referrers: tuple[str, ...] = ("CCAS",)
    organisations: tuple[tuple[str, str], ...] = ()  # (beneficiary category, name): schools, associations...
    recycler: str = "Ecologic (collecte Envie)"
    steps: tuple[tuple[str, str], ...] = ()  # the association's own step names: (name, canonical state)
    policy: str | None = None
    workforce: str | None = None


@dataclass(frozen=True, slots=True)
class Generated:
    """What ``generate`` wrote, counted from the database."""

    lots: int
    items: int
    states: dict[str, int]
    erasures: int
    beneficiaries: int
    records: int


# per category: brand, model, CPU, RAM (MB), storage type, storage (GB), screen (tenths of an inch)
_CATALOGUE: dict[str, list[tuple]] = {
    "desktop": [("Dell", "OptiPlex 7050", "Intel Core i5-7500", 8192, "ssd", 256, None),
                ("HP", "ProDesk 600 G3", "Intel Core i5-6500", 8192, "hdd", 500, None),
                ("Lenovo", "ThinkCentre M710s", "Intel Core i3-7100", 4096, "hdd", 500, None)],
    "laptop": [("Dell", "Latitude 5490", "Intel Core i5-8250U", 8192, "ssd", 256, 140),
               ("HP", "EliteBook 840 G5", "Intel Core i5-8350U", 8192, "nvme", 256, 140),
               ("Lenovo", "ThinkPad L480", "Intel Core i3-8130U", 4096, "hdd", 500, 140),
               ("Dell", "Latitude E5570", "Intel Core i5-6300U", 4096, "hdd", 500, 156)],
    "screen": [("Dell", "P2217H", None, None, None, None, 215), ("Iiyama", "ProLite XU2292HS", None, None, None, None, 215),
               ("HP", "EliteDisplay E243", None, None, None, None, 238)],
    "tablet": [("Samsung", "Galaxy Tab A 10.1", None, 2048, "emmc", 32, 101),
               ("Apple", "iPad (6e génération)", None, 2048, "emmc", 32, 97)],
    "smartphone": [("Samsung", "Galaxy A40", None, 4096, "emmc", 64, 59), ("Apple", "iPhone 8", None, 2048, "emmc", 64, 47)],
    "printer": [("HP", "LaserJet Pro M402dn", None, None, None, None, None),
                ("Brother", "HL-L2350DW", None, None, None, None, None)],
    "multifunction_printer": [("Kyocera", "Ecosys M2540dn", None, None, "hdd", 320, None)],
    "peripheral": [("Logitech", "MK120 clavier et souris", None, None, None, None, None)],
}  # fmt: skip
_DISKS = {"hdd": ["WDC WD5000AAKX", "Seagate ST500DM002", "Toshiba DT01ACA050"],
          "ssd": ["Samsung SSD 860 EVO", "SK hynix SC311"], "nvme": ["Samsung PM981"]}  # fmt: skip
# sorting: the weights of refurbish, parts, recycle
_SORTING = {"desktop": (80, 8, 12), "laptop": (84, 8, 8), "screen": (85, 0, 15), "tablet": (75, 10, 15),
            "smartphone": (75, 10, 15), "printer": (60, 0, 40), "multifunction_printer": (50, 10, 40),
            "peripheral": (70, 0, 30)}  # fmt: skip
# the prix solidaire asked of a person, in cents, by grade (under the caps of node.categories)
_PRICES = {"laptop": (15000, 12000, 9000), "desktop": (12000, 9000, 6000), "tablet": (7000, 5000, 4000),
           "smartphone": (8000, 6000, 4000), "screen": 2000, "printer": 2500, "multifunction_printer": 9000,
           "peripheral": 500}  # fmt: skip
_SYSTEMS = ("Linux Mint 21.3", "Linux Mint 21.3", "Debian 12", "Emmabuntüs DE5")
_MAIN = ("laptop", "desktop", "tablet", "smartphone")


def _workday(start: date, day: int, *, back: bool = False) -> int:
    """``day`` (after ``start``) moved off the weekend: to the Monday after, or the Friday before."""
    weekday = (start + timedelta(days=day)).weekday()
    if weekday < 5:
        return day
    return day - (weekday - 4) if back else day + 7 - weekday


def history_start(today: date) -> date:
    """The first day of the month a year before ``today``'s: the demonstration's year begins there."""
    return date(today.year - 1, today.month, 1)


def ended_months(start: date, today: date) -> list[str]:
    """The calendar months from ``start``'s to the last one that ended before ``today``, as ``YYYY-MM``."""
    months, year, month = [], start.year, start.month
    while (year, month) < (today.year, today.month):
        months.append(f"{year}-{month:02d}")
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return months


@dataclass(slots=True)
class _Item:
    category: str
    description: ItemInput
    id: int = 0
    grade: str = "B"


@dataclass(slots=True)
class _Year:
    """The plan turned into actions, each at its time; ``generate`` plays those that happened before now."""

    plan: Plan
    start: date
    today: date
    scale: float
    rng: random.Random
    actions: list[tuple[int, int, Callable[[Tx], Awaitable[None]]]] = field(default_factory=list)
    to_recycle: list[_Item] = field(default_factory=list)
    harvested: list[int] = field(default_factory=list)
    serials: int = 0

    def at(self, day: int, hour: int = 9) -> int:
        """Protocol time of ``day`` (after the start) at ``hour`` o'clock UTC, give or take a few minutes."""
        return day_ms(self.start + timedelta(days=day)) + (hour - 12) * HOUR_MS + self.rng.randrange(0, 50) * 60_000

    def add(self, when: int, action: Callable[[Tx], Awaitable[None]]) -> None:
        self.actions.append((when, len(self.actions), action))

    def units(self, count: int) -> int:
        return max(1, round(count * self.scale)) if count else 0

    # the items ---------------------------------------------------------------------------

    def item(self, category: str, donor: DonorPlan, number: int) -> _Item:
        brand, model, cpu, ram, storage_type, storage_gb, screen = self.rng.choice(_CATALOGUE[category])
        self.serials += 1
        serial = f"{brand[:2].upper()}{self.plan.asset_prefix[:2]}{self.serials:05d}{self.rng.randrange(36**3):03X}"
        weight = round(DEFAULT_WEIGHT_G[category] * self.rng.uniform(0.85, 1.15))
        battery = self.rng.randint(55, 98) if category in ("laptop", "tablet", "smartphone") else None
        return _Item(category, ItemInput(
            category=category, brand=brand, model=model, serial=serial, cpu=cpu, ram_mb=ram,
            storage="present" if storage_type else "none", storage_type=storage_type, storage_gb=storage_gb,
            screen_in10=screen, battery_pct=battery, weight_g=weight,
            donor_asset=f"{donor.asset_prefix}-{number:05d}" if donor.asset_prefix else None,
        ))  # fmt: skip

    def lot(self, lot: LotPlan, donor: DonorPlan, donor_ids: dict[str, int]) -> None:
        numbers = iter(range(1, 10**6))
        items = [self.item(category, donor, next(numbers)) for category, count in lot.units.items()
                 for _ in range(self.units(count))]  # fmt: skip
        self.rng.shuffle(items)
        day = _workday(self.start, (self.today - self.start).days - lot.ago, back=True)
        share = len(items) / max(sum(lot.units.values()), 1)
        weight = sum(i.description.weight_g or 0 for i in items)
        declared = round(lot.weight_kg * 1000 * share) if lot.weight_kg else weight

        async def receive(tx: Tx) -> None:
            if donor.name not in donor_ids:
                donor_ids[donor.name] = await create_donor(tx, DonorInput(name=donor.name, type=donor.type,
                                                                          address=donor.address))  # fmt: skip
            when = self.start + timedelta(days=day)
            lot_id = await create_lot(tx, LotInput(
                reference=lot.reference, donor_id=donor_ids[donor.name], received_on=when, site=lot.site,
                declared_units=len(items), declared_weight_g=declared, orientations=list(lot.orientations)))  # fmt: skip
            ids = await create_items(tx, lot_id, [i.description for i in items], operator="réception")
            for item, item_id in zip(items, ids):
                item.id = item_id
            await receive_lot(tx, lot_id, Reception(counted_units=len(items), weighed_g=round(declared * 1.01)))

        self.add(self.at(day, 8), receive)
        if not lot.workshop:
            return
        weekly = max(1, round(self.plan.weekly * self.scale))
        for week, first in enumerate(range(0, len(items), weekly)):
            self.batch(_workday(self.start, day + 3 + 7 * week), items[first : first + weekly], lot, donor)

    # a week's batch ------------------------------------------------------------------------

    def batch(self, day: int, items: list[_Item], lot: LotPlan, donor: DonorPlan) -> None:
        ways: dict[str, list[_Item]] = defaultdict(list)
        for item in items:
            ways[self.rng.choices(("refurbish", "parts", "recycle"), _SORTING[item.category])[0]].append(item)
        refurbish, parts, recycled = (ways.get(way, []) for way in ("refurbish", "parts", "recycle"))

        async def sort(tx: Tx) -> None:
            for orientation, chosen in ways.items():
                await record_step(tx, [i.id for i in chosen], StepInput(state="sorted", orientation=orientation,
                                                                        operator="tri"))  # fmt: skip
            disks = [i.id for i in recycled if needs_erasure(i.category, i.description.storage)]
            if disks:  # the disks of what goes to the recycler are destroyed here (drill press)
                await remove_storage(tx, disks, destroyed=True, operator="tri")
            self.to_recycle.extend(recycled)

        self.add(self.at(day, 9), sort)
        if parts:
            self.add(self.at(day + 1, 15), self._dismantle(parts))
        if refurbish:
            self.refurbish(day, refurbish, lot, donor)

    def _dismantle(self, items: list[_Item]) -> Callable[[Tx], Awaitable[None]]:
        async def dismantle(tx: Tx) -> None:
            for item in items:
                if item.description.ram_mb:
                    gigabytes = item.description.ram_mb // 1024
                    self.harvested.append(await harvest_component(tx, item.id, f"barrette RAM {gigabytes} Go"))
            disks = [i.id for i in items if needs_erasure(i.category, i.description.storage)]
            if disks:
                await remove_storage(tx, disks, destroyed=True, operator="démontage")
            await record_step(tx, [i.id for i in items], StepInput(state="dismantled", note="pièces détachées"))

        return dismantle

    def refurbish(self, day: int, items: list[_Item], lot: LotPlan, donor: DonorPlan) -> None:
        steps = dict((state, name) for name, state in self.plan.steps)
        for item in items:
            item.grade = self.rng.choices("ABC", (30, 50, 20))[0]

        async def test(tx: Tx) -> None:
            for grade in "ABC":
                chosen = [i.id for i in items if i.grade == grade]
                if chosen:
                    await record_step(tx, chosen, StepInput(state="tested", step=steps.get("tested"), grade=grade,
                                                            operator="atelier"))  # fmt: skip

        self.add(self.at(day + 1, 10), test)
        wiped = [i for i in items if needs_erasure(i.category, i.description.storage)]
        outcomes = {id(i): self.rng.choices(("ok", "retry", "destroy"), (95, 4, 1))[0] for i in wiped}
        kept = [i for i in items if outcomes.get(id(i)) != "destroy"]
        lost = [i for i in wiped if outcomes[id(i)] == "destroy"]

        async def erase(tx: Tx) -> None:
            for item in wiped:
                first = self._erasure(item, "failure" if outcomes[id(item)] != "ok" else "success")
                await record_erasure(tx, first)
            with clock_at(now_ms() + 2 * HOUR_MS):  # a second pass for the disks that failed
                for item in wiped:
                    if outcomes[id(item)] == "retry":
                        await record_erasure(tx, self._erasure(item, "success", secure=True))
                if lost:  # failed twice: the disk is destroyed and the machine given to parts
                    await remove_storage(tx, [i.id for i in lost], destroyed=True, operator="atelier")
                    await record_step(tx, [i.id for i in lost], StepInput(state="dismantled",
                                                                          note="disque défectueux détruit"))  # fmt: skip
                # the others are "erased" now: their successful erasure records moved them (node.domain.erasure.settle)

        if wiped:
            self.add(self.at(day + 2, 10), erase)

        async def reinstall(tx: Tx) -> None:
            systems = [i for i in kept if i.category in ("desktop", "laptop")]
            for item in systems:  # 4 GB more, taken from a dismantled machine
                if item.description.ram_mb == 4096 and self.harvested:
                    await fit_component(tx, self.harvested.pop(), item.id)
            for system in dict.fromkeys(_SYSTEMS):
                chosen = [i.id for n, i in enumerate(systems) if _SYSTEMS[n % len(_SYSTEMS)] == system]
                if chosen:
                    await record_step(tx, chosen, StepInput(state="refurbished", step=steps.get("refurbished"),
                                                            os=system, operator="atelier"))  # fmt: skip
            others = [i.id for i in kept if i.category not in ("desktop", "laptop")]
            if others:
                await record_step(tx, others, StepInput(state="refurbished", note="nettoyé et vérifié"))
            await record_step(tx, [i.id for i in kept], StepInput(state="ready", operator="contrôle final"))

        if kept:
            self.add(self.at(day + 4, 14), reinstall)
            self.distributions(day + 5, kept, lot, donor)

    def _erasure(self, item: _Item, result: str, *, secure: bool = False) -> ErasureInput:
        kind = item.description.storage_type or "hdd"
        size = (item.description.storage_gb or 0) * 10**9
        if kind == "emmc":
            return ErasureInput(item_id=item.id, method="réinitialisation avec chiffrement", level="purge",
                                tool="réinitialisation d'usine", result=result, disk_size_bytes=size,
                                host_serial=item.description.serial, operator="atelier")  # fmt: skip
        model = self.rng.choice(_DISKS[kind])
        serial = f"{model[:3].upper()}{self.rng.randrange(16**8):08X}"
        if secure or kind != "hdd":
            return ErasureInput(item_id=item.id, disk_serial=serial, disk_model=model, disk_size_bytes=size,
                                host_serial=item.description.serial, method="ATA Secure Erase", level="purge",
                                tool="hdparm", tool_version="9.65", verification="lecture de contrôle", result=result,
                                operator="poste d'effacement")  # fmt: skip
        return ErasureInput(item_id=item.id, disk_serial=serial, disk_model=model, disk_size_bytes=size,
                            host_serial=item.description.serial, method="PRNG Stream", level="clear", tool="nwipe",
                            tool_version="0.35", passes=1, verification="last", result=result, source="nwipe",
                            operator="poste d'effacement")  # fmt: skip

    # distributions ------------------------------------------------------------------------

    def distributions(self, day: int, items: list[_Item], lot: LotPlan, donor: DonorPlan) -> None:
        """Beneficiaries for the ready items, each served some days later: people, schools, associations."""
        pool = defaultdict(list)
        for item in items:
            pool[item.category].append(item)
        while any(pool.values()):
            kind = self.rng.choices(("person", "organisation"), (80, 20))[0] if self.plan.organisations else "person"
            if kind == "person":
                main = [c for c in _MAIN if pool[c]]
                first = pool[self.rng.choice(main)].pop() if main else next(p for p in pool.values() if p).pop()
                group = [first]
                if first.category == "desktop":  # a whole set: unit, screen, keyboard and mouse
                    group += [pool[c].pop() for c in ("screen", "peripheral") if pool[c]]
                category, name = "person", None
            else:
                category, name = self.rng.choice(self.plan.organisations)
                size, group = self.rng.randint(3, 8), []
                for left in self.rng.sample(list(pool.values()), len(pool)):
                    while left and len(group) < size:
                        group.append(left.pop())
            self.add(self.at(day + self.rng.randint(1, 45), 15), self._serve(group, category, name, lot, donor))

    def _price(self, item: _Item, category: str, lot: LotPlan, donor: DonorPlan) -> int:
        if category not in ("person", "association"):
            return 0
        asked = _PRICES[item.category]
        price = asked["ABC".index(item.grade)] if isinstance(asked, tuple) else asked
        price = price if category == "person" else price // 2
        problems = price_problems(item.category, price, donor.type, list(lot.orientations), category)
        return 0 if problems else price

    def _serve(self, group: list[_Item], category: str, name: str | None, lot: LotPlan,
               donor: DonorPlan) -> Callable[[Tx], Awaitable[None]]:  # fmt: skip
        referrer = self.rng.choice(self.plan.referrers) if category == "person" else None
        # a desktop set is priced as a whole: the unit carries the price, the rest comes with it
        prices = [self._price(item, category, lot, donor) if n == 0 or group[0].category != "desktop" else 0
                  for n, item in enumerate(group)]  # fmt: skip

        async def serve(tx: Tx) -> None:
            beneficiary = await create_beneficiary(tx, BeneficiaryInput(category=category, referrer=referrer, name=name))
            by_price = defaultdict(list)
            for item, price in zip(group, prices):
                by_price[price].append(item.id)
            for price, ids in by_price.items():
                await distribute(tx, ids, DistributionInput(beneficiary_id=beneficiary, price_cents=price,
                                                            operator="accueil"))  # fmt: skip

        return serve

    def pickups(self, days: int) -> None:
        """The recycler comes on the 20th of each month for what was sorted to recycle, and loose material."""
        month = self.start
        while (month - self.start).days < days:
            day = (month.replace(day=20) - self.start).days

            async def pickup(tx: Tx) -> None:
                items, self.to_recycle[:] = list(self.to_recycle), []
                loose = self.rng.random() < 0.3
                if items or loose:
                    await recycle(tx, OutflowInput(
                        item_ids=[i.id for i in items], recipient=self.plan.recycler, waste_code="16 02 14",
                        treatment="R4 recyclage des métaux", weight_g=None if items else self.rng.randint(15, 60) * 1000,
                        note=None if items else "câbles et petits déchets", operator="logistique"))  # fmt: skip

            self.add(self.at(day, 11), pickup)
            month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)


async def generate(store: Store, plan: Plan, *, start: date, today: date | None = None,
                   scale: float = 1.0) -> Generated:  # fmt: skip
    """Write ``plan``'s year from ``start`` up to now (``today``) into ``store``; return what is there.

    Meant for a node's fresh database, before it joins anyone: its records
    are dated as they happened, and a node's log never goes back in time,
    so nothing must be signed after ``start`` before this runs
    (``commands.create_database`` under ``clock_at(start)``). ``scale``
    shrinks every lot (0.1: a tenth of the items, for quick tests).
    """
    today = today or date.today()
    year = _Year(plan, start, today, scale, random.Random(plan.slug))
    donors = {d.name: d for d in plan.donors}
    donor_ids: dict[str, int] = {}
    for lot in plan.lots:
        year.lot(lot, donors[lot.donor], donor_ids)
    if any(lot.workshop for lot in plan.lots):
        year.pickups((today - start).days + 1)
    now = now_ms()
    with clock_at(year.at(0, 7)):
        async with store.transaction() as tx:
            await set_setting(tx, "asset_prefix", plan.asset_prefix)
            for name, value in (("publication_policy", plan.policy), ("workforce", plan.workforce)):
                if value is not None:
                    await set_setting(tx, name, value)
            for name, state in plan.steps:
                await define_step(tx, name, state)
    due = sorted(a for a in year.actions if a[0] < now)
    for first in range(0, len(due), 400):  # a transaction per few hundred actions: a few weeks of work
        async with store.transaction() as tx:
            for when, _, action in due[first : first + 400]:
                with clock_at(when):
                    await action(tx)
    return await count(store)


async def count(store: Store) -> Generated:
    async with store.reader() as db:
        states = {r[0]: r[1] for r in await db.all("SELECT state, count(*) FROM items GROUP BY state")}
        return Generated(
            lots=await db.value("SELECT count(*) FROM lots"), items=sum(states.values()), states=states,
            erasures=await db.value("SELECT count(*) FROM erasures"),
            beneficiaries=await db.value("SELECT count(*) FROM beneficiaries"),
            records=await db.value("SELECT count(*) FROM log_records WHERE author = ?", (store.key.public.raw,)),
        )  # fmt: skip


async def sort_received_lot(store: Store, lot_id: int, *, recycle_share: float = 0.05) -> int:
    """Today's sorting of a lot received by hand-off: most to refurbish, a few to the recycler at once.

    The recycled items' fates flow back to the node that handed the lot
    over (``node.network.handoffs``). Returns how many were recycled.
    """
    rng = random.Random(lot_id)
    async with store.transaction() as tx:
        rows = await tx.all("SELECT id, category, storage FROM items WHERE lot_id = ? AND state = 'received' ORDER BY id",
                            (lot_id,))  # fmt: skip
        broken = [r for r in rows if rng.random() < recycle_share] or rows[:1]
        keep = [r["id"] for r in rows if r not in broken]
        if keep:
            await record_step(tx, keep, StepInput(state="sorted", orientation="refurbish", operator="tri"))
        await record_step(tx, [r["id"] for r in broken], StepInput(state="sorted", orientation="recycle",
                                                                    note="hors d'usage à l'arrivée"))  # fmt: skip
        disks = [r["id"] for r in broken if needs_erasure(r["category"], r["storage"])]
        if disks:
            await remove_storage(tx, disks, destroyed=True, operator="tri")
        await recycle(tx, OutflowInput(item_ids=[r["id"] for r in broken], recipient="Ecologic (collecte Envie)",
                                       waste_code="16 02 14", treatment="R4 recyclage des métaux"))  # fmt: skip
    return len(broken)


def _policy(stats: str, fates: str = "hub", workforce: str = "none") -> str:
    return json.dumps({"fates": fates, "stats": stats, "workforce": workforce})


_STATE = dict(orientations=("local_only", "social_priority"), workshop=False,
              site="Entrepôt mutualisé Ordi Grand Ouest, Rennes")  # fmt: skip
PLANS: dict[str, Plan] = {p.slug: p for p in (
    # the hub's warehouse: the State experiment, 4 administrations, 5 lots, 1 350 products, over 5 t
    Plan("ordi-grand-ouest", "OGO", donors=(
        DonorPlan("Préfecture de la région Bretagne", "public_body", "Rennes", "PREF35"),
        DonorPlan("Direction régionale des finances publiques de Bretagne", "public_body", "Rennes", "DRFIP"),
        DonorPlan("Rectorat de l'académie de Rennes", "public_body", "Rennes", "RECT"),
        DonorPlan("DREAL Bretagne", "public_body", "Rennes", "DREAL"),
    ), lots=(
        LotPlan("ETAT-L1", "Préfecture de la région Bretagne", 340,
                {"desktop": 150, "screen": 110, "laptop": 20, "peripheral": 20}, weight_kg=1_700, **_STATE),
        LotPlan("ETAT-L2", "Direction régionale des finances publiques de Bretagne", 285,
                {"desktop": 140, "screen": 120, "laptop": 40, "printer": 20}, weight_kg=1_780, **_STATE),
        LotPlan("ETAT-L3", "Rectorat de l'académie de Rennes", 210,
                {"laptop": 120, "desktop": 60, "screen": 40, "tablet": 40}, weight_kg=940, **_STATE),
        LotPlan("ETAT-L4", "DREAL Bretagne", 120, {"laptop": 110, "desktop": 40, "screen": 70, "smartphone": 30},
                weight_kg=950, **_STATE),
        LotPlan("ETAT-L5", "Préfecture de la région Bretagne", 40, {"desktop": 30, "laptop": 90, "screen": 40,
                "smartphone": 60}, weight_kg=720, **_STATE),
    )),
    # a member in Rennes: the Région Bretagne lot, 18 pallets, 1 200 products, over 3.5 t
    Plan("atelier-du-lien", "LIEN", weekly=28, donors=(
        DonorPlan("Région Bretagne", "public_body", "283 avenue du Général Patton, Rennes", "RB"),
        DonorPlan("Armor Assurances", "company", "Saint-Brieuc", "ARM"),
    ), lots=(
        LotPlan("RB-2024-18P", "Région Bretagne", 350, {"laptop": 620, "desktop": 260, "screen": 220,
                "peripheral": 60, "tablet": 40}, orientations=("social_priority",),
                site="Hôtel de Région, Rennes (18 palettes)"),
        LotPlan("ARM-1", "Armor Assurances", 230, {"laptop": 35, "screen": 20, "smartphone": 15},
                orientations=("no_resale",)),
        LotPlan("ARM-2", "Armor Assurances", 25, {"laptop": 25, "desktop": 10, "screen": 10}),
    ), referrers=("CCAS de Rennes", "CDAS Rennes Nord-Est", "Mission locale du bassin rennais",
                  "Point d'accueil solidaire de Villejean", "France Travail Rennes Centre"),
       organisations=(("school", "École élémentaire Jules-Ferry, Rennes"), ("school", "Collège Les Gayeulles"),
                      ("association", "Maison de quartier de Villejean"), ("ess", "Régie de quartier de Maurepas")),
       recycler="Ecologic (collecte Envie 35)", steps=(("Diagnostic", "tested"), ("Réinstallation", "refurbished")),
       policy=_policy("public", workforce="public"), workforce=json.dumps({"fte": 4.5, "insertion_jobs": 6, "volunteers": 25})),
    # a member in Brest: La Poste's 5 lots, 100 products, 850 kg
    Plan("ordi-solidaire-brest", "BRST", weekly=8, donors=(
        DonorPlan("La Poste", "company", "Brest", "LP"),
        DonorPlan("Brest métropole", "public_body", "Brest", "BMO"),
        DonorPlan("Coopérative maritime d'Iroise", "company", "Le Conquet"),
    ), lots=tuple(
        LotPlan(f"LAPOSTE-{n + 1}", "La Poste", 330 - 75 * n, {"desktop": 11, "screen": 6, "multifunction_printer": 1,
                "printer": 1, "laptop": 1}, weight_kg=170, orientations=("local_only",)) for n in range(5)
    ) + (
        LotPlan("BMO-2024", "Brest métropole", 300, {"desktop": 40, "screen": 40, "laptop": 20}, orientations=("social_priority",)),
        LotPlan("IROISE-1", "Coopérative maritime d'Iroise", 160, {"laptop": 15, "smartphone": 10}),
    ), referrers=("CCAS de Brest", "CDAS de Brest Rive droite", "Épicerie solidaire de Recouvrance"),
       organisations=(("school", "École Jean-Macé, Brest"), ("association", "Brest Entraide Numérique")),
       recycler="Ecologic (collecte Envie 29)"),
    # a member in Besançon, in the Ordi3 network
    Plan("recyclerie-besancon", "RNB", weekly=10, donors=(
        DonorPlan("Conseil départemental du Doubs", "public_body", "Besançon", "CD25"),
        DonorPlan("Horlogerie comtoise", "company", "Morteau"),
        DonorPlan("Mutuelle du Haut-Doubs", "company", "Pontarlier"),
    ), lots=(
        LotPlan("CD25-1", "Conseil départemental du Doubs", 315, {"desktop": 60, "screen": 50, "laptop": 30},
                orientations=("social_priority",)),
        LotPlan("HORLO-1", "Horlogerie comtoise", 215, {"laptop": 40, "desktop": 15, "screen": 10}),
        LotPlan("CD25-2", "Conseil départemental du Doubs", 115, {"laptop": 50, "tablet": 20, "desktop": 10},
                orientations=("social_priority",)),
        LotPlan("MHD-1", "Mutuelle du Haut-Doubs", 20, {"desktop": 20, "screen": 20, "printer": 5}),
    ), referrers=("CCAS de Besançon", "Solidarité Doubs (département)", "Maison des solidarités de Planoise"),
       organisations=(("school", "École Pierre-Bayle, Besançon"), ("association", "Association comtoise pour l'insertion")),
       recycler="Ecologic (collecte Envie Franche-Comté)"),
    # the Ordi3 hub's warehouse: a lot of the Région Bourgogne-Franche-Comté
    Plan("ordi3-bfc", "O3B", donors=(DonorPlan("Région Bourgogne-Franche-Comté", "public_body", "Dijon", "RBFC"),),
         lots=(LotPlan("RBFC-1", "Région Bourgogne-Franche-Comté", 45, {"desktop": 80, "screen": 60, "laptop": 40},
                       orientations=("social_priority",), workshop=False, site="Entrepôt Ordi3, Dijon"),)),
)}  # fmt: skip
