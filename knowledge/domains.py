"""Fixed domain (life-event / business area) for every official theme code.

The mapping is hand-made from the official names; it is a navigation aid, not
official data. ``OFFICIAL_CODES`` doubles as the list of the 58 provincial theme
codes that must all be present in the catalogue.
"""

from __future__ import annotations

DOMAINS: tuple[str, ...] = (
    "出生与家庭",
    "教育",
    "就业社保",
    "医疗",
    "民生救助",
    "住房不动产",
    "企业经营",
    "工程建设",
    "交通出行",
    "消费补贴",
    "农村",
    "其他",
)

THEME_DOMAINS: dict[str, str] = {
    "43PCC0001": "就业社保",  # 大学生就业创业落户
    "43PCN0009": "出生与家庭",  # 新生儿出生
    "43PCN0010": "教育",  # 教育入学
    "43PCN0011": "就业社保",  # 社会保障卡居民服务
    "43PCN0012": "民生救助",  # 残疾人服务
    "43PCN0013": "就业社保",  # 退休
    "43PCP0001": "住房不动产",  # 公积金贷款购房
    "43PCP0002": "住房不动产",  # 公租房
    "43PCP0003": "民生救助",  # 退役军人服务
    "43PCP0004": "教育",  # 留学服务
    "43PCP0006": "医疗",  # 就医费用报销
    "43PCP0007": "出生与家庭",  # 结婚落户
    "43PCP0008": "出生与家庭",  # 个人身后
    "43PCP0010": "就业社保",  # 个人创业
    "43PCP0011": "消费补贴",  # 家电以旧换新
    "43PCP0012": "消费补贴",  # 汽车以旧换新
    "43PCP0014": "交通出行",  # 新车上牌
    "43PCP0015": "就业社保",  # 登记失业人员就业帮扶
    "43PCP0016": "出生与家庭",  # 居民信息变更
    "43PCP0017": "民生救助",  # 社会救助
    "43PCP0018": "其他",  # 进出境邮件通关
    "43PCP0019": "交通出行",  # 公安交管服务
    "43PCP0020": "消费补贴",  # 境外旅客离境购物退税
    "43PCP0021": "就业社保",  # 灵活就业参保
    "43PCP0022": "出生与家庭",  # 育儿补贴
    "43PCP0023": "住房不动产",  # 提取住房公积金
    "43PCP0024": "其他",  # 家政信用信息查询
    "43PCP0025": "住房不动产",  # 新房购置
    "43PCP0028": "教育",  # 教师资格认定
    "43TC1700200Y": "工程建设",  # 经营性项目验收开业
    "43TC18001000": "交通出行",  # 大件运输
    "43TC2000100Y": "农村",  # 农村建房
    "43TC2300100Y": "医疗",  # 就医
    "43TCN0001": "企业经营",  # 企业信息变更
    "43TCN0002": "企业经营",  # 开办运输企业
    "43TCN0003": "企业经营",  # 开办餐饮店
    "43TCN0004": "企业经营",  # 水电气网联合报装
    "43TCN0005": "企业经营",  # 信用修复
    "43TCN0006": "企业经营",  # 企业上市合法合规信息核查
    "43TCN0007": "企业经营",  # 企业破产信息核查
    "43TCN0008": "企业经营",  # 企业注销登记
    "43TCP0005": "企业经营",  # 企业数据填报
    "43TCP0006": "企业经营",  # 企业迁移
    "43TCP0008": "企业经营",  # 科技成果转化
    "43TCP0009": "企业经营",  # 个体工商户转型为企业
    "43TCP0010": "工程建设",  # 固定资产投资项目审批
    "43TCP0011": "工程建设",  # 建设项目开工
    "43TCP0012": "企业经营",  # 外国人来华
    "43TCP0013": "企业经营",  # 合格境外投资者资格审批
    "43TCP0014": "就业社保",  # 员工录用
    "43TCP0015": "工程建设",  # 建设项目联合验收
    "43TCP0016": "工程建设",  # 对外承包工程一般项目备案
    "43TCP0017": "企业经营",  # 企业融资服务
    "43TCP0018": "企业经营",  # 开办超市、便利店
    "43TCP0019": "企业经营",  # 科技型企业创新政策扶持
    "43TCP0020": "其他",  # 举办体育赛事活动
    "43TCP0021": "住房不动产",  # 企业购置不动产转移登记
    "43TCP0022": "企业经营",  # 知识产权保护
}

OFFICIAL_CODES: tuple[str, ...] = tuple(sorted(THEME_DOMAINS))

HAND_WRITTEN_PREFIX = "SYX-"


def domain_for(code: str) -> str:
    """The domain of an official code; ``其他`` for codes not in the mapping."""
    return THEME_DOMAINS.get(code, "其他")


def audience_for(code: str) -> str | None:
    """个人 / 法人 from the official code prefix (43PC… personal, 43TC… business)."""
    if code.startswith("43PC"):
        return "个人"
    if code.startswith("43TC"):
        return "法人"
    return None
