// The ANPR events page: plates arrive live over /events/stream (003), newest first, with their crops.
// The stream takes a JWT, fetched with ArgusLive.token() from the dashboard's token endpoint; it
// reconnects with backoff, and the page's camera/zone filters narrow the stream as they narrow the search.
(function () {
  const indicator = document.getElementById("live");
  const list = document.getElementById("live-plates");
  if (!indicator || !list || !window.ArgusLive) return;
  const template = document.getElementById("live-plate-template");
  const state = indicator.querySelector('[data-role="live-state"]');
  const counter = document.querySelector('[data-role="live-count"]');
  const watchlist = JSON.parse(document.getElementById("watchlist-plates").textContent || "{}");
  const listBadges = JSON.parse(document.getElementById("list-badges").textContent || "{}");
  const MAX_ITEMS = 30;
  let received = 0;
  let delay = 1000;

  // The platform's plate normalisation (anpr/plates.py): letters and digits only, upper case.
  const normalize = (text) => (text || "").normalize("NFKC").toUpperCase().replace(/[^\p{L}\p{N}]/gu, "");

  function show(text, kind) {
    state.textContent = text;
    indicator.dataset.state = kind;
  }

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
      item.classList.add(listed); // the deny list's plates stand out (anpr.css)
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

  function retry() {
    show("reconnecting…", "down");
    setTimeout(open, delay + Math.random() * 500); // jitter: many tabs must not reconnect in step
    delay = Math.min(delay * 2, 30000);
  }

  async function open() {
    let token;
    try {
      token = await ArgusLive.token(false);
    } catch (err) {
      retry();
      return;
    }
    const params = new URLSearchParams({ token });
    if (indicator.dataset.cameraId) params.set("camera_id", indicator.dataset.cameraId);
    if (indicator.dataset.zoneId) params.set("zone_id", indicator.dataset.zoneId);
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${window.location.host}${indicator.dataset.wsPath}?${params}`);
    let pinger = null;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      delay = 1000;
      show("live", "up");
      // Idle connections are cut by some proxies; a ping now and then keeps this one alive.
      pinger = setInterval(() => socket.send(JSON.stringify({ type: "ping" })), 25000);
    };
    socket.onmessage = (message) => {
      let body;
      try {
        body = JSON.parse(message.data);
      } catch (err) {
        return;
      }
      if (body.type === "event" && body.data) onEvent(body.data);
    };
    socket.onclose = (close) => {
      clearInterval(pinger);
      if (close.code === 4403) {
        show("not allowed", "down"); // the role lacks anpr:read: retrying will not change that
        return;
      }
      // A refused handshake reaches a browser as 1006, not as the server's 4401: a socket that never
      // opened may have carried a revoked or expired token, so the next attempt fetches a fresh one.
      if (close.code === 4401 || !opened) ArgusLive.token(true).catch(() => {});
      retry();
    };
  }

  open();
})();
