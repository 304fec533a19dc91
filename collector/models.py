from django.db import models
from django.utils import timezone

from hosts.models import Host


class LogBatch(models.Model):
    """One logger POST, stored as received before the agent is told it was accepted.

    `payload` is the zlib-compressed JSON array of the request's `data` lines. Keeping the batch
    whole makes intake one INSERT whatever the number of lines; forwarding and reports parse it
    later in Celery.
    """

    class LogType(models.TextChoices):
        RESULT = "result"
        STATUS = "status"

    # No cascade: deleting a host must not delete logs it already sent.
    host = models.ForeignKey(Host, null=True, on_delete=models.SET_NULL, db_constraint=False)
    host_identifier = models.CharField(max_length=255)
    log_type = models.CharField(max_length=8, choices=LogType.choices)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    line_count = models.PositiveIntegerField()
    payload = models.BinaryField()
    processed_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        verbose_name_plural = "log batches"


class CarveSession(models.Model):
    host = models.ForeignKey(Host, null=True, on_delete=models.SET_NULL)
    session_id = models.CharField(max_length=64, unique=True)
    carve_id = models.CharField(max_length=64, db_index=True)
    request_id = models.CharField(max_length=64, db_index=True)
    block_count = models.PositiveIntegerField()
    block_size = models.PositiveIntegerField()
    carve_size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Carve {self.carve_id}"


class CarveBlock(models.Model):
    session = models.ForeignKey(CarveSession, on_delete=models.CASCADE, related_name="blocks")
    block_id = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "block_id"], name="unique_carve_block")]
