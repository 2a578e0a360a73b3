// Draws the chart of a chart page from the API endpoint named in data-url (same data as the CSV).
// Load graphs re-fetch the zoomed range, so a year's overview and a day's detail both stay sharp.
(function () {
  "use strict";
  const el = document.getElementById("chart");
  if (!el) return;
  const status = document.getElementById("chart-status");
  const kind = el.dataset.kind;
  const baseUrl = new URL(el.dataset.url, window.location.href);

  async function fetchJson(url) {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) throw new Error((await response.json()).error || response.statusText);
    return response.json();
  }

  function layout(extra) {
    return Object.assign({ margin: { t: 30, r: 20, b: 50, l: 70 }, hovermode: "closest" }, extra);
  }

  function seriesTrace(data) {
    return [{ x: data.times, y: data.values, type: "scatter", mode: "lines", name: data.point.id,
              line: { width: 1 }, hovertemplate: "%{x}<br>%{y} " + data.unit + "<extra></extra>" }];
  }

  function describe(data) {
    if (kind !== "load") return "";
    return data.stored + " values stored" + (data.downsampled ? ", shown as " + data.values.length +
      " (minimum and maximum of each time bucket)" : "");
  }

  async function draw() {
    const data = await fetchJson(baseUrl);
    let traces, lay;
    if (kind === "load") {
      traces = seriesTrace(data);
      lay = layout({ yaxis: { title: { text: data.unit } }, xaxis: { type: "date" } });
    } else if (kind === "profile") {
      traces = [
        { x: data.slots, y: data.working_day, type: "scatter", mode: "lines", name: "working day (" + data.working_days + " days)" },
        { x: data.slots, y: data.weekend_holiday, type: "scatter", mode: "lines", name: "weekend / holiday (" + data.weekend_holiday_days + " days)" },
      ];
      lay = layout({ yaxis: { title: { text: "average " + data.unit } }, xaxis: { title: { text: "time of day" } } });
    } else {
      traces = [{ z: data.values, x: data.hours.map((h) => String(h).padStart(2, "0") + ":00"), y: data.days,
                  type: "heatmap", colorscale: "YlOrRd", reversescale: true, colorbar: { title: { text: data.unit } },
                  hovertemplate: "%{y} %{x}<br>%{z} " + data.unit + "<extra></extra>" }];
      lay = layout({ yaxis: { autorange: "reversed", type: "category" }, xaxis: { title: { text: "hour" } } });
    }
    await Plotly.newPlot(el, traces, lay, { responsive: true, displaylogo: false });
    status.textContent = describe(data);
    if (kind === "load") {
      el.on("plotly_relayout", async (change) => {
        const url = new URL(baseUrl);
        const range = change["xaxis.range"] || [change["xaxis.range[0]"], change["xaxis.range[1]"]];
        if (range[0] && range[1]) {
          // plotly gives the wall-clock time shown on the axis, which is site time: sent without offset
          url.searchParams.set("from", String(range[0]).replace(" ", "T").slice(0, 19));
          url.searchParams.set("to", String(range[1]).replace(" ", "T").slice(0, 19));
        } else if (!change["xaxis.autorange"]) {
          return;
        }
        const zoomed = await fetchJson(url);
        await Plotly.react(el, seriesTrace(zoomed), el.layout);
        status.textContent = describe(zoomed);
        el.dataset.shown = url.searchParams.get("from") + "/" + url.searchParams.get("to");
      });
    }
    el.dataset.rendered = "true";
  }

  draw().catch((error) => { status.textContent = "Could not draw the chart: " + error.message; });
})();
