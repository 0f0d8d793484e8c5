"""Exporting a model to run where LSTM Studio is not installed (Contract 7).

- ``export_onnx(source, out)``: an ONNX graph (``onnx_graph``) with the task's normalisation inside:
  raw values in, raw-unit predictions or class probabilities out. Needs the optional ``onnx``
  package; ``onnx_available()`` says why not when it is missing.
- ``export_numpy_script(out)``: ``predict_template.py`` copied as it is, a NumPy-only script that
  prints what ``lstm-studio predict`` prints for any weights file.

Nothing here imports onnx until an ONNX export is asked for.
"""

from lstm_studio.export.writers import ONNX_EXTRA, ExportError, export_numpy_script, export_onnx, onnx_available

__all__ = ["ONNX_EXTRA", "ExportError", "export_numpy_script", "export_onnx", "onnx_available"]
