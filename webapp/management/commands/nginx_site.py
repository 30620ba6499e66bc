"""Print the nginx site for this service (``deploy/nginx/potato.conf`` filled in) for Debian's nginx."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from webapp.proxy import site_config


class Command(BaseCommand):
    help = "Print the nginx site that puts nginx in front of gunicorn (for /etc/nginx/sites-available/)."

    def add_arguments(self, parser):
        parser.add_argument("--upstream", default="127.0.0.1:8000", help="gunicorn's address, host:port")
        parser.add_argument("--listen", default="80", help="nginx's listen value, e.g. 80 or 10.0.0.5:80")
        parser.add_argument("--server-name", default="_", help="the site's host name(s)")

    def handle(self, *args, **options):
        self.stdout.write(site_config(options["upstream"], options["listen"], options["server_name"]), ending="")
