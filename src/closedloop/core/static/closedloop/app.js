/* closedloop's own page behaviour. The Content-Security-Policy allows scripts and styles from
   this site's files only, so nothing lives in inline <script>, <style> or style="…". */
(function () {
  "use strict";
  if (window.htmx) {
    // htmx would otherwise add a <style> element (blocked by the policy) and evaluate hx-vars.
    htmx.config.includeIndicatorStyles = false;
    htmx.config.allowEval = false;
  }

  // <span class="bar"><i data-width="40"></i></span>: a meter whose width comes from the data.
  function sizeBars(root) {
    root.querySelectorAll("[data-width]").forEach(function (bar) {
      var percent = Math.max(0, Math.min(100, parseFloat(bar.dataset.width) || 0));
      bar.style.width = percent + "%";
    });
  }

  document.addEventListener("DOMContentLoaded", function () { sizeBars(document); });
  document.addEventListener("htmx:load", function (event) { sizeBars(event.detail.elt); });
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
  });
})();
