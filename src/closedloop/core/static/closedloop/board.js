/* The opportunity board: drag a card to another column to move the deal (htmx POST, the same
   endpoint as the card's keyboard buttons); a drop on Closed won / Closed lost opens the close
   form in a dialog. Without JavaScript the buttons and the "Close…" link do the same work. */
(function () {
  "use strict";
  var dragged = null;
  var focusAfterSwap = null;

  function board() { return document.getElementById("board"); }
  function column(el) { return el && el.closest ? el.closest(".board-column") : null; }

  function move(card, stage) {
    htmx.ajax("POST", card.dataset.moveUrl, {
      target: "#board",
      swap: "outerHTML",
      values: { stage: stage, version: card.dataset.version, from: "board", board: board().dataset.query || "" }
    });
  }

  function openClose(card, outcome) {
    var dialog = document.getElementById("close-dialog");
    var next = window.location.pathname + window.location.search;
    var url = card.dataset.closeUrl + "?outcome=" + encodeURIComponent(outcome) + "&next=" + encodeURIComponent(next);
    htmx.ajax("GET", url, { target: "#close-dialog-body", swap: "innerHTML" }).then(function () {
      if (!dialog.open) dialog.showModal();
      var note = dialog.querySelector("textarea[name=note]");
      if (note) note.focus();
    });
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".deal-card[data-can-move]");
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.opportunity);
    card.classList.add("dragging");
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    document.querySelectorAll(".board-column.drop-target").forEach(function (el) { el.classList.remove("drop-target"); });
  });

  document.addEventListener("dragover", function (event) {
    var target = column(event.target);
    if (!target || !dragged || target.dataset.stage === dragged.dataset.stage) return;
    event.preventDefault();  // allows the drop
    event.dataTransfer.dropEffect = "move";
    target.classList.add("drop-target");
  });

  document.addEventListener("dragleave", function (event) {
    var target = column(event.target);
    if (target && !target.contains(event.relatedTarget)) target.classList.remove("drop-target");
  });

  document.addEventListener("drop", function (event) {
    var target = column(event.target);
    if (!target || !dragged || target.dataset.stage === dragged.dataset.stage) return;
    event.preventDefault();
    var card = dragged;
    focusAfterSwap = { id: card.id, selector: "[data-card-link]" };
    if (target.dataset.closing) openClose(card, target.dataset.stage);
    else move(card, target.dataset.stage);
  });

  // A keyboard move replaces the board: put the focus back on the same control of the card.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var control = document.activeElement;
    var card = control && control.closest ? control.closest(".deal-card") : null;
    if (card && control.dataset.move) focusAfterSwap = { id: card.id, selector: "[data-move=" + control.dataset.move + "]" };
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    if (!focusAfterSwap || !event.detail.elt || event.detail.elt.id !== "board") return;
    var card = document.getElementById(focusAfterSwap.id);
    var control = card && (card.querySelector(focusAfterSwap.selector) || card.querySelector("[data-card-link]"));
    if (control) control.focus();
    focusAfterSwap = null;
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-dialog-cancel]")) {
      var dialog = document.getElementById("close-dialog");
      if (dialog) document.getElementById("close-dialog-body").innerHTML = "";
    }
  });
})();
