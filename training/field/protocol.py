"""How the field recipe is measured: grouped k-fold cross-validation over the field photos.

Field photos are split into folds by group (``training.field.data``: source and date or camera
sequence, near-copies merged), stratified by class, repeated with new folds per repeat. Each fold
trains on the lab training photos plus the field photos of the other folds and predicts its own
field photos and the lab hold-out. Every fold's per-photo probabilities are written to
``results/<arm>/r<repeat>-f<fold>.json`` as soon as it finishes, so an interrupted run continues
where it stopped; ``training.field.report`` computes every figure from those files.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from classifier.preprocessing import TEST_TIME_VIEWS
from training.datasets import hash_fraction
from training.field.data import PoolImage, Pools
from training.field.features import ViewFeatures, compute_view_features
from training.field.recipe import (
    Recipe,
    class_names_for,
    fit_head,
    predict_plain,
    training_rows,
)
from training.field.served_views import PHONE_COPY, PhoneCopy, compute_served_features, sent_bytes

#: The ablation: each arm adds or removes one technique; ``CHOSEN`` is the recipe that ships.
ARMS = {
    "lab_only": Recipe(
        "lab_only",
        field_potato_in_training=False,
        views=("plain",),
        balance="class",
        note="no field potato photo in training, classes balanced (the model shipped before)",
    ),
    "field": Recipe("field", views=("plain",), balance="class", note="field photos in training"),
    "balanced": Recipe("balanced", views=("plain",), note="+ each class balanced across lab and field"),
    "field_like": Recipe("field_like", views=("plain", "field_like"), note="+ field-like augmentation (a)"),
    "pasted": Recipe("pasted", views=("plain", "pasted"), note="+ lab leaves pasted on field backgrounds (b)"),
    "full": Recipe("full", note="(a) + (b)"),
    "full_hidden": Recipe("full_hidden", hidden_units=256, note="(a) + (b), a hidden layer of 256"),
    "full_224": Recipe(
        "full_224", image_size=224, hidden_units=256, note="(a) + (b), a hidden layer of 256, 224 px input"
    ),
    "averaged_224": Recipe(
        "averaged_224",
        image_size=224,
        hidden_units=256,
        heads=3,
        note="as `full_224`, three heads (seeds) with their logits averaged",
    ),
    "no_wilt": Recipe("no_wilt", bacterial_wilt=False, note="(a) + (b) without the bacterial wilt class"),
    "fine_tuned": Recipe(
        "fine_tuned",
        hidden_units=256,
        fine_tune_layers=12,
        note="(a) + (b), a hidden layer of 256, the backbone's last block and top convolution fine-tuned (c)",
    ),
    "fine_tuned_224": Recipe(
        "fine_tuned_224",
        image_size=224,
        hidden_units=256,
        fine_tune_layers=4,
        note="(a) + (b), a hidden layer of 256, 224 px input, the backbone's top convolution fine-tuned (c)",
    ),
    "fine_tuned_224_block": Recipe(
        "fine_tuned_224_block",
        image_size=224,
        hidden_units=256,
        fine_tune_layers=12,
        note="as `fine_tuned` at 224 px: the backbone's last block and top convolution fine-tuned (c)",
    ),
    "whole_128": Recipe(
        "whole_128",
        views=("plain",),
        fine_tune_layers="all",
        fine_tune_epochs=3,
        batch_size=32,
        note="as `balanced`, then the whole backbone fine-tuned for 3 epochs (c), batches of 32",
    ),
    "whole_224": Recipe(
        "whole_224",
        image_size=224,
        views=("plain",),
        fine_tune_layers="all",
        fine_tune_epochs=3,
        batch_size=32,
        note="as `whole_128` at 224 px",
    ),
}
#: The arm closest to the targets in the committed report (``training.field.report.closest_to_targets``;
#: a test holds the two together).
CHOSEN = "fine_tuned_224"
#: Beside a served arm's folds: the bytes the phone sent for its held-out field photos (``served_views.sent_bytes``).
SENT_FILENAME = "sent.json"


def field_folds(field: Sequence[PoolImage], folds: int, repeat: int) -> np.ndarray:
    """Fold number of each field photo: stratified by class, grouped, shuffled anew per repeat."""
    from sklearn.model_selection import StratifiedGroupKFold

    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=1000 + repeat)
    labels = [image.label for image in field]
    groups = [image.group for image in field]
    assignment = np.empty(len(field), dtype=np.int32)
    for fold, (_, test) in enumerate(splitter.split(np.zeros(len(field)), labels, groups)):
        assignment[test] = fold
    return assignment


def run_protocol(
    pools: Pools,
    out_dir: Path,
    reject_label: str,
    weights: str | None,
    arms: Sequence[str] = tuple(ARMS),
    folds: int = 5,
    repeats: int = 2,
    copies: int = 3,
    cache_dir: Path | None = None,
    recipes: dict[str, Recipe] | None = None,
    log: Callable[[str], None] = print,
    served_views: bool = False,
    field_fraction: float = 1.0,
    left_out: LeftOut | None = None,
    served_copy: PhoneCopy = PHONE_COPY,
    models_dir: Path | None = None,
) -> Path:
    """Cross-validate every arm; returns the results folder. Folds already stored are skipped.

    ``served_views``: judge held-out field photos as the worker sees them, with their test-time views
    (``training.field.served_views``), sent from the phone as ``served_copy``; ``field_fraction``: train
    each fold on that share of its training field photos of each class (a learning curve; the held-out
    fold stays whole); ``left_out``: train each fold without those field photos (officers' collected photos,
    say: what the model would be without them, judged on the same folds; stored as ``without_arm``).
    ``models_dir``: keep each fold's trained head there (``<arm>/r0-f0.weights.h5``), to judge other forms
    of the same model later (a quantized one, ``training.field.quantized``)."""
    recipes = recipes or ARMS
    out_dir = Path(out_dir)
    images = pools.everything
    lab_train = list(range(len(pools.lab_train)))
    lab_holdout = list(range(len(pools.lab_train), len(pools.lab_train) + len(pools.lab_holdout)))
    field = list(range(len(pools.lab_train) + len(pools.lab_holdout), len(images)))
    _write_json(out_dir / "photos.json", [photo_entry(image) for image in images])
    features: dict[tuple[int, str | None], ViewFeatures] = {}
    if served_views and field_fraction >= 1.0:
        for arm in arms:  # what the phone sends for the held-out photos of these folds
            sent = out_dir / "results" / served_arm(arm, served_copy) / SENT_FILENAME
            if not sent.exists():
                _write_json(sent, sent_bytes([images[i] for i in field], served_copy))
    for repeat in range(repeats):
        assignment = field_folds([images[i] for i in field], folds, repeat)
        split = {images[i].key: int(f) for i, f in zip(field, assignment, strict=True)}
        _write_json(out_dir / "splits" / f"r{repeat}.json", split)
        for arm in arms:
            recipe = recipes[arm]
            stored_as = (
                learning_curve_arm(arm, field_fraction)
                if field_fraction < 1.0
                else served_arm(arm, served_copy)
                if served_views
                else without_arm(arm, left_out.name)
                if left_out
                else arm
            )
            for fold in range(folds):
                path = out_dir / "results" / stored_as / f"r{repeat}-f{fold}.json"
                if path.exists():
                    continue
                needs = (recipe.image_size, recipe.boundary())
                if needs not in features:
                    features[needs] = features_for(recipe, images, reject_label, weights, copies, cache_dir, log)
                if served_views and ("served", *needs) not in features:
                    features[("served", *needs)] = compute_served_features(
                        [images[i] for i in field],
                        recipe.image_size,
                        weights,
                        recipe.boundary(),
                        cache_dir,
                        log,
                        copy=served_copy,
                    )
                test = [i for i, f in zip(field, assignment, strict=True) if f == fold]
                training_field = [
                    i
                    for i, f in zip(field, assignment, strict=True)
                    if f != fold and not (left_out and images[i].key in left_out.keys)
                ]
                train = lab_train + share_of_each_class(images, training_field, field_fraction)
                result = run_fold(
                    images,
                    features[needs],
                    recipe,
                    train,
                    test,
                    lab_holdout,
                    reject_label,
                    weights,
                    served=features.get(("served", *needs)),
                    # A left-out source teaches nothing, not even as the background of a pasted view.
                    excluded=[i for i in field if left_out and images[i].key in left_out.keys],
                    keep_head=Path(models_dir) / stored_as / f"r{repeat}-f{fold}.weights.h5" if models_dir else None,
                )
                result["field_fraction"] = field_fraction
                result.update(arm=stored_as, repeat=repeat, fold=fold)
                _write_json(path, result)
                fit = result["fit"]
                log(f"{arm} r{repeat} f{fold}: {fit['epochs']} epochs, {fit['rows']} rows, {fit['seconds']} s")
    return out_dir


def features_for(recipe: Recipe, images, reject_label: str, weights, copies: int, cache_dir, log) -> ViewFeatures:
    """The views' activations the recipe trains on (pooled features, or its boundary's), cached."""
    return compute_view_features(
        images,
        reject_label,
        recipe.image_size,
        weights,
        copies,
        cache_dir=cache_dir,
        log=log,
        boundary=recipe.boundary(),
    )


def run_fold(
    images: Sequence[PoolImage],
    features: ViewFeatures,
    recipe: Recipe,
    train: Sequence[int],
    test: Sequence[int],
    lab_holdout: Sequence[int],
    reject_label: str,
    weights: str | None = None,
    served: dict[str, np.ndarray] | None = None,
    excluded: Sequence[int] = (),
    keep_head: Path | None = None,
) -> dict:
    """Train one head on ``train`` and predict ``test`` (field) and ``lab_holdout``; with ``served``, the
    field photos as the worker sees them (``probabilities``) and every test-time view of them
    (``view_probabilities``). No pasted view trains on a background in ``test`` or ``excluded``. With
    ``keep_head``, the trained head's weights are written there."""
    import keras

    class_names = class_names_for(images, recipe, reject_label)
    rows = training_rows(
        images, train, features, class_names, recipe, reject_label, excluded_backgrounds=set(test) | set(excluded)
    )
    head, fit = fit_head(rows, [images[i].group for i in range(len(images))], len(class_names), recipe, weights)
    if keep_head is not None:
        keep_head.parent.mkdir(parents=True, exist_ok=True)
        head.save_weights(keep_head)
    evaluated = [i for i in list(test) + list(lab_holdout) if recipe.keeps(images[i])]
    probabilities = predict_plain(head, features, evaluated)
    result = {"views": None, "view_probabilities": None}
    if served is not None:
        keys = [images[i].key for i in evaluated]
        viewed = [position for position, key in enumerate(keys) if key in served]
        stacked = np.stack([served[keys[position]] for position in viewed]).astype(np.float32)
        per_view = head.predict(stacked.reshape(-1, *stacked.shape[2:]), batch_size=1024, verbose=0)
        per_view = per_view.reshape(len(viewed), stacked.shape[1], -1)
        probabilities[viewed] = per_view[:, 0]  # "as_sent": what the worker sees
        by_position = dict(zip(viewed, per_view, strict=True))
        result = {
            "views": list(TEST_TIME_VIEWS),
            "view_probabilities": [
                np.round(by_position[p].astype(np.float64), 7).tolist() if p in by_position else None
                for p in range(len(keys))
            ],
        }
    keras.backend.clear_session()
    return {
        "recipe": recipe.as_dict(),
        "classes": class_names,
        "reject_label": reject_label,
        "fit": fit | {"counts": rows.counts},
        "keys": [images[i].key for i in evaluated],
        "probabilities": np.round(probabilities.astype(np.float64), 7).tolist(),
        **({} if result["views"] is None else result),
    }


def served_arm(arm: str, copy: PhoneCopy = PHONE_COPY) -> str:
    """Where ``arm``'s folds judged on held-out photos as the worker sees them, sent as ``copy``, are stored:
    ``fine_tuned_224-served`` for the 800 px copy, ``fine_tuned_224-served384`` for a 384 px one."""
    return f"{arm}-served{copy.suffix}"


def learning_curve_arm(arm: str, fraction: float) -> str:
    """Where a learning-curve point of ``arm`` is stored: ``fine_tuned_224-field25`` for 25%."""
    return f"{arm}-field{round(100 * fraction)}"


@dataclass(frozen=True)
class LeftOut:
    """Field photos (by key) a cross-validation trains without, named for where its folds are stored."""

    name: str
    keys: frozenset[str]


def without_arm(arm: str, name: str) -> str:
    """Where ``arm``'s folds trained without some photos are stored: ``fine_tuned_224-without-collected``."""
    return f"{arm}-without-{name}"


def share_of_each_class(images: Sequence[PoolImage], positions: Sequence[int], fraction: float) -> list[int]:
    """``fraction`` of ``positions``' photos of each class (at least one), the same ones for every fold and
    fraction: ordered by a hash of the photo's key, so a smaller share is part of a larger one."""
    if fraction >= 1.0:
        return list(positions)
    by_class: dict[str, list[int]] = {}
    for position in positions:
        by_class.setdefault(images[position].label, []).append(position)
    kept = []
    for members in by_class.values():
        members.sort(key=lambda position: hash_fraction(images[position].key, "learning-curve"))
        kept += members[: max(1, round(fraction * len(members)))]
    return sorted(kept)


def train_final_head(
    pools: Pools,
    recipe: Recipe,
    reject_label: str,
    weights,
    copies: int,
    cache_dir,
    log=print,
    shuffle_labels: bool = False,
):
    """The shipped head: every lab training photo and every field photo, the recipe unchanged.

    ``shuffle_labels`` trains on permuted labels: a deliberately bad model, to show that promotion
    refuses one.
    """
    images = pools.everything
    features = features_for(recipe, images, reject_label, weights, copies, cache_dir, log)
    class_names = class_names_for(images, recipe, reject_label)
    lab_holdout = set(range(len(pools.lab_train), len(pools.lab_train) + len(pools.lab_holdout)))
    train = [i for i in range(len(images)) if i not in lab_holdout]
    rows = training_rows(images, train, features, class_names, recipe, reject_label)
    if shuffle_labels:
        rows.labels = np.random.default_rng(recipe.seed).permutation(rows.labels)
    head, fit = fit_head(rows, [image.group for image in images], len(class_names), recipe, weights)
    log(f"final head: {fit['epochs']} epochs on {fit['rows']} rows in {fit['seconds']} s")
    return head, class_names, fit | {"counts": rows.counts}


def scaled(recipe: Recipe, **changes) -> Recipe:
    """A recipe with some fields changed (tests: fewer epochs)."""
    return replace(recipe, **changes)


def photo_entry(image: PoolImage) -> dict:
    return {
        "key": image.key,
        "label": image.label,
        "domain": image.domain,
        "group": image.group,
        "subset": image.subset,
        "source": image.image.source,
    }


def _write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    partial.replace(path)
