"""The streaming analyzer: one session's audio and speech events in, transcript events out.

Each session's :class:`TranscriptAnalyzer` keeps a short ring of recent
audio, follows the VAD's ``speech.start``/``speech.end`` events, decodes the
growing utterance every ``partial_interval_s`` for ``transcript.partial``
(made stable with LocalAgreement) and the whole utterance on its end for
``transcript.final`` with word timings, through the process's shared
:class:`~analyzers.asr.runner.AsrRunner`.

Partials cost most of a speaking candidate's CPU (each re-decodes the
utterance so far) and are only a preview: they are decoded only while
``partials()`` says someone reads them (the candidate's live captions, an HR
watcher), and their interval stretches up to ``partial_interval_max_s`` when
the runner's workers are busy (:meth:`~analyzers.asr.scheduler.DecodeScheduler.partial_interval`).
Finals do not depend on partials: the same audio gives the same final.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from events import AnalyzerEvent, SpeechEnd, SpeechPause, SpeechStart, TranscriptFinal, TranscriptPartial
from events import Word as EventWord
from media.frames import CHUNK_SAMPLES, SAMPLE_RATE, AudioChunk

from ..agreement import LocalAgreement, join_tokens
from ..base import Analyzer
from ..overlap import words_after, words_before
from .decode import _CJK_GAP, Word
from .runner import AsrRunner


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
        partial_interval_max_s: float | None = None,
        partials: Callable[[], bool] | None = None,
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
        self._partial_interval_max = partial_interval_s if partial_interval_max_s is None else partial_interval_max_s
        # Whether anyone reads partials now (None: always); asked before each one.
        self._partials_read = partials
        self.partials_skipped = 0  # partials not decoded because nobody read them
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
        # Decode a final at the VAD's pause rather than at its end
        # (min_silence_s): the audio is the same (silence not yet heard is
        # decoded as zeros), the wait overlaps.
        self.speculate = speculate
        # "filled": started before the final's audio was all heard (zeros for the rest)
        self.speculations = {"started": 0, "used": 0, "void": 0, "filled": 0}
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
        elif isinstance(item, AnalyzerEvent) and isinstance(item.payload, SpeechStart):
            start = float(item.media_time or 0.0)
            continues = self._split_at is not None and abs(start - self._split_at) < 1e-3
            self._current = _Utterance(id=item.payload.utterance_id, start=start, continues=continues)
            self._split_at = None
        elif isinstance(item, AnalyzerEvent) and isinstance(item.payload, SpeechPause):
            self._speculate(item.payload)
        elif isinstance(item, AnalyzerEvent) and isinstance(item.payload, SpeechEnd):
            ended = item.payload
            utt = self._current
            if utt is None or utt.id != ended.utterance_id:
                utt = _Utterance(id=ended.utterance_id, start=ended.start)
            utt.end = ended.end
            utt.split_end = ended.split
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

    def _speculate(self, pause: SpeechPause) -> None:
        """Start the final's decode now, if the worker is free and the utterance is long enough.

        Only on an idle worker: under load a speculation that turns out void
        (the speaker goes on) would delay other sessions' finals; and queued
        behind them, after every final (:data:`~analyzers.asr.scheduler.SPECULATION`).
        The pause may come before the final's end has been heard (a long turn's
        0.25 s silence): the rest, silence by then, is decoded as zeros.
        """
        utt = self._current
        if not self.speculate or utt is None or utt.id != pause.utterance_id:
            return
        end = pause.end
        self._drop_speculation(utt)
        if end - utt.start < self._min_final or self._runner.queued > 0:
            return
        audio, first = self._final_audio(utt, end)  # the same audio (and first sample) as the final's, if it ends here
        if len(audio) < self._min_final * SAMPLE_RATE:
            return
        if end > self.audio_end + 1e-6:
            # The final's chunks run to the one holding ``end``: as many samples, zeros for those not heard yet.
            want = math.ceil((end - first) * SAMPLE_RATE / CHUNK_SAMPLES - 1e-6) * CHUNK_SAMPLES
            audio = np.concatenate([audio, np.zeros(max(0, want - len(audio)), np.float32)])
            self.speculations["filled"] += 1
        hotwords = self.hotwords
        task = asyncio.ensure_future(
            self._runner.speculation(
                lambda: self._runner.recognize(audio, language=None, words=True, hotwords=hotwords), stream=self
            )
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
            # The base interval is the least a stretch gives: the busy meter is asked only once that is up
            # (audio wakes this loop every 32 ms).
            interval = self._partial_interval
            if now - last_partial_at >= interval:
                interval = self._runner.partial_interval(interval, self._partial_interval_max)
            if now - last_partial_at < interval:
                # Come back when the interval is up (audio keeps waking us too).
                loop.call_later(interval - (now - last_partial_at), self._wake.set)
                continue
            last_partial_at = now
            if self._partials_read is not None and not self._partials_read():
                self.partials_skipped += 1  # nobody reads it: asked again an interval later
                continue
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
                end,
                TranscriptPartial(
                    utterance_id=utt.id,
                    text=text,
                    stable=utt.agreement.stable_text,
                    unstable=utt.agreement.tentative_text,
                    language=utt.language,
                    start=round(utt.start, 3),
                    audio_end=round(end, 3),
                ),
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
            self._runner.promote(self)  # still queued: it is this utterance's final now
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
                end,
                TranscriptFinal(
                    utterance_id=utt.id,
                    text=text,
                    language=rec.language,
                    language_probability=rec.language_probability,
                    start=round(utt.start, 3),
                    end=round(end, 3),
                    words=tuple(EventWord(w.word, w.start, w.end, w.probability) for w in words),
                    model=self._runner.model_name,
                ),
            )
        )

    @staticmethod
    def _join_words(words: Sequence[Word], language: str) -> str:
        """An utterance's text from its words (Whisper's words carry their own spaces and punctuation)."""
        text = "".join(w.word for w in words).strip()
        return _CJK_GAP.sub("", text) if language == "zh" else text
