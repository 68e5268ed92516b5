"""Choosing a beneficiary among hundreds: a search by code, category or referrer, on a real SQLite file.

Without JavaScript the distribution page's "Rechercher" button asks the page
again with the search (its list then holds what was found, the only one
found already chosen); with it, ``/beneficiaries/choices`` answers as one
types (tests/browser/test_phone.py drives that in Chromium). The name and
contact are never searched, and never in the answer.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from webtools import Browser

from node.domain.beneficiaries import BeneficiaryInput, create_beneficiary, find_beneficiaries
from web_ui.pages.workshop_beneficiaries import category_names

CATEGORIES = ("person", "association", "school", "ess", "other")
REFERRERS = ("CCAS de Rennes", "Secours populaire", "École Jules Ferry", "Mission locale de Brest", None)


@pytest.fixture
async def many(web):
    """511 beneficiaries, as the network's largest association has: one in five has a name (secret)."""
    _, store, _ = web
    async with store.transaction() as tx:
        for n in range(511):
            await create_beneficiary(tx, BeneficiaryInput(
                category=CATEGORIES[n % 5], referrer=REFERRERS[n % 5 if n % 7 else 4],
                name="Madame Secrète" if n % 5 == 0 else None))  # fmt: skip
    return store


def options(html: str) -> list[str]:
    select = html.split('id="ws-beneficiary"', 1)[1].split("</select>", 1)[0]
    return [unescape(text) for text in re.findall(r"<option value=\"\d+\"[^>]*>([^<]*)</option>", select)]


async def test_the_domain_finds_by_code_category_and_referrer(many):
    async with many.reader() as db:
        by_number = await find_beneficiaries(db, "42")
        assert by_number[0].code == "B-000042" and all("42" in b.code for b in by_number)
        assert [b.code for b in await find_beneficiaries(db, "b-000042")] == ["B-000042"]
        rennes = await find_beneficiaries(db, "ccas RENNES", limit=500)
        assert rennes and {b.referrer for b in rennes} == {"CCAS de Rennes"}
        ecole = await find_beneficiaries(db, "ecole jules", limit=500)  # accents and case do not matter
        assert ecole and {b.referrer for b in ecole} == {"École Jules Ferry"}
        schools = await find_beneficiaries(db, "école", category_names=category_names(), limit=500)
        assert {b.category for b in schools} == {"school"}  # the category's French word; no referrer says "école"…
        assert len(schools) == 102  # …but "École Jules Ferry" is a school's referrer here: each is a school
        assert await find_beneficiaries(db, "Secrète") == []  # a name is never searched
        assert await find_beneficiaries(db, "%") == [] and await find_beneficiaries(db, "_") == []
        assert len(await find_beneficiaries(db, "")) == 50  # no words: the newest


async def test_the_distribution_page_searches_without_javascript(web, many, admin):
    response, html = await admin.get("/distribute?beneficiary_q=42&find=1")
    assert response.status == 200
    assert options(html)[0].startswith("B-000042 · ")
    assert "bénéficiaire(s) trouvé(s)" in html
    # the only one found is chosen, so "check" goes on with it
    response, html = await admin.get("/distribute?beneficiary_q=B-000042&find=1")
    assert options(html) == ["B-000042 · association · Secours populaire"]
    assert re.search(r'<option value="42" selected>', html)
    response, html = await admin.get("/distribute?beneficiary_q=mission+brest&find=1")
    assert options(html) and all(text.endswith("· Mission locale de Brest") for text in options(html))
    # without a search, the newest 200 as before
    response, html = await admin.get("/distribute")
    assert len(options(html)) == 200 and options(html)[0].startswith("B-000511")


async def test_the_search_endpoint_answers_json_without_personal_details(web, many, admin):
    response = await admin.client.get("/beneficiaries/choices", params={"q": "école"})
    assert response.status == 200
    found = (await response.json())["beneficiaries"]
    assert found and {b["category"] for b in found} == {"établissement scolaire"}
    assert set(found[0]) == {"id", "code", "category", "referrer"}
    response = await admin.client.get("/beneficiaries/choices", params={"q": "Secrète"})
    assert (await response.json())["beneficiaries"] == []
    stranger = Browser(web[2])
    await stranger.client.post("/logout", data={"_csrf": admin.csrf})
    response = await stranger.client.get("/beneficiaries/choices?q=42", allow_redirects=False)
    assert response.status in (302, 303) and "/login" in response.headers["Location"]


async def test_the_beneficiaries_list_searches_too(web, many, admin):
    response, html = await admin.get("/beneficiaries?q=42")
    assert response.status == 200 and "B-000042" in html and "B-000511" not in html
