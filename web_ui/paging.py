"""Pagination shared by every list page: 50 rows a page, the page number from ``?page=``."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

__all__ = ["PER_PAGE", "Pager", "page_number"]

PER_PAGE = 50


@dataclass(frozen=True, slots=True)
class Pager:
    page: int
    total: int
    per_page: int = PER_PAGE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def page_number(request: web.Request) -> int:
    """The page asked for; anything odd (not ASCII digits, 0, absurdly large) is page 1."""
    raw = request.query.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and 1 <= len(raw) <= 6 and int(raw) >= 1 else 1
