"""The event catalogue (events/): each type's name defined once, and documented."""

from __future__ import annotations

import json
import re
from pathlib import Path

import msgpack

from events import INTERNAL, Event, EventType

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("analyzers", "interview", "jobs", "media", "reports", "scoring", "server", "sinks")
NAME = re.compile(r"""["'](?:%s)["']""" % "|".join(re.escape(t.value) for t in EventType))


def test_every_published_type_is_documented_and_nothing_else() -> None:
    text = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \|", text, flags=re.M))
    published = {t.value for t in EventType if t not in INTERNAL}
    assert published - documented == set(), "published but not in docs/events.md"
    assert documented - published == set(), "documented but not in the catalogue"


def test_no_module_spells_an_event_name_outside_the_catalogue() -> None:
    found = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if NAME.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []


def test_an_event_is_its_plain_name_at_the_edges() -> None:
    event = Event(EventType.TRANSCRIPT_FINAL, "s1", 3, 1.5, 1700000000.0, {"text": "你好"})
    data = event.to_dict()
    assert type(data["type"]) is str and data["type"] == "transcript.final"
    assert json.loads(json.dumps(data))["type"] == "transcript.final"
    assert msgpack.unpackb(msgpack.packb(data))["type"] == "transcript.final"
    assert Event.from_dict(data) == Event("transcript.final", "s1", 3, 1.5, 1700000000.0, {"text": "你好"})
