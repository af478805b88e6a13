"""Load generator: N concurrent candidates over real WebRTC, ramped in steps, against a Candor.

    python -m benchmarks load                                  # embedded server, default ramp
    python -m benchmarks load --steps 1,2,3 --step-seconds 45 --warmup-seconds 15
    python -m benchmarks load --url http://127.0.0.1:8080 --hr-token T [--server-pid PID]
    python -m benchmarks load --compare CANDOR_ASR_WINDOW=full  # same ramp, second embedded server
    python -m benchmarks load --interview wealth_manager       # structured interviews

The generator runs in its own process; the embedded server is ``python -m
server`` in a child process (a temporary SQLite database, a free port, a
random HR token, ``--server-env`` settings; its admission control is turned
off unless ``--admission``, since the ramp is there to find the capacity).
Each candidate creates a session over REST, consents to voice and face,
opens a watcher on its event WebSocket (JSON), and publishes over WHIP with
aiortc from :mod:`benchmarks.tracks`: real speech clips with pauses, on a
loop, and a small portrait video (VP8, Opus). Every step adds candidates up
to N (``--stagger-seconds`` apart) and runs for ``--step-seconds``; its first
``--warmup-seconds`` are left out of the latency and resource statistics
(samples are placed in a step by when their reference was sent: the end of
speech, the frame, the audio, ``done``). ``--raw`` also writes every
session's clips and events, to check the matching by hand.

What is measured (all wall times are ``time.perf_counter`` on the
generator's clock; arrival = when the watcher read the event):

- ``speech_end_to_final``: per clip played, arrival of the ``transcript.final``
  that closes it minus the wall time at which the 20 ms frame holding the
  clip's last speech sample was sent. Finals are matched to clips by media
  time, assuming the server's media time (audio received since the
  connection's first frame, docs/events.md) equals the generator's media
  offset (audio sent since its first frame): true when no audio is lost and
  the server does not resynchronise its clock (it does after a 1 s gap). A
  final belongs to the clip its ``[start, end]`` overlaps most; the clip's
  closing final is the first to arrive whose ``end`` reaches the clip's end
  of speech less 0.5 s. ``match_error`` (closing final's last word end minus
  the generator's end of speech) checks the assumption: it should stay
  within a few hundred ms. A clip with no closing final within
  ``--grace-seconds`` counts as ``missing`` and enters the percentiles with
  the time waited so far (a lower bound).
- ``partial_lag``: per ``transcript.partial``, arrival minus the wall time at
  which the audio at its ``audio_end`` was sent (partials carry no word
  times; ``audio_end`` is the end of the audio that partial decoded).
- ``face_lag``: per ``face.metrics``, arrival minus the wall time at which the
  frame the server had at ``newest_media_time`` was sent. The server stamps
  video with the time elapsed since its first audio sample; when the server
  shares this machine's clock (embedded, or a loopback URL), that instant is
  read from ``media.flowing`` (its ``wall_time`` minus its ``media_time``), so
  ``newest_media_time`` becomes the moment the server took the frame, and the
  last video frame sent at or before it is the one. Against a remote server
  the first audio frame sent stands in for the server's first sample, which
  assumes the audio path's delay (``first_audio_path``, ~0.1 s on loopback:
  aiortc's jitter buffer) is the video's.
- ``first_audio_path`` (same clock only): the server's first audio sample
  minus the generator's first audio frame sent.
- ``whip_to_flowing``: the WHIP POST sent -> ``media.flowing`` at the watcher.
- ``done_to_score`` (``--interview`` only): ``{"type":"done"}`` sent on the
  control channel -> ``score.question`` for that question at the watcher.
- server: CPU cores used (psutil on the server's PID and its children,
  the prosody process, else ``process_cpu_seconds_total`` deltas, the
  server's own), RSS (the same processes) at the end of the window and
  per candidate added since the previous step, event-loop lag p99 from the
  ``candor_event_loop_lag_seconds`` histogram's bucket deltas (interpolated
  within a bucket), the largest ``candor_audio_backlog_seconds`` seen, audio
  and video ``candor_frames_dropped_total`` deltas and ``media.dropped``
  events. Metrics a server does not expose are reported as null.
- generator: its own CPU (psutil) and event-loop lag: above ~0.8 of a core
  its own timings are skewed and it says so.
- others: CPU used on this machine by processes other than the server and
  the generator (psutil's system-wide busy time less both); above 0.3 of a
  core the figures are pessimistic, and it says so.

Percentiles are linear interpolations (numpy's default); with few samples
p99 is close to the maximum. A step holds when every target holds: all N
admitted, p95 end of speech -> final, p95 face lag, no audio dropped, RSS
per added candidate, event-loop lag p99 (a target with no data is n/a and
does not break a step). Capacity is the largest N whose step and all the
steps before it hold. A 503 from ``POST /v1/sessions``, consent or WHIP
(admission control, models loading) is counted as ``refused`` and retried
after its Retry-After (at most ``--retry-cap`` seconds); it never aborts the
run. Any other failure of a session is counted in ``errors`` and the
candidate starts a new session.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil
import websockets

from . import MEDIA_DIR
from .tracks import DEFAULT_CLIPS, ClipPlay, MediaKit

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
Clock = Callable[[], float]

# Settings recorded for an embedded server (defaults of server/settings.py, overridden by CANDOR_* env).
SERVER_SETTINGS = {
    "asr_model": "base",
    "asr_device": "cpu",
    "asr_compute_type": "int8",
    "asr_cpu_threads": "0",
    "asr_workers": "0",
    "asr_window": "trim",
    "asr_encode_once": "true",
    "asr_beam_size": "1",
    "partial_interval_s": "1.0",
    "vad_threshold": "0.5",
    "vad_min_silence_s": "0.5",
    "video_fps": "5.0",
    "face_metrics_interval_s": "0.5",
    "face_fps": "2.5",
    "prosody_process": "true",
}
# The embedded server's admission control is off by default: the ramp is there to find the capacity
# (--admission keeps the server's own limits, to test them).
ADMISSION_OFF = {
    "CANDOR_MAX_LIVE_SESSIONS": "100000",
    "CANDOR_ADMISSION_LOOP_LAG_S": "3600",
    "CANDOR_ADMISSION_BACKLOG_S": "3600",
}


# -- pure statistics ------------------------------------------------------------------


def summarize(values: Iterable[float]) -> dict[str, Any]:
    """Count and p50/p95/p99/max (linear interpolation) of ``values``; None when empty."""
    data = np.asarray(list(values), dtype=float)
    if data.size == 0:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}
    p50, p95, p99 = np.percentile(data, [50, 95, 99])
    return {"n": int(data.size), "p50": round(float(p50), 4), "p95": round(float(p95), 4), "p99": round(float(p99), 4), "max": round(float(data.max()), 4)}


@dataclass(frozen=True)
class FinalRecord:
    """A ``transcript.final`` as the watcher saw it (media times are the server's)."""

    arrival: float
    start: float
    end: float
    last_word_end: float | None = None
    utterance_id: int = 0


@dataclass(frozen=True)
class ClipMatch:
    play: ClipPlay
    final: FinalRecord | None  # the closing final, if it came
    finals: int  # finals assigned to the clip

    @property
    def match_error(self) -> float | None:
        if self.final is None:
            return None
        spoken = self.final.last_word_end if self.final.last_word_end is not None else self.final.end
        return round(spoken - self.play.speech_end, 3)


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def match_finals(plays: Sequence[ClipPlay], finals: Sequence[FinalRecord], *, tolerance_s: float = 0.5) -> list[ClipMatch]:
    """Assign finals to the clips they overlap most in media time; find each clip's closing final.

    The closing final is the first to arrive whose ``end`` is at or after
    the clip's end of speech less ``tolerance_s`` (a clip cut into several
    utterances at its pauses has several finals; only the last closes it).
    """
    assigned: dict[int, list[FinalRecord]] = {play.number: [] for play in plays}
    for final in finals:
        best, best_overlap = None, 0.0
        for play in plays:
            overlap = _overlap(final.start, final.end, play.start, play.end)
            if overlap > best_overlap:
                best, best_overlap = play, overlap
        if best is not None:
            assigned[best.number].append(final)
    matches = []
    for play in plays:
        mine = assigned[play.number]
        closing = [f for f in mine if f.end >= play.speech_end - tolerance_s]
        matches.append(ClipMatch(play, min(closing, key=lambda f: f.arrival) if closing else None, len(mine)))
    return matches


@dataclass
class ClipLatencies:
    latencies: list[float] = field(default_factory=list)
    clips: list[str] = field(default_factory=list)  # the clip of each latency
    missing: int = 0
    match_errors: list[float] = field(default_factory=list)
    extra_finals: int = 0  # finals that overlap no clip (noise, or media time off)


def clip_latencies(
    matches: Sequence[ClipMatch],
    sent_wall: Callable[[float], float | None],
    window: tuple[float, float],
    now: float,
    grace_s: float,
) -> ClipLatencies:
    """End of speech -> final for clips whose end of speech was sent inside ``window``.

    A clip still without its closing final after ``grace_s`` is ``missing`` and
    counts with the time waited so far; a younger one is left out (pending).
    """
    out = ClipLatencies()
    for match in matches:
        sent = sent_wall(max(match.play.start, match.play.speech_end - 1e-6))
        if sent is None or not window[0] <= sent < window[1]:
            continue
        if match.final is not None:
            out.latencies.append(match.final.arrival - sent)
            out.clips.append(match.play.clip)
            if match.match_error is not None:
                out.match_errors.append(match.match_error)
        elif now - sent >= grace_s:
            out.latencies.append(now - sent)
            out.clips.append(match.play.clip)
            out.missing += 1
    return out


def histogram_quantile(q: float, buckets: Mapping[float, float]) -> tuple[float | None, bool]:
    """Quantile ``q`` of a Prometheus histogram given cumulative counts per upper bound (``le``).

    Linear within the bucket, as PromQL's ``histogram_quantile``. Returns
    (value, above): ``above`` is True when the quantile falls in the +Inf
    bucket, and the value is then the largest finite bound (a lower bound).
    """
    bounds = sorted(buckets)
    if not bounds:
        return None, False
    total = buckets[bounds[-1]]
    if total <= 0:
        return None, False
    rank = q * total
    previous_bound, previous_count = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return previous_bound, True
            if count == previous_count:
                return bound, False
            return previous_bound + (bound - previous_bound) * (rank - previous_count) / (count - previous_count), False
        previous_bound, previous_count = bound, count
    return previous_bound, True


MetricKey = tuple[str, tuple[tuple[str, str], ...]]


def parse_metrics(text: str) -> dict[MetricKey, float]:
    """Prometheus text -> {(sample name, sorted labels): value}."""
    from prometheus_client.parser import text_string_to_metric_families

    out: dict[MetricKey, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = float(sample.value)
    return out


def metric(values: Mapping[MetricKey, float], name: str, **labels: str) -> float | None:
    return values.get((name, tuple(sorted(labels.items()))))


def histogram_buckets(values: Mapping[MetricKey, float], name: str) -> dict[float, float]:
    """Cumulative counts by ``le`` of an unlabelled histogram (summed over other labels)."""
    buckets: dict[float, float] = {}
    for (sample, labels), value in values.items():
        if sample != f"{name}_bucket":
            continue
        le = dict(labels).get("le")
        if le is not None:
            bound = float("inf") if le in ("+Inf", "inf") else float(le)
            buckets[bound] = buckets.get(bound, 0.0) + value
    return buckets


def bucket_delta(later: Mapping[float, float], earlier: Mapping[float, float]) -> dict[float, float]:
    return {le: count - earlier.get(le, 0.0) for le, count in later.items()}


@dataclass(frozen=True)
class Targets:
    final_p95_s: float = 1.0
    face_p95_s: float = 0.3
    audio_drops: int = 0
    rss_per_candidate_mb: float = 50.0
    loop_lag_p99_ms: float = 20.0


def evaluate_step(step: Mapping[str, Any], targets: Targets) -> dict[str, dict[str, Any]]:
    """Which targets a step holds: {name: {value, limit, holds}} (holds None: no data)."""
    latency, server = step["latency"], step["server"]

    def below(value: float | None, limit: float) -> dict[str, Any]:
        return {"value": value, "limit": limit, "holds": None if value is None else value < limit}

    drops = [v for v in (server.get("frames_dropped", {}).get("audio"), step.get("media_dropped")) if v is not None]
    return {
        "admitted": {"value": step["active"], "limit": step["n"], "holds": step["active"] >= step["n"]},
        "final_p95_s": below(latency["speech_end_to_final"]["p95"], targets.final_p95_s),
        "face_p95_s": below(latency["face_lag"]["p95"], targets.face_p95_s),
        "audio_drops": {"value": max(drops) if drops else None, "limit": targets.audio_drops, "holds": (max(drops) <= targets.audio_drops) if drops else None},
        "rss_per_candidate_mb": below(server.get("rss_per_added_mb"), targets.rss_per_candidate_mb),
        "loop_lag_p99_ms": below(server.get("loop_lag_p99_ms"), targets.loop_lag_p99_ms),
    }


def step_holds(evaluation: Mapping[str, Mapping[str, Any]]) -> bool:
    return all(result["holds"] is not False for result in evaluation.values())


def capacity(steps: Sequence[Mapping[str, Any]]) -> int:
    """The largest N whose step and every step before it hold (0 when the first breaks)."""
    best = 0
    for step in steps:
        if not step["holds"]:
            break
        best = step["n"]
    return best


def linear_slope(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Least-squares slope of ys over xs (None with fewer than two distinct xs)."""
    if len(set(xs)) < 2:
        return None
    slope, _ = np.polyfit(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float), 1)
    return float(slope)


def parse_steps(text: str) -> list[int]:
    steps = [int(part) for part in text.split(",") if part.strip()]
    if not steps or any(n < 1 for n in steps) or steps != sorted(steps):
        raise argparse.ArgumentTypeError("steps must be positive and non-decreasing, e.g. 1,2,4,6,8")
    return steps


def parse_env(text: str) -> dict[str, str]:
    """``A=1,B=2`` -> {"A": "1", "B": "2"}; names must be CANDOR_* settings."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        if not sep or not name.startswith("CANDOR_"):
            raise argparse.ArgumentTypeError(f"expected CANDOR_NAME=VALUE, got {part!r}")
        out[name] = value
    return out


def retry_after_s(response: httpx.Response, default: float = 2.0) -> float:
    value = response.headers.get("retry-after")
    try:
        return max(0.1, float(value)) if value is not None else default
    except ValueError:  # an HTTP date: not worth parsing for a benchmark
        return default


# -- the server ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# (and the simulated candidates consent with HR's copy of the candidate token)
LOCAL_ICE = {"CANDOR_ICE_ALLOW": '["public", "private", "loopback"]', "CANDOR_CONSENT_NEEDS_CANDIDATE_LINK": "false"}


class EmbeddedServer:
    """``python -m server`` in a child process: temporary database, free port, random HR token."""

    def __init__(self, env: Mapping[str, str] | None = None, *, admission: bool = False, workdir: Path | None = None) -> None:
        # the load generator's peers are on this machine: their ICE candidates are private addresses
        self.overrides = {**({} if admission else ADMISSION_OFF), **LOCAL_ICE, **(env or {})}
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="candor-load-"))
        self.port = free_port()
        self.token = secrets.token_urlsafe(24)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.workdir / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def settings(self) -> dict[str, str]:
        """The model and device settings this server runs with (no secrets)."""
        env = {**os.environ, **self.overrides}
        out = {name: env.get(f"CANDOR_{name.upper()}", default) for name, default in SERVER_SETTINGS.items()}
        out.update({k: v for k, v in env.items() if k.startswith("CANDOR_") and k not in ("CANDOR_HR_TOKEN", "CANDOR_SECRET_KEY")})
        return out

    def start(self) -> EmbeddedServer:
        env = dict(os.environ)
        env.update(
            {
                "CANDOR_HOST": "127.0.0.1",
                "CANDOR_PORT": str(self.port),
                "CANDOR_DATABASE_URL": f"sqlite:///{self.workdir}/candor.db",
                "CANDOR_HR_TOKEN": self.token,
                "CANDOR_SECRET_KEY": secrets.token_urlsafe(24),
                "CANDOR_LOG_LEVEL": "warning",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
            }
        )
        env.update(self.overrides)
        # cwd: the temporary folder, so a developer's .env does not leak into the benchmark
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "server"], cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"the embedded server exited with {self.proc.returncode}:\n{self.log_tail()}")

    async def wait_ready(self, timeout_s: float = 300.0) -> None:
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(timeout=5) as client:
            while time.monotonic() < deadline:
                self.check_alive()
                try:
                    response = await client.get(f"{self.url}/healthz")
                except httpx.HTTPError:
                    response = None
                if response is not None and response.status_code == 200:
                    return
                if response is not None and response.status_code == 500:
                    raise RuntimeError(f"the embedded server failed to load: {response.text}")
                await asyncio.sleep(0.5)
        raise RuntimeError(f"the embedded server was not ready in {timeout_s:.0f} s:\n{self.log_tail()}")

    def stop(self, timeout_s: float = 40.0) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# -- resources, sampled -----------------------------------------------------------------


@dataclass
class ResourceSample:
    t: float
    server_cpu_s: float | None
    server_rss: float | None
    generator_cpu_s: float
    metrics: dict[MetricKey, float]
    machine_busy_s: float = 0.0  # all CPUs, all processes: busy (not idle, not iowait) seconds


class ResourceSampler:
    """Samples the server (psutil when its PID is known, /metrics always) and the generator itself."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, server_pid: int | None, clock: Clock, interval_s: float = 2.0) -> None:
        self._http = http
        self._url = f"{base_url}/metrics"
        self._server = psutil.Process(server_pid) if server_pid else None
        self._me = psutil.Process()
        self._cpu_seen: dict[int, float] = {}
        self._clock = clock
        self.interval_s = interval_s
        self.samples: list[ResourceSample] = []
        self.metrics_ok = False

    async def sample(self) -> ResourceSample:
        server_cpu = server_rss = None
        if self._server is not None:
            with contextlib.suppress(psutil.Error):
                # The server and its children (the prosody process): each one's last CPU time seen,
                # so that a child that exits keeps what it used.
                rss = 0.0
                for process in [self._server, *self._server.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        times = process.cpu_times()
                        self._cpu_seen[process.pid] = times.user + times.system
                        rss += float(process.memory_info().rss)
                server_cpu, server_rss = sum(self._cpu_seen.values()), rss
        mine = self._me.cpu_times()
        values: dict[MetricKey, float] = {}
        try:
            response = await self._http.get(self._url, timeout=5)
            if response.status_code == 200:
                values = parse_metrics(response.text)
                self.metrics_ok = True
        except (httpx.HTTPError, ValueError):
            pass
        machine = psutil.cpu_times()
        busy = sum(machine) - machine.idle - getattr(machine, "iowait", 0.0)
        sample = ResourceSample(self._clock(), server_cpu, server_rss, mine.user + mine.system, values, busy)
        self.samples.append(sample)
        return sample

    async def run(self) -> None:
        while True:
            await self.sample()
            await asyncio.sleep(self.interval_s)

    def between(self, start: float, end: float) -> list[ResourceSample]:
        return [s for s in self.samples if start <= s.t <= end]


def window_resources(samples: Sequence[ResourceSample]) -> dict[str, Any]:
    """Server and generator resources over the samples of one window."""
    out: dict[str, Any] = {
        "cpu_cores": None, "rss_mb": None, "loop_lag_p99_ms": None, "loop_lag_above_top_bucket": False,
        "audio_backlog_max_s": None, "sessions_live": None, "asr_call_mean_s": None, "generator_cpu_cores": None,
        "machine_busy_cores": None, "other_cpu_cores": None,
    }
    if len(samples) < 2:
        return out
    first, last = samples[0], samples[-1]
    span = last.t - first.t
    if span <= 0:
        return out
    scraped = [s for s in samples if s.metrics] or [first]  # a failed scrape has no metrics
    m0, m1 = scraped[0].metrics, scraped[-1].metrics
    metrics_span = scraped[-1].t - scraped[0].t
    if first.server_cpu_s is not None and last.server_cpu_s is not None:
        out["cpu_cores"] = round((last.server_cpu_s - first.server_cpu_s) / span, 3)
    else:
        c0, c1 = metric(m0, "process_cpu_seconds_total"), metric(m1, "process_cpu_seconds_total")
        if c0 is not None and c1 is not None and metrics_span > 0:
            out["cpu_cores"] = round((c1 - c0) / metrics_span, 3)
    rss = last.server_rss if last.server_rss is not None else metric(m1, "process_resident_memory_bytes")
    out["rss_mb"] = round(rss / 2**20, 1) if rss is not None else None
    lag = bucket_delta(histogram_buckets(m1, "candor_event_loop_lag_seconds"), histogram_buckets(m0, "candor_event_loop_lag_seconds"))
    if lag:
        value, above = histogram_quantile(0.99, lag)
        out["loop_lag_p99_ms"] = round(value * 1000, 2) if value is not None else None
        out["loop_lag_above_top_bucket"] = above
    backlog = [v for s in samples if (v := metric(s.metrics, "candor_audio_backlog_seconds")) is not None]
    out["audio_backlog_max_s"] = round(max(backlog), 3) if backlog else None
    out["sessions_live"] = metric(m1, "candor_sessions_live")
    s0, s1 = metric(m0, "candor_stage_latency_seconds_sum", stage="asr"), metric(m1, "candor_stage_latency_seconds_sum", stage="asr")
    n0, n1 = metric(m0, "candor_stage_latency_seconds_count", stage="asr"), metric(m1, "candor_stage_latency_seconds_count", stage="asr")
    if None not in (s0, s1, n0, n1) and n1 > n0:  # type: ignore[operator]
        out["asr_call_mean_s"] = round((s1 - s0) / (n1 - n0), 3)  # type: ignore[operator]
    out["generator_cpu_cores"] = round((last.generator_cpu_s - first.generator_cpu_s) / span, 3)
    busy = (last.machine_busy_s - first.machine_busy_s) / span
    out["machine_busy_cores"] = round(busy, 3)
    if out["cpu_cores"] is not None and first.server_cpu_s is not None:  # only when the server runs here
        out["other_cpu_cores"] = round(max(0.0, busy - out["cpu_cores"] - out["generator_cpu_cores"]), 3)
    return out


def dropped_frames(samples: Sequence[ResourceSample]) -> dict[str, float | None]:
    """``candor_frames_dropped_total`` deltas by kind (a kind never dropped has no sample yet: 0)."""
    read = [s for s in samples if s.metrics]
    if len(read) < 2:
        return {"audio": None, "video": None}
    return {
        kind: (metric(read[-1].metrics, "candor_frames_dropped_total", kind=kind) or 0.0)
        - (metric(read[0].metrics, "candor_frames_dropped_total", kind=kind) or 0.0)
        for kind in ("audio", "video")
    }


class LoopLag:
    """The generator's own event-loop lag: how late a 50 ms sleep wakes up."""

    def __init__(self, clock: Clock, interval_s: float = 0.05) -> None:
        self._clock = clock
        self._interval = interval_s
        self.times = array("d")
        self.lags = array("d")

    async def run(self) -> None:
        while True:
            before = self._clock()
            await asyncio.sleep(self._interval)
            after = self._clock()
            self.times.append(after)
            self.lags.append(max(0.0, after - before - self._interval))

    def p99_ms(self, start: float, end: float) -> float | None:
        values = [lag for t, lag in zip(self.times, self.lags) if start <= t <= end]
        return round(float(np.percentile(values, 99)) * 1000, 2) if values else None


# -- candidates ---------------------------------------------------------------------------


async def first_of(*events: asyncio.Event, timeout: float | None = None) -> None:
    """Wait until one of ``events`` is set (or ``timeout`` passes)."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


class Refused(Exception):
    """The server answered 503: full (admission control) or still loading."""

    def __init__(self, what: str, retry_after: float) -> None:
        super().__init__(f"{what}: 503, retry after {retry_after:.1f} s")
        self.retry_after = retry_after


@dataclass
class Recorder:
    """What all candidates saw, for the statistics."""

    attempts: list[Attempt] = field(default_factory=list)
    refused: list[float] = field(default_factory=list)  # times of 503 answers
    errors: list[tuple[float, str]] = field(default_factory=list)
    watcher_drops: list[float] = field(default_factory=list)


@dataclass
class LoadContext:
    http: httpx.AsyncClient
    base_url: str
    hr_token: str
    kit: MediaKit
    recorder: Recorder
    clock: Clock
    seed: int = 1
    interview: str | None = None
    done_after_s: float = 1.0
    retry_cap_s: float = 5.0
    watch_partials: bool = True  # the watcher asks for transcript.partial (False: ?partials=0)
    # The server shares this machine's clock (embedded, or a loopback URL): its event wall_time
    # (Unix time) converts to the generator's clock by ``unix_offset`` = time.time() - perf_counter().
    same_clock: bool = False
    unix_offset: float = field(default_factory=lambda: time.time() - time.perf_counter())


MEDIA_TIMEOUT_S = 30.0  # WHIP answered, but no media.flowing: the attempt failed


class Attempt:
    """One session of one candidate: REST create, watcher, WHIP publish, until stopped."""

    def __init__(self, ctx: LoadContext, candidate: int, number: int) -> None:
        self.ctx = ctx
        self.candidate = candidate
        self.number = number
        self.audio, self.video = ctx.kit.tracks(candidate + 97 * number, ctx.seed)
        self.session: dict[str, Any] = {}
        self.events = array("d")  # arrival times of all events
        self.finals: list[FinalRecord] = []
        self.partials: list[tuple[float, float]] = []  # (arrival, audio_end)
        self.faces: list[tuple[float, float]] = []  # (arrival, newest_media_time)
        self.drops: list[tuple[float, int]] = []  # media.dropped (arrival, count)
        self.scores: list[tuple[float, str]] = []  # score.question (arrival, question_id)
        self.dones: dict[str, float] = {}  # question_id -> when {"type":"done"} was sent
        self.session_errors: list[tuple[float, str]] = []
        self.posted_at: float | None = None
        self.flowing_at: float | None = None
        self.server_anchor: float | None = None  # media time 0 at the server, on the generator's clock
        self.ended: asyncio.Event = asyncio.Event()
        self.end_reason = ""
        self._closing = False
        self._pc: Any = None
        self._channel: Any = None
        self._location: str | None = None
        self.redirects = 0  # several nodes: 307s followed by the WHIP POST
        self.node_url: str | None = None  # the node that served the offer
        self._watcher_ready = asyncio.Event()
        self._flowing = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._handled: set[tuple[str, str]] = set()
        self._answer_tasks: dict[str, asyncio.Task[None]] = {}

    @property
    def active(self) -> bool:
        return self.flowing_at is not None and not self.ended.is_set()

    def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and task.exception() is not None and not self._closing:
            self._end(f"{task.get_name()}: {type(task.exception()).__name__}: {task.exception()}")

    def _end(self, reason: str) -> None:
        if not self.ended.is_set():
            self.end_reason = reason
            self.ended.set()

    async def run(self, stop: asyncio.Event) -> str:
        """Publish until ``stop`` (returns "stopped") or the session ends ("interview ended", or raises)."""
        ctx = self.ctx
        hr = {"Authorization": f"Bearer {ctx.hr_token}"}
        body = {"job_id": ctx.interview} if ctx.interview else None
        response = await ctx.http.post(f"{ctx.base_url}/v1/sessions", json=body, headers=hr)
        if response.status_code == 503:
            raise Refused("POST /v1/sessions", retry_after_s(response))
        response.raise_for_status()
        self.session = response.json()
        await self._consent()
        self._spawn(self._watch(self.session["events_url"], hr), f"watch:{self.candidate}")
        await first_of(self._watcher_ready, self.ended, stop, timeout=15)
        if not self._watcher_ready.is_set():
            raise RuntimeError(f"watcher did not connect: {self.end_reason or 'timeout'}")
        await self._publish()
        await first_of(stop, self.ended, self._flowing, timeout=MEDIA_TIMEOUT_S)
        if not (self._flowing.is_set() or stop.is_set() or self.ended.is_set()):
            raise RuntimeError(f"no media.flowing {MEDIA_TIMEOUT_S:.0f} s after the WHIP answer")
        await first_of(stop, self.ended)
        if stop.is_set():
            return "stopped"
        if self.end_reason == "interview ended":
            return self.end_reason
        raise RuntimeError(self.end_reason)

    async def _consent(self) -> None:
        """Consent to voice and face analysis, as a candidate does (a server without consent: skipped)."""
        url = f"{self.ctx.base_url}/v1/sessions/{self.session['id']}/consent"
        headers = {"Authorization": f"Bearer {self.session['candidate_token']}"}
        response = await self.ctx.http.post(url, json={"voice": True, "face": True}, headers=headers)
        if response.status_code == 503:
            raise Refused("POST consent", retry_after_s(response))
        if response.status_code not in (200, 201, 204, 404, 405):
            raise RuntimeError(f"consent answered {response.status_code}: {response.text[:200]}")

    async def _publish(self) -> None:
        from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription

        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self._pc = pc
        audio = pc.addTransceiver(self.audio, direction="sendonly")
        audio.setCodecPreferences([c for c in RTCRtpSender.getCapabilities("audio").codecs if c.mimeType == "audio/opus"])
        video = pc.addTransceiver(self.video, direction="sendonly")
        video.setCodecPreferences([c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType in ("video/VP8", "video/rtx")])
        channel = pc.createDataChannel("control")
        self._channel = channel
        channel.on("message", self._on_control)

        @pc.on("connectionstatechange")
        def _state() -> None:
            if pc.connectionState in ("failed", "closed") and not self._closing:
                self._end(f"peer connection {pc.connectionState}")

        await pc.setLocalDescription(await pc.createOffer())
        self.posted_at = self.ctx.clock()
        response = await self.ctx.http.post(
            self.session["whip_url"],
            content=pc.localDescription.sdp,
            headers={"Authorization": f"Bearer {self.session['candidate_token']}", "Content-Type": "application/sdp"},
            follow_redirects=True,  # several nodes: a 307 to the node that serves the session (the same offer)
        )
        if response.status_code == 503:
            raise Refused("WHIP POST", retry_after_s(response))
        if response.status_code != 201:
            raise RuntimeError(f"WHIP answered {response.status_code}: {response.text[:200]}")
        self.redirects = len(response.history)
        self.node_url = f"{response.url.scheme}://{response.url.netloc.decode()}"
        self._location = str(response.url.join(response.headers["location"]))
        await pc.setRemoteDescription(RTCSessionDescription(sdp=response.text, type="answer"))

    # -- the watcher ------------------------------------------------------------------
    async def _watch(self, url: str, headers: dict[str, str]) -> None:
        last_seq = -1
        while True:
            query = [] if self.ctx.watch_partials else ["partials=0"]
            if last_seq >= 0:
                query.append(f"from_seq={last_seq + 1}")
            target = f"{url}?{'&'.join(query)}" if query else url
            try:
                async with websockets.connect(target, additional_headers=headers, open_timeout=15, max_size=2**24) as ws:
                    self._watcher_ready.set()
                    while True:
                        message = await ws.recv()
                        arrival = self.ctx.clock()
                        event = json.loads(message)
                        last_seq = int(event.get("seq", last_seq))
                        self._on_event(event, arrival)
            except websockets.ConnectionClosed as exc:
                if self._closing:
                    return
                code = exc.rcvd.code if exc.rcvd is not None else None
                if code == 4001:  # too slow: resume from where we were
                    self.ctx.recorder.watcher_drops.append(self.ctx.clock())
                    continue
                raise RuntimeError(f"event stream closed ({code})") from exc

    def _on_event(self, event: dict[str, Any], arrival: float) -> None:
        self.events.append(arrival)
        kind, payload = event.get("type"), event.get("payload") or {}
        if kind == "transcript.final":
            words = payload.get("words") or []
            self.finals.append(
                FinalRecord(arrival, float(payload["start"]), float(payload["end"]), float(words[-1]["end"]) if words else None, int(payload.get("utterance_id", 0)))
            )
        elif kind == "transcript.partial":
            self.partials.append((arrival, float(payload["audio_end"])))
        elif kind == "face.metrics" and payload.get("newest_media_time") is not None:
            self.faces.append((arrival, float(payload["newest_media_time"])))
        elif kind == "media.flowing" and self.flowing_at is None:
            self.flowing_at = arrival
            self._flowing.set()
            if self.ctx.same_clock:
                self.server_anchor = float(event["wall_time"]) - float(event.get("media_time") or 0.0) - self.ctx.unix_offset
        elif kind == "media.dropped":
            self.drops.append((arrival, int(payload.get("count", 0))))
        elif kind == "score.question":
            self.scores.append((arrival, str(payload.get("question_id"))))
        elif kind == "session.error":
            self.session_errors.append((arrival, str(payload.get("error"))))
        elif kind == "connection.ended" and self.flowing_at is not None and not self._closing:
            self._end(f"connection ended: {payload.get('reason')}")
        elif kind == "interview.ended":
            self._end("interview ended")

    # -- the interview, over the control channel -------------------------------------------
    def _on_control(self, data: Any) -> None:
        try:
            message = json.loads(data)
        except (TypeError, ValueError):
            return
        kind = message.get("type")
        if kind == "question":
            qid, phase = str(message.get("question_id")), message.get("phase")
            if (qid, phase) in self._handled:
                return
            self._handled.add((qid, phase))
            if phase == "prep":
                self._send({"type": "ready"})
            elif phase == "answer":
                self._answer_tasks[qid] = self._spawn(self._answer(qid), f"answer:{self.candidate}")
        elif kind == "answer_ended":
            task = self._answer_tasks.pop(str(message.get("question_id")), None)
            if task is not None:
                task.cancel()

    def _send(self, message: dict[str, Any]) -> None:
        if self._channel is not None and self._channel.readyState == "open":
            self._channel.send(json.dumps(message))

    async def _answer(self, question_id: str) -> None:
        """Answer with the clip that is playing (or the next one), then press "done"."""
        await self.audio.speech_end_sent()
        await asyncio.sleep(self.ctx.done_after_s)
        self.dones[question_id] = self.ctx.clock()
        self._send({"type": "done"})

    def raw(self) -> dict[str, Any]:
        """What this session saw, on the generator's clock relative to the first audio frame (for --raw)."""
        zero = self.audio.log.first or 0.0
        sent = self.audio.sent_wall
        return {
            "candidate": self.candidate,
            "session_id": self.session.get("id"),
            "end_reason": self.end_reason,
            "server_anchor_s": None if self.server_anchor is None else round(self.server_anchor - zero, 4),
            "plays": [
                {**asdict(p), "speech_end_sent_s": None if (w := sent(max(p.start, p.speech_end - 1e-6))) is None else round(w - zero, 4)}
                for p in self.audio.plays
            ],
            "finals": [{**asdict(f), "arrival": round(f.arrival - zero, 4)} for f in self.finals],
            "partials": [(round(a - zero, 4), e) for a, e in self.partials],
            "faces": [(round(a - zero, 4), t) for a, t in self.faces],
            "dones": {q: round(t - zero, 4) for q, t in self.dones.items()},
            "scores": [(round(a - zero, 4), q) for a, q in self.scores],
            "session_errors": [(round(a - zero, 4), e) for a, e in self.session_errors],
        }

    async def close(self) -> None:
        self._closing = True
        for task in list(self._tasks):
            task.cancel()
        self.audio.stop()
        self.video.stop()
        if self._location:
            with contextlib.suppress(httpx.HTTPError):
                await self.ctx.http.delete(self._location, headers={"Authorization": f"Bearer {self.session['candidate_token']}"}, timeout=5)
        if self._pc is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._pc.close(), 10)
        self._end("closed")


class Candidate:
    """One simulated candidate: sessions one after another until stopped (503s are retried)."""

    def __init__(self, ctx: LoadContext, index: int) -> None:
        self.ctx = ctx
        self.index = index
        self.current: Attempt | None = None

    @property
    def active(self) -> bool:
        return self.current is not None and self.current.active

    async def run(self, stop: asyncio.Event) -> None:
        ctx = self.ctx
        number = 0
        while not stop.is_set():
            attempt = Attempt(ctx, self.index, number)
            number += 1
            self.current = attempt
            ctx.recorder.attempts.append(attempt)
            pause = 1.0
            try:
                await attempt.run(stop)
            except Refused as exc:
                ctx.recorder.refused.append(ctx.clock())
                pause = min(exc.retry_after, ctx.retry_cap_s)  # probe when the server admits again
            except Exception as exc:  # noqa: BLE001  # any failure of one session: count it, start another
                ctx.recorder.errors.append((ctx.clock(), f"{type(exc).__name__}: {exc}"[:300]))
                pause = 2.0
            finally:
                await attempt.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)


# -- one ramp ---------------------------------------------------------------------------------


@dataclass
class LoadConfig:
    steps: list[int] = field(default_factory=lambda: [1, 2, 4, 6, 8])
    step_seconds: float = 60.0
    warmup_seconds: float = 15.0
    stagger_seconds: float = 1.0
    drain_seconds: float = 8.0
    grace_seconds: float = 5.0
    progress_seconds: float = 5.0
    no_stop: bool = False
    interview: str | None = None
    done_after_s: float = 1.0
    retry_cap_s: float = 5.0
    admission: bool = False
    seed: int = 1
    targets: Targets = field(default_factory=Targets)
    media_dir: Path = MEDIA_DIR
    clips: tuple[str, ...] = DEFAULT_CLIPS
    portrait: str = "obama.jpg"
    camera: str = "browser"
    video_size: tuple[int, int] = (640, 480)
    video_fps: float = 5.0
    video_kbps: int = 300
    pause_s: tuple[float, float] = (2.0, 4.0)
    watch_partials: bool = True

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        data["media_dir"] = str(self.media_dir)
        return data


@dataclass(frozen=True)
class StepWindow:
    n: int
    start: float  # candidates start being added
    measure_start: float  # warm-up over
    end: float
    origin: float = 0.0  # the ramp's start, for the report's relative times


def step_stats(
    window: StepWindow,
    recorder: Recorder,
    candidates: Sequence[Candidate],
    sampler: ResourceSampler | None,
    looplag: LoopLag | None,
    now: float,
    grace_s: float,
    active: int | None = None,
) -> dict[str, Any]:
    """Everything measured in one step (latencies by send time inside the measured window)."""
    measured = (window.measure_start, window.end)
    whole = (window.start, window.end)
    finals = ClipLatencies()
    by_clip: dict[str, list[float]] = {}
    partial, face, flowing, score, first_audio = [], [], [], [], []
    media_dropped = events = 0
    for attempt in recorder.attempts:
        audio_log, video = attempt.audio.log, attempt.video
        part = clip_latencies(match_finals(attempt.audio.plays, attempt.finals), attempt.audio.sent_wall, measured, now, grace_s)
        for clip, latency in zip(part.clips, part.latencies):
            by_clip.setdefault(clip, []).append(latency)
        finals.latencies += part.latencies
        finals.missing += part.missing
        finals.match_errors += part.match_errors
        finals.extra_finals += sum(
            1 for f in attempt.finals
            if whole[0] <= f.arrival < whole[1] and not any(_overlap(f.start, f.end, p.start, p.end) > 0 for p in attempt.audio.plays)
        )
        for arrival, audio_end in attempt.partials:
            sent = attempt.audio.sent_wall(max(0.0, audio_end - 1e-3))
            if sent is not None and measured[0] <= sent < measured[1]:
                partial.append(arrival - sent)
        # media time -> the generator's clock: through the server's own clock where it is ours,
        # else through the first audio frame sent (assumes the audio path's delay is the video's)
        anchor = attempt.server_anchor if attempt.server_anchor is not None else audio_log.first
        if anchor is not None:
            for arrival, media_time in attempt.faces:
                # The frame analysed is the last one sent before the server stamped it, a few ms before; the
                # anchor is known to some ms only, so look half a frame later: else the frame before is found
                # and a whole frame interval is added (0.2 s at 5 fps). Lag is good to half a frame interval.
                sent = video.sent_before(anchor + media_time + video.log.step_s / 2)
                if sent is not None and measured[0] <= sent < measured[1]:
                    face.append(arrival - sent)
        if attempt.server_anchor is not None and audio_log.first is not None and whole[0] <= audio_log.first < whole[1]:
            first_audio.append(attempt.server_anchor - audio_log.first)
        if attempt.posted_at is not None and attempt.flowing_at is not None and whole[0] <= attempt.posted_at < whole[1]:
            flowing.append(attempt.flowing_at - attempt.posted_at)
        for arrival, qid in attempt.scores:
            done = attempt.dones.get(qid)
            if done is not None and measured[0] <= done < measured[1]:
                score.append(arrival - done)
        media_dropped += sum(count for arrival, count in attempt.drops if whole[0] <= arrival < whole[1])
        events += sum(1 for t in attempt.events if whole[0] <= t < whole[1])
    final_stats = summarize(finals.latencies)
    final_stats["missing"] = finals.missing
    final_stats["match_error_p50"] = round(float(np.median(finals.match_errors)), 3) if finals.match_errors else None
    final_stats["match_error_max"] = round(max(finals.match_errors, key=abs), 3) if finals.match_errors else None
    final_stats["by_clip"] = {clip: summarize(values) for clip, values in sorted(by_clip.items())}
    server: dict[str, Any] = {}
    if sampler is not None:
        resources = window_resources(sampler.between(*measured))
        server = {k: v for k, v in resources.items() if k not in ("generator_cpu_cores", "machine_busy_cores", "other_cpu_cores")}
        server["frames_dropped"] = dropped_frames(sampler.between(*whole))
        generator = {"cpu_cores": resources["generator_cpu_cores"]}
        machine = {"busy_cores": resources["machine_busy_cores"], "other_cpu_cores": resources["other_cpu_cores"]}
    else:
        generator = {"cpu_cores": None}
        machine = {"busy_cores": None, "other_cpu_cores": None}
    generator["loop_lag_p99_ms"] = looplag.p99_ms(*measured) if looplag else None
    generator["saturated"] = bool(generator["cpu_cores"] is not None and generator["cpu_cores"] > 0.8)
    return {
        "n": window.n,
        "active": sum(1 for c in candidates if c.active) if active is None else active,
        "refused": sum(1 for t in recorder.refused if whole[0] <= t < whole[1]),
        "errors": sum(1 for t, _ in recorder.errors if whole[0] <= t < whole[1]),
        "watcher_drops": sum(1 for t in recorder.watcher_drops if whole[0] <= t < whole[1]),
        "window_s": [round(t - window.origin, 1) for t in (window.start, window.measure_start, window.end)],
        "events": events,
        "extra_finals": finals.extra_finals,
        "media_dropped": media_dropped,
        "latency": {
            "speech_end_to_final": final_stats,
            "partial_lag": summarize(partial),
            "face_lag": summarize(face),
            "whip_to_flowing": summarize(flowing),
            "first_audio_path": summarize(first_audio),
            "done_to_score": summarize(score),
        },
        "server": server,
        "generator": generator,
        "machine": machine,
    }


OTHER_CPU_WARNING = 0.3  # cores used by processes other than the server and the generator
MATCH_ERROR_WARNING = 0.4  # s: last word end vs end of speech beyond this means media times disagree


def _fmt(value: float | None, unit: str = "s", digits: int = 2) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}{unit}"


def progress_line(elapsed: float, index: int, total: int, stats: Mapping[str, Any], live: int) -> str:
    lat, srv, gen = stats["latency"], stats["server"], stats["generator"]
    line = (
        f"[{elapsed:6.0f}s] step {index}/{total} N={stats['n']} live={live} refused={stats['refused']} errors={stats['errors']} "
        f"events={stats['events']} finals={lat['speech_end_to_final']['n']} | p95 final {_fmt(lat['speech_end_to_final']['p95'])} "
        f"partial {_fmt(lat['partial_lag']['p95'])} face {_fmt(lat['face_lag']['p95'])} | "
        f"server {_fmt(srv.get('cpu_cores'), ' cores')} {_fmt(srv.get('rss_mb'), ' MB', 0)} | generator {_fmt(gen.get('cpu_cores'), ' cores')}"
    )
    if gen.get("saturated"):
        line += "  WARNING: generator above 0.8 core, its timings are skewed"
    other = stats.get("machine", {}).get("other_cpu_cores")
    if other is not None and other > OTHER_CPU_WARNING:
        line += f"  WARNING: other processes use {other:.2f} cores"
    return line


async def run_ramp(
    config: LoadConfig,
    kit: MediaKit,
    base_url: str,
    hr_token: str,
    *,
    server_pid: int | None = None,
    same_clock: bool = False,
    check_alive: Callable[[], None] = lambda: None,
    label: str = "main",
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> dict[str, Any]:
    """Ramp candidates over ``config.steps`` against ``base_url``; returns the run's results."""
    clock = time.perf_counter
    recorder = Recorder()
    stop = asyncio.Event()
    candidates: list[Candidate] = []
    tasks: list[asyncio.Task[None]] = []
    windows: list[StepWindow] = []
    step_results: list[dict[str, Any]] = []
    active_at_end: list[int] = []
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=200, max_keepalive_connections=50)) as http:
        ctx = LoadContext(
            http, base_url.rstrip("/"), hr_token, kit, recorder, clock, config.seed, config.interview, config.done_after_s, config.retry_cap_s,
            same_clock=same_clock, watch_partials=config.watch_partials,
        )
        sampler = ResourceSampler(http, ctx.base_url, server_pid, clock)
        looplag = LoopLag(clock)
        # the idle server: RSS before any candidate
        idle = [await sampler.sample()]
        await asyncio.sleep(1.0)
        idle.append(await sampler.sample())
        idle_rss = window_resources(idle)["rss_mb"]
        background = [asyncio.ensure_future(sampler.run()), asyncio.ensure_future(looplag.run())]
        t0 = clock()
        stopped_early = None
        try:
            for index, n in enumerate(config.steps, 1):
                start = clock()
                window = StepWindow(n, start, start + config.warmup_seconds, start + config.step_seconds, t0)
                windows.append(window)
                log(f"[{start - t0:6.0f}s] step {index}/{len(config.steps)}: N={n} ({n - len(candidates)} joining)")
                while len(candidates) < n:
                    candidate = Candidate(ctx, len(candidates))
                    candidates.append(candidate)
                    tasks.append(asyncio.ensure_future(candidate.run(stop)))
                    await asyncio.sleep(config.stagger_seconds)
                    check_alive()
                next_progress = clock() + config.progress_seconds
                while (now := clock()) < window.end:
                    await asyncio.sleep(max(0.0, min(window.end, next_progress) - now))
                    check_alive()
                    if clock() >= next_progress:
                        next_progress += config.progress_seconds
                        partial_window = StepWindow(n, start, start, clock())
                        stats = step_stats(partial_window, recorder, candidates, sampler, looplag, clock(), config.grace_seconds)
                        log(progress_line(clock() - t0, index, len(config.steps), stats, sum(c.active for c in candidates)))
                active_at_end.append(sum(c.active for c in candidates))
                stats = step_stats(window, recorder, candidates, sampler, looplag, clock(), config.grace_seconds, active_at_end[-1])
                evaluation = evaluate_step(_with_rss_delta(stats, step_results, idle_rss), config.targets)
                broken = [name for name, result in evaluation.items() if result["holds"] is False]
                log(f"[{clock() - t0:6.0f}s] step N={n} done: " + ("holds the targets" if not broken else "breaks " + ", ".join(broken)) + " (provisional)")
                step_results.append(stats)
                if broken and not config.no_stop:
                    stopped_early = n
                    break
            log(f"[{clock() - t0:6.0f}s] draining {config.drain_seconds:.0f} s for late events")
            await asyncio.sleep(config.drain_seconds)
            now = clock()
        finally:
            stop.set()
            if tasks:
                await asyncio.wait(tasks, timeout=30)
            for task in tasks:
                task.cancel()
            for task in background:
                task.cancel()
            await asyncio.gather(*tasks, *background, return_exceptions=True)
    steps: list[dict[str, Any]] = []
    for window, active in zip(windows, active_at_end):
        stats = _with_rss_delta(step_stats(window, recorder, candidates, sampler, looplag, now, config.grace_seconds, active), steps, idle_rss)
        stats["targets"] = evaluate_step(stats, config.targets)
        stats["holds"] = step_holds(stats["targets"])
        steps.append(stats)
    rss_points = [(0, idle_rss)] + [(s["n"], s["server"].get("rss_mb")) for s in steps]
    rss_points = [(n, r) for n, r in rss_points if r is not None]
    slope = linear_slope([n for n, _ in rss_points], [r for _, r in rss_points])
    errors = sorted({message for _, message in recorder.errors})
    raw = [attempt.raw() for attempt in recorder.attempts if attempt.posted_at is not None]
    return {
        "raw": raw,
        "label": label,
        "face_mapping": "server clock (same host)" if same_clock else "first audio frame sent",
        "steps": steps,
        "capacity": capacity(steps),
        "stopped_at": stopped_early,
        "idle_rss_mb": idle_rss,
        "rss_fit_mb_per_candidate": round(slope, 1) if slope is not None else None,
        "metrics_available": sampler.metrics_ok,
        "errors": errors[:20],
        "clips": kit.speech,
    }


def _with_rss_delta(stats: dict[str, Any], previous: Sequence[Mapping[str, Any]], idle_rss: float | None) -> dict[str, Any]:
    """RSS per candidate added since the previous step (or since the idle server for the first)."""
    rss = stats["server"].get("rss_mb")
    before_n, before_rss = (previous[-1]["n"], previous[-1]["server"].get("rss_mb")) if previous else (0, idle_rss)
    if rss is not None and before_rss is not None and stats["n"] > before_n:
        stats["server"]["rss_per_added_mb"] = round((rss - before_rss) / (stats["n"] - before_n), 1)
    else:
        stats["server"]["rss_per_added_mb"] = None
    return stats


# -- reports ---------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    model = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu_model": model,
        "cpus": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


TARGET_LABELS = {
    "admitted": "admitted",
    "final_p95_s": "final",
    "face_p95_s": "face",
    "audio_drops": "drops",
    "rss_per_candidate_mb": "rss",
    "loop_lag_p99_ms": "loop",
}


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f}"


def format_table(run: Mapping[str, Any]) -> str:
    """The run as text tables: latencies (ms), then resources and targets."""
    lines = [f"== {run['label']} ==", "latencies in ms (p50/p95/p99/max, n)"]
    head = f"{'N':>3} {'live':>4} {'refused':>7} {'err':>3} | {'end of speech -> final':>28} {'miss':>4} {'match':>6} | {'partial lag p50/p95/p99':>23} | {'face lag p50/p95/p99':>20} | {'WHIP->flowing p50/max':>21} | {'done->score p50/p95':>19}"
    lines.append(head)
    lines.append("-" * len(head))
    for s in run["steps"]:
        lat = s["latency"]
        f = lat["speech_end_to_final"]
        p, fc, w, sc = lat["partial_lag"], lat["face_lag"], lat["whip_to_flowing"], lat["done_to_score"]
        final = f"{_ms(f['p50'])}/{_ms(f['p95'])}/{_ms(f['p99'])}/{_ms(f['max'])} n={f['n']}"
        lines.append(
            f"{s['n']:>3} {s['active']:>4} {s['refused']:>7} {s['errors']:>3} | {final:>28} {f['missing']:>4} {_ms(f['match_error_p50']):>6} | "
            f"{_ms(p['p50']) + '/' + _ms(p['p95']) + '/' + _ms(p['p99']):>23} | {_ms(fc['p50']) + '/' + _ms(fc['p95']) + '/' + _ms(fc['p99']):>20} | "
            f"{_ms(w['p50']) + '/' + _ms(w['max']):>21} | {_ms(sc['p50']) + '/' + _ms(sc['p95']) + ' n=' + str(sc['n']):>19}"
        )
    lines.append("")
    head = f"{'N':>3} | {'srv cores':>9} {'RSS MB':>7} {'+MB/cand':>8} {'loop p99 ms':>11} {'backlog s':>9} {'drops a/v':>9} {'dropped ev':>10} {'asr call s':>10} | {'gen cores':>9} {'gen lag ms':>10} {'others':>6} | targets"
    lines.append(head)
    lines.append("-" * len(head))
    for s in run["steps"]:
        srv, gen = s["server"], s["generator"]
        drops = srv.get("frames_dropped") or {}
        marks = " ".join(
            f"{TARGET_LABELS[name]}{'✓' if r['holds'] else ('✗' if r['holds'] is False else '?')}" for name, r in s["targets"].items()
        )
        loop = _fmt(srv.get("loop_lag_p99_ms"), "", 1) + (">" if srv.get("loop_lag_above_top_bucket") else "")
        lines.append(
            f"{s['n']:>3} | {_fmt(srv.get('cpu_cores'), '', 2):>9} {_fmt(srv.get('rss_mb'), '', 0):>7} {_fmt(srv.get('rss_per_added_mb'), '', 1):>8} "
            f"{loop:>11} {_fmt(srv.get('audio_backlog_max_s'), '', 2):>9} "
            f"{_fmt(drops.get('audio'), '', 0) + '/' + _fmt(drops.get('video'), '', 0):>9} {s['media_dropped']:>10} {_fmt(srv.get('asr_call_mean_s'), '', 3):>10} | "
            f"{_fmt(gen.get('cpu_cores'), '', 2) + ('!' if gen.get('saturated') else ''):>9} {_fmt(gen.get('loop_lag_p99_ms'), '', 1):>10} "
            f"{_fmt(s.get('machine', {}).get('other_cpu_cores'), '', 2):>6} | {marks}"
        )
    lines.append("")
    cap = run["capacity"]
    last = run["steps"][-1]["n"] if run["steps"] else 0
    note = " (every step held: the ramp did not find the limit)" if run["steps"] and all(s["holds"] for s in run["steps"]) else ""
    lines.append(f"capacity: N={cap}{note}; RSS fit {_fmt(run.get('rss_fit_mb_per_candidate'), ' MB', 1)} per candidate over N=0..{last}; idle server {_fmt(run.get('idle_rss_mb'), ' MB', 0)}")
    busy = [s["machine"]["other_cpu_cores"] for s in run["steps"] if s.get("machine", {}).get("other_cpu_cores") is not None]
    if busy and max(busy) > OTHER_CPU_WARNING:
        lines.append(f"WARNING: other processes used up to {max(busy):.2f} cores of this machine during the run ('others'): the figures are pessimistic.")
    skews = [s["latency"]["speech_end_to_final"]["match_error_p50"] for s in run["steps"]]
    skews = [v for v in skews if v is not None and abs(v) > MATCH_ERROR_WARNING]
    if skews:
        lines.append(
            f"WARNING: the server's media time is off the generator's audio offset by up to {max(skews, key=abs):+.2f} s ('match'): "
            "audio was lost or the server's media clock resynchronised; matches and partial lags are unreliable there."
        )
    if any(s["generator"].get("saturated") for s in run["steps"]):
        lines.append("WARNING: the generator used more than 0.8 of a core in a step ('!'): its own timings are skewed upwards there.")
    if not run.get("metrics_available"):
        lines.append("note: /metrics could not be read: server-side figures are missing")
    for message in run.get("errors") or []:
        lines.append(f"error seen: {message}")
    return "\n".join(lines)


COMPARED = [
    ("final p50", ("latency", "speech_end_to_final", "p50")),
    ("final p95", ("latency", "speech_end_to_final", "p95")),
    ("partial p95", ("latency", "partial_lag", "p95")),
    ("face p95", ("latency", "face_lag", "p95")),
    ("srv cores", ("server", "cpu_cores")),
    ("RSS MB", ("server", "rss_mb")),
]


def _dig(data: Mapping[str, Any], path: Sequence[str]) -> Any:
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)  # type: ignore[assignment]
    return data


def comparison(main: Mapping[str, Any], baseline: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per N present in both runs: each compared figure and baseline / main."""
    base_by_n = {s["n"]: s for s in baseline["steps"]}
    rows = []
    for step in main["steps"]:
        other = base_by_n.get(step["n"])
        if other is None:
            continue
        row: dict[str, Any] = {"n": step["n"]}
        for name, path in COMPARED:
            a, b = _dig(step, path), _dig(other, path)
            row[name] = {"main": a, "baseline": b, "ratio": round(b / a, 2) if a and b is not None else None}
        rows.append(row)
    return rows


def format_comparison(rows: Sequence[Mapping[str, Any]], main_label: str, base_label: str) -> str:
    lines = [f"== {base_label} vs {main_label} (ratio = {base_label} / {main_label}) =="]
    head = f"{'N':>3} | " + " | ".join(f"{name:>22}" for name, _ in COMPARED)
    lines += [head, "-" * len(head)]
    for row in rows:
        cells = []
        for name, _ in COMPARED:
            cell = row[name]
            a, b, r = cell["main"], cell["baseline"], cell["ratio"]
            fmt = (lambda v: "-" if v is None else f"{v:.2f}") if "MB" not in name else (lambda v: "-" if v is None else f"{v:.0f}")
            cells.append(f"{fmt(a) + ' ' + fmt(b) + ' x' + ('-' if r is None else f'{r:.2f}'):>22}")
        lines.append(f"{row['n']:>3} | " + " | ".join(cells))
    return "\n".join(lines)


# -- the command ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks load", description="Ramp N concurrent WebRTC candidates against Candor and find its capacity.")
    p.add_argument("--url", help="a running Candor (default: start an embedded one in a child process)")
    p.add_argument("--hr-token", default=os.environ.get("CANDOR_HR_TOKEN"), help="HR token of --url (default: $CANDOR_HR_TOKEN)")
    p.add_argument("--server-pid", type=int, help="PID of the --url server on this machine, for psutil CPU and RSS")
    p.add_argument("--server-env", type=parse_env, default={}, metavar="CANDOR_X=V[,...]", help="settings of the embedded server")
    p.add_argument("--compare", type=parse_env, metavar="CANDOR_X=V[,...]", help="run the same ramp again against an embedded server with these settings (the baseline)")
    p.add_argument("--compare-video", type=parse_video, metavar="WxH@FPS:KBPS",
                   help="run the same ramp again with the candidates' camera sending this (e.g. 640x480@15:800, a page without"
                        " the frame-rate cap): the baseline, with --compare's settings if given")
    p.add_argument("--compare-label", default=None, help="name of the baseline in the tables (default: its settings)")
    p.add_argument("--steps", type=parse_steps, default=[1, 2, 4, 6, 8], help="N per step, non-decreasing (default 1,2,4,6,8)")
    p.add_argument("--step-seconds", type=float, default=60.0)
    p.add_argument("--warmup-seconds", type=float, default=15.0, help="start of each step left out of the statistics")
    p.add_argument("--stagger-seconds", type=float, default=1.0, help="between two joining candidates")
    p.add_argument("--drain-seconds", type=float, default=8.0, help="after the last step, for late events")
    p.add_argument("--grace-seconds", type=float, default=5.0, help="a clip without its final after this long is missing")
    p.add_argument("--progress-seconds", type=float, default=5.0)
    p.add_argument("--no-stop", action="store_true", help="run every step even after one breaks the targets")
    p.add_argument("--interview", metavar="JOB_ID", help="structured interviews for this job (e.g. wealth_manager) instead of free talk")
    p.add_argument("--done-after", type=float, default=1.0, help="interview: seconds after a clip's end of speech to send done")
    p.add_argument("--watch-partials", choices=["on", "off"], default="on",
                   help="off: each watcher opens its stream with ?partials=0 (finals and scores only), like a session no HR watch;"
                        " with CANDOR_CANDIDATE_CAPTIONS=final on the server, nobody reads partials (default on)")
    p.add_argument("--retry-cap", type=float, default=5.0, help="a refused candidate retries after min(Retry-After, this) seconds")
    p.add_argument("--admission", action="store_true", help="keep the embedded server's admission control (default: off, to find the capacity)")
    p.add_argument("--target-final-p95", type=float, default=1.0, help="seconds (default 1.0)")
    p.add_argument("--target-face-p95", type=float, default=0.3, help="seconds (default 0.3)")
    p.add_argument("--target-rss-per-candidate", type=float, default=50.0, help="MB (default 50)")
    p.add_argument("--target-loop-lag-p99", type=float, default=20.0, help="ms (default 20)")
    p.add_argument("--allowed-audio-drops", type=int, default=0, help="audio chunks that may be dropped per step (default 0)")
    p.add_argument("--media-dir", type=Path, default=MEDIA_DIR)
    p.add_argument("--clips", default=",".join(DEFAULT_CLIPS), help="speech files in --media-dir, comma-separated")
    p.add_argument("--portrait", default="obama.jpg", choices=["obama.jpg", "biden.jpg"])
    p.add_argument("--camera", choices=["browser", "synthetic"], default="browser",
                   help="browser: a webcam's VP8 as the candidate page sends it (camera noise, constant --video-kbps), encoded once;"
                        " synthetic: a clean panning portrait that each candidate's aiortc sender encodes (the figures before 2026-12-07"
                        " used synthetic 160x120 at 10 fps)")
    p.add_argument("--video-size", default="640x480", help="WIDTHxHEIGHT (default 640x480, the page's camera)")
    p.add_argument("--video-fps", type=float, default=5.0, help="frames per second sent (default 5, the page's cap: CANDOR_VIDEO_FPS)")
    p.add_argument("--video-kbps", type=int, default=300, help="browser camera's bitrate (default 300, the page's cap: CANDOR_VIDEO_MAX_KBPS)")
    p.add_argument("--pause", default="2,4", help="seconds of silence between clips, MIN,MAX (default 2,4)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON and PNG (default benchmarks/results)")
    p.add_argument("--name", default=None, help="file name stem (default load-YYYYmmdd-HHMMSS)")
    p.add_argument("--raw", action="store_true", help="also write every session's clips and events (STEM-raw.json), to check matching")
    return p


def parse_video(text: str) -> tuple[int, int, float, int]:
    """``WxH@FPS:KBPS`` -> (width, height, fps, kbps)."""
    match = re.fullmatch(r"(\d+)x(\d+)@([\d.]+):(\d+)", text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"expected WxH@FPS:KBPS, e.g. 640x480@15:800, not {text!r}")
    return int(match[1]), int(match[2]), float(match[3]), int(match[4])


def config_from_args(args: argparse.Namespace) -> LoadConfig:
    width, height = (int(v) for v in args.video_size.lower().split("x"))
    low, high = (float(v) for v in args.pause.split(","))
    if args.warmup_seconds >= args.step_seconds:
        raise SystemExit("--warmup-seconds must be shorter than --step-seconds")
    return LoadConfig(
        steps=args.steps,
        step_seconds=args.step_seconds,
        warmup_seconds=args.warmup_seconds,
        stagger_seconds=args.stagger_seconds,
        drain_seconds=args.drain_seconds,
        grace_seconds=args.grace_seconds,
        progress_seconds=args.progress_seconds,
        no_stop=args.no_stop,
        interview=args.interview,
        done_after_s=args.done_after,
        retry_cap_s=args.retry_cap,
        admission=args.admission,
        seed=args.seed,
        targets=Targets(args.target_final_p95, args.target_face_p95, args.allowed_audio_drops, args.target_rss_per_candidate, args.target_loop_lag_p99),
        media_dir=args.media_dir,
        clips=tuple(c.strip() for c in args.clips.split(",") if c.strip()),
        portrait=args.portrait,
        camera=args.camera,
        video_size=(width, height),
        video_fps=args.video_fps,
        video_kbps=args.video_kbps,
        pause_s=(low, high),
        watch_partials=args.watch_partials == "on",
    )


async def run_against(
    config: LoadConfig,
    kit: MediaKit,
    *,
    url: str | None,
    hr_token: str | None,
    server_pid: int | None = None,
    env: Mapping[str, str] | None = None,
    label: str = "main",
) -> dict[str, Any]:
    """One ramp against ``url``, or against a fresh embedded server with ``env``."""
    log = lambda line: print(line, file=sys.stderr, flush=True)
    if url is not None:
        if not hr_token:
            raise SystemExit("--url needs --hr-token (or CANDOR_HR_TOKEN)")
        server_info: dict[str, Any] = {"url": url, "embedded": False}
        async with httpx.AsyncClient(timeout=10) as client:
            with contextlib.suppress(httpx.HTTPError, ValueError):
                server_info["healthz"] = (await client.get(f"{url.rstrip('/')}/healthz")).json()
        same_clock = httpx.URL(url).host in ("127.0.0.1", "localhost", "::1")
        run = await run_ramp(config, kit, url, hr_token, server_pid=server_pid, same_clock=same_clock, label=label, log=log)
        run["server"] = server_info
        return run
    server = EmbeddedServer(env, admission=config.admission).start()
    log(f"embedded server {server.url} (pid {server.pid}, log {server.log_path}) {' '.join(f'{k}={v}' for k, v in (env or {}).items())}")
    try:
        started = time.monotonic()
        await server.wait_ready()
        log(f"server ready in {time.monotonic() - started:.1f} s")
        run = await run_ramp(
            config, kit, server.url, server.token, server_pid=server.pid, same_clock=True, check_alive=server.check_alive, label=label, log=log
        )
        run["server"] = {"url": server.url, "embedded": True, "env": server.overrides, "settings": server.settings(), "log": str(server.log_path)}
        return run
    finally:
        await asyncio.get_running_loop().run_in_executor(None, server.stop)


def media_kit(config: LoadConfig) -> MediaKit:
    """The candidates' media, loaded once for every run of a benchmark."""
    return MediaKit.load(
        config.media_dir, config.clips, portrait=config.portrait, video_size=config.video_size, video_fps=config.video_fps, pause_s=config.pause_s,
        camera=config.camera, video_kbps=config.video_kbps,
    )


def new_report(schema: str, config: LoadConfig) -> dict[str, Any]:
    """A report's head (what ran, where, with which settings) and its empty list of runs."""
    return {
        "schema": schema,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": sys.argv,
        "settings": config.public(),
        "machine": machine_info(),
        "runs": [],
    }


async def run_load(config: LoadConfig, *, url: str | None = None, hr_token: str | None = None, server_pid: int | None = None,
                   server_env: Mapping[str, str] | None = None, compare: Mapping[str, str] | None = None,
                   compare_label: str | None = None, compare_video: tuple[int, int, float, int] | None = None) -> dict[str, Any]:
    """The whole benchmark: media loaded once, one ramp (and a baseline ramp with ``compare`` and/or ``compare_video``)."""
    kit = media_kit(config)
    report = new_report("candor.bench.load/1", config)
    main_label = "main" if not server_env else ",".join(f"{k}={v}" for k, v in server_env.items())
    report["runs"].append(await run_against(config, kit, url=url, hr_token=hr_token, server_pid=server_pid, env=server_env, label=main_label))
    report["runs"][0]["video"] = video_of(config)
    if compare or compare_video:
        base_config = config
        if compare_video is not None:
            width, height, fps, kbps = compare_video
            base_config = replace(config, video_size=(width, height), video_fps=fps, video_kbps=kbps)
            kit = media_kit(base_config)
        label = compare_label or ",".join([f"{k}={v}" for k, v in (compare or {}).items()] + ([video_of(base_config)] if compare_video else []))
        env = {**(server_env or {}), **(compare or {})}
        report["runs"].append(await run_against(base_config, kit, url=None, hr_token=None, env=env, label=label))
        report["runs"][1]["video"] = video_of(base_config)
        report["comparison"] = comparison(report["runs"][0], report["runs"][1])
    return report


def video_of(config: LoadConfig) -> str:
    """What the candidates' camera sent, e.g. ``browser 640x480@5:300``."""
    width, height = config.video_size
    kbps = f":{config.video_kbps}" if config.camera == "browser" else ""
    return f"{config.camera} {width}x{height}@{config.video_fps:g}{kbps}"


def write_report(report: dict[str, Any], out: Path, name: str | None = None, *, raw: bool = False) -> tuple[Path, Path | None]:
    """The JSON (and the PNG beside it); ``raw``: also every session's events as ``STEM-raw.json``."""
    out.mkdir(parents=True, exist_ok=True)
    stem = name or f"load-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    sessions = {run["label"]: run.pop("raw", []) for run in report["runs"]}
    if raw:
        (out / f"{stem}-raw.json").write_text(json.dumps(sessions, ensure_ascii=False))
    path = out / f"{stem}.json"
    png: Path | None = out / f"{stem}.png"
    try:
        from .plot import plot_report

        plot_report(report, png)  # type: ignore[arg-type]
        report["plot"] = str(png)
    except Exception as exc:  # noqa: BLE001  # a plot is a convenience: the JSON is the record
        print(f"plot failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        png = None
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return path, png


def render(report: Mapping[str, Any]) -> str:
    parts = [format_table(run) for run in report["runs"]]
    if report.get("comparison"):
        parts.append(format_comparison(report["comparison"], report["runs"][0]["label"], report["runs"][1]["label"]))
    m = report["machine"]
    parts.append(f"machine: {m['cpu_model']}, {m['cpus']} CPUs, {m['ram_gb']} GB RAM, Python {m['python']}")
    return "\n\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = config_from_args(args)
    report = asyncio.run(
        run_load(config, url=args.url, hr_token=args.hr_token, server_pid=args.server_pid, server_env=args.server_env,
                 compare=args.compare, compare_label=args.compare_label, compare_video=args.compare_video)
    )
    path, png = write_report(report, args.out, args.name, raw=args.raw)
    print(render(report))
    print(f"\nwrote {path}" + (f" and {png}" if png else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
