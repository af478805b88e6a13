"""Turn segmentation: per-chunk speech probabilities -> utterance boundaries.

A pure, synchronous state machine (no model, no clock): feed it the VAD
probability of each 32 ms chunk with the chunk's media times, and it says
when an utterance starts and ends. Hysteresis (a lower threshold to stay in
speech), a minimum speech length (clicks and breaths are not turns), a
minimum silence to end a turn, padding on both sides, and a maximum length
after which a long answer is split.
"""

from __future__ import annotations

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
    forced: bool = False  # split at max_utterance_s


@dataclass(frozen=True)
class TurnPause:
    """The speaker has been silent for ``pad_s``: if the silence lasts to
    ``min_silence_s`` the turn ends at exactly ``end``, so its final audio is
    already complete and ASR may decode it speculatively. Speech resuming
    before then makes it void (no event says so: the turn just goes on)."""

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
        if prob < cfg.stay_threshold:
            if self._silence_start is None:
                self._silence_start = start
            if end - self._silence_start >= cfg.min_silence_s:
                out.append(self._close(min(end, self._silence_start + cfg.pad_s)))
                return out
            if not self._paused and end - self._silence_start >= cfg.pad_s:
                self._paused = True
                out.append(
                    TurnPause(self._next_id - 1, round(self._turn_start, 3), round(self._silence_start + cfg.pad_s, 3))
                )
        else:
            self._silence_start = None
            self._paused = False
        if end - self._turn_start >= cfg.max_utterance_s:
            out.append(self._close(end, forced=True))
            if prob >= cfg.threshold:
                out.append(self._open(end))
        return out

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
        boundary = TurnStart(self._next_id, round(start, 3))
        self._next_id += 1
        return boundary

    def _close(self, end: float, forced: bool = False) -> TurnEnd:
        self._in_turn = False
        self._silence_start = None
        self._paused = False
        self._floor = end
        return TurnEnd(self._next_id - 1, round(self._turn_start, 3), round(end, 3), forced)
