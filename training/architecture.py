"""MobileNetV2 transfer-learning classifier, built with the Keras functional API.

The model takes RGB values in [0, 255] (see ``classifier.preprocessing``) and scales them to
MobileNetV2's [-1, 1] itself, so the exported TFLite file needs no outside preprocessing.
"""

from __future__ import annotations

from classifier.preprocessing import DEFAULT_IMAGE_SIZE

BACKBONE_NAME = "mobilenetv2"


def build_classifier(
    num_classes: int,
    image_size: int = DEFAULT_IMAGE_SIZE,
    weights: str | None = "imagenet",
    dropout: float = 0.5,
    head_activation: str | None = None,
    head_units: int = 128,
):
    """Return an uncompiled ``keras.Model``: MobileNetV2 backbone, dropout, softmax classifier.

    ``weights`` is ``"imagenet"`` (Keras's download), a path to a no-top ``.h5`` weights file,
    or ``None`` (random, for tests). ``head_activation`` adds a hidden dense layer with that
    activation (the study's randomized search varies it); ``None`` keeps the paper's single
    dense layer. The backbone always runs BatchNormalization in inference mode: the provided
    weights carry folded statistics that batch statistics would disturb.
    """
    import keras
    from keras import layers

    inputs = keras.Input(shape=(image_size, image_size, 3), name="image")
    scaled = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="scale_to_unit_range")(inputs)
    backbone = keras.applications.MobileNetV2(
        input_shape=(image_size, image_size, 3),
        include_top=False,
        weights=weights,
        pooling="avg",
    )
    backbone.name = BACKBONE_NAME
    features = backbone(scaled, training=False)
    if head_activation:
        features = layers.Dense(head_units, activation=head_activation, name="hidden")(features)
    features = layers.Dropout(dropout, name="dropout")(features)
    outputs = layers.Dense(num_classes, activation="softmax", name="classes")(features)
    return keras.Model(inputs, outputs, name="potato_leaf_classifier")


def backbone_of(model):
    return model.get_layer(BACKBONE_NAME)


def set_trainable_layers(model, trainable: str | int) -> None:
    """Choose what trains: ``"head"`` (backbone frozen), ``"all"``, or the top ``N`` backbone layers.

    BatchNormalization layers stay frozen in every case (see :func:`build_classifier`).
    """
    from keras import layers

    backbone = backbone_of(model)
    if trainable == "head" or trainable == 0:
        backbone.trainable = False
        return
    backbone.trainable = True
    backbone_layers = backbone.layers
    cut = 0 if trainable == "all" else max(0, len(backbone_layers) - int(trainable))
    for position, layer in enumerate(backbone_layers):
        is_batch_norm = isinstance(layer, layers.BatchNormalization)
        layer.trainable = position >= cut and not is_batch_norm


def make_optimizer(name: str, learning_rate: float):
    import keras

    optimizers = {
        "adam": keras.optimizers.Adam,
        "sgd": keras.optimizers.SGD,
        "rmsprop": keras.optimizers.RMSprop,
    }
    try:
        return optimizers[name.lower()](learning_rate=learning_rate)
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; choose from {sorted(optimizers)}") from None


def compile_classifier(model, optimizer: str = "adam", learning_rate: float = 1e-4) -> None:
    model.compile(
        optimizer=make_optimizer(optimizer, learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
