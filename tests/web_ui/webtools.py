"""Helpers of the web interface tests (imported by name: tests have no packages)."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


class Browser:
    """A logged-in (or not) person, with their cookies; ``post`` adds the page's CSRF token."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.csrf = ""

    async def get(self, path: str, **kwargs):
        response = await self.client.get(path, **kwargs)
        text = await response.text()
        found = CSRF.search(text)
        if found:
            self.csrf = found.group(1)
        return response, text

    async def post(self, path: str, data: dict | None = None, *, csrf: bool = True, **kwargs):
        form = dict(data or {})
        if csrf:
            form["_csrf"] = self.csrf
        response = await self.client.post(path, data=form, **kwargs)
        return response, await response.text()

    async def login_form(self, username: str, password: str = PASSWORD, next_path: str = "/", **kwargs):
        """Fill and post the login form as a browser does: its CSRF token comes with the page."""
        await self.get("/login")
        response = await self.client.post("/login", data={"username": username, "password": password,
                                                          "next": next_path, "_csrf": self.csrf}, **kwargs)  # fmt: skip
        return response

    async def login(self, username: str, password: str = PASSWORD):
        response = await self.login_form(username, password)
        await self.get("/")
        return response
