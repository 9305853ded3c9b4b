"""Normalisation and tokenisation of Chinese text for lexical search.

Tokens are of two kinds, kept apart by a prefix so that they never collide:
- jieba words (``w:`` prefix), cut with the shared domain lexicon loaded as a
  user dictionary so that e.g. 食品经营许可证 stays one word;
- character n-grams (``c:`` prefix) over runs of CJK characters and letters or
  digits, which make the search robust to segmentation errors and to words the
  lexicon does not know.

Function words and the catalogue's boilerplate (一件事, 高效办成 …) are dropped.
Traditional characters are converted to simplified ones only if a maintained
converter (``opencc`` or ``zhconv``) happens to be installed; none is required.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path

import jieba

from knowledge import config

jieba.setLogLevel(logging.WARNING)

#: Phrases in (almost) every title or query that say nothing about which theme is meant.
BOILERPLATE = ("高效办成一件事", "一件事一次办", "一件事", "一次办", "高效办成", "联办", "“", "”")

#: Words that carry no topic. Kept short on purpose: BM25's IDF handles the rest.
STOP_WORDS = frozenset(
    """
    的 了 吗 呢 啊 呀 吧 么 嘛 哦 哈 喔 哪 那 这 这个 那个 一个 个 些 一下 一些
    我 你 他 她 它 我们 你们 他们 咱 咱们 自己 家里 家 人
    要 想 想要 需要 要求 得 能 能不能 可以 可不可以 会 该 应该 怎么 怎样 怎么样 如何 什么 啥 哪里 哪儿 哪些 多少 几
    去 来 在 是 有 没 没有 和 跟 与 及 或 或者 还 还是 也 都 就 又 再 给 让 把 被 对 为 为了 因为 所以 请问 请 问 问一下
    办 办理 办个 办下 手续 流程 事 事情 一件 现在 刚 刚刚 已经 了解 知道 咨询 帮 帮忙 帮我
    资料 材料 准备 带 带什么 么子 哪么 哪么搞 搞 冇 咯 啰 噻 晓得 弄 整
    """.split()
)

#: Single characters that never make a useful unigram or an all-stop n-gram.
STOP_CHARS = frozenset(
    "的了吗呢啊呀吧么嘛哦哈这那个我你他她它们要想能会该怎样什啥哪里儿多少几去来在是有没和跟与及或还也都就又再给让把被对为请问下办事件一"
    "资料材准备搞冇咯啰噻弄整"
)

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN_RE = re.compile(rf"[{_CJK}]+|[a-z0-9]+")
_SPACE_RE = re.compile(r"\s+")


def _traditional_converter() -> Callable[[str], str]:
    try:  # pragma: no cover - depends on what is installed
        import opencc  # type: ignore[import-not-found]

        conv = opencc.OpenCC("t2s")
        return conv.convert
    except Exception:  # noqa: BLE001 - any failure means: no converter
        pass
    try:  # pragma: no cover - depends on what is installed
        import zhconv  # type: ignore[import-not-found]

        return lambda s: zhconv.convert(s, "zh-hans")
    except Exception:  # noqa: BLE001
        return lambda s: s


_to_simplified = _traditional_converter()


def normalise(text: str) -> str:
    """NFKC (full-width → half-width), lower case, simplified script if possible, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = _to_simplified(text)
    return _SPACE_RE.sub(" ", text).strip()


def strip_boilerplate(text: str) -> str:
    for phrase in BOILERPLATE:
        text = text.replace(phrase, " ")
    return text


def lexicon_files(directory: Path | None = None) -> list[Path]:
    directory = directory or config.lexicon_dir()
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith("."))


def lexicon_fingerprint(directory: Path | None = None) -> str:
    digest = hashlib.sha256()
    for path in lexicon_files(directory):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class Tokenizer:
    """jieba words (with the domain lexicon) + character n-grams.

    ``ngrams`` is the inclusive range of character n-gram lengths, e.g. (1, 2).
    """

    def __init__(
        self,
        lexicon_dir: Path | None = None,
        ngrams: tuple[int, int] = (1, 2),
        words: bool = True,
    ) -> None:
        self.lexicon_dir = lexicon_dir or config.lexicon_dir()
        self.ngrams = ngrams
        self.words = words
        self._jieba: jieba.Tokenizer | None = None
        self._lock = threading.Lock()

    @property
    def fingerprint(self) -> str:
        rules = hashlib.sha256(
            "|".join([*BOILERPLATE, *sorted(STOP_WORDS), *sorted(STOP_CHARS)]).encode()
        ).hexdigest()[:12]
        return f"tok-v1|{self.ngrams}|{self.words}|{rules}|{lexicon_fingerprint(self.lexicon_dir)}"

    def _segmenter(self) -> jieba.Tokenizer:
        if self._jieba is None:
            with self._lock:
                if self._jieba is None:
                    seg = jieba.Tokenizer()
                    seg.initialize()
                    for path in lexicon_files(self.lexicon_dir):
                        seg.load_userdict(str(path))
                    self._jieba = seg
        return self._jieba

    def words_of(self, text: str) -> list[str]:
        """jieba words of normalised text, without punctuation and stop words."""
        text = strip_boilerplate(normalise(text))
        out: list[str] = []
        for word in self._segmenter().lcut(text, HMM=True):
            word = word.strip()
            if not word or word in STOP_WORDS or not _RUN_RE.fullmatch(word):
                continue
            out.append(word)
        return out

    def ngrams_of(self, text: str) -> list[str]:
        text = strip_boilerplate(normalise(text))
        lo, hi = self.ngrams
        out: list[str] = []
        for run in _RUN_RE.findall(text):
            if not ("\u3400" <= run[0] <= "\ufaff"):
                out.append(run)  # a latin/digit run is one token (e.g. "3600")
                continue
            for n in range(lo, hi + 1):
                for i in range(len(run) - n + 1):
                    gram = run[i : i + n]
                    if all(ch in STOP_CHARS for ch in gram):
                        continue
                    out.append(gram)
        return out

    def tokenize(self, text: str) -> list[str]:
        tokens = ["c:" + g for g in self.ngrams_of(text)]
        if self.words:
            tokens = ["w:" + w for w in self.words_of(text)] + tokens
        return tokens

    def tokenize_many(self, texts: Iterable[str]) -> list[list[str]]:
        return [self.tokenize(t) for t in texts]
