// The system page: metrics, services and banners re-read every 10 s from the JSON API (with a Bearer token
// from the page's token endpoint), redrawn in the markup the server rendered first.
(function () {
  const section = document.getElementById("system");
  if (!section) return;
  const badges = JSON.parse(document.getElementById("service-badges").textContent);
  const cards = document.getElementById("metric-cards");
  const services = document.getElementById("services").tBodies[0];
  const stamp = document.getElementById("system-updated");
  const banners = document.getElementById("banners");

  function el(tag, className, text) {
    const element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined) element.textContent = text;
    return element;
  }
  // As the server renders them (floatformat:"-2"): two decimals, none for whole numbers.
  const number = (value) => (Number.isInteger(value) ? String(value) : value.toFixed(2));

  function drawMetrics(metrics) {
    if (!metrics.length) return; // keep the "not collected yet" hint
    const groups = new Map();
    // Labels in natural order, as the server renders them: "Load average (5 min)" before "(15 min)".
    const byLabel = (a, b) => a.label.localeCompare(b.label, undefined, { numeric: true });
    metrics.forEach((metric) => {
      if (!groups.has(metric.category)) groups.set(metric.category, []);
      groups.get(metric.category).push(metric);
    });
    const drawn = [];
    groups.forEach((items, category) => {
      items.sort(byLabel);
      const card = el("div", "card");
      card.dataset.category = category;
      card.append(el("div", "label", category));
      items.forEach((metric) => {
        const row = el("div", "metric");
        const line = el("div", "metric-row");
        const value = el("span", "metric-value", number(metric.value));
        if (metric.limit && metric.unit !== "%") value.append(" ", el("span", "hint", `/ ${number(metric.limit)}`));
        value.append(" " + metric.unit);
        line.append(el("span", "", metric.label), value);
        row.append(line);
        if (metric.limit) {
          const bar = el("div", "bar");
          const fill = el("span");
          fill.style.width = Math.min(100, Math.round((metric.value / metric.limit) * 100)) + "%";
          bar.append(fill);
          row.append(bar);
        }
        card.append(row);
      });
      drawn.push(card);
    });
    cards.replaceChildren(...drawn);
  }

  function drawServices(rows) {
    services.replaceChildren(
      ...rows.map((service) => {
        const row = el("tr");
        row.dataset.serviceId = service.id;
        const status = el("td");
        status.append(el("span", "badge " + (badges[service.status] || ""), service.status));
        const checked = el("td");
        if (service.lastChecked) checked.append(ArgusLive.timeElement(service.lastChecked));
        row.append(
          el("td", "", service.name), status, el("td", "", service.version || "—"),
          el("td", "", service.uptime || "—"), el("td", "hint", service.detail), checked,
        );
        return row;
      }),
    );
  }

  async function read(url) {
    const response = await ArgusLive.api(url);
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    return (await response.json()).data;
  }

  function drawBanners(items) {
    banners.replaceChildren(
      ...items.map((banner) => {
        const box = el("div", "banner " + banner.level);
        box.append(el("strong", "", banner.level.charAt(0).toUpperCase() + banner.level.slice(1)), " " + banner.message);
        if (banner.expiresAt) box.append(" ", el("span", "hint", "until " + ArgusLive.formatTime(banner.expiresAt).slice(0, 16)));
        return box;
      }),
    );
  }

  async function refresh() {
    try {
      const [metrics, rows, current] = await Promise.all(
        [section.dataset.metricsUrl, section.dataset.servicesUrl, section.dataset.bannersUrl].map(read),
      );
      drawMetrics(metrics);
      drawServices(rows);
      drawBanners(current);
      stamp.textContent = "updated " + ArgusLive.formatTime(new Date().toISOString());
      stamp.classList.remove("error");
    } catch (err) {
      stamp.textContent = "refresh failed: " + err.message;
      stamp.classList.add("error");
    }
  }
  setInterval(refresh, Number(section.dataset.refreshSeconds || 10) * 1000);
})();
