"""The scikit-learn baselines: fit / predict contracts, seeding, method specifics, bad input."""

import numpy as np
import pandas as pd
import pytest
import torch
from gymnasium import spaces
from imblearn.over_sampling import SMOTE
from scipy import sparse
from sklearn.base import clone

from agents.networks import ImageCNN, MLPBody, TextNet
from agents.supervised import CRCEN, CSM, DNN, DTA, MFE, ROS, RUS, ResampledDNN, prior_adjusted_predict, tune_threshold
from agents.supervised._trainer import predict_logits
from agents.supervised.crcen import crcen_loss
from agents.supervised.losses import cross_entropy_loss
from imbalance_gym.metrics import g_mean

ALL = [DNN, ROS, RUS, MFE, CSM, CRCEN, DTA]


@pytest.mark.parametrize("cls", ALL)
def test_fit_predict_contract_and_seeding(cls, tiny_binary, fast):
    X, y = tiny_binary
    clf = cls(random_state=0, **fast).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (100, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    pred = clf.predict(X)
    assert pred.shape == (100,) and set(np.unique(pred)) <= {0, 1}
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    scores = clf.decision_function(X)
    assert scores.shape == (100,)
    np.testing.assert_array_equal(pred, (scores > 0).astype(int))  # sign of the score = prediction
    assert isinstance(clf.network_[0], MLPBody) and clf.n_features_in_ == 4
    # same seed -> identical numbers; another seed -> other numbers
    again = cls(random_state=0, **fast).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), proba)
    assert not np.array_equal(cls(random_state=1, **fast).fit(X, y).predict_proba(X), proba)
    # clone gives an unfitted copy with the same parameters
    copy = clone(clf)
    assert copy.get_params() == clf.get_params() and not hasattr(copy, "network_")


def test_progress_bar_only_when_verbose(tiny_binary, fast, capsys):
    DNN(random_state=0, **fast).fit(*tiny_binary)
    assert "DNN" not in capsys.readouterr().err
    DNN(random_state=0, verbose=True, **fast).fit(*tiny_binary)
    assert "DNN" in capsys.readouterr().err


def test_global_torch_rng_is_untouched(tiny_binary, fast):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    DNN(random_state=0, **fast).fit(*tiny_binary)
    assert torch.equal(torch.rand(3), expected)


def test_generator_random_state_and_string_labels(tiny_binary, fast):
    X, y = tiny_binary
    labels = np.where(y == 1, "pos", "neg")
    a = DNN(random_state=np.random.default_rng(5), **fast).fit(pd.DataFrame(X), labels)
    b = DNN(random_state=np.random.default_rng(5), **fast).fit(X, labels)
    np.testing.assert_array_equal(a.classes_, ["neg", "pos"])
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert set(a.predict(X)) <= {"neg", "pos"}


def test_dta_moves_only_the_threshold_of_the_dnn(tiny_binary, fast):
    X, y = tiny_binary
    dnn = DNN(random_state=3, **fast).fit(X, y)
    dta = DTA(random_state=3, **fast).fit(X, y)
    proba = dnn.predict_proba(X)
    np.testing.assert_array_equal(dta.predict_proba(X), proba)  # same seed, same loss, same network
    # prior: argmax_c p_c / pi_c with pi the training prior, = threshold pi_1 for two classes
    np.testing.assert_allclose(dta.prior_, dta.class_counts_ / dta.class_counts_.sum())
    assert dta.threshold_ == pytest.approx(dta.prior_[1])
    np.testing.assert_array_equal(dta.predict(X), prior_adjusted_predict(proba, dta.prior_))
    # with 4 short epochs P(y=1) sits between pi_1 and .5 for some rows: those flip to 1
    flipped = (proba[:, 1] > dta.threshold_) & (proba[:, 1] <= 0.5)
    assert flipped.any()
    np.testing.assert_array_equal(dta.predict(X)[flipped], 1)
    np.testing.assert_array_equal(dnn.predict(X)[flipped], 0)


def test_dta_tuned_threshold_maximises_validation_g_mean(tiny_binary, fast):
    X, y = tiny_binary
    X_val, y_val = X[::2], y[::2]
    dta = DTA(threshold="tuned", random_state=0, **fast).fit(X, y, X_val, y_val)
    p_val = dta.predict_proba(X_val)[:, 1]
    assert dta.threshold_ == tune_threshold(p_val, y_val, "g_mean")
    np.testing.assert_array_equal(dta.predict(X_val), (p_val > dta.threshold_).astype(int))
    mcc = DTA(threshold="tuned", metric="mcc", random_state=0, **fast).fit(X, y, X_val, y_val)
    assert mcc.threshold_ == tune_threshold(p_val, y_val, "mcc")


def test_crcen_default_lambda_and_loss(tiny_binary, fast):
    X, y = tiny_binary
    clf = CRCEN(random_state=0, **fast).fit(X, y, X[:20], y[:20])  # explicit val: trains on all 90/10
    assert clf.lambda_ == pytest.approx(0.9)
    held_out = CRCEN(random_state=0, **fast).fit(X, y)  # 10% stratified val: trains on 81/9
    np.testing.assert_array_equal(held_out.class_counts_, [81, 9])
    assert held_out.lambda_ == pytest.approx(81 / 90)
    fixed = CRCEN(lam=0.3, random_state=0, **fast).fit(X, y)
    assert fixed.lambda_ == 0.3
    # the validation loss recorded for the kept epoch is CRCEN's loss on the validation rows
    logits = predict_logits(clf.network_, torch.as_tensor(X[:20], dtype=torch.float32))
    val = crcen_loss(logits, torch.as_tensor(y[:20]), 0.9, reduction="mean").item()
    assert val == pytest.approx(min(clf.history_.val_loss), rel=1e-5)


def test_csm_weights_and_losses(tiny_binary, fast):
    X, y = tiny_binary
    csm = CSM(random_state=0, **fast).fit(X, y)
    np.testing.assert_allclose(csm.class_weights_, [90 / (2 * 81), 90 / (2 * 9)])  # N / (C N_c) of 81/9
    sq = CSM(loss="squared_error", random_state=0, **fast).fit(X, y)
    assert not np.array_equal(sq.predict_proba(X), csm.predict_proba(X))


def test_resampled_class_counts(tiny_binary, fast):
    X, y = tiny_binary  # 90 / 10 -> training split 81 / 9 after the 10% validation hold-out
    np.testing.assert_array_equal(ROS(random_state=0, **fast).fit(X, y).class_counts_, [81, 81])
    np.testing.assert_array_equal(RUS(random_state=0, **fast).fit(X, y).class_counts_, [9, 9])
    smote = ResampledDNN(SMOTE(k_neighbors=3), random_state=0, **fast).fit(X, y)
    np.testing.assert_array_equal(smote.class_counts_, [81, 81])


def test_resampling_by_row_index_for_images(tiny_images, fast):
    X, y = tiny_images  # 54 / 6 -> 48 / 5 after hold-out (one minority row kept for validation)
    ros = ROS(random_state=0, **fast).fit(X, y)
    assert isinstance(ros.network_[0], ImageCNN)
    assert ros.class_counts_[0] == ros.class_counts_[1] == int(np.sum(y == 0)) - round(0.1 * np.sum(y == 0))
    with pytest.raises(ValueError, match="SMOTE makes synthetic rows"):
        ResampledDNN(SMOTE(k_neighbors=2), random_state=0, **fast).fit(X, y)


def test_images_with_and_without_channel_axis(tiny_images, fast):
    X, y = tiny_images
    clf = DNN(random_state=0, **fast).fit(X[:, 0], y)  # [N, H, W] -> one channel
    assert isinstance(clf.network_[0], ImageCNN) and clf.input_shape_ == (1, 28, 28)
    np.testing.assert_array_equal(clf.predict_proba(X[:, 0]), clf.predict_proba(X))
    assert clf.predict_proba(X).shape == (60, 2)


def test_token_ids_through_observation(fast):
    rng = np.random.default_rng(0)
    X = rng.integers(2, 50, size=(40, 12))
    y = (np.arange(40) < 8).astype(int)
    X[y == 1, 0] = 1  # a marker token for the minority
    space = spaces.Box(0, 49, (12,), np.int64)
    clf = DNN(observation=space, random_state=0, **fast).fit(X, y)
    assert isinstance(clf.network_[0], TextNet)
    assert clf.predict_proba(X).shape == (40, 2)
    with pytest.raises(ValueError, match="token ids outside 0..49"):
        clf.predict(X + 10)
    with pytest.raises(ValueError, match="network='text' needs observation"):
        DNN(network="text", **fast).fit(X, y)


@pytest.mark.parametrize("cls", [DNN, MFE, CSM, ROS])
def test_multiclass(cls, tiny_multiclass, fast):
    X, y = tiny_multiclass
    clf = cls(random_state=0, **fast).fit(X, y)
    assert clf.predict_proba(X).shape == (90, 3)
    assert clf.decision_function(X).shape == (90, 3)


@pytest.mark.parametrize("cls", [CRCEN, DTA])
def test_binary_only_methods_reject_three_classes(cls, tiny_multiclass, fast):
    with pytest.raises(ValueError, match=f"{cls.__name__} is binary: y must hold exactly two classes, got 3"):
        cls(**fast).fit(*tiny_multiclass)


def test_wrong_shape_at_predict(tiny_binary, fast):
    X, y = tiny_binary
    clf = DNN(random_state=0, **fast).fit(X, y)
    with pytest.raises(ValueError, match="X has 5 features, but DNN is expecting 4 features as input"):
        clf.predict(np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"X has rows of shape \(2, 2\), but DNN was fitted on rows of shape \(4,\)"):
        clf.predict(np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match="Reshape your data"):
        clf.predict(np.zeros(4))
    with pytest.raises(TypeError, match="sparse input is not supported"):
        clf.predict(sparse.csr_matrix(np.zeros((3, 4))))
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(np.full((2, 4), np.nan))
    with pytest.raises(Exception, match="not fitted"):
        DNN().predict(X)


@pytest.mark.parametrize(
    ("estimator", "message"),
    [
        (DNN(network="rnn"), "network must be one of"),
        (DNN(network="cnn"), "network='cnn' does not fit X"),
        (DNN(hidden_sizes=(0,)), "hidden_sizes must be"),
        (DNN(max_epochs=0), "max_epochs must be an int >= 1, got 0"),
        (DNN(batch_size=-5), "batch_size must be an int >= 1, got -5"),
        (DNN(learning_rate=0), "learning_rate must be a finite number > 0, got 0"),
        (DNN(patience=0), "patience must be an int >= 1 or None, got 0"),
        (DNN(val_size=1.0), r"val_size must be a number in \(0, 1\), got 1.0"),
        (DNN(device="tpu"), "device must be"),
        (DNN(random_state=-1), "random_state must be"),
        (DNN(observation="box"), "observation must be a gymnasium.spaces.Box"),
        (CRCEN(lam=1.0), r"lam must be in the open interval \(0, 1\)"),
        (CRCEN(lam=0), r"lam must be in the open interval \(0, 1\)"),
        (CSM(loss="hinge"), "loss must be one of"),
        (DTA(threshold="best"), "threshold must be one of"),
        (DTA(metric="auc"), "unknown metric"),
        (ResampledDNN(), "sampler must be an imbalanced-learn sampler"),
    ],
)
def test_bad_parameters(estimator, message, tiny_binary):
    with pytest.raises(ValueError, match=message):
        estimator.fit(*tiny_binary)


def test_bad_targets_and_validation_data(tiny_binary, fast):
    X, y = tiny_binary
    with pytest.raises(ValueError, match=r"y must have shape \[100\]"):
        DNN(**fast).fit(X, y[:50])
    with pytest.raises(ValueError, match=r"at least two classes, got 1 class \(\[0.0\]\)"):
        DNN(**fast).fit(X, np.zeros(100))
    with pytest.raises(ValueError, match="give both X_val and y_val"):
        DNN(**fast).fit(X, y, X_val=X)
    with pytest.raises(ValueError, match="y_val holds labels not seen in y"):
        DNN(**fast).fit(X, y, X, np.full(100, 7))
    with pytest.raises(ValueError, match="X_val has 2 features, but DNN is expecting 4"):
        DNN(**fast).fit(X, y, X[:, :2], y)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        DNN(**fast).fit(X, np.linspace(0, 1, 100))
    with pytest.raises(ValueError, match="requires y to be passed"):
        DNN(**fast).fit(X, None)


def test_trained_on_data_beats_chance(fast):
    # a learning check: separable blobs, the cost-sensitive methods find the minority
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (300, 2)), rng.normal(3, 1, (30, 2))]).astype(np.float32)
    y = np.r_[np.zeros(300, int), np.ones(30, int)]
    for cls in (CRCEN, CSM, MFE):
        clf = cls(random_state=0, hidden_sizes=(16,), max_epochs=30, device="cpu").fit(X, y)
        assert g_mean(y, clf.predict(X)) > 0.85, cls.__name__
    # and the plain CE loss the trainer used for DNN is cross_entropy_loss (val history matches)
    dnn = DNN(random_state=0, **fast).fit(X, y, X[:50], y[:50])
    logits = predict_logits(dnn.network_, torch.as_tensor(X[:50]))
    val_loss = cross_entropy_loss(logits, torch.as_tensor(y[:50])).item()
    assert val_loss == pytest.approx(min(dnn.history_.val_loss), rel=1e-5)
