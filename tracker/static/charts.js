// Draws every figure on the page from its data-figure JSON (see tracker/charts.py).
document.querySelectorAll("[data-figure]").forEach(function (element) {
  var figure = JSON.parse(element.dataset.figure);
  var config = JSON.parse(element.dataset.config || "{}");
  Plotly.newPlot(element, figure.data, figure.layout, config);
});
