"""Runs and sweeps (Contract 6) in one import, for the window and for scripts.

Run folders: ``RunRecorder`` writes one as a run goes; ``list_runs``/``read_run`` read them (never
raising for a damaged one); ``rename_run``, ``delete_run`` and ``export_histories`` act on them;
``resolve_runs_dir``/``ensure_runs_dir`` find and check the runs directory. Sweeps: ``Sweep``.
The modules behind: ``run_format`` (the files), ``run_recorder``, ``run_reader``, ``run_store``,
``trial`` (one trial, the grid), ``sweep`` and ``sweep_backends`` (process pool, Ray).
"""

from lstm_studio.training.run_format import RUNNING, UNREADABLE, RunFileError, RunHistory, RunStoreError
from lstm_studio.training.run_reader import RunInfo, list_runs, read_run
from lstm_studio.training.run_recorder import RunRecorder
from lstm_studio.training.run_store import (
    delete_run,
    ensure_runs_dir,
    export_histories,
    rename_run,
    resolve_runs_dir,
)
from lstm_studio.training.sweep import Sweep, SweepEvent, TrialEnd, TrialEpoch
from lstm_studio.training.sweep_backends import SweepError
from lstm_studio.training.trial import SWEPT, TrialSpec, expand_grid, run_trial

__all__ = [
    "RUNNING",
    "SWEPT",
    "UNREADABLE",
    "RunFileError",
    "RunHistory",
    "RunInfo",
    "RunRecorder",
    "RunStoreError",
    "Sweep",
    "SweepError",
    "SweepEvent",
    "TrialEnd",
    "TrialEpoch",
    "TrialSpec",
    "delete_run",
    "ensure_runs_dir",
    "expand_grid",
    "export_histories",
    "list_runs",
    "read_run",
    "rename_run",
    "resolve_runs_dir",
    "run_trial",
]
