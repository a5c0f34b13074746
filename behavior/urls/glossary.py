"""Glossary pages of an agent: the terms, a new term, one term, editing and deleting it."""

from __future__ import annotations

from django.urls import path

from behavior.views import glossary

urlpatterns = [
    path("agents/<int:agent_id>/glossary/", glossary.glossary_list, name="glossary-list"),
    path("agents/<int:agent_id>/glossary/new/", glossary.glossary_create, name="glossary-create"),
    path("agents/<int:agent_id>/glossary/<int:term_id>/", glossary.glossary_detail, name="glossary-detail"),
    path("agents/<int:agent_id>/glossary/<int:term_id>/edit/", glossary.glossary_update, name="glossary-update"),
    path("agents/<int:agent_id>/glossary/<int:term_id>/delete/", glossary.glossary_delete, name="glossary-delete"),
]
