/* Draws every <canvas data-chart="ID"> with Chart.js, ID naming a json_script element that holds
   the chart's `data` object. Options on the canvas: data-chart-type (default "bar"),
   data-chart-stacked ("true" stacks both axes). Data arrive through json_script, never as
   JavaScript built from strings, so nothing a user typed can become code. */
(function () {
  "use strict";
  var palette = ["#2f5fd0", "#16a394", "#e0a100", "#d9534f", "#7b61c9", "#4aa3df",
                 "#8a9a5b", "#e67e22", "#5b6576", "#c2185b", "#00897b", "#9e9d24"];

  function draw(canvas) {
    if (!window.Chart || Chart.getChart(canvas)) return;
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    var data = JSON.parse(source.textContent);
    data.datasets.forEach(function (set, i) {
      set.backgroundColor = set.backgroundColor || palette[i % palette.length];
      set.borderWidth = 0;
    });
    var stacked = canvas.dataset.chartStacked === "true";
    new Chart(canvas, {
      type: canvas.dataset.chartType || "bar",
      data: data,
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
        scales: {
          x: { stacked: stacked, grid: { display: false } },
          y: { stacked: stacked, beginAtZero: true, ticks: { precision: 0 } }
        }
      }
    });
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  // Charts inside content that htmx swaps in.
  document.addEventListener("htmx:load", function (event) { drawAll(event.target); });
})();
