"""Officers' collection (issue 27): garden visits and the photos taken there (services, selectors), and the
checked field photos as a dataset (dataset). What counts as checked is ``classifier.checked``."""
