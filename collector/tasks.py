from celery import shared_task

from .services.carves import carve_expire


@shared_task(ignore_result=True)
def carve_expire_task() -> int:
    """Delete carved archives older than CARVE_RETENTION_DAYS."""
    return carve_expire()
