"""Officers' labels: verdicts (services), the review queue and label reads (selectors), Grad-CAM heatmaps."""
