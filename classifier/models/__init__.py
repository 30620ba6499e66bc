"""The classifier's tables, one module per concept (they keep the ``classifier`` app label and tables):

- ``registry``: model versions, evaluation sets, the change log of which version serves;
- ``submissions``: farmers' cases, their photos and the model's predictions;
- ``labels``: officers' classes, labels (verdicts) and heatmaps;
- ``advice``: what a farmer is told, per answer and language;
- ``sms``: the outbox carrying an officer's verdict to the farmer;
- ``collection``: officers' garden visits and the photos they take there (issue 27).
"""

from classifier.models.advice import Advice, AdviceStep
from classifier.models.collection import CollectedPhoto, Evidence, GardenVisit, VisitLabel
from classifier.models.labels import Heatmap, Label, LabelClass, heatmap_upload_path
from classifier.models.registry import EvaluationSet, ModelVersion, ModelVersionChange, model_upload_path
from classifier.models.sms import SmsMessage
from classifier.models.submissions import (
    AnswerKind,
    CheckAnswer,
    District,
    FieldCheck,
    Photo,
    Prediction,
    Submission,
)

__all__ = [
    "Advice",
    "AnswerKind",
    "CheckAnswer",
    "CollectedPhoto",
    "Evidence",
    "GardenVisit",
    "VisitLabel",
    "FieldCheck",
    "Photo",
    "AdviceStep",
    "District",
    "EvaluationSet",
    "Heatmap",
    "Label",
    "LabelClass",
    "ModelVersion",
    "ModelVersionChange",
    "Prediction",
    "SmsMessage",
    "Submission",
    "heatmap_upload_path",
    "model_upload_path",
]
