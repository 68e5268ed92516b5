"""Finding one attached document (a convention de cession, a pick-up note...) by its id.

``node.domain.documents`` attaches documents and lists them per donor or lot; this
module answers the download: which document, which stored file.
"""

from __future__ import annotations

from pathlib import Path

from node.domain.documents import Document
from node.errors import NotFound
from node.store.database import Reader
from node.store.files import file_path

__all__ = ["get_document", "document_file"]


async def get_document(db: Reader, document_id: int) -> Document:
    """The document ``document_id``, or ``NotFound``."""
    row = await db.one(
        "SELECT id, donor_id, lot_id, kind, filename, sha256, size, created FROM documents WHERE id = ?",
        (document_id,),
    )
    if row is None:
        raise NotFound(f"no document {document_id}")
    return Document(**dict(row))


def document_file(data_dir: Path, document: Document) -> Path:
    """Where the document's bytes are kept; ``NotFound`` if the file went missing (a partial restore)."""
    path = file_path(data_dir, document.sha256)
    if not path.is_file():
        raise NotFound(f"the file of document {document.id} is missing from {data_dir}", code="file_missing")
    return path
