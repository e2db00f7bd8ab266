// The Attendance page: export the filtered logs (POST /api/v1/attendance/export, then poll the job for its
// progress until a download link is ready) and the Odoo box (GET /api/v1/odoo/status, POST /api/v1/odoo/sync).
// The page is signed in by session; the API takes the short-lived JWT that ArgusLive fetches.
(function () {
  const root = document.getElementById("attendance");
  if (!root || !window.ArgusLive) return;
  const filters = JSON.parse(document.getElementById("attendance-filters").textContent);
  const POLL_MS = 1500;

  // The 001 envelope's data, or an Error saying what the API refused.
  async function call(method, url, body) {
    const result = await ArgusLive.call(url, { method, body });
    if (!result.ok || !result.payload || result.payload.success === false) throw new Error(ArgusLive.problem(result));
    return result.payload.data;
  }

  // --- Export -------------------------------------------------------------------------------------------

  const exportBox = document.getElementById("attendance-export");
  if (exportBox) {
    const job = exportBox.querySelector('[data-role="job"]');
    const progress = exportBox.querySelector('[data-role="progress"]');
    const state = exportBox.querySelector('[data-role="state"]');
    const download = exportBox.querySelector('[data-role="download"]');
    const open = exportBox.querySelector('[data-role="open"]');
    const buttons = exportBox.querySelectorAll("button[data-format]");

    function show(data) {
      job.hidden = false;
      progress.value = data.progress || 0;
      const rows = data.rowCount != null ? ` · ${data.rowCount} rows` : "";
      state.textContent = `${data.status}${data.status === "processing" ? ` ${data.progress || 0}%` : ""}${rows}`;
      if (data.status === "failed") state.textContent = "failed: " + (data.errorMessage || data.error || "unknown error");
      if (data.status === "completed" && data.downloadUrl) {
        const name = fileName(data.format || chosenFormat);
        // The server names the file too (Content-Disposition wins over the download attribute).
        download.href = data.downloadUrl + (data.downloadUrl.includes("?") ? "&" : "?") + "download=" + encodeURIComponent(name);
        download.download = name;
        download.hidden = false;
        download.textContent = "Download" + (data.expiresAt ? ` (until ${ArgusLive.formatTime(data.expiresAt)})` : "");
        // A PDF can be read in the browser: in a tab of its own, so the dashboard stays where it was.
        open.href = data.downloadUrl;
        open.hidden = (data.format || chosenFormat) !== "pdf";
      }
    }

    let chosenFormat = "csv";
    // The saved file's name says what it holds, e.g. attendance_2026-11-01_2026-11-30.csv (not the job's id).
    function fileName(format) {
      const today = new Date().toISOString().slice(0, 10);
      const span = [filters.dateFrom, filters.dateTo].filter(Boolean).join("_") || today;
      return `attendance_${span}.${format}`;
    }

    async function poll(jobId) {
      try {
        const data = await call("GET", `${root.dataset.exportUrl}/${encodeURIComponent(jobId)}`);
        show(data);
        if (data.status === "completed" || data.status === "failed") {
          buttons.forEach((button) => (button.disabled = false));
          return;
        }
      } catch (err) {
        state.textContent = "still waiting (" + err.message + ")";
      }
      setTimeout(() => poll(jobId), POLL_MS);
    }

    buttons.forEach((button) =>
      button.addEventListener("click", async () => {
        buttons.forEach((other) => (other.disabled = true));
        chosenFormat = button.dataset.format;
        download.hidden = true;
        open.hidden = true;
        show({ status: "queued", progress: 0 });
        try {
          const data = await call("POST", root.dataset.exportUrl, { format: button.dataset.format, ...filters });
          poll(data.jobId || data.id);
        } catch (err) {
          state.textContent = "export refused: " + err.message;
          buttons.forEach((other) => (other.disabled = false));
        }
      })
    );
  }

  // --- Odoo ---------------------------------------------------------------------------------------------

  const odooBox = document.getElementById("odoo-box");
  if (odooBox) {
    const list = odooBox.querySelector('[data-role="odoo-status"]');
    const message = odooBox.querySelector('[data-role="odoo-message"]');
    const sync = odooBox.querySelector('[data-role="odoo-sync"]');
    const SHOWN = [
      ["status", "Status"],
      ["pendingCount", "Pending"],
      ["failureCount", "Failed"],
      ["syncedCount", "Synced"],
      ["lastSync", "Last sync"],
      ["lastError", "Last error"],
    ];

    async function refresh() {
      try {
        const data = await call("GET", root.dataset.odooStatusUrl);
        list.replaceChildren();
        SHOWN.forEach(([key, label]) => {
          if (data[key] === undefined || data[key] === null || data[key] === "") return;
          const dt = document.createElement("dt");
          dt.textContent = label;
          const dd = document.createElement("dd");
          dd.textContent = key === "lastSync" ? ArgusLive.formatTime(data[key]) : String(data[key]);
          list.append(dt, dd);
        });
        // Sync stays off until Odoo is set up (Admin → Odoo): the API would only refuse it.
        if (sync) sync.disabled = data.configured === false;
        message.textContent = data.configured === false ? "Odoo is not configured yet (Admin → Odoo)." : "";
      } catch (err) {
        message.textContent = "Odoo status unavailable: " + err.message;
      }
    }

    if (sync) {
      sync.addEventListener("click", async () => {
        sync.disabled = true;
        message.textContent = "queueing a sync…";
        try {
          const data = await call("POST", root.dataset.odooSyncUrl, {});
          message.textContent = `sync ${data.status} (${data.jobId})`;
        } catch (err) {
          message.textContent = "sync refused: " + err.message;
        }
        setTimeout(refresh, 2000); // refresh() turns the button back on
      });
    }
    refresh();
    setInterval(refresh, 20000); // 001's Attendance page polls the Odoo status every 20 s
  }
})();
