"""Content scoring: how well the answer covers the rubric's expected points.

For each expected point, every phrasing (the point's text in zh and en and
its paraphrases) is compared with every span of the answer (clauses and
pairs of adjacent clauses, see :mod:`scoring.segment`) by cosine similarity
of multilingual sentence embeddings, so a paraphrase counts and a Mandarin
answer matches English rubric text.

Per span and point, from the best phrasing's cosine ``s``:

* topic penalty: ``s - topic_beta * max(0, topic - topic_floor)``, where
  ``topic`` is the span's mean similarity to the rubric's other points and the
  question. The encoder rates any sentence about clients and products close
  to every sales point ("explain the product well and the client will buy"
  reaches 0.58-0.65 against "closes the sale", "discloses the risks", ...);
  a span that is close to all points alike makes none of them. This lifted
  the AUC of covered against not-covered (answer, point) pairs from 0.71 to
  0.89 on the calibration question (held out: 0.92 to 0.97).
* term bonus: ``+ term_bonus`` (0.05) when a rubric term (also an ASR
  hotword) is said literally in the span.

The point's value is its best span's; a piecewise-linear ramp maps it to a
match score in [0, 1]: 0 at or below ``ramp_lo``, 1 at or above ``ramp_hi``.

Small talk can share a word with a point ("listen to music" and "listens
patiently": 0.41). Against that, an answer-relevance gate scales every match
score: relevance is the highest mean similarity of any span to all the
points and the question, 0 at or below ``relevance_lo``, 1 from
``relevance_hi``. A clear match (value from ``clear_lo`` to ``clear_hi``)
counts whatever the gate says, so a one-line answer that plainly makes a
point ("整个过程都录音录像了", 0.66) is not silenced.

Calibration (labelled answers and small talk in tests/test_scoring_data.py;
numbers chosen on ``wealth_persuasion`` only, ``complaint_loss`` held out;
``test_calibration_report`` prints them):

* ``ramp_lo`` 0.30: the highest value any off-topic answer reached on any
  point (0.296; held out 0.297). 90 % of not-covered pairs are below 0.303.
* ``ramp_hi`` 0.38: upper quartile of covered pairs (0.388; median 0.326).
  Held out the covered median is 0.420, so 93 % of covered points there
  score >= 0.5 against 42 % on the calibration question: how well points
  match depends on how the rubric is phrased.
* ``topic_beta`` 1.25, ``topic_floor`` 0.15: in the flat top of a grid search
  of the covered/not-covered AUC on the calibration question (best 0.90 at
  2.0/0.20; 1.25/0.15 gives 0.89).
* ``relevance_lo`` 0.17, ``relevance_hi`` 0.21: off-topic answers and small
  talk reach at most 0.185 against a bilingual rubric and 0.171 against a
  one-language rubric; answers to the question (labels 2-3) are at least
  0.26 (bilingual) and 0.211 (a one-language rubric, cross-lingual).
* ``clear_lo`` 0.45, ``clear_hi`` 0.55: above everything small talk or an
  off-topic answer reached on any point (0.36 on the calibration question,
  0.41 on both).

A competency's score is the mean of its points' match scores x 100 (points
have no weights in the rubric). Their weighted mean by ``Competency.weight``
is the answer's ``coverage``; their weighted quadratic mean is its ``raw``
score, which the question's calibration (:mod:`scoring.calibration`, fitted
on the rubric's own strong and weak examples and an off-topic reference when
the :class:`RubricIndex` is built) maps to the content score, so that the
bands mean the same on every question: the examples' strong answers land at
80 and its weak ones at 30. The off-topic reference also sets the question's
relevance floor: the gate below opens only above the highest relevance an
off-topic answer reaches on this rubric. Evidence is the best span of each
point whose match score is at least ``evidence_min`` (0.5).

Optionally (``example_weight`` > 0) a competency's strong and weak example
answers nudge its score: the answer's best similarity to the strong examples
minus that to the weak ones, times ``example_weight`` x 100. Measured on the
labelled answers it lowered rank correlation (weight 0.2, zh/en: calibration
0.956/0.826, held out 0.973/0.940, against 0.978/0.848 and 0.978/0.940
without), so it is off by default.

Pure given the embeddings: :class:`RubricIndex` holds the rubric's phrasings
and their vectors; :func:`score_content` takes spans and their vectors.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from jobs.models import Rubric

from .calibration import OFF_TOPIC, Calibration, CalibrationConfig, depth, example_utterances, fit
from .segment import SegmentConfig, Span, scoring_spans

Embed = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class ContentConfig:
    ramp_lo: float = 0.30
    ramp_hi: float = 0.38
    topic_beta: float = 1.25
    topic_floor: float = 0.15
    term_bonus: float = 0.05
    relevance_lo: float = 0.17
    relevance_hi: float = 0.21
    clear_lo: float = 0.45  # a match this close counts whatever the rest of the answer is
    clear_hi: float = 0.55
    evidence_min: float = 0.5
    example_weight: float = 0.0
    calibrate: bool = True  # map the raw score through the question's calibration (scoring.calibration)

    def match(self, similarity: float) -> float:
        """Similarity (cosine, bonus included) -> match score in [0, 1]."""
        if similarity <= self.ramp_lo:
            return 0.0
        if similarity >= self.ramp_hi:
            return 1.0
        return (similarity - self.ramp_lo) / (self.ramp_hi - self.ramp_lo)

    def gate(self, relevance: float, floor: float = 0.0) -> float:
        """Answer relevance -> factor in [0, 1] on every point's match score.

        ``floor``: the question's own (``RubricIndex.relevance_floor``): the
        ramp starts there when that is above ``relevance_lo``.
        """
        lo = max(self.relevance_lo, floor)
        return _ramp(relevance, lo, lo + (self.relevance_hi - self.relevance_lo))

    def score(self, similarity: float, gate: float) -> float:
        """A point's match score: the ramp, times the relevance gate unless the match is clear."""
        return self.match(similarity) * max(gate, _ramp(similarity, self.clear_lo, self.clear_hi))


def _ramp(value: float, lo: float, hi: float) -> float:
    if value <= lo:
        return 0.0
    if value >= hi:
        return 1.0
    return (value - lo) / (hi - lo)


def phrasings(point) -> list[str]:  # type: ignore[no-untyped-def]
    """A point's texts to match: zh, en, then paraphrases (deduplicated, in order)."""
    texts = [point.text.zh, point.text.en, *point.paraphrases]
    out: list[str] = []
    for text in texts:
        if text and text.strip() and text.strip() not in out:
            out.append(text.strip())
    return out


@dataclass(frozen=True)
class _PointIndex:
    competency: int
    id: str
    terms: tuple[str, ...]
    rows: tuple[int, int]  # [start, stop) into RubricIndex.vectors


@dataclass(frozen=True)
class _CompetencyIndex:
    strong: tuple[int, int]
    weak: tuple[int, int]


@dataclass(frozen=True)
class RubricIndex:
    """A rubric's phrasings with their embeddings (built once per rubric)."""

    rubric: Rubric
    texts: tuple[str, ...]
    vectors: np.ndarray
    points: tuple[_PointIndex, ...]
    competencies: tuple[_CompetencyIndex, ...]
    topic: tuple[int, int] = (0, 0)  # the question's own text
    calibration: Calibration | None = None  # anchored on the rubric's examples (None: raw scores)
    relevance_floor: float = 0.0  # highest relevance of the off-topic reference answers (0: not measured)
    example_scores: tuple[tuple[str, str, float], ...] = ()  # (kind, competency id, raw) per example

    @classmethod
    def build(
        cls,
        rubric: Rubric,
        embed: Embed,
        question_texts: Sequence[str] = (),
        *,
        calibrate: bool = True,
        config: ContentConfig | None = None,
        segment: SegmentConfig | None = None,
        calibration: CalibrationConfig | None = None,
    ) -> RubricIndex:
        """``question_texts``: the question in zh and en (part of the topic baseline).

        With ``calibrate``, the rubric's example answers are scored through
        the text path (their spans embedded with ``embed``, the rubric
        encoder's cache) and anchor the question's :class:`Calibration`.
        """
        texts: list[str] = []
        points: list[_PointIndex] = []
        competencies: list[_CompetencyIndex] = []

        def add(items: Sequence[str]) -> tuple[int, int]:
            start = len(texts)
            texts.extend(items)
            return start, len(texts)

        for ci, competency in enumerate(rubric.competencies):
            for point in competency.points:
                rows = add(phrasings(point))
                points.append(_PointIndex(ci, point.id, tuple(t for t in point.terms if t.strip()), rows))
            strong = add([t for t in competency.strong_examples if t.strip()])
            weak = add([t for t in competency.weak_examples if t.strip()])
            competencies.append(_CompetencyIndex(strong, weak))
        topic = add(list(dict.fromkeys(t.strip() for t in question_texts if t and t.strip())))
        vectors = embed(texts) if texts else np.zeros((0, 512), dtype=np.float32)
        index = cls(
            rubric, tuple(texts), np.asarray(vectors, dtype=np.float32), tuple(points), tuple(competencies), topic
        )
        if not calibrate:
            return index
        return index.calibrated(embed, config=config, segment=segment, calibration=calibration)

    def calibrated(
        self,
        embed: Embed,
        *,
        config: ContentConfig | None = None,
        segment: SegmentConfig | None = None,
        calibration: CalibrationConfig | None = None,
        leave_out: tuple[str, int] | None = None,
    ) -> RubricIndex:
        """This index with its relevance floor and calibration, from the rubric itself (text path).

        The relevance floor is the highest relevance any of the off-topic
        reference answers (:data:`scoring.calibration.OFF_TOPIC`) reaches on
        this rubric: the relevance gate opens only above it. The calibration
        is fitted on the raw scores of the rubric's examples and of those
        off-topic answers. ``leave_out``: (kind, n) drops the n-th example
        of that kind (in rubric order) from the anchors, for leave-one-out
        checks.
        """
        config = dataclasses.replace(config or ContentConfig(), calibrate=False)
        bare = dataclasses.replace(self, calibration=None, relevance_floor=0.0)
        floor = max(bare.relevance(text, embed, segment=segment) for text in OFF_TOPIC)
        index = dataclasses.replace(bare, relevance_floor=floor)
        scores: list[tuple[str, str, float]] = []
        for competency in index.rubric.competencies:
            for kind, examples in (("strong", competency.strong_examples), ("weak", competency.weak_examples)):
                for text in examples:
                    if text.strip():
                        raw = index.raw_score(text, embed, config=config, segment=segment)
                        scores.append((kind, competency.id, raw))
        kept = list(scores)
        if leave_out is not None:
            kind, n = leave_out
            positions = [i for i, s in enumerate(scores) if s[0] == kind]
            del kept[positions[n]]
        strong = [raw for kind, _, raw in kept if kind == "strong"]
        weak = [raw for kind, _, raw in kept if kind == "weak"]
        off_topic = [index.raw_score(text, embed, config=config, segment=segment) for text in OFF_TOPIC]
        fitted = fit(strong, weak, calibration, off_topic)
        if fitted.flag == "no_examples":  # nothing to anchor on: the plain coverage score, as before calibration
            return dataclasses.replace(index, example_scores=tuple(scores))
        return dataclasses.replace(index, calibration=fitted, example_scores=tuple(scores))

    def relevance(self, text: str, embed: Embed, *, segment: SegmentConfig | None = None) -> float:
        """How close a written answer's most on-topic span comes to the rubric and question."""
        spans = scoring_spans(example_utterances(text), segment)
        if not spans:
            return 0.0
        sims = np.asarray(embed([s.embed_text for s in spans]), dtype=np.float32) @ self.vectors.T
        return _specificity(self, sims, ContentConfig())[1]

    def raw_score(
        self, text: str, embed: Embed, *, config: ContentConfig | None = None, segment: SegmentConfig | None = None
    ) -> float:
        """The uncalibrated content score of a written answer (the text path)."""
        spans = scoring_spans(example_utterances(text), segment)
        vectors = embed([s.embed_text for s in spans]) if spans else np.zeros((0, self.vectors.shape[1]))
        config = dataclasses.replace(config or ContentConfig(), calibrate=False)
        return score_content(self, spans, vectors, config).raw


@dataclass(frozen=True)
class PointMatch:
    competency_id: str
    point_id: str
    similarity: float  # raw cosine of the best span (no bonus)
    adjusted: float  # with the term bonus
    score: float  # 0..1
    span: Span | None
    term: str | None  # the rubric term heard in that span


@dataclass(frozen=True)
class CompetencyScore:
    id: str
    score: float  # 0..100
    weight: float
    points: tuple[PointMatch, ...]
    example_adjustment: float = 0.0


@dataclass(frozen=True)
class ContentScore:
    score: float  # 0..100: the calibrated score (the raw one where the index has no calibration)
    competencies: tuple[CompetencyScore, ...]
    evidence: tuple[PointMatch, ...] = field(default_factory=tuple)
    relevance: float = 0.0  # how close the answer's most on-topic span comes to the rubric and question
    gate: float = 0.0  # the factor that relevance puts on every match score
    raw: float = 0.0  # depth: weighted quadratic mean of the competency scores (calibration's input)
    coverage: float = 0.0  # weighted mean of the competency scores

    @property
    def points(self) -> list[PointMatch]:
        return [p for c in self.competencies for p in c.points]


_LATIN = re.compile(r"[A-Za-z0-9]")


def term_heard(term: str, text: str) -> bool:
    """A rubric term said literally: whole words for Latin terms, substring for Hanzi."""
    term = term.strip().lower()
    if not term:
        return False
    text = text.lower()
    if _LATIN.search(term):
        return re.search(r"(?<![a-z0-9])" + re.escape(term) + r"(?![a-z0-9])", text) is not None
    return term in text


def score_content(
    index: RubricIndex,
    spans: Sequence[Span],
    span_vectors: np.ndarray,
    config: ContentConfig | None = None,
) -> ContentScore:
    config = config or ContentConfig()
    rubric = index.rubric
    if len(spans):
        sims = np.asarray(span_vectors, dtype=np.float32) @ index.vectors.T  # (spans, phrasings)
    else:
        sims = np.zeros((0, len(index.texts)), dtype=np.float32)

    adjusted, relevance = _specificity(index, sims, config)  # (spans, points), answer relevance
    gate = config.gate(relevance, index.relevance_floor)
    by_competency: list[list[PointMatch]] = [[] for _ in rubric.competencies]
    for j, point in enumerate(index.points):
        competency_id = rubric.competencies[point.competency].id
        best: PointMatch | None = None
        for si, span in enumerate(spans):
            term = next((t for t in point.terms if term_heard(t, span.text)), None)
            value = float(adjusted[si, j]) + (config.term_bonus if term else 0.0)
            # ties keep the earlier span (a clause before the window that holds it)
            if best is None or value > best.adjusted + 1e-9:
                a, b = point.rows
                similarity = float(sims[si, a:b].max()) if b > a else 0.0
                best = PointMatch(competency_id, point.id, similarity, value, config.score(value, gate), span, term)
        if best is None:
            best = PointMatch(competency_id, point.id, 0.0, 0.0, 0.0, None, None)
        by_competency[point.competency].append(best)

    competencies: list[CompetencyScore] = []
    for ci, competency in enumerate(rubric.competencies):
        matches = by_competency[ci]
        score = 100.0 * sum(m.score for m in matches) / len(matches)
        adjustment = 0.0
        if config.example_weight > 0 and len(spans):
            adjustment = _example_adjustment(index, ci, sims) * config.example_weight * 100.0
            score = min(100.0, max(0.0, score + adjustment))
        competencies.append(CompetencyScore(competency.id, score, competency.weight, tuple(matches), adjustment))

    total_weight = sum(c.weight for c in competencies)
    coverage = sum(c.score * c.weight for c in competencies) / total_weight
    raw = depth([c.score for c in competencies], [c.weight for c in competencies])
    content = index.calibration(raw) if config.calibrate and index.calibration is not None else coverage
    evidence = tuple(
        sorted(
            (m for c in competencies for m in c.points if m.span is not None and m.score >= config.evidence_min),
            key=lambda m: (m.span.start, m.span.end, m.competency_id, m.point_id),  # type: ignore[union-attr]
        )
    )
    return ContentScore(content, tuple(competencies), evidence, relevance, gate, raw, coverage)


def _specificity(index: RubricIndex, sims: np.ndarray, config: ContentConfig) -> tuple[np.ndarray, float]:
    """Per span and point: best cosine over the point's phrasings, less the topic penalty.

    The topic of a span is its mean similarity to the rubric's other points
    and to the question itself: a generic on-topic sentence ("explain the
    product well and the client will buy") is about as close to every point,
    and must not count as making any one of them.

    Also the answer's relevance: the highest mean similarity of any span to
    all points and the question. Small talk stays under 0.19 however much
    one of its words sounds like a point ("listen to music" and "listens
    patiently"), while any answer to the question reaches 0.25.
    """
    n_spans, n_points = sims.shape[0], len(index.points)
    per_point = np.zeros((n_spans, n_points), dtype=np.float64)
    for j, point in enumerate(index.points):
        a, b = point.rows
        if b > a and n_spans:
            per_point[:, j] = sims[:, a:b].max(axis=1)
    if n_spans == 0:
        return per_point, 0.0
    qa, qb = index.topic
    has_question = qb > qa
    question = sims[:, qa:qb].max(axis=1) if has_question else np.zeros(n_spans)
    totals = per_point.sum(axis=1) + question
    relevance = float((totals / (n_points + (1 if has_question else 0))).max())
    count = (n_points - 1) + (1 if has_question else 0)
    if count == 0 or config.topic_beta == 0:
        return per_point, relevance
    topic = (totals[:, None] - per_point) / count
    return per_point - config.topic_beta * np.maximum(0.0, topic - config.topic_floor), relevance


def _example_adjustment(index: RubricIndex, competency: int, sims: np.ndarray) -> float:
    rows = index.competencies[competency]
    (sa, sb), (wa, wb) = rows.strong, rows.weak
    if sb <= sa or wb <= wa:
        return 0.0
    strong = float(sims[:, sa:sb].max())
    weak = float(sims[:, wa:wb].max())
    return strong - weak
