"""File carving: sessions, blocks, reassembly."""

import base64
import binascii
import hashlib
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from fleetweb.conf import fleet_setting
from hosts.node_cache import NodeHost

from ..models import CarveBlock, CarveSession


class CarveError(ValueError):
    pass


def _positive_int(payload: dict[str, Any], name: str) -> int:
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CarveError(f"{name} must be a non-negative integer")
    return value


def _short_str(payload: dict[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value or len(value) > 64:
        raise CarveError(f"{name} must be a non-empty string of at most 64 characters")
    return value


def carve_begin(*, node: NodeHost, payload: dict[str, Any]) -> CarveSession:
    block_count = _positive_int(payload, "block_count")
    block_size = _positive_int(payload, "block_size")
    carve_size = _positive_int(payload, "carve_size")
    carve_id = _short_str(payload, "carve_id")
    request_id = _short_str(payload, "request_id")
    if block_size == 0 or block_size > fleet_setting("CARVE_BLOCK_MAX_BYTES"):
        raise CarveError(f"block_size must be 1..{fleet_setting('CARVE_BLOCK_MAX_BYTES')} bytes")
    if carve_size > fleet_setting("CARVE_MAX_BYTES"):
        raise CarveError(f"carve_size {carve_size} exceeds the limit of {fleet_setting('CARVE_MAX_BYTES')} bytes")
    if carve_size == 0:
        raise CarveError("carve_size must be positive; a carve archive is never empty")
    expected_blocks = -(-carve_size // block_size)
    if block_count != expected_blocks:
        raise CarveError(
            f"block_count {block_count} does not match carve_size / block_size (expected {expected_blocks})"
        )
    return CarveSession.objects.create(
        host_id=node.id,
        session_id=secrets.token_urlsafe(24),
        carve_id=carve_id,
        request_id=request_id,
        block_count=block_count,
        block_size=block_size,
        carve_size=carve_size,
    )


def carve_block_store(*, payload: dict[str, Any]) -> CarveSession:
    """Store one block. A block id that already arrived (an agent retry) is ignored."""
    session_id = payload.get("session_id")
    if not isinstance(session_id, str) or not session_id:
        raise CarveError("session_id must be a non-empty string")
    session = CarveSession.objects.filter(session_id=session_id).first()
    if session is None:
        raise CarveError("unknown carve session_id")
    if session.completed_at or session.error:
        return session
    block_id = payload.get("block_id")
    if isinstance(block_id, bool) or not isinstance(block_id, int) or not 0 <= block_id < session.block_count:
        raise CarveError(f"block_id must be an integer in 0..{session.block_count - 1}")
    data_b64 = payload.get("data")
    if not isinstance(data_b64, str):
        raise CarveError("data must be a base64 string")
    try:
        data = base64.b64decode(data_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CarveError(f"data is not valid base64: {exc}") from exc
    if len(data) > session.block_size:
        raise CarveError(f"block is {len(data)} bytes; block_size is {session.block_size}")
    try:
        with transaction.atomic():
            CarveBlock.objects.create(session=session, block_id=block_id, data=data)
    except IntegrityError:
        return session  # duplicate block after an agent retry
    if CarveBlock.objects.filter(session=session).count() == session.block_count:
        _carve_complete(session)
    return session


def carve_chunks(session: CarveSession) -> Iterator[bytes]:
    """The carved archive, block by block, in order."""
    ids = session.blocks.order_by("block_id").values_list("id", flat=True)
    for block_pk in ids.iterator():
        yield bytes(CarveBlock.objects.values_list("data", flat=True).get(pk=block_pk))


def _carve_complete(session: CarveSession) -> None:
    digest = hashlib.sha256()
    size = 0
    for chunk in carve_chunks(session):
        digest.update(chunk)
        size += len(chunk)
    session.sha256 = digest.hexdigest()
    session.completed_at = timezone.now()
    if size != session.carve_size:
        session.error = f"reassembled {size} bytes; the agent announced {session.carve_size}"
    CarveSession.objects.filter(pk=session.pk, completed_at__isnull=True).update(
        sha256=session.sha256, completed_at=session.completed_at, error=session.error
    )


EXPIRED = "expired: the archive was deleted after the retention period"


def carve_expire(now: datetime | None = None) -> int:
    """Delete the blocks of carves older than CARVE_RETENTION_DAYS; the session row stays, marked
    expired, so the audit trail remains. Returns how many carves were expired."""
    cutoff = (now or timezone.now()) - timedelta(days=fleet_setting("CARVE_RETENTION_DAYS"))
    old = list(CarveSession.objects.filter(created_at__lt=cutoff).exclude(error=EXPIRED).values_list("id", flat=True))
    for session_id in old:
        with transaction.atomic():
            CarveBlock.objects.filter(session_id=session_id).delete()
            CarveSession.objects.filter(pk=session_id).update(error=EXPIRED)
    return len(old)


def carve_downloadable(session: CarveSession) -> str | None:
    """Why the carve cannot be downloaded, or None when it can."""
    if session.error:
        return session.error
    if not session.completed_at:
        received = session.blocks.count()
        return f"carve is incomplete: {received} of {session.block_count} blocks received"
    return None
