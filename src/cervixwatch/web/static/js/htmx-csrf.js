/* Sends the sign-in's CSRF token with every htmx request, as the X-CSRF-Token header.
   The token comes from a data-csrf-token attribute on <body>, or else from
   <meta name="csrf-token" content="...">. A static file, because the content-security policy
   allows no inline script. htmx only sends requests to this app (selfRequestsOnly), so the
   token never leaves it. */
(function () {
  "use strict";

  function token() {
    var fromBody = document.body && document.body.getAttribute("data-csrf-token");
    if (fromBody) {
      return fromBody;
    }
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : null;
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var value = token();
    if (value) {
      event.detail.headers["X-CSRF-Token"] = value;
    }
  });
})();
