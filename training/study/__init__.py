"""Reproducing the paper the product is built on (``../shared/docs/study.md``): its experiments as
data, the cross-validation of every configuration, the stored results, the report and its figures,
beside the paper's own numbers. Nothing here ships a model: see ``training.field`` for that."""
