"""The session without Qt: what Train continues, what Reset forgets, what Load adopts, what is recorded."""

import numpy as np
import pytest

from lstm_studio.training import BatchEnd, EpochEnd, Experiment, RunEnd, train
from lstm_studio.training.session import Outcome, Session, Update


def quick(task="sine", **changes):
    return Experiment.for_task(task).with_changes(**{"n_samples": 120, "epochs": 2, **changes})


def run(session: Session, experiment: Experiment) -> RunEnd:
    """What the window and its worker do with a session, in one thread."""
    job = session.start(experiment)
    model, data = job.model, job.data
    if model is None:
        data = job.experiment.make_dataset(job.series)
        model = job.experiment.make_model()
        session.adopt(model, job.experiment, data)
    for event in train(model, data, job.config):
        if isinstance(event, RunEnd):
            session.finish(event, Outcome.of(model, data, event.evaluation))
            return event
        update = Update()
        if isinstance(event, BatchEnd):
            update.batches.append(event)
        elif isinstance(event, EpochEnd):
            update.epochs.append(event)
            update.state = model.state_dict()
        session.record(update)
    raise AssertionError("no RunEnd")


def test_a_first_run_makes_a_model_and_records_every_batch_and_epoch():
    session = Session()
    assert session.model is None and session.predictor() is None and session.metrics() == {}
    end = run(session, quick())
    h = session.history
    assert list(h.train_loss.x) == [1, 2] and len(h.val_loss) == 2
    assert len(h.batch_loss) == 2 * int(np.ceil(96 / 32))
    assert h.layer_names == ["LSTM 1", "dense"] and [len(p) for p in h.grad_norms] == [2, 2]
    assert not session.running and session.run.end is end and session.epochs_done == 2
    metrics = session.metrics()
    assert metrics["val_rmse"] == end.evaluation.rmse and metrics["persistence_rmse"] > 0
    assert session.latest_evaluation is end.evaluation


def test_train_continues_the_model_when_only_optimisation_settings_change():
    session = Session()
    run(session, quick())
    model = session.model
    job = session.start(quick(lr=0.002, epochs=3))
    assert job.model is model and job.data is session.data
    assert session.run.first_epoch == 2 and session.epoch_span == 5


def test_train_starts_a_new_model_when_the_data_or_layers_change():
    for change in ({"seq_len": 12}, {"hidden_sizes": (8,)}, {"seed": 3}):
        session = Session()
        run(session, quick())
        job = session.start(quick(**change))
        assert job.model is None and job.experiment.makes_same_model_and_data(quick(**change))
        assert session.model is None and session.history is None  # forgotten until the worker adopts one


def test_a_second_run_goes_on_along_the_same_epoch_axis():
    session = Session()
    run(session, quick())
    run(session, quick(epochs=3))
    assert list(session.history.train_loss.x) == [1, 2, 3, 4, 5]
    assert session.record_experiment().train.epochs == 3  # the latest run's settings are what is recorded
    assert len(session.runs) == 2


def test_during_a_run_try_it_reads_the_latest_epoch_and_afterwards_the_best_weights():
    session = Session()
    experiment = quick(epochs=3)
    job = session.start(experiment)
    data, model = experiment.make_dataset(), experiment.make_model()
    session.adopt(model, experiment, data)
    assert session.running and session.run.experiment == experiment  # adopting keeps the run under way
    events = train(model, data, job.config)
    for event in events:
        if isinstance(event, EpochEnd):
            state = {name: value + 1.0 for name, value in model.state_dict().items()}  # unlike the model's
            session.record(Update(epochs=[event], state=state))
            break
    predictor = session.predictor()
    assert predictor.model is session.preview and predictor.model is not model
    np.testing.assert_array_equal(session.preview.state_dict()["dense.bias"], state["dense.bias"])
    end = list(events)[-1]
    session.finish(end, Outcome.of(model, data, end.evaluation))
    assert session.preview is None and session.predictor().model is model


def test_reset_forgets_the_model_and_its_history():
    session = Session()
    run(session, quick())
    session.forget()
    assert session.model is None and session.history is None and session.epochs_done == 0
    assert session.epoch_span == 1 and session.metrics() == {} and session.predictor() is None
    assert not session.can_continue(quick())


def test_a_model_without_its_data_can_be_tried_but_not_continued():
    from lstm_studio.training import Predictor

    experiment = quick()
    data, model = experiment.make_dataset(), experiment.make_model()
    recorded = Predictor.for_data(model, data)
    session = Session()
    session.adopt_for_trying(model, experiment, recorded)
    assert session.predictor() is recorded and session.data is None
    assert not session.can_continue(experiment)
    assert session.start(experiment).model is None  # Train makes a new model


def test_a_loaded_model_shows_its_outcome_at_once():
    experiment = quick()
    data, model = experiment.make_dataset(), experiment.make_model()
    from lstm_studio.training import evaluate

    outcome = Outcome.of(model, data, evaluate(model, data))
    session = Session()
    session.adopt(model, experiment, data, outcome, train_loss=0.5)
    assert session.latest_evaluation is outcome.evaluation
    assert session.metrics()["train_loss"] == 0.5 and "mean_rmse" in session.metrics()
    assert session.can_continue(experiment.with_changes(lr=0.1))


def test_the_outcome_of_a_series_holds_a_forecast_and_of_classes_no_baselines():
    from lstm_studio.training import evaluate

    series = Experiment.for_task("sunspots").with_changes(epochs=1)
    data, model = series.make_dataset(), series.make_model()
    outcome = Outcome.of(model, data, evaluate(model, data))
    x, values = outcome.forecast
    assert x[0] == 2008 and values[0] == data.series.values[-1] and len(values) == 21
    pattern = quick("pattern")
    data, model = pattern.make_dataset(), pattern.make_model()
    outcome = Outcome.of(model, data, evaluate(model, data))
    assert outcome.baselines == {} and outcome.forecast is None


def test_a_session_refuses_a_second_run_at_once():
    session = Session()
    session.start(quick())
    with pytest.raises(RuntimeError):
        session.start(quick())
