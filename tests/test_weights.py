"""Contract 2: the weights file round-trips, and every bad file fails with one clear reason."""

import json
import os
import zipfile

import numpy as np
import pytest

from lstm_studio.core import LSTMModel
from lstm_studio.weights import FORMAT, WeightsError, load_weights, save_weights

META = {"task": "sine", "seq_len": 20, "metrics": {"train_loss": 0.1, "val_loss": 0.2}}


@pytest.fixture
def model() -> LSTMModel:
    return LSTMModel(1, [6, 4], 2, loss="cross_entropy", seed=3)


def write_npz(path, arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def valid_arrays(model) -> dict:
    meta = {**META, "format": FORMAT, "model": model.config()}
    return {**model.state_dict(), "meta": np.array(json.dumps(meta))}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_keeps_weights_meta_and_dtype(tmp_path, dtype):
    model = LSTMModel(2, [5, 3], 1, seed=9, dtype=dtype)
    path = save_weights(tmp_path / "w.npz", model, META)
    loaded, meta = load_weights(path)
    assert loaded.config() == model.config()
    for name, value in model.state_dict().items():
        got = loaded.state_dict()[name]
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, value)
    assert meta["task"] == "sine" and meta["metrics"]["val_loss"] == 0.2
    assert meta["format"] == FORMAT and meta["model"]["dtype"] == np.dtype(dtype).name
    x = np.random.default_rng(0).normal(size=(3, 4, 2))
    np.testing.assert_array_equal(loaded.forward(x), model.forward(x))


def test_file_is_a_plain_npz_any_numpy_program_can_read(tmp_path, model):
    path = save_weights(tmp_path / "w.npz", model, META)
    with np.load(path, allow_pickle=False) as archive:
        assert set(archive.files) == {*model.state_dict(), "meta"}
        assert archive["meta"].shape == () and archive["meta"].dtype.kind == "U"
        assert json.loads(str(archive["meta"]))["model"]["hidden_sizes"] == [6, 4]


def test_writing_is_atomic_and_leaves_no_temporary_files(tmp_path, model, monkeypatch):
    path = tmp_path / "w.npz"
    save_weights(path, model, META)
    original = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(WeightsError, match="No space left"):
        save_weights(path, LSTMModel(1, [6, 4], 2, loss="cross_entropy", seed=4), META)
    assert path.read_bytes() == original  # the old file is intact
    assert os.listdir(tmp_path) == ["w.npz"]  # and no half-written temporary file is left


def test_non_finite_weights_are_never_saved(tmp_path, model):
    model.parameters()["dense.bias"][0] = np.nan
    with pytest.raises(WeightsError, match="non-finite"):
        save_weights(tmp_path / "w.npz", model, META)
    assert not (tmp_path / "w.npz").exists()


def test_saving_into_a_missing_folder_is_a_clear_error(tmp_path, model):
    with pytest.raises(WeightsError, match="does not exist"):
        save_weights(tmp_path / "nope" / "w.npz", model, META)


def test_missing_file(tmp_path):
    with pytest.raises(WeightsError, match="no such file"):
        load_weights(tmp_path / "absent.npz")


def test_truncated_file(tmp_path, model):
    path = save_weights(tmp_path / "w.npz", model, META)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(WeightsError, match=r"truncated or not an \.npz"):
        load_weights(path)


def test_text_file_is_not_a_weights_file(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("hello")
    with pytest.raises(WeightsError, match="not a weights file"):
        load_weights(path)


def test_foreign_npz_without_meta(tmp_path):
    path = tmp_path / "foreign.npz"
    write_npz(path, {"x": np.zeros(3)})
    with pytest.raises(WeightsError, match="not an LSTM Studio weights file"):
        load_weights(path)


def test_object_arrays_are_never_unpickled(tmp_path, model):
    path = tmp_path / "evil.npz"
    arrays = valid_arrays(model)
    arrays["dense.bias"] = np.array([object(), object()], dtype=object)
    with open(path, "wb") as f:
        np.savez(f, **arrays)  # allow_pickle is on by default when saving
    with pytest.raises(WeightsError, match="object arrays"):
        load_weights(path)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda a: a.pop("lstm.weight_hh_l1"), "missing array lstm.weight_hh_l1"),
        (lambda a: a.update(extra=np.zeros(2)), "unexpected array extra"),
        (lambda a: a.update({"dense.weight": np.zeros((2, 5))}), r"dense.weight has shape \(2, 5\)"),
        (lambda a: a.update({"dense.bias": np.zeros(2, dtype=np.float32)}), "dense.bias is float32"),
        (lambda a: a["lstm.bias_ih_l0"].__setitem__(3, np.nan), "lstm.bias_ih_l0 holds NaN"),
        (lambda a: a["lstm.weight_ih_l0"].__setitem__(0, np.inf), "holds NaN or infinite"),
        (lambda a: a.update(meta=np.array("{not json")), "not valid JSON"),
        (lambda a: a.update(meta=np.array(["{}"])), "0-d unicode"),
        (lambda a: a.update(meta=np.array(json.dumps({"format": {"name": "other"}}))), "not an LSTM Studio"),
        (
            lambda a: a.update(meta=np.array(json.dumps({"format": {**FORMAT, "version": 99}}))),
            "version 99 is not supported",
        ),
        (lambda a: a.update(meta=np.array(json.dumps({"format": FORMAT, "model": {}}))), "model description"),
    ],
)
def test_tampered_files_fail_with_one_clear_reason(tmp_path, model, edit, message):
    arrays = valid_arrays(model)
    edit(arrays)
    path = tmp_path / "bad.npz"
    write_npz(path, arrays)
    with pytest.raises(WeightsError, match=message):
        load_weights(path)


def test_compressed_npz_loads_too(tmp_path, model):
    path = tmp_path / "c.npz"
    np.savez_compressed(path, **valid_arrays(model))
    assert zipfile.ZipFile(path).infolist()[0].compress_type == zipfile.ZIP_DEFLATED
    loaded, _ = load_weights(path)
    np.testing.assert_array_equal(loaded.state_dict()["dense.weight"], model.state_dict()["dense.weight"])


def test_a_member_that_is_not_an_array_is_refused(tmp_path, model):
    path = tmp_path / "odd.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for name, value in model.state_dict().items():
            with archive.open(f"{name}.npy", "w") as f:
                np.save(f, value)
        archive.writestr("meta", "just text")
    with pytest.raises(WeightsError, match="meta is not an array"):
        load_weights(path)


def test_written_files_are_readable_like_any_new_file(tmp_path, model):
    mask = os.umask(0)
    os.umask(mask)
    path = save_weights(tmp_path / "w.npz", model, META)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
