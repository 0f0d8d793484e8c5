"""What the inside view keeps of every epoch: snapshots, their memory bound, the probe, the measures."""

import numpy as np
import pytest

from lstm_studio.training import EpochEnd, Experiment, Predictor, train
from lstm_studio.training.snapshots import Probe, SnapshotStore, inspect, take_snapshot, unit_order, worst_window


def snapshots_of(experiment, probe=None):
    probe = probe or Probe()
    data, model = experiment.make_dataset(), experiment.make_model()
    taken = []
    for event in train(model, data, experiment.train):
        if isinstance(event, EpochEnd):
            taken.append(take_snapshot(model, data, probe, event.epoch, event.evaluation, model.state_dict()))
    return model, data, taken


def test_a_snapshot_holds_the_weights_predictions_flow_and_the_chosen_windows_trace():
    experiment = Experiment.for_task("pattern").with_changes(n_samples=200, epochs=2, hidden_sizes=(8, 6))
    probe = Probe(chosen=5)
    model, data, taken = snapshots_of(experiment, probe)
    last = taken[-1]
    np.testing.assert_array_equal(last.state["dense.bias"], model.state_dict()["dense.bias"])
    assert [f.shape for f in last.flow] == [(20,), (20,)] and all(np.all(f > 0) for f in last.flow)
    assert last.trace.window == 5 and len(last.trace.layers) == 2
    assert last.trace.layers[1].forget_gate.shape == (1, 20, 6)
    np.testing.assert_array_equal(last.trace.raw, data.val_windows[5])
    assert last.nbytes > sum(a.nbytes for a in last.state.values())


def test_the_store_keeps_every_epoch_then_thins_evenly_within_its_budget():
    experiment = Experiment.for_task("sine").with_changes(n_samples=60, epochs=1)
    _, _, (one,) = snapshots_of(experiment)
    store = SnapshotStore(budget=10 * one.nbytes)
    for epoch in range(1, 41):
        store.add(type(one)(epoch, one.state, one.evaluation, one.flow, one.trace))
        assert store.nbytes <= store.budget and store.items[-1].epoch == epoch  # the newest is always there
    epochs = [s.epoch for s in store.items]
    assert store.stride == 4 and epochs == list(range(4, 41, 4))  # 10 fit: every 4th epoch
    assert store.taken == 40 and store.describe().startswith("10 of 40 epochs kept (every 4th epoch)")


def test_the_gradient_fades_back_through_a_long_sequence():
    experiment = Experiment.for_task("sine").with_changes(n_samples=100, epochs=1, seq_len=100)
    data, model = experiment.make_dataset(), experiment.make_model()
    flow = model.gradient_flow(data.x_val[:16], data.y_val[:16])[0]
    assert flow[-1] > 100 * flow[0]  # the last steps matter to the loss far more than the first


def test_inspecting_a_typed_sequence_reads_it_through_the_models_normalisation():
    experiment = Experiment.for_task("next-number").with_changes(n_samples=100, epochs=1)
    data, model = experiment.make_dataset(), experiment.make_model()
    predictor = Predictor.for_data(model, data)
    values = [float(v) for v in range(3, 15)]  # more than the model reads: the last ten count
    trace, flow = inspect(model, None, 0, (predictor, values))
    assert trace.window == -1 and flow is None
    np.testing.assert_array_equal(trace.raw, values[-10:])
    expected = model.trace(predictor.normalizer.encode(np.array(values[-10:])[None, :]))
    np.testing.assert_array_equal(trace.layers[0].hidden, expected[0].hidden)
    trace, flow = inspect(model, data, 3)
    assert trace.window == 3 and len(flow) == 1


def test_units_are_ordered_by_activity_and_the_worst_window_is_found():
    experiment = Experiment.for_task("sine").with_changes(n_samples=100, epochs=1)
    _, _, taken = snapshots_of(experiment)
    layer = taken[-1].trace.layers[0]
    order = unit_order(layer)
    activity = np.mean(np.abs(layer.hidden[0]), axis=0)[order]
    assert sorted(order) == list(range(32)) and np.all(np.diff(activity) <= 0)
    evaluation = taken[-1].evaluation
    worst = worst_window(evaluation, classification=False)
    errors = np.abs(evaluation.predictions - evaluation.targets)
    assert errors[worst] == pytest.approx(errors.max())


def test_on_the_pattern_task_each_class_looks_different_inside_as_the_model_learns():
    experiment = Experiment.for_task("pattern").with_changes(n_samples=400, epochs=8)
    model, data, taken = snapshots_of(experiment)
    one_per_class = [int(np.flatnonzero(data.y_val == k)[0]) for k in range(4)]
    x = data.x_val[one_per_class]

    def spread(state):  # how far apart the classes' gates and states lie, averaged over pairs
        model.load_state_dict(state)
        layer = model.trace(x)[0]
        inside = np.concatenate([layer.forget_gate, layer.input_gate, layer.hidden], axis=2).reshape(4, -1)
        return np.mean([np.linalg.norm(inside[a] - inside[b]) for a in range(4) for b in range(a + 1, 4)])

    untrained = spread(experiment.make_model().state_dict())
    assert spread(taken[-1].state) > 1.5 * untrained
