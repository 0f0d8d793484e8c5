"""Training does not grow memory: buffers are allocated once per shape and reused."""

import tracemalloc

from lstm_studio.training import EpochEnd, Experiment, train


def epoch_peaks(experiment: Experiment, model, data) -> list[int]:
    """The most memory held at any moment of each epoch (traced Python and NumPy allocations)."""
    tracemalloc.start()
    try:
        peaks = []
        for event in train(model, data, experiment.train):
            if isinstance(event, EpochEnd):
                peaks.append(tracemalloc.get_traced_memory()[1])
                tracemalloc.reset_peak()  # the next epoch's peak is its own
    finally:
        tracemalloc.stop()
    return peaks


def test_peak_memory_does_not_grow_across_epochs():
    experiment = Experiment.for_task("sine").with_changes(n_samples=300, epochs=12, dtype="float32")
    data, model = experiment.make_dataset(), experiment.make_model()
    weights = sum(p.nbytes for p in model.parameters().values())
    peaks = epoch_peaks(experiment, model, data)
    # The first epochs allocate the buffers and Adam's moments; after them nothing may accumulate. A later
    # epoch's peak may exceed the fourth's by one copy of the weights in flight (a new best epoch), no more:
    # a leak of one copy per epoch (or of the batch buffers once) fails.
    assert max(peaks[4:]) - peaks[3] <= weights + 16 * 1024, (weights, peaks)


def test_a_series_run_is_sized_by_its_values_not_its_windows_copied():
    from lstm_studio.training import limits

    shape = (1, [32], 48, 32, "float64", 1_000_000)  # the one-million-row hourly series, --seq-len 48
    as_views, as_copies = limits.run_bytes(*shape, views=True), limits.run_bytes(*shape)
    assert as_views < 100 * 2**20 < 1 * 2**30 < as_copies  # a machine with 1 GB to spare may train it
