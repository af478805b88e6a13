"""Turn segmentation: per-chunk speech probabilities -> utterance boundaries.

A pure, synchronous state machine (no model, no clock): feed it the VAD
probability of each 32 ms chunk with the chunk's media times, and it says
when an utterance starts and ends. Hysteresis (a lower threshold to stay in
speech), a minimum speech length (clicks and breaths are not turns), a
minimum silence to end a turn, padding on both sides, and a maximum length
after which a long answer is split.

Long answers are cut into turns as the candidate speaks, so that each part
is transcribed while the rest is still being said and the end of a 60 s
answer costs no more than the end of a 10 s one:

* once a turn has run ``long_turn_s``, a shorter silence ends it
  (``long_turn_min_silence_s``: a breath between clauses rather than the end
  of the answer). The cut lies in silence, so no word straddles it; the next
  words start a new turn as usual.
* a turn that reaches ``max_utterance_s`` without such a pause is split at the
  quietest moment (the lowest speech probability) of its last
  ``split_search_s``, and at least ``split_margin_s`` before the limit, so the
  audio on both sides of the cut is already there: ASR decodes across the cut
  on both sides and keeps each word once (analyzers/overlap.py).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class TurnConfig:
    threshold: float = 0.5
    neg_threshold: float | None = None  # default: threshold - 0.15
    min_speech_s: float = 0.25
    min_silence_s: float = 0.5
    pad_s: float = 0.2
    max_utterance_s: float = 28.0
    # A pending start is abandoned after this much silence.
    pending_gap_s: float = 0.15
    # A turn that has run this long ends at a shorter silence (None: never).
    # Chosen on 30-100 s answers (benchmarks/README.md, "Long answers"): 8 s
    # and 0.25 s (a sentence's pause, not a comma's) kept the streamed error
    # at the whole-file one; 6 s lost context (+0.02 CER), 10 s and 0.3 s left
    # English parts of 17-19 s (finals 2 s after the answer).
    long_turn_s: float | None = 8.0
    long_turn_min_silence_s: float = 0.25
    # Where a forced split may cut: the quietest chunk among the last
    # split_search_s before max_utterance_s, at least split_margin_s back.
    split_search_s: float = 4.0
    split_margin_s: float = 1.0
    # When a final's decode may start (a TurnPause): speculate_lead_s before
    # the silence would end the turn (0.3 s into a short turn's 0.5 s, 0.05 s
    # into a long turn's 0.25 s: before pad_s is heard). None: once pad_s of
    # silence is in, whatever the turn (the rule before issue 13). Measured on
    # the answers_zh recordings (benchmarks/README.md, "Speculative finals"):
    # Mandarin answers pause 0.2-0.3 s inside sentences all the time, so a pause
    # at 0.2 s in a short turn was void (speech went on) twice for each final.
    speculate_lead_s: float | None = 0.2
    # A short turn's lead (its silence is 0.5 s): 0.1 s, at 0.4 s of silence. With 0.2 (at 0.3 s)
    # the answers_zh recordings' short turns gave 99 void speculations for 87 used ones (419 s of
    # audio decoded for nothing, against 863 s of speech); with 0.1, 27 (119 s), each used one 0.1 s
    # later (benchmarks/README.md, "Fewer void speculations"). None: speculate_lead_s.
    speculate_short_lead_s: float | None = 0.1

    @property
    def stay_threshold(self) -> float:
        return self.neg_threshold if self.neg_threshold is not None else max(0.05, self.threshold - 0.15)


@dataclass(frozen=True)
class TurnStart:
    utterance_id: int
    start: float


@dataclass(frozen=True)
class TurnEnd:
    utterance_id: int
    start: float
    end: float
    forced: bool = False  # split near max_utterance_s; the next turn starts at ``end``


@dataclass(frozen=True)
class TurnPause:
    """The speaker has gone quiet: if the silence lasts to ``min_silence_s``
    the turn ends at exactly ``end``, so ASR may decode its final
    speculatively. The pause may come before ``end`` (less than ``pad_s`` of
    silence heard, see ``TurnConfig.speculate_lead_s``): the audio still to
    come up to ``end`` is silence by then, and ASR decodes zeros in its place.
    Speech resuming before the end makes the pause void (no event says so: the
    turn just goes on)."""

    utterance_id: int
    start: float
    end: float


TurnBoundary = TurnStart | TurnEnd | TurnPause


class TurnSegmenter:
    def __init__(self, config: TurnConfig | None = None) -> None:
        self.config = config or TurnConfig()
        self._next_id = 1
        self._in_turn = False
        self._turn_start = 0.0
        self._pending_start: float | None = None
        self._pending_speech = 0.0
        self._pending_gap = 0.0
        self._silence_start: float | None = None
        self._paused = False  # a TurnPause was given for the current silence
        self._last_end_time = 0.0
        self._floor = 0.0  # a turn never starts before the previous one ended
        # The current turn's recent chunks (probability, start, end), where a forced split may cut.
        self._recent: deque[tuple[float, float, float]] = deque()

    @property
    def in_turn(self) -> bool:
        return self._in_turn

    @property
    def current_id(self) -> int | None:
        return self._next_id - 1 if self._in_turn else None

    def feed(self, prob: float, start: float, end: float) -> list[TurnBoundary]:
        cfg = self.config
        out: list[TurnBoundary] = []
        self._last_end_time = end
        duration = end - start
        if not self._in_turn:
            if prob >= cfg.threshold:
                if self._pending_start is None:
                    self._pending_start = start
                    self._pending_speech = 0.0
                self._pending_speech += duration
                self._pending_gap = 0.0
                if self._pending_speech >= cfg.min_speech_s:
                    out.append(self._open(max(self._floor, self._pending_start - cfg.pad_s)))
            elif self._pending_start is not None:
                self._pending_gap += duration
                if prob < cfg.stay_threshold and self._pending_gap > cfg.pending_gap_s:
                    self._pending_start = None
            return out

        # in a turn
        self._recent.append((prob, start, end))
        while self._recent and self._recent[0][1] < end - cfg.split_search_s - cfg.split_margin_s:
            self._recent.popleft()
        if prob < cfg.stay_threshold:
            if self._silence_start is None:
                self._silence_start = start
            if end - self._silence_start >= self._min_silence():
                out.append(self._close(min(end, self._silence_start + cfg.pad_s)))
                return out
            if not self._paused and end - self._silence_start >= self._pause_after():
                self._paused = True
                out.append(
                    TurnPause(self._next_id - 1, round(self._turn_start, 3), round(self._silence_start + cfg.pad_s, 3))
                )
        else:
            self._silence_start = None
            self._paused = False
        if end - self._turn_start >= cfg.max_utterance_s:
            cut = self.split_point(end)
            after = [chunk for chunk in self._recent if chunk[1] >= cut]
            out.append(self._close(cut, forced=True))
            # The audio after the cut is the next turn's, whatever the probability now.
            out.append(self._open(cut))
            for p, s, e in after:  # carry the silence heard since the cut into the new turn
                self._recent.append((p, s, e))
                if p < cfg.stay_threshold:
                    self._silence_start = s if self._silence_start is None else self._silence_start
                else:
                    self._silence_start = None
        return out

    def _min_silence(self) -> float:
        """The silence that ends the current turn: shorter once the turn is long."""
        cfg = self.config
        if cfg.long_turn_s is not None and self._silence_start is not None:
            if self._silence_start - self._turn_start >= cfg.long_turn_s:
                return min(cfg.min_silence_s, cfg.long_turn_min_silence_s)
        return cfg.min_silence_s

    def _pause_after(self) -> float:
        """The silence after which a final's decode may start (see ``TurnConfig.speculate_lead_s``)."""
        cfg = self.config
        if cfg.speculate_lead_s is None:
            return cfg.pad_s
        silence = self._min_silence()
        lead = cfg.speculate_lead_s
        if cfg.speculate_short_lead_s is not None and silence >= cfg.min_silence_s:  # not a long turn's shorter silence
            lead = cfg.speculate_short_lead_s
        return max(0.0, silence - lead)

    def split_point(self, now: float) -> float:
        """Where to cut the current turn at ``now``: the middle of its quietest recent chunk.

        Among the chunks that end at least ``split_margin_s`` before ``now``
        and start at most ``split_search_s`` before that, and in the second
        half of the turn, the one with the lowest speech probability (the
        latest of equals); ``now`` if there is none.
        """
        cfg = self.config
        latest = now - cfg.split_margin_s
        earliest = max(latest - cfg.split_search_s, self._turn_start + cfg.max_utterance_s / 2)
        best: tuple[float, float] | None = None
        for prob, start, end in self._recent:
            if start >= earliest and end <= latest + 1e-9 and (best is None or prob <= best[0]):
                best = (prob, (start + end) / 2)
        return now if best is None else best[1]

    def finish(self) -> list[TurnBoundary]:
        """End of input: close an open turn at the last media time seen."""
        if not self._in_turn:
            self._pending_start = None
            return []
        end = self._silence_start + self.config.pad_s if self._silence_start is not None else self._last_end_time
        return [self._close(min(end, self._last_end_time))]

    def _open(self, start: float) -> TurnStart:
        self._in_turn = True
        self._turn_start = start
        self._pending_start = None
        self._silence_start = None
        self._paused = False
        self._recent.clear()
        boundary = TurnStart(self._next_id, round(start, 3))
        self._next_id += 1
        return boundary

    def _close(self, end: float, forced: bool = False) -> TurnEnd:
        self._in_turn = False
        self._silence_start = None
        self._paused = False
        self._floor = end
        return TurnEnd(self._next_id - 1, round(self._turn_start, 3), round(end, 3), forced)
