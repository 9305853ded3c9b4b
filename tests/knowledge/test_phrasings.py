"""Checks on the hand-written citizen phrasings and the jieba domain lexicon.

Sources of truth: the theme codes and official titles come from the generated
catalogue (``knowledge/catalogue``) and the hand-written themes
(``knowledge/manual``); the phrasings from ``knowledge/phrasings``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path

import jieba
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE_DIR = ROOT / "knowledge" / "catalogue"
MANUAL_DIR = ROOT / "knowledge" / "manual"
PHRASINGS_DIR = ROOT / "knowledge" / "phrasings"
LEXICON = ROOT / "knowledge" / "lexicon" / "domain_words.txt"

EXPECTED_THEME_COUNT = 60  # 58 provincial themes + 2 hand-written county themes

# Themes that ordinary people and small businesses walk in with: at least 15 phrasings.
# Every personal theme (code prefix 43PC) is citizen-facing; these business ones too.
CITIZEN_FACING_BUSINESS = {
    "SYX-QYKB",  # 企业开办
    "SYX-ESFZY",  # 二手房转移登记
    "43TCN0003",  # 开办餐饮店
    "43TCP0018",  # 开办超市、便利店
    "43TCP0009",  # 个体工商户转型为企业
    "43TCN0008",  # 企业注销登记
    "43TCN0004",  # 水电气网联合报装
    "43TC2000100Y",  # 农村建房
    "43TCP0014",  # 员工录用
    "43TC2300100Y",  # 就医
    "43TCN0001",  # 企业信息变更
    "43TCN0005",  # 信用修复
    "43TCN0002",  # 开办运输企业
    "43TCP0006",  # 企业迁移
}
MIN_CITIZEN = 15
MIN_SPECIALIST = 10


def _norm(text: str) -> str:
    """Compare phrasings ignoring width, case, punctuation and spaces."""
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[\W_]+", "", text)


def _load_yaml(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.name}: top level must be a mapping"
    return data


def _official_titles() -> dict[str, str]:
    titles: dict[str, str] = {}
    for folder in (CATALOGUE_DIR, MANUAL_DIR):
        for path in sorted(folder.glob("*.yml")):
            data = _load_yaml(path)
            titles[str(data["code"])] = str(data["title"])
    return titles


TITLES = _official_titles()


def _phrasings() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in sorted(PHRASINGS_DIR.glob("*.yml")):
        data = _load_yaml(path)
        out[path.stem] = data.get("phrasings")
    return out


PHRASINGS = _phrasings()


def _min_count(code: str) -> int:
    if code.startswith("43PC") or code in CITIZEN_FACING_BUSINESS:
        return MIN_CITIZEN
    return MIN_SPECIALIST


def test_catalogue_has_all_themes() -> None:
    assert len(TITLES) == EXPECTED_THEME_COUNT
    assert CITIZEN_FACING_BUSINESS <= set(TITLES)


def test_every_theme_has_a_phrasings_file_and_no_strays() -> None:
    assert set(PHRASINGS) == set(TITLES)


@pytest.mark.parametrize("path", sorted(PHRASINGS_DIR.glob("*.yml")), ids=lambda p: p.stem)
def test_file_shape(path: Path) -> None:
    data = _load_yaml(path)
    assert set(data) == {"code", "phrasings"}, f"unexpected keys {sorted(data)}"
    assert data["code"] == path.stem
    phrasings = data["phrasings"]
    assert isinstance(phrasings, list) and phrasings
    for p in phrasings:
        # YAML would silently turn e.g. "3600" or "yes" into a number or a bool.
        assert isinstance(p, str), f"{path.stem}: {p!r} is not a string"
        assert p == p.strip() and p, f"{path.stem}: {p!r} has stray whitespace or is empty"
        assert "\n" not in p
        assert len(p) <= 200, f"{path.stem}: phrasing too long: {p[:30]}…"


@pytest.mark.parametrize("code", sorted(TITLES))
def test_minimum_count(code: str) -> None:
    count = len(PHRASINGS.get(code) or [])
    assert count >= _min_count(code), f"{code} {TITLES[code]}: {count} phrasings"


def test_no_duplicates_within_or_across_themes() -> None:
    owners: dict[str, list[str]] = {}
    for code, phrasings in PHRASINGS.items():
        for p in phrasings:
            owners.setdefault(_norm(p), []).append(code)
    dups = {text: codes for text, codes in owners.items() if len(codes) > 1}
    assert not dups, f"duplicated phrasings: {dups}"


def test_no_phrasing_is_just_the_official_title() -> None:
    offenders = []
    for code, phrasings in PHRASINGS.items():
        title = _norm(TITLES[code])
        forbidden = {title, title.replace("一件事", "")}
        offenders += [(code, p) for p in phrasings if _norm(p) in forbidden]
    assert not offenders


def test_phrasings_are_chinese_text() -> None:
    han = re.compile(r"[\u4e00-\u9fff]")
    counts = Counter(code for code, ps in PHRASINGS.items() for p in ps if not han.search(p))
    # a rare English query is allowed, but a theme must not be mostly non-Chinese
    for code, n in counts.items():
        assert n <= 2, f"{code}: {n} phrasings without Chinese characters"


def test_dialect_and_typos_are_represented() -> None:
    """The set must include how people really type, not only standard Mandarin."""
    everything = "\n".join(p for ps in PHRASINGS.values() for p in ps)
    for word in ("伢子", "堂客", "老倌子", "娭毑", "么子", "冇得", "哪么搞", "屋里"):
        assert word in everything, f"dialect word {word} never used"
    for typo in ("户口薄", "身分证", "社宝卡", "退体", "营业执招"):
        assert typo in everything, f"typo {typo} never used"


def test_lexicon_lines_are_well_formed() -> None:
    words = []
    for n, line in enumerate(LEXICON.read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split(" ")
        assert len(parts) == 3, f"line {n}: expected 'word freq tag': {line!r}"
        word, freq, tag = parts
        assert word and freq.isdigit() and int(freq) > 0 and tag.isalpha(), f"line {n}: {line!r}"
        words.append(word)
    assert 300 <= len(words) <= 600
    assert len(words) == len(set(words)), [w for w, c in Counter(words).items() if c > 1]


@pytest.fixture(scope="module")
def tokenizer() -> jieba.Tokenizer:
    tok = jieba.Tokenizer()
    tok.load_userdict(str(LEXICON))
    return tok


@pytest.mark.parametrize(
    ("sentence", "kept"),
    [
        ("我要办营业执照和食品经营许可证", ["营业执照", "食品经营许可证"]),
        ("屋里堂客刚生了个伢子要去哪里上户口", ["堂客", "伢子", "上户口"]),
        ("老倌子的社保卡冇得激活哪么搞", ["老倌子", "社保卡", "冇得", "哪么搞"]),
        ("我是塘渡口镇的想办不动产权证书", ["塘渡口镇", "不动产权证书"]),
        ("出生医学证明和户口簿都带了", ["出生医学证明", "户口簿"]),
        ("娭毑在郦家坪镇申请低保", ["娭毑", "郦家坪镇", "低保"]),
        ("个转企以后要去市监局刻章吗", ["个转企", "市监局"]),
    ],
)
def test_lexicon_keeps_domain_words_whole(tokenizer: jieba.Tokenizer, sentence: str, kept: list[str]) -> None:
    tokens = tokenizer.lcut(sentence)
    for word in kept:
        assert word in tokens, f"{word} split in {tokens}"
