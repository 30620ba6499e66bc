"""The nginx site in front of gunicorn: ``deploy/nginx/potato.conf`` filled in.

Production installs the rendered site into Debian's nginx (``manage.py nginx_site``); the tests
and benchmarks run the same site in an nginx of their own (:func:`standalone_config`).
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
from pathlib import Path

from django.conf import settings

SITE_TEMPLATE = Path(__file__).resolve().parent.parent / "deploy" / "nginx" / "potato.conf"


def site_config(upstream: str, listen: str = "80", server_name: str = "_") -> str:
    """The site with gunicorn's address (``host:port``), nginx's ``listen`` value and the body
    limit (``MAX_REQUEST_BYTES``, the limit Django applies too) filled in."""
    values = {
        "upstream": upstream,
        "listen": listen,
        "server_name": server_name,
        "max_body": f"{settings.MAX_REQUEST_BYTES}",  # bytes: nginx reads a plain number as bytes
    }

    def fill(match: re.Match) -> str:
        return values[match.group(1)]  # a placeholder without a value is a KeyError, not a broken site

    return re.sub(r"\{\{ (\w+) \}\}", fill, SITE_TEMPLATE.read_text())


def standalone_config(prefix: Path, site: Path) -> str:
    """A whole nginx.conf that runs ``site`` as this user, in the foreground, with every file it
    writes (pid, logs, buffered bodies) under ``prefix``. Debian's own nginx.conf does this part
    in production."""
    user = ""
    if os.geteuid() == 0:  # root's workers would otherwise run as nobody, who cannot reach prefix
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name};"
    temp_paths = "\n".join(
        f"    {kind}_temp_path {prefix / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}
daemon off;
master_process on;
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{
    worker_connections 1024;
}}
http {{
    access_log {prefix / "access.log"};
{temp_paths}
    include {site};
}}
"""


def nginx_binary() -> str:
    """nginx on PATH, else Debian's /usr/sbin/nginx (not on a normal user's PATH)."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if not found:
        raise FileNotFoundError("nginx is not installed (apt-get install nginx-light, or `make test` installs it)")
    return found
