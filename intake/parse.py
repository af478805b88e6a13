"""A candidate profile parsed from a resume's text, every value with the text it came from.

:func:`parse_resume` reads Chinese and English resumes as people write them:
section headings (教育背景 / Education, 工作经历 / Work Experience, ...),
labelled lines (姓名：, Email:), table rows (cells separated by tabs, as
intake.extract gives them), and free lines. Each value carries its
:class:`Evidence`: the exact text and its character offsets in the text
parsed (``text[start:end] == evidence.text``), so HR can see where a value
came from and correct it.

The result keeps two groups apart:

* :class:`Personal` (name, phone, email, gender, age, birth date, birthplace,
  ethnicity, political status, marital status, ID number, photo): who the
  candidate is. Screening must never read it.
* :class:`Qualifications` (education, work history and years, skills,
  certificates, languages): what screening may read.

What counts as a skill, a certificate, a language test, a degree or a
section heading is data (intake/vocab.yaml), not code. Chinese skill and
certificate names must fall on word boundaries of jieba's segmentation
(with the vocabulary added to its dictionary), so a name inside a longer
word does not count.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from intake.dates import DateRange, find_dates, find_ranges, normalize, union_months
from intake.extract import ResumeText, guess_language
from jobs.models import CandidateProfile

VOCAB_PATH = Path(__file__).with_name("vocab.yaml")

EducationLevel = Literal["none", "associate", "bachelor", "master", "doctorate"]
EDUCATION_ORDER: tuple[EducationLevel, ...] = ("none", "associate", "bachelor", "master", "doctorate")


# ------------------------------------------------------------------- the result --


class Evidence(BaseModel):
    """Where a value came from: ``text == parsed_text[start:end]``."""

    model_config = ConfigDict(frozen=True)
    text: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class Found(BaseModel):
    """A value and the text it was read from."""

    model_config = ConfigDict(frozen=True)
    value: str
    evidence: Evidence


class LevelFound(BaseModel):
    model_config = ConfigDict(frozen=True)
    value: EducationLevel
    evidence: Evidence


class YearsFound(BaseModel):
    """Years of work: the union of the jobs' date ranges (each range is evidence)."""

    model_config = ConfigDict(frozen=True)
    value: float = Field(ge=0)
    months: int = Field(ge=0)
    evidence: list[Evidence]
    stated: bool = False  # from "5年工作经验" / "5 years of experience", no dated jobs


class Education(BaseModel):
    model_config = ConfigDict(frozen=True)
    level: LevelFound | None = None
    school: Found | None = None
    major: Found | None = None
    graduation_year: int | None = None
    graduation: Evidence | None = None  # the date the year was read from
    in_progress: bool = False  # "2024.09-至今": not graduated yet
    evidence: Evidence  # the whole entry


class Job(BaseModel):
    model_config = ConfigDict(frozen=True)
    employer: Found | None = None
    title: Found | None = None
    start: str  # YYYY-MM
    end: str | None  # YYYY-MM; None while it goes on ("至今", "Present")
    months: int = Field(ge=0)
    internship: bool = False  # an internship or a part-time job: not counted in years
    dates: Evidence
    # What the job's own lines say the candidate did (its duties and results), bullets left out:
    # screening matches a job's required skills against them by words and by meaning.
    duties: list[Evidence] = Field(default_factory=list)


class Term(BaseModel):
    """A skill or certificate by its canonical name (intake/vocab.yaml), as written in ``evidence``."""

    model_config = ConfigDict(frozen=True)
    name: str
    evidence: Evidence


class Certificate(Term):
    held: bool = True  # False: a level passed, a candidate, preparing ("CFA 二级", "FRM Part I")


class LanguageSkill(BaseModel):
    model_config = ConfigDict(frozen=True)
    code: str  # zh, en, yue, ja, ...
    test: str | None = None  # CET-6, IELTS, ...
    score: str | None = None
    basis: Literal["test", "stated", "written"]  # a test, a line that names it, the resume is written in it
    evidence: Evidence


class Personal(BaseModel):
    """Who the candidate is. Personal data: shown to HR, never read by screening, never logged."""

    model_config = ConfigDict(frozen=True)
    name: Found | None = None
    phone: Found | None = None  # value in E.164 (+8613800138000)
    email: Found | None = None
    gender: Found | None = None
    age: Found | None = None
    birth_date: Found | None = None
    birthplace: Found | None = None
    ethnicity: Found | None = None
    political_status: Found | None = None
    marital_status: Found | None = None
    id_number: Found | None = None
    photo: bool | None = None  # the file has a picture (None: plain text, not known)


class Qualifications(BaseModel):
    """What screening may read: nothing here says who the candidate is."""

    model_config = ConfigDict(frozen=True)
    education: LevelFound | None = None  # the highest level
    educations: list[Education] = Field(default_factory=list)
    jobs: list[Job] = Field(default_factory=list)
    years: YearsFound | None = None
    skills: list[Term] = Field(default_factory=list)
    certificates: list[Certificate] = Field(default_factory=list)
    languages: list[LanguageSkill] = Field(default_factory=list)


class ParsedResume(BaseModel):
    model_config = ConfigDict(frozen=True)
    language: Literal["zh", "en"]
    personal: Personal
    qualifications: Qualifications
    needs_review: list[str] = Field(default_factory=list)

    def profile(self, name: str | None = None) -> CandidateProfile:
        """The :class:`jobs.models.CandidateProfile` this resume gives (``name`` overrides the one found).

        Certificates not yet held are left out; languages are codes (zh, en).
        """
        q = self.qualifications
        chosen = name or (self.personal.name.value if self.personal.name else None)
        if not chosen:
            raise ValueError("the resume gave no name: pass profile(name=...)")
        return CandidateProfile(
            name=chosen,
            education=q.education.value if q.education else None,
            years=q.years.value if q.years else None,
            skills=_unique(t.name for t in q.skills),
            certificates=_unique(c.name for c in q.certificates if c.held),
            languages=_unique(lang.code for lang in q.languages),
            # what personalised questions read: each job's employer and title
            experience=_unique(
                " ".join(part.value for part in (job.employer, job.title) if part is not None)
                for job in q.jobs
                if job.employer is not None or job.title is not None
            ),
        )


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


# ------------------------------------------------------------------- vocabulary --


def _key(alias: str) -> str:
    """How aliases are looked up: case, spaces and hyphens do not matter."""
    return re.sub(r"[\s\-]+", "", alias).casefold()


def _is_cjk(text: str) -> bool:
    return bool(re.search(r"[\u3400-\u9fff]", text))


def _case_sensitive(alias: str) -> bool:
    """Acronyms (CFA, MBA, B.A.) must match as written: "ma" or "ba" in a sentence is not a degree."""
    letters = [c for c in alias if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) >= 2 and not any(c.islower() for c in letters)


def _alias_pattern(alias: str, *, plural: bool = False) -> str:
    """An alias as a regex: whole words for Latin text, flexible spaces and hyphens.

    With ``plural``, an English alias ending in a lower-case letter also matches its plural
    ("stress tests", "credit memos"): :func:`_lookup` finds the canonical name of either.
    """
    parts = [re.escape(p) for p in re.split(r"[\s\-]+", alias.strip()) if p]
    body = r"[\s\-]*".join(parts)
    if _case_sensitive(alias):
        body = f"(?-i:{body})"
    elif plural and re.search(r"[a-z]$", alias):
        body = f"{body}s?"
    left = r"(?<![A-Za-z0-9])" if re.match(r"[A-Za-z0-9]", alias) else ""
    right = r"(?![A-Za-z0-9])" if re.search(r"[A-Za-z0-9.]$", alias) else ""
    return f"{left}{body}{right}"


def _matcher(aliases: dict[str, str], *, plural: bool = False) -> re.Pattern[str]:
    """One regex over every alias (longest first), each a named group -> its canonical name."""
    ordered = sorted(aliases, key=len, reverse=True)
    return re.compile("|".join(f"(?:{_alias_pattern(a, plural=plural)})" for a in ordered), re.IGNORECASE)


def _lookup(table: dict[str, Any], alias: str) -> Any:
    """``table`` at ``alias``'s key, or at its singular ("stress tests" -> "stress test")."""
    key = _key(alias)
    if key in table or not key.endswith("s"):
        return table.get(key)
    return table.get(key[:-1])


@dataclass
class Vocabulary:
    """intake/vocab.yaml, compiled. Build once with :func:`vocabulary` (or ``Vocabulary.load(path)``)."""

    skills: dict[str, str]  # alias (casefolded) -> canonical name
    certificates: dict[str, str]
    certificate_partial: re.Pattern[str]
    language_names: dict[str, str]  # alias -> code
    language_tests: dict[str, tuple[str, str]]  # alias -> (code, test)
    degrees: dict[str, EducationLevel]
    sections: dict[str, str]  # heading (casefolded, no spaces) -> section kind
    employer_re: re.Pattern[str]
    title_re: re.Pattern[str]
    school_re: re.Pattern[str]
    skill_re: re.Pattern[str]
    certificate_re: re.Pattern[str]
    language_name_re: re.Pattern[str]
    language_test_re: re.Pattern[str]
    degree_re: re.Pattern[str]
    surnames: frozenset[str]
    compound_surnames: tuple[str, ...]
    # how resumes phrase a skill as what they did ("撰写审查意见"): (pattern, canonical name)
    skill_patterns: tuple[tuple[re.Pattern[str], str], ...] = ()
    _jieba: Any = None
    _words: tuple[str, ...] = ()

    @classmethod
    def load(cls, path: Path = VOCAB_PATH) -> "Vocabulary":
        data = yaml.safe_load(path.read_text(encoding="utf-8"))

        def aliases(entries: list[dict[str, Any]]) -> dict[str, str]:
            out: dict[str, str] = {}
            for e in entries:
                for a in [e["name"], *e.get("aliases", [])]:
                    out.setdefault(_key(str(a)), e["name"])
            return out

        skills = aliases(data["skills"])
        certificates = aliases(data["certificates"])
        names: dict[str, str] = {}
        tests: dict[str, tuple[str, str]] = {}
        for lang in data["languages"]:
            for n in lang["names"]:
                names[_key(str(n))] = lang["code"]
            for t in lang.get("tests", []):
                for a in [t["name"], *t.get("aliases", [])]:
                    tests.setdefault(_key(str(a)), (lang["code"], t["name"]))
        degrees = {_key(str(a)): level for level, words in data["degrees"].items() for a in words}
        sections = {
            re.sub(r"\s+", "", str(h)).casefold(): kind for kind, heads in data["sections"].items() for h in heads
        }

        def words(key: str) -> re.Pattern[str]:
            return _matcher({str(w): str(w) for w in data[key]})

        # The matchers keep the aliases' own spelling so acronyms stay case-sensitive.
        def spelled(source: Iterable[str], plural: bool = False) -> re.Pattern[str]:
            return _matcher({a: a for a in source}, plural=plural)

        skill_spellings = [str(a) for e in data["skills"] for a in [e["name"], *e.get("aliases", [])]]
        cert_spellings = [str(a) for e in data["certificates"] for a in [e["name"], *e.get("aliases", [])]]
        name_spellings = [str(n) for lang in data["languages"] for n in lang["names"]]
        test_spellings = [
            str(a) for lang in data["languages"] for t in lang.get("tests", []) for a in [t["name"], *t.get("aliases", [])]
        ]
        degree_spellings = [str(a) for words_ in data["degrees"].values() for a in words_]
        partial = "|".join(
            _alias_pattern(str(p)) for p in sorted(data["certificate_partial"], key=len, reverse=True)
        )
        cjk_words = [
            w for w in [*skill_spellings, *cert_spellings, *name_spellings, *test_spellings, *degree_spellings]
            if _is_cjk(w)
        ]
        return cls(
            skills=skills,
            certificates=certificates,
            certificate_partial=re.compile(partial, re.IGNORECASE),
            language_names=names,
            language_tests=tests,
            degrees=degrees,
            sections=sections,
            employer_re=words("employer_words"),
            title_re=words("title_words"),
            school_re=words("school_words"),
            skill_re=spelled(skill_spellings, plural=True),
            certificate_re=spelled(cert_spellings, plural=True),
            language_name_re=spelled(name_spellings),
            language_test_re=spelled(test_spellings),
            degree_re=spelled(degree_spellings),
            surnames=frozenset(str(data["surnames"])),
            compound_surnames=tuple(data["compound_surnames"]),
            skill_patterns=tuple(
                (re.compile(str(p), re.IGNORECASE), e["name"]) for e in data["skills"] for p in e.get("patterns", [])
            ),
            _words=tuple(cjk_words),
        )

    def canonical_skill(self, text: str) -> str | None:
        """The canonical skill name for any of its aliases (e.g. a job's requirement), or None."""
        return self.skills.get(_key(text))

    def canonical_certificate(self, text: str) -> str | None:
        return self.certificates.get(_key(text))

    def skills_in(self, text: str) -> frozenset[str]:
        """The canonical skills a phrase names (a job's requirement "反洗钱与客户尽职调查" may name two)."""
        whole = self.canonical_skill(text)
        if whole is not None:
            return frozenset({whole})
        found = [_lookup(self.skills, m.group(0)) for m in self.skill_re.finditer(text)]
        found += [name for pattern, name in self.skill_patterns if pattern.search(text)]
        return frozenset(name for name in found if name is not None)

    def boundaries(self, text: str) -> set[int]:
        """The offsets where jieba's words (with this vocabulary in its dictionary) begin and end."""
        if self._jieba is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            for w in self._words:
                tokenizer.add_word(w, freq=100_000)
            self._jieba = tokenizer
        out: set[int] = set()
        for _word, start, end in self._jieba.tokenize(text):
            out.add(start)
            out.add(end)
        return out


@functools.cache
def vocabulary() -> Vocabulary:
    """The shipped vocabulary, loaded on first use (jieba's dictionary on the first Chinese text)."""
    return Vocabulary.load()


# ------------------------------------------------------------------- lines and sections --


@dataclass(frozen=True)
class Line:
    start: int  # offset of the line's first character in the text
    text: str  # normalized (intake.dates.normalize: same length as the original)

    @property
    def end(self) -> int:
        return self.start + len(self.text)


def _lines(norm: str) -> list[Line]:
    out = []
    pos = 0
    for raw in norm.split("\n"):
        out.append(Line(pos, raw))
        pos += len(raw) + 1
    return out


_DECORATION = re.compile(r"[\s:：■□●◆◇▶►▪•·\-_=*#【】\[\]|/<>《》()（）]+")
_NUMBERING = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、.．]|\d{1,2}[、.．)]|[IVX]+\.)\s*")
_LABEL_SEP = re.compile(r"\s*[:：]\s*")


def _heading(line: str, vocab: Vocabulary) -> tuple[str, bool] | None:
    """(section kind, whether the line goes on with content after the heading) or None."""
    stripped = _NUMBERING.sub("", line.strip())
    if not stripped or len(stripped) > 40:
        return None
    key = _DECORATION.sub("", stripped).casefold()
    if key in vocab.sections:
        return vocab.sections[key], False
    m = re.match(r"^\s*([^:：]{2,20})[:：]\s*\S", stripped)
    if m:
        head = _DECORATION.sub("", m.group(1)).casefold()
        kind = vocab.sections.get(head)
        if kind in ("skills", "certificates", "languages"):
            return kind, True
    return None


def _heading_key(text: str) -> str:
    return _DECORATION.sub("", _NUMBERING.sub("", text.strip())).casefold()


def _is_heading_word(text: str, vocab: Vocabulary) -> bool:
    """Whether ``text`` is a section heading alone ("教育背景", "Work Experience"): never a field's value."""
    return bool(text.strip()) and _heading_key(text) in vocab.sections


@dataclass
class Section:
    kind: str  # "top" before the first heading, then the vocabulary's kinds
    lines: list[Line]


_COLUMN_GAP = re.compile(r"(?<=\S)[ \u3000]{4,}(?=\S)")


def _columns(lines: list[Line], vocab: Vocabulary) -> list[Line]:
    """Two columns flattened into one text, read one column after the other.

    A two-column resume saved as text interleaves its columns line by line
    ("教育背景        专业技能"). Where at least three lines split at a wide gap
    (four spaces or more) and the right-hand parts hold a section heading, the
    lines from the first split to the blank line after the last are read as
    the left column, then the right one (a line indented that far is the right
    column alone). Offsets stay those of the text. Right-aligned dates beside
    a school or job hold no heading and are left as they are.
    """
    split: dict[int, re.Match[str]] = {}
    for i, line in enumerate(lines):
        gaps = list(_COLUMN_GAP.finditer(line.text))
        if gaps:
            split[i] = gaps[-1]
    if len(split) < 3 or not any(_heading(lines[i].text[m.end() :], vocab) for i, m in split.items()):
        return lines
    first, last = min(split), max(split)
    end = last + 1
    while end < len(lines) and lines[end].text.strip():
        end += 1
    left: list[Line] = []
    right: list[Line] = []
    for i in range(first, end):
        line = lines[i]
        if i in split:
            m = split[i]
            left.append(Line(line.start, line.text[: m.start()]))
            right.append(Line(line.start + m.end(), line.text[m.end() :]))
        elif re.match(r"[ \u3000]{8,}\S", line.text):
            right.append(line)
        else:
            left.append(line)
    return lines[:first] + left + right + lines[end:]


def _sections(lines: list[Line], vocab: Vocabulary) -> list[Section]:
    sections = [Section("top", [])]
    for line in lines:
        head = _heading(line.text, vocab)
        cell = re.match(r"^\s*([^\t:：]{2,24}?)\s*\t+\S", line.text)
        if head is None and cell and _is_heading_word(cell.group(1), vocab):
            # a table row whose first cell is the section's label ("教育背景\t2016.09-2019.06\t复旦大学"): it opens the section
            sections.append(Section(vocab.sections[_heading_key(cell.group(1))], [line]))
        elif head is None:
            sections[-1].lines.append(line)
        elif head[1]:  # "技能：Excel、SQL": that line only
            sections.append(Section(head[0], [line]))
            sections.append(Section(sections[-2].kind, []))
        else:
            sections.append(Section(head[0], []))
    return [s for s in sections if s.lines]


# ------------------------------------------------------------------- helpers --


class _Text:
    """The text being parsed: the original (for evidence) and its same-length normalized form."""

    def __init__(self, text: str) -> None:
        self.raw = text
        self.norm = normalize(text)

    def evidence(self, start: int, end: int) -> Evidence:
        while start < end and self.raw[start].isspace():
            start += 1
        while end > start and self.raw[end - 1].isspace():
            end -= 1
        return Evidence(text=self.raw[start:end], start=start, end=end)

    def found(self, value: str, start: int, end: int, *, as_written: bool = True) -> Found:
        """``value`` read at ``start:end``; a value that is the text there is given as written
        (normalisation is for reading: "（中国）" stays full-width, not "(中国)"). ``as_written=False``
        keeps the normalised value (an email address, an ID number, an age: ASCII, to be used)."""
        evidence = self.evidence(start, end)
        if as_written and value != evidence.text and value == normalize(evidence.text):
            value = evidence.text
        return Found(value=value, evidence=evidence)


# Separators between the parts of a line: tabs, bars, wide spaces, bullets, slashes with spaces.
_SEP_CJK = re.compile(
    r"\t+|\s*[|｜·•]\s*|\s{2,}|\s+[-/]\s+|\s*[,，;；、。]\s*"
    r"|(?<![A-Za-z.,&'])\s+|\s+(?![A-Za-z&(])"  # one space splits, but not between the words of an English name
)
# ". " after a lower-case word and before a capital ends a sentence ("Officer. I handle ..."), not "Co. Ltd" or "U.S. Bank"
_SEP_EN = re.compile(r"\t+|\s*[|｜]\s*|\s{2,}|\s+[-/·•]\s+|\s*[;；]\s*|,\s+|\s+(?=\()|(?<=[a-z]{3})\.\s+(?=[A-Z])")


def _tokens(line: str, base: int, *, cjk: bool | None = None) -> list[tuple[str, int, int]]:
    """The parts of ``line`` as (text, start, end) with offsets into the whole text."""
    if cjk is None:
        cjk = _is_cjk(line)
    sep = _SEP_CJK if cjk else _SEP_EN
    out = []
    pos = 0
    for m in sep.finditer(line):
        if m.start() > pos:
            out.append((line[pos : m.start()], base + pos, base + m.start()))
        pos = m.end()
    if pos < len(line):
        out.append((line[pos:], base + pos, base + len(line)))
    return [t for t in out if t[0].strip()]


_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_ID_NUMBER = re.compile(r"(?<![\d])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![\d])")


def _labelled(t: _Text, labels: str, value: str, *, group: int = 1) -> Found | None:
    """The first ``LABEL: VALUE`` (``value`` a regex with one group)."""
    m = re.search(rf"(?:{labels})\s*[:：]?\s*{value}", t.norm, re.IGNORECASE)
    if m is None:
        return None
    return t.found(m.group(group).strip(), m.start(group), m.end(group))


# ------------------------------------------------------------------- personal --

_CJK_NAME = re.compile(r"^[\u4e00-\u9fff](?:[ \u3000]?[\u4e00-\u9fff·]){1,4}$")
_EN_NAME = re.compile(r"^(?:[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?|[A-Z]{2,})(?:\s+(?:[A-Z]\.|[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?|[A-Z]{2,})){1,3}$")
_NOT_A_NAME = re.compile(
    r"简历|履历|求职|应聘|个人|基本|信息|联系|电话|手机|邮箱|地址|年龄|性别|籍贯|民族|学历|专业|经历|经验|教育|技能|证书|自我"
    r"|resume|résumé|curriculum|vitae|\bcv\b|profile|contact|summary|objective|page",
    re.IGNORECASE,
)


def _name(t: _Text, lines: list[Line], vocab: Vocabulary) -> Found | None:
    labelled = _labelled(
        t, r"姓\s*名|(?<![A-Za-z])(?:full\s+)?name(?![A-Za-z])",
        r"([\u4e00-\u9fff](?:[ \u3000]{0,3}[\u4e00-\u9fff·]){1,4}(?![\u4e00-\u9fff])|[A-Z][A-Za-z'.-]+(?:[ ]+[A-Z][A-Za-z'.-]+){1,3})",
    )
    if labelled is not None:
        return Found(value=re.sub(r"\s+", "" if _is_cjk(labelled.value) else " ", labelled.value), evidence=labelled.evidence)
    seen = 0
    for line in lines:
        if not line.text.strip():
            continue
        seen += 1
        if seen > 8:
            break
        if _heading(line.text, vocab) is not None:
            continue
        for text, start, end in _tokens(line.text, line.start, cjk=False)[:2]:
            text = text.strip()
            # "黄嘉欣的个人简历", "张三 个人简历", "Jane Doe's Resume": the name before the document's title
            titled = re.match(r"^(.{2,40}?)(?:\s*的)?\s*(?:个人简历|求职简历|简历|履历)$|^(.{3,40}?)['’]s\s+(?:resume|cv|curriculum\s+vitae)$",
                              text, re.IGNORECASE)
            if titled:
                text = (titled.group(1) or titled.group(2)).strip()
                end = start + len(text)
            if _NOT_A_NAME.search(text) or "@" in text or re.search(r"\d", text):
                continue
            if _CJK_NAME.match(text) and vocab.school_re.search(text) is None and vocab.employer_re.search(text) is None:
                compact = re.sub(r"\s+", "", text)
                if compact[0] in vocab.surnames or compact.startswith(vocab.compound_surnames):
                    return t.found(compact, start, end)
            elif _EN_NAME.match(text) and not vocab.school_re.search(text) and not vocab.employer_re.search(text) \
                    and not vocab.title_re.search(text):
                # "SOPHIA CHEN", "HO Wing-Kit" (a Hong Kong surname in capitals): names in title case
                words = [w.capitalize() if w.isupper() and len(w) > 1 else w for w in text.split()]
                return t.found(" ".join(words), start, end)
            # "张三 | 男 | 28岁": the name may be the first of several short parts
            first = re.split(r"\s+", text)[0]
            if len(text) > len(first) and _CJK_NAME.match(first) and first[0] in vocab.surnames and len(first) <= 4 \
                    and not _NOT_A_NAME.search(first):
                return t.found(first, start, start + len(first))
    return None


def _phone(t: _Text) -> Found | None:
    import phonenumbers

    best = None
    for match in phonenumbers.PhoneNumberMatcher(t.norm, "CN", leniency=phonenumbers.Leniency.VALID):
        kind = phonenumbers.number_type(match.number)
        e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        found = t.found(e164, match.start, match.end)
        if kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
            return found
        best = best or found
    if best is None:
        # "(852) 6123 8899", "00852-9123-4567": read as Chinese numbers they are not valid
        for m in re.finditer(r"(?<![\d+])(?:\(\s*(?:00)?(852|853|886)\s*\)|00(852|853|886))[\s-]*(\d[\d\s-]{6,12}\d)", t.norm):
            try:
                number = phonenumbers.parse(f"+{m.group(1) or m.group(2)} {m.group(3)}", None)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                return t.found(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), m.start(), m.end())
    return best


def _personal(t: _Text, lines: list[Line], vocab: Vocabulary, photo: bool | None) -> Personal:
    email = _EMAIL.search(t.norm)
    id_number = _ID_NUMBER.search(t.norm)
    gender = _labelled(t, r"性\s*别|gender|sex", r"(男|女|male|female|M|F)(?![A-Za-z])")
    if gender is None:  # "张三 | 男 | 28岁"
        m = re.search(r"(?:^|[\s|｜/,，])(男|女)(?=$|[\s|｜/,，])", "\n".join(line.text for line in lines[:6]))
        if m:
            offset = lines[0].start
            gender = t.found(m.group(1), offset + m.start(1), offset + m.end(1))
    age = _labelled(t, r"年\s*龄|(?<![A-Za-z])age(?![A-Za-z])", r"(\d{2})\s*岁?")
    if age is None:
        m = re.search(r"(?<!\d)(\d{2})\s*岁", t.norm)
        if m:
            age = t.found(m.group(1), m.start(), m.end())
    if age is not None:  # a number: ASCII digits even where the text has full-width ones
        age = Found(value=normalize(age.value), evidence=age.evidence)
    birth = _labelled(
        t, r"出生年月|出生日期|生\s*日|date\s+of\s+birth|birth\s*date|d\.?o\.?b\.?|born",
        r"((?:19|20)\d{2}\s*(?:[./-]|年)\s*\d{1,2}(?:\s*(?:[./-]|月)\s*\d{1,2})?\s*[日月]?|[A-Za-z]{3,9}\.?\s+\d{1,2},?\s+(?:19|20)\d{2}|\d{1,2}\s+[A-Za-z]{3,9}\s+(?:19|20)\d{2})",
    )
    birthplace = _labelled(
        t, r"籍\s*贯|户\s*籍|户口所在地|出\s*生\s*地|hometown|place\s+of\s+birth|birthplace",
        r"([^\s|｜,，;；:：\t][^|｜,，;；\t\n]{0,24}?)(?=\s{2,}|\t|[|｜,，;；]|$)",
    )
    ethnicity = _labelled(t, r"民\s*族|ethnicity", r"([\u4e00-\u9fff]{1,6}族?|[A-Z][a-z]+)")
    political = _labelled(
        t, r"政治面貌", r"(中共党员|中共预备党员|共青团员|团员|党员|群众|民主党派|无党派人士)",
    )
    marital = _labelled(
        t, r"婚姻状况|婚\s*否|marital\s+status", r"(已婚已育|已婚未育|已婚|未婚|离异|married|single|divorced)",
    )
    return Personal(
        name=_name(t, lines, vocab),
        phone=_phone(t),
        email=t.found(email.group(0), email.start(), email.end(), as_written=False) if email else None,
        gender=gender,
        age=age,
        birth_date=birth,
        birthplace=birthplace,
        ethnicity=ethnicity,
        political_status=political,
        marital_status=marital,
        id_number=t.found(id_number.group(0), id_number.start(), id_number.end(), as_written=False) if id_number else None,
        photo=photo,
    )


# ------------------------------------------------------------------- education --

# After a degree word: "of Science in X", "of Economics, X" (the field, then the major), or "of X".
_GENERIC_FIELD = re.compile(
    r"^\s*(?:\((?:hons?|honours|honors)\)\s*)?(?:degree\s*)?"
    r"(?:of\s+(?:science|arts|engineering|economics|business\s+administration|philosophy|laws|commerce|management)"
    r"\s*(?:\((?:hons?|honours|honors)\))?\s*(?:,|\bin\b|:)\s*|of\s+|in\s+|,\s*|:\s*)?",
    re.IGNORECASE,
)
_NOT_MAJOR = re.compile(
    r"GPA|绩点|排名|rank|honou?rs|学历|学位|毕业|统招|全日制|在读|主修课程|courses|coursework|thesis|论文|奖学金|scholarship"
    r"|^(?:major|专业|degree|school|university)$",
    re.IGNORECASE,
)


def _major_from_token(token: str, vocab: Vocabulary) -> tuple[int, int, bool] | None:
    """The major inside one part of an education line: (start, end) within ``token``, or None.

    The third item is True for a weak guess: the field of a degree's name
    ("Bachelor of Economics"), which a major in the next part overrides.
    """
    work = token
    shift = 0
    weak = False
    m = vocab.degree_re.search(work)
    if m:  # "Bachelor of Science in Finance", "MSc Finance", "金融学硕士"
        before, after = work[: m.start()], work[m.end() :]
        if _is_cjk(before) and before.strip():
            shift, work = 0, before
        else:
            rest = _GENERIC_FIELD.match(after)
            skip = rest.end() if rest else 0
            weak = bool(re.match(r"\s*of\s+\S+\s*$", after, re.IGNORECASE))
            shift = m.end() + skip
            work = after[skip:]
    lead = len(work) - len(work.lstrip(" ,:-()（）"))
    work2 = work.strip(" ,:-()（）")
    work2 = re.sub(r"\s*(?:专业|major)$", "", work2, flags=re.IGNORECASE)
    work2 = re.sub(r"^(?:专业|major|主修)\s*[:：]?\s*", "", work2, flags=re.IGNORECASE)
    # "MSc Finance 2018", "Finance, Jun 2018": the date after the major is not part of it
    work2 = re.sub(r"[\s,，]+(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+)?(?:19|20)\d{2}(?:[./-]\d{1,2})?(?:\s*[-–~至]\s*\S*)?$", "", work2, flags=re.IGNORECASE)
    if not work2 or len(work2) > 40 or _NOT_MAJOR.search(work2) or vocab.school_re.search(work2) \
            or _is_heading_word(work2, vocab):
        return None
    if re.search(r"\d", work2) or vocab.degree_re.fullmatch(work2):
        return None
    if re.fullmatch(r"[A-Z][A-Z&.]{1,9}", work2):
        return None  # "香港科技大学 HKUST", "(CUHK)": the school's abbreviation, not a major
    start = token.find(work2, shift + lead if shift + lead <= len(token) else 0)
    if start < 0:
        start = token.find(work2)
    return (start, start + len(work2), weak)


def _school_span(line: Line, vocab: Vocabulary) -> tuple[int, int] | None:
    """The school named on ``line`` (absolute offsets) or None."""
    for text, start, end in _tokens(line.text, line.start, cjk=False):
        m = vocab.school_re.search(text)
        if m is None:
            continue
        if _is_cjk(text):
            # the run of CJK (and brackets) that ends with the school word: 复旦大学, 北京大学光华管理学院
            for run in re.finditer(r"[\u4e00-\u9fff（）()]+", text):
                # "学校：复旦大学": the bare word is the label
                if vocab.school_re.search(run.group(0)) and not vocab.school_re.fullmatch(run.group(0)):
                    s, e = run.start(), run.end()
                    tail = re.search(r"(大学|学院|学校|中学|党校)(?!.*(大学|学院|学校|中学|党校))", run.group(0))
                    if tail:
                        e = s + tail.end()
                    # "北京大学光华管理学院", "复旦大学管理学院": the school is the university, not its faculty
                    uni = re.search(r"大学", run.group(0)[: e - s])
                    if uni and re.search(r"(?:学院|系|书院|研究生院)$", run.group(0)[uni.end() : e - s]):
                        e = s + uni.end()
                    lead = re.match(r"^(?:.*?(?:毕业于|就读于|肄业于|考入|获得|获))?(?:于|在)?", run.group(0)[: e - s])
                    if lead and lead.end() and vocab.school_re.search(run.group(0)[lead.end() : e - s]):
                        s += lead.end()
                    return (start + s, start + e)
            continue
        # English: the capitalised phrase around the school word
        words = re.finditer(
            r"(?:(?:The|the)\s+)?(?:[A-Z][\w'&.-]*\s+(?:(?:of|and|for|&|de|in)\s+(?:the\s+)?)?)*"
            r"(?:University|College|Institute|School|Academy|Polytechnic)"
            r"(?:\s+(?:of|for|and|&|de)\s+(?:the\s+)?[A-Z][\w'&.-]*(?:\s+(?:and|&|of)?\s*[A-Z][\w'&.-]*)*)?",
            text,
        )
        for w in words:
            if len(w.group(0).split()) >= 2 or w.group(0) in ("University", "College"):
                end_ = w.end()
                # "Imperial College London", "University College London": a place that ends the name is part of it
                # (the city in its own column, "London, UK", is another part of the line)
                place = re.fullmatch(r"((?:\s[A-Z][a-z]+){1,2})\s*", text[end_:])
                if place and not any(
                    vocab.degree_re.fullmatch(word) or vocab.employer_re.fullmatch(word) or vocab.title_re.fullmatch(word)
                    or word.casefold() in _FIELD_WORDS or find_dates(word)
                    for word in place.group(1).split()
                ):
                    words_ = place.group(1).split()
                    # "Imperial College London London, UK" (the city column one space away): the name has it once
                    end_ += len(place.group(1)) if len(words_) < 2 or words_[0] != words_[1] else 1 + len(words_[0])
                return (start + w.start(), start + end_)
    return None


# Fields of study: "Fudan University Economics" names the school, then the major.
_FIELD_WORDS = frozenset(
    "economics finance accounting law laws business management engineering mathematics statistics science sciences "
    "arts commerce marketing physics chemistry history philosophy medicine present graduated expected honours honors".split()
)


# "专业：金融学", and in a table "专业\t金融工程" (the label's cell, then the value's)
_MAJOR_LABEL = re.compile(
    r"(?:(?<![\u4e00-\u9fff])专\s*业|\bmajor|\bfield\s+of\s+study)\s*(?:[:：]|\t+)[ \t]*([^\t|｜,，;；\n]{2,40}?)\s*(?=\t|[|｜,，;；]|\s{2,}|$)",
    re.IGNORECASE | re.MULTILINE,
)


def _major_value(value: str, vocab: Vocabulary) -> bool:
    """Whether a labelled major's value is one: not the next label of a table's header row ("专业\t学历"), not a heading."""
    value = value.strip()
    return bool(value) and not _is_heading_word(value, vocab) and not _NOT_MAJOR.search(value) \
        and not re.fullmatch(r"(?:起止)?时间|学校|院校|毕业院校|就读院校|学院|成绩|课程|专业|Major|School|Dates?|Period", value, re.IGNORECASE) \
        and not find_dates(value)


def _education(t: _Text, sections: list[Section], today: dt.date, vocab: Vocabulary) -> list[Education]:
    region = [line for s in sections if s.kind == "education" for line in s.lines]
    if not region:  # no heading: lines that name a school
        region = [line for s in sections for line in s.lines if _school_span(line, vocab)]
    blocks: list[list[Line]] = []
    pending: list[Line] = []  # lines before the first school
    has_date: list[bool] = []
    for line in region:
        if not line.text.strip():
            continue
        if _school_span(line, vocab):
            date_only = [p for p in pending if _date_only(p.text)]
            if blocks and date_only and has_date[-1] and _date_only(blocks[-1][0].text):
                # a date line just before this school belongs to it ("2014.09-2018.06\n复旦大学 ...")
                for p in date_only:
                    blocks[-1].remove(p)
                blocks.append([*date_only, line])
            elif not blocks:
                blocks.append([*pending, line])
            else:
                blocks.append([line])
            has_date.append(any(find_ranges(b.text, today, max_future_years=6) or find_dates(b.text) for b in blocks[-1]))
            pending = []
        elif blocks:
            blocks[-1].append(line)
            pending.append(line) if _date_only(line.text) else pending.clear()
            has_date[-1] = has_date[-1] or bool(find_ranges(line.text, today, max_future_years=6))
        else:
            pending.append(line)
    out = []
    for block in blocks:
        out.append(_education_entry(t, block, today, vocab))
    if len(out) == 1 and out[0].major is None:
        # one school, its major given elsewhere (a table of personal details: "专业\t金融工程")
        for m in _MAJOR_LABEL.finditer(t.norm):
            value = m.group(1).strip()
            if _major_value(value, vocab):
                out[0] = out[0].model_copy(update={"major": t.found(value, m.start(1), m.start(1) + len(value))})
                break
    return out


def _date_only(text: str) -> bool:
    stripped = re.sub(r"[\s\-~至到]+", "", normalize(text))
    for pattern in (r"(?:19|20)\d{2}(?:[./年]\d{1,2}月?)?", r"至今|present|now|current", r"[A-Za-z]{3,9}\.?"):
        stripped = re.sub(pattern, "", stripped, flags=re.IGNORECASE)
    return bool(find_dates(text)) and not stripped


def _education_entry(t: _Text, block: list[Line], today: dt.date, vocab: Vocabulary) -> Education:
    school = None
    school_line = None
    for line in block:
        span = _school_span(line, vocab)
        if span:
            school = t.found(t.norm[span[0] : span[1]], *span)
            school_line = line
            break
    level: LevelFound | None = None
    degree_line = None
    for line in block:
        for m in vocab.degree_re.finditer(line.text):
            lvl = vocab.degrees.get(_key(m.group(0)))
            if lvl is None:
                continue
            if level is None or EDUCATION_ORDER.index(lvl) > EDUCATION_ORDER.index(level.value):
                level = LevelFound(value=lvl, evidence=t.evidence(line.start + m.start(), line.start + m.end()))
                degree_line = line
    major = None
    labelled = next((m for m in _MAJOR_LABEL.finditer("\n".join(line.text for line in block)) if _major_value(m.group(1), vocab)), None)
    if labelled:
        s = _offset_in_block(block, labelled.start(1))
        major = t.found(labelled.group(1).strip(), s, s + len(labelled.group(1).strip())) if s is not None else None
    if major is None:
        weak_guess = None
        for line in [x for x in (degree_line, school_line) if x is not None] + block:
            for text, start, end in _tokens(line.text, line.start):
                if school and start <= school.evidence.start < end and not (level and start <= level.evidence.start < end):
                    continue
                if find_dates(text):
                    # "MSc Finance 2018": the part before a trailing date may hold the major
                    cut = re.search(r"[\s,，]+(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+)?(?:19|20)\d{2}(?!\d).*$", text, re.IGNORECASE)
                    if cut is None or cut.start() == 0 or find_dates(text[: cut.start()]) or not vocab.degree_re.search(text[: cut.start()]):
                        continue
                    text, end = text[: cut.start()], start + cut.start()
                if vocab.school_re.search(text) or _EMAIL.search(text):
                    continue
                span = _major_from_token(text, vocab)
                if span and span[2]:
                    weak_guess = weak_guess or t.found(text[span[0] : span[1]], start + span[0], start + span[1])
                elif span:
                    major = t.found(text[span[0] : span[1]], start + span[0], start + span[1])
                    break
            if major or weak_guess:
                break
        major = major or weak_guess
    graduation_year = None
    graduation = None
    in_progress = False
    block_text_ranges = [(line, r) for line in block for r in find_ranges(line.text, today, max_future_years=6)]
    if block_text_ranges:
        line, r = block_text_ranges[0]
        if r.present:
            in_progress = True
        else:
            graduation_year = r.end // 12
            graduation = t.evidence(line.start + r.start_pos, line.start + r.end_pos)
    else:
        dates = [(line, d) for line in block for d in find_dates(line.text)]
        if dates:
            line, (month, s, e) = max(dates, key=lambda x: x[1][0])
            graduation_year = month // 12
            graduation = t.evidence(line.start + s, line.start + e)
    return Education(
        level=level, school=school, major=major, graduation_year=graduation_year, graduation=graduation,
        in_progress=in_progress, evidence=t.evidence(block[0].start, block[-1].end),
    )


def _offset_in_block(block: list[Line], pos: int) -> int | None:
    """The text offset of ``pos`` in the block's lines joined by newlines."""
    acc = 0
    for line in block:
        if pos <= acc + len(line.text):
            return line.start + pos - acc
        acc += len(line.text) + 1
    return None


def _highest(educations: list[Education]) -> LevelFound | None:
    levels = [e.level for e in educations if e.level is not None]
    if not levels:
        return None
    return max(levels, key=lambda lvl: EDUCATION_ORDER.index(lvl.value))


# ------------------------------------------------------------------- work --

_DESCRIPTION = re.compile(r"^\s*(?:[-•·*●▪◦]|\d+[.、)]|负责|参与|协助|主要|工作内容|职责|业绩|Responsible|Managed|Led|Built|Handled|Reviewed|Achieved|Developed|Conducted|Analy[sz]ed|Prepared|Supported|Served)", re.IGNORECASE)


# A department inside an employer ("私人银行部", "Financial Markets Department"): neither the employer nor a title.
_DEPARTMENT = re.compile(r"(?:部|处|科|室|团队|Department|Dept\.?|Division|Desk|Team)$", re.IGNORECASE)
_EMPLOYER_ITSELF = re.compile(r"分行|支行|总行|有限|股份|集团|\bBank\b|\bLtd\b|\bLimited\b|\bInc\b|\bLLP\b|\bGroup\b|\bCorp\b|\bCorporation\b", re.IGNORECASE)
# How long a job lasted, written beside its dates: "（2年2个月）", "(5 years 9 months)", "(2 yrs 3 mos)"
_DURATION = re.compile(
    r"[(（]\s*(?:共\s*|约\s*)?(?:\d+(?:\.\d)?\s*(?:年|个月|个?月|years?|yrs?|months?|mos?)\s*){1,2}[)）]", re.IGNORECASE
)
# A note after a title: "副经理（主持工作）", "财务助理（周末）"
_TITLE_NOTE = re.compile(r"\s*[(（][^()（）]{1,12}[)）]\s*$")


def _classify(text: str, vocab: Vocabulary) -> str | None:
    if _DEPARTMENT.search(text.strip()) and not _EMPLOYER_ITSELF.search(text):
        return "department"
    employer = vocab.employer_re.search(text)
    title = vocab.title_re.search(text)
    if employer and title:
        # the word that ends the phrase decides: 招商银行客户经理 is a title at a bank
        return "both"
    if employer:
        return "employer"
    if title:
        return "title"
    return None


def _masked(text: str) -> str:
    """``text`` with its date ranges (and a colon after one) and job durations blanked out: same length."""
    out = list(text)
    spans = [(r.start_pos, r.end_pos) for r in find_ranges(text, dt.date(2100, 1, 1))]
    spans += [(m.start(), m.end()) for m in _DURATION.finditer(text)]
    for a, b in spans:
        colon = re.match(r"\s*[:：]", text[b:])
        if colon:
            b += colon.end()
        out[a:b] = " " * (b - a)
    return "".join(out)


def _job_parts(
    t: _Text, lines: list[Line], vocab: Vocabulary, *, strict: bool = False
) -> tuple[Found | None, Found | None]:
    """The employer and the title among ``lines``' parts.

    With ``strict``, a part no vocabulary word names that follows the title on its line
    ("Senior Credit Analyst, Wholesale Credit Risk": the team) is not taken for the employer.
    """
    employer = title = None
    unknown: list[tuple[str, int, int]] = []
    for line in lines:
        title_on_line = False
        masked = _masked(line.text)
        toks = _tokens(masked, line.start, cjk=_is_cjk(line.text))
        merged: list[tuple[str, int, int, str | None]] = []
        for text, start, end in toks:
            if re.fullmatch(r"[\s\-~至到今present]*", text, re.IGNORECASE) or re.fullmatch(r"[^\s:：]{1,8}[:：]", text.strip()) \
                    or _is_heading_word(text, vocab):
                continue  # what is left of the dates, a label alone ("时间：" before them), a section's label in a table
            kind = _classify(text, vocab)
            # "Bank of China, Shanghai Branch" / "招商银行 深圳分行": one employer in two parts
            # "Standard Chartered Bank (China)": the bracket after an employer is its own
            if merged and merged[-1][3] == "employer" and merged[-1][2] >= start - 1 and re.fullmatch(r"\([^()]{1,20}\)", text.strip()):
                prev = merged.pop()
                merged.append((t.norm[prev[1] : end], prev[1], end, "employer"))
                continue
            # but "渣打银行（中国）有限公司 Standard Chartered Bank (China)" is one employer and its English name
            if merged and kind == "employer" and merged[-1][3] == "employer" and merged[-1][2] >= start - 3 \
                    and _is_cjk(merged[-1][0]) == _is_cjk(text):
                prev = merged.pop()
                merged.append((t.norm[prev[1] : end], prev[1], end, "employer"))
                continue
            merged.append((text, start, end, kind))
        for text, start, end, kind in merged:
            if kind == "both" and _is_cjk(text):
                ends = [m.end() for m in vocab.employer_re.finditer(text)]
                titles = [m.start() for m in vocab.title_re.finditer(text)]
                cut = max(ends)
                if vocab.employer_re.fullmatch(text[:cut].strip()):
                    # "公司客户经理", "银行柜员": a bare employer word names no employer, the whole is the title
                    cut = 0
                if cut and cut < len(text) and any(s >= cut for s in titles) and employer is None and title is None:
                    employer = t.found(text[:cut].strip(), start, start + cut)
                    rest = text[cut:]
                    lead = len(rest) - len(rest.lstrip())
                    title = t.found(rest.strip(), start + cut + lead, end)
                    continue
                kind = "title" if vocab.title_re.search((_TITLE_NOTE.sub("", text) or text)[-4:]) else "employer"
            elif kind == "both":
                last_title = max(m.end() for m in vocab.title_re.finditer(text))
                last_employer = max(m.end() for m in vocab.employer_re.finditer(text))
                kind = "title" if last_title > last_employer else "employer"
            if kind == "employer" and strict and title_on_line and not _EMPLOYER_ITSELF.search(text):
                pass  # "Relationship Manager, Global Banking": the title's team or business line
            elif kind == "employer" and employer is None:
                employer = t.found(text.strip(), start, end)
            elif kind == "employer" and employer is not None and _is_cjk(text) and not _is_cjk(employer.value) \
                    and _is_cjk(line.text) and 0 <= start - employer.evidence.end <= 3:
                # "Standard Chartered Bank (China) 渣打银行（中国）有限公司": the Chinese legal name, not its English one
                employer = t.found(text.strip(), start, end)
            elif kind == "title" and title is None:
                value = _TITLE_NOTE.sub("", text.strip()) or text.strip()
                title = t.found(value, start, start + len(value))
            elif kind is None and len(text) <= 40 and not (strict and title_on_line):
                unknown.append((text, start, end))
            if kind == "title":
                title_on_line = True
    if employer is None and unknown:
        text, start, end = unknown.pop(0)
        employer = t.found(text.strip(), start, end)
    if title is None and unknown:
        text, start, end = unknown.pop(0)
        title = t.found(text.strip(), start, end)
    return employer, title


def _month_str(month: int) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def _jobs(t: _Text, sections: list[Section], today: dt.date, vocab: Vocabulary) -> list[Job]:
    kinds = {s.kind for s in sections}
    not_counted = ("internship", "parttime")
    work_kinds = {"work", *not_counted} if kinds & {"work", *not_counted} else {"top", "work", "objective", "summary", "other"}
    out: list[Job] = []
    for section in sections:
        if section.kind not in work_kinds:
            continue
        lines = section.lines
        anchors = []
        for i, line in enumerate(lines):
            ranges = find_ranges(line.text, today)
            if ranges and not (section.kind not in ("work", "internship") and _school_span(line, vocab)):
                anchors.append((i, ranges[0]))
        # A job written dates first ("Mar 2021 - Present", then the employer, then the title): the line
        # above its dates is the previous job's last duty, not its heading.
        first = {i: _dates_first(lines, i, anchors[n + 1][0] if n + 1 < len(anchors) else len(lines), vocab)
                 for n, (i, _r) in enumerate(anchors)}
        # Lines that may head a job (its employer or title above its dates): never a job's duties.
        heads: list[Line] = []
        for i, _r in anchors:
            if first[i]:
                continue
            j = i - 1
            while j >= 0 and not lines[j].text.strip():
                j -= 1
            if j >= 0 and not _DESCRIPTION.match(lines[j].text) and len(lines[j].text.strip()) <= 80:
                heads.append(lines[j])
                if j - 1 >= 0 and _short_part(lines[j - 1].text, vocab):
                    heads.append(lines[j - 1])
        for n, (i, r) in enumerate(anchors):
            line = lines[i]
            context = [line]
            prev_anchor = anchors[n - 1][0] if n else -1
            next_anchor = anchors[n + 1][0] if n + 1 < len(anchors) else len(lines)
            # a heading line for the job just above its dates (not the previous job's text)
            j = i - 1
            while j > prev_anchor and not lines[j].text.strip():
                j -= 1
            above = lines[j] if j > prev_anchor and not _DESCRIPTION.match(lines[j].text) and len(lines[j].text.strip()) <= 80 else None
            dates_only = not _masked(line.text).strip(" \t|｜:：,，")
            if first[i]:
                above = None
            if above is not None and (n == 0 or j > prev_anchor + 1 or not _has_parts(lines[prev_anchor].text, vocab)):
                context.insert(0, above)
                # employer, then title, then a line of dates alone (LinkedIn): the employer is two lines up
                if dates_only and j - 1 > prev_anchor and (n == 0 or not _has_parts(lines[prev_anchor].text, vocab)) \
                        and _short_part(lines[j - 1].text, vocab) and _short_part(above.text, vocab):
                    context.insert(0, lines[j - 1])
            k = i + 1
            # "所属行业：银行", "汇报对象：..." under the dates say nothing of the employer or the title
            while k < next_anchor and (not lines[k].text.strip() or _JOB_META.match(lines[k].text)):
                k += 1
            below = lines[k] if k < next_anchor and not _DESCRIPTION.match(lines[k].text) and len(lines[k].text.strip()) <= 80 else None
            if below is not None:
                context.append(below)
                # a line of dates alone, then the employer, then the title ("2023年05月至今\n某银行\n客户经理")
                k2 = k + 1
                if (dates_only or first[i]) and k2 < next_anchor and _short_part(lines[k2].text, vocab):
                    context.append(lines[k2])
            span = (line.start + r.start_pos, line.start + r.end_pos)
            duties = _duties(t, lines[i + 1 : next_anchor], context + heads)
            employer, title = _labelled_job(t, lines[i:next_anchor])
            labelled_employer = employer is not None
            if (employer is None or title is None) and not first[i]:
                e1, t1 = _job_parts(t, [line], vocab, strict=True)
                employer, title = employer or e1, title or t1
            if employer is None or title is None:
                others = [c for c in context if c is not line]
                e2, t2 = _job_parts(t, others, vocab, strict=True) if others else (None, None)
                employer = employer or e2
                title = title or (t2 if t2 and (employer is None or t2.evidence != employer.evidence) else None)
            if employer is None and not labelled_employer:
                # "Credit Analyst, Goldman Sachs": with no other employer, the part after the title is it
                e3, _t3 = _job_parts(t, context if not first[i] else [c for c in context if c is not line], vocab)
                if e3 is not None and (title is None or e3.evidence != title.evidence):
                    employer = e3
            if first[i] and title is None and below is not None:
                # dates, employer, then a title no vocabulary word names ("Corporate Banking", "信贷审批"): the line under the employer
                k2 = k + 1
                nxt = lines[k2].text.strip() if k2 < next_anchor else ""
                if nxt and len(nxt) <= 40 and not _DESCRIPTION.match(nxt) and not find_ranges(nxt, dt.date(2100, 1, 1)) \
                        and not re.search(r"[。.;；!！]$|^[•·●▪◦\-*]", nxt) and _heading(nxt, vocab) is None:
                    lead = len(lines[k2].text) - len(lines[k2].text.lstrip())
                    title = t.found(nxt, lines[k2].start + lead, lines[k2].start + lead + len(nxt))
                    context.append(lines[k2])
                    duties = _duties(t, lines[i + 1 : next_anchor], context + heads)
            out.append(
                Job(
                    employer=employer,
                    title=title,
                    start=_month_str(r.start),
                    end=None if r.present else _month_str(r.end),
                    months=r.months,
                    internship=section.kind in not_counted
                    or bool(title and re.search(r"实习|intern", title.value, re.IGNORECASE)),
                    dates=t.evidence(*span),
                    duties=duties,
                )
            )
    return out


def _dates_first(lines: list[Line], i: int, stop: int, vocab: Vocabulary) -> bool:
    """Whether the job dated on line ``i`` is headed by the lines below it: its dates line names no employer
    or title (dates alone, or with a place: "Jul 2018 - Feb 2021 | Shanghai") and the next line is an employer."""
    if _has_parts(_masked(lines[i].text), vocab):
        return False
    k = i + 1
    while k < stop and (not lines[k].text.strip() or _JOB_META.match(lines[k].text)):
        k += 1
    if k >= stop or not _short_part(lines[k].text, vocab):
        return False
    kind = _classify(lines[k].text.strip(), vocab)
    if kind == "both":  # "招商银行深圳分行 客户经理" heads the job; "公司业务部 | 客户经理" is the title under an employer above
        j = i - 1
        while j >= 0 and not lines[j].text.strip():
            j -= 1
        return bool(_EMPLOYER_ITSELF.search(lines[k].text)) and not (j >= 0 and _short_part(lines[j].text, vocab))
    return kind == "employer"


_BULLET = " \t•·‧∙●○◆◇■□▪▸►✔✓☑-–—*·、0123456789.)）"
MAX_DUTIES = 12  # lines per job: a long description's first ones say most


def _duties(t: _Text, lines: list[Line], used: list[Line]) -> list[Evidence]:
    """A job's description lines (not its heading, not "所属行业：..."), each without its bullet."""
    out = []
    for line in lines:
        if any(line is u for u in used) or _JOB_META.match(line.text):
            continue
        lead = len(line.text) - len(line.text.lstrip(_BULLET))
        if len(line.text.strip(_BULLET)) < 4:
            continue
        out.append(t.evidence(line.start + lead, line.end))
        if len(out) == MAX_DUTIES:
            break
    return out


_JOB_META = re.compile(
    r"^\s*(?:所属行业|行业|企业性质|公司性质|公司规模|规模|工作地点|地点|汇报对象|下属人数|部门|Industry|Location|Company\s+size)\s*[:：]",
    re.IGNORECASE,
)


_JOB_LABEL = re.compile(
    r"^\s*(?:(?P<employer>公司名称|公司|工作单位|单位|就职公司|雇主|Company|Employer|Organi[sz]ation)"
    r"|(?P<title>职位名称|职位|职务|岗位|担任职务|Position|Job\s+Title|Title|Role))\s*[:：]\s*(?P<value>\S.{0,60}?)\s*$",
    re.IGNORECASE,
)


def _labelled_job(t: _Text, lines: list[Line]) -> tuple[Found | None, Found | None]:
    """"公司：X" / "职位：Y" (51job's older export, Word templates): the employer and title as labelled."""
    employer = title = None
    for line in lines:
        m = _JOB_LABEL.match(line.text)
        if m is None:
            continue
        value = m.group("value")
        found = t.found(value, line.start + m.start("value"), line.start + m.end("value"))
        if m.group("employer") and employer is None:
            employer = found
        elif m.group("title") and title is None:
            title = found
    return employer, title


def _short_part(text: str, vocab: Vocabulary) -> bool:
    """A short line that is one employer or one title (a job's heading line), not a description."""
    text = text.strip()
    if 40 < len(text) <= 64 and re.match(r"[^,，]{2,40}[,，]\s*[^,，]{2,30}$", text):
        # "Senior Credit Analyst, Wholesale Credit Risk": a title and its team
        head = re.split(r"[,，]", text)[0]
        return _short_part(head, vocab) and _classify(head, vocab) == "title"
    return bool(text) and len(text) <= 40 and not _DESCRIPTION.match(text) and not find_ranges(text, dt.date(2100, 1, 1)) \
        and _classify(text, vocab) in ("title", "employer", "both")


def _has_parts(text: str, vocab: Vocabulary) -> bool:
    rest = text
    for r in find_ranges(text, dt.date(2100, 1, 1)):
        rest = rest[: r.start_pos] + rest[r.end_pos :]
    return bool(vocab.employer_re.search(rest) or vocab.title_re.search(rest))


_STATED_YEARS = re.compile(
    r"(\d{1,2}(?:\.\d)?)\s*(?:年|\+?\s*years?)\s*(?:以上)?\s*(?:的)?\s*(?:银行|金融|相关|工作|从业|of\s+(?:\w+\s+){0,3})?\s*(?:工作)?(?:经验|经历|experience)",
    re.IGNORECASE,
)


def _years(t: _Text, jobs: list[Job], today: dt.date) -> YearsFound | None:
    counted = [j for j in jobs if not j.internship]
    if counted:
        intervals = []
        for j in counted:
            start = int(j.start[:4]) * 12 + int(j.start[5:]) - 1
            end = start + j.months
            intervals.append((start, end))
        months = union_months(intervals)
        return YearsFound(value=round(months / 12, 1), months=months, evidence=[j.dates for j in counted])
    m = _STATED_YEARS.search(t.norm)
    if m:
        value = float(m.group(1))
        return YearsFound(value=value, months=round(value * 12), evidence=[t.evidence(m.start(), m.end())], stated=True)
    return None


# ------------------------------------------------------------------- terms --


def _on_boundaries(text: str, start: int, end: int, bounds: set[int] | None) -> bool:
    return bounds is None or (start in bounds and end in bounds)


def _terms(
    t: _Text,
    pattern: re.Pattern[str],
    table: dict[str, str],
    bounds: set[int] | None,
    *,
    first_only: bool = True,
    exclude: list[tuple[int, int]] = (),  # type: ignore[assignment]
    incidental: bool = False,
) -> list[tuple[str, int, int]]:
    """(canonical name, start, end) of each mention (the first of each name with ``first_only``), in text order.

    Mentions inside ``exclude`` spans (the job the candidate applies for) do not count.
    """
    out: list[tuple[str, int, int]] = []
    seen: set[str] = set()
    for m in pattern.finditer(t.norm):
        alias = m.group(0)
        if any(a <= m.start() < b for a, b in exclude):
            continue
        name = _lookup(table, alias)
        if name is None:
            continue
        if _is_cjk(alias) and not _on_boundaries(t.norm, m.start(), m.end(), bounds):
            continue
        if incidental and _incidental(t.norm, m.start(), m.end()):
            continue
        if first_only and name in seen:
            continue
        seen.add(name)
        out.append((name, m.start(), m.end()))
    return out


# "零合规事件", "无不良记录", "未发生风险事件", "zero compliance breaches": a mention that says it did not happen;
# "风险管理部", "Compliance Department": a department's name. Neither says the candidate has the skill.
_NEGATED_BEFORE = re.compile(r"(?:零|无|未发生|未出现|没有|杜绝|(?<![A-Za-z])(?:zero|no|without)\s+)$", re.IGNORECASE)
_INCIDENT_AFTER = re.compile(
    r"^(?:事件|事故|案件|处罚|差错|违规|问题|记录|部(?![门分])|部门|处(?![理置])|室|委员会|条线"
    r"|\s+(?:incidents?|breach(?:es)?|issues?|findings?|department|dept\.?|division|committee)(?![A-Za-z]))",
    re.IGNORECASE,
)


def _incidental(norm: str, start: int, end: int) -> bool:
    """Whether the mention at ``start:end`` is negated or names an incident or a department, not a skill."""
    return bool(_NEGATED_BEFORE.search(norm[max(0, start - 8) : start]) or _INCIDENT_AFTER.match(norm[end : end + 16]))


def _pattern_skills(
    t: _Text, vocab: Vocabulary, bounds: set[int] | None, exclude: list[tuple[int, int]], seen: set[str]
) -> list[tuple[str, int, int]]:
    """Skills phrased as what the candidate did (vocab.yaml's ``patterns``), the first mention of each not yet found."""
    hits: dict[str, tuple[int, int]] = {}
    for pattern, name in vocab.skill_patterns:
        if name in seen:
            continue
        for m in pattern.finditer(t.norm):
            if m.end() == m.start() or any(a <= m.start() < b for a, b in exclude):
                continue
            if _is_cjk(m.group(0)) and not _on_boundaries(t.norm, m.start(), m.end(), bounds):
                continue
            if _incidental(t.norm, m.start(), m.end()):
                continue
            if name not in hits or m.start() < hits[name][0]:
                hits[name] = (m.start(), m.end())
            break
    return [(name, a, b) for name, (a, b) in hits.items()]


def _certificates(t: _Text, vocab: Vocabulary, bounds: set[int] | None) -> list[Certificate]:
    out = []
    for name, start, end in _terms(t, vocab.certificate_re, vocab.certificates, bounds, first_only=False):
        # "CFA 二级", "FRM Part I", "正在备考CFA": a level passed or the exam ahead is not the certificate
        line_start = t.norm.rfind("\n", 0, start) + 1
        line_end = t.norm.find("\n", end)
        line_end = len(t.norm) if line_end < 0 else line_end
        after = t.norm[end : min(line_end, end + 24)]
        after = re.split(r"[,，;；、|｜\t]|\s{2,}", after, maxsplit=1)[0]
        before = t.norm[max(line_start, start - 8) : start]
        before = re.split(r"[,，;；、|｜\t]|\s{2,}", before)[-1]
        held = not (vocab.certificate_partial.search(after) or vocab.certificate_partial.search(before))
        # every mention of the same certificate counts: held if any says so
        out.append(Certificate(name=name, evidence=t.evidence(start, end), held=held))
    return out


_LEVEL_WORDS = re.compile(
    r"流利|熟练|精通|良好|母语|读写|听说|口语|商务|native|fluent|fluency|proficient|proficiency|business|working|conversational|advanced|intermediate|basic|mother\s+tongue",
    re.IGNORECASE,
)
_SCORE = re.compile(r"^\s*[:：(（]?\s*(?:score\s*)?[:：]?\s*(\d{1,3}(?:\.\d)?)(?!\d)\s*分?")


def _languages(t: _Text, sections: list[Section], vocab: Vocabulary, written: str, bounds: set[int] | None) -> list[LanguageSkill]:
    out: list[LanguageSkill] = []
    seen_tests: set[str] = set()
    for m in vocab.language_test_re.finditer(t.norm):
        alias = m.group(0)
        code_test = vocab.language_tests.get(_key(alias))
        if code_test is None or code_test[1] in seen_tests:
            continue
        if _is_cjk(alias) and not _on_boundaries(t.norm, m.start(), m.end(), bounds):
            continue
        seen_tests.add(code_test[1])
        score = _SCORE.match(t.norm[m.end() : m.end() + 16])
        end = m.end() + (score.end() if score else 0)
        out.append(
            LanguageSkill(
                code=code_test[0], test=code_test[1], score=score.group(1) if score else None, basis="test",
                evidence=t.evidence(m.start(), end),
            )
        )
    language_lines = {id(line) for s in sections if s.kind == "languages" for line in s.lines}
    codes = {lang.code for lang in out}
    for s in sections:
        for line in s.lines:
            for m in vocab.language_name_re.finditer(line.text):
                code = vocab.language_names.get(_key(m.group(0)))
                if code is None or code in codes:
                    continue
                if id(line) not in language_lines and not _LEVEL_WORDS.search(line.text):
                    continue
                codes.add(code)
                out.append(
                    LanguageSkill(code=code, basis="stated", evidence=t.evidence(line.start + m.start(), line.start + m.end()))
                )
    if written not in codes:
        # the resume itself is written in it: the first full line of that language is the evidence
        for s in sections:
            for line in s.lines:
                stripped = line.text.strip()
                if len(stripped) >= 4 and guess_language(stripped) == written and _heading(line.text, vocab) is None:
                    out.append(LanguageSkill(code=written, basis="written", evidence=t.evidence(line.start, line.end)))
                    return out
    return out


# ------------------------------------------------------------------- entry point --


def parse_resume(
    source: str | ResumeText,
    *,
    today: dt.date | None = None,
    vocab: Vocabulary | None = None,
) -> ParsedResume:
    """Parse a resume's text (or intake.extract's :class:`ResumeText`) into a :class:`ParsedResume`.

    ``today`` is what "至今" and "Present" mean (default: the local date).
    Evidence offsets index ``source`` (``ResumeText.text``) as given.
    """
    today = today or dt.date.today()
    vocab = vocab or vocabulary()
    text = source.text if isinstance(source, ResumeText) else source
    review = list(source.needs_review) if isinstance(source, ResumeText) else []
    photo = (source.images > 0 if source.kind != "txt" else None) if isinstance(source, ResumeText) else None
    t = _Text(text)
    lines = _columns(_lines(t.norm), vocab)
    sections = _sections(lines, vocab)
    language = source.language if isinstance(source, ResumeText) else guess_language(text)
    bounds = vocab.boundaries(t.norm) if _is_cjk(text) else None

    personal = _personal(t, lines, vocab, photo)
    educations = _education(t, sections, today, vocab)
    jobs = _jobs(t, sections, today, vocab)
    # "求职意向：信贷审批岗" names the job wanted, not a skill the candidate has
    wanted = [(line.start, line.end) for s in sections if s.kind == "objective" for line in s.lines]
    # "银行从业资格（个人理财、风险管理）": the exam's subjects after a certificate are not skills
    for m in vocab.certificate_re.finditer(t.norm):
        subjects = re.match(r"\s*\([^()\n]{1,40}\)", t.norm[m.end() :])
        if subjects:
            wanted.append((m.end(), m.end() + subjects.end()))
    named = _terms(t, vocab.skill_re, vocab.skills, bounds, exclude=wanted, incidental=True)
    named += _pattern_skills(t, vocab, bounds, wanted, {n for n, _s, _e in named})
    skills = [Term(name=n, evidence=t.evidence(s, e)) for n, s, e in sorted(named, key=lambda x: x[1])]
    qualifications = Qualifications(
        education=_highest(educations),
        educations=educations,
        jobs=jobs,
        years=_years(t, jobs, today),
        skills=skills,
        certificates=_merge_certificates(_certificates(t, vocab, bounds)),
        languages=_languages(t, sections, vocab, language, bounds),
    )
    if personal.name is None and "no_text_layer" not in review:
        review.append("name_not_found")
    return ParsedResume(language=language, personal=personal, qualifications=qualifications, needs_review=review)


def _merge_certificates(found: list[Certificate]) -> list[Certificate]:
    """One entry per certificate; held if any mention says so (the first such mention is the evidence)."""
    out: dict[str, Certificate] = {}
    for c in found:
        if c.name not in out or (c.held and not out[c.name].held):
            out[c.name] = c
    return list(out.values())
