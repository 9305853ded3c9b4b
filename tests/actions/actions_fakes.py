"""Test doubles for the action tests: catalogue records and a fake knowledge service."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from knowledge.models import (
    Department,
    Fee,
    Material,
    Necessity,
    Online,
    Phones,
    Provenance,
    Region,
    Theme,
    TimeLimit,
)


@dataclass
class FakeHit:
    code: str
    title: str
    score: float


@dataclass
class FakeAnswer:
    verdict: str
    hits: list[FakeHit]


@dataclass
class FakeResolution:
    """Stands in for knowledge.resolve.Resolution."""

    verdict: str
    themes: list[FakeHit] = field(default_factory=list)
    kind: str | None = None
    department: str | None = None
    about: FakeHit | None = None
    reason: str = "fake"


# How a canned `match` answer reads as a resolution (the fake decides nothing else).
_AS_RESOLUTION = {"sure": "sure", "ambiguous": "choose", "none": "none"}


@dataclass
class FakeService:
    """Answers `resolve` (and `match`) from tables of canned answers; records every call.
    ``resolutions`` are returned as they are; otherwise a canned ``answers`` entry is read as a
    resolution (sure -> sure, ambiguous -> choose, none -> none)."""

    themes: dict[str, Theme]
    answers: dict[str, FakeAnswer] = field(default_factory=dict)
    resolutions: dict[str, FakeResolution] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    fail: bool = False

    def resolve(self, text: str) -> FakeResolution:
        self.calls.append(("resolve", text))
        if self.fail:
            raise RuntimeError("index not built")
        if text in self.resolutions:
            return self.resolutions[text]
        answer = self.answers.get(text, FakeAnswer("none", []))
        verdict = _AS_RESOLUTION[answer.verdict]
        return FakeResolution(verdict=verdict, themes=list(answer.hits) if verdict != "none" else [])

    def match(self, query: str, k: int = 3) -> FakeAnswer:
        self.calls.append(("match", query))
        if self.fail:
            raise RuntimeError("index not built")
        return self.answers.get(query, FakeAnswer("none", []))

    def get(self, code: str) -> Theme | None:
        self.calls.append(("get", code))
        if self.fail:
            raise RuntimeError("index not built")
        return self.themes.get(code)

    def hit(self, code: str, score: float = 0.9) -> FakeHit:
        return FakeHit(code=code, title=self.themes[code].title, score=score)


def _birth() -> Theme:
    return Theme(
        code="43PCN0009",
        title="新生儿出生一件事",
        provenance=Provenance.county,
        region=Region(name="邵阳县", area_code="430523999000", is_county_own=True),
        department=Department(lead="邵阳县卫生健康局", cooperating=["县公安局"]),
        phones=Phones(consult="0739-6810891"),
        online=Online(status="可全程网办", fully_online=True, channels=["湖南政务服务网", "湘易办APP"]),
        time_limit=TimeLimit(raw="5", working_days=5, display="承诺5个工作日（以官网为准）"),
        fee=Fee(charged=False, display="不收费"),
        materials=[
            Material(
                name="新生儿民族成份申请",
                necessity=Necessity.conditional,
                condition="父母双方是不同民族时提供。其他情况不用。",
            ),
            Material(name="父母身份证", necessity=Necessity.always, condition="内容真实"),
            Material(name="居民户口簿", necessity=Necessity.always),
            Material(name="父母身份证", necessity=Necessity.conditional, condition="重复出现的材料只列一次"),
            Material(
                name="母亲授权委托书",
                necessity=Necessity.conditional,
                condition="父亲代为申请时，需要提供父母双方签字的授权委托书，并同时携带母亲的有效身份证件原件以便核对",
            ),
            Material(name="银行卡", necessity=Necessity.unknown),
        ],
    )


def _study_abroad() -> Theme:
    return Theme(
        code="43PCP0004",
        title="留学服务“一件事”",
        provenance=Provenance.other_region,
        region=Region(
            name="邵阳市",
            area_code="430501000000",
            is_county_own=False,
            caveat="以下为邵阳市的办事指南，县内办理请先电话确认",
        ),
        department=Department(lead="邵阳市教育局"),
        phones=Phones(consult="0739-5000000"),
        online=Online(status="无", channels=["湖南政务服务网"]),
        time_limit=TimeLimit(raw="20", working_days=20, display="承诺20个工作日（以官网为准）"),
        fee=Fee(charged=True, items=["认证费：360元/份"], display="收费：认证费（360元/份）"),
        materials=[Material(name="护照", necessity=Necessity.always)],
    )


def _names_only() -> Theme:
    return Theme(code="43PCP0014", title="新车上牌“一件事”", provenance=Provenance.names_only)


def _empty_list() -> Theme:
    return Theme(
        code="43TCP0018",
        title="开办超市、便利店“一件事”",
        provenance=Provenance.county,
        region=Region(name="邵阳县", is_county_own=True),
        materials=[],
        materials_note="官方指南未列材料",
    )


def all_themes() -> dict[str, Theme]:
    return {t.code: t for t in (_birth(), _study_abroad(), _names_only(), _empty_list())}


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
