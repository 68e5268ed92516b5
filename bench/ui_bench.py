"""Item list and search latency of the web interface with 100 000 items.

The limit is a bare aiohttp handler (a constant small page) served by the
same kind of server on loopback in the same run: the cost of HTTP, the
event loop and the client. The figures that matter are the ratios of the
95th percentile latencies (goal: <= 3).

    python bench/ui_bench.py [--items N] [--requests R]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from node import users  # noqa: E402
from node.config import Config, init_node  # noqa: E402
from node.store import Store  # noqa: E402
from node_bench import build, free_port, generate  # noqa: E402
from web_ui.app import make_app  # noqa: E402

PASSWORD = "bench password 1234"
YEAR_START, YEAR_END = 1_735_686_000_000, 1_767_222_000_000  # 2025 in Paris


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


async def latencies(session: aiohttp.ClientSession, urls: list[str]) -> list[float]:
    out = []
    for url in urls:
        began = time.perf_counter()
        async with session.get(url) as response:
            await response.read()
            if response.status != 200 or response.url.path == "/login":
                raise RuntimeError(f"{url}: {response.status} {response.url}")
        out.append(time.perf_counter() - began)
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(len(ordered) * 0.95) - 1]


async def main_async(items: int, requests: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        node = init_node(Path(tmp) / "node", Config(name="Bench"))
        store = await Store.open(node.db_path, node.key)
        await build(store, generate(items, YEAR_START, YEAR_END))
        async with store.transaction() as tx:
            await users.create_user(tx, "bench", PASSWORD, "admin")

        async def bare(request: web.Request) -> web.Response:
            return web.Response(text="<!doctype html><p>ok</p>", content_type="text/html")

        bare_app = web.Application()
        bare_app.router.add_get("/", bare)
        runners = []
        bare_runner, bare_url = await serve(bare_app)
        ui_runner, ui_url = await serve(make_app(node, store))
        runners += [bare_runner, ui_runner]
        try:
            # unsafe: keep cookies for an IP address host (the loopback), which aiohttp refuses by default
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
                async with session.post(ui_url + "/login", data={"username": "bench", "password": PASSWORD,
                                                                 "next": "/"}) as response:  # fmt: skip
                    assert response.status == 200 and response.url.path == "/", response.url
                pages = [f"{ui_url}/items?page={1 + n % 200}" for n in range(requests)]
                filtered = [f"{ui_url}/items?state=ready&category=laptop&page={1 + n % 20}" for n in range(requests)]
                searches = [f"{ui_url}/items?q=MLN-{(n * 7919) % items + 1:06d}" for n in range(requests)]
                prefix = [f"{ui_url}/items?q=Lat" for _ in range(requests)]
                await latencies(session, pages[:10] + [bare_url + "/"] * 10)  # warm up
                results = {}
                for _ in range(2):  # interleaved rounds, best of: the machine is shared
                    for name, urls in (("bare handler", [bare_url + "/"] * requests), ("item list", pages),
                                       ("item list, filtered", filtered), ("search by asset tag", searches),
                                       ("search by model prefix", prefix)):  # fmt: skip
                        value = p95(await latencies(session, urls))
                        results[name] = min(results.get(name, value), value)
        finally:
            for runner in runners:
                await runner.cleanup()
            await store.close()
    print(f"machine: {platform.platform()} python {platform.python_version()}")
    print(f"data: {items} items; {requests} requests per measure, sequential, p95")
    limit = results["bare handler"]
    print(f"{'measure':30s} {'p95':>10s} {'ratio':>7s}  goal")
    for name, value in results.items():
        ratio = value / limit
        goal = "" if name == "bare handler" else ("<= 3  ok" if ratio <= 3 else "<= 3  MISSED")
        print(f"{name:30s} {value * 1000:8.2f} ms {ratio:7.2f}  {goal}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main_async(args.items, args.requests))


if __name__ == "__main__":
    main()
