"""One decision, in one place (issue #13): what should a citizen's message be answered with?

    resolve("我当爸爸的去办新生儿出生一件事要带什么")  -> Resolution(verdict=sure, themes=[新生儿出生一件事])
    resolve("小区物业乱收停车费，业主投诉没人管")       -> Resolution(verdict=not_a_thing, kind=complaint)

Verdicts (``Verdict``):

- ``sure``: one one thing, answered with its guide (``themes[0]``);
- ``choose``: 2–3 candidates, the person picks one;
- ``guess``: one (or two) likely candidates, asked as a question ("您是想办…吗？");
- ``two_things``: the message asks for two matters ("上户口，还要领育儿补贴"): ``themes[:2]``;
- ``not_a_thing``: a complaint or report, a consumer dispute (12315), a suggestion, a policy
  question, a possible 办不成事, or chit-chat: ``kind`` says which, ``department`` where clear;
- ``none``: nothing fits and nothing else is recognisable ("not sure, please rephrase").

How (docs/resolve.md has the figures):

1. **Masks and noise** (``clean``): ``****``, ``**``, the publisher's place codes (A市, M8县), dates,
   amounts, times and digit runs are removed before anything reads the text.
2. **Naming the one thing always works** (``named_codes``): a message that contains an official
   title, its core name with 一件事, or a core name of 4+ characters gets that thing, ``sure``.
3. **The request inside a story** (``focus``): long messages are split at 。！？!?；\\n and the
   sentences that ask (``ask`` cues of ``resolve_cues.yml``) plus the board title are searched
   instead of the whole story.
4. **What kind of message** (``KindModel``): a tf-idf (character 1–3-grams) + logistic regression
   classifier over thing / complaint / suggestion / question / bancheng / chitchat, trained on the
   dev split of ``knowledge/eval/real/messages.yml``, the dev split of the catalogue evaluation
   (short requests = thing, out-of-scope dev = chitchat) and the written examples of
   ``resolve_cues.yml``. ``KindModel.explain`` lists the n-grams behind a vote.
5. **How much the match explains** (``coverage``): the share of the focus's content words that the
   best theme's own vocabulary contains.
6. **The decision** (``decide``): thresholds in ``PARAMS`` only, chosen on dev (never on test)
   with ``python -m knowledge.eval.real --calibrate``.

``knowledge/`` knows nothing about Rasa; ``actions/`` renders a ``Resolution`` and decides nothing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from knowledge.sentences import sentences

if TYPE_CHECKING:  # pragma: no cover
    from knowledge.service import KnowledgeService

log = logging.getLogger(__name__)

CUES_PATH = Path(__file__).resolve().parent / "resolve_cues.yml"
KINDS_TRAINED = ("thing", "complaint", "suggestion", "question", "bancheng", "chitchat")


# --------------------------------------------------------------------------- thresholds


@dataclass(frozen=True)
class Params:
    """Every threshold of the decision (the only ones: actions/ has none). Chosen on the dev split
    of the realistic set plus the catalogue dev split; see docs/resolve.md."""

    # A non-thing kind at least this likely (and the thing vote under ``thing_keep``) -> not_a_thing.
    not_thing_min: float = 0.45
    thing_keep: float = 0.35
    # sure: calibrated search probability, runner-up share, classifier's thing vote, coverage.
    sure_p: float = 0.55
    sure_close: float = 0.5
    sure_thing: float = 0.5
    sure_coverage: float = 0.35
    # ... or, in a long message, the classifier's thing vote for the asking sentences alone, when
    # no other kind is this likely for the whole message.
    sure_focus_thing: float = 0.6
    sure_focus_other: float = 0.35
    # ... or a chat-length message (at most this many content characters) that the classifier
    # does not veto (no other kind >= not_thing_min) and that the best theme explains.
    short_sure_chars: int = 30
    # choose (2-3 candidates): best probability at least this, candidates >= share of the best.
    choose_p: float = 0.35
    choose_ratio: float = 0.25
    # guess (asked as a question): best probability at least this, candidates >= share of the best.
    guess_p: float = 0.3
    guess_ratio: float = 0.5
    guess_thing: float = 0.25
    # When nothing fits, a kind is named only when the classifier gives it at least this.
    kind_min: float = 0.3
    # 办不成事 needs the classifier's vote at least this and a bancheng cue in the text.
    bancheng_min: float = 0.3
    # two_things: each part's own best hit at least this; or the whole message's best two.
    # 0.35 until the int8 encoder (2026-12-07), which put a bare 上户口 at 0.348: the dev figures
    # (realistic and catalogue) are the same anywhere from 0.25 to 0.40, so it is now pair_strong's 0.3.
    part_strong: float = 0.3
    pair_strong: float = 0.3
    # A message longer than this (content characters) is "long": a sure answer needs coverage.
    long_chars: int = 60
    # Named core names (no 一件事) are not taken when a non-thing kind is at least this likely.
    named_core_block: float = 0.8
    # A message that asks how to get a matter done, whose best match is at least this likely, is
    # offered that matter (choose / guess) unless it is a complaint or suggestion this likely.
    procedure_p: float = 0.5
    procedure_block: float = 0.5
    procedure_thing: float = 0.15


PARAMS = Params()

#: At most this many candidates are offered (choose / guess).
MAX_CANDIDATES = 3
#: The focus of a long message is cut to this many characters before it is searched.
FOCUS_MAX_CHARS = 300
#: Messages longer than this are read only up to it (Telegram allows 4,096).
MAX_CHARS = 4000
#: A message of at most this many content characters is short: it is its own focus, and a one
#: thing named anywhere in it counts (in a longer one only in a sentence that asks).
SHORT_CHARS = 80
#: At most this many asking sentences are searched one by one besides the whole focus.
MAX_SENTENCE_SEARCHES = 4
#: An asking sentence is also searched with this many sentences before it (its context).
CONTEXT_SENTENCES = 1


# --------------------------------------------------------------------------- the result


class Verdict(str, Enum):
    sure = "sure"
    choose = "choose"
    guess = "guess"
    two_things = "two_things"
    not_a_thing = "not_a_thing"
    none = "none"


class Kind(str, Enum):
    complaint = "complaint"
    consumer = "consumer"
    suggestion = "suggestion"
    question = "question"
    bancheng_candidate = "bancheng_candidate"
    chitchat = "chitchat"


class ThemeRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    title: str
    score: float  # calibrated search probability (1.0 when the message names the thing)


class Resolution(BaseModel):
    """What the message should be answered with. ``themes`` are what the reply shows (best first):
    one for sure / guess (or two for a two-way guess), 2–3 for choose, two for two_things, none
    otherwise. ``candidates`` keeps the search's best hits for information (logs, evaluation)."""

    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    themes: list[ThemeRef] = Field(default_factory=list)
    kind: Kind | None = None
    department: str | None = None
    reason: str = ""
    # not_a_thing only: the one thing the message is about when the search is sure of it (a
    # 办不成事 story about 残疾证), for a form to prefill; never shown as an answer.
    about: ThemeRef | None = None
    candidates: list[ThemeRef] = Field(default_factory=list)
    focus: str = ""


# --------------------------------------------------------------------------- cues file


class DeptCue(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cue: str
    dept: str

    @field_validator("cue")
    @classmethod
    def _regex(cls, value: str) -> str:
        re.compile(value)
        return value


class Cues(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ask: list[str] = Field(min_length=1)
    bancheng: list[str] = Field(min_length=1)
    consumer: list[str] = Field(min_length=1)
    consumer_not: list[str] = Field(min_length=1)
    departments: list[DeptCue] = Field(min_length=1)
    examples: dict[str, list[str]]

    @field_validator("ask", "bancheng", "consumer", "consumer_not")
    @classmethod
    def _regexes(cls, values: list[str]) -> list[str]:
        for v in values:
            if not v.strip():
                raise ValueError("empty cue")
            re.compile(v)
        return values

    @field_validator("examples")
    @classmethod
    def _kinds(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        allowed = set(KINDS_TRAINED) | {"consumer"}
        for kind, items in value.items():
            if kind not in allowed:
                raise ValueError(f"unknown example kind {kind!r} (one of {sorted(allowed)})")
            if not items or any(not i.strip() for i in items):
                raise ValueError(f"examples of {kind!r}: empty list or empty example")
        return value

    def pattern(self, name: str) -> re.Pattern[str]:
        return re.compile("|".join(f"(?:{c})" for c in getattr(self, name)))


class CuesError(ValueError):
    """resolve_cues.yml is malformed (the message says where)."""


def load_cues(path: Path = CUES_PATH) -> Cues:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    try:
        return Cues.model_validate(data)
    except (ValidationError, re.error) as exc:
        raise CuesError(f"{path}: {exc}") from exc


@lru_cache(maxsize=1)
def cues() -> Cues:
    return load_cues()


@lru_cache(maxsize=1)
def _patterns() -> dict[str, re.Pattern[str]]:
    c = cues()
    return {name: c.pattern(name) for name in ("ask", "bancheng", "consumer", "consumer_not")}


# --------------------------------------------------------------------------- masks and sentences

_MASK_RES = [
    re.compile(r"_x000D_"),
    re.compile(r"[*＊]{2,}|[xX×]{2,}"),  # ****, **, XX
    # place codes of the board's anonymisation: A市, A3区, M8县, K市域, B5县 ...
    re.compile(r"(?<![A-Za-z])[A-Z]\d{0,2}(?=[市区县镇乡村州省])"),
    re.compile(r"西地省|东地省|南地省|北地省"),
    re.compile(r"\d{2,4}\s*[年/.\-]\s*\d{1,2}\s*[月/.\-]\s*\d{1,2}\s*[日号]?"),  # dates
    re.compile(r"\d{2,4}\s*年(\s*\d{1,2}\s*月)?|\d{1,2}\s*月\s*\d{1,2}\s*[日号]|\d{1,2}\s*月份?"),
    re.compile(r"\d{1,2}[:：]\d{2}"),  # times
    re.compile(r"\d+(\.\d+)?\s*(万元|元|块钱|块|万|千|百|%|％|平方米?|平米|岁|天|个?月|公里|米)"),  # amounts
    re.compile(r"0{3,}[-\s]?0+|\d{5,}"),  # 0000-00000000, phone numbers, ID-like digit runs
]
_CONTENT_RE = re.compile(r"[\u3400-\u9fffA-Za-z0-9]")
_QUESTION_END = re.compile(r"[？?]\s*$|吗[？?。！]?\s*$|呢[？?。]?\s*$")


def clean(text: str) -> str:
    """The text with masks, place codes, dates, amounts and digit runs removed (each becomes a
    space), so they drive no match and no entity."""
    out = (text or "")[:MAX_CHARS]
    for pattern in _MASK_RES:
        out = pattern.sub(" ", out)
    return re.sub(r"[ \t]{2,}", " ", out).strip()


def content_len(text: str) -> int:
    return len(_CONTENT_RE.findall(text))


def _asks(sentence: str) -> bool:
    """A sentence that asks how to get a matter done (``ask`` cues) or ends as a question."""
    return bool(_patterns()["ask"].search(sentence) or _QUESTION_END.search(sentence))


def asking_sentences(text: str) -> list[str]:
    """The sentences of (cleaned) text that ask how to get a matter done (``ask`` cues) or end
    with a question mark."""
    return [s for s in sentences(text) if _asks(s)]


def asking_in_context(text: str, before: int = CONTEXT_SENTENCES) -> list[str]:
    """Each asking sentence with the sentences right before it: "请问要带么子材料去哪里办？" says
    what is asked, the sentence before it says about what (伢子还冇上户口，医保也冇办)."""
    parts = sentences(text)
    return ["。".join(parts[max(0, i - before) : i + 1]) for i, s in enumerate(parts) if i > 0 and _asks(s)]


def focus(text: str, title: str | None = None) -> str:
    """The request inside a story: the sentences that ask (``asking_sentences``) plus the title
    when there is one; short messages are their own focus."""
    body = clean(text)
    head = clean(title) if title else ""
    if content_len(body) <= SHORT_CHARS and not head:
        return body
    chosen = asking_sentences(body)
    parts = ([head] if head else []) + chosen
    if not chosen:
        parts = ([head] if head else []) + sentences(body)[:2]
    out = "。".join(dict.fromkeys(p for p in parts if p))
    return out[:FOCUS_MAX_CHARS] or body[:FOCUS_MAX_CHARS]


# --------------------------------------------------------------------------- naming a thing

_QUOTES = re.compile(r"[“”\"「」'‘’《》\s]")
_BRACKETS = re.compile(r"[（(][^）)]*[）)]")


def names_of(title: str) -> tuple[list[str], list[str]]:
    """(full names, core names) of a title: full names always decide; a core name of 4+ characters
    (新生儿出生, 开办餐饮店) decides unless the message is clearly not a request."""
    unquoted = _QUOTES.sub("", title)
    core = _BRACKETS.sub("", unquoted).replace("一件事", "").strip()
    full = [unquoted, _BRACKETS.sub("", unquoted), f"{core}一件事"]
    cores = [core] if len(core) >= 4 else []
    return list(dict.fromkeys(n for n in full if n)), cores


def named_codes(text: str, titles: dict[str, str]) -> tuple[list[str], bool]:
    """Theme codes the message names (in order of appearance) and whether every one of them was
    named by a full name (with 一件事). A name two themes share names neither."""
    flat = _QUOTES.sub("", text)
    owners, kinds = _name_table(tuple(sorted(titles.items())))
    found: list[tuple[int, str, bool]] = []
    for name, owned in owners.items():
        if len(owned) != 1:
            continue
        pos = flat.find(name)
        if pos >= 0:
            found.append((pos, next(iter(owned)), kinds[name]))
    found.sort()
    codes = list(dict.fromkeys(code for _, code, _ in found))
    # a code found by its full name counts as fully named even if its core also appeared
    full_codes = {code for _, code, full in found if full}
    all_full = all(c in full_codes for c in codes)
    return codes, all_full


@lru_cache(maxsize=4)
def _name_table(titles: tuple[tuple[str, str], ...]) -> tuple[dict[str, set[str]], dict[str, bool]]:
    """Every name of every title -> the codes it names, and whether it is a full name."""
    owners: dict[str, set[str]] = {}
    kinds: dict[str, bool] = {}
    for code, title in titles:
        full, cores = names_of(title)
        for n in full:
            owners.setdefault(n, set()).add(code)
            kinds[n] = True
        for n in cores:
            owners.setdefault(n, set()).add(code)
            kinds.setdefault(n, False)
    return owners, kinds


# --------------------------------------------------------------------------- the kind classifier


@dataclass(frozen=True)
class Example:
    text: str
    label: str  # one of KINDS_TRAINED


def training_examples(exclude_ids: Iterable[str] = ()) -> list[Example]:
    """Dev split of the realistic set (minus ``exclude_ids``), catalogue dev queries (thing),
    out-of-scope dev queries (chitchat) and the written examples of the cues file. Never test."""
    from knowledge.eval import runner
    from knowledge.eval.real import load_messages

    skip = set(exclude_ids)
    out = [Example(m.full_text, m.label) for m in load_messages(split="dev") if m.id not in skip]
    out += [Example(q.q, "thing") for q in runner.load_queries("dev")]
    out += [Example(q.q, "chitchat") for q in runner.load_out_of_scope("dev")]
    for kind, items in cues().examples.items():
        label = "complaint" if kind == "consumer" else kind
        out += [Example(t, label) for t in items]
    return out


#: "chars" (tf-idf character 1–3-grams, shipped) or "words" (jieba words); see docs/resolve.md.
CLASSIFIER_FEATURES = os.environ.get("RESOLVE_CLASSIFIER_FEATURES", "chars")


class KindModel:
    """tf-idf features (``CLASSIFIER_FEATURES``) + multinomial logistic regression (balanced classes)."""

    def __init__(
        self, examples: Sequence[Example], c: float = 4.0, features: str = CLASSIFIER_FEATURES
    ) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        if features == "words":
            import jieba

            self.vectorizer = TfidfVectorizer(
                tokenizer=jieba.lcut, token_pattern=None, sublinear_tf=True, min_df=2
            )
        else:
            self.vectorizer = TfidfVectorizer(
                analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2, max_features=60000
            )
        x = self.vectorizer.fit_transform([self.prepare(e.text) for e in examples])
        self.model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
        self.model.fit(x, [e.label for e in examples])
        self.labels: list[str] = list(self.model.classes_)
        self.fingerprint = hashlib.sha256(
            "\n".join(f"{e.label}\t{e.text}" for e in examples).encode()
        ).hexdigest()[:12]

    @staticmethod
    def prepare(text: str) -> str:
        return clean(text).lower()[:1500]

    def probabilities(self, text: str) -> dict[str, float]:
        x = self.vectorizer.transform([self.prepare(text)])
        probs = self.model.predict_proba(x)[0]
        out = {label: 0.0 for label in KINDS_TRAINED}
        out.update({label: float(p) for label, p in zip(self.labels, probs, strict=True)})
        return out

    def explain(self, text: str, label: str, n: int = 6) -> list[str]:
        """The character n-grams of ``text`` that push hardest towards ``label``."""
        import numpy as np

        if label not in self.labels:
            return []
        x = self.vectorizer.transform([self.prepare(text)]).tocoo()
        row = self.model.coef_[self.labels.index(label)]
        contrib = sorted(((row[j] * v, j) for j, v in zip(x.col, x.data, strict=True)), reverse=True)
        vocab = np.asarray(self.vectorizer.get_feature_names_out())
        return [str(vocab[j]) for w, j in contrib[:n] if w > 0]


_model: KindModel | None = None
_model_lock = threading.Lock()


def kind_model() -> KindModel:
    """The process-wide classifier (trained on first use, ~1 s)."""
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                _model = KindModel(training_examples())
    return _model


# --------------------------------------------------------------------------- features


@dataclass(frozen=True)
class Analysis:
    """Everything the decision reads, computed once per message (so thresholds can be tuned
    without searching again)."""

    text: str
    cleaned: str
    focus: str
    length: int  # content characters of the cleaned message
    named: tuple[str, ...]
    named_full: bool
    named_anywhere: tuple[str, ...]  # named anywhere, also in a story's account of what was done
    hits: tuple[ThemeRef, ...]  # search of the focus, best first
    coverage: float  # share of the focus's content words the best theme's vocabulary contains
    kinds: dict[str, float]  # classifier probabilities (whole message)
    focus_thing: float  # the classifier's thing vote for the focus alone (the asking sentences)
    procedure: bool  # a sentence asks how to get a matter done
    bancheng_cue: str | None
    consumer_cue: str | None
    department: str | None
    part_hits: tuple[ThemeRef, ...] = ()  # best hit of each part, for two_things
    also: bool = False  # an "also" word adds a second matter


_ALSO_RE = re.compile(r"还要|还想|顺便|另外|以及|同时|加上|再就是|又要|还有")
_CONNECTORS = re.compile(
    r"[，,、；;。.!！?？\s]+|还要|还有|还想|另外|以及|同时|加上|顺便|再就是|和|跟|与|又要"
)


class _Vocab:
    """Per-theme vocabulary (jieba words of its documents) for ``coverage``."""

    def __init__(self, service: KnowledgeService) -> None:
        from knowledge.search.index import theme_docs

        tok = service.searcher.tokenizer
        self.tokenizer = tok
        self.words: dict[str, set[str]] = {}
        for theme in service.themes():
            words: set[str] = set()
            for doc in theme_docs(theme):
                words.update(tok.words_of(doc.text))
            self.words[theme.code] = words

    def coverage(self, text: str, code: str) -> float:
        words = [w for w in self.tokenizer.words_of(text) if len(w) >= 2 or "\u3400" <= w[0] <= "\u9fff"]
        if not words:
            return 0.0
        vocab = self.words.get(code, set())
        total = sum(len(w) for w in words)
        hit = sum(len(w) for w in words if w in vocab or any(w in v for v in vocab if len(v) > len(w)))
        return hit / total if total else 0.0


_vocabs: dict[int, _Vocab] = {}
_vocab_lock = threading.Lock()


def _vocab(service: KnowledgeService) -> _Vocab:
    key = id(service)
    if key not in _vocabs:
        with _vocab_lock:
            if key not in _vocabs:
                _vocabs[key] = _Vocab(service)
    return _vocabs[key]


def _titles(service: Any) -> dict[str, str]:
    return {t.code: t.title for t in service.themes()}


def department_of(text: str) -> str | None:
    for d in cues().departments:
        if re.search(d.cue, text):
            return d.dept
    return None


def analyse(
    text: str,
    service: KnowledgeService | None = None,
    *,
    title: str | None = None,
    model: KindModel | None = None,
    params: Params = PARAMS,
) -> Analysis:
    if service is None:
        from knowledge.service import get_service

        service = get_service()
    model = model or kind_model()
    full = f"{title}\n{text}" if title else text
    cleaned = clean(full)
    titles = _titles(service)
    body = clean(text)
    short = content_len(body) <= SHORT_CHARS
    asking = asking_sentences(body)
    # A one thing named in a short message, the title, or a sentence that asks (not in a story's
    # account of what was done: "我按你们讲的去办了个人身后一件事，真的只跑了一次").
    where = [cleaned] if short else [clean(title or ""), *asking]
    named, named_full = named_codes("。".join(w for w in where if w), titles)
    named_anywhere, anywhere_full = named_codes(cleaned, titles)
    foc = focus(text, title)
    # The focus, and each asking sentence of a long message on its own; a theme's score is its
    # best over these searches (so two sentences about two matters both show).
    best: dict[str, ThemeRef] = {}
    searched, top = foc, -1.0
    in_context = [] if short else asking_in_context(body)[:MAX_SENTENCE_SEARCHES]
    queries = [foc] + ([] if short else asking[:MAX_SENTENCE_SEARCHES]) + in_context
    for query in dict.fromkeys(q for q in queries if q):
        for h in service.search(query, k=5):
            if h.code not in best or h.score > best[h.code].score:
                best[h.code] = ThemeRef(code=h.code, title=h.title, score=h.score)
            if h.score > top:
                searched, top = query, h.score
    hits = tuple(sorted(best.values(), key=lambda h: -h.score)[:5])
    cov = _vocab(service).coverage(searched, hits[0].code) if hits else 0.0
    pats = _patterns()
    b = pats["bancheng"].search(cleaned)
    c = None if pats["consumer_not"].search(cleaned) else pats["consumer"].search(cleaned)
    also_at = _ALSO_RE.search(cleaned)
    also = bool(also_at) and content_len(cleaned) <= SHORT_CHARS
    part_hits: list[ThemeRef] = []
    if also and also_at is not None:
        # the matter before the "also" word, and the one right after it
        before, after = cleaned[: also_at.start()], cleaned[also_at.end() :]
        after = _CONNECTORS.split(after)[0] if _CONNECTORS.split(after)[0].strip() else after
        for part in (before, after):
            if content_len(part) >= 2:
                got = service.search(part, k=1)
                if got:
                    part_hits.append(ThemeRef(code=got[0].code, title=got[0].title, score=got[0].score))
    return Analysis(
        text=text,
        cleaned=cleaned,
        focus=searched,
        length=content_len(cleaned),
        named=tuple(named),
        named_full=named_full,
        named_anywhere=tuple(named_anywhere),
        hits=hits,
        coverage=round(cov, 3),
        kinds=model.probabilities(full),
        focus_thing=model.probabilities(searched)["thing"] if searched and not short else 0.0,
        procedure=bool(asking) or bool(_patterns()["ask"].search(cleaned)),
        bancheng_cue=b.group(0) if b else None,
        consumer_cue=c.group(0) if c else None,
        department=department_of(cleaned),
        part_hits=tuple(part_hits),
        also=also,
    )


# --------------------------------------------------------------------------- the decision


def _refs(service_titles: dict[str, str], codes: Sequence[str]) -> list[ThemeRef]:
    return [ThemeRef(code=c, title=service_titles.get(c, c), score=1.0) for c in codes]


def _best_other(kinds: dict[str, float]) -> tuple[str, float]:
    label, p = max(((k, v) for k, v in kinds.items() if k != "thing"), key=lambda kv: kv[1])
    return label, p


def _not_a_thing_kind(a: Analysis, label: str, params: Params) -> Kind:
    if label == "bancheng":
        if a.bancheng_cue and a.kinds["bancheng"] >= params.bancheng_min:
            return Kind.bancheng_candidate
        # not sure enough for the form: the next most likely kind
        rest = {k: v for k, v in a.kinds.items() if k not in ("thing", "bancheng")}
        label = max(rest, key=lambda k: rest[k])
    if label == "complaint":
        return Kind.consumer if a.consumer_cue else Kind.complaint
    return {
        "suggestion": Kind.suggestion,
        "question": Kind.question,
        "chitchat": Kind.chitchat,
    }[label]


def _two_things(a: Analysis, params: Params) -> list[str] | None:
    if not a.also:
        return None
    found: list[str] = []
    for h in a.part_hits:
        if h.score >= params.part_strong and h.code not in found:
            found.append(h.code)
    if len(found) >= 2:
        return found[:2]
    hits = a.hits
    if len(hits) >= 2 and hits[1].score >= params.pair_strong and hits[0].code != hits[1].code:
        return [hits[0].code, hits[1].code]
    return None


def _about(a: Analysis, params: Params) -> ThemeRef | None:
    """What a not-a-thing message is about, when the search alone would be sure of it."""
    hits = a.hits
    if not hits:
        return None
    p2 = hits[1].score if len(hits) > 1 else 0.0
    if (
        hits[0].score >= params.sure_p
        and p2 < params.sure_close * hits[0].score
        and a.coverage >= params.sure_coverage
    ):
        return hits[0]
    return None


def pair_of(parts: Sequence[str], whole: str, service: Any, params: Params = PARAMS) -> list[str] | None:
    """Two matters in one checklist request ("上户口和育儿补贴一起办", parts already cut by the
    caller): two parts whose own best hits are different and at least ``part_strong``; else the
    whole message's best two when both are at least ``pair_strong``. ``None`` otherwise, or
    when the service has no search."""
    finder = getattr(service, "search", None)
    if finder is None or len(parts) < 2:
        return None
    found: list[str] = []
    for part in parts:
        hits = list(finder(part, k=1))
        if hits and hits[0].score >= params.part_strong and hits[0].code not in found:
            found.append(hits[0].code)
        if len(found) == 2:
            return found
    hits = list(finder(whole, k=3))
    if len(hits) >= 2 and hits[0].code != hits[1].code and hits[1].score >= params.pair_strong:
        return [hits[0].code, hits[1].code]
    return None


def decide(a: Analysis, titles: dict[str, str], params: Params = PARAMS) -> Resolution:
    """The verdict for an analysed message (pure: no search, no model)."""
    thing_p = a.kinds.get("thing", 0.0)
    other, other_p = _best_other(a.kinds)
    hits = list(a.hits)
    p1 = hits[0].score if hits else 0.0
    p2 = hits[1].score if len(hits) > 1 else 0.0
    cands = hits[:MAX_CANDIDATES]
    facts = f"p1={p1:.2f} p2={p2:.2f} thing={thing_p:.2f} {other}={other_p:.2f} cov={a.coverage:.2f} len={a.length}"
    common = {"candidates": cands, "focus": a.focus}

    if not a.cleaned:
        return Resolution(verdict=Verdict.none, reason="empty", **common)

    # 1. Naming the one thing always works: in a short message or a sentence that asks, or
    # anywhere when the message reads as a request.
    named = a.named or (a.named_anywhere if thing_p >= params.sure_thing else ())
    if named and (a.named_full or other_p < params.named_core_block):
        a = replace(a, named=tuple(named))
        if len(a.named) >= 2 and a.named_full:
            return Resolution(
                verdict=Verdict.two_things,
                themes=_refs(titles, a.named[:2]),
                reason=f"named two; {facts}",
                **common,
            )
        themes = _refs(titles, a.named[:1])
        second = _two_things(a, params) if a.also else None
        if second and a.named[0] in second:
            other_code = next(c for c in second if c != a.named[0])
            return Resolution(
                verdict=Verdict.two_things,
                themes=[*themes, *_refs(titles, [other_code])],
                reason=f"named + also; {facts}",
                **common,
            )
        return Resolution(verdict=Verdict.sure, themes=themes, reason=f"named; {facts}", **common)

    # 2. Clearly not a one thing: a complaint, a suggestion, a question, 办不成事, chit-chat. A
    # message that asks how to get a matter done and matches one well is kept as a possible thing
    # (offered, never "sure") unless it is clearly a complaint or a suggestion.
    asks_for_thing = (
        a.procedure
        and p1 >= params.procedure_p
        and thing_p >= params.procedure_thing
        and not (other in ("complaint", "suggestion") and other_p >= params.procedure_block)
    )
    if other_p >= params.not_thing_min and thing_p < params.thing_keep and not asks_for_thing:
        kind = _not_a_thing_kind(a, other, params)
        return Resolution(
            verdict=Verdict.not_a_thing,
            kind=kind,
            department=a.department if kind is not Kind.chitchat else None,
            about=_about(a, params) if kind is not Kind.chitchat else None,
            reason=f"kind {kind.value}; {facts}",
            **common,
        )

    # 3. A one thing, as sure as the search, the classifier and the coverage allow.
    long_msg = a.length > params.long_chars
    if (
        p1 >= params.sure_p
        and p2 < params.sure_close * p1
        and (
            thing_p >= params.sure_thing
            or (a.focus_thing >= params.sure_focus_thing and other_p < params.sure_focus_other)
            # a short message: the search's calibration was fitted on short requests; the
            # classifier only vetoes when another kind is clearly recognised
            or (
                a.length <= params.short_sure_chars
                and other_p < params.not_thing_min
                and thing_p >= params.guess_thing
                and a.coverage >= params.sure_coverage
            )
        )
        and (not long_msg or a.coverage >= params.sure_coverage)
    ):
        pair = _two_things(a, params)
        if pair and hits[0].code in pair:
            return Resolution(
                verdict=Verdict.two_things, themes=_refs(titles, pair), reason=f"also; {facts}", **common
            )
        return Resolution(verdict=Verdict.sure, themes=hits[:1], reason=f"search sure; {facts}", **common)
    if asks_for_thing and thing_p < params.guess_thing:
        close = [h for h in cands if h.score >= p1 * params.choose_ratio]
        verdict = Verdict.choose if len(close) >= 2 else Verdict.guess
        return Resolution(
            verdict=verdict,
            themes=close[: MAX_CANDIDATES if len(close) >= 2 else 1],
            reason=f"asks, {verdict.value}; {facts}",
            **common,
        )
    if p1 >= params.choose_p and thing_p >= params.guess_thing:
        close = [h for h in cands if h.score >= p1 * params.choose_ratio]
        if len(close) >= 2:
            return Resolution(verdict=Verdict.choose, themes=close, reason=f"choose; {facts}", **common)
        return Resolution(
            verdict=Verdict.guess, themes=close[:1], reason=f"guess (one close); {facts}", **common
        )
    if p1 >= params.guess_p and thing_p >= params.guess_thing:
        close = [h for h in cands if h.score >= p1 * params.guess_ratio][:2]
        return Resolution(verdict=Verdict.guess, themes=close, reason=f"guess; {facts}", **common)

    # 4. Nothing fits: say what kind of message it is when that is recognisable.
    if other_p >= thing_p and other_p >= params.kind_min:
        kind = _not_a_thing_kind(a, other, params)
        return Resolution(
            verdict=Verdict.not_a_thing,
            kind=kind,
            department=a.department if kind is not Kind.chitchat else None,
            about=_about(a, params) if kind is not Kind.chitchat else None,
            reason=f"no fit, kind {kind.value}; {facts}",
            **common,
        )
    return Resolution(verdict=Verdict.none, reason=f"no fit; {facts}", **common)


def resolve(
    text: str,
    service: KnowledgeService | None = None,
    *,
    title: str | None = None,
    model: KindModel | None = None,
    params: Params = PARAMS,
) -> Resolution:
    """The one decision for a citizen's message (see the module docstring)."""
    if service is None:
        from knowledge.service import get_service

        service = get_service()
    if title is None:
        title, text = split_title(text)
    a = analyse(text, service, title=title, model=model, params=params)
    return decide(a, _titles(service), params)


#: A first line this short, followed by a body at least this long, is read as the message's subject
#: line (as on the message board the realistic set comes from, and as people write letters).
TITLE_MAX_CHARS = 40
BODY_MIN_CHARS = 40


def split_title(text: str) -> tuple[str | None, str]:
    """(subject line, body) when the message opens with a short line of its own, else (None, text):
    the evaluation passes a board message's title separately, a chat message carries it as its
    first line, and both must be decided the same way."""
    head, sep, body = text.strip().partition("\n")
    if sep and len(head.strip()) <= TITLE_MAX_CHARS and len(body.strip()) >= BODY_MIN_CHARS:
        return head.strip(), body.strip()
    return None, text


def with_params(**changes: Any) -> Params:
    """``PARAMS`` with some thresholds changed (calibration grids only)."""
    return replace(PARAMS, **changes)
