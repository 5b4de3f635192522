// Draws the charts of a static dashboard page that came without a still image
// (cxlab.dashboards.static_page): each .cx-plot holds its figure as a JSON data block.
// Loaded after plotly.min.js, both from the dashboard server: the page's policy allows
// scripts from it only, and none inline.
document.querySelectorAll(".cx-plot").forEach((box) => {
  const figure = JSON.parse(box.querySelector("script[type='application/json']").textContent);
  const layout = Object.assign({ height: 360 }, figure.layout || {});
  window.Plotly.newPlot(box, figure.data || [], layout, figure.config || {});
});
