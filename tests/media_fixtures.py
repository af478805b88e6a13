"""The test media (tests/media/, see its README.md) and media built from it at test time.

Chromium's fake capture devices read a Y4M video and a WAV file and loop
them; these helpers make both from the recordings and photos in tests/media
into a temporary directory. The outputs are derived media and stay in the
test's tmp dir: nothing made here is committed.

A missing media file is an error, never a skip: :func:`media_file` raises
:class:`FileNotFoundError` naming the file.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

# The media the tests and benchmarks use, inside the repository (tests/media/README.md).
TEST_MEDIA = Path(__file__).resolve().parent / "media"
# The old name of TEST_MEDIA (the media used to live outside the repository).
SHARED_MEDIA = TEST_MEDIA
# Spoken Mandarin strong and weak example answers of the shipped banks, with manifest.json
# (file, bank, question, competency, kind, text): tests/media/README.md.
ANSWERS_ZH = TEST_MEDIA / "answers_zh"
ANSWERS_ZH_MANIFEST = ANSWERS_ZH / "manifest.json"


def media_file(name: str) -> Path:
    """The path of ``name`` in tests/media; FileNotFoundError if it is not there."""
    path = TEST_MEDIA / name
    if not path.exists():
        raise FileNotFoundError(f"test media {name!r} is missing: expected at {path} (tests/media/README.md)")
    return path


def require_media(*paths: Path) -> None:
    """Raise FileNotFoundError naming every one of ``paths`` that is missing (a failure, never a skip)."""
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise FileNotFoundError(f"test media missing (tests/media/README.md): {', '.join(missing)}")


# jfk.flac and the AISHELL clip with the words they say (tests/media/README.md).
JFK_FLAC = TEST_MEDIA / "jfk.flac"
JFK_TEXT = (
    "And so my fellow Americans, ask not what your country can do for you, "
    "ask what you can do for your country."
)
AISHELL_WAV = TEST_MEDIA / "aishell-BAC009S0724W0121.wav"
AISHELL_TEXT = "广州市房地产中介协会分析"
WENET_WAV = TEST_MEDIA / "wenet_mid.wav"
HOTWORDS_MP3 = TEST_MEDIA / "hotwords.mp3"
OBAMA_JPG = TEST_MEDIA / "obama.jpg"


def ffmpeg_available() -> bool:
    return shutil.which("ffmpeg") is not None


def _run_ffmpeg(args: list[str]) -> None:
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")


def portrait_y4m(
    out_dir: Path,
    image: Path = OBAMA_JPG,
    *,
    width: int = 640,
    height: int = 480,
    fps: int = 15,
    seconds: float = 10.0,
    name: str = "portrait.y4m",
) -> Path:
    """A Y4M clip of a still portrait with small, slow head-like motion.

    The photo is scaled a little wider than the frame, turned by a small
    sinusoidal roll (about +-2 degrees) and cropped with a slow sinusoidal
    offset, so the face drifts by a few tens of pixels like a person sitting
    in front of a laptop. The crop keeps the top of the portrait, where the
    face is, and the frame is 4:2:0 as Chromium's Y4M reader wants.
    """
    out = Path(out_dir) / name
    margin_x = max(40, width // 8)
    scaled_w = width + 2 * margin_x
    # x drifts +-margin_x*0.6 around the centre, y +-10 px around 24 px from
    # the top (clear of the black corners the roll leaves).
    amp_x = int(margin_x * 0.6)
    vf = ",".join(
        [
            f"scale={scaled_w}:-2",
            "rotate=a='0.035*sin(2*PI*t/4.3)':fillcolor=black",
            f"crop={width}:{height}:x='{margin_x}+{amp_x}*sin(2*PI*t/5)':y='24+10*sin(2*PI*t/3.7)'",
            f"fps={fps}",
            "format=yuv420p",
        ]
    )
    _run_ffmpeg(
        [
            "-loop", "1",
            "-framerate", str(fps),
            "-t", f"{seconds:g}",
            "-i", str(image),
            "-vf", vf,
            "-f", "yuv4mpegpipe",
            str(out),
        ]
    )
    return out


def padded_speech_wav(
    out_dir: Path,
    speech: Path,
    *,
    lead_s: float = 1.5,
    tail_s: float = 3.0,
    sample_rate: int = 48_000,
    channels: int = 1,
    name: str | None = None,
) -> Path:
    """A 16-bit PCM WAV of ``speech`` with silence before and after it.

    Chromium loops the fake microphone file, so the trailing silence is what
    lets voice activity detection close the utterance before it starts again.
    """
    out = Path(out_dir) / (name or f"{Path(speech).stem}-padded.wav")
    af = f"aresample={sample_rate},adelay={int(lead_s * 1000)}:all=1,apad=pad_dur={tail_s:g}"
    _run_ffmpeg(
        [
            "-i", str(speech),
            "-af", af,
            "-ac", str(channels),
            "-ar", str(sample_rate),
            "-c:a", "pcm_s16le",
            "-f", "wav",
            str(out),
        ]
    )
    return out


def media_duration_s(path: Path) -> float:
    """Duration of a media file as ffprobe reports it."""
    proc = subprocess.run(
        [
            "ffprobe", "-v", "error", "-show_entries", "format=duration",
            "-of", "default=noprint_wrappers=1:nokey=1", str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return float(proc.stdout.strip())
