"""A cross-validation's fold models as TFLite files, quantized or not, judged on the photos they held out.

``cross_validate_field --served-views --keep-models DIR`` keeps each fold's trained head. Here each is put
on the backbone (``training.field.recipe.compose_model``, as the shipped model is), converted to each of
``training.export.QUANTIZATIONS`` asked for, and run by the worker's runtime (LiteRT, one image per
invoke) on that fold's held-out field photos as the worker sees them (the same phone copy, with their
test-time views) and on the lab hold-out (read as the worker reads a photo). Each fold's predictions are
stored as the protocol stores them, under ``<served arm>-tflite-<quantization>``, so the field report
judges each form with its own rule refitted, beside the others.

Int8 (full integer) calibrates its activation ranges on ``CALIBRATION_PHOTOS`` of the fold's own training
photos, never on a photo it is judged on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from classifier.preprocessing import TEST_TIME_VIEWS, load_model_input
from training.datasets import hash_fraction
from training.field.data import FIELD, PoolImage, Pools
from training.field.protocol import _write_json
from training.field.recipe import Recipe, compose_model, fine_tunable_model
from training.field.served_views import PhoneCopy, served_inputs

CALIBRATION_PHOTOS = 200


def quantized_arm(served: str, quantization: str) -> str:
    """Where a served arm's folds, as TFLite files in ``quantization``, are stored."""
    return f"{served}-tflite-{quantization}"


def fold_model(result: dict, recipe: Recipe, weights: str | None, head_path: Path):
    """The full Keras model of one fold: its kept head on the backbone."""
    _, head = fine_tunable_model(len(result["classes"]), recipe, weights)
    head.load_weights(head_path)
    return compose_model(head, recipe.image_size, weights)


def calibration_images(images: Sequence[PoolImage], test_keys: set[str], image_size: int) -> list[np.ndarray]:
    """``CALIBRATION_PHOTOS`` photos the fold trained on (lab and field, chosen by a hash of the key)."""
    trained = [image for image in images if image.key not in test_keys]
    trained.sort(key=lambda image: hash_fraction(image.key, "calibration"))
    return [load_model_input(str(image.path), image_size) for image in trained[:CALIBRATION_PHOTOS]]


def predict_tflite(path: Path, inputs: np.ndarray) -> np.ndarray:
    """Probabilities of ``inputs`` (N, size, size, 3) by the worker's runtime, one image per invoke."""
    from classifier.runtimes.litert import LiteRTRuntime

    return LiteRTRuntime(str(path), num_threads=1).predict(inputs)


def run_quantized(
    pools: Pools,
    out_dir: Path,
    served: str,
    recipe: Recipe,
    weights: str | None,
    models_dir: Path,
    quantizations: Sequence[str],
    copy: PhoneCopy,
    log: Callable[[str], None] = print,
) -> list[Path]:
    """Every fold of ``served`` (its kept head in ``models_dir``) as TFLite in each of ``quantizations``;
    returns the fold files written. Folds already stored are skipped."""
    from keras import backend

    from training.export import tflite_bytes

    by_key = {image.key: image for image in pools.everything}
    written = []
    for fold_path in sorted((Path(out_dir) / "results" / served).glob("r*-f*.json")):
        targets = {q: Path(out_dir) / "results" / quantized_arm(served, q) / fold_path.name for q in quantizations}
        if all(path.exists() for path in targets.values()):
            continue
        started = time.monotonic()
        result = json.loads(fold_path.read_text())
        head_path = Path(models_dir) / served / fold_path.name.replace(".json", ".weights.h5")
        if not head_path.exists():
            raise FileNotFoundError(f"{head_path}: rerun cross_validate_field with --keep-models {models_dir}")
        model = fold_model(result, recipe, weights, head_path)
        keys = result["keys"]
        field = [position for position, key in enumerate(keys) if by_key[key].domain == FIELD]
        views = np.stack([served_inputs(by_key[keys[p]].path, recipe.image_size, copy=copy) for p in field])
        others = [position for position in range(len(keys)) if position not in set(field)]
        plain = np.stack([load_model_input(str(by_key[keys[p]].path), recipe.image_size) for p in others])
        calibration = (
            calibration_images(pools.everything, set(keys), recipe.image_size) if "int8" in quantizations else []
        )
        for quantization, target in targets.items():
            if target.exists():
                continue
            data = tflite_bytes(model, quantization, calibration)
            tflite = Path(models_dir) / quantized_arm(served, quantization) / fold_path.name.replace(".json", ".tflite")
            tflite.parent.mkdir(parents=True, exist_ok=True)
            tflite.write_bytes(data)
            per_view = predict_tflite(tflite, views.reshape(-1, *views.shape[2:]))
            per_view = per_view.reshape(len(field), len(TEST_TIME_VIEWS), -1)
            probabilities = np.zeros((len(keys), per_view.shape[-1]))
            probabilities[field] = per_view[:, 0]  # "as_sent": what the worker sees
            probabilities[others] = predict_tflite(tflite, plain)
            by_position = dict(zip(field, per_view, strict=True))
            arm = quantized_arm(served, quantization)
            _write_json(
                target,
                {
                    **{name: result[name] for name in ("recipe", "classes", "reject_label", "fit", "keys")},
                    "probabilities": np.round(probabilities.astype(np.float64), 7).tolist(),
                    "views": list(TEST_TIME_VIEWS),
                    "view_probabilities": [
                        np.round(by_position[p].astype(np.float64), 7).tolist() if p in by_position else None
                        for p in range(len(keys))
                    ],
                    "quantization": quantization,
                    "tflite_bytes": len(data),
                    "field_fraction": result.get("field_fraction", 1.0),
                    "arm": arm,
                    "repeat": result["repeat"],
                    "fold": result["fold"],
                },
            )
            written.append(target)
        backend.clear_session()
        log(f"{served} {fold_path.stem} as TFLite {', '.join(quantizations)}: {time.monotonic() - started:.0f} s")
    return written
