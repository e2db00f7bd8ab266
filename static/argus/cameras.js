// The camera grid: status badges and "last seen" follow the camera-status channel without a reload,
// and Test/Snapshot buttons say they are busy while the server opens the stream.
(function () {
  const grid = document.getElementById("camera-grid");
  if (!grid) return;
  const badges = JSON.parse(document.getElementById("status-badges").textContent);

  ArgusLive.connect({
    channels: ["camera-status"],
    onMessage(message) {
      if (message.type !== "camera-status") return;
      const tile = grid.querySelector(`[data-camera-id="${CSS.escape(message.cameraId)}"]`);
      if (!tile) return; // a camera added after this page loaded: it shows on the next load
      const badge = tile.querySelector('[data-role="status"]');
      badge.textContent = message.status;
      badge.className = "badge " + (badges[message.status] || "");
      if (message.lastSeen) {
        const cell = tile.querySelector('[data-role="last-seen"]');
        cell.replaceChildren(ArgusLive.timeElement(message.lastSeen));
      }
      tile.classList.add("flash");
      setTimeout(() => tile.classList.remove("flash"), 1200);
    },
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
