"""The ``maillon`` command line.

Commands:
    maillon init --data DIR --name NAME [--role ROLE] [--port PORT]
    maillon run --data DIR
    maillon demo [--data DIR] [--port PORT]
    maillon log verify FILE [--author KEY]

``run`` starts the services registered under the ``maillon.services`` entry
point group (the web interface, later the federation), so that node/ does
not import the packages built on top of it.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Sequence

from node.config import Config, Node, init_node, load_node
from node.errors import NodeError
from protocol.errors import ProtocolError
from protocol.keys import parse_node_id
from protocol.log import verify_log

__all__ = ["main", "build_parser"]

DEFAULT_DEMO_DIR = Path("demo-data")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="maillon", description="Maillon: trace donated computers, node by node.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = commands.add_parser("init", help="create a node's data directory and key")
    init.add_argument("--data", type=Path, required=True, help="data directory to create")
    init.add_argument("--name", required=True, help="the association's or network's name")
    init.add_argument("--role", default="member", choices=["member", "hub", "national"])
    init.add_argument("--host", default="127.0.0.1", help="address to listen on")
    init.add_argument("--port", type=int, default=8470, help="port to listen on")
    init.set_defaults(handler=_cmd_init)

    run = commands.add_parser("run", help="start a node")
    run.add_argument("--data", type=Path, required=True, help="the node's data directory")
    run.set_defaults(handler=_cmd_run)

    demo = commands.add_parser("demo", help="start a local demonstration node with its data")
    demo.add_argument("--data", type=Path, default=DEFAULT_DEMO_DIR, help="where the demo keeps its data")
    demo.add_argument("--port", type=int, default=8470)
    demo.set_defaults(handler=_cmd_demo)

    log = commands.add_parser("log", help="work with signed logs")
    log_commands = log.add_subparsers(dest="log_command", required=True, metavar="ACTION")
    verify = log_commands.add_parser("verify", help="verify a log export (PROTOCOL.md, 'Log export')")
    verify.add_argument("file", type=Path, help="log export file, or - for standard input")
    verify.add_argument("--author", help="expected author: node id (base32) or 64 hex digits")
    verify.set_defaults(handler=_cmd_log_verify)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (NodeError, ProtocolError) as exc:
        print(f"maillon: {exc}", file=sys.stderr)
        return 2


def _cmd_init(args: argparse.Namespace) -> int:
    node = init_node(args.data, Config(name=args.name, role=args.role, host=args.host, port=args.port))
    print(f"node created in {node.data_dir}")
    print(f"node id:     {node.key.public.node_id}")
    print(f"fingerprint: {node.key.public.fingerprint}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    return _serve(load_node(args.data))


def _cmd_demo(args: argparse.Namespace) -> int:
    if not (args.data / "node.toml").exists():
        init_node(args.data, Config(name="Atelier de démonstration", port=args.port))
    return _serve(load_node(args.data))


def _cmd_log_verify(args: argparse.Namespace) -> int:
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


def _serve(node: Node) -> int:
    """Run every registered service until Ctrl-C or SIGTERM."""
    return asyncio.run(_serve_async(node))


async def _serve_async(node: Node) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    stoppers = []
    try:
        for service in entry_points(group="maillon.services"):
            start = service.load()
            stoppers.append(await start(node))
        print(f"{node.config.name}: fingerprint {node.key.public.fingerprint}", flush=True)
        print("Ctrl-C to stop.", flush=True)
        await stop.wait()
    finally:
        for stopper in reversed(stoppers):
            await stopper()
    return 0
