"""Voice affect from prosody: pitch and loudness per utterance, arousal against the speaker's baseline.

No speech-emotion model with weights ships on the package index, so voice
affect is measured, not classified: Praat (through ``praat-parselmouth``)
tracks the pitch and the intensity of each utterance the VAD delimits.

:func:`measure_prosody` (pure, blocking) reads one utterance of 16 kHz mono
float32 samples:

* pitch: Praat's ``To Pitch`` (autocorrelation) with its defaults for speech
  and a 75-500 Hz range, 10 ms frames; then, as Hirst (2011) proposes
  against octave errors, a second pass over the speaker's own range: floor
  ``0.75 * q1``, ceiling ``1.5 * q3`` of the first pass's voiced frames
  (kept within 75-500 Hz). On wenet_mid.wav the first pass halves part of a
  250 Hz voice to 80-115 Hz (p10-p90 span 16.7 st); the second gives 7.5 st.
  ``voiced_share`` is the share of frames with a pitch; ``pitch_hz`` the
  mean, standard deviation and 10th and 90th percentiles of the voiced
  frames; ``pitch_range_st`` the p10-p90 span in semitones,
  ``12 * log2(p90 / p10)``. Both are ``None`` with fewer than
  :data:`MIN_VOICED_FRAMES` voiced frames.
* intensity: Praat's ``To Intensity`` (minimum pitch 75 Hz) in dB re 2e-5
  (samples taken as pascals, so full scale is 94 dB; digital silence is
  clipped to 0 dB). Mean (of the dB values) and standard deviation over the
  voiced frames, over all frames when none is voiced.

Arousal (:class:`VoiceBaseline`) compares an utterance with the speaker's
own earlier utterances in the session. Three features:

* ``f0``: the pitch mean in semitones re 100 Hz, ``12 * log2(mean / 100)``;
* ``range``: ``pitch_range_st`` (pitch variability);
* ``loudness``: the intensity mean in dB.

Only a speaker's *changes* count, never their voice as such: a low (often
male) or high (often female) voice, or a quiet microphone, must not read as
calm or aroused (issue 12's counterfactual check found that comparing pitch
with a population mean of 160 Hz scored a male voice's composure 57 points
above the same answers in a female voice). So the reference mean of each
feature is the mean of the speaker's own ``n`` earlier voiced utterances
``x̄``, and a prior enters only the *spread*: a within-speaker
standard deviation ``s0`` (``PRIOR``) worth ``k0 = PRIOR_WEIGHT``
utterances, pooled with their variance ``s²``::

    mean = x̄
    var  = (k0·s0² + n·s²) / (k0 + n)
    std  = max(sqrt(var), STD_FLOOR[feature])

(within-speaker prior: f0 ± 2 st, range ± 2 st, loudness ± 4 dB; ``k0 = 2``;
floors 1 st, 1 st, 2 dB). The first utterance has nothing to be compared
with: its z-scores are 0 (arousal 0.5, the speaker's usual by definition).
A constant offset of every utterance's pitch (another voice) or loudness
(another gain) gives the same arousal, utterance by utterance (tested).
With ``z = (x - mean) / std`` clipped to ±4::

    arousal = 1 / (1 + exp(-(0.4·z_f0 + 0.2·z_range + 0.4·z_loudness)))

0.5 is the speaker's usual; higher is a higher, wider-ranging, louder voice
than usual (activation, not valence: excitement and stress both score
high). ``None`` when the utterance has fewer than
:data:`MIN_AROUSAL_FRAMES` voiced frames; such utterances do not enter the
baseline either. Loudness depends on the microphone and its gain, which is
why only a speaker's own baseline makes it meaningful.

:class:`ProsodyRunner` runs :func:`measure_prosody` in a child process.
Praat holds the GIL while it computes (about 2.3-2.7 ms per second of audio
for both pitch passes and the intensity, measured on one core of a 2-core
machine: 65-75 ms for a 28 s utterance, in three calls): on a
thread of the server's process the event loop waited that long once per
utterance. :class:`ProsodyAnalyzer` is the
per-session stage: AudioChunk and ``speech.start`` / ``speech.end`` in, one
``voice.affect`` per utterance out.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import math
import multiprocessing
import os
import threading
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from media.frames import CHUNK_SAMPLES, SAMPLE_RATE, AudioChunk
from runtime.runner import ModelRunner

from .base import Analyzer
from events import AnalyzerEvent, SpeechEnd, SpeechStart, VoiceAffect

log = logging.getLogger(__name__)

PITCH_FLOOR_HZ = 75.0
PITCH_CEILING_HZ = 500.0
PITCH_STEP_S = 0.01
INTENSITY_REFERENCE = 2e-5  # Praat's dB reference (20 µPa)
MIN_VOICED_FRAMES = 3  # 30 ms: fewer is a stray frame, not voicing
MIN_AROUSAL_FRAMES = 20  # 0.2 s of voicing before pitch and loudness say anything
# Praat needs 6.4 periods of the minimum pitch for intensity (85 ms at 75 Hz).
MIN_ANALYSIS_SAMPLES = math.ceil(6.4 / PITCH_FLOOR_HZ * SAMPLE_RATE) + 1

FEATURES = ("f0", "range", "loudness")
WEIGHTS = {"f0": 0.4, "range": 0.2, "loudness": 0.4}
# Within-speaker spread from one utterance to the next (not between speakers: the
# mean is always the speaker's own): pitch mean and range about 2 st, loudness 4 dB.
PRIOR = {"f0": 2.0, "range": 2.0, "loudness": 4.0}
PRIOR_WEIGHT = 2.0
STD_FLOOR = {"f0": 1.0, "range": 1.0, "loudness": 2.0}
Z_LIMIT = 4.0


def _semitones(ratio: float) -> float:
    return 12.0 * math.log2(ratio)


def measure_prosody(samples: np.ndarray) -> dict[str, Any]:
    """Pitch and intensity of one utterance (16 kHz mono float32 in [-1, 1]); blocking.

    Returns ``voiced_share`` (0-1), ``pitch_hz`` (``mean``, ``std``, ``p10``,
    ``p90``, or ``None`` when unvoiced), ``pitch_range_st`` (or ``None``),
    ``intensity_db`` (``mean``, ``std``) and ``voiced_frames``. Plain floats,
    3 decimals (see the module docstring for the measures).
    """
    import parselmouth

    audio = np.asarray(samples, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(audio)):
        raise ValueError("audio has NaN or infinite samples")
    if len(audio) < MIN_ANALYSIS_SAMPLES:
        # Too short for Praat: no pitch, loudness from the RMS.
        rms = float(np.sqrt(np.mean(audio**2))) if len(audio) else 0.0
        level = max(0.0, 20.0 * math.log10(rms / INTENSITY_REFERENCE)) if rms > 0 else 0.0
        return _result(0.0, 0, None, {"mean": level, "std": 0.0})

    sound = parselmouth.Sound(audio, sampling_frequency=SAMPLE_RATE)
    frequency, pitch_times = _pitch_track(sound, PITCH_FLOOR_HZ, PITCH_CEILING_HZ)
    if (frequency > 0).sum() >= MIN_VOICED_FRAMES:
        q1, q3 = np.percentile(frequency[frequency > 0], [25, 75])
        floor = min(max(PITCH_FLOOR_HZ, 0.75 * q1), PITCH_CEILING_HZ / 2)
        ceiling = min(PITCH_CEILING_HZ, max(1.5 * q3, 2 * floor))
        second, second_times = _pitch_track(sound, floor, ceiling)
        if (second > 0).sum() >= MIN_VOICED_FRAMES:
            frequency, pitch_times = second, second_times
    intensity = sound.to_intensity(minimum_pitch=PITCH_FLOOR_HZ)
    levels = np.maximum(np.asarray(intensity.values, dtype=np.float64).reshape(-1), 0.0)
    level_times = np.asarray(intensity.xs(), dtype=np.float64)

    voiced = frequency > 0
    voiced_frames = int(voiced.sum())
    share = voiced_frames / len(frequency) if len(frequency) else 0.0
    if voiced_frames >= MIN_VOICED_FRAMES and len(levels):
        measured_levels = np.interp(pitch_times[voiced], level_times, levels)
    else:
        measured_levels = levels
    loudness = {
        "mean": float(measured_levels.mean()) if len(measured_levels) else 0.0,
        "std": float(measured_levels.std()) if len(measured_levels) else 0.0,
    }
    hz = frequency[voiced] if voiced_frames >= MIN_VOICED_FRAMES else None
    return _result(share, voiced_frames, hz, loudness)


def _pitch_track(sound: Any, floor: float, ceiling: float) -> tuple[np.ndarray, np.ndarray]:
    pitch = sound.to_pitch(time_step=PITCH_STEP_S, pitch_floor=floor, pitch_ceiling=ceiling)
    return np.asarray(pitch.selected_array["frequency"], dtype=np.float64), np.asarray(pitch.xs(), dtype=np.float64)


def _result(share: float, voiced_frames: int, hz: np.ndarray | None, loudness: dict[str, float]) -> dict[str, Any]:
    pitch: dict[str, float] | None = None
    span: float | None = None
    if hz is not None:
        p10, p90 = (float(v) for v in np.percentile(hz, [10, 90]))
        pitch = {
            "mean": round(float(hz.mean()), 3),
            "std": round(float(hz.std()), 3),
            "p10": round(p10, 3),
            "p90": round(p90, 3),
        }
        span = round(_semitones(p90 / p10), 3)
    return {
        "voiced_share": round(float(share), 3),
        "voiced_frames": int(voiced_frames if hz is not None else 0),
        "pitch_hz": pitch,
        "pitch_range_st": span,
        "intensity_db": {"mean": round(loudness["mean"], 3), "std": round(loudness["std"], 3)},
    }


def affect_features(prosody: Mapping[str, Any]) -> dict[str, float] | None:
    """The arousal features of a :func:`measure_prosody` result, ``None`` when too little is voiced."""
    pitch = prosody.get("pitch_hz")
    if pitch is None or prosody.get("voiced_frames", 0) < MIN_AROUSAL_FRAMES or pitch["mean"] <= 0:
        return None
    return {
        "f0": _semitones(float(pitch["mean"]) / 100.0),
        "range": float(prosody["pitch_range_st"] or 0.0),
        "loudness": float(prosody["intensity_db"]["mean"]),
    }


class VoiceBaseline:
    """One speaker's running baseline of pitch and loudness; a within-speaker prior only widens the spread.

    Pure and synchronous: ``arousal(features)`` scores an utterance against
    the utterances ``update``\\ d so far (see the module docstring for the
    formula); the caller decides what enters the baseline.
    """

    def __init__(
        self,
        *,
        prior: Mapping[str, float] | None = None,
        prior_weight: float = PRIOR_WEIGHT,
    ) -> None:
        self._prior = dict(prior or PRIOR)
        self._prior_weight = prior_weight
        self._count = 0
        self._mean = {name: 0.0 for name in FEATURES}
        self._m2 = {name: 0.0 for name in FEATURES}  # Welford sums of squared deviations

    @property
    def utterances(self) -> int:
        return self._count

    def update(self, features: Mapping[str, float]) -> None:
        self._count += 1
        for name in FEATURES:
            value = float(features[name])
            delta = value - self._mean[name]
            self._mean[name] += delta / self._count
            self._m2[name] += delta * (value - self._mean[name])

    def reference(self, name: str) -> tuple[float, float] | None:
        """(mean, std) the feature is compared with now; None before the speaker's first utterance."""
        k0, n = self._prior_weight, self._count
        if n == 0:
            return None
        own_var = self._m2[name] / n
        var = (k0 * self._prior[name] ** 2 + n * own_var) / (k0 + n)
        return self._mean[name], max(math.sqrt(var), STD_FLOOR[name])

    def zscores(self, features: Mapping[str, float]) -> dict[str, float]:
        scores = {}
        for name in FEATURES:
            reference = self.reference(name)
            if reference is None:
                scores[name] = 0.0
                continue
            mean, std = reference
            scores[name] = max(-Z_LIMIT, min(Z_LIMIT, (float(features[name]) - mean) / std))
        return scores

    def arousal(self, features: Mapping[str, float]) -> float:
        """0..1: the logistic of the weighted z-scores against this baseline."""
        scores = self.zscores(features)
        combined = sum(WEIGHTS[name] * scores[name] for name in FEATURES)
        return 1.0 / (1.0 + math.exp(-combined))


# -- runner and per-session analyzer ----------------------------------------------


def _exit_with_parent(parent: int) -> None:
    """In Praat's child process: exit once the server that started it is gone.

    A server killed outright (SIGKILL, the OOM killer) never closes its pool,
    and the child, which holds both ends of its own job queue's pipe, would
    wait for work forever (with multiprocessing's resource tracker).
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="prosody-parent-watch", daemon=True).start()


class ProsodyRunner(ModelRunner):
    """Praat's pitch and intensity analysis, in a process of its own (CPU).

    Praat (Parselmouth) holds the GIL for a whole analysis: about 35 ms for
    10 s of speech and 75 ms for 28 s on a 2 vCPU AMD EPYC. On a thread of the
    server's process that stalled the event loop and every other thread for
    as long, once per utterance: the loop's p99 lag at 4 candidates was 25-41
    ms, its target 20 (benchmarks/README.md, "Praat off the event loop's
    GIL"). A child process has its own GIL; it is started at ``warmup`` (or
    at the first utterance) and started again should it die. ``process=False``
    runs Praat on a thread of this process, as before.
    """

    name = "prosody"

    def __init__(self, *, process: bool = True, observe: Callable[[str, float], None] | None = None) -> None:
        if process:
            # Praat is loaded in the child only (its library is about 70 MB resident); warmup runs it there.
            if importlib.util.find_spec("parselmouth") is None:
                raise ModuleNotFoundError("praat-parselmouth is not installed: prosody needs it", name="parselmouth")
        else:
            import parselmouth  # noqa: F401  # fail at load time, not in the first session

        super().__init__(workers=1, observe=observe)
        self.process = process
        self._pool: ProcessPoolExecutor | None = self._new_pool() if process else None

    @staticmethod
    def _new_pool() -> ProcessPoolExecutor:
        # spawn: a fresh interpreter that imports only this module (forking a process with threads is unsafe)
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_exit_with_parent,
            initargs=(os.getpid(),),
        )

    async def analyze(self, samples: np.ndarray) -> dict[str, Any]:
        """:func:`measure_prosody` in the runner's process (or executor thread)."""
        if self._pool is None:
            return await self.call(measure_prosody, samples)
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        pool = self._pool
        try:
            try:
                return await loop.run_in_executor(pool, measure_prosody, samples)
            except BrokenProcessPool:
                # The child died (killed, out of memory): a new one, and this utterance again.
                if self._pool is pool:
                    log.warning("the prosody process died; starting another")
                    self._pool = self._new_pool()
                return await loop.run_in_executor(self._pool, measure_prosody, samples)
        finally:
            if self._observe is not None:
                self._observe(self.name, time.perf_counter() - started)

    def warmup(self) -> None:
        t = np.arange(SAMPLE_RATE, dtype=np.float64) / SAMPLE_RATE
        vowel = sum(0.1 / k * np.sin(2 * np.pi * 120.0 * k * t) for k in range(1, 6))
        executor = self._pool if self._pool is not None else self._executor
        executor.submit(measure_prosody, np.asarray(vowel, dtype=np.float32)).result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        super().close()


@dataclass
class _Utterance:
    id: int
    start: float


class ProsodyAnalyzer(Analyzer):
    """AudioChunk and speech.start/speech.end in; one ``voice.affect`` per utterance out.

    Keeps the newest ``ring_s`` of audio (chunk references: the graph hands
    the same chunks to the ASR) and, at each ``speech.end``, measures the
    utterance's audio on the runner, scores arousal against the session's
    :class:`VoiceBaseline` and then adds the utterance to it.
    """

    name = "prosody"

    def __init__(self, runner: ProsodyRunner, *, ring_s: float = 40.0, baseline: VoiceBaseline | None = None) -> None:
        # Appending audio is cheap; a large bound absorbs an utterance's measurement.
        super().__init__(input_maxsize=4000)
        self._runner = runner
        self._ring: deque[AudioChunk] = deque(maxlen=max(1, int(ring_s * SAMPLE_RATE / CHUNK_SAMPLES)))
        self._current: _Utterance | None = None
        self._measured: int | None = None  # the last utterance id measured
        self.baseline = baseline or VoiceBaseline()
        self.audio_end = 0.0

    async def process(self, item: Any) -> None:
        if isinstance(item, AudioChunk):
            self._ring.append(item)
            self.audio_end = item.end_time
        elif isinstance(item, AnalyzerEvent) and isinstance(item.payload, SpeechStart):
            self._current = _Utterance(item.payload.utterance_id, float(item.media_time or 0.0))
        elif isinstance(item, AnalyzerEvent) and isinstance(item.payload, SpeechEnd):
            end = item.payload
            self._current = None
            if end.utterance_id != self._measured:
                await self._measure(end.utterance_id, end.start, end.end)

    async def on_flush(self) -> None:
        if self._current is not None:  # input ended mid-utterance
            current, self._current = self._current, None
            await self._measure(current.id, current.start, self.audio_end)

    def _audio(self, start: float, end: float) -> np.ndarray:
        """The ring's samples from ``start`` to ``end`` (media time), trimmed to the sample."""
        parts = []
        for chunk in self._ring:
            if chunk.end_time <= start or chunk.media_time >= end:
                continue
            first = max(0, round((start - chunk.media_time) * SAMPLE_RATE))
            last = min(len(chunk.samples), round((end - chunk.media_time) * SAMPLE_RATE))
            if last > first:
                parts.append(chunk.samples[first:last])
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    async def _measure(self, utterance_id: int, start: float, end: float) -> None:
        self._measured = utterance_id
        prosody = await self._runner.analyze(self._audio(start, end))
        features = affect_features(prosody)
        arousal = None
        baseline_utterances = self.baseline.utterances
        if features is not None:
            arousal = round(self.baseline.arousal(features), 3)
            self.baseline.update(features)
        affect = VoiceAffect(
            utterance_id=utterance_id,
            start=round(start, 3),
            end=round(end, 3),
            voiced_share=prosody["voiced_share"],
            pitch_hz=prosody["pitch_hz"],
            pitch_range_st=prosody["pitch_range_st"],
            intensity_db=prosody["intensity_db"],
            arousal=arousal,
            baseline_utterances=baseline_utterances,
        )
        self.emit(AnalyzerEvent(end, affect))
