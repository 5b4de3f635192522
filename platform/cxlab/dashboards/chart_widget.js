// One dashboard chart, drawn by plotly.js and updated in place (cxlab.dashboards.chart_widget).
// jupyterlab-plotly would create a new plot for every filter change, redraw it once
// more on its first resize, then render a PNG copy of it for the notebook file; here a
// change is one Plotly.react on the plot already on screen.

let loading = null;

function plotlyUrl() {
  // The dashboard server serves plotly.min.js beside Voila's routes (cxlab.dashboards.hook).
  const config = document.getElementById("jupyter-config-data");
  const base = config ? (JSON.parse(config.textContent).baseUrl || "/") : "/";
  return base.replace(/\/?$/, "/") + "voila/cxlab/plotly.min.js";
}

function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (loading === null) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = plotlyUrl();
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => { loading = null; reject(new Error("plotly.js did not load")); };
      document.head.appendChild(script);
    });
  }
  return loading;
}

function render({ model, el }) {
  const image = document.createElement("img");
  image.className = "plot-img";
  image.alt = "";  // the page's template gives it the chart's summary
  const plot = document.createElement("div");
  el.append(image, plot);
  let drawn = false;
  let draws = 0;
  let drawing = Promise.resolve();

  function draw() {
    const figure = model.get("figure");
    drawing = drawing.then(() => loadPlotly()).then((Plotly) => {
      const layout = Object.assign({ height: 360 }, figure.layout || {});
      return Plotly.react(plot, figure.data || [], layout, figure.config || {});
    }).then(() => {
      draws += 1;
      plot.dataset.draws = String(draws);  // what benchmarks/filter_timeline.py watches
      drawn = true;
      image.style.display = "none";
      plot.style.display = "block";
    }).catch((error) => console.error("cxlab chart:", error));
  }

  function show() {
    const still = model.get("image");
    if (!drawn && still) {
      // The sync's still image shows at once; plotly.js draws when the pointer comes.
      image.src = "data:image/png;base64," + still;
      image.style.display = "block";
      plot.style.display = "none";
      // Fetch and parse plotly.js once the page is idle, not on the first filter change
      // (4.8 MB: seconds on a loaded phone).
      const later = window.requestIdleCallback || ((call) => setTimeout(call, 2000));
      later(() => loadPlotly().catch(() => {}), { timeout: 5000 });
    } else {
      draw();
    }
  }

  el.addEventListener("mouseenter", () => { if (!drawn) draw(); });
  model.on("change:figure", show);
  show();
  return () => { if (window.Plotly) window.Plotly.purge(plot); };
}

export default { render };
