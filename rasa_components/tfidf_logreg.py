"""Intent classifier: tf-idf weighting plus logistic regression with a tunable C.

Rasa's ``LogisticRegressionClassifier`` fits logistic regression on the raw counts from the
featurizers, with scikit-learn's default C=1 and no way to change either. On our Chinese data
(word 1-2-grams, character 1-4-grams, regex features) sublinear tf-idf weighting of the sparse
(count) features and a weaker regularisation do better in 5-fold cross-validation and on the blind
set (docs/conversation.md, "Pipeline choices"). Dense features (none in this pipeline; a
language-model featurizer a county might add) are passed on unweighted. Everything else
(ranking, balanced class weights, persistence with skops) is the stock component's.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import csr_matrix, hstack, vstack
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.pipeline import Pipeline

# Types beyond skops' default trust list that the saved pipeline holds: the tf-idf weights are a
# sparse diagonal matrix. Any other unexpected type is refused.
TRUSTED_TYPES = frozenset({"scipy.sparse._csr.csr_matrix"})


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TfidfLogisticRegressionClassifier(LogisticRegressionClassifier):
    """``LogisticRegressionClassifier`` over tf-idf weighted features, with ``C`` configurable."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **LogisticRegressionClassifier.get_default_config(),
            "C": 10.0,  # inverse regularisation strength
            "sublinear_tf": True,  # 1 + log(count) instead of the count
        }

    def __init__(
        self, config: dict[str, Any], name: str, model_storage: ModelStorage, resource: Resource
    ) -> None:
        super().__init__(config, name, model_storage, resource)
        self.logistic = self.clf.set_params(C=float(self.config["C"]))

    def _create_X(self, messages: list[Message]) -> csr_matrix:
        """[sparse sentence features | dense sentence features]. The first call (training) also
        builds the pipeline, which tf-idf weights the sparse columns only."""
        sparse_rows, dense_rows = [], []
        for message in messages:
            sparse = message.get_sparse_features(attribute=TEXT)[1]
            dense = message.get_dense_features(attribute=TEXT)[1]
            sparse_rows.append(csr_matrix(sparse.features) if sparse else csr_matrix((1, 0)))
            dense_rows.append(csr_matrix(dense.features) if dense else csr_matrix((1, 0)))
        if not isinstance(self.clf, Pipeline):
            n_sparse = sparse_rows[0].shape[1] if sparse_rows else 0
            tfidf = TfidfTransformer(sublinear_tf=bool(self.config["sublinear_tf"]))
            columns = ColumnTransformer([("tfidf", tfidf, slice(0, n_sparse))], remainder="passthrough")
            self.clf = Pipeline([("weigh", columns), ("logistic", self.logistic)])
        return vstack([hstack([s, d]) for s, d in zip(sparse_rows, dense_rows, strict=True)]).tocsr()

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TfidfLogisticRegressionClassifier:
        """Load the trained pipeline. Unlike the stock component, a model that cannot be loaded is
        an error: silently serving an untrained classifier would send every message to fallback."""
        import skops.io as sio

        with model_storage.read_from(resource) as model_dir:
            path = model_dir / f"{resource.name}.skops"
            untrusted = sio.get_untrusted_types(file=path)
            unexpected = sorted(set(untrusted) - TRUSTED_TYPES)
            if unexpected:
                raise ValueError(f"{path} holds types that are not trusted: {unexpected}")
            component = cls(config, execution_context.node_name, model_storage, resource)
            component.clf = sio.load(path, trusted=untrusted)
        return component

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if float(config.get("C", 10.0)) <= 0:
            raise ValueError("TfidfLogisticRegressionClassifier: C must be positive")
