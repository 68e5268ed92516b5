"""Statistics between real nodes on loopback: members report, the hub sums up, national verifies and audits."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from aiohttp import ClientSession, web
from livenodes import LiveNode, free_port, wait_for
from test_transparency_live import drop_and_sign

from node.config import load_node
from node.domain.happened import today as node_today  # the node's day (France), not the machine's
from node.domain.publication import audience_for
from node.network.stats_reports import last_ended_period
from node.store.database import Store
from protocol import canonical
from protocol.kinds import StatsReport
from protocol.records import open_entry
from protocol.seal import open_sealed

PERIOD = last_ended_period("monthly", node_today())  # ended: it may be reported
SINCE = "2025-01-01"  # the members' membership began before they joined (before PERIOD)


def enrol(member: LiveNode, hub: LiveNode, *, since: str | None = SINCE, url: str | None = None) -> None:
    """The member joins the hub with an invitation saying when its membership began."""
    out = hub.cli("invite", "--data", str(hub.data), *(["--member-since", since] if since else []))
    token = next(line for line in out.splitlines() if "maillon join" in line).split("--token ")[1].split()[0]
    member.cli("join", "--data", str(member.data), url or hub.url, "--token", token, "--fingerprint", hub.fingerprint)


def reports(node: LiveNode, author: bytes) -> list[StatsReport]:
    rows = node.query("SELECT content FROM log_records WHERE author = ? AND kind = ? AND content IS NOT NULL"
                      " ORDER BY seq", (author, StatsReport.KIND))  # fmt: skip
    return [StatsReport.model_validate(canonical.decode(row[0])) for row in rows]


def report_ids(node: LiveNode) -> list[bytes]:
    return [row[0] for row in node.query("SELECT id FROM log_records WHERE author = ? AND kind = ? ORDER BY seq",
                                         (node.key, StatsReport.KIND))]  # fmt: skip


def summary_lines(node: LiveNode) -> list[str]:
    return node.cli("summary", "list", "--data", str(node.data)).splitlines()


@pytest.fixture
def network(make_node):
    """National, a hub admitted by it, two members enrolled since 2025 (behind NAT), sending reports when asked.

    (A member sends the last period's report by itself once it holds its
    certificate from the hub's log: the next daily upkeep after it joined.)
    """
    national = make_node("Fédération nationale", role="national").start()
    hub = make_node("Ordi Grand Ouest", role="hub")
    token, _ = national.invite("hub")
    hub.cli("join", "--data", str(hub.data), national.url, "--token", token, "--fingerprint", national.fingerprint)
    hub.start()
    members = []
    for name, stats in (("Atelier du Lien", "public"), ("Repair Café", "hub")):
        member = make_node(name, reachable=False)
        enrol(member, hub)
        member.cli("settings", "--data", str(member.data), "publication_policy",
                   json.dumps({"fates": "hub", "stats": stats, "workforce": "none"}))  # fmt: skip
        members.append(member.start())
    return national, hub, members


def test_reports_corrections_and_late_reports_make_summaries_that_national_verifies(network):
    national, hub, (lien, repair) = network
    # Lien reports; the hub signs a summary that says Repair Café is missing
    lien.cli("report", "send", "--data", str(lien.data), "--period", PERIOD)
    wait_for(lambda: reports(hub, lien.key), what="Lien's report, readable at the hub")
    out = hub.cli("summary", "sign", "--data", str(hub.data), "--period", PERIOD)
    assert "version 1: 1 report(s), 1 missing" in out
    # Repair Café reports late; Lien corrects its report: each makes a new version of the summary
    repair.cli("report", "send", "--data", str(repair.data), "--period", PERIOD)
    wait_for(lambda: reports(hub, repair.key), what="Repair Café's report at the hub")
    assert "version 2: 2 report(s), 0 missing" in hub.cli("summary", "sign", "--data", str(hub.data), "--period", PERIOD)
    assert "nothing signed" in hub.cli("summary", "sign", "--data", str(hub.data), "--period", PERIOD)
    lien.cli("report", "send", "--data", str(lien.data), "--period", PERIOD)
    wait_for(lambda: len(reports(hub, lien.key)) == 2, what="Lien's correction at the hub")
    out = hub.cli("summary", "sign", "--data", str(hub.data), "--period", PERIOD)
    assert "version 3: 2 report(s), 0 missing" in out
    first, correction = report_ids(lien)
    preview = hub.cli("summary", "preview", "--data", str(hub.data), "--period", PERIOD)
    assert f"{first.hex()[:16]}  superseded" in preview and f"v2  {correction.hex()[:16]}" in preview
    assert hub.value("SELECT count(*) FROM alerts WHERE kind = 'refused_effect'") == 0

    # national holds the summaries, pulls the members' logs from the hub and checks the latest one: the
    # members' reports and the hub's own held, Lien's and the hub's readable, Repair Café's a header only (for
    # its hub): signed, its sum not checked, never "verified"
    wait_for(lambda: any(f"{PERIOD:<8} v3  {'signed':<12}  3/3 report(s) held, 2 readable, 0 missing, sum not checked"
                         in line for line in summary_lines(national)), what="national checking the summary")  # fmt: skip
    assert national.value("SELECT content FROM log_records WHERE id = ?", (correction,)) is not None
    assert national.value("SELECT content FROM log_records WHERE id = ?", (report_ids(repair)[0],)) is None
    wait_for(lambda: any("log consistent up to checkpoint" in line for line in summary_lines(national)),
             what="national auditing the hub's log")  # fmt: skip

    # each member has its reports proved in the hub's log, by itself, and says so
    wait_for(lambda: lien.value("SELECT count(*) FROM inclusions") == 2, what="Lien's reports proved included")
    assert "included at checkpoint" in lien.cli("report", "list", "--data", str(lien.data))


def test_a_report_the_members_certificate_does_not_cover_is_refused_and_never_counts(network, make_node):
    national, hub, _ = network
    newcomer = make_node("Nouvel Atelier", reachable=False)
    enrol(newcomer, hub, since=None)  # a member from today: the last period is not covered
    newcomer.start()
    newcomer.cli("report", "send", "--data", str(newcomer.data), "--period", PERIOD)
    wait_for(lambda: hub.value("SELECT reason FROM alerts WHERE kind = 'refused_effect' AND author = ?",
                               (newcomer.key,)) == "not_a_member", what="the hub refusing the report")  # fmt: skip
    assert reports(hub, newcomer.key)  # held all the same: the newcomer's log stays whole
    preview = hub.cli("summary", "preview", "--data", str(hub.data), "--period", PERIOD)
    # Lien and Repair Café have not reported; the newcomer was no member during the period: not missing either
    assert "0 report(s) count, 2 member(s) missing" in preview
    assert any(line.startswith("  ignored  Nouvel Atelier") and line.endswith("not_a_member")
               for line in preview.splitlines())  # fmt: skip
    hub.cli("summary", "sign", "--data", str(hub.data), "--period", PERIOD)
    summary = hub.value("SELECT content FROM log_records WHERE author = ? AND kind = 'regional.summary/2'", (hub.key,))
    assert report_ids(newcomer)[0] not in canonical.decode(summary)["reports"]


def sign_report(member: LiveNode, figures: dict[str, int]) -> bytes:
    """A member turned hostile signs a report of its own making (valid, as the kind allows) in its running node."""

    async def go() -> bytes:
        loaded = load_node(member.data)
        store = await Store.open(loaded.db_path, loaded.key)
        try:
            async with store.transaction() as tx:
                body = StatsReport(period=PERIOD, version=1, figures=figures)
                return (await tx.append(body, await audience_for(tx, "stats"))).id
        finally:
            await store.close()

    return asyncio.run(go())


def test_a_report_that_would_make_the_summary_overflow_is_refused_and_the_hub_still_sums_up(network):
    national, hub, (lien, repair) = network
    repair.cli("report", "send", "--data", str(repair.data), "--period", PERIOD)
    wait_for(lambda: reports(hub, repair.key), what="Repair Café's report at the hub")
    # every figure of Lien's within what a stats.report/1 allows, but added to Repair Café's, past any summary
    huge = sign_report(lien, {"recycled.weight_g": 2**62, "received.laptop.units": 2**62})
    wait_for(lambda: hub.value("SELECT reason FROM alerts WHERE kind = 'refused_effect' AND author = ?",
                               (lien.key,)) == "summary_overflow", what="the hub refusing the report")  # fmt: skip
    assert reports(hub, lien.key)  # held all the same: Lien's log stays whole
    preview = hub.cli("summary", "preview", "--data", str(hub.data), "--period", PERIOD)
    assert any(line.startswith("  ignored  Atelier du Lien") and line.endswith("summary_overflow")
               for line in preview.splitlines())  # fmt: skip
    assert "version 1: 1 report(s), 1 missing" in hub.cli("summary", "sign", "--data", str(hub.data), "--period", PERIOD)
    summary = hub.value("SELECT content FROM log_records WHERE author = ? AND kind = 'regional.summary/2'", (hub.key,))
    assert huge not in canonical.decode(summary)["reports"]


def test_a_hub_that_drops_a_report_is_flagged_by_national_and_by_the_member(network):
    national, hub, (lien, _) = network
    lien.cli("report", "send", "--data", str(lien.data), "--period", PERIOD)
    (report,) = wait_for(lambda: report_ids(lien), what="a report")
    wait_for(lambda: hub.value("SELECT 1 FROM transparency_leaves WHERE record_id = ?", (report,)), what="the leaf")
    wait_for(lambda: national.value("SELECT tree_size FROM audited_logs WHERE hub = ?", (hub.key,))
             and national.value("SELECT tree_size FROM audited_logs WHERE hub = ?", (hub.key,))
             > hub.value("SELECT idx FROM transparency_leaves WHERE record_id = ?", (report,)),
             what="national auditing a checkpoint that holds the report")  # fmt: skip
    wait_for(lambda: lien.value("SELECT 1 FROM inclusions WHERE record_id = ?", (report,)), what="a first proof")
    drop_and_sign(hub, report)  # the hub drops the report from its log and signs over what is left
    wait_for(lambda: national.value("SELECT state FROM audited_logs WHERE hub = ?", (hub.key,)) == "rewritten",
             what="national flagging the hub")  # fmt: skip
    assert national.value("SELECT kind FROM alerts WHERE peer = ?", (hub.key,)) == "log_rewritten"
    assert any("log rewritten" in line for line in summary_lines(national))
    # the member, proving its report again, finds it gone
    wait_for(lambda: lien.value("SELECT reason FROM alerts WHERE kind = 'inclusion_failed' AND peer = ?",
                                (hub.key,)) == "not_included", what="the member's alert")  # fmt: skip
    # national's admin looks into it, then audits the hub afresh from its next checkpoint
    assert "reset" in national.cli("summary", "reset-audit", "--data", str(national.data), hub.node_id)
    lien.cli("report", "send", "--data", str(lien.data), "--period", PERIOD)  # the hub's log grows again
    wait_for(lambda: national.value("SELECT state FROM audited_logs WHERE hub = ?", (hub.key,)) == "consistent",
             what="a new base")  # fmt: skip


class Recorder:
    """An HTTP relay between a member and its hub that keeps every request body it passes on."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests: list[tuple[str, str, bytes]] = []
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Recorder":
        self._thread.start()
        assert self._started.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self._session.close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _open(self) -> None:
        self._session = ClientSession()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._relay)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._loop.run_until_complete(self._open())
        self._started.set()
        self._loop.run_forever()

    async def _relay(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append((request.method, request.path, body))
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with self._session.request(request.method, self.target + request.path_qs, data=body,
                                         headers=headers) as answer:  # fmt: skip
            return web.Response(status=answer.status, body=await answer.read(),
                                content_type=answer.content_type)  # fmt: skip


def test_figures_the_policy_keeps_home_never_leave_the_node(make_node):
    hub = make_node("Ordi Grand Ouest", role="hub")
    with Recorder(hub.url) as wire:
        # the hub says it is reached at the recorder: everything sent to it passes through
        config = hub.data / "node.toml"
        config.write_text(config.read_text().replace(f'url = "{hub.url}"', f'url = "{wire.url}"'))
        hub.start()
        member = make_node("Atelier du Lien", reachable=False)
        enrol(member, hub, url=wire.url)
        member.cli("settings", "--data", str(member.data), "workforce",
                   json.dumps({"fte": 2.5, "insertion_jobs": 3, "volunteers": 12}))  # fmt: skip
        member.cli("settings", "--data", str(member.data), "publication_policy",
                   json.dumps({"fates": "hub", "stats": "hub", "workforce": "none"}))  # fmt: skip
        assert "workforce figures kept here" in member.cli("report", "preview", "--data", str(member.data),
                                                           "--period", PERIOD)  # fmt: skip
        member.start()
        member.cli("report", "send", "--data", str(member.data), "--period", PERIOD)
        wait_for(lambda: reports(hub, member.key), what="the report at the hub")
        pushes = [body for method, path, body in wire.requests if path == "/fed/v1/push"]
    # what went over the wire, opened with the hub's key: the report is there, its workforce figures are not
    hub_key = load_node(hub.data).key
    sent = []
    for body in pushes:
        for entry, sealed in canonical.decode(body)["items"]:
            record = open_entry(entry)
            if record.header.kind == StatsReport.KIND:
                sent.append(canonical.decode(open_sealed(sealed, record.id, hub_key)))
    assert sent and all(not key.startswith("workforce.") for report in sent for key in report["figures"])
    assert all(b"workforce" not in body for _, _, body in wire.requests)
    # while the member itself knows them: set to go further, they would be in the report
    member.cli("settings", "--data", str(member.data), "publication_policy",
               json.dumps({"fates": "hub", "stats": "hub", "workforce": "hub"}))  # fmt: skip
    assert "workforce.volunteers" in member.cli("report", "preview", "--data", str(member.data), "--period", PERIOD)


def test_a_report_signed_before_a_checkpoint_but_delivered_after_it_raises_no_alarm(network):
    national, hub, (lien, repair) = network
    lien.stop()
    lien.cli("report", "send", "--data", str(lien.data), "--period", PERIOD)  # signed while the node is down
    (report,) = report_ids(lien)
    signed_at = lien.value("SELECT time FROM log_records WHERE id = ?", (report,))
    repair.cli("report", "send", "--data", str(repair.data), "--period", PERIOD)  # the hub's log grows meanwhile
    wait_for(lambda: (hub.value("SELECT max(time) FROM log_records WHERE author = ? AND kind = 'log.checkpoint/1'",
                                (hub.key,)) or 0) > signed_at, what="a checkpoint signed after the report")  # fmt: skip
    lien.start()
    wait_for(lambda: lien.value("SELECT 1 FROM inclusions WHERE record_id = ?", (report,)), what="the report proved")
    assert lien.value("SELECT count(*) FROM alerts WHERE kind = 'inclusion_failed'") == 0
