"""The catalog, the data home, load_dataset and its cache, and the missing-file error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imbalance_gym.datasets import (
    CATALOG,
    DATA_HOME_ENV,
    DatasetNotFoundError,
    DatasetSpec,
    _load,
    _readers,
    dataset_spec,
    get_data_home,
    list_datasets,
    load_dataset,
)
from imbalance_gym.datasets._labels import label_keys

MANIFEST_NAMES = (
    "phoneme", "phishing_websites", "eeg_eye_state", "mozilla4", "abalone", "abalone_19",
    "car_eval_34", "coil_2000", "ecoli", "letter_img", "libras_move", "optical_digits",
    "satimage", "sick_euthyroid", "solar_flare_m0", "wine_quality", "yeast_me2", "mammography",
    "toy2", "mnist", "fashion_mnist",
)
ZENODO_NAMES = (
    "ecoli", "optical_digits", "satimage", "pen_digits", "abalone", "sick_euthyroid",
    "spectrometer", "car_eval_34", "isolet", "us_crime", "yeast_ml8", "scene", "libras_move",
    "thyroid_sick", "coil_2000", "arrhythmia", "solar_flare_m0", "oil", "car_eval_4",
    "wine_quality", "letter_img", "yeast_me2", "webpage", "ozone_level", "mammography",
    "protein_homo", "abalone_19",
)
BUNDLED = ("breast_cancer", "digits")


def _manifest(data_home: Path) -> dict[str, dict]:
    with open(data_home / "MANIFEST.json", encoding="utf-8") as handle:
        return {entry["name"]: entry for entry in json.load(handle)["datasets"]}


# --------------------------------------------------------------------------------------
# Catalog contents
# --------------------------------------------------------------------------------------


def test_catalog_covers_every_required_name():
    required = set(MANIFEST_NAMES) | set(ZENODO_NAMES) | set(BUNDLED) | {
        "fashion_mnist_1", "fashion_mnist_2", "cifar10_1", "cifar10_2", "imdb",
        "magic_telescope", "electricity",
    }
    assert required <= set(CATALOG)
    assert all(isinstance(spec, DatasetSpec) and spec.name == name for name, spec in CATALOG.items())


def test_zenodo_entries_use_the_group_b_layout():
    for name in ZENODO_NAMES:
        spec = CATALOG[name]
        assert spec.provider == "zenodo" and spec.positive == ("1",)
        assert {spec.files[0], spec.alternatives[0][0]} == {f"{name}.csv", f"{name}.csv.gz"}
        if name != "mammography":  # the stored mammography.csv keeps X1..X6 / Class
            assert spec.target == "target"


def test_image_and_text_tasks_follow_dqnimb():
    assert CATALOG["mnist"].positive == ("2",) and CATALOG["mnist"].negative is None
    assert (CATALOG["fashion_mnist_1"].positive, CATALOG["fashion_mnist_1"].negative) == (("0", "2"), ("1", "3"))
    assert (CATALOG["fashion_mnist_2"].positive, CATALOG["fashion_mnist_2"].negative) == (
        ("4", "5", "6"), ("7", "8", "9"),
    )
    assert (CATALOG["cifar10_1"].positive, CATALOG["cifar10_1"].negative) == (("1",), ("3", "4", "5", "6"))
    assert (CATALOG["cifar10_2"].positive, CATALOG["cifar10_2"].negative) == (("7",), ("8", "9"))
    assert CATALOG["imdb"].positive == ("pos",) and CATALOG["imdb"].kind == "text"
    for name in ("fashion_mnist", "fashion_mnist_1", "fashion_mnist_2"):
        assert CATALOG[name].folder == "fashion_mnist" and CATALOG[name].predefined_split
    assert {CATALOG[n].folder for n in ("cifar10", "cifar10_1", "cifar10_2")} == {"cifar10"}
    assert not CATALOG["fashion_mnist"].is_binary and CATALOG["mnist"].is_binary
    assert CATALOG["cifar10"].files == ("cifar-10-binary.tar.gz",)
    assert CATALOG["cifar10"].alternatives[0][-1] == "cifar-10-batches-bin/test_batch.bin"
    assert CATALOG["imdb"].files == ("aclImdb_v1.tar.gz",)


def test_openml_entries():
    assert CATALOG["magic_telescope"].openml_id == 1120 and CATALOG["electricity"].openml_id == 151
    for name in ("phoneme", "phishing_websites", "eeg_eye_state", "mozilla4", "magic_telescope", "electricity"):
        spec = CATALOG[name]
        assert spec.provider == "openml" and spec.origin == f"OpenML {spec.openml_id}"
        assert {layout[0] for layout in spec.layouts} == {f"{name}.csv", f"{name}.arff"}


def test_spec_validation_names_the_problem():
    with pytest.raises(ValueError, match="kind must be one of"):
        DatasetSpec(name="x", kind="audio", folder="x", files=("x.csv",), format="csv", target="t", n_classes=2)
    with pytest.raises(ValueError, match="negative labels need explicit positive labels"):
        DatasetSpec(name="x", kind="tabular", folder="x", files=("x.csv",), format="csv", target="t",
                    n_classes=2, negative=("0",))


def test_dataset_spec_unknown_name_suggests_close_matches():
    assert dataset_spec("phoneme") is CATALOG["phoneme"]
    with pytest.raises(ValueError, match=r"unknown dataset name='phonme'\. Did you mean 'phoneme'\?") as info:
        dataset_spec("phonme")
    assert "Known names:" in str(info.value) and "yeast_me2" in str(info.value)
    with pytest.raises(TypeError, match="name must be a str, got int"):
        dataset_spec(3)


def test_list_datasets_filters(tmp_path):
    assert list_datasets() == sorted(CATALOG)
    images = list_datasets("image")
    assert "mnist" in images and "cifar10_2" in images and "phoneme" not in images
    assert list_datasets("text") == ["imdb"]
    empty = tmp_path / "empty"
    assert list_datasets(present=True, data_home=empty) == list(BUNDLED)
    assert set(list_datasets(present=False, data_home=empty)) == set(CATALOG) - set(BUNDLED)
    assert not empty.exists()  # looking does not create the data home
    with pytest.raises(ValueError, match="kind must be None or one of"):
        list_datasets("audio")
    with pytest.raises(TypeError, match="present must be None or a bool"):
        list_datasets(present="yes")


def test_datasets_package_does_not_import_torch():
    code = "import sys, imbalance_gym.datasets; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[3])
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------------------
# Data home
# --------------------------------------------------------------------------------------


def test_data_home_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_HOME_ENV, str(tmp_path / "from_env"))
    assert get_data_home(tmp_path / "arg") == tmp_path / "arg"
    assert get_data_home() == tmp_path / "from_env"
    monkeypatch.delenv(DATA_HOME_ENV)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert get_data_home() == tmp_path / "user" / ".cache" / "imbalance_gym"
    assert not (tmp_path / "user").exists()
    assert get_data_home(create=True).is_dir()
    with pytest.raises(TypeError, match="data_home must be a str, an os.PathLike or None, got int"):
        get_data_home(5)


# --------------------------------------------------------------------------------------
# Missing files
# --------------------------------------------------------------------------------------


def test_missing_dataset_error_says_what_to_put_where(tmp_path):
    home = tmp_path / "empty_home"
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("mnist", data_home=home, download=False)
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert "'mnist'" in message
    assert f"{home / 'mnist'}{os.sep}" in message
    for name in CATALOG["mnist"].files:
        assert name in message
    assert "MNIST (LeCun et al.)" in message and "http://yann.lecun.com/exdb/mnist/" in message
    assert "download=True" in message
    assert info.value.folder == home / "mnist" and info.value.files == CATALOG["mnist"].files
    assert not home.exists()


def test_missing_table_error_lists_the_alternatives(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"phishing_websites\.arff(.|\n)*or instead: phishing_websites\.csv"):
        load_dataset("phishing_websites", data_home=tmp_path)


def test_partial_files_are_reported(tmp_path, formats):
    formats.write_idx_folder(tmp_path / "mnist")
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetNotFoundError, match=r"missing: t10k-labels-idx1-ubyte\.gz"):
        load_dataset("mnist", data_home=tmp_path)


# --------------------------------------------------------------------------------------
# load_dataset and its cache
# --------------------------------------------------------------------------------------


def test_load_dataset_returns_the_stored_folder_for_every_task_on_it(tiny_home):
    raw = load_dataset("fashion_mnist_1", data_home=tiny_home)
    assert raw.name == "fashion_mnist_1" and raw.spec is CATALOG["fashion_mnist_1"]
    assert raw.X.shape == (250, 1, 28, 28) and raw.X.dtype == np.uint8
    assert sorted(set(raw.y.tolist())) == list(range(10))  # all classes, as stored
    assert Counter(raw.fold.tolist()) == {"train": 200, "test": 50}
    other = load_dataset("fashion_mnist_2", data_home=tiny_home)
    assert other.X is raw.X  # same folder: parsed once


def test_cache_parses_once_and_arrays_are_read_only(tiny_home, monkeypatch, empty_cache):
    calls = []
    original = _readers.read_idx
    monkeypatch.setattr(_readers, "read_idx", lambda path: calls.append(path) or original(path))
    first = load_dataset("mnist", data_home=tiny_home)
    second = load_dataset("mnist", data_home=tiny_home)
    assert len(calls) == 4 and second.X is first.X
    for array in (first.X, first.y, first.fold):
        assert not array.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            array[0] = array[1]


def test_cache_evicts_least_recently_used(tiny_home, monkeypatch, empty_cache):
    monkeypatch.setattr(_load, "CACHE_SIZE", 1)
    first = load_dataset("mnist", data_home=tiny_home)
    load_dataset("fashion_mnist", data_home=tiny_home)
    assert load_dataset("mnist", data_home=tiny_home).X is not first.X


def test_cached_tables_are_copied_per_call():
    first = load_dataset("breast_cancer")
    first.X.iloc[0, 0] = -1.0e9
    first.X["extra"] = 1
    second = load_dataset("breast_cancer")
    assert second.X.iloc[0, 0] != -1.0e9 and "extra" not in second.X.columns


def test_replaced_file_is_parsed_again(tmp_path):
    folder = tmp_path / "ecoli"
    folder.mkdir()
    (folder / "ecoli.csv").write_text("0,1,target\n0.1,0.2,0\n0.3,0.4,1\n")
    assert load_dataset("ecoli", data_home=tmp_path).n_rows == 2
    (folder / "ecoli.csv").write_text("0,1,target\n0.1,0.2,0\n0.3,0.4,1\n0.5,0.6,0\n")
    assert load_dataset("ecoli", data_home=tmp_path).n_rows == 3


def test_alternative_layouts_are_found(tmp_path, formats):
    formats.write_idx_folder(tmp_path / "mnist", gz=False)
    assert load_dataset("mnist", data_home=tmp_path).X.shape == (250, 1, 28, 28)
    members = formats.cifar_members()
    folder = tmp_path / "cifar10" / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    for name, (data, _, _) in members.items():
        (folder / name).write_bytes(data)
    raw = load_dataset("cifar10_2", data_home=tmp_path)
    assert raw.X.shape == (120, 3, 32, 32)
    formats.write_imdb_folder(tmp_path / "imdb")
    assert load_dataset("imdb", data_home=tmp_path).n_rows == 9


def test_bundled_datasets_need_no_files(monkeypatch, tmp_path):
    monkeypatch.delenv(DATA_HOME_ENV, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    cancer = load_dataset("breast_cancer")
    assert cancer.X.shape == (569, 30) and Counter(cancer.y.tolist()) == {"benign": 357, "malignant": 212}
    digits = load_dataset("digits")
    assert digits.X.shape == (1797, 64) and digits.fold is None
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------
# The real shared datasets
# --------------------------------------------------------------------------------------


@pytest.mark.data
def test_manifest_names_are_all_in_the_catalog(data_home):
    manifest = _manifest(data_home)
    assert set(manifest) <= set(CATALOG), sorted(set(manifest) - set(CATALOG))
    assert set(MANIFEST_NAMES) <= set(manifest)  # the per-dataset test below covers them all
    for name, entry in manifest.items():
        spec = CATALOG[name]
        assert set(spec.files) | set(spec.extra_files) == set(entry["files"]), name
        assert spec.format == entry["format"], name
        assert spec.origin == entry["origin"], name
        if spec.kind == "tabular":
            assert spec.target == entry["target_column"], name
        else:
            assert spec.target is None and "labels in" in entry["target_column"]
        assert (spec.n_rows, spec.n_features) == (
            sum(entry["n_rows"].values()) if isinstance(entry["n_rows"], dict) else entry["n_rows"],
            entry["n_features"],
        ), name


@pytest.mark.data
@pytest.mark.parametrize("name", MANIFEST_NAMES)
def test_manifest_dataset_loads_with_its_counts(data_home, name):
    entry = _manifest(data_home)[name]
    raw = load_dataset(name, data_home=data_home)
    keys = label_keys(raw.y)
    if isinstance(entry["n_rows"], dict):  # predefined train/test folds
        assert dict(Counter(raw.fold.tolist())) == entry["n_rows"]
        for fold, counts in entry["class_counts"].items():
            assert dict(Counter(keys[raw.fold == fold].tolist())) == counts
    else:
        assert raw.n_rows == entry["n_rows"]
        assert dict(Counter(keys.tolist())) == entry["class_counts"]
        assert isinstance(raw.X, pd.DataFrame) and entry["target_column"] not in raw.X.columns
    assert raw.n_features == entry["n_features"]


@pytest.mark.data
def test_present_lists_the_shared_data(data_home):
    present = list_datasets(present=True, data_home=data_home)
    assert set(MANIFEST_NAMES) | {"fashion_mnist_1", "fashion_mnist_2"} | set(BUNDLED) == set(present)
