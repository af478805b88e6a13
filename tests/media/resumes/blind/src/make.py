"""Make the blind set's PDF, DOCX and GBK files from the sources here.

Run from the repository root: ``.venv/bin/python tests/media/resumes/blind/src/make.py``.
PDFs: each HTML page printed by headless Chromium (tests/resume_fixtures.py
print_pdfs, Noto CJK fonts). DOCX: python-docx, built below. The GBK text:
zh23_gbk_board.utf8.txt re-encoded. zh24_present_variants.txt is written by
hand in the folder itself (UTF-8).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent
sys.path.insert(0, str(HERE.parents[4]))

from docx import Document  # noqa: E402
from docx.enum.text import WD_ALIGN_PARAGRAPH  # noqa: E402
from docx.oxml import OxmlElement  # noqa: E402
from docx.oxml.ns import qn  # noqa: E402
from docx.shared import Cm, Pt  # noqa: E402

# Chromium prints Noto CJK (OpenType/CFF in a .ttc) as Type3 glyph procedures, about 1 KB a
# character (a page of Chinese is 300 KB); the same outlines as a TrueType subset
# (fontTools, cubic to quadratic curves) embed as a CIDFontType2 subset, as Word and WPS
# exports do, a tenth of the size. The text and layout are unchanged.
FONTS = {
    "Noto Sans CJK SC": "/usr/share/fonts/opentype/noto/NotoSansCJK-{}.ttc",
    "Noto Serif CJK SC": "/usr/share/fonts/opentype/noto/NotoSerifCJK-{}.ttc",
}

PDFS = ["zh15_sidebar", "zh16_51job_boxed", "zh17_photo_grid", "en09_one_page", "zh18_two_page", "zh19_emoji_mixed"]


def _cjk_ttf(path: str, text: str) -> bytes:
    """The SC face of a Noto CJK collection, cut to ``text``'s characters, as TrueType."""
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTCollection, TTFont, newTable
    from fontTools.ttLib.tables._m_a_x_p import table__m_a_x_p

    index = next(i for i, f in enumerate(TTCollection(path).fonts) if f["name"].getDebugName(1).endswith(" SC"))
    font = TTFont(path, fontNumber=index)
    opts = subset.Options()
    opts.layout_features = []
    opts.name_IDs = ["*"]
    opts.hinting = False
    sub = subset.Subsetter(opts)
    sub.populate(text=text)
    sub.subset(font)
    glyphs, order = font.getGlyphSet(), font.getGlyphOrder()
    glyf = newTable("glyf")
    glyf.glyphs, glyf.glyphOrder = {}, order
    for g in order:
        pen = TTGlyphPen(glyphs)
        glyphs[g].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyf.glyphs[g] = pen.glyph()
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    font["glyf"], font["loca"] = glyf, newTable("loca")
    maxp = table__m_a_x_p()
    maxp.tableVersion, maxp.numGlyphs, maxp.maxZones = 0x00010000, len(order), 1
    for k in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs", "maxStackElements",
              "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, k, 0)
    font["maxp"] = maxp
    font["head"].indexToLocFormat = font["head"].glyphDataFormat = 0
    font["post"].formatType = 3.0
    font.sfntVersion = "\x00\x01\x00\x00"
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


def _embed_fonts(page: str) -> str:
    """The page with its Noto CJK families given as TrueType subsets (regular and bold) in @font-face."""
    import base64

    faces = []
    for family, path in FONTS.items():
        if f'"{family}"' not in page:
            continue
        for weight, style in (("normal", "Regular"), ("bold", "Bold")):
            data = base64.b64encode(_cjk_ttf(path.format(style), page)).decode()
            faces.append(f"@font-face {{ font-family: '{family} Sub'; font-weight: {weight}; "
                         f"src: url(data:font/ttf;base64,{data}) format('truetype'); }}")
        page = page.replace(f'"{family}"', f"'{family} Sub'")
    return page.replace("<style>", "<style>\n" + "\n".join(faces) + "\n", 1)


def _font(doc: Document, latin: str = "Calibri", east: str = "宋体", size: float = 10.5) -> None:
    st = doc.styles["Normal"]
    st.font.name = latin
    st.font.size = Pt(size)
    st.element.rPr.rFonts.set(qn("w:eastAsia"), east)


def _save(doc: Document, name: str) -> None:
    buf = io.BytesIO()
    doc.save(buf)
    (OUT / name).write_bytes(buf.getvalue())


def _heading(doc_or_cell, text: str) -> None:
    p = doc_or_cell.add_paragraph()
    r = p.add_run(text)
    r.bold = True
    r.font.size = Pt(12)


def zh20_table_layout() -> None:
    """The whole page one 2-column table: a narrow left column (labels, contact) and the content right."""
    doc = Document()
    _font(doc)
    t = doc.add_table(rows=0, cols=2)
    t.style = "Table Grid"
    rows = [
        ("彭晓琳", "求职意向：小微企业客户经理 ｜ 杭州"),
        ("基本信息", "性别：女　出生年月：1996年5月\n手机：177 5712 0963\n邮箱：pengxl_hz@foxmail.com\n现居：浙江杭州"),
        ("教育背景", "2014.09-2018.06　浙江财经大学　金融工程　本科/学士"),
        ("工作经历",
         "2020.10-至今　浙商银行股份有限公司　小微企业客户经理\n"
         "负责小微企业贷款的营销、贷前调查与贷后管理，管户 140 余户，贷款余额 3.2 亿元；评估抵押物与担保人，不良率低于 0.5%。\n"
         "2018.07-2020.09　杭州联合农村商业银行股份有限公司　客户经理助理\n"
         "协助客户经理整理授信资料，参与逾期贷款催收与不良资产清收处置。"),
        ("证书", "银行从业资格（2018）\n初级会计职称（2017）"),
        ("技能", "熟练使用 Excel；熟悉抵押与担保评估流程"),
        ("语言", "英语 CET-4；普通话"),
        ("自我评价", "吃苦耐劳，熟悉杭州本地小微企业市场。"),
    ]
    for left, right in rows:
        c = t.add_row().cells
        c[0].width, c[1].width = Cm(3.2), Cm(13.3)
        c[0].paragraphs[0].add_run(left).bold = True
        lines = right.split("\n")
        c[1].paragraphs[0].add_run(lines[0])
        for line in lines[1:]:
            c[1].add_paragraph(line)
    _save(doc, "zh20_table_layout.docx")


def zh21_header_contact() -> None:
    """Name and contact in the page header, a footer line; the body has no contact at all."""
    doc = Document()
    _font(doc)
    sec = doc.sections[0]
    hp = sec.header.paragraphs[0]
    r = hp.add_run("宋佳楠")
    r.bold = True
    r.font.size = Pt(16)
    hp2 = sec.header.add_paragraph("手机：150 1123 7764　｜　邮箱：songjianan@sina.com　｜　北京市西城区")
    hp2.alignment = WD_ALIGN_PARAGRAPH.LEFT
    fp = sec.footer.paragraphs[0]
    fp.text = "宋佳楠 · 个人简历 · 更新于2026年11月"
    fp.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _heading(doc, "求职意向")
    doc.add_paragraph("授信审批 / 风险管理岗位")
    _heading(doc, "工作经历")
    doc.add_paragraph("2020年1月 - 至今　中信银行股份有限公司　授信审批部　授信审批岗")
    doc.add_paragraph("负责大中型企业授信项目的审批，撰写审查报告，年审批金额约 150 亿元；对借款人进行财务报表分析并搭建财务模型预测偿债能力。")
    doc.add_paragraph("2016年7月 - 2019年12月　安永华明会计师事务所（特殊普通合伙）　审计部　高级审计员")
    doc.add_paragraph("负责金融机构年报审计，带领 4 人小组完成城商行审计项目。")
    _heading(doc, "教育背景")
    doc.add_paragraph("2013年9月 - 2016年6月　中央财经大学　会计学　硕士")
    doc.add_paragraph("2009年9月 - 2013年6月　河北经贸大学　会计学　学士")
    _heading(doc, "证书")
    doc.add_paragraph("中国注册会计师（CPA）全科合格并取得证书；银行从业资格")
    _heading(doc, "语言")
    doc.add_paragraph("英语：CET-6，工作中可阅读英文财报")
    _save(doc, "zh21_header_contact.docx")


def zh22_bullets() -> None:
    """Word bullet lists (List Bullet style) under each heading."""
    doc = Document()
    _font(doc, east="微软雅黑")
    doc.add_heading("唐雪梅", level=0)
    for line in ("电话：13678041255", "邮箱：tangxm_cd@163.com", "地址：四川省成都市武侯区"):
        doc.add_paragraph(line, style="List Bullet")
    doc.add_heading("工作经历", level=1)
    doc.add_paragraph("成都银行股份有限公司　个人客户经理　2022.07—至今")
    for line in ("为个人客户做理财规划，销售理财、基金与保险产品", "维护存量客户关系，管户 AUM 3 亿元",
                 "处理客户投诉，投诉办结率 100%"):
        doc.add_paragraph(line, style="List Bullet")
    doc.add_paragraph("中国邮政储蓄银行股份有限公司成都分行　综合柜员　2019.07—2022.06")
    for line in ("办理储蓄、对公结算等柜面业务", "落实反洗钱客户身份识别要求", "获 2021 年度“优质服务明星”"):
        doc.add_paragraph(line, style="List Bullet")
    doc.add_heading("教育背景", level=1)
    doc.add_paragraph("四川大学　金融学　本科　2015.09—2019.06")
    doc.add_heading("证书", level=1)
    for line in ("银行从业资格", "基金从业资格"):
        doc.add_paragraph(line, style="List Bullet")
    doc.add_heading("语言与其他", level=1)
    for line in ("英语：CET-4", "普通话二级甲等", "熟练使用 Office 办公软件"):
        doc.add_paragraph(line, style="List Bullet")
    _save(doc, "zh22_bullets.docx")


def en10_word() -> None:
    """An English Word CV: a title, a contact line, headings, tab-separated dates."""
    doc = Document()
    _font(doc, latin="Arial", east="等线", size=10.5)
    title = doc.add_paragraph()
    r = title.add_run("EMILY XU")
    r.bold = True
    r.font.size = Pt(20)
    doc.add_paragraph("Hong Kong  •  +852 6123 4587  •  emily.xu.hk@gmail.com")
    doc.add_heading("Profile", level=1)
    doc.add_paragraph("Compliance professional with eight years in Hong Kong banks, focused on anti-money laundering, "
                      "KYC and regulatory compliance.")
    doc.add_heading("Experience", level=1)
    for employer, title_, dates, bullets in (
        ("Nanyang Commercial Bank, Limited", "Compliance Manager", "Jul 2022 – Present",
         ("Lead the AML transaction monitoring team of five; review escalated alerts and file STRs.",
          "Own the bank's customer due diligence standards for corporate clients.")),
        ("Bank of China (Hong Kong) Limited", "Compliance Officer", "Aug 2018 – Jun 2022",
         ("Performed KYC reviews and periodic refresh for high-risk customers.",
          "Prepared compliance testing reports in Excel for the HKMA onsite examination.")),
    ):
        p = doc.add_paragraph()
        p.add_run(employer).bold = True
        p.add_run("\t" + dates)
        p.paragraph_format.tab_stops.add_tab_stop(Cm(16))
        doc.add_paragraph(title_).runs[0].italic = True
        for b in bullets:
            doc.add_paragraph(b, style="List Bullet")
    doc.add_heading("Education", level=1)
    p = doc.add_paragraph()
    p.add_run("The University of Hong Kong").bold = True
    p.add_run("\t2017 – 2018")
    doc.add_paragraph("Master of Finance")
    p = doc.add_paragraph()
    p.add_run("Sun Yat-sen University").bold = True
    p.add_run("\t2012 – 2016")
    doc.add_paragraph("Bachelor of Business Administration")
    doc.add_heading("Certifications", level=1)
    doc.add_paragraph("FRM (GARP), 2020", style="List Bullet")
    doc.add_heading("Languages", level=1)
    doc.add_paragraph("English (fluent), Cantonese (native), Mandarin (fluent)")
    _save(doc, "en10_word.docx")


def main() -> None:
    from tests.resume_fixtures import print_pdfs

    pages = [_embed_fonts((HERE / f"{n}.html").read_text(encoding="utf-8")) for n in PDFS]
    for name, data in zip(PDFS, print_pdfs(pages)):
        (OUT / f"{name}.pdf").write_bytes(data)
    zh20_table_layout()
    zh21_header_contact()
    zh22_bullets()
    en10_word()
    (OUT / "zh23_gbk_board.txt").write_bytes((HERE / "zh23_gbk_board.utf8.txt").read_text(encoding="utf-8").encode("gbk"))


if __name__ == "__main__":
    main()
