"""Template tags: ``dashboard`` (labels for officers) and ``reach`` (the farmer pages' script strings)."""
