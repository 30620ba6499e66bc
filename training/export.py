"""Keras model to the TFLite file the inference worker serves."""

from __future__ import annotations

from pathlib import Path


def export_tflite(model, path: Path | str, float16: bool = True) -> Path:
    """Write ``model`` as a TFLite flatbuffer; ``float16`` halves the file, compute stays float32."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if float16:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(converter.convert())
    return path
