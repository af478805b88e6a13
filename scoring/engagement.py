"""Engagement: face presence, gaze at the camera and other faces in view.

Context for HR, with zero weight in the overall score unless a bank sets
one (see ARCHITECTURE.md, "Policy, consent and fairness"). Input: the
``face.metrics`` events of the answer (each summarises the frames sampled in
0.5 s of media time) and, if present, its ``face.multiple`` and
``face.absent`` events. Windows are weighted by their frame counts.

* presence: share of frames with a face;
* gaze_at_camera: mean gaze score (0-1) over the frames with a face;
* multiple_faces_share: estimated share of frames with two or more faces
  (``faces_mean - presence`` of a window whose ``faces_max`` >= 2: exact when
  at most two faces are seen).

Sub-score = 100 x presence x (0.6 + 0.4 x gaze_at_camera) x (1 - multiple
faces share). Without face events it is ``None`` (not measured).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from events import FACE_ABSENT, FACE_METRICS, FACE_MULTIPLE



@dataclass(frozen=True)
class EngagementConfig:
    base: float = 0.6  # the part of the score that presence alone earns
    gaze: float = 0.4  # the part that gaze at the camera adds


def measure_engagement(
    events: Iterable[tuple[str, Mapping[str, Any]]], config: EngagementConfig | None = None
) -> dict[str, Any]:
    """``events``: (type, payload) of face events, in any order."""
    config = config or EngagementConfig()
    frames = 0.0
    present = 0.0
    gaze_weighted = 0.0
    gaze_frames = 0.0
    multiple = 0.0
    multiple_starts = 0
    absent_starts = 0
    for kind, payload in events:
        if kind == FACE_MULTIPLE and payload.get("state") == "start":
            multiple_starts += 1
        elif kind == FACE_ABSENT and payload.get("state") == "start":
            absent_starts += 1
        if kind != FACE_METRICS:
            continue
        n = float(payload.get("frames") or 0)
        if n <= 0:
            continue
        presence = min(1.0, max(0.0, float(payload.get("presence") or 0.0)))
        frames += n
        present += n * presence
        gaze = payload.get("gaze_at_camera")
        if gaze is not None and presence > 0:
            gaze_weighted += n * presence * min(1.0, max(0.0, float(gaze)))
            gaze_frames += n * presence
        if int(payload.get("faces_max") or 0) >= 2:
            share = float(payload.get("faces_mean") or 0.0) - presence
            multiple += n * min(1.0, max(0.0, share))
    if frames <= 0:
        return {
            "score": None,
            "measured": False,
            "presence": None,
            "gaze_at_camera": None,
            "multiple_faces_share": None,
            "multiple_faces_events": multiple_starts,
            "absent_events": absent_starts,
            "frames": 0,
        }
    presence = present / frames
    gaze = gaze_weighted / gaze_frames if gaze_frames > 0 else 0.0
    multiple_share = multiple / frames
    score = 100.0 * presence * (config.base + config.gaze * gaze) * (1.0 - multiple_share)
    return {
        "score": round(score, 1),
        "measured": True,
        "presence": round(presence, 3),
        "gaze_at_camera": round(gaze, 3),
        "multiple_faces_share": round(multiple_share, 3),
        "multiple_faces_events": multiple_starts,
        "absent_events": absent_starts,
        "frames": int(frames),
    }
