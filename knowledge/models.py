"""The catalogue schema: one `Theme` per official "one thing".

These pydantic models are the contract between the importer (which writes them
as YAML under ``knowledge/catalogue/``), the search, the action server and the
gateway. Field names are English; values keep the official Chinese text.
Where an official code's meaning is not known, the raw value is kept in a
``raw_*`` field and never guessed.
"""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Provenance(str, Enum):
    """Where a record's facts come from."""

    county = "county"  # 邵阳县本级 (or one of its townships) published this guide
    other_region = "other_region"  # another region's guide, shown with a caveat
    names_only = "names_only"  # the export has no guide: only the official name is known
    hand_written = "hand_written"  # not in the provincial list; written from public sources


class Necessity(str, Enum):
    """Official ``clbyx``: is the material always needed?"""

    always = "always"  # clbyx=1
    conditional = "conditional"  # clbyx=2: only in the case described by `condition`
    commitment_allowed = "commitment_allowed"  # clbyx=3 (inferred: 容缺/承诺制)
    unknown = "unknown"  # any other raw value; see Material.raw_necessity


class Region(_Model):
    name: str  # e.g. 邵阳县, 塘渡口镇, 邵阳市
    area_code: str | None = None  # e.g. 430523999000
    is_county_own: bool  # True for 邵阳县本级 and its townships
    caveat: str | None = None  # shown to the user when the guide is not the county's own


class Department(_Model):
    lead: str | None = None  # 牵头部门 (basicInfo.qtbmmc)
    cooperating: list[str] = Field(default_factory=list)  # 协同部门 (basicInfo.cooperateName)


class Phones(_Model):
    consult: str | None = None  # 咨询电话 (basicInfo.zxdh)
    complaint: str | None = "0739-12345"  # 监督投诉电话 (basicInfo.jdtsdh)
    note: str | None = None  # e.g. says the numbers are general county lines, not this matter's own


class Place(_Model):
    name: str
    address: str | None = None
    hours: str | None = None
    note: str | None = None  # e.g. 通用咨询窗口, not a dedicated window for this matter


class Online(_Model):
    status: str | None = None  # official text, e.g. 可全程网办 / 网上可办 / 面签 / 无
    fully_online: bool | None = None  # None when the official text does not say
    onsite_visits: int | None = None  # basicInfo.aheadFrequency
    channels: list[str] = Field(default_factory=list)  # e.g. 湖南政务服务网, 湘易办APP
    urls: list[str] = Field(default_factory=list)
    raw_online_channels: str | None = None  # xsblqd as published (code meanings unknown), e.g. "1,2"
    raw_supported_channels: str | None = None  # zcblqd as published (code meanings unknown)
    offline_note: str | None = None  # 线下办理说明 (xxbldsm)
    result_delivery: str | None = None  # 结果送达说明 (jgsdsm), e.g. 可邮寄


class TimeLimit(_Model):
    raw: str | None = None  # the official value exactly as published, e.g. "5"
    working_days: int | None = None  # parsed when raw is a plain number
    display: str | None = None  # 承诺5个工作日（以官网为准）


class Fee(_Model):
    charged: bool | None = None  # basicInfo.isCharge == "1"
    items: list[str] = Field(default_factory=list)  # "FEENAME：FEESTAND" per chargelist row
    display: str  # 不收费 / 收费：… / 以官网为准


class Material(_Model):
    name: str  # clmc
    necessity: Necessity
    raw_necessity: str | None = None  # clbyx as published
    condition: str | None = None  # 填报须知 (tbxz): the case in which it is needed
    form: str | None = None  # 原件/复印件/电子 as far as the data says (clxs decoded, raw kept below)
    raw_form: str | None = None
    kind: str | None = None  # clxz decoded: 申请表 / 证照 / 证明文书 / 其他
    raw_kind: str | None = None  # clxz as published
    issuer: str | None = None  # cllyqdsm, e.g. 申请人自备 / 政府部门核发
    copies: int | None = None  # zzclfs
    spec: str | None = None  # zzclgg, e.g. 2寸白底彩照
    exempt_by_e_licence: bool = False  # mtjfs in (2, 3): the system checks the e-licence
    exemption_note: str | None = None  # mtjfssm
    raw_exemption: str | None = None  # mtjfs as published
    has_blank_form: bool = False
    has_sample: bool = False


class SubMatter(_Model):
    name: str  # approveList.lbsxfwmc
    time_limit_days: float | None = None  # cnsxsx
    result: str | None = None  # resultSampleName


class FAQ(_Model):
    question: str
    answer: str


class Condition(_Model):
    text: str  # bltj
    scope: str | None = None  # smmc ("/" dropped)


class ReformFigures(_Model):
    """Before (gq…) and after (xz…) the reform, from onethingCatalogStandServiceGuide."""

    days_before: float | None = None
    days_after: float | None = None
    trips_before: float | None = None
    trips_after: float | None = None
    materials_before: float | None = None
    materials_after: float | None = None
    steps_before: float | None = None
    steps_after: float | None = None


class Theme(_Model):
    code: str  # official theme code, e.g. 43PCN0009 (hand-written ones: SYX-…)
    title: str
    audience: str | None = None  # 个人 / 法人
    domain: str | None = None  # e.g. 出生与家庭, 企业经营
    provenance: Provenance
    region: Region | None = None
    summary: str | None = None  # one plain sentence on what it bundles
    department: Department = Field(default_factory=Department)
    phones: Phones = Field(default_factory=Phones)
    places: list[Place] = Field(default_factory=list)
    online: Online = Field(default_factory=Online)
    time_limit: TimeLimit = Field(default_factory=TimeLimit)
    fee: Fee | None = None
    conditions: list[Condition] = Field(default_factory=list)
    materials: list[Material] = Field(default_factory=list)
    materials_note: str | None = None  # e.g. the source publishes an empty list
    sub_matters: list[SubMatter] = Field(default_factory=list)
    faq: list[FAQ] = Field(default_factory=list)
    process: str | None = None  # bllctsm
    reform: ReformFigures | None = None
    official_url: str | None = None
    checklist_id: str | None = None  # source checklist id (file name)
    implementation_code: str | None = None  # 实施编码 (yjsSsqdbm), e.g. 43PCN0009225J0523
    source_file: str | None = None  # path relative to the data folder
    notes: list[str] = Field(default_factory=list)  # honest notes: unknown codes, caveats
    phrasings: list[str] = Field(default_factory=list)  # how citizens say it (merged from phrasings/)
