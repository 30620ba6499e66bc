"""Grad-CAM (Selvaraju et al., 2017) for the project's Keras classifier.

Imports Keras and TensorFlow: only the ``training`` queue's worker runs it (through
:func:`classifier.tasks.compute_heatmap`); the web process and the inference worker never import
this module.

The classifier is ``Rescaling -> MobileNetV2 backbone (nested model) -> head``. The gradient of
the chosen class's score with respect to the backbone's last convolutional feature map, averaged
over space, weighs each channel; the weighted sum, clipped at zero, is where the model looked.
"""

from __future__ import annotations

import io
import threading
from typing import BinaryIO

import numpy as np
from PIL import Image

from classifier.preprocessing import center_square, upright_rgb
from classifier.registry.artifacts import read_keras_model

OVERLAY_SIDE = 320

_models: dict[str, object] = {}
_lock = threading.Lock()


def load_keras_model(path: str):
    """The Keras model at ``path``, loaded once per worker process."""
    with _lock:
        if path not in _models:
            _models.clear()  # keep one model: versions change rarely
            _models[path] = read_keras_model(path)
        return _models[path]


def _split(model):
    """(layers before the backbone, backbone up to its last 4-D output, the layers after that)."""
    import keras

    nested = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    if not nested:
        raise ValueError("the model has no nested backbone to take feature maps from")
    backbone = nested[-1]
    position = model.layers.index(backbone)
    before = [layer for layer in model.layers[:position] if not isinstance(layer, keras.layers.InputLayer)]
    conv_index = max(i for i, layer in enumerate(backbone.layers) if len(layer.output.shape) == 4)
    features = keras.Model(backbone.inputs, backbone.layers[conv_index].output)
    after = backbone.layers[conv_index + 1 :] + model.layers[position + 1 :]
    return before, features, after


def class_activation_map(model, image: np.ndarray, class_index: int) -> np.ndarray:
    """Grad-CAM for one (size, size, 3) image in [0, 255]: a (h, w) map in [0, 1]."""
    import tensorflow as tf

    before, features, after = _split(model)
    x = tf.convert_to_tensor(image[np.newaxis], dtype=tf.float32)
    for layer in before:
        x = layer(x)
    conv = features(x, training=False)
    with tf.GradientTape() as tape:
        tape.watch(conv)
        y = conv
        for layer in after:
            y = layer(y, training=False)
        score = y[:, class_index]
    gradients = tape.gradient(score, conv)
    weights = tf.reduce_mean(gradients, axis=(1, 2))
    cam = tf.nn.relu(tf.reduce_sum(conv * weights[:, tf.newaxis, tf.newaxis, :], axis=-1))[0].numpy()
    top = float(cam.max())
    return cam / top if top > 0 else cam


def colorize(cam: np.ndarray) -> np.ndarray:
    """A blue-green-yellow-red colour scale for values in [0, 1]: (h, w, 3) uint8."""
    stops = np.array([0.0, 0.35, 0.65, 1.0])
    colors = np.array([[30, 60, 200], [40, 190, 90], [250, 220, 40], [220, 30, 30]], dtype=np.float32)
    channels = [np.interp(cam, stops, colors[:, c]) for c in range(3)]
    return np.stack(channels, axis=-1).astype(np.uint8)


def overlay(photo: Image.Image, cam: np.ndarray, side: int = OVERLAY_SIDE, alpha: float = 0.45) -> bytes:
    """The centre square the model saw with the map blended over it, as JPEG bytes."""
    base = center_square(photo).resize((side, side), Image.Resampling.BILINEAR)
    smooth = Image.fromarray((cam * 255).astype(np.uint8)).resize((side, side), Image.Resampling.BICUBIC)
    heat = Image.fromarray(colorize(np.asarray(smooth, dtype=np.float32) / 255.0))
    blended = Image.blend(base, heat, alpha)
    buffer = io.BytesIO()
    blended.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def render_heatmap(model_path: str, source: str | BinaryIO, class_index: int, image_size: int) -> bytes:
    """Open the photo, run Grad-CAM for ``class_index`` and return the overlay JPEG."""
    from classifier.preprocessing import to_model_input

    with Image.open(source) as opened:
        photo = upright_rgb(opened, OVERLAY_SIDE)
        photo.load()
    model = load_keras_model(model_path)
    cam = class_activation_map(model, to_model_input(photo, image_size), class_index)
    return overlay(photo, cam)
