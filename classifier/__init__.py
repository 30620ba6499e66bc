"""Serving the model: farmers' submissions, inference, the model registry, officers' labels, advice, SMS."""
