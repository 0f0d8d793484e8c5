"""Training does not grow memory: buffers are allocated once per shape and reused."""

import tracemalloc

from lstm_studio.training import EpochEnd, Experiment, train


def test_peak_memory_does_not_grow_across_epochs():
    experiment = Experiment.for_task("sine").with_changes(n_samples=300, epochs=12, dtype="float32")
    data, model = experiment.make_dataset(), experiment.make_model()
    tracemalloc.start()
    try:
        peaks = []
        for event in train(model, data, experiment.train):
            if isinstance(event, EpochEnd):
                peaks.append(tracemalloc.get_traced_memory()[0])  # what is held after each epoch
    finally:
        tracemalloc.stop()
    # after the first epochs (buffers, optimiser moments) nothing more may accumulate
    assert max(peaks[4:]) <= peaks[3] * 1.05 + 64 * 1024, peaks
