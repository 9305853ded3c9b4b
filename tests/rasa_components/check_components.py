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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from rasa.engine.graph import ExecutionContext, GraphSchema  # noqa: E402
from rasa.engine.storage.local_model_storage import LocalModelStorage  # noqa: E402
from rasa.engine.storage.resource import Resource  # noqa: E402
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer  # noqa: E402
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402
from rasa.shared.nlu.training_data.training_data import TrainingData  # noqa: E402

from rasa_components.tfidf_logreg import TfidfLogisticRegressionClassifier  # noqa: E402

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


def test_tfidf_classifier_trains_saves_and_loads() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        storage = LocalModelStorage(Path(tmp))
        tokenizer = _tokenizer(storage)
        data = tokenizer.process_training_data(_training_data())
        counts_config = {**CountVectorsFeaturizer.get_default_config(), "analyzer": "char_wb", "max_ngram": 3}
        counts = CountVectorsFeaturizer.create(counts_config, storage, Resource("counts"), _context())
        counts.train(data)
        counts.process_training_data(data)
        config = {**TfidfLogisticRegressionClassifier.get_default_config(), "C": 30}
        resource = Resource("classifier")
        TfidfLogisticRegressionClassifier.create(config, storage, resource, _context()).train(data)
        loaded = TfidfLogisticRegressionClassifier.load(config, storage, resource, _context())
        assert loaded.clf.named_steps["logistic"].C == 30
        assert "weigh" in loaded.clf.named_steps

        messages = tokenizer.process([Message(data={"text": t}) for t in ("礼拜六几点关门", "要交钱不")])
        counts.process(messages)
        loaded.process(messages)
        assert [m.get("intent")["name"] for m in messages] == ["ask_hours", "ask_fee"]
        ranking = messages[0].get("intent_ranking")
        assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-6


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


def test_tfidf_classifier_refuses_a_bad_c() -> None:
    try:
        TfidfLogisticRegressionClassifier.validate_config({"C": 0})
    except ValueError:
        return
    raise AssertionError("C=0 was accepted")


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
