"""The command line's progress: a redrawn bar on a terminal, plain epoch lines otherwise."""

import io

from lstm_studio.cli.progress import Progress
from lstm_studio.training import TASKS, BatchEnd, EpochEnd, Experiment, train


def events():
    experiment = Experiment.for_task("pattern").with_changes(n_samples=100, epochs=2)
    return list(train(experiment.make_model(), experiment.make_dataset(), experiment.train))


def test_a_terminal_gets_a_redrawn_bar_and_a_line_per_epoch(monkeypatch):
    import lstm_studio.cli.progress as progress

    monkeypatch.setattr(progress, "REDRAW_SECONDS", 0.0)  # draw every batch
    stream = io.StringIO()
    shown = Progress(stream, TASKS["pattern"], epochs=2, interactive=True)
    for event in events():
        shown.show(event)
    shown.close()
    text = stream.getvalue()
    assert "\r\033[Kepoch 1/2 [" in text and "#" in text and "] loss " in text
    assert "\r\033[Kepoch 2/2  loss" in text and "val acc" in text and "samples/s" in text


def test_a_pipe_gets_one_plain_line_per_epoch():
    stream = io.StringIO()
    shown = Progress(stream, TASKS["pattern"], epochs=2, interactive=False)
    all_events = events()
    for event in all_events:
        shown.show(event)
    lines = stream.getvalue().splitlines()
    assert len(lines) == sum(isinstance(e, EpochEnd) for e in all_events) == 2
    assert "\r" not in stream.getvalue() and "\033" not in stream.getvalue()
    assert sum(isinstance(e, BatchEnd) for e in all_events) > 2
