"""The trimmed encoder window gives the same words as Whisper's 30 s window."""

from __future__ import annotations

import re

import jiwer
import pytest

from analyzers.asr import AsrRunner, load_whisper
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
