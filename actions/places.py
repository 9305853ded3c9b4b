"""Where to go for a one thing, taking the citizen's town into account.

Only the theme's official ``places`` (name / address / hours) are used. Township-level
matters (农村建房) are published for one township only; other townships follow the same
rules at their own office, and the answer says so instead of inventing an address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from actions.config import SETTINGS, ActionSettings
from knowledge.models import Theme

COUNTY = "邵阳县"
COUNTY_SEAT = "塘渡口镇"

# The county's towns, townships and state farms (as the `town` entity gives them).
TOWNS = (
    "塘渡口镇 白仓镇 金称市镇 塘田市镇 黄亭市镇 长阳铺镇 岩口铺镇 九公桥镇 下花桥镇 谷洲镇 郦家坪镇 五峰铺镇 "
    "小溪市乡 长乐乡 蔡桥乡 河伯乡 黄荆乡 诸甲亭乡 罗城乡 金江乡 七里山园艺场 五峰铺国有林场 河伯岭国有林场"
).split()
_PROVINCE_PREFIX = re.compile(r"^(湖南省)?(邵阳市)?(?=邵阳县)")
# Markers of a place published for "each township" rather than one address.
_EACH_TOWNSHIP = ("各乡镇", "户籍所在地乡镇", "所在地乡镇")


def short_town(town: str) -> str:
    """白仓镇 -> 白仓, 七里山园艺场 -> 七里山 (the short form people say)."""
    for suffix in ("国有林场", "园艺场", "镇", "乡"):
        if town.endswith(suffix) and len(town) > len(suffix) + 1:
            return town[: -len(suffix)]
    return town


def town_office(town: str) -> str:
    """The citizen-facing service office of a town, township or farm."""
    if town.endswith(("镇", "乡")):
        return f"{town}人民政府便民服务中心"
    return f"{town}便民服务中心"


def _clean(text: str | None) -> str:
    return _PROVINCE_PREFIX.sub("", (text or "").strip())


@dataclass(frozen=True)
class PlaceLine:
    name: str
    address: str = ""  # '' when it only repeats the name
    hours: str = ""


@dataclass(frozen=True)
class PlaceAnswer:
    """What to say about the place. ``kind`` picks the wording in detail.j2:

    - ``listed``: the official places, as published;
    - ``township_own``: a township-level matter and the citizen lives in the published township;
    - ``township_other``: a township-level matter, the citizen lives elsewhere -> own office, guide as reference;
    - ``township_unknown``: a township-level matter, town not known -> published example + ask the town;
    - ``each_township``: the guide says "your township's government"; ``office`` is filled when the town is known;
    - ``default``: no place published -> the county centre, confirm by phone.
    """

    kind: str
    places: list[PlaceLine] = field(default_factory=list)
    town: str = ""
    reference: str = ""  # the township whose guide is used
    office: str = ""
    county_seat_trip: bool = False  # a county-level place and the citizen lives outside the seat


def place_lines(theme: Theme, limit: int = 3) -> list[PlaceLine]:
    lines: dict[tuple[str, str], PlaceLine] = {}
    for p in theme.places:
        name, address = _clean(p.name), _clean(p.address)
        if address == name or (address and name and address in name):
            address = ""
        lines.setdefault((name, address), PlaceLine(name=name, address=address, hours=(p.hours or "").strip()))
    return list(lines.values())[:limit]


def township_of(theme: Theme) -> str:
    """The township whose guide this is ('' for county-level and other-region guides)."""
    region = theme.region
    if region is None or not region.is_county_own or region.name == COUNTY:
        return ""
    return region.name


def resolve_place(theme: Theme, town: str | None, settings: ActionSettings = SETTINGS) -> PlaceAnswer:
    town = town or ""
    lines = place_lines(theme)
    reference = township_of(theme)
    if reference:
        if not town:
            return PlaceAnswer(kind="township_unknown", places=lines, reference=reference)
        if town == reference:
            return PlaceAnswer(kind="township_own", places=lines, town=town, reference=reference)
        return PlaceAnswer(kind="township_other", town=town, reference=reference, office=town_office(town))
    if any(m in (p.name + (p.address or "")) for p in theme.places for m in _EACH_TOWNSHIP):
        return PlaceAnswer(kind="each_township", places=lines, town=town, office=town_office(town) if town else "")
    if not lines:
        lines = [PlaceLine(name=settings.centre_name, address=settings.centre_address, hours=settings.centre_hours)]
        return PlaceAnswer(kind="default", places=lines, town=town, county_seat_trip=bool(town) and town != COUNTY_SEAT)
    county_level = theme.region is not None and theme.region.is_county_own
    return PlaceAnswer(
        kind="listed",
        places=lines,
        town=town,
        county_seat_trip=county_level and bool(town) and town != COUNTY_SEAT,
    )
