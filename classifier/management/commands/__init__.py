"""register_default_model, evaluate_model, seed_submissions."""
