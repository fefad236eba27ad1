"""Supervised baselines on the networks DQNimb uses: DNN, ROS, RUS, MFE, CSM, CRCEN, DTA.

Every classifier is a scikit-learn estimator (``fit(X, y, X_val=None, y_val=None)``,
``predict``, ``predict_proba``, ``decision_function``, ``classes_``) trained by one
shared loop (:mod:`agents.supervised._trainer`): Adam 5e-4, batches of 64, up to 100
epochs, early stopping on the validation loss with the best weights restored (DQNimb
sec. IV-D). The methods differ only in the loss, the rows trained on or the decision
threshold. The losses and the threshold rules are pure functions with their own tests.

Example::

    from agents.supervised import CRCEN
    clf = CRCEN(random_state=0).fit(task.X_train, task.y_train, task.X_val, task.y_val)
    y_pred = clf.predict(task.X_test)
"""

from ._base import NetworkClassifier
from ._trainer import TrainingConfig, TrainingHistory, train_network
from .classifiers import CRCEN, CSM, DNN, DTA, MFE, ROS, RUS, ResampledDNN
from .crcen import crcen_loss, default_lambda, eq6_lhs, eq6_rhs, eq7_lhs, eq7_rhs
from .losses import cross_entropy_loss, inverse_frequency_weights, squared_error_loss
from .mfe import mfe_loss
from .threshold import prior_adjusted_predict, prior_threshold, tune_threshold

__all__ = [
    "CRCEN",
    "CSM",
    "DNN",
    "DTA",
    "MFE",
    "NetworkClassifier",
    "ROS",
    "RUS",
    "ResampledDNN",
    "TrainingConfig",
    "TrainingHistory",
    "crcen_loss",
    "cross_entropy_loss",
    "default_lambda",
    "eq6_lhs",
    "eq6_rhs",
    "eq7_lhs",
    "eq7_rhs",
    "inverse_frequency_weights",
    "mfe_loss",
    "prior_adjusted_predict",
    "prior_threshold",
    "squared_error_loss",
    "train_network",
    "tune_threshold",
]
