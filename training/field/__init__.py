"""The recipe the served model is trained with, for farmers' field photos: photo pools and groups,
field-like views, cached backbone features, the recipe and its ablation arms, the grouped
cross-validation that measures it, the decision rule fitted on it, the report and the model card."""
