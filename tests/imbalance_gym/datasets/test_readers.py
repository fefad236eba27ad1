"""Readers on tiny files written in the real formats."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pandas as pd
import pytest

from imbalance_gym.datasets import _readers, _text

# --------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------


def test_csv_reads_header_types_and_question_mark_as_missing(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,target\n1.5,x,0\n?,y,1\n3.0,,1\n")
    frame = _readers.read_csv_table(path)
    assert list(frame.columns) == ["a", "b", "target"]
    assert frame["a"].dtype == np.float64
    assert np.isnan(frame.loc[1, "a"]) and pd.isna(frame.loc[2, "b"])
    assert frame["target"].tolist() == [0, 1, 1]


def test_csv_gz_equals_plain(tmp_path):
    text = "0,1,target\n0.25,4,1\n0.5,5,0\n"
    (tmp_path / "p.csv").write_text(text)
    (tmp_path / "p.csv.gz").write_bytes(gzip.compress(text.encode()))
    pd.testing.assert_frame_equal(
        _readers.read_csv_table(tmp_path / "p.csv"), _readers.read_csv_table(tmp_path / "p.csv.gz")
    )


# --------------------------------------------------------------------------------------
# ARFF
# --------------------------------------------------------------------------------------

ARFF = """% a comment line
@RELATION 'test relation'

@attribute width NUMERIC
@Attribute 'leaf length' real
@attribute count integer
@attribute colour {red, 'light blue', "dark green"}
@attribute note string
% another comment
@attribute class {-1,1}

@DATA
1.5, 2, 3, red, hello, 1
?, 4.25, 5, 'light blue', 'two words', -1
% a comment inside the data
-2e1,?,7,"dark green",?,1

3,1,1,?, 'it\\'s', -1
"""


def test_arff_numeric_nominal_quoted_missing(tmp_path):
    path = tmp_path / "t.arff"
    path.write_bytes(ARFF.replace("\n", "\r\n").encode())  # CRLF as in the UCI phishing file
    frame = _readers.read_arff(path)
    assert list(frame.columns) == ["width", "leaf length", "count", "colour", "note", "class"]
    for numeric in ("width", "leaf length", "count"):
        assert frame[numeric].dtype == np.float64
    np.testing.assert_array_equal(frame["width"].to_numpy(), [1.5, np.nan, -20.0, 3.0])
    np.testing.assert_array_equal(frame["leaf length"].to_numpy(), [2.0, 4.25, np.nan, 1.0])
    assert isinstance(frame["colour"].dtype, pd.CategoricalDtype)
    assert list(frame["colour"].cat.categories) == ["red", "light blue", "dark green"]  # declared order
    assert frame["colour"].tolist()[:3] == ["red", "light blue", "dark green"]
    assert pd.isna(frame["colour"].iloc[3])
    assert frame["note"].tolist()[:2] == ["hello", "two words"]
    assert pd.isna(frame["note"].iloc[2]) and frame["note"].iloc[3] == "it's"
    assert frame["class"].astype(str).tolist() == ["1", "-1", "1", "-1"]


def test_arff_from_stream_and_gzip(tmp_path):
    from_stream = _readers.read_arff(io.StringIO(ARFF))
    path = tmp_path / "t.arff.gz"
    path.write_bytes(gzip.compress(ARFF.encode()))
    pd.testing.assert_frame_equal(from_stream, _readers.read_arff(path))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("@relation r\n@attribute a numeric\n@data\n{0 1.5}\n", "sparse ARFF"),
        ("@relation r\n@attribute a numeric\n@attribute b numeric\n@data\n1,2,3\n", "3 values, but 2 attributes"),
        ("@relation r\n@attribute a {x,y}\n@data\nz\n", "not one of the declared values"),
        ("@relation r\n@attribute a numeric\n@data\nabc\n", "'abc' of numeric attribute 'a' is not a number"),
        ("@relation r\n@attribute a numeric\n1\n", "expected @relation, @attribute or @data"),
        ("@relation r\n@attribute a numeric\n", "no @data section"),
        ("@relation r\n@attribute a relational\n@data\n", "unsupported type 'relational'"),
        ("@relation r\n@attribute a {x,y}\n@data\n'x\n", "unterminated quote"),
        ("@relation r\n@attribute a real\n@attribute 'a' real\n@data\n", "'a' is declared twice"),
        ("@relation r\n@attribute a {x,y}\n@data\n'x' y\n", "text after a closing quote"),
    ],
)
def test_arff_errors_are_clear(tmp_path, text, message):
    path = tmp_path / "bad.arff"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        _readers.read_arff(path)


def test_arff_error_names_the_line(tmp_path):
    path = tmp_path / "bad.arff"
    path.write_text("@relation r\n@attribute a numeric\n@data\n1\n2\nx\n")
    with pytest.raises(ValueError, match=r"bad\.arff, line 6"):
        _readers.read_arff(path)


# --------------------------------------------------------------------------------------
# idx
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("compressed", [True, False])
def test_idx_round_trip(tmp_path, formats, compressed):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    labels = np.array([7, 2], dtype=np.uint8)
    for name, array in (("img", images), ("lab", labels)):
        data = formats.idx_bytes(array)
        (tmp_path / name).write_bytes(gzip.compress(data) if compressed else data)
    read_images = _readers.read_idx(tmp_path / "img")
    np.testing.assert_array_equal(read_images, images)
    np.testing.assert_array_equal(_readers.read_idx(tmp_path / "lab"), labels)
    assert read_images.dtype == np.uint8 and not read_images.flags.writeable


def test_idx_wrong_magic_is_an_error(tmp_path, formats):
    path = tmp_path / "bad-idx2-ubyte.gz"
    path.write_bytes(gzip.compress(formats.idx_bytes(np.zeros((2, 3), np.uint8), magic=0x802)))
    with pytest.raises(ValueError, match=r"magic number 0x00000802 is not 0x00000801 \(labels\) or 0x00000803"):
        _readers.read_idx(path)


def test_idx_truncated_data_is_an_error(tmp_path, formats):
    path = tmp_path / "short"
    path.write_bytes(formats.idx_bytes(np.zeros((2, 3, 3), np.uint8))[:-1])
    with pytest.raises(ValueError, match=r"shape \(2, 3, 3\) \(18 bytes\) but the file has 17"):
        _readers.read_idx(path)


# --------------------------------------------------------------------------------------
# CIFAR-10 binary
# --------------------------------------------------------------------------------------


def test_cifar_record_layout_is_label_then_channel_major_pixels():
    raw = bytearray(3073)
    raw[0] = 6
    raw[1 + 0 * 1024 + 2 * 32 + 5] = 11  # red, row 2, column 5
    raw[1 + 2 * 1024 + 31 * 32 + 31] = 99  # blue, last pixel
    images, labels = _readers.parse_cifar_batch(bytes(raw), "x")
    assert images.shape == (1, 3, 32, 32) and images.dtype == np.uint8
    assert labels.tolist() == [6]
    assert images[0, 0, 2, 5] == 11 and images[0, 2, 31, 31] == 99
    assert int(images.sum()) == 110


def _check_cifar(X, y, fold, members):
    expected_X = np.concatenate([m[1] for m in members.values()])
    expected_y = np.concatenate([m[2] for m in members.values()])
    np.testing.assert_array_equal(X, expected_X)
    np.testing.assert_array_equal(y, expected_y)
    assert fold.tolist() == ["train"] * 100 + ["test"] * 20


def test_cifar_tar_read_in_memory(tmp_path, formats):
    members = formats.cifar_members()
    path = tmp_path / "cifar-10-binary.tar.gz"
    formats.write_cifar_tar(path, members)
    _check_cifar(*_readers.read_cifar10_binary(path), members)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cifar-10-binary.tar.gz"]  # nothing extracted


def test_cifar_extracted_folder(tmp_path, formats):
    members = formats.cifar_members()
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    for name, (data, _, _) in members.items():
        (folder / name).write_bytes(data)
    _check_cifar(*_readers.read_cifar10_binary(folder), members)


def test_cifar_errors(tmp_path, formats):
    with pytest.raises(ValueError, match="not a positive multiple of the 3073-byte"):
        _readers.parse_cifar_batch(b"\x00" * 3074, "b")
    data, _ = formats.cifar_batch(np.array([3]), seed=0)
    with pytest.raises(ValueError, match="record 0 has label 12"):
        _readers.parse_cifar_batch(b"\x0c" + data[1:], "b")
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    (folder / "data_batch_1.bin").write_bytes(data)
    with pytest.raises(FileNotFoundError, match="data_batch_2.bin"):
        _readers.read_cifar10_binary(folder)


# --------------------------------------------------------------------------------------
# IMDB
# --------------------------------------------------------------------------------------


def test_imdb_tar_and_folder_agree_and_skip_unsup(tmp_path, formats):
    formats.write_imdb_tar(tmp_path / "aclImdb_v1.tar.gz")
    formats.write_imdb_folder(tmp_path / "extracted")
    from_tar = _readers.read_imdb(tmp_path / "aclImdb_v1.tar.gz")
    from_dir = _readers.read_imdb(tmp_path / "extracted" / "aclImdb")
    for a, b in zip(from_tar, from_dir):
        assert a.tolist() == b.tolist()
    texts, labels, fold = from_tar
    assert len(texts) == len(formats.imdb_reviews) == 9  # the unsup review is skipped
    assert fold.tolist() == ["train"] * 6 + ["test"] * 3
    assert labels.tolist() == ["neg", "neg", "neg", "pos", "pos", "pos", "neg", "neg", "pos"]
    # natural file-name order within (fold, label): 0_9, 2_10, 10_8
    assert texts[3].startswith("A great movie") and texts[5].startswith("Loved it")
    assert not (tmp_path / "aclImdb").exists()  # the tar was not extracted


def test_imdb_empty_source_is_an_error(tmp_path):
    (tmp_path / "aclImdb").mkdir()
    with pytest.raises(FileNotFoundError, match="no aclImdb"):
        _readers.read_imdb(tmp_path / "aclImdb")


def test_tokenize_lowercases_drops_breaks_keeps_contractions():
    assert _text.tokenize("Great!<br />Don't GO<br/>2nite.") == ["great", "don't", "go", "2nite"]


def test_vocabulary_by_frequency_then_alphabet_and_encoding():
    docs = [["b", "a", "b", "c"], ["a", "b", "d"]]
    vocab = _text.build_vocabulary(docs, vocab_size=2)
    assert vocab == {"b": 2, "a": 3}  # b: 3, a: 2; c and d (1 each) are cut
    ids = _text.encode([["b", "zzz", "a", "b"], ["a"]], vocab, max_len=3)
    assert ids.dtype == np.int64
    np.testing.assert_array_equal(ids, [[2, _text.OOV_ID, 3], [3, _text.PAD_ID, _text.PAD_ID]])
    tie = _text.build_vocabulary([["y", "x"]], vocab_size=5)
    assert tie == {"x": 2, "y": 3}
