"""MobileNetV2 transfer-learning classifier, built with the Keras functional API.

The model takes RGB values in [0, 255] (see ``classifier.preprocessing``) and scales them to
MobileNetV2's [-1, 1] itself, so the exported TFLite file needs no outside preprocessing.
"""

from __future__ import annotations

from classifier.preprocessing import DEFAULT_IMAGE_SIZE

BACKBONE_NAME = "mobilenetv2"
#: The boundary "before the first backbone layer" (its input layer's own name differs from one built
#: model to the next): the whole backbone trains, and what is cached is the scaled image.
BACKBONE_INPUT = "backbone_input"


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


def _backbone_index(model) -> int:
    return [layer.name for layer in model.layers].index(BACKBONE_NAME)


def frozen_boundary(model) -> str | None:
    """The backbone layer after which only trainable layers (or cheap frozen ones) follow.

    Call after :func:`set_trainable_layers`. Returns the name of the last backbone layer that
    (a) comes before the first layer with trainable weights and (b) is the only way into the
    layers after it (no skip connection jumps over it), so its output alone determines the model's
    output. Activations up to it can be computed once and cached. ``None`` when the whole backbone
    trains (nothing to cache).
    """
    backbone = backbone_of(model)
    layers = backbone.layers
    position = {id(layer): index for index, layer in enumerate(layers)}
    trainable = [index for index, layer in enumerate(layers) if layer.trainable_weights]
    if not backbone.trainable or not trainable:
        return layers[-1].name
    first_trainable = trainable[0]
    # earliest[k]: the smallest layer index feeding any layer at index >= k.
    earliest = [len(layers)] * (len(layers) + 1)
    for index in range(len(layers) - 1, -1, -1):
        parents = [position[id(node.operation)] for node in layers[index]._inbound_nodes[0].parent_nodes]
        earliest[index] = min([earliest[index + 1], *parents]) if parents else earliest[index + 1]
    for candidate in range(first_trainable - 1, 0, -1):
        if earliest[candidate + 1] >= candidate:
            return layers[candidate].name
    return None


def feature_extractor(model, boundaries: list[str]):
    """A model from images to the activations at each of ``boundaries`` (frozen, inference mode)."""
    import keras

    backbone = backbone_of(model)
    inputs = keras.Input(shape=model.input.shape[1:], name="image")
    x = inputs
    for layer in model.layers[1 : _backbone_index(model)]:
        x = layer(x)
    front = keras.Model(backbone.input, [boundary_output(backbone, name) for name in boundaries])
    outputs = front(x, training=False)
    return keras.Model(inputs, outputs if len(boundaries) > 1 else [outputs], name="frozen_features")


def trainable_part(model, boundary: str):
    """A model from the activations at ``boundary`` to the class probabilities.

    It shares its layers (and so its weights and trainable flags) with ``model``: training it on
    cached activations trains ``model`` exactly as end-to-end training would, because the layers
    before ``boundary`` are frozen and run in inference mode.
    """
    import keras

    backbone = backbone_of(model)
    activations = boundary_output(backbone, boundary)
    inputs = keras.Input(shape=activations.shape[1:], name="cached_activations")
    x = inputs
    if boundary != backbone.layers[-1].name:
        x = keras.Model(activations, backbone.output, name="backbone_top")(x, training=False)
    for layer in model.layers[_backbone_index(model) + 1 :]:
        x = layer(x)
    return keras.Model(inputs, x, name="trainable_part")


def boundary_output(backbone, boundary: str):
    """The backbone's tensor at ``boundary``: a layer's output, or its input for :data:`BACKBONE_INPUT`."""
    return backbone.input if boundary == BACKBONE_INPUT else backbone.get_layer(boundary).output
