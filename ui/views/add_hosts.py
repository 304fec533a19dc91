"""Everything an operator needs to point osquery at this server."""

from dataclasses import dataclass
from pathlib import Path

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.roles import can_manage_queries
from fleetweb.conf import fleet_setting
from hosts.agent_flags import osquery_flags
from hosts.models import EnrollSecret

from ..access import reader_required, role_required


@dataclass(frozen=True)
class AgentLayout:
    """Where osquery's packages keep their files on each platform."""

    key: str
    name: str
    directory: str
    sep: str
    commands: str

    def path(self, name: str) -> str:
        return f"{self.directory}{self.sep}{name}"


LAYOUTS = {
    "darwin": AgentLayout(
        "darwin",
        "macOS",
        "/private/var/osquery",
        "/",
        "sudo cp osquery.flags server.crt /private/var/osquery/\n"
        "printf '%s' 'ENROLL_SECRET' | sudo tee /private/var/osquery/enroll_secret >/dev/null\n"
        "sudo chmod 600 /private/var/osquery/enroll_secret\n"
        "sudo cp /var/osquery/io.osquery.agent.plist /Library/LaunchDaemons/\n"
        "sudo launchctl load /Library/LaunchDaemons/io.osquery.agent.plist",
    ),
    "linux": AgentLayout(
        "linux",
        "Linux",
        "/etc/osquery",
        "/",
        "sudo cp osquery.flags server.crt /etc/osquery/\n"
        "printf '%s' 'ENROLL_SECRET' | sudo tee /etc/osquery/enroll_secret >/dev/null\n"
        "sudo chmod 600 /etc/osquery/enroll_secret\n"
        "sudo systemctl enable --now osqueryd",
    ),
    "windows": AgentLayout(
        "windows",
        "Windows",
        r"C:\Program Files\osquery",
        "\\",
        "# PowerShell, as Administrator\n"
        'Copy-Item osquery.flags, server.crt "C:\\Program Files\\osquery\\"\n'
        "Set-Content -NoNewline -Path \"C:\\Program Files\\osquery\\enroll_secret\" -Value 'ENROLL_SECRET'\n"
        '& "C:\\Program Files\\osquery\\osqueryd\\osqueryd.exe" --install '
        '--flagfile="C:\\Program Files\\osquery\\osquery.flags"\n'
        "Start-Service osqueryd",
    ),
}


def _flags_for(layout: AgentLayout) -> str:
    return osquery_flags(
        tls_hostname=str(fleet_setting("TLS_HOSTNAME")),
        server_cert_path=layout.path("server.crt"),
        enroll_secret_path=layout.path("enroll_secret"),
    )


@reader_required
def add_hosts(request: HttpRequest) -> HttpResponse:
    may_see_secret = can_manage_queries(request.user)
    secrets = list(EnrollSecret.objects.filter(is_active=True).order_by("name")) if may_see_secret else []
    chosen = request.GET.get("secret", "")
    secret = next((s for s in secrets if str(s.pk) == chosen), secrets[0] if secrets else None)
    layouts = [
        {
            "layout": layout,
            "flags": _flags_for(layout),
            "commands": layout.commands.replace("ENROLL_SECRET", secret.secret if secret else "<enroll secret>"),
        }
        for layout in LAYOUTS.values()
    ]
    return render(
        request,
        "ui/add_hosts.html",
        {
            "may_see_secret": may_see_secret,
            "secrets": secrets,
            "secret": secret,
            "layouts": layouts,
            "tls_hostname": fleet_setting("TLS_HOSTNAME"),
            "cert_available": Path(str(fleet_setting("TLS_CERT_PATH"))).is_file(),
        },
    )


@reader_required
def flags_file(request: HttpRequest, platform: str) -> HttpResponse:
    layout = LAYOUTS.get(platform)
    if layout is None:
        raise Http404("unknown platform")
    response = HttpResponse(_flags_for(layout), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="osquery.flags"'
    return response


@role_required(can_manage_queries)
def enroll_secret_file(request: HttpRequest, secret_id: int) -> HttpResponse:
    secret = EnrollSecret.objects.filter(pk=secret_id, is_active=True).first()
    if secret is None:
        raise Http404("no such active enroll secret")
    response = HttpResponse(secret.secret, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="enroll_secret"'
    return response


@reader_required
def server_certificate(request: HttpRequest) -> HttpResponse:
    path = Path(str(fleet_setting("TLS_CERT_PATH")))
    if not path.is_file():
        raise Http404("the server certificate is not at FLEET_TLS_CERT_PATH")
    response = HttpResponse(path.read_bytes(), content_type="application/x-pem-file")
    response["Content-Disposition"] = 'attachment; filename="server.crt"'
    return response
