// Draws every figure on the page from its data-figure JSON (see
// tracker/reporting/charts/). Loaded with defer after plotly.js, so it runs
// once the page is parsed; it waits for the first frame, so the tables and
// sentences are painted before any chart, then draws one chart per task.
// Each chart gets data-drawn="true" once plotly has drawn it; the page gets
// data-charts-drawn="true" and the performance mark "charts-drawn" once all
// are, each chart the mark "chart-drawn <id>" (the browser tests and
// `python -m bench` read them).
(function () {
  "use strict";
  var elements = Array.prototype.slice.call(
    document.querySelectorAll("[data-figure]")
  );
  if (!elements.length || typeof Plotly === "undefined") {
    return;
  }

  function draw(element) {
    // The chart's layout kept apart from the page's: plotly measures as it
    // draws, and each measurement would otherwise lay out the whole page.
    element.style.contain = "layout";
    var figure = JSON.parse(element.dataset.figure);
    var config = JSON.parse(element.dataset.config || "{}");
    return Promise.resolve(
      Plotly.newPlot(element, figure.data, figure.layout, config)
    ).then(
      function () {
        element.dataset.drawn = "true";
        performance.mark("chart-drawn " + element.id);
      },
      function () {
        element.dataset.drawn = "failed";
      }
    );
  }

  function drawFrom(index) {
    if (index === elements.length) {
      performance.mark("charts-drawn");
      document.documentElement.dataset.chartsDrawn = "true";
      return;
    }
    draw(elements[index]).then(function () {
      setTimeout(drawFrom, 0, index + 1);
    });
  }

  performance.mark("charts-start");
  requestAnimationFrame(function () {
    setTimeout(drawFrom, 0, 0);
  });
})();
