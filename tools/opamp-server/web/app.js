// The page's only script: polls the JSON API and posts the action forms. No dependencies.
"use strict";
(function () {
  const REFRESH_MS = 1000;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") node.className = value; else node.setAttribute(key, value);
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }
  function replace(id, ...children) {
    const node = document.getElementById(id);
    if (node) node.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined));
  }
  function text(id, value) {
    const node = document.getElementById(id);
    if (node && node.textContent !== String(value)) node.textContent = String(value);
  }
  function attributesTable(attributes) {
    const entries = Object.entries(attributes || {});
    if (entries.length === 0) return el("p", { class: "muted" }, "none");
    return el("table", {}, entries.map(([k, v]) =>
      el("tr", {}, el("th", {}, k), el("td", {}, typeof v === "object" ? JSON.stringify(v) : String(v)))));
  }
  function serviceName(agent) {
    const d = agent.description;
    if (!d) return "";
    return d.identifying_attributes["service.name"] || d.non_identifying_attributes["host.name"] || "";
  }
  function stateText(agent) { return agent.connection.connected ? "connected" : "disconnected"; }
  function healthText(agent) {
    if (!agent.health) return "";
    return agent.health.healthy ? "healthy" : "unhealthy";
  }
  function lines(textValue, separator) {
    const out = [];
    for (const line of (textValue || "").split("\n")) {
      const at = line.indexOf(separator);
      if (at <= 0) continue;
      out.push([line.slice(0, at).trim(), line.slice(at + 1).trim()]);
    }
    return out;
  }
  function headerObject(textValue) {
    return lines(textValue, ":").map(([key, value]) => ({ key, value }));
  }

  async function showPackageSigningKey() {
    const pre = document.getElementById("package-signing-key-pem");
    if (!pre) return;
    try {
      const response = await fetch("/api/package-signing-key", { cache: "no-store" });
      if (!response.ok) throw new Error("HTTP " + response.status);
      pre.textContent = await response.text();
    } catch (error) {
      pre.textContent = "cannot load the package signing key: " + error.message;
    }
  }

  async function getJson(url) {
    const response = await fetch(url, { cache: "no-store" });
    if (!response.ok) throw new Error(url + ": HTTP " + response.status);
    return response.json();
  }

  // ---- agent list ----
  function renderAgentRows(agents) {
    return agents.map((agent) => el("tr", { "data-uid": agent.instance_uid },
      el("td", {}, el("a", { href: "/agents/" + agent.instance_uid }, el("code", {}, agent.instance_uid))),
      el("td", {}, serviceName(agent)),
      el("td", { class: agent.connection.connected ? "ok" : "bad" }, stateText(agent)),
      el("td", {}, agent.connection.transport),
      el("td", { class: agent.health && agent.health.healthy ? "ok" : "bad" }, healthText(agent)),
      el("td", {}, agent.remote_config_status ? agent.remote_config_status.status : ""),
      el("td", {}, agent.last_seen),
      el("td", {}, agent.message_count)));
  }
  async function refreshIndex() {
    try {
      const data = await getJson("/api/agents");
      replace("agent-rows", renderAgentRows(data.agents));
      text("agent-summary", data.agents.length + " agents, " + data.connected_count + " connected");
      text("refresh-error", "");
    } catch (error) {
      text("refresh-error", "Refresh failed: " + error.message);
    }
  }

  // ---- agent detail ----
  const uid = document.body.dataset.uid;

  function healthTree(name, health) {
    const children = Object.entries(health.components || {}).map(([n, h]) => healthTree(n, h));
    return el("li", {},
      el("span", { class: health.healthy ? "ok" : "bad" }, health.healthy ? "●" : "○"), " ",
      el("strong", {}, name), " ", health.status || "",
      health.last_error ? el("span", { class: "error" }, " " + health.last_error) : null,
      children.length ? el("ul", { class: "tree" }, children) : null);
  }
  function componentTree(components) {
    const entries = Object.entries(components || {});
    if (entries.length === 0) return null;
    return el("ul", { class: "tree" }, entries.map(([name, details]) =>
      el("li", {}, name, componentTree(details.sub_components))));
  }
  function renderAgent(agent, messages) {
    const c = agent.connection;
    text("status-line", `${stateText(agent)} over ${c.transport} from ${c.peer} · last seen ${agent.last_seen}` +
      ` · seq ${agent.sequence_num} · ${agent.message_count} messages` +
      (c.disconnect_seen ? " · agent_disconnect received" : ""));
    replace("description", agent.description
      ? [el("h3", {}, "Identifying"), attributesTable(agent.description.identifying_attributes),
         el("h3", {}, "Non-identifying"), attributesTable(agent.description.non_identifying_attributes)]
      : el("p", { class: "muted" }, "not reported"));
    replace("capabilities", el("p", {}, el("code", {}, "0x" + agent.capabilities.value.toString(16)), " "),
      agent.capabilities.names.map((n) => el("span", { class: "pill" }, n)));
    replace("health", agent.health ? el("ul", { class: "tree" }, healthTree("agent", agent.health))
                                   : el("p", { class: "muted" }, "not reported"));
    const rcs = agent.remote_config_status;
    text("remote-config-status", rcs ? rcs.status : "none");
    text("remote-config-error", rcs && rcs.error_message ? rcs.error_message : "");
    text("remote-config-hash", rcs ? rcs.last_remote_config_hash : "");
    text("remote-config-desired-hash", agent.remote_config ? agent.remote_config.hash : "");
    const files = agent.effective_config ? Object.entries(agent.effective_config.files) : [];
    replace("effective-config", files.length === 0 ? el("p", { class: "muted" }, "not reported")
      : files.map(([name, file]) => [el("h3", {}, name === "" ? "(single file)" : name),
          el("pre", {}, file.body !== null ? file.body : "(binary, " + file.size_bytes + " bytes)")]));
    const css = agent.connection_settings_status;
    text("connection-settings-status", css ? css.status + (css.error_message ? ": " + css.error_message : "") : "none");
    replace("connection-settings-offers", agent.connection_settings_offers
      ? el("pre", {}, JSON.stringify(agent.connection_settings_offers, null, 2)) : null);
    const ps = agent.package_statuses;
    replace("package-statuses", ps ? el("table", {},
        el("tr", {}, el("th", {}, "Package"), el("th", {}, "Status"), el("th", {}, "Has"), el("th", {}, "Offered"), el("th", {}, "Error")),
        Object.entries(ps.packages).map(([name, p]) => el("tr", {}, el("td", {}, name), el("td", {}, packageStatusText(p)),
          el("td", {}, p.agent_has_version), el("td", {}, p.server_offered_version), el("td", { class: "error" }, p.error_message))))
      : el("p", { class: "muted" }, "not reported"));
    replace("custom",
      el("p", {}, (agent.custom_capabilities || []).map((n) => el("span", { class: "pill" }, n))),
      el("table", {}, (agent.custom_messages || []).slice(-10).map((m) => el("tr", {},
        el("td", {}, m.time), el("td", {}, m.capability), el("td", {}, m.type),
        el("td", {}, m.data !== null ? m.data : m.data_base64)))));
    const ac = agent.available_components;
    replace("components", ac ? [el("p", { class: "muted" }, "hash " + ac.hash), componentTree(ac.components)]
                             : el("p", { class: "muted" }, "not reported"));
    replace("messages", el("table", {},
      el("tr", {}, el("th", {}, "Time"), el("th", {}, "Seq"), el("th", {}, "Fields")),
      messages.slice().reverse().map((m) => el("tr", {}, el("td", {}, m.time), el("td", {}, m.sequence_num),
        el("td", {}, m.fields.filter((f) => f !== "instance_uid" && f !== "sequence_num").join(", "))))));
  }
  // "Downloading 42% (1.5 MB/s)" while a download runs; the status alone otherwise.
  function packageStatusText(p) {
    if (p.status !== "Downloading") return p.status;
    let text = p.status + " " + Math.floor(p.download_percent || 0) + "%";
    const rate = p.download_bytes_per_second || 0;
    if (rate > 0) text += " (" + (rate >= 1e6 ? (rate / 1e6).toFixed(1) + " MB/s" : (rate / 1e3).toFixed(1) + " kB/s") + ")";
    return text;
  }
  async function refreshAgent() {
    try {
      const [agent, messages] = await Promise.all([
        getJson("/api/agents/" + uid), getJson("/api/agents/" + uid + "/messages?limit=20")]);
      renderAgent(agent, messages.messages);
      text("refresh-error", "");
    } catch (error) {
      text("refresh-error", "Refresh failed: " + error.message);
    }
  }

  function readFileBase64(input) {
    return new Promise((resolve, reject) => {
      const file = input.files && input.files[0];
      if (!file) { resolve(null); return; }
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(file);
    });
  }

  async function actionBody(form) {
    const f = form.elements;
    switch (form.dataset.action) {
      case "config": {
        // Every row is a file; the push replaces the agent's whole remote config.
        const files = {};
        for (const row of form.querySelectorAll(".config-file")) {
          const name = row.querySelector(".config-file-name").value;
          if (Object.prototype.hasOwnProperty.call(files, name)) {
            throw new Error("two files are named \"" + name + "\"");
          }
          const file = { content_type: row.dataset.contentType || "text/yaml" };
          if (row.dataset.bodyBase64 !== undefined) file.body_base64 = row.dataset.bodyBase64;
          else file.body = row.querySelector(".config-file-body").value;
          files[name] = file;
        }
        return { files };
      }
      case "connection-settings": {
        const body = { destination_endpoint: f.destination_endpoint.value, headers: headerObject(f.headers.value) };
        if (f.heartbeat_interval_seconds.value !== "") body.heartbeat_interval_seconds = Number(f.heartbeat_interval_seconds.value);
        if (f.cert.value || f.private_key.value || f.ca_cert.value) {
          body.certificate = { cert: f.cert.value, private_key: f.private_key.value, ca_cert: f.ca_cert.value };
        }
        return body;
      }
      case "own-telemetry": {
        const body = {};
        body[f.signal.value] = { destination_endpoint: f.destination_endpoint.value, headers: headerObject(f.headers.value) };
        return body;
      }
      case "other-connections": {
        // Merged by name on the server: the other connections stay as they were set.
        // A name with nothing else set is an empty entry, which withdraws that connection.
        const connections = {};
        const entry = { destination_endpoint: f.destination_endpoint.value,
          headers: headerObject(f.headers.value), other_settings: Object.fromEntries(lines(f.other_settings.value, "=")) };
        if (f.cert.value || f.private_key.value || f.ca_cert.value) {
          entry.certificate = { cert: f.cert.value, private_key: f.private_key.value, ca_cert: f.ca_cert.value };
        }
        if (f.proxy_url.value) entry.proxy = { url: f.proxy_url.value };
        connections[f.name.value] = entry;
        return { merge: true, connections };
      }
      case "packages": {
        // "keep others": merged by name on the server, so the other offered packages stay
        // exactly as they were offered (content, signature, download headers); unchecked,
        // this one package replaces the whole offer.
        const packages = {};
        const entry = { version: f.version.value, type: f.type.value };
        const content = await readFileBase64(f.content);
        if (content !== null) entry.content_base64 = content;
        else if (f.file_path.value) entry.file_path = f.file_path.value;
        const signature = await readFileBase64(f.signature);
        if (signature !== null) entry.signature_base64 = signature;
        packages[f.name.value] = entry;
        return f.keep_others.checked ? { merge: true, packages } : { packages };
      }
      case "custom-message":
        return { capability: f.capability.value, type: f.type.value, data: f.data.value };
      default:
        return {};
    }
  }

  async function submitAction(event) {
    event.preventDefault();
    const form = event.target;
    const result = document.getElementById("action-result");
    try {
      const body = await actionBody(form);
      const response = await fetch("/api/agents/" + uid + "/" + form.dataset.action, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      const answer = await response.json();
      result.className = response.ok ? "ok" : "error";
      result.textContent = response.ok
        ? form.dataset.action + ": " + answer.delivery + (answer.hash ? " (hash " + answer.hash + ")" : "")
        : form.dataset.action + " failed: " + answer.error;
    } catch (error) {
      result.className = "error";
      result.textContent = form.dataset.action + " failed: " + error.message;
    }
    refreshAgent();
  }

  // ---- config file rows ----
  function emptyConfigRow() {
    const row = el("fieldset", { class: "config-file", "data-content-type": "text/yaml" },
      el("label", {}, "File name ", el("input", { class: "config-file-name", value: "", placeholder: "file name, e.g. extra.yaml" })),
      el("label", {}, "Content ", el("textarea", { class: "config-file-body", rows: "8", spellcheck: "false" })),
      el("button", { type: "button", class: "remove-config-file" }, "Remove file"));
    return row;
  }
  function wireConfigRows() {
    const rows = document.getElementById("config-files");
    const add = document.getElementById("add-config-file");
    if (!rows || !add) return;
    add.addEventListener("click", () => rows.append(emptyConfigRow()));
    rows.addEventListener("click", (event) => {
      const button = event.target.closest(".remove-config-file");
      if (button) button.closest(".config-file").remove();
    });
  }

  if (document.body.dataset.page === "index") {
    setInterval(refreshIndex, REFRESH_MS);
  } else {
    for (const form of document.querySelectorAll("form[data-action]")) form.addEventListener("submit", submitAction);
    wireConfigRows();
    showPackageSigningKey();
    refreshAgent();
    setInterval(refreshAgent, REFRESH_MS);
  }
})();
