// The ANPR events page: plates arrive live over /events/stream (003), newest first, with their crops.
// ArgusLive.connect keeps the stream open with the page's token; the page's camera/zone filters narrow the
// stream as they narrow the search.
(function () {
  const indicator = document.getElementById("live");
  const list = document.getElementById("live-plates");
  if (!indicator || !list || !window.ArgusLive) return;
  const template = document.getElementById("live-plate-template");
  const counter = document.querySelector('[data-role="live-count"]');
  const watchlist = JSON.parse(document.getElementById("watchlist-plates").textContent || "{}");
  const listBadges = JSON.parse(document.getElementById("list-badges").textContent || "{}");
  const MAX_ITEMS = 30;
  let received = 0;

  // The platform's plate normalisation (anpr/plates.py): letters and digits only, upper case.
  const normalize = (text) => (text || "").normalize("NFKC").toUpperCase().replace(/[^\p{L}\p{N}]/gu, "");

  function render(event) {
    const item = template.content.firstElementChild.cloneNode(true);
    const part = (role) => item.querySelector(`[data-role="${role}"]`);
    part("plate").textContent = event.plate_text;
    part("where").textContent = event.zone_id ? `${event.camera_id} / ${event.zone_id}` : event.camera_id;
    part("confidence").textContent = `${Math.round(event.confidence * 100)}%`;
    part("time").replaceChildren(ArgusLive.timeElement(event.timestamp));
    if (event.crop_url) {
      const image = item.querySelector("img");
      image.src = event.crop_url;
      image.alt = `Plate ${event.plate_text}`;
      image.hidden = false;
      part("no-crop").hidden = true;
    }
    const listed = watchlist[normalize(event.plate_text)];
    if (listed) {
      const badge = part("badge");
      badge.textContent = listed;
      badge.className = "badge " + (listBadges[listed] || "");
      badge.hidden = false;
      item.classList.add(listed); // the deny list's plates stand out (argus.css)
    }
    item.classList.add("flash");
    setTimeout(() => item.classList.remove("flash"), 1200);
    return item;
  }

  function onEvent(event) {
    const placeholder = list.querySelector("li.empty");
    if (placeholder) placeholder.remove();
    list.prepend(render(event));
    while (list.children.length > MAX_ITEMS) list.lastElementChild.remove();
    received += 1;
    if (counter) counter.textContent = String(received);
  }

  const params = {};
  if (indicator.dataset.cameraId) params.camera_id = indicator.dataset.cameraId;
  if (indicator.dataset.zoneId) params.zone_id = indicator.dataset.zoneId;
  ArgusLive.connect({
    params,
    onMessage(message) {
      if (message.type === "event" && message.data) onEvent(message.data);
    },
  });
})();
