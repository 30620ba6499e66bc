"""The study's data protocol and plan: split by photo before augmenting, stratified folds, the paper's
experiments, and the soundness of training on cached activations. Fast: no study is run here."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.images import DATA_ROOT
from training.study.data import list_study_photos
from training.study.experiments import (
    AUGMENT_FIRST,
    SPLIT_FIRST,
    StudySettings,
    build_plan,
    search_trials,
    unique_configs,
)
from training.study.paper import PAPER_CLAIMS
from training.study.splits import (
    augment_first_folds,
    fold_views,
    photo_folds,
    shared_photos,
    split_first_views,
)

pytestmark = pytest.mark.tensorflow

FULL = StudySettings(weights=None)


@pytest.fixture(scope="module")
def photos():
    return list_study_photos(FULL, DATA_ROOT / "plantvillage-potato", DATA_ROOT / "field-potato")


def test_held_out_test_photos_are_not_development_photos(photos):
    dev = set(photos.dev_photo_ids)
    test = {item.photo_id for item in photos.test}
    assert dev.isdisjoint(test)
    assert len(dev) + len(test) == 2152
    assert 0.1 < len(test) / 2152 < 0.2


def test_split_first_keeps_every_photo_and_all_its_copies_on_one_side(photos):
    labels, ids, factor = photos.dev_labels, photos.dev_photo_ids, FULL.augment_factor
    folds = fold_views(SPLIT_FIRST, labels, ids, factor, FULL.folds, FULL.seed)
    validated = []
    for train, val in folds:
        assert shared_photos(train, val, ids) == set()
        assert set(val[:, 1]) == {0}, "validation sees original photos only"
        copies_per_photo = np.bincount(train[:, 0], minlength=len(ids))[np.unique(train[:, 0])]
        assert set(copies_per_photo) == {factor}, "the training side gets every view of its photos"
        assert len(np.unique(train[:, 0])) + len(val) == len(ids)
        validated += val[:, 0].tolist()
    assert sorted(validated) == list(range(len(ids))), "each photo is validated exactly once"


def test_the_papers_order_puts_copies_of_a_photo_on_both_sides(photos):
    labels, ids = photos.dev_labels, photos.dev_photo_ids
    for train, val in augment_first_folds(labels, FULL.augment_factor, FULL.folds, FULL.seed):
        leaked = shared_photos(train, val, ids)
        assert len(leaked) > 0.5 * len(np.unique(val[:, 0]))


def test_folds_are_stratified_by_class(photos):
    labels = photos.dev_labels
    folds = photo_folds(labels, photos.dev_photo_ids, FULL.folds, FULL.seed)
    for label in np.unique(labels):
        per_fold = [int(np.sum(labels[val] == label)) for val in folds]
        assert max(per_fold) - min(per_fold) <= 1, per_fold


@pytest.mark.filterwarnings("ignore:The least populated class")
@settings(max_examples=40, deadline=None)
@given(
    groups=st.lists(st.tuples(st.integers(0, 2), st.integers(1, 3)), min_size=12, max_size=40),
    folds=st.integers(2, 4),
    seed=st.integers(0, 1000),
)
def test_no_photo_on_both_sides_even_when_a_photo_appears_twice(groups, folds, seed):
    """Rows sharing a photo id (one photo listed twice) still land on one side, copies included."""
    labels = np.array([label for label, count in groups for _ in range(count)])
    ids = [f"photo-{index}" for index, (_, count) in enumerate(groups) for _ in range(count)]
    assume(len(groups) >= folds)
    for val in photo_folds(labels, ids, folds, seed):
        train, val_views = split_first_views(val, len(labels), 4)
        assert shared_photos(train, val_views, ids) == set()


def test_plan_has_the_issues_experiments_around_the_papers_base():
    plan = {experiment.name: experiment for experiment in build_plan(FULL)}
    assert list(plan) == [
        "layers",
        "learning_rate",
        "batch_size",
        "optimizer",
        "epochs",
        "random_search",
        "leakage",
    ]
    model = PAPER_CLAIMS["model"]
    base = FULL.base
    assert (base.layers, base.learning_rate, base.batch_size, base.optimizer, base.dropout, base.patience) == (
        "all",
        model["learning_rate"],
        model["batch_size"],
        model["optimizer"],
        model["dropout"],
        model["patience"],
    )
    assert FULL.image_size == model["image_size"]
    assert plan["layers"].values == ["head", "10", "20", "all"]
    assert plan["learning_rate"].values == [1e-1, 1e-2, 1e-3, 1e-4, 1e-5]
    assert plan["batch_size"].values == [16, 32, 64, 128]
    assert plan["optimizer"].values == ["sgd", "rmsprop", "adam"]
    assert plan["epochs"].values[0] == 5 and plan["epochs"].configs[0].epochs == 100
    assert len(plan["random_search"].configs) == FULL.random_trials == 10
    assert [c.protocol for c in plan["leakage"].configs] == [SPLIT_FIRST, AUGMENT_FIRST]
    # One factor at a time: each sweep's configurations differ from its base in that factor only.
    for name, factor in (("learning_rate", "learning_rate"), ("batch_size", "batch_size"), ("optimizer", "optimizer")):
        for config in plan[name].configs:
            differing = {k for k, v in config.to_dict().items() if v != FULL.sweep_base.to_dict()[k]}
            assert differing <= {factor}, (name, differing)
    # Only the layers experiment's 'all' arm trains the whole network (cost; see the report).
    whole = [c for c in unique_configs(list(plan.values())) if c.trains_whole_network]
    assert [c.key for c in whole] == [plan["layers"].configs[-1].key]


def test_randomized_search_is_seeded():
    first, again = search_trials(FULL), search_trials(FULL)
    assert [c.key for c in first] == [c.key for c in again]
    other = search_trials(StudySettings(weights=None, seed=FULL.seed + 1))
    assert [c.key for c in other] != [c.key for c in first]
    assert {c.optimizer for c in first} <= set(FULL.optimizers)
    assert all(
        FULL.search_learning_rate_range[0] <= c.learning_rate <= FULL.search_learning_rate_range[1] for c in first
    )


@pytest.mark.parametrize("layers", ["head", 10, 20])
def test_training_on_cached_activations_computes_the_same_model(layers):
    """The trainable part on cached activations is the full model: same outputs, same trainable weights."""
    from training.architecture import (
        build_classifier,
        feature_extractor,
        frozen_boundary,
        set_trainable_layers,
        trainable_part,
    )

    model = build_classifier(3, 32, weights=None, head_activation="relu")
    set_trainable_layers(model, layers)
    boundary = frozen_boundary(model)
    assert boundary is not None
    part = trainable_part(model, boundary)
    images = np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 3)).astype("float32")
    # Called, not .predict(): the same inference-mode pass, without tracing a predict function per model.
    activations = np.asarray(feature_extractor(model, [boundary])(images, training=False)[0])
    np.testing.assert_allclose(part(activations, training=False), model(images, training=False), atol=1e-5)
    assert {id(w) for w in part.trainable_weights} == {id(w) for w in model.trainable_weights}


def test_nothing_is_cached_when_the_whole_network_trains():
    from training.architecture import build_classifier, frozen_boundary, set_trainable_layers

    model = build_classifier(3, 32, weights=None)
    set_trainable_layers(model, "all")
    assert frozen_boundary(model) is None
