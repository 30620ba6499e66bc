"""The same fold models judged on another phone copy: what the copy alone changes.

Training a fold is not bit-for-bit reproducible on CPU (measured: two runs of one fold's recipe give lab
hold-out probabilities up to 0.08 apart), so two cross-validations judged on two copies differ also where
both copies send the same bytes. Here the heads a served run kept (``cross_validate_field --keep-models``)
predict the held-out field photos sent as another copy (from their cached activations, as the fold
predicted its own copy); everything else of the fold is its own. Stored as ``<served arm>-sent<side>``
(``fine_tuned_224-served384-sent800``: the 384 px run's models, photos sent at 800 px), so the field report
compares the copies on the same models, each with its own rule refitted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from classifier.preprocessing import TEST_TIME_VIEWS
from training.field.data import FIELD, Pools
from training.field.protocol import SENT_FILENAME, _write_json
from training.field.recipe import Recipe, fine_tunable_model
from training.field.served_views import PHONE_JPEG_QUALITY, PhoneCopy, compute_served_features, sent_bytes


def paired_arm(served: str, copy: PhoneCopy) -> str:
    """Where ``served``'s fold models judged on photos sent as ``copy`` are stored."""
    quality = "" if copy.quality == PHONE_JPEG_QUALITY else f"q{copy.quality}"
    return f"{served}-sent{copy.side}{quality}"


def run_paired(
    pools: Pools,
    out_dir: Path,
    served: str,
    recipe: Recipe,
    weights: str | None,
    models_dir: Path,
    copy: PhoneCopy,
    cache_dir: Path | None,
    log: Callable[[str], None] = print,
) -> list[Path]:
    """Every fold of ``served`` (its kept head in ``models_dir``) judged on photos sent as ``copy``; returns
    the fold files written. Folds already stored are skipped."""
    from keras import backend

    target_arm = paired_arm(served, copy)
    folds = sorted((Path(out_dir) / "results" / served).glob("r*-f*.json"))
    missing = [path for path in folds if not (Path(out_dir) / "results" / target_arm / path.name).exists()]
    if not missing:
        return []
    field = [image for image in pools.everything if image.domain == FIELD]
    sent = Path(out_dir) / "results" / target_arm / SENT_FILENAME
    if not sent.exists():
        _write_json(sent, sent_bytes(field, copy))
    activations = compute_served_features(
        field, recipe.image_size, weights, recipe.boundary(), cache_dir, log, copy=copy
    )
    written = []
    for fold_path in missing:
        result = json.loads(fold_path.read_text())
        head_path = Path(models_dir) / served / fold_path.name.replace(".json", ".weights.h5")
        _, head = fine_tunable_model(len(result["classes"]), recipe, weights)
        head.load_weights(head_path)
        keys = result["keys"]
        viewed = [position for position, key in enumerate(keys) if key in activations]
        stacked = np.stack([activations[keys[position]] for position in viewed]).astype(np.float32)
        per_view = head.predict(stacked.reshape(-1, *stacked.shape[2:]), batch_size=1024, verbose=0)
        per_view = per_view.reshape(len(viewed), stacked.shape[1], -1)
        probabilities = np.array(result["probabilities"], dtype=np.float64)
        probabilities[viewed] = per_view[:, 0]  # "as_sent"
        by_position = dict(zip(viewed, per_view, strict=True))
        target = Path(out_dir) / "results" / target_arm / fold_path.name
        _write_json(
            target,
            result
            | {
                "arm": target_arm,
                "probabilities": np.round(probabilities, 7).tolist(),
                "views": list(TEST_TIME_VIEWS),
                "view_probabilities": [
                    np.round(by_position[p].astype(np.float64), 7).tolist() if p in by_position else None
                    for p in range(len(keys))
                ],
                "sent_as": {"side": copy.side, "quality": copy.quality},
            },
        )
        written.append(target)
        backend.clear_session()
        log(f"{served} {fold_path.stem}: its model judged on photos sent at {copy.side} px")
    return written
