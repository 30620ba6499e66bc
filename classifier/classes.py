"""The answers the model is trained to give that code refers to by name.

The reject class is spelled here and nowhere else: settings (``REJECT_LABEL``), training, advice,
officers' labels and pages all read it from this module. Plain Python, so settings can import it.
"""

NOT_POTATO_LEAF = "not_potato_leaf"  # the reject class: the photo shows no potato leaf
HEALTHY = "healthy"
UNUSABLE = "unusable"  # an officer's answer, never the model's: the photo cannot be judged
