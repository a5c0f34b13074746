"""The website widget's pages of one agent: the page itself (snippet, origins, switches, secret), enabling it,
saving its settings, rotating the public key or the identity secret, and revealing the secret."""

from __future__ import annotations

from django.urls import path

from behavior.views import widget

urlpatterns = [
    path("agents/<int:agent_id>/widget/", widget.widget_detail_view, name="widget-detail"),
    path("agents/<int:agent_id>/widget/enable/", widget.widget_create_view, name="widget-create"),
    path("agents/<int:agent_id>/widget/settings/", widget.widget_update_view, name="widget-update"),
    path("agents/<int:agent_id>/widget/rotate-key/", widget.widget_key_rotate_view, name="widget-key-rotate"),
    path("agents/<int:agent_id>/widget/rotate-secret/", widget.widget_secret_rotate_view, name="widget-secret-rotate"),
    path("agents/<int:agent_id>/widget/secret/", widget.widget_secret_reveal_view, name="widget-secret-reveal"),
]
