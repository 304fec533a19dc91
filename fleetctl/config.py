"""Contexts: named server connections (address, token, TLS options) in ~/.fleetweb/config.

The file is YAML, like Fleet's ~/.fleet/config, and is written with mode 0600 because it holds
tokens. FLEETCTL_CONFIG points elsewhere.
"""

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass
class Context:
    address: str = ""
    token: str = ""
    email: str = ""
    tls_skip_verify: bool = False
    rootca: str = ""


def config_path() -> Path:
    return Path(os.environ.get("FLEETCTL_CONFIG") or Path.home() / ".fleetweb" / "config")


def _load() -> dict[str, Any]:
    path = config_path()
    if not path.exists():
        return {"contexts": {}}
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict) or not isinstance(data.get("contexts", {}), dict):
        raise ValueError(f"{path}: not a fleetctl config file (expected a 'contexts' mapping)")
    data.setdefault("contexts", {})
    return data


def context_load(name: str) -> Context:
    raw = _load()["contexts"].get(name) or {}
    known = {k: v for k, v in raw.items() if k in Context.__dataclass_fields__}
    return Context(**known)


def context_save(name: str, context: Context) -> Path:
    data = _load()
    data["contexts"][name] = asdict(context)
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        yaml.safe_dump(data, handle, sort_keys=True)
    tmp.replace(path)
    return path
