"""The automation benchmark (benchmarks/automation.py): it runs end to end, and benchmarks/README.md shows its data."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.automation import LABELS, markdown_table, run

REPO = Path(__file__).resolve().parents[1]


def test_benchmark_readme_automation_tables_equal_their_data() -> None:
    """Every committed run is in benchmarks/README.md as its data renders it, and every invite of it arrived."""
    files = sorted((REPO / "benchmarks" / "data").glob("automation-*.json"))
    assert files, "no benchmarks/data/automation-*.json: run make bench-automation"
    readme = (REPO / "benchmarks" / "README.md").read_text(encoding="utf-8")
    for f in files:
        data = json.loads(f.read_text(encoding="utf-8"))
        assert set(data["phases"]) == set(LABELS), f.name
        for name, phase in data["phases"].items():
            assert phase["received"] == phase["n"] == data["n"] >= 1000, (f.name, name)
            assert len(phase["rows"]) == data["n"], (f.name, name)
        assert data["phases"]["automation"]["states"] == {"done": data["n"]}, f.name
        assert data["machine"]["cpu"] and data["machine"]["sqlite"] and data["machine"]["python"], f.name
        assert markdown_table(data) in readme, f.name
        assert f"(data/{f.name})" in readme, f.name


def test_a_small_run_invites_every_application_over_real_smtp() -> None:
    data = run(4, timeout_s=60)
    for name, phase in data["phases"].items():
        assert phase["received"] == 4, name
        stages = phase["stages"]
        assert 0 < stages["enqueued_to_received"]["p50_ms"] <= stages["scheduled_to_received"]["p99_ms"], name
    auto = data["phases"]["automation"]
    assert auto["states"] == {"done": 4} and all(r["delivery"] for r in auto["rows"])
    assert auto["stages"]["scheduled_to_enqueued"]["p50_ms"] > 0
    assert "| automation, arriving (rule → invite → e-mail) | 4/4 |" in markdown_table(data)
