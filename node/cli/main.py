"""The ``maillon`` command line (``maillon COMMAND --help`` for each).

``run`` starts the services registered under the ``maillon.services`` entry
point group (the web interface, later the federation), so that node/ does
not import the packages built on top of it. The data commands (import,
export, stats, backup...) live in ``node.cli.commands``.

Building the parser imports no command's module: each handler is named
(``node.cli.args.lazy``) and imported when its command runs, so that
``maillon --help`` answers in a blink and a command pays only for what it
uses (``bench/cli_bench.py`` measures it; ``python -X importtime -m node.cli.main
--help`` shows what is imported).
"""

from __future__ import annotations

import argparse
import sys
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from node.cli import handoff_args, summary_args
from node.cli.args import add_data, entry_points, lazy

if TYPE_CHECKING:
    from node.config import Node
    from node.store.database import Store

__all__ = ["main", "build_parser", "freeze_startup_heap", "EXPORT_KINDS", "IMPORT_KINDS"]

# ``node.cli.commands.EXPORTS`` and ``node.domain.importing.IMPORT_KINDS``, named here so that the parser
# does not import them (tests/node/test_cli_start.py keeps them equal).
EXPORT_KINDS = ("items", "lots", "events", "waste-register", "nwipe-customers", "donor-report")
IMPORT_KINDS = ("items", "history", "nwipe", "lshw")
DB_FILE = "node.db"  # node.config.DB_FILE


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="maillon", description="Maillon: trace donated computers, node by node.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str, handler) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(handler=handler)
        return p

    data = add_data

    init = command("init", "create a node's data directory and key", _cmd_init)
    init.add_argument("--data", type=Path, required=True, help="data directory to create")
    init.add_argument("--name", required=True, help="the association's or network's name")
    init.add_argument("--role", default="member", choices=["member", "hub", "national"])
    init.add_argument("--host", default="127.0.0.1", help="address to listen on")
    init.add_argument("--port", type=int, default=8470, help="port to listen on")
    init.add_argument("--url", default="", help="base URL other nodes reach this node at (empty: behind NAT)")
    init.add_argument("--network", default="", help="a hub's network name (default: its name)")

    data(command("run", "start a node", _cmd_run))

    backup = command("backup", "write a consistent copy of the database (the node may be running)", lazy("node.cli.commands:backup"))
    data(backup)
    backup.add_argument("--out", type=Path, help="backup file (default: DATA/backups/maillon-DATE.db)")

    restore = command("restore", "replace the database with a backup (stop the node first)", lazy("node.cli.commands:restore"))
    data(restore)
    restore.add_argument("file", type=Path, help="a backup made by `maillon backup`")

    imp = command("import", "import items, a history of items, erasure logs or hardware descriptions", lazy("node.cli.commands:import_file"))
    data(imp)
    imp.add_argument("kind", choices=IMPORT_KINDS, help="what the files hold")
    imp.add_argument("file", type=Path, nargs="+",
                     help="CSV or XLSX (items, history), nwipe/ShredOS logs, lshw -json outputs; a directory stands for the"
                          " files in it (nwipe: its logs, not the PDF certificates). Each file is applied whole or"
                          " not at all, in its own transaction, with one outcome line")  # fmt: skip
    imp.add_argument("--lot", help="lot reference the items belong to (items; lshw creates one item)")
    imp.add_argument("--item", help="asset tag of the item an lshw description belongs to (else a new item)")
    imp.add_argument("--dry-run", action="store_true", help="show what would change, change nothing")

    exp = command("export", "export CSV files or a donor report", lazy("node.cli.commands:export"))
    data(exp)
    exp.add_argument("kind", choices=EXPORT_KINDS, help="what to export")
    exp.add_argument("--out", type=Path, help="output file (default: standard output for CSV)")
    exp.add_argument("--donor", type=int, help="donor id (donor-report)")
    exp.add_argument("--lot", help="lot reference (donor-report)")
    exp.add_argument("--period", help="YYYY, YYYY-MM or YYYY-Qn (donor-report, waste-register)")
    exp.add_argument("--language", default="fr", choices=["fr", "en"], help="donor-report language")

    doc = command("attach", "attach a document (convention, pick-up note...) to a donor or a lot", lazy("node.cli.commands:attach"))
    data(doc)
    doc.add_argument("file", type=Path)
    doc.add_argument("--kind", default="other", choices=["convention", "pickup_note", "erasure_log", "other"])
    target = doc.add_mutually_exclusive_group(required=True)
    target.add_argument("--donor", type=int, help="donor id")
    target.add_argument("--lot", help="lot reference")

    setting = command("settings", "show the settings, or set one: maillon settings --data DIR NAME VALUE",
                      lazy("node.cli.commands:settings"))  # fmt: skip
    data(setting)
    setting.add_argument("name", nargs="?", help="setting to change")
    setting.add_argument("value", nargs="?", help="its new value")

    stats = command("stats", "statistics and impact for a period", lazy("node.cli.commands:stats"))
    data(stats)
    stats.add_argument("--period", required=True, help="YYYY, YYYY-MM or YYYY-Qn")
    stats.add_argument("--json", action="store_true", help="print the figures as JSON")

    report = sub.add_parser("report", help="statistics reports for the hub",
                            description="the signed statistics report of a period (stats.report/1), for the hub")  # fmt: skip
    report_sub = report.add_subparsers(dest="report_command", required=True, metavar="ACTION")
    rpreview = report_sub.add_parser("preview", help="the figures a period's report would carry, and who could read them")
    data(rpreview)
    rpreview.add_argument("--period", required=True, help="YYYY, YYYY-MM or YYYY-Qn")
    rpreview.set_defaults(handler=lazy("node.cli.commands:report_preview"))
    rsend = report_sub.add_parser("send", help="sign a period's report (again: a new version superseding the last)")
    data(rsend)
    rsend.add_argument("--period", required=True, help="YYYY, YYYY-MM or YYYY-Qn, ended")
    rsend.set_defaults(handler=lazy("node.cli.commands:report_send"))
    rlist = report_sub.add_parser("list", help="the statistics reports this node signed, newest first")
    data(rlist)
    rlist.set_defaults(handler=lazy("node.cli.commands:report_list"))

    token = sub.add_parser("token", help="API tokens for local programs", description="API tokens for local programs")
    token_sub = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_sub.add_parser("create", help="create an API token (shown once)")
    data(create)
    create.add_argument("name", help="who or what uses it")
    create.add_argument("--role", default="read_only", choices=["admin", "technician", "read_only"])
    create.set_defaults(handler=lazy("node.cli.commands:token_create"))
    revoke = token_sub.add_parser("revoke", help="revoke an API token")
    data(revoke)
    revoke.add_argument("name")
    revoke.set_defaults(handler=lazy("node.cli.commands:token_revoke"))

    user = sub.add_parser("user", help="accounts of the web interface", description="accounts of the web interface")
    user_sub = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    uadd = user_sub.add_parser("add", help="create an account; the password is asked (or read from standard input)")
    data(uadd)
    uadd.add_argument("name")
    uadd.add_argument("--role", default="technician", choices=["admin", "technician", "read_only"])
    uadd.set_defaults(handler=lazy("node.cli.commands:user_add"))

    station = sub.add_parser("station", help="wiping stations that upload their logs",
                             description="wiping stations (ShredOS) that upload their logs")  # fmt: skip
    station_sub = station.add_subparsers(dest="station_command", required=True, metavar="ACTION")
    add = station_sub.add_parser("add", help="register a station; prints the URL for ShredOS's http_post_url")
    data(add)
    add.add_argument("name", help="the station's name (letters, digits, - and _)")
    add.add_argument("--url", help="base URL the station reaches the node at (default: from the configuration)")
    add.set_defaults(handler=lazy("node.cli.commands:station_add"))

    record = sub.add_parser("record", help="signed documents", description="signed documents (PROTOCOL.md)")
    record_sub = record.add_subparsers(dest="record_command", required=True, metavar="ACTION")
    rverify = record_sub.add_parser(
        "verify", help="verify a signed document (.mlnrec) or a donor proof bundle (.mlnbundle), offline",
        description="Verify a signed document or a donor proof bundle without any account or network. For a "
                    "bundle, print per item its fate, who signed it and its erasure proof, and exit 1 on any "
                    "broken link (a record that does not verify, a receipt that does not match its offer, a fate "
                    "signed by a node that did not hold the item); 2 when the file cannot be read.")  # fmt: skip
    rverify.add_argument("file", type=Path)
    rverify.add_argument("--author", help="expected author: node id (base32) or 64 hex digits")
    rverify.set_defaults(handler=_cmd_record_verify)

    key = sub.add_parser("key", help="the node's signing key", description="the node's signing key")
    key_sub = key.add_subparsers(dest="key_command", required=True, metavar="ACTION")
    rotate = key_sub.add_parser("rotate", help="move to a new key; the old key signs its successor (stop the node first)")
    data(rotate)
    rotate.add_argument("--reason", default="", help="why (kept in the signed rotation)")
    rotate.set_defaults(handler=lazy("node.cli.commands:key_rotate"))

    log = sub.add_parser("log", help="work with signed logs", description="work with signed logs")
    log_sub = log.add_subparsers(dest="log_command", required=True, metavar="ACTION")
    verify = log_sub.add_parser("verify", help="verify a log export (PROTOCOL.md, 'Log export')")
    verify.add_argument("file", type=Path, help="log export file, or - for standard input")
    verify.add_argument("--author", help="expected author: node id (base32) or 64 hex digits")
    verify.set_defaults(handler=_cmd_log_verify)
    export = log_sub.add_parser("export", help="write this node's own signed log as a log export")
    data(export)
    export.add_argument("--out", type=Path, required=True, help="file to write")
    export.set_defaults(handler=lazy("node.cli.commands:log_export"))

    handoff_args.register(sub, data)
    summary_args.register(sub, data)

    for _name, target in entry_points("maillon.commands"):  # the federation's join, invite, peers
        module, _, attribute = target.partition(":")
        getattr(import_module(module), attribute)(sub, data)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except Exception as exc:
        # Imported only now: by the time one of them was raised, its module is loaded.
        from node.errors import NodeError  # noqa: PLC0415
        from protocol.errors import ProtocolError  # noqa: PLC0415

        if not isinstance(exc, (NodeError, ProtocolError)):
            raise
        print(f"maillon: {exc}", file=sys.stderr)
        return 2


def _cmd_init(args: argparse.Namespace) -> int:
    import asyncio  # noqa: PLC0415

    from node.cli import commands  # noqa: PLC0415
    from node.config import Config, init_node  # noqa: PLC0415
    from node.errors import AlreadyExists  # noqa: PLC0415

    if (args.data / DB_FILE).exists():  # a database of some other key: never sign this new node into it
        raise AlreadyExists(f"{args.data} already holds a node's database ({DB_FILE}): choose another directory")
    node = init_node(args.data, Config(name=args.name, role=args.role, host=args.host, port=args.port,
                                           url=args.url, network=args.network))
    asyncio.run(commands.create_database(node))
    print(f"node created in {node.data_dir}")
    print(f"node id:     {node.key.public.node_id}")
    print(f"fingerprint: {node.key.public.fingerprint}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from node.config import load_node  # noqa: PLC0415

    return _serve(load_node(args.data))


def _cmd_log_verify(args: argparse.Namespace) -> int:
    from protocol.keys import parse_node_id  # noqa: PLC0415
    from protocol.log import verify_log  # noqa: PLC0415

    author = parse_node_id(args.author).raw if args.author else None
    try:
        data = sys.stdin.buffer.read() if str(args.file) == "-" else args.file.read_bytes()
    except OSError as exc:
        print(f"maillon: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    report = verify_log(data, author)
    for problem in report.problems:
        print(problem.line())
    print(report.summary())
    return 0 if report.ok else 1


def _cmd_record_verify(args: argparse.Namespace) -> int:
    from protocol.bundle import BUNDLE_MAGIC  # noqa: PLC0415
    from protocol.errors import ProtocolError  # noqa: PLC0415
    from protocol.keys import fingerprint, node_id, parse_node_id  # noqa: PLC0415
    from protocol.records import read_record_file  # noqa: PLC0415

    author = parse_node_id(args.author).raw if args.author else None
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        print(f"maillon: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    if data.startswith(BUNDLE_MAGIC):
        return _verify_bundle(data, author)
    try:
        record = read_record_file(data)
        if author is not None and author != record.header.author:
            print("problem reason=wrong_author the document was signed by another key")
            return 1
    except ProtocolError as exc:
        print(f"problem reason={exc.code.value} {exc.message}")
        return 1
    header = record.header
    print(f"kind={header.kind} author={node_id(header.author)} fingerprint={fingerprint(header.author)} "
          f"seq={header.seq} time={header.time} id={record.id.hex()} verdict=ok")  # fmt: skip
    return 0


def _verify_bundle(data: bytes, author: bytes | None) -> int:
    """A donor proof bundle: per serial, the fate, who signed it and the erasure proof; 1 on any broken link."""
    from protocol.bundle import Problem, describe, verify_bundle  # noqa: PLC0415
    from protocol.errors import ProtocolError  # noqa: PLC0415

    try:
        check = verify_bundle(data)
    except ProtocolError as exc:
        print(f"problem record=- gid=- reason={exc.code.value} {exc.message}")
        print("summary items=0 records=0 problems=1 verdict=fail")
        return 1
    if author is not None and check.report is not None and author != check.report.header.author:
        check.problems.append(Problem("wrong_author", "the report was signed by another key"))
    for line in describe(check):
        print(line)
    return 0 if check.ok else 1


def _serve(node: Node) -> int:
    """Run every registered service until Ctrl-C or SIGTERM."""
    import asyncio  # noqa: PLC0415
    import logging  # noqa: PLC0415

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with node.running():
        return asyncio.run(_serve_async(node))


async def _serve_async(node: Node) -> int:
    import asyncio  # noqa: PLC0415
    import signal  # noqa: PLC0415
    from importlib.metadata import entry_points  # noqa: PLC0415

    from node.store.database import Store  # noqa: PLC0415

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    store = await Store.open(node.db_path, node.key)
    try:
        await store.check()  # a damaged database is refused before it serves anything
    except BaseException:
        await store.close()
        raise
    stoppers = []
    upkeep = asyncio.create_task(_every_day(store))
    try:
        for service in entry_points(group="maillon.services"):
            start = service.load()
            stoppers.append(await start(node, store))
        freeze_startup_heap()
        print(f"{node.config.name}: fingerprint {node.key.public.fingerprint}", flush=True)
        print("Ctrl-C to stop.", flush=True)
        await stop.wait()
    finally:
        upkeep.cancel()
        for stopper in reversed(stoppers):
            await stopper()
        await store.close()
    return 0


def freeze_startup_heap() -> None:
    """Take what the started node holds for good (modules, templates, schemas) out of the collector's sight.

    Python's full collections scan every object alive; a running node holds
    some hundred thousand from its start, and a full collection then stalls
    the event loop for about 50 ms in the middle of a hand-off. Frozen
    (``gc.freeze``), they are no longer scanned: a full collection looks at
    what the node's work allocated since, about 1 ms.
    """
    import gc  # noqa: PLC0415

    gc.collect()
    gc.freeze()


async def _every_day(store: Store) -> None:
    """Run the daily upkeep now, then every day while the node runs; look for silent peers every hour."""
    import asyncio  # noqa: PLC0415

    from node.cli import commands  # noqa: PLC0415
    from node.network.upkeep import look_for_silence  # noqa: PLC0415

    hours = 0
    while True:
        if hours % 24 == 0:
            await commands.daily_upkeep(store)
        else:
            await look_for_silence(store)
        await asyncio.sleep(3600)
        hours += 1


if __name__ == "__main__":
    raise SystemExit(main())
