"""Send → decode delay of each video frame over two real aiortc peers on loopback (media/jitter.py).

    python -m benchmarks.frame_delay [--fps 5] [--frames 40] [--out benchmarks/data/NAME.json]

A browser-like VP8 camera (benchmarks/tracks.py ``EncodedCamera``) is sent
at ``--fps``; the receiver notes when each frame leaves its decoder, and the
frame's own send time (by its RTP timestamp) is subtracted. Once with the
frame released at its last packet (``CANDOR_WEBRTC_FRAME_AT_MARKER``, the
default) and once with aiortc's rule (at the next frame's first packet).
The load benchmark's face lag cannot show this: it is measured from the
newest frame sent before the server stamped the analysed one, and with
aiortc's rule that is already the next frame.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

from aiortc import RTCPeerConnection

from media import jitter

from . import MEDIA_DIR
from .load import machine_info
from .tracks import VIDEO_CLOCK, EncodedCamera, EncodedCameraTrack


async def decode_delays(at_marker: bool, *, fps: float = 5.0, frames: int = 12, size: tuple[int, int] = (320, 240),
                        kbps: int = 150, media_dir: Path = MEDIA_DIR) -> list[float]:
    """Seconds from each frame's send to its decode (the first two left out: the connection settling), sorted."""
    jitter.install(at_marker)
    camera = EncodedCamera(media_dir / "obama.jpg", width=size[0], height=size[1], fps=fps, kbps=kbps, loop_s=4)
    track = EncodedCameraTrack(camera)
    sender, receiver = RTCPeerConnection(), RTCPeerConnection()
    delays: list[float] = []
    done = asyncio.get_running_loop().create_future()

    @receiver.on("track")
    def on_track(remote: Any) -> None:
        async def read() -> None:
            while len(delays) < frames + 2:
                frame = await remote.recv()
                now = time.perf_counter()
                index = round(frame.pts * fps / VIDEO_CLOCK)  # the receiver's clock starts at the first frame
                delays.append(now - track.log.walls[index])
            done.set_result(None)

        asyncio.ensure_future(read())

    try:
        sender.addTrack(track)
        await sender.setLocalDescription(await sender.createOffer())
        await receiver.setRemoteDescription(sender.localDescription)
        await receiver.setLocalDescription(await receiver.createAnswer())
        await sender.setRemoteDescription(receiver.localDescription)
        await asyncio.wait_for(done, 60 + frames / fps)
    finally:
        await sender.close()
        await receiver.close()
        jitter.install(True)
    return sorted(delays[2:])


def _summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50": round(values[len(values) // 2], 4), "max": round(values[-1], 4)}


async def run(fps: float, frames: int) -> dict[str, Any]:
    out: dict[str, Any] = {"schema": "candor.bench.frame_delay/1", "fps": fps, "size": [640, 480], "kbps": 300,
                           "machine": machine_info(), "runs": {}}
    for label, at_marker in (("at_marker", True), ("aiortc_rule", False)):
        values = await decode_delays(at_marker, fps=fps, frames=frames, size=(640, 480), kbps=300)
        out["runs"][label] = {**_summary(values), "seconds": [round(v, 4) for v in values]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fps", type=float, default=5.0)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    report = asyncio.run(run(args.fps, args.frames))
    for label, r in report["runs"].items():
        print(f"{label:12s} send -> decoded: p50 {r['p50'] * 1000:.1f} ms, max {r['max'] * 1000:.1f} ms (n={r['n']})")
    if args.out is not None:
        args.out.write_text(json.dumps(report, indent=2))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
