"""Resume intake (intake/): text from PDF, DOCX and plain text, and the profile parsed from it.

The resumes are made here at test time (tests/resume_fixtures.py): PDFs
printed by headless Chromium from HTML with a real CJK font, DOCX with tables
written by python-docx, text in UTF-8, GBK and UTF-16, in Chinese and English;
the bad files are made by hand (an encrypted PDF by the standard security
handler, a damaged PDF, a program renamed .pdf, a 50 MB stream).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import zipfile
from pathlib import Path

import pytest

from intake.dates import find_ranges, union_months
from intake.extract import MAX_BYTES, ResumeError, extract_text, read_limited
from intake.parse import ParsedResume, Qualifications, parse_resume, vocabulary
from jobs.models import CandidateProfile
from tests.resume_fixtures import (
    CHROMIUM,
    REAL_LAYOUTS,
    TODAY,
    cjk_font_available,
    interleaved_columns_pdf,
    layout_files,
    make_layout_resume,
    make_resume,
    print_pdfs,
    simple_pdf,
    to_docx,
    to_docx_layout,
    to_html,
    to_text,
)

REPO = Path(__file__).resolve().parents[1]


def assert_evidence(text: str, parsed: ParsedResume) -> None:
    """Every evidence span in ``parsed`` is the text at its offsets."""

    def walk(value: object) -> None:
        if isinstance(value, dict):
            if set(value) >= {"text", "start", "end"} and isinstance(value["start"], int):
                assert text[value["start"] : value["end"]] == value["text"], value
                assert value["text"].strip(), value
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(parsed.model_dump())


def check_against_truth(text: str, parsed: ParsedResume, truth) -> None:  # type: ignore[no-untyped-def]
    """The fields a recruiter checks, and that their evidence points at them."""
    p, q = parsed.personal, parsed.qualifications
    assert p.name is not None and p.name.value == truth.name
    assert p.phone is not None and p.phone.value == truth.phone
    assert re.sub(r"\D", "", p.phone.evidence.text).endswith(truth.phone[-11:])
    assert p.email is not None and p.email.value == truth.email == p.email.evidence.text
    assert q.education is not None and q.education.value == truth.education
    top = next(e for e in q.educations if e.level is q.education)
    assert top.school is not None and top.school.value == truth.school
    assert top.graduation_year == truth.graduation_year
    assert q.years is not None and abs(q.years.value - truth.years) <= 0.1, (q.years, truth.years)
    held = sorted({c.name for c in q.certificates if c.held})
    assert held == truth.certificates
    for c in q.certificates:
        assert vocabulary().canonical_certificate(c.evidence.text) == c.name
    assert sorted({lang.code for lang in q.languages}) == truth.languages
    assert [j.employer.value if j.employer else None for j in q.jobs if not j.internship] == truth.employers[::-1]
    assert_evidence(text, parsed)


# ---------------------------------------------------------------------- dates --


@pytest.mark.parametrize(
    ("written", "start", "end", "months"),
    [
        ("2019.07-至今", (2019, 7), (2026, 12), 89),
        ("2019/07 – 2022/03", (2019, 7), (2022, 3), 32),
        ("2019年7月 - 2022年3月", (2019, 7), (2022, 3), 32),
        ("2019-07 ~ 2021-12", (2019, 7), (2021, 12), 29),
        ("Jul 2019 – Present", (2019, 7), (2026, 12), 89),
        ("July 2019 - Mar 2022", (2019, 7), (2022, 3), 32),
        ("2019 - 2021", (2019, 1), (2021, 1), 24),
        ("07/2019 - 03/2022", (2019, 7), (2022, 3), 32),
        ("2019年7月至2022年3月", (2019, 7), (2022, 3), 32),
        ("Sept. 2019 to Now", (2019, 9), (2026, 12), 87),
        ("２０１９．０７－２０２２．０３", (2019, 7), (2022, 3), 32),  # full-width digits and dash
    ],
)
def test_date_ranges(written: str, start: tuple[int, int], end: tuple[int, int], months: int) -> None:
    text = f"招商银行 {written} 客户经理"
    [r] = find_ranges(text, TODAY)
    assert (r.start // 12, r.start % 12 + 1) == start
    assert (r.end // 12, r.end % 12 + 1) == end
    assert r.months == months
    assert text[r.start_pos : r.end_pos] == written


def test_present_is_the_day_given() -> None:
    [r] = find_ranges("2019.07-至今", dt.date(2020, 7, 1))
    assert r.present and r.months == 12


def test_overlapping_jobs_count_once() -> None:
    text = "2019.01-2020.12 中国银行 柜员\n2020.07-2021.12 招商银行 兼职顾问\n2023.01-2023.12 平安银行 客户经理"
    ranges = find_ranges(text, TODAY)
    assert [r.months for r in ranges] == [23, 17, 11]
    assert union_months([(r.start, r.end) for r in ranges]) == 35 + 11
    parsed = parse_resume("张伟\n工作经历\n" + text, today=TODAY)
    assert parsed.qualifications.years is not None and parsed.qualifications.years.value == round(46 / 12, 1)


def test_phone_numbers_and_ids_are_not_dates() -> None:
    assert find_ranges("电话 13800138000  身份证 110101199003071234", TODAY) == []


# ---------------------------------------------------------------------- bad files --


def test_empty_file() -> None:
    with pytest.raises(ResumeError) as err:
        extract_text(b"", "resume.pdf")
    assert err.value.code == "empty"


def test_program_renamed_pdf_is_refused_by_its_bytes() -> None:
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200) + b"This program cannot be run in DOS mode"
    with pytest.raises(ResumeError) as err:
        extract_text(exe, "张伟简历.pdf")
    assert err.value.code == "unsupported_type"
    assert "张伟" not in err.value.message  # the file name is personal data: never in the message


def test_other_types_are_refused() -> None:
    with pytest.raises(ResumeError) as err:
        extract_text(b"\x89PNG\r\n\x1a\n" + bytes(100), "resume.pdf")
    assert err.value.code == "unsupported_type" and "PNG" in err.value.message
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("data.csv", "a,b\n1,2\n")
    with pytest.raises(ResumeError) as err:
        extract_text(buf.getvalue(), "resume.docx")
    assert err.value.code == "unsupported_type"
    with pytest.raises(ResumeError) as err:
        extract_text(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "resume.doc")
    assert err.value.code == "unsupported_type" and "DOCX" in err.value.message


def test_corrupt_pdf_and_docx() -> None:
    with pytest.raises(ResumeError) as err:
        extract_text(b"%PDF-1.7\n" + bytes(range(256)) * 40, "resume.pdf")
    assert err.value.code == "corrupt"
    good = to_docx(make_resume(1, "zh", "table"))
    with pytest.raises(ResumeError) as err:
        extract_text(good[: len(good) // 2], "resume.docx")
    assert err.value.code == "corrupt"


def test_encrypted_pdf() -> None:
    import pypdfium2 as pdfium

    text = "Zhang Wei, Credit Analyst, phone 13800138000"
    locked = simple_pdf(text, user_password="secret")
    # it is a real encrypted PDF: the password opens it
    doc = pdfium.PdfDocument(locked, password="secret")
    assert doc[0].get_textpage().get_text_range() == text
    doc.close()
    with pytest.raises(ResumeError) as err:
        extract_text(locked, "resume.pdf")
    assert err.value.code == "encrypted"
    # encrypted with owner restrictions only: opens without a password, so it is read
    assert extract_text(simple_pdf(text, user_password=""), "resume.pdf").text == text


def test_encrypted_docx_is_refused() -> None:
    # Office encrypts a DOCX into an OLE container with an EncryptedPackage stream
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500) + "EncryptedPackage".encode("utf-16-le") + bytes(100)
    with pytest.raises(ResumeError) as err:
        extract_text(ole, "resume.docx")
    assert err.value.code == "encrypted"


class _Endless(io.RawIOBase):
    """A 50 MB upload arriving as a stream of unknown length; counts what is read."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
        n = min(len(b), self.size - self.read_bytes)
        b[:n] = b"%" * n
        self.read_bytes += n
        return n


def test_too_large_stream_is_refused_before_it_is_read_whole() -> None:
    stream = _Endless(50 * 2**20)
    with pytest.raises(ResumeError) as err:
        extract_text(stream, "resume.pdf")
    assert err.value.code == "too_large"
    assert stream.read_bytes <= MAX_BYTES + 1 < stream.size


def test_too_large_file_is_refused_without_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.pdf"
    with path.open("wb") as f:
        f.truncate(50 * 2**20)  # sparse: 50 MB that costs no disk
    with path.open("rb") as f:
        with pytest.raises(ResumeError) as err:
            extract_text(f, "big.pdf")
        assert f.tell() == 0  # not a byte read
    assert err.value.code == "too_large"
    with pytest.raises(ResumeError):
        read_limited(b"x" * 11, max_bytes=10)
    assert read_limited(io.BytesIO(b"x" * 10), max_bytes=10) == b"x" * 10


# ---------------------------------------------------------------------- plain text --


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_text_in_every_encoding(encoding: str) -> None:
    resume = make_resume(11, "zh", "labelled")
    text = to_text(resume)
    got = extract_text(text.encode(encoding), "resume.txt")
    assert got.kind == "txt" and got.language == "zh"
    assert got.text == text.strip()
    parsed = parse_resume(got, today=TODAY)
    check_against_truth(got.text, parsed, resume.truth)


@pytest.mark.parametrize(("lang", "layout"), [("zh", "labelled"), ("zh", "blocks"), ("en", "classic"), ("en", "compact")])
def test_text_resumes(lang: str, layout: str) -> None:
    for seed in (3, 5, 8):
        resume = make_resume(seed, lang, layout)
        got = extract_text(to_text(resume).encode(), "resume.txt")
        assert got.language == lang
        check_against_truth(got.text, parse_resume(got, today=TODAY), resume.truth)


def test_binary_junk_is_not_text() -> None:
    with pytest.raises(ResumeError) as err:
        extract_text(bytes(range(1, 32)) * 50, "resume.txt")
    assert err.value.code == "unsupported_type"


# ---------------------------------------------------------------------- DOCX --


@pytest.mark.parametrize(("lang", "layout"), [("zh", "table"), ("en", "table"), ("zh", "blocks"), ("en", "classic")])
def test_docx(lang: str, layout: str) -> None:
    resume = make_resume(21, lang, layout)
    got = extract_text(to_docx(resume), "resume.docx")
    assert got.kind == "docx" and got.language == lang
    if layout == "table":  # a table's row is one line, its cells separated by tabs
        assert any(line.count("\t") >= 2 and find_ranges(line, TODAY) for line in got.text.splitlines())
    check_against_truth(got.text, parse_resume(got, today=TODAY), resume.truth)


# ---------------------------------------------------------------------- PDF (Chromium) --


@pytest.fixture(scope="module")
def chromium_pdfs() -> dict[tuple[str, str], tuple[object, bytes]]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    pytest.importorskip("playwright.sync_api")
    if not cjk_font_available():
        pytest.skip("no Simplified Chinese font (apt-get install fonts-noto-cjk): Chinese PDFs would print as boxes")
    cases = [("zh", "labelled", 31), ("zh", "table", 32), ("zh", "blocks", 33), ("en", "classic", 34), ("en", "compact", 35),
             ("en", "table", 465143663)]  # its education cells wrap onto two lines
    resumes = [make_resume(seed, lang, layout) for lang, layout, seed in cases]
    pdfs = print_pdfs([to_html(r) for r in resumes])
    return {(lang, layout): (r, pdf) for (lang, layout, _), r, pdf in zip(cases, resumes, pdfs)}


@pytest.mark.browser
@pytest.mark.parametrize(
    ("lang", "layout"), [("zh", "labelled"), ("zh", "table"), ("zh", "blocks"), ("en", "classic"), ("en", "compact"), ("en", "table")]
)
def test_pdf_printed_by_chromium(chromium_pdfs, lang: str, layout: str) -> None:  # type: ignore[no-untyped-def]
    resume, pdf = chromium_pdfs[(lang, layout)]
    got = extract_text(pdf, "resume.pdf")
    assert got.kind == "pdf" and got.pages >= 1 and got.language == lang
    assert got.needs_review == ()
    if lang == "zh":
        assert resume.truth.name in got.text and "(cid:" not in got.text
    check_against_truth(got.text, parse_resume(got, today=TODAY), resume.truth)


@pytest.mark.browser
def test_pdf_table_columns_become_tabs(chromium_pdfs) -> None:  # type: ignore[no-untyped-def]
    resume, pdf = chromium_pdfs[("zh", "table")]
    got = extract_text(pdf, "resume.pdf")
    employer = resume.truth.employers[-1]
    [line] = [line for line in got.text.splitlines() if employer in line and find_ranges(line, TODAY)]
    assert "\t" in line
    # a row whose cells wrap (PDFium gives it cell by cell) is one line again
    resume, pdf = chromium_pdfs[("en", "table")]
    got = extract_text(pdf, "resume.pdf")
    [line] = [line for line in got.text.splitlines() if resume.truth.school in line]
    assert line.count("\t") == 2 and find_ranges(line, TODAY)


@pytest.mark.browser
def test_scanned_pdf_is_flagged_not_scored() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    resume = make_resume(41, "en", "classic")
    [pdf] = print_pdfs([to_html(resume)], screenshot_only=True)
    got = extract_text(pdf, "scan.pdf")
    assert got.kind == "pdf" and got.images >= 1
    assert "no_text_layer" in got.needs_review
    parsed = parse_resume(got, today=TODAY)
    assert "no_text_layer" in parsed.needs_review
    assert parsed.qualifications.years is None and parsed.qualifications.education is None


@pytest.mark.browser
def test_fonts_without_unicode_maps_are_flagged(chromium_pdfs) -> None:  # type: ignore[no-untyped-def]
    for key in (("zh", "labelled"), ("en", "classic")):
        _, pdf = chromium_pdfs[key]
        assert "cid_fonts" not in extract_text(pdf).needs_review
        # the same PDF with its fonts' ToUnicode maps renamed away (same length: offsets hold):
        # glyph numbers come out as the wrong letters, as in PDFs whose fonts were subset without maps
        broken = pdf.replace(b"/ToUnicode", b"/ToUnicodX")
        got = extract_text(broken)
        assert "cid_fonts" in got.needs_review, got.notes


# ---------------------------------------------------------------------- parsing --

# Written by hand in shapes the generator does not make: labels, odd separators, a photo line,
# certificates in prose, a part-time job overlapping a full-time one, an internship.
ZH_RESUME = """\
个 人 简 历
姓    名：欧阳明轩            性    别：男
出生年月：1994年3月          民    族：汉族
籍    贯：湖北武汉            政治面貌：中共党员
联系电话：186-0213-4567      电子邮箱：oyangmx@example.com
身份证号：420102199403151234

【教育背景】
2016.09—2019.06  上海财经大学  金融学  硕士研究生
2012.09—2016.06  武汉大学  经济学  本科

【工作经历】
2019年7月 - 2022年3月  中国银行上海分行  对公客户经理
  负责对公客户营销，完成授信审批材料撰写，参与反洗钱可疑交易甄别。
2022年4月至今  兴业银行上海分行  风险经理
  负责信贷风险管理与贷后管理，运用SQL、Excel进行数据分析。
2020.01-2020.12  某咨询公司  兼职顾问

【实习经历】
2018.07-2018.09  招商银行  实习生

【证书】
已取得银行从业资格证书、基金从业资格证；CFA三级考生；FRM持证人。
英语：CET-6（568分），能熟练读写英文材料。
"""

EN_RESUME = """\
CURRICULUM VITAE

Name: Li Na
Mobile: +86 (139) 1234-5678  ·  Email: li.na@example.org
Date of Birth: 12 May 1993  ·  Marital Status: Married

EDUCATION
Master of Finance (MFin), The University of Hong Kong — 2017
Bachelor of Arts in Economics, Wuhan University — Sep 2011 – Jun 2015

EXPERIENCE
HSBC Bank (China) Company Limited
Senior Credit Analyst, Jul 2020 – Present
• Led credit analysis and cash flow analysis for SME borrowers; built models in Python.
DBS Bank Ltd., Shanghai Branch
Credit Analyst, Aug 2017 – Jun 2020
• Reviewed collateral valuation and anti-money laundering alerts.

CERTIFICATIONS
FRM (2019); CFA Level II candidate; China Banking Professional Qualification

LANGUAGES
English — fluent (IELTS 7.5); Mandarin — native
"""


def test_chinese_resume_written_by_hand() -> None:
    parsed = parse_resume(ZH_RESUME, today=TODAY)
    p, q = parsed.personal, parsed.qualifications
    assert p.name is not None and p.name.value == "欧阳明轩"
    assert p.phone is not None and p.phone.value == "+8618602134567" and p.phone.evidence.text == "186-0213-4567"
    assert p.email is not None and p.email.value == "oyangmx@example.com"
    assert p.gender is not None and p.gender.value == "男"
    assert p.political_status is not None and p.political_status.value == "中共党员"
    assert p.id_number is not None and p.id_number.value == "420102199403151234"
    assert p.birthplace is not None and p.birthplace.value == "湖北武汉"
    assert q.education is not None and q.education.value == "master" and q.education.evidence.text.startswith("硕士")
    master = next(e for e in q.educations if e.level and e.level.value == "master")
    assert master.school and master.school.value == "上海财经大学"
    assert master.major and master.major.value == "金融学"
    assert master.graduation_year == 2019
    # 2019.07-2022.03 (32) + 2022.04-2026.12 (56) = 88 months, the part-time job inside them
    # adds nothing, the internship is not counted
    assert q.years is not None and q.years.value == round(88 / 12, 1)
    assert [j.employer.value for j in q.jobs if j.employer and not j.internship][:2] == ["中国银行上海分行", "兴业银行上海分行"]
    assert [j.title.value for j in q.jobs if j.title][:2] == ["对公客户经理", "风险经理"]
    assert any(j.internship for j in q.jobs)
    held = {c.name for c in q.certificates if c.held}
    assert held == {"银行从业资格", "基金从业资格", "FRM"}
    assert {c.name for c in q.certificates if not c.held} == {"CFA"}
    skills = {s.name for s in q.skills}
    assert {"对公客户营销", "反洗钱", "风险管理", "SQL", "Excel", "数据分析", "贷前调查与贷后管理"} <= skills
    cet = next(lang for lang in q.languages if lang.test == "CET-6")
    assert cet.code == "en" and cet.score == "568"
    profile = parsed.profile()
    assert profile.languages[:1] == ["en"] and "zh" in profile.languages
    assert_evidence(ZH_RESUME, parsed)


def test_english_resume_written_by_hand() -> None:
    parsed = parse_resume(EN_RESUME, today=TODAY)
    p, q = parsed.personal, parsed.qualifications
    assert p.name is not None and p.name.value == "Li Na"
    assert p.phone is not None and p.phone.value == "+8613912345678"
    assert p.email is not None and p.email.value == "li.na@example.org"
    assert p.marital_status is not None and p.marital_status.value == "Married"
    assert q.education is not None and q.education.value == "master"
    master = next(e for e in q.educations if e.level and e.level.value == "master")
    assert master.school and master.school.value == "The University of Hong Kong"
    assert master.graduation_year == 2017
    bachelor = next(e for e in q.educations if e.level and e.level.value == "bachelor")
    assert bachelor.major and bachelor.major.value == "Economics"
    # Aug 2017 - Jun 2020 (34) + Jul 2020 - Dec 2026 (77)
    assert q.years is not None and q.years.value == round(111 / 12, 1)
    employers = [j.employer.value for j in q.jobs if j.employer]
    assert employers == ["HSBC Bank (China) Company Limited", "DBS Bank Ltd., Shanghai Branch"]
    assert [j.title.value for j in q.jobs if j.title] == ["Senior Credit Analyst", "Credit Analyst"]
    assert {c.name for c in q.certificates if c.held} == {"FRM", "银行从业资格"}
    assert {s.name for s in q.skills} >= {"信贷审批", "现金流分析", "Python", "抵押与担保评估", "反洗钱"}
    assert {lang.code for lang in q.languages} == {"en", "zh"}
    ielts = next(lang for lang in q.languages if lang.test == "IELTS")
    assert ielts.score == "7.5"
    assert_evidence(EN_RESUME, parsed)


def test_profile_fits_candidate_profile() -> None:
    parsed = parse_resume(ZH_RESUME, today=TODAY)
    profile = parsed.profile()
    assert isinstance(profile, CandidateProfile)
    assert profile.name == "欧阳明轩" and profile.education == "master" and profile.years == 7.3
    assert "CFA" not in profile.certificates and "银行从业资格" in profile.certificates
    assert parse_resume("2019-2021 工作", today=TODAY).personal.name is None
    with pytest.raises(ValueError):
        parse_resume("2019-2021 工作", today=TODAY).profile()
    assert parse_resume("2019-2021 工作", today=TODAY).profile(name="张伟").name == "张伟"


def test_screening_fields_hold_no_personal_data() -> None:
    parsed = parse_resume(ZH_RESUME, today=TODAY)
    personal_names = {"name", "phone", "email", "gender", "age", "birth_date", "birthplace", "ethnicity",
                      "political_status", "marital_status", "id_number", "photo"}
    assert personal_names <= set(type(parsed.personal).model_fields)
    assert not personal_names & set(Qualifications.model_fields)
    dumped = repr(parsed.qualifications.model_dump())
    for value in ("欧阳明轩", "186-0213-4567", "oyangmx@example.com", "420102199403151234", "中共党员", "汉族", "湖北武汉"):
        assert value not in dumped
    # the profile screening reads carries the name only (CandidateProfile needs it); nothing else personal
    profile = parsed.profile().model_dump()
    assert set(profile) == {"name", "education", "years", "skills", "certificates", "languages", "experience", "accommodation"}
    assert profile["experience"] and all("欧阳明轩" not in e for e in profile["experience"])  # employers and titles


def test_job_objective_is_not_a_skill() -> None:
    text = "张伟\n求职意向\n信贷审批岗\n专业技能\n熟练使用Excel"
    assert {s.name for s in parse_resume(text, today=TODAY).qualifications.skills} == {"Excel"}


def test_chinese_terms_fall_on_word_boundaries() -> None:
    vocab = vocabulary()
    text = "熟悉客户关系管理与反洗钱"
    bounds = vocab.boundaries(text)
    assert {text.index("客户"), text.index("反洗钱"), len(text)} <= bounds
    assert vocab.canonical_skill("反洗钱与客户尽职调查") == "反洗钱"
    assert vocab.canonical_skill("Anti-Money Laundering") == "反洗钱"
    assert vocab.canonical_certificate("银行从业资格证") == "银行从业资格"


def test_nothing_personal_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    resume = make_resume(51, "zh", "labelled")
    got = extract_text(to_text(resume).encode("gbk"), "resume.txt")
    parse_resume(got, today=TODAY)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for value in (resume.truth.name, resume.truth.email, resume.truth.phone[-8:]):
        assert value not in logged
# ---------------------------------------------------------------------- rules from the held-out resumes --
# Each rule below was added when tests/media/resumes/ (hand-written, real-world styles) showed it missing;
# the texts here are new, not copies of those files.


def _jobs(text: str) -> list[tuple[str | None, str | None, str, str | None]]:
    q = parse_resume(text, today=TODAY).qualifications
    return [(j.employer.value if j.employer else None, j.title.value if j.title else None, j.start, j.end)
            for j in q.jobs if not j.internship]


def test_ranges_with_two_hyphens_and_open_ranges() -> None:
    def spans(text: str) -> list[tuple[int, int, bool]]:
        return [(r.start, r.end, r.present) for r in find_ranges(text, TODAY)]

    now = TODAY.year * 12 + TODAY.month - 1
    assert spans("2018/3 -- 2020/11：某公司") == [(2018 * 12 + 2, 2020 * 12 + 10, False)]
    assert spans("Since 2021, Relationship Manager") == [(2021 * 12, now, True)]
    assert spans("since Mar 2022") == [(2022 * 12 + 2, now, True)]
    assert spans("2017年3月起任支行行长") == [(2017 * 12 + 2, now, True)]
    assert spans("2017年3月起至今") == [(2017 * 12 + 2, now, True)]
    assert spans("Since 2015 - 2018") == [(2015 * 12, 2018 * 12, False)]  # a closed range stays closed


def test_job_durations_and_colons_beside_dates_are_not_the_employer() -> None:
    text = "赵磊\n工作经验\n2022/3 -- 至今：宁波银行股份有限公司（4年9个月）\n风险管理部 风险经理\n"
    assert _jobs(text) == [("宁波银行股份有限公司", "风险经理", "2022-03", None)]
    en = ("Amy Xu\nExperience\nHSBC Bank (China) Company Limited\nCredit Analyst\nMay 2020 - Present (6 years 8 months)\n"
          "Shanghai, China\n")
    assert _jobs(en) == [("HSBC Bank (China) Company Limited", "Credit Analyst", "2020-05", None)]


def test_a_department_is_neither_the_employer_nor_merged_into_it() -> None:
    text = "赵磊\n工作经历\n2020.01-至今\t中国光大银行股份有限公司南京分行\t零售银行部 理财经理\n"
    assert _jobs(text) == [("中国光大银行股份有限公司南京分行", "理财经理", "2020-01", None)]
    en = "Amy Xu\nExperience\nIndustrial Bank Co., Ltd. — Fuzhou\nCredit Officer, Corporate Finance Department\t03/2019 - Present\n"
    assert _jobs(en) == [("Industrial Bank Co., Ltd.", "Credit Officer", "2019-03", None)]


def test_a_note_after_a_title_and_a_bare_employer_word_inside_one() -> None:
    text = "赵磊\n工作经历\n2019.3~今  长沙银行股份有限公司  公司业务部  公司客户经理（兼团队长）\n"
    assert _jobs(text) == [("长沙银行股份有限公司", "公司客户经理", "2019-03", None)]


def test_dates_alone_then_employer_then_title_and_job_metadata_lines() -> None:
    text = ("赵磊\n工作经历\n2021年03月至今\n苏州银行股份有限公司\n普惠金融客户经理\n负责小微企业授信。\n\n"
            "2018年07月至2021年02月\n所属行业：银行\n江苏银行股份有限公司\n综合柜员\n")
    assert _jobs(text) == [("苏州银行股份有限公司", "普惠金融客户经理", "2021-03", None),
                           ("江苏银行股份有限公司", "综合柜员", "2018-07", "2021-02")]


def test_part_time_and_campus_sections_are_not_full_time_jobs() -> None:
    text = ("赵磊\n工作经历\n2020.07-至今  中国银行股份有限公司  柜员\n兼职经历\n2021.03-2021.09  某培训学校  兼职讲师\n"
            "校园经历\n2017.09-2019.06  学生会  主席\n")
    parsed = parse_resume(text, today=TODAY)
    assert [j.employer.value for j in parsed.qualifications.jobs if not j.internship] == ["中国银行股份有限公司"]
    assert parsed.qualifications.years is not None and parsed.qualifications.years.value == round(77 / 12, 1)


def test_a_sentence_after_the_title_is_not_part_of_it() -> None:
    text = "Amy Xu\nExperience\n2019 – now: Dah Sing Bank Limited, Personal Banking Officer. I open accounts and sell funds.\n"
    assert _jobs(text) == [("Dah Sing Bank Limited", "Personal Banking Officer", "2019-01", None)]


def test_names_padded_titled_or_in_capitals() -> None:
    assert parse_resume("姓名\t何  静\t性别\t女\n", today=TODAY).personal.name.value == "何静"
    assert parse_resume("郑雨萱的个人简历\n手机：13900001111\n", today=TODAY).personal.name.value == "郑雨萱"
    assert parse_resume("OLIVIA ZHOU\nolivia@example.com\n", today=TODAY).personal.name.value == "Olivia Zhou"


def test_school_is_the_university_not_its_faculty_nor_the_prose_before_it() -> None:
    q = parse_resume("赵磊\n教育背景\n2015.09-2019.06  南京大学商学院  会计学  本科\n", today=TODAY).qualifications
    assert q.educations[0].school.value == "南京大学"
    q = parse_resume("赵磊\n2016年毕业于厦门大学经济学院，获经济学学士学位。\n", today=TODAY).qualifications
    assert q.educations[0].school.value == "厦门大学"
    q = parse_resume("赵磊\n教育背景\n湖南大学 · 本科 · 金融学\n2014-2018\n", today=TODAY).qualifications
    assert (q.educations[0].major.value, q.educations[0].graduation_year) == ("金融学", 2018)


def test_linkedin_education_dates_after_the_degree_and_abbreviated_degrees() -> None:
    text = ("Amy Xu\nEducation\nUniversity of Warwick\nMaster of Science - MS, Finance and Economics\n2019 - 2020\n\n"
            "Wuhan University\nBachelor of Science - BS, Mathematics\n2015 - 2019\n")
    q = parse_resume(text, today=TODAY).qualifications
    assert [(e.school.value, e.major.value, e.graduation_year, e.level.value) for e in q.educations] == [
        ("University of Warwick", "Finance and Economics", 2020, "master"),
        ("Wuhan University", "Mathematics", 2019, "bachelor"),
    ]


def test_plural_skills_and_certificate_subjects() -> None:
    q = parse_resume("Amy Xu\nRan quarterly stress tests and wrote credit memos.\n", today=TODAY).qualifications
    assert {s.name for s in q.skills} == {"压力测试", "审查报告撰写"}
    q = parse_resume("赵磊\n证书\n银行从业资格（风险管理、公司信贷）\n技能\n熟练使用Excel，处理客户投诉\n", today=TODAY).qualifications
    assert {s.name for s in q.skills} == {"Excel", "投诉处理"}
    assert [c.name for c in q.certificates if c.held] == ["银行从业资格"]


def test_two_columns_flattened_into_text() -> None:
    text = (
        "钱 多 多                          求职意向：客户经理\n"
        "手机：13900001111                 邮箱：qdd@example.com\n"
        "\n"
        "教育背景                          专业技能\n"
        "2014.09-2018.06                   熟练使用Excel、SQL\n"
        "武汉大学  金融学  本科            熟悉反洗钱\n"
        "工作经历                          证书\n"
        "2018.07-至今  招商银行武汉分行    银行从业资格\n"
        "零售部  理财经理\n"
        "\n"
        "自我评价\n踏实肯干。\n"
    )
    parsed = parse_resume(text, today=TODAY)
    q = parsed.qualifications
    assert parsed.personal.name.value == "钱多多"
    assert [(e.school.value, e.graduation_year) for e in q.educations] == [("武汉大学", 2018)]
    assert _jobs(text) == [("招商银行武汉分行", "理财经理", "2018-07", None)]
    assert {s.name for s in q.skills} == {"Excel", "SQL", "反洗钱"}
    assert [c.name for c in q.certificates] == ["银行从业资格"]
    assert_evidence(text, parsed)
    # right-aligned dates are not a second column
    en = "Amy Xu\nEducation\nUniversity of Warwick, MSc Finance          Sep 2019 - Sep 2020\n"
    assert parse_resume(en, today=TODAY).qualifications.educations[0].graduation_year == 2020


def test_labelled_job_fields_and_labelled_school() -> None:
    text = ("姓名：魏然\n工作经历\n时间：2017年3月—至今\n公司：青岛银行股份有限公司\n部门：零售银行部\n职位：理财经理\n"
            "工作描述：负责客户资产配置。\n教育经历\n时间：2013年9月—2017年6月\n学校：青岛大学\n专业：金融学\n学历：本科\n")
    parsed = parse_resume(text, today=TODAY)
    assert _jobs(text) == [("青岛银行股份有限公司", "理财经理", "2017-03", None)]
    e = parsed.qualifications.educations[0]
    assert (e.school.value, e.major.value, e.graduation_year) == ("青岛大学", "金融学", 2017)


def test_an_english_school_name_in_a_chinese_line_is_one_part() -> None:
    text = "魏然\n教育背景\n2019.09-2020.12  墨尔本大学 (The University of Melbourne)  会计学  硕士\n"
    e = parse_resume(text, today=TODAY).qualifications.educations[0]
    assert (e.school.value, e.major.value, e.level.value) == ("墨尔本大学", "会计学", "master")


def test_hong_kong_names_phones_and_month_year_dates() -> None:
    text = ("CHAN Tai Man\nPhone (852) 9876 5432\nWork Experience\nFeb-2018 to Present    Hang Seng Bank Limited\n"
            "                       Relationship Manager\n")
    parsed = parse_resume(text, today=TODAY)
    assert parsed.personal.name.value == "Chan Tai Man"
    assert parsed.personal.phone.value == "+85298765432"
    assert _jobs(text) == [("Hang Seng Bank Limited", "Relationship Manager", "2018-02", None)]


# ---------------------------------------------------------------------- the benchmark's README table --


def test_benchmark_readme_table_equals_its_data() -> None:
    """benchmarks/README.md's resume table is the one the latest committed data file renders."""
    import json

    from benchmarks.resumes import markdown_table

    files = sorted((REPO / "benchmarks" / "data").glob("resumes-*.json"))
    assert files, "no benchmarks/data/resumes-*.json: run python -m benchmarks resumes"
    data = json.loads(files[-1].read_text(encoding="utf-8"))
    assert markdown_table(data) in (REPO / "benchmarks" / "README.md").read_text(encoding="utf-8")


def test_benchmark_readme_held_out_tables_equal_their_data() -> None:
    """Every committed held-out run (before, after, the fresh set) is in benchmarks/README.md as its data renders it."""
    import json

    from benchmarks.resumes import held_out_table

    files = sorted((REPO / "benchmarks" / "data").glob("resumes_held_out*.json"))
    assert files, "no benchmarks/data/resumes_held_out*.json: run python -m benchmarks resumes --held-out"
    readme = (REPO / "benchmarks" / "README.md").read_text(encoding="utf-8")
    for f in files:
        assert held_out_table(json.loads(f.read_text(encoding="utf-8"))) in readme, f.name
        assert f"(data/{f.name})" in readme, f.name


def test_benchmark_readme_blind_table_equals_its_data() -> None:
    """The blind set's one run (PDF, DOCX, GBK text) is committed and in benchmarks/README.md as its data renders it."""
    import json

    from benchmarks.resumes import held_out_table

    files = sorted((REPO / "benchmarks" / "data").glob("resumes_held_out_blind-*.json"))
    assert files, "no benchmarks/data/resumes_held_out_blind-*.json: run python -m benchmarks resumes --held-out --folder tests/media/resumes/blind --label blind"
    readme = (REPO / "benchmarks" / "README.md").read_text(encoding="utf-8")
    for f in files:
        data = json.loads(f.read_text(encoding="utf-8"))
        assert data["folder"] == "tests/media/resumes/blind" and data["n"] == 12, f.name
        assert held_out_table(data) in readme, f.name
        assert f"(data/{f.name})" in readme, f.name
    answers = json.loads((REPO / "tests" / "media" / "resumes" / "blind" / "truth.json").read_text(encoding="utf-8"))
    kinds = sorted(name.rsplit(".", 1)[1] for name in answers["resumes"])
    assert kinds == ["docx"] * 4 + ["pdf"] * 6 + ["txt"] * 2


def test_held_out_truth_uses_the_vocabulary() -> None:
    """The hand-written answer keys name skills and certificates by intake/vocab.yaml's canonical names."""
    import json

    vocab = vocabulary()
    for truth in (REPO / "tests" / "media" / "resumes").rglob("truth.json"):
        for name, row in json.loads(truth.read_text(encoding="utf-8"))["resumes"].items():
            assert (truth.parent / name).is_file(), name
            assert all(vocab.canonical_skill(s) == s for s in row["skills"]), name
            assert all(vocab.canonical_certificate(c) == c for c in row["certificates"]), name
            assert len(row["employers"]) == len(row["titles"]), name


# ---------------------------------------------------------------------- real-world layouts --

LAYOUT_SEED = 100  # each layout's resume is drawn from LAYOUT_SEED + its index in REAL_LAYOUTS


@pytest.fixture(scope="module")
def layout_resumes() -> dict[str, tuple[object, bytes]]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    pytest.importorskip("playwright.sync_api")
    if not cjk_font_available():
        pytest.skip("no Simplified Chinese font (apt-get install fonts-noto-cjk): Chinese PDFs would print as boxes")
    return {r.truth.layout: (r, data) for r, data in layout_files(LAYOUT_SEED)}


@pytest.mark.browser
@pytest.mark.parametrize("layout", list(REAL_LAYOUTS))
def test_real_world_layouts(layout_resumes, layout: str) -> None:  # type: ignore[no-untyped-def]
    resume, data = layout_resumes[layout]
    fmt, lang, _ = REAL_LAYOUTS[layout]
    got = extract_text(data, f"resume.{fmt}")
    assert got.kind == fmt and got.language == lang and got.needs_review == ()
    parsed = parse_resume(got, today=TODAY)
    check_against_truth(got.text, parsed, resume.truth)
    q = parsed.qualifications
    assert sorted({s.name for s in q.skills}) == resume.truth.skills
    assert [j.title.value if j.title else None for j in q.jobs if not j.internship] == resume.truth.titles[::-1]
    assert got.text.count(resume.truth.email) == 1  # a page header's contact details once, not per page or part
    if "twopage" in layout:
        assert got.pages == 2
        running = f"{resume.truth.name} · {'个人简历' if lang == 'zh' else 'Curriculum Vitae'}"
        assert got.text.count(running) == 1  # the running header kept once
        assert not re.search(r"(?m)^\s*(?:第|Page)\s*\d+\s*/\s*\d+\s*$", got.text)  # page numbers dropped


@pytest.mark.browser
def test_narrow_columns_do_not_cut_words_or_dates(layout_resumes) -> None:  # type: ignore[no-untyped-def]
    for layout in ("pdf_sidebar_zh", "pdf_sidebar_en", "pdf_table2col_en", "pdf_infogrid_zh"):
        resume, data = layout_resumes[layout]
        text = extract_text(data).text
        lines = text.splitlines()
        # every date range of a job or school is on one line, whole
        assert len(find_ranges(text, TODAY)) == sum(len(find_ranges(line, TODAY)) for line in lines), layout
        for school_or_employer in [resume.truth.school, *resume.truth.employers]:
            assert any(school_or_employer in line for line in lines), (layout, school_or_employer)
    # the info grid's label and value cells stay on their row, the photo box apart
    resume, data = layout_resumes["pdf_infogrid_zh"]
    text = extract_text(data).text
    assert re.search(rf"姓名\t{resume.truth.name}\t性别\t[男女]", text)
    assert "照片" not in parse_resume(text, today=TODAY).personal.name.value


def test_a_docx_page_laid_out_as_a_two_column_table_reads_each_column_whole() -> None:
    resume = make_layout_resume(7, "docx_table2col_zh")
    text = extract_text(to_docx_layout(resume)).text
    lines = text.splitlines()
    assert lines[0] == resume.truth.name  # not the name and the right column's first heading on one line
    assert lines.index("求职意向") > lines.index(resume.truth.email)
    check_against_truth(text, parse_resume(text, today=TODAY), resume.truth)


def test_docx_contact_details_in_the_page_header_are_read_once() -> None:
    resume = make_layout_resume(8, "docx_header_en")
    text = extract_text(to_docx_layout(resume)).text
    assert text.splitlines()[0] == resume.truth.name and text.count(resume.truth.email) == 1
    check_against_truth(text, parse_resume(text, today=TODAY), resume.truth)


def test_two_columns_written_line_by_line_are_read_column_by_column() -> None:
    # the sidebar's line and the main column's line at each height, one after the other in the file
    for seed in (3, 4, 5):
        resume = make_resume(seed, "en", ("classic", "compact", "table")[seed % 3])
        got = extract_text(interleaved_columns_pdf(resume), "resume.pdf")
        lines = got.text.splitlines()
        assert lines[0] == resume.truth.name  # not the name and the main column's first heading on one line
        assert not any("\t" in line and "SKILLS" in line for line in lines)
        check_against_truth(got.text, parse_resume(got, today=TODAY), resume.truth)


def test_benchmark_readme_layout_tables_equal_their_data() -> None:
    """Every committed real-world layout run (before, after) is in benchmarks/README.md as its data renders it."""
    import json

    from benchmarks.resumes import layouts_table

    files = sorted((REPO / "benchmarks" / "data").glob("resumes_layouts*.json"))
    assert files, "no benchmarks/data/resumes_layouts*.json: run python -m benchmarks resumes --layouts"
    readme = (REPO / "benchmarks" / "README.md").read_text(encoding="utf-8")
    for f in files:
        assert layouts_table(json.loads(f.read_text(encoding="utf-8"))) in readme, f.name
        assert f"(data/{f.name})" in readme, f.name


def test_running_headers_and_page_numbers_but_not_repeated_text() -> None:
    from intake.extract import _strip_running

    body = ["工作经历", "2019.07-至今 招商银行", "客户经理", "负责对公客户", "完成考核", "2017.07-2019.06 平安银行", "客户经理", "x"]
    page1 = "\r\n".join(["王芳 · 个人简历", *body, "第 1 / 2 页"])
    page2 = "\r\n".join(["王芳 · 个人简历", *body, "- 2 -"])
    one, two = _strip_running([page1, page2])
    assert one.splitlines().count("王芳 · 个人简历") == 1 and "王芳 · 个人简历" not in two
    assert "第 1 / 2 页" not in one and "- 2 -" not in two
    assert two.splitlines().count("客户经理") == 2  # a title on both pages is the resume's, not a header
    assert _strip_running(["第 1 页\r\n张三"]) == ["第 1 页\r\n张三"]  # one page: nothing is running


# ---------------------------------------------------------------------- blind-set failure classes (new texts) --


def _jobs_of(text: str) -> list[tuple[str | None, str | None]]:
    parsed = parse_resume(text, today=TODAY)
    return [(j.employer.value if j.employer else None, j.title.value if j.title else None) for j in parsed.qualifications.jobs]


@pytest.mark.parametrize("dates2", ["Jul 2018 - Feb 2021", "Jul 2018 - Feb 2021 | Shanghai", "Shanghai, China    Jul 2018 - Feb 2021"])
@pytest.mark.parametrize("last_duty", ["Cross-sold trade finance", "Reported to the Head of Credit", "Wrote credit memos"])
@pytest.mark.parametrize("title2", ["Relationship Manager", "Corporate Banking"])
def test_a_job_written_dates_first_takes_its_heading_from_below(dates2: str, last_duty: str, title2: str) -> None:
    # a sidebar resume's main column: dates, employer, title, duties; the line above the second job's dates
    # is the first job's last duty, not the second job's heading
    text = (
        "Jane Smith\nExperience\nMar 2021 - Present\nHSBC Bank (China) Company Limited\nSenior Credit Analyst\n"
        f"Reviewed credit applications for mid-size corporates\n{last_duty}\n{dates2}\nBank of Shanghai\n{title2}\n"
        "Managed a portfolio of 40 corporate clients\nEducation\nFudan University    Master of Finance    2018\n"
    )
    assert _jobs_of(text) == [("HSBC Bank (China) Company Limited", "Senior Credit Analyst"), ("Bank of Shanghai", title2)]
    job = parse_resume(text, today=TODAY).qualifications.jobs[1]
    assert [d.text for d in job.duties] == ["Managed a portfolio of 40 corporate clients"]


def test_a_sidebar_pdf_with_two_jobs_dates_first_gives_both_titles() -> None:
    if not CHROMIUM.exists():
        pytest.skip("no Chromium")
    side = ("<div style='background:#eee;padding:8px'><h1>Jane Smith</h1><p>jane@example.com</p><h3>Skills</h3>"
            "<p>Excel</p><p>Python</p><h3>Languages</h3><p>English</p></div>")
    main = ("<h2>Experience</h2><p>Mar 2021 - Present</p><p><b>HSBC Bank (China) Company Limited</b></p><p>Senior Credit Analyst</p>"
            "<ul><li>Reviewed credit applications</li><li>Cross-sold trade finance</li></ul>"
            "<p>Jul 2018 - Feb 2021 | Shanghai</p><p><b>Bank of Shanghai</b></p><p>Corporate Banking</p>"
            "<ul><li>Managed a portfolio of 40 corporate clients</li></ul><h2>Education</h2><p>Fudan University, MSc Finance, 2018</p>")
    html = (f"<html><body style='font-family:sans-serif;margin:30px'><div style='display:grid;grid-template-columns:200px 1fr;gap:24px'>"
            f"{side}<div>{main}</div></div></body></html>")
    got = parse_resume(extract_text(print_pdfs([html])[0], "resume.pdf"), today=TODAY)
    assert [(j.employer.value if j.employer else None, j.title.value if j.title else None) for j in got.qualifications.jobs] == [
        ("HSBC Bank (China) Company Limited", "Senior Credit Analyst"), ("Bank of Shanghai", "Corporate Banking")]


@pytest.mark.parametrize("line, school", [
    ("Imperial College London        London, UK", "Imperial College London"),
    ("Imperial College London\tLondon, UK", "Imperial College London"),
    ("University College London        London, United Kingdom", "University College London"),
    ("King's College London, London, UK", "King's College London"),
    ("Imperial College London London, UK", "Imperial College London"),
    ("London School of Economics and Political Science        London, UK", "London School of Economics and Political Science"),
])
def test_a_school_named_after_its_city_keeps_its_whole_name_and_not_the_city_column(line: str, school: str) -> None:
    text = f"Jane Smith\njane@example.com\nEducation\n{line}\nMSc Finance    Sep 2017 - Sep 2018\n"
    edu = parse_resume(text, today=TODAY).qualifications.educations[0]
    assert edu.school is not None and edu.school.value == school
    assert edu.major is not None and edu.major.value == "Finance"


@pytest.mark.parametrize("head", [
    "HSBC Bank (China) Company Limited\nSenior Credit Analyst, Wholesale Credit Risk\nMar 2021 - Present",
    "HSBC Bank (China) Company Limited    Shanghai\nSenior Credit Analyst, Wholesale Credit Risk    Mar 2021 - Present",
    "Mar 2021 - Present\nHSBC Bank (China) Company Limited\nSenior Credit Analyst, Wholesale Credit Risk",
    "Senior Credit Analyst, Wholesale Credit Risk    Mar 2021 - Present\nHSBC Bank (China) Company Limited",
])
def test_a_team_after_the_title_is_not_the_employer(head: str) -> None:
    text = f"Jane Smith\nExperience\n{head}\nReviewed credit applications\nBank of Shanghai    Credit Analyst    Jul 2018 - Feb 2021\n"
    assert _jobs_of(text) == [("HSBC Bank (China) Company Limited", "Senior Credit Analyst"), ("Bank of Shanghai", "Credit Analyst")]
    # a business line with an employer word after the title is the title's too
    text2 = "Jane Smith\nExperience\nHSBC Bank (China) Company Limited\nRelationship Manager, Global Banking    Mar 2021 - Present\n"
    assert _jobs_of(text2) == [("HSBC Bank (China) Company Limited", "Relationship Manager")]
    # with no other employer, the part after the title is the employer ("Analyst, Goldman Sachs")
    assert _jobs_of("Jane Smith\nExperience\nAnalyst, Goldman Sachs    Jul 2018 - Feb 2021\n") == [("Goldman Sachs", "Analyst")]


@pytest.mark.parametrize("head, employer", [
    ("2019.07-至今  渣打银行（中国）有限公司 Standard Chartered Bank (China)  客户经理", "渣打银行（中国）有限公司"),
    ("渣打银行（中国）有限公司 Standard Chartered Bank (China)\n客户经理  2019.07-至今", "渣打银行（中国）有限公司"),
    ("2019.07-至今 | 汇丰银行（中国）有限公司 HSBC Bank (China) Company Limited | 客户经理", "汇丰银行（中国）有限公司"),
    ("2019.07-至今  招商银行股份有限公司深圳分行  客户经理", "招商银行股份有限公司深圳分行"),
])
def test_a_chinese_employer_with_its_english_name_is_the_chinese_name_as_written(head: str, employer: str) -> None:
    text = f"张伟\n工作经历\n{head}\n负责对公客户营销\n"
    assert _jobs_of(text) == [(employer, "客户经理")]
    job = parse_resume(text, today=TODAY).qualifications.jobs[0]
    assert job.employer is not None and job.employer.value == job.employer.evidence.text  # full-width brackets kept


@pytest.mark.parametrize("line", [
    "香港科技大学 HKUST  金融学  硕士  2018.09-2019.11",
    "2018.09-2019.11  香港科技大学（HKUST）  金融学  硕士",
    "香港中文大学 CUHK | 硕士 | 金融学",
])
def test_a_schools_english_abbreviation_is_not_its_major(line: str) -> None:
    edu = parse_resume(f"张伟\n教育背景\n{line}\n", today=TODAY).qualifications.educations[0]
    assert edu.major is not None and edu.major.value == "金融学"
    assert parse_resume("张伟\n教育背景\n香港科技大学 HKUST  硕士  2019\n", today=TODAY).qualifications.educations[0].major is None
    en = parse_resume("Jane Smith\nEducation\nHong Kong University of Science and Technology (HKUST)    MSc Finance    2019\n",
                      today=TODAY).qualifications.educations[0]
    assert en.major is not None and en.major.value == "Finance"


@pytest.mark.parametrize("text", [
    "张伟\n姓名\t张伟\t性别\t男\n学历\t硕士\t专业\t金融工程\n教育背景\t2016.09-2019.06\t复旦大学\t金融工程\t硕士\n工作经历\t2019.07-至今\t招商银行\t客户经理\n",
    "姓名\t张伟\t学历\t硕士\n毕业院校\t复旦大学\t专业\t金融工程\n教育背景\t2016.09-2019.06 复旦大学 硕士\n工作经历\t2019.07-至今 招商银行 客户经理\n",
    "姓名\t张伟\n毕业院校\t复旦大学\n专业\t金融工程\n教育背景\t2016.09-2019.06  复旦大学  硕士\n",
])
def test_a_section_label_in_a_table_row_is_never_a_value(text: str) -> None:
    q = parse_resume(text, today=TODAY).qualifications
    assert [(e.school.value if e.school else None, e.major.value if e.major else None) for e in q.educations] == [("复旦大学", "金融工程")]
    for job in q.jobs:
        assert job.employer is None or job.employer.value == "招商银行"
    # a label with no value before the heading gives no major
    assert parse_resume("姓名：张伟\n专业：\n教育背景\n2016.09-2019.06  复旦大学  硕士\n", today=TODAY).qualifications.educations[0].major is None


@pytest.mark.parametrize("line, skills", [
    ("负责撰写审查意见，审查企业财务报表", {"审查报告撰写", "财务报表分析"}),
    ("撰写授信调查报告20余份", {"审查报告撰写"}),
    ("为集团客户设计综合服务方案", {"综合金融服务方案"}),
    ("分析企业现金流，测算还款来源", {"现金流分析"}),
    ("识别和防范信贷风险", {"风险管理"}),
    ("负责贷后检查与不良贷款清收", {"贷前调查与贷后管理", "不良资产清收处置"}),
    ("办理存取款、开户业务，受理客户投诉", {"柜面业务", "投诉处理"}),
    ("评估抵押物价值，参与授信方案设计", {"抵押与担保评估", "授信方案设计"}),
    ("Reviewed credit applications, analysed financial statements and wrote credit papers",
     {"信贷审批", "财务报表分析", "审查报告撰写"}),
])
def test_skills_phrased_as_what_the_candidate_did_count(line: str, skills: set[str]) -> None:
    parsed = parse_resume(f"张伟\n工作经历\n2019.07-至今  招商银行  客户经理\n{line}\n", today=TODAY)
    assert {s.name for s in parsed.qualifications.skills} == skills
    for s in parsed.qualifications.skills:
        assert s.evidence.text in line


@pytest.mark.parametrize("line", [
    "全年零合规事件", "连续三年无合规事件发生", "任职期间无不良资产", "在风险管理部担任风险经理", "银行业务风险较高的岗位",
    "Zero compliance breaches in three years",
])
def test_negated_or_incidental_mentions_are_not_skills(line: str) -> None:
    parsed = parse_resume(f"张伟\n工作经历\n2019.07-至今  招商银行  客户经理\n{line}\n", today=TODAY)
    assert [s.name for s in parsed.qualifications.skills] == []


def test_a_requirement_phrased_as_a_duty_names_its_skill() -> None:
    assert vocabulary().skills_in("撰写授信调查报告") == frozenset({"审查报告撰写"})


@pytest.mark.parametrize("line, major", [("MSc Finance 2018", "Finance"), ("MSc Finance, Sep 2017 - Sep 2018", "Finance"), ("BSc Economics 2014-2017", "Economics")])
def test_a_date_after_the_degree_and_major_is_not_part_of_the_major(line: str, major: str) -> None:
    edu = parse_resume(f"Jane Smith\nEducation\nFudan University\n{line}\n", today=TODAY).qualifications.educations[0]
    assert edu.major is not None and edu.major.value == major


def test_an_english_name_before_a_chinese_employer_gives_the_chinese_name() -> None:
    text = "张伟\n工作经历\n2019.07-至今  Standard Chartered Bank (China) 渣打银行（中国）有限公司  客户经理\n负责对公客户营销\n"
    assert _jobs_of(text) == [("渣打银行（中国）有限公司", "客户经理")]
    # an English resume's employer stays as written
    assert _jobs_of("Jane Smith\nExperience\nStandard Chartered Bank (China)    Relationship Manager    Mar 2021 - Present\n") == [
        ("Standard Chartered Bank (China)", "Relationship Manager")]


@pytest.mark.parametrize("line, skills", [
    ("参与企业授信业务的审查审批", {"信贷审批"}),
    ("主要负责农户贷款的调查、审批及贷后管理", {"信贷审批", "贷前调查与贷后管理"}),
    ("跟踪研究房地产行业政策", {"行业研究"}),
    ("建立预警客户名单并定期监测", {"风险预警"}),
    ("开展客户风险测评", {"投资者适当性管理"}),
    ("拓展公司客户30余户", {"对公客户营销"}),  # winning clients, not keeping them
    ("为客户量身定制一揽子金融服务方案", {"综合金融服务方案"}),
    ("Analysed borrowers' cash flows and financial statements", {"财务报表分析", "现金流分析"}),
    ("Identified and mitigated credit risks", {"风险管理"}),
])
def test_more_ways_resumes_say_a_skill(line: str, skills: set[str]) -> None:
    parsed = parse_resume(f"张伟\n工作经历\n2019.07-至今  招商银行  客户经理\n{line}\n", today=TODAY)
    assert {s.name for s in parsed.qualifications.skills} == skills


@pytest.mark.parametrize("line", ["风险意识强", "零差错、零投诉", "未发生合规风险事件", "所在团队为风控部", "风险偏好较低",
                                  "No compliance issues during tenure", "Worked in the Risk Management Department"])
def test_more_mentions_that_are_not_skills(line: str) -> None:
    parsed = parse_resume(f"张伟\n工作经历\n2019.07-至今  招商银行  客户经理\n{line}\n", today=TODAY)
    assert [s.name for s in parsed.qualifications.skills] == []


def test_values_are_as_written_but_an_email_and_an_age_are_ascii() -> None:
    text = "张伟\n年龄：２８岁\n邮箱：ｚｈａｎｇｗｅｉ＠ｅｘａｍｐｌｅ．ｃｏｍ\n工作经历\n2019.07-至今  中信银行（北京）分行  客户经理\n"
    parsed = parse_resume(text, today=TODAY)
    assert parsed.personal.email is not None and parsed.personal.email.value == "zhangwei@example.com"
    assert parsed.personal.age is not None and parsed.personal.age.value == "28"
    (job,) = parsed.qualifications.jobs
    assert job.employer is not None and job.employer.value == "中信银行（北京）分行" == job.employer.evidence.text
