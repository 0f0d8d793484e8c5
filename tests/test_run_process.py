"""A window's run in a process of its own: the same run as in a thread, its updates in order, pause and
stop through shared flags, a death reported as a failed run, and data that travels without copies of
every window."""

import pickle
import sys
import threading
import types

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from lstm_studio.training import CRASHED, FAILED, STOPPED, Experiment, run_process, update_stream
from lstm_studio.training.child_environment import main_script_hidden
from lstm_studio.training.covariates import column_windows
from lstm_studio.training.metrics import evaluate
from lstm_studio.training.session import Job
from lstm_studio.training.snapshots import Probe
from lstm_studio.training.update_stream import KeptWeights, Switches, UpdateStream, failed_run
from lstm_studio.training.windows import series_windows

pytestmark = pytest.mark.skipif(not run_process.AVAILABLE, reason="no fork server on this platform")


def small_run(epochs: int = 3, task: str = "next-number"):
    experiment = Experiment.for_task(task).with_changes(epochs=epochs, n_samples=200)
    return experiment, experiment.make_dataset(), experiment.make_model()


def in_process(model, data, job, switched=None, on_update=None, on_started=None):
    updates = []
    end, outcome = run_process.train_in_process(
        model,
        data,
        job,
        switched or run_process.switches(),
        on_update or updates.append,
        lambda: updates.append("holding"),
        on_started or (lambda pid: None),
    )
    return end, outcome, updates


def test_a_run_in_its_own_process_is_the_run_of_a_thread(rng):
    experiment, data, model = small_run()
    twin = model.copy()
    job = Job(experiment.train, probe=Probe(), first_epoch=4)
    end, outcome, updates = in_process(model, data, job)
    here = []
    twin_end = UpdateStream(twin, data, job, here.append).run(
        Switches(threading.Event(), threading.Event()), lambda: None
    )
    for name, value in twin.state_dict().items():  # the parent's model now holds what the child trained
        np.testing.assert_allclose(model.state_dict()[name], value, rtol=1e-9, atol=1e-12)
    assert end.status == twin_end.status and end.epochs_run == 3 and end.best_epoch == twin_end.best_epoch
    assert [e.epoch for u in updates for e in u.epochs] == [1, 2, 3]  # every epoch, in order
    assert sum(len(u.batches) for u in updates) == sum(len(u.batches) for u in here)
    assert [s.epoch for u in updates for s in u.snapshots][-1] == 7  # on the model's epoch axis
    assert outcome.evaluation.rmse == pytest.approx(twin_end.evaluation.rmse, rel=1e-9)
    assert set(outcome.baselines) == {"persistence_rmse", "mean_rmse"}  # measured in the child as well


def test_stop_ends_the_process_within_a_batch_and_keeps_the_best_weights():
    experiment, data, model = small_run(epochs=5000)
    switched = run_process.switches()

    def stop_after_two_epochs(update):
        if any(e.epoch >= 2 for e in update.epochs):
            switched.request_stop()

    end, _, _ = in_process(model, data, Job(experiment.train), switched, stop_after_two_epochs)
    assert end.status == STOPPED and 2 <= end.epochs_run < 5000
    assert all(np.all(np.isfinite(p)) for p in model.state_dict().values())


def test_a_paused_process_tells_once_all_it_did_was_sent_and_goes_on_when_resumed():
    experiment, data, model = small_run(epochs=5000)
    switched = run_process.switches()
    seen = []

    def pause_then_resume(update):
        seen.append(update)
        if len(seen) == 1:
            switched.set_paused(True)

    def holding():
        seen.append("holding")
        threading.Timer(0.2, lambda: (switched.set_paused(False), switched.request_stop())).start()

    end, _ = run_process.train_in_process(model, data, Job(experiment.train), switched, pause_then_resume, holding)
    assert seen.count("holding") == 1 and end.status == STOPPED
    assert seen[seen.index("holding") - 1] != "holding"  # what was done before the pause arrived first


@pytest.mark.parametrize("after_an_epoch", [True, False])
def test_a_process_that_dies_is_a_failed_run_and_leaves_the_model_as_it_was(after_an_epoch):
    experiment, data, model = small_run(epochs=5000)
    before, started = model.state_dict(), []

    def kill(update):
        if started and (update.state is not None or not after_an_epoch):
            started.pop().kill()

    end, outcome, _ = in_process(model, data, Job(experiment.train), on_update=kill, on_started=started.append)
    assert end.status == FAILED and end.failure == CRASHED and outcome is None
    assert "its process was killed (signal 9)" in end.message
    for name, value in before.items():  # what it keeps is KeptWeights' to decide, for either path
        np.testing.assert_array_equal(model.state_dict()[name], value)


def stream_updates(model, data, job):
    updates = []
    UpdateStream(model, data, job, updates.append).run(Switches(threading.Event(), threading.Event()), lambda: None)
    return updates


def test_a_run_cut_short_keeps_the_weights_of_the_last_epoch_shown_and_measures_them(monkeypatch):
    monkeypatch.setattr(update_stream, "MAX_UPDATES_PER_SECOND", 1e9)  # an update after every batch and epoch
    experiment, data, model = small_run(epochs=3)
    kept = KeptWeights(model, first_epoch=5)
    updates = stream_updates(model, data, Job(experiment.train))
    for update in updates[:-1]:  # the last update never reached the window
        kept.saw(update)
    last = [e for u in updates[:-1] for e in u.epochs][-1]
    shown = [u.state for u in updates[:-1] if u.state is not None][-1]
    for p in model.parameters().values():
        p += 1.0  # weights half-way through a batch
    end, outcome = kept.end(failed_run("out of memory"), model, data)
    assert end.status == FAILED and end.failure == CRASHED and end.best_epoch == end.epochs_run == last.epoch
    assert end.message == f"out of memory; the model keeps the weights of epoch {5 + last.epoch}, the last shown"
    for name, value in shown.items():
        np.testing.assert_array_equal(model.state_dict()[name], value)
    assert outcome.evaluation is last.evaluation
    assert evaluate(model, data).loss == pytest.approx(outcome.evaluation.loss, rel=1e-12)  # it measures them
    assert set(outcome.baselines) == {"persistence_rmse", "mean_rmse"}


def test_a_run_cut_short_before_any_epoch_keeps_the_weights_from_before_and_a_stop_is_no_failure():
    experiment, data, model = small_run(epochs=1)
    before = model.state_dict()
    kept = KeptWeights(model)
    stream_updates(model, data, Job(experiment.train))  # trained, but nothing of it was shown
    end, outcome = kept.end(failed_run("stopped when the window closed"), model, data, STOPPED)
    assert end.status == STOPPED and end.failure is None and outcome.evaluation is None
    assert end.message.endswith("the model keeps its weights from before the run")
    for name, value in before.items():
        np.testing.assert_array_equal(model.state_dict()[name], value)


def test_stop_and_pause_never_wait_for_a_process_that_was_killed():
    switched = run_process.switches()  # flags without locks: a killed child cannot hold one
    experiment, data, model = small_run(epochs=5000)
    started = []
    in_process(model, data, Job(experiment.train), switched, on_update=lambda u: started and started.pop().kill(),
               on_started=started.append)  # fmt: skip
    switched.set_paused(True)
    switched.request_stop()
    assert switched.stop.is_set() and switched.running.is_set()
    assert switched.running.wait(0.01) and not run_process.SharedFlag().wait(0.01)


def test_the_window_chosen_for_the_inside_view_reaches_a_running_process():
    experiment, data, model = small_run(epochs=60, task="sine")
    probe = Probe()
    traced = []

    def choose_window_7_after_the_first_snapshot(update):
        traced.extend(s.trace.window for s in update.snapshots)
        if traced:
            probe.chosen = 7

    in_process(model, data, Job(experiment.train, probe=probe), on_update=choose_window_7_after_the_first_snapshot)
    assert traced[0] == 0 and traced[-1] == 7


def test_a_pause_whose_window_is_gone_ends_in_a_stop():
    switched = Switches(threading.Event(), threading.Event())
    switched.set_paused(True)
    told = []
    switched.hold_while_paused(lambda: told.append(1), abandoned=lambda: True)
    assert told == [1] and switched.stop.is_set()


def test_window_views_of_a_series_travel_as_the_values_they_span():
    values = np.arange(20_000, dtype=np.float64)
    windows, targets = series_windows(values, 48, 1)
    columns = np.stack([values, -values], axis=1)  # other columns, read in windows of their own
    single = sliding_window_view(values.astype(np.float32), 48)
    parts = (windows[:16_000], windows[16_000:], targets, column_windows(columns, 48, 19_000), single)
    sent = run_process.pickle_compact(parts)
    assert len(sent) < 8 * values.nbytes  # not 48 values per window
    assert len(run_process.pickle_compact(parts[:3])) < 1.1 * values.nbytes  # views of one series: it, once
    got = pickle.loads(sent)
    for received, part in zip(got, parts, strict=True):
        np.testing.assert_array_equal(received, part)
        assert received.dtype == part.dtype and received.shape == part.shape
    assert not got[0].flags.writeable and not got[3].flags.writeable  # read-only views, as they were
    column = pickle.loads(run_process.pickle_compact(values[:, None]))  # a writeable view stays writeable
    assert column.flags.writeable and column.shape == (20_000, 1)
    strided = np.arange(12.0).reshape(3, 4)[:, ::2]  # any other array as NumPy pickles it
    np.testing.assert_array_equal(pickle.loads(run_process.pickle_compact(strided)), strided)


def test_blocks_that_overlap_keep_the_main_script_hidden_until_the_last_ends(monkeypatch):
    main = types.ModuleType("__main__")
    main.__file__ = "/somewhere/main.py"
    monkeypatch.setitem(sys.modules, "__main__", main)
    sweep, run = main_script_hidden(), main_script_hidden()  # e.g. a sweep's thread and a run's, interleaved
    sweep.__enter__()
    run.__enter__()
    sweep.__exit__(None, None, None)
    assert not hasattr(main, "__file__")  # the run is still starting its process
    run.__exit__(None, None, None)
    assert main.__file__ == "/somewhere/main.py"
