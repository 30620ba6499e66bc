"""Management commands: evaluate_model on folders, train_model on a tiny dataset."""

import json
import shutil

import pytest
from django.core.management import call_command

from tests.images import DATA_ROOT, heldout_photos

pytestmark = pytest.mark.tensorflow


@pytest.mark.django_db
def test_evaluate_model_prints_json_summary(active_model, tmp_path, capsys):
    for label in ("late_blight", "healthy"):
        folder = tmp_path / label
        folder.mkdir()
        for path in heldout_photos(label, 4):
            shutil.copy(path, folder / path.name)
    peppers = tmp_path / "pepper"
    peppers.mkdir()
    for path in sorted((DATA_ROOT / "plantvillage-negatives" / "Pepper__bell___healthy").iterdir())[:4]:
        shutil.copy(path, peppers / path.name)

    call_command("evaluate_model", str(tmp_path), "--json")
    output = capsys.readouterr().out.strip().splitlines()
    result = json.loads(output[-1])
    assert set(result["per_class"]) == {"late_blight", "healthy", "pepper"}
    assert result["per_class"]["pepper"]["support"] == 4
    assert result["count"] == 12
    assert sum(map(sum, result["confusion_matrix"])) == 12
    assert result["accuracy"] >= 0.75
    # Rejected photos over all photos: at least the peppers the model got right.
    correct_peppers = result["per_class"]["pepper"]["recall"] * 4
    assert result["rejection_rate"] >= correct_peppers / 12 - 1e-3
    assert "Accuracy:" in "\n".join(output)


@pytest.mark.django_db
def test_evaluate_model_needs_an_active_model(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No active model"):
        call_command("evaluate_model", str(tmp_path))


def make_tiny_dataset(root, classes, per_class=6):
    """Real photos under new class names: the class list comes from the folders."""
    sources = heldout_photos("late_blight", per_class) + heldout_photos("healthy", per_class)
    for index, name in enumerate(classes):
        folder = root / name
        folder.mkdir(parents=True)
        for path in sources[index * per_class : (index + 1) * per_class]:
            shutil.copy(path, folder / path.name)
    return root


def test_train_model_writes_a_servable_model_with_labels_from_folders(tmp_path):
    data = make_tiny_dataset(tmp_path / "data", ["bacterial_wilt", "healthy"])
    negatives = tmp_path / "negatives"
    negatives.mkdir()
    for path in sorted((DATA_ROOT / "plantvillage-negatives" / "Pepper__bell___healthy").iterdir())[:6]:
        shutil.copy(path, negatives / path.name)
    out = tmp_path / "model"
    call_command(
        "train_model",
        "--data", str(data), "--lab-negatives", str(negatives), "--field", "--field-negatives",
        "--weights", "none", "--image-size", "64", "--epochs", "1",
        "--report", str(tmp_path / "no-report"), "--cache", str(tmp_path / "cache"), "--out", str(out),
    )  # fmt: skip
    labels = json.loads((out / "labels.json").read_text())
    assert labels["labels"] == ["bacterial_wilt", "healthy", "not_potato_leaf"]
    assert labels["image_size"] == 64
    assert (out / "model.tflite").stat().st_size > 1_000_000 and (out / "model.keras").exists()
    assert "decision" not in labels  # no cross-validation report: the old rule
    card = (out / "MODEL_CARD.md").read_text()
    assert "bacterial_wilt" in card and "python manage.py train_model" in card

    from classifier.inference import Predictor

    predictor = Predictor.from_directory(out)
    diagnosis = predictor.predict(str(next((data / "healthy").iterdir())))
    assert diagnosis.label in labels["labels"]
    assert abs(sum(entry["confidence"] for entry in diagnosis.top) - 1.0) < 0.01


def test_train_model_rule_only_gives_the_model_the_reports_rule_and_keeps_its_weights(tmp_path):
    from django.conf import settings
    from django.core.management.base import CommandError

    from classifier.decision import DecisionRule

    model = tmp_path / "model"
    shutil.copytree(settings.DEFAULT_MODEL_DIR, model)
    weights = (model / "model.tflite").read_bytes()
    made = (model / "MODEL_CARD.md").read_text().splitlines()[2]
    rule = DecisionRule(1.25, 0.7, 0.9).as_dict()
    report = tmp_path / "report"
    report.mkdir()
    data = make_tiny_dataset(tmp_path / "data", ["healthy", "late_blight"], per_class=10)
    arguments = ["--data", str(data), "--lab-negatives", "--field", "--field-negatives", "--weights", "none"]
    arguments += ["--report", str(report), "--out", str(model), "--rule-only"]

    with pytest.raises(CommandError, match="No decision rule"):
        call_command("train_model", *arguments)
    fitted = {"shipped_rule": rule, "rule_fitted_on": "fine_tuned_224-served384"}
    (report / "report.json").write_text(json.dumps(fitted))
    call_command("train_model", *arguments)

    assert json.loads((model / "labels.json").read_text())["decision"] == rule
    assert (model / "model.tflite").read_bytes() == weights
    summary = json.loads((model / "training.json").read_text())
    assert summary["decision_rule"] == rule and summary["rule_refitted"]["fitted_on"] == "fine_tuned_224-served384"
    card = (model / "MODEL_CARD.md").read_text()
    assert card.splitlines()[2] == made  # when and how the weights were made: unchanged
    assert "refitted on" in card and "`fine_tuned_224-served384`" in card and "T = 1.25" in card
    assert "python manage.py train_model --weights" in card  # the weights' own command
    assert json.loads((model / "metrics.json").read_text())["lab"]["count"] > 0
