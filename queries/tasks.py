from celery import shared_task

from .live import campaign_expire_due


@shared_task(ignore_result=True)
def campaign_expire_task() -> int:
    """End campaigns past their deadline and stop handing them out."""
    return campaign_expire_due()
