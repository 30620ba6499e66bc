"""The field recipe end to end on a tiny generated dataset: folds, report, shipped files, predictions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from classifier.decision import DecisionRule
from classifier.evaluation import evaluate_items
from classifier.inference import Predictor
from classifier.registry.artifacts import KERAS_FILENAME, MODEL_FILENAME, ModelManifest
from training.field.data import collect_pools
from training.field.protocol import ARMS, CHOSEN, run_protocol, scaled, served_arm
from training.field.recipe import balanced_weights
from training.field.report import build_report, render_markdown, write_report
from training.field.train import FieldTrainingConfig, rule_from_report, train_field_model

pytestmark = pytest.mark.tensorflow

COLOURS = {"early_blight": (150, 110, 40), "healthy": (40, 150, 40), "late_blight": (60, 60, 30)}
REJECT = "not_potato_leaf"


def _leaf(path: Path, colour, background, seed: int) -> None:
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (64, 64), background)
    box = [int(v) for v in (rng.integers(4, 14), rng.integers(4, 14), rng.integers(48, 60), rng.integers(48, 60))]
    ImageDraw.Draw(image).ellipse(box, fill=colour)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "JPEG", quality=90)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("field-data")
    for label, colour in COLOURS.items():
        for i in range(10):
            _leaf(root / "lab" / label / f"{label}-{i}.jpg", colour, (128, 128, 128), i)
        for i in range(6):  # three dates, two photos each: a date is a group
            _leaf(root / "field" / label / f"pld_2023080{i % 3}_{label}{i}.jpg", colour, (90, 70, 40), 100 + i)
    for i in range(8):
        _leaf(root / "lab-negatives" / f"pepper-{i}.jpg", (200, 30, 30), (128, 128, 128), 200 + i)
    for i in range(12):
        name = f"Tomato_leaf_{i}.jpg" if i < 4 else f"Corn_leaf_{i}.jpg"
        _leaf(root / "field-negatives" / name, (30, 30, 200), (90, 70, 40), 300 + i)
    return {
        "lab_dir": root / "lab",
        "lab_negatives": [root / "lab-negatives"],
        "field_dirs": [root / "field"],
        "field_negatives": [root / "field-negatives"],
    }


def _recipe():
    return scaled(ARMS[CHOSEN], image_size=32, epochs=4, batch_size=32)


def test_cross_validation_report_and_shipped_model(tiny_data, tmp_path):
    pools = collect_pools(**tiny_data, reject_label=REJECT)
    folder = run_protocol(
        pools,
        tmp_path / "cv",
        REJECT,
        weights=None,
        arms=[CHOSEN],
        folds=2,
        repeats=1,
        copies=1,
        cache_dir=tmp_path / "cache",
        recipes={CHOSEN: _recipe()},
        log=lambda message: None,
    )
    stored = sorted(path.name for path in (folder / "results" / CHOSEN).iterdir())
    assert stored == ["r0-f0.json", "r0-f1.json"]
    fold = json.loads((folder / "results" / CHOSEN / "r0-f0.json").read_text())
    assert fold["classes"] == ["early_blight", "healthy", "late_blight", REJECT]
    # Every field photo is predicted exactly once over the folds, with the lab hold-out each time.
    splits = json.loads((folder / "splits" / "r0.json").read_text())
    keys = [key for name in stored for key in json.loads((folder / "results" / CHOSEN / name).read_text())["keys"]]
    field_keys = [key for key in keys if key in splits]
    assert sorted(field_keys) == sorted(splits)

    report = write_report(folder)
    assert json.loads((folder / "report.json").read_text()) == json.loads(json.dumps(report))
    assert build_report(folder) == report  # rebuilt from the stored predictions alone
    metrics = report["arms"][CHOSEN]["metrics"]
    assert 0.0 <= metrics["confidently_wrong"]["mean"] <= 1.0
    assert "tomato_rejected" in metrics and f"{CHOSEN}_old_rule" in report["arms"]
    assert (folder / "figures" / "reliability.png").stat().st_size > 1000
    assert "## Targets" in (folder / "report.md").read_text()

    # The shipped model: trained on everything, its rule read from the report.
    rule = rule_from_report(folder)
    assert rule == DecisionRule.from_dict(report["shipped_rule"])
    config = FieldTrainingConfig(**tiny_data, reject_label=REJECT, weights=None, recipe=_recipe(), copies=1)
    out = tmp_path / "model"
    summary = train_field_model(config, out, rule, log=lambda message: None)
    assert (out / MODEL_FILENAME).stat().st_size > 0 and (out / KERAS_FILENAME).stat().st_size > 0
    manifest = ModelManifest.read(out)
    assert manifest.decision == rule.as_dict() and manifest.image_size == 32
    assert summary["training_photos"] == len(pools.lab_train) + len(pools.field)

    predictor = Predictor.from_directory(out)
    assert predictor.rule == rule
    items = [(image.path, image.label, image.label) for image in pools.lab_holdout]
    evaluation = evaluate_items(predictor, items)
    for key in ("unsure_rate", "confidently_wrong_rate", "expected_calibration_error"):
        assert 0.0 <= evaluation[key] <= 1.0


def test_a_small_copy_and_its_folds_as_quantized_tflite_files_stand_beside_each_other_in_the_report(
    tiny_data, tmp_path, monkeypatch
):
    """Held-out photos sent as a small copy (issue 26) are judged and stored apart, with what the phone sent;
    each fold's kept model, converted to TFLite forms, predicts the same photos; the report fits the rule on
    the small copy's folds and shows every copy and form beside the others."""
    from training.field import report as field_report
    from training.field.paired import paired_arm, run_paired
    from training.field.quantized import quantized_arm, run_quantized
    from training.field.served_views import PHONE_COPY, PhoneCopy

    copy = PhoneCopy(48, 80)  # the tiny photos are 64 px: every one is shrunk
    monkeypatch.setattr(field_report, "SMALL_COPY", copy)
    pools = collect_pools(**tiny_data, reject_label=REJECT)
    models = tmp_path / "models"
    arguments = dict(arms=[CHOSEN], folds=2, repeats=1, copies=1, cache_dir=tmp_path / "cache")
    folder = run_protocol(
        pools, tmp_path / "cv", REJECT, None, recipes={CHOSEN: _recipe()}, log=lambda message: None,
        served_views=True, served_copy=copy, models_dir=models, **arguments,
    )  # fmt: skip
    served = served_arm(CHOSEN, copy)
    stored = sorted(path.name for path in (folder / "results" / served).glob("r*-f*.json"))
    assert stored == ["r0-f0.json", "r0-f1.json"]
    sent = json.loads((folder / "results" / served / "sent.json").read_text())
    assert (sent["side"], sent["shrunk"], sent["all"]["photos"]) == (48, len(pools.field), len(pools.field))
    assert (models / served / "r0-f0.weights.h5").stat().st_size > 0

    # The same fold models judged on photos sent as another copy (here the 800 px one): the copy's effect alone.
    quiet = dict(log=lambda message: None)
    paired = run_paired(pools, folder, served, _recipe(), None, models, PHONE_COPY, tmp_path / "cache", **quiet)
    assert [path.parent.name for path in paired] == [paired_arm(served, PHONE_COPY)] * 2
    same_models = json.loads((folder / "results" / paired_arm(served, PHONE_COPY) / "r0-f0.json").read_text())
    own = json.loads((folder / "results" / served / "r0-f0.json").read_text())
    assert same_models["fit"] == own["fit"] and same_models["keys"] == own["keys"]
    assert same_models["sent_as"] == {"side": PHONE_COPY.side, "quality": PHONE_COPY.quality}
    lab = [row for row, views in enumerate(own["view_probabilities"]) if views is None]
    assert lab and all(same_models["probabilities"][row] == own["probabilities"][row] for row in lab)

    forms = ["float16", "int8"]  # dynamic differs from float16 by one converter setting: measured, not tested
    written = run_quantized(pools, folder, served, _recipe(), None, models, forms, copy, log=lambda message: None)
    assert len(written) == 2 * len(forms)
    assert run_quantized(pools, folder, served, _recipe(), None, models, forms, copy, log=lambda message: None) == []
    keras_fold = json.loads((folder / "results" / served / "r0-f0.json").read_text())
    tflite_fold = json.loads((folder / "results" / quantized_arm(served, "float16") / "r0-f0.json").read_text())
    assert tflite_fold["keys"] == keras_fold["keys"] and tflite_fold["views"] == keras_fold["views"]
    field = [row for row, views in enumerate(keras_fold["view_probabilities"]) if views is not None]
    assert field and all(tflite_fold["view_probabilities"][row] is not None for row in field)
    np.testing.assert_allclose(  # the fold's model as a file predicts what the fold predicted (float16 cache)
        [tflite_fold["view_probabilities"][row] for row in field],
        [keras_fold["view_probabilities"][row] for row in field],
        atol=2e-2,
    )

    for path in (folder / "results" / served).glob("r*-f*.json"):  # the plain arm the report starts from
        (folder / "results" / CHOSEN).mkdir(exist_ok=True)
        (folder / "results" / CHOSEN / path.name).write_text(json.dumps(json.loads(path.read_text()) | {"arm": CHOSEN}))
    report = build_report(folder)
    assert report["rule_fitted_on"] == served and report["rule_fitted_on_copy"] == {"side": 48, "quality": 80}
    assert list(report["phone_copies"]["rows"]) == [served, paired_arm(served, PHONE_COPY)]
    assert report["phone_copies"]["reference"] == paired_arm(served, PHONE_COPY)
    assert report["phone_copies"]["rows"][served]["sent"] == sent
    rows = report["quantized"]["rows"]
    assert list(rows) == [served, *(quantized_arm(served, form) for form in forms)]
    assert report["quantized"]["reference"] == quantized_arm(served, "float16")
    assert rows[quantized_arm(served, "float16")]["largest_move"][1] == 0.0  # the reference itself
    assert rows[quantized_arm(served, "int8")]["tflite_bytes"] < rows[quantized_arm(served, "float16")]["tflite_bytes"]
    markdown = render_markdown(json.loads(json.dumps(report)))
    assert "## The small copy the phone sends first" in markdown and "## Quantized models" in markdown
    assert "(longest side 48 px, JPEG 80%)" in markdown


def test_a_rerun_skips_the_folds_already_stored(tiny_data, tmp_path):
    pools = collect_pools(**tiny_data, reject_label=REJECT)
    arguments = dict(
        arms=["lab_only"],
        folds=2,
        repeats=1,
        copies=1,
        cache_dir=tmp_path / "cache",
        recipes={"lab_only": scaled(ARMS["lab_only"], image_size=32, epochs=2)},
    )
    messages = []
    run_protocol(pools, tmp_path / "cv", REJECT, None, log=messages.append, **arguments)
    assert sum("lab_only r0" in message for message in messages) == 2
    messages.clear()
    run_protocol(pools, tmp_path / "cv", REJECT, None, log=messages.append, **arguments)
    assert not any("lab_only r0" in message for message in messages)


def test_balanced_weights_give_each_class_and_each_domain_of_a_class_the_same_weight():
    labels = np.array([0] * 90 + [0] * 10 + [1] * 5)
    domains = ["lab"] * 90 + ["field"] * 10 + ["field"] * 5
    weights = balanced_weights(labels, domains, "class_domain")
    assert weights[:90].sum() == pytest.approx(weights[90:100].sum())
    assert weights[:100].sum() == pytest.approx(weights[100:].sum())
    assert weights.mean() == pytest.approx(1.0)
    by_class = balanced_weights(labels, domains, "class")
    assert by_class[0] == pytest.approx(by_class[95])


@pytest.mark.parametrize(("arm", "first_conv_trains"), [("fine_tuned", False), ("whole_128", True)])
def test_a_fine_tuned_recipe_serves_the_backbone_top_it_trained(tiny_data, arm, first_conv_trains):
    """(c): the top of the backbone (or all of it) trains on cached activations (or scaled pixels);
    the served model carries what trained and only that."""
    from django.conf import settings

    from training.architecture import backbone_of, boundary_output, build_classifier
    from training.field.features import compute_view_features
    from training.field.photo_views import load_working_image, plain
    from training.field.recipe import class_names_for, compose_model, fit_head, predict_plain, training_rows

    # ImageNet's: a random backbone saturates its last ReLU6 and passes no gradient to fine-tune.
    weights = str(Path(settings.DATA_ROOT).parent / "weights" / "mobilenet_v2_1.0_224_imagenet_no_top.h5")
    recipe = scaled(ARMS[arm], image_size=32, epochs=2, fine_tune_epochs=2, batch_size=32)
    pools = collect_pools(**tiny_data, reject_label=REJECT)
    images = pools.everything
    boundary = recipe.boundary()
    features = compute_view_features(images, REJECT, 32, weights, copies=1, boundary=boundary, log=lambda m: None)
    assert features.plain.shape[1:] == tuple(
        boundary_output(backbone_of(build_classifier(2, 32, weights=None)), boundary).shape[1:]
    )
    class_names = class_names_for(images, recipe, REJECT)
    rows = training_rows(images, range(len(images)), features, class_names, recipe, REJECT)
    head, fit = fit_head(rows, [image.group for image in images], len(class_names), recipe, weights)
    assert fit["head_epochs"] >= 1 and fit["fine_tune_epochs"] >= 1

    served = compose_model(head, 32, weights)
    untouched = backbone_of(build_classifier(len(class_names), 32, weights=weights))
    last_conv = "Conv_1"
    assert not np.allclose(
        backbone_of(served).get_layer(last_conv).get_weights()[0], untouched.get_layer(last_conv).get_weights()[0]
    )
    first_conv = "Conv1"  # below the boundary: frozen, the same as loaded, unless the whole backbone trains
    first_served, first_loaded = (
        model.get_layer(first_conv).get_weights()[0] for model in (backbone_of(served), untouched)
    )
    assert np.array_equal(first_served, first_loaded) is not first_conv_trains
    positions = list(range(6))
    photos = np.stack([plain(load_working_image(images[i].path), 32) for i in positions]).astype(np.float32)
    np.testing.assert_allclose(
        served(photos, training=False), predict_plain(head, features, positions), atol=2e-2
    )  # the cached activations are float16 (served is called, not .predict()ed: no predict function traced)


@pytest.mark.parametrize("hidden_units", [0, 8])
def test_an_averaged_head_answers_the_mean_of_its_heads_logits(hidden_units):
    """Three heads become one chain of layers (what TFLite and Grad-CAM read) with the same answers."""
    from training.field.recipe import averaged_head, head_model

    rng = np.random.default_rng(7)
    heads = []
    for _ in range(3):
        head = head_model(16, 4, 0.5, hidden_units)
        for layer in head.layers:  # biases too: a fresh Dense layer's are all zero
            layer.set_weights([rng.normal(size=weight.shape) for weight in layer.get_weights()])
        heads.append(head)
    features = np.random.default_rng(0).normal(size=(12, 16)).astype(np.float32)

    def answers(model) -> np.ndarray:  # inference mode (dropout off), without tracing a predict function
        return np.asarray(model(features, training=False))

    mean_log = np.mean([np.log(answers(head)) for head in heads], axis=0)
    expected = np.exp(mean_log) / np.exp(mean_log).sum(axis=1, keepdims=True)
    merged = averaged_head(heads, 0.5)
    assert [layer.name for layer in merged.layers] == [layer.name for layer in heads[0].layers]
    assert np.allclose(answers(merged), expected, atol=1e-5)
    assert not np.allclose(answers(heads[0]), expected, atol=1e-3)
