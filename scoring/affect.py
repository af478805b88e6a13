"""Emotion context for one answer: facial expression and voice arousal.

Context for HR, with zero weight in the overall score unless a bank sets one
(``scoring.weights.emotion``), and absent altogether where the deployment's
policy forbids emotion inference (``eu``) or the candidate declined face or
voice processing: then there are no events and both parts are ``None``.

Input: the answer's ``expression.metrics`` events (each the mean of the
7-class expression probabilities over the faces classified in 0.5 s, see
analyzers/expression.py) and ``voice.affect`` events (one per utterance, with
``arousal`` 0-1 relative to the candidate's own earlier speech, see
analyzers/prosody.py).

* expression: frame-weighted mean probability per class (``shares``) and the
  class with the largest share (``dominant``);
* voice: mean arousal over the utterances that have one.

``score`` (0-100, "composure") is the mean of the parts measured: the calm or
positive share of expression (neutral + happy) and how close voice arousal is
to the middle of its range (1 - 2 x |arousal - 0.5|). A crude, culture- and
person-dependent signal: that is why it counts for nothing by default.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from events import EXPRESSION_METRICS, VOICE_AFFECT

AFFECT_EVENTS = (EXPRESSION_METRICS, VOICE_AFFECT)
CALM_OR_POSITIVE = ("neutral", "happy")


def measure_affect(events: Iterable[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """``events``: (type, payload) of the answer's affect events, in any order."""
    frames = 0.0
    sums: dict[str, float] = {}
    arousals: list[float] = []
    for kind, payload in events:
        if kind == EXPRESSION_METRICS:
            n = float(payload.get("frames") or 0)
            probabilities = payload.get("probabilities") or {}
            if n <= 0 or not probabilities:
                continue
            frames += n
            for label, p in probabilities.items():
                sums[str(label)] = sums.get(str(label), 0.0) + n * float(p)
        elif kind == VOICE_AFFECT:
            arousal = payload.get("arousal")
            if arousal is not None:
                arousals.append(min(1.0, max(0.0, float(arousal))))

    expression = None
    parts: list[float] = []
    if frames > 0:
        shares = {label: round(total / frames, 3) for label, total in sorted(sums.items())}
        dominant = max(sorted(shares), key=lambda label: shares[label])
        expression = {"frames": int(frames), "dominant": dominant, "shares": shares}
        parts.append(min(1.0, sum(shares.get(label, 0.0) for label in CALM_OR_POSITIVE)))
    voice = None
    if arousals:
        mean = sum(arousals) / len(arousals)
        voice = {"utterances": len(arousals), "arousal_mean": round(mean, 3)}
        parts.append(1.0 - 2.0 * abs(mean - 0.5))
    score = round(100.0 * sum(parts) / len(parts), 1) if parts else None
    return {"expression": expression, "voice": voice, "score": score}
