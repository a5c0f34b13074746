"""The API's docs page (/api/docs): django-ninja's Swagger page, served with the Swagger UI vendored in
static/vendor/swagger-ui-<version>/ instead of ninja's CDN template, so it works offline and behind a firewall."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja.openapi.docs import Swagger, _csrf_needed

if TYPE_CHECKING:
    from ninja import NinjaAPI


class VendoredSwagger(Swagger):
    """Swagger UI from our static files; its settings travel as JSON (json_script) to static/api/swagger-init.js,
    so the page has no inline script."""

    template = "api/swagger.html"
    # validatorUrl: Swagger UI would send the description to validator.swagger.io for a badge; nothing leaves.
    default_settings = {**Swagger.default_settings, "validatorUrl": None}

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        swagger_settings = {**self.settings, "url": self.get_openapi_url(api, kwargs)}
        context = {"swagger_settings": swagger_settings, "api": api, "add_csrf": _csrf_needed(api)}
        return render(request, self.template, context)
