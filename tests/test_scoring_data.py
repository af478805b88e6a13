"""Labelled answers for content scoring, and transcript events built from them.

Two questions with their rubrics (as a bank would write them), and for each
question twelve answers in Mandarin and twelve in English, written the way a
candidate speaks and Whisper transcribes: little or no punctuation, fillers,
numbers in words or digits, stories rather than rubric phrases. Labels:

* 3 strong: a concrete story or plan covering most points of both competencies
* 2 middling: on topic, a few points
* 1 weak: on topic but vague, generic or with the wrong attitude
* 0 off-topic: not an answer to the question

``covers`` lists the expected points each answer actually makes (a human
judgement, used to calibrate and check the similarity ramp).

``wealth_persuasion`` is the calibration question; ``complaint_loss`` is
held out: the ramp's numbers were chosen on the first only.

The tests here check the data itself: no answer copies a rubric phrasing.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

from jobs.models import Competency, ExpectedPoint, Localized, Question, Rubric


def _point(id: str, zh: str, en: str, paraphrases: list[str], terms: list[str] | None = None) -> ExpectedPoint:
    return ExpectedPoint(id=id, text=Localized(zh=zh, en=en), paraphrases=paraphrases, terms=terms or [])


WEALTH = Question(
    id="wealth_persuasion",
    kind="behavioural",
    text=Localized(
        zh="请讲一次你说服客户购买理财产品的经历。",
        en="Tell us about a time you persuaded a client to buy a wealth management product.",
    ),
    rubric=Rubric(
        competencies=[
            Competency(
                id="sales",
                name=Localized(zh="销售能力", en="Sales skill"),
                weight=0.6,
                points=[
                    _point(
                        "needs",
                        "推荐产品之前先了解客户的需求",
                        "Finds out the client's needs before recommending a product",
                        [
                            "先问客户这笔钱准备做什么用、什么时候要用",
                            "asks about the client's goals and time horizon first",
                        ],
                        ["需求", "needs"],
                    ),
                    _point(
                        "fit",
                        "结合客户的情况讲清楚产品的好处",
                        "Explains how the product suits the client's situation",
                        [
                            "把产品的特点和客户关心的事对应起来",
                            "links the product's features to what the client cares about",
                        ],
                    ),
                    _point(
                        "objection",
                        "耐心化解客户的顾虑",
                        "Handles the client's doubts and objections",
                        ["客户犹豫的时候弄清楚他在担心什么", "when the client hesitates, finds out what worries them"],
                        ["顾虑", "objection", "objections"],
                    ),
                    _point(
                        "drive",
                        "享受有难度的目标",
                        "Enjoys difficult targets",
                        ["被客户拒绝了也不放弃，会再找机会", "keeps going after a client says no", "压力越大越有干劲"],
                    ),
                    _point(
                        "close",
                        "最终促成交易",
                        "Closes the sale",
                        ["客户最后买了，还给我介绍了新客户", "the client signed up and later referred others"],
                        ["成交", "签约"],
                    ),
                ],
                strong_examples=[
                    "我先问客户的资金用途和期限，做了风险测评，推荐了匹配的产品，讲清楚风险，最后客户买了",
                    "I asked about the client's goals, did the risk assessment, matched the product, disclosed the risks and closed",
                ],
                weak_examples=[
                    "我就跟客户说这款理财特别好，收益高，大家都在买",
                    "I told him it was a great product and everyone buys it",
                ],
            ),
            Competency(
                id="suitability",
                name=Localized(zh="适当性与合规", en="Suitability & compliance"),
                weight=0.4,
                points=[
                    _point(
                        "risk_profile",
                        "先做风险测评，确认客户的风险承受能力",
                        "Checks the client's risk tolerance with a risk assessment",
                        ["让客户做风险问卷，看他能接受多大的亏损", "confirms how much loss the client can accept"],
                        ["风险测评", "风险承受能力", "risk assessment", "risk tolerance"],
                    ),
                    _point(
                        "match",
                        "只推荐与客户风险等级匹配的产品",
                        "Recommends only products that match the client's risk level",
                        [
                            "风险等级超过客户承受能力的产品不卖给他",
                            "never sells a product above the client's risk rating",
                        ],
                        ["适当性", "风险等级", "suitability"],
                    ),
                    _point(
                        "disclosure",
                        "如实说明产品风险，不承诺保本",
                        "Discloses the product's risks honestly and promises no guaranteed returns",
                        ["跟客户讲清楚这个产品可能会亏钱", "tells the client they could lose money"],
                        ["风险揭示", "保本", "guaranteed"],
                    ),
                    _point(
                        "records",
                        "按规定双录并留存记录",
                        "Records the sale as the rules require",
                        ["销售过程录音录像", "the sale is audio and video recorded"],
                        ["双录"],
                    ),
                ],
                strong_examples=["我让客户做了风险测评，只推荐了等级匹配的产品，讲清楚了可能亏损，全程双录"],
                weak_examples=["我跟客户说这个产品保本，肯定不会亏", "I told the client it's basically guaranteed"],
            ),
        ]
    ),
)

COMPLAINT = Question(
    id="complaint_loss",
    kind="situational",
    text=Localized(
        zh="客户投诉你卖给他的基金亏了钱，你会怎么处理？",
        en="A client complains that a fund you sold them has lost money. How do you handle it?",
    ),
    rubric=Rubric(
        competencies=[
            Competency(
                id="complaint",
                name=Localized(zh="投诉处理", en="Complaint handling"),
                weight=0.6,
                points=[
                    _point(
                        "listen",
                        "耐心倾听，先安抚客户的情绪",
                        "Listens patiently and calms the client down first",
                        ["让客户把不满说完，表示理解他的心情", "acknowledges how upset the client is"],
                        ["安抚", "倾听"],
                    ),
                    _point(
                        "explain",
                        "用事实解释亏损的原因",
                        "Explains the reasons for the loss with facts",
                        [
                            "结合市场行情和基金持仓分析为什么跌",
                            "walks the client through the market moves behind the drop",
                        ],
                        ["净值", "回撤", "drawdown"],
                    ),
                    _point(
                        "options",
                        "给出具体的后续方案供客户选择",
                        "Offers concrete next steps for the client to choose from",
                        [
                            "比如继续持有、分批调整或者换成稳健一些的产品",
                            "for example holding, rebalancing or switching to a lower-risk product",
                        ],
                        ["方案", "调仓", "rebalance"],
                    ),
                    _point(
                        "follow_up",
                        "事后持续跟进回访",
                        "Follows up with the client afterwards",
                        ["定期联系客户更新情况", "checks in with the client regularly"],
                        ["回访", "follow up"],
                    ),
                ],
                strong_examples=["先安抚客户情绪，再用数据解释亏损原因，给出几个方案，之后定期回访"],
                weak_examples=[
                    "跟客户说投资有风险，亏了也没办法",
                    "I'd tell them investing is risky and there's nothing to be done",
                ],
            ),
            Competency(
                id="compliance",
                name=Localized(zh="合规", en="Compliance"),
                weight=0.4,
                points=[
                    _point(
                        "no_promise",
                        "不私下承诺赔偿或保证收益",
                        "Never privately promises compensation or guaranteed returns",
                        ["不能为了平息投诉自己掏钱补偿客户", "does not offer to cover the loss personally"],
                        ["承诺", "赔偿", "compensation"],
                    ),
                    _point(
                        "review_records",
                        "核查当时的风险测评和双录记录",
                        "Reviews the original sale: risk assessment and recordings",
                        [
                            "调出当初购买时的问卷和录音录像，看流程是否合规",
                            "checks whether the sale was properly documented",
                        ],
                        ["双录", "风险测评", "records"],
                    ),
                    _point(
                        "escalate",
                        "按流程上报，走正式投诉渠道",
                        "Escalates through the formal complaint process",
                        [
                            "把投诉登记下来，报给负责人和消保部门",
                            "logs the complaint and informs the manager and compliance",
                        ],
                        ["上报", "消保", "escalate"],
                    ),
                ],
                strong_examples=["不私下承诺赔偿，核查当时的测评和双录，按流程登记上报"],
                weak_examples=[
                    "我自己先补一点钱给客户，让他别投诉了",
                    "I'd just pay them back a bit myself so they drop it",
                ],
            ),
        ]
    ),
)

QUESTIONS = {WEALTH.id: WEALTH, COMPLAINT.id: COMPLAINT}
CALIBRATION_QUESTION = WEALTH.id
HELD_OUT_QUESTION = COMPLAINT.id


@dataclass(frozen=True)
class Answer:
    key: str
    question: str
    language: str
    label: int  # 3 strong, 2 middling, 1 weak, 0 off-topic
    covers: frozenset[str]
    text: str


def _a(key: str, question: str, language: str, label: int, covers: str, text: str) -> Answer:
    return Answer(key, question, language, label, frozenset(covers.split()), " ".join(text.split()))


W, C = WEALTH.id, COMPLAINT.id

ANSWERS: list[Answer] = [
    # -- wealth_persuasion, Mandarin ------------------------------------------------
    _a(
        "w-zh-s1",
        W,
        "zh",
        3,
        "needs fit objection close risk_profile match disclosure records",
        """
        嗯 去年我在支行做理财的时候 有个阿姨存款刚到期 我没有直接推产品 先跟她聊这笔钱是干嘛用的
        她说三年内不动 主要是想给孙子攒学费 然后我带她做了一下风险评估 结果是稳健型
        所以我就只给她看了二级风险以下的几款 那个 她一开始担心买了就取不出来
        我就把封闭期和每年分红怎么拿一条条跟她对了一遍 也跟她说了这个不是存款 净值是会有波动的 不能保证一定赚
        整个过程按规定录音录像 最后她买了二十万 过了半年还介绍了她妹妹过来""",
    ),
    _a(
        "w-zh-s2",
        W,
        "zh",
        3,
        "drive needs fit objection close risk_profile match disclosure",
        """
        呃 我讲一个企业主客户吧 他之前一直觉得银行理财收益太低 拒绝过我两次 我也没放弃
        隔了一个月又约他喝茶 这次我主要问他公司的现金流 发现他有一笔钱半年内用不上
        我就建议他配一部分短期的固收产品 先让他在系统里做了问卷 他是平衡型 产品等级是对得上的
        他问会不会亏 我就实话实说 历史上有过回撤 不保本 但波动比较小 最后他先买了一百万试试 后来又追加了""",
    ),
    _a(
        "w-zh-s3",
        W,
        "zh",
        3,
        "drive needs objection close risk_profile match disclosure records",
        """
        我觉得做销售最有意思的就是啃硬骨头 我们网点有个退休教师 特别谨慎 之前别的同事都没谈下来
        我先不谈产品 就是听她讲家里的情况 知道她最怕的是本金受损 所以权益类的我一个都没提
        只拿了跟她测评结果对得上的低风险产品 最坏的情况会怎么样也跟她讲了
        签之前也按要求做了双录 她后来买了 还挺满意的""",
    ),
    _a(
        "w-zh-m1",
        W,
        "zh",
        2,
        "fit objection close",
        """
        嗯 有一次一个客户来存钱 我就跟他推荐了我们行的一款理财 我跟他说这个收益比定期高一些
        然后他有点犹豫 说怕不安全 我就跟他解释了一下 这个产品主要是投债券的 然后他就买了 买了十万""",
    ),
    _a(
        "w-zh-m2",
        W,
        "zh",
        2,
        "needs risk_profile match close",
        """
        那个 我之前实习的时候 帮客户经理接待过一个客户 我们先问了他以前投过什么 能接受多少亏损
        然后根据结果选了一款中低风险的基金 他回去考虑了几天 最后还是买了""",
    ),
    _a(
        "w-zh-m3",
        W,
        "zh",
        2,
        "drive close",
        """
        我觉得说服客户最重要的是建立信任 我有个客户一开始不太信任我 我就经常给他发一些市场分析
        一次两次他不回也没关系 慢慢熟了以后 他就愿意听我的建议了 最后买了我推荐的一个产品""",
    ),
    _a(
        "w-zh-w1",
        W,
        "zh",
        1,
        "",
        """
        嗯 我觉得就是 要多跟客户沟通吧 态度要好 然后 呃 把产品介绍清楚 客户一般就会买""",
    ),
    _a(
        "w-zh-w2",
        W,
        "zh",
        1,
        "",
        """
        我会跟客户说 我们这个产品很好 收益也不错 很多人都买了 你也可以试试 他要是不买的话 那就算了 下次再说""",
    ),
    _a(
        "w-zh-w3",
        W,
        "zh",
        1,
        "",
        """
        呃 说服客户的话 我一般就是 就是 多打电话 多联系 那个 让客户感觉到你的热情 他就会买了""",
    ),
    _a(
        "w-zh-o1",
        W,
        "zh",
        0,
        "",
        """
        我平时比较喜欢运动 周末会去爬山 也喜欢看看书 我觉得保持一个好的身体状态很重要""",
    ),
    _a(
        "w-zh-o2",
        W,
        "zh",
        0,
        "",
        """
        嗯 我是学会计专业的 大学的时候在学生会做过宣传部的部长 组织过几次校园活动""",
    ),
    _a(
        "w-zh-o3",
        W,
        "zh",
        0,
        "",
        """
        不好意思 刚才网有点卡 我没听清楚题目 能再说一遍吗""",
    ),
    # -- wealth_persuasion, English -------------------------------------------------
    _a(
        "w-en-s1",
        W,
        "en",
        3,
        "needs fit objection close risk_profile match disclosure records",
        """
        so um last year at the branch I had this client whose CD was maturing and uh instead of pitching right away
        I asked what she needed the money for she said it's for her grandson's college in like four years
        so I had her fill out the risk questionnaire she came out conservative so I only showed her a couple of low
        risk funds she was worried she couldn't get the money out early so I walked her through the lockup and how
        the payouts work and I was upfront that it's not a deposit the value can go down nothing's guaranteed
        we did the whole thing on the recorded line per policy and she ended up putting in 50,000 and later sent
        her sister to me""",
    ),
    _a(
        "w-en-s2",
        W,
        "en",
        3,
        "drive needs fit objection close risk_profile match disclosure",
        """
        okay so there was this business owner who'd turned me down twice he thought bank products were a waste of
        time. I don't really mind hearing no so I reached out again a month later took him for coffee and this time
        I mostly asked about his cash flow turned out he had money sitting idle for six months so I suggested a short
        term bond product first we ran his risk profile he was moderate which fit the product's rating
        he asked can I lose money and I told him honestly yes there have been drawdowns it's not principal protected
        but the swings are small. he started with a million and topped up later""",
    ),
    _a(
        "w-en-s3",
        W,
        "en",
        3,
        "drive needs objection close risk_profile match disclosure records",
        """
        honestly the hardest clients are the ones I like most there was a retired teacher at our branch super
        cautious two of my colleagues had given up on her I didn't talk product at all at first I just listened to
        her family situation and figured out her biggest fear was losing her savings so I stayed away from equities
        and only offered things that fit her assessment results I also went through the worst case with her and we
        did the required recording before she signed she bought and she was really happy with it""",
    ),
    _a(
        "w-en-m1",
        W,
        "en",
        2,
        "fit objection close",
        """
        um one time a customer came in to make a deposit and I recommended one of our wealth products I told him
        the return is higher than a fixed deposit and he was a bit hesitant he said is it safe so I explained it
        mostly invests in bonds and uh then he bought it like a hundred thousand""",
    ),
    _a(
        "w-en-m2",
        W,
        "en",
        2,
        "needs risk_profile match close",
        """
        during my internship I helped a relationship manager with a client we asked about his investment experience
        and how much of a loss he could stomach and based on that picked a medium low risk fund he thought about it
        for a few days and then he went ahead""",
    ),
    _a(
        "w-en-m3",
        W,
        "en",
        2,
        "drive close",
        """
        I think the key to persuading a client is trust I had a client who didn't trust me at first so I kept sending
        him market updates even when he didn't reply and once we got to know each other he started listening to my
        suggestions and eventually he bought a product I recommended""",
    ),
    _a(
        "w-en-w1",
        W,
        "en",
        1,
        "",
        """
        um I think you just uh need to communicate more with the client you know have a good attitude and explain
        the product clearly and usually they'll buy""",
    ),
    _a(
        "w-en-w2",
        W,
        "en",
        1,
        "",
        """
        I'd tell them this product is really good the returns are nice lots of people bought it you should try it
        too and if they don't want it that's fine maybe next time""",
    ),
    _a(
        "w-en-w3",
        W,
        "en",
        1,
        "",
        """
        uh to persuade clients I basically just call them a lot and keep in touch like show them you're enthusiastic
        and they'll buy""",
    ),
    _a(
        "w-en-o1",
        W,
        "en",
        0,
        "",
        """
        I really like sports on weekends I go hiking and I read a lot I think staying healthy is really important""",
    ),
    _a(
        "w-en-o2",
        W,
        "en",
        0,
        "",
        """
        um I majored in accounting and in college I was head of publicity for the student union and organized a few
        campus events""",
    ),
    _a(
        "w-en-o3",
        W,
        "en",
        0,
        "",
        """
        sorry my connection dropped for a second I didn't catch the question could you repeat it""",
    ),
    # -- complaint_loss, Mandarin ---------------------------------------------------
    _a(
        "c-zh-s1",
        C,
        "zh",
        3,
        "listen explain options follow_up no_promise review_records escalate",
        """
        嗯 如果客户来投诉 我第一步肯定是先让他把话说完 不打断 表示理解他 毕竟亏钱谁都着急
        等他情绪平复一点 我会把这只基金最近的走势和持仓拿出来 跟他讲清楚是因为这段时间债市调整 不是产品出了什么问题
        然后给他几个选择 比如继续拿着等反弹 或者分几次换到波动小一点的产品
        但是我不会为了让他消气就私下答应补钱给他 那样是违规的 我还会去翻一下当时签的风险问卷 还有录音录像 看销售流程有没有问题
        如果客户坚持要投诉 就按流程登记 报给支行和消保部门 之后每隔两周给他打个电话 说说最新情况""",
    ),
    _a(
        "c-zh-s2",
        C,
        "zh",
        3,
        "listen explain options no_promise review_records escalate",
        """
        那个 首先态度一定要好 客户亏了钱心里不舒服 我会先把他请到贵宾室 倒杯水 让他慢慢说
        然后我会拿数据跟他分析 这次亏损主要是市场整体下跌 同类产品也都跌了
        接下来我会根据他现在的情况给他两个选择 一个是继续持有 一个是部分赎回
        另外 我会查一下当初他买的时候评估是什么等级 有没有录音录像
        如果是我们这边流程上有问题 要如实报给领导 走正式流程处理 绝对不能自己口头答应赔钱""",
    ),
    _a(
        "c-zh-s3",
        C,
        "zh",
        3,
        "listen explain options follow_up no_promise review_records escalate",
        """
        我会先跟客户说 我非常理解您现在的感受 然后跟他一起复盘 这只基金今年主要是哪几个行业拖累的 基金经理后面有什么打算
        我可能会建议他定投摊低成本 或者换一部分到固收类 同时我要核实当时的适当性流程是不是都做到位了 这些都要留痕
        投诉也要登记报上去 不能私了 后面我会定期打电话问问他""",
    ),
    _a(
        "c-zh-m1",
        C,
        "zh",
        2,
        "listen explain",
        """
        嗯 我会先跟客户道歉 然后跟他解释市场有波动 基金涨涨跌跌很正常 让他不要太担心 长期拿着应该会涨回来的""",
    ),
    _a(
        "c-zh-m2",
        C,
        "zh",
        2,
        "listen explain options",
        """
        我会先听客户说 看看他具体亏了多少 然后帮他分析一下原因 再看看有没有别的产品更适合他 可以换一下""",
    ),
    _a(
        "c-zh-m3",
        C,
        "zh",
        2,
        "review_records escalate",
        """
        这种情况我会先去查一下当时卖给他的时候 风险评估和录音录像都有没有做 如果都做了 就跟客户说明这是正常的市场风险
        如果他还是不满意 就交给领导处理""",
    ),
    _a(
        "c-zh-w1",
        C,
        "zh",
        1,
        "",
        """
        呃 那我就 就是 跟客户好好说 让他别生气 态度好一点 嗯 应该就没事了""",
    ),
    _a(
        "c-zh-w2",
        C,
        "zh",
        1,
        "",
        """
        客户亏钱了那也没办法 投资本来就有风险 买之前都说过的 他签了字的 所以这个不是我们的责任""",
    ),
    _a(
        "c-zh-w3",
        C,
        "zh",
        1,
        "",
        """
        我可能会跟他说 下次帮他挑一个更好的产品 把亏的赚回来 让他放心""",
    ),
    _a(
        "c-zh-o1",
        C,
        "zh",
        0,
        "",
        """
        我觉得我最大的优点是比较细心 做事情很有条理 缺点就是有时候太追求完美了""",
    ),
    _a(
        "c-zh-o2",
        C,
        "zh",
        0,
        "",
        """
        嗯 我老家是湖南的 大学在武汉读的 毕业以后想留在深圳发展""",
    ),
    _a(
        "c-zh-o3",
        C,
        "zh",
        0,
        "",
        """
        这个问题我没有遇到过 我想想 嗯 我能不能跳过这一题""",
    ),
    # -- complaint_loss, English ----------------------------------------------------
    _a(
        "c-en-s1",
        C,
        "en",
        3,
        "listen explain options follow_up no_promise review_records escalate",
        """
        um first I'd let the client vent and not interrupt and tell them I get why they're upset nobody likes losing
        money once they've calmed down a bit I'd pull up the fund's recent performance and holdings and walk them
        through what actually happened like the bond market sell off this quarter then I'd give them a few options
        hold and wait for a recovery or move part of it into something less volatile what I wouldn't do is promise to
        make up the loss just to calm them down that's against the rules I'd also go back and check their risk
        questionnaire and the call recording from when they bought and if they still want to complain I'd log it
        properly and pass it to my branch manager and the customer protection team and I'd call them every couple of
        weeks after that""",
    ),
    _a(
        "c-en-s2",
        C,
        "en",
        3,
        "listen explain options no_promise review_records escalate",
        """
        so the first thing is attitude the client's lost money so I'd take them somewhere quiet get them a coffee and
        let them talk. then I'd show them the numbers the whole market dropped similar funds lost about the same.
        then based on where they are now I'd lay out two choices keep holding or partially redeem. I'd also look up
        what risk level they were rated at purchase and whether the sale was recorded if something was off on our
        side I'd report it up honestly and go through the official process never just verbally telling them they'll
        get their money back""",
    ),
    _a(
        "c-en-s3",
        C,
        "en",
        3,
        "listen explain options follow_up no_promise review_records escalate",
        """
        I'd start by saying I completely understand how frustrating this is then go through with them which sectors
        dragged the fund down this year and what the manager plans to do I might suggest averaging in over time or
        switching some into fixed income at the same time I need to verify the suitability steps were all done at
        the time and document everything the complaint has to be registered and sent up no settling it privately and
        I'd phone them every so often afterwards""",
    ),
    _a(
        "c-en-m1",
        C,
        "en",
        2,
        "listen explain",
        """
        um I'd apologize to the client first and explain that markets go up and down that's normal for funds and tell
        them not to worry too much if they hold it long term it should come back""",
    ),
    _a(
        "c-en-m2",
        C,
        "en",
        2,
        "listen explain options",
        """
        I'd hear the client out first see how much they actually lost then help them figure out why and then see if
        there's another product that suits them better maybe switch""",
    ),
    _a(
        "c-en-m3",
        C,
        "en",
        2,
        "review_records escalate",
        """
        I'd first check whether the risk questionnaire and recording were done when we sold it to them if everything
        was done I'd explain it's normal market risk and if they're still unhappy I'd hand it over to my manager""",
    ),
    _a(
        "c-en-w1",
        C,
        "en",
        1,
        "",
        """
        uh I'd just you know talk to them nicely tell them not to be angry be polite and um it should be fine""",
    ),
    _a(
        "c-en-w2",
        C,
        "en",
        1,
        "",
        """
        well if the client lost money there's not much you can do investing has risks we told them before they
        signed so it's not really our responsibility""",
    ),
    _a(
        "c-en-w3",
        C,
        "en",
        1,
        "",
        """
        I'd probably tell them next time I'll pick a better product for them and we'll earn it back so don't worry""",
    ),
    _a(
        "c-en-o1",
        C,
        "en",
        0,
        "",
        """
        I think my biggest strength is that I'm detail oriented and organized my weakness is that sometimes I'm a bit
        of a perfectionist""",
    ),
    _a(
        "c-en-o2",
        C,
        "en",
        0,
        "",
        """
        um I'm from Hunan I went to university in Wuhan and after graduating I'd like to build my career in Shenzhen""",
    ),
    _a(
        "c-en-o3",
        C,
        "en",
        0,
        "",
        """
        I haven't run into this before let me think um can I skip this one""",
    ),
]


# Small talk: not an answer to any interview question. Used (with the
# off-topic answers above) to set the answer-relevance gate in
# scoring/content.py, and checked in test_scoring_content.py.
SMALL_TALK: list[tuple[str, str]] = [
    ("我周末一般睡到自然醒 然后出去吃个早午饭", "zh"),
    ("最近在学做饭 番茄炒蛋做得还可以", "zh"),
    ("我家养了一只猫 特别黏人", "zh"),
    ("去年夏天我们全家去了云南旅游 风景特别好", "zh"),
    ("我大学的毕业论文写的是供应链管理", "zh"),
    ("嗯 我比较喜欢安静 平时看看小说听听音乐", "zh"),
    ("我觉得我性格比较外向 朋友挺多的", "zh"),
    ("地铁早上特别挤 我一般提前半小时出门", "zh"),
    ("我手机用了三年了 电池不太行了", "zh"),
    ("最近天气转凉了 要多穿点衣服", "zh"),
    ("我打算明年考个研究生", "zh"),
    ("我爸妈都是老师 从小对我要求比较严格", "zh"),
    ("我跑过一次半程马拉松 跑完腿疼了一个星期", "zh"),
    ("周末和朋友去唱歌 玩得很开心", "zh"),
    ("我在学校当过图书馆的志愿者", "zh"),
    ("今天天气不错 我们下午去公园走走吧", "zh"),
    ("我最喜欢吃的是我妈妈做的红烧肉", "zh"),
    ("嗯 这个周末我打算在家看电影 好好休息一下", "zh"),
    ("我的电脑最近老是死机 可能要换一台了", "zh"),
    ("I usually sleep in on weekends and then go out for brunch", "en"),
    ("I've been learning to cook lately my fried rice is getting better", "en"),
    ("we have a cat at home and she's really clingy", "en"),
    ("last summer my family went to Yunnan the scenery was amazing", "en"),
    ("my thesis was about supply chain management", "en"),
    ("um I'm more of a quiet person I read novels and listen to music", "en"),
    ("I think I'm pretty outgoing I have lots of friends", "en"),
    ("the subway is really crowded in the morning so I leave early", "en"),
    ("my phone is three years old and the battery is dying", "en"),
    ("it's getting colder so I need to wear more layers", "en"),
    ("I'm planning to apply for a master's next year", "en"),
    ("both my parents are teachers so they were strict with me", "en"),
    ("I ran a half marathon once and my legs hurt for a week", "en"),
    ("we went to karaoke with friends at the weekend it was fun", "en"),
    ("I volunteered at the school library", "en"),
    ("the weather is lovely today let's go for a walk in the park", "en"),
    ("my favourite food is my mum's braised pork", "en"),
    ("um this weekend I'm just going to stay in and watch movies", "en"),
    ("my laptop keeps freezing I probably need a new one", "en"),
]


# -- transcript events from text ---------------------------------------------------

_HAN = re.compile(r"[\u4e00-\u9fff]")
_EN_OPENERS = {"so", "and", "then", "but", "i", "i'd", "we", "he", "she", "they", "because", "if", "when"}
_ZH_WORD = re.compile(r"[\u4e00-\u9fff]{1,2}|[^\s\u4e00-\u9fff]+")


def transcript_finals(
    text: str,
    language: str,
    *,
    start: float = 0.0,
    unit_s: float | None = None,
    phrase_gap_s: float = 0.3,
    utterance_gap_s: float = 0.9,
    utterance_units: int | None = None,
    first_id: int = 1,
) -> list[dict[str, Any]]:
    """``transcript.final`` payloads for ``text`` as if spoken and recognised.

    Mandarin: Whisper-like words of one or two Hanzi, ``unit_s`` per Hanzi, a
    ``phrase_gap_s`` pause where the text has a space. English: one word per
    token, ``unit_s`` per word, no pauses (ASR text without punctuation is
    the hard case). Utterances (VAD turns) break at a phrase boundary after
    ``utterance_units`` units.
    """
    zh = language == "zh"
    unit_s = unit_s if unit_s is not None else (0.2 if zh else 0.33)
    utterance_units = utterance_units or (30 if zh else 22)
    phrases = text.split()
    utterances: list[list[dict[str, Any]]] = [[]]
    t = start
    units = 0
    for phrase in phrases:
        if zh:
            pieces = _ZH_WORD.findall(phrase)
        else:
            pieces = [phrase]
        # a VAD turn ends at a pause: after a phrase in Mandarin, before a
        # clause-opening word in English (or when it has run long)
        pause_here = zh or phrase.lower() in _EN_OPENERS or units >= 2 * utterance_units
        if units >= utterance_units and utterances[-1] and pause_here:
            utterances.append([])
            units = 0
            t += utterance_gap_s - (phrase_gap_s if zh else 0.0)
        for piece in pieces:
            n = len(_HAN.findall(piece)) if zh else 1
            n = max(1, n)
            word = piece if zh else " " + piece
            utterances[-1].append(
                {"word": word, "start": round(t, 3), "end": round(t + n * unit_s, 3), "probability": 0.9}
            )
            t += n * unit_s
            units += n
        if zh:
            t += phrase_gap_s
    out = []
    for i, words in enumerate(u for u in utterances if u):
        text_out = "".join(w["word"] for w in words).strip()
        out.append(
            {
                "utterance_id": first_id + i,
                "text": text_out,
                "language": language,
                "language_probability": 0.99,
                "start": round(words[0]["start"] - 0.2, 3),
                "end": round(words[-1]["end"] + 0.2, 3),
                "words": words,
                "model": "base",
            }
        )
    return out


# -- checks on the data itself -----------------------------------------------------


def _rubric_texts(question: Question) -> list[str]:
    assert question.rubric is not None
    texts: list[str] = []
    for competency in question.rubric.competencies:
        for point in competency.points:
            texts += [point.text.zh or "", point.text.en or "", *point.paraphrases]
        texts += competency.strong_examples + competency.weak_examples
    return texts


def test_answers_are_labelled_for_both_languages_and_questions() -> None:
    for question in QUESTIONS.values():
        for language in ("zh", "en"):
            answers = [a for a in ANSWERS if a.question == question.id and a.language == language]
            assert len(answers) >= 10
            assert {a.label for a in answers} == {0, 1, 2, 3}
            point_ids = {p.id for c in question.rubric.competencies for p in c.points}  # type: ignore[union-attr]
            for answer in answers:
                assert answer.covers <= point_ids, answer.key


def test_answers_do_not_copy_rubric_text() -> None:
    """No answer shares 6 Hanzi or 5 words in a row with any rubric phrasing."""
    for answer in ANSWERS:
        for text in _rubric_texts(QUESTIONS[answer.question]):
            if answer.language == "zh":
                a = "".join(_HAN.findall(answer.text))
                b = "".join(_HAN.findall(text))
                grams = {b[i : i + 6] for i in range(len(b) - 5)}
                assert not any(g in a for g in grams), (answer.key, text)
            else:
                a_words = re.findall(r"[a-z']+", answer.text.lower())
                b_words = re.findall(r"[a-z']+", text.lower())
                grams_en = {tuple(b_words[i : i + 5]) for i in range(len(b_words) - 4)}
                assert not any(tuple(a_words[i : i + 5]) in grams_en for i in range(len(a_words) - 4)), (
                    answer.key,
                    text,
                )


def test_transcript_finals_shape() -> None:
    finals = transcript_finals(ANSWERS[0].text, "zh")
    assert len(finals) > 2
    words = [w for f in finals for w in f["words"]]
    assert all(a["end"] <= b["start"] for a, b in itertools.pairwise(words))
    assert "".join(w["word"] for w in words) == "".join(ANSWERS[0].text.split())
