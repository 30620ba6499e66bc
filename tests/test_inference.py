"""The shipped model on real photos, the shared preprocessing, and idempotent predictions."""

import io

import numpy as np
import pytest
from django.conf import settings
from PIL import Image

from classifier.decision import DecisionRule, diagnose
from classifier.inference import Predictor
from classifier.preprocessing import load_model_input
from tests.images import DATA_ROOT, heldout_photos


@pytest.fixture(scope="module")
def shipped():
    return Predictor.from_directory(settings.DEFAULT_MODEL_DIR)


def test_labels_come_from_the_data_folders(shipped):
    collections = ("plantvillage-potato", "field-potato", "field-potato-magelang")
    folders = sorted({p.name for name in collections for p in (DATA_ROOT / name).iterdir() if p.is_dir()})
    assert shipped.labels == folders + [settings.REJECT_LABEL]


UNSURE = "unsure"


def shown_to_farmer(diagnosis) -> str:
    """What the result page leads with: "not a potato leaf", "not sure" (an officer will look), or
    the disease; the stored label alone is what officers see as the model's answer."""
    if not diagnosis.is_potato_leaf:
        return settings.REJECT_LABEL
    return UNSURE if diagnosis.is_unsure else diagnosis.label


@pytest.mark.parametrize("label", ["early_blight", "late_blight", "healthy"])
def test_shipped_model_diagnoses_heldout_plantvillage_photos(shipped, label):
    photos = heldout_photos(label, 20)
    assert len(photos) >= 15
    diagnoses = [shipped.predict(str(path)) for path in photos]
    shown = [shown_to_farmer(diagnosis) for diagnosis in diagnoses]
    # The farmer: never a wrong disease presented as sure, and few potato leaves turned away (the
    # rule's reject threshold keeps 97% of the field potato photos). "Not sure" sends it to an officer.
    wrong = [answer for answer in shown if answer not in {label, UNSURE, settings.REJECT_LABEL}]
    assert not wrong, f"{label} shown as {wrong}"
    assert shown.count(settings.REJECT_LABEL) <= 2, f"{label}: {shown}"
    # The officers' queue: the model's answer, far above chance (one in four potato answers). The whole
    # lab hold-out's recall per class is in MODEL_CARD.md/metrics.json: late blight, the weakest,
    # 80.9% for the 224 px model (87.4% at 128 px).
    correct = sum(diagnosis.label == label for diagnosis in diagnoses)
    assert correct / len(photos) >= 0.75, f"{label}: {correct}/{len(photos)}"


def test_shipped_model_rejects_pepper_leaves(shipped):
    peppers = sorted((DATA_ROOT / "plantvillage-negatives" / "Pepper__bell___healthy").iterdir())[:20]
    shown = [shown_to_farmer(shipped.predict(str(path))) for path in peppers]
    assert shown.count(settings.REJECT_LABEL) >= 15
    assert set(shown) <= {settings.REJECT_LABEL, UNSURE}, shown  # never a potato disease, sure


def test_default_input_size_is_the_shipped_models(shipped):
    from classifier.models import ModelVersion
    from classifier.preprocessing import DEFAULT_IMAGE_SIZE

    assert DEFAULT_IMAGE_SIZE == shipped.manifest.image_size == ModelVersion().image_size
    assert load_model_input(str(heldout_photos("healthy", 1)[0])).shape == (DEFAULT_IMAGE_SIZE, DEFAULT_IMAGE_SIZE, 3)


def test_training_and_serving_share_preprocessing():
    from training.datasets import LabelledImage, load_arrays

    path = heldout_photos("healthy", 1)[0]
    arrays = load_arrays([LabelledImage(path, "healthy")], ["healthy"], image_size=128)
    assert np.array_equal(arrays.images[0], load_model_input(str(path), 128).astype(np.uint8))


def test_preprocessing_turns_photos_upright_and_crops_the_centre():
    image = Image.new("RGB", (200, 100), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 100, 100))  # left half red, right half blue
    exif = Image.Exif()
    exif[0x0112] = 8  # rotate 90° to display
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif, quality=95)
    array = load_model_input(io.BytesIO(buffer.getvalue()), 32)
    assert array.shape == (32, 32, 3) and array.dtype == np.float32
    # Upright it is 100x200 with the halves stacked: its centre square is split across the rows.
    top, bottom = array[4, 16], array[28, 16]
    assert (top[0] > 200) != (bottom[0] > 200)
    assert (array[8, 4, 0] > 200) == (array[8, 28, 0] > 200)


def test_large_jpeg_is_decoded_at_reduced_scale():
    buffer = io.BytesIO()
    Image.new("RGB", (4000, 3000), (30, 140, 30)).save(buffer, format="JPEG")
    array = load_model_input(io.BytesIO(buffer.getvalue()), 128)
    assert array.shape == (128, 128, 3)
    assert abs(array[..., 1].mean() - 140) < 3


def test_unsure_and_reject_decisions():
    labels = ["early_blight", "late_blight", "not_potato_leaf"]
    sure = diagnose(np.array([0.9, 0.05, 0.05]), labels, "not_potato_leaf", DecisionRule(unsure_below=0.6))
    assert (sure.label, sure.is_unsure, sure.is_potato_leaf) == ("early_blight", False, True)
    assert sure.margin == pytest.approx(0.85)
    unsure = diagnose(np.array([0.45, 0.40, 0.15]), labels, "not_potato_leaf", DecisionRule(unsure_below=0.6))
    assert unsure.is_unsure
    rejected = diagnose(np.array([0.15, 0.05, 0.8]), labels, "not_potato_leaf", DecisionRule(unsure_below=0.6))
    assert not rejected.is_potato_leaf
    assert [t["label"] for t in rejected.top] == ["not_potato_leaf", "early_blight", "late_blight"]
