"""Importing a year of history (node.domain.importing kind "history" / "items"), on a real SQLite file.

The rows become items in their lots (made with their donors), dated by their
reception; erasures and fates are dated by the day they happened, and the
figures of that past year count them. A row the node cannot take is listed,
the others import.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from node.config import Config, init_node
from node.domain.happened import today as node_today  # the node's day (France), not the machine's
from node.domain.impact import FACTOR_TABLES
from node.domain.importing import run_import
from node.domain.lots import LotInput, create_lot
from node.domain.stats import compute_stats, period_bounds
from node.reports.donor_report import build_donor_report
from node.store.database import Store
from node.validation import parse

HEADER = "Lot;Donateur;Date de réception;Catégorie;Marque;Modèle;N° de série;Poids (kg);Effacement;Devenir;Date de sortie;Bénéficiaire;Prix;Remarque\n"
ROWS = [
    "L23-01;Préfecture d'Ille-et-Vilaine;01/06/2023;Portable;Dell;Latitude E7470;SN-1;2,1;oui;Distribué;15/09/2023;Particulier;20;rayure\n",
    "L23-01;Préfecture d'Ille-et-Vilaine;01/06/2023;Unité centrale;HP;EliteDesk 800;SN-2;6;nwipe;Recyclé;20/10/2023;;;\n",
    "L23-01;Préfecture d'Ille-et-Vilaine;01/06/2023;Écran;Dell;P2214H;SN-3;4;;Distribué;15/09/2023;Association;5;\n",
    "L23-02;Mairie de Rennes;03/07/2023;Tablette;Apple;iPad 6;SN-4;;oui;;;;;à réparer\n",
    "L23-02;Mairie de Rennes;03/07/2023;Grille-pain;Moulinex;X;SN-5;;;;;;;\n",
    "L23-02;Mairie de Rennes;03/07/2023;Portable;Lenovo;T480;SN-6;;;Distribué;10/08/2023;Particulier;;\n",
]


@pytest.fixture
async def node_store(tmp_path):
    node = init_node(tmp_path / "node", Config(name="Atelier"))
    store = await Store.open(node.db_path, node.key, create=True)
    yield node, store
    await store.close()


def sheet(*rows: str) -> bytes:
    return (HEADER + "".join(rows)).encode("utf-8")


async def figures(store, period: str):
    start, end = period_bounds(period)
    async with store.reader() as db:
        return await compute_stats(db, start, end, years=3, factors=FACTOR_TABLES["ademe-2022"])


async def test_a_year_of_history_imports_with_its_dates_and_counts_in_its_year(node_store) -> None:
    node, store = node_store
    preview = await run_import(node, store, "history", sheet(*ROWS), "historique.csv", dry_run=True)
    assert preview.ok
    # The grille-pain and the laptop distributed without erasure are listed, the other rows import.
    skipped = {(e.line, e.code) for e in preview.skipped_rows}
    assert skipped == {(6, "unknown_category"), (7, "erasure_required")}
    [unknown] = preview.unknown_values
    assert (unknown.column, unknown.value, unknown.lines) == ("Catégorie", "Grille-pain", (6,))
    assert "laptop" in unknown.accepted and "screen" in unknown.accepted
    assert preview.columns["Remarque"] == "note" and preview.columns["Devenir"] == "fate"
    assert [r["line"] for r in preview.rows] == [2, 3, 4, 5]
    assert preview.created == 4 and sorted(preview.lots_created) == ["L23-01", "L23-02"]
    async with store.reader() as db:
        assert await db.value("SELECT count(*) FROM items") == 0  # a preview changes nothing

    report = await run_import(node, store, "history", sheet(*ROWS), "historique.csv")
    assert report.ok and report.created == 4 and report.erasures == 3
    assert report.fates == {"distributed": 2, "recycled": 1}
    async with store.reader() as db:
        lots = {r["reference"]: dict(r) for r in await db.all(
            "SELECT l.reference, l.received_on, d.name FROM lots l JOIN donors d ON d.id = l.donor_id")}
        assert lots["L23-01"]["received_on"] == "2023-06-01" and lots["L23-02"]["name"] == "Mairie de Rennes"
        # Each event: the day it happened, beside the time it was recorded (today).
        dell = await db.one("SELECT i.id, i.state, i.state_since FROM items i WHERE serial = 'SN-1'")
        events = await db.all("SELECT state, time, happened FROM events WHERE item_id = ? ORDER BY id", (dell["id"],))
        assert [e["state"] for e in events][0] == "received" and events[-1]["state"] == "distributed"
        assert date.fromtimestamp(events[0]["happened"] / 1000) == date(2023, 6, 1)
        assert date.fromtimestamp(events[-1]["happened"] / 1000) == date(2023, 9, 15)
        assert date.fromtimestamp(events[-1]["time"] / 1000) >= node_today() - timedelta(days=1)
        note = await db.value("SELECT detail FROM events WHERE item_id = ? AND state = 'received'", (dell["id"],))
        assert '"Remarque": "rayure"' in note
        assert await db.value("SELECT count(*) FROM outflows") == 1
    year = await figures(store, "2023")
    assert sum(a.units for a in year.received.values()) == 4
    assert year.fate_units("distributed") == 2 and year.fate_units("recycled") == 1
    assert year.outflow_weight_g == 6000
    assert year.lots_from_donors == 2
    this_year = await figures(store, str(node_today().year))
    assert sum(a.units for a in this_year.received.values()) == 0 and this_year.fate_units("distributed") == 0
    # The donor report dates each fate by its day, as the signed fates do.
    async with store.reader() as db:
        donor = await db.value("SELECT id FROM donors WHERE name LIKE 'Préfecture%'")
        made = await build_donor_report(db, node, donor_id=donor)
    fates = {line.serial: line for line in made.lines}
    assert date.fromtimestamp(fates["SN-1"].fate_time_ms / 1000) == date(2023, 9, 15)


async def test_items_import_into_a_lot_lists_bad_rows_and_imports_the_others(node_store) -> None:
    node, store = node_store
    async with store.transaction() as tx:
        await create_lot(tx, parse(LotInput, {"reference": "L-9", "received_on": "2024-02-01"}))
    data = "Catégorie;Marque;Couleur\nportable;Dell;noir\nfrigo;LG;blanc\nécran;HP;\n".encode()
    report = await run_import(node, store, "items", data, "lot.csv", lot="L-9")
    assert report.ok and report.created == 2 and report.skipped == 1
    assert [(e.line, e.code) for e in report.skipped_rows] == [(3, "unknown_category")]
    assert report.lots == {1: "L-9"}
    async with store.reader() as db:
        days = {date.fromtimestamp(r["happened"] / 1000) for r in await db.all("SELECT happened FROM events")}
        assert days == {date(2024, 2, 1)}  # received with their lot, not today
        assert '"Couleur": "noir"' in await db.value("SELECT detail FROM events ORDER BY id LIMIT 1")


async def test_rows_before_their_lot_or_in_the_future_are_listed(node_store) -> None:
    node, store = node_store
    async with store.transaction() as tx:
        await create_lot(tx, parse(LotInput, {"reference": "L-5", "received_on": "2023-05-01"}))
    tomorrow = (node_today() + timedelta(days=1)).strftime("%d/%m/%Y")
    rows = ["L-5;;01/04/2023;portable;;;A;;;;;;;\n", f"L-5;;02/05/2023;écran;;;B;;;Distribué;{tomorrow};Particulier;;\n",
            "L-5;;02/05/2023;écran;;;C;;;Distribué;01/05/2023;Particulier;;\n",
            "L-5;;02/05/2023;écran;;;D;;;Distribué;03/05/2023;Particulier;;\n"]
    report = await run_import(node, store, "history", sheet(*rows), "h.csv")
    assert {(e.line, e.code) for e in report.skipped_rows} == {(2, "before_reception"), (3, "future_date"),
                                                               (4, "before_reception")}
    assert report.created == 1 and report.fates == {"distributed": 1}


async def test_columns_chosen_by_the_person_read_odd_headers(node_store) -> None:
    node, store = node_store
    data = "Type de bidule;Fabriquant maison;Lot\nportable;Dell;X\n".encode()
    refused = await run_import(node, store, "items", data, "x.csv", dry_run=True)
    # No category column: refused, but the columns are shown so that the person can choose one.
    assert refused.failed == "no_category_column" and refused.headers == ["Type de bidule", "Fabriquant maison", "Lot"]
    assert refused.columns == {"Type de bidule": "note", "Fabriquant maison": "note", "Lot": "lot"}
    chosen = {"Type de bidule": "category", "Fabriquant maison": "brand", "Lot": ""}
    report = await run_import(node, store, "items", data, "x.csv", columns=chosen)
    assert report.ok and report.created == 1 and report.columns == chosen
    async with store.reader() as db:
        assert await db.value("SELECT brand FROM items") == "Dell"
    twice = await run_import(node, store, "items", data, "x.csv", columns={**chosen, "Lot": "brand"})
    assert twice.failed == "column_twice"


async def test_the_columns_chosen_are_remembered_for_the_next_file(node_store) -> None:
    node, store = node_store
    data = "Type de bidule;Fabriquant maison\nportable;Dell\n".encode()
    await run_import(node, store, "items", data, "x.csv", columns={"Type de bidule": "category",
                                                                   "Fabriquant maison": "brand"})
    again = await run_import(node, store, "items", "TYPE DE BIDULE;Fabriquant Maison\nécran;HP\n".encode(), "y.csv",
                             dry_run=True)
    assert again.ok and again.columns == {"TYPE DE BIDULE": "category", "Fabriquant Maison": "brand"}
