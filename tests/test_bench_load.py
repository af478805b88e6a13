"""The load generator (benchmarks/load.py, benchmarks/tracks.py).

Pure parts (percentiles, matching finals to clips by media time, histogram
quantiles, the capacity decision, the audio script) are plain unit tests.
A 503 from a tiny starlette stub (the test is about counting refusals, not
about Candor) must count as refused and never abort the run. The slow test
runs one real candidate over WebRTC against an embedded server for ~25 s.
"""

from __future__ import annotations

import argparse
import itertools
import json
import socket
import threading
import time
from pathlib import Path
from typing import Any, Self

import av
import numpy as np
import pytest
import uvicorn
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from benchmarks import load
from benchmarks.tracks import (
    AUDIO_RATE,
    FRAME_SAMPLES,
    AudioScript,
    Clip,
    ClipPlay,
    EncodedCamera,
    MediaKit,
    PortraitLoop,
    WallLog,
    decode_audio,
)
from tests.media_fixtures import TEST_MEDIA

# -- pure parts ------------------------------------------------------------------------------


def test_summarize_percentiles() -> None:
    stats = load.summarize(float(v) for v in range(1, 101))
    assert stats["n"] == 100
    assert stats["p50"] == pytest.approx(50.5)
    assert stats["p95"] == pytest.approx(95.05)
    assert stats["p99"] == pytest.approx(99.01)
    assert stats["max"] == 100.0
    assert load.summarize([]) == {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}
    assert load.summarize([0.25])["p99"] == 0.25


def _play(number: int, start: float, speech: float, duration: float, clip: str = "c") -> ClipPlay:
    return ClipPlay(clip, number, start, start + 0.3, start + speech, start + duration)


def test_match_finals_by_media_time() -> None:
    plays = [_play(0, 1.0, 10.6, 11.0, "jfk"), _play(1, 15.0, 3.8, 4.3, "aishell")]
    finals = [  # arrivals on the generator's clock, where media offset x was sent at 100 + x
        # jfk cut into three utterances at its pauses; only the last closes it
        load.FinalRecord(arrival=105.0, start=0.9, end=4.2, last_word_end=3.9, utterance_id=1),
        load.FinalRecord(arrival=109.0, start=4.5, end=8.0, last_word_end=7.7, utterance_id=2),
        load.FinalRecord(arrival=112.9, start=8.2, end=11.8, last_word_end=11.45, utterance_id=3),
        load.FinalRecord(arrival=119.9, start=14.8, end=19.0, last_word_end=18.7, utterance_id=4),
        # a final in the silence after the second clip overlaps no clip
        load.FinalRecord(arrival=125.0, start=21.0, end=22.0, utterance_id=5),
    ]
    matches = load.match_finals(plays, finals)
    assert [m.finals for m in matches] == [3, 1]
    assert matches[0].final is finals[2]
    assert matches[0].match_error == pytest.approx(11.45 - 11.6)
    assert matches[1].final is finals[3]

    lat = load.clip_latencies(matches, lambda offset: 100.0 + offset, window=(100.0, 200.0), now=200.0, grace_s=5.0)
    assert lat.latencies == pytest.approx([112.9 - 111.6, 119.9 - 118.8], abs=1e-5)
    assert lat.clips == ["jfk", "aishell"]
    assert lat.missing == 0


def test_clip_latencies_windows_and_missing_finals() -> None:
    plays = [_play(0, 0.0, 4.0, 4.5), _play(1, 7.0, 4.0, 4.5), _play(2, 14.0, 4.0, 4.5)]
    finals = [load.FinalRecord(arrival=1004.8, start=0.0, end=4.2)]
    matches = load.match_finals(plays, finals)

    def sent(offset: float) -> float:
        return 1000.0 + offset

    # clip 0 is before the window; clip 1 has no final after 6 s: missing (a lower bound); clip 2 is pending
    lat = load.clip_latencies(matches, sent, window=(1005.0, 1100.0), now=1017.5, grace_s=5.0)
    assert lat.missing == 1
    assert lat.latencies == pytest.approx([1017.5 - 1011.0])
    lat = load.clip_latencies(matches, sent, window=(1000.0, 1100.0), now=1017.5, grace_s=5.0)
    assert lat.latencies == pytest.approx([0.8, 6.5], abs=1e-5)


def test_histogram_quantile_interpolates_like_promql() -> None:
    buckets = {0.005: 50.0, 0.01: 90.0, 0.02: 100.0, float("inf"): 100.0}
    value, above = load.histogram_quantile(0.99, buckets)
    assert not above and value == pytest.approx(0.01 + 0.01 * 9 / 10)
    value, above = load.histogram_quantile(0.5, buckets)
    assert value == pytest.approx(0.005)
    value, above = load.histogram_quantile(0.99, {0.01: 10.0, float("inf"): 20.0})
    assert above and value == 0.01
    assert load.histogram_quantile(0.99, {0.01: 0.0, float("inf"): 0.0}) == (None, False)


def test_metrics_parse_and_bucket_deltas() -> None:
    registry = CollectorRegistry()
    lag = Histogram("candor_event_loop_lag_seconds", "lag", buckets=(0.005, 0.02), registry=registry)
    dropped = Counter("candor_frames_dropped_total", "drops", ["kind"], registry=registry)
    lag.observe(0.001)
    before = load.parse_metrics(generate_latest(registry).decode())
    for _ in range(9):
        lag.observe(0.01)
    lag.observe(0.5)
    dropped.labels("audio").inc(3)
    after = load.parse_metrics(generate_latest(registry).decode())
    delta = load.bucket_delta(load.histogram_buckets(after, "candor_event_loop_lag_seconds"), load.histogram_buckets(before, "candor_event_loop_lag_seconds"))
    assert delta == {0.005: 0.0, 0.02: 9.0, float("inf"): 10.0}
    assert load.metric(after, "candor_frames_dropped_total", kind="audio") == 3.0
    samples = [load.ResourceSample(0.0, None, None, 0.0, before), load.ResourceSample(2.0, None, None, 0.0, after)]
    assert load.dropped_frames(samples) == {"audio": 3.0, "video": 0.0}


def _step(n: int, final_p95: float | None, *, active: int | None = None, rss: float | None = 10.0, lag: float | None = 5.0, drops: float = 0.0) -> dict[str, Any]:
    stats = load.summarize([])
    return {
        "n": n,
        "active": n if active is None else active,
        "media_dropped": 0,
        "latency": {"speech_end_to_final": {**stats, "p95": final_p95}, "face_lag": {**stats, "p95": 0.1}},
        "server": {"rss_per_added_mb": rss, "loop_lag_p99_ms": lag, "frames_dropped": {"audio": drops, "video": 4.0}},
    }


def test_capacity_is_the_last_step_before_the_first_break() -> None:
    targets = load.Targets()
    steps = [_step(1, 0.8), _step(2, 0.9, lag=None), _step(4, 1.4), _step(6, 0.9)]
    for step in steps:
        step["targets"] = load.evaluate_step(step, targets)
        step["holds"] = load.step_holds(step["targets"])
    assert [s["holds"] for s in steps] == [True, True, False, True]
    assert steps[1]["targets"]["loop_lag_p99_ms"]["holds"] is None  # no data: n/a, not a break
    assert load.capacity(steps) == 2
    assert load.capacity([{**steps[2]}]) == 0

    for broken in (_step(1, 0.5, active=0), _step(1, 0.5, rss=80.0), _step(1, 0.5, lag=25.0), _step(1, 0.5, drops=2.0)):
        assert not load.step_holds(load.evaluate_step(broken, targets))
    assert load.step_holds(load.evaluate_step(_step(1, 0.5, drops=2.0), load.Targets(audio_drops=2)))


def test_cli_values() -> None:
    assert load.parse_steps("1,2,4") == [1, 2, 4]
    assert load.parse_env("CANDOR_ASR_WINDOW=full,CANDOR_X=a=b") == {"CANDOR_ASR_WINDOW": "full", "CANDOR_X": "a=b"}
    for bad in ("2,1", "0,1"):
        with pytest.raises(argparse.ArgumentTypeError):
            load.parse_steps(bad)
    with pytest.raises(argparse.ArgumentTypeError):
        load.parse_env("ASR_WINDOW=full")
    args = load.build_parser().parse_args(["--steps", "1,2", "--compare", "CANDOR_ASR_WINDOW=full", "--video-size", "240x180"])
    config = load.config_from_args(args)
    assert config.video_size == (240, 180) and args.compare == {"CANDOR_ASR_WINDOW": "full"}
    # by default a candidate's camera is what the page sends: 640x480 VP8 at the server's sampling rate and bitrate cap
    config = load.config_from_args(load.build_parser().parse_args([]))
    assert (config.camera, config.video_size, config.video_fps, config.video_kbps) == ("browser", (640, 480), 5.0, 300)
    assert load.video_of(config) == "browser 640x480@5:300"
    assert load.parse_video("640x480@15:800") == (640, 480, 15.0, 800)
    with pytest.raises(argparse.ArgumentTypeError):
        load.parse_video("640x480@15")


def _clip(name: str, seconds: float, speech_end: float) -> Clip:
    samples = np.full(int(seconds * AUDIO_RATE), 1000, dtype=np.int16)
    return Clip(name, samples, 0.1, speech_end)


def test_audio_script_offsets_and_pauses() -> None:
    clips = [_clip("a", 1.0, 0.9), _clip("b", 0.5, 0.4)]
    script = AudioScript(clips, seed=3, first=1, pause_s=(0.2, 0.4), lead_in_s=(0.1, 0.2))
    audio = np.concatenate([script.read(FRAME_SAMPLES) for _ in range(200)])  # 4 s
    plays = script.plays
    assert [p.clip for p in plays[:3]] == ["b", "a", "b"]
    for play in plays:
        i = round(play.start * AUDIO_RATE)
        assert audio[i - 1] == 0 and audio[i] == 1000  # silence, then the clip
        assert play.speech_end - play.start == pytest.approx(next(c for c in clips if c.name == play.clip).speech_end_s)
    gaps = [b.start - a.end for a, b in itertools.pairwise(plays)]
    assert all(0.2 <= g <= 0.4 for g in gaps)
    again = AudioScript(clips, seed=3, first=1, pause_s=(0.2, 0.4), lead_in_s=(0.1, 0.2))
    again.read(len(audio))
    assert [p.start for p in again.plays] == [p.start for p in plays]  # seeded


def test_browser_camera_is_a_webcams_vp8_at_the_pages_bitrate() -> None:
    camera = EncodedCamera(TEST_MEDIA / "obama.jpg", width=640, height=480, fps=5, kbps=300, loop_s=6)
    assert len(camera.packets) == 30
    assert camera.kbps_coded() == pytest.approx(300, rel=0.2)  # a noisy camera fills its bitrate; a still photo would not
    decoder = av.CodecContext.create("libvpx", "r")
    frames = [f for i in range(len(camera.packets) + 3) for f in decoder.decode(av.Packet(camera.packet(i)))]
    assert len(frames) == len(camera.packets) + 3  # it loops: the first packet is a key frame again
    assert {(f.width, f.height) for f in frames} == {(640, 480)}
    # one key frame, the rest inter frames (as WebRTC sends until asked for a key frame)
    fresh = av.CodecContext.create("libvpx", "r")
    assert fresh.decode(av.Packet(camera.packet(0)))
    with pytest.raises(av.error.InvalidDataError):
        av.CodecContext.create("libvpx", "r").decode(av.Packet(camera.packet(1)))


def test_wall_log_lookups() -> None:
    log = WallLog(0.02)
    for k in range(5):
        log.append(10.0 + k * 0.021)
    assert log.wall_at(0.0) == 10.0
    assert log.wall_at(0.039) == pytest.approx(10.021)
    assert log.wall_at(0.1) is None
    assert log.latest_before(10.05) == pytest.approx(10.042)
    assert log.latest_before(9.0) is None


# -- a 503 is "refused", never an error that aborts the run ----------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StubServer:
    """A tiny stand-in for Candor that refuses new sessions (at REST or at WHIP) with 503."""

    def __init__(self, refuse_at: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.refuse_at = refuse_at
        self.posts = {"sessions": 0, "whip": 0}

        async def sessions(request: Request) -> Response:
            self.posts["sessions"] += 1
            if refuse_at == "sessions":
                return JSONResponse({"title": "Server busy"}, status_code=503, headers={"Retry-After": "1"})
            return JSONResponse(
                {"id": "s1", "candidate_token": "t", "whip_url": f"{self.url}/whip/s1", "events_url": f"ws://127.0.0.1:{self.port}/v1/sessions/s1/events"},
                status_code=201,
            )

        async def whip(request: Request) -> Response:
            self.posts["whip"] += 1
            return JSONResponse({"title": "Server busy"}, status_code=503, headers={"Retry-After": "1"})

        async def events(websocket: WebSocket) -> None:
            await websocket.accept()
            while (await websocket.receive())["type"] != "websocket.disconnect":
                pass

        app = Starlette(
            routes=[
                Route("/v1/sessions", sessions, methods=["POST"]),
                Route("/whip/s1", whip, methods=["POST"]),
                Route("/metrics", lambda request: PlainTextResponse("", status_code=404)),
                WebSocketRoute("/v1/sessions/s1/events", events),
            ]
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", ws="websockets-sansio", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def tiny_kit() -> MediaKit:
    """One real clip with its speech bounds given (no VAD needed to count refusals)."""
    clip = Clip("hotwords.mp3", decode_audio(TEST_MEDIA / "hotwords.mp3"), 0.2, 4.0)
    return MediaKit([clip], PortraitLoop(TEST_MEDIA / "obama.jpg", width=160, height=120, fps=10))


@pytest.mark.parametrize("refuse_at", ["sessions", "whip"])
async def test_503_counts_as_refused_and_the_run_goes_on(refuse_at: str, tiny_kit: MediaKit) -> None:
    config = load.LoadConfig(steps=[1, 2], step_seconds=2.5, warmup_seconds=0.5, stagger_seconds=0.1, drain_seconds=0.0, progress_seconds=10, no_stop=True)
    lines: list[str] = []
    with StubServer(refuse_at) as stub:
        run = await load.run_ramp(config, tiny_kit, stub.url, "hr", log=lines.append)
    assert [s["n"] for s in run["steps"]] == [1, 2]  # refusals never abort the run
    first = run["steps"][0]
    assert first["refused"] >= 2 and first["errors"] == 0 and first["active"] == 0
    assert first["targets"]["admitted"]["holds"] is False
    assert run["capacity"] == 0 and run["errors"] == []
    assert stub.posts[refuse_at] >= 2
    assert "refused" in load.format_table(run)


# -- a real run ---------------------------------------------------------------------------------


@pytest.mark.slow
async def test_one_real_candidate_against_an_embedded_server(tmp_path: Path) -> None:
    config = load.LoadConfig(steps=[1], step_seconds=25, warmup_seconds=3, drain_seconds=5, progress_seconds=10, no_stop=True)
    report = await load.run_load(config)
    json_path, png = load.write_report(report, tmp_path, "run")
    assert png is not None and png.stat().st_size > 10_000
    data = json.loads(json_path.read_text())
    assert data["machine"]["cpus"] >= 1 and data["machine"]["ram_gb"] > 0
    run = data["runs"][0]
    assert run["server"]["embedded"] and run["server"]["settings"]["asr_model"]
    step = run["steps"][0]
    assert step["active"] == 1 and step["errors"] == 0 and step["refused"] == 0
    face = step["latency"]["face_lag"]
    # from the analysed frame's send, not the one before it (a whole frame interval: 0.2 s at the page's 5 fps)
    assert face["n"] >= 10 and 0 < face["p50"] < 0.15, face
    assert step["latency"]["whip_to_flowing"]["n"] == 1
    assert step["generator"]["cpu_cores"] is not None
    assert step["server"]["cpu_cores"] > 0 and step["server"]["rss_mb"] > 100
    assert set(step["targets"]) == {"admitted", "final_p95_s", "face_p95_s", "audio_drops", "rss_per_candidate_mb", "loop_lag_p99_ms"}
    finals = step["latency"]["speech_end_to_final"]
    others = step["machine"]["other_cpu_cores"] or 0.0
    if finals["n"] - finals["missing"] < 1 and others > 0.5:
        pytest.skip(f"other processes used {others:.2f} of this machine's cores: Whisper could not keep up")
    assert finals["n"] - finals["missing"] >= 1  # finals that came, matched to their clips
    assert finals["p50"] > 0 and sum(c["n"] for c in finals["by_clip"].values()) == finals["n"]
    assert abs(finals["match_error_p50"]) < 0.5  # the server's media time is the generator's media offset
    assert step["latency"]["partial_lag"]["n"] >= 1 and step["latency"]["partial_lag"]["p50"] > 0
    print("\n" + load.render(data))
