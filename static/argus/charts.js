// The dashboard's one way to draw a chart: a bar chart with the vendored Chart.js (static/vendor/chart.js),
// from the data accounts/charts.py describes: {labels, series: [{label, colour, values}], labelTitle,
// valueTitle, horizontal}. Every <canvas data-chart> (templates/accounts/_chart.html) is drawn on load from
// the json_script beside it; a page that reads its figures from the API draws with
// ArgusCharts.draw(canvas, data), and again to update.
// Text is the page's (its font, 12 px like its hints), colours are the stylesheet's, so themes apply.
window.ArgusCharts = (function () {
  if (!window.Chart) return null;
  const ROW_HEIGHT = 28; // per bar of a horizontal chart
  const AXIS_HEIGHT = 56; // below a horizontal chart's bars: the value axis and its title
  const LEGEND_HEIGHT = 32;
  const LABEL_CHARACTERS = 40; // longer labels are shortened on the axis; the tooltip has them whole

  const styles = () => getComputedStyle(document.documentElement);
  const colour = (name) => styles().getPropertyValue(`--${name}`).trim() || name;

  function shortened(text) {
    const label = String(text);
    return label.length > LABEL_CHARACTERS ? label.slice(0, LABEL_CHARACTERS - 1) + "…" : label;
  }

  function title(text) {
    return { display: Boolean(text), text, font: { size: 12 } };
  }

  function options(data) {
    const stacked = data.series.length > 1;
    const labelAxis = {
      stacked,
      // A horizontal chart of a row or two is shorter than its turned title ("Department" would be cut to
      // "Departme"): there the section's heading names the rows instead.
      title: title(data.horizontal && data.labels.length < 4 ? "" : data.labelTitle),
      grid: { display: false },
      ticks: {
        // Labels never run into each other: along the bottom some are left out when there is no room (none
        // is slanted); a horizontal chart is made tall enough for every row's label.
        autoSkip: !data.horizontal,
        autoSkipPadding: 12,
        maxRotation: 0,
        callback(value) {
          return shortened(this.getLabelForValue(value));
        },
      },
    };
    const valueAxis = {
      stacked,
      beginAtZero: true,
      title: title(data.valueTitle),
      grid: { color: colour("line") },
      ticks: { precision: 0 }, // counts: whole numbers only
    };
    return {
      indexAxis: data.horizontal ? "y" : "x",
      maintainAspectRatio: false,
      animation: false,
      scales: data.horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis },
      plugins: {
        legend: { display: stacked, position: "bottom", labels: { boxWidth: 12, boxHeight: 12 } },
        tooltip: { mode: "index", intersect: false },
      },
    };
  }

  function datasets(data) {
    return data.series.map((series) => ({
      label: series.label,
      data: series.values,
      backgroundColor: colour(series.colour),
      hoverBackgroundColor: colour("accent"),
      barPercentage: 0.9,
      categoryPercentage: 0.9,
    }));
  }

  function draw(canvas, data) {
    if (data.horizontal) {
      const legend = data.series.length > 1 ? LEGEND_HEIGHT : 0;
      canvas.parentElement.style.height = `${data.labels.length * ROW_HEIGHT + AXIS_HEIGHT + legend}px`;
    }
    const existing = Chart.getChart(canvas);
    if (existing) {
      existing.data.labels = data.labels;
      existing.data.datasets = datasets(data);
      existing.options = options(data);
      existing.update();
      return existing;
    }
    return new Chart(canvas, { type: "bar", data: { labels: data.labels, datasets: datasets(data) }, options: options(data) });
  }

  const body = getComputedStyle(document.body);
  Chart.defaults.font.family = body.fontFamily;
  Chart.defaults.font.size = 12;
  Chart.defaults.color = colour("muted");
  Chart.defaults.borderColor = colour("line");

  document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    const source = canvas.parentElement.querySelector('script[type="application/json"]');
    if (source) draw(canvas, JSON.parse(source.textContent));
  });
  return { draw };
})();
