"""Keras model to the TFLite file the inference worker serves.

Four forms of one model (``QUANTIZATIONS``), all with float32 input and output so the worker reads
any of them the same way:

- ``float32``: weights and compute in float32;
- ``float16``: weights stored in float16 (half the file), dequantized at load: compute stays float32.
  What ships (``SHIPPED_QUANTIZATION``);
- ``dynamic``: weights in int8, activations quantized on the fly where a kernel supports it;
- ``int8``: weights and activations in int8 (full integer), activation ranges calibrated on
  ``representative`` images.

Which ships was measured on the field cross-validation and in ``benchmarks/quantized.py``
(docs/field/report.md, section "Quantized models").
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

QUANTIZATIONS = ("float32", "float16", "dynamic", "int8")
SHIPPED_QUANTIZATION = "float16"


def tflite_bytes(model, quantization: str = SHIPPED_QUANTIZATION, representative: Iterable[np.ndarray] = ()) -> bytes:
    """``model`` as a TFLite flatbuffer in one of ``QUANTIZATIONS``; ``representative``: model inputs
    (size, size, 3) for ``int8``'s calibration."""
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"unknown quantization {quantization!r}: one of {', '.join(QUANTIZATIONS)}")
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if quantization != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if quantization == "int8":
        samples = [np.asarray(image, dtype=np.float32)[np.newaxis] for image in representative]
        if not samples:
            raise ValueError("int8 needs representative images to calibrate its activation ranges")
        converter.representative_dataset = lambda: ([sample] for sample in samples)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]  # float32 in and out
    return converter.convert()


def export_tflite(
    model,
    path: Path | str,
    quantization: str = SHIPPED_QUANTIZATION,
    representative: Iterable[np.ndarray] = (),
) -> Path:
    """Write ``model`` as a TFLite flatbuffer (:func:`tflite_bytes`)."""
    data = tflite_bytes(model, quantization, representative)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
