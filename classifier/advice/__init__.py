"""Advice for each answer: the code defaults (defaults), and what a farmer is shown in her language (selectors)."""
