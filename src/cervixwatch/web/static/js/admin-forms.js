// The admin and audit pages: when a form comes back refused, the focus goes to the summary
// of its problems (each links to its field), so a keyboard or screen-reader user hears them
// first. The pages work without it.
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
