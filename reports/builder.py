"""The interview report, built from a session's event log alone.

:func:`build_report` is pure: the session record (its candidate profile and
the exact job and bank versions it ran), those job and bank versions, and the
session's events in, a JSON-able dict out. The same events give the same
report (:func:`report_json` serialises it with sorted keys), whatever order
the list comes in: events are taken by ``seq``.

The report is versioned by its schema (``candor.report/1``). Its score and
band are a recommendation; a person decides (``decision``), and a recorded
decision (a ``decision.recorded`` event in the log) appears in the next
report version.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from events import (
    AnswerEnded,
    ConsentGiven,
    ConsentWithdrawn,
    DecisionRecorded,
    Event,
    FaceAbsent,
    FaceMultiple,
    InterviewEnded,
    QuestionStarted,
    ScoreQuestion,
    SessionCreated,
    TranscriptFinal,
)
from jobs.models import EDUCATION_ORDER
from scoring.answers import part_in_window

SCHEMA = "candor.report/1"
# (lowest overall, band, labels): a recommendation only.
BANDS: tuple[tuple[float, str, dict[str, str]], ...] = (
    (70.0, "strong", {"zh": "建议进入下一轮", "en": "Strong"}),
    (50.0, "consider", {"zh": "可以考虑", "en": "Consider"}),
    (float("-inf"), "not_yet", {"zh": "暂不推荐", "en": "Not yet"}),
)
NOTICE = {"zh": "Candor 仅提供建议，由人来做决定。", "en": "Candor recommends; a person decides."}
DECISIONS = ("advance", "hold", "reject")


def band_for(overall: float | None) -> dict[str, Any] | None:
    if overall is None:
        return None
    for lowest, band, label in BANDS:
        if overall >= lowest:
            return {"band": band, "label": dict(label)}
    raise AssertionError("unreachable")


def report_json(report: Mapping[str, Any]) -> str:
    """The canonical serialisation: sorted keys, no spaces, UTF-8 text."""
    return json.dumps(report, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if obj is None:
        return default
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _body(record: Any) -> dict[str, Any] | None:
    """A JobRecord/BankRecord's body, or a plain dict."""
    if record is None:
        return None
    body = _get(record, "body")
    return dict(body) if body is not None else None


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def _norm(text: str) -> str:
    return "".join(text.split()).casefold()


def _match_list(required: Iterable[str], have: Iterable[str]) -> dict[str, Any]:
    have_norm = {_norm(h) for h in have}
    required = list(required)
    return {
        "required": required,
        "matched": [r for r in required if _norm(r) in have_norm],
        "missing": [r for r in required if _norm(r) not in have_norm],
    }


def job_match(requirements: Mapping[str, Any] | None, candidate: Mapping[str, Any] | None) -> dict[str, Any]:
    """The candidate's profile against the job's requirements (None: not known)."""
    req = dict(requirements or {})
    cand = dict(candidate or {})
    need_edu = req.get("education", "bachelor")
    have_edu = cand.get("education")
    edu_met = None if have_edu is None else EDUCATION_ORDER.index(have_edu) >= EDUCATION_ORDER.index(need_edu)
    need_years = float(req.get("min_years", 0) or 0)
    have_years = cand.get("years")
    years_met = None if have_years is None else float(have_years) >= need_years
    out: dict[str, Any] = {
        "education": {"required": need_edu, "candidate": have_edu, "met": edu_met},
        "years": {"required": need_years, "candidate": have_years, "met": years_met},
    }
    for key in ("skills", "certificates", "languages"):
        out[key] = _match_list(req.get(key, []), cand.get(key, []))
    checks = [edu_met, years_met] + [not out[k]["missing"] for k in ("skills", "certificates", "languages")]
    out["met"] = None if candidate is None else all(c is True for c in checks)
    return out


def _point_texts(bank: Mapping[str, Any] | None) -> dict[tuple[str, str, str], dict[str, Any]]:
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for q in (bank or {}).get("questions", []):
        for c in ((q.get("rubric") or {}).get("competencies") or []):
            for p in c.get("points", []):
                out[(q["id"], c["id"], p["id"])] = dict(p.get("text") or {})
    return out


def _decision(events: list[Event]) -> dict[str, Any]:
    recorded = [e for e in events if isinstance(e.payload, DecisionRecorded)]
    if not recorded:
        return {"state": "pending_review"}
    last = recorded[-1]
    p = last.payload
    assert isinstance(p, DecisionRecorded)
    return {
        "state": "decided",
        "decision": p.decision,
        "reason": p.reason,
        "decided_by": p.decided_by,
        "decided_at": p.decided_at,
        "number": p.number,
        "seq": last.seq,
    }


def build_report(session_record: Any, job: Any, bank: Any, events: Iterable[Event]) -> dict[str, Any]:
    """The report of one session (see the module docstring)."""
    by_seq: dict[int, Event] = {}
    for e in events:
        by_seq.setdefault(e.seq, e)
    log = [by_seq[s] for s in sorted(by_seq)]
    session_id = _get(session_record, "id") or (log[0].session_id if log else None)
    job_body = _body(job)
    bank_body = _body(bank)
    points_text = _point_texts(bank_body)

    # -- questions, in the order they were asked -------------------------
    questions: dict[str, dict[str, Any]] = {}
    starts: list[tuple[float, str]] = []  # (media time, question id) of each first start
    for e in log:
        p = e.payload
        if isinstance(p, QuestionStarted):
            qid = p.question_id
            q = questions.get(qid)
            if q is None:
                q = questions[qid] = {
                    "question_id": qid,
                    "index": p.index,
                    "number": p.number,
                    "kind": p.kind,
                    "practice": p.practice,
                    "text": dict(p.text),
                    # personalised: the alternative asked (compare its scores only with the same alternative's)
                    "alternative": p.alternative,
                    "started_at": e.media_time,
                    "answer": None,
                    "score": None,
                    "status": None,
                    "transcript": [],
                }
                starts.append((e.media_time if e.media_time is not None else float("-inf"), qid))
        elif isinstance(p, AnswerEnded) and p.question_id in questions:
            questions[p.question_id]["answer"] = {"start": p.start, "end": p.end, "reason": p.reason}
        elif isinstance(p, ScoreQuestion) and p.question_id in questions:
            # the last one counts: a late final re-scores its answer
            questions[p.question_id]["score"] = p.to_dict()
            questions[p.question_id]["status"] = p.status

    # -- transcript: finals by media time, grouped by question ------------
    asr_models: set[str] = set()
    before: list[dict[str, Any]] = []
    for e in log:
        p = e.payload
        if not isinstance(p, TranscriptFinal):
            continue
        if p.model:
            asr_models.add(p.model)
        # Each word goes to the question that was on when it was said (an
        # utterance that runs over a question's start is split there).
        bounds = [start for start, _ in starts[1:]] + [float("inf")]
        spans = [(float("-inf"), starts[0][0] if starts else float("inf"), None)]
        spans += [(start, bound, qid) for (start, qid), bound in zip(starts, bounds)]
        for lo, hi, owner in spans:
            if p.words:
                part = part_in_window(p, lo, hi)
            else:  # no word timings: the utterance goes where it started
                part = p if lo <= p.start < hi else None
            if part is None:
                continue
            line = {
                "utterance_id": part.utterance_id,
                "text": part.text,
                "language": part.language,
                "start": part.start,
                "end": part.end,
            }
            (questions[owner]["transcript"] if owner else before).append(line)

    # -- scores -------------------------------------------------------------
    scored = [q for q in questions.values() if not q["practice"] and q["score"] is not None]
    overalls = [float(q["score"]["overall"]) for q in scored if q["score"].get("overall") is not None]
    overall = _round(sum(overalls) / len(overalls)) if overalls else None

    competencies: dict[str, dict[str, Any]] = {}
    strengths: list[dict[str, Any]] = []
    gaps: list[dict[str, Any]] = []
    for q in scored:
        for c in q["score"].get("competencies", []):
            agg = competencies.setdefault(
                c["id"], {"id": c["id"], "name": c.get("name"), "scores": [], "questions": []}
            )
            if c.get("score") is not None:
                agg["scores"].append(float(c["score"]))
            agg["questions"].append(q["question_id"])
            for point in c.get("points", []):
                entry = {
                    "question_id": q["question_id"],
                    "competency_id": c["id"],
                    "point_id": point["id"],
                    "text": points_text.get((q["question_id"], c["id"], point["id"]), {}),
                    "score": point.get("score"),
                }
                if point.get("evidence"):
                    strengths.append({**entry, "evidence": point["evidence"]})
                else:
                    gaps.append(entry)
    competency_list = []
    for agg in competencies.values():
        scores = agg.pop("scores")
        agg["score"] = _round(sum(scores) / len(scores)) if scores else None
        agg["questions_scored"] = len(agg["questions"])
        competency_list.append(agg)
    competency_list.sort(key=lambda c: c["id"])
    strengths.sort(key=lambda s: (-(s["score"] or 0.0), s["question_id"], s["competency_id"], s["point_id"]))
    top_competencies = sorted(
        (c for c in competency_list if c["score"] is not None), key=lambda c: (-c["score"], c["id"])
    )[:3]

    # -- timings, versions, configuration -----------------------------------
    first_q = next((e for e in log if isinstance(e.payload, QuestionStarted)), None)
    ended = next((e for e in log if isinstance(e.payload, InterviewEnded)), None)
    created = next((e for e in log if isinstance(e.payload, SessionCreated)), None)
    weights = [q["score"].get("weights") for q in scored if q["score"].get("weights") is not None]
    scoring_versions = sorted({str(q["score"]["scoring_version"]) for q in scored if q["score"].get("scoring_version")})

    candidate = _get(session_record, "candidate")
    requirements = (job_body or {}).get("requirements")
    face = {
        "absent": sum(1 for e in log if isinstance(e.payload, FaceAbsent) and e.payload.state == "start"),
        "multiple": sum(1 for e in log if isinstance(e.payload, FaceMultiple) and e.payload.state == "start"),
    }
    question_list = sorted(questions.values(), key=lambda q: (q["index"] is None, q["index"] or 0, q["question_id"]))
    return {
        "schema": SCHEMA,
        "session_id": session_id,
        "job": None
        if job_body is None
        else {"id": _get(job, "id"), "version": _get(job, "version"), "title": job_body.get("title")},
        "bank": None if bank_body is None else {"id": _get(bank, "id"), "version": _get(bank, "version")},
        "candidate": dict(candidate) if candidate is not None else None,
        "candidate_id": _get(session_record, "candidate_id"),
        "overall": overall,
        "recommendation": band_for(overall),
        "notice": dict(NOTICE),
        "questions_scored": len(scored),
        "questions": question_list,
        "competencies": competency_list,
        "strengths": {"competencies": [{"id": c["id"], "name": c["name"], "score": c["score"]} for c in top_competencies], "points": strengths},
        "gaps": gaps,
        "job_match": job_match(requirements, candidate),
        "transcript_before_questions": before,
        "flags": face,
        "timings": {
            "created_wall": created.wall_time if created else None,
            "start_media": first_q.media_time if first_q else None,
            "start_wall": first_q.wall_time if first_q else None,
            "end_media": ended.media_time if ended else None,
            "end_wall": ended.wall_time if ended else None,
            "duration_media": (ended.media_time - first_q.media_time)
            if ended and first_q and ended.media_time is not None and first_q.media_time is not None
            else None,
        },
        "models": {"asr": sorted(asr_models), "scoring_version": scoring_versions},
        "scoring": {
            "weights": weights[0] if weights else None,
            "weights_vary": any(w != weights[0] for w in weights),
            "accommodation": any(bool(q["score"].get("accommodation")) for q in scored),
            "overall": "mean of the scored questions' overall, each weighted equally",
            "bands": [{"band": b, "from": (None if lo == float("-inf") else lo)} for lo, b, _ in BANDS],
        },
        "interview_ended": ended is not None,
        "consent": _consent(log),
        "decision": _decision(log),
    }


def _consent(log: list[Event]) -> dict[str, Any] | None:
    """The consent the analysis ran under (the last one given), and any withdrawal."""
    given = [e.payload for e in log if isinstance(e.payload, ConsentGiven)]
    withdrawn = [e.payload for e in log if isinstance(e.payload, ConsentWithdrawn)]
    given_seq = [e.seq for e in log if isinstance(e.payload, ConsentGiven)]
    withdrawn_seq = [e.seq for e in log if isinstance(e.payload, ConsentWithdrawn)]
    if not given and not withdrawn:
        return None
    last = given[-1] if given else None
    return {
        "policy": last.policy if last is not None else withdrawn[-1].policy,
        "voice": last.voice if last is not None else None,
        "face": last.face if last is not None else None,
        "emotion": last.emotion if last is not None else None,
        "given_at": last.given_at if last is not None else None,
        "withdrawn": bool(withdrawn) and (not given or withdrawn_seq[-1] > given_seq[-1]),
        "changes": len(given) + len(withdrawn),
    }
