"""Face analysis at 2.5 frames a second against 5: the same figures for HR, for half the CPU.

A real video (tests/media/short_hamilton_clip.mp4, or any file given),
sampled at the camera rate the server keeps (``CANDOR_VIDEO_FPS``, 5) with a
browser's jitter, goes through :class:`~analyzers.face.FaceAnalyzer` twice:
every frame (the rule before) and at most ``--face-fps`` a second (now).
For each: the landmarker's CPU time, the ``face.metrics`` averaged per second
of media time (presence, faces, yaw, pitch, gaze), and the ``face.absent`` /
``face.multiple`` transitions HR see; then the differences.

    python -m benchmarks.face_rate --out benchmarks/data/face-rate-2026-12-06.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import MEDIA_DIR

FIELDS = ("presence", "faces_mean", "yaw", "pitch", "gaze_at_camera")
JITTER_S = (0.0, 0.03, -0.03, 0.01, -0.04)


def frames(path: Path, fps: float, repeat: int) -> list[Any]:
    """The video's frames as the server's ingest keeps them: the newest at each 1/fps of media time."""
    import av

    from media.frames import VideoFrame

    images: list[np.ndarray] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        due = 0.0
        for frame in container.decode(stream):
            t = float(frame.pts * stream.time_base)
            if t + 1e-6 >= due:
                images.append(frame.to_ndarray(format="rgb24"))
                due += 1.0 / fps
    sequence = (images + images[::-1]) * repeat  # played forth and back: no cut at the seam
    return [VideoFrame(image=image, media_time=round(i / fps + JITTER_S[i % len(JITTER_S)], 3)) for i, image in enumerate(sequence)]


async def analyse(runner: Any, expression: Any, items: list[Any], fps: float | None) -> dict[str, Any]:
    from analyzers.face import FaceAnalyzer
    from events import EXPRESSION_METRICS, FACE_ABSENT, FACE_METRICS, FACE_MULTIPLE

    analyzer = FaceAnalyzer(runner, interval_s=0.5, expression=expression, fps=fps)
    events: list[Any] = []

    async def read() -> None:
        async for event in analyzer:
            events.append(event)

    reader = asyncio.create_task(read())
    started = time.process_time()
    for item in items:
        analyzer.push(item)
        while analyzer.backlog:
            await asyncio.sleep(0.001)
    analyzer.end_input()
    await asyncio.wait_for(reader, timeout=120)
    cpu = time.process_time() - started
    metrics = [e for e in events if e.type == FACE_METRICS]
    per_second: dict[int, dict[str, list[float]]] = {}
    for event in metrics:
        bucket = per_second.setdefault(int(event.media_time // 1), {f: [] for f in FIELDS})
        for field in FIELDS:
            value = getattr(event.payload, field)
            if value is not None:
                bucket[field].append(float(value))
    for event in events:
        if event.type == EXPRESSION_METRICS:  # the expression HR see as context: its probabilities
            bucket = per_second.setdefault(int(event.media_time // 1), {f: [] for f in FIELDS})
            for label, p in event.payload.probabilities.items():
                bucket.setdefault(f"expression_{label}", []).append(float(p))
    return {
        "analysed_frames": sum(e.payload.frames for e in metrics),
        "cpu_s": round(cpu, 3),
        "per_second": {str(s): {f: (round(float(np.mean(v)), 4) if v else None) for f, v in b.items()} for s, b in sorted(per_second.items())},
        "transitions": [[e.type, e.payload.state, round(e.media_time, 3), e.payload.faces] for e in events if e.type in (FACE_ABSENT, FACE_MULTIPLE)],
    }


def compare(before: dict[str, Any], now: dict[str, Any]) -> dict[str, Any]:
    diffs: dict[str, list[float]] = {}
    for second, values in before["per_second"].items():
        other = now["per_second"].get(second)
        if other is None:
            continue
        for field in values:
            diffs.setdefault(field, [])
            if values[field] is not None and other.get(field) is not None:
                diffs[field].append(abs(values[field] - other[field]))
    pairs = list(zip(before["transitions"], now["transitions"]))

    def clip_mean(result: dict[str, Any], field: str) -> float | None:
        values = [v[field] for v in result["per_second"].values() if v.get(field) is not None]
        return round(float(np.mean(values)), 4) if values else None

    return {
        "clip_mean": {f: [clip_mean(before, f), clip_mean(now, f)] for f in sorted(diffs)},
        "per_second_mean_abs_difference": {f: (round(float(np.mean(d)), 4) if d else None) for f, d in sorted(diffs.items())},
        "per_second_max_abs_difference": {f: (round(float(np.max(d)), 4) if d else None) for f, d in sorted(diffs.items())},
        "transitions": [len(before["transitions"]), len(now["transitions"])],
        "same_transitions": [a[:2] for a in before["transitions"]] == [b[:2] for b in now["transitions"]],
        "transition_delay_s": [round(b[2] - a[2], 3) for a, b in pairs if a[:2] == b[:2]],
        "cpu_share": round(now["cpu_s"] / before["cpu_s"], 3) if before["cpu_s"] else None,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    from analyzers.expression import ExpressionRunner
    from analyzers.face import FaceRunner

    runner = FaceRunner()
    expression = ExpressionRunner()
    items = frames(args.video, args.video_fps, args.repeat)
    try:
        runner.warmup()
        results = {}
        for name, fps in (("before", None), ("now", args.face_fps), ("before_again", None), ("now_again", args.face_fps)):
            results[name] = asyncio.run(analyse(runner, expression, items, fps))
            print(f"{name:13s} analysed {results[name]['analysed_frames']:4d} frames, CPU {results[name]['cpu_s']:.2f} s", flush=True)
    finally:
        runner.close()
        expression.close()
    return {
        "schema": "candor.bench.face_rate/1",
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": ["python", "-m", "benchmarks.face_rate", *sys.argv[1:]],
        "machine": {"cpu": platform.processor() or platform.machine(), "python": platform.python_version()},
        "video": args.video.name,
        "video_fps": args.video_fps,
        "face_fps": args.face_fps,
        "frames": len(items),
        "seconds": round(len(items) / args.video_fps, 1),
        "comparison": compare(results["before"], results["now"]),
        "run_to_run": compare(results["before"], results["before_again"]),
        "results": results,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.face_rate", description=__doc__.split("\n\n")[0])
    p.add_argument("--video", type=Path, default=MEDIA_DIR / "short_hamilton_clip.mp4")
    p.add_argument("--video-fps", type=float, default=5.0)
    p.add_argument("--face-fps", type=float, default=2.5)
    p.add_argument("--repeat", type=int, default=3, help="play the clip forth and back this many times")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    result = run(args)
    print(json.dumps({k: result[k] for k in ("frames", "seconds", "comparison", "run_to_run")}, indent=1))
    if args.out is not None:
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
