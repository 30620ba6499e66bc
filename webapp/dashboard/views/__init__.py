"""The dashboard's views, one module per page group: the queue and review, photos and heatmaps,
reports, training runs and model versions, translations awaiting review."""
