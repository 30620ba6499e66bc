"""Training the model: the served recipe (``field``), retraining and training runs, the study (``study``)."""
