"""Import the official hunan-onething export into ``knowledge/catalogue/<CODE>.yml``.

Usage: ``python -m knowledge import /work/shared/data/hunan-onething [--out DIR]``.

One YAML file per theme (58 official themes + the hand-written ones from
``knowledge/manual/``). Output is deterministic: same input, same bytes. Bad or
unknown input files are reported on stderr as ``file:field: message`` and the
import goes on with the rest (exit code 0); only a missing data folder or an
unreadable ``themes.json`` stops it (exit code 1).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from knowledge import decode
from knowledge.domains import HAND_WRITTEN_PREFIX, audience_for, domain_for
from knowledge.models import (
    FAQ,
    Condition,
    Department,
    Fee,
    Material,
    Online,
    Phones,
    Place,
    Provenance,
    ReformFigures,
    Region,
    SubMatter,
    Theme,
    TimeLimit,
)
from knowledge.problems import Problem
from knowledge.yamlio import dump, load_file, load_text

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = PACKAGE_DIR / "catalogue"
MANUAL_DIR = PACKAGE_DIR / "manual"

OFFICIAL_URL = (
    "https://zwfw-new.hunan.gov.cn/hnywtb/onething/html/eventGuideline.html"
    "?onethingCode={code}&onethingChecklistId={checklist}"
)
PORTAL_HOST = "zwfw-new.hunan.gov.cn"
PORTAL_NAME = "湖南政务服务网"

COUNTY_AREA_PREFIX = "430523"
COUNTY_CENTRE = Place(
    name="邵阳县政务服务中心",
    address="邵阳县红石科技园24栋县政务服务中心“高效办成一件事”重点事项服务专区",
    hours="法定工作日：上午09:00-12:00，下午13:30-17:00",
    note="通用咨询地点，不是本事项的专门窗口；去之前建议先打电话确认",
)
GENERAL_PHONE = "0739-12345"
GENERAL_PHONE_NOTE = "0739-12345 是政务服务便民热线（通用电话），不是本事项的专门咨询电话"

# Fallback only: region of an implementation code suffix (yjsSsqdbm "…J<suffix>").
SUFFIX_REGIONS: dict[str, tuple[str, list[str]]] = {
    "0523": ("430523999000", ["邵阳市", "邵阳县", "邵阳县本级"]),
    "0523100": ("430523100999", ["邵阳市", "邵阳县", "塘渡口镇"]),
    "0500": ("430501000000", ["邵阳市", "邵阳市直"]),
    "0522": ("430522999000", ["邵阳市", "新邵县", "新邵县本级"]),
    "0525": ("430525999000", ["邵阳市", "洞口县", "洞口县本级"]),
    "0503": ("430503999000", ["邵阳市", "大祥区", "大祥区区本级"]),
}

CODE_FILE_RE = re.compile(r"^[0-9A-Z][0-9A-Z-]+$")  # generated file names are theme codes

_BASIC_FIELDS = (
    "areaName",
    "qtbmmc",
    "cooperateName",
    "zxdh",
    "jdtsdh",
    "completedLimit",
    "reasonLink",
    "aheadFrequency",
    "isCharge",
)
_LIST_FIELDS = ("materialList", "guidePoint", "approveList", "guideCondition", "questionInfo", "chargelist")


# --------------------------------------------------------------------------- problems




@dataclass
class ImportResult:
    themes: dict[str, Theme] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)

    def report(self, file: str, field_: str, message: str) -> None:
        self.problems.append(Problem(file, field_, message))


class FatalInput(Exception):
    """The guide file cannot be used at all (bad JSON or wrong envelope)."""

    def __init__(self, field_: str, message: str) -> None:
        super().__init__(message)
        self.field = field_
        self.message = message


# --------------------------------------------------------------------------- region info


@dataclass(frozen=True)
class RegionInfo:
    area_code: str
    area_path: tuple[str, ...]
    official_url: str | None = None
    index_note: str | None = None


def parse_front_matter(text: str) -> dict[str, Any]:
    """The YAML front matter of a wiki region page (``---`` … ``---``)."""
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    if end < 0:
        return {}
    data = load_text(text[3:end])
    return data if isinstance(data, dict) else {}


def parse_index(text: str) -> dict[str, dict[str, str]]:
    """Rows of INDEX.md's theme table, by theme code."""
    rows: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        if not re.match(r"^\|\s*\d+\s*\|", line):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 14:
            continue
        rows[cells[1]] = {
            "area_code": cells[4],
            "area_path": cells[5],
            "checklist_id": cells[6].strip("`"),
            "note": cells[13],
        }
    return rows


def region_name(area_path: tuple[str, ...]) -> str:
    """邵阳县本级 -> 邵阳县, 邵阳市直 -> 邵阳市, 大祥区区本级 -> 大祥区, 塘渡口镇 stays."""
    if not area_path:
        return "未知地区"
    last = area_path[-1]
    if (last.endswith("本级") or last.endswith("市直")) and len(area_path) >= 2:
        return area_path[-2]
    return last


# --------------------------------------------------------------------------- small readers


class _Reader:
    """Field access that reports missing / mistyped fields with their JSON path."""

    def __init__(self, result: ImportResult, rel: str) -> None:
        self.result = result
        self.rel = rel

    def report(self, path: str, message: str) -> None:
        self.result.report(self.rel, path, message)

    def text(self, obj: dict[str, Any], key: str, path: str, required: bool = False) -> str | None:
        if key not in obj or obj[key] is None:
            if required:
                self.report(f"{path}.{key}", "missing")
            return None
        value = obj[key]
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self.report(f"{path}.{key}", f"expected text, got {type(value).__name__}")
            return None
        return decode.clean(value)

    def raw(self, obj: dict[str, Any], key: str, path: str, required: bool = False) -> str | None:
        if key not in obj or obj[key] is None:
            if required:
                self.report(f"{path}.{key}", "missing")
            return None
        value = obj[key]
        if isinstance(value, (dict, list)):
            self.report(f"{path}.{key}", f"expected a code, got {type(value).__name__}")
            return None
        return decode.code(value)

    def items(self, obj: dict[str, Any], key: str, path: str) -> list[tuple[str, dict[str, Any]]]:
        """(JSON path, object) pairs of a list, sorted by ``pxh`` (stable; rows without pxh last)."""
        if key not in obj:
            self.report(f"{path}.{key}", "missing")
            return []
        value = obj[key]
        if value in ("", None):  # intermediarylist-style empty value
            return []
        if not isinstance(value, list):
            self.report(f"{path}.{key}", f"expected a list, got {type(value).__name__}")
            return []
        rows: list[tuple[float, int, dict[str, Any]]] = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                self.report(f"{path}.{key}[{i}]", f"expected an object, got {type(item).__name__}")
                continue
            pxh = decode.number(item.get("pxh"))
            rows.append((pxh if pxh is not None else float("inf"), i, item))
        rows.sort(key=lambda r: (r[0], r[1]))
        return [(f"{path}.{key}[{i}]", item) for _, i, item in rows]


def _dedupe(values: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for v in values:
        if v not in seen:
            seen.add(v)
            out.append(v)
    return out


# --------------------------------------------------------------------------- one guide


def load_guide(path: Path) -> dict[str, Any]:
    """Parse a raw guide file and return its ``data`` object, or raise FatalInput."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise FatalInput("(file)", f"not UTF-8 text: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise FatalInput("(json)", f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    if not isinstance(doc, dict):
        raise FatalInput("(json)", "top level is not an object")
    data = doc.get("data")
    if not isinstance(data, dict):
        raise FatalInput("data", "missing" if data is None else "not an object")
    basic = data.get("basicInfo")
    if not isinstance(basic, dict):
        raise FatalInput("data.basicInfo", "missing" if basic is None else "not an object")
    return data


def _region(
    code: str,
    data: dict[str, Any],
    info: RegionInfo | None,
    basic_area: str | None,
    lead: str | None,
    notes: list[str],
    rd: _Reader,
) -> tuple[Region, Provenance]:
    impl = decode.clean(data.get("yjsSsqdbm"))
    suffix = None
    if impl:
        m = re.search(r"J(\d+)$", impl)
        suffix = m.group(1) if m else None
    if info is None and suffix in SUFFIX_REGIONS:
        area_code, path = SUFFIX_REGIONS[suffix]
        info = RegionInfo(area_code, tuple(path))
    if info is None:
        rd.report("data.yjsSsqdbm", f"region unknown (implementation code {impl!r})")
        notes.append(f"无法确定该指南所属地区（实施编码 {impl}），办理前请先电话确认")
        region = Region(
            name=basic_area or "未知地区",
            area_code=None,
            is_county_own=False,
            caveat="以下办事指南的所属地区不明，县内办理请先电话确认",
        )
        return region, Provenance.other_region

    name = region_name(info.area_path)
    own = info.area_code.startswith(COUNTY_AREA_PREFIX)
    caveat = None
    if not own:
        caveat = f"以下为{name}的办事指南，县内办理请先电话确认"
        notes.append(f"邵阳县没有发布该事项的办事指南，这里用的是{'/'.join(info.area_path)}的指南")
    elif name != "邵阳县":
        caveat = f"以下为{name}的办事指南，其他乡镇请到本乡镇便民服务中心办理，规则相同但地点和电话不同"
    if basic_area and basic_area != name:
        where = f"，实施编码后缀为 J{suffix}" if suffix else ""
        notes.append(
            f"{code} 官方数据中的地区名为{basic_area}{where}，但牵头部门为{lead or '未注明'}、"
            f"办理地点在{name}；按{name}的指南收录，办理前请先电话确认"
        )
        if caveat is None:
            caveat = f"官网把该指南登记在{basic_area}名下，但由{name}的部门办理，办理前请先电话确认"
    region = Region(name=name, area_code=info.area_code, is_county_own=own, caveat=caveat)
    return region, (Provenance.county if own else Provenance.other_region)


def _materials(rows: list[tuple[str, dict[str, Any]]], rd: _Reader, notes: list[str]) -> list[Material]:
    out: list[Material] = []
    unknown_form: set[str] = set()
    unknown_necessity: set[str] = set()
    unknown_kind: set[str] = set()
    has_commitment = False
    for path, row in rows:
        name = rd.text(row, "clmc", path, required=True)
        if name is None:
            continue
        raw_necessity = rd.raw(row, "clbyx", path, required=True)
        necessity = decode.necessity(raw_necessity)
        if necessity.value == "unknown":
            unknown_necessity.add(raw_necessity or "（缺失）")
        if necessity.value == "commitment_allowed":
            has_commitment = True
        raw_form = rd.raw(row, "clxs", path)
        form = decode.FORM.get(raw_form or "")
        if raw_form and form is None:
            unknown_form.add(raw_form)
        raw_kind = rd.raw(row, "clxz", path)
        kind = decode.KIND.get(raw_kind or "")
        if raw_kind and kind is None:
            unknown_kind.add(raw_kind)
        issuer = rd.text(row, "cllyqdsm", path) or decode.ISSUER.get(rd.raw(row, "cllyqd", path) or "")
        raw_exemption = rd.raw(row, "mtjfs", path)
        copies = decode.whole_number(row.get("zzclfs"))
        out.append(
            Material(
                name=name,
                necessity=necessity,
                raw_necessity=raw_necessity,
                condition=rd.text(row, "tbxz", path),
                form=form,
                raw_form=raw_form,
                kind=kind,
                raw_kind=raw_kind,
                issuer=issuer,
                copies=copies if copies else None,
                spec=rd.text(row, "zzclgg", path),
                exempt_by_e_licence=raw_exemption in decode.E_LICENCE_EXEMPTION,
                exemption_note=rd.text(row, "mtjfssm", path),
                raw_exemption=raw_exemption,
                has_blank_form=decode.code(row.get("sfykb")) == "1",
                has_sample=decode.code(row.get("sfyslb")) == "1",
            )
        )
    if has_commitment:
        notes.append("材料必要性代码 clbyx=3 按“容缺/可用承诺代替或后补”理解，这是推断，以官网为准")
    if unknown_necessity:
        notes.append(f"材料必要性代码 clbyx={'/'.join(sorted(unknown_necessity))} 含义不明，已保留原始值")
    if unknown_form:
        notes.append(
            f"材料形式代码 clxs={'/'.join(sorted(unknown_form))} 含义不明（可能是纸质或电子均可），"
            "已保留在 raw_form，未解读"
        )
    if unknown_kind:
        notes.append(f"材料性质代码 clxz={'/'.join(sorted(unknown_kind))} 含义不明，已保留原始值")
    return out


def _online(basic: dict[str, Any], guide: dict[str, Any], rd: _Reader, notes: list[str]) -> Online:
    status = rd.text(basic, "reasonLink", "data.basicInfo", required=True)
    if status is None and isinstance(basic.get("reasonLink"), str) and basic["reasonLink"].strip():
        status = basic["reasonLink"].strip()  # keep the official 无 / 暂无 as the status text
    gpath = "data.onethingCatalogStandServiceGuide"
    urls: list[str] = []
    channels: list[str] = []
    for key in ("dndtzdz", "yddtzdz", "zcblqdWbdz"):
        value = rd.text(guide, key, gpath)
        if value is None:
            continue
        if value.startswith(("http://", "https://")):
            urls.append(value)
            if PORTAL_HOST in value:
                channels.append(PORTAL_NAME)
        elif not value.isdigit():
            channels.append(value)  # e.g. 政务服务网
    other = rd.text(guide, "xsblqdQt", gpath)
    if other:
        channels.append(other)
    raw_online = rd.raw(guide, "xsblqd", gpath)
    raw_supported = rd.raw(guide, "zcblqd", gpath)
    if raw_online or raw_supported:
        notes.append(
            f"办理渠道代码 xsblqd={raw_online or '-'}、zcblqd={raw_supported or '-'} 的含义官方未公布，只保留原始值"
        )
    visits = decode.whole_number(basic.get("aheadFrequency"))
    return Online(
        status=status,
        fully_online=decode.fully_online(status),
        onsite_visits=visits,
        channels=_dedupe(channels),
        urls=_dedupe(urls),
        raw_online_channels=raw_online,
        raw_supported_channels=raw_supported,
        offline_note=rd.text(guide, "xxbldsm", gpath),
        result_delivery=rd.text(guide, "jgsdsm", gpath),
    )


def _fee(basic: dict[str, Any], charges: list[tuple[str, dict[str, Any]]], rd: _Reader, notes: list[str]) -> Fee:
    flag = rd.raw(basic, "isCharge", "data.basicInfo", required=True)
    charged = {"1": True, "0": False}.get(flag or "")
    if flag is not None and charged is None:
        notes.append(f"是否收费代码 isCharge={flag} 含义不明")
    items: list[str] = []
    short: list[str] = []
    for path, row in charges:
        name = rd.text(row, "FEENAME", path, required=True)
        stand = rd.text(row, "FEESTAND", path)
        if name is None:
            continue
        items.append(f"{name}：{stand}" if stand else name)
        short.append(f"{name}（{stand}）" if stand and len(stand) <= 30 and "\n" not in stand else name)
    items, short = _dedupe(items), _dedupe(short)  # rows repeat per bundled service
    if charged is False and not items:
        display = "不收费"
    elif items:
        display = "收费：" + "；".join(short) + "（标准以官网为准）"
    elif charged:
        display = "收费（收费项目和标准以官网为准）"
    else:
        display = "以官网为准"
    return Fee(charged=charged, items=items, display=display)


def _reform(guide: dict[str, Any]) -> ReformFigures | None:
    pairs = {
        "days_before": "gqblsx",
        "days_after": "xzblsx",
        "trips_before": "gqpdcs",
        "trips_after": "xzpdcs",
        "materials_before": "gqsbcl",
        "materials_after": "xzsbcl",
        "steps_before": "hjsgq",
        "steps_after": "hjsxz",
    }
    values = {k: decode.number(guide.get(v)) for k, v in pairs.items()}
    if all(v is None for v in values.values()):
        return None
    return ReformFigures(**values)


def _summary(title: str, subs: list[SubMatter]) -> str | None:
    names = _dedupe([s.name for s in subs])
    if not names:
        return None
    if len(names) == 1:
        return f"{title}：办理{names[0]}。"
    shown = "、".join(names[:4])
    more = f"等{len(names)}项事情" if len(names) > 4 else f"{len(names)}项事情"
    return f"{title}：把{shown}{more}合在一起办。"


def theme_from_guide(
    code: str,
    title: str,
    checklist_id: str,
    data: dict[str, Any],
    rel: str,
    info: RegionInfo | None,
    result: ImportResult,
) -> Theme:
    """Build one Theme from a parsed guide's ``data`` object."""
    rd = _Reader(result, rel)
    notes: list[str] = []
    basic: dict[str, Any] = data["basicInfo"]
    guide = data.get("onethingCatalogStandServiceGuide")
    if not isinstance(guide, dict):
        rd.report("data.onethingCatalogStandServiceGuide", "missing" if guide is None else "not an object")
        guide = {}
    for key in _BASIC_FIELDS:
        if key not in basic:
            rd.report(f"data.basicInfo.{key}", "missing")
    lists = {key: rd.items(data, key, "data") for key in _LIST_FIELDS}

    published = rd.text(data, "sxmc", "data", required=True)
    if published and published != title:
        notes.append(f"官网指南中的事项名称为“{published}”")

    lead = decode.clean(basic.get("qtbmmc"))
    region, provenance = _region(code, data, info, decode.clean(basic.get("areaName")), lead, notes, rd)

    cooperating = [c.strip() for c in re.split(r"[,，、]", decode.clean(basic.get("cooperateName")) or "")]
    department = Department(lead=lead, cooperating=_dedupe([c for c in cooperating if c]))

    consult = decode.clean(basic.get("zxdh"))
    phone_note = None
    if consult is None:
        consult = decode.clean(guide.get("zxdh"))
        if consult:
            phone_note = "本地未登记咨询电话，此号码取自省级目录数据，可能不是本地电话"
            notes.append(phone_note)
    complaint = decode.clean(basic.get("jdtsdh"))
    phones = Phones(consult=consult, complaint=complaint, note=phone_note)

    places = []
    for path, row in lists["guidePoint"]:
        name = rd.text(row, "bldmc", path, required=True) or decode.clean(row.get("pointName"))
        if name is None:
            continue
        places.append(
            Place(
                name=name,
                address=rd.text(row, "xxdz", path) or decode.clean(row.get("infoAddr")),
                hours=rd.text(row, "blsj", path) or decode.clean(row.get("processingTime")),
            )
        )

    raw_limit = rd.text(basic, "completedLimit", "data.basicInfo")
    if raw_limit is None:
        raw_limit = decode.clean(guide.get("cnbjsx"))
        if raw_limit:
            notes.append("承诺时限取自省级目录数据（cnbjsx），本地未登记")
    days = decode.working_days(raw_limit)
    if raw_limit and days is None:
        notes.append(f"承诺时限原始值为“{raw_limit}”，无法换算成工作日")
    time_limit = TimeLimit(raw=raw_limit, working_days=days, display=decode.time_limit_display(days))

    conditions = []
    for path, row in lists["guideCondition"]:
        text = rd.text(row, "bltj", path, required=True) or decode.clean(
            row.get("processingConditions")
        )
        if text:
            conditions.append(Condition(text=text, scope=decode.clean(row.get("smmc"))))

    materials = _materials(lists["materialList"], rd, notes)
    materials_note = None
    if not materials:
        materials_note = "官方数据未列出材料清单"
        notes.append("官方数据未列出材料清单（官网指南的材料列表为空），请向咨询电话确认要带什么")

    subs = []
    for path, row in lists["approveList"]:
        name = rd.text(row, "lbsxfwmc", path, required=True) or decode.clean(
            row.get("tyywblxName")
        )
        if name:
            subs.append(
                SubMatter(
                    name=name,
                    time_limit_days=decode.number(row.get("cnsxsx")),
                    result=decode.clean(row.get("resultSampleName")),
                )
            )

    faq = []
    for path, row in lists["questionInfo"]:
        question = rd.text(row, "problem", path) or decode.clean(row.get("wt"))
        answer = rd.text(row, "answer", path) or decode.clean(row.get("da"))
        if question and answer:
            faq.append(FAQ(question=question, answer=answer))
        elif question or answer:
            rd.report(path, "question or answer missing; entry skipped")

    impl = decode.clean(data.get("yjsSsqdbm"))
    official_url = (info.official_url if info and info.official_url else None) or OFFICIAL_URL.format(
        code=code, checklist=checklist_id
    )
    return Theme(
        code=code,
        title=title,
        audience=audience_for(code),
        domain=domain_for(code),
        provenance=provenance,
        region=region,
        summary=_summary(title, subs),
        department=department,
        phones=phones,
        places=places,
        online=_online(basic, guide, rd, notes),
        time_limit=time_limit,
        fee=_fee(basic, lists["chargelist"], rd, notes),
        conditions=conditions,
        materials=materials,
        materials_note=materials_note,
        sub_matters=subs,
        faq=faq,
        process=decode.clean(guide.get("bllctsm")),
        reform=_reform(guide),
        official_url=official_url,
        checklist_id=checklist_id,
        implementation_code=impl,
        source_file=rel,
        notes=_dedupe(notes),
    )


def names_only_theme(code: str, title: str, reason: str | None = None, source_file: str | None = None) -> Theme:
    """A theme the export has no usable guide for: name, audience, domain and where to ask."""
    notes = [
        "官方导出数据中没有该事项在邵阳县（或邵阳市）的办事指南，只有事项名称；材料、时限、费用均未知，不能推断",
        "可到邵阳县政务服务中心（红石科技园24栋）或拨打 0739-12345 咨询；这些是县里的通用渠道，不是本事项的专门窗口",
    ]
    if reason:
        notes.append(reason)
    return Theme(
        code=code,
        title=title,
        audience=audience_for(code),
        domain=domain_for(code),
        provenance=Provenance.names_only,
        region=None,
        summary="本地暂无这件事的办事指南，只知道官方事项名称。",
        phones=Phones(consult=GENERAL_PHONE, complaint=GENERAL_PHONE, note=GENERAL_PHONE_NOTE),
        places=[COUNTY_CENTRE],
        online=Online(),
        time_limit=TimeLimit(),
        fee=None,
        materials_note="本地暂无办事指南，材料清单请向县政务服务中心或 12345 咨询",
        source_file=source_file,
        notes=notes,
    )


# --------------------------------------------------------------------------- whole export


def _read_themes(source: Path) -> list[tuple[str, str]]:
    doc = json.loads((source / "themes.json").read_text(encoding="utf-8"))
    items = doc["themes"] if isinstance(doc, dict) else doc
    out = []
    for item in items:
        out.append((str(item["id"]).strip(), str(item["name"]).strip()))
    return out


def _region_infos(source: Path, result: ImportResult) -> dict[tuple[str, str], RegionInfo]:
    """(theme code, checklist id) -> region, from pages front matter and INDEX.md."""
    infos: dict[tuple[str, str], RegionInfo] = {}
    index_path = source / "INDEX.md"
    if index_path.is_file():
        for code, row in parse_index(index_path.read_text(encoding="utf-8")).items():
            if re.fullmatch(r"\d{12}", row["area_code"]) and row["checklist_id"]:
                path = tuple(p for p in row["area_path"].split("/") if p)
                infos[(code, row["checklist_id"])] = RegionInfo(row["area_code"], path, None, row["note"] or None)
    for page in sorted((source / "pages").glob("*/*.md")) if (source / "pages").is_dir() else []:
        rel = page.relative_to(source).as_posix()
        try:
            meta = parse_front_matter(page.read_text(encoding="utf-8"))
        except Exception as exc:  # noqa: BLE001 - any parse error is reported, not fatal
            result.report(rel, "(front matter)", f"unreadable: {exc}")
            continue
        theme_id, checklist, area = meta.get("theme_id"), meta.get("checklist_id"), meta.get("area_code")
        if not (theme_id and checklist and area):
            missing = [k for k in ("theme_id", "checklist_id", "area_code") if not meta.get(k)]
            result.report(rel, ",".join(missing), "missing in front matter; page ignored")
            continue
        if theme_id != page.parent.name:
            result.report(rel, "theme_id", f"{theme_id} does not match folder {page.parent.name}")
        path = tuple(str(p) for p in meta.get("area_path") or [])
        old = infos.get((str(theme_id), str(checklist)))
        infos[(str(theme_id), str(checklist))] = RegionInfo(
            str(area), path or (old.area_path if old else ()), meta.get("official_url"), old.index_note if old else None
        )
    return infos


def _index_notes(source: Path) -> dict[str, str]:
    index_path = source / "INDEX.md"
    if not index_path.is_file():
        return {}
    return {c: r["note"] for c, r in parse_index(index_path.read_text(encoding="utf-8")).items() if r["note"]}


def build_themes(source: Path, result: ImportResult) -> None:
    themes = _read_themes(source)
    titles = dict(themes)
    infos = _region_infos(source, result)
    index_notes = _index_notes(source)

    raw_dir = source / "raw"
    candidates: dict[str, list[Path]] = {}
    if raw_dir.is_dir():
        for entry in sorted(raw_dir.rglob("*")):
            if entry.is_dir():
                continue
            rel = entry.relative_to(source).as_posix()
            parts = entry.relative_to(raw_dir).parts
            if len(parts) != 2 or entry.suffix != ".json":
                result.report(rel, "(file)", "unexpected file in raw/ (expected raw/<THEME_CODE>/<CHECKLIST_ID>.json); ignored")
                continue
            if parts[0] not in titles:
                result.report(rel, "(theme code)", f"unknown theme code {parts[0]} (not in themes.json); ignored")
                continue
            candidates.setdefault(parts[0], []).append(entry)
    else:
        result.report("raw", "(folder)", "missing; every theme is imported as names_only")

    for code, title in themes:
        theme = None
        files = candidates.get(code, [])
        built: list[Theme] = []
        for path in files:
            rel = path.relative_to(source).as_posix()
            checklist = path.stem
            try:
                data = load_guide(path)
            except FatalInput as exc:
                result.report(rel, exc.field, exc.message)
                continue
            built.append(theme_from_guide(code, title, checklist, data, rel, infos.get((code, checklist)), result))
        if built:
            built.sort(key=lambda t: (not (t.region and t.region.is_county_own), t.source_file or ""))
            theme = built[0]
            for other in built[1:]:
                result.report(other.source_file or "?", "(file)", f"another guide for {code} was used ({theme.source_file}); ignored")
        elif files:
            rels = ", ".join(p.relative_to(source).as_posix() for p in files)
            theme = names_only_theme(
                code, title, f"导入时原始指南文件无法读取（{rels}），暂按只有名称处理", source_file=None
            )
        else:
            reason = index_notes.get(code)
            theme = names_only_theme(code, title, f"数据说明（INDEX.md）：{reason}" if reason else None)
        result.themes[code] = theme


def load_manual(manual_dir: Path, result: ImportResult) -> None:
    """Validate the hand-written themes and add them to the result."""
    if not manual_dir.is_dir():
        return
    for path in sorted(manual_dir.glob("*.yml")):
        rel = f"manual/{path.name}"
        try:
            data = load_file(path)
            theme = Theme.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"]) or "(record)"
                result.report(rel, loc, err["msg"])
            continue
        except Exception as exc:  # noqa: BLE001 - YAML errors etc. are reported, not fatal
            result.report(rel, "(yaml)", str(exc).replace("\n", " "))
            continue
        if theme.code != path.stem:
            result.report(rel, "code", f"{theme.code} does not match the file name")
            continue
        if theme.provenance is not Provenance.hand_written or not theme.code.startswith(HAND_WRITTEN_PREFIX):
            result.report(rel, "provenance", f"hand-written themes need provenance hand_written and a {HAND_WRITTEN_PREFIX} code")
            continue
        if theme.code in result.themes:
            result.report(rel, "code", "duplicate code; ignored")
            continue
        result.themes[theme.code] = theme


def theme_yaml(theme: Theme) -> str:
    """The catalogue file text of one theme (fixed field order = the model's)."""
    return dump(theme.model_dump(mode="json"))


def write_catalogue(themes: dict[str, Theme], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for code in sorted(themes):
        path = out / f"{code}.yml"
        text = theme_yaml(themes[code])
        data = text.encode("utf-8")
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
        written.append(path)
    keep = {p.name for p in written}
    for stale in sorted(out.glob("*.yml")):
        if stale.name not in keep and CODE_FILE_RE.match(stale.stem):
            stale.unlink()
    return written


def import_catalogue(source: Path, out: Path, manual_dir: Path | None = MANUAL_DIR) -> ImportResult:
    """Import ``source`` into ``out``; raises FileNotFoundError / ValueError on a fatal input."""
    result = ImportResult()
    if not source.is_dir():
        raise FileNotFoundError(f"{source}: data folder not found")
    try:
        build_themes(source, result)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{source / 'themes.json'}: cannot read the theme list: {exc}") from exc
    if manual_dir is not None:
        load_manual(manual_dir, result)
    result.written = write_catalogue(result.themes, out)
    return result


def run_import(source: str, out: str | None = None) -> int:
    src = Path(source)
    dest = Path(out) if out else DEFAULT_OUT
    try:
        result = import_catalogue(src, dest)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for problem in result.problems:
        print(problem, file=sys.stderr)
    counts: dict[str, int] = {}
    for theme in result.themes.values():
        counts[theme.provenance.value] = counts.get(theme.provenance.value, 0) + 1
    detail = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    print(f"imported {len(result.themes)} themes into {dest} ({detail}); {len(result.problems)} input problem(s)")
    return 0
