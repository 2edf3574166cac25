// Prelabel's AI-assistant page: plain DOM, no framework, no build step.
// Everything goes through the HTTP API with the caller's ID token (Bearer); the organization is
// the token's, never the page's.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = "prelabel.token";
  const API_KEY = "prelabel.api";
  const POLL_MS = 1000;
  const ACTIVE = new Set(["RUNNING", "STOPPING"]);

  const state = {
    projects: [],
    projectId: null,
    classes: [],
    assistant: null,
    run: null,
    pollTimer: null,
    taskTimer: null,
    tasksCursor: null,
    selectedTask: null,
  };

  // ---------- token and API ----------

  function apiBase() {
    const fromQuery = new URLSearchParams(location.search).get("api");
    if (fromQuery) sessionStorage.setItem(API_KEY, fromQuery);
    const meta = document.querySelector('meta[name="prelabel-api-base"]');
    return (sessionStorage.getItem(API_KEY) || (meta && meta.content) || "/api").replace(/\/$/, "");
  }

  function tokenFromFragment() {
    // #token=eyJ... or #eyJ...; removed from the address bar once read.
    const frag = location.hash.replace(/^#/, "");
    if (!frag) return null;
    const params = new URLSearchParams(frag);
    const token = params.get("token") || params.get("id_token") || (frag.split(".").length === 3 ? frag : null);
    if (token) history.replaceState(null, "", location.pathname + location.search);
    return token;
  }

  class ApiError extends Error {
    constructor(status, body) {
      // Every error is {code, message, field}; API Gateway's own refusals carry only message.
      const e = body && typeof body === "object" ? body : {};
      super(e.message || `HTTP ${status}`);
      this.status = status;
      this.field = e.field || null;
      this.code = e.code || null;
    }
  }

  async function api(method, path, body) {
    const headers = { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) || ""}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(apiBase() + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = { message: text }; }
    if (res.status === 401) {
      signOut("The token was refused (expired or not valid). Paste a new one.");
      throw new ApiError(401, data);
    }
    if (!res.ok) throw new ApiError(res.status, data);
    return { status: res.status, body: data };
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    stopPolling();
    $("app").hidden = true;
    $("project-picker").hidden = true;
    $("sign-out").hidden = true;
    $("signin").hidden = false;
    $("signin-error").textContent = message || "";
  }

  // ---------- small helpers ----------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "testid") node.dataset.testid = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  function show(id, visible) { $(id).hidden = !visible; }

  function globalError(err) {
    const box = $("global-error");
    box.textContent = err ? String(err.message || err) : "";
    box.hidden = !err;
  }

  function plural(n, word) {
    return `${n} ${word}${n === 1 ? "" : /(x|s|ch|sh)$/.test(word) ? "es" : "s"}`;
  }

  const PALETTE = ["#ff4d6d", "#2fbf71", "#ffb703", "#00b4d8", "#b15cff", "#ff7b00", "#4361ee"];
  function colorFor(key) {
    // The same entry keeps its colour: by its position in the project's bbox entries.
    const entries = state.assistant ? state.assistant.mapping.bbox_entries.map((e) => e.id) : [];
    let i = entries.indexOf(key);
    if (i < 0) { i = 0; for (const ch of key) i = (i * 31 + ch.charCodeAt(0)) % 997; }
    return PALETTE[i % PALETTE.length];
  }

  // ---------- projects ----------

  async function loadProjects() {
    const { body } = await api("GET", "/projects");
    state.projects = body;
    const select = $("project-select");
    select.replaceChildren(...body.map((p) => el("option", { value: p.project_id }, p.name)));
    $("project-picker").hidden = body.length === 0;
    show("no-projects", body.length === 0);
    show("workspace", body.length > 0);
    if (!body.length) return;
    const wanted = sessionStorage.getItem("prelabel.project");
    state.projectId = body.some((p) => p.project_id === wanted) ? wanted : body[0].project_id;
    select.value = state.projectId;
    await openProject();
  }

  async function openProject() {
    sessionStorage.setItem("prelabel.project", state.projectId);
    stopPolling();
    state.selectedTask = null;
    $("preview-card").hidden = true;
    $("confirm-box").hidden = true;
    $("run-error").textContent = "";
    $("mapping-error").textContent = "";
    $("mapping-status").textContent = "";
    $("task-list").replaceChildren();
    await Promise.all([loadAssistant(true), loadTasks(false)]);
  }

  // ---------- the assistant view: mapping, limit, start blockers, run ----------

  async function loadAssistant(renderMapping) {
    const { body } = await api("GET", `/projects/${state.projectId}/assistant`);
    state.assistant = body;
    if (renderMapping) fillMapping(body.mapping);
    renderLimit(body.limit, body.eligible_tasks);
    renderRun(body.run);
    if (body.run && ACTIVE.has(body.run.status)) startPolling();
  }

  function renderLimit(limit, eligible) {
    $("limit-remaining").textContent = `${limit.remaining} of ${limit.monthly_limit}`;
    $("limit-detail").textContent = `images this month · plan ${limit.plan}`;
    $("limit-remaining").classList.toggle("zero", limit.remaining === 0);
    $("eligible-count").textContent = String(eligible);
  }

  function runActive() { return !!(state.run && ACTIVE.has(state.run.status)); }

  function renderButtons() {
    const a = state.assistant;
    const active = runActive();
    const reasons = [];
    if (active) reasons.push(`A run is ${state.run.status.toLowerCase()}.`);
    else if (a && !a.can_start) reasons.push(...a.start_blockers);
    else if (a && a.eligible_tasks === 0) {
      reasons.push("no WAITING task is left without pre-labels; move tasks to WAITING first");
    }
    const start = $("start-button");
    start.disabled = active || !a || reasons.length > 0 || !$("confirm-box").hidden;
    start.title = reasons.join(" ");
    const reason = $("start-reason");
    reason.textContent = !active && reasons.length ? `Cannot start: ${reasons.join("; ")}` : "";
    reason.hidden = active || !reasons.length;
    $("stop-button").disabled = !(state.run && state.run.status === "RUNNING");
    // The mapping can change whenever no run is active.
    $("mapping-locked").hidden = !active;
    for (const node of $("mapping-form").querySelectorAll("input, select, button")) {
      node.disabled = active || !(a && a.mapping.bbox_entries.length);
    }
  }

  function renderRun(run) {
    state.run = run;
    const status = $("run-status");
    status.textContent = run ? run.status : "no run yet";
    status.className = `badge ${run ? run.status.toLowerCase() : ""}`;
    status.dataset.status = run ? run.status : "";
    show("progress", !!run);
    if (run) {
      const pct = Math.max(0, Math.min(100, run.percent));
      $("progress-bar").style.width = `${pct}%`;
      $("progress-role").setAttribute("aria-valuenow", String(pct));
      $("progress-percent").textContent = `${Math.round(pct)}%`;
      $("progress-counts").textContent =
        `${run.labeled} labeled · ${run.failed} failed · ${run.skipped_quota} skipped (limit) · ` +
        `${run.left} left of ${run.total}`;
      $("progress").classList.toggle("done", run.status === "COMPLETED");
      $("progress").classList.toggle("active", ACTIVE.has(run.status));
      // A finished run's message is the summary below; show it only while active or failed.
      const terminalOk = run.status === "COMPLETED" || run.status === "STOPPED";
      $("run-message").textContent = terminalOk ? "" : run.message || "";
    } else {
      $("run-message").textContent = "";
    }
    const summary = $("run-summary");
    summary.hidden = true;
    if (run && run.status === "COMPLETED") {
      summary.textContent = `${plural(run.labeled, "image")} pre-labeled` +
        (run.failed ? ` · ${run.failed} failed` : "") +
        (run.skipped_quota ? ` · ${run.skipped_quota} not pre-labeled: the AI-assistance limit ran out` : "");
      summary.className = "summary ok";
      summary.hidden = false;
    } else if (run && run.status === "STOPPED") {
      summary.textContent = `Stopped: ${plural(run.labeled, "image")} pre-labeled, ${run.left} left for a new run`;
      summary.className = "summary warn";
      summary.hidden = false;
    } else if (run && run.status === "FAILED") {
      summary.textContent = `The run failed: ${plural(run.labeled, "image")} pre-labeled`;
      summary.className = "summary error";
      summary.hidden = false;
    }
    renderButtons();
  }

  // ---------- polling the run ----------

  function startPolling() {
    if (state.pollTimer) return;
    const projectId = state.projectId;
    let ticks = 0;
    const tick = async () => {
      if (projectId !== state.projectId) return;
      try {
        const { body } = await api("GET", `/projects/${projectId}/runs/current`);
        if (projectId !== state.projectId) return;
        ticks += 1;
        if (!ACTIVE.has(body.status)) {
          state.pollTimer = null;
          await showRun(body);
          return;
        }
        renderRun(body);
        if (ticks % 3 === 0) loadTasks(false).catch(() => {});
      } catch (err) {
        $("run-error").textContent = err.message;
      }
      state.pollTimer = setTimeout(tick, POLL_MS);
    };
    state.pollTimer = setTimeout(tick, POLL_MS);
  }

  async function showRun(run) {
    if (ACTIVE.has(run.status)) {
      renderRun(run);
      startPolling();
      return;
    }
    // A run's end is shown together with the limit and the task list it left behind.
    await Promise.all([loadAssistant(false), loadTasks(false)]);
    renderRun(run);
  }

  function stopPolling() {
    if (state.pollTimer) clearTimeout(state.pollTimer);
    state.pollTimer = null;
  }

  // ---------- start / confirm / stop ----------

  async function start(confirm) {
    $("run-error").textContent = "";
    $("start-button").disabled = true;
    try {
      const { body } = await api("POST", `/projects/${state.projectId}/runs`, { confirm });
      if (body.confirmation_required) {
        $("confirm-message").textContent = `Only ${body.will_label} of ${body.eligible} images ` +
          `will be pre-labeled: the AI-assistance limit has ${body.will_label} left. Go ahead?`;
        $("confirm-message").title = body.message;
        $("confirm-box").hidden = false;
        renderButtons();
        return;
      }
      $("confirm-box").hidden = true;
      if (body.already_active) $("run-message").textContent = "A run is already active for this project.";
      if (body.run) await showRun(body.run); else startPolling();
    } catch (err) {
      $("run-error").textContent = err.message;
      await loadAssistant(false).catch(() => {});
    }
  }

  async function stop() {
    $("stop-button").disabled = true;
    try {
      const { body } = await api("POST", `/projects/${state.projectId}/runs/stop`);
      await showRun(body);
    } catch (err) {
      $("run-error").textContent = err.message;
      renderButtons();
    }
  }

  // ---------- mapping table ----------

  function fillMapping(mapping) {
    const nobbox = mapping.bbox_entries.length === 0;
    $("mapping-nobbox").hidden = !nobbox;
    $("default-threshold").value = String(mapping.default_threshold);
    $("mapping-rows").replaceChildren(...mapping.rows.map((r) => mappingRow(r)));
    syncEmpty();
    renderButtons();
  }

  function mappingRow(row) {
    const entries = state.assistant ? state.assistant.mapping.bbox_entries : [];
    const cls = el("select", { testid: "mapping-class", "aria-label": "Detector class" },
      el("option", { value: "" }, "— class —"),
      ...state.classes.map((c) => el("option", { value: c.name }, c.name)));
    cls.value = row ? row.detector_class : "";
    const entry = el("select", { testid: "mapping-entry", "aria-label": "Label entry" },
      el("option", { value: "" }, "— entry —"),
      ...entries.map((e) => el("option", { value: e.id }, e.name)));
    entry.value = row ? row.entry_id : (entries.length === 1 ? entries[0].id : "");
    const min = el("input", {
      type: "number", min: "0", max: "1", step: "0.05", class: "num",
      testid: "mapping-min", placeholder: "default", "aria-label": "Minimum confidence",
    });
    if (row && row.min_confidence !== null && row.min_confidence !== undefined) min.value = String(row.min_confidence);
    const remove = el("button", {
      type: "button", class: "icon", testid: "mapping-remove", title: "Remove row",
      onclick: (ev) => { ev.currentTarget.closest("tr").remove(); syncEmpty(); dirty(); },
    }, "✕");
    for (const input of [cls, entry, min]) input.addEventListener("change", dirty);
    return el("tr", { testid: "mapping-row" },
      el("td", {}, cls), el("td", {}, entry), el("td", {}, min), el("td", {}, remove));
  }

  function syncEmpty() { $("mapping-empty").hidden = $("mapping-rows").children.length > 0; }

  function dirty() {
    $("mapping-status").textContent = "";
    for (const tr of $("mapping-rows").children) tr.classList.remove("bad");
  }

  async function saveMapping(ev) {
    ev.preventDefault();
    $("mapping-error").textContent = "";
    $("mapping-status").textContent = "";
    dirty();
    const rows = [...$("mapping-rows").children].map((tr) => {
      const min = tr.querySelector('[data-testid="mapping-min"]').value;
      return {
        detector_class: tr.querySelector('[data-testid="mapping-class"]').value,
        entry_id: tr.querySelector('[data-testid="mapping-entry"]').value,
        min_confidence: min === "" ? null : Number(min),
      };
    });
    const thr = $("default-threshold").value;
    const body = { rows };
    if (thr !== "") body.default_threshold = Number(thr);
    $("mapping-save").disabled = true;
    try {
      await api("PUT", `/projects/${state.projectId}/mapping`, body);
      await loadAssistant(true);
      $("mapping-status").textContent = `Saved · ${plural(rows.length, "row")}`;
    } catch (err) {
      const where = err.field ? ` (${err.field})` : "";
      $("mapping-error").textContent = `${err.message}${where}`;
      const m = /rows\D*(\d+)/.exec(`${err.field || ""} ${err.message}`);
      const bad = m && $("mapping-rows").children[Number(m[1])];
      if (bad) bad.classList.add("bad");
    } finally {
      renderButtons();
    }
  }

  // ---------- tasks ----------

  function taskQuery(cursor) {
    const q = new URLSearchParams({ limit: "50" });
    if ($("task-state-filter").value) q.set("state", $("task-state-filter").value);
    if ($("task-prelabel-filter").value) q.set("prelabeled", $("task-prelabel-filter").value);
    if (cursor) q.set("cursor", cursor);
    return q.toString();
  }

  let taskLoad = 0;
  async function loadTasks(more) {
    const mine = ++taskLoad;
    const projectId = state.projectId;
    // A refresh reloads as many pages as are shown, so the list does not shrink under the user.
    const shown = more ? 0 : $("task-list").children.length;
    const items = [];
    let cursor = more ? state.tasksCursor : null;
    do {
      const { body } = await api("GET", `/projects/${projectId}/tasks?${taskQuery(cursor)}`);
      if (mine !== taskLoad || projectId !== state.projectId) return;
      items.push(...body.tasks);
      cursor = body.cursor;
    } while (!more && cursor && items.length < shown);
    state.tasksCursor = cursor;
    const nodes = items.map(taskItem);
    if (more) $("task-list").append(...nodes); else $("task-list").replaceChildren(...nodes);
    $("tasks-more").hidden = !cursor;
    const list = [...$("task-list").children];
    const marked = list.filter((li) => li.dataset.prelabeled === "true").length;
    $("task-count").textContent = `${list.length}${cursor ? "+" : ""} tasks shown · ${marked} pre-labeled`;
  }

  function taskItem(t) {
    const name = t.image_key.split("/").pop();
    const badges = [];
    if (t.prelabel_state === "DONE") {
      badges.push(el("span", {
        class: "marker", testid: "prelabel-marker", title: `Pre-labeled by AI · ${plural(t.label_count, "box")}`,
      }, "✦ AI"));
      badges.push(el("span", { class: "count", testid: "label-count" }, plural(t.label_count, "box")));
    } else if (t.prelabel_state === "FAILED") {
      badges.push(el("span", {
        class: "marker failed", testid: "prelabel-failed", title: t.prelabel_reason || "failed",
      }, "⚠ failed"));
    }
    const li = el("li", {
      class: `task${state.selectedTask === t.task_id ? " selected" : ""}`,
      testid: "task-row", "data-task-id": t.task_id, "data-prelabeled": String(t.prelabeled),
      tabindex: "0", role: "button", title: t.image_key,
      onclick: () => openPreview(t.task_id),
      onkeydown: (ev) => { if (ev.key === "Enter") openPreview(t.task_id); },
    },
      el("span", { class: "name ellipsis" }, name),
      el("span", { class: `state s-${t.state.toLowerCase()}` }, t.state),
      el("span", { class: "badges" }, ...badges));
    return li;
  }

  // ---------- preview ----------

  async function openPreview(taskId) {
    state.selectedTask = taskId;
    for (const li of $("task-list").children) li.classList.toggle("selected", li.dataset.taskId === taskId);
    const card = $("preview-card");
    card.hidden = false;
    const canvas = $("preview-canvas");
    canvas.dataset.drawn = "false";
    canvas.dataset.taskId = taskId;
    $("preview-note").textContent = "Loading…";
    $("preview-labels").replaceChildren();
    try {
      const [{ body: task }, { body: image }] = await Promise.all([
        api("GET", `/projects/${state.projectId}/tasks/${taskId}`),
        api("GET", `/projects/${state.projectId}/tasks/${taskId}/image`),
      ]);
      if (state.selectedTask !== taskId) return;
      $("preview-title").textContent = task.image_key;
      const img = new Image();
      img.onload = () => { if (state.selectedTask === taskId) draw(canvas, img, task); };
      img.onerror = () => { $("preview-note").textContent = "The image could not be loaded (not an image, or unreadable)."; };
      img.src = image.url;
    } catch (err) {
      $("preview-note").textContent = err.message;
    }
  }

  function draw(canvas, img, task) {
    // Boxes are in pixels of the image as displayed (EXIF orientation applied), as the browser
    // draws it; scale them with the image.
    const natW = task.image_width || img.naturalWidth;
    const natH = task.image_height || img.naturalHeight;
    const maxW = canvas.parentElement.clientWidth || 560;
    const scale = Math.min(maxW / natW, 480 / natH, 1.5);
    canvas.width = Math.round(natW * scale);
    canvas.height = Math.round(natH * scale);
    const ctx = canvas.getContext("2d");
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    ctx.font = "600 12px system-ui, sans-serif";
    ctx.textBaseline = "top";
    for (const l of task.labels) {
      const [x1, y1, x2, y2] = l.box.map((v) => v * scale);
      const color = colorFor(l.entry_id);
      ctx.lineWidth = 4;
      ctx.strokeStyle = "rgba(0, 0, 0, 0.55)";
      ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
      ctx.lineWidth = 2;
      ctx.strokeStyle = color;
      ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
      const text = `${l.entry_name} ${Math.round(l.score * 100)}%`;
      const w = ctx.measureText(text).width + 8;
      const ty = y1 >= 16 ? y1 - 16 : y1;
      ctx.fillStyle = color;
      ctx.fillRect(x1 - 1, ty, w, 16);
      ctx.fillStyle = "#fff";
      ctx.fillText(text, x1 + 3, ty + 2);
    }
    canvas.dataset.drawn = "true";
    canvas.dataset.boxes = String(task.labels.length);
    const state_ = task.prelabel_state === "FAILED" ? `pre-labeling failed: ${task.prelabel_reason}` :
      task.prelabeled ? `${plural(task.labels.length, "pre-label")} from ${task.labels[0] ? task.labels[0].model_name : "the detector"}` :
        "not pre-labeled yet";
    $("preview-note").textContent = `${natW}×${natH} px · ${state_}`;
    $("preview-labels").replaceChildren(...task.labels.map((l) => el("li", { testid: "preview-label" },
      el("span", { class: "swatch", style: null }), `${l.entry_name}`,
      el("span", { class: "muted" }, ` ${l.detector_class} · ${l.score.toFixed(2)}`))));
    [...$("preview-labels").children].forEach((li, i) => {
      li.querySelector(".swatch").style.background = colorFor(task.labels[i].entry_id);
    });
  }

  // ---------- boot ----------

  async function boot() {
    $("signin").hidden = true;
    $("app").hidden = false;
    $("sign-out").hidden = false;
    globalError(null);
    try {
      const { body } = await api("GET", "/detector-classes");
      state.classes = body;
      await loadProjects();
    } catch (err) {
      if (err.status !== 401) globalError(err);
    }
  }

  function wire() {
    $("token-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const token = $("token-input").value.trim();
      if (!token) { $("signin-error").textContent = "Paste a token first."; return; }
      sessionStorage.setItem(TOKEN_KEY, token);
      $("token-input").value = "";
      $("signin-error").textContent = "";
      boot();
    });
    $("sign-out").addEventListener("click", () => signOut(""));
    $("project-select").addEventListener("change", (ev) => {
      state.projectId = ev.target.value;
      openProject().catch(globalError);
    });
    $("mapping-add").addEventListener("click", () => {
      $("mapping-rows").append(mappingRow(null)); syncEmpty(); dirty();
    });
    $("mapping-form").addEventListener("submit", saveMapping);
    $("start-button").addEventListener("click", () => start(false));
    $("confirm-yes").addEventListener("click", () => { $("confirm-box").hidden = true; start(true); });
    $("confirm-no").addEventListener("click", () => {
      $("confirm-box").hidden = true;
      $("run-message").textContent = "Not started.";
      renderButtons();
    });
    $("stop-button").addEventListener("click", stop);
    const refilter = () => { $("task-list").replaceChildren(); loadTasks(false).catch(globalError); };
    $("task-state-filter").addEventListener("change", refilter);
    $("task-prelabel-filter").addEventListener("change", refilter);
    $("tasks-more").addEventListener("click", () => loadTasks(true).catch(globalError));
  }

  wire();
  const fromUrl = tokenFromFragment();
  if (fromUrl) sessionStorage.setItem(TOKEN_KEY, fromUrl);
  if (sessionStorage.getItem(TOKEN_KEY)) boot(); else signOut("");
})();
