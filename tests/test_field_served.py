"""What the phone sends (the small copy first, issue 26) and the fold models as quantized TFLite files, on the
field cross-validation's served path."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from training.field.protocol import CHOSEN, served_arm
from training.field.served_views import (
    PHONE_COPY,
    SMALL_COPY,
    PhoneCopy,
    as_sent,
    as_uploaded,
    cache_path,
    sent_bytes,
    served_inputs,
)


def _photo(path: Path, size: tuple[int, int]) -> Path:
    rng = np.random.default_rng(size[0])
    pixels = rng.integers(0, 255, (size[1] // 8, size[0] // 8, 3), dtype=np.uint8)
    Image.fromarray(pixels).resize(size, Image.Resampling.BILINEAR).save(path, "JPEG", quality=92)
    return path


def test_results_of_each_copy_are_stored_apart_and_the_800_px_copy_where_it_always_was():
    assert PHONE_COPY.is_default and served_arm(CHOSEN) == served_arm(CHOSEN, PHONE_COPY) == f"{CHOSEN}-served"
    assert served_arm(CHOSEN, PhoneCopy(384, 80)) == f"{CHOSEN}-served384"
    assert served_arm(CHOSEN, PhoneCopy(384, 70)) == f"{CHOSEN}-served384q70"
    assert served_arm(CHOSEN, PhoneCopy(800, 70)) == f"{CHOSEN}-served800q70"


def test_the_small_copy_keeps_the_zoomed_view_from_upscaling_a_4_by_3_photo():
    from classifier.preprocessing import DEFAULT_IMAGE_SIZE, ZOOM

    assert SMALL_COPY.side * 3 // 4 >= round(DEFAULT_IMAGE_SIZE / ZOOM)
    assert SMALL_COPY.side < PHONE_COPY.side


def test_the_phone_copy_shrinks_a_large_photo_to_its_side_and_leaves_a_small_one_its_size(tmp_path):
    large = _photo(tmp_path / "phone.jpg", (1600, 1200))
    small = _photo(tmp_path / "web.jpg", (256, 256))
    for copy in (PHONE_COPY, PhoneCopy(384, 80)):
        with Image.open(io.BytesIO(as_sent(large, copy))) as sent:
            assert sent.size == (copy.side, copy.side * 3 // 4)
        with Image.open(as_uploaded(large, copy)) as stored:  # as the server stores it
            assert stored.size == (copy.side, copy.side * 3 // 4)
        with Image.open(io.BytesIO(as_sent(small, copy))) as sent:
            assert sent.size == (256, 256)
    assert len(as_sent(large, PhoneCopy(384, 80))) < len(as_sent(large, PHONE_COPY)) / 2
    assert len(as_sent(large, PhoneCopy(384, 50))) < len(as_sent(large, PhoneCopy(384, 90)))
    views = served_inputs(large, 64, copy=PhoneCopy(384, 80))
    assert views.shape == (3, 64, 64, 3) and not np.array_equal(views[0], views[1])


def test_sent_bytes_counts_each_collection_and_the_photos_it_shrinks(tmp_path):
    from training.datasets import LabelledImage
    from training.field.data import FIELD, PoolImage

    def image(name: str, size, source: str) -> PoolImage:
        return PoolImage(LabelledImage(_photo(tmp_path / name, size), "healthy", source), FIELD, name)

    images = [image("a.jpg", (1600, 1200), "phones"), image("b.jpg", (256, 256), "web")]
    images.append(image("c.jpg", (256, 256), "web"))
    sent = sent_bytes(images, PhoneCopy(384, 80))
    assert (sent["side"], sent["quality"], sent["shrunk"]) == (384, 80, 1)
    assert sent["all"]["photos"] == 3 and sent["by_source"]["web"]["photos"] == 2
    one = len(as_sent(images[0].path, PhoneCopy(384, 80))) / 1000
    assert sent["by_source"]["phones"]["mean_kb"] == pytest.approx(one, abs=0.05)


def test_each_copy_has_its_own_cache_and_the_800_px_copy_keeps_its_old_name(tmp_path):
    import hashlib

    from training.datasets import LabelledImage
    from training.field.data import FIELD, PoolImage

    images = [PoolImage(LabelledImage(tmp_path / "a.jpg", "healthy", "web"), FIELD, "g")]
    default = cache_path(tmp_path, images, 224, "w.h5", "block_16_project_BN", PHONE_COPY)
    # The name the served cache had before copies were a parameter: runs measured then stay valid.
    described = [["web/a.jpg"], 224, "w.h5", "block_16_project_BN", 1, ["as_sent", "mirrored", "zoomed"]]
    old = hashlib.sha256(json.dumps(described).encode()).hexdigest()[:16]
    assert default.name == f"served-224px-block_16_project_BN-{old}.npz"
    small = cache_path(tmp_path, images, 224, "w.h5", "block_16_project_BN", PhoneCopy(384, 80))
    assert small.name.startswith("served384-224px-") and small != default
    assert small != cache_path(tmp_path, images, 224, "w.h5", "block_16_project_BN", PhoneCopy(384, 70))


def test_a_quantization_is_one_of_the_known_forms():
    from training.export import QUANTIZATIONS, SHIPPED_QUANTIZATION, tflite_bytes

    assert SHIPPED_QUANTIZATION in QUANTIZATIONS
    with pytest.raises(ValueError, match="unknown quantization"):
        tflite_bytes(None, "int4")


@pytest.mark.tensorflow
def test_int8_needs_images_to_calibrate_on():
    import keras

    from training.export import tflite_bytes

    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(inputs)))
    with pytest.raises(ValueError, match="representative"):
        tflite_bytes(model, "int8")
