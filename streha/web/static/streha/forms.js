/* Streha forms: the GOV.UK error summary pattern. When a page (or an htmx swap) brings a form
   back with errors, the summary at its top takes the focus, so a screen-reader user hears what
   is wrong, and the page title starts with "Error:". Its links move the focus to the field. */
(function () {
  "use strict";

  function prefixOf(summary) {
    return summary.getAttribute("data-title-prefix") + " ";
  }

  function showNewSummary() {
    var summary = document.querySelector("[data-error-summary]:not([data-shown])");
    var any = document.querySelector("[data-error-summary]");
    if (!any) {
      // A swap replaced the form that had errors: the title no longer says "Error:".
      var old = document.documentElement.getAttribute("data-title-prefix");
      if (old && document.title.indexOf(old) === 0) document.title = document.title.slice(old.length);
      return;
    }
    if (!summary) return;
    summary.setAttribute("data-shown", "");
    var prefix = prefixOf(summary);
    document.documentElement.setAttribute("data-title-prefix", prefix);
    if (document.title.indexOf(prefix) !== 0) document.title = prefix + document.title;
    summary.focus();
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-error-summary] a[href^='#']");
    if (!link) return;
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) return;
    event.preventDefault();
    field.focus();
    var label = document.querySelector("label[for='" + field.id + "']");
    (label || field).scrollIntoView();
  });
  document.addEventListener("DOMContentLoaded", showNewSummary);
  document.addEventListener("htmx:afterSettle", showNewSummary);
})();
