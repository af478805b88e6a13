"""The event catalogue (events/): each type's name defined once, and documented."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import msgpack
import pytest

from events import INTERNAL, PAYLOADS, Event, EventType, SpeechEnd, TranscriptFinal, Word, payload_from_dict

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


def test_an_event_is_its_plain_name_and_a_dict_at_the_edges() -> None:
    words = (Word("你好", 1.0, 1.4, 0.93), Word("世界", 1.4, 1.5, 0.88))
    payload = TranscriptFinal(utterance_id=7, text="你好世界", language="zh", start=1.0, end=1.5, words=words)
    event = Event("s1", 3, 1.5, 1700000000.0, payload)
    data = event.to_dict()
    assert type(data["type"]) is str and data["type"] == "transcript.final"
    assert data["payload"]["words"][1] == {"word": "世界", "start": 1.4, "end": 1.5, "probability": 0.88}
    for wire in (json.loads(json.dumps(data)), msgpack.unpackb(msgpack.packb(data))):
        back = Event.from_dict(wire)
        assert back == event and isinstance(back.payload, TranscriptFinal) and back.payload.words == words


def test_every_event_type_has_one_frozen_payload_class() -> None:
    # report.ready goes to sinks only; its body is the report document
    assert set(PAYLOADS) == set(EventType) - {EventType.REPORT_READY}
    for event_type, cls in PAYLOADS.items():
        assert cls.type is event_type
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen, cls


def test_every_payload_field_is_documented() -> None:
    text = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \| (.*)$", text, flags=re.M))
    missing = []
    for event_type, cls in PAYLOADS.items():
        if event_type in INTERNAL:
            continue
        row = rows[event_type.value]
        if row.startswith("as `"):  # "as `score.question`"
            row = rows[row.split("`")[1]]
        documented = set(re.findall(r"`([a-z_]+)`", row))
        undocumented = {f.name for f in dataclasses.fields(cls)} - documented
        missing += [f"{event_type}: {name}" for name in sorted(undocumented)]
    assert missing == []


def test_a_payload_from_another_version_keeps_what_it_knows() -> None:
    newer = {"utterance_id": 1, "start": 0.0, "end": 1.0, "split": False, "loudness": -20.0}
    assert payload_from_dict("speech.end", newer) == SpeechEnd(utterance_id=1, start=0.0, end=1.0)
    with pytest.raises(ValueError, match="speech.end"):
        payload_from_dict("speech.end", {"utterance_id": 1})
    with pytest.raises(ValueError, match="unknown event type"):
        payload_from_dict("speech.loud", {})
