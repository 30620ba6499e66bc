"""Training the model the product serves: potato classes from folders plus a reject class.

The recipe, in two stages like keras.io's transfer-learning guide:
1. the ImageNet backbone frozen, a new head trained at a higher learning rate;
2. every layer trainable (BatchNormalization frozen) at the study's learning rate, 1e-4,
   with early stopping on the validation loss.

Lab photos (PlantVillage) and field photos (PlantDoc) differ in more than the leaf. The
negatives are mostly field photos, so a model could learn "field photo means not potato". The
shipped model keeps every field potato photo out of training (``field_holdout_fraction=1``) so
its card measures exactly that weakness on photos it never saw; officers' labelled field photos
then teach it through retraining (``training.retraining``; ``field_weight`` can weigh field photos
up, though in the demo runs weighing them 4x let more non-potato field photos through). A
fraction below 1 trains on part of the field photos instead.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from classifier.artifacts import KERAS_FILENAME, MODEL_FILENAME, ModelManifest
from training.datasets import (
    LabelledImage,
    balanced_class_weights,
    class_names_of,
    list_class_images,
    list_negative_images,
    load_arrays,
    make_dataset,
    split_by_photo,
)


@dataclass
class DefaultModelConfig:
    data_dir: Path
    negatives_dirs: Sequence[Path] = ()
    field_dir: Path | None = None
    weights: str | None = "imagenet"
    reject_label: str = "not_potato_leaf"
    image_size: int = 128
    batch_size: int = 32
    head_epochs: int = 6
    head_learning_rate: float = 1e-3
    finetune_epochs: int = 4
    finetune_learning_rate: float = 1e-4
    patience: int = 2
    holdout_fraction: float = 0.2
    field_holdout_fraction: float = 1.0  # field photos only evaluate the served model (see module docstring)
    field_weight: float = 4.0
    max_per_class: int | None = None
    seed: int = 1337


@dataclass
class SplitData:
    train: list[LabelledImage] = field(default_factory=list)
    holdouts: dict[str, list[LabelledImage]] = field(default_factory=dict)


def collect_images(config: DefaultModelConfig) -> SplitData:
    """List every photo and split each collection by original photo into train and held-out."""
    split = SplitData()

    def add(name: str, items: list[LabelledImage], fraction: float) -> None:
        if config.max_per_class:
            items = _cap_per_class(items, config.max_per_class)
        train, holdout = split_by_photo(items, fraction)
        split.train += train
        split.holdouts[name] = holdout

    add("lab", list_class_images(config.data_dir), config.holdout_fraction)
    for negatives_dir in config.negatives_dirs:
        negatives = list_negative_images(negatives_dir, config.reject_label)
        add(f"negatives:{Path(negatives_dir).name}", negatives, config.holdout_fraction)
    if config.field_dir:
        add("field", list_class_images(config.field_dir, source="field"), config.field_holdout_fraction)
    return split


def _cap_per_class(items: list[LabelledImage], cap: int) -> list[LabelledImage]:
    kept, counts = [], {}
    for item in items:
        if counts.get(item.label, 0) < cap:
            kept.append(item)
            counts[item.label] = counts.get(item.label, 0) + 1
    return kept


def sample_weights_for(arrays, field_weight: float) -> np.ndarray:
    """Balanced class weights, times ``field_weight`` for field photos of potato leaves."""
    class_weights = balanced_class_weights(arrays.labels, len(arrays.class_names))
    weights = np.array([class_weights[int(label)] for label in arrays.labels], dtype=np.float32)
    is_field = np.array([item.source == "field" for item in arrays.items])
    weights[is_field] *= field_weight
    return weights


def train_default_model(
    config: DefaultModelConfig,
    out_dir: Path,
    log: Callable[[str], None] = print,
) -> dict:
    """Train on the configured folders, export ``model.tflite`` + ``labels.json`` into ``out_dir``."""
    split = collect_images(config)
    potato_classes = class_names_of(list_class_images(config.data_dir))
    class_names = potato_classes + ([config.reject_label] if config.negatives_dirs else [])
    validation_items = split.holdouts["lab"] + [
        item for name, items in split.holdouts.items() if name.startswith("negatives:") for item in items
    ]
    summary = train_from_items(split.train, validation_items, class_names, config, out_dir, log=log)
    summary["holdout_photos"] = {name: len(items) for name, items in split.holdouts.items()}
    (Path(out_dir) / "training.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def train_from_items(
    train_items: list[LabelledImage],
    validation_items: list[LabelledImage],
    class_names: list[str],
    config: DefaultModelConfig,
    out_dir: Path,
    log: Callable[[str], None] = print,
    callbacks: Sequence = (),
    shuffle_labels: bool = False,
) -> dict:
    """The two-stage fit on explicit photo lists; writes the served model and its Keras form.

    ``callbacks`` are extra Keras callbacks (progress, cancellation). ``shuffle_labels`` trains on
    permuted labels: a deliberately bad model, to show that promotion refuses one.
    """
    import keras

    from training.architecture import build_classifier, compile_classifier, set_trainable_layers
    from training.export import export_tflite

    started = time.monotonic()
    keras.utils.set_random_seed(config.seed)
    log(f"classes: {class_names}; training photos: {len(train_items)}")
    train = load_arrays(train_items, class_names, config.image_size)
    if shuffle_labels:
        train.labels = np.random.default_rng(config.seed).permutation(train.labels)
    validation = load_arrays(validation_items, class_names, config.image_size)
    log(f"decoded {len(train.items)} training and {len(validation.items)} validation photos")

    train_data = make_dataset(
        train.images,
        train.labels,
        config.batch_size,
        shuffle=True,
        augment=True,
        sample_weights=sample_weights_for(train, config.field_weight),
        seed=config.seed,
    )
    validation_data = make_dataset(validation.images, validation.labels, config.batch_size, shuffle=False)

    model = build_classifier(len(class_names), config.image_size, weights=config.weights)
    history = {}
    for stage, trainable, epochs, learning_rate in training_stages(config):
        set_trainable_layers(model, trainable)
        compile_classifier(model, "adam", learning_rate)
        log(f"stage {stage}: {epochs} epochs at learning rate {learning_rate}")
        fit = model.fit(
            train_data,
            validation_data=validation_data,
            epochs=epochs,
            shuffle=False,  # the tf.data pipeline shuffles
            callbacks=[
                keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience, restore_best_weights=True),
                *callbacks,
            ],
            verbose=2,
        )
        history[stage] = {key: [float(v) for v in values] for key, values in fit.history.items()}
        if model.stop_training and any(getattr(c, "cancelled", False) for c in callbacks):
            raise TrainingCancelled("cancelled by request")

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    export_tflite(model, out_dir / MODEL_FILENAME)
    model.save(out_dir / KERAS_FILENAME)
    ModelManifest(
        class_names, config.image_size, config.reject_label if config.reject_label in class_names else None
    ).write(out_dir)
    return {
        "classes": class_names,
        "training_photos": len(train_items),
        "validation_photos": len(validation_items),
        "history": history,
        "train_seconds": round(time.monotonic() - started, 1),
    }


class TrainingCancelled(Exception):
    """Training stopped because someone asked it to."""


def training_stages(config: DefaultModelConfig) -> list[tuple[str, str, int, float]]:
    """(name, what trains, epochs, learning rate) for the stages that have epochs."""
    stages = [
        ("head", "head", config.head_epochs, config.head_learning_rate),
        ("finetune", "all", config.finetune_epochs, config.finetune_learning_rate),
    ]
    return [stage for stage in stages if stage[2] > 0]
