"""The dashboard's figures (analytics/) over plain rows, checked against figures worked out by hand."""

from __future__ import annotations

import csv
import io
import math
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from analytics import Cost, Outcome, Row, funnel, histograms, invites, questions, sources, spearman, stages, validity
from analytics.figures import histogram, stay_times
from analytics.tables import funnel_rows, table
from analytics.validity import fisher_ci

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
PATH = [  # (action, to, outcome): the whole way, from receive to a decision
    ("receive", "applied", None),
    ("screen", "screened", "advance"),
    ("invite", "invited", None),
    ("open", "invited", None),
    ("start_interview", "interviewing", None),
    ("end_interview", "interviewed", None),
    ("decide", "decided", "advance"),
]


def row(n: int, *, steps: int = 7, decision: str = "advance", job: str = "teller", source: str | None = "campus",
        hours: tuple[float, ...] = (1, 24, 1, 23, 1, 24), match: float | None = None, interview: float | None = None,
        qs: dict[tuple[str, str | None], float] | None = None, later: Outcome | None = None, skip: tuple[str, ...] = ()) -> Row:
    """An application that took the first ``steps`` of PATH, each ``hours`` after the one before."""
    at, timeline = T0, []
    for i, (action, to, outcome) in enumerate(PATH[:steps]):
        if i:
            at += timedelta(hours=hours[i - 1])
        if action in skip:
            continue
        if action == "decide":
            outcome = decision
        timeline.append({"action": action, "to": to, "outcome": outcome, "at": at.isoformat()})
    return Row(id=f"app_{n}", job_id=job, source=source, created_at=T0, state=timeline[-1]["to"], outcome=None,
               match_score=match, interview_score=interview, question_scores=qs or {}, timeline=timeline, later=later)


def test_the_funnel_counts_each_stage_through_the_ones_before_and_hides_groups_under_5() -> None:
    rows = [row(i, steps=1) for i in range(2)]  # received, never screened: 2
    rows += [row(10 + i, steps=2) for i in range(6)]  # screened only: 6
    rows += [row(20 + i, steps=5) for i in range(5)]  # invited, interview not ended: 5
    rows += [row(30 + i, steps=6) for i in range(1)]  # interviewed, no decision: 1
    rows += [row(40 + i, decision="reject") for i in range(1)]  # interviewed, rejected: 1
    rows += [row(50 + i) for i in range(5)]  # interviewed and advanced: 5
    rows += [row(60, steps=2, skip=()) ]  # screened only: 7 in all
    figure = funnel(rows)
    by = {s["stage"]: s for s in figure["stages"]}
    # applied 21, screened 19, invited 12, interviewed 7, advanced 5
    assert [by[s]["n"] for s in ("applied", "screened", "invited", "interviewed", "advanced")] == [21, 19, 12, 7, 5]
    assert by["screened"]["conversion"] == round(19 / 21, 4) and by["screened"]["drop_off"] == round(1 - 19 / 21, 4)
    assert by["screened"]["dropped"] is None and by["screened"]["dropped_suppressed"]  # 2 stopped: too few to show
    assert by["invited"]["conversion"] == round(12 / 19, 4) and by["invited"]["dropped"] == 7
    assert by["interviewed"]["dropped"] == 5 and by["interviewed"]["conversion"] == round(7 / 12, 4)
    assert by["advanced"]["conversion"] == round(5 / 7, 4) and by["advanced"]["dropped"] is None  # 2
    # pass rate: 5 advanced of 6 decided among the interviewed
    assert figure["interview_pass_rate"] == {"rate": round(5 / 6, 4), "advanced": {"n": 5}, "decided": {"n": 6}}
    assert figure["advanced_without_interview"] == {"n": 0}


def test_a_small_funnel_shows_no_number_under_5() -> None:
    rows = [row(i) for i in range(3)] + [row(9, steps=2, decision="advance")]
    figure = funnel(rows)
    applied = figure["stages"][0]
    assert applied == {"stage": "applied", "n": None, "suppressed": True, "conversion": None, "drop_off": None, "dropped": None}
    assert all(s["n"] is None and s["suppressed"] for s in figure["stages"])
    assert figure["interview_pass_rate"]["rate"] is None and figure["interview_pass_rate"]["decided"]["suppressed"]
    # an advance straight from screening skips the interview: counted apart, not as interviewed
    skipped = [row(i, skip=("invite", "open", "start_interview", "end_interview")) for i in range(5)]
    figure = funnel(skipped)
    assert figure["advanced_without_interview"] == {"n": 5} and figure["stages"][-1]["n"] == 0


def test_histograms_use_fixed_bins_of_10_and_suppress_a_bin_of_1_to_4() -> None:
    scores = [5.0] + [15.0] * 5 + [90.0, 90.0, 95.0, 99.0, 100.0] + [42.0, 44.0]
    figure = histogram(scores)
    assert figure["n"] == 13
    bins = {b["from"]: b for b in figure["bins"]}
    assert bins[0] == {"from": 0, "to": 10, "n": None, "suppressed": True}
    assert bins[10]["n"] == 5
    assert bins[40] == {"from": 40, "to": 50, "n": None, "suppressed": True}
    assert bins[90]["n"] == 5  # 100 falls in the last bin
    assert bins[50]["n"] == 0 and "suppressed" not in bins[50]
    # sorted: 5, 15 x5, 42, 44, 90, 90, 95, 99, 100: the median is the 7th, 42
    assert figure["p50"] == 42.0 and figure["mean"] == round(sum(scores) / 13, 2)
    tiny = histogram([50.0, 60.0])
    assert tiny["n"] is None and tiny["mean"] is None and tiny["p50"] is None
    both = histograms([row(i, match=80.0, interview=None) for i in range(5)])
    assert both["match"]["n"] == 5 and both["interview"]["n"] == 0


def test_per_question_spreads_have_quantiles_but_no_min_or_max() -> None:
    rows = [row(i, qs={("q1", None): 10.0 * (i + 1), ("q2", "alt_a"): 50.0}) for i in range(5)]
    rows.append(row(9, qs={("q3", None): 70.0}))
    out = {(q["question_id"], q["alternative"]): q for q in questions(rows)}
    q1 = out[("q1", None)]  # 10, 20, 30, 40, 50
    assert (q1["n"], q1["mean"], q1["p10"], q1["p25"], q1["p50"], q1["p75"], q1["p90"]) == (5, 30.0, 14.0, 20.0, 30.0, 40.0, 46.0)
    assert "min" not in q1 and "max" not in q1
    assert out[("q2", "alt_a")]["p50"] == 50.0
    assert out[("q3", None)] == {"question_id": "q3", "alternative": None, "n": None, "suppressed": True, "mean": None,
                                 "p10": None, "p25": None, "p50": None, "p75": None, "p90": None}


def test_sources_pass_rate_mean_and_cost_per_hire() -> None:
    campus = [row(i, match=60.0 + i, interview=70.0) for i in range(5)]  # 5 interviewed, 5 advanced
    campus += [row(5, decision="reject", match=40.0, interview=30.0)]  # 1 rejected
    liepin = [row(10 + i, source="liepin") for i in range(3)]
    costs = [Cost("campus", "teller", 3000.0, "CNY"), Cost("campus", None, 9000.0, "CNY"), Cost("liepin", None, 500.0, "CNY")]
    out = {s["source"]: s for s in sources(campus + liepin, costs, job_id="teller")}
    c = out["campus"]
    assert c["applications"] == 6 and c["interviewed"] == 6 and c["advanced"] == 5
    assert c["pass_rate"] == round(5 / 6, 4)
    assert c["mean_match_score"] == round((60 + 61 + 62 + 63 + 64 + 40) / 6, 2)
    assert c["mean_interview_score"] == round((70 * 5 + 30) / 6, 2)
    assert (c["cost"], c["currency"], c["cost_per_hire"]) == (3000.0, "CNY", 600.0)  # the job's own entry / 5
    assert c["suppressed"] is False and c["suppressed_fields"] == []
    lp = out["liepin"]
    assert lp["suppressed"] and lp["applications"] is None and lp["pass_rate"] is None and lp["cost_per_hire"] is None
    assert lp["cost"] is None  # the all-jobs entry is not one job's spend
    across = {s["source"]: s for s in sources(campus + liepin, costs)}
    assert across["campus"]["cost"] == 9000.0 and across["campus"]["cost_per_hire"] == 1800.0
    mixed = sources(campus, [Cost("campus", "teller", 1.0, "CNY"), Cost("campus", "analyst", 1.0, "USD")])
    assert mixed[0]["cost"] is None  # two currencies are not added up


def test_time_in_stage_p50_and_p90_from_the_timeline() -> None:
    # k = 1..5: applied k h, screened 24k h (the open note does not move it), invited k+23k h ...
    rows = [row(k, hours=(k, 24 * k, k, 23 * k, k, 24 * k)) for k in range(1, 6)]
    assert stay_times(rows[0]) == [("applied", 3600.0), ("screened", 86400.0), ("invited", 86400.0),
                                   ("interviewing", 3600.0), ("interviewed", 86400.0)]
    out = {s["stage"]: s for s in stages(rows)}
    # applied: 1..5 h: p50 = 3 h, p90 = 4.6 h (linear between the 4th and 5th)
    assert (out["applied"]["n"], out["applied"]["p50_s"], out["applied"]["p90_s"]) == (5, 3 * 3600.0, 4.6 * 3600)
    assert out["screened"]["p50_s"] == 3 * 86400.0
    few = {s["stage"]: s for s in stages(rows[:2])}
    assert few["applied"] == {"stage": "applied", "n": None, "suppressed": True, "p50_s": None, "p90_s": None}


def test_invite_open_and_completion_rates() -> None:
    rows = [row(i) for i in range(5)]  # opened, started, completed
    rows += [row(10 + i, steps=4) for i in range(3)]  # opened, not started
    rows += [row(20 + i, steps=3) for i in range(2)]  # invited, never opened
    rows += [row(30, steps=2)]  # not invited
    out = invites(rows)
    assert out["invited"] == {"n": 10} and out["opened"] == {"n": 8} and out["completed"] == {"n": 5}
    assert (out["open_rate"], out["start_rate"], out["completion_rate"]) == (0.8, 0.5, 0.5)
    few = invites(rows[:5] + rows[8:10])  # 7 invited, 5 opened; but 2 never opened is fine, 5 completed
    assert few["open_rate"] == round(5 / 7, 4)
    fewer = invites(rows[5:10])  # 5 invited, 3 opened, 0 completed
    assert fewer["opened"] == {"n": None, "suppressed": True} and fewer["open_rate"] is None
    assert fewer["completion_rate"] == 0.0


def test_spearman_with_ties_and_the_fisher_interval_by_hand() -> None:
    # d = rank differences -1, 1, -1, 1, 0: rho = 1 - 6*4 / (5*24) = 0.8
    assert spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) == pytest.approx(0.8)
    # ties take the average rank: x ranks 1, 2.5, 2.5, 4; y ranks 1, 2, 3, 4; Pearson of those = 0.9487
    assert spearman([1, 2, 2, 3], [10, 20, 30, 40]) == pytest.approx(3 / math.sqrt(10), abs=1e-9)
    assert spearman([1, 1, 1, 1, 1], [1, 2, 3, 4, 5]) is None
    # z = atanh(0.8) = 1.0986, se = sqrt((1 + 0.32) / 2) = 0.8124: tanh(1.0986 -+ 1.96 * 0.8124)
    low, high = fisher_ci(0.8, 5)
    assert low == pytest.approx(math.tanh(math.atanh(0.8) - 1.959964 * math.sqrt(0.66)), abs=1e-6)
    assert (round(low, 3), round(high, 3)) == (-0.457, 0.991)
    assert fisher_ci(1.0, 10) is None and fisher_ci(0.5, 3) is None


def test_validity_by_job_needs_5_pairs() -> None:
    onsite = ["fail", "fail", "pass", "fail", "pass"]
    teller = [row(i, job="teller", interview=float(s), later=Outcome(onsite=o, probation_rating=r))
              for i, (s, o, r) in enumerate(zip([50, 60, 70, 80, 90], onsite, [2, 1, 4, 3, 5]))]
    analyst = [row(10 + i, job="analyst", interview=60.0 + i, later=Outcome(performance_12m=3.0 + i)) for i in range(3)]
    out = {(r["job_id"], r["score"], r["outcome"]): r for r in validity(teller + analyst)}
    probation = out[("teller", "interview_score", "probation_rating")]
    assert probation["n"] == 5 and probation["rho"] == 0.8
    assert (probation["ci_low"], probation["ci_high"]) == (round(fisher_ci(0.8, 5)[0], 4), round(fisher_ci(0.8, 5)[1], 4))
    # on-site as 1/0: y ranks 2, 2, 4.5, 2, 4.5; deviations x -2..2, y -1, -1, 1.5, -1, 1.5:
    # rho = 5 / sqrt(10 * 7.5) = 0.5774
    assert out[("teller", "interview_score", "onsite")]["rho"] == round(5 / math.sqrt(75), 4)
    small = out[("analyst", "interview_score", "performance_12m")]
    assert small["n"] is None and small["suppressed"] and small["rho"] is None and small["note"] == "needs at least 5"
    assert out[("(all)", "interview_score", "performance_12m")]["n"] is None  # still only 3 in all
    nothing = out[("teller", "match_score", "onsite")]
    assert nothing["n"] == 0 and nothing["rho"] is None


def test_csv_has_a_bom_a_header_and_empty_cells_where_suppressed() -> None:
    text = table(funnel_rows(funnel([row(i) for i in range(6)] + [row(9, steps=2)])))
    assert text.startswith("\ufeff")
    lines = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert list(lines[0]) == ["stage", "n", "suppressed", "conversion", "drop_off", "dropped"]
    by: dict[str, Any] = {line["stage"]: line for line in lines}
    assert by["applied"]["n"] == "7" and by["applied"]["suppressed"] == "false"
    assert by["advanced"]["n"] == "6" and by["advanced"]["conversion"] == "1.0"
    assert by["invited"]["dropped"] == ""  # 1 dropped: not written
    assert table([{"source": "校园招聘", "n": 5}]).encode("utf-8").startswith(b"\xef\xbb\xbfsource,n\r\n")


def test_the_interval_matches_bonetts_own_statpsych_example() -> None:
    # statpsych's ci.spear(.05, y, x) (Bonett's R package; its reference page's example):
    # Estimate 0.8699639, LL 0.5840951, UL 0.9638297
    y = [21, 4, 9, 12, 35, 18, 10, 22, 24, 1, 6, 8, 13, 16, 19]
    x = [67, 28, 30, 28, 52, 40, 25, 37, 44, 10, 14, 20, 28, 40, 51]
    rho = spearman(x, y)
    assert rho == pytest.approx(0.8699639, abs=1e-7)
    low, high = fisher_ci(rho, len(x))
    assert (low, high) == (pytest.approx(0.5840951, abs=1e-7), pytest.approx(0.9638297, abs=1e-7))
