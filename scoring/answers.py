"""Live scoring of a structured interview: which words belong to which answer.

:class:`AnswerScoring` is a subscriber. It takes the interview's flow events
(``answer.started``, ``answer.ended``) and the analyzers' events
(``transcript.final``, face and affect events) in whatever order they
arrive, and publishes ``score.provisional`` while an answer is given and
``score.question`` when it ends.

Every word belongs to at most one answer, by its media time: the answer
whose window (``answer.started`` .. ``answer.ended``) holds the word's
midpoint. An utterance that straddles two windows is split between them by
its words (:func:`part_in_window`); a word said outside every window (while
preparing, between questions) is in no answer. So a transcript that arrives
late, after the candidate has moved on, still lands in the answer it was
spoken in, never in the next one, and the answer it belongs to is scored
again (a new ``score.question`` with a higher ``revision``).

An answer with no words in its window scores ``no_answer``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from events import (
    AnswerEnded,
    AnswerStarted,
    Payload,
    ScoreProvisional,
    ScoreQuestion,
    SessionError,
    TranscriptFinal,
    Word,
)
from jobs.models import Question

from .affect import AFFECT_EVENTS
from .question import FACE_EVENTS, QuestionScorer, ScoreWeights

log = logging.getLogger(__name__)


Publish = Callable[["float | None", Payload], Any]


def _midpoint(word: Word) -> float:
    return (word.start + word.end) / 2.0


def part_in_window(utterance: TranscriptFinal, start: float, end: float) -> TranscriptFinal | None:
    """The part of a ``transcript.final`` spoken in ``[start, end)``, or None.

    A word is in the window when its midpoint is. An utterance wholly inside
    comes back unchanged; one that straddles the window's edge comes back
    with only its words inside, its text made of them and its start and end
    theirs. Without word timings the utterance's own midpoint decides.
    """
    words = utterance.words
    if not words:
        mid = (utterance.start + utterance.end) / 2.0
        return utterance if start <= mid < end else None
    inside = tuple(w for w in words if start <= _midpoint(w) < end)
    if not inside:
        return None
    if len(inside) == len(words):
        return utterance
    return dataclasses.replace(
        utterance,
        words=inside,
        text="".join(w.word for w in inside).strip(),
        start=round(inside[0].start, 3),
        end=round(inside[-1].end, 3),
    )


@dataclass
class Answer:
    """One answer window and what was said in it."""

    index: int  # the question's position in the interview
    question: Question
    start: float
    scorer: QuestionScorer
    end: float | None = None  # None while the candidate answers
    revision: int = -1  # of the last score.question published (-1: none yet)
    used: frozenset[Any] = frozenset()  # utterance ids in the last score.question
    finishing: bool = False
    dirty: bool = False  # words arrived after the last score.question
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one score.question at a time, in order

    @property
    def window(self) -> tuple[float, float]:
        return self.start, (math.inf if self.end is None else self.end)


@dataclass(frozen=True)
class AnswerScoringConfig:
    settle_timeout_s: float = 8.0  # wait for an ended answer's last finals before scoring it
    drain_timeout_s: float = 60.0  # wait for every answer's finals before the interview ends
    provisional_every_s: float = 3.0  # at most one score.provisional per this much media time


class AnswerScoring:
    """Owns the answer windows of one session and publishes their scores.

    ``questions``: the interview's questions by index; ``publish(type,
    media_time, payload)`` appends an event to the session's log;
    ``settled(t)`` says whether every utterance that began before ``t`` has
    its final; ``flush()`` asks the analyzers to close an utterance cut off by
    the end of an answer; ``clock()`` is the session's media time.
    """

    def __init__(
        self,
        questions: Sequence[Question],
        encoder: Any,
        *,
        publish: Publish,
        settled: Callable[[float], bool] = lambda t: True,
        flush: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = lambda: 0.0,
        weights: ScoreWeights | None = None,
        accommodation: bool = False,
        config: AnswerScoringConfig | None = None,
    ) -> None:
        self.questions = list(questions)
        self._encoder = encoder
        self._publish = publish
        self._settled = settled
        self._flush = flush
        self._clock = clock
        self.weights = weights
        self.accommodation = accommodation
        self.config = config or AnswerScoringConfig()
        self.answers: list[Answer] = []
        self._finals: dict[Any, TranscriptFinal] = {}  # every transcript.final of the session, by utterance
        self._tasks: set[asyncio.Task[Any]] = set()
        self._last_provisional = -math.inf
        self._replaying = False

    # -- state ---------------------------------------------------------------
    @property
    def current(self) -> Answer | None:
        """The answer being given (its window still open)."""
        last = self.answers[-1] if self.answers else None
        return last if last is not None and last.end is None else None

    def answer_for(self, question_id: str) -> Answer | None:
        return next((a for a in reversed(self.answers) if a.question.id == question_id), None)

    # -- inputs --------------------------------------------------------------
    def on_event(self, event: Any) -> None:
        """Take one event (an Event, a FlowEvent or an AnalyzerEvent), in any order."""
        payload, media_time = event.payload, event.media_time
        if isinstance(payload, AnswerStarted):
            self._answer_started(payload, media_time)
        elif isinstance(payload, AnswerEnded):
            self._answer_ended(payload, media_time)
        elif isinstance(payload, TranscriptFinal):
            self._final(payload)
        elif payload.type in FACE_EVENTS or payload.type in AFFECT_EVENTS:
            for answer in self.answers:
                answer.scorer.feed(event)
        elif isinstance(payload, ScoreQuestion) and self._replaying:
            answer = self.answer_for(payload.question_id)
            if answer is not None:
                answer.revision = payload.revision
                answer.used = frozenset(payload.utterance_ids)
                answer.dirty = False

    def replay(self, events: Iterable[Any]) -> None:
        """Rebuild the windows and what was said from a session's log, publishing nothing.

        After a restart an answer that was on carries on with the words said
        before; answers already scored are scored again only if the log
        holds words their last score did not see.
        """
        self._replaying = True
        try:
            for event in events:
                self.on_event(event)
        finally:
            self._replaying = False
        for answer in self.answers:
            answer.dirty = answer.end is not None and frozenset(answer.scorer.utterance_ids) != answer.used

    def _answer_started(self, payload: AnswerStarted, media_time: float | None) -> None:
        index = payload.index
        question = self.questions[index] if 0 <= index < len(self.questions) else None
        if question is None or question.rubric is None or self._encoder is None:
            return  # the practice question is not scored
        at = float(media_time or 0.0)
        current = self.current
        if current is not None and current.index == index:
            return  # the same answer goes on after a reconnect: its window stays open
        if current is not None:  # never two open windows (a lost answer.ended)
            self._close(current, at)
        scorer = QuestionScorer(
            question, self._encoder, weights=self.weights, accommodation=self.accommodation, window=(at, math.inf)
        )
        answer = Answer(index=index, question=question, start=at, scorer=scorer)
        self.answers.append(answer)
        self._refeed(answer)
        self._last_provisional = at

    def _answer_ended(self, payload: AnswerEnded, media_time: float | None) -> None:
        current = self.current
        if current is None or current.question.id != payload.question_id:
            return
        end = payload.end
        self._close(current, end)
        if not self._replaying:
            current.finishing = True
            self._spawn(self._finish(current))

    def _close(self, answer: Answer, end: float) -> None:
        answer.end = max(answer.start, end)
        answer.scorer.close_window(answer.end)
        self._refeed(answer)
        answer.dirty = True

    def _final(self, payload: TranscriptFinal) -> None:
        key = payload.utterance_id
        key = key if key is not None else f"anon-{len(self._finals)}"
        if self._finals.get(key) == payload:
            return  # the same final again (a replay)
        self._finals[key] = payload
        for answer in self.answers:
            part = part_in_window(payload, *answer.window)
            if part is None:
                continue
            answer.scorer.feed_utterance(key, part)
            if self._replaying:
                continue
            if answer.end is None:
                self._maybe_provisional(answer, payload)
            elif not answer.finishing:
                # Words of an answer that was already scored: score it again.
                answer.dirty = True
                self._spawn(self._rescore(answer))

    def _refeed(self, answer: Answer) -> None:
        """Give ``answer`` exactly the parts of the finals its window holds."""
        parts = {}
        for key, payload in self._finals.items():
            part = part_in_window(payload, *answer.window)
            if part is not None:
                parts[key] = part
        answer.scorer.set_utterances(parts)

    # -- outputs -------------------------------------------------------------
    def _maybe_provisional(self, answer: Answer, payload: TranscriptFinal) -> None:
        at = payload.end or self._clock()
        if at - self._last_provisional < self.config.provisional_every_s:
            return
        self._last_provisional = at
        self._spawn(self._score(answer, final=False))

    async def _finish(self, answer: Answer) -> None:
        """Score an ended answer once its last words are transcribed (or the wait runs out)."""
        try:
            self._flush()  # close an utterance cut off by the end of the answer
            assert answer.end is not None
            await self._wait_settled(answer.end, self.config.settle_timeout_s)
        finally:
            answer.finishing = False
        await self._score(answer, final=True)

    async def _rescore(self, answer: Answer) -> None:
        await asyncio.sleep(0)  # let a burst of late finals land first
        if not answer.finishing:
            await self._score(answer, final=True, only_if_dirty=True)

    async def _wait_settled(self, until: float, timeout_s: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not self._settled(until):
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.1)
        return True

    async def _score(self, answer: Answer, *, final: bool, only_if_dirty: bool = False) -> None:
        if not final:
            try:
                provisional = ScoreProvisional(**await answer.scorer.provisional())
            except Exception as exc:
                self._failed(exc)
                return
            if answer.end is None:  # a provisional never follows the answer's final score
                self._publish(self._clock(), provisional)
            return
        async with answer.lock:
            if only_if_dirty and not answer.dirty:
                return
            answer.dirty = False
            used = frozenset(answer.scorer.utterance_ids)
            try:
                payload = dict(await answer.scorer.final())
            except Exception as exc:
                answer.dirty = True
                self._failed(exc)
                return
            self._published_final(answer, used, payload)

    def _failed(self, exc: BaseException) -> None:
        log.error("scoring failed: %s", type(exc).__name__)
        self._publish(self._clock(), SessionError(message="scoring failed", error=type(exc).__name__))

    def _published_final(self, answer: Answer, used: frozenset[Any], payload: dict[str, Any]) -> None:
        answer.revision += 1
        answer.used = used
        score = ScoreQuestion(
            **payload,
            revision=answer.revision,
            utterance_ids=tuple(sorted(used, key=str)),
            window={"start": round(answer.start, 3), "end": round(answer.end or answer.start, 3)},
        )
        self._publish(self._clock(), score)

    async def drain(self, timeout_s: float | None = None) -> bool:
        """Wait until every ended answer has its last finals and a score that saw them.

        Returns False when the wait ran out (a final may still come: it will
        re-score its answer then).
        """
        loop = asyncio.get_running_loop()
        timeout_s = self.config.drain_timeout_s if timeout_s is None else timeout_s
        deadline = loop.time() + timeout_s
        ended = [a.end for a in self.answers if a.end is not None]
        if ended:
            await self._wait_settled(max(ended), timeout_s)
        for _ in range(10):  # a scoring that keeps failing must not hold the interview's end
            current = asyncio.current_task()
            waiting = [t for t in self._tasks if t is not current and not t.done()]
            if waiting:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                await asyncio.wait(waiting, timeout=remaining)
                continue
            stale = [a for a in self.answers if a.end is not None and a.dirty]
            if not stale:
                return True
            for answer in stale:
                self._spawn(self._score(answer, final=True, only_if_dirty=True))
        return False

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro, name="answer-scoring")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

