"""Management commands of the classifier app."""
