"""Prepare the embedded server: database, built-in content, first admin, enroll secret, TLS
certificate and a ready osquery flags file. Safe to run on every start."""

import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, call_command

from fleetweb.conf import fleet_setting
from hosts.agent_flags import osquery_flags
from hosts.models import EnrollSecret
from hosts.tls import ensure_self_signed_cert


class Command(BaseCommand):
    help = "Migrate, load built-in content, create the first admin and write agent connection files."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--var-dir", default=str(Path(settings.BASE_DIR) / "var"))

    def handle(self, *args: Any, **options: Any) -> None:
        var = Path(options["var_dir"]).resolve()
        call_command("migrate", interactive=False, verbosity=0)
        call_command("load_builtin", verbosity=0)
        password_note = self._ensure_admin(var)
        secret = self._ensure_enroll_secret()

        tls_hostname = fleet_setting("TLS_HOSTNAME")
        cert, key = var / "tls" / "server.crt", var / "tls" / "server.key"
        ensure_self_signed_cert(cert, key, tls_hostname.rsplit(":", 1)[0])

        agent_dir = var / "osquery"
        agent_dir.mkdir(parents=True, exist_ok=True)
        secret_file = agent_dir / "enroll_secret"
        secret_file.write_text(secret.secret + "\n")
        secret_file.chmod(0o600)
        flags_file = agent_dir / "osquery.flags"
        flags_file.write_text(
            osquery_flags(tls_hostname=tls_hostname, server_cert_path=cert, enroll_secret_path=secret_file)
        )

        self.stdout.write(
            f"""
fleetweb is ready.
  UI / admin:        https://{tls_hostname}/admin/   ({password_note})
  Agent API:         https://{tls_hostname}/api/osquery/
  Enroll secret:     {secret.secret}
  --tls_hostname:    {tls_hostname}
  Server cert:       {cert}
  osquery flags:     {flags_file}
Start an agent with:
  sudo osqueryd --flagfile={flags_file}
If agents reach this machine by another name, put FLEET_TLS_HOSTNAME=<name>:<port> in .env
(then delete var/tls/ so the certificate is made for that name) and run again.
"""
        )

    def _ensure_admin(self, var: Path) -> str:
        user_model = get_user_model()
        password_file = var / "admin-password.txt"
        if user_model.objects.filter(is_superuser=True).exists():
            return f"user admin, password in {password_file}" if password_file.exists() else "existing admin"
        password = secrets.token_urlsafe(12)
        user_model.objects.create_superuser("admin", "", password)
        var.mkdir(parents=True, exist_ok=True)
        password_file.write_text(password + "\n")
        password_file.chmod(0o600)
        return f"user admin, password {password} (also in {password_file})"

    def _ensure_enroll_secret(self) -> EnrollSecret:
        existing = EnrollSecret.objects.filter(is_active=True).order_by("id").first()
        if existing:
            return existing
        return EnrollSecret.objects.create(name="initial", secret=EnrollSecret.generate())
