"""Webhook pages of one agent: the endpoints, one endpoint with its delivery log, and redelivery."""

from __future__ import annotations

from django.urls import path

from behavior.views import webhooks

urlpatterns = [
    path("agents/<int:agent_id>/webhooks/", webhooks.webhook_list_view, name="webhook-list"),
    path("agents/<int:agent_id>/webhooks/new/", webhooks.webhook_create_view, name="webhook-create"),
    path("agents/<int:agent_id>/webhooks/<int:endpoint_id>/", webhooks.webhook_detail_view, name="webhook-detail"),
    path(
        "agents/<int:agent_id>/webhooks/<int:endpoint_id>/update/",
        webhooks.webhook_update_view,
        name="webhook-update",
    ),
    path(
        "agents/<int:agent_id>/webhooks/<int:endpoint_id>/delete/",
        webhooks.webhook_delete_view,
        name="webhook-delete",
    ),
    path(
        "agents/<int:agent_id>/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver/",
        webhooks.webhook_redeliver_view,
        name="webhook-redeliver",
    ),
]
