"""One node against three (issue 13): the same load ramp against a local cluster of each size, in one run.

``python -m benchmarks cluster [--nodes 1,3] [load options]`` starts, for each size,
PostgreSQL, Redis and the nodes on loopback (deploy/cluster.py, what ``make
cluster`` runs), and drives the load benchmark (benchmarks/load.py) against the
entry node (node 1), as candidates behind a load balancer's one address would
reach it. With several nodes each node's capacity is ``ceil(top step / nodes)``,
so the entry must place most candidates on the others (307, with the same
offer); the one node's capacity is the top step. Admission's lag and backlog
checks are off, as in the load benchmark, to see latency rather than refusals.

On one 2-core box the nodes share the cores, so this measures what placement
costs and whether it is right (every candidate served, spread over the nodes,
the finals all there), not capacity: a deployment multiplies the per-node
capacity of benchmarks/README.md by its nodes. The JSON goes to
benchmarks/data/cluster-<date>.json; the table to stdout.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Sequence

import httpx
import psutil

from deploy.cluster import LocalCluster

from .load import LOCAL_ICE, MediaKit, build_parser, config_from_args, media_kit, new_report, run_against

DATA = Path(__file__).resolve().parent / "data"
COUNTERS = ("candor_whip_answers_total", "candor_whip_redirects_total", "candor_admission_refused_total")


def scrape(url: str) -> dict[str, float]:
    """The placement counters of one node's /metrics (summed over labels)."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    out = {name: 0.0 for name in COUNTERS}
    for line in text.splitlines():
        match = re.match(r"^([a-z_]+)(?:\{[^}]*\})? ([0-9.e+-]+)$", line)
        if match and match.group(1) in out:
            out[match.group(1)] += float(match.group(2))
    return out


def cpu_seconds(pids: Sequence[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


async def one_size(nodes: int, config: Any, kit: MediaKit, root: Path, top: int) -> dict[str, Any]:
    per_node = top if nodes == 1 else math.ceil(top / nodes)
    env = {**LOCAL_ICE, "CANDOR_MAX_LIVE_SESSIONS": str(per_node), "CANDOR_ADMISSION_LOOP_LAG_S": "30", "CANDOR_ADMISSION_BACKLOG_S": "600"}
    cluster = LocalCluster(root / f"nodes-{nodes}", nodes=nodes, base_port=0, env=env)
    started = time.monotonic()
    await asyncio.to_thread(cluster.start)
    print(f"{nodes} node(s) ready in {time.monotonic() - started:.0f} s: {', '.join(cluster.node_urls)}", file=sys.stderr)
    try:
        pids = [n.process.pid for n in cluster.nodes if n.process is not None]
        cpu_before, wall_before = cpu_seconds(pids), time.monotonic()
        run = await run_against(config, kit, url=cluster.entry_url, hr_token=cluster.hr_token, label=f"{nodes} node(s)")
        cores = (cpu_seconds(pids) - cpu_before) / (time.monotonic() - wall_before)
        run["cluster"] = {
            "nodes": nodes,
            "capacity_per_node": per_node,
            "cores_used_by_nodes": round(cores, 2),
            "per_node": {url: await asyncio.to_thread(scrape, url) for url in cluster.node_urls},
        }
        return run
    finally:
        await asyncio.to_thread(cluster.stop)


def table(report: dict[str, Any]) -> str:
    """The README's table, from a report (``python -m benchmarks cluster --table FILE`` prints it again)."""
    lines = [
        "| nodes | step N | finals | end of speech → final p50 / p95 | finals missing | WHIP POST → media flowing (the joining candidate) "
        "| machine busy cores | served per node (whole run) | redirects | refused |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in report["runs"]:
        info = run["cluster"]
        served = " / ".join(str(int(n["candor_whip_answers_total"])) for n in info["per_node"].values())
        redirects = int(sum(n["candor_whip_redirects_total"] for n in info["per_node"].values()))
        refused = int(sum(n["candor_admission_refused_total"] for n in info["per_node"].values()))
        for step in run["steps"]:
            final = step["latency"]["speech_end_to_final"]
            flow = step["latency"]["whip_to_flowing"]
            busy = step.get("machine", {}).get("busy_cores")
            lines.append(
                f"| {info['nodes']} | {step['n']} | {final['n']} | {_s(final['p50'])} / {_s(final['p95'])} | {final['missing']} | "
                f"{_s(flow['p50'])} | {'–' if busy is None else f'{busy:.2f}'} | {served} | {redirects} | {refused} |"
            )
    return "\n".join(lines)


def _s(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} s"


async def run(nodes: list[int], config: Any) -> dict[str, Any]:
    kit = media_kit(config)
    report = new_report("candor.bench.cluster/1", config)
    with tempfile.TemporaryDirectory(prefix="candor-bench-cluster-") as root:
        Path(root).chmod(0o755)  # PostgreSQL runs as its own user (deploy/cluster.py)
        for size in nodes:
            report["runs"].append(await one_size(size, config, kit, Path(root), max(config.steps)))
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    parser.description = __doc__.splitlines()[0]
    parser.add_argument("--nodes", default="1,3", help="cluster sizes to run, in order (default 1,3)")
    parser.add_argument("--table", type=Path, metavar="JSON", help="print the table of a report written before, and stop")
    args = parser.parse_args(argv)
    if args.table is not None:
        print(table(json.loads(args.table.read_text())))
        return 0
    if args.url:
        raise SystemExit("benchmarks cluster starts its own clusters: no --url")
    config = config_from_args(args)
    sizes = [int(n) for n in args.nodes.split(",")]
    report = asyncio.run(run(sizes, config))
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"cluster-{datetime.now(UTC):%Y-%m-%d}.json"
    path.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    print(table(report))
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
