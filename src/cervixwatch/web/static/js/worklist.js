/* The worklist's two bits of script (a static file: the content-security policy allows no
   inline script). "Print handover list" opens the browser's print dialog (the print
   stylesheet makes it an A4 list); after "Next page" or "Previous page" the keyboard focus
   goes to the count line at the top of the list, where the page scrolled to, instead of
   being lost with the link that was replaced. A live refresh that arrives while a filter,
   sort or page request is in flight is dropped (hx-sync in worklist_rows.html, so an answer
   for the old filters cannot land after the new one); it is asked for again, with the new
   filters, once that request's results are in, so no report is missed. */
(function () {
  "use strict";

  var print = document.getElementById("worklist-print");
  if (print) {
    print.addEventListener("click", function () {
      window.print();
    });
  }

  var results = document.querySelector(".worklist-results");
  var busy = false;
  var missed = false;
  function aboutResults(event) {
    return results && event.detail && event.detail.target === results;
  }
  document.addEventListener("htmx:beforeSend", function (event) {
    if (aboutResults(event)) busy = true;
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (aboutResults(event)) busy = false;
  });
  // Capture: seen before the refresh element's own handler asks for the results.
  document.addEventListener("sse:worklist", function () {
    if (busy) missed = true;
  }, true);
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!aboutResults(event) || busy || !missed) return;
    missed = false;
    var refresh = results.querySelector(".worklist-refresh");
    if (refresh) htmx.trigger(refresh, "sse:worklist");
  });

  // The event stream failed (the sign-in idled out and the reconnection was refused, or the
  // network dropped): ask for the results once, as a refresh. Signed out, the answer sends
  // the whole window to the sign-in page, so a list no longer kept live does not stay on an
  // unattended screen; otherwise the list is brought up to date while the stream retries.
  document.addEventListener("htmx:sseError", function () {
    var refresh = results && results.querySelector(".worklist-refresh");
    if (refresh && !busy) htmx.trigger(refresh, "sse:worklist");
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var from = event.detail && event.detail.requestConfig && event.detail.requestConfig.elt;
    if (from && from.closest && from.closest(".pager")) {
      var count = document.getElementById("worklist-count");
      if (count) {
        count.setAttribute("tabindex", "-1");
        count.focus();
      }
    }
  });
})();
