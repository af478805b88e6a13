"""VAD + streaming ASR on real speech, with silence and noise between.

Audio is pushed faster than real time straight into the analyzer graph:
these tests are about what is recognised, not about WebRTC.
"""

from __future__ import annotations

import asyncio
import json
import re

import jiwer
import numpy as np
import pytest

from events import SPEECH_END, SPEECH_START, TRANSCRIPT_FINAL, TRANSCRIPT_PARTIAL
from analyzers.graph import AnalyzerGraph
from media.frames import CHUNK_SAMPLES, SAMPLE_RATE, AudioChunk

from tests.helpers import load_audio
from tests.media_fixtures import AISHELL_TEXT, AISHELL_WAV, ANSWERS_ZH, ANSWERS_ZH_MANIFEST, JFK_FLAC, JFK_TEXT

pytestmark = pytest.mark.slow



def wer(reference: str, hypothesis: str) -> float:
    clean = lambda t: " ".join(re.sub(r"[^a-z' ]+", " ", t.lower()).split())  # noqa: E731
    return jiwer.wer(clean(reference), clean(hypothesis))


def cer_zh(reference: str, hypothesis: str) -> float:
    clean = lambda t: re.sub(r"[\W_]+", "", t)  # noqa: E731
    return jiwer.cer(clean(reference), clean(hypothesis))


def white_noise(seconds: float, level: float, seed: int = 1) -> np.ndarray:
    return (level * np.random.default_rng(seed).standard_normal(int(seconds * SAMPLE_RATE))).astype(np.float32)


def breathing(seconds: float, seed: int = 2) -> np.ndarray:
    """Low-passed noise in slow swells, like breathing near a microphone."""
    n = int(seconds * SAMPLE_RATE)
    noise = np.random.default_rng(seed).standard_normal(n)
    kernel = np.ones(40) / 40  # crude low-pass
    noise = np.convolve(noise, kernel, mode="same")
    t = np.arange(n) / SAMPLE_RATE
    envelope = np.clip(np.sin(2 * np.pi * t / 3.0), 0, None) ** 2
    return (0.3 * noise * envelope).astype(np.float32)


def hum(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.05 * np.sin(2 * np.pi * 50 * t) + 0.02 * np.sin(2 * np.pi * 150 * t)).astype(np.float32)


async def run_graph(models, audio: np.ndarray, *, realtime: bool = False) -> list:
    """Push audio through a session graph; ``realtime`` paces it like a live mic."""
    graph = AnalyzerGraph(models, partial_interval_s=0.5)
    events = []
    loop = asyncio.get_running_loop()
    started = loop.time()
    for i in range(0, len(audio) - CHUNK_SAMPLES + 1, CHUNK_SAMPLES):
        graph.push_audio(AudioChunk(audio[i : i + CHUNK_SAMPLES], i / SAMPLE_RATE))
        if realtime:
            ahead = i / SAMPLE_RATE - (loop.time() - started)
            if ahead > 0:
                await asyncio.sleep(ahead)
        # Faster than real time, but never faster than the VAD keeps up.
        while graph.vad.backlog > 50:
            await asyncio.sleep(0.005)
    graph.end_input()
    async for event in graph:
        events.append(event)
    await graph.aclose()
    assert graph.vad.dropped == 0 and graph.asr.dropped == 0
    return events


async def test_english_and_mandarin_in_one_session_with_noise_between(models) -> None:
    jfk = load_audio(JFK_FLAC)
    zh = load_audio(AISHELL_WAV)
    pieces = [
        ("silence", np.zeros(2 * SAMPLE_RATE, np.float32)),
        ("en", jfk),
        ("noise", white_noise(3, 0.02)),
        ("breathing", breathing(4)),
        ("hum", hum(2)),
        ("zh", zh),
        ("silence", np.zeros(2 * SAMPLE_RATE, np.float32)),
    ]
    spans = []
    t = 0.0
    for name, samples in pieces:
        spans.append((name, t, t + len(samples) / SAMPLE_RATE))
        t += len(samples) / SAMPLE_RATE
    audio = np.concatenate([p for _, p in pieces])

    events = await run_graph(models, audio)
    finals = [e for e in events if e.type == TRANSCRIPT_FINAL]

    def span_of(start: float, end: float) -> str:
        mid = (start + end) / 2
        return next(name for name, a, b in spans if a <= mid < b)

    by_span: dict[str, list] = {}
    for f in finals:
        by_span.setdefault(span_of(f.payload.start, f.payload.end), []).append(f)

    # Silence, noise, breathing and hum produce no transcript at all.
    assert set(by_span) <= {"en", "zh"}, {k: [f.payload.text for f in v] for k, v in by_span.items()}
    english = " ".join(f.payload.text for f in by_span["en"])
    assert wer(JFK_TEXT, english) < 0.15, english
    assert all(f.payload.language == "en" for f in by_span["en"])
    chinese = "".join(f.payload.text for f in by_span["zh"])
    assert cer_zh(AISHELL_TEXT, chinese) < 0.3, chinese
    assert by_span["zh"][0].payload.language == "zh"
    # Simplified characters, not Traditional (广州市, not 廣州市).
    assert "广" in chinese and "廣" not in chinese

    # Word timings lie inside the utterance, in media time.
    for f in finals:
        words = f.payload.words
        assert words, f.payload
        assert f.payload.start - 0.05 <= words[0].start <= words[-1].end <= f.payload.end + 0.5

    # Every utterance is bracketed by speech.start/speech.end, in order.
    starts = [e for e in events if e.type == SPEECH_START]
    ends = [e for e in events if e.type == SPEECH_END]
    assert len(starts) == len(ends) >= 2
    assert [e.payload.utterance_id for e in starts] == [e.payload.utterance_id for e in ends]


async def test_partials_are_stable_prefixes_of_the_final(models) -> None:
    jfk = load_audio(JFK_FLAC)
    audio = np.concatenate([np.zeros(SAMPLE_RATE, np.float32), jfk, np.zeros(SAMPLE_RATE, np.float32)])
    events = await run_graph(models, audio, realtime=True)
    partials = [e for e in events if e.type == TRANSCRIPT_PARTIAL]
    assert partials, "no transcript.partial while speaking"
    by_utt: dict[int, list[str]] = {}
    for p in partials:
        by_utt.setdefault(p.payload.utterance_id, []).append(p.payload.stable)
    for stables in by_utt.values():
        # stable text only ever grows: each is a prefix of the next
        for a, b in zip(stables, stables[1:]):
            assert b.lower().replace(",", "").startswith(a.lower().replace(",", "")), (a, b)


async def test_pure_silence_and_noise_give_no_events_but_silence(models) -> None:
    audio = np.concatenate([np.zeros(2 * SAMPLE_RATE, np.float32), white_noise(4, 0.05, seed=7), breathing(4, seed=9)])
    events = await run_graph(models, audio)
    assert not [e for e in events if e.type in (TRANSCRIPT_FINAL, TRANSCRIPT_PARTIAL)], [e.payload for e in events]


async def live_finals(models, audio: np.ndarray, *, speculate: bool) -> tuple[list, dict[str, int]]:
    """``audio`` through a graph at a live microphone's pace: the finals and the ASR's speculation counts."""
    graph = AnalyzerGraph(models, partial_interval_s=0.5, speculate=speculate)
    loop = asyncio.get_running_loop()
    started = loop.time()
    events = []
    for i in range(0, len(audio) - CHUNK_SAMPLES + 1, CHUNK_SAMPLES):
        graph.push_audio(AudioChunk(audio[i : i + CHUNK_SAMPLES], i / SAMPLE_RATE))
        ahead = i / SAMPLE_RATE - (loop.time() - started)
        if ahead > 0:
            await asyncio.sleep(ahead)  # a live microphone: the pause comes before the end
    graph.end_input()
    async for event in graph:
        events.append(event)
    counts = dict(graph.asr.speculations)
    await graph.aclose()
    assert all(e.type != "speech.pause" for e in events)  # internal, never published
    return [e.payload for e in events if e.type == TRANSCRIPT_FINAL], counts


async def test_a_speculative_final_is_the_same_final_earlier(models) -> None:
    """The final decoded at the VAD's pause is used when the turn ends there, and says the same."""
    speech = load_audio(AISHELL_WAV)
    audio = np.concatenate([np.zeros(SAMPLE_RATE // 2, np.float32), speech, np.zeros(SAMPLE_RATE * 3 // 2, np.float32)])
    finals = {}
    for speculate in (True, False):
        final, counts = await live_finals(models, audio, speculate=speculate)
        assert len(final) == 1
        finals[speculate] = final[0]
        if speculate:
            # a short turn: its pause comes 0.3 s into the silence, with the final's audio all heard
            assert counts["started"] >= 1 and counts["used"] == 1 and counts["filled"] == 0, counts
        else:
            assert counts == {"started": 0, "used": 0, "void": 0, "filled": 0}
    same = ("text", "start", "end", "language")
    assert {k: getattr(finals[True], k) for k in same} == {k: getattr(finals[False], k) for k in same}
    assert [w.word for w in finals[True].words] == [w.word for w in finals[False].words]


async def test_a_long_turn_is_decoded_before_its_end_is_heard(models) -> None:
    """A 9 s answer (one turn past long_turn_s) ends at a 0.25 s pause; its decode starts 0.05 s into
    the silence, with zeros for the silence not yet heard, and is the final."""
    item = next(m for m in json.loads(ANSWERS_ZH_MANIFEST.read_text(encoding="utf-8")) if m["file"] == "wealth_manager.elderly_high_risk.weak.opus")
    audio = np.concatenate([load_audio(ANSWERS_ZH / item["file"]), np.zeros(SAMPLE_RATE * 3 // 2, np.float32)])
    results = {}
    for speculate in (True, False):
        final, counts = await live_finals(models, audio, speculate=speculate)
        results[speculate] = final
        if speculate:
            assert counts["filled"] >= 1 and counts["used"] >= 1, counts
    # the same turn, and the words as well recognised as from the whole audio
    assert [(f.start, f.end) for f in results[True]] == [(f.start, f.end) for f in results[False]]
    errors = {k: cer_zh(item["text"], "".join(f.text for f in final)) for k, final in results.items()}
    print(f"CER speculative, filled: {errors[True]:.3f}; at the end: {errors[False]:.3f}")
    assert errors[True] < 0.25 and errors[True] <= errors[False] + 0.05, errors
