"""The queries the catalogue pages need: donors with their lot counts, lot counts,
a document by id, an item's components. On a real SQLite file, built with the domain."""

from __future__ import annotations

import pytest

from node.domain.documents import attach_document
from node.domain.donors import DonorInput, create_donor
from node.domain.item_components import components_of
from node.domain.items import ItemInput, create_items
from node.domain.lots import LotInput, create_lot
from node.domain.workflow import fit_component, harvest_component
from node.errors import Invalid, NotFound
from node.queries.document_files import document_file, get_document
from node.queries.donor_summaries import count_donors, donor_summaries
from node.queries.lot_counts import count_lots


async def test_donor_summaries_count_lots_and_page(store):
    async with store.transaction() as tx:
        zeta = await create_donor(tx, DonorInput(name="Zeta SA", type="company", siret="12345678901234"))
        alpha = await create_donor(tx, DonorInput(name="alpha mairie", type="public_body"))
        await create_donor(tx, DonorInput(name="Beta", type="association"))
        for n in range(3):
            await create_lot(tx, LotInput(reference=f"Z-{n}", donor_id=zeta))
        await create_lot(tx, LotInput(reference="A-1", donor_id=alpha))
        await create_lot(tx, LotInput(reference="NONE"))
    async with store.reader() as db:
        rows = await donor_summaries(db)
        assert [(d.name, d.lots) for d in rows] == [("alpha mairie", 1), ("Beta", 0), ("Zeta SA", 3)]
        assert rows[2].siret == "12345678901234" and rows[2].type == "company"
        assert [d.name for d in await donor_summaries(db, limit=1, offset=1)] == ["Beta"]
        assert await count_donors(db) == 3
        assert await count_lots(db) == 5
        assert await count_lots(db, donor_id=zeta) == 3
        assert await count_lots(db, donor_id=999) == 0
        with pytest.raises(Invalid):
            await donor_summaries(db, limit=0)


async def test_get_document_and_its_file(store, tmp_path):
    async with store.transaction() as tx:
        donor = await create_donor(tx, DonorInput(name="Mairie", type="public_body"))
        doc = await attach_document(
            tx, tmp_path, kind="convention", filename="convention.pdf", data=b"%PDF-1.4 ...", donor_id=donor
        )
    async with store.reader() as db:
        document = await get_document(db, doc)
        assert (document.donor_id, document.lot_id, document.kind, document.filename, document.size) == (
            donor,
            None,
            "convention",
            "convention.pdf",
            12,
        )
        assert document_file(tmp_path, document).read_bytes() == b"%PDF-1.4 ..."
        with pytest.raises(NotFound):
            await get_document(db, doc + 1)
    document_file(tmp_path, document).unlink()
    with pytest.raises(NotFound) as missing:
        document_file(tmp_path, document)
    assert missing.value.code == "file_missing"


async def test_components_of_an_item(store):
    async with store.transaction() as tx:
        donor_item, receiver, other = await create_items(tx, None, [ItemInput(category="laptop")] * 3)
        ram = await harvest_component(tx, donor_item, "RAM 8 Go")
        disk = await harvest_component(tx, donor_item, "SSD 256 Go")
        screen = await harvest_component(tx, other, "écran 15,6")
        await fit_component(tx, ram, receiver)
        await fit_component(tx, screen, receiver)
    async with store.reader() as db:
        given = await components_of(db, donor_item)
        assert [(c.id, c.description, c.to_item) for c in given.harvested] == [
            (ram, "RAM 8 Go", receiver),
            (disk, "SSD 256 Go", None),
        ]
        assert given.fitted == []
        assert (
            given.harvested[0].to_tag
            and given.harvested[1].to_tag is None
            and given.harvested[1].fitted is None
        )
        got = await components_of(db, receiver)
        assert got.harvested == [] and [(c.id, c.from_item) for c in got.fitted] == [
            (ram, donor_item),
            (screen, other),
        ]
        assert got.fitted[0].from_tag.endswith("000001")
        assert await components_of(db, 999) == type(got)([], [])
