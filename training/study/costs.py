"""What the study costs, before it runs: the plan's estimate and the progress bar's weights.

Throughputs are images per second at 128x128 on the machine the full run used (2 AMD EPYC cores,
TensorFlow 2.21 CPU): whole-network training from a 1,280-image epoch, head and top 10 from the
full run's first folds, frozen features from its caching phase; top 20 and whole-network
prediction are scaled from an earlier calibration (the same ratios to their neighbours). Another
machine with the same name ran about 3x faster, so they only weigh work for the estimate and the
ETA; the report states the throughputs each run actually measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from training.study.experiments import AUGMENT_FIRST, Experiment, StudySettings, TrialConfig


@dataclass(frozen=True)
class Throughput:
    whole_network_train: float = 30.0
    whole_network_predict: float = 70.0
    frozen_features: float = 68.0
    cached_train: dict[str, float] = field(default_factory=lambda: {"head": 12000.0, "10": 620.0, "20": 430.0})
    whole_network_setup_seconds: float = 12.0
    cached_setup_seconds: float = 2.5


MEASURED_THROUGHPUT = Throughput()
#: Epochs a fold usually runs before early stopping stops it (its best epoch plus the patience of
#: 5): about 7 for the whole network (best at epoch 2), 27 to 30 of 30 for the cached layers.
TYPICAL_EPOCHS = {"whole_network": 7, "cached": 28}


def typical_epochs(config: TrialConfig) -> int:
    return min(config.epochs, TYPICAL_EPOCHS["whole_network" if config.trains_whole_network else "cached"])


@dataclass(frozen=True)
class FoldCounts:
    train_views: int
    val_views: int
    eval_photos: int  # test + field, predicted once after training


def fold_counts(config: TrialConfig, settings: StudySettings, n_dev: int, n_test: int, n_field: int) -> FoldCounts:
    val_photos = n_dev / settings.folds
    if config.protocol == AUGMENT_FIRST:
        views = n_dev * settings.augment_factor
        return FoldCounts(round(views - views / settings.folds), round(views / settings.folds), n_test + n_field)
    train = round((n_dev - val_photos) * settings.augment_factor)
    return FoldCounts(train, round(val_photos), n_test + n_field)


def fold_seconds(
    config: TrialConfig,
    counts: FoldCounts,
    image_size: int,
    epochs: int,
    throughput: Throughput = MEASURED_THROUGHPUT,
) -> float:
    """Estimated seconds for one fold that runs ``epochs`` epochs."""
    scale = (image_size / 128) ** 2
    if config.trains_whole_network:
        train_rate = throughput.whole_network_train / scale
        predict_rate = throughput.whole_network_predict / scale
    else:
        train_rate = throughput.cached_train.get(config.layers, 1500.0) / scale
        predict_rate = train_rate * 3
    per_epoch = counts.train_views / train_rate + counts.val_views / predict_rate
    return epochs * per_epoch + (counts.val_views + counts.eval_photos) / predict_rate


def setup_seconds(config: TrialConfig, throughput: Throughput = MEASURED_THROUGHPUT) -> float:
    if config.trains_whole_network:
        return throughput.whole_network_setup_seconds
    return throughput.cached_setup_seconds


def features_seconds(settings: StudySettings, n_dev: int, n_test: int, n_field: int) -> float:
    """Running the frozen layers once over every view, test and field photo."""
    views = n_dev * settings.augment_factor + n_test + n_field
    return views / (MEASURED_THROUGHPUT.frozen_features / (settings.image_size / 128) ** 2)


def plan_estimate(
    experiments: list[Experiment], settings: StudySettings, n_dev: int, n_test: int, n_field: int
) -> dict:
    """Seconds per experiment (configurations shared with an earlier experiment cost nothing)."""
    seen: set[str] = set()
    rows = []
    for experiment in experiments:
        expected = at_cap = 0.0
        new = whole = 0
        for config in experiment.configs:
            if config.key in seen:
                continue
            seen.add(config.key)
            new += 1
            whole += config.trains_whole_network
            counts = fold_counts(config, settings, n_dev, n_test, n_field)
            typical = typical_epochs(config)
            per_config = setup_seconds(config)
            expected += per_config + settings.folds * fold_seconds(config, counts, settings.image_size, typical)
            at_cap += per_config + settings.folds * fold_seconds(config, counts, settings.image_size, config.epochs)
        rows.append(
            {
                "experiment": experiment.name,
                "configs": len(experiment.configs),
                "new_configs": new,
                "whole_network_configs": whole,
                "folds": new * settings.folds,
                "expected_seconds": round(expected),
                "at_epoch_cap_seconds": round(at_cap),
            }
        )
    features = features_seconds(settings, n_dev, n_test, n_field)
    return {
        "experiments": rows,
        "features_seconds": round(features),
        "expected_seconds": round(features + sum(row["expected_seconds"] for row in rows)),
        "at_epoch_cap_seconds": round(features + sum(row["at_epoch_cap_seconds"] for row in rows)),
        "throughput": {
            "whole_network_train": MEASURED_THROUGHPUT.whole_network_train,
            "frozen_features": MEASURED_THROUGHPUT.frozen_features,
            "cached_train": dict(MEASURED_THROUGHPUT.cached_train),
        },
        "typical_epochs": dict(TYPICAL_EPOCHS),
    }
