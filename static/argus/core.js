// What every dashboard page's script shares; base.html loads it first. The page is signed in by session
// cookie, but the JSON API and the WebSockets take a JWT: this fetches a short-lived access token from the
// dashboard's token endpoint (body[data-token-url]), calls the API with it (one fresh token and a second
// try when it is refused), keeps a WebSocket open (reconnecting with backoff) and formats times as the
// server renders them. (The global keeps the name ArgusLive, which the pages' scripts already use.)
window.ArgusLive = (function () {
  const tokenUrl = document.body.dataset.tokenUrl;
  const timeZone = document.body.dataset.timeZone || undefined;
  let current = null; // {token, expiresAt}

  async function token(force) {
    // A token with under a minute left is renewed: a request made with it could expire in flight.
    if (!force && current && current.expiresAt - Date.now() > 60000) return current.token;
    if (!tokenUrl) throw new Error("not signed in");
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

  // fetch() with the page's token; ``body`` (any JSON value) is sent as JSON. Answers the Response.
  async function api(url, { method = "GET", body } = {}) {
    const send = async (force) => {
      const headers = { Accept: "application/json", Authorization: "Bearer " + (await token(force)) };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      return fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    };
    const response = await send(false);
    return response.status === 401 ? send(true) : response; // revoked or expired early: one fresh try
  }

  // api() with the answer read: {ok, status, payload}, payload the parsed JSON (null when there is none).
  async function call(url, options) {
    const response = await api(url, options);
    let payload = null;
    try {
      payload = await response.json();
    } catch (err) {
      payload = null;
    }
    return { ok: response.ok, status: response.status, payload };
  }

  // What went wrong, in the API's words: every family the pages call puts it in error.message.
  function problem({ status, payload }) {
    const error = payload && payload.error;
    return (error && error.message) || `The server answered ${status}`;
  }

  // "YYYY-MM-DD HH:MM:SS" in the server's time zone, as the server renders times.
  const formatter = new Intl.DateTimeFormat("sv-SE", {
    timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  const formatTime = (iso) => formatter.format(new Date(iso));
  function timeElement(iso) {
    const element = document.createElement("time");
    element.dateTime = iso;
    element.textContent = formatTime(iso);
    return element;
  }

  // One WebSocket, open while the page is: the page's #live indicator names its path (data-ws-path, /ws
  // by default) and says whether it is up. The token (and ``params``) go in the query string; ``channels``
  // are subscribed to (the /ws protocol; a stream such as /events/stream takes none). onResync runs once a
  // *re*connection is live: what was published while the socket was down is lost, so the page re-reads
  // the current state from the API.
  function connect({ params = {}, channels = [], onMessage, onResync }) {
    const indicator = document.getElementById("live");
    const path = (indicator && indicator.dataset.wsPath) || "/ws";
    const state = indicator && indicator.querySelector('[data-role="live-state"]');
    let delay = 1000;
    let connections = 0;
    function show(text, kind) {
      if (state) state.textContent = text;
      if (indicator) indicator.dataset.state = kind;
    }
    function live() {
      delay = 1000;
      show("live", "up");
      connections += 1;
      if (connections > 1 && onResync) onResync();
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
      const query = new URLSearchParams({ token: raw, ...params });
      const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
      const socket = new WebSocket(`${scheme}//${window.location.host}${path}?${query}`);
      let opened = false;
      let subscribed = 0;
      let pinger = null;
      socket.onopen = () => {
        opened = true;
        channels.forEach((channel) => socket.send(JSON.stringify({ action: "subscribe", channel })));
        if (!channels.length) live();
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
          if (subscribed === channels.length) live();
        } else if (message.type === "error") {
          show(message.message || "error", "down");
        } else if (!["connected", "pong", "unsubscribed"].includes(message.type)) {
          onMessage(message);
        }
      };
      socket.onclose = (close) => {
        clearInterval(pinger);
        if (close.code === 4403) {
          show("not allowed", "down"); // the role lacks the permission: retrying will not change that
          return;
        }
        // A refused handshake reaches a browser as 1006, not as the server's 4401: a socket that never
        // opened may have carried a revoked or expired token, so the next attempt fetches a fresh one.
        if (close.code === 4401 || !opened) current = null;
        retry();
      };
    }
    open();
  }

  // Camera pictures marked img[data-live-src] follow the camera's live picture (kept by a vision worker):
  // every couple of seconds, while the page is visible, the newest one is loaded and swapped in. A camera no
  // worker watches answers 204 (no picture yet) and keeps its stored thumbnail (or its placeholder).
  function livePictures(every = 2000) {
    const refresh = () => {
      if (document.hidden) return;
      document.querySelectorAll("img[data-live-src]").forEach((img) => {
        if (img.dataset.loading) return;
        img.dataset.loading = "1";
        const next = new Image();
        next.onload = () => {
          img.src = next.src;
          img.hidden = false;
          const placeholder = img.parentElement && img.parentElement.querySelector(".placeholder");
          if (placeholder) placeholder.remove();
          delete img.dataset.loading;
        };
        next.onerror = () => delete img.dataset.loading;
        next.src = img.dataset.liveSrc + "?t=" + Date.now();
      });
    };
    refresh();
    setInterval(refresh, every);
  }
  // The Menu button of narrow screens (base.html): opens and closes the folded navigation.
  function menu() {
    const toggle = document.querySelector(".menu-toggle");
    if (!toggle) return;
    toggle.addEventListener("click", () => {
      const open = toggle.closest(".topbar").classList.toggle("open");
      toggle.setAttribute("aria-expanded", String(open));
    });
  }
  // Forms marked data-confirm (a removal, say) ask first; nothing is sent unless the user agrees.
  document.addEventListener("submit", (event) => {
    const question = event.target.dataset && event.target.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });
  document.addEventListener("DOMContentLoaded", () => {
    menu();
    livePictures();
  });

  return { token, api, call, problem, connect, timeElement, formatTime };
})();
