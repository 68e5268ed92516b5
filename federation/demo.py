"""``maillon demo``: a small federation on loopback, each node its own ``maillon run`` process and SQLite file.

National, two regional hubs (Ordi Grand Ouest and Ordi3 BFC, peered by a
convention both signed) and three member associations. Each node's year
of activity is written into its fresh database first (``node.cli.demo_data``,
dated as it happened); then the nodes are started and federated the way
real ones are: the hubs join national with an invitation, the members
their hub (members since a year, so their monthly reports count), the two
hubs pin each other and sign a peering convention. Then live flows go over
HTTP: Ordi Grand Ouest hands State lots to two members and one to the
other network's hub (offer, accept, receipt), the members' monthly
statistics reports reach their hubs, which sign their regional summaries,
which national verifies. The demonstration waits for each of them to land
in the databases before saying it is ready.

The orchestration acts on each node's database in this process, through
the same functions as the CLI, while the node runs (SQLite takes one
writer at a time; the running node routes what was signed within a
second, ``MAILLON_FEDERATION_FAST=1``). Ctrl-C sends SIGINT to every node
and waits for them; a node that stops by itself stops the demonstration.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp

from federation.commands import accept_convention, add_peer, join, propose_convention
from federation.membership import membership_start
from node.cli.commands import create_database, demo_accounts
from node.cli.demo_data import PLANS, ended_months, generate, history_start, sort_received_lot
from node.config import Config, Node, init_node, load_node
from node.domain.lots import lot_id_by_reference
from node.network import handoffs, national, regional
from node.network import peers as trust
from node.network.conventions import peered
from node.network.stats_reports import publish_report
from node.store.database import Store, clock_at, day_ms
from node.validation import parse
from protocol.kinds import StatsReport

__all__ = ["run", "DemoNode", "NODES", "HANDOFFS"]

DEFAULT_KEPT_DIR = Path("demo-data")  # (the --keep default: federation.cli says it too)
STATE_FILE = "demo.json"
LOGINS_FILE = "demo-logins.txt"
WAIT_S = 120.0  # longest wait for one flow before the demonstration says it is late
CLI = [sys.executable, "-c", "from node.cli.main import main; raise SystemExit(main())"]


@dataclass(frozen=True, slots=True)
class DemoNode:
    slug: str
    name: str
    role: str
    upstream: str | None  # the node it joins
    about: str  # one line for the person trying the demonstration
    network: str = ""


NODES = (
    DemoNode("national", "Fédération nationale", "national", None, "lit les synthèses signées des têtes de réseau"),
    DemoNode("ordi-grand-ouest", "Ordi Grand Ouest", "hub", "national",
             "le réseau breton : les 5 lots de l'expérimentation de l'État dans son entrepôt", network="Ordi Grand Ouest"),
    DemoNode("ordi3-bfc", "Ordi3 BFC", "hub", "national",
             "le réseau de Bourgogne-Franche-Comté, en convention avec Ordi Grand Ouest", network="Ordi3 BFC"),
    DemoNode("atelier-du-lien", "Atelier du Lien", "member", "ordi-grand-ouest",
             "Rennes : le lot de la Région Bretagne (18 palettes) ; publie ses statistiques"),
    DemoNode("ordi-solidaire-brest", "Ordi Solidaire Brest", "member", "ordi-grand-ouest",
             "Brest : les 5 lots de La Poste"),
    DemoNode("recyclerie-besancon", "Recyclerie numérique de Besançon", "member", "ordi3-bfc",
             "Besançon, dans le réseau Ordi3"),
)  # fmt: skip
# (who gives, the lot, to whom): two to members of its network, one to the peered network's hub
# How the console names each role (it speaks French, as the web interface does).
ROLE_NAMES = {"national": "fédération nationale", "hub": "tête de réseau", "member": "association membre"}
HANDOFFS = (("ordi-grand-ouest", "ETAT-L1", "atelier-du-lien"), ("ordi-grand-ouest", "ETAT-L2", "ordi-solidaire-brest"),
            ("ordi-grand-ouest", "ETAT-L4", "ordi3-bfc"))  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """``maillon demo``: build (or take back) the federation, serve it until Ctrl-C."""
    temporary = args.data is None and not args.keep
    root = Path(tempfile.mkdtemp(prefix="maillon-demo-")) if temporary else (args.data or DEFAULT_KEPT_DIR)
    try:
        return asyncio.run(Demo(root, port=args.port, keep=args.keep, temporary=temporary,
                                scale=0.1 if args.small else 1.0, host=args.host).main())  # fmt: skip
    finally:
        if temporary:
            shutil.rmtree(root, ignore_errors=True)


class DemoFailed(Exception):
    """The demonstration cannot go on (said to the person, then every node is stopped)."""


@dataclass(slots=True)
class Site:
    """One node of the demonstration: its data directory, its process, and its database opened here."""

    spec: DemoNode
    node: Node
    process: asyncio.subprocess.Process | None = None
    store: Store | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.node.config.port}"

    @property
    def key(self) -> bytes:
        return self.node.key.public.raw


@dataclass
class Demo:
    root: Path
    port: int
    keep: bool
    temporary: bool
    scale: float = 1.0
    host: str = "127.0.0.1"
    sites: dict[str, Site] = field(default_factory=dict)
    began: float = field(default_factory=time.monotonic)

    async def main(self) -> int:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        work = asyncio.create_task(self.start())
        asked = asyncio.create_task(stop.wait())
        code = 0
        try:
            await asyncio.wait({work, asked}, return_when=asyncio.FIRST_COMPLETED)
            if work.done():
                work.result()  # a failure is raised here
                await asked
        except DemoFailed as exc:
            say(f"démo : {exc}")
            code = 1
        finally:
            for task in (work, asked):
                task.cancel()
            await asyncio.gather(work, asked, return_exceptions=True)
            await self.stop()
        if code == 0:
            say("démo : tous les nœuds sont arrêtés")
        return code

    # start -----------------------------------------------------------------------------------

    async def start(self) -> None:
        if self.keep and _complete(self.root):
            self.sites = {s.slug: Site(s, load_node(self.root / s.slug)) for s in NODES}
            for site in self.sites.values():
                await self.launch(site)
            await self.until_up(self.sites.values())
            self.show(f"la démonstration gardée, données dans {self.root}")
            say(f"prête en {time.monotonic() - self.began:.1f} s. Ctrl-C arrête tous les nœuds.")
            await self.watch()
            return
        self.prepare_root()
        say(f"démo : six nœuds, chacun avec une année d'activité, dans {self.root}…")
        try:
            await self.build()
        finally:
            for site in self.sites.values():
                if site.store is not None:
                    await site.store.close()
                    site.store = None
        await self.watch()

    def prepare_root(self) -> None:
        if self.root.exists() and any(self.root.iterdir()) and not self.temporary:
            if not (self.root / STATE_FILE).exists():
                raise DemoFailed(f"{self.root} contient autre chose qu'une démonstration : choisissez un autre --data")
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True, exist_ok=True)
        ports = [self.port + n for n in range(len(NODES))] if self.port else [_free_port() for _ in NODES]
        for port in ports:
            if not _port_free(port):
                raise DemoFailed(f"le port {port} est pris : choisissez un autre premier port avec --port")
        (self.root / STATE_FILE).write_text(json.dumps({"complete": False}))
        for spec, port in zip(NODES, ports):
            url = "" if spec.role == "member" else f"http://127.0.0.1:{port}"  # members are behind NAT
            node = init_node(self.root / spec.slug, Config(name=spec.name, role=spec.role, port=port, url=url,
                                                           network=spec.network, host=self.host))  # fmt: skip
            self.sites[spec.slug] = Site(spec, node)

    async def build(self) -> None:
        today = datetime.now(ZoneInfo("Europe/Paris")).date()
        start = history_start(today)
        for site in self.sites.values():  # every log begins with the year it tells
            with clock_at(day_ms(start) - 6 * 3_600_000):
                await create_database(site.node)
            (site.node.data_dir / LOGINS_FILE).write_text(await demo_accounts(site.node), encoding="utf-8")
            site.store = await Store.open(site.node.db_path, site.node.key)
        national_ = self.sites["national"]
        await self.launch(national_)
        for site in self.sites.values():
            if site.spec.slug in PLANS:
                await generate(site.store, PLANS[site.spec.slug], start=start, today=today, scale=self.scale)
        hubs = [s for s in self.sites.values() if s.spec.role == "hub"]
        members = [s for s in self.sites.values() if s.spec.role == "member"]
        for hub in hubs:
            await self.launch(hub)
        await self.until_up([national_])
        for hub in hubs:
            await self.enrol(hub, national_, since=None)
        await self.until_up(hubs)
        convention = asyncio.create_task(self.peer(*hubs))
        for member in members:
            await self.enrol(member, self.sites[member.spec.upstream], since=start)
            async with member.store.transaction() as tx:  # the past months' reports, for the hub
                for period in ended_months(start, today):
                    await publish_report(tx, period)
            await self.launch(member)
        await self.until_up(members)
        self.show(f"données dans {self.root}" + (" ; effacées à la sortie" if self.temporary else ""))
        say("démo : les échanges entre les nœuds sont en cours…")
        flows = [self.handoff(*h, convention=convention) for h in HANDOFFS] + [self.peered(convention, *hubs)]
        flows += [self.summaries(hub, ended_months(start, today)) for hub in hubs]
        await asyncio.gather(*flows)
        (self.root / STATE_FILE).write_text(json.dumps({"complete": True, "nodes": [s.slug for s in NODES]}))
        say(f"prête en {time.monotonic() - self.began:.1f} s. Ctrl-C arrête tous les nœuds.")

    async def enrol(self, site: Site, upstream: Site, *, since: date | None) -> None:
        """``site`` joins ``upstream`` with a fresh invitation, as ``maillon invite`` and ``maillon join`` do."""
        async with upstream.store.transaction() as tx:
            token = await trust.create_invitation(tx, role=site.spec.role if site.spec.role == "hub" else "member",
                                                  note=site.spec.name,
                                                  member_since=membership_start(since.isoformat()) if since else None)  # fmt: skip
        await join(site.node, site.store, upstream.url, token, upstream.node.key.public.fingerprint)

    async def peer(self, a: Site, b: Site) -> None:
        """The two hubs pin each other by fingerprint, then both sign a peering convention."""
        await add_peer(a.node, a.store, b.url, b.node.key.public.fingerprint)
        await add_peer(b.node, b.store, a.url, a.node.key.public.fingerprint)
        proposal = await propose_convention(a.node, a.store, b.key, "remises de lots entre réseaux", 365)
        await self.until(b, "the peering convention at Ordi3 BFC", "SELECT 1 FROM log_records WHERE id = ?", (proposal.id,))
        await accept_convention(b.node, b.store, proposal.id)

        async def in_force() -> bool:
            async with a.store.reader() as db:
                return await peered(db, a.key, b.key)

        await self.until_true(in_force, "the peering convention in force")

    async def peered(self, convention: asyncio.Task, a: Site, b: Site) -> None:
        await convention
        say(f"  {a.spec.name} et {b.spec.name} ont signé une convention : leurs réseaux s'échangent des lots")

    async def handoff(self, giver_slug: str, reference: str, taker_slug: str, *, convention: asyncio.Task) -> None:
        """A lot handed over through the real protocol: offer, accept, receipt, custody at the receipt."""
        giver, taker = self.sites[giver_slug], self.sites[taker_slug]
        if taker.spec.role == "hub":
            await convention  # a cross-network hand-off needs the convention in force
        async with giver.store.transaction() as tx:
            lot = await lot_id_by_reference(tx, reference)
            offer = await handoffs.create_offer(tx, parse(handoffs.OfferInput, {
                "recipient": taker.key, "lot_id": lot, "note": "à retirer à l'entrepôt de Rennes"}))  # fmt: skip
        what = f"cession {reference} ({giver.spec.name} → {taker.spec.name})"
        await self.until(taker, f"la proposition de la {what}", "SELECT 1 FROM handoffs WHERE offer = ?", (offer.id,))
        async with taker.store.transaction() as tx:
            await handoffs.answer_offer(tx, offer.id, accept=True, note="nous passons le prendre")
        await self.until(giver, f"l'acceptation de la {what}", "SELECT 1 FROM handoffs WHERE offer = ? AND state = 'accepted'",
                         (offer.id,))  # fmt: skip
        async with taker.store.transaction() as tx:
            gids = [line.gid for line in await handoffs.handoff_lines(tx, offer.id)]
            body = offer.body()
            await handoffs.record_receipt(tx, offer.id, handoffs.ReceiptInput(
                received=gids, weight_g=round(body.weight_g * 0.99), note="reçu au complet"), operator="réception")  # fmt: skip
            received_lot = await tx.value("SELECT lot_id FROM handoffs WHERE offer = ?", (offer.id,))
        await self.until(giver, f"la réception de la {what}", "SELECT 1 FROM handoffs WHERE offer = ? AND state = 'received'",
                         (offer.id,))  # fmt: skip
        say(f"  {what} : {len(gids)} matériels reçus, la garde est passée")
        if taker.spec.role == "member":  # sorted today: what is broken goes to the recycler, and the giver learns it
            await sort_received_lot(taker.store, received_lot)
            await self.until(giver, f"les devenirs de {reference} revenus chez {giver.spec.name}",
                             "SELECT 1 FROM downstream_fates WHERE reporter = ?", (taker.key,))  # fmt: skip

    async def summaries(self, hub: Site, periods: list[str]) -> None:
        """Once the members' reports are at the hub, it signs each month's summary; national verifies them."""
        members = [s for s in self.sites.values() if s.spec.upstream == hub.spec.slug]
        for member in members:
            await self.until(hub, f"les rapports de {member.spec.name} chez {hub.spec.name}",
                             "SELECT count(*) >= ? FROM log_records WHERE author = ? AND kind = ? AND content IS NOT NULL",
                             (len(periods), member.key, StatsReport.KIND))  # fmt: skip
        async with hub.store.transaction() as tx:
            for period in periods:
                await regional.sign_summary(tx, period)
        national_ = self.sites["national"]

        async def verified() -> bool:
            async with national_.store.reader() as db:
                readings = [r for r in await national.read_hubs(db) if r.hub == hub.key]
            checks = readings[0].summaries if readings else []
            # "signed" when some member shares its statistics with its hub only: national holds their headers
            return len(checks) >= len(periods) and all(c.state in ("verified", "signed") for c in checks)

        await self.until_true(verified, f"la vérification des synthèses de {hub.spec.name} par la fédération nationale")
        say(f"  {hub.spec.name} : {len(members)} membre(s) ont rendu compte de {len(periods)} mois ; "
            f"la fédération nationale a vérifié les {len(periods)} synthèses")  # fmt: skip

    # processes ---------------------------------------------------------------------------------

    async def launch(self, site: Site) -> None:
        env = dict(os.environ, MAILLON_FEDERATION_FAST="1", MAILLON_DISCOVERY="off", PYTHONUNBUFFERED="1")
        log = (site.node.data_dir / "run.log").open("ab")
        # A session of its own: Ctrl-C reaches this process only, which passes it on once to each node.
        site.process = await asyncio.create_subprocess_exec(*CLI, "run", "--data", str(site.node.data_dir), env=env,
                                                            stdin=asyncio.subprocess.DEVNULL, stdout=log,
                                                            stderr=asyncio.subprocess.STDOUT, start_new_session=True)  # fmt: skip
        log.close()

    async def until_up(self, sites) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            for site in sites:
                async def up() -> bool:
                    with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                        async with session.get(site.url + "/health") as answer:
                            return answer.status == 200
                    return False

                await self.until_true(up, f"le démarrage de {site.spec.name}", step=0.1)

    async def watch(self) -> None:
        """Wait until a node stops by itself (then say so: the demonstration stops)."""
        waits = {asyncio.create_task(s.process.wait()): s for s in self.sites.values() if s.process is not None}
        try:
            done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
        site = waits[next(iter(done))]
        raise DemoFailed(f"{site.spec.name} s'est arrêté seul (code de sortie {site.process.returncode}) ; "
                         f"son journal : {site.node.data_dir / 'run.log'}")  # fmt: skip

    async def stop(self) -> None:
        """SIGINT to every node still running, then wait for each (SIGKILL after 20 s)."""
        running = [s.process for s in self.sites.values() if s.process is not None and s.process.returncode is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGINT)
        for process in running:
            try:
                await asyncio.wait_for(process.wait(), 20)
            except asyncio.TimeoutError:
                process.kill()
                await process.wait()

    # waiting -----------------------------------------------------------------------------------

    async def until_true(self, condition, what: str, *, step: float = 0.25) -> None:
        deadline = time.monotonic() + WAIT_S
        while not await condition():
            self.check_alive()
            if time.monotonic() > deadline:
                raise DemoFailed(f"attendu {WAIT_S:.0f} s : {what} ; les journaux des nœuds sont dans {self.root}/*/run.log")
            await asyncio.sleep(step)

    async def until(self, site: Site, what: str, sql: str, params: tuple = ()) -> None:
        async def holds() -> bool:
            async with site.store.reader() as db:
                return bool(await db.value(sql, params))

        await self.until_true(holds, what)

    def check_alive(self) -> None:
        for site in self.sites.values():
            if site.process is not None and site.process.returncode is not None:
                raise DemoFailed(f"{site.spec.name} s'est arrêté seul (code de sortie {site.process.returncode}) ; "
                                 f"son journal : {site.node.data_dir / 'run.log'}")  # fmt: skip

    # saying ------------------------------------------------------------------------------------

    def show(self, where: str) -> None:
        phone = _network_origin(self.host)
        lines = [f"\nDémonstration de Maillon : {len(self.sites)} nœuds sur cette machine, chacun avec son processus et sa"
                 f" base ({where})\n"]  # fmt: skip
        for site in self.sites.values():
            spec = site.spec
            lines.append(f"{spec.name} ({ROLE_NAMES[spec.role]}) : {spec.about}")
            lines.append(f"  {site.url}/")
            if phone:
                lines.append(f"  {phone}:{site.node.config.port}/  (un téléphone sur le même réseau)")
            logins = (site.node.data_dir / LOGINS_FILE).read_text(encoding="utf-8").splitlines()
            lines += [f"  {line}" for line in logins]
            lines.append("")
        say("\n".join(lines))


def say(text: str) -> None:
    print(text, flush=True)


def _complete(root: Path) -> bool:
    try:
        return json.loads((root / STATE_FILE).read_text()).get("complete") is True
    except (OSError, ValueError):
        return False


def _network_origin(host: str) -> str | None:
    """``http://<address>`` a phone on the same network uses, when the nodes listen beyond loopback."""
    if host in ("127.0.0.1", "localhost", "::1"):
        return None
    if host not in ("0.0.0.0", "::", ""):
        return f"http://{host}"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:  # no packet leaves: connecting a UDP socket only picks the interface of the default route
            s.connect(("192.0.2.1", 9))
            return f"http://{s.getsockname()[0]}"
        except OSError:
            return None


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
