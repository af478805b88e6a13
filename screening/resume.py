"""A parsed resume (intake/) as screening's input, and the screener the server uses.

Only ``ParsedResume.qualifications`` is read: the personal fields (name,
gender, age, photo, birthplace, marital status, ...) are not an input of
:func:`qualifications`, so no resume can move its score through them.
"""

from __future__ import annotations

from typing import Any

from intake.parse import Qualifications as Parsed
from intake.parse import Vocabulary, vocabulary

from .match import Evidence, Item, Qualifications, Screener


def _evidence(found: Any) -> Evidence | None:
    if found is None:
        return None
    return Evidence(found.text, found.start, found.end)


def qualifications(parsed: Parsed) -> Qualifications:
    """What screening reads of a parsed resume: its qualifications, never its personal fields."""
    skills: list[Item] = [Item(s.name, _evidence(s.evidence), skill_id=s.name) for s in parsed.skills]
    # Titles and majors say what the candidate did and studied: matched by words and meaning.
    skills += [Item(j.title.value, _evidence(j.title.evidence)) for j in parsed.jobs if j.title is not None]
    skills += [Item(e.major.value, _evidence(e.major.evidence)) for e in parsed.educations if e.major is not None]
    # What each job's lines say the candidate did: "撰写审查意见" meets "审查报告撰写" by meaning.
    skills += [Item(d.text, _evidence(d)) for j in parsed.jobs for d in j.duties]
    return Qualifications(
        education=Item(parsed.education.value, _evidence(parsed.education.evidence)) if parsed.education else None,
        years=parsed.years.value if parsed.years is not None else None,
        years_evidence=tuple(Evidence(e.text, e.start, e.end) for e in parsed.years.evidence) if parsed.years else (),
        skills=tuple(skills),
        certificates=tuple(Item(c.name, _evidence(c.evidence)) for c in parsed.certificates if c.held),
        # "written": the resume is in that language; its span is just the resume's first words (often the name)
        languages=tuple(
            Item(lang.code, None if lang.basis == "written" else _evidence(lang.evidence)) for lang in parsed.languages
        ),
    )


def screener(encoder: Any | None = None, vocab: Vocabulary | None = None) -> Screener:
    """A screener on the shared vocabulary and, where given, the sentence encoder (skills by meaning)."""
    vocab = vocab or vocabulary()
    return Screener(
        embed=encoder.encode if encoder is not None else None,
        embed_requirement=encoder.encode_rubric if encoder is not None else None,
        skill_ids=vocab.skills_in,
        canonical_certificate=vocab.canonical_certificate,
    )
