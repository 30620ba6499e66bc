"""runstack (the service's processes) and create_officer."""
