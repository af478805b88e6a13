"""End of speech -> transcript.final, one candidate, over real WebRTC.

Publishes a speech file (padded with silence) through the Python WHIP
client, watches the event stream, and for every utterance measures how long
after the last spoken word the ``transcript.final`` was published. The
``media.flowing`` event maps media time to the server's wall clock, so the
measurement is the server's own: no clock offset between processes.

    python -m benchmarks.speech_latency                   # embedded server
    python -m benchmarks.speech_latency --url http://127.0.0.1:8080 --hr-token …

It prints a table and writes JSON to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets

from benchmarks import MEDIA_DIR
from media.whip_client import WhipPublisher


def padded(src: Path, out: Path, lead: float = 1.0, tail: float = 3.0) -> Path:
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-i", str(src), "-af",
         f"aresample=48000,adelay={int(lead * 1000)}:all=1,apad=pad_dur={tail}", "-ac", "1", str(out)],
        check=True,
    )
    return out


def portrait(out: Path, seconds: float) -> Path:
    """A small still-portrait video: cheap to encode, one face for the analyzer."""
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-loop", "1", "-framerate", "10", "-t", f"{seconds:.1f}",
         "-i", str(MEDIA_DIR / "obama.jpg"), "-vf", "scale=320:240,format=yuv420p", str(out)],
        check=True,
    )
    return out


async def measure(base: str, hr_token: str, clip: Path, video: Path | None, timeout: float) -> list[dict]:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(f"{base}/v1/sessions", headers={"Authorization": f"Bearer {hr_token}"})
        response.raise_for_status()
        session = response.json()
    publisher = WhipPublisher(session["whip_url"], session["candidate_token"], str(clip), str(video) if video else None)
    rows: list[dict] = []
    anchor: float | None = None  # wall time of media time 0
    async with websockets.connect(session["events_url"], additional_headers={"Authorization": f"Bearer {hr_token}"}) as ws:
        await publisher.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event = json.loads(await asyncio.wait_for(ws.recv(), 1.0))
            except asyncio.TimeoutError:
                continue
            if event["type"] == "media.flowing" and anchor is None:
                anchor = event["wall_time"] - event["media_time"]
            elif event["type"] == "speech.end" and anchor is not None:
                rows.append({"utterance_id": event["payload"]["utterance_id"], "speech_end_event_s": None,
                             "_end_wall": event["wall_time"]})
            elif event["type"] == "transcript.final" and anchor is not None:
                words = event["payload"]["words"]
                spoken_end = words[-1]["end"] if words else event["payload"]["end"]
                row = next((r for r in rows if r["utterance_id"] == event["payload"]["utterance_id"]), None)
                if row is None:
                    row = {"utterance_id": event["payload"]["utterance_id"], "_end_wall": None}
                    rows.append(row)
                row["text_chars"] = len(event["payload"]["text"])
                row["audio_s"] = round(event["payload"]["end"] - event["payload"]["start"], 2)
                row["speech_end_to_final_s"] = round(event["wall_time"] - (anchor + spoken_end), 3)
                if row.get("_end_wall") is not None:
                    row["vad_end_to_final_s"] = round(event["wall_time"] - row["_end_wall"], 3)
            if event["type"] == "connection.ended":
                break
    await publisher.close()
    return [{k: v for k, v in r.items() if not k.startswith("_") and v is not None} for r in rows if "speech_end_to_final_s" in r]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running Candor (default: start an embedded one)")
    parser.add_argument("--hr-token", default=os.environ.get("CANDOR_HR_TOKEN"))
    parser.add_argument("--clip", action="append", help="speech files (default: jfk.flac and the AISHELL clip)")
    parser.add_argument("--asr-model", default="base")
    parser.add_argument("--asr-window", default="trim", choices=["trim", "full"])
    args = parser.parse_args()
    clips = [Path(c) for c in args.clip] if args.clip else [MEDIA_DIR / "jfk.flac", MEDIA_DIR / "aishell-BAC009S0724W0121.wav"]
    tmp = Path(tempfile.mkdtemp(prefix="candor-bench-"))
    server = None
    base, token = args.url, args.hr_token
    if base is None:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.helpers import LiveServer, make_settings  # the same embedded server the tests use

        settings = make_settings(tmp, asr_model=args.asr_model, asr_window=args.asr_window)
        server = LiveServer(settings, None).start()
        base, token = server.url, settings.hr_token.get_secret_value()  # type: ignore[union-attr]
        while httpx.get(f"{base}/healthz").status_code != 200:
            time.sleep(0.5)
    results = []
    try:
        for clip in clips:
            video = portrait(tmp / f"{clip.stem}.y4m", 20)
            rows = asyncio.run(measure(base, token, padded(clip, tmp / f"{clip.stem}.wav"), video, timeout=25))
            for row in rows:
                row["clip"] = clip.name
            results.extend(rows)
    finally:
        if server is not None:
            server.stop()
    latencies = sorted(r["speech_end_to_final_s"] for r in results)
    print(f"{'clip':36} {'utt':>3} {'audio s':>7} {'end of speech -> final s':>25}")
    for r in results:
        print(f"{r['clip']:36} {r['utterance_id']:>3} {r['audio_s']:>7} {r['speech_end_to_final_s']:>25}")
    if latencies:
        print(f"n={len(latencies)} p50={statistics.median(latencies):.2f} s max={latencies[-1]:.2f} s")
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    report = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "processor": platform.processor()},
        "asr_model": args.asr_model,
        "asr_window": args.asr_window,
        "device": "cpu",
        "utterances": results,
    }
    (out / f"speech_latency-{int(time.time())}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
