"""The school–family portal: project package and the people app."""

from portal.celery import app as celery_app

__all__ = ("celery_app",)
