// The recognition live view: detections arrive over the /ws "detections" channel (001 message
// {type:"detection", cameraId, detection:{id, personId, name, confidence, timestamp, thumbnail, status}})
// and go on top of the feed the server rendered; tiles follow "camera-status". "Scan now" and "Test
// provider" call the 001 detections API with the page's access token (ArgusLive.call).
(function () {
  const page = document.getElementById("live-view");
  const feed = document.getElementById("detection-feed");
  if (!page || !feed || !window.ArgusLive) return;
  const focus = page.dataset.cameraId || "";
  const maxRows = Number(page.dataset.feedSize) || 30;
  const read = (id) => JSON.parse(document.getElementById(id).textContent);
  const detectionBadges = read("detection-badges");
  const cameraBadges = read("camera-badges");
  const cameraNames = read("camera-names");
  const template = document.getElementById("detection-template");
  const facesLink = document.getElementById("faces-url");
  const detectionLink = document.getElementById("detection-url");
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

  // Only our own origin's paths or http(s) URLs become an <img src>: a message is data, not markup.
  function imageUrl(value) {
    if (typeof value !== "string" || !value) return null;
    if (value.startsWith("/") && !value.startsWith("//")) return value;
    return /^https?:\/\//i.test(value) ? value : null;
  }

  function flash(element) {
    element.classList.add("flash");
    setTimeout(() => element.classList.remove("flash"), 1200);
  }

  function render(cameraId, detection) {
    // 001 names the fields in camelCase; a publisher that sends snake_case is read as well.
    const personId = detection.personId || detection.person_id || "";
    const item = template.content.firstElementChild.cloneNode(true);
    const part = (role) => item.querySelector(`[data-role="${role}"]`);
    item.dataset.detectionId = detection.id || "";
    item.dataset.cameraId = cameraId;
    const name = part("name");
    if (detection.name && facesLink && personId) {
      const link = document.createElement("a");
      link.href = `${facesLink.dataset.url}?search=${encodeURIComponent(personId)}`;
      link.textContent = detection.name;
      name.replaceChildren(link);
    } else {
      name.textContent = detection.name || "Unknown person";
    }
    const status = detection.status || "unknown";
    const badge = part("status");
    badge.textContent = status;
    badge.className = "badge " + (detectionBadges[status] || "");
    part("person").textContent = personId || "—";
    const confidence = Number(detection.confidence);
    part("confidence").textContent = Number.isFinite(confidence) ? `${confidence.toFixed(1)}%` : "—";
    part("camera").textContent = cameraNames[cameraId] || detection.cameraName || cameraId;
    if (detection.timestamp) part("time").replaceChildren(ArgusLive.timeElement(detection.timestamp));
    // The detection's page (its decision, "wrong person"): only for an id shaped like one.
    const details = part("details");
    if (detectionLink && UUID.test(String(detection.id || ""))) {
      details.querySelector("a").href = detectionLink.dataset.url.replace("00000000-0000-0000-0000-000000000000", detection.id);
    } else {
      details.remove();
    }
    const url = imageUrl(detection.thumbnail);
    if (url) {
      const image = item.querySelector("img");
      image.src = url;
      image.alt = `Face of ${detection.name || "an unknown person"}`;
      image.hidden = false;
      part("no-image").remove();
    }
    return item;
  }

  function addDetection(cameraId, detection) {
    if (focus && cameraId !== focus) return;
    if (detection.id && feed.querySelector(`[data-detection-id="${CSS.escape(String(detection.id))}"]`)) return;
    const placeholder = feed.querySelector("li.empty");
    if (placeholder) placeholder.remove();
    const item = render(cameraId, detection);
    feed.prepend(item);
    while (feed.children.length > maxRows) feed.lastElementChild.remove();
    flash(item);
    const today = page.querySelector(`.tile[data-camera-id="${CSS.escape(cameraId)}"] [data-role="today"]`);
    if (today) today.textContent = String(Number(today.textContent) + 1);
  }

  function showStatus(cameraId, status, lastSeen) {
    const tile = page.querySelector(`.tile[data-camera-id="${CSS.escape(cameraId)}"]`);
    if (!tile) return;
    const badge = tile.querySelector('[data-role="status"]');
    const seen = tile.querySelector('[data-role="last-seen"] time');
    const sameTime = seen && lastSeen && new Date(seen.dateTime).getTime() === new Date(lastSeen).getTime();
    if (badge.textContent === status && (!lastSeen || sameTime)) return;
    badge.textContent = status;
    badge.className = "badge " + (cameraBadges[status] || "");
    if (lastSeen) tile.querySelector('[data-role="last-seen"]').replaceChildren(ArgusLive.timeElement(lastSeen));
    flash(tile);
  }

  async function resync() {
    // What was published while the socket was down is lost: the server renders the feed again.
    const url = new URL(page.dataset.feedUrl, window.location.href);
    if (focus) url.searchParams.set("camera", focus);
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (response.status === 401) {
      window.location.reload(); // the session ended: the login page follows
      return;
    }
    if (response.ok) feed.innerHTML = await response.text();
  }

  ArgusLive.connect({
    channels: ["detections", "camera-status"],
    onMessage(message) {
      if (message.type === "detection" && message.detection) addDetection(message.cameraId, message.detection);
      else if (message.type === "camera-status") showStatus(message.cameraId, message.status, message.lastSeen);
    },
    onResync: resync,
  });

  const post = (url, body) => ArgusLive.call(url, { method: "POST", body });

  async function busy(button, output, work) {
    const label = button.textContent;
    button.disabled = true;
    button.textContent = button.dataset.busy || label;
    output.classList.remove("error");
    try {
      const [text, failed] = await work();
      output.textContent = text;
      output.classList.toggle("error", failed);
    } catch (err) {
      output.textContent = "Could not reach the server";
      output.classList.add("error");
    } finally {
      button.disabled = false;
      button.textContent = label;
    }
  }

  page.addEventListener("click", (event) => {
    const scan = event.target.closest("button[data-scan]");
    if (scan) {
      const output = scan.parentElement.querySelector('[data-role="scan-result"]');
      busy(scan, output, async () => {
        const result = await post(page.dataset.sendFrameUrl, { cameraId: scan.dataset.scan });
        if (!result.ok) return [ArgusLive.problem(result), true];
        const job = result.payload && result.payload.data;
        return [`Frame sent${job && job.status ? ` (${job.status})` : ""}; detections appear in the feed.`, false];
      });
      return;
    }
    const test = event.target.closest("button[data-test-provider]");
    if (test) {
      const output = test.parentElement.querySelector('[data-role="provider-result"]');
      busy(test, output, async () => {
        const result = await post(page.dataset.testProviderUrl, {});
        if (!result.ok) return [ArgusLive.problem(result), true];
        const report = (result.payload && result.payload.data) || {};
        const latency = report.latencyMs !== undefined ? `, ${report.latencyMs} ms` : "";
        return [`${report.status || "done"}${latency}${report.message ? `: ${report.message}` : ""}`, report.status === "offline"];
      });
    }
  });
})();

// Forms that delete biometric data ask first (data-confirm, which core.js handles for every page; a whole
// profile has its own confirmation page); an enrolment runs the face detector on every image, so its
// button says it is busy meanwhile.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (event.defaultPrevented) return; // not confirmed: nothing is sent
  const button = form.querySelector("button[data-busy]");
  if (!button) return;
  // Disabled after the submit is under way, so the click still submits; no second click meanwhile.
  setTimeout(() => {
    button.disabled = true;
    button.textContent = button.dataset.busy;
  }, 0);
});
