"""Resumes made at test time, with the truth they were made from.

:func:`make_resume` draws a candidate (name, phone, email, schools, jobs,
skills, certificates, languages) from the lists below with a seeded
``random.Random``, in Chinese or English, in one of several layouts, and
writes it as a small document model (:class:`Block` s) with its
:class:`Truth`. The renderers turn that model into plain text
(:func:`to_text`), HTML for Chromium's print-to-PDF (:func:`to_html`,
:func:`print_pdfs`) and DOCX with tables (:func:`to_docx`, python-docx). The
tests (tests/test_intake.py) and the benchmark (benchmarks/resumes.py) use
them; nothing made here is committed.

Chromium: ``/usr/bin/chromium`` through Playwright, as the browser tests
launch it (tests/test_browser_e2e.py). Chinese PDFs need a CJK font
(fonts-noto-cjk): :func:`cjk_font_available` says whether one is installed.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import random
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

CHROMIUM = Path("/usr/bin/chromium")
# What "至今" / "Present" mean in generated resumes: the parser is given the same day.
TODAY = dt.date(2026, 12, 5)

Lang = Literal["zh", "en"]

# ---------------------------------------------------------------------- the lists --

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鑫宇浩然子涵欣怡梓轩晨思雨嘉"
PINYIN = {
    "王": "Wang", "李": "Li", "张": "Zhang", "刘": "Liu", "陈": "Chen", "杨": "Yang", "黄": "Huang", "赵": "Zhao",
    "吴": "Wu", "周": "Zhou", "徐": "Xu", "孙": "Sun", "马": "Ma", "朱": "Zhu", "胡": "Hu", "郭": "Guo", "何": "He",
    "高": "Gao", "林": "Lin", "罗": "Luo", "郑": "Zheng", "梁": "Liang", "谢": "Xie", "宋": "Song", "唐": "Tang",
    "许": "Xu", "韩": "Han", "冯": "Feng", "邓": "Deng", "曹": "Cao", "彭": "Peng", "曾": "Zeng", "肖": "Xiao",
    "田": "Tian", "董": "Dong", "袁": "Yuan", "潘": "Pan", "蒋": "Jiang", "蔡": "Cai", "余": "Yu", "杜": "Du",
    "叶": "Ye", "程": "Cheng", "苏": "Su", "魏": "Wei", "吕": "Lyu", "丁": "Ding", "沈": "Shen", "姚": "Yao", "卢": "Lu",
}
EN_GIVEN = ["Wei", "Fang", "Jing", "Lei", "Yang", "Min", "Hao", "Xin", "Yu", "Emily", "Kevin", "Grace", "David",
            "Sophia", "Michael", "Vivian", "Jason", "Helen", "Eric", "Cindy"]

SCHOOLS_ZH = {
    "doctorate": ["北京大学", "清华大学", "复旦大学", "中国人民大学"],
    "master": ["上海财经大学", "中央财经大学", "对外经济贸易大学", "北京大学", "复旦大学", "南开大学", "厦门大学"],
    "bachelor": ["西南财经大学", "中南财经政法大学", "江西财经大学", "东北财经大学", "武汉大学", "浙江大学",
                 "中山大学", "湖南大学", "山东大学", "南京审计大学"],
    "associate": ["深圳职业技术学院", "浙江金融职业学院", "山东商业职业技术学院"],
}
SCHOOLS_EN = {
    "doctorate": ["Peking University", "Fudan University", "University of Oxford"],
    "master": ["London School of Economics", "University of Hong Kong", "National University of Singapore",
               "Shanghai University of Finance and Economics", "University of Manchester", "New York University"],
    "bachelor": ["Renmin University of China", "Wuhan University", "University of Melbourne", "Zhejiang University",
                 "Xiamen University", "Central University of Finance and Economics", "Sun Yat-sen University"],
    "associate": ["Shenzhen Polytechnic", "Zhejiang Financial College"],
}
MAJORS_ZH = ["金融学", "会计学", "经济学", "国际经济与贸易", "统计学", "金融工程", "财务管理", "工商管理", "法学"]
MAJORS_EN = ["Finance", "Accounting", "Economics", "Financial Engineering", "Statistics", "Business Administration",
             "Applied Mathematics"]
DEGREE_ZH = {"associate": ["大专", "专科"], "bachelor": ["本科", "学士"], "master": ["硕士", "硕士研究生"],
             "doctorate": ["博士"]}
# English degree phrasings: {major} is filled in; None: the major is a separate cell
DEGREE_EN = {
    "associate": ["Associate Degree in {major}", "Associate Degree, {major}"],
    "bachelor": ["Bachelor of Science in {major}", "B.A. in {major}", "BSc {major}", "Bachelor of Economics, {major}"],
    "master": ["Master of Science in {major}", "MSc {major}", "Master of {major}", "M.A. in {major}"],
    "doctorate": ["PhD in {major}", "Ph.D. in {major}"],
}
EMPLOYERS_ZH = ["招商银行深圳分行", "中国工商银行北京分行", "中国银行上海分行", "平安银行", "兴业银行杭州分行",
                "中信证券股份有限公司", "交通银行苏州分行", "上海浦东发展银行", "宁波银行", "中国建设银行广州分行",
                "华夏基金管理有限公司", "中国农业银行成都分行", "民生银行", "德勤华永会计师事务所"]
TITLES_ZH = ["客户经理", "理财经理", "风险经理", "综合柜员", "大堂经理", "审计助理", "信贷分析师", "对公客户经理",
             "个贷客户经理", "产品经理", "投资顾问"]
EMPLOYERS_EN = ["Bank of China", "China Merchants Bank", "HSBC", "Standard Chartered Bank", "Ping An Bank",
                "CITIC Securities", "PwC", "Deloitte", "DBS Bank", "China Construction Bank", "Bank of Communications",
                "Industrial Bank"]
TITLES_EN = ["Credit Analyst", "Relationship Manager", "Wealth Manager", "Risk Analyst", "Bank Teller",
             "Audit Associate", "Loan Officer", "Financial Advisor", "Investment Consultant", "Branch Manager"]

# canonical skill -> (Chinese phrasing, English phrasing); canonical names are intake/vocab.yaml's
SKILLS = {
    "信贷审批": ("信贷审批", "credit approval"),
    "财务报表分析": ("财务报表分析", "financial statement analysis"),
    "现金流分析": ("现金流分析", "cash flow analysis"),
    "反洗钱": ("反洗钱", "AML"),
    "客户尽职调查": ("尽职调查", "KYC"),
    "风险管理": ("风险管理", "risk management"),
    "理财规划": ("理财规划", "financial planning"),
    "资产配置": ("资产配置", "asset allocation"),
    "客户关系管理": ("客户关系管理", "CRM"),
    "压力测试": ("压力测试", "stress testing"),
    "行业研究": ("行业研究", "industry research"),
    "Excel": ("Excel", "Excel"),
    "Python": ("Python", "Python"),
    "SQL": ("SQL", "SQL"),
    "VBA": ("VBA", "VBA"),
    "Wind": ("Wind", "Bloomberg"),
}
# canonical -> (Chinese phrasing, English phrasing)
CERTIFICATES = {
    "银行从业资格": ("银行从业资格证书", "Banking Professional Qualification"),
    "基金从业资格": ("基金从业资格", "Fund Practitioner Qualification"),
    "证券从业资格": ("证券从业资格", "Securities Qualification"),
    "CFA": ("CFA", "CFA"),
    "FRM": ("FRM", "FRM"),
    "CPA": ("注册会计师（CPA）", "CPA"),
    "AFP": ("AFP金融理财师", "AFP"),
    "CFP": ("CFP国际金融理财师", "CFP"),
}
PARTIAL_CERTS = {"CFA": ("CFA 二级考生", "CFA Level II Candidate"), "FRM": ("FRM 一级", "FRM Part I passed")}

DATE_STYLES_ZH = ["{y}.{m:02d}", "{y}年{m}月", "{y}/{m:02d}", "{y}-{m:02d}"]
DATE_STYLES_EN = ["{mon} {y}", "{month} {y}", "{m:02d}/{y}", "{y}.{m:02d}"]
SEPARATORS = [" - ", " – ", "-", " ~ ", " — ", " to "]
PRESENT_ZH = ["至今", "现在", "今"]
PRESENT_EN = ["Present", "Now", "Current"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December"]

LAYOUTS: dict[Lang, tuple[str, ...]] = {"zh": ("labelled", "table", "blocks"), "en": ("classic", "table", "compact")}


# ---------------------------------------------------------------------- the model --


@dataclass
class Truth:
    """What a careful reader of the resume would write down (the benchmark's answer key)."""

    language: Lang
    layout: str
    name: str
    phone: str  # E.164
    email: str
    education: str  # the highest level
    school: str  # of the highest degree
    major: str
    graduation_year: int
    employers: list[str]
    titles: list[str]
    years: float
    skills: list[str]
    certificates: list[str]  # held only
    languages: list[str]  # codes
    tests: list[str]  # language tests


@dataclass
class Block:
    kind: Literal["title", "heading", "line", "row", "bullet"]
    text: str = ""
    cells: list[str] = field(default_factory=list)


@dataclass
class Resume:
    truth: Truth
    blocks: list[Block]
    row_sep: str  # how a row's cells are written in plain text


def _months(start: tuple[int, int], end: tuple[int, int]) -> int:
    return (end[0] - start[0]) * 12 + end[1] - start[1]


def _fmt_date(rng: random.Random, lang: Lang, y: int, m: int, style: str) -> str:
    return style.format(y=y, m=m, mon=MONTHS[m - 1], month=MONTH_NAMES[m - 1])


def _phone(rng: random.Random) -> tuple[str, str]:
    """(E.164, as written) of a Chinese mobile number."""
    prefix = rng.choice(["138", "139", "136", "150", "151", "158", "186", "188", "135", "187"])
    rest = "".join(rng.choice("0123456789") for _ in range(8))
    digits = prefix + rest
    shape = rng.choice(["{p}{r}", "{p} {a} {b}", "{p}-{a}-{b}", "+86 {p} {a} {b}", "(+86) {p}{r}", "+86-{p}-{a}-{b}"])
    return "+86" + digits, shape.format(p=prefix, r=rest, a=rest[:4], b=rest[4:])


def make_resume(seed: int, lang: Lang, layout: str | None = None, today: dt.date = TODAY) -> Resume:
    """One resume, drawn from ``seed``, in ``lang`` and ``layout`` (one of :data:`LAYOUTS`; drawn if None)."""
    rng = random.Random(seed)
    layout = layout or rng.choice(LAYOUTS[lang])
    zh = lang == "zh"
    surname = rng.choice(SURNAMES)
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
    if zh:
        name = surname + given
    else:
        name = rng.choice([f"{rng.choice(EN_GIVEN)} {PINYIN[surname]}", f"{PINYIN[surname]} {rng.choice(EN_GIVEN)}"])
    e164, phone_text = _phone(rng)
    email = f"{PINYIN[surname].lower()}{rng.randint(1, 999)}@{rng.choice(['example.com', 'mail.example.cn', 'qq.example.com'])}"
    date_style = rng.choice(DATE_STYLES_ZH if zh else DATE_STYLES_EN)
    sep = rng.choice(SEPARATORS[:-1] if zh else SEPARATORS)

    def date(y: int, m: int) -> str:
        return _fmt_date(rng, lang, y, m, date_style)

    def span(a: tuple[int, int], b: tuple[int, int] | None) -> str:
        end = rng.choice(PRESENT_ZH if zh else PRESENT_EN) if b is None else date(*b)
        return f"{date(*a)}{sep}{end}"

    # education: the highest level, and a bachelor's under a master's or doctorate
    level = rng.choices(["associate", "bachelor", "master", "doctorate"], [1, 5, 4, 1])[0]
    levels = {"associate": ["associate"], "bachelor": ["bachelor"], "master": ["bachelor", "master"],
              "doctorate": ["bachelor", "master", "doctorate"][rng.choice([0, 1]):]}[level]
    grad = today.year - rng.randint(1, 12)
    years_each = {"associate": 3, "bachelor": 4, "master": rng.choice([1, 2, 3]), "doctorate": 4}
    edu_entries = []
    end_year = grad
    for lv in reversed(levels):
        start_year = end_year - years_each[lv]
        school = rng.choice((SCHOOLS_ZH if zh else SCHOOLS_EN)[lv])
        major = rng.choice(MAJORS_ZH if zh else MAJORS_EN)
        edu_entries.append((lv, school, major, (start_year, 9), (end_year, 6)))
        end_year = start_year
    top = edu_entries[0]

    # jobs: one to three, after graduation, the last maybe still going; sometimes two overlap
    n_jobs = rng.choice([1, 2, 2, 3])
    cursor = (grad, 7)
    jobs: list[tuple[str, str, tuple[int, int], tuple[int, int] | None]] = []
    for i in range(n_jobs):
        start = cursor
        if i == n_jobs - 1 and rng.random() < 0.6:
            end = None
        else:
            length = rng.randint(8, 40)
            idx = start[0] * 12 + start[1] - 1 + length
            end = (idx // 12, idx % 12 + 1)
            now_idx = today.year * 12 + today.month - 1
            if idx >= now_idx - 1:
                end = None
        employer = rng.choice([e for e in (EMPLOYERS_ZH if zh else EMPLOYERS_EN) if e not in [j[0] for j in jobs]])
        title = rng.choice(TITLES_ZH if zh else TITLES_EN)
        jobs.append((employer, title, start, end))
        if end is None:
            break
        gap = rng.choice([0, 1, 2, 3, -4]) if i < n_jobs - 1 else 0  # -4: the next job overlaps this one
        idx = end[0] * 12 + end[1] - 1 + gap
        cursor = (idx // 12, idx % 12 + 1)
        if cursor > (today.year, today.month):
            break
    intervals = []
    for _, _, a, b in jobs:
        b2 = b or (today.year, today.month)
        intervals.append((a[0] * 12 + a[1] - 1, b2[0] * 12 + b2[1] - 1))
    from intake.dates import union_months  # the truth uses the same month arithmetic, not the parser

    years = round(union_months(intervals) / 12, 1)
    internship = None
    if rng.random() < 0.3:
        iy = top[3][0] - 1 if top[3][0] < grad else grad - 1
        internship = (rng.choice(EMPLOYERS_ZH if zh else EMPLOYERS_EN), "实习生" if zh else "Intern", (iy, 7), (iy, 9))

    skills = rng.sample(sorted(SKILLS), rng.randint(3, 6))
    skill_text = [SKILLS[s][0 if zh else 1] for s in skills]
    skill_names = [s if zh or s != "Wind" else "Bloomberg" for s in skills]
    certs = rng.sample(sorted(CERTIFICATES), rng.randint(0, 3))
    partial = rng.choice([None, None, *[c for c in PARTIAL_CERTS if c not in certs]])
    tests: list[str] = []
    lang_lines: list[str] = []
    codes = {lang}
    if zh:
        t = rng.choice(["CET-6", "CET-4", "CET-6", "IELTS", None])
        if t == "CET-6":
            lang_lines.append(rng.choice([f"大学英语六级（{rng.randint(430, 620)}分）", "CET-6", f"英语六级 {rng.randint(430, 620)}"]))
        elif t == "CET-4":
            lang_lines.append(rng.choice(["大学英语四级", f"CET-4 {rng.randint(430, 600)}"]))
        elif t == "IELTS":
            lang_lines.append(f"雅思 {rng.choice(['6.5', '7.0', '7.5'])}")
        if t:
            tests.append(t)
            codes.add("en")
        if rng.random() < 0.3:
            lang_lines.append("粤语：流利")
            codes.add("yue")
    else:
        t = rng.choice(["IELTS", "TOEFL", "CET-6", None])
        if t == "IELTS":
            lang_lines.append(f"IELTS {rng.choice(['6.5', '7.0', '7.5', '8.0'])}")
        elif t == "TOEFL":
            lang_lines.append(f"TOEFL iBT {rng.randint(95, 115)}")
        elif t == "CET-6":
            lang_lines.append(f"CET-6 ({rng.randint(450, 620)})")
        if t:
            tests.append(t)
        if rng.random() < 0.7:
            lang_lines.append(rng.choice(["Mandarin (native)", "Chinese: native", "Mandarin Chinese - native speaker"]))
            codes.add("zh")
        if rng.random() < 0.2:
            lang_lines.append("Cantonese (fluent)")
            codes.add("yue")

    truth = Truth(
        language=lang, layout=layout, name=name, phone=e164, email=email, education=level, school=top[1],
        major=top[2], graduation_year=top[4][0], employers=[j[0] for j in jobs], titles=[j[1] for j in jobs],
        years=years, skills=sorted(set(skill_names)), certificates=sorted(certs), languages=sorted(codes),
        tests=sorted(tests),
    )

    # ---- the document
    b: list[Block] = []
    H = (lambda zh_text, en_text: Block("heading", zh_text if zh else en_text))
    gender = rng.choice(["男", "女"])
    age = today.year - grad + 22
    # job descriptions mention one or two of the skills again (evidence in context)
    def duties(i: int) -> list[str]:
        mention = skill_text[i % len(skill_text)]
        if zh:
            return [f"负责{mention}相关工作，服务客户{rng.randint(50, 300)}户", f"完成年度考核任务的{rng.randint(100, 160)}%"]
        return [f"Responsible for {mention} across a portfolio of {rng.randint(50, 300)} clients",
                f"Achieved {rng.randint(100, 160)}% of annual targets"]

    def degree_text(lv: str, major: str) -> str:
        return rng.choice(DEGREE_ZH[lv]) if zh else rng.choice(DEGREE_EN[lv]).format(major=major)

    if zh:
        if layout == "labelled":
            b.append(Block("title", "个人简历"))
            b.append(H("基本信息", ""))
            b += [Block("line", f"姓名：{name}"), Block("line", f"性别：{gender}    年龄：{age}岁"),
                  Block("line", f"手机：{phone_text}"), Block("line", f"邮箱：{email}"),
                  Block("line", f"政治面貌：{rng.choice(['中共党员', '共青团员', '群众'])}")]
        elif layout == "table":
            b.append(Block("title", name))
            b.append(Block("row", cells=[f"性别：{gender}", f"出生年月：{today.year - age}.{rng.randint(1, 12):02d}", f"籍贯：{rng.choice(['湖南长沙', '江苏南京', '四川成都'])}"]))
            b.append(Block("row", cells=[f"电话：{phone_text}", f"邮箱：{email}"]))
        else:
            b.append(Block("title", name))
            b.append(Block("line", f"{gender} | {age}岁 | {phone_text} | {email}"))
        b.append(H("求职意向", ""))
        b.append(Block("line", rng.choice(["对公客户经理", "理财经理", "信贷审批岗", "风险管理岗"])))
        b.append(H(rng.choice(["教育背景", "教育经历"]), ""))
        for lv, school, major, a, z in edu_entries:
            d = f"{date(*a)}{sep}{date(*z)}"
            if layout == "table":
                b.append(Block("row", cells=[d, school, major, degree_text(lv, major)]))
            elif layout == "labelled":
                b.append(Block("line", f"{d}    {school}    {major}    {degree_text(lv, major)}"))
            else:
                b.append(Block("line", d))
                b.append(Block("line", f"{school} | {major} | {degree_text(lv, major)}"))
        b.append(H(rng.choice(["工作经历", "工作经验"]), ""))
        for i, (employer, title, a, z) in enumerate(jobs[::-1]):
            if layout == "table":
                b.append(Block("row", cells=[span(a, z), employer, title]))
            elif layout == "labelled":
                b.append(Block("line", f"{span(a, z)}    {employer}    {title}"))
            else:
                b.append(Block("line", f"{employer}  {title}"))
                b.append(Block("line", span(a, z)))
            b += [Block("bullet", d) for d in duties(i)]
        if internship:
            b.append(H("实习经历", ""))
            employer, title, a, z = internship
            b.append(Block("line", f"{span(a, z)}    {employer}    {title}"))
        b.append(H(rng.choice(["专业技能", "技能"]), ""))
        b.append(Block("line", "熟练掌握" + "、".join(skill_text)))
        if certs or partial:
            b.append(H(rng.choice(["资格证书", "证书"]), ""))
            items = [CERTIFICATES[c][0] for c in certs] + ([PARTIAL_CERTS[partial][0]] if partial else [])
            rng.shuffle(items)
            b += [Block("bullet", x) for x in items]
        if lang_lines:
            b.append(H("语言能力", ""))
            b.append(Block("line", "；".join(lang_lines)))
        b.append(H("自我评价", ""))
        b.append(Block("line", "性格开朗，责任心强，具备良好的沟通能力和团队合作精神。"))
    else:
        if layout == "table":
            b.append(Block("title", name))
            b.append(Block("row", cells=[f"Phone: {phone_text}", f"Email: {email}"]))
        else:
            b.append(Block("title", name))
            b.append(Block("line", f"{phone_text} | {email} | {rng.choice(['Shanghai', 'Shenzhen', 'Beijing', 'Hong Kong'])}"))
        b.append(H("", rng.choice(["Summary", "Profile"])))
        b.append(Block("line", f"Banking professional with {int(years) if years >= 1 else 1}+ years in client service and credit."))
        b.append(H("", rng.choice(["Work Experience", "Professional Experience", "Experience"])))
        for i, (employer, title, a, z) in enumerate(jobs[::-1]):
            if layout == "table":
                b.append(Block("row", cells=[span(a, z), employer, title]))
            elif layout == "classic":
                b.append(Block("line", f"{title} | {employer} | {span(a, z)}"))
            else:
                b.append(Block("line", f"{employer}, {rng.choice(['Shanghai', 'Shenzhen', 'Beijing'])}"))
                b.append(Block("line", f"{title}    {span(a, z)}"))
            b += [Block("bullet", d) for d in duties(i)]
        if internship:
            b.append(H("", "Internship"))
            employer, title, a, z = internship
            b.append(Block("line", f"{title} | {employer} | {span(a, z)}"))
        b.append(H("", "Education"))
        for lv, school, major, a, z in edu_entries:
            d = f"{date(*a)}{sep}{date(*z)}"
            if layout == "table":
                b.append(Block("row", cells=[d, school, degree_text(lv, major)]))
            elif layout == "classic":
                b.append(Block("line", f"{school}    {d}"))
                b.append(Block("line", degree_text(lv, major)))
            else:
                b.append(Block("line", f"{degree_text(lv, major)}, {school}, {d}"))
        b.append(H("", rng.choice(["Skills", "Key Skills"])))
        b.append(Block("line", ", ".join(skill_text)))
        if certs or partial:
            b.append(H("", rng.choice(["Certifications", "Certificates"])))
            items = [CERTIFICATES[c][1] for c in certs] + ([PARTIAL_CERTS[partial][1]] if partial else [])
            rng.shuffle(items)
            b += [Block("bullet", x) for x in items]
        if lang_lines:
            b.append(H("", "Languages"))
            b.append(Block("line", "; ".join(lang_lines)))
    row_sep = rng.choice(["\t", "    ", " | "])
    return Resume(truth=truth, blocks=b, row_sep=row_sep)


# ---------------------------------------------------------------------- renderers --


def to_text(resume: Resume) -> str:
    out: list[str] = []
    for block in resume.blocks:
        if block.kind == "heading":
            out += ["", block.text]
        elif block.kind == "row":
            out.append(resume.row_sep.join(block.cells))
        elif block.kind == "bullet":
            out.append(f"- {block.text}")
        else:
            out.append(block.text)
    return "\n".join(out) + "\n"


CSS = """
@page { size: A4; margin: 16mm; }
body { font-family: "Noto Sans CJK SC", "Noto Sans", sans-serif; font-size: 10.5pt; line-height: 1.45; }
h1 { font-size: 20pt; margin: 0 0 4mm; }
h2 { font-size: 12.5pt; border-bottom: 1px solid #999; margin: 5mm 0 2mm; }
p { margin: 0 0 1mm; }
table { border-collapse: collapse; margin: 0 0 1mm; }
td { padding: 1mm 10mm 1mm 0; vertical-align: top; }
ul { margin: 0 0 1mm; padding-left: 6mm; }
"""


def to_html(resume: Resume) -> str:
    parts = [f"<!doctype html><html lang='{resume.truth.language}'><head><meta charset='utf-8'><style>{CSS}</style></head><body>"]
    rows: list[str] = []
    bullets: list[str] = []

    def flush() -> None:
        if rows:
            parts.append("<table>" + "".join(rows) + "</table>")
            rows.clear()
        if bullets:
            parts.append("<ul>" + "".join(bullets) + "</ul>")
            bullets.clear()

    for block in resume.blocks:
        if block.kind == "row":
            if bullets:
                flush()
            rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in block.cells) + "</tr>")
            continue
        if block.kind == "bullet":
            if rows:
                flush()
            bullets.append(f"<li>{html.escape(block.text)}</li>")
            continue
        flush()
        tag = {"title": "h1", "heading": "h2", "line": "p"}[block.kind]
        # runs of spaces between parts stay visible in the PDF (they separate the parts)
        text = html.escape(block.text).replace("    ", "&emsp;&emsp;")
        parts.append(f"<{tag}>{text}</{tag}>")
    flush()
    parts.append("</body></html>")
    return "".join(parts)


def to_docx(resume: Resume) -> bytes:
    import docx

    doc = docx.Document()
    table = None
    for block in resume.blocks:
        if block.kind == "row":
            if table is None or len(table.columns) != len(block.cells):
                table = doc.add_table(rows=0, cols=len(block.cells))
            cells = table.add_row().cells
            for cell, text in zip(cells, block.cells):
                cell.text = text
            continue
        table = None
        if block.kind == "title":
            doc.add_heading(block.text, 0)
        elif block.kind == "heading":
            doc.add_heading(block.text, 1)
        elif block.kind == "bullet":
            doc.add_paragraph(block.text, style="List Bullet")
        else:
            doc.add_paragraph(block.text)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------------- Chromium --


def cjk_font_available() -> bool:
    """Whether fontconfig knows a Simplified Chinese font (fonts-noto-cjk), for Chinese PDFs."""
    if shutil.which("fc-list") is None:
        return False
    out = subprocess.run(["fc-list", ":lang=zh-cn", "family"], capture_output=True, text=True, timeout=30).stdout
    return bool(out.strip())


def print_pdfs(
    pages: list[str], *, screenshot_only: bool = False, header: str | None = None, footer: str | None = None
) -> list[bytes]:
    """Each HTML page printed to PDF by headless Chromium (one browser for all).

    ``screenshot_only``: each page is first photographed (PNG) and the PDF is
    printed from a page holding only that picture: a scan, with no text layer.
    ``header``, ``footer``: Chromium templates printed on every page (a running title, page numbers).
    """
    import base64

    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        try:
            page = browser.new_page(viewport={"width": 794, "height": 1123})
            for content in pages:
                page.set_content(content, wait_until="load")
                if screenshot_only:
                    png = page.screenshot(full_page=True)
                    src = "data:image/png;base64," + base64.b64encode(png).decode()
                    page.set_content(
                        f"<html><body style='margin:0'><img src='{src}' style='width:100%'></body></html>",
                        wait_until="load",
                    )
                if header is None and footer is None:
                    out.append(page.pdf(format="A4", print_background=True))
                else:
                    out.append(page.pdf(format="A4", print_background=True, display_header_footer=True,
                                        header_template=header or "<span></span>",
                                        footer_template=footer or "<span></span>"))
        finally:
            browser.close()
    return out


# ---------------------------------------------------------------------- hand-made PDFs --

_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def simple_pdf(text: str, *, user_password: str | None = None, owner_password: str = "owner") -> bytes:
    """A one-page PDF showing ``text`` (ASCII, Helvetica), written by hand.

    With ``user_password`` it is encrypted by the standard security handler
    (revision 3, 128-bit RC4, PDF 1.7 section 7.6.3): a reader needs the
    password to open it. ``user_password=""`` makes a PDF that opens without
    a password but is still encrypted (owner restrictions only).
    """
    import hashlib

    doc_id = hashlib.md5(text.encode()).digest()
    key = None
    encrypt_obj = b""
    if user_password is not None:
        p = -3904  # print and copy not allowed
        pad = lambda pw: (pw.encode("latin-1") + _PAD)[:32]  # noqa: E731
        # algorithm 3: /O
        h = hashlib.md5(pad(owner_password)).digest()
        for _ in range(50):
            h = hashlib.md5(h).digest()
        o = _rc4(h, pad(user_password))
        for i in range(1, 20):
            o = _rc4(bytes(b ^ i for b in h), o)
        # algorithm 2: the file key
        k = hashlib.md5(pad(user_password) + o + p.to_bytes(4, "little", signed=True) + doc_id).digest()
        for _ in range(50):
            k = hashlib.md5(k).digest()
        key = k[:16]
        # algorithm 5: /U
        u = _rc4(key, hashlib.md5(_PAD + doc_id).digest())
        for i in range(1, 20):
            u = _rc4(bytes(b ^ i for b in key), u)
        u += bytes(16)
        encrypt_obj = (
            f"<< /Filter /Standard /V 2 /R 3 /Length 128 /O <{o.hex()}> /U <{u.hex()}> /P {p} >>".encode()
        )
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    content = f"BT /F1 14 Tf 72 760 Td ({escaped}) Tj ET".encode("latin-1")
    if key is not None:  # each object's key: MD5(file key + object number + generation)
        obj_key = hashlib.md5(key + (4).to_bytes(3, "little") + (0).to_bytes(2, "little")).digest()[:16]
        content = _rc4(obj_key, content)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    if encrypt_obj:
        objects.append(encrypt_obj)
    extra = f" /ID [<{doc_id.hex()}> <{doc_id.hex()}>]"
    if encrypt_obj:
        extra += f" /Encrypt {len(objects)} 0 R"
    return _pdf_file(objects, extra)


def _pdf_file(objects: list[bytes], trailer_extra: str = "") -> bytes:
    """A PDF file of these numbered objects (1 is the catalog), with its cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{trailer_extra} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


# ---------------------------------------------------------------------- real-world layouts --
#
# Layouts candidates really send, made from the same model and truth as
# :func:`make_resume` (so the generated corpus above, and the benchmark data
# made from it, stay as they are): the blocks are cut into sections by their
# headings and laid out again. PDF layouts are printed by Chromium
# (:func:`print_pdfs`), DOCX layouts written by python-docx.

# layout -> (format, language, the make_resume layout it is made from)
REAL_LAYOUTS: dict[str, tuple[str, Lang, str]] = {
    "pdf_sidebar_zh": ("pdf", "zh", "blocks"),  # CSS grid: contact, skills, certificates, languages on the left
    "pdf_sidebar_en": ("pdf", "en", "classic"),  # the same with a float
    "pdf_table2col_zh": ("pdf", "zh", "blocks"),  # the whole body one table row of two cells
    "pdf_table2col_en": ("pdf", "en", "compact"),
    "pdf_infogrid_zh": ("pdf", "zh", "labelled"),  # 姓名/性别/… in a 2x3 grid of label and value cells, a photo box
    "pdf_rightdates_zh": ("pdf", "zh", "labelled"),  # dates right-aligned on the employer's line (flex)
    "pdf_rightdates_en": ("pdf", "en", "classic"),
    "pdf_twopage_zh": ("pdf", "zh", "blocks"),  # a job breaks across pages; a repeated page header and footer
    "pdf_twopage_en": ("pdf", "en", "compact"),
    "docx_header_zh": ("docx", "zh", "blocks"),  # name and contact details in the page header
    "docx_header_en": ("docx", "en", "classic"),
    "docx_table2col_zh": ("docx", "zh", "blocks"),  # the whole page a 1x2 table
    "docx_table2col_en": ("docx", "en", "compact"),
    "docx_bullets_zh": ("docx", "zh", "labelled"),  # Word bullet and numbered lists
    "docx_bullets_en": ("docx", "en", "classic"),
    "docx_textbox_zh": ("docx", "zh", "blocks"),  # the sidebar a Word text box (a shape, and its VML fallback)
    "docx_textbox_en": ("docx", "en", "compact"),
}

_SIDE_HEADINGS = {"专业技能", "技能", "资格证书", "证书", "语言能力", "Skills", "Key Skills", "Certifications",
                  "Certificates", "Languages"}


def make_layout_resume(seed: int, layout: str) -> Resume:
    """A resume for one of :data:`REAL_LAYOUTS`: :func:`make_resume`'s model, its truth's layout renamed."""
    _fmt, lang, base = REAL_LAYOUTS[layout]
    resume = make_resume(seed, lang, base)
    resume.truth.layout = layout
    return resume


def _sections(resume: Resume) -> tuple[list[Block], list[tuple[Block, list[Block]]]]:
    """(the blocks before the first heading, [(heading, its blocks)])."""
    head: list[Block] = []
    sections: list[tuple[Block, list[Block]]] = []
    for block in resume.blocks:
        if block.kind == "heading":
            sections.append((block, []))
        elif sections:
            sections[-1][1].append(block)
        else:
            head.append(block)
    return head, sections


def _contact_lines(head: list[Block]) -> list[str]:
    """The header's lines, a 'a | b | c' line as one line each (a sidebar lists them)."""
    out: list[str] = []
    for block in head:
        if block.kind == "row":
            out += block.cells
        elif block.kind == "line":
            out += [p.strip() for p in block.text.split(" | ")]
    return out


def _html_blocks(blocks: list[Block], *, right_dates: bool = False, break_first_bullet: bool = False) -> str:
    from intake.dates import find_ranges

    parts: list[str] = []
    bullets: list[str] = []
    broke = False

    def flush() -> None:
        if bullets:
            parts.append("<ul>" + "".join(bullets) + "</ul>")
            bullets.clear()

    for block in blocks:
        if block.kind == "bullet":
            style = ""
            if break_first_bullet and not broke:
                style, broke = " style='break-before: page'", True
            bullets.append(f"<li{style}>{html.escape(block.text)}</li>")
            continue
        flush()
        if block.kind == "row":
            parts.append("<table><tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in block.cells) + "</tr></table>")
            continue
        tag = {"title": "h1", "heading": "h2", "line": "p"}[block.kind]
        ranges = find_ranges(block.text, TODAY) if right_dates and block.kind == "line" else []
        if len(ranges) == 1:
            r = ranges[0]
            rest = (block.text[: r.start_pos] + "    " + block.text[r.end_pos :]).strip(" |")
            rest = " ".join(p for p in (x.strip(" |") for x in rest.split("    ")) if p)
            rest = rest.replace(" |  | ", " | ")
            if rest:
                parts.append(
                    "<div class='entry'><span>" + html.escape(rest).replace("  ", "&emsp;")
                    + f"</span><span class='when'>{html.escape(block.text[r.start_pos:r.end_pos])}</span></div>"
                )
                continue
        text = html.escape(block.text).replace("    ", "&emsp;&emsp;")
        parts.append(f"<{tag}>{text}</{tag}>")
    flush()
    return "".join(parts)


LAYOUT_CSS = CSS + """
.entry { display: flex; justify-content: space-between; margin: 1mm 0 0.5mm; font-weight: bold; }
.entry .when { font-weight: normal; white-space: nowrap; padding-left: 6mm; }
.grid { display: grid; grid-template-columns: 58mm 1fr; column-gap: 8mm; }
.side { background: #eef2f6; padding: 3mm; }
.side h1 { font-size: 16pt; }
.float-side { float: left; width: 55mm; background: #eef2f6; padding: 3mm; }
.float-main { margin-left: 66mm; }
.page2col { width: 100%; border-collapse: collapse; }
.page2col > tbody > tr > td { vertical-align: top; padding: 2mm 4mm; }
.page2col td.left { width: 34%; background: #f3f3f3; }
.info { display: flex; justify-content: space-between; align-items: flex-start; }
.info table { width: 132mm; }
.info table td { border: 1px solid #999; padding: 1.5mm 2mm; white-space: nowrap; }
.info td.label { background: #eee; font-weight: bold; white-space: nowrap; }
.photo { width: 28mm; height: 36mm; border: 1px solid #999; display: flex; align-items: center; justify-content: center; color: #888; }
"""

_FOOTER = ("<div style='font-size:8px;width:100%;text-align:center;color:#666'>{label} "
           "<span class='pageNumber'></span> / <span class='totalPages'></span></div>")


_HEADER = ("<div style='font-size:8px;width:100%;margin:0 16mm;color:#666;border-bottom:1px solid #ccc'>"
           "{text}</div>")


def footer_template(lang: Lang) -> str:
    """The page-number footer Chromium prints on every page of a twopage layout."""
    return _FOOTER.format(label="第" if lang == "zh" else "Page")


def header_template(resume: Resume) -> str:
    """The running header of a twopage layout: the candidate's name on every page."""
    zh = resume.truth.language == "zh"
    return _HEADER.format(text=html.escape(f"{resume.truth.name} · {'个人简历' if zh else 'Curriculum Vitae'}"))


def to_html_layout(resume: Resume) -> str:
    """HTML of a :data:`REAL_LAYOUTS` PDF layout (its name is the truth's layout)."""
    layout = resume.truth.layout
    lang = resume.truth.language
    head, sections = _sections(resume)
    side = [(h, b) for h, b in sections if h.text in _SIDE_HEADINGS]
    main = [(h, b) for h, b in sections if h.text not in _SIDE_HEADINGS]

    def flat(secs: list[tuple[Block, list[Block]]]) -> list[Block]:
        return [x for h, b in secs for x in (h, *b)]

    title = next((b.text for b in head if b.kind == "title"), "")
    contact = "".join(f"<p>{html.escape(line)}</p>" for line in _contact_lines(head))
    if layout.startswith("pdf_sidebar"):
        left = f"<h1>{html.escape(title)}</h1>{contact}" + _html_blocks(flat(side))
        right = _html_blocks(flat(main))
        if lang == "zh":
            body = f"<div class='grid'><div class='side'>{left}</div><div>{right}</div></div>"
        else:
            body = f"<div class='float-side'>{left}</div><div class='float-main'>{right}</div>"
    elif layout.startswith("pdf_table2col"):
        left = f"<h1>{html.escape(title)}</h1>{contact}" + _html_blocks(flat(side))
        body = (f"<table class='page2col'><tr><td class='left'>{left}</td>"
                f"<td class='right'>{_html_blocks(flat(main))}</td></tr></table>")
    elif layout.startswith("pdf_infogrid"):
        fields: dict[str, str] = {}
        for block in [*head, *(x for _, b in sections for x in b)]:
            if block.kind != "line":
                continue
            for piece in re.split(r"\s{2,}", block.text):
                if "：" in piece:
                    k, v = piece.split("：", 1)
                    fields[k] = v
        grid = [["姓名", "性别", "年龄"], ["电话", "邮箱", "政治面貌"]]
        src = {"电话": "手机"}
        rows = "".join(
            "<tr>" + "".join(f"<td class='label'>{k}</td><td>{html.escape(fields.get(src.get(k, k), ''))}</td>" for k in row)
            + "</tr>" for row in grid
        )
        body = (f"<h1 style='text-align:center'>{html.escape(title)}</h1>"
                f"<div class='info'><table>{rows}</table><div class='photo'>照片</div></div>"
                + _html_blocks(flat([(h, b) for h, b in sections if h.text != "基本信息"])))
    elif layout.startswith("pdf_rightdates"):
        body = _html_blocks(head) + _html_blocks(flat(sections), right_dates=True)
    elif layout.startswith("pdf_twopage"):
        exp = [(h, b) for h, b in sections if any(w in h.text for w in ("工作", "Experience"))]
        rest = [(h, b) for h, b in sections if (h, b) not in exp]
        body = (_html_blocks(head)
                + _html_blocks(flat(rest[:-2] if lang == "zh" else rest[:1]))
                + _html_blocks(flat(exp), right_dates=lang == "en", break_first_bullet=True)
                + _html_blocks(flat(rest[-2:] if lang == "zh" else rest[1:])))
    else:
        raise ValueError(f"not a PDF layout: {layout}")
    return (f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'><style>{LAYOUT_CSS}</style></head>"
            f"<body>{body}</body></html>")


def to_docx_layout(resume: Resume) -> bytes:
    """DOCX of a :data:`REAL_LAYOUTS` DOCX layout (its name is the truth's layout)."""
    import docx

    layout = resume.truth.layout
    head, sections = _sections(resume)
    doc = docx.Document()
    title = next((b.text for b in head if b.kind == "title"), "")

    def add(container, blocks: list[Block], numbered: bool = False) -> None:  # type: ignore[no-untyped-def]
        table = None
        for block in blocks:
            if block.kind == "row":
                if table is None or len(table.columns) != len(block.cells):
                    table = container.add_table(rows=0, cols=len(block.cells))
                for cell, text in zip(table.add_row().cells, block.cells):
                    cell.text = text
                continue
            table = None
            if block.kind == "heading":
                p = container.add_paragraph(block.text)
                p.runs[0].bold = True
            elif block.kind == "title":
                container.add_paragraph(block.text).runs[0].bold = True
            elif block.kind == "bullet":
                container.add_paragraph(block.text, style="List Number" if numbered else "List Bullet")
            else:
                container.add_paragraph(block.text)

    def flat(secs: list[tuple[Block, list[Block]]]) -> list[Block]:
        return [x for h, b in secs for x in (h, *b)]

    if layout.startswith("docx_header"):
        header = doc.sections[0].header
        header.paragraphs[0].text = title
        for line in _contact_lines([b for b in head if b.kind != "title"]):
            header.add_paragraph(line)
        doc.sections[0].footer.paragraphs[0].text = "Confidential" if resume.truth.language == "en" else "个人简历"
        add(doc, flat(sections))
    elif layout.startswith("docx_table2col"):
        side = [(h, b) for h, b in sections if h.text in _SIDE_HEADINGS]
        main = [(h, b) for h, b in sections if h.text not in _SIDE_HEADINGS]
        table = doc.add_table(rows=1, cols=2)
        left, right = table.rows[0].cells
        left.paragraphs[0].text = title
        for line in _contact_lines([b for b in head if b.kind != "title"]):
            left.add_paragraph(line)
        add(left, flat(side))
        right.paragraphs[0].text = main[0][0].text
        add(right, main[0][1] + flat(main[1:]))
    elif layout.startswith("docx_bullets"):
        add(doc, head)
        for h, blocks in sections:
            add(doc, [h])
            if h.text in _SIDE_HEADINGS:  # skills and languages one per bullet, certificates numbered
                items: list[str] = []
                for b in blocks:
                    if b.kind == "bullet":
                        items.append(b.text)
                    else:
                        text = b.text.removeprefix("熟练掌握")
                        items += [x.strip() for x in re.split(r"[、；;,]", text) if x.strip()]
                numbered = h.text in {"资格证书", "证书", "Certifications", "Certificates"}
                add(doc, [Block("bullet", x) for x in items], numbered=numbered)
            else:
                add(doc, blocks)
    elif layout.startswith("docx_textbox"):
        side = [(h, b) for h, b in sections if h.text in _SIDE_HEADINGS]
        main = [(h, b) for h, b in sections if h.text not in _SIDE_HEADINGS]
        texts = [title, *_contact_lines([b for b in head if b.kind != "title"])]
        for h, blocks in side:
            texts.append(h.text)
            texts += [b.text for b in blocks]
        anchor = doc.add_paragraph()
        anchor._p.append(_text_box_run(texts))
        add(doc, flat(main))
    else:
        raise ValueError(f"not a DOCX layout: {layout}")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _text_box_run(paragraphs: list[str]):  # type: ignore[no-untyped-def]
    """A run holding a floating text box as Word writes one: a DrawingML shape in mc:Choice and the same text
    again in a VML shape in mc:Fallback."""
    from docx.oxml import parse_xml

    ns = ('xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
          'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
          'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
          'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
          'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:v="urn:schemas-microsoft-com:vml"')
    content = "<w:txbxContent>" + "".join(
        f"<w:p><w:r><w:t xml:space='preserve'>{html.escape(p)}</w:t></w:r></w:p>" for p in paragraphs
    ) + "</w:txbxContent>"
    return parse_xml(
        f"<w:r {ns}><mc:AlternateContent><mc:Choice Requires='wps'><w:drawing>"
        "<wp:anchor simplePos='0' relativeHeight='1' behindDoc='0' locked='0' layoutInCell='1' allowOverlap='1'>"
        "<wp:simplePos x='0' y='0'/><wp:positionH relativeFrom='page'><wp:posOffset>360000</wp:posOffset></wp:positionH>"
        "<wp:positionV relativeFrom='page'><wp:posOffset>360000</wp:posOffset></wp:positionV>"
        "<wp:extent cx='1980000' cy='9000000'/><wp:wrapSquare wrapText='right'/><wp:docPr id='1' name='Sidebar'/>"
        "<a:graphic><a:graphicData uri='http://schemas.microsoft.com/office/word/2010/wordprocessingShape'>"
        f"<wps:wsp><wps:spPr/><wps:txbx>{content}</wps:txbx><wps:bodyPr/></wps:wsp>"
        "</a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>"
        f"<mc:Fallback><w:pict><v:shape style='position:absolute;width:156pt;height:708pt'><v:textbox>{content}"
        "</v:textbox></v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r>"
    )


def layout_files(seed: int, layouts: list[str] | None = None) -> list[tuple[Resume, bytes]]:
    """(resume, file bytes) for each of ``layouts`` (all of :data:`REAL_LAYOUTS` by default), PDFs printed together."""
    layouts = layouts or list(REAL_LAYOUTS)
    resumes = [make_layout_resume(seed + i, name) for i, name in enumerate(layouts)]
    out: dict[int, bytes] = {}
    plain = [i for i, r in enumerate(resumes) if REAL_LAYOUTS[r.truth.layout][0] == "pdf" and "twopage" not in r.truth.layout]
    for i, pdf in zip(plain, print_pdfs([to_html_layout(resumes[i]) for i in plain])):
        out[i] = pdf
    for lang in ("zh", "en"):
        paged = [i for i, r in enumerate(resumes) if "twopage" in r.truth.layout and r.truth.language == lang]
        if paged:
            for i in paged:  # the header names the candidate: one print each
                [out[i]] = print_pdfs([to_html_layout(resumes[i])], header=header_template(resumes[i]),
                                      footer=footer_template(lang))
    for i, r in enumerate(resumes):
        if REAL_LAYOUTS[r.truth.layout][0] == "docx":
            out[i] = to_docx_layout(r)
    return [(r, out[i]) for i, r in enumerate(resumes)]


def interleaved_columns_pdf(resume: Resume) -> bytes:
    """An English resume as a PDF with a sidebar whose text is written line by line across both columns.

    Some PDF writers (Word's text boxes, report tools) put the page's text in
    the file row by row, the left column's line then the right column's at the
    same height, so a reader taking the file's order reads the two columns
    woven together. Contact details, skills (one a line), certificates and
    languages are on the left, the rest on the right; Helvetica, WinAnsi, by hand.
    """
    head, sections = _sections(resume)
    left: list[str] = [next(b.text for b in head if b.kind == "title"), *_contact_lines(head[1:]), ""]
    right: list[str] = []
    for h, blocks in sections:
        side = h.text in _SIDE_HEADINGS
        col = left if side else right
        col.append(h.text.upper())
        for b in blocks:
            if b.kind == "bullet":
                col.append(f"- {b.text}")
            elif side:
                col += [x.strip() for x in re.split(r"[;,] ", b.text) if x.strip()]
            elif b.kind == "row":
                col.append("      ".join(b.cells))
            else:
                col.append(b.text)
        col.append("")

    import textwrap

    left = [piece for line in left for piece in (textwrap.wrap(line, 34, subsequent_indent="  ") or [""])]

    def esc(s: str) -> str:
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    ops = []
    for i in range(max(len(left), len(right))):
        y = 800 - i * 13
        for x, col in ((40, left), (200, right)):
            if i < len(col) and col[i]:
                ops.append(f"BT /F1 8.5 Tf {x} {y} Td ({esc(col[i])}) Tj ET")
    content = "\n".join(ops).encode("cp1252")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    return _pdf_file(objects)
