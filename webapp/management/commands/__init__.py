"""runstack (the service's processes), nginx_site (the proxy in front of it) and create_officer."""
