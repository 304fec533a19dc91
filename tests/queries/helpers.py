import json
import re
from pathlib import Path

from hosts.models import Host

from ..conftest import REALWORLD

PACKS_DIR = REALWORLD / "osquery" / "packs"


def pack_keys_in_file(path: Path) -> list[str]:
    """The query keys of a pack file, read independently of the importer: comment lines dropped,
    continuations joined, then plain JSON."""
    text = re.sub(r"\\\n", "", path.read_text())
    lines = [line for line in text.split("\n") if not line.strip().startswith(("#", "//"))]
    return list(json.loads("\n".join(lines))["queries"])


def make_host(platform: str, name: str) -> Host:
    return Host.objects.create(
        host_identifier=f"{name}-id",
        hostname=name,
        uuid=f"{name}-uuid",
        hardware_serial=f"{name}-sn",
        platform=platform,
    )
