"""Download code paths with monkeypatched fetchers; the network is blocked throughout."""

from __future__ import annotations

import gzip
import io
import socket
import urllib.error
import urllib.request

import numpy as np
import pandas as pd
import pytest
from sklearn.utils import Bunch

from imbalance_gym.datasets import DatasetNotFoundError, download_dataset, load_dataset, load_task


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any real connection attempt fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _openml_fake(frames: dict[int, tuple[pd.DataFrame, str]], calls: list):
    def fetch_openml(*, data_id, as_frame, parser):
        calls.append(data_id)
        assert as_frame is True
        frame, target = frames[data_id]
        return Bunch(frame=frame, target=frame[target], data=frame.drop(columns=[target]))

    return fetch_openml


def test_openml_download_writes_a_csv_that_loads(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(30, 10)), columns=[f"f{i}" for i in range(10)])
    frame["class"] = pd.Categorical(["g"] * 20 + ["h"] * 10)
    calls = []
    monkeypatch.setattr("sklearn.datasets.fetch_openml", _openml_fake({1120: (frame, "class")}, calls))
    folder = download_dataset("magic_telescope", data_home=tmp_path)
    assert calls == [1120] and folder == tmp_path / "magic_telescope"
    assert sorted(p.name for p in folder.iterdir()) == ["magic_telescope.csv"]  # no .part left
    raw = load_dataset("magic_telescope", data_home=tmp_path)
    assert raw.X.shape == (30, 10) and sorted(set(raw.y.tolist())) == ["g", "h"]
    task = load_task("magic_telescope", seed=0, data_home=tmp_path)
    assert task.info["label_mapping"] == {"g": 0, "h": 1}
    download_dataset("magic_telescope", data_home=tmp_path)  # complete: nothing fetched
    assert calls == [1120]


def test_openml_target_is_renamed_and_nominal_features_stay_categorical(tmp_path, monkeypatch):
    # OpenML 1471 calls the eye-state target "Class" (1/2); the catalog's column is eyeDetection.
    eeg = pd.DataFrame({f"V{i}": np.arange(12.0) + i for i in range(14)})
    eeg["Class"] = pd.Categorical(["1"] * 8 + ["2"] * 4)
    # OpenML 4534: 30 nominal features in {-1, 0, 1}; read back from CSV they are integers.
    phishing = pd.DataFrame({f"x{i}": pd.Categorical(["-1", "1", "0", "1"] * 3) for i in range(30)})
    phishing["Result"] = pd.Categorical(["1"] * 8 + ["-1"] * 4)
    calls = []
    monkeypatch.setattr(
        "sklearn.datasets.fetch_openml",
        _openml_fake({1471: (eeg, "Class"), 4534: (phishing, "Result")}, calls),
    )
    task = load_task("eeg_eye_state", seed=0, data_home=tmp_path, download=True)
    assert calls == [1471] and task.info["label_mapping"] == {"1": 0, "2": 1}  # minority positive
    assert "eyeDetection" in pd.read_csv(tmp_path / "eeg_eye_state" / "eeg_eye_state.csv").columns
    phish = load_task("phishing_websites", seed=0, data_home=tmp_path, download=True)
    assert phish.n_features == 90  # 30 features x 3 one-hot levels
    assert phish.info["label_mapping"] == {"1": 0, "-1": 1}


def test_zenodo_download_writes_group_b_format(tmp_path, monkeypatch):
    calls = []

    def fetch_datasets(*, filter_data, download_if_missing):
        calls.append(filter_data)
        data = np.arange(40.0).reshape(10, 4)
        target = np.array([-1] * 8 + [1] * 2)
        return {filter_data[0]: Bunch(data=data, target=target, DESCR=filter_data[0])}

    monkeypatch.setattr("imblearn.datasets.fetch_datasets", fetch_datasets)
    download_dataset("oil", data_home=tmp_path)
    frame = pd.read_csv(tmp_path / "oil" / "oil.csv")
    assert list(frame.columns) == ["0", "1", "2", "3", "target"]
    assert frame["target"].tolist() == [0] * 8 + [1] * 2
    assert calls == [("oil",)]
    download_dataset("mammography", data_home=tmp_path)  # stored with its own target column
    assert "Class" in pd.read_csv(tmp_path / "mammography" / "mammography.csv").columns
    assert load_dataset("mammography", data_home=tmp_path).n_rows == 10


class _Response(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _serve(monkeypatch, files: dict[str, bytes], requested: list):
    def urlopen(request, timeout):
        url = request.full_url
        requested.append(url)
        assert timeout > 0 and request.get_header("User-agent")
        if url not in files:
            raise urllib.error.HTTPError(url, 403, "Forbidden", None, None)
        return _Response(files[url])

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)


def test_url_download_falls_back_to_the_mirror(tmp_path, monkeypatch, formats):
    source = tmp_path / "source"
    formats.write_idx_folder(source)
    mirror = "https://ossci-datasets.s3.amazonaws.com/mnist/"
    files = {mirror + p.name: p.read_bytes() for p in source.iterdir()}
    requested = []
    _serve(monkeypatch, files, requested)
    task = load_task("mnist", ratio=0.05, seed=0, data_home=tmp_path / "home", download=True)
    assert len(requested) == 8  # canonical URL refused, then the mirror, per file
    assert requested[0].startswith("http://yann.lecun.com/") and requested[1].startswith(mirror)
    assert task.X_test.shape == (50, 1, 28, 28)
    assert sorted(p.name for p in (tmp_path / "home" / "mnist").iterdir()) == sorted(p.name for p in source.iterdir())


def test_url_download_of_archives_and_extra_files(tmp_path, monkeypatch, formats):
    archive = tmp_path / "cifar-10-binary.tar.gz"
    formats.write_cifar_tar(archive, formats.cifar_members())
    toy = "https://raw.githubusercontent.com/shubhomoydas/ad_examples/master/ad_examples/datasets/anomaly/toy2/fullsamples/"
    files = {
        "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz": archive.read_bytes(),
        toy + "toy2_1.csv": b"label,x,y\nnominal,0,1\nnominal,1,0\nanomaly,5,5\n",
        toy + "toy2_1_orig_labels.csv": b"ground.truth,label\nnominal,0\nnominal,0\nanomaly,1\n",
    }
    _serve(monkeypatch, files, [])
    assert load_dataset("cifar10_1", data_home=tmp_path / "home", download=True).X.shape == (120, 3, 32, 32)
    assert (tmp_path / "home" / "cifar10" / "cifar-10-binary.tar.gz").is_file()
    assert not (tmp_path / "home" / "cifar10" / "cifar-10-batches-bin").exists()  # kept as an archive
    download_dataset("toy2", data_home=tmp_path / "home")
    assert sorted(p.name for p in (tmp_path / "home" / "toy2").iterdir()) == ["toy2_1.csv", "toy2_1_orig_labels.csv"]


def test_failed_download_leaves_no_partial_file(tmp_path, monkeypatch):
    url = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
    _serve(monkeypatch, {url: b"<html>not an archive</html>"}, [])
    with pytest.raises(OSError, match=r"could not download aclImdb_v1\.tar\.gz; tried .* did not return gzip data"):
        download_dataset("imdb", data_home=tmp_path)
    assert list((tmp_path / "imdb").iterdir()) == []
    with pytest.raises(DatasetNotFoundError):
        load_dataset("imdb", data_home=tmp_path)


def test_download_arguments_and_bundled(tmp_path):
    assert download_dataset("breast_cancer", data_home=tmp_path) is None
    assert not tmp_path.joinpath("breast_cancer").exists()
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds, got 0"):
        download_dataset("mnist", data_home=tmp_path, timeout=0)
    with pytest.raises(TypeError, match="force must be a bool"):
        download_dataset("mnist", data_home=tmp_path, force="no")
    with pytest.raises(ValueError, match="unknown dataset name='mnistt'"):
        download_dataset("mnistt")


def test_gzip_check_accepts_real_gzip(tmp_path, monkeypatch):
    url = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
    _serve(monkeypatch, {url: gzip.compress(b"payload")}, [])
    download_dataset("imdb", data_home=tmp_path)
    assert gzip.decompress((tmp_path / "imdb" / "aclImdb_v1.tar.gz").read_bytes()) == b"payload"
