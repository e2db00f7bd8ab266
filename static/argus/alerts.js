// The alerts page: rows follow the alerts channel (new alerts are inserted at the top when they match
// the filters and page 1 is shown; changed ones are updated in place), and notifications arrive live.
(function () {
  const table = document.getElementById("alerts");
  if (!table) return;
  const body = table.tBodies[0];
  const template = document.getElementById("alert-row-template");
  const filters = document.getElementById("alert-filters").dataset;
  const badges = JSON.parse(document.getElementById("level-badges").textContent);
  const notifications = document.getElementById("notifications");
  const MAX_NOTIFICATIONS = 20;

  function matches(alert) {
    if (filters.level && alert.level !== filters.level) return false;
    if (filters.open === "true" && alert.resolvedAt) return false;
    if (filters.open === "false" && !alert.resolvedAt) return false;
    return true;
  }

  function fill(row, alert, flash) {
    const cell = (role) => row.querySelector(`[data-role="${role}"]`);
    const level = cell("level");
    level.textContent = alert.level;
    level.className = "badge " + (badges[alert.level] || "");
    cell("title").textContent = alert.title;
    cell("description").textContent = alert.description || "";
    cell("camera").textContent = alert.cameraId || "—";
    cell("time").replaceChildren(ArgusLive.timeElement(alert.timestamp));
    cell("acknowledged").textContent = alert.acknowledged ? "yes" : "no";
    cell("muted").textContent = alert.muted ? "yes" : "no";
    if (alert.resolvedAt) {
      cell("resolved").replaceChildren(ArgusLive.timeElement(alert.resolvedAt));
    } else {
      const open = document.createElement("span");
      open.className = "badge red";
      open.textContent = "open";
      cell("resolved").replaceChildren(open);
    }
    row.classList.toggle("resolved", Boolean(alert.resolvedAt));
    const acknowledge = cell("acknowledge");
    if (acknowledge) acknowledge.disabled = alert.acknowledged;
    const mute = cell("mute");
    if (mute) {
      mute.textContent = alert.muted ? "Unmute" : "Mute";
      cell("muted-value").value = alert.muted ? "0" : "1";
    }
    if (!flash) return;
    row.classList.add("flash");
    setTimeout(() => row.classList.remove("flash"), 1200);
  }

  function newRow(alert) {
    const row = template.content.firstElementChild.cloneNode(true);
    row.id = alert.id;
    row.dataset.alertId = alert.id;
    row.querySelectorAll("form").forEach((form) => {
      form.action = form.getAttribute("action").replace("__ID__", encodeURIComponent(alert.id));
    });
    return row;
  }

  function onAlert(alert, flash = true) {
    let row = body.querySelector(`tr[data-alert-id="${CSS.escape(alert.id)}"]`);
    if (!row) {
      if (!matches(alert) || filters.page !== "1") return;
      row = newRow(alert);
      body.prepend(row);
      body.querySelector("tr.empty").hidden = true;
    }
    fill(row, alert, flash);
  }

  function notificationEntry(item) {
    const entry = document.createElement("li");
    entry.dataset.notificationId = item.id;
    const badge = document.createElement("span");
    badge.className = "badge " + item.level;
    badge.textContent = item.level;
    const title = document.createElement("strong");
    // Notifications link alerts the SPA way (/alerts#ID); here that alert is the row with that id.
    const link = item.link && item.link.startsWith("/alerts#") ? item.link.slice("/alerts".length) : item.link;
    // About an alert on this page: its level, as its row says (not the notification scale's word).
    const row = link && link.startsWith("#") ? document.getElementById(link.slice(1)) : null;
    const rowLevel = row && row.querySelector('[data-role="level"]');
    if (rowLevel) {
      badge.className = rowLevel.className;
      badge.textContent = rowLevel.textContent;
    }
    if (link) {
      const anchor = document.createElement("a");
      anchor.href = link;
      anchor.textContent = item.title;
      title.append(anchor);
    } else {
      title.textContent = item.title;
    }
    const message = document.createElement("div");
    message.className = "hint";
    message.textContent = item.message || "";
    const when = document.createElement("div");
    when.className = "hint";
    when.append(ArgusLive.timeElement(item.timestamp));
    entry.append(badge, " ", title, message, when);
    return entry;
  }

  function onNotification(item) {
    notifications.querySelector("li.empty")?.remove();
    notifications.prepend(notificationEntry(item));
    while (notifications.children.length > MAX_NOTIFICATIONS) notifications.lastElementChild.remove();
  }

  async function resync() {
    // Changes published while the socket was down were missed: re-read the newest alerts and notifications.
    const listed = await ArgusLive.api(`${notifications.dataset.notificationsUrl}?pageSize=${MAX_NOTIFICATIONS}`);
    if (listed.ok) {
      const items = (await listed.json()).data;
      if (items.length) notifications.replaceChildren(...items.map(notificationEntry));
    }
    const query = new URLSearchParams({ pageSize: "50" });
    if (filters.level) query.set("level", filters.level);
    if (filters.open) query.set("open", filters.open);
    const response = await ArgusLive.api(`${table.dataset.alertsUrl}?${query}`);
    if (!response.ok) return;
    const alerts = (await response.json()).data;
    // Oldest first, so new rows end up newest on top; no flash: most of them did not change.
    alerts.reverse().forEach((alert) => onAlert(alert, false));
  }

  ArgusLive.connect({
    channels: ["alerts", "notifications"],
    onMessage(message) {
      if (message.type === "alert") onAlert(message.alert);
      else if (message.type === "notification") onNotification(message.notification);
    },
    onResync: resync,
  });
})();
