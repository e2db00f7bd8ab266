// The developer console page: pick an endpoint from the catalogue, fill in its path parameters, query
// and payload, and call it through POST /api/v1/developer/endpoints/{id}/invoke with the page's Bearer
// token (ArgusLive.api, from core.js). The platform runs the call as the signed-in user.
(function () {
  const root = document.getElementById("developer");
  if (!root) return;
  const catalogue = new Map(JSON.parse(document.getElementById("endpoint-catalogue").textContent).map((e) => [e.id, e]));
  const target = document.getElementById("invoke-target");
  const description = document.getElementById("invoke-description");
  const pathParams = document.getElementById("invoke-path-params");
  const query = document.getElementById("invoke-query");
  const payload = document.getElementById("invoke-payload");
  const send = document.getElementById("invoke-send");
  const status = document.getElementById("invoke-status");
  const headersOut = document.getElementById("invoke-headers");
  const bodyOut = document.getElementById("invoke-body");
  let selected = null;

  document.getElementById("endpoint-filter").addEventListener("input", (event) => {
    const needle = event.target.value.trim().toLowerCase();
    document.querySelectorAll("#endpoints tbody tr").forEach((row) => {
      row.hidden = needle !== "" && !row.dataset.search.includes(needle);
    });
  });

  document.getElementById("endpoints").addEventListener("click", (event) => {
    const button = event.target.closest("[data-select]");
    if (!button) return;
    selected = catalogue.get(button.dataset.select);
    target.textContent = `${selected.method} ${selected.path}  (${selected.id})`;
    description.textContent = selected.description;
    const params = {};
    selected.path_params.forEach((name) => (params[name] = ""));
    pathParams.value = JSON.stringify(params, null, 2);
    query.value = "{}";
    query.title = selected.query_params.length ? "Known: " + selected.query_params.join(", ") : "";
    payload.disabled = !["POST", "PUT", "PATCH", "DELETE"].includes(selected.method);
    if (payload.disabled) payload.value = "";
    send.disabled = false;
    // The request panel comes to the row: beside it on a wide screen (sticky), scrolled to on a narrow one.
    document.getElementById("invoke-form").scrollIntoView({ block: "nearest" });
  });

  function parsed(field, label) {
    const text = field.value.trim();
    if (!text) return undefined;
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new Error(`${label} is not valid JSON`);
    }
  }

  function show(code, headers, body) {
    status.textContent = code;
    status.className = "badge " + (code < 300 ? "green" : code < 500 ? "amber" : "red");
    headersOut.textContent = Object.entries(headers || {}).map(([k, v]) => `${k}: ${v}`).join("\n");
    bodyOut.textContent = typeof body === "string" ? body : JSON.stringify(body, null, 2);
  }

  document.getElementById("invoke-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!selected) return;
    let request;
    try {
      request = { pathParams: parsed(pathParams, "Path parameters") || {}, query: parsed(query, "Query") || {} };
      const body = parsed(payload, "Payload");
      if (body !== undefined) request.payload = body;
    } catch (err) {
      show("invalid", {}, err.message);
      return;
    }
    send.disabled = true;
    try {
      const url = root.dataset.invokeUrl.replace("ENDPOINT_ID", encodeURIComponent(selected.id));
      const response = await ArgusLive.api(url, { method: "POST", body: request });
      const answer = await response.json();
      if (answer.success) show(answer.data.status, answer.data.headers, answer.data.body);
      else show(response.status, {}, answer.error);
    } catch (err) {
      show("error", {}, err.message);
    } finally {
      send.disabled = false;
    }
  });
})();
