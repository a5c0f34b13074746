// Starts the vendored Swagger UI on /api/docs with the settings the page carries as JSON (no inline script).
(function () {
  "use strict";
  var body = document.body;
  var config = JSON.parse(document.getElementById("swagger-settings").textContent);
  config.dom_id = "#swagger-ui";
  config.presets = [SwaggerUIBundle.presets.apis];
  if (body.dataset.apiCsrf && body.dataset.csrfToken) {
    config.requestInterceptor = function (request) {
      request.headers["X-CSRFToken"] = body.dataset.csrfToken;
      return request;
    };
  }
  window.ui = SwaggerUIBundle(config);
})();
