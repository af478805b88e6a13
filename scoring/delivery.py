"""Delivery: speech rate, pauses and filler words, from word timings.

Input: the ``transcript.final`` payloads of one answer (word times are media
times). Everything is measured between the answer's first and last word:
the silence before the candidate starts is thinking time, not a pause.

* Speech rate: Hanzi per minute (CPM) for Mandarin, words per minute (WPM)
  for English (a Latin word in Mandarin speech counts as one unit). The
  denominator is speaking time: first word to last word, less long pauses
  (which are counted on their own, not twice).
* Pauses: gaps between consecutive words longer than ``pause_s`` (0.5 s);
  long pauses are over ``long_pause_s`` (3 s).
* Fillers, counted conservatively: 嗯 呃 um uh er erm hmm ah always;
  额 and 啊 only standing alone or opening a clause (啊 closing a sentence is a
  particle, 金额 is a word); 那个 就是 like "you know" only standing alone
  (a pause or punctuation on both sides, or next to another filler) or said
  twice in a row (那个那个): "那个客户" is "that client", "就是说" is a phrase.

The delivery sub-score (0-100) is the mean of three bands:

* rate: 100 inside the comfortable range (zh 180-300 CPM, en 110-170 WPM),
  falling linearly to 0 at zh 90 / 400 CPM, en 60 / 230 WPM;
* pauses: the lower of (share of time in pauses: 100 up to 25 %, 0 from 60 %)
  and (long pauses per minute: 100 up to 1, 0 from 4);
* fillers: 100 up to 4 per minute, 0 from 16 per minute.

Under ``min_speech_s`` of speech there is nothing fair to measure: the
sub-score is ``None`` (and drops out of the overall score).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .segment import Token, ordered_utterances, transcript_tokens

HESITATIONS_ALWAYS = frozenset({"嗯", "呃", "um", "umm", "uh", "uhh", "uhm", "er", "erm", "hmm", "mm", "ah"})
HESITATIONS_STANDALONE = frozenset({"额", "啊"})  # also clause-initial
PHRASE_FILLERS = {("那", "个"): "那个", ("就", "是"): "就是", ("you", "know"): "you know", ("like",): "like"}


@dataclass(frozen=True)
class DeliveryConfig:
    pause_s: float = 0.5
    long_pause_s: float = 3.0
    boundary_s: float = 0.3  # a gap this long sets a word apart (for fillers)
    rate_zh: tuple[float, float, float, float] = (90.0, 180.0, 300.0, 400.0)  # CPM: 0, 100 from, 100 to, 0
    rate_en: tuple[float, float, float, float] = (60.0, 110.0, 170.0, 230.0)  # WPM
    pause_share_ok: float = 0.25
    pause_share_zero: float = 0.60
    long_pauses_ok_per_min: float = 1.0
    long_pauses_zero_per_min: float = 4.0
    fillers_ok_per_min: float = 4.0
    fillers_zero_per_min: float = 16.0
    min_speech_s: float = 5.0


@dataclass(frozen=True)
class Filler:
    text: str
    start: float


def dominant_language(utterances: Iterable[Mapping[str, Any]], tokens: Sequence[Token] | None = None) -> str:
    tokens = tokens if tokens is not None else transcript_tokens(utterances)
    counts: Counter[str] = Counter(t.language for t in tokens)
    if not counts:
        languages = [str(u.get("language") or "") for u in ordered_utterances(utterances)]
        return languages[0] if languages and languages[0] else "en"
    return min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]


def find_fillers(tokens: Sequence[Token], config: DeliveryConfig | None = None) -> list[Filler]:
    config = config or DeliveryConfig()
    n = len(tokens)
    keys = [t.text.lower() for t in tokens]

    def boundary_before(i: int) -> bool:
        if i <= 0 or i >= n:
            return True
        a, b = tokens[i - 1], tokens[i]
        return a.punct_after or a.utterance != b.utterance or b.start - a.end >= config.boundary_s - 1e-9

    always = [k in HESITATIONS_ALWAYS for k in keys]
    # 额 / 啊 count when they open a clause (or stand alone)
    standalone = [keys[i] in HESITATIONS_STANDALONE and boundary_before(i) for i in range(n)]
    hesitation = [a or s for a, s in zip(always, standalone)]

    def open_before(i: int) -> bool:
        return boundary_before(i) or (i > 0 and hesitation[i - 1])

    def open_after(j: int) -> bool:  # j: index of the phrase's last token
        return boundary_before(j + 1) or (j + 1 < n and hesitation[j + 1])

    found: list[Filler] = []
    i = 0
    while i < n:
        if hesitation[i]:
            found.append(Filler(tokens[i].text.lower(), tokens[i].start))
            j = i + 1
            while j < n and keys[j] == keys[i] and not boundary_before(j):  # 嗯嗯 is one
                j += 1
            i = j
            continue
        matched = False
        for pattern, name in PHRASE_FILLERS.items():
            k = len(pattern)
            if tuple(keys[i : i + k]) != pattern or any(boundary_before(i + m) for m in range(1, k)):
                continue
            repeated = tuple(keys[i + k : i + 2 * k]) == pattern
            if (open_before(i) and open_after(i + k - 1)) or repeated:
                found.append(Filler(name, tokens[i].start))
                i += 2 * k if repeated else k  # 那个那个: one filler, then move on
                matched = True
                break
        if not matched:
            i += 1
    return found


def _band(value: float, zero_low: float, ok_low: float, ok_high: float, zero_high: float) -> float:
    if value <= zero_low or value >= zero_high:
        return 0.0
    if value < ok_low:
        return 100.0 * (value - zero_low) / (ok_low - zero_low)
    if value > ok_high:
        return 100.0 * (zero_high - value) / (zero_high - ok_high)
    return 100.0


def _falling(value: float, ok: float, zero: float) -> float:
    if value <= ok:
        return 100.0
    if value >= zero:
        return 0.0
    return 100.0 * (zero - value) / (zero - ok)


def measure_delivery(utterances: Iterable[Mapping[str, Any]], config: DeliveryConfig | None = None) -> dict[str, Any]:
    """The ``delivery`` section of a question score (metrics and sub-score)."""
    config = config or DeliveryConfig()
    utterances = list(utterances)
    tokens = transcript_tokens(utterances)
    language = dominant_language(utterances, tokens)
    unit = "cpm" if language == "zh" else "wpm"
    rate_band = config.rate_zh if language == "zh" else config.rate_en
    if not tokens:
        return _empty(language, unit, rate_band)
    gaps = [max(0.0, b.start - a.end) for a, b in itertools.pairwise(tokens)]
    pauses = [g for g in gaps if g > config.pause_s]
    long_pauses = [g for g in pauses if g > config.long_pause_s]
    span = max(0.0, tokens[-1].end - tokens[0].start)
    speaking = max(1e-6, span - sum(long_pauses))
    minutes = max(span, 1e-6) / 60.0
    rate = len(tokens) / (speaking / 60.0)
    fillers = find_fillers(tokens, config)
    by_kind = Counter(f.text for f in fillers)

    pause_share = sum(pauses) / span if span > 0 else 0.0
    long_per_min = len(long_pauses) / minutes
    fillers_per_min = len(fillers) / minutes
    rate_score = _band(rate, *rate_band)
    pause_score = min(
        _falling(pause_share, config.pause_share_ok, config.pause_share_zero),
        _falling(long_per_min, config.long_pauses_ok_per_min, config.long_pauses_zero_per_min),
    )
    filler_score = _falling(fillers_per_min, config.fillers_ok_per_min, config.fillers_zero_per_min)
    measured = span >= config.min_speech_s
    score = (rate_score + pause_score + filler_score) / 3.0 if measured else None
    return {
        "score": None if score is None else round(score, 1),
        "measured": measured,
        "language": language,
        "speaking_s": round(speaking, 2),
        "units": len(tokens),
        "rate": round(rate, 1),
        "rate_unit": unit,
        "rate_band": [rate_band[1], rate_band[2]],
        "rate_score": round(rate_score, 1),
        "pauses": {
            "count": len(pauses),
            "per_min": round(len(pauses) / minutes, 2),
            "mean_s": round(sum(pauses) / len(pauses), 2) if pauses else 0.0,
            "longest_s": round(max(gaps), 2) if gaps else 0.0,
            "long_count": len(long_pauses),
            "share": round(pause_share, 3),
            "score": round(pause_score, 1),
        },
        "fillers": {
            "count": len(fillers),
            "per_min": round(fillers_per_min, 2),
            "by_word": dict(sorted(by_kind.items())),
            "score": round(filler_score, 1),
        },
    }


def _empty(language: str, unit: str, band: Sequence[float]) -> dict[str, Any]:
    return {
        "score": None,
        "measured": False,
        "language": language,
        "speaking_s": 0.0,
        "units": 0,
        "rate": 0.0,
        "rate_unit": unit,
        "rate_band": [band[1], band[2]],
        "rate_score": 0.0,
        "pauses": {
            "count": 0,
            "per_min": 0.0,
            "mean_s": 0.0,
            "longest_s": 0.0,
            "long_count": 0,
            "share": 0.0,
            "score": 0.0,
        },
        "fillers": {"count": 0, "per_min": 0.0, "by_word": {}, "score": 0.0},
    }
