// Starts Swagger UI on /docs. It is a file of its own, not a script inside the page, because
// the Content-Security-Policy lets scripts come only from the app's own files.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl || "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // The public validator would be sent our API's description, and the policy blocks its
    // badge anyway.
    validatorUrl: null,
  });
})();
