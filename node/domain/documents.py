"""Documents attached to donors and lots: conventions de cession, pick-up notes...

The file is stored by its SHA-256 beside the database (``node.store.files``); the
row names it, so the same scan attached twice is stored once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from node.errors import Invalid, NotFound
from node.store.database import Reader, Tx, now_ms
from node.store.files import store_file

__all__ = ["Document", "attach_document", "documents_of", "DOCUMENT_KINDS"]

DOCUMENT_KINDS = ("convention", "pickup_note", "erasure_log", "other")
Kind = Literal["convention", "pickup_note", "erasure_log", "other"]


@dataclass(frozen=True, slots=True)
class Document:
    id: int
    donor_id: int | None
    lot_id: int | None
    kind: str
    filename: str
    sha256: str
    size: int
    created: int


async def attach_document(tx: Tx, data_dir: Path, *, kind: Kind, filename: str, data: bytes,
                          donor_id: int | None = None, lot_id: int | None = None) -> int:  # fmt: skip
    """Store ``data`` and attach it to a donor or a lot; return the document's id."""
    if kind not in DOCUMENT_KINDS:
        raise Invalid(f"a document is one of {', '.join(DOCUMENT_KINDS)}", code="invalid")
    if (donor_id is None) == (lot_id is None):
        raise Invalid("attach a document to a donor or to a lot", code="invalid")
    name = Path(filename).name.strip()
    if not 1 <= len(name) <= 200:
        raise Invalid("a file name has 1 to 200 characters", code="invalid")
    if not data:
        raise Invalid("the file is empty", code="invalid")
    table, key = ("donors", donor_id) if donor_id is not None else ("lots", lot_id)
    if await tx.value(f"SELECT 1 FROM {table} WHERE id = ?", (key,)) is None:
        raise NotFound(f"no {table[:-1]} {key}")
    digest = store_file(data_dir, data)
    return await tx.run(
        "INSERT INTO documents (donor_id, lot_id, kind, filename, sha256, size, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (donor_id, lot_id, kind, name, digest, len(data), now_ms()),
    )


async def documents_of(db: Reader, *, donor_id: int | None = None, lot_id: int | None = None) -> list[Document]:
    rows = await db.all(
        "SELECT id, donor_id, lot_id, kind, filename, sha256, size, created FROM documents"
        " WHERE donor_id IS ? AND lot_id IS ? ORDER BY id",
        (donor_id, lot_id),
    )
    return [Document(**dict(r)) for r in rows]
