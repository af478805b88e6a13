"""The bias audit as a server-rendered page in the LL144 summary form (every value escaped, no script, no inline style)."""

from __future__ import annotations

from html import escape
from typing import Any

from .audit import BiasAudit


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def render_audit(result: BiasAudit, *, job_id: str | None, since: str | None, until: str | None, generated_at: str,
                 csv_url: str) -> str:
    out: list[str] = []
    add = out.append
    add("<!doctype html><html lang=en><head><meta charset=utf-8><meta name=referrer content=no-referrer>")
    add("<title>Bias audit · Candor</title><link rel=stylesheet href=/static/style.css></head><body class=bias-audit><main class=container>")
    add("<h1>偏差审计 <span class=en>Bias audit</span></h1>")
    add("<p>In the form of a NYC Local Law 144 bias audit summary (DCWP rules, 6 RCNY 5-300 to 5-303). "
        "Categories are the candidates' voluntary self-identification; they are never an input to any score.</p>")
    add("<table class=summary>")
    add(f"<tr><th>Job 岗位</th><td>{_e(job_id or 'all jobs')}</td></tr>")
    add(f"<tr><th>Date range 日期范围</th><td>{_e(since or 'start')} – {_e(until or 'now')} (applications received)</td></tr>")
    add(f"<tr><th>Generated 生成时间</th><td>{_e(generated_at)}</td></tr>")
    add(f"<tr><th>Applicants 申请人数</th><td id=applicants>{result.applicants}</td></tr>")
    for cat, n in result.unknown.items():
        add(f"<tr><th>Unknown {_e(cat)} 未知</th><td class=unknown data-category={_e(cat)}>{n}</td></tr>")
    add(f"<tr><th>Four-fifths threshold</th><td>{result.threshold:g}</td></tr>")
    add(f"<tr><th>Small-group exclusion</th><td>groups under {result.min_share * 100:g}% of a table's applicants are "
        "listed with their applicants and rate but left out of the impact ratios</td></tr>")
    add(f"<tr><th>Export</th><td><a href=\"{_e(csv_url)}\">CSV</a></td></tr></table>")
    flags = result.flags()
    add("<h2>Flags 提示</h2>")
    if flags:
        add("<ul class=flags>")
        for f in flags:
            add(f"<li>{_e(f['measure'])} · {_e(f['category'])} · {_e(f['label'])}: impact ratio {_ratio(f['impact_ratio'])}</li>")
        add("</ul>")
    else:
        add("<p>No impact ratio under the threshold.</p>")
    for m in result.measures:
        head = "Selection rate" if m.kind == "selection" else "Scoring rate"
        add(f"<section class=measure id=\"{_e(m.id)}\"><h2>{_e(m.label)}</h2>")
        if m.kind == "scoring":
            add(f"<p>Median score of the sample: {_e('–' if m.median is None else f'{m.median:.1f}')}; "
                "scoring rate = share of the group above it.</p>")
        add(f"<p>Applicants at this point: {m.applicants}; {'selected' if m.kind == 'selection' else 'above the median'}: {m.selected}.</p>")
        for t in m.tables:
            add(f"<h3>{_e(t.label)}</h3><table class=rates data-measure=\"{_e(m.id)}\" data-category=\"{_e(t.category)}\">")
            add(f"<tr><th>Group</th><th>Applicants</th><th>{'Selected' if m.kind == 'selection' else 'Above median'}</th>"
                f"<th>{head}</th><th>Impact ratio</th><th></th></tr>")
            for g in t.groups:
                note = "excluded (<2%)" if g.excluded else ("⚑ under 0.8" if g.flagged else "")
                cls = " class=flagged" if g.flagged else (" class=excluded" if g.excluded else "")
                add(f"<tr{cls}><td>{_e(g.label)}</td><td>{g.applicants}</td><td>{g.selected}</td><td>{_pct(g.rate)}</td>"
                    f"<td>{_ratio(g.impact_ratio)}</td><td>{_e(note)}</td></tr>")
            add(f"<tr class=unknown><td>Unknown 未知</td><td>{t.unknown}</td><td colspan=4>not in the calculations</td></tr></table>")
            if t.excluded_applicants:
                add(f"<p class=small>{t.excluded_applicants} applicants in groups under the 2% threshold are excluded from the impact ratios.</p>")
        add("</section>")
    add("</main></body></html>")
    return "".join(out)
