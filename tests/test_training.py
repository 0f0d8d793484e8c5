"""Tasks, normalisation, the trainer's events and stops, and learning checked by learning."""

import math

import numpy as np
import pytest

from lstm_studio.core import Adam, global_norm
from lstm_studio.training import (
    COMPLETED,
    DIVERGED,
    EARLY_STOPPED,
    FAILED,
    STOPPED,
    TASKS,
    BatchEnd,
    EpochEnd,
    Experiment,
    Normalizer,
    Predictor,
    RunEnd,
    evaluate,
    make_dataset,
    train,
)
from lstm_studio.training.metrics import baselines


def small(task: str, **changes) -> Experiment:
    return Experiment.for_task(task).with_changes(**({"n_samples": 200, "epochs": 2} | changes))


def run(experiment: Experiment, should_stop=lambda: False):
    data, model = experiment.make_dataset(), experiment.make_model()
    events = list(train(model, data, experiment.train, should_stop))
    return model, data, events


@pytest.mark.parametrize("name", [name for name, task in TASKS.items() if not task.series])
def test_tasks_are_deterministic_from_the_seed(name):
    a, b, c = small(name).make_dataset(), small(name).make_dataset(), small(name, seed=1).make_dataset()
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_val, b.y_val)
    assert not np.array_equal(a.x_train, c.x_train)
    assert len(a.x_train) == 160 and len(a.x_val) == 40
    assert a.x_train.shape[1:] == (a.settings.seq_len, 1)


def test_next_number_targets_are_the_next_term():
    data = small("next-number").make_dataset()
    w, t = data.val_windows, data.val_targets
    np.testing.assert_allclose(t, w[:, -1] + (w[:, -1] - w[:, -2]))


def test_pattern_task_has_balanced_named_classes():
    data = Experiment.for_task("pattern").make_dataset()
    assert len(data.task.classes) >= 4
    counts = np.bincount(np.concatenate([data.y_train, data.y_val]))
    assert counts.min() == counts.max()


def test_normaliser_fits_on_training_data_only():
    exp = small("sine")
    data = exp.make_dataset()
    raw_train = data.normalizer.decode(data.x_train[:, :, 0], np.zeros_like(data.x_train[:, :, 0]))
    refit = Normalizer.fit(raw_train)
    assert refit.offset == pytest.approx(data.normalizer.offset)
    assert refit.scale == pytest.approx(data.normalizer.scale)
    assert np.mean(data.x_train) == pytest.approx(0.0, abs=1e-9)  # centred on training, not on all data


def test_normaliser_round_trip_relative_and_absolute():
    windows = np.array([[1.0, 2.0, 4.0], [10.0, 20.0, 25.0]])
    for relative in (False, True):
        norm = Normalizer.fit(windows, relative_to_last=relative)
        targets = np.array([7.0, 33.0])
        encoded = norm.encode_target(targets, windows)
        np.testing.assert_allclose(norm.decode(encoded, windows)[:, 0], targets)
        assert Normalizer.from_meta(norm.to_meta()) == norm


def test_events_come_in_order_and_end_with_one_run_end():
    exp = small("sine", batch_size=50)
    model, _, events = run(exp)
    kinds = [type(e).__name__ for e in events]
    assert kinds == (["BatchEnd"] * 4 + ["EpochEnd"]) * 2 + ["RunEnd"]
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert [e.epoch for e in epochs] == [1, 2]
    assert len(epochs[0].layer_grad_norms) == len(model.layers) + 1
    assert all(n > 0 for n in epochs[0].layer_grad_norms)
    assert epochs[0].samples_per_second > 0 and epochs[0].evaluation.rmse is not None
    end = events[-1]
    assert end.status == COMPLETED and end.epochs_run == 2 and end.best_epoch in (1, 2) and end.failure is None


def flat(grads: dict) -> np.ndarray:
    return np.concatenate([g.ravel() for g in grads.values()])


def test_adam_steps_along_the_clipped_gradient_and_events_report_the_raw_norm(monkeypatch):
    # a threshold that the raw gradient norm crosses both ways in one run
    unclipped = run(small("next-number", clip=0.0))[2]
    clip = float(np.median([e.grad_norm for e in unclipped if isinstance(e, BatchEnd)]))
    experiment = small("next-number", clip=clip)
    data, model = experiment.make_dataset(), experiment.make_model()
    raw, applied = [], []
    compute = model.loss_and_gradients

    def recording_gradients(x, y):
        loss, grads = compute(x, y)
        raw.append({name: g.copy() for name, g in grads.items()})
        return loss, grads

    class RecordingAdam(Adam):
        def step(self, params, grads):
            applied.append({name: g.copy() for name, g in grads.items()})
            super().step(params, grads)

    monkeypatch.setattr(model, "loss_and_gradients", recording_gradients)
    monkeypatch.setattr("lstm_studio.training.trainer.Adam", RecordingAdam)
    reported = [e.grad_norm for e in train(model, data, experiment.train) if isinstance(e, BatchEnd)]
    assert len(raw) == len(applied) == len(reported) > 0
    above = 0
    for before, after, norm in zip(raw, applied, reported, strict=True):
        assert norm == pytest.approx(global_norm(before), rel=1e-12)  # the event reports the norm before clipping
        if norm > clip:  # scaled down to the threshold, direction kept
            above += 1
            assert global_norm(after) == pytest.approx(clip, rel=1e-4)
            cosine = flat(before) @ flat(after) / (np.linalg.norm(flat(before)) * np.linalg.norm(flat(after)))
            assert cosine == pytest.approx(1.0, abs=1e-12)
        else:  # at or below it: untouched
            assert all(np.array_equal(after[name], g) for name, g in before.items())
    assert 0 < above < len(reported)  # both cases were seen


def test_clipping_changes_what_adam_learns_when_gradients_exceed_it():
    # Adam's first step is lr·sign(g) whatever the gradient's size, so clipping shows over several steps:
    # it changes the balance between large and small gradients in Adam's moments
    free, _, free_events = run(small("next-number", clip=0.0, epochs=1))
    clipped, _, clipped_events = run(small("next-number", clip=1e-3, epochs=1))
    assert min(e.grad_norm for e in clipped_events if isinstance(e, BatchEnd)) > 1e-3  # every step clipped
    # the same first gradient (same weights, same batch), different weights afterwards
    assert next(e.grad_norm for e in free_events if isinstance(e, BatchEnd)) == pytest.approx(
        next(e.grad_norm for e in clipped_events if isinstance(e, BatchEnd))
    )
    free_state, clipped_state = free.state_dict(), clipped.state_dict()
    assert max(np.abs(free_state[k] - clipped_state[k]).max() for k in free_state) > 1e-4


def test_stop_flag_ends_the_run_within_one_batch_and_keeps_finite_weights():
    calls = []

    def stop_on_third_check():
        calls.append(1)
        return len(calls) >= 3

    model, _, events = run(small("pattern", epochs=5), stop_on_third_check)
    assert sum(isinstance(e, BatchEnd) for e in events) == 2
    assert isinstance(events[-1], RunEnd) and events[-1].status == STOPPED
    assert all(np.all(np.isfinite(p)) for p in model.state_dict().values())


def test_early_stopping_restores_the_best_weights():
    # a learning rate far too high makes validation loss wander, so patience runs out
    exp = small("sine", epochs=30, patience=2, lr=0.3)
    model, data, events = run(exp)
    end = events[-1]
    assert end.status == EARLY_STOPPED
    assert end.epochs_run - end.best_epoch == 2
    best = min(e.val_loss for e in events if isinstance(e, EpochEnd))
    assert evaluate(model, data).loss == pytest.approx(best)
    assert end.evaluation.loss == pytest.approx(best)


def test_diverging_run_fails_with_a_clear_message_and_no_nan_weights():
    exp = small("next-number", lr=1e30, dtype="float32", clip=0.0)
    model, _, events = run(exp)
    end = events[-1]
    assert end.status == FAILED and end.failure == DIVERGED  # the kind of failure is data, not words
    assert "at epoch 1: lower the learning rate" in end.message
    assert "NaN" in end.message or "infinite" in end.message
    assert all(np.all(np.isfinite(p)) for p in model.state_dict().values())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (dict(lr=0.0), "learning rate"),
        (dict(lr=-1.0), "learning rate"),
        (dict(lr=math.nan), "learning rate"),
        (dict(epochs=0), "epochs"),
        (dict(batch_size=0), "batch size"),
        (dict(val_split=0.0), "val-split"),
        (dict(val_split=1.0), "val-split"),
        (dict(hidden_sizes=(32, 0)), "layer size"),
        (dict(seq_len=1), "sequence length"),
        (dict(noise=-0.1), "noise"),
        (dict(clip=-1.0), "clip"),
        (dict(patience=-1), "patience"),
    ],
)
def test_impossible_settings_are_named(changes, message):
    with pytest.raises(ValueError, match=message):
        small("next-number", **changes).validate()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (dict(seq_len=1), "sequence length must lie between 2 and 10,000, got 1"),
        (dict(noise=-0.5), "noise must be 0 or positive, got -0.5"),
        (dict(val_split=1.0), "val-split must lie strictly between 0 and 1, got 1.0"),
        (dict(seed=-1), "seed must lie between 0 and 2147483647, got -1"),
        (dict(batch_size=100_000), "batch size must be at most 65,536, got 100,000"),
    ],
)
def test_data_and_training_made_on_their_own_check_their_settings_with_the_same_words(changes, message):
    experiment = small("sine", **changes)
    with pytest.raises(ValueError) as refused:
        experiment.validate()
    assert str(refused.value) == message
    spec, good = experiment.task_spec, small("sine")
    if "seed" in changes or "batch_size" in changes:
        with pytest.raises(ValueError) as refused:
            next(train(good.make_model(), good.make_dataset(), experiment.train))
    else:
        with pytest.raises(ValueError) as refused:
            make_dataset(spec, experiment.settings, experiment.val_split, seed=0)
    assert str(refused.value) == message


def test_unknown_task_lists_the_choices():
    with pytest.raises(ValueError, match="next-number, pattern, sine"):
        Experiment.for_task("weather")


# ----- learning, checked by learning -------------------------------------------------------
def test_next_number_defaults_reproduce_the_seed_examples():
    exp = Experiment.for_task("next-number")
    model, data, events = run(exp)
    predictor = Predictor.for_data(model, data)
    assert predictor.predict(range(10)).values[0] == pytest.approx(10.0, abs=0.1)
    assert predictor.predict(range(15, 25)).values[0] == pytest.approx(25.0, abs=0.1)
    assert events[-1].evaluation.rmse < 0.1


def test_pattern_defaults_reach_95_percent_validation_accuracy():
    model, data, events = run(Experiment.for_task("pattern"))
    assert events[-1].evaluation.accuracy >= 0.95
    predictor = Predictor.for_data(model, data)
    rising = predictor.predict(np.linspace(-1, 1, 20))
    assert rising.label == "rising" and rising.probabilities["rising"] > 0.5
    assert sum(rising.probabilities.values()) == pytest.approx(1.0)


def test_sine_forecast_beats_repeating_the_last_value():
    _, data, events = run(Experiment.for_task("sine"))
    assert events[-1].evaluation.rmse < 0.5 * baselines(data)["persistence_rmse"]


def test_stopping_before_the_first_epoch_ends_restores_the_starting_weights():
    experiment = small("sine", epochs=1)
    model, data, _ = run(experiment)
    start = model.state_dict()
    calls = []
    events = list(train(model, data, experiment.train, lambda: calls.append(1) or len(calls) > 2))
    assert events[-1].status == STOPPED and events[-1].best_epoch == 0
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, start[name])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("training", {"lr": "0.01"}, "meta.training.lr must be a finite number, got '0.01'"),
     ("task_settings", {"seq_len": 10.5}, "meta.task_settings.seq_len must be an integer, got 10.5"),
     ("training", {"patience": None}, "meta.training.patience must be an integer, got None"),
     ("training", {"epochs": True}, "meta.training.epochs must be an integer, got True"),
     ("training", {"speed": 1}, "unknown field meta.training.speed"),
     ("task_settings", {"n_samples": 10**9}, "samples must be at most 1,000,000"),
     ("task_settings", {"seq_len": 10**6}, "sequence length must lie between 2 and 10,000"),
     ("series", {"difference": "false"}, "meta.series.difference must be auto, on, off or a boolean, got 'false'"),
     ("series", {"horizon": 0}, "meta.series.horizon must be between 1 and 1000, got 0")],
)  # fmt: skip
def test_a_tampered_experiment_record_is_refused_by_name(field, value, message):
    from lstm_studio.weights import FORMAT

    meta = {
        **Experiment.for_task("sine").to_meta(),
        "format": FORMAT,
        "model": {"hidden_sizes": [4], "dtype": "float64"},
    }
    meta[field] = {**meta[field], **value}
    if field == "task_settings" and "seq_len" in value:
        meta["seq_len"] = value["seq_len"]
    with pytest.raises(ValueError) as refused:
        Experiment.from_meta(meta)
    assert message in str(refused.value)


def test_a_model_that_does_not_fit_its_task_is_refused():
    from lstm_studio.core import LSTMModel

    with pytest.raises(ValueError, match="does not fit task sine"):
        Experiment.for_task("sine").check_model(LSTMModel(1, [4], 3))
    Experiment.for_task("sine").check_model(LSTMModel(1, [4], 1))


@pytest.mark.parametrize("task", ["sine", "pattern"])
def test_an_experiments_model_is_the_one_its_seed_and_sizes_describe(task):
    from lstm_studio.core import LSTMModel

    experiment = Experiment.for_task(task).with_changes(hidden_sizes=(6, 5), seed=4, dtype="float32")
    model = experiment.make_model()
    spec = experiment.task_spec
    by_hand = LSTMModel(1, [6, 5], spec.output_size, spec.loss, seed=4, dtype=np.float32)
    assert model.config() == by_hand.config() == experiment.model_config()
    for name, value in by_hand.state_dict().items():
        np.testing.assert_array_equal(model.state_dict()[name], value)


def test_only_optimisation_settings_may_change_for_a_model_to_go_on_training():
    base = Experiment.for_task("sine")
    assert base.makes_same_model_and_data(base.with_changes(lr=0.5, epochs=3, batch_size=7, clip=0.0, patience=2))
    for change in ({"seed": 1}, {"hidden_sizes": (16,)}, {"seq_len": 12}, {"dtype": "float32"}, {"val_split": 0.3}):
        assert not base.makes_same_model_and_data(base.with_changes(**change)), change
