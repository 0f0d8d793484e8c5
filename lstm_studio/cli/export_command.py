"""``lstm-studio export``: a weights file as an ONNX model or as a NumPy-only prediction script (Contract 7)."""

from __future__ import annotations

import argparse

from lstm_studio.cli.errors import CommandError
from lstm_studio.export import ExportError, export_numpy_script, export_onnx
from lstm_studio.training.saved import open_saved
from lstm_studio.weights import WeightsError


def add_export_parser(sub: argparse._SubParsersAction) -> None:
    """The ``export`` command and its options."""
    x = sub.add_parser("export", help="write a weights file as an ONNX model or a NumPy-only script")
    x.add_argument("weights", help="weights file written by train")
    target = x.add_mutually_exclusive_group(required=True)
    target.add_argument("--onnx", metavar="FILE", help='ONNX model (needs: pip install "lstm-studio[onnx]")')
    target.add_argument("--numpy", metavar="FILE", help="Python script that predicts with NumPy only")


def cmd_export(args: argparse.Namespace) -> int:
    """Write the format asked for, and say where."""
    try:
        saved = open_saved(args.weights)  # the script serves any weights file, but refuse one that is not ours
        if args.onnx:
            path = export_onnx(saved, args.onnx)
            print(f"ONNX model written to {path}")
        else:
            path = export_numpy_script(args.numpy, inputs=[saved.path])
            print(f"NumPy script written to {path}; run: python {path} {saved.path} V1 V2 ... [--json]")
    except (ExportError, WeightsError) as exc:
        raise CommandError(str(exc)) from None
    return 0
