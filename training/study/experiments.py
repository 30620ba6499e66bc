"""The study's experiments as data: which configurations to cross-validate, for which question.

The base configuration is the paper's (MobileNetV2 from ImageNet, 128x128 input, dropout 0.5,
batch 32, Adam, learning rate 1e-4, every layer trainable, early stopping with patience 5). Each
experiment varies one factor from a base; the randomized search samples several at once with
scikit-learn's ``ParameterSampler``. A configuration that appears in several experiments (the base
itself, for one) is trained once and its stored folds are shared.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

#: How many layers train: the classifier head only, the top N backbone layers, or all of them.
LAYER_OPTIONS = ("head", "10", "20", "all")
SPLIT_FIRST = "split-first"
AUGMENT_FIRST = "augment-first"


@dataclass(frozen=True)
class TrialConfig:
    """One trainable configuration; cross-validated fold by fold."""

    layers: str = "all"
    learning_rate: float = 1e-4
    batch_size: int = 32
    optimizer: str = "adam"
    epochs: int = 50
    head_activation: str = "none"
    dropout: float = 0.5
    patience: int = 5
    protocol: str = SPLIT_FIRST

    @property
    def key(self) -> str:
        """A readable, file-name-safe identity; equal configurations share results."""
        parts = [
            f"l{self.layers}",
            self.optimizer,
            f"lr{format(self.learning_rate, '.3g')}",
            f"b{self.batch_size}",
            f"e{self.epochs}",
            self.head_activation,
            f"d{format(self.dropout, 'g')}",
            f"p{self.patience}",
            "split" if self.protocol == SPLIT_FIRST else "augfirst",
        ]
        return "-".join(parts)

    @property
    def trains_whole_network(self) -> bool:
        return self.layers == "all"

    @property
    def activation(self) -> str | None:
        return None if self.head_activation in ("", "none") else self.head_activation

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class StudySettings:
    """Everything that decides the study's numbers. Stored in ``study.json``; a rerun must match it."""

    image_size: int = 128
    folds: int = 5
    augment_factor: int = 4
    test_fraction: float = 0.15
    seed: int = 1337
    max_per_class: int | None = None
    #: Every configuration's epochs are capped at this (``--quick``); None keeps each one's own.
    epochs_cap: int | None = None
    #: Epoch cap for configurations that train the whole network: about 3.2 minutes an epoch on 2
    #: CPU cores (30 images/s), so 2 keeps the full run inside its 3-hour budget (see the report).
    whole_network_max_epochs: int = 2
    #: What trains in the one-factor sweeps and the search: the head on cached features by default
    #: (the report says why), "10", "20" or "all" where an accelerator makes them affordable.
    sweep_layers: str = "head"
    random_trials: int = 10
    #: The paper trained 30 to 50 epochs with early stopping; 30 is the cap here.
    base_epochs: int = 30
    layer_options: tuple[str, ...] = LAYER_OPTIONS
    learning_rates: tuple[float, ...] = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5)
    batch_sizes: tuple[int, ...] = (16, 32, 64, 128)
    optimizers: tuple[str, ...] = ("sgd", "rmsprop", "adam")
    epoch_points: tuple[int, ...] = (5, 10, 20, 30, 50, 100)
    search_activations: tuple[str, ...] = ("none", "relu", "elu", "tanh", "sigmoid")
    search_epochs: tuple[int, ...] = (10, 20, 30)
    search_learning_rate_range: tuple[float, float] = (1e-5, 1e-1)
    weights: str | None = "imagenet"

    def signature(self) -> dict:
        """The settings as JSON-able data (tuples become lists), for ``study.json``.

        The weights file is named, not located: the same file read from another folder is the
        same study.
        """
        data = json.loads(json.dumps(asdict(self)))
        if self.weights:
            data["weights"] = Path(self.weights).name
        return data

    @property
    def base(self) -> TrialConfig:
        """The paper's configuration (before any epoch cap)."""
        return TrialConfig(layers="all", epochs=self.base_epochs)

    @property
    def sweep_base(self) -> TrialConfig:
        """The paper's configuration with the sweeps' layer setting (before any epoch cap)."""
        return replace(self.base, layers=self.sweep_layers)

    def cap(self, config: TrialConfig) -> TrialConfig:
        epochs = config.epochs
        if config.trains_whole_network:
            epochs = min(epochs, self.whole_network_max_epochs)
        if self.epochs_cap:
            epochs = min(epochs, self.epochs_cap)
        return replace(config, epochs=epochs)


def quick_settings(**overrides) -> StudySettings:
    """A CI-sized study: few photos, 2 folds, 32-pixel images, 2 epochs, 2 search trials."""
    values = {
        "image_size": 32,
        "folds": 2,
        "max_per_class": 14,
        "epochs_cap": 2,
        "random_trials": 2,
        "test_fraction": 0.15,
    }
    values.update(overrides)
    return StudySettings(**values)


@dataclass
class Experiment:
    """A question: ``configs[i]`` answers it for ``values[i]``."""

    name: str
    title: str
    factor: str
    values: list = field(default_factory=list)
    configs: list[TrialConfig] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "factor": self.factor,
            "values": list(self.values),
            "configs": [config.key for config in self.configs],
        }


def build_plan(settings: StudySettings) -> list[Experiment]:
    """The study's experiments, in the paper's order, plus the data-leakage comparison."""
    base, sweep = settings.base, settings.sweep_base
    experiments = [
        Experiment(
            "layers",
            "Accuracy by layers trained",
            "layers",
            list(settings.layer_options),
            [settings.cap(replace(base, layers=layers)) for layers in settings.layer_options],
        ),
        Experiment(
            "learning_rate",
            "Accuracy by learning rate",
            "learning_rate",
            list(settings.learning_rates),
            [settings.cap(replace(sweep, learning_rate=rate)) for rate in settings.learning_rates],
        ),
        Experiment(
            "batch_size",
            "Accuracy by batch size",
            "batch_size",
            list(settings.batch_sizes),
            [settings.cap(replace(sweep, batch_size=size)) for size in settings.batch_sizes],
        ),
        Experiment(
            "optimizer",
            "Accuracy by optimizer",
            "optimizer",
            list(settings.optimizers),
            [settings.cap(replace(sweep, optimizer=name)) for name in settings.optimizers],
        ),
    ]
    longest = settings.cap(replace(sweep, epochs=max(settings.epoch_points)))
    experiments.append(
        Experiment("epochs", "Accuracy by number of epochs", "epochs", epoch_points(settings, longest), [longest])
    )
    trials = search_trials(settings)
    experiments.append(
        Experiment(
            "random_search",
            "Randomized search (scikit-learn ParameterSampler)",
            "trial",
            [f"trial {i + 1}" for i in range(len(trials))],
            trials,
        )
    )
    experiments.append(
        Experiment(
            "leakage",
            "Split then augment vs the paper's augment then split",
            "protocol",
            [SPLIT_FIRST, AUGMENT_FIRST],
            [settings.cap(sweep), settings.cap(replace(sweep, protocol=AUGMENT_FIRST))],
        )
    )
    return experiments


def epoch_points(settings: StudySettings, config: TrialConfig) -> list[int]:
    """Epoch caps read off one long run's history (all of them if the run is short)."""
    points = [point for point in settings.epoch_points if point <= config.epochs]
    return points or list(range(1, config.epochs + 1))


def search_trials(settings: StudySettings) -> list[TrialConfig]:
    """``random_trials`` configurations drawn with a seeded ``ParameterSampler``."""
    from scipy.stats import loguniform
    from sklearn.model_selection import ParameterSampler

    low, high = settings.search_learning_rate_range
    sweep_base = settings.sweep_base
    space = {
        "optimizer": list(settings.optimizers),
        "head_activation": list(settings.search_activations),
        "learning_rate": loguniform(low, high),
        "epochs": list(settings.search_epochs),
    }
    sampler = ParameterSampler(space, n_iter=settings.random_trials, random_state=settings.seed)
    trials = []
    for sample in sampler:
        trial = replace(
            sweep_base,
            optimizer=str(sample["optimizer"]),
            head_activation=str(sample["head_activation"]),
            learning_rate=float(f"{float(sample['learning_rate']):.3g}"),
            epochs=int(sample["epochs"]),
        )
        trials.append(settings.cap(trial))
    return trials


def unique_configs(experiments: list[Experiment]) -> list[TrialConfig]:
    """Every configuration once, in the order the experiments first need it."""
    seen: dict[str, TrialConfig] = {}
    for experiment in experiments:
        for config in experiment.configs:
            seen.setdefault(config.key, config)
    return list(seen.values())


def settings_digest(signature: dict) -> str:
    return hashlib.sha256(json.dumps(signature, sort_keys=True).encode()).hexdigest()[:12]
