"""Farmers' submissions: storing a photo, enqueueing its inference, recording the prediction
(services), and reading them back (selectors)."""
