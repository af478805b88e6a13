"""Latency percentiles and server resources against N, from a load report (matplotlib, Agg).

    python -m benchmarks plot benchmarks/results/load-….json [--out FILE.png]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

PANELS = [
    ("speech_end_to_final", "end of speech → transcript.final", "final_p95_s"),
    ("partial_lag", "partial lag (audio_end → transcript.partial)", None),
    ("face_lag", "face lag (frame sent → face.metrics)", "face_p95_s"),
]
PERCENTILES = [("p50", "o", 1.0), ("p95", "s", 1.0), ("p99", "^", 0.6)]


def plot_report(report: Mapping[str, Any], path: Path) -> Path:
    """Write a PNG: one panel per latency (p50/p95/p99 against N, each run) and one of server CPU and RSS."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    runs: Sequence[Mapping[str, Any]] = report["runs"]
    targets = report.get("settings", {}).get("targets", {})
    fig, axes = plt.subplots(2, 2, figsize=(12, 8), constrained_layout=True)
    styles = ["-", "--", ":", "-."]
    colours = {"p50": "tab:blue", "p95": "tab:orange", "p99": "tab:red"}
    for ax, (key, title, target) in zip(axes.flat, PANELS):
        for r, run in enumerate(runs):
            steps = run["steps"]
            ns = [s["n"] for s in steps]
            for name, marker, alpha in PERCENTILES:
                ys = [s["latency"][key][name] for s in steps]
                points = [(n, y) for n, y in zip(ns, ys) if y is not None]
                if points:
                    ax.plot(*zip(*points), styles[r % len(styles)], marker=marker, color=colours[name], alpha=alpha, label=f"{name} {run['label']}")
        if target and targets.get(target) is not None:
            ax.axhline(targets[target], color="grey", linewidth=1, linestyle=":", label=f"target p95 {targets[target]} s")
        ax.set_title(title)
        ax.set_xlabel("concurrent candidates N")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("seconds")
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    ax = axes.flat[3]
    twin = ax.twinx()
    for r, run in enumerate(runs):
        steps = run["steps"]
        cpu = [(s["n"], s["server"].get("cpu_cores")) for s in steps if s["server"].get("cpu_cores") is not None]
        rss = [(s["n"], s["server"].get("rss_mb")) for s in steps if s["server"].get("rss_mb") is not None]
        gen = [(s["n"], s["generator"].get("cpu_cores")) for s in steps if s["generator"].get("cpu_cores") is not None]
        style = styles[r % len(styles)]
        if cpu:
            ax.plot(*zip(*cpu), style, marker="o", color="tab:green", label=f"server cores {run['label']}")
        if gen:
            ax.plot(*zip(*gen), style, marker="x", color="tab:olive", label=f"generator cores {run['label']}")
        if rss:
            twin.plot(*zip(*rss), style, marker="s", color="tab:purple", label=f"server RSS {run['label']}")
    machine = report.get("machine", {})
    if machine.get("cpus"):
        ax.axhline(machine["cpus"], color="grey", linewidth=1, linestyle=":", label=f"{machine['cpus']} CPUs")
    ax.set_title("resources")
    ax.set_xlabel("concurrent candidates N")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("CPU cores")
    ax.set_ylim(bottom=0)
    twin.set_ylabel("RSS MB")
    ax.grid(True, alpha=0.3)
    handles = ax.get_legend_handles_labels()
    twin_handles = twin.get_legend_handles_labels()
    if handles[0] or twin_handles[0]:
        ax.legend(handles[0] + twin_handles[0], handles[1] + twin_handles[1], fontsize=7, loc="upper left")
    caps = ", ".join(f"{run['label']}: N={run['capacity']}" for run in runs)
    fig.suptitle(f"Candor load: {machine.get('cpu_model', '')} ({machine.get('cpus', '?')} CPUs); capacity {caps}", fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks plot", description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path, help="a JSON written by python -m benchmarks load")
    parser.add_argument("--out", type=Path, help="PNG to write (default: beside the JSON)")
    args = parser.parse_args(argv)
    report = json.loads(args.report.read_text())
    out = plot_report(report, args.out or args.report.with_suffix(".png"))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
