/* Cervical length against gestational age, drawn with Chart.js into every
   <canvas class="cl-chart" data-chart="{...}">. The data comes from the data-chart attribute
   (JSON written by the server), because the content-security policy allows no inline script.

   data-chart: {
     "x": {"min": 14, "max": 30},                 gestational age axis, weeks
     "window": {"from": 16, "to": 24, "label": "16+0 to 24+0"},   shaded band
     "lines": [{"mm": 25, "label": "25 mm"}, ...],                 horizontal reference lines
     "series": [{"label": "Transvaginal", "method": "transvaginal",
                 "points": [{"x": 17.0, "y": 31, "text": "2026-01-24 (17+0): 31 mm, ..."}]}]
   }
   The same points are in a table beside the chart: a canvas is invisible to screen readers. */
(function () {
  "use strict";

  var INK = "#1b1f24";
  var GRID = "#d8dee4";
  var WINDOW_FILL = "rgba(29, 79, 145, 0.10)";
  // Each approach has its own colour and point shape: never colour alone.
  var STYLES = {
    transvaginal: { colour: "#1d4f91", point: "circle" },
    transabdominal: { colour: "#8a4b00", point: "triangle" },
    other: { colour: "#4a5560", point: "rect" }
  };
  var DASHES = [[8, 4], [2, 3], [12, 3, 2, 3]];

  // Shades the window (e.g. 16-24 weeks) behind the points, and names it at the top.
  var windowBand = {
    id: "cwWindow",
    beforeDatasetsDraw: function (chart, args, options) {
      if (!options || options.from == null) {
        return;
      }
      var x = chart.scales.x;
      var area = chart.chartArea;
      var left = Math.max(x.getPixelForValue(options.from), area.left);
      var right = Math.min(x.getPixelForValue(options.to), area.right);
      var ctx = chart.ctx;
      ctx.save();
      ctx.fillStyle = WINDOW_FILL;
      ctx.fillRect(left, area.top, right - left, area.bottom - area.top);
      if (options.label) {
        ctx.fillStyle = INK;
        ctx.font = "12px system-ui, sans-serif";
        ctx.textAlign = "center";
        ctx.textBaseline = "top";
        ctx.fillText(options.label, (left + right) / 2, area.top + 4);
      }
      ctx.restore();
    }
  };

  function draw(canvas) {
    var spec;
    try {
      spec = JSON.parse(canvas.getAttribute("data-chart"));
    } catch (error) {
      return;
    }
    var datasets = [];
    var highest = 0;
    (spec.series || []).forEach(function (series) {
      var style = STYLES[series.method] || STYLES.other;
      series.points.forEach(function (p) { highest = Math.max(highest, p.y); });
      datasets.push({
        label: series.label,
        data: series.points,
        showLine: true,
        borderColor: style.colour,
        backgroundColor: style.colour,
        pointStyle: style.point,
        pointRadius: 5,
        pointHoverRadius: 7,
        borderWidth: 2
      });
    });
    (spec.lines || []).forEach(function (line, i) {
      datasets.push({
        label: line.label,
        reference: true,
        data: [{ x: spec.x.min, y: line.mm }, { x: spec.x.max, y: line.mm }],
        showLine: true,
        borderColor: INK,
        borderDash: DASHES[i % DASHES.length],
        borderWidth: 1.5,
        pointStyle: "line",
        pointRadius: 0,
        pointHoverRadius: 0,
        pointHitRadius: 0
      });
    });
    var top = Math.max(50, Math.ceil((highest + 5) / 10) * 10);

    new window.Chart(canvas, {
      type: "scatter",
      data: { datasets: datasets },
      plugins: [windowBand],
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: {
          x: {
            type: "linear",
            min: spec.x.min,
            max: spec.x.max,
            title: { display: true, text: "Gestational age (weeks)", color: INK },
            ticks: { stepSize: 2, color: INK },
            grid: { color: GRID }
          },
          y: {
            min: 0,
            max: top,
            title: { display: true, text: "Cervical length (mm)", color: INK },
            ticks: { stepSize: 10, color: INK },
            grid: { color: GRID }
          }
        },
        plugins: {
          cwWindow: spec.window || {},
          legend: { labels: { color: INK, usePointStyle: true } },
          tooltip: {
            filter: function (item) { return !item.dataset.reference; },
            callbacks: {
              title: function () { return ""; },
              label: function (item) { return item.raw.text; }
            }
          }
        }
      }
    });
  }

  function drawAll() {
    if (typeof window.Chart !== "function") {
      return; // the table beside the chart still holds every point
    }
    var canvases = document.querySelectorAll("canvas.cl-chart[data-chart]");
    for (var i = 0; i < canvases.length; i++) {
      draw(canvases[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
