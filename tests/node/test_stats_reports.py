"""A member's statistics reports: built from its data, cut by its policy, versioned, sent when due."""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

import node.domain.distribution
import node.domain.items
import node.domain.workflow
from node.cli import commands
from node.domain.beneficiaries import BeneficiaryInput, create_beneficiary
from node.domain.distribution import DistributionInput, OutflowInput, distribute, recycle
from node.domain.donors import DonorInput, create_donor
from node.domain.impact import FACTOR_TABLES
from node.domain.items import ItemInput, create_items
from node.domain.lots import LotInput, create_lot
from node.domain.settings import set_setting
from node.domain.stats import compute_stats, period_bounds
from node.domain.workflow import StepInput, record_step
from node.errors import Invalid, RuleBroken
from node.network import outbox, peers
from node.network.replica import store_records
from node.network.stats_reports import build_report, due_reports, list_reports, preview, publish_report
from node.validation import parse
from protocol.keys import SigningKey
from protocol.kinds import MembershipCertificate, StatsReport
from protocol.records import open_envelope, sign_record

HUB_KEY = SigningKey.from_seed(bytes([7]) * 32)
HUB = HUB_KEY.public.raw
PARIS = ZoneInfo("Europe/Paris")
MARCH = "2024-03"


def paris(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=PARIS).timestamp()) * 1000


@pytest.fixture
async def workshop(store, monkeypatch):
    """March 2024: three laptops and a desktop arrive; two laptops are given, the desktop recycled."""
    clock = {"now": paris("2024-03-04 09:00")}
    for module in (node.domain.items, node.domain.workflow, node.domain.distribution):
        monkeypatch.setattr(module, "now_ms", lambda: clock["now"])
    async with store.transaction() as tx:
        donor = await create_donor(tx, parse(DonorInput, {"name": "Mairie", "type": "public_body"}))
        lot = await create_lot(tx, parse(LotInput, {"reference": "L-1", "donor_id": donor}))
        specs = [{"category": c, "storage": "none"} for c in ("laptop", "laptop", "laptop", "desktop")]
        l1, l2, l3, d1 = await create_items(tx, lot, [parse(ItemInput, s) for s in specs])
        person = await create_beneficiary(tx, parse(BeneficiaryInput, {"category": "person"}))
    clock["now"] = paris("2024-03-06 09:00")
    async with store.transaction() as tx:
        await record_step(tx, [l1, l2], parse(StepInput, {"state": "sorted", "orientation": "refurbish"}))
        await record_step(tx, [l1, l2], parse(StepInput, {"state": "ready"}))
    clock["now"] = paris("2024-03-12 10:00")
    async with store.transaction() as tx:
        await distribute(tx, [l1, l2], parse(DistributionInput, {"beneficiary_id": person}))
        await recycle(tx, parse(OutflowInput, {"item_ids": [d1], "recipient": "Ecologic", "waste_code": "16 02 14",
                                               "treatment": "R4"}))  # fmt: skip
    return store


async def set_policy(store, **levels):
    value = {"fates": "hub", "stats": "hub", "workforce": "none", **levels}
    async with store.transaction() as tx:
        await set_setting(tx, "publication_policy", json.dumps(value))


async def set_value(store, name, value):
    async with store.transaction() as tx:
        await set_setting(tx, name, value)


async def join_hub(store):
    async with store.transaction() as tx:
        await peers.pin_peer(tx, HUB, name="Hub", role="hub", relation="upstream", url="http://hub")


async def certify(store, since: str, until: str) -> None:
    """The hub's certificate for this node, held from the hub's log (its first record here)."""
    body = MembershipCertificate(member=store.key.public.raw, member_name="Atelier", role="member", network="Réseau",
                                 valid_from=paris(since), valid_until=paris(until))  # fmt: skip
    record = sign_record(HUB_KEY, seq=1, prev=None, time=paris(since), kind=body.KIND, content=body.to_content())
    async with store.transaction() as tx:
        await store_records(tx, [(record, None)])


async def send(store, period=MARCH):
    async with store.transaction() as tx:
        return await publish_report(tx, period)


async def draft(store, period=MARCH):
    async with store.transaction() as tx:
        return await preview(tx, period)


async def reports_signed(store) -> int:
    async with store.reader() as db:
        return await db.value("SELECT count(*) FROM log_records WHERE kind = ?", (StatsReport.KIND,))


async def test_the_figures_are_the_periods_without_the_stock(workshop):
    start, end = period_bounds(MARCH)
    async with workshop.reader() as db:
        stats = await compute_stats(db, start, end, years=3, factors=FACTOR_TABLES["ademe-2022"])
        report = await build_report(db, MARCH)
    expected = {k: v for k, v in stats.as_figures().items() if not k.startswith("stock.")}
    assert report.figures == expected
    assert report.figures["received.laptop.units"] == 3 and report.figures["distributed.laptop.units"] == 2
    assert report.figures["recycled.desktop.units"] == 1 and report.figures["beneficiaries.person"] == 1
    assert "reuse_rate_permille" in report.figures and "impact.co2e_g" in report.figures
    assert report.factor_version == "ademe-2022" and report.version == 1


async def test_no_statistics_published_refuses_and_signs_nothing(workshop):
    await set_policy(workshop, stats="none")
    shown = await draft(workshop)
    assert shown.audience is None and shown.body is None and shown.figures == {}
    with pytest.raises(RuleBroken) as refused:
        await send(workshop)
    assert refused.value.code == "not_published"
    assert await reports_signed(workshop) == 0


async def test_the_hub_reads_what_the_preview_showed(workshop):
    await join_hub(workshop)
    shown = await draft(workshop)
    record = await send(workshop)
    me = workshop.key.public.raw
    assert record.header.audience == tuple(sorted([me, HUB])) == shown.audience
    assert record.body() == shown.body
    assert open_envelope(record.envelope).header.kind == "stats.report/1"
    async with workshop.transaction() as tx:  # what the running node's federation does after a commit
        await outbox.route_own(tx, me)
        queued = [r[0] for r in await tx.all("SELECT record_id FROM outbox WHERE peer = ?", (HUB,))]
    assert record.id in queued


async def test_a_period_not_ended_is_not_sent(workshop):
    with pytest.raises(RuleBroken) as refused:
        await send(workshop, "2999-01")
    assert refused.value.code == "period_not_ended"
    assert await reports_signed(workshop) == 0


async def test_a_correction_supersedes_and_never_edits(workshop):
    await join_hub(workshop)
    first = await send(workshop)
    second = await send(workshop)
    assert (first.body().version, first.body().supersedes) == (1, None)
    assert (second.body().version, second.body().supersedes) == (2, first.id)
    assert (await draft(workshop)).body.version == 3
    async with workshop.reader() as db:
        listed = await list_reports(db, workshop.key.public.raw)
    assert [(r.id, r.version, r.superseded) for r in listed] == [(second.id, 2, False), (first.id, 1, True)]
    assert listed[1].figures == first.body().figures  # the first version is still in the log, as signed


async def test_workforce_figures_follow_the_policy(workshop):
    await join_hub(workshop)
    await set_value(workshop, "workforce", json.dumps({"fte": 3.5, "insertion_jobs": 4, "volunteers": 12}))
    hidden = await draft(workshop)  # the default policy: workforce none
    assert not any(key.startswith("workforce.") for key in hidden.figures)
    await set_policy(workshop, workforce="hub")
    shown = (await send(workshop)).body().figures
    assert (shown["workforce.fte_hundredths"], shown["workforce.insertion_jobs"], shown["workforce.volunteers"]) == (
        350, 4, 12)  # fmt: skip
    # Statistics for anyone, workforce for the hub only: the one record cannot carry them.
    await set_policy(workshop, stats="public", workforce="hub")
    public = await draft(workshop)
    assert public.audience == () and not any(key.startswith("workforce.") for key in public.figures)
    assert any(note.code == "workforce_kept" for note in public.notes)


@pytest.mark.parametrize("value", ['{"fte": 1.234}', '{"salaries": 3}', '{"volunteers": -1}', '{"volunteers": 1.5}',
                                   "[]", "nope"])  # fmt: skip
async def test_workforce_setting_is_checked(store, value):
    with pytest.raises(Invalid):
        await set_value(store, "workforce", value)


async def test_due_reports_are_every_ended_period_not_reported_yet_in_order(workshop):
    me = workshop.key.public.raw

    async def due(today, schedule="monthly"):
        await set_value(workshop, "stats_schedule", schedule)
        async with workshop.reader() as db:
            return await due_reports(db, today, me)

    assert await due(date(2024, 4, 5)) == []  # no hub
    await join_hub(workshop)
    assert await due(date(2024, 4, 5)) == []  # its certificate is not held yet: maybe not a member then
    await certify(workshop, "2023-12-15 00:00", "2024-12-15 00:00")
    # a node off across several month ends sends each missed month, in order, not only the last one
    assert await due(date(2024, 4, 5)) == ["2023-12", "2024-01", "2024-02", MARCH]
    assert await due(date(2024, 1, 1)) == ["2023-12"]
    assert await due(date(2023, 12, 1)) == []  # November 2023: before the membership began
    assert await due(date(2024, 4, 5), "quarterly") == ["2023-Q4", "2024-Q1"]
    assert await due(date(2024, 2, 29), "quarterly") == ["2023-Q4"]
    assert await due(date(2024, 4, 5), "yearly") == ["2023"]
    assert await due(date(2024, 4, 5), "off") == []
    await send(workshop)  # March, by hand
    assert await due(date(2024, 4, 5)) == ["2023-12", "2024-01", "2024-02"]
    assert await due(date(2024, 5, 1)) == ["2023-12", "2024-01", "2024-02", "2024-04"]
    # a quarter's report covers its months; months cover their quarter only all together (from the membership's
    # first month): March alone leaves January and February unreported, so the first quarter is still due
    assert await due(date(2024, 7, 1), "quarterly") == ["2023-Q4", "2024-Q1", "2024-Q2"]
    for month in ("2023-12", "2024-01", "2024-02"):
        await send(workshop, month)
    assert await due(date(2024, 7, 1), "quarterly") == ["2024-Q2"]
    # a change to a yearly schedule: 2024's months from April on were never sent, the year is due
    assert await due(date(2025, 1, 5), "yearly") == ["2024"]
    await send(workshop, "2024-Q2")
    assert await due(date(2024, 7, 1), "monthly") == []  # the quarter covers its months


async def test_daily_upkeep_sends_due_reports_only_with_a_hub(workshop):
    await commands.daily_upkeep(workshop, today=date(2024, 4, 5))
    assert await reports_signed(workshop) == 0  # no hub: nowhere to send it
    await join_hub(workshop)
    await set_policy(workshop, stats="none")
    await commands.daily_upkeep(workshop, today=date(2024, 4, 5))
    assert await reports_signed(workshop) == 0
    await set_policy(workshop, stats="hub")
    await commands.daily_upkeep(workshop, today=date(2024, 4, 5))
    assert await reports_signed(workshop) == 0  # not certified by the hub for March
    await certify(workshop, "2024-01-01 00:00", "2025-01-01 00:00")
    await commands.daily_upkeep(workshop, today=date(2024, 4, 5))
    await commands.daily_upkeep(workshop, today=date(2024, 4, 6))
    async with workshop.reader() as db:
        listed = await list_reports(db, workshop.key.public.raw)
    # the node was off since the new year: each month it missed is sent, in order, once
    assert [(r.period, r.version) for r in listed] == [(MARCH, 1), ("2024-02", 1), ("2024-01", 1)]
    assert [r.seq for r in listed] == sorted((r.seq for r in listed), reverse=True)
    assert HUB in listed[0].audience


def test_report_commands(tmp_path, capsys):
    from node.cli.main import main

    data = str(tmp_path / "node")
    assert main(["init", "--data", data, "--name", "Atelier"]) == 0
    assert main(["report", "preview", "--data", data, "--period", MARCH]) == 0
    out = capsys.readouterr().out
    assert "version 1" in out and "this node" in out and "recycled.weight_g" in out and "stock." not in out
    assert main(["report", "send", "--data", data, "--period", MARCH]) == 0
    assert "version 1" in capsys.readouterr().out
    assert main(["report", "send", "--data", data, "--period", MARCH]) == 0
    assert "supersedes" in capsys.readouterr().out
    assert main(["report", "list", "--data", data]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "v2  current" in lines[0] and "v1  superseded" in lines[1]
    policy = json.dumps({"fates": "hub", "stats": "none", "workforce": "none"})
    assert main(["settings", "--data", data, "publication_policy", policy]) == 0
    capsys.readouterr()
    assert main(["report", "preview", "--data", data, "--period", MARCH]) == 0
    assert "nothing would leave" in capsys.readouterr().out
    assert main(["report", "send", "--data", data, "--period", MARCH]) == 1
    assert "not_published" in capsys.readouterr().err


async def test_a_running_period_can_be_previewed_not_sent(workshop):
    shown = await draft(workshop, "2999")
    assert shown.body is not None and any(note.code == "period_not_ended" for note in shown.notes)
    with pytest.raises(Invalid):
        await draft(workshop, "2024-13")
