"""Per-question calibration of the content score, anchored on the bank's own examples.

The content scorer's raw number says how much of the rubric an answer makes
(see :mod:`scoring.content`), but what that number means depends on how a
question's points are phrased: on unseen answers strong answers got 17-61
raw, so a fixed band threshold (strong >= 70) rewarded answers that happened
to use the rubric's wording. Every question's rubric carries strong and weak
example answers per competency; they say what the bank calls strong and weak
for that question, so they anchor a per-question mapping.

The raw input (``depth``) is the weighted quadratic mean of the competency
scores, not their plain mean: a bank's example answers one competency in
depth ("I asked what the money was for, checked her risk assessment..."),
and the plain mean gives such an answer a third of its competency score on a
three-competency question, close to a weak answer that touches every
competency once. Measured before calibration on the 26 shipped questions and
the 2 labelled ones (tests/test_scoring_data.py), the quadratic mean kept
every strong example above every weak one in 22 questions against 20, with
a pairwise AUC of 0.972 against 0.955 and the same rank correlation on the
labelled answers. An answer that covers every competency still scores
highest.

The mapping (:class:`Calibration`) is monotone and piecewise linear through

* (0, 0): nothing on the rubric stays 0, so an off-topic answer stays low;
* (weak anchor, ``weak_score`` 30): the highest raw score of the question's
  weak examples and of the off-topic reference answers (:data:`OFF_TOPIC`),
  but at least ``weak_floor`` (0.3) of the strong anchor, so that a question
  whose weak examples score 0 does not lift every answer;
* (strong anchor, ``strong_score`` 80): the lowest raw score of its strong
  examples, but at least ``min_strong`` raw and ``min_gap`` above the weak
  anchor (a steeper ramp would turn noise into bands);
* (100, 100).

A partial answer (raw between the anchors) lands in between, in the consider
band around the middle. With content weighted 0.8 and delivery 0.2, a strong
example reaches an overall of 70 with any delivery score of 30 or more, and
a weak one stays under 50 with any delivery score.

A question is flagged when its rubric cannot tell its strong examples from
its weak ones (``separable`` False): a strong example under ``min_strong``
(35) raw (``low``), the lowest strong example not above the highest weak one
(``inverted``) or less than ``min_gap`` (8) above it (``narrow``), or the
off-topic reference within ``min_gap`` of it (``off_topic``). Its weak
anchor stays and its strong anchor is the median strong example (see
:func:`fit`): the map is still monotone, so rankings hold, but its bands
mean less; ``python -m scoring.calibrate`` lists it.

The anchors are a pure function of the rubric (its points, phrasings and
examples) and of the scoring configuration: they are computed when a
:class:`~scoring.content.RubricIndex` is built, from the examples' text
through the same segmentation and scoring as an answer (the text path,
:func:`example_utterances`), with the rubric encoder's cache, so they cost
about 0.25 s per question the first time in a process (16 ms after) and a
score stays reproducible from the event log and the bank version alone.
Nothing is stored beside the bank that could drift from it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\s\w]+|\w[^\s\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]*")
_WORDLIKE = re.compile(r"[\w\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CLAUSE_END = re.compile(r"[。！？；.!?;]$")
_COMMA = re.compile(r"[，,、：:]$")


# Off-topic answers: what a candidate says that answers no interview question
# (small talk, a self-introduction, a request to repeat, a technical hitch).
# Scored against a question's rubric they show how high this rubric lets an
# answer that says nothing about it go (one of its words, a generic phrase):
# the calibration's weak anchor is at least that high. Written for this
# purpose, apart from the labelled small talk and off-topic answers in
# tests/test_scoring_data.py, which stay held out to check it.
OFF_TOPIC: tuple[str, ...] = (
    "我老家在四川 从小就喜欢吃辣",
    "上个月我和室友去看了一场演唱会 现场气氛特别好",
    "我每天早上六点起床 先跑步再吃早饭",
    "我比较喜欢养花 阳台上种了很多多肉",
    "我觉得自己是一个很乐观的人 遇到事情不太会着急",
    "嗯 我平时喜欢打羽毛球 有时候也去游泳",
    "不好意思 我这边有点吵 您刚才说的是什么",
    "我的耳机好像没声音了 您能听到我说话吗",
    "我本科学的是市场营销 辅修了心理学",
    "我最近在看一部历史剧 每天晚上追两集",
    "我们家有两个孩子 我是老大",
    "这个问题我还没想好 可以先回答下一个吗",
    "我的优点是学东西比较快 也愿意吃苦",
    "下雨天我一般就在家里看书喝茶",
    "暑假的时候我在一家咖啡店打过工",
    "I grew up in a small town by the sea and moved to the city for college",
    "on weekends I like to play badminton with my friends",
    "sorry there's some noise on my side could you say that again",
    "I can't hear you very well is my microphone working",
    "my major was marketing and I took psychology as a minor",
    "I'm a very optimistic person I don't get stressed easily",
    "I've been watching a history drama lately two episodes every night",
    "I have a younger brother who is still in high school",
    "I haven't thought about this one yet can we come back to it later",
    "my strength is that I learn quickly and I work hard",
    "when it rains I usually stay home and read with a cup of tea",
    "last summer I worked part time in a coffee shop",
    "I get up at six every morning and go for a run before breakfast",
    "we went to a concert last month and the atmosphere was amazing",
    "I like growing plants I have lots of succulents on my balcony",
)


@dataclass(frozen=True)
class CalibrationConfig:
    weak_score: float = 30.0  # where the weak anchor lands
    strong_score: float = 80.0  # where the strong anchor lands
    min_gap: float = 8.0  # raw points between the anchors, at least
    min_strong: float = 35.0  # a strong anchor below this raw score is not trusted
    weak_floor: float = 0.3  # the weak anchor is at least this share of the strong one


@dataclass(frozen=True)
class Calibration:
    """A monotone piecewise-linear map of a question's raw content score (0-100)."""

    strong: float  # lowest raw score of the strong examples (before adjustment)
    weak: float  # highest raw score of the weak examples
    knots: tuple[tuple[float, float], ...]
    flag: str | None = None  # None (separable), "low", "inverted", "narrow", "off_topic", "no_examples"
    off_topic: float = 0.0  # highest raw score of the off-topic reference answers (OFF_TOPIC)

    @property
    def separable(self) -> bool:
        return self.flag is None

    def __call__(self, raw: float) -> float:
        raw = min(100.0, max(0.0, float(raw)))
        for (x0, y0), (x1, y1) in zip(self.knots, self.knots[1:]):
            if raw <= x1:
                return y0 if x1 <= x0 else y0 + (y1 - y0) * (raw - x0) / (x1 - x0)
        return self.knots[-1][1]

    def as_dict(self) -> dict[str, Any]:
        return {
            "strong": round(self.strong, 1),
            "weak": round(self.weak, 1),
            "off_topic": round(self.off_topic, 1),
            "knots": [[round(x, 1), round(y, 1)] for x, y in self.knots],
            "flag": self.flag,
        }


IDENTITY = Calibration(100.0, 0.0, ((0.0, 0.0), (100.0, 100.0)), "no_examples")


def fit(
    strong: Sequence[float],
    weak: Sequence[float],
    config: CalibrationConfig | None = None,
    off_topic: Sequence[float] = (),
) -> Calibration:
    """The mapping anchored on the raw scores of a question's strong and weak examples.

    Anchors: the lowest strong and the highest weak example. Where those do
    not separate (a flagged question), the weak anchor stays (a weak answer
    is never lifted for the rubric's sake) and the strong anchor is the
    median strong example, at least ``min_gap`` above the weak anchor: the
    strong examples that score below it land lower, as the table shows.

    ``off_topic``: raw scores of :data:`OFF_TOPIC` on the question. The weak
    anchor is at least their highest, so whatever an answer about nothing
    can reach on this rubric lands at or under ``weak_score``. A question
    where that reaches its strong examples is flagged ``off_topic``.
    """
    config = config or CalibrationConfig()
    if not strong or not weak:
        return IDENTITY
    s, w = float(min(strong)), float(max(weak))
    null = float(max(off_topic, default=0.0))
    flag = None
    if s < config.min_strong:
        flag = "low"
    elif s <= w:
        flag = "inverted"
    elif s - w < config.min_gap:
        flag = "narrow"
    elif s - null < config.min_gap:
        flag = "off_topic"
    anchor = s if flag is None else float(np.median(strong))
    floor = max(w, null)
    hi = min(99.0, max(anchor, config.min_strong, floor + config.min_gap))
    lo = max(0.5, min(max(floor, config.weak_floor * hi), hi - config.min_gap))
    knots = ((0.0, 0.0), (lo, config.weak_score), (hi, config.strong_score), (100.0, 100.0))
    return Calibration(s, w, knots, flag, null)


def depth(scores: Sequence[float], weights: Sequence[float]) -> float:
    """Weighted quadratic mean of competency scores (0-100): depth counts, breadth still scores highest."""
    total = sum(weights)
    if total <= 0 or not scores:
        return 0.0
    return (sum(w * s * s for s, w in zip(scores, weights)) / total) ** 0.5


def language_of(text: str) -> str:
    """zh when at least a fifth of the characters are Hanzi, else en."""
    stripped = re.sub(r"\s", "", text)
    return "zh" if stripped and len(_HAN.findall(stripped)) * 5 >= len(stripped) else "en"


def example_utterances(
    text: str,
    language: str | None = None,
    *,
    hanzi_s: float = 0.22,
    word_s: float = 0.42,
    comma_s: float = 0.25,
    stop_s: float = 0.5,
) -> list[dict[str, Any]]:
    """One ``transcript.final`` payload for ``text`` as if spoken at an easy pace.

    The text path of calibration: an example answer (or any written answer)
    becomes the event the scorer reads after speech recognition, with words
    of one Hanzi or one Latin word, about 270 Hanzi or 140 words a minute,
    and short pauses at punctuation.
    """
    language = language or language_of(text)
    words: list[dict[str, Any]] = []
    t = 0.0
    for token in _TOKEN.findall(text):
        if not _WORDLIKE.search(token):
            if not words:
                continue
            words[-1]["word"] += token  # punctuation belongs to the word before it
        else:
            han = bool(_HAN.match(token))
            duration = hanzi_s if han else word_s
            word = token if han or not words else " " + token
            words.append({"word": word, "start": round(t, 3), "end": round(t + duration, 3), "probability": 0.9})
            t += duration
        ending = words[-1]["word"].rstrip("\"'”’)）」』")
        if _CLAUSE_END.search(ending):
            t += stop_s
        elif _COMMA.search(ending):
            t += comma_s
    if not words:
        return []
    return [
        {
            "utterance_id": 1,
            "text": "".join(w["word"] for w in words).strip(),
            "language": language,
            "language_probability": 0.99,
            "start": 0.0,
            "end": round(words[-1]["end"] + 0.2, 3),
            "words": words,
            "model": "text",
        }
    ]
