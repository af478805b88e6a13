"""The report as a server-rendered HTML page for HR (every value escaped)."""

from __future__ import annotations

from html import escape
from typing import Any, Mapping


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _loc(text: Any) -> str:
    if isinstance(text, Mapping):
        zh, en = text.get("zh"), text.get("en")
        if zh and en and zh != en:
            return f"{_e(zh)} <span class=en>{_e(en)}</span>"
        return _e(zh or en or "")
    return _e(text)


def _t(value: Any) -> str:
    return "–" if value is None else f"{float(value):.1f}s"


def _score(value: Any) -> str:
    return "–" if value is None else f"{float(value):.1f}"


def _yes(value: Any) -> str:
    return {True: "✓ 符合 met", False: "✗ 不符合 not met", None: "? 未知 unknown"}[value]


def render_report(report: Mapping[str, Any], *, version: int, session_id: str) -> str:
    r = report
    out: list[str] = []
    add = out.append
    cand = r.get("candidate") or {}
    job = r.get("job") or {}
    rec = r.get("recommendation") or {}
    add("<!doctype html><html lang=zh><head><meta charset=utf-8>")
    add(f"<title>面试报告 Interview report · {_e(cand.get('name') or session_id)}</title>")
    add("<meta name=viewport content='width=device-width,initial-scale=1'>")
    add("<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
        ".en{color:#666;font-size:.9em}.notice{background:#fff6d6;padding:.5rem 1rem;border-left:4px solid #e0b000}"
        "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left}"
        "blockquote{margin:.25rem 0 .25rem 1rem;color:#333}.band{font-size:1.4em;font-weight:bold}</style></head><body>")
    add("<h1>面试报告 <span class=en>Interview report</span></h1>")
    add("<p class=notice><strong>Candor 仅提供建议，由人来做决定。</strong> <span class=en>Candor recommends; a person decides.</span></p>")
    add("<table>")
    add(f"<tr><th>候选人 <span class=en>Candidate</span></th><td>{_e(cand.get('name'))}</td></tr>")
    add(f"<tr><th>岗位 <span class=en>Job</span></th><td>{_loc(job.get('title'))} ({_e(job.get('id'))} v{_e(job.get('version'))})</td></tr>")
    add(f"<tr><th>会话 <span class=en>Session</span></th><td>{_e(session_id)} · 报告版本 <span class=en>report version</span> {_e(version)}</td></tr>")
    add(f"<tr><th>总分 <span class=en>Overall</span></th><td>{_score(r.get('overall'))} / 100</td></tr>")
    add(f"<tr><th>建议 <span class=en>Recommendation</span></th><td class=band>{_loc(rec.get('label'))}</td></tr>")
    decision = r.get("decision") or {}
    if decision.get("state") == "decided":
        add(f"<tr><th>决定 <span class=en>Decision</span></th><td>{_e(decision.get('decision'))} — {_e(decision.get('reason'))} "
            f"({_e(decision.get('decided_by'))}, {_e(decision.get('decided_at'))})</td></tr>")
    else:
        add("<tr><th>决定 <span class=en>Decision</span></th><td>待审核 <span class=en>pending review</span></td></tr>")
    add("</table>")

    add("<h2>能力维度 <span class=en>Competencies</span></h2><table><tr><th>维度 <span class=en>Competency</span></th>"
        "<th>得分 <span class=en>Score</span></th><th>题数 <span class=en>Questions</span></th></tr>")
    for c in r.get("competencies", []):
        add(f"<tr><td>{_loc(c.get('name'))}</td><td>{_score(c.get('score'))}</td><td>{_e(c.get('questions_scored'))}</td></tr>")
    add("</table>")

    strengths = (r.get("strengths") or {}).get("points", [])
    add("<h2>优势 <span class=en>Strengths</span></h2><ul>")
    for s in strengths:
        quotes = "".join(
            f"<blockquote>“{_e(ev.get('text'))}” <span class=en>[{_t(ev.get('start'))}–{_t(ev.get('end'))}]</span></blockquote>"
            for ev in s.get("evidence", [])
        )
        add(f"<li>{_loc(s.get('text')) or _e(s.get('point_id'))} ({_e(s.get('question_id'))}){quotes}</li>")
    add("</ul><h2>不足 <span class=en>Gaps (points not covered)</span></h2><ul>")
    for g in r.get("gaps", []):
        add(f"<li>{_loc(g.get('text')) or _e(g.get('point_id'))} ({_e(g.get('question_id'))})</li>")
    add("</ul>")

    add("<h2>逐题 <span class=en>Questions</span></h2>")
    for q in r.get("questions", []):
        label = "练习题 <span class=en>practice</span>" if q.get("practice") else f"第 {_e(q.get('number'))} 题 <span class=en>Question {_e(q.get('number'))}</span>"
        add(f"<h3>{label}: {_loc(q.get('text'))}</h3>")
        if q.get("alternative"):
            add(f"<p class=alternative>个性化题目 <span class=en>Personalised version</span>: {_e(q.get('alternative'))}"
                " · 与同一版本的回答比较 <span class=en>compare with answers to the same version</span></p>")
        ans = q.get("answer") or {}
        add(f"<p>作答 <span class=en>Answer</span> {_t(ans.get('start'))}–{_t(ans.get('end'))} · "
            f"结束原因 <span class=en>ended</span>: {_e(ans.get('reason'))}</p>")
        score = q.get("score")
        if score and score.get("status") == "no_answer":
            add("<p class=no-answer>未作答：这道题的作答时间内没有听到回答，计 0 分。"
                " <span class=en>Not answered: nothing was said in this answer's time; it scores 0.</span></p>")
        elif score:
            delivery = (score.get("delivery") or {}).get("score")
            engagement = (score.get("engagement") or {}).get("score")
            add(f"<p>得分 <span class=en>Score</span> {_score(score.get('overall'))} · 内容 <span class=en>content</span> "
                f"{_score(score.get('content'))} · 表达 <span class=en>delivery</span> {_score(delivery)} · "
                f"投入 <span class=en>engagement</span> {_score(engagement)}</p>")
            flag = (score.get("coverage") or {}).get("calibration")
            if flag not in (None, "ok", "none"):
                # jobs/banks/README.md: the rubric barely tells strong from weak answers here
                add(f"<p class=calibration>此题的评分标准难以区分强弱回答（{_e(flag)}）：排序可参考，分档意义有限，请以下方证据为准。"
                    f" <span class=en>This question's rubric barely tells strong answers from weak ones ({_e(flag)}):"
                    " rankings hold, its band means less; read the evidence below.</span></p>")
            affect = score.get("affect") or {}
            context = []
            expression = affect.get("expression")
            if expression:
                share = (expression.get("shares") or {}).get(expression.get("dominant"))
                context.append(f"表情 <span class=en>expression</span>: {_e(expression.get('dominant'))} {_score(None if share is None else 100 * share)}%")
            voice = affect.get("voice")
            if voice:
                context.append(f"语音唤醒度 <span class=en>voice arousal</span> {_e(voice.get('arousal_mean'))}")
            if context:
                counted = "计入评分 <span class=en>counted</span>" if affect.get("counted") else "仅供参考，不计分 <span class=en>context, not scored</span>"
                add(f"<p class=context>情绪 <span class=en>Emotion</span> ({counted}): {' · '.join(context)}</p>")
            add(f"<p>{_loc(score.get('explanation'))}</p><ul>")
            for c in score.get("competencies", []):
                add(f"<li>{_loc(c.get('name'))}: {_score(c.get('score'))}<ul>")
                for p in c.get("points", []):
                    quotes = "".join(
                        f"<blockquote>“{_e(ev.get('text'))}” <span class=en>[{_t(ev.get('start'))}–{_t(ev.get('end'))}]</span></blockquote>"
                        for ev in p.get("evidence", [])
                    )
                    add(f"<li>{_e(p.get('id'))}: {_e(p.get('score'))}{quotes}</li>")
                add("</ul></li>")
            add("</ul>")
        lines = q.get("transcript", [])
        if lines:
            add("<details><summary>转写 <span class=en>Transcript</span></summary>")
            for line in lines:
                add(f"<p><span class=en>[{_t(line.get('start'))}–{_t(line.get('end'))}]</span> {_e(line.get('text'))}</p>")
            add("</details>")

    match = r.get("job_match") or {}
    add("<h2>岗位匹配 <span class=en>Job match</span></h2><table>")
    for key, label in (("education", "学历 <span class=en>Education</span>"), ("years", "年限 <span class=en>Years</span>")):
        m = match.get(key) or {}
        add(f"<tr><th>{label}</th><td>{_e(m.get('candidate'))} / {_e(m.get('required'))}</td><td>{_yes(m.get('met'))}</td></tr>")
    for key, label in (("skills", "技能 <span class=en>Skills</span>"), ("certificates", "证书 <span class=en>Certificates</span>"),
                       ("languages", "语言 <span class=en>Languages</span>")):
        m = match.get(key) or {}
        add(f"<tr><th>{label}</th><td>✓ {_e(', '.join(m.get('matched', [])))}</td>"
            f"<td>✗ {_e(', '.join(m.get('missing', [])))}</td></tr>")
    add("</table>")

    consent = r.get("consent")
    if consent:
        def mark(value: Any) -> str:
            return "✓" if value else "✗"

        scopes = f"语音 <span class=en>voice</span> {mark(consent.get('voice'))} · 面部 <span class=en>face</span> {mark(consent.get('face'))} · 情绪推断 <span class=en>emotion inference</span> {mark(consent.get('emotion'))}"
        withdrawn = " · 已撤回 <span class=en>withdrawn</span>" if consent.get("withdrawn") else ""
        add(f"<h2>同意 <span class=en>Consent</span></h2><p>{_e(consent.get('policy'))}: {scopes}{withdrawn}</p>")

    add("<h2>决定 <span class=en>Decision</span></h2>")
    add(f"<form method=post action='/v1/sessions/{_e(session_id)}/decision'>")
    for value, label in (("advance", "进入下一轮 advance"), ("hold", "待定 hold"), ("reject", "不通过 reject")):
        add(f"<label><input type=radio name=decision value={value} required> {label}</label> ")
    add("<p><label>理由 <span class=en>Reason</span><br><textarea name=reason rows=3 cols=60 maxlength=4000></textarea></label></p>")
    add("<button type=submit>记录决定 <span class=en>Record decision</span></button></form>")
    models = r.get("models") or {}
    add(f"<p class=en>schema {_e(r.get('schema'))} · ASR {_e(', '.join(models.get('asr', [])))} · "
        f"scoring {_e(', '.join(models.get('scoring_version', [])))}</p>")
    add("</body></html>")
    return "\n".join(out)
