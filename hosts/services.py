"""Writes to hosts: enrollment and deletion."""

import hashlib
import hmac
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from fleetweb.conf import fleet_setting
from fleetweb.redis import generation_bump, get_redis

from .identity import real_serial, real_uuid
from .models import EnrollSecret, Host, Platform
from .node_cache import HOSTS_GENERATION, NodeHost, node_host_forget, node_host_store

log = logging.getLogger(__name__)

# osquery's platform_type bitmask (osquery/utils/info/platform_type.h).
_PLATFORM_BITS = ((16, Platform.DARWIN), (8, Platform.LINUX), (2, Platform.WINDOWS))
_PLATFORM_NAMES = {
    "darwin": Platform.DARWIN,
    "windows": Platform.WINDOWS,
    "linux": Platform.LINUX,
}
_LINUX_FAMILY = {"ubuntu", "debian", "rhel", "centos", "fedora", "amzn", "arch", "suse", "opensuse", "gentoo"}
# Longer than any enroll takes; bounds how long a crashed request blocks the machine's re-enroll.
_ENROLL_LOCK_SECONDS = 60


class EnrollError(Exception):
    pass


class EnrollBusy(Exception):
    pass


def enroll_secret_match(secret: str) -> EnrollSecret | None:
    """The active enroll secret equal to `secret`, compared in constant time."""
    if not secret:
        return None
    match = None
    for candidate in EnrollSecret.objects.filter(is_active=True).only("id", "secret", "name"):
        # Compare against every candidate so the time taken does not reveal which one matched.
        if hmac.compare_digest(candidate.secret.encode(), secret.encode()):
            match = candidate
    return match


def platform_from_details(platform_type: Any, details: dict[str, dict[str, str]]) -> str:
    os_platform = str(details.get("os_version", {}).get("platform", "")).lower()
    if os_platform in _PLATFORM_NAMES:
        return _PLATFORM_NAMES[os_platform]
    if os_platform in _LINUX_FAMILY or "linux" in str(details.get("os_version", {}).get("platform_like", "")).lower():
        return Platform.LINUX
    try:
        mask = int(platform_type)
    except (TypeError, ValueError):
        mask = 0
    for bit, platform in _PLATFORM_BITS:
        if mask & bit:
            return platform
    build = str(details.get("osquery_info", {}).get("build_platform", "")).lower()
    return _PLATFORM_NAMES.get(build, Platform.OTHER)


def _str_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    # Agents send strings; numbers are tolerated, anything else (null, objects) is dropped so it
    # can never become an identity such as the UUID "None".
    return {
        str(k): v if isinstance(v, str) else str(v)
        for k, v in value.items()
        if isinstance(v, str | int | float) and not isinstance(v, bool)
    }


def _host_fields(host_identifier: str, platform_type: Any, details: dict[str, Any]) -> dict[str, Any]:
    tables = {
        name: _str_map(details.get(name)) for name in ("os_version", "osquery_info", "system_info", "platform_info")
    }
    osv, info, system = tables["os_version"], tables["osquery_info"], tables["system_info"]
    try:
        mask = int(platform_type)
    except (TypeError, ValueError):
        mask = 0
    uuid = real_uuid(system.get("uuid")) or real_uuid(info.get("uuid"))
    fields = {
        "host_identifier": host_identifier[:255],
        "uuid": uuid,
        "hostname": (system.get("hostname") or host_identifier)[:255],
        "computer_name": system.get("computer_name", "")[:255],
        "hardware_serial": real_serial(system.get("hardware_serial")),
        "hardware_vendor": system.get("hardware_vendor", "")[:255],
        "hardware_model": system.get("hardware_model", "")[:255],
        "os_name": osv.get("name", "")[:255],
        "os_version": osv.get("version", "")[:255],
        "os_build": osv.get("build", "")[:255],
        "platform": platform_from_details(platform_type, tables),
        "platform_like": osv.get("platform_like", "")[:255],
        "platform_type": mask if 0 <= mask < 2**31 else 0,
        "osquery_version": info.get("version", "")[:64],
    }
    return fields


def _identity(fields: dict[str, Any]) -> tuple[str, str]:
    """Which field identifies a re-enrolling agent, and its value, by FLEET ENROLL_IDENTITY.

    With "uuid" (the default), the hardware UUID decides; the serial and then the host identifier
    are fallbacks only when the agent reports no UUID. Two machines with the same hostname but
    different UUIDs therefore stay apart. The fallbacks only match hosts that have no UUID either,
    for the same reason.
    """
    if fleet_setting("ENROLL_IDENTITY") == "host_identifier":
        return "host_identifier", fields["host_identifier"]
    if fields["uuid"]:
        return "uuid", fields["uuid"]
    if fields["hardware_serial"]:
        return "hardware_serial", fields["hardware_serial"]
    return "host_identifier", fields["host_identifier"]


def _find_existing(fields: dict[str, Any]) -> Host | None:
    """The host a re-enrolling agent already is (see `_identity`)."""
    field, value = _identity(fields)
    qs = Host.objects.select_for_update().filter(**{field: value})
    if field != "uuid" and fleet_setting("ENROLL_IDENTITY") != "host_identifier":
        qs = qs.filter(uuid="")
    return qs.order_by("id").first()


def host_enroll(
    *, enroll_secret: str, host_identifier: str, platform_type: Any, host_details: dict[str, Any]
) -> tuple[Host, str]:
    """Enroll (or re-enroll) an agent and return the host with its fresh node key.

    Raises EnrollError for a wrong or revoked secret; no host is created then. Raises EnrollBusy
    while another enroll of the same machine is running: an agent whose first request outlived
    its 16 s timeout retries while the first is still in flight, and under the database's
    read-committed isolation both would otherwise insert the host.
    """
    secret = enroll_secret_match(enroll_secret)
    if secret is None:
        raise EnrollError("invalid or revoked enroll secret")
    fields = _host_fields(host_identifier, platform_type, host_details)
    field, value = _identity(fields)
    lock = "enroll:lock:" + hashlib.sha256(f"{field}={value.lower()}".encode()).hexdigest()
    redis = get_redis()
    if not redis.set(lock, 1, nx=True, ex=_ENROLL_LOCK_SECONDS):
        raise EnrollBusy("another enrollment of this machine is in progress; retry")
    try:
        return _enroll_locked(secret, fields)
    finally:
        redis.delete(lock)


@transaction.atomic
def _enroll_locked(secret: EnrollSecret, fields: dict[str, Any]) -> tuple[Host, str]:
    now = timezone.now()
    host = _find_existing(fields)
    old_hash = None
    if host is None:
        host = Host(**fields, enrolled_at=now)
        created = True
    else:
        old_hash = host.node_key_hash
        for name, value in fields.items():
            # Keep what we know when a re-enroll reports less.
            if value or name in ("platform", "host_identifier"):
                setattr(host, name, value)
        created = False
    host.enroll_secret = secret
    host.last_enrolled_at = now
    host.last_seen_at = now
    node_key = host.set_new_node_key()
    host.save()
    node = NodeHost.from_host(host)
    node_hash = host.node_key_hash or ""
    transaction.on_commit(lambda: _after_enroll(old_hash, node_hash, node))
    log.info("host %s %s with secret %r", host.pk, "enrolled" if created else "re-enrolled", secret.name)
    return host, node_key


def _after_enroll(old_hash: str | None, node_hash: str, node: NodeHost) -> None:
    node_host_forget(old_hash)
    node_host_store(node_hash, node)
    # The platform may have changed; render this host's config afresh.
    get_redis().delete(f"cfg:h:{node.id}")


@transaction.atomic
def host_delete(*, host: Host) -> None:
    """Delete a host. Its node key stops working at once: the agent's next request gets
    `node_invalid`, and its re-enroll creates the host afresh."""
    old_hash = host.node_key_hash
    host_id = host.pk
    host.delete()

    def revoke() -> None:
        node_host_forget(old_hash)
        get_redis().delete(f"cfg:h:{host_id}")
        # Embedded mode: tells a server in another process to drop its cached node keys.
        generation_bump(HOSTS_GENERATION)

    transaction.on_commit(revoke)
