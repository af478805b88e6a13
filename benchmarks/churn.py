"""Churn: candidates killed mid-answer, then new ones arriving, against a full Candor (issue 13).

    python -m benchmarks churn                                   # 4 slots, 4 killed, 4 arrive over 20 s
    python -m benchmarks churn --compare CANDOR_WHIP_MEDIA_SILENCE_S=15 --compare-label "old 15 s"
    python -m benchmarks churn candidate --whip-url URL --token T --audio FILE   # one candidate (a child)

An embedded server (``python -m server`` in a child process, as for
``benchmarks load``) runs with its own admission control and a capacity of
``--slots`` live sessions. ``--slots`` candidates connect, each a child
process publishing real speech on a loop over WebRTC (aiortc); once every
one has been speaking for ``--speak-seconds``, all of them are SIGKILLed at
once: no DELETE, no DTLS close, their RTP stops as when a browser's process
is killed. Then ``--arrivals`` new candidates (as many as were killed)
arrive, evenly spread over ``--arrive-over`` seconds (in the middle of each
of equal parts: 2.5, 7.5, 12.5, 17.5 s by default); each tries once (a real browser client would
retry after Retry-After: a try refused here is a candidate kept waiting) and
stays connected to the end once admitted.

What is measured:

- ``held_s``: per killed candidate, the ``wall_time`` of its
  ``connection.ended`` (read from its session's event WebSocket) minus the
  moment of the kill: how long its slot stayed held. p50/p95/max.
- ``refused``: new candidates answered 503 (admission control: no slot).
- ``released_after_s``: the admitted new candidates speak ``--speak-seconds``
  and are SIGKILLed too; then every session is idle. The time from that kill
  until the server holds no connection and no analyzer graph
  (``candor_connections_live``, ``candor_sessions_live`` in /metrics, read
  every second, for at most ``--settle-seconds``; null: never).
- ``threads`` and ``rss_mb`` of the server process (psutil), with the
  gauges, at rest before the first candidate, with the first candidates
  connected, and at the end (once released, or after ``--settle-seconds``).
  The models' shared worker pools start their threads on first use, so
  "after" is compared with "connected", not with "rest".

``--compare`` runs the same scenario against a second embedded server with
other settings (the baseline), in the same run, and prints both.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Mapping

import httpx
import psutil
import websockets

from . import MEDIA_DIR
from .load import EmbeddedServer, machine_info, parse_env, summarize

DATA = Path(__file__).resolve().parent / "data"
AUDIO = MEDIA_DIR / "aishell-BAC009S0724W0121.wav"
READY = "candidate: live"
REFUSED = "candidate: refused"


# -- one candidate, in a child process ------------------------------------------------------


async def _publish(whip_url: str, token: str, audio: str) -> int:
    """Publish ``audio`` on a loop until killed; print READY once the answer is in, REFUSED on 503."""
    from media.whip_client import WhipError, WhipPublisher

    publisher = WhipPublisher(whip_url, token, audio_path=audio, loop=True)
    try:
        await publisher.start()
    except WhipError as exc:
        print(f"{REFUSED if exc.status == 503 else 'candidate: error'} {exc.status}", flush=True)
        return 3 if exc.status == 503 else 1
    except Exception as exc:  # said on stdout, where the parent reads
        print(f"candidate: error {type(exc).__name__}: {exc}", flush=True)
        return 1
    print(READY, flush=True)
    await asyncio.Event().wait()  # until killed (or SIGTERM)
    return 0


def spawn_candidate(whip_url: str, token: str, audio: Path = AUDIO) -> subprocess.Popen[str]:
    """A candidate in a child process (``python -m benchmarks churn candidate``), as a browser tab would be."""
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen(
        # name=value: a token may start with "-", which argparse would take for an option
        [sys.executable, "-m", "benchmarks", "churn", "candidate", f"--whip-url={whip_url}", f"--token={token}", f"--audio={audio}"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=root,
    )


async def candidate_started(proc: subprocess.Popen[str], timeout_s: float = 60.0) -> bool:
    """True once the child says its offer was answered, False when it was refused (503)."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout_s
    while True:
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), max(0.1, deadline - time.monotonic()))
        if line.startswith(READY):
            return True
        if line.startswith(REFUSED):
            return False
        if not line or line.startswith("candidate:"):
            raise RuntimeError(f"the candidate failed: {line.strip() or f'exit {proc.wait()}'}")


def kill(proc: subprocess.Popen[str]) -> None:
    """SIGKILL: what a crashed browser or a closed laptop lid does to the peer (no goodbye at all)."""
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


# -- the scenario ----------------------------------------------------------------------------


@dataclass
class ChurnConfig:
    slots: int = 4
    arrivals: int = 4
    arrive_over_s: float = 20.0
    speak_s: float = 8.0
    settle_s: float = 100.0
    audio: Path = AUDIO


@dataclass
class Resources:
    threads: int | None = None
    rss_mb: float | None = None
    connections_live: float | None = None
    sessions_live: float | None = None  # sessions holding an analyzer graph

    @classmethod
    async def of(cls, pid: int | None, http: httpx.AsyncClient) -> "Resources":
        out = cls(**await gauges(http))
        if pid is not None:
            with contextlib.suppress(psutil.Error):
                process = psutil.Process(pid)
                out.threads, out.rss_mb = process.num_threads(), round(process.memory_info().rss / 2**20, 1)
        return out


@dataclass
class ChurnResult:
    settings: dict[str, str]
    held_s: list[float] = field(default_factory=list)
    not_freed: int = 0
    refused: int = 0
    admitted: int = 0
    released_after_s: float | None = None  # every analyzer graph gone, this long after the last candidates vanished
    resources: dict[str, Resources] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "settings": self.settings,
            "killed": len(self.held_s) + self.not_freed,
            "held_s": summarize(self.held_s),
            "held_s_each": [round(h, 2) for h in sorted(self.held_s)],
            "not_freed": self.not_freed,
            "arrivals": self.admitted + self.refused,
            "admitted": self.admitted,
            "refused": self.refused,
            "released_after_s": self.released_after_s,
            "resources": {k: vars(v) for k, v in self.resources.items()},
        }


class Watcher:
    """An HR watcher on one session's events: the wall time of its first connection.ended."""

    def __init__(self, events_url: str, token: str) -> None:
        self.url = events_url
        self.token = token
        self.ended_at: float | None = None
        self.ready = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> "Watcher":
        self.task = asyncio.get_running_loop().create_task(self._read())
        return self

    async def _read(self) -> None:
        async with websockets.connect(self.url, additional_headers={"Authorization": f"Bearer {self.token}"}, max_size=None) as ws:
            self.ready.set()
            async for raw in ws:
                event = json.loads(raw)
                if event.get("type") == "connection.ended":
                    self.ended_at = float(event["wall_time"])
                    return

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


async def new_session(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.post("/v1/sessions", json={})
    response.raise_for_status()
    return response.json()


async def gauges(http: httpx.AsyncClient) -> dict[str, float]:
    """The server's live connections and live analyzer graphs (/metrics)."""
    out: dict[str, float] = {}
    with contextlib.suppress(httpx.HTTPError):
        for line in (await http.get("/metrics")).text.splitlines():
            name, _, value = line.partition(" ")
            if name in ("candor_connections_live", "candor_sessions_live"):
                out[name.removeprefix("candor_")] = float(value)
    return out


async def run_churn(server: EmbeddedServer, config: ChurnConfig, log: Any = print) -> ChurnResult:
    result = ChurnResult(settings={k: v for k, v in server.settings().items() if k.startswith("CANDOR_")})
    children: list[subprocess.Popen[str]] = []
    watchers: list[Watcher] = []
    headers = {"Authorization": f"Bearer {server.token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as http:
        try:
            result.resources["at_rest"] = await Resources.of(server.pid, http)
            # K candidates fill the slots and speak
            for _ in range(config.slots):
                session = await new_session(http)
                watcher = Watcher(session["events_url"], server.token).start()
                await asyncio.wait_for(watcher.ready.wait(), 30)
                watchers.append(watcher)
                child = spawn_candidate(session["whip_url"], session["candidate_token"], config.audio)
                children.append(child)
                if not await candidate_started(child):
                    raise RuntimeError("a candidate filling the slots was refused: the server's admission is not at --slots")
            await asyncio.sleep(config.speak_s)
            result.resources["connected"] = await Resources.of(server.pid, http)
            log(f"  {config.slots} candidates speaking; killing them all (SIGKILL)")
            killed_at = time.time()
            for child in children:
                kill(child)
            # M new candidates arrive, evenly spread, each on its own (a slow start does not delay the next)
            step = config.arrive_over_s / max(1, config.arrivals)

            async def arrive(at: float) -> None:
                await asyncio.sleep(max(0.0, at - time.time()))
                session = await new_session(http)
                child = spawn_candidate(session["whip_url"], session["candidate_token"], config.audio)
                children.append(child)
                admitted = await candidate_started(child)
                result.admitted += admitted
                result.refused += not admitted
                log(f"  arrived t+{at - killed_at:4.1f} s, answered t+{time.time() - killed_at:4.1f} s: {'admitted' if admitted else 'refused'}")

            await asyncio.gather(*(arrive(killed_at + (i + 0.5) * step) for i in range(config.arrivals)))
            deadline = time.time() + 60
            while time.time() < deadline and any(w.ended_at is None for w in watchers):
                await asyncio.sleep(0.5)
            for watcher in watchers:
                if watcher.ended_at is None:
                    result.not_freed += 1
                else:
                    result.held_s.append(watcher.ended_at - killed_at)
            # the new ones speak a while and vanish too; then every session is idle and should be released
            await asyncio.sleep(config.speak_s)
            for child in children:
                kill(child)
            left_at = time.monotonic()
            while time.monotonic() - left_at < config.settle_s:
                await asyncio.sleep(1.0)
                now = await gauges(http)
                if now.get("connections_live") == 0 and now.get("sessions_live") == 0:
                    result.released_after_s = round(time.monotonic() - left_at, 1)
                    break
            result.resources["after"] = await Resources.of(server.pid, http)
        finally:
            for child in children:
                if child.poll() is None:
                    kill(child)
            for watcher in watchers:
                await watcher.stop()
    return result


async def run_one(env: Mapping[str, str], config: ChurnConfig, label: str) -> dict[str, Any]:
    # the server's own admission (a capacity of --slots), the loop-lag and backlog checks relaxed
    # so that only the slots decide (a 2-vCPU machine lags while four candidates connect)
    overrides = {"CANDOR_MAX_LIVE_SESSIONS": str(config.slots), "CANDOR_ADMISSION_LOOP_LAG_S": "30",
                 "CANDOR_ADMISSION_BACKLOG_S": "600", **env}
    server = EmbeddedServer(overrides, admission=True).start()
    try:
        print(f"{label}: starting the server (models load)...", flush=True)
        await server.wait_ready()
        result = await run_churn(server, config)
    finally:
        server.stop()
    return {"label": label, **result.summary()}


def format_table(runs: list[Mapping[str, Any]]) -> str:
    lines = [
        "| run | killed | slot held p50 / p95 / max (s) | new refused | all released after (s) "
        "| analyzer graphs rest / connected / after | threads rest / connected / after | RSS MB rest / connected / after |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in runs:
        held, res = run["held_s"], run["resources"]

        def trio(key: str) -> str:
            return " / ".join("-" if res.get(p, {}).get(key) is None else f"{res[p][key]:g}" for p in ("at_rest", "connected", "after"))

        def fmt(value: float | None) -> str:
            return "-" if value is None else f"{value:.1f}"

        not_freed = f" ({run['not_freed']} not freed in 60 s)" if run["not_freed"] else ""
        lines.append(
            f"| {run['label']} | {run['killed']} | {fmt(held['p50'])} / {fmt(held['p95'])} / {fmt(held['max'])}{not_freed} "
            f"| {run['refused']} of {run['arrivals']} | {fmt(run['released_after_s']) if run['released_after_s'] is not None else 'never'} "
            f"| {trio('sessions_live')} | {trio('threads')} | {trio('rss_mb')} |"
        )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks churn", description="Candidates killed mid-answer, then new ones, at capacity.")
    p.add_argument("--slots", type=int, default=4, help="the server's capacity, and how many are killed (default 4)")
    p.add_argument("--arrivals", type=int, default=None, help="new candidates after the kill (default: --slots)")
    p.add_argument("--arrive-over", type=float, default=20.0, help="seconds over which they arrive (default 20)")
    p.add_argument("--speak-seconds", type=float, default=8.0, help="how long the first ones speak before the kill")
    p.add_argument("--settle-seconds", type=float, default=100.0, help="at most this long for every idle session to be released")
    p.add_argument("--server-env", type=parse_env, default={}, metavar="CANDOR_X=V[,...]", help="settings of the embedded server")
    p.add_argument("--label", default="default settings")
    p.add_argument("--compare", type=parse_env, metavar="CANDOR_X=V[,...]", help="the same scenario against a second server (the baseline)")
    p.add_argument("--compare-label", default=None)
    p.add_argument("--out", type=Path, default=None, help="JSON report (default benchmarks/data/churn-DATE.json)")
    return p


def main(argv: list[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    if args_in[:1] == ["candidate"]:
        c = argparse.ArgumentParser(prog="python -m benchmarks churn candidate")
        c.add_argument("--whip-url", required=True)
        c.add_argument("--token", required=True)
        c.add_argument("--audio", default=str(AUDIO))
        a = c.parse_args(args_in[1:])
        with contextlib.suppress(KeyboardInterrupt):
            return asyncio.run(_publish(a.whip_url, a.token, a.audio))
        return 0
    args = build_parser().parse_args(args_in)
    config = ChurnConfig(slots=args.slots, arrivals=args.arrivals or args.slots, arrive_over_s=args.arrive_over,
                         speak_s=args.speak_seconds, settle_s=args.settle_seconds)

    async def scenario() -> list[dict[str, Any]]:
        runs = []
        if args.compare is not None:
            label = args.compare_label or ",".join(f"{k}={v}" for k, v in args.compare.items())
            runs.append(await run_one({**args.server_env, **args.compare}, config, label))
        runs.append(await run_one(args.server_env, config, args.label))
        return runs

    runs = asyncio.run(scenario())
    report = {"benchmark": "churn", "date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine_info(),
              "config": {k: str(v) for k, v in vars(config).items()}, "runs": runs}
    out = args.out or DATA / f"churn-{datetime.now(UTC):%Y-%m-%d}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(format_table(runs))
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
