"""benchmarks.decode_floor times what it says: every model call of a real final, and the tokens the decoder produced."""

from __future__ import annotations

import numpy as np
import pytest

from analyzers.asr import load_whisper
from analyzers.asr.decode import WhisperDecoder
from benchmarks.decode_floor import TimedWhisper
from tests.helpers import load_audio
from tests.media_fixtures import TEST_MEDIA

pytestmark = pytest.mark.slow


def test_every_call_of_a_final_is_timed_and_its_tokens_counted() -> None:
    model = load_whisper("base", cpu_threads=1, workers=1)
    timed = model.model = TimedWhisper(model.model)
    decoder = WhisperDecoder(model)
    audio = load_audio(TEST_MEDIA / "jfk.flac")

    recognition = decoder.recognize(audio, words=True)
    parts = timed.reset()

    assert "ask not what your country can do for you" in recognition.text.lower()
    # one pass of each: the window encoded once, the language detected, decoded, the words aligned
    assert all(parts[call] > 0 for call in ("encode", "detect", "generate", "align")), parts
    # JFK's 22 words are more than 22 tokens; Whisper base never needs 4 a word for English
    assert len(recognition.words) <= parts["tokens"] <= 4 * len(recognition.words) + 10, parts
    assert timed.reset() == {"encode": 0.0, "detect": 0.0, "generate": 0.0, "align": 0.0, "tokens": 0}

    decoder.recognize(np.zeros(16_000, np.float32), words=True)  # silence: still one encode and one generate
    assert timed.reset()["generate"] > 0
