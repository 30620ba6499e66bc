"""The extension officers' and admins' dashboard: the review queue, labels, reports, training runs
and model versions. Every view is guarded by ``webapp.dashboard.access``."""
