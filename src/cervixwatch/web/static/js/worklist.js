/* The worklist's two bits of script (a static file: the content-security policy allows no
   inline script). "Print handover list" opens the browser's print dialog (the print
   stylesheet makes it an A4 list); after "Next page" or "Previous page" the keyboard focus
   goes to the count line at the top of the list, where the page scrolled to, instead of
   being lost with the link that was replaced. */
(function () {
  "use strict";

  var print = document.getElementById("worklist-print");
  if (print) {
    print.addEventListener("click", function () {
      window.print();
    });
  }

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
