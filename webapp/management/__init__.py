"""Management commands of the webapp app."""
