"""Intent classifier: tf-idf weighted features and a linear model (SVM or logistic regression).

Rasa's ``LogisticRegressionClassifier`` fits logistic regression on the raw counts from the
featurizers, with scikit-learn's default C=1, balanced class weights and no way to change any of
them. On our Chinese data (word 1-2-grams, character 1-4-grams, regex features) three changes do
better in 5-fold cross-validation and on the blind set (docs/conversation.md, "Pipeline choices"):

- the sparse (count) features are weighted by sublinear tf-idf; dense features (none in this
  pipeline; a language-model featurizer a county might add) are passed on unweighted;
- the model is a linear SVM (``model: linear_svm``), or logistic regression with a tunable C
  (``model: logistic_regression``);
- class weights are configurable (``class_weight: balanced`` or ``none``).

An SVM has no probabilities, and Rasa's ranking and ``FallbackClassifier`` need them:
``SoftmaxCalibrated`` turns its decision values into a softmax with one temperature, fitted on
out-of-fold decision values. One temperature keeps the SVM's order of intents, so the top intent
is exactly the SVM's. Ranking and persistence (skops) are the stock component's; loading refuses a
file holding types it does not trust.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from scipy.optimize import minimize_scalar
from scipy.sparse import csr_matrix, hstack, vstack
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

MODELS = ("linear_svm", "logistic_regression")
CLASS_WEIGHTS = ("balanced", "none")


class SoftmaxCalibrated(ClassifierMixin, BaseEstimator):
    """A classifier with ``decision_function`` and probabilities ``softmax(decision / T)``.

    ``T`` minimises the negative log-likelihood of out-of-fold decision values (stratified
    ``folds``-fold cross-validation on the training data); the estimator is then fitted on all of
    it. Too few examples per class for two folds leaves ``T = 1``.
    """

    def __init__(self, estimator: Any = None, folds: int = 5) -> None:
        self.estimator = estimator
        self.folds = folds

    def fit(self, X: Any, y: Any) -> SoftmaxCalibrated:
        y = np.asarray(y)
        self.estimator_ = clone(self.estimator).fit(X, y)
        self.classes_ = self.estimator_.classes_
        self.temperature_ = 1.0
        folds = min(self.folds, int(np.unique(y, return_counts=True)[1].min()))
        if folds >= 2 and len(self.classes_) > 2:
            cv = StratifiedKFold(folds, shuffle=True, random_state=0)
            scores = cross_val_predict(clone(self.estimator), X, y, cv=cv, method="decision_function")
            truth = np.searchsorted(self.classes_, y)

            def nll(log_t: float) -> float:
                log_p = log_softmax(scores / np.exp(log_t), axis=1)
                return -float(log_p[np.arange(len(y)), truth].mean())

            self.temperature_ = float(np.exp(minimize_scalar(nll, bounds=(-5, 3), method="bounded").x))
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        return self.estimator_.decision_function(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        scores = self.decision_function(X)
        if scores.ndim == 1:  # two classes: one decision value for the second
            scores = np.column_stack([-scores, scores])
        return softmax(scores / self.temperature_, axis=1)

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


# Types beyond skops' default trust list that the saved pipeline holds: the tf-idf weights are a
# sparse diagonal matrix, and the SVM's calibration wrapper is ours. Any other type is refused.
TRUSTED_TYPES = frozenset({"scipy.sparse._csr.csr_matrix", f"{__name__}.SoftmaxCalibrated"})


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TfidfLinearIntentClassifier(LogisticRegressionClassifier):
    """A linear intent classifier over tf-idf weighted features (see the module's docstring)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **LogisticRegressionClassifier.get_default_config(),
            "model": "linear_svm",
            "C": 3.0,  # inverse regularisation strength
            "class_weight": "none",
            "sublinear_tf": True,  # 1 + log(count) instead of the count
            "calibration_folds": 5,  # linear_svm: folds for fitting the softmax temperature
        }

    def __init__(
        self, config: dict[str, Any], name: str, model_storage: ModelStorage, resource: Resource
    ) -> None:
        super().__init__(config, name, model_storage, resource)
        self.validate_config(self.config)  # Rasa itself never calls it for a classifier
        self.model = self._model()

    def _model(self) -> Any:
        """The unfitted classifier that the configuration asks for."""
        weight = None if self.config["class_weight"] == "none" else "balanced"
        C = float(self.config["C"])
        if self.config["model"] == "logistic_regression":
            return self.clf.set_params(C=C, class_weight=weight)  # the stock component's otherwise
        svm = LinearSVC(
            C=C,
            class_weight=weight,
            max_iter=self.config["max_iter"],
            tol=self.config["tol"],
            random_state=self.config["random_state"],
        )
        return SoftmaxCalibrated(svm, folds=int(self.config["calibration_folds"]))

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
            self.clf = Pipeline([("weigh", columns), ("classify", self.model)])
        return vstack([hstack([s, d]) for s, d in zip(sparse_rows, dense_rows, strict=True)]).tocsr()

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TfidfLinearIntentClassifier:
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
        name = cls.__name__
        if config.get("model", "linear_svm") not in MODELS:
            raise ValueError(f"{name}: model must be one of {', '.join(MODELS)}")
        if config.get("class_weight", "none") not in CLASS_WEIGHTS:
            raise ValueError(f"{name}: class_weight must be one of {', '.join(CLASS_WEIGHTS)}")
        if float(config.get("C", 3.0)) <= 0:
            raise ValueError(f"{name}: C must be positive")
        if int(config.get("calibration_folds", 5)) < 2:
            raise ValueError(f"{name}: calibration_folds must be at least 2")
