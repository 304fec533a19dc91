import hashlib
import secrets

from django.db import models
from django.utils import timezone


def hash_token(token: str) -> str:
    """Node keys are stored as SHA-256 digests: a database dump does not reveal them, and looking
    a key up by its digest leaks nothing through timing about the stored keys."""
    return hashlib.sha256(token.encode()).hexdigest()


class EnrollSecret(models.Model):
    """A shared secret agents present to enroll. Several can be active; revoking one stops new
    enrolls with it but leaves already-enrolled hosts alone."""

    name = models.CharField(max_length=255, unique=True, help_text="Shown to operators, e.g. 'laptops'.")
    secret = models.CharField(max_length=255, unique=True)
    is_active = models.BooleanField(default=True)
    team = models.CharField(max_length=255, blank=True, help_text="Forwarded with every event.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def generate() -> str:
        return secrets.token_urlsafe(24)


class Platform(models.TextChoices):
    DARWIN = "darwin", "macOS"
    LINUX = "linux", "Linux"
    WINDOWS = "windows", "Windows"
    OTHER = "other", "Other"


class Host(models.Model):
    node_key_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    enroll_secret = models.ForeignKey(EnrollSecret, null=True, blank=True, on_delete=models.SET_NULL)

    host_identifier = models.CharField(max_length=255, db_index=True)
    uuid = models.CharField(max_length=255, blank=True, db_index=True)
    hostname = models.CharField(max_length=255, blank=True, db_index=True)
    computer_name = models.CharField(max_length=255, blank=True)
    hardware_serial = models.CharField(max_length=255, blank=True, db_index=True)
    hardware_vendor = models.CharField(max_length=255, blank=True)
    hardware_model = models.CharField(max_length=255, blank=True)
    os_name = models.CharField(max_length=255, blank=True)
    os_version = models.CharField(max_length=255, blank=True)
    os_build = models.CharField(max_length=255, blank=True)
    platform = models.CharField(max_length=32, choices=Platform.choices, default=Platform.OTHER)
    platform_like = models.CharField(max_length=255, blank=True)
    platform_type = models.PositiveIntegerField(
        default=0, help_text="osquery build bitmask: 21 macOS, 9 Linux, 2 Windows."
    )
    osquery_version = models.CharField(max_length=64, blank=True)
    primary_ip = models.CharField(max_length=64, blank=True, db_index=True)
    primary_mac = models.CharField(max_length=64, blank=True)

    enrolled_at = models.DateTimeField(default=timezone.now)
    last_enrolled_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Hash of the config last served and the one the agent says it runs (osquery_info.config_hash).
    config_hash_served = models.CharField(max_length=40, blank=True)
    config_hash_reported = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["hostname", "id"]

    def __str__(self) -> str:
        return self.hostname or self.host_identifier

    def set_new_node_key(self) -> str:
        key = secrets.token_urlsafe(32)
        self.node_key_hash = hash_token(key)
        return key


# Inventory models live in their own package; importing them here registers them with the app.
from .inventory.models import HostDetails, HostInterface, HostQueryStat, HostSoftware, HostUser  # noqa: E402

__all__ = ["Host", "EnrollSecret", "HostDetails", "HostInterface", "HostQueryStat", "HostSoftware", "HostUser"]
