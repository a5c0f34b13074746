"""The Celery app. Tasks are discovered in each app's tasks.py; the broker is REDIS_URL."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("decorum")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
