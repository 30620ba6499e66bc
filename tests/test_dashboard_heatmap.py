"""Grad-CAM heatmaps: computed by a real Celery worker on the training queue, never by the web process
or the inference worker (which must not import TensorFlow)."""

import io
import json
import subprocess
import sys
import time

import pytest
from django.urls import reverse
from PIL import Image

from classifier.models import Heatmap
from classifier.registry.artifacts import ModelManifest
from tests.conftest import REPO
from tests.dashboard_helpers import PASSWORD, diagnosed
from tests.images import heldout_photos
from webapp.dashboard.accounts import create_officer

pytestmark = pytest.mark.tensorflow

LABELS = ["early_blight", "healthy", "late_blight", "not_potato_leaf"]


@pytest.fixture(scope="session")
def keras_model_dir(tmp_path_factory):
    """A small untrained classifier of the project's architecture, saved as model.keras."""
    import keras

    from training.architecture import build_classifier

    directory = tmp_path_factory.mktemp("keras-model")
    keras.utils.set_random_seed(7)
    build_classifier(len(LABELS), image_size=64, weights=None).save(directory / "model.keras")
    ModelManifest(LABELS, 64, "not_potato_leaf").write(directory)
    (directory / "model.tflite").write_bytes(b"not used by these tests")
    return directory


@pytest.fixture
def keras_version(db, keras_model_dir):
    from classifier.registry.services import register_model_version

    return register_model_version(keras_model_dir, created_by="test")


def test_web_and_inference_modules_do_not_import_tensorflow():
    code = (
        "import os, sys, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'webapp.settings.test'); "
        "django.setup(); import classifier.tasks, classifier.labels.heatmaps, webapp.urls; "
        "import webapp.dashboard.views.media; "
        "heavy = [m for m in ('tensorflow', 'keras') if m in sys.modules]; print(heavy); sys.exit(1 if heavy else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_grad_cam_overlay_in_process(keras_model_dir):
    from classifier.gradcam import class_activation_map, load_keras_model, render_heatmap

    photo = heldout_photos("late_blight", 1)[0]
    model = load_keras_model(str(keras_model_dir / "model.keras"))
    image = Image.open(photo).convert("RGB").resize((64, 64))
    import numpy as np

    cam = class_activation_map(model, np.asarray(image, dtype=np.float32), class_index=2)
    assert cam.ndim == 2 and cam.min() >= 0 and cam.max() <= 1
    jpeg = render_heatmap(str(keras_model_dir / "model.keras"), str(photo), 2, 64)
    with Image.open(io.BytesIO(jpeg)) as overlay:
        assert overlay.format == "JPEG" and overlay.size == (320, 320)


def test_the_keras_file_keeps_float16_weights_and_reads_back_in_float32(tmp_path):
    import keras
    import numpy as np

    from classifier.registry.artifacts import read_keras_model, write_keras_model
    from training.architecture import build_classifier

    keras.utils.set_random_seed(7)
    model = build_classifier(len(LABELS), image_size=64, weights=None, head_activation="relu", head_units=32)
    model.save(tmp_path / "float32.keras")
    write_keras_model(model, tmp_path / "float16.keras")
    assert (tmp_path / "float16.keras").stat().st_size < 0.6 * (tmp_path / "float32.keras").stat().st_size
    assert {weight.dtype for weight in keras.models.load_model(tmp_path / "float16.keras").weights} == {"float16"}
    read = read_keras_model(tmp_path / "float16.keras")
    assert {weight.dtype for weight in read.weights} == {"float32"}
    photos = np.random.default_rng(1).uniform(0, 255, (4, 64, 64, 3)).astype(np.float32)
    # Called, not .predict(): the same inference-mode pass, without tracing a predict function per model.
    np.testing.assert_allclose(read(photos, training=False), model(photos, training=False), atol=5e-3)
    assert read_keras_model(tmp_path / "float32.keras").weights[0].dtype == "float32"  # files written before


@pytest.mark.processes
@pytest.mark.django_db(transaction=True)
def test_training_worker_computes_the_heatmap(client, keras_version, training_worker_process):
    submission = diagnosed(keras_version, label="late_blight", image=heldout_photos("late_blight", 1)[0].read_bytes())
    client.force_login(create_officer("okello", PASSWORD))
    url = reverse("dashboard:heatmap", args=[submission.pk])
    assert client.post(url).json()["state"] == "pending"

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = client.get(url).json()
        if body["state"] != "pending":
            break
        time.sleep(0.5)
    assert body["state"] == "done", (body, training_worker_process.log_path.read_text()[-3000:])
    heatmap = Heatmap.objects.get(pk=submission.pk)
    assert heatmap.model_version == keras_version
    assert heatmap.image.name.startswith(f"heatmaps/v{keras_version.number}/")
    with Image.open(io.BytesIO(b"".join(client.get(body["url"]).streaming_content))) as overlay:
        assert overlay.size == (320, 320)
    review = client.get(reverse("dashboard:review", args=[submission.pk])).content.decode()
    assert reverse("dashboard:heatmap-image", args=[submission.pk]) in review
    assert json.loads(json.dumps(body))["message"].startswith("Warm colours")


@pytest.mark.django_db
def test_heatmap_on_s3_storage(keras_model_dir, s3_media, tmp_path):
    """Media on S3 (moto): the Keras model is read through a cached local copy, not a storage path."""
    from classifier.labels import heatmaps
    from classifier.registry.services import register_model_version
    from classifier.tasks import compute_heatmap

    version = register_model_version(keras_model_dir, created_by="test")
    submission = diagnosed(version, label="late_blight", confidence=0.5)
    assert heatmaps.request_heatmap(submission) is not None
    assert compute_heatmap.run(str(submission.pk)) == Heatmap.Status.DONE
    heatmap = Heatmap.objects.get(pk=submission.pk)
    assert heatmap.error == "" and heatmap.image.name in s3_media()
    cached = [path.name for path in (tmp_path / "model-cache").iterdir()]
    assert cached == [f"{version.file_hashes[heatmaps.keras_model_name(version)]}.keras"]
