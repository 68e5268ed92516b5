"""The donor's proof end to end, between real node processes on loopback (issue 16).

A hub receives a State lot (fewer units and kilograms than declared), hands
it to the hub of a peered network, whose receipt finds one item missing;
that hub erases and recycles one item and hands two on to one of its
members, which erases them and gives one to a school. The first hub's donor
report is then a proof bundle: each fate signed by the node that settled
it, with its erasures, checked offline link by link.
"""

from __future__ import annotations

import hashlib
import subprocess

from livenodes import CLI, LiveNode, _env, run, wait_for
from pypdf import PdfReader

from node.domain.beneficiaries import BeneficiaryInput, create_beneficiary
from node.domain.distribution import DistributionInput, OutflowInput, distribute, recycle
from node.domain.donors import DonorInput, create_donor
from node.domain.erasure import ErasureInput, record_erasure
from node.domain.items import ItemInput, create_items
from node.domain.lots import LotInput, Reception, create_lot, receive_lot
from node.domain.workflow import StepInput, record_step
from node.network import handoffs

CERTIFICATE = hashlib.sha256(b"nwipe_report_Model_X_Serial_WD-B.pdf").hexdigest()


def peered_networks(make_node) -> tuple[LiveNode, LiveNode, LiveNode]:
    ogo = make_node("Ordi Grand Ouest", role="hub").start()
    bfc = make_node("Ordi3 BFC", role="hub").start()
    ogo.cli("peers", "add", "--data", str(ogo.data), bfc.url, "--fingerprint", bfc.fingerprint)
    bfc.cli("peers", "add", "--data", str(bfc.data), ogo.url, "--fingerprint", ogo.fingerprint)
    out = ogo.cli("peers", "convention", "--data", str(ogo.data), bfc.node_id, "--scope", "hand-offs of lots")
    record = bytes.fromhex(out.split("record ")[1].split(")")[0])
    wait_for(lambda: bfc.value("SELECT 1 FROM log_records WHERE id = ?", (record,)), what="the proposal")
    bfc.cli("peers", "accept", "--data", str(bfc.data), record.hex())
    wait_for(lambda: ogo.value("SELECT count(*) FROM log_records WHERE kind = 'peering.convention/1'") == 2,
             what="both signatures of the convention at the proposer")  # fmt: skip
    member = make_node("Recyclerie de Besancon")
    member.join(bfc)
    member.start()
    wait_for(lambda: bfc.value("SELECT count(*) FROM log_records WHERE author = ?", (member.key,)), what="the join")
    return ogo, bfc, member


def item_ids(node: LiveNode, serials: list[str]) -> list[int]:
    return [node.value("SELECT id FROM items WHERE serial = ?", (serial,)) for serial in serials]


def gids_of(node: LiveNode, offer: bytes) -> list[str]:
    return [r[0] for r in node.query("SELECT gid FROM handoff_items WHERE offer = ? ORDER BY rowid", (offer,))]


def hand(giver: LiveNode, taker: LiveNode, *, lot: int | None = None, items: list[int] | None = None,
         missing: int = 0) -> bytes:  # fmt: skip
    """Offer, accept, receive (the last ``missing`` lines missing); return the offer's id once the giver has the receipt."""
    offer = run(giver, lambda tx: handoffs.create_offer(tx, handoffs.OfferInput(
        recipient=taker.key, lot_id=lot, item_ids=items or []))).id  # fmt: skip
    wait_for(lambda: taker.value("SELECT state FROM handoffs WHERE offer = ?", (offer,)) == "offered", 60, "the offer")
    run(taker, lambda tx: handoffs.answer_offer(tx, offer, accept=True))
    wait_for(lambda: giver.value("SELECT state FROM handoffs WHERE offer = ?", (offer,)) == "accepted", 60, "the accept")
    lines = gids_of(taker, offer)
    kept, lost = lines[: len(lines) - missing], lines[len(lines) - missing :]
    run(taker, lambda tx: handoffs.record_receipt(tx, offer, handoffs.ReceiptInput(
        received=kept, missing=lost, weight_g=2000 * len(kept))))  # fmt: skip
    wait_for(lambda: giver.value("SELECT state FROM handoffs WHERE offer = ?", (offer,)) == "received", 60, "the receipt")
    return offer


def erase(node: LiveNode, ids: list[int], *, level: str = "purge", certificate: str | None = None) -> None:
    async def action(tx):
        for n, item_id in enumerate(ids):
            await record_erasure(tx, ErasureInput(item_id=item_id, disk_serial=f"WD-{node.name[:3]}-{n}", method="PRNG stream",
                                                  level=level, tool="nwipe", result="success",
                                                  evidence_sha256=certificate))  # fmt: skip
    run(node, action)


def test_the_donor_proof_of_a_lot_handed_through_two_networks(make_node, tmp_path):
    ogo, bfc, member = peered_networks(make_node)

    async def donated(tx):
        donor = await create_donor(tx, DonorInput(name="Préfecture du Doubs", type="public_body"))
        lot = await create_lot(tx, LotInput(reference="ETAT-2026-07", donor_id=donor, declared_units=8,
                                            declared_weight_g=30_000))  # fmt: skip
        await create_items(tx, lot, [ItemInput(category="laptop", serial=f"PF-{n}", weight_g=2000) for n in range(5)])
        await receive_lot(tx, lot, Reception(counted_units=5, weighed_g=10_000))  # 3 units and 20 kg short
        return lot

    lot = run(ogo, donated)
    erase(ogo, item_ids(ogo, ["PF-0"]), level="clear")  # the hub wiped one before handing the lot on
    hand(ogo, bfc, lot=lot, missing=1)  # PF-4 does not arrive
    # the peered hub destroys PF-0's disk and sends it to recycling; hands PF-1..3 to its member
    erase(bfc, item_ids(bfc, ["PF-0"]), level="destroy")
    run(bfc, lambda tx: recycle(tx, OutflowInput(item_ids=item_ids(bfc, ["PF-0"]), recipient="Ecologic",
                                                 waste_code="16 02 14", treatment="R4")))  # fmt: skip
    hand(bfc, member, items=item_ids(bfc, ["PF-1", "PF-2", "PF-3"]))
    # the member wipes them (a certificate for each), and gives PF-1 to a school
    at_member = item_ids(member, ["PF-1", "PF-2", "PF-3"])
    erase(member, at_member, certificate=CERTIFICATE)

    async def given(tx):
        school = await create_beneficiary(tx, BeneficiaryInput(category="school"))
        await record_step(tx, at_member[:1], StepInput(state="ready"))
        await distribute(tx, at_member[:1], DistributionInput(beneficiary_id=school))

    run(member, given)
    wait_for(lambda: ogo.value("SELECT count(*) FROM downstream_fates WHERE fate = 'distributed' AND reporter = ?",
                               (member.key,)), 90, "the member's distribution, two hops up")  # fmt: skip
    wait_for(lambda: ogo.value("SELECT count(*) FROM downstream_fates WHERE fate = 'recycled'"), 60, "the recycling")

    pdf = tmp_path / "rapport.pdf"
    out = ogo.cli("export", "--data", str(ogo.data), "donor-report", "--lot", "ETAT-2026-07", "--period", "2026",
                  "--out", str(pdf))  # fmt: skip
    assert "5 items" in out
    bundle = pdf.with_suffix(".mlnbundle")
    checked = subprocess.run([*CLI, "record", "verify", str(bundle), "--author", ogo.node_id], capture_output=True,
                             text=True, env=_env())  # fmt: skip
    assert checked.returncode == 0, checked.stdout
    lines = {line.split('serial="')[1].split('"')[0]: line for line in checked.stdout.splitlines()
             if line.startswith("item ")}  # fmt: skip
    custody = f"custody={ogo.fingerprint}>{bfc.fingerprint}"
    # every fate is signed by the node that settled it, explicitly
    assert "fate=distributed beneficiary=school" in lines["PF-1"] and f"by={member.fingerprint}" in lines["PF-1"]
    assert f"{custody}>{member.fingerprint}" in lines["PF-1"] and "signed=yes" in lines["PF-1"]
    assert "fate=recycled beneficiary=- weight=2000" in lines["PF-0"] and f"by={bfc.fingerprint}" in lines["PF-0"]
    assert lines["PF-0"].endswith('outflow="Ecologic (16 02 14)"')
    # still in stock at the member, erased: the member signed it so, with its erasures
    assert "fate=in_stock" in lines["PF-2"] and f"by={member.fingerprint}" in lines["PF-2"]
    assert "signed=yes" in lines["PF-2"] and "erased=yes" in lines["PF-2"]
    assert "fate=missing" in lines["PF-4"] and f"by={ogo.fingerprint}" in lines["PF-4"] and "signed=yes" in lines["PF-4"]
    # the erasures of each hop came back, each signed by the node that did it
    erasures = [line for line in checked.stdout.splitlines() if line.startswith("erasure ")]
    assert {(line.split("by=")[1].split()[0], line.split("level=")[1].split()[0]) for line in erasures} >= {
        (ogo.fingerprint, "clear"), (bfc.fingerprint, "destroy"), (member.fingerprint, "purge")}
    assert sum(f"certificate={CERTIFICATE}" in line for line in erasures) == 3  # PF-1, PF-2 and PF-3, the member's
    assert "erased=yes" in lines["PF-1"] and "erased=-" in lines["PF-4"]
    recycled = [line for line in checked.stdout.splitlines() if "fate=recycled" in line]
    assert len(recycled) == 1

    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "du 01/01/2026 au 31/12/2026" in text  # the exact period, not from 31/12
    assert "Recyclerie de Besancon" in text and member.fingerprint in text  # who did the work, two hops down
    flat = " ".join(text.replace("\u2212", "-").split())
    # the erasures done down the chain came back: PF-0 (the two hubs), PF-1 (the member, before it left),
    # PF-2 and PF-3 (still in stock at the member, which signed them so with their erasures)
    assert "Effacements prouvés 4 sur 5 appareils porteurs de données" in flat
    # (nwipe's method names in French: "PRNG stream" is a pseudo-random stream)
    assert "destruction · shredding" not in flat and "destruction · Flux pseudo-aléatoire (PRNG) · nwipe" in flat
    assert "Réception des lots" in flat and "-3 app. · -20,0 kg" in flat  # the discrepancy at reception
    assert "manquant à la réception (Ordi3 BFC" in flat

    # one byte of a record changed: the check fails, naming the record
    data = bytearray(bundle.read_bytes())
    data[len(data) // 2] ^= 0x01
    (tmp_path / "tampered.mlnbundle").write_bytes(bytes(data))
    tampered = subprocess.run([*CLI, "record", "verify", str(tmp_path / "tampered.mlnbundle")], capture_output=True,
                              text=True, env=_env())  # fmt: skip
    assert tampered.returncode == 1 and "verdict=fail" in tampered.stdout
