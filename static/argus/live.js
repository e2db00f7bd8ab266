// Shared by the dashboard's live pages. The page is signed in by session cookie, but the /ws
// WebSocket and the JSON API take a JWT: this fetches a short-lived access token from the page's
// token endpoint, keeps one WebSocket open (reconnecting with backoff), and calls the API with it.
window.ArgusLive = (function () {
  const root = document.querySelector("[data-token-url]");
  const tokenUrl = root ? root.dataset.tokenUrl : null;
  const zoneHost = document.querySelector("[data-time-zone]");
  const timeZone = (zoneHost && zoneHost.dataset.timeZone) || undefined;
  let current = null; // {token, expiresAt}

  async function token(force) {
    // A token with under a minute left is renewed: a request made with it could expire in flight.
    if (!force && current && current.expiresAt - Date.now() > 60000) return current.token;
    const response = await fetch(tokenUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.status === 401) {
      // The dashboard session ended (signed out elsewhere, expired): reloading lands on the login page.
      window.location.reload();
      throw new Error("signed out");
    }
    if (!response.ok) throw new Error("token endpoint answered " + response.status);
    const body = await response.json();
    current = { token: body.token, expiresAt: Date.now() + body.expiresIn * 1000 };
    return current.token;
  }

  async function api(url) {
    const call = async (force) =>
      fetch(url, { headers: { Accept: "application/json", Authorization: "Bearer " + (await token(force)) } });
    let response = await call(false);
    if (response.status === 401) response = await call(true); // revoked or expired early: one fresh try
    return response;
  }

  // "YYYY-MM-DD HH:MM:SS" in the server's time zone, as the server renders times.
  const formatter = new Intl.DateTimeFormat("sv-SE", {
    timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  function timeElement(iso) {
    const element = document.createElement("time");
    element.dateTime = iso;
    element.textContent = formatter.format(new Date(iso));
    return element;
  }

  // onResync runs once a *re*connection is subscribed: what was published while the socket was
  // down is lost, so the page re-reads the current state from the API.
  function connect({ channels, onMessage, onResync }) {
    const state = document.querySelector('[data-role="live-state"]');
    const indicator = document.getElementById("live");
    let delay = 1000;
    let pinger = null;
    let connections = 0;
    function show(text, kind) {
      if (state) state.textContent = text;
      if (indicator) indicator.dataset.state = kind;
    }
    function retry() {
      show("reconnecting…", "down");
      setTimeout(open, delay + Math.random() * 500); // jitter: many tabs must not reconnect in step
      delay = Math.min(delay * 2, 30000);
    }
    async function open() {
      let raw;
      try {
        raw = await token(false);
      } catch (err) {
        retry();
        return;
      }
      const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
      const path = (indicator && indicator.dataset.wsPath) || "/ws";
      const socket = new WebSocket(`${scheme}//${window.location.host}${path}?token=${encodeURIComponent(raw)}`);
      let subscribed = 0;
      socket.onopen = () => {
        channels.forEach((channel) => socket.send(JSON.stringify({ action: "subscribe", channel })));
        // Idle connections are cut by some proxies; a ping now and then keeps this one alive.
        pinger = setInterval(() => socket.send(JSON.stringify({ type: "ping" })), 25000);
      };
      socket.onmessage = (event) => {
        let message;
        try {
          message = JSON.parse(event.data);
        } catch (err) {
          return;
        }
        if (message.type === "subscribed") {
          subscribed += 1;
          if (subscribed < channels.length) return;
          delay = 1000;
          show("live", "up");
          connections += 1;
          if (connections > 1 && onResync) onResync();
        } else if (message.type === "error") {
          show(message.message || "error", "down");
        } else if (!["connected", "pong", "unsubscribed"].includes(message.type)) {
          onMessage(message);
        }
      };
      socket.onclose = (event) => {
        clearInterval(pinger);
        if (event.code === 4401) current = null; // the token was refused: fetch a new one
        retry();
      };
    }
    open();
  }

  return { token, api, connect, timeElement, formatTime: (iso) => formatter.format(new Date(iso)) };
})();
