"""The data commands of the CLI: each opens the node, acts, prints, returns an exit code.

Exit codes: 0 done, 1 the input was refused (nothing changed), 2 usage or
environment error (raised as ``NodeError`` and printed by ``cli.main``).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import re
import sys
import urllib.parse
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Iterator, TypeVar

from node.config import Node, is_loopback, load_node, load_node_rotating, next_key, retire_key
from node.errors import AlreadyExists, ConfigError, DomainError, Invalid, StoreError
from node.reports.exports import CSV_EXPORTS, nwipe_customers, write_csv
from node.store.database import Store
from node.store.database import restore as restore_database
from protocol.kinds import KeyRotation, NodeDescriptor
from protocol.log import write_log
from protocol.records import open_envelope

__all__ = [
    "EXPORTS", "with_store", "print_figures", "create_database", "daily_upkeep", "backup", "restore", "import_file", "export", "stats",
    "log_export", "key_rotate", "token_create", "token_revoke", "station_add", "attach", "settings", "user_add", "demo_accounts",
    "report_preview", "report_send", "report_list",
]  # fmt: skip

logger = logging.getLogger(__name__)
EXPORTS = (*CSV_EXPORTS, "nwipe-customers", "donor-report")
T = TypeVar("T")


async def daily_upkeep(store: Store, *, today: date | None = None) -> None:
    """``node.network.upkeep.daily_upkeep`` (imported when it runs: no command but ``run`` needs it)."""
    from node.network.upkeep import daily_upkeep as upkeep  # noqa: PLC0415

    await upkeep(store, today=today)


async def create_database(node: Node) -> None:
    """Create the database and sign the node's first record, its descriptor: both, or neither.

    The database is made under a temporary name and takes its own only
    with the descriptor signed in it, so a data directory never holds a
    database without this node's history (``Store.open`` refuses one).
    """
    if node.db_path.exists():
        raise AlreadyExists(f"{node.db_path} already exists: move it away, it is not this new node's")
    making = node.db_path.with_name(node.db_path.name + ".new")
    for leftover in _sqlite_files(making):  # from an init interrupted before
        leftover.unlink(missing_ok=True)
    try:
        store = await Store.open(making, node.key, create=True)
        try:
            async with store.transaction() as tx:
                await tx.append(NodeDescriptor(name=node.config.name, role=node.config.role, endpoints=[],
                                               software="maillon"))  # fmt: skip
        finally:
            await store.close()  # the last connection closed folds the WAL into the file
        if any(path.exists() for path in _sqlite_files(making)[1:]):
            raise StoreError(f"the new database {making} was not closed cleanly; run `maillon init` again")
        making.rename(node.db_path)
    finally:
        for leftover in _sqlite_files(making):
            leftover.unlink(missing_ok=True)


def _sqlite_files(path: Path) -> list[Path]:
    """A database and the files SQLite keeps beside it."""
    return [path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal"))]


def with_store(args: argparse.Namespace, action: Callable[[Node, Store], Awaitable[T]]) -> T:
    """Open the node of ``--data`` and its database (refused if missing, damaged or another node's), run ``action``."""
    node = load_node(args.data)

    async def go() -> T:
        store = await Store.open(node.db_path, node.key)
        try:
            return await action(node, store)
        finally:
            await store.close()

    return asyncio.run(go())


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc


def backup(args: argparse.Namespace) -> int:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out: Path = args.out or args.data / "backups" / f"maillon-{stamp}.db"
    out.parent.mkdir(parents=True, exist_ok=True)

    async def act(node: Node, store: Store) -> None:
        await store.backup(out)

    with_store(args, act)
    print(f"backup written to {out}")
    return 0


def restore(args: argparse.Namespace) -> int:
    node = load_node(args.data)
    if not args.file.is_file():
        raise ConfigError(f"{args.file} is not a file")
    with node.running():  # refuses while the node runs
        restore_database(args.file, node.db_path)
    print(f"database restored from {args.file}")
    print("Before it writes anything, the node must catch up its own log from its hub (federation).")
    return 0


def log_export(args: argparse.Namespace) -> int:
    async def act(node: Node, store: Store) -> int:
        async with store.reader() as db:
            rows = await db.all("SELECT envelope, content FROM log_records WHERE author = ? ORDER BY seq",
                                (node.key.public.raw,))  # fmt: skip
        records = [open_envelope(r["envelope"]) for r in rows]
        records = [rec if r["content"] is None else rec.with_content(r["content"]) for rec, r in zip(records, rows)]
        args.out.write_bytes(write_log(records))
        return len(records)

    count = with_store(args, act)
    print(f"{count} records written to {args.out}")
    return 0


@contextmanager
def _output(path: Path | None, *, bom: bool) -> Iterator[io.TextIOBase]:
    if path is None:
        yield sys.stdout
        return
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        yield handle


def export(args: argparse.Namespace) -> int:
    if args.kind == "donor-report":
        from node.reports.donor_report import export_donor_report

        return export_donor_report(args)
    period = _period(args.period) if args.period else None

    async def act(node: Node, store: Store) -> int:
        async with store.reader() as db:
            with _output(args.out, bom=args.kind != "nwipe-customers") as out:
                if args.kind == "nwipe-customers":
                    return await nwipe_customers(db, out)
                return await write_csv(db, args.kind, out, period=period)

    count = with_store(args, act)
    if args.out is not None:
        print(f"{count} rows written to {args.out}")
    return 0


def _period(text: str) -> tuple[int, int]:
    from node.domain.stats import period_bounds

    return period_bounds(text)


def stats(args: argparse.Namespace) -> int:
    from node.domain.impact import FACTOR_TABLES
    from node.domain.settings import get_setting
    from node.domain.stats import compute_stats

    start, end = _period(args.period)

    async def act(node: Node, store: Store) -> Any:
        async with store.reader() as db:
            years = await get_setting(db, "years_of_second_life")
            table = FACTOR_TABLES[await get_setting(db, "impact_factors")]
            return await compute_stats(db, start, end, years=years, factors=table)

    result = with_store(args, act)
    figures = result.as_figures()
    if args.json:
        print(json.dumps(figures, indent=1, sort_keys=True))
        return 0
    print(f"period {args.period}")
    width = max(map(len, figures), default=0)
    for key in sorted(figures):
        print(f"  {key:<{width}}  {figures[key]}")
    print("impact:")
    for line in result.impact.formula_lines():
        print(f"  {line}")
    return 0


def import_file(args: argparse.Namespace) -> int:
    """``maillon import KIND FILE...``: each file (a directory: the files in it) applied whole or not at all.

    One call for many files (a day of nwipe logs): the node is opened once,
    each file goes in its own transaction, and each gets its outcome lines,
    prefixed by its name when there are several; a file refused (unreadable,
    not a log, a bad row) changes nothing and the others still go in. Exit
    status 1 when a file was refused.
    """
    from node.domain.importing import run_import

    files = import_paths(args.kind, list(args.file))
    if args.item and len(files) > 1:
        raise ConfigError("--item names the one item an lshw description belongs to: give one file with it")
    several = len(files) > 1

    async def act(node: Node, store: Store) -> int:
        refused = 0
        for path in files:
            prefix = f"{path}: " if several else ""
            try:
                data = path.read_bytes()
            except OSError as exc:
                print(f"{prefix}cannot read {path}: {exc.strerror}; nothing was changed")
                refused += 1
                continue
            progress = _progress if sys.stderr.isatty() and not several else None
            report = await run_import(node, store, args.kind, data, path.name, lot=args.lot, item=args.item,
                                      dry_run=args.dry_run, progress=progress)  # fmt: skip
            for line in report.lines():
                print(prefix + line)
            refused += not report.ok
        if several:
            verb = "would be applied" if args.dry_run else "applied"
            print(f"{len(files)} files: {len(files) - refused} {verb}, {refused} refused (nothing changed for those)")
        return 0 if not refused else 1

    return with_store(args, act)


# The files a directory stands for, by kind: nwipe writes its PDF certificates beside its logs.
_IMPORT_SUFFIXES = {"items": (".csv", ".xlsx"), "lshw": (".json",)}


def import_paths(kind: str, given: list[Path]) -> list[Path]:
    """The files to import: those named, and for a directory the files in it (sorted by name, not hidden;
    nwipe: every file but the PDF certificates; items: CSV and XLSX; lshw: JSON)."""
    files: list[Path] = []
    for path in given:
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            suffixes = _IMPORT_SUFFIXES.get(kind)
            chosen = [p for p in inside if (p.suffix.lower() in suffixes if suffixes else p.suffix.lower() != ".pdf")]
            if not chosen:
                raise ConfigError(f"no {kind} file to import in {path}")
            files += chosen
        elif path.exists():
            files.append(path)
        else:
            raise ConfigError(f"cannot read {path}: no such file or directory")
    return list(dict.fromkeys(files))


def _progress(done: int, total: int) -> None:
    """A one-line progress bar on the terminal for long imports."""
    width = 30
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def token_create(args: argparse.Namespace) -> int:
    from node.domain.access import create_token

    async def act(node: Node, store: Store) -> str:
        async with store.transaction() as tx:
            return await create_token(tx, args.name, args.role)

    token = with_store(args, act)
    print(f"token for {args.name} ({args.role}), shown only now:")
    print(token)
    return 0


def token_revoke(args: argparse.Namespace) -> int:
    from node.domain.access import revoke_token

    async def act(node: Node, store: Store) -> None:
        async with store.transaction() as tx:
            await revoke_token(tx, args.name)

    with_store(args, act)
    print(f"token {args.name} revoked")
    return 0


def station_add(args: argparse.Namespace) -> int:
    from node.domain.access import create_station

    if not re.fullmatch(r"[A-Za-z0-9_-]{1,60}", args.name):
        raise Invalid("a station name uses letters, digits, - and _ (at most 60)", code="invalid")

    async def act(node: Node, store: Store) -> str:
        async with store.transaction() as tx:
            return await create_station(tx, args.name)

    token = with_store(args, act)
    node = load_node(args.data)
    # The address the workshop's machines reach: the node's url, not the one it listens on (0.0.0.0).
    base = (args.url or node.config.url or f"http://{node.config.host}:{node.config.port}").rstrip("/")
    host = urllib.parse.urlsplit(base).hostname or ""
    if is_loopback(host) or host in ("0.0.0.0", "::"):
        print(f"warning: the machines of the workshop cannot reach {host}: give --url with the address they reach"
              " this node at (http://192.168.1.10:8470, say)", file=sys.stderr)  # fmt: skip
    print(f"station {args.name} registered. In ShredOS's configuration (shown only now):")
    print(f"http_post_url={base}/upload/shredos/{args.name}/{token}")
    print("On a machine of the bench, from a live USB system (the workshop probe):")
    print(f"wget -qO- {base}/station/probe | sudo python3 - {base}/upload/probe/{args.name}/{token}")
    return 0


def attach(args: argparse.Namespace) -> int:
    from node.domain.documents import attach_document
    from node.domain.lots import lot_id_by_reference

    content = _read(args.file)

    async def act(node: Node, store: Store) -> int:
        async with store.transaction() as tx:
            lot_id = await lot_id_by_reference(tx, args.lot) if args.lot else None
            return await attach_document(tx, node.data_dir, kind=args.kind, filename=args.file.name, data=content,
                                         donor_id=args.donor, lot_id=lot_id)  # fmt: skip

    document = with_store(args, act)
    print(f"document {document} attached ({args.kind}, {len(content)} bytes)")
    return 0


def settings(args: argparse.Namespace) -> int:
    from node.domain.settings import SETTINGS, all_settings, set_setting

    async def act(node: Node, store: Store) -> dict[str, Any]:
        if args.name is not None:
            setting = SETTINGS.get(args.name)
            if setting is None:
                raise Invalid(f"no setting {args.name!r}; known: {', '.join(SETTINGS)}", code="invalid_setting")
            if args.value is None:
                raise Invalid(f"give a value for {args.name}", code="invalid_setting")
            try:
                value = setting.type(args.value)
            except ValueError as exc:
                raise Invalid(f"{args.name} is a whole number", code="invalid_setting") from exc
            async with store.transaction() as tx:
                await set_setting(tx, args.name, value)
        async with store.reader() as db:
            return await all_settings(db)

    values = with_store(args, act)
    for name, value in values.items():
        print(f"{name} = {value}    # {SETTINGS[name].help}")
    return 0


def user_add(args: argparse.Namespace) -> int:
    from node.domain.users import create_user

    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise Invalid("the two passwords differ", code="invalid")
    else:
        password = sys.stdin.readline().rstrip("\n")

    async def act(node: Node, store: Store) -> int:
        async with store.transaction() as tx:
            return await create_user(tx, args.name, password, args.role)

    with_store(args, act)
    print(f"account {args.name} ({args.role}) created")
    return 0


_ROLE_NAMES = {"admin": "administration", "technician": "bénévole d'atelier", "read_only": "lecture seule"}


async def demo_accounts(node: Node) -> str:
    """Accounts of a demonstration node, with generated passwords; returns the lines to show."""
    import secrets as _secrets

    from node.domain.users import create_user

    lines = []
    store = await Store.open(node.db_path, node.key)
    try:
        async with store.transaction() as tx:
            for name, role in (("admin", "admin"), ("benevole", "technician"), ("lecteur", "read_only")):
                password = _secrets.token_urlsafe(9)
                await create_user(tx, name, password, role)
                lines.append(f"identifiant : {name} / {password} ({_ROLE_NAMES[role]})")
    finally:
        await store.close()
    return "\n".join(lines) + "\n"


def key_rotate(args: argparse.Namespace) -> int:
    """Move the node to a new key: the old key's last record names the new one (``key.rotation/1``).

    Steps, each safe to repeat if the command is interrupted: the new key is
    saved aside; the rotation is signed with the old key and queued for every
    peer (they learn the new key from it); then the new key replaces the old,
    which is kept under ``keys/`` so that what is still queued under it can
    be delivered. The node must be stopped.
    """
    node = load_node_rotating(args.data)
    with node.running():
        new = next_key(node.data_dir)

        async def sign_rotation() -> None:
            store = await Store.open(node.db_path, node.key)
            try:
                async with store.transaction() as tx:
                    head = await tx.one("SELECT kind, content FROM log_records WHERE author = ? ORDER BY seq DESC"
                                        " LIMIT 1", (tx.author,))  # fmt: skip
                    if head is not None and head["kind"] == KeyRotation.KIND:
                        return  # signed before an interruption
                    from node.network import outbox  # noqa: PLC0415

                    await outbox.route_own(tx, tx.author)  # what was not routed yet goes first
                    record = await tx.append(KeyRotation(new_key=new.public.raw, reason=args.reason or None))
                    for (peer,) in await tx.all("SELECT key FROM peers WHERE state = 'active'"):
                        await outbox.enqueue(tx, peer, [record.id])
                    await outbox.set_routed_seq(tx, tx.author, record.header.seq)
            finally:
                await store.close()

        asyncio.run(sign_rotation())
        retire_key(node, new)
    print(f"new key: node id {new.public.node_id}")
    print(f"new fingerprint: {new.public.fingerprint} (the old key is kept in {node.data_dir / 'keys'})")
    print("the peers learn it from the signed rotation when the node runs again (`maillon run`)")
    return 0


def report_preview(args: argparse.Namespace) -> int:
    """``maillon report preview``: the figures a period's report would carry, and who could read them."""
    from node.network.stats_reports import preview, reader_names

    async def act(node: Node, store: Store) -> tuple[Any, list[str]]:
        async with store.transaction() as tx:  # writes nothing: the audience is computed as when signing
            draft = await preview(tx, args.period)
            names = await reader_names(tx, draft.audience or (), tx.author)
        return draft, names

    draft, names = with_store(args, act)
    if draft.body is None:
        print(f"period {args.period}: nothing would leave this node (publication_policy: stats is none)")
        return 0
    print(f"period {args.period}, version {draft.body.version}"
          + (f" (supersedes {draft.body.supersedes.hex()[:16]})" if draft.body.supersedes else ""))  # fmt: skip
    print(f"factor table: {draft.body.factor_version}")
    print(f"to ({draft.level}): " + ("anyone (public)" if not draft.audience else ""))
    for name in names:
        print(f"  {name}")
    print("figures:")
    print_figures(draft.figures)
    for note in draft.notes:
        print(f"note: {note}")
    return 0


def report_send(args: argparse.Namespace) -> int:
    """``maillon report send``: sign a period's report; the running node sends it to its audience."""
    from node.network.stats_reports import publish_report

    async def act(node: Node, store: Store) -> Any:
        async with store.transaction() as tx:
            return await publish_report(tx, args.period)

    try:
        record = with_store(args, act)
    except DomainError as exc:  # refused: exit status 1, nothing signed
        print(f"maillon: refused ({exc.code}): {exc.message}", file=sys.stderr)
        return 1
    body = record.body()
    print(f"stats.report/1 for {body.period}, version {body.version}, {len(body.figures)} figures, "
          f"id {record.id.hex()}")  # fmt: skip
    if body.supersedes:
        print(f"supersedes {body.supersedes.hex()}")
    print("`maillon run` sends it to the hub.")
    return 0


def report_list(args: argparse.Namespace) -> int:
    """``maillon report list``: the statistics reports this node signed, newest first."""
    from node.network.stats_reports import list_reports, own_keys
    from node.network.transparency import inclusion_of

    async def act(node: Node, store: Store) -> Any:
        async with store.reader() as db:
            reports = await list_reports(db, await own_keys(db, store.key.public.raw))
            return [(report, await inclusion_of(db, report.id)) for report in reports]

    for report, included in with_store(args, act):
        time = datetime.fromtimestamp(report.time / 1000, UTC).strftime("%Y-%m-%d %H:%M")
        state = "superseded" if report.superseded else "current"
        readers = "public" if not report.audience else f"{len(report.audience)} readers"
        proof = "not proved in the hub's log yet" if included is None else (
            f"included at checkpoint {included.checkpoint_seq}")  # fmt: skip
        print(f"{report.id.hex()[:16]}  {report.period:<8} v{report.version}  {state:<10}  {time} UTC  "
              f"{len(report.figures)} figures  {readers}  {proof}")  # fmt: skip
    return 0


def print_figures(figures: dict[str, int]) -> None:
    width = max(map(len, figures), default=0)
    for key in sorted(figures):
        print(f"  {key:<{width}}  {figures[key]}")
