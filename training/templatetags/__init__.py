"""Template filters for the reports the training app writes (``report_format``)."""
