"""Field photos are split by group: no date, camera sequence or near-copy on both sides of a fold."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from django.conf import settings
from PIL import Image

from training.datasets import LabelledImage
from training.field.data import FIELD, collect_pools, difference_hash, grouped, merge_near_copies, name_group
from training.field.protocol import field_folds

DATA_ROOT = Path(settings.DATA_ROOT)


def test_names_give_dates_camera_sequences_or_the_photo_itself():
    assert name_group("m", "pld_20230816_141040.jpg") == "m:20230816"
    assert name_group("m", "pld_IMG_20230816_121440.jpg") == "m:20230816"
    assert name_group("m", "pld_1692332350457.jpg") == "m:20230818"  # Unix milliseconds, UTC
    assert name_group("m", "pld_IMG_0912.jpg") == name_group("m", "pld_IMG_0950.jpg") == "m:IMG_09xx"
    assert name_group("m", "pld_IMG_0252_-_Copy.jpg") == "m:IMG_02xx"
    assert (
        name_group("p", "plantdoc_train_Potato_leaf_early_blight_1.jpg")
        == "p:plantdoc_train_Potato_leaf_early_blight_1"
    )


def test_near_copies_join_one_group(tmp_path):
    original = Image.radial_gradient("L").convert("RGB").resize((128, 128))
    original.save(tmp_path / "a.jpg", quality=95)
    original.resize((100, 100)).save(tmp_path / "b.jpg", quality=60)  # the same photo, smaller, recompressed
    Image.linear_gradient("L").convert("RGB").save(tmp_path / "c.jpg")
    hashes = [difference_hash(tmp_path / name) for name in ("a.jpg", "b.jpg", "c.jpg")]
    assert merge_near_copies(["x:a", "x:b", "x:c"], hashes) == ["x:a", "x:a", "x:c"]
    images = [LabelledImage(tmp_path / name, "healthy", "x") for name in ("a.jpg", "b.jpg", "c.jpg")]
    groups = [image.group for image in grouped(images, FIELD)]
    assert groups[0] == groups[1] != groups[2]


def test_no_group_is_on_both_sides_of_any_fold_of_the_real_field_photos():
    pools = collect_pools(
        DATA_ROOT / "plantvillage-potato",
        [],
        [DATA_ROOT / "field-potato", DATA_ROOT / "field-potato-magelang"],
        [DATA_ROOT / "field-negatives"],
        "not_potato_leaf",
        max_per_class=None,
    )
    field = pools.field
    assert len(field) > 1000
    for repeat in range(2):
        folds = field_folds(field, 5, repeat)
        folds_of_group = defaultdict(set)
        folds_of_date = defaultdict(set)
        for image, fold in zip(field, folds, strict=True):
            folds_of_group[image.group].add(int(fold))
            folds_of_date[name_group(image.image.source, image.path.name)].add(int(fold))
        assert all(len(found) == 1 for found in folds_of_group.values())
        assert all(len(found) == 1 for found in folds_of_date.values())  # one date, one fold
        # Every potato class is in every fold's test side, so each fold measures every class.
        for fold in range(5):
            labels = {image.label for image, f in zip(field, folds, strict=True) if f == fold}
            assert {"early_blight", "late_blight", "healthy", "bacterial_wilt"} <= labels
    assert not {image.key for image in pools.lab_train} & {image.key for image in pools.lab_holdout}


def test_an_uploaded_cases_photos_share_one_group():
    """A case's photos are of one garden: no fold may hold some of them while training on the others."""
    from pathlib import Path

    from training.datasets import LabelledImage
    from training.field.data import case_group

    case = "0b0e6f2c-6a41-4f0e-9c43-2a4d2b6f1a10"
    first, third = (
        LabelledImage(Path(f"/run/late_blight/{name}.jpg"), "late_blight", "field") for name in (case, f"{case}-2")
    )
    other = LabelledImage(Path("/run/late_blight/5c1d2e3f-6a41-4f0e-9c43-2a4d2b6f1a10.jpg"), "late_blight", "field")
    assert case_group(first) == case_group(third) == f"field:{case}" != case_group(other)
