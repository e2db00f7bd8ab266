// The camera grid: status badges and "last seen" follow the camera-status channel without a reload,
// and Test/Snapshot buttons say they are busy while the server opens the stream.
(function () {
  const grid = document.getElementById("camera-grid");
  if (!grid) return;
  const badges = JSON.parse(document.getElementById("status-badges").textContent);

  function show(cameraId, status, lastSeen) {
    const tile = grid.querySelector(`[data-camera-id="${CSS.escape(cameraId)}"]`);
    if (!tile) return; // a camera added after this page loaded: it shows on the next load
    const badge = tile.querySelector('[data-role="status"]');
    const cell = tile.querySelector('[data-role="last-seen"]');
    const seen = cell.querySelector("time");
    const sameTime = seen && lastSeen && new Date(seen.dateTime).getTime() === new Date(lastSeen).getTime();
    if (badge.textContent === status && (!lastSeen || sameTime)) return;
    badge.textContent = status;
    badge.className = "badge " + (badges[status] || "");
    if (lastSeen) cell.replaceChildren(ArgusLive.timeElement(lastSeen));
    tile.classList.add("flash");
    setTimeout(() => tile.classList.remove("flash"), 1200);
  }

  async function resync() {
    // Changes published while the socket was down were missed: read every camera's state again.
    for (let page = 1, pages = 1; page <= pages; page += 1) {
      const response = await ArgusLive.api(`${grid.dataset.camerasUrl}?pageSize=200&page=${page}`);
      if (!response.ok) return;
      const body = await response.json();
      body.data.forEach((camera) => show(camera.id, camera.status, camera.lastSeen));
      pages = body.meta.totalPages;
    }
  }

  ArgusLive.connect({
    channels: ["camera-status"],
    onMessage(message) {
      if (message.type === "camera-status") show(message.cameraId, message.status, message.lastSeen);
    },
    onResync: resync,
  });

  grid.addEventListener("submit", (event) => {
    const button = event.target.querySelector("button[data-busy]");
    if (!button) return;
    // Disabled after the submit is under way, so the click still submits; no second click meanwhile.
    setTimeout(() => {
      button.disabled = true;
      button.textContent = button.dataset.busy;
    }, 0);
  });
})();
