"""The alerts a node raises for its admin: a fork, a refused record, a silent member, a failed upkeep."""

from __future__ import annotations

from dataclasses import dataclass

from node.store.database import Reader, Tx, now_ms

__all__ = ["Alert", "raise_alert", "list_alerts"]


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    time: int
    kind: str
    peer: bytes | None
    author: bytes | None
    seq: int | None
    reason: str
    detail: str


async def raise_alert(tx: Tx, kind: str, reason: str, *, peer: bytes | None = None, author: bytes | None = None,
                      seq: int | None = None, detail: str = "") -> None:  # fmt: skip
    """Something an admin must see (a fork, a refused record). Repeats within an hour are folded."""
    recent = await tx.value(
        "SELECT id FROM alerts WHERE kind = ? AND reason = ? AND peer IS ? AND author IS ? AND time > ?",
        (kind, reason, peer, author, now_ms() - 3_600_000),
    )
    if recent is not None:
        return
    await tx.run("INSERT INTO alerts (time, kind, peer, author, seq, reason, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (now_ms(), kind, peer, author, seq, reason, detail[:1000]))  # fmt: skip


async def list_alerts(db: Reader, *, limit: int = 50) -> list[Alert]:
    rows = await db.all("SELECT id, time, kind, peer, author, seq, reason, detail FROM alerts ORDER BY id DESC LIMIT ?",
                        (limit,))  # fmt: skip
    return [Alert(*row) for row in rows]
