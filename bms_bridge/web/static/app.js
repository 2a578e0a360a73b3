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
    return Object.assign({ margin: { t: 30, r: 20, b: 50, l: 70 }, hovermode: "closest", height: 520 }, extra);
  }

  function seriesTrace(data) {
    return [{ x: data.times, y: data.values, type: "scatter", mode: "lines", name: data.point.id,
              line: { width: 1 }, hovertemplate: "%{x}<br>%{y} " + data.unit + "<extra></extra>" }];
  }

  // One subplot per resource: kWh and m³ never share an axis.
  function perResource(groups, makeTrace) {
    const traces = [];
    const lay = layout({ grid: { rows: Math.max(groups.length, 1), columns: 1, pattern: "independent" },
                         showlegend: false, height: Math.max(360, 300 * groups.length) });
    groups.forEach((group, i) => {
      const suffix = i === 0 ? "" : String(i + 1);
      traces.push(Object.assign(makeTrace(group), { xaxis: "x" + suffix, yaxis: "y" + suffix }));
      lay["yaxis" + suffix] = { title: { text: group.resource + " (" + group.unit + ")" } };
    });
    return [traces, lay];
  }

  function comparisonChart(data) {
    return perResource(data.comparisons, (c) => ({
      type: "bar",
      x: c.periods.map((p) => p.period + " (" + p.compared_as + (p.to_date ? ", to date" : "") + ")"),
      y: c.periods.map((p) => p.value),
      text: c.periods.map((p) => p.value === null ? "no data" : p.value.toFixed(1) + " " + c.unit),
      textposition: "auto",
      marker: { color: ["#1d3557", "#7a9cc6", "#b8c4d6"] },
    }));
  }

  function breakdownChart(data) {
    const groups = {};
    data.lines.forEach((line) => {
      const key = line.point.resource;
      groups[key] = groups[key] || { resource: key, unit: line.unit, lines: [] };
      groups[key].lines.push(line);
    });
    return perResource(Object.values(groups), (g) => ({
      type: "bar",
      x: g.lines.map((l) => l.point.name || l.point.id),
      y: g.lines.map((l) => l.value),
      text: g.lines.map((l) => (l.value === null ? "no data" : l.value.toFixed(1) + " " + g.unit) +
                                (l.share_percent < 100 ? " (" + l.share_percent + " %)" : "")),
      textposition: "auto",
    }));
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
    } else if (kind === "evidence") {
      const keys = [...new Set(data.evidence.flatMap((s) => Object.keys(s.values)))].sort();
      traces = keys.map((key) => ({
        x: data.evidence.map((s) => s.time), y: data.evidence.map((s) => (key in s.values ? s.values[key] : null)),
        type: "scatter", mode: "lines+markers", name: key,
      }));
      lay = layout({ xaxis: { type: "date" }, yaxis: { title: { text: "value (units as stored)" } }, showlegend: true });
    } else if (kind === "peers") {
      const shown = data.figures.filter((f) => f.per_m2 !== null);
      traces = [{
        type: "bar",
        x: shown.map((f, i) => f.own ? (f.name || f.tenant) : (f.name || "similar tenant " + (i + 1))),
        y: shown.map((f) => f.per_m2),
        marker: { color: shown.map((f) => (f.own ? "#e63946" : "#a8b6c8")) },
        text: shown.map((f) => f.per_m2.toFixed(2) + " " + data.unit),
        textposition: "auto",
      }];
      lay = layout({ yaxis: { title: { text: data.resource + " (" + data.unit + ")" } } });
      status.textContent = data.withheld ? "Fewer than three similar tenants: only your own figure is shown." :
        (data.use ? shown.length + " tenants with " + data.use + " spaces" : "No lease in force in " + data.month);
    } else if (kind === "compare" || kind === "breakdown") {
      [traces, lay] = kind === "compare" ? comparisonChart(data) : breakdownChart(data);
    } else {
      traces = [{ z: data.values, x: data.hours.map((h) => String(h).padStart(2, "0") + ":00"), y: data.days,
                  type: "heatmap", colorscale: "YlOrRd", reversescale: true, colorbar: { title: { text: data.unit } },
                  hovertemplate: "%{y} %{x}<br>%{z} " + data.unit + "<extra></extra>" }];
      lay = layout({ yaxis: { autorange: "reversed", type: "category" }, xaxis: { title: { text: "hour" } } });
    }
    await Plotly.newPlot(el, traces, lay, { responsive: true, displaylogo: false });
    if (kind !== "peers") status.textContent = describe(data);
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
