"""The model registry: registering and activating model versions (services), reading them
(selectors), promotion rules, the files of a trained model (artifacts) and their local copies
(model_files)."""
