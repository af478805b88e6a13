"""The trimmed encoder window gives the same words as Whisper's 30 s window."""

from __future__ import annotations

import re

import jiwer
import pytest

from analyzers.asr import AsrRunner, load_whisper
from benchmarks.encode_once import CountingEncoder
from tests.helpers import load_audio
from tests.media_fixtures import TEST_MEDIA

pytestmark = pytest.mark.slow

CLIPS = ["jfk.flac", "hotwords.mp3", "aishell-BAC009S0724W0121.wav", "wenet_mid.wav"]


def _tokens(text: str) -> str:
    # words for English, characters for Chinese; no case or punctuation
    text = re.sub(r"[^\w\s]", " ", text.lower())
    text = re.sub(r"([\u4e00-\u9fff])", r" \1 ", text)
    return " ".join(text.split())


@pytest.fixture(scope="module")
def runners():
    full = AsrRunner(load_whisper("base", window="full"), model_name="base")
    trim = AsrRunner(load_whisper("base", window="trim"), model_name="base")
    yield full, trim
    full.close()
    trim.close()


@pytest.mark.parametrize("clip", CLIPS)
def test_trimmed_window_keeps_the_words(runners, clip: str) -> None:
    full, trim = runners
    audio = load_audio(TEST_MEDIA / clip)
    reference = full.recognize(audio)
    trimmed = trim.recognize(audio)
    assert reference.text, clip
    assert trimmed.language == reference.language
    assert jiwer.wer(_tokens(reference.text), _tokens(trimmed.text)) <= 0.1, (reference.text, trimmed.text)
    # word timings still cover the speech
    assert trimmed.words and abs(trimmed.words[-1].end - reference.words[-1].end) < 0.8


ANSWERS = ["answers_zh/wealth_manager.grow_aum.strong.opus", "answers_zh/account_manager.loan_red_flags.weak.opus", "jfk.flac"]


@pytest.mark.parametrize("clip", ANSWERS)
def test_a_final_encodes_its_window_once_and_says_the_same(runners, clip: str) -> None:
    """faster-whisper encodes a window to detect its language, then again to decode it: now once, the same words."""
    _, trim = runners
    twice = load_whisper("base", encode_once=False)  # as before: trimmed, the window encoded twice
    audio = load_audio(TEST_MEDIA / clip)[: 16000 * 12]
    counted = trim.decoder.model.model = CountingEncoder(trim.decoder.model.model)
    counted_twice = twice.model = CountingEncoder(twice.model)
    plain = AsrRunner(twice, model_name="base")
    try:
        once = trim.recognize(audio)  # a final: language detected, word timings
        before = plain.recognize(audio)
    finally:
        trim.decoder.model.model = counted._model
        plain.close()
    assert counted_twice.encodes == 2 and counted.encodes == 1
    assert once.text and once.text == before.text and once.language == before.language
    assert once.words == before.words
