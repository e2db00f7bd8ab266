// The Counting page: live tiles (latest count per camera from /api/v1/counts/realtime, with the video
// counter's in/out split from /api/v1/counts/counters), hourly and daily bar charts from
// /api/v1/counts/analytics, and per camera a set-up drawn over a snapshot (POST /api/v1/cameras/{id}/snapshot):
// a line (two clicks; the arrow marks the "in" side) or a zone polygon (three or more clicks), saved with
// PUT /api/v1/cameras/{id}/counting. Every call goes through ArgusLive with the page's access token.
(function () {
  const root = document.getElementById("counting");
  if (!root) return;
  const panels = JSON.parse(document.getElementById("counting-panels").textContent);
  const refreshMs = Number(root.dataset.refreshSeconds || 5) * 1000;

  // --- Tiles --------------------------------------------------------------------------------------------

  function tile(cameraId) {
    return document.querySelector(`#count-tiles [data-camera-id="${CSS.escape(cameraId)}"]`);
  }
  function setText(element, role, text) {
    const target = element && element.querySelector(`[data-role="${role}"]`);
    if (target && target.textContent !== text) target.textContent = text;
  }

  async function refreshTiles() {
    try {
      const response = await ArgusLive.api(root.dataset.realtimeUrl);
      if (response.ok) {
        (await response.json()).forEach((item) => {
          const element = tile(item.camera_id);
          if (!element) return;
          const badge = element.querySelector('[data-role="status"]');
          if (badge && item.status) badge.title = "camera " + item.status; // the badge itself says whether it counts
          if (item.count === null || item.count === undefined) return;
          const before = element.querySelector('[data-role="count"]').textContent;
          setText(element, "count", String(item.count));
          setText(element, "when", item.timestamp ? "at " + ArgusLive.formatTime(item.timestamp) : "");
          setText(element, "confidence", item.confidence != null ? `· confidence ${Number(item.confidence).toFixed(2)}` : "");
          if (before !== "—" && before !== String(item.count)) {
            element.classList.add("flash");
            setTimeout(() => element.classList.remove("flash"), 1200);
          }
        });
      }
      const counters = await ArgusLive.api(root.dataset.countersUrl);
      if (counters.ok) {
        (await counters.json()).forEach((state) => {
          const cameraId = state.camera_id;
          const element = tile(cameraId);
          if (!element) return;
          const last = state.last_interval;
          setText(element, "in", last ? String(last.in) : "—");
          setText(element, "out", last ? String(last.out) : "—");
          setText(element, "interval", last ? `${ArgusLive.formatTime(last.start).slice(11, 16)}–${ArgusLive.formatTime(last.end).slice(11, 16)}` : "");
          const panel = panels.find((p) => p.id === cameraId);
          let counter = panel && panel.counting ? (panel.counting.enabled ? "enabled, waiting for its next run" : "set up, not enabled") : "not set up";
          if (state.running) counter = "counting now";
          else if (state.counting) counter = "run queued";
          if (state.run_totals) counter += ` · this run: in ${state.run_totals.in}, out ${state.run_totals.out}`;
          if (state.error) counter += ` · last error: ${state.error}`;
          setText(element, "counter", counter);
        });
      }
    } catch (err) {
      // A failed refresh (network, signed out) leaves the last figures; the next one tries again.
    }
  }

  // --- Charts -------------------------------------------------------------------------------------------

  function drawCounts(id, slots, labelTitle) {
    ArgusCharts.draw(document.querySelector(`#${id} canvas`), {
      labels: slots.map((slot) => slot.label),
      series: [{ label: "Count", colour: "blue", values: slots.map((slot) => slot.value) }],
      labelTitle,
      valueTitle: "Count",
    });
  }

  const hour = 3600 * 1000;
  function utcHour(date) {
    return new Date(Math.floor(date.getTime() / hour) * hour);
  }
  function utcDay(date) {
    return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  }

  async function analytics(start, end) {
    const camera = document.getElementById("chart-camera").value;
    const query = new URLSearchParams({ start_date: start.toISOString(), end_date: end.toISOString() });
    if (camera) query.set("camera_id", camera);
    const response = await ArgusLive.api(`${root.dataset.analyticsUrl}?${query}`);
    if (!response.ok) throw new Error("analytics answered " + response.status);
    return response.json();
  }

  async function refreshCharts() {
    const now = new Date();
    try {
      const lastHour = utcHour(now);
      const firstHour = new Date(lastHour.getTime() - 23 * hour);
      const hourly = await analytics(firstHour, new Date(lastHour.getTime() + hour));
      const byHour = new Map((hourly.hourly || []).map((b) => [new Date(b.hour).getTime(), b.total_count]));
      const hours = Array.from({ length: 24 }, (_, i) => {
        const moment = new Date(firstHour.getTime() + i * hour);
        return { label: ArgusLive.formatTime(moment.toISOString()).slice(5, 16), value: byHour.get(moment.getTime()) || 0 };
      });
      drawCounts("chart-hourly", hours, "Hour");
      setText(root, "hourly-total", `total ${hours.reduce((sum, slot) => sum + slot.value, 0)}`);

      const today = utcDay(now);
      const firstDay = new Date(today.getTime() - 13 * 24 * hour);
      const daily = await analytics(firstDay, new Date(today.getTime() + 24 * hour));
      const byDay = new Map((daily.daily || []).map((b) => [b.date, b.total_count]));
      const days = Array.from({ length: 14 }, (_, i) => {
        const key = new Date(firstDay.getTime() + i * 24 * hour).toISOString().slice(0, 10);
        return { label: key, value: byDay.get(key) || 0 };
      });
      drawCounts("chart-daily", days, "Day (UTC)");
      setText(root, "daily-total", `total ${days.reduce((sum, slot) => sum + slot.value, 0)}`);
    } catch (err) {
      setText(root, "hourly-total", "could not load");
    }
  }

  // --- Set-up -------------------------------------------------------------------------------------------

  // A refused set-up: 000's error lists each field in error as {loc: ["body", field, ...], msg}.
  function refusal(result) {
    const details = result.payload && result.payload.error && result.payload.error.details;
    if (Array.isArray(details) && details.length) {
      return details.map((item) => `${(item.loc || []).slice(1).join(".")}: ${item.msg}`).join("; ");
    }
    return ArgusLive.problem(result);
  }

  function setUpPanel(panel) {
    const element = document.querySelector(`details.setup[data-camera-id="${CSS.escape(panel.id)}"]`);
    if (!element) return;
    const image = element.querySelector('[data-role="backdrop"]');
    const canvas = element.querySelector('[data-role="canvas"]');
    const empty = element.querySelector('[data-role="empty"]');
    const message = element.querySelector('[data-role="message"]');
    const sideSelect = element.querySelector('[data-role="in-side"]');
    const intervalInput = element.querySelector('[data-role="interval"]');
    const enabledInput = element.querySelector('[data-role="enabled"]');
    const saved = panel.counting || {};
    const state = {
      mode: saved.mode || "line",
      points: [],
      frame: saved.frame || (panel.backdrop ? { width: panel.backdrop.width, height: panel.backdrop.height } : panel.frame),
      version: panel.version,
    };
    if (saved.line) state.points = [[saved.line.x1, saved.line.y1], [saved.line.x2, saved.line.y2]];
    if (saved.mode === "zone" && saved.zone) state.points = saved.zone.points.map((p) => [p.x, p.y]);
    sideSelect.value = saved.in_side || "right";
    intervalInput.value = saved.interval || 60;
    enabledInput.checked = Boolean(saved.enabled);
    element.querySelectorAll('[data-role="mode"]').forEach((radio) => {
      radio.checked = radio.value === state.mode;
    });

    function say(text, kind) {
      message.className = kind || "";
      message.textContent = text;
    }
    function summary() {
      const what = state.mode === "line" ? `line, in = ${sideSelect.value}` : `zone of ${state.points.length} points`;
      setText(element, "summary", panel.counting ? `${what}${enabledInput.checked ? ", enabled" : ""}` : "not set up");
      setText(element, "frame", state.frame ? `${state.frame.width}x${state.frame.height}` : "");
      element.querySelector('[data-role="side-row"]').hidden = state.mode !== "line";
    }
    function showBackdrop(backdrop) {
      if (backdrop && backdrop.url) {
        image.src = backdrop.url;
        image.hidden = false;
        empty.hidden = true;
      } else if (state.frame) {
        // No picture yet, but the frame size is known: draw on a blank stage of the right shape.
        image.hidden = true;
        empty.hidden = false;
        element.querySelector('[data-role="stage"]').style.aspectRatio = `${state.frame.width} / ${state.frame.height}`;
      }
    }

    function draw() {
      const rect = canvas.getBoundingClientRect();
      canvas.width = Math.max(1, Math.round(rect.width));
      canvas.height = Math.max(1, Math.round(rect.height));
      const context = canvas.getContext("2d");
      context.clearRect(0, 0, canvas.width, canvas.height);
      if (!state.frame || !state.points.length) return;
      const sx = canvas.width / state.frame.width, sy = canvas.height / state.frame.height;
      const points = state.points.map(([x, y]) => [x * sx, y * sy]);
      context.lineWidth = 3;
      context.strokeStyle = "#ff3b30";
      context.fillStyle = "rgba(255, 59, 48, 0.18)";
      context.beginPath();
      points.forEach(([x, y], index) => (index ? context.lineTo(x, y) : context.moveTo(x, y)));
      if (state.mode === "zone" && points.length > 2) {
        context.closePath();
        context.fill();
      }
      context.stroke();
      context.fillStyle = "#ff3b30";
      points.forEach(([x, y]) => {
        context.beginPath();
        context.arc(x, y, 4, 0, 2 * Math.PI);
        context.fill();
      });
      if (state.mode === "line" && points.length === 2) {
        // The arrow from the middle towards the "in" side: the right-hand normal (y points down).
        const [[x1, y1], [x2, y2]] = points;
        const length = Math.hypot(x2 - x1, y2 - y1) || 1;
        const sign = sideSelect.value === "right" ? 1 : -1;
        const nx = (-(y2 - y1) / length) * sign, ny = ((x2 - x1) / length) * sign;
        const mx = (x1 + x2) / 2, my = (y1 + y2) / 2, size = 36;
        const tipX = mx + nx * size, tipY = my + ny * size;
        context.strokeStyle = "#34c759";
        context.fillStyle = "#34c759";
        context.beginPath();
        context.moveTo(mx, my);
        context.lineTo(tipX, tipY);
        context.stroke();
        context.beginPath();
        context.moveTo(tipX, tipY);
        context.lineTo(tipX - nx * 10 + ny * 7, tipY - ny * 10 - nx * 7);
        context.lineTo(tipX - nx * 10 - ny * 7, tipY - ny * 10 + nx * 7);
        context.closePath();
        context.fill();
        context.font = "bold 13px sans-serif";
        context.fillText("IN", tipX + nx * 8 - 8, tipY + ny * 8 + 4);
      }
    }

    canvas.addEventListener("click", (event) => {
      if (!state.frame) {
        say("Take a snapshot first: the drawing needs the camera's frame.", "errors");
        return;
      }
      const rect = canvas.getBoundingClientRect();
      const x = Math.round(((event.clientX - rect.left) * state.frame.width) / rect.width);
      const y = Math.round(((event.clientY - rect.top) * state.frame.height) / rect.height);
      if (state.mode === "line" && state.points.length >= 2) state.points = [];
      state.points.push([x, y]);
      say("");
      draw();
      summary();
    });
    element.querySelectorAll('[data-role="mode"]').forEach((radio) =>
      radio.addEventListener("change", () => {
        if (radio.checked && radio.value !== state.mode) {
          state.mode = radio.value;
          state.points = [];
          draw();
          summary();
        }
      })
    );
    sideSelect.addEventListener("change", () => {
      draw();
      summary();
    });
    element.querySelector('[data-action="flip"]').addEventListener("click", () => {
      sideSelect.value = sideSelect.value === "right" ? "left" : "right";
      draw();
      summary();
    });
    element.querySelector('[data-action="clear"]').addEventListener("click", () => {
      state.points = [];
      draw();
    });
    element.querySelector('[data-action="snapshot"]').addEventListener("click", async (event) => {
      const button = event.target;
      button.disabled = true;
      say("Grabbing a frame (up to 10 s)…");
      try {
        const result = await ArgusLive.call(panel.snapshot_url, { method: "POST" });
        if (!result.ok) {
          say(ArgusLive.problem(result), "errors");
          return;
        }
        const data = result.payload.data;
        if (state.frame && (state.frame.width !== data.width || state.frame.height !== data.height)) {
          // A new frame size: keep the drawing where it was on the picture.
          const fx = data.width / state.frame.width, fy = data.height / state.frame.height;
          state.points = state.points.map(([x, y]) => [Math.round(x * fx), Math.round(y * fy)]);
        }
        state.frame = { width: data.width, height: data.height };
        showBackdrop(data);
        say("Snapshot taken: click on it to draw.", "ok");
        summary();
      } catch (err) {
        say("Could not reach the server.", "errors");
      } finally {
        button.disabled = false;
      }
    });

    async function save(request, done) {
      let result;
      try {
        result = await request();
      } catch (err) {
        say("Could not reach the server.", "errors");
        return;
      }
      if (result.ok) {
        state.version = result.payload.version;
        panel.counting = result.payload.counting;
        say(done, "ok");
      } else if (result.status === 409) {
        say("The camera was changed elsewhere: reload the page and try again.", "errors");
      } else {
        say(refusal(result), "errors");
      }
      summary();
    }
    element.querySelector('[data-action="save"]').addEventListener("click", () => {
      const body = {
        mode: state.mode,
        in_side: sideSelect.value,
        interval: Number(intervalInput.value),
        enabled: enabledInput.checked,
      };
      if (state.frame) body.frame = { width: state.frame.width, height: state.frame.height };
      if (state.mode === "line") {
        const [[x1, y1], [x2, y2]] = state.points.length === 2 ? state.points : [[null, null], [null, null]];
        body.line = { x1, y1, x2, y2 };
      } else {
        body.zone = { type: "polygon", points: state.points.map(([x, y]) => ({ x, y })) };
      }
      save(() => ArgusLive.call(panel.setup_url, { method: "PUT", body: { ...body, version: state.version } }), "Saved.");
    });
    element.querySelector('[data-action="remove"]').addEventListener("click", () => {
      state.points = [];
      draw();
      const url = `${panel.setup_url}?${new URLSearchParams({ version: state.version })}`;
      save(() => ArgusLive.call(url, { method: "DELETE" }), "Set-up removed.");
    });

    image.addEventListener("load", draw);
    element.addEventListener("toggle", draw);
    window.addEventListener("resize", draw);
    showBackdrop(panel.backdrop);
    summary();
    draw();
  }

  panels.forEach(setUpPanel);
  document.getElementById("chart-camera").addEventListener("change", refreshCharts);
  refreshTiles();
  refreshCharts();
  setInterval(refreshTiles, refreshMs);
  setInterval(refreshCharts, 60000);
})();
