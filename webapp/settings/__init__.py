"""Layered settings: ``base`` (shared), ``production`` (what ships), ``test`` (production for the suite)."""
