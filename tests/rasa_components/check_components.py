"""Checks of the custom Rasa NLU components (rasa_components/) and of the annotation fixer, run with
the Rasa venv:

    .venv/rasa/bin/python tests/rasa_components/check_components.py

(Rasa lives in its own Python 3.10 venv without pytest, so this file is a plain script: every
``test_*`` function runs and a failure exits 1. ``make test`` runs it; pytest skips this folder.)
The components run for real: jieba tokens, Rasa's model storage, training, saving and loading.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
import traceback
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from rasa.engine.graph import ExecutionContext, GraphSchema  # noqa: E402
from rasa.engine.storage.local_model_storage import LocalModelStorage  # noqa: E402
from rasa.engine.storage.resource import Resource  # noqa: E402
from rasa.nlu.extractors.spacy_entity_extractor import SpacyEntityExtractor  # noqa: E402
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer  # noqa: E402
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer  # noqa: E402
from rasa.nlu.utils.spacy_utils import SpacyNLP  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402
from rasa.shared.nlu.training_data.training_data import TrainingData  # noqa: E402

from rasa_components import spacy_pipeline  # noqa: E402
from rasa_components.long_message import LongMessageRouter  # noqa: E402
from rasa_components.tfidf_linear import SoftmaxCalibrated, TfidfLinearIntentClassifier  # noqa: E402

EXAMPLES = {
    "ask_hours": ["几点上班", "几点关门", "中午上不上班", "周末开门吗"],
    "ask_fee": ["收费吗", "要几多钱", "要不要钱", "办证收不收费"],
    "out_of_scope": ["今天天气怎么样", "猪血丸子怎么做", "讲个笑话", "王者荣耀怎么上分"],
}


def _context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "check")


def _training_data() -> TrainingData:
    return TrainingData([Message(data={"text": t, "intent": i}) for i, texts in EXAMPLES.items() for t in texts])


def _tokenizer(storage: LocalModelStorage) -> JiebaTokenizer:
    config = {**JiebaTokenizer.get_default_config(), "dictionary_path": None}
    return JiebaTokenizer.create(config, storage, Resource("tokenizer"), _context())


def _train_and_load(storage: LocalModelStorage, tokenizer: JiebaTokenizer, overrides: dict) -> tuple:
    """Train the classifier (with char n-gram counts) on EXAMPLES, save it, load it back."""
    data = tokenizer.process_training_data(_training_data())
    counts_config = {**CountVectorsFeaturizer.get_default_config(), "analyzer": "char_wb", "max_ngram": 3}
    counts = CountVectorsFeaturizer.create(counts_config, storage, Resource("counts"), _context())
    counts.train(data)
    counts.process_training_data(data)
    config = {**TfidfLinearIntentClassifier.get_default_config(), **overrides}
    resource = Resource(f"classifier-{overrides['model']}")
    TfidfLinearIntentClassifier.create(config, storage, resource, _context()).train(data)
    return counts, TfidfLinearIntentClassifier.load(config, storage, resource, _context())


def _classify(tokenizer: JiebaTokenizer, counts: CountVectorsFeaturizer, classifier, texts: tuple) -> list:
    messages = tokenizer.process([Message(data={"text": t}) for t in texts])
    counts.process(messages)
    classifier.process(messages)
    return messages


def test_tfidf_classifier_trains_saves_and_loads() -> None:
    for overrides, step in (
        ({"model": "linear_svm", "C": 3, "calibration_folds": 2}, SoftmaxCalibrated),
        ({"model": "logistic_regression", "C": 30, "class_weight": "balanced"}, None),
    ):
        with tempfile.TemporaryDirectory() as tmp:
            storage = LocalModelStorage(Path(tmp))
            tokenizer = _tokenizer(storage)
            counts, loaded = _train_and_load(storage, tokenizer, overrides)
            model = loaded.clf.named_steps["classify"]
            assert "weigh" in loaded.clf.named_steps
            if step is SoftmaxCalibrated:
                assert isinstance(model, SoftmaxCalibrated) and model.estimator_.C == 3
                assert model.temperature_ != 1.0  # fitted on out-of-fold decision values
            else:
                assert model.C == 30 and model.class_weight == "balanced"
            messages = _classify(tokenizer, counts, loaded, ("礼拜六几点关门", "要交钱不"))
            assert [m.get("intent")["name"] for m in messages] == ["ask_hours", "ask_fee"], overrides
            ranking = messages[0].get("intent_ranking")
            assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-6
            assert ranking[0]["confidence"] > ranking[1]["confidence"]


def test_softmax_keeps_the_svm_order() -> None:
    """The temperature rescales the SVM's decision values: the top intent is the SVM's own."""
    from sklearn.svm import LinearSVC

    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 6))
    y = np.array(["a", "b", "c"] * 30)
    X[y == "a", 0] += 2
    X[y == "b", 1] += 2
    model = SoftmaxCalibrated(LinearSVC(C=1.0, random_state=0), folds=3).fit(X, y)
    svm = LinearSVC(C=1.0, random_state=0).fit(X, y)
    assert (model.predict(X) == svm.predict(X)).all()
    assert np.allclose(model.predict_proba(X).sum(axis=1), 1.0)


def test_loading_refuses_an_untrusted_model() -> None:
    import skops.io as sio

    with tempfile.TemporaryDirectory() as tmp:
        storage = LocalModelStorage(Path(tmp))
        resource = Resource("classifier-untrusted")
        with storage.write_to(resource) as model_dir:
            sio.dump({"model": Fraction(1, 3)}, model_dir / f"{resource.name}.skops")
        try:
            TfidfLinearIntentClassifier.load({}, storage, resource, _context())
        except ValueError as error:
            assert "not trusted" in str(error) and "Fraction" in str(error)
            return
    raise AssertionError("a model holding an untrusted type was loaded")


def test_fix_annotates_only_plain_text() -> None:
    spec = importlib.util.spec_from_file_location("check_nlu_entities", ROOT / "scripts" / "check_nlu_entities.py")
    assert spec and spec.loader
    checker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checker)
    roles = [{"name": "applicant_role", "pattern": "(?:孩子他爸|爸爸)(?=去办)"}]
    line = "[塘渡口](town)的，孩子他爸去办，爸爸去办"
    assert checker.annotate_line(line, roles) == (
        "[塘渡口](town)的，[孩子他爸](applicant_role)去办，[爸爸](applicant_role)去办"
    )
    already = "[孩子他爸](applicant_role)去办"
    assert checker.annotate_line(already, roles) == already  # never inside an annotation
    assert checker.main(["--fix"]) == 2  # a clear usage message, no crash


def test_tfidf_classifier_refuses_a_bad_config() -> None:
    for bad in ({"C": 0}, {"model": "svm"}, {"class_weight": "heavy"}, {"calibration_folds": 1}):
        config = {**TfidfLinearIntentClassifier.get_default_config(), **bad}
        try:
            TfidfLinearIntentClassifier(config, "check", None, Resource("unused"))
        except ValueError as error:
            assert "TfidfLinearIntentClassifier" in str(error)
            continue
        raise AssertionError(f"{bad} was accepted")


def _routed(text: str, intent: str, confidence: float = 0.7) -> Message:
    router = LongMessageRouter({**LongMessageRouter.get_default_config(), "min_chars": 20})
    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": confidence})
    message.set("intent_ranking", [{"name": intent, "confidence": confidence}, {"name": "greet", "confidence": 0.1}])
    router.process([message])
    return message


def test_long_messages_with_a_short_message_intent_go_to_describe_situation() -> None:
    story = "物业公司把小区的消防通道租给别人摆摊，我们业主反映了好多次都没人管，请领导督促一下"
    routed = _routed(story, "report_bancheng", 0.49)
    assert routed.get("intent") == {"name": "describe_situation", "confidence": 0.49}, routed.get("intent")
    assert routed.get("long_message") == {"intent": "report_bancheng", "confidence": 0.49}
    assert [r["name"] for r in routed.get("intent_ranking")] == ["describe_situation", "report_bancheng", "greet"]
    assert _routed(story, "nlu_fallback", 0.4).get("intent")["name"] == "describe_situation"


def test_short_messages_kept_intents_and_payloads_are_left_alone() -> None:
    assert _routed("我要投诉窗口态度差", "complain").get("intent")["name"] == "complain"  # 9 characters
    long_human = "我七十多岁了，腿脚不方便，字也认不得几个，能不能帮我找个工作人员当面办一下"
    assert _routed(long_human, "ask_human").get("intent")["name"] == "ask_human"
    assert _routed("/report_bancheng" + "x" * 40, "report_bancheng").get("intent")["name"] == "report_bancheng"
    assert _routed(long_human, "ask_human").get("long_message") is None
    try:
        LongMessageRouter({**LongMessageRouter.get_default_config(), "min_chars": 0})
    except ValueError as exc:
        assert "min_chars" in str(exc)
    else:
        raise AssertionError("min_chars 0 was accepted")


def test_spacy_entity_ruler_runs_in_rasa() -> None:
    """The pipeline built from the NLU lookups, saved, loaded by Rasa's SpacyNLP and read by
    SpacyEntityExtractor, as config.yml has it."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "zh_pipeline"
        assert spacy_pipeline.ensure_built(out) is True
        assert spacy_pipeline.ensure_built(out) is False  # same patterns: not rebuilt
        storage = LocalModelStorage(Path(tmp) / "storage")
        nlp_config = {**SpacyNLP.get_default_config(), "model": str(out)}
        spacy_nlp = SpacyNLP.create(nlp_config, storage, Resource("spacy_nlp"), _context())
        config = {**SpacyEntityExtractor.get_default_config(), "dimensions": list(spacy_pipeline.LABELS)}
        extractor = SpacyEntityExtractor.create(config, storage, Resource("spacy_ner"), _context())
        texts = ["我在五峰铺林场上班，老倌子想办新生儿出生一件事", "我住在****镇，身份证43**************"]
        messages = [Message(data={"text": t}) for t in texts]
        extractor.process(spacy_nlp.process(messages, spacy_nlp.provide()), spacy_nlp.provide())
        found = [(e["value"], e["entity"], e["extractor"]) for e in messages[0].get("entities")]
        assert [(v, n) for v, n, _ in found] == [("五峰铺林场", "town"), ("新生儿出生一件事", "thing")], found
        assert {x for _, _, x in found} == {"SpacyEntityExtractor"}
        assert messages[1].get("entities") == []


def test_spacy_pipeline_changes_with_its_patterns() -> None:
    patterns = spacy_pipeline.lookup_patterns()
    assert {p["label"] for p in patterns} == set(spacy_pipeline.LABELS)
    assert {"label": "town", "pattern": "塘渡口"} in patterns
    fewer = patterns[1:]
    assert spacy_pipeline.patterns_hash(fewer) != spacy_pipeline.patterns_hash(patterns)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "p"
        spacy_pipeline.build(fewer).to_disk(out)
        assert spacy_pipeline.saved_hash(out) == spacy_pipeline.patterns_hash(fewer)
        assert spacy_pipeline.ensure_built(out) is True  # the NLU lookups differ from what is saved
        assert spacy_pipeline.saved_hash(out) == spacy_pipeline.patterns_hash(patterns)


def main() -> int:
    tests = [(name, fn) for name, fn in globals().items() if name.startswith("test_") and callable(fn)]
    failed = 0
    for name, fn in tests:
        try:
            fn()
            print(f"ok    {name}")
        except Exception:
            failed += 1
            print(f"FAIL  {name}")
            traceback.print_exc()
    print(f"{len(tests) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
