"""Files as people make them, end to end: gaps, other encodings; each a working run or one clear line."""

import json

import numpy as np

from lstm_studio.cli import main
from lstm_studio.weights import load_weights


def level_values(n=120):
    t = np.arange(n)
    return 50 + 10 * np.sin(2 * np.pi * t / 12) + np.random.default_rng(0).normal(0, 0.5, n)


def write_rows(path, rows, encoding="utf-8", header="t,value"):
    path.write_bytes((header + "\n" + "".join(f"{a},{b}\n" for a, b in rows)).encode(encoding))
    return path


def train(tmp_path, csv, *options):
    out = tmp_path / "w.npz"
    args = ["train", "--task", "csv", "--csv", str(csv), "--column", "value", "--seq-len", "6", "--epochs", "2"]
    return main([*args, *options, "--out", str(out)]), out


def test_a_gap_is_refused_with_the_way_out_and_filled_when_asked(tmp_path, capsys):
    values = [f"{v:.3f}" for v in level_values()]
    values[30] = values[31] = ""  # a gap inside the training part
    values[110] = "NA"  # and one in the validation part
    csv = write_rows(tmp_path / "gaps.csv", enumerate(values))
    code, out = train(tmp_path, csv)
    err = capsys.readouterr().err
    assert code == 1 and "line 32" in err and "--missing interpolate" in err and not out.exists()
    code, out = train(tmp_path, csv, "--missing", "interpolate")
    assert code == 0 and "filled 3 missing values of column 'value'" in capsys.readouterr().err
    _, meta = load_weights(out)
    assert meta["series"]["missing"] == "interpolate"
    assert main(["evaluate", str(out), "--json"]) == 0  # the recorded data is filled the same way again
    assert json.loads(capsys.readouterr().out)["n"] > 0


def test_a_windows_1252_file_trains_and_says_how_it_was_read(tmp_path, capsys):
    csv = write_rows(tmp_path / "temps.csv", enumerate(level_values()), "cp1252", header="Zeit,Température")
    out = tmp_path / "w.npz"
    code = main(["train", "--task", "csv", "--csv", str(csv), "--column", "Température", "--seq-len", "6",
                 "--epochs", "1", "--out", str(out)])  # fmt: skip
    assert code == 0 and "temps.csv is not UTF-8: read as windows-1252" in capsys.readouterr().err


def test_an_excel_unicode_text_export_trains(tmp_path, capsys):
    text = "t\tvalue\n" + "".join(f"{i}\t{v:.3f}\n" for i, v in enumerate(level_values()))
    csv = tmp_path / "excel.txt"
    csv.write_bytes(text.encode("utf-16"))  # with its byte-order mark, as Excel writes it
    code, out = train(tmp_path, csv)
    assert code == 0 and out.exists() and "read as utf-16" in capsys.readouterr().err


def test_the_window_names_its_own_way_out_of_a_gap(qtbot, tmp_path):
    from lstm_studio.gui.settings_form import SettingsForm
    from lstm_studio.training import Experiment

    values = [f"{v:.3f}" for v in level_values()]
    values[40] = ""
    csv = write_rows(tmp_path / "gaps.csv", enumerate(values))
    form = SettingsForm()
    qtbot.addWidget(form)
    form.set_experiment(Experiment.for_task("csv").with_changes(csv_path=str(csv), column="value", seq_len=6))
    assert "set Missing values to interpolate" in form.problem() and "--missing" not in form.problem()
    form.missing_combo.setCurrentText("interpolate")
    assert form.problem() == "" and form.series().missing == 1


def test_tiny_values_are_scaled_not_flattened_to_zero(tmp_path):
    from lstm_studio.training import Experiment

    values = 1e-200 * level_values()  # their squares underflow a float
    csv = write_rows(tmp_path / "tiny.csv", ((i, f"{v:.6e}") for i, v in enumerate(values)))
    data = Experiment.for_task("csv").with_changes(csv_path=str(csv), column="value", seq_len=6).make_dataset()
    assert 0.5 < float(np.std(np.asarray(data.x_train))) < 2.0  # the network sees unit-sized inputs, not zeros
