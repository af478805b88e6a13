"""Any figure as a CSV table: a header row, then one line per row; UTF-8 with a BOM so Excel reads Chinese.

A suppressed number is an empty cell, and the row's ``suppressed`` column
says ``true``; nothing smaller than the rule allows is ever written.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Iterable, Mapping, Sequence

BOM = "\ufeff"


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    return value


def table(rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """The rows as CSV text (with the BOM); columns default to the keys in the order first seen."""
    rows = list(rows)
    if columns is None:
        columns = list(dict.fromkeys(k for r in rows for k in r))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return BOM + out.getvalue()


def funnel_rows(figure: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = [{"stage": s["stage"], "n": s["n"], "suppressed": bool(s.get("suppressed")), "conversion": s["conversion"],
             "drop_off": s["drop_off"], "dropped": s["dropped"]} for s in figure["stages"]]
    skipped = figure["advanced_without_interview"]
    rows.append({"stage": "advanced_without_interview", "n": skipped["n"], "suppressed": bool(skipped.get("suppressed"))})
    rate = figure["interview_pass_rate"]
    rows.append({"stage": "interview_pass_rate", "n": rate["decided"]["n"], "suppressed": rate["rate"] is None and bool(rate["decided"].get("suppressed") or rate["advanced"].get("suppressed")),
                 "conversion": rate["rate"]})
    return rows


def score_rows(figure: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One line per (score, bin), then one per question."""
    rows: list[dict[str, Any]] = []
    for name in ("match", "interview"):
        for b in figure[name]["bins"]:
            rows.append({"kind": f"{name}_histogram", "key": f"{b['from']}-{b['to']}", "n": b["n"], "suppressed": bool(b.get("suppressed"))})
    for q in figure["questions"]:
        key = q["question_id"] + (f"/{q['alternative']}" if q.get("alternative") else "")
        rows.append({"kind": "question", "key": key, "n": q["n"], "suppressed": bool(q.get("suppressed")), "mean": q["mean"],
                     "p10": q["p10"], "p25": q["p25"], "p50": q["p50"], "p75": q["p75"], "p90": q["p90"]})
    return rows


def invite_rows(figure: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = [{"figure": k, "n": figure[k]["n"], "suppressed": bool(figure[k].get("suppressed"))} for k in ("invited", "opened", "started", "completed")]
    rows += [{"figure": k, "rate": figure[k]} for k in ("open_rate", "start_rate", "completion_rate")]
    return rows


def flag_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows whose ``suppressed`` may be missing: written as false."""
    return [{**r, "suppressed": bool(r.get("suppressed"))} for r in rows]
