"""Signed donor reports read back from the log: the list, and their signed documents byte for byte."""

from __future__ import annotations

import pytest

from node.config import Config, init_node
from node.domain.donors import DonorInput, create_donor
from node.domain.items import ItemInput, create_items
from node.domain.lots import LotInput, create_lot
from node.errors import Invalid, NotFound
from node.reports.donor_report import build_donor_report, sign_donor_report
from node.reports.signed_documents import donor_report, donor_reports, signed_document
from node.store.database import Store
from node.validation import parse
from protocol.kinds import NodeDescriptor
from protocol.records import read_record_file, write_record_file


@pytest.fixture
async def node_store(tmp_path):
    node = init_node(tmp_path / "node", Config(name="Atelier"))
    store = await Store.open(node.db_path, node.key, create=True)
    yield node, store
    await store.close()


async def sign(node, store, donor_name: str, serials: list[str]):
    async with store.transaction() as tx:
        donor = await create_donor(tx, parse(DonorInput, {"name": donor_name, "type": "public_body"}))
        lot = await create_lot(tx, parse(LotInput, {"reference": f"L-{donor_name}", "donor_id": donor}))
        await create_items(tx, lot, [parse(ItemInput, {"category": "laptop", "serial": s}) for s in serials])
        report = await build_donor_report(tx, node, donor_id=donor)
        return await sign_donor_report(tx, report)


async def test_reports_listed_newest_first_and_documents_rewritten_exactly(node_store):
    node, store = node_store
    first = await sign(node, store, "Mairie", ["SN-1", "SN-2"])
    second = await sign(node, store, "Région", ["SN-3"])
    async with store.reader() as db:
        listed = await donor_reports(db, node.key.public.raw)
        assert [r.donor for r in listed] == ["Région", "Mairie"]
        assert (listed[1].id_hex, listed[1].lots, listed[1].items) == (first.id.hex(), ("L-Mairie",), 2)
        assert listed[0].period_from <= listed[0].period_to and listed[0].time_ms == second.header.time
        assert [r.donor for r in await donor_reports(db, node.key.public.raw, limit=1, offset=1)] == ["Mairie"]
        assert await donor_reports(db, b"\x00" * 32) == []
        assert (await donor_report(db, second.id.hex())).donor == "Région"
        document = await signed_document(db, first.id.hex())
    assert document == write_record_file(first)
    opened = read_record_file(document)
    assert opened.header.author == node.key.public.raw and opened.body().donor == "Mairie"
    assert [item.serial for item in opened.body().items] == ["SN-1", "SN-2"]


async def test_unknown_malformed_or_other_records(node_store):
    node, store = node_store
    async with store.transaction() as tx:
        await tx.append(NodeDescriptor(name="Atelier", role="member", endpoints=[]))
    async with store.reader() as db:
        descriptor = await db.one("SELECT id, kind FROM log_records WHERE seq = 1")
        assert descriptor["kind"] == NodeDescriptor.KIND
        # Any record with its content makes a signed document; only donor reports are listed as such.
        assert read_record_file(await signed_document(db, descriptor["id"].hex())).header.seq == 1
        with pytest.raises(NotFound):
            await donor_report(db, descriptor["id"].hex())
        with pytest.raises(NotFound):
            await signed_document(db, "0" * 64)
        for bad in ("xyz", "0" * 63, "A" * 64):
            with pytest.raises(Invalid) as refused:
                await signed_document(db, bad)
            assert refused.value.code == "invalid_record_id"
        with pytest.raises(Invalid):
            await donor_reports(db, node.key.public.raw, limit=0)
