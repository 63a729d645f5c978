// The record forms (templates/record_form.html): shows the gestational age of each date as it
// is typed ("22+3 weeks on that day"), from the EDD in the form's data-edd, by the same dating
// as the server (GA = 280 days minus the days to the EDD; the pregnancy runs from 0+0 to EDD
// plus 42 days); and puts the focus on the summary of errors (or of values to check) when a
// form comes back refused.
// The forms work without it: the server shows the same words for the dates it was sent.
(function () {
  "use strict";
  var DAY_MS = 86400000;
  var LAST_DAY = 280 + 42;

  function utcDay(text) {
    var match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || "");
    if (!match) return null;
    var year = Number(match[1]), month = Number(match[2]) - 1, day = Number(match[3]);
    var time = Date.UTC(year, month, day);
    var date = new Date(time);
    if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month) return null;
    return time;
  }

  function gestationWords(edd, text) {
    var due = utcDay(edd), day = utcDay(text);
    if (due === null || day === null) return "";
    var days = 280 - Math.round((due - day) / DAY_MS);
    if (days < 0 || days > LAST_DAY) return "That day is outside this pregnancy.";
    return Math.floor(days / 7) + "+" + (days % 7) + " weeks on that day";
  }

  var forms = document.querySelectorAll("form[data-edd]");
  Array.prototype.forEach.call(forms, function (form) {
    var edd = form.getAttribute("data-edd");
    if (!edd) return;
    var dates = form.querySelectorAll("input[type=date][data-ga]");
    Array.prototype.forEach.call(dates, function (input) {
      var output = document.getElementById(input.getAttribute("data-ga"));
      if (!output) return;
      var update = function () { output.textContent = gestationWords(edd, input.value); };
      input.addEventListener("input", update);
      input.addEventListener("change", update);
      update();
    });
  });

  // Errors first; else the values to check (a plausibility warning to confirm).
  var summary = document.getElementById("error-summary") || document.getElementById("warnings");
  if (summary) summary.focus();
})();
