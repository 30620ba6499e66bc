"""What farmers use: the upload page, the result page, the JSON API and the offline app (PWA)."""
