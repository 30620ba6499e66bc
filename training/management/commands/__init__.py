"""train_model, cross_validate_field, retrain, reproduce_study and the report builders."""
