"""Tests for analyzers/prosody.py: Praat's pitch and intensity on real speech
and synthetic voices, the arousal baseline, the per-session analyzer over the
real VAD, and the graph's consent switches."""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from analyzers.base import AnalyzerError
from events import (
    EXPRESSION_METRICS,
    FACE_METRICS,
    SPEECH_END,
    SPEECH_START,
    TRANSCRIPT_FINAL,
    VOICE_AFFECT,
    AnalyzerEvent,
    SpeechEnd,
    SpeechStart,
)
from analyzers.graph import AnalyzerGraph
from analyzers.prosody import (
    PRIOR,
    STD_FLOOR,
    WEIGHTS,
    ProsodyAnalyzer,
    ProsodyRunner,
    VoiceBaseline,
    affect_features,
    measure_prosody,
)
from analyzers.vad import VadAnalyzer
from media.frames import CHUNK_SAMPLES, SAMPLE_RATE, AudioChunk, VideoFrame
from tests.helpers import load_audio
from tests.media_fixtures import AISHELL_WAV, JFK_FLAC, OBAMA_JPG, WENET_WAV

CLIPS = {"jfk": JFK_FLAC, "aishell": AISHELL_WAV, "wenet": WENET_WAV}


@pytest.fixture(scope="module")
def speech() -> dict[str, np.ndarray]:
    """The three real clips, 16 kHz mono, scaled to a 0.3 peak (room for +10 dB unclipped)."""
    clips = {}
    for name, path in CLIPS.items():
        audio = load_audio(path)
        clips[name] = (0.3 * audio / np.abs(audio).max()).astype(np.float32)
    return clips


@pytest.fixture(scope="module")
def prosody_runner() -> Iterator[ProsodyRunner]:
    runner = ProsodyRunner()
    runner.warmup()
    yield runner
    runner.close()


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), np.float32)


def vowel(f0: float, seconds: float = 2.0, level: float = 0.2) -> np.ndarray:
    """A monotone vowel-like tone: harmonics of ``f0`` falling off as 1/k."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 12) if f0 * k < SAMPLE_RATE / 2)
    return (level * wave / np.abs(wave).max()).astype(np.float32)


def louder(audio: np.ndarray, db: float) -> np.ndarray:
    return (audio * 10 ** (db / 20)).astype(np.float32)


def faster(audio: np.ndarray, factor: float) -> np.ndarray:
    """Play ``factor`` times faster: pitch up by ``factor``, duration down (tape-speed trick)."""
    positions = np.arange(0, len(audio) - 1, factor)
    return np.interp(positions, np.arange(len(audio)), audio).astype(np.float32)


# -- measure_prosody ---------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CLIPS))
def test_real_speech_has_a_human_pitch(speech: dict[str, np.ndarray], name: str) -> None:
    result = measure_prosody(speech[name])
    pitch = result["pitch_hz"]
    assert pitch is not None
    assert 80 < pitch["p10"] < pitch["mean"] < pitch["p90"] < 400
    assert 0 < pitch["std"] < 100
    assert 2 < result["pitch_range_st"] < 20
    assert 0.3 < result["voiced_share"] < 0.9  # speech has unvoiced consonants and pauses
    assert 40 < result["intensity_db"]["mean"] < 90 and 0 < result["intensity_db"]["std"] < 20
    assert json.loads(json.dumps(result)) == result


def test_a_lower_voice_measures_lower(speech: dict[str, np.ndarray]) -> None:
    # By ear the AISHELL reader's voice is clearly lower than the wenet speaker's.
    aishell = measure_prosody(speech["aishell"])["pitch_hz"]
    wenet = measure_prosody(speech["wenet"])["pitch_hz"]
    assert aishell["mean"] < 0.8 * wenet["mean"]
    assert aishell["p90"] < wenet["mean"]


def test_octave_errors_are_kept_out_of_the_range(speech: dict[str, np.ndarray]) -> None:
    # Praat's first pass at 75-500 Hz halves part of this ~250 Hz voice (p10 about 115 Hz,
    # a 16.7 st span); the second pass over the speaker's own range does not.
    result = measure_prosody(speech["wenet"])
    assert result["pitch_hz"]["p10"] > 160
    assert result["pitch_range_st"] < 10


def test_silence_is_unvoiced() -> None:
    for audio in (silence(2.0), silence(0.05), np.zeros(0, np.float32)):
        result = measure_prosody(audio)
        assert result["voiced_share"] == 0.0
        assert result["pitch_hz"] is None and result["pitch_range_st"] is None
        assert result["intensity_db"] == {"mean": 0.0, "std": 0.0}
        assert affect_features(result) is None


def test_quiet_noise_is_mostly_unvoiced() -> None:
    noise = (0.01 * np.random.default_rng(3).standard_normal(2 * SAMPLE_RATE)).astype(np.float32)
    assert measure_prosody(noise)["voiced_share"] < 0.1


@pytest.mark.parametrize("f0", [120.0, 220.0])
def test_a_monotone_vowel_has_its_pitch_and_no_range(f0: float) -> None:
    result = measure_prosody(vowel(f0))
    assert result["voiced_share"] > 0.9
    assert result["pitch_hz"]["mean"] == pytest.approx(f0, abs=3)
    assert result["pitch_hz"]["std"] < 2
    assert result["pitch_range_st"] < 0.5


def test_loudness_follows_gain_and_pitch_follows_speed(speech: dict[str, np.ndarray]) -> None:
    original = measure_prosody(speech["jfk"])
    loud = measure_prosody(louder(speech["jfk"], 10))
    high = measure_prosody(faster(speech["jfk"], 1.25))
    assert loud["intensity_db"]["mean"] - original["intensity_db"]["mean"] == pytest.approx(10, abs=0.5)
    assert loud["pitch_hz"]["mean"] == pytest.approx(original["pitch_hz"]["mean"], rel=0.02)
    assert high["pitch_hz"]["mean"] / original["pitch_hz"]["mean"] == pytest.approx(1.25, abs=0.06)


def test_bad_samples_are_refused() -> None:
    with pytest.raises(ValueError, match="NaN"):
        measure_prosody(np.full(SAMPLE_RATE, np.nan, np.float32))


# -- VoiceBaseline -----------------------------------------------------------------


def test_the_first_utterance_is_the_speakers_usual_whatever_the_voice() -> None:
    baseline = VoiceBaseline()
    assert baseline.utterances == 0
    assert all(baseline.reference(name) is None for name in PRIOR)
    low, high = {"f0": 2.0, "range": 5.0, "loudness": 55.0}, {"f0": 16.0, "range": 9.0, "loudness": 75.0}
    assert baseline.arousal(low) == baseline.arousal(high) == pytest.approx(0.5)


def test_another_voice_or_gain_gives_the_same_arousal() -> None:
    # The counterfactual of issue 12: the same delivery one octave lower (a male voice for a female one) and
    # 12 dB quieter (another microphone) reads the same, utterance by utterance; against a population mean it did not.
    rng = np.random.default_rng(7)
    utterances = [{"f0": 14.0 + rng.normal(0, 1.5), "range": 7.0 + rng.normal(0, 1.5), "loudness": 66.0 + rng.normal(0, 3)}
                  for _ in range(12)]
    shifted = [{**u, "f0": u["f0"] - 12.0, "loudness": u["loudness"] - 12.0} for u in utterances]
    first, second = VoiceBaseline(), VoiceBaseline()
    for a, b in zip(utterances, shifted):
        assert first.arousal(a) == pytest.approx(second.arousal(b), abs=1e-9)
        first.update(a)
        second.update(b)


def test_the_baseline_is_the_speakers_own() -> None:
    baseline = VoiceBaseline()
    own = {"f0": 3.0, "range": 5.0, "loudness": 55.0}  # a low, quiet speaker
    for _ in range(100):
        baseline.update(own)
    assert baseline.utterances == 100
    assert baseline.arousal(own) == pytest.approx(0.5)  # their usual
    mean, std = baseline.reference("loudness")
    assert mean == pytest.approx(55.0) and std == STD_FLOOR["loudness"]
    louder = {**own, "loudness": 55.0 + 3 * STD_FLOOR["loudness"]}
    assert baseline.arousal(louder) == pytest.approx(1 / (1 + math.exp(-WEIGHTS["loudness"] * 3)))


def test_the_pooled_variance_follows_the_formula() -> None:
    baseline = VoiceBaseline(prior={"f0": 2.0, "range": 3.0, "loudness": 8.0}, prior_weight=2)
    for value in (12.0, 14.0):
        baseline.update({"f0": value, "range": 7.0, "loudness": 60.0})
    mean, std = baseline.reference("f0")
    # k0=2, s0=2; n=2, mean 13, var 1: the mean is the speaker's, the prior only widens the spread
    assert mean == pytest.approx(13.0)
    assert std == pytest.approx(math.sqrt((2 * 4 + 2 * 1) / 4))


def test_extreme_values_are_clipped() -> None:
    baseline = VoiceBaseline()
    baseline.update({"f0": 8.0, "range": 7.0, "loudness": 64.0})
    shout = {"f0": 100.0, "range": 100.0, "loudness": 500.0}
    assert baseline.zscores(shout) == {"f0": 4.0, "range": 4.0, "loudness": 4.0}
    assert 0.5 < baseline.arousal(shout) < 1.0


def test_louder_and_higher_speech_is_more_aroused_against_the_same_baseline(speech: dict[str, np.ndarray]) -> None:
    originals = {name: affect_features(measure_prosody(audio)) for name, audio in speech.items()}
    excited = {name: affect_features(measure_prosody(louder(faster(audio, 1.25), 10))) for name, audio in speech.items()}
    own = VoiceBaseline()
    for features in originals.values():
        own.update(features)
    for baseline in (own,):  # against a baseline of the originals
        for name in speech:
            calm, raised = baseline.arousal(originals[name]), baseline.arousal(excited[name])
            assert raised > calm + 0.1, (name, calm, raised)
    # Each change alone raises it too.
    jfk = speech["jfk"]
    calm = own.arousal(originals["jfk"])
    assert own.arousal(affect_features(measure_prosody(louder(jfk, 10)))) > calm + 0.1
    assert own.arousal(affect_features(measure_prosody(faster(jfk, 1.25)))) > calm + 0.05


# -- ProsodyAnalyzer ---------------------------------------------------------------


def chunks(audio: np.ndarray, start: float = 0.0) -> list[AudioChunk]:
    return [
        AudioChunk(audio[i : i + CHUNK_SAMPLES], round(start + i / SAMPLE_RATE, 6))
        for i in range(0, len(audio) - CHUNK_SAMPLES + 1, CHUNK_SAMPLES)
    ]


async def run_vad_and_prosody(models, audio: np.ndarray) -> tuple[list[AnalyzerEvent], ProsodyAnalyzer]:
    """The real VAD's speech events and the audio into a ProsodyAnalyzer, wired as the graph wires them."""
    vad = VadAnalyzer(models.vad)
    prosody = ProsodyAnalyzer(models.prosody)
    events: list[AnalyzerEvent] = []

    async def pump_vad() -> None:
        async for event in vad:
            events.append(event)
            prosody.push(event)
        prosody.end_input()

    async def pump_prosody() -> None:
        async for event in prosody:
            events.append(event)

    pumps = asyncio.gather(pump_vad(), pump_prosody())
    for chunk in chunks(audio):
        vad.push(chunk)
        prosody.push(chunk)
        while vad.backlog > 50:
            await asyncio.sleep(0.005)
    vad.end_input()
    await asyncio.wait_for(pumps, timeout=60)
    assert vad.dropped == 0 and prosody.dropped == 0
    return events, prosody


@pytest.mark.slow
async def test_one_voice_affect_per_utterance_of_real_speech(models, speech: dict[str, np.ndarray]) -> None:
    pieces = [silence(1.0), speech["jfk"], silence(1.5), speech["aishell"], silence(1.5), speech["wenet"], silence(1.0)]
    events, analyzer = await run_vad_and_prosody(models, np.concatenate(pieces))

    ends = [e for e in events if e.type == SPEECH_END]
    affects = [e for e in events if e.type == VOICE_AFFECT]
    assert len(ends) >= 3
    assert [e.payload.utterance_id for e in affects] == [e.payload.utterance_id for e in ends]
    for end, affect in zip(ends, affects):
        assert affect.media_time == end.payload.end
        assert affect.payload.start == round(end.payload.start, 3)
        assert affect.payload.end == round(end.payload.end, 3)
    scored = 0
    for affect in affects:
        payload = affect.payload
        assert json.loads(json.dumps(payload.to_dict())) == payload.to_dict()
        assert set(payload.to_dict()) == {
            "utterance_id", "start", "end", "voiced_share", "pitch_hz", "pitch_range_st",
            "intensity_db", "arousal", "baseline_utterances",
        }
        assert payload.baseline_utterances == scored  # earlier voiced utterances only
        if payload.arousal is not None:
            scored += 1
            assert 0.0 < payload.arousal < 1.0
            assert 75 <= payload.pitch_hz["p10"] <= payload.pitch_hz["p90"] <= 500
            assert payload.voiced_share > 0.2
    assert scored >= 3 and analyzer.baseline.utterances == scored


@pytest.mark.slow
async def test_the_louder_higher_repeat_of_an_utterance_is_more_aroused(models, speech: dict[str, np.ndarray]) -> None:
    # The same sentence three times at the speaker's usual level, then raised and louder.
    clip = speech["aishell"]
    pieces = [silence(1.0)]
    for audio in (clip, clip, clip, louder(faster(clip, 1.25), 10)):
        pieces += [audio, silence(1.5)]
    events, _ = await run_vad_and_prosody(models, np.concatenate(pieces))
    arousal = [e.payload.arousal for e in events if e.type == VOICE_AFFECT and e.payload.arousal is not None]
    assert len(arousal) >= 4
    assert arousal[-1] > max(arousal[:-1]) + 0.15


async def test_flush_mid_utterance_measures_what_was_heard(prosody_runner: ProsodyRunner) -> None:
    analyzer = ProsodyAnalyzer(prosody_runner)
    analyzer.push(AnalyzerEvent(0.5, SpeechStart(utterance_id=7)))
    for chunk in chunks(np.concatenate([silence(0.5), vowel(150.0, 2.0)])):
        analyzer.push(chunk)
    analyzer.end_input()
    events = [event async for event in analyzer]
    assert [e.type for e in events] == [VOICE_AFFECT]
    payload = events[0].payload
    assert payload.utterance_id == 7 and payload.start == 0.5
    assert events[0].media_time == payload.end == pytest.approx(2.5, abs=0.04)
    assert payload.pitch_hz["mean"] == pytest.approx(150, abs=3)
    assert payload.voiced_share > 0.9  # the silence before the start is not in it
    assert payload.arousal is not None and payload.baseline_utterances == 0


async def test_an_utterance_is_measured_once(prosody_runner: ProsodyRunner) -> None:
    analyzer = ProsodyAnalyzer(prosody_runner)
    analyzer.push(AnalyzerEvent(0.0, SpeechStart(utterance_id=1)))
    for chunk in chunks(vowel(120.0, 1.0)):
        analyzer.push(chunk)
    analyzer.flush()  # e.g. the connection dropped mid-utterance
    analyzer.push(AnalyzerEvent(1.0, SpeechEnd(utterance_id=1, start=0.0, end=1.0)))
    analyzer.push(AnalyzerEvent(3.0, SpeechEnd(utterance_id=2, start=2.0, end=3.0)))  # never heard
    analyzer.end_input()
    events = [event async for event in analyzer]
    assert [e.payload.utterance_id for e in events] == [1, 2]
    assert events[1].payload.pitch_hz is None and events[1].payload.arousal is None
    assert events[1].payload.baseline_utterances == 1


async def test_the_audio_buffer_is_bounded(prosody_runner: ProsodyRunner) -> None:
    analyzer = ProsodyAnalyzer(prosody_runner, ring_s=5.0)
    for chunk in chunks(vowel(120.0, 20.0)):
        analyzer.push(chunk)
        if analyzer.backlog > 100:
            await asyncio.sleep(0)
    analyzer.push(AnalyzerEvent(20.0, SpeechEnd(utterance_id=1, start=0.0, end=20.0)))
    analyzer.end_input()
    events = [event async for event in analyzer]
    assert len(analyzer._ring) == analyzer._ring.maxlen == int(5.0 * SAMPLE_RATE / CHUNK_SAMPLES)
    assert events[0].payload.pitch_hz["mean"] == pytest.approx(120, abs=3)  # the newest 5 s, measured


async def test_a_failure_reaches_the_reader(prosody_runner: ProsodyRunner) -> None:
    analyzer = ProsodyAnalyzer(prosody_runner)
    analyzer.push(AudioChunk(np.full(CHUNK_SAMPLES * 10, np.nan, np.float32), 0.0))
    analyzer.push(AnalyzerEvent(0.3, SpeechEnd(utterance_id=1, start=0.0, end=0.3)))
    with pytest.raises(AnalyzerError):
        async for _ in analyzer:
            pass


async def _longest_stall(runner: ProsodyRunner, audio: np.ndarray) -> float:
    """The longest the event loop went without a turn while ``runner`` analysed ``audio`` (seconds)."""
    ticks: list[float] = []
    analysis = asyncio.ensure_future(runner.analyze(audio))
    while not analysis.done():
        ticks.append(time.perf_counter())
        await asyncio.sleep(0.001)
    ticks.append(time.perf_counter())
    await analysis
    return max(b - a for a, b in zip(ticks, ticks[1:]))


async def test_praat_in_a_process_of_its_own_leaves_the_event_loop_running(speech: dict[str, np.ndarray]) -> None:
    # A 28 s answer (the longest utterance the VAD lets through): Praat holds the GIL for tens of ms
    # at a time. On a thread of this process the loop waits that long; in the child it keeps turning.
    audio = np.tile(speech["jfk"], 3)[: 28 * SAMPLE_RATE]
    stalls = {}
    for process in (False, True):
        runner = ProsodyRunner(process=process)
        runner.warmup()
        try:
            stalls[process] = min([await _longest_stall(runner, audio) for _ in range(3)])
            assert (await runner.analyze(audio)) == measure_prosody(audio)  # the same figures either way
        finally:
            runner.close()
    assert stalls[False] > 0.015, stalls  # Praat on a thread: the loop stood still (about 40 ms here)
    assert stalls[True] < stalls[False] / 2, stalls


async def test_a_dead_prosody_process_is_replaced(speech: dict[str, np.ndarray]) -> None:
    runner = ProsodyRunner()
    runner.warmup()
    try:
        before = await runner.analyze(speech["jfk"])
        for child in list(runner._pool._processes.values()):  # the OOM killer, or an operator's kill -9
            os.kill(child.pid, signal.SIGKILL)
            child.join(5)
        assert await runner.analyze(speech["jfk"]) == before  # the utterance measured in a new child
        assert await runner.analyze(speech["jfk"]) == before
    finally:
        runner.close()


_HOLDER = """
import sys, time
from analyzers.prosody import ProsodyRunner
runner = ProsodyRunner()
runner.warmup()
print(*[child.pid for child in runner._pool._processes.values()], flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"  # a zombie is gone


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_praats_process_ends_with_the_server(how: signal.Signals) -> None:
    # A server killed outright never closes its pool: its Praat process must not outlive it.
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[1])
    try:
        children = [int(pid) for pid in holder.stdout.readline().split()]
        assert children and all(_alive(pid) for pid in children)
        holder.send_signal(how)
        holder.wait(10)
        deadline = time.monotonic() + 5
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in children), "Praat's process outlived the server"
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        holder.stdout.close()


# -- the graph's switches ----------------------------------------------------------------


def obama_frames(count: int) -> list[VideoFrame]:
    from PIL import Image

    with Image.open(OBAMA_JPG) as image:
        rgb = np.asarray(image.convert("RGB"))
    return [VideoFrame(image=rgb, media_time=round(i * 0.2, 3)) for i in range(count)]


async def drain(graph: AnalyzerGraph, audio: np.ndarray | None = None, frames: list[VideoFrame] = ()) -> list:
    for frame in frames:
        graph.push_video(frame)
        while graph.face is not None and graph.face.backlog:
            await asyncio.sleep(0.001)
    if audio is not None:
        for chunk in chunks(audio):
            graph.push_audio(chunk)
            while graph.vad is not None and graph.vad.backlog > 50:
                await asyncio.sleep(0.005)
    graph.end_input()
    events = [event async for event in graph]
    await graph.aclose()
    return events


@pytest.mark.slow
async def test_graph_runs_prosody_and_expression_by_default(models, speech: dict[str, np.ndarray]) -> None:
    graph = AnalyzerGraph(models)
    assert graph.prosody is not None and graph.face is not None and graph.face._expression is models.expression
    events = await drain(graph, np.concatenate([silence(0.5), speech["aishell"], silence(1.0)]), obama_frames(4))
    types = [e.type for e in events]
    assert types.count(VOICE_AFFECT) == types.count(SPEECH_END) >= 1
    assert TRANSCRIPT_FINAL in types and FACE_METRICS in types and EXPRESSION_METRICS in types


@pytest.mark.slow
async def test_graph_without_emotion_has_no_affect_events(models, speech: dict[str, np.ndarray]) -> None:
    graph = AnalyzerGraph(models, emotion=False)
    assert graph.prosody is None and graph.face is not None and graph.face._expression is None
    events = await drain(graph, np.concatenate([silence(0.5), speech["aishell"], silence(1.0)]), obama_frames(4))
    types = {e.type for e in events}
    assert {SPEECH_START, SPEECH_END, TRANSCRIPT_FINAL, FACE_METRICS} <= types
    assert not types & {VOICE_AFFECT, EXPRESSION_METRICS}


@pytest.mark.slow
async def test_graph_without_voice_consent_analyses_no_audio(models, speech: dict[str, np.ndarray]) -> None:
    graph = AnalyzerGraph(models, voice=False)
    assert graph.vad is None and graph.asr is None and graph.prosody is None
    events = await drain(graph, np.concatenate([speech["aishell"], silence(1.0)]), obama_frames(4))
    types = {e.type for e in events}
    assert types == {FACE_METRICS, EXPRESSION_METRICS}
    assert graph.dropped == 0 and graph.face is not None and graph.face.dropped == 0


@pytest.mark.slow
async def test_graph_without_face_consent_ignores_video(models, speech: dict[str, np.ndarray]) -> None:
    graph = AnalyzerGraph(models, face=False)
    assert graph.face is None and graph.prosody is not None
    events = await drain(graph, np.concatenate([silence(0.5), speech["aishell"], silence(1.0)]), obama_frames(4))
    types = {e.type for e in events}
    assert VOICE_AFFECT in types and not types & {FACE_METRICS, EXPRESSION_METRICS}


@pytest.mark.slow
async def test_graph_with_nothing_consented_waits_for_the_end_of_input(models) -> None:
    graph = AnalyzerGraph(models, voice=False, face=False)
    assert graph.stages == []
    graph.push_audio(AudioChunk(np.zeros(CHUNK_SAMPLES, np.float32), 0.0))
    reader = asyncio.ensure_future(graph.__anext__())
    await asyncio.sleep(0.05)
    assert not reader.done()  # the graph stays open: the session goes on
    graph.end_input()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(reader, timeout=5)
    await graph.aclose()
