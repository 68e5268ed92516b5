"""A hub's regional summaries of its members' reports, and national's checks of them."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from node.domain.settings import set_setting
from node.errors import NotFound, RuleBroken
from node.network import national, peers, regional
from node.network.replica import store_records
from node.reports import network_year
from node.store.database import Store
from protocol import canonical
from protocol.keys import SigningKey
from protocol.kinds import LogCheckpoint, MembershipCertificate, RegionalSummary, StatsReport
from protocol.records import Record, open_envelope, sign_record

PARIS = ZoneInfo("Europe/Paris")
HUB = SigningKey.from_seed(hashlib.sha256(b"node tests").digest()).public.raw  # the `store` fixture's key
MARCH = "2024-03"
DAY = 86_400_000


def paris(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=PARIS).timestamp()) * 1000


def key(name: str) -> SigningKey:
    return SigningKey.from_seed(hashlib.sha256(name.encode()).digest())


ANNE, BERT, CHLO = key("anne"), key("bert"), key("chlo")


class Member:
    """A member's log: its reports, signed in order, as the hub would receive them."""

    def __init__(self, signing: SigningKey) -> None:
        self.key = signing
        self.records: list[Record] = []

    def report(self, period: str, figures: dict[str, int], *, at: str, supersedes: Record | None = None,
               audience: tuple[bytes, ...] = ()) -> Record:  # fmt: skip
        version = 1 if supersedes is None else StatsReport.model_validate(canonical.decode(supersedes.content)).version + 1
        body = StatsReport(period=period, version=version, figures=figures,
                           supersedes=None if supersedes is None else supersedes.id)  # fmt: skip
        prev = self.records[-1] if self.records else None
        record = sign_record(self.key, seq=len(self.records) + 1, prev=prev.id if prev else None, time=paris(at),
                             kind=StatsReport.KIND, content=body.to_content(), audience=audience)  # fmt: skip
        self.records.append(record)
        return record


async def hold(store: Store, *records: Record) -> None:
    async with store.transaction() as tx:
        stored = await store_records(tx, [(record, None) for record in records])
    assert all(s.error is None for s in stored), [s.error for s in stored]


async def certify(store: Store, member: SigningKey, name: str, *, start: str, days: int = 366) -> Record:
    async with store.transaction() as tx:
        await peers.pin_peer(tx, member.public.raw, name=name, role="member", relation="downstream")
        return await tx.append(MembershipCertificate(member=member.public.raw, member_name=name, role="member",
                                                     network="Ordi Test", valid_from=paris(start),
                                                     valid_until=paris(start) + days * DAY))  # fmt: skip


FIG_A = {"received.laptop.units": 10, "received.laptop.weight_g": 20_000, "distributed.laptop.units": 6,
         "recycled.laptop.units": 2, "recycled.weight_g": 4_000, "reuse_rate_permille": 750,
         "lead_time.mean_days": 10, "lead_time.median_days": 9, "impact.years": 4, "beneficiaries.person": 5}  # fmt: skip
FIG_B = {"received.laptop.units": 4, "received.desktop.units": 3, "distributed.desktop.units": 1,
         "dismantled.desktop.units": 1, "recycled.weight_g": 1_000, "reuse_rate_permille": 500,
         "lead_time.mean_days": 40, "lead_time.median_days": 41, "impact.years": 4, "beneficiaries.school": 1}  # fmt: skip


def test_figures_are_added_up_and_ratios_recomputed():
    total = regional.sum_figures([FIG_A, FIG_B])
    assert total["received.laptop.units"] == 14 and total["received.desktop.units"] == 3
    assert total["recycled.weight_g"] == 5_000 and total["beneficiaries.person"] == 5
    # 7 distributed over 7 + 2 recycled + 1 dismantled
    assert total["reuse_rate_permille"] == 700
    # weighted by fates: A 8 fates at 10 days, B 2 fates at 40 days -> 16 days
    assert total["lead_time.mean_days"] == 16
    assert "lead_time.median_days" not in total
    assert total["impact.years"] == 4
    assert "impact.years" not in regional.sum_figures([FIG_A, {**FIG_B, "impact.years": 5}])
    assert regional.sum_figures([]) == {}


@pytest.fixture
async def hub(store):
    """A hub with Anne and Bert certified from January 2024, Chlo only for 2023 (expired since)."""
    await certify(store, ANNE, "Anne", start="2024-01-01")
    await certify(store, BERT, "Bert", start="2024-01-01")
    await certify(store, CHLO, "Chlo", start="2023-01-01", days=365)
    return store


async def test_a_summary_counts_the_latest_report_of_each_member_and_names_those_missing(hub):
    anne, bert, chlo = Member(ANNE), Member(BERT), Member(CHLO)
    first = anne.report(MARCH, {"received.laptop.units": 1}, at="2024-04-02")
    second = anne.report(MARCH, FIG_A, at="2024-04-10", supersedes=first)
    early = bert.report(MARCH, FIG_B, at="2024-03-20")  # signed before the period ended
    stray = chlo.report(MARCH, FIG_B, at="2024-04-02")  # Chlo's certificate ran out in 2023
    await hold(hub, first, second, early, stray)

    async with hub.reader() as db:
        result = await regional.aggregate(db, HUB, MARCH)
        reports = await regional.member_reports(db, (HUB,), MARCH)
    assert [r.id for r in result.reports] == [second.id]
    assert result.missing == [BERT.public.raw]
    assert result.figures == {**regional.sum_figures([FIG_A]), "members.reporting": 1, "members.missing": 1}
    assert {r.id: r.why_not for r in reports} == {first.id: "superseded", second.id: "", early.id: "period_not_ended",
                                                  stray.id: "not_a_member"}  # fmt: skip


async def test_a_summary_is_signed_again_only_when_what_it_says_changed(hub):
    anne, bert = Member(ANNE), Member(BERT)
    await hold(hub, anne.report(MARCH, FIG_A, at="2024-04-02"))
    async with hub.transaction() as tx:
        v1 = await regional.sign_summary(tx, MARCH)
    async with hub.transaction() as tx:
        assert await regional.sign_summary(tx, MARCH) is None  # nothing new

    late = bert.report(MARCH, FIG_B, at="2024-05-20")
    await hold(hub, late)
    async with hub.transaction() as tx:
        v2 = await regional.sign_summary(tx, MARCH)
    first, second = v1.body(), v2.body()
    assert (first.version, first.missing, len(first.reports)) == (1, [BERT.public.raw], 1)
    assert (second.version, second.supersedes, second.missing) == (2, v1.id, [])
    assert sorted(second.reports) == sorted([anne.records[0].id, late.id])
    assert second.figures["members.reporting"] == 2
    assert v2.header.audience == (HUB,)  # the hub's stats policy: the hub (and its upstream, none here)
    async with hub.reader() as db:
        listed = await regional.list_summaries(db, (HUB,))
    assert [(s.body.version, s.superseded) for s in listed] == [(2, False), (1, True)]


async def test_a_summary_is_refused_before_the_period_ends_or_when_statistics_are_not_published(hub):
    async with hub.transaction() as tx:
        with pytest.raises(RuleBroken) as early:
            await regional.sign_summary(tx, "2024-04", now=paris("2024-04-15"))
    assert early.value.code == "period_not_ended"
    async with hub.transaction() as tx:
        await set_setting(tx, "publication_policy", json.dumps({"fates": "hub", "stats": "none", "workforce": "none"}))
    async with hub.transaction() as tx:
        with pytest.raises(RuleBroken) as hidden:
            await regional.sign_summary(tx, MARCH)
    assert hidden.value.code == "not_published"
    async with hub.reader() as db:
        assert await regional.list_summaries(db, (HUB,)) == []


async def test_a_node_that_admitted_no_member_has_nothing_to_summarise(store):
    async with store.transaction() as tx:
        with pytest.raises(RuleBroken) as refused:
            await regional.sign_summary(tx, MARCH)
    assert refused.value.code == "not_a_hub"


async def test_a_report_that_cannot_count_is_refused_at_receipt(hub):
    anne, chlo = Member(ANNE), Member(CHLO)
    good = anne.report(MARCH, FIG_A, at="2024-04-02")
    async with hub.transaction() as tx:
        await regional.report_received(tx, good, good.body())
    cases = [
        (chlo.report(MARCH, FIG_B, at="2024-04-02"), "not_a_member"),
        (anne.report("2024-04", FIG_B, at="2024-04-20"), "period_not_ended"),
        (Member(ANNE).report(MARCH, FIG_B, at="2024-04-03", supersedes=Member(BERT).report(MARCH, {}, at="2024-04-02")),
         "bad_supersedes"),
    ]  # fmt: skip
    for record, code in cases:
        async with hub.transaction() as tx:
            with pytest.raises(RuleBroken) as refused:
                await regional.report_received(tx, record, record.body())
        assert refused.value.code == code


async def test_certificates_of_active_members_are_renewed_before_they_run_out(hub):
    async with hub.transaction() as tx:
        await peers.revoke_peer(tx, BERT.public.raw, 1)
    now = paris("2024-12-15")  # Anne's and Bert's end on 2025-01-01
    async with hub.transaction() as tx:
        renewed = await regional.renew_certificates(tx, now=now)
    assert [r.body().member for r in renewed] == [ANNE.public.raw]
    body = renewed[0].body()
    assert body.valid_from == paris("2024-01-01") + 366 * DAY and body.network == "Ordi Test"
    async with hub.transaction() as tx:
        assert await regional.renew_certificates(tx, now=now) == []  # once
    async with hub.reader() as db:
        assert ANNE.public.raw in await regional.members_during(db, (HUB,), "2025-06")
        assert BERT.public.raw not in await regional.members_during(db, (HUB,), "2025-06")


async def test_the_daily_upkeep_of_a_hub_signs_the_last_period_and_takes_late_reports_in(hub):
    from node.cli.commands import daily_upkeep

    await hold(hub, Member(ANNE).report(MARCH, FIG_A, at="2024-04-02"))
    await daily_upkeep(hub, today=date(2024, 4, 5))
    async with hub.reader() as db:
        (summary,) = await regional.list_summaries(db, (HUB,))
    assert (summary.body.period, summary.body.missing) == (MARCH, [BERT.public.raw])
    await hold(hub, Member(BERT).report(MARCH, FIG_B, at="2024-05-02"))
    await daily_upkeep(hub, today=date(2024, 5, 5))
    async with hub.reader() as db:
        latest = (await regional.list_summaries(db, (HUB,), MARCH))[0]
    assert (latest.body.version, latest.body.missing) == (2, [])


async def test_a_hub_off_across_several_period_ends_signs_the_summary_of_each(store):
    from node.cli.commands import daily_upkeep
    from node.store.database import clock_at

    with clock_at(paris("2024-01-10")):  # the hub admits its members in January
        await certify(store, ANNE, "Anne", start="2024-01-01")
    await hold(store, Member(ANNE).report("2024-02", FIG_A, at="2024-03-02"))
    await daily_upkeep(store, today=date(2024, 4, 5))  # the first upkeep since January
    async with store.reader() as db:
        signed = sorted(s.body.period for s in await regional.list_summaries(db, (HUB,)))
    assert signed == ["2024-01", "2024-02", MARCH]  # on main: March alone, February's report never summarised


# national -------------------------------------------------------------------------


@pytest.fixture
async def nation(tmp_path):
    store = await Store.open(tmp_path / "national.db", key("national"), create=True)
    async with store.transaction() as tx:
        await peers.pin_peer(tx, HUB, name="Ordi Test", role="hub", relation="downstream")
    yield store
    await store.close()


async def copy_log(source: Store, target: Store, author: bytes, *, readable: bool = True) -> None:
    async with source.reader() as db:
        rows = await db.all("SELECT envelope, content FROM log_records WHERE author = ? ORDER BY seq", (author,))
    records = []
    for row in rows:
        record = open_envelope(row["envelope"])
        records.append(Record(record.envelope, record.header_bytes, record.signature, record.header, record.id,
                              row["content"] if readable or not record.header.audience else None))  # fmt: skip
    await hold(target, *records)


async def test_national_verifies_a_summary_against_the_reports_it_lists(hub, nation):
    anne, bert = Member(ANNE), Member(BERT)
    reports = [anne.report(MARCH, FIG_A, at="2024-04-02"), bert.report(MARCH, FIG_B, at="2024-04-03")]
    await hold(hub, *reports)
    async with hub.transaction() as tx:
        await regional.sign_summary(tx, MARCH)
    await copy_log(hub, nation, HUB)

    async with nation.reader() as db:
        (reading,) = await national.read_hubs(db)
    (check,) = reading.summaries
    # the two members' reports and the hub's own (held with the hub's log); member logs not pulled yet
    assert (check.state, check.held, check.listed) == ("incomplete", 1, 3)

    await hold(nation, reports[0])
    await hold(nation, Record(*(getattr(reports[1], f) for f in ("envelope", "header_bytes", "signature", "header",
                                                                 "id")), None))  # fmt: skip
    async with nation.reader() as db:
        (check,) = (await national.read_hubs(db))[0].summaries
    # Bert's report is a header only: the sum could not be checked, so the summary is signed, never "verified"
    assert (check.state, check.held, check.readable, check.sum_checked) == ("signed", 3, 2, False)

    async with nation.reader() as db:
        totals = national.national_totals(await national.read_hubs(db))
    assert totals[MARCH]["received.laptop.units"] == 14 and totals[MARCH]["members.reporting"] == 2


async def test_national_says_verified_only_when_it_added_up_every_listed_report(hub, nation):
    anne, bert = Member(ANNE), Member(BERT)
    reports = [anne.report(MARCH, FIG_A, at="2024-04-02"), bert.report(MARCH, FIG_B, at="2024-04-03")]
    await hold(hub, *reports)
    async with hub.transaction() as tx:
        await regional.sign_summary(tx, MARCH)
    await copy_log(hub, nation, HUB)
    async with hub.reader() as db:
        own = await regional.own_report(db, (HUB,), MARCH)
    async with nation.transaction() as tx:  # as if the hub's own report were sealed to the hub alone
        await tx.run("UPDATE log_records SET content = NULL WHERE id = ?", (own.id,))
    await hold(nation, *(Record(*(getattr(r, f) for f in ("envelope", "header_bytes", "signature", "header", "id")),
                                None) for r in reports))  # fmt: skip
    async with nation.reader() as db:
        (check,) = (await national.read_hubs(db))[0].summaries
    # every listed report held, none readable: on main this said "verified" with 0 readable
    assert (check.state, check.held, check.readable, check.listed) == ("signed", 3, 0, 3)
    async with nation.transaction() as tx:  # now every report is readable
        await tx.run("DELETE FROM log_records WHERE id IN (?, ?)", (reports[0].id, reports[1].id))
        own_content = await _row(hub, own.id)
        await tx.run("UPDATE log_records SET content = ? WHERE id = ?", (own_content, own.id))
    await hold(nation, *reports)
    async with nation.reader() as db:
        (check,) = (await national.read_hubs(db))[0].summaries
    assert own_content and (check.state, check.readable, check.sum_checked) == ("verified", 3, True)


async def _row(store: Store, record_id: bytes) -> bytes:
    async with store.reader() as db:
        return await db.value("SELECT content FROM log_records WHERE id = ?", (record_id,))


async def test_national_finds_a_summary_whose_figures_are_not_the_sum_of_its_reports(hub, nation):
    anne = Member(ANNE)
    report = anne.report(MARCH, FIG_A, at="2024-04-02")
    await hold(hub, report)
    async with hub.transaction() as tx:  # the hub inflates what its member reported
        figures = {**regional.sum_figures([FIG_A]), "received.laptop.units": 99, "members.reporting": 1}
        await tx.append(RegionalSummary(period=MARCH, version=1, figures=figures, reports=[report.id],
                                        missing=[ANNE.public.raw]))  # fmt: skip
    await copy_log(hub, nation, HUB)
    await hold(nation, report)
    async with nation.reader() as db:
        (check,) = (await national.read_hubs(db))[0].summaries
    assert check.state == "inconsistent"
    assert any(p.code == "figures_differ" and "received.laptop.units" in p.values["keys"] for p in check.problems)
    assert any(p.code == "counted_and_missing" and p.values == {"count": "1"} for p in check.problems)


async def test_a_years_figures_take_each_member_at_the_coarsest_level_it_reported(hub):
    anne, bert = Member(ANNE), Member(BERT)
    months = [anne.report(f"2024-{m:02d}", {"received.laptop.units": m}, at=f"2024-{m + 1:02d}-02") for m in (1, 2, 3)]
    quarter = anne.report("2024-Q1", {"received.laptop.units": 100}, at="2024-04-03")  # Q1 again, as a quarter
    yearly = bert.report("2024", {"received.laptop.units": 1000}, at="2025-01-05")
    monthly = bert.report("2024-06", {"received.laptop.units": 7}, at="2024-07-02")  # within its yearly report
    await hold(hub, *months, quarter, yearly, monthly)
    async with hub.reader() as db:
        year = await network_year.year_figures(db, HUB, "2024")
    assert year.figures["received.laptop.units"] == 100 + 1000  # never a month counted twice
    assert (year.certified, year.reporting, year.partial) == (2, 2, 1)  # Chlo was a member in 2023 only; Anne: Q1


async def test_an_admin_resets_the_audit_of_a_flagged_hub(hub, nation):
    async with hub.transaction() as tx:
        first = await tx.append(LogCheckpoint(tree_size=10, root=bytes(32)))
        forged = await tx.append(LogCheckpoint(tree_size=9, root=bytes([1]) * 32))
    await copy_log(hub, nation, HUB)
    async with nation.transaction() as tx:
        (base, bad) = await national.new_checkpoints(tx, HUB)
        await national.record_audit(tx, HUB, base, state="consistent")
        await national.record_audit(tx, HUB, bad, state="rewritten", detail="smaller tree")
    async with nation.reader() as db:
        flagged = await national.audited_log(db, HUB)
    assert (flagged.state, flagged.checkpoint_seq) == ("rewritten", first.header.seq)  # the last good one kept
    async with nation.transaction() as tx:
        assert (await national.reset_audit(tx, HUB)).state == "rewritten"
    async with nation.reader() as db:
        fresh = await national.audited_log(db, HUB)
        assert await national.new_checkpoints(db, HUB) == []
    assert (fresh.state, fresh.checkpoint_seq, fresh.tree_size) == ("consistent", forged.header.seq, 9)
    with pytest.raises(NotFound) as never:
        async with nation.transaction() as tx:
            await national.reset_audit(tx, key("another hub").public.raw)
    assert never.value.code == "not_audited"


# figures a summary cannot hold ----------------------------------------------------------


async def receipt(hub: Store, record: Record) -> str:
    """What the hub says when ``record`` (held) arrives: ``""`` when it may count, else the code refused."""
    async with hub.transaction() as tx:
        try:
            await regional.report_received(tx, record, record.body())
        except RuleBroken as exc:
            return exc.code
    return ""


async def test_a_report_whose_figures_would_overflow_the_summary_is_refused_and_not_counted(hub):
    anne, bert, chlo = Member(ANNE), Member(BERT), Member(key("dora"))
    await certify(hub, chlo.key, "Dora", start="2024-01-01")
    # each a valid stats.report/1 (figures up to 2^62), but a summary adding them up could not be signed
    huge = anne.report(MARCH, {"recycled.weight_g": 2**62, "received.laptop.units": 3}, at="2024-04-02")
    negative = chlo.report(MARCH, {"distributed.laptop.units": 10**6, "recycled.laptop.units": -(10**6) + 1},
                           at="2024-04-02")  # a reuse rate of a billion per mille  # fmt: skip
    fair = bert.report(MARCH, {"recycled.weight_g": 1_000, "received.laptop.units": 2}, at="2024-04-03")
    await hold(hub, huge, negative, fair)
    assert [await receipt(hub, r) for r in (huge, negative, fair)] == ["summary_overflow", "summary_overflow", ""]

    async with hub.reader() as db:
        why = {r.id: r.why_not for r in await regional.member_reports(db, (HUB,), MARCH)}
    assert why == {huge.id: "summary_overflow", negative.id: "summary_overflow", fair.id: ""}
    async with hub.transaction() as tx:
        summary = (await regional.sign_summary(tx, MARCH)).body()
    assert summary.reports == [fair.id] and summary.missing == sorted([ANNE.public.raw, chlo.key.public.raw])
    assert summary.figures["recycled.weight_g"] == 1_000


async def test_an_earlier_version_in_bounds_counts_when_its_correction_is_not(hub):
    anne = Member(ANNE)
    first = anne.report(MARCH, FIG_A, at="2024-04-02")
    wild = anne.report(MARCH, {**FIG_A, "received.laptop.weight_g": -(2**49)}, at="2024-04-03", supersedes=first)
    await hold(hub, first, wild)
    assert await receipt(hub, wild) == "summary_overflow"
    async with hub.reader() as db:
        assert [r.id for r in (await regional.aggregate(db, HUB, MARCH)).reports] == [first.id]


def keys(prefix: str, count: int) -> dict[str, int]:
    return {f"{prefix}.{n}": 1 for n in range(count)}


async def test_the_summarys_2000_figures_go_to_the_reports_with_the_fewest_first(hub):
    anne, bert = Member(ANNE), Member(BERT)
    many = anne.report(MARCH, keys("anne", 1_200), at="2024-04-02")  # alone, it fits
    fewer = bert.report(MARCH, keys("bert", 900), at="2024-04-03")  # but not both: 2 100 figures and more
    await hold(hub, many)
    assert await receipt(hub, many) == ""
    await hold(hub, fewer)
    assert await receipt(hub, fewer) == ""  # the smaller report keeps its place: a member cannot crowd others out
    async with hub.reader() as db:
        why = {r.id: r.why_not for r in await regional.member_reports(db, (HUB,), MARCH)}
    assert why == {many.id: "summary_overflow", fewer.id: ""}
    later = anne.report(MARCH, keys("bert", 900), at="2024-04-04", supersedes=many)  # the same keys as Bert's
    await hold(hub, later)
    assert await receipt(hub, later) == ""
    async with hub.transaction() as tx:
        summary = (await regional.sign_summary(tx, MARCH)).body()
    assert sorted(summary.reports) == sorted([fewer.id, later.id]) and summary.figures["bert.0"] == 2
    async with hub.reader() as db:  # the hub's own report (its own workshop) takes its place too
        own = await regional.own_report(db, (HUB,), MARCH)
    assert summary.own == own.id and len(summary.figures) == 900 + 2 + len(own.figures)


async def test_a_report_refused_at_receipt_for_its_size_when_others_took_the_place(hub):
    anne, bert = Member(ANNE), Member(BERT)
    await hold(hub, anne.report(MARCH, keys("anne", 1_000), at="2024-04-02"))
    crowd = bert.report(MARCH, keys("bert", 1_500), at="2024-04-03")
    await hold(hub, crowd)
    assert await receipt(hub, crowd) == "summary_overflow"


# the daily upkeep ---------------------------------------------------------------------------


async def alerts(store: Store) -> list[tuple[str, str, str]]:
    async with store.reader() as db:
        return [tuple(r) for r in await db.all("SELECT kind, reason, detail FROM alerts ORDER BY id")]


async def test_reports_that_would_overflow_together_no_longer_stop_the_daily_upkeep(hub):
    from node.cli.commands import daily_upkeep

    await hold(hub, Member(ANNE).report(MARCH, FIG_A, at="2024-04-02"))
    await daily_upkeep(hub, today=date(2024, 4, 5))
    # a late report, valid, whose figure added to Anne's goes past 2^62: summing March's again raised, and
    # the upkeep ended there (no April summary, and until a restart no more upkeep at all)
    await hold(hub, Member(BERT).report(MARCH, {"recycled.weight_g": 2**62}, at="2024-05-02"))
    await daily_upkeep(hub, today=date(2024, 5, 5))
    async with hub.reader() as db:
        march = await regional.list_summaries(db, (HUB,), MARCH)
        april = await regional.list_summaries(db, (HUB,), "2024-04")
    assert [s.body.version for s in march] == [1]  # Bert's report does not count: March's summary still holds
    assert len(april) == 1 and april[0].body.missing == sorted([ANNE.public.raw, BERT.public.raw])
    assert await alerts(hub) == []


async def test_a_failing_upkeep_task_raises_an_alert_naming_it_and_the_others_still_run(hub, monkeypatch):
    from node.network import upkeep

    async def broken(tx, **_):
        raise OverflowError("a task that fails for a reason nobody foresaw")

    monkeypatch.setattr(upkeep, "renew_certificates", broken)
    await hold(hub, Member(ANNE).report(MARCH, FIG_A, at="2024-04-02"))
    await upkeep.daily_upkeep(hub, today=date(2024, 4, 5))
    async with hub.reader() as db:
        assert len(await regional.list_summaries(db, (HUB,), MARCH)) == 1  # signed after the failed task
    ((kind, reason, detail),) = await alerts(hub)
    assert (kind, reason) == ("upkeep_failed", "renew_certificates")
    assert "renewing members' certificates failed: OverflowError: a task that fails" in detail
