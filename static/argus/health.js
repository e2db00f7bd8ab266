// Keeps the home page's component cards current by polling the platform health endpoint.
(function () {
  const section = document.getElementById("health");
  if (!section) return;
  async function refresh() {
    let body;
    try {
      const response = await fetch(section.dataset.url, { headers: { Accept: "application/json" } });
      body = await response.json();
    } catch (err) {
      body = null;
    }
    section.querySelectorAll(".card").forEach((card) => {
      const service = body && body.services ? body.services[card.dataset.component] : null;
      const status = card.querySelector('[data-role="status"]');
      const detail = card.querySelector('[data-role="detail"]');
      const state = service ? service.status : "unreachable";
      status.textContent = state;
      status.className = "value badge " + (state === "healthy" ? "green" : "red");
      detail.textContent = service ? (service.error || service.responseTime + " ms") : "platform did not answer";
    });
    const stamp = document.getElementById("health-time");
    if (stamp && body) stamp.replaceChildren(ArgusLive.timeElement(body.timestamp));
  }
  setInterval(refresh, 15000);
})();
