"""A year of history (10 000 rows) imported from a spreadsheet, against SQLite's raw insert rate.

A network that adopts Maillon loads its past: one row per item, with its
lot, donor, reception date, erasure, fate, fate date, beneficiary category,
price and weight. ``run_import(kind="history")`` reads the sheet on the
import worker, makes the lots and donors, the items dated by their
reception, their erasures, and their fates through the workshop's own doors
(signed fates included), in one transaction.

The limit, measured in the same run and on the same disk, is SQLite alone
inserting as many rows (the items' columns) in one transaction with
``executemany``: the rate nothing of ours can beat. The ratio says how many
times slower the whole import is (it writes ~5 rows per item: item,
events, erasure, distribution, and signs records). Goal: the 10 000 rows
in under 60 s.

    python bench/history_import_bench.py [--rows N]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from result_lines import print_result  # noqa: E402

from node.config import Config, init_node  # noqa: E402
from node.domain.importing import run_import  # noqa: E402
from node.imports.parsing import stop_parser  # noqa: E402
from node.store.database import Store  # noqa: E402

GOAL_SECONDS = 60.0
HEADER = ("Lot;Donateur;Date de réception;Catégorie;Marque;Modèle;N° de série;Poids (kg);Effacement;Devenir;"
          "Date de sortie;Bénéficiaire;Prix;Remarque")  # fmt: skip
CATEGORIES = (("Portable", "Dell", "Latitude E7470", "2,1"), ("Unité centrale", "HP", "EliteDesk 800 G2", "6"),
              ("Écran", "Dell", "P2214H", "4,5"), ("Tablette", "Apple", "iPad 6", "0,5"))  # fmt: skip
DONORS = ("Préfecture d'Ille-et-Vilaine", "Région Bretagne", "La Poste", "Mairie de Rennes", "CAF 35")


def year_sheet(rows: int, seed: int = 19) -> bytes:
    """A year as a workshop keeps it: 40 lots, most items distributed or recycled, some still in stock."""
    rng = random.Random(seed)
    start = date(2023, 1, 2)
    lines = [HEADER]
    for n in range(rows):
        lot = n * 40 // rows
        received = start + timedelta(days=lot * 8)
        category, brand, model, kg = CATEGORIES[rng.randrange(len(CATEGORIES))]
        roll = rng.random()
        fate, out, beneficiary, price = "", "", "", ""
        if roll < 0.6:
            fate, beneficiary, price = "Distribué", rng.choice(("Particulier", "Association", "École")), "20"
        elif roll < 0.85:
            fate = "Recyclé"
        if fate:
            out = (received + timedelta(days=rng.randrange(5, 60))).strftime("%d/%m/%Y")
        erased = "oui" if category != "Écran" else ""
        lines.append(";".join((f"L23-{lot:03d}", DONORS[lot % len(DONORS)], received.strftime("%d/%m/%Y"), category,
                               brand, model, f"SN{n:08d}", kg, erased, fate, out, beneficiary, price,
                               "rayure" if n % 7 == 0 else "")))  # fmt: skip
    return ("\n".join(lines) + "\n").encode("utf-8")


def raw_insert_rate(directory: Path, rows: int) -> float:
    """Rows per second SQLite inserts into an items-like table, in one transaction, on this disk."""
    db = sqlite3.connect(directory / "raw.db", isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, gid TEXT UNIQUE, asset_tag TEXT UNIQUE, lot_id INTEGER,"
               " category TEXT, brand TEXT, model TEXT, serial TEXT, weight_g INTEGER, state TEXT, state_since INTEGER,"
               " created INTEGER) STRICT")  # fmt: skip
    values = [(n, f"gid-{n:012d}", f"MLN-{n:06d}", n // 250, "laptop", "Dell", "Latitude E7470", f"SN{n:08d}", 2100,
               "received", 1_700_000_000_000, 1_700_000_000_000) for n in range(rows)]  # fmt: skip
    began = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    db.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
    db.execute("COMMIT")
    seconds = time.perf_counter() - began
    db.close()
    return rows / seconds


async def import_year(directory: Path, data: bytes) -> tuple[float, int]:
    node = init_node(directory / "node", Config(name="Atelier"))
    store = await Store.open(node.db_path, node.key, create=True)
    try:
        began = time.perf_counter()
        report = await run_import(node, store, "history", data, "historique-2023.csv")
        seconds = time.perf_counter() - began
    finally:
        await store.close()
        stop_parser()
    if not report.ok:
        raise SystemExit(f"the import was refused: {report.errors[:3]}")
    return seconds, report.created


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    data = year_sheet(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        seconds, created = asyncio.run(import_year(directory, data))
        raw = raw_insert_rate(directory, args.rows)
    rate = created / seconds
    print(f"{args.rows} rows ({len(data) / 1e6:.1f} MB): {created} items created in {seconds:.1f} s, {rate:.0f} rows/s")
    print(f"SQLite alone inserts {raw:.0f} rows/s here: the import is {raw / rate:.0f} times slower per row")
    print_result("history_import", f"{args.rows} history rows imported", rate, "rows/s", limit=raw,
                 ratio=rate / raw, goal=None, ok=None)  # fmt: skip
    print_result("history_import", f"{args.rows} history rows, whole import", seconds, "s",
                 goal=f"<= {GOAL_SECONDS:.0f} s", ok=seconds <= GOAL_SECONDS)  # fmt: skip


if __name__ == "__main__":
    main()
