"""Reading a typed answer to one personal-checklist question.

``read_answer(fact_key, offered_values, text)`` returns the value the person means, or None
when the text does not answer the question. ``is_skip(text)`` tells "I don't know / skip".

How a text is read (text normalised first: NFKC, lower case, no spaces, 十八 → 18):

1. ``READERS``: a few facts have a small reader for what a phrase list cannot say (an age in
   years for ``is_minor`` and ``has_minor_children``; two different ethnic groups named for
   ``parents_same_ethnicity``).
2. Phrases: each fact's ``ALIASES`` (everyday and Xiang-dialect words per value) plus the
   button titles of ``FACTS`` (with and without their bracketed part). Occurrences are taken
   longest first (then leftmost), without overlap; the first one that yields an offered value
   decides. A phrase is negated when directly preceded by a negator (``不 没 冇 未 无 莫 非``,
   optionally followed by ``有 得 是 被 在 太``: 不是, 没有, 冇得, 没被…) or directly followed
   by ``没有 / 冇得 / 不是 / 没空…`` (担保人冇得, 低保户不是, 妈妈没空): a yes/no fact's value
   flips, a choice fact's phrase is ignored. A negation inside the phrase is part of the alias
   (没离婚, 未满18, 没结婚, 没办过 are aliases in their own right).
   A phrase listed under several values of a choice fact means the first of them that the
   question offers (老公: the child's father when asking about a child's parents, else 配偶).
3. Yes/no facts only, when no phrase matched: positive idioms (没问题, 没错…) count as yes (they
   are removed before anything else is read); then any negator means no; else a yes word (是,
   对, 有, 嗯, 要得, ok…) means yes.

Only values in ``offered_values`` (a question may offer a subset of a fact's options; values
as button values: ``"true"``/``"false"`` or the value key) are ever returned.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Mapping
from functools import cache

from knowledge.checklist_rules import FACTS, FactValue, value_key

# --------------------------------------------------------------------------- skip words

SKIP_WORDS: tuple[str, ...] = (
    # "I don't know"
    "不晓得",
    "晓不得",
    "不知道",
    "不清楚",
    "不太清楚",
    "不大清楚",
    "不是很清楚",
    "搞不清",
    "弄不清",
    "说不清",
    "讲不清",
    "不确定",
    "不太确定",
    "说不准",
    "讲不准",
    "不好说",
    "难说",
    "不太晓得",
    "不太知道",
    "不了解",
    "记不得",
    "不记得",
    "记不清",
    "没印象",
    "冇印象",
    # "skip"
    "跳过",
    "下一个",
    "下一题",
    "不管它",
    "随便",
    "无所谓",
    "skip",
    "not sure",
    "don't know",
    "dont know",
    "idk",
)

# --------------------------------------------------------------------------- phrase tables

Aliases = Mapping[FactValue, tuple[str, ...]]

# Button titles are added automatically. Keep a phrase under the value it states; a negated
# form is only needed when the negation is not directly before the phrase (还没满18 is fine as
# 没满18; 冇做体检 needs its own alias because 做 stands between).
# fmt: off
ALIASES: Mapping[str, Aliases] = {
    "applicant": {
        "self": ("本人", "我自己", "自己", "亲自", "我来办", "我去办"),
        "mother": (
            "妈妈", "母亲", "老妈", "我妈", "他妈", "她妈", "孩子他妈", "伢子他妈", "伢他妈",
            "孩子妈", "伢子妈", "堂客", "老婆", "媳妇", "妻子",
        ),
        "father": (
            "爸爸", "父亲", "老爸", "我爸", "他爸", "她爸", "孩子他爸", "伢子他爸", "伢他爸",
            "孩子爸", "伢子爸", "老公", "老倌子", "老倌", "男人", "丈夫",
        ),
        "spouse": ("配偶", "爱人", "老公", "老婆", "堂客", "丈夫", "妻子", "媳妇"),
        "adoptive_parent": ("养父母", "养父", "养母", "收养", "领养", "抱养"),
        "guardian": (
            "爷爷", "奶奶", "外公", "外婆", "娭毑", "爹爹", "嗲嗲", "姥姥", "姥爷",
            "叔叔", "伯伯", "姑姑", "舅舅", "姨妈", "哥哥", "姐姐", "其他监护人", "监护人",
        ),
        "appointed_guardian": ("指定的监护人", "指定监护人", "村委会", "居委会", "村里", "法院", "民政"),
        "institution": ("儿童福利机构", "福利机构", "福利院", "孤儿院"),
        "agent": ("委托", "代办", "托人", "代理", "帮我办", "帮忙办", "别人办", "中介", "朋友"),
    },
    "parents_same_ethnicity": {
        True: ("同一个民族", "一个民族", "同一民族", "民族一样", "一样的民族", "民族相同", "同族",
               "都是", "也是", "一样", "相同", "同一个"),
        False: ("民族不同", "不同民族", "不一样", "不同", "两个民族", "不是一个族"),
    },
    "marital_status": {
        "unmarried": ("未婚", "没结婚", "冇结婚", "没有结婚", "还没结", "没成家", "冇成家", "单身", "未结婚"),
        "married": ("已婚", "结婚", "结了婚", "成家了", "再婚", "复婚", "又结了", "有老婆", "有老公", "有堂客"),
        "divorced": ("离异", "离婚", "离了", "离过婚", "离掉了"),
        "widowed": ("丧偶", "老伴走了", "老伴去世", "老伴过世", "老伴不在了", "守寡", "去世了", "过世了", "走了"),
    },
    "parents_divorced": {
        True: ("离婚", "离了", "离异", "离掉了", "分开了", "离过婚"),
        False: ("没离婚", "冇离婚", "未离婚", "没离", "冇离", "在一起", "没分开", "冇分开"),
    },
    "county_hukou": {
        True: ("本县", "邵阳县", "本地", "这里", "这边", "县里", "塘渡口", "在本县", "在的", "在咯", "在咧", "在呢", "在这"),
        False: (
            "外地", "外省", "外县", "外市", "别的县", "别的地方", "市里", "市区", "外面",
            "隆回", "新邵", "邵东", "洞口", "武冈", "新宁", "城步", "绥宁",
        ),
    },
    "is_minor": {
        True: ("未满18", "没满18", "不满18", "没到18", "不到18", "未到18", "18岁以下", "未成年",
               "小孩", "小朋友", "伢子", "孩子", "细伢子"),
        False: ("满18", "已满18", "满了18", "过了18", "超过18", "18岁以上", "成年", "成年人", "大人"),
    },
    "disability_kind": {
        "vision": ("视力", "眼睛", "看不见", "看不到", "失明", "盲", "瞎", "视障"),
        "hearing": ("听力", "耳朵", "听不见", "听不到", "耳聋", "聋"),
        "speech": ("言语", "说话", "讲话", "哑", "口吃", "结巴"),
        "physical": ("肢体", "腿", "胳膊", "手脚", "截肢", "瘫", "轮椅", "驼背", "走不得路"),
        "intellectual": ("智力", "智障", "弱智", "脑瘫", "唐氏"),
        "mental": ("精神", "抑郁", "躁狂", "自闭", "孤独症"),
        "multiple": ("多重", "好几种", "几种都有", "多种", "都有"),
    },
    "disability_service": {
        "new": ("新办", "第一次办", "首次办", "头一次", "新申请", "办新证", "没办过", "冇办过"),
        "renew": ("到期", "换证", "过期", "期满", "有效期"),
        "replace": ("残损", "破了", "坏了", "烂了", "资料更新", "信息更新", "换新", "改信息", "换照片"),
        "lost": ("遗失", "补办", "丢了", "掉了", "搞丢", "弄丢", "不见了", "搞掉了"),
        "transfer": ("迁移", "迁走", "迁入", "迁出", "迁过来", "转过来", "转走", "户口迁", "迁"),
        "reassess": ("类别或等级变更", "等级变更", "类别变更", "变更等级", "等级", "调级", "评级",
                     "重新评", "重新鉴定", "升级", "降级"),
        "cancel": ("注销", "销证", "去世", "过世", "死了", "不在了"),
    },
    "has_disability": {True: ("残疾人", "残疾", "残疾证", "残疾人证"), False: ()},
    "has_student": {
        True: ("学生", "读书", "上学", "念书", "在读", "大学", "高中", "初中", "小学", "中专", "职高"),
        False: ("毕业了", "都工作了", "都出来做事了"),
    },
    "bank_account_new": {
        True: ("第一次", "首次", "头一次", "换过", "换了", "变了", "新卡", "新账户", "换卡", "改了"),
        False: ("没换", "冇换", "没变", "冇变", "报过", "老账户", "老卡", "一直用", "还是原来"),
    },
    "has_co_borrower": {
        True: ("共同借款人", "共同借款", "借款人", "共借人", "一起借", "一起贷", "共同还款"),
        False: ("一个人借", "我一个人", "就我一个", "只有我", "单独"),
    },
    "has_co_owner": {
        True: ("共有产权人", "共有人", "产权人", "共有", "共同所有", "两个人", "夫妻"),
        False: ("一个人的", "我一个人", "一个人名下", "就我一个", "只有我", "单独", "独有"),
    },
    "has_guarantor": {
        True: ("担保人", "担保", "保人"),
        False: ("不要担保", "不用担保", "不需要担保"),
    },
    "property_type": {
        "new_completed": ("一手现房", "现房", "已经交房", "交了房"),
        "new_off_plan": ("一手期房", "期房", "楼花", "预售", "还没交房", "没交房", "冇交房"),
        "second_hand": ("二手房", "二手", "旧房子", "别人的房子"),
    },
    "is_new_talent": {True: ("新引进", "引进人才", "人才引进", "人才", "引进的"), False: ()},
    "has_minor_children": {
        True: ("未成年", "小孩", "孩子", "伢子", "伢儿", "细伢子", "娃", "崽"),
        False: ("成年了", "都成年", "都大了", "都工作了", "都结婚了"),
    },
    "joins_spouse": {
        True: ("投靠配偶", "投靠老公", "投靠老婆", "投靠爱人", "配偶", "老公", "老婆", "堂客", "爱人",
               "结婚"),
        False: ("投靠父母", "投靠爸妈", "投靠子女", "投靠儿子", "投靠女儿", "投靠亲戚", "买房", "工作调动",
                "读书"),
    },
    "archive_in_public_unit": {
        True: ("机关", "国有", "国企", "事业单位", "政府", "公家单位", "央企"),
        False: ("私企", "私营", "民营", "外企", "个体", "人才市场", "人才中心", "没有档案", "冇得档案"),
    },
    "housing_category": {
        "local_family": ("本地住房困难家庭", "住房困难", "困难家庭", "本地人", "本地户口", "低收入"),
        "migrant_worker": ("外来务工人员", "外来务工", "务工", "打工", "农民工", "外地来"),
        "new_employee": ("新就业无房职工", "新就业", "刚参加工作", "刚工作", "刚毕业", "无房职工"),
        "sanitation_worker": ("环卫工人", "环卫", "清洁工", "扫马路", "扫大街"),
    },
    "is_dibao": {True: ("低保户", "低保", "吃低保"), False: ()},
    "house_demolished": {
        True: ("拆迁过", "拆迁", "被拆", "拆了", "拆过", "征收", "征拆"),
        False: ("没拆", "冇拆"),
    },
    "owns_vehicle": {
        True: ("机动车", "小车", "汽车", "车子", "车", "摩托", "货车", "面包车"),
        False: (),
    },
    "has_business": {
        True: ("营业执照", "执照", "个体户", "个体", "开店", "开公司", "公司", "店子", "门面", "做生意"),
        False: ("打工", "上班"),
    },
    "has_self_built_house": {
        True: ("自建房", "自己建的", "自己盖的", "自己起的", "起了屋", "建了房"),
        False: ("商品房", "租房", "租的"),
    },
    "rental_mode": {
        "in_kind": ("实物配租", "分房子", "分房", "配房", "要房子", "住房子", "实物"),
        "subsidy": ("租赁补贴", "发补贴", "补贴", "发钱", "给钱", "补钱", "租金补助", "货币"),
    },
    "withdraw_reason": {
        "buy_completed": ("买现房", "现房"),
        "down_payment": ("付购房首付款", "首付款", "首付", "首期"),
        "affordable_housing": ("保障性住房", "保障房", "公有住房", "经济适用房", "经适房", "公房", "限价房"),
        "rent_public": ("租公租房", "公租房", "廉租房", "公共租赁"),
        "rent_market": ("租其他房子", "租房", "房租", "租的房", "租别人"),
        "repay_loan": ("还房贷", "房贷", "还贷", "贷款", "月供", "还款"),
    },
    "early_retired": {
        True: ("提前退休", "提前退", "病退", "内退", "特殊工种", "提前"),
        False: ("正常退休", "到龄退休", "按时退休", "到年龄", "到了年纪", "还没退休", "没退休", "冇退休"),
    },
    "rebuild_same_site": {
        True: ("原址重建", "原址", "原地", "原来的地方", "老地方", "原宅基地", "拆旧建新", "拆了重建"),
        False: ("新址", "异地", "换个地方", "换地方", "别的地方", "新宅基地", "另选"),
    },
    "has_mortgage": {
        True: ("抵押", "押在银行", "有贷款", "贷款没还完", "贷款没还清", "还在还贷"),
        False: ("解押", "还清了", "还完了", "全款"),
    },
    "has_health_report": {
        True: ("有了", "体检报告", "验证证明", "做了体检", "体检过", "做过体检", "体检了", "检查过", "做过", "做了"),
        False: ("还冇", "冇做", "没做", "还没做", "未做", "没去做", "还没去"),
    },
    "first_application": {
        True: ("第一次", "首次", "头一次", "没办过", "冇办过", "没申请过", "冇申请过", "新申请", "从来没"),
        False: ("以前办过", "办过", "已备案", "备案", "申请过", "第二次", "再次"),
    },
}
# fmt: on

# --------------------------------------------------------------------------- yes/no words

NEGATORS = "不没冇未无莫非"
_FILLERS = "有得是被在太"
_NEG_BEFORE = re.compile(f"[{NEGATORS}][{_FILLERS}]{{0,2}}$")
_NEG_AFTER = re.compile(
    r"^[也都还倒]?(没有|冇得|没得|冇有|不是|没空|冇空|没时间|冇时间|来不了|去不了|不来|不去)"
)
POSITIVE_IDIOMS = ("没问题", "冇问题", "没得问题", "冇得问题", "没错", "冇错", "不错", "没毛病", "冇毛病")
_NO = re.compile(r"[不没冇未无莫否]|(?<![a-z])(no|nope|not|none)(?![a-z])")
_YES = re.compile(
    r"是|对|有|嗯|恩|要得|要的|可以|当然|肯定|确实|好的|好滴|好嘞|好咧|好啊|行的|行啊"
    r"|^[好行][的啊呀嘞咧哦吧滴哒嘛]*$|(?<![a-z])(yes|ok|okay|yeah|yep|yup)(?![a-z])"
)
_PUNCT = re.compile(r"[，,。.！!？?、~～…；;：:\"“”'‘’（）()]+")

# --------------------------------------------------------------------------- special readers

ETHNIC_GROUPS = tuple(
    "汉族 苗族 瑶族 侗族 回族 土家族 壮族 满族 蒙古族 维吾尔族 藏族 彝族 白族 布依族 畲族 黎族 傣族 朝鲜族".split()
)

_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_AGE = re.compile(
    r"(?<![满过到超\d一二两三四五六七八九十])(\d{1,3}|[一二两三四五六七八九]?十[一二三四五六七八九]?|[一二两三四五六七八九])"
    r"([几多])?周?岁(?!以[上下内]|之[上下])"
)


def _age_range(number: str, more: str | None) -> tuple[int, int]:
    if number.isdigit():
        n = int(number)
    elif "十" in number:
        head, _, tail = number.partition("十")
        n = _CN_DIGITS.get(head, 1) * 10 + _CN_DIGITS.get(tail, 0)
    else:
        n = _CN_DIGITS[number]
    if more:  # 十几岁, 二十多岁, 30多岁
        return (n + 1, n + 9) if n % 10 == 0 else (n, n + 1)
    return n, n


def _read_ages(text: str) -> bool | None:
    """True when an age under 18 is named, False when every age named is 18 or more."""
    ranges = [_age_range(m.group(1), m.group(2)) for m in _AGE.finditer(text)]
    if any(high < 18 for _, high in ranges):
        return True
    if ranges and all(low >= 18 for low, _ in ranges):
        return False
    return None


def _read_ethnic_groups(text: str) -> bool | None:
    """False when two different ethnic groups are named (一个汉族一个苗族)."""
    named = {g for g in ETHNIC_GROUPS if g in text}
    return False if len(named) >= 2 else None


READERS: Mapping[str, Callable[[str], FactValue | None]] = {
    "is_minor": _read_ages,
    "has_minor_children": _read_ages,
    "parents_same_ethnicity": _read_ethnic_groups,
}

# --------------------------------------------------------------------------- reading


def normalise(text: str) -> str:
    """NFKC, lower case, spaces removed (kept between two Latin letters), 十八 → 18."""
    t = unicodedata.normalize("NFKC", text).lower().strip()
    t = re.sub(r"\s+", " ", t)
    t = re.sub(r"(?<![a-z]) | (?![a-z])", "", t)
    return re.sub(r"(?<![一二两三四五六七八九])十八", "18", t)


def is_skip(text: str) -> bool:
    """The person does not know or wants to skip the question."""
    t = normalise(text)
    return any(w in t for w in SKIP_WORDS)


def _without_bracket(title: str) -> str:
    return re.sub(r"（[^）]*）|\([^)]*\)", "", title).strip()


@cache
def _phrases(fact_key: str) -> tuple[tuple[str, tuple[FactValue, ...]], ...]:
    """(phrase, values in table order) for one fact: the aliases and the button titles."""
    spec = FACTS[fact_key]
    values: dict[str, list[FactValue]] = {}

    def add(phrase: str, value: FactValue) -> None:
        phrase = normalise(phrase)
        if phrase and value not in values.setdefault(phrase, []):
            values[phrase].append(value)

    table = ALIASES.get(fact_key, {})
    for value, _title in spec.options:
        for alias in table.get(value, ()):
            add(alias, value)
    for value, title in spec.options:
        add(title, value)
        add(_without_bracket(title), value)
    return tuple((p, tuple(v)) for p, v in values.items())


def _occurrences(fact_key: str, text: str) -> list[tuple[int, int, tuple[FactValue, ...]]]:
    """Non-overlapping phrase occurrences, longest first (then leftmost)."""
    found = []
    for phrase, values in _phrases(fact_key):
        start = text.find(phrase)
        while start != -1:
            found.append((start, start + len(phrase), values))
            start = text.find(phrase, start + 1)
    found.sort(key=lambda o: (o[0] - o[1], o[0]))
    taken = [False] * len(text)
    out = []
    for start, end, values in found:
        if not any(taken[start:end]):
            taken[start:end] = [True] * (end - start)
            out.append((start, end, values))
    return out


def _negated(text: str, start: int, end: int) -> bool:
    return bool(_NEG_BEFORE.search(text[:start]) or _NEG_AFTER.search(text[end:]))


def _without_idioms(text: str) -> tuple[str, bool]:
    """The text without positive idioms (没错, 没问题…), and whether it had one."""
    had = False
    for idiom in POSITIVE_IDIOMS:
        if idiom in text:
            had = True
            text = text.replace(idiom, "，")
    return text, had


def _read_yes_no(text: str, had_idiom: bool) -> bool | None:
    if _NO.search(text):
        return False
    if had_idiom or _YES.search(_PUNCT.sub("", text)):
        return True
    return None


def read_answer(
    fact_key: str, offered_values: Collection[str], text: str, phrases_only: bool = False
) -> FactValue | None:
    """The offered value a typed answer to ``fact_key``'s question means, or None. With
    ``phrases_only`` a yes/no fact is read from its own phrases (step 1 and 2) only, never from a
    bare yes or no word: for a message that is not an answer to this fact's question."""
    spec = FACTS.get(fact_key)
    if spec is None:
        return None
    offered = {value_key(v) if isinstance(v, bool) else str(v) for v in offered_values}
    t = normalise(text)
    if not t:
        return None
    had_idiom = False
    if spec.is_bool:  # 没错 / 没问题 are yes words, not negations
        t, had_idiom = _without_idioms(t)

    reader = READERS.get(fact_key)
    if reader is not None:
        value = reader(t)
        if value is not None:
            return value if value_key(value) in offered else None

    for start, end, values in _occurrences(fact_key, t):
        negated = _negated(t, start, end)
        if spec.is_bool:
            value = values[0] if not negated else not values[0]
            return value if value_key(value) in offered else None
        if negated:
            continue
        for value in values:
            if value_key(value) in offered:
                return value

    if spec.is_bool and not phrases_only:
        value = _read_yes_no(t, had_idiom)
        if value is not None and value_key(value) in offered:
            return value
    return None
