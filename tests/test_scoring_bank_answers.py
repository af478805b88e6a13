"""Held-out answers to the shipped banks' questions, for the calibration (tests/test_scoring_calibration.py).

Written for this check, after the calibration's design was fixed, the way
candidates speak (no punctuation, numbers in words or digits, stories), in
Mandarin and English, for six questions whose rubric separates its examples
(one per bank at least). Labels: 3 a strong answer that makes most of the
rubric's points in its own words, 2 a partial answer (a few points), 1 a
weak answer: vague, or on topic with the wrong attitude ("the boss is
reliable, I'd just push it through"). The test here checks that no answer
copies the rubric's wording.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jobs.catalog import load_catalog
from jobs.models import Question


@dataclass(frozen=True)
class BankAnswer:
    bank: str
    question: str
    language: str
    label: int  # 3 strong, 2 partial, 1 weak
    text: str


BANK_ANSWERS: list[BankAnswer] = [
    BankAnswer(
        "account_manager",
        "win_new_client",
        "zh",
        3,
        "我们有个做汽车座椅的老客户 我顺着它的采购单子找到一家给它供面料的小厂 这家厂在别的银行开户"
        " 我请老客户的采购经理帮忙牵线 先见了他们老板和管账的 去了四五趟才聊开 他们最头疼的是货款要压三个月"
        " 工人工资经常发不出来 我就帮他们搭了一个组合 用老客户的应付账款做保理融资 再加上代发工资和网银收款"
        " 比他们原来那家银行快也便宜 第一年他们在我们这里日均存款到了一千多万 代发两百多人"
        " 后来还给我介绍了两家同行",
    ),
    BankAnswer(
        "account_manager",
        "win_new_client",
        "en",
        3,
        "one of our big clients makes home appliances so I went through its supplier list and found a"
        " plastics parts maker that banked elsewhere I got the client's purchasing head to introduce me to"
        " their CFO and visited maybe five times before they opened up their real problem was waiting ninety"
        " days to get paid so cash was always tight I put together receivables financing against the big"
        " client's invoices plus payroll and cash management within a year they kept around ten million on"
        " deposit with us and the owner referred two of his peers",
    ),
    BankAnswer(
        "account_manager",
        "win_new_client",
        "zh",
        2,
        "我主要是通过朋友介绍认识了一家贸易公司的老板 去拜访了几次 给他讲了讲我行的结算和贷款产品"
        " 他觉得我们服务态度好 后来就在我们这里开了户",
    ),
    BankAnswer(
        "account_manager",
        "win_new_client",
        "zh",
        1,
        "嗯 拓展客户主要靠关系吧 多请客户吃饭 关系到位了他自然就把业务给你了",
    ),
    BankAnswer(
        "account_manager",
        "win_new_client",
        "en",
        1,
        "honestly it's mostly about connections you take the boss out a few times and once you're friends the"
        " business follows",
    ),
    BankAnswer(
        "account_manager",
        "loan_red_flags",
        "zh",
        3,
        "我不会因为是老客户就直接放 先去查回款少了一半到底是怎么回事 是订单少了还是钱打到别的银行去了"
        " 把他在别的行的流水也要过来看 官司我会去查判决书和起诉书 看涉及多少钱 会不会影响经营"
        " 再查一下征信和他在外面借了多少 然后到工厂现场看机器转不转 仓库里货多不多 水电用得怎么样"
        " 确认这两千万确实是用来买原材料的 这些情况我会如实写进调查报告 提前跟审批沟通"
        " 可能要减一点金额或者加个担保 跟老板我会说清楚一周办不完 可以先用他现有的额度开一部分银票应急",
    ),
    BankAnswer(
        "account_manager",
        "loan_red_flags",
        "en",
        3,
        "I wouldn't rush it just because they're an old client first I'd find out why their receipts through"
        " us halved whether sales dropped or the money now goes to another bank I'd read the lawsuit papers"
        " to see how much is at stake pull their credit report and other bank debt and visit the factory to"
        " check orders stock and power bills and make sure the money really is for working capital I'd write"
        " all of it honestly in the report and talk to the credit team early maybe a smaller amount or extra"
        " collateral and I'd tell the owner plainly it can't be done in a week but he could draw part of his"
        " existing line or use bank acceptance bills meanwhile",
    ),
    BankAnswer(
        "account_manager",
        "loan_red_flags",
        "zh",
        2,
        "我会先问问老板流水为什么少了 官司是怎么回事 如果他解释得通 我就抓紧准备材料 尽量帮他一周之内报上去",
    ),
    BankAnswer(
        "account_manager",
        "loan_red_flags",
        "zh",
        1,
        "合作这么多年了 老板人也靠谱 流水少一点很正常 官司也不一定有事 我就先帮他把贷款报上去 别耽误客户",
    ),
    BankAnswer(
        "account_manager",
        "loan_red_flags",
        "en",
        1,
        "we've worked with them for years so I trust the boss a dip in receipts happens and lawsuits are"
        " common I'd just push the application through so we don't lose the client",
    ),
    BankAnswer(
        "credit_analyst",
        "statements_problem",
        "zh",
        3,
        "有一家做建材的公司 账面上利润每年涨百分之二十 但是经营现金流连续两年是负的 客户欠的货款回收越来越慢"
        " 从两个月拖到了快五个月 毛利率比同行高了差不多十个点 这就很不正常 我去调了他们的纳税申报"
        " 开票收入比报表收入少了三成 又看了银行流水和电费 跟报表的产量也对不上 还去仓库看了"
        " 很多存货其实是积压的 最后我建议不批新增额度 只续原来的 还要求实际控制人个人担保"
        " 过了一年这家企业果然出了问题",
    ),
    BankAnswer(
        "credit_analyst",
        "statements_problem",
        "en",
        3,
        "a building materials company showed profits growing twenty percent a year but the cash coming in"
        " from operations was below zero two years running receivable days had stretched from about sixty to"
        " almost a hundred and fifty and their gross margin was ten points above peers so I pulled their tax"
        " filings and invoiced sales were thirty percent below reported revenue the bank statements and"
        " electricity usage didn't support the output either and at the warehouse a lot of the stock was old"
        " so I recommended no new limit only renewing the existing one with a personal guarantee from the"
        " owner and a year later they did run into trouble",
    ),
    BankAnswer(
        "credit_analyst",
        "statements_problem",
        "zh",
        2,
        "我看报表的时候发现一家企业应收账款涨得很快 感觉有点问题 就问了客户经理 他说是行业普遍回款慢"
        " 我在报告里提了一下这个风险",
    ),
    BankAnswer(
        "credit_analyst",
        "statements_problem",
        "zh",
        1,
        "报表都是审计过的 我一般就看看资产负债率和利润 没什么大问题就通过了",
    ),
    BankAnswer(
        "credit_analyst",
        "statements_problem",
        "en",
        1,
        "the statements are audited so I mostly check leverage and profit and if nothing jumps out I approve"
        " it",
    ),
    BankAnswer(
        "risk_manager",
        "npl_spike",
        "zh",
        3,
        "我先看是新增的坏账多了 还是总的贷款规模缩小了把比例抬上去了 再按行业 按哪个月放的款"
        " 经办的客户经理和担保方式一层层拆开 跟其他支行和去年同期比一比 看是不是只有这个支行有问题"
        " 然后抽二十笔出问题的贷款看档案 再去几户实地看看"
        " 如果发现集中在某个中介带来的客户或者某个客户经理手上 那就是内部管理的问题 不是市场的问题"
        " 措施上先把这类贷款停下来 把存量全部排查一遍 能催收的催收 该处置抵押物的处置 再把准入和审批流程补上"
        " 该问责的问责 分类也要如实调整",
    ),
    BankAnswer(
        "risk_manager",
        "npl_spike",
        "en",
        3,
        "first I'd check whether new defaults went up or the loan book shrank and pushed the ratio up then"
        " break it down by industry vintage loan officer and collateral type and compare with other branches"
        " and last year to see if it's local or system wide I'd pull twenty of the bad files and visit some"
        " borrowers if it clusters around one broker or one officer it's an internal control issue not the"
        " market then I'd stop that business review the whole book chase repayments enforce collateral where"
        " needed tighten onboarding hold people accountable and make sure the loans are classified honestly",
    ),
    BankAnswer(
        "risk_manager",
        "npl_spike",
        "zh",
        2,
        "我会先看看是哪些客户出了问题 是不是某个行业不景气 然后让支行多派人去催收 把不良压下来",
    ),
    BankAnswer(
        "risk_manager",
        "npl_spike",
        "zh",
        1,
        "不良率上升主要还是经济形势不好 大环境的问题 我们也没办法 让支行多催催收就行了",
    ),
    BankAnswer(
        "risk_manager",
        "npl_spike",
        "en",
        1,
        "it's mostly the economy everyone's NPLs are going up so I'd just tell the branch to push harder on"
        " collections",
    ),
    BankAnswer(
        "risk_manager",
        "fraud_ring",
        "zh",
        3,
        "这很像有中介成批造假骗贷 我会先把这些贷款的钱往哪里去了查清楚 看是不是都流到了几个账户"
        " 有没有回到中介或者进了股市楼市 马上停掉这个中介的进件 把它经手的所有贷款都翻一遍 然后按规定往上报"
        " 也告诉合规 证据够的话移交公安 同时查一下我们自己的人有没有参与 之后要建中介的黑名单"
        " 收入流水要核实真假 放款尽量用受托支付 资金异常流动要有监控预警 再把这个案子拿来给一线做培训",
    ),
    BankAnswer(
        "risk_manager",
        "fraud_ring",
        "en",
        3,
        "this looks like a broker packaging fake borrowers so first I'd trace where the money went whether it"
        " ended up in the same few accounts back with the broker or in stocks or property I'd suspend that"
        " broker straight away and review every loan they brought in report it up the line and to compliance"
        " and hand it to the police if the evidence supports fraud and look into whether someone inside the"
        " bank helped them afterwards I'd set up a broker blacklist verify income statements properly pay"
        " loan money directly to suppliers and add monitoring rules for unusual fund flows plus train the"
        " front line on this case",
    ),
    BankAnswer(
        "risk_manager",
        "fraud_ring",
        "zh",
        2,
        "我会跟客户经理说以后这个中介介绍的客户要仔细一点 然后让借款人尽快说明资金用途",
    ),
    BankAnswer(
        "risk_manager",
        "fraud_ring",
        "zh",
        1,
        "只要借款人每个月都还上了就没问题 钱转到哪里是客户自己的事 我们也管不了那么多",
    ),
    BankAnswer(
        "risk_manager",
        "fraud_ring",
        "en",
        1,
        "as long as they keep paying on time I don't see a problem where the money goes after that is the"
        " borrower's business",
    ),
    BankAnswer(
        "wealth_manager",
        "elderly_high_risk",
        "zh",
        3,
        "我会先请阿姨坐下来 听她说为什么想买这只基金 然后用她听得懂的话告诉她 这只基金风险比她能承受的高两级"
        " 前几年最多的时候跌了四成多 五十万可能一下子少二十万 朋友说的至少赚两成谁也保证不了"
        " 我不会建议她重新做测评把等级改高 也不会帮她操作 如果她还是坚持 要按规定做风险揭示 签字确认 录音录像"
        " 再请主管来把关 我会建议她大部分放在稳一点的存款和理财里 拿一小部分做基金定投"
        " 也请她回家跟儿女聊聊再定",
    ),
    BankAnswer(
        "wealth_manager",
        "elderly_high_risk",
        "en",
        3,
        "I'd sit down with her and hear why she wants it then explain simply that this fund is two levels"
        " riskier than her profile allows and in a bad year it fell more than forty percent so fifty thousand"
        " could turn into thirty nobody can promise her twenty percent I wouldn't suggest filling in the risk"
        " survey again just to come out more aggressive or place the order for her if she still insists we'd"
        " have to disclose the risks in writing record it and have my supervisor sign off I'd suggest keeping"
        " most of it in deposits and low risk products with a small monthly fund plan and ask her to talk it"
        " over with her children before deciding",
    ),
    BankAnswer(
        "wealth_manager",
        "elderly_high_risk",
        "zh",
        2,
        "我会跟阿姨说股票基金风险比较大 年纪大了还是稳一点好 劝她先买一半试试 看看效果再说",
    ),
    BankAnswer(
        "wealth_manager",
        "elderly_high_risk",
        "zh",
        1,
        "客户自己想买就让她买吧 钱是她的 她朋友都说能赚 我帮她重新做个测评就能买了",
    ),
    BankAnswer(
        "wealth_manager",
        "elderly_high_risk",
        "en",
        1,
        "it's her money so if she wants it I'd let her buy I can just redo the risk questionnaire with her so"
        " the system lets it through",
    ),
]

_HAN = re.compile(r"[\u4e00-\u9fff]")


def _rubric_texts(question: Question) -> list[str]:
    assert question.rubric is not None
    texts: list[str] = []
    for competency in question.rubric.competencies:
        for point in competency.points:
            texts += [point.text.zh or "", point.text.en or "", *point.paraphrases]
        texts += competency.strong_examples + competency.weak_examples
    return texts


def questions() -> dict[tuple[str, str], Question]:
    return {(e.bank.id, q.id): q for e in load_catalog() for q in e.bank.questions}


def test_bank_answers_are_labelled_for_both_languages() -> None:
    by_question: dict[tuple[str, str], set[tuple[str, int]]] = {}
    for answer in BANK_ANSWERS:
        by_question.setdefault((answer.bank, answer.question), set()).add((answer.language, answer.label))
    assert len(by_question) == 6 and {bank for bank, _ in by_question} == {
        "wealth_manager", "account_manager", "credit_analyst", "risk_manager"
    }  # fmt: skip
    for labels in by_question.values():
        assert {("zh", 3), ("en", 3), ("zh", 2), ("zh", 1), ("en", 1)} <= labels


def test_bank_answers_do_not_copy_rubric_text() -> None:
    """No answer shares 6 Hanzi or 5 words in a row with any rubric phrasing or example."""
    known = questions()
    for answer in BANK_ANSWERS:
        for text in _rubric_texts(known[(answer.bank, answer.question)]):
            if answer.language == "zh":
                a, b = "".join(_HAN.findall(answer.text)), "".join(_HAN.findall(text))
                assert not any(b[i : i + 6] in a for i in range(len(b) - 5)), (answer.question, text)
            else:
                a_words = re.findall(r"[a-z']+", answer.text.lower())
                b_words = re.findall(r"[a-z']+", text.lower())
                grams = {tuple(b_words[i : i + 5]) for i in range(len(b_words) - 4)}
                assert not any(tuple(a_words[i : i + 5]) in grams for i in range(len(a_words) - 4)), (
                    answer.question,
                    text,
                )
