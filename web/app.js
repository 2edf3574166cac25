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
  const MAX_IDS_PER_MOVE = 1000;

  const state = {
    classes: [],
    projectId: null,
    // Bumped whenever another project opens: pollers of the previous one stop on their next turn.
    session: 0,
    assistant: null,
    run: null,
    runPolling: false,
    stopping: false,
    // entry id -> [{ name, min }]: the mapping as edited, grouped by bbox entry.
    draft: new Map(),
    tasksCursor: null,
    selectedTask: null,
    checked: new Set(),
    moving: false,
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

  function tokenOrg() {
    // Only to word hints (the operator's command); the API takes the organization from the
    // verified token, never from the page.
    try {
      const part = (sessionStorage.getItem(TOKEN_KEY) || "").split(".")[1] || "";
      const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
      return JSON.parse(json)["custom:org_id"] || null;
    } catch (_) {
      return null;
    }
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

  function errorText(err) {
    // The message names the field already when the API wrote it; add it only when it does not.
    if (!(err instanceof ApiError)) return String((err && err.message) || err);
    const where = err.field && !err.message.includes(err.field) ? ` (${err.field})` : "";
    return `${err.message}${where}`;
  }

  async function api(method, path, body) {
    const headers = { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) || ""}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let res;
    try {
      res = await fetch(apiBase() + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (_) {
      throw new Error("The API could not be reached: check the connection and try again.");
    }
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
    state.session += 1;
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
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function show(id, visible) { $(id).hidden = !visible; }

  function globalError(err) {
    const box = $("global-error");
    box.textContent = err ? errorText(err) : "";
    box.hidden = !err;
  }

  function plural(n, word) {
    return `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : /(x|s|ch|sh)$/.test(word) ? "es" : "s"}`;
  }

  function num(n) { return Number(n).toLocaleString("en-US"); }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function current(session) { return session === state.session; }

  // Polls `read` every second until `done` says so; resolves with the last answer, or null when
  // another project opened meanwhile (the caller then leaves the page alone).
  async function pollUntil(session, read, done, onEach) {
    for (;;) {
      if (!current(session)) return null;
      const value = await read();
      if (!current(session)) return null;
      if (onEach) onEach(value);
      if (done(value)) return value;
      await sleep(POLL_MS);
    }
  }

  const PALETTE = ["#ff4d6d", "#2fbf71", "#ffb703", "#00b4d8", "#b15cff", "#ff7b00", "#4361ee"];
  function colorFor(key) {
    // The same entry keeps its colour: by its position in the project's bbox entries.
    const entries = state.assistant ? state.assistant.mapping.bbox_entries.map((e) => e.id) : [];
    let i = entries.indexOf(key);
    if (i < 0) { i = 0; for (const ch of key) i = (i * 31 + ch.charCodeAt(0)) % 997; }
    return PALETTE[i % PALETTE.length];
  }

  function setBar(barId, roleId, percent) {
    const pct = Math.max(0, Math.min(100, percent));
    $(barId).style.width = `${pct}%`;
    $(roleId).setAttribute("aria-valuenow", String(Math.round(pct)));
  }

  function when(iso) {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? iso : d.toLocaleString("en-GB", {
      day: "2-digit", month: "short", hour: "2-digit", minute: "2-digit", second: "2-digit",
    });
  }

  function took(startIso, endIso) {
    if (!endIso) return "–";
    const s = Math.max(0, Math.round((new Date(endIso) - new Date(startIso)) / 1000));
    return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
  }

  // ---------- projects ----------

  async function loadProjects() {
    const { body } = await api("GET", "/projects");
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
    state.session += 1;
    state.runPolling = false;
    state.selectedTask = null;
    state.checked.clear();
    state.moving = false;
    $("preview-card").hidden = true;
    $("confirm-box").hidden = true;
    for (const id of ["run-error", "mapping-error", "mapping-status", "move-status", "move-error",
      "connect-error", "export-status", "export-error"]) $(id).textContent = "";
    $("move-progress").hidden = true;
    $("export-result").hidden = true;
    $("task-list").replaceChildren();
    await Promise.all([
      loadAssistant(true), loadTasks(false), loadDatasets(), loadRuns(),
      ...projectHooks.map((hook) => hook(state.projectId, state.session)),
    ]);
  }

  // ---------- the assistant view: counters, limit, start blockers, run ----------

  async function loadAssistant(renderMapping) {
    const session = state.session;
    const { body } = await api("GET", `/projects/${state.projectId}/assistant`);
    if (!current(session)) return;
    applyAssistant(body, renderMapping);
    if (body.run && ACTIVE.has(body.run.status)) watchRun();
  }

  function applyAssistant(body, renderMapping) {
    state.assistant = body;
    if (renderMapping) fillMapping(body.mapping);
    renderCounters(body);
    renderRun(body.run);
  }

  function renderCounters(a) {
    const limit = a.limit;
    $("limit-remaining").textContent = `${num(limit.remaining)} of ${num(limit.monthly_limit)}`;
    $("limit-detail").textContent = `images this month · plan ${limit.plan}`;
    $("limit-remaining").classList.toggle("zero", limit.remaining === 0);
    $("eligible-count").textContent = num(a.counts.eligible);
    const c = a.counts;
    $("state-counts").textContent = `WAITING, not pre-labeled yet · ${num(c.backlog)} in BACKLOG`;
    $("move-counts").textContent = `BACKLOG ${num(c.backlog)} · WAITING ${num(c.waiting)} · ` +
      `pre-labeled ${num(c.prelabeled)} · failed ${num(c.failed)} · ${plural(c.total, "task")}`;
    $("move-all-to-waiting").textContent = `BACKLOG → WAITING (${num(c.backlog)})`;
    $("move-all-to-backlog").textContent = `WAITING → BACKLOG (${num(c.waiting)})`;
  }

  function runActive() { return !!(state.run && ACTIVE.has(state.run.status)); }

  // "pre-labeling needs the TEAM_PRO plan; this organization is on TEAM" (domain/start_rules.py)
  const PLAN_RE = /needs the (\w+) plan; this organization is on (\w+)/;

  function renderUpgrade(text) {
    const m = PLAN_RE.exec(text || "");
    $("upgrade-hint").hidden = !m;
    if (!m) return;
    // The hint says it all: the reason box and a refusal's error would repeat its first line.
    $("start-reason-box").hidden = true;
    $("run-error").textContent = "";
    const org = tokenOrg() || "<organization>";
    $("upgrade-title").textContent = `Pre-labeling needs the ${m[1]} plan; this organization is on ${m[2]}.`;
    $("upgrade-text").textContent = "Plans are changed by an operator of this Prelabel installation, " +
      `not on this page: ask yours to move the organization to ${m[1]} ` +
      `(prelabel-admin org set-plan ${org} ${m[1]}). The page allows Start once the plan allows it.`;
  }

  function renderButtons() {
    const a = state.assistant;
    const active = runActive();
    const reasons = [];
    let why = "";
    if (active) reasons.push(`A run is ${state.run.status.toLowerCase()}.`);
    else if (a && !a.can_start) {
      reasons.push(...a.start_blockers);
      why = `Cannot start: ${reasons.join("; ")}`;
    } else if (a && a.counts.eligible === 0) {
      reasons.push("nothing to pre-label");
      const c = a.counts;
      if (c.backlog > 0) {
        why = `Nothing to pre-label yet: no WAITING task is left without pre-labels, and ` +
          `${plural(c.backlog, "task")} wait in BACKLOG. Move them to WAITING to pre-label them.`;
      } else if (c.total === 0) {
        why = "Nothing to pre-label yet: this project has no task. Connect a dataset (its images " +
          "become BACKLOG tasks), then move them to WAITING.";
      } else {
        why = "Nothing left to pre-label: every WAITING task has its pre-labels. Connect more " +
          "images to pre-label more.";
      }
    }
    const confirming = !$("confirm-box").hidden;
    const start = $("start-button");
    start.disabled = active || !a || reasons.length > 0 || confirming || state.stopping;
    start.title = why;
    $("start-reason").textContent = why;
    $("start-reason-box").hidden = !why;
    $("start-reason-box").classList.toggle("info", !active && !!a && a.can_start);
    const offerMove = !active && a && a.can_start && a.counts.eligible === 0 && a.counts.backlog > 0;
    $("reason-move-all").hidden = !offerMove;
    if (offerMove) $("reason-move-all").textContent = `Move all ${num(a.counts.backlog)} BACKLOG tasks to WAITING`;
    if (!active && a) renderUpgrade(a.start_blockers.join("; "));
    // "Only X of Y" before Start: what the limit lets a run take now.
    const only = $("only-notice");
    const short = !active && a && a.can_start && a.counts.eligible > a.limit.remaining;
    only.hidden = !short;
    if (short) {
      only.textContent = `Only ${num(a.limit.remaining)} of ${num(a.counts.eligible)} waiting images ` +
        `will be pre-labeled: the AI-assistance limit has ${num(a.limit.remaining)} left this month. ` +
        "The rest stay waiting for a new run once the limit allows.";
    }
    $("stop-button").disabled = !(state.run && state.run.status === "RUNNING") || state.stopping;
    // The mapping can change whenever no run is active.
    $("mapping-locked").hidden = !active;
    const editable = !active && !!(a && a.mapping.bbox_entries.length);
    for (const node of $("mapping-form").querySelectorAll("input, select, button")) node.disabled = !editable;
    renderMoveButtons();
  }

  function renderRun(run) {
    state.run = run;
    const status = $("run-status");
    const shown = run ? (state.stopping && run.status === "RUNNING" ? "STOPPING" : run.status) : null;
    status.textContent = shown || "no run yet";
    status.className = `badge ${shown ? shown.toLowerCase() : ""}`;
    status.dataset.status = shown || "";
    show("progress", !!run);
    if (run) {
      const pct = Math.max(0, Math.min(100, run.percent));
      setBar("progress-bar", "progress-role", pct);
      $("progress-percent").textContent = `${Math.round(pct)}%`;
      $("progress-counts").textContent =
        `${num(run.labeled)} labeled · ${num(run.failed)} failed · ${num(run.skipped_quota)} skipped (limit) · ` +
        `${num(run.left)} left of ${num(run.total)}`;
      $("progress").classList.toggle("done", run.status === "COMPLETED");
      $("progress").classList.toggle("active", ACTIVE.has(run.status));
      let message = "";
      if (shown === "STOPPING") {
        message = "Stopping: nothing more is charged or labeled; the images in flight are dropped " +
          "and stay waiting for a new run.";
      } else if (run.status === "RUNNING") {
        message = run.message || "Pre-labeling…";
      } else if (run.status === "FAILED") {
        message = run.message || "";
      }
      $("run-message").textContent = message;
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
      summary.textContent = `Stopped: ${plural(run.labeled, "image")} pre-labeled, ${num(run.left)} left for a new run`;
      summary.className = "summary warn";
      summary.hidden = false;
    } else if (run && run.status === "FAILED") {
      summary.textContent = `The run failed: ${plural(run.labeled, "image")} pre-labeled`;
      summary.className = "summary error";
      summary.hidden = false;
    }
    renderButtons();
  }

  // ---------- watching a run: the whole view, every second, until it ends ----------

  async function watchRun() {
    if (state.runPolling) return;
    state.runPolling = true;
    const session = state.session;
    const projectId = state.projectId;
    let ticks = 0;
    let lastStatus = state.run ? state.run.status : "";
    let failed = false;
    loadRuns().catch(() => {});
    try {
      const last = await pollUntil(
        session,
        () => api("GET", `/projects/${projectId}/assistant`).then((r) => r.body),
        (a) => !(a.run && ACTIVE.has(a.run.status)),
        (a) => {
          // Counters, limit and progress refresh together while the run goes on.
          ticks += 1;
          $("run-error").textContent = "";
          applyAssistant(a, false);
          // Past runs follow a status change at once (STOPPING), the rest every third second.
          const status = a.run ? a.run.status : "";
          if (ticks % 3 === 0) Promise.all([loadTasks(false), loadRuns()]).catch(() => {});
          else if (status !== lastStatus) loadRuns().catch(() => {});
          lastStatus = status;
        },
      );
      if (!last) return;
      state.stopping = false;
      applyAssistant(last, false);
      await Promise.all([loadTasks(false), loadRuns()]);
    } catch (err) {
      failed = true;
      if (current(session)) $("run-error").textContent = errorText(err);
    } finally {
      if (current(session)) {
        state.runPolling = false;
        // A run started while this watch was winding down found it still busy: watch that one.
        if (!failed && runActive()) watchRun();
      }
    }
  }

  // ---------- start / confirm / stop ----------

  async function start(confirm) {
    $("run-error").textContent = "";
    $("run-message").textContent = "";
    $("start-button").disabled = true;
    try {
      const { body } = await api("POST", `/projects/${state.projectId}/runs`, { confirm });
      if (body.confirmation_required) {
        $("confirm-message").textContent = `Only ${num(body.will_label)} of ${num(body.eligible)} images ` +
          `will be pre-labeled: the AI-assistance limit has ${num(body.will_label)} left. Go ahead?`;
        $("confirm-message").title = body.message;
        $("confirm-box").hidden = false;
        renderButtons();
        $("confirm-yes").focus();
        return;
      }
      $("confirm-box").hidden = true;
      if (body.already_active) $("run-message").textContent = "A run is already active for this project.";
      if (body.run) renderRun(body.run);
      watchRun();
    } catch (err) {
      $("run-error").textContent = errorText(err);
      await loadAssistant(false).catch(() => {});
      // A refusal the page could not foresee (the plan changed since it loaded) keeps its hint.
      if ($("upgrade-hint").hidden) renderUpgrade(err.message);
    }
  }

  async function stop() {
    state.stopping = true;
    renderRun(state.run);
    try {
      const { body } = await api("POST", `/projects/${state.projectId}/runs/stop`);
      state.stopping = false;
      renderRun(body);
      await Promise.all([loadAssistant(false), loadTasks(false), loadRuns()]);
    } catch (err) {
      state.stopping = false;
      $("run-error").textContent = errorText(err);
      renderRun(state.run);
    }
  }

  // ---------- past runs ----------

  async function loadRuns() {
    const session = state.session;
    const { body } = await api("GET", `/projects/${state.projectId}/runs?limit=10`);
    if (!current(session)) return;
    $("runs-rows").replaceChildren(...body.runs.map((r) => el("tr", { testid: "run-row", "data-run-id": r.run_id },
      el("td", { title: r.run_id }, when(r.started_at)),
      el("td", {}, el("span", { class: `badge ${r.status.toLowerCase()}`, testid: "run-row-status" }, r.status)),
      el("td", { class: "n", testid: "run-row-labeled" }, num(r.labeled)),
      el("td", { class: "n", testid: "run-row-failed" }, num(r.failed)),
      el("td", { class: "n", testid: "run-row-skipped" }, num(r.skipped_quota)),
      el("td", { class: "n", testid: "run-row-total" }, num(r.total)),
      el("td", { class: "n" }, took(r.started_at, r.finished_at)))));
    show("runs-empty", body.runs.length === 0);
  }

  // ---------- mapping: one row per bbox entry, classes as chips ----------

  function fillMapping(mapping) {
    $("mapping-nobbox").hidden = mapping.bbox_entries.length > 0;
    $("default-threshold").value = String(mapping.default_threshold);
    state.draft = new Map(mapping.bbox_entries.map((e) => [e.id, []]));
    state.entryNames = new Map(mapping.bbox_entries.map((e) => [e.id, e.name]));
    for (const r of mapping.rows) {
      // A row whose entry is no longer a bbox entry is kept (the API names it on save).
      if (!state.draft.has(r.entry_id)) {
        state.draft.set(r.entry_id, []);
        state.entryNames.set(r.entry_id, `${r.entry_name} (not a bbox entry)`);
      }
      state.draft.get(r.entry_id).push({ name: r.detector_class, min: r.min_confidence });
    }
    $("mapping-rows").replaceChildren(...[...state.draft.keys()].map(entryRow));
    syncMappingSummary();
    renderButtons();
  }

  function owner(className) {
    for (const [entry, chips] of state.draft) if (chips.some((c) => c.name === className)) return entry;
    return null;
  }

  function entryRow(entryId) {
    const name = state.entryNames.get(entryId) || entryId;
    const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
    swatch.style.background = colorFor(entryId);
    const chips = el("div", { class: "chips", testid: "mapping-chips" });
    const listId = `classes-${entryId}`;
    const search = el("input", {
      type: "text", class: "class-search", testid: "class-search", role: "combobox",
      "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": listId,
      "aria-label": `Add a detector class to ${name}`, placeholder: "+ add class…", autocomplete: "off",
      spellcheck: "false",
    });
    const list = el("ul", { class: "options", role: "listbox", id: listId, testid: "class-options", hidden: true });
    const combo = el("div", { class: "combo" }, search, list);
    const row = el("tr", { testid: "mapping-row", "data-entry-id": entryId },
      el("th", { scope: "row", class: "entry" }, swatch, name),
      el("td", {}, el("div", { class: "chip-line" }, chips, combo)));
    renderChips(row);
    wireCombo(row, search, list);
    return row;
  }

  function renderChips(row) {
    const entryId = row.dataset.entryId;
    const chips = state.draft.get(entryId);
    const box = row.querySelector('[data-testid="mapping-chips"]');
    const fallback = $("default-threshold").value || "";
    box.replaceChildren(...chips.map((chip, i) => {
      const min = el("input", {
        type: "number", min: "0", max: "1", step: "0.05", class: "chip-min", testid: "chip-min",
        placeholder: fallback, "aria-label": `Minimum confidence for ${chip.name} (empty: the default threshold)`,
      });
      if (chip.min !== null && chip.min !== undefined) min.value = String(chip.min);
      min.addEventListener("input", () => {
        chip.min = min.value === "" ? null : Number(min.value);
        dirty();
      });
      const remove = el("button", {
        type: "button", class: "chip-x", testid: "chip-remove", "aria-label": `Remove ${chip.name}`,
        onclick: () => {
          chips.splice(i, 1);
          renderChips(row);
          dirty();
          row.querySelector('[data-testid="class-search"]').focus();
        },
      }, "✕");
      return el("span", { class: "chip", testid: "mapping-chip", "data-class": chip.name },
        el("span", { class: "chip-name" }, chip.name), min, remove);
    }));
  }

  function wireCombo(row, search, list) {
    const entryId = row.dataset.entryId;
    let active = -1;
    let options = [];

    const close = () => {
      list.hidden = true;
      search.setAttribute("aria-expanded", "false");
      search.removeAttribute("aria-activedescendant");
      active = -1;
    };
    const highlight = (i) => {
      const items = [...list.children];
      items.forEach((li, j) => li.classList.toggle("active", j === i));
      active = i;
      if (items[i]) {
        search.setAttribute("aria-activedescendant", items[i].id);
        items[i].scrollIntoView({ block: "nearest" });
      }
    };
    const pick = (cls) => {
      const other = owner(cls.name);
      if (other && other !== entryId) return;
      if (!other) state.draft.get(entryId).push({ name: cls.name, min: null });
      search.value = "";
      renderChips(row);
      dirty();
      // Closed after a pick, so that it covers nothing below; typing opens it again.
      close();
      search.focus();
    };
    const open = () => {
      const q = search.value.trim().toLowerCase();
      const mine = new Set(state.draft.get(entryId).map((c) => c.name));
      // Names that start with what was typed come first, then those that contain it.
      const matches = state.classes.filter((c) => !mine.has(c.name) && c.name.toLowerCase().includes(q));
      matches.sort((a, b) => (b.name.toLowerCase().startsWith(q) - a.name.toLowerCase().startsWith(q)) || a.id - b.id);
      options = matches;
      list.replaceChildren(...matches.map((c, i) => {
        const other = owner(c.name);
        const taken = other && other !== entryId;
        return el("li", {
          role: "option", id: `${list.id}-${c.id}`, testid: "class-option", "data-class": c.name,
          class: taken ? "taken" : null, "aria-disabled": taken ? "true" : null, "aria-selected": "false",
          onmousedown: (ev) => ev.preventDefault(),
          onclick: () => pick(c),
          onmouseenter: () => highlight(i),
        }, c.name, taken ? el("span", { class: "muted small" }, ` in ${state.entryNames.get(other)}`) : null);
      }));
      if (!matches.length) list.append(el("li", { class: "none muted", role: "presentation" }, "no class matches"));
      list.hidden = false;
      search.setAttribute("aria-expanded", "true");
      const first = matches.findIndex((c) => !(owner(c.name) && owner(c.name) !== entryId));
      highlight(q ? first : -1);
    };

    search.addEventListener("click", open);
    search.addEventListener("input", open);
    search.addEventListener("blur", close);
    search.addEventListener("keydown", (ev) => {
      if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        ev.preventDefault();
        if (list.hidden) open();
        const n = options.length;
        if (n) highlight(ev.key === "ArrowDown" ? (active + 1) % n : (active - 1 + n) % n);
      } else if (ev.key === "Enter") {
        ev.preventDefault();
        if (!list.hidden && options[active]) pick(options[active]);
      } else if (ev.key === "Escape") {
        close();
      } else if (ev.key === "Backspace" && search.value === "") {
        const chips = state.draft.get(entryId);
        if (chips.length) { chips.pop(); renderChips(row); dirty(); open(); }
      }
    });
  }

  function mappingRows() {
    const rows = [];
    for (const [entryId, chips] of state.draft) {
      for (const c of chips) rows.push({ detector_class: c.name, entry_id: entryId, min_confidence: c.min });
    }
    return rows;
  }

  function syncMappingSummary() {
    const n = mappingRows().length;
    $("mapping-summary").textContent = n ? `${plural(n, "class")} mapped` : "No class mapped yet: add classes to an entry.";
  }

  function dirty() {
    $("mapping-status").textContent = "";
    for (const chip of $("mapping-rows").querySelectorAll(".chip.bad")) chip.classList.remove("bad");
    syncMappingSummary();
  }

  async function saveMapping(ev) {
    ev.preventDefault();
    $("mapping-error").textContent = "";
    dirty();
    const rows = mappingRows();
    const body = { rows };
    const thr = $("default-threshold").value;
    if (thr !== "") body.default_threshold = Number(thr);
    $("mapping-save").disabled = true;
    try {
      await api("PUT", `/projects/${state.projectId}/mapping`, body);
      await loadAssistant(true);
      $("mapping-status").textContent = `Saved · ${plural(rows.length, "class")}`;
    } catch (err) {
      $("mapping-error").textContent = errorText(err);
      // rows[i] in the API's answer is the i-th chip in the order they were sent.
      const m = /rows\[(\d+)\]/.exec(`${err.field || ""} ${err.message}`);
      const chips = $("mapping-rows").querySelectorAll('[data-testid="mapping-chip"]');
      if (m && chips[Number(m[1])]) chips[Number(m[1])].classList.add("bad");
    } finally {
      renderButtons();
    }
  }

  // ---------- datasets: connect, import progress, import report ----------

  async function loadDatasets() {
    const session = state.session;
    const { body } = await api("GET", `/projects/${state.projectId}/datasets`);
    if (!current(session)) return;
    $("dataset-list").replaceChildren(...body.map(datasetItem));
    show("datasets-empty", body.length === 0);
    if (!$("connect-bucket").value && body.length) $("connect-bucket").value = body[body.length - 1].bucket;
    const org = tokenOrg();
    $("connect-hint").textContent = org ? `This organization's folder: ${org}/ (and folders an operator granted)` : "";
    if (!$("connect-prefix").value && org) $("connect-prefix").placeholder = `${org}/photos/`;
    for (const d of body) if (d.status === "IMPORTING" || d.status === "REMOVING") watchDataset(d.dataset_id);
  }

  function datasetSource(d) {
    return d.manifest_key ? `s3://${d.bucket}/${d.manifest_key} (${d.manifest_format})` : `s3://${d.bucket}/${d.prefix || ""}`;
  }

  function datasetItem(d) {
    const li = el("li", { class: "dataset", testid: "dataset", "data-dataset-id": d.dataset_id, "data-status": d.status });
    fillDataset(li, d);
    return li;
  }

  function fillDataset(li, d) {
    li.dataset.status = d.status;
    const head = el("div", { class: "row between tight" },
      el("span", { class: "source", testid: "dataset-source" }, datasetSource(d)),
      el("span", { class: `badge ${d.status.toLowerCase()}`, testid: "dataset-status" }, d.status));
    const parts = [head];
    if (d.status === "IMPORTING") {
      const p = d.job ? d.job.progress : null;
      const pct = p && p.percent !== null && p.percent !== undefined ? p.percent : null;
      const bar = el("div", { class: `progress${pct === null ? " indeterminate" : ""}`, role: "progressbar",
        "aria-valuemin": "0", "aria-valuemax": "100", "aria-label": "Import progress" }, el("div", { class: "bar" }));
      if (pct !== null) { bar.firstChild.style.width = `${pct}%`; bar.setAttribute("aria-valuenow", String(Math.round(pct))); }
      const looked = p ? `${num(p.done)}${p.total !== null && p.total !== undefined ? ` of ${num(p.total)}` : ""} ${p.unit} read` : "starting";
      parts.push(el("div", { class: "progress-wrap slim active" }, bar),
        el("p", { class: "small muted", testid: "dataset-progress" },
          `Importing… ${looked} · ${plural(d.task_count, "task")} so far`));
    } else if (d.status === "FAILED") {
      parts.push(el("p", { class: "error small", testid: "dataset-failure" }, `Import failed: ${d.failure || "unknown reason"}`));
    } else if (d.status === "REMOVING") {
      parts.push(el("p", { class: "small muted" }, "Disconnecting: its tasks are being removed."));
    }
    if (d.status !== "IMPORTING") {
      parts.push(el("p", { class: "small", testid: "dataset-tasks" }, `${plural(d.task_count, "task")}`));
    }
    if (d.report) parts.push(reportOf(d.report));
    li.replaceChildren(...parts);
  }

  function reportOf(r) {
    const reasons = Object.entries(r.skipped).filter(([, s]) => s.count > 0);
    const skipped = reasons.reduce((n, [, s]) => n + s.count, 0);
    const summary = el("summary", { testid: "report-summary" },
      `Import report: ${plural(r.objects, "object")} looked at · ${plural(r.images, "image")} became tasks` +
      (skipped ? ` · ${num(skipped)} skipped` : " · nothing skipped"));
    const items = reasons.map(([reason, s]) => {
      const shown = s.examples.slice(0, 5);
      return el("li", { testid: "report-reason", "data-reason": reason },
        el("strong", { testid: "report-count" }, num(s.count)), ` ${s.description}`,
        shown.length ? el("ul", { class: "examples" },
          ...shown.map((k) => el("li", { testid: "report-example" }, el("code", {}, k))),
          s.count > shown.length ? el("li", { class: "muted" }, `and ${num(s.count - shown.length)} more`) : null) : null);
    });
    const details = el("details", { class: "report", testid: "import-report" }, summary,
      items.length ? el("ul", { class: "reasons" }, ...items) : el("p", { class: "small muted" }, "Every object was an image."));
    // A report with skipped files opens by itself: that is what the user needs to see.
    if (skipped) details.open = true;
    return details;
  }

  const watchedDatasets = new Set();
  async function watchDataset(datasetId) {
    const key = `${state.session}:${datasetId}`;
    if (watchedDatasets.has(key)) return;
    watchedDatasets.add(key);
    const session = state.session;
    const projectId = state.projectId;
    try {
      const last = await pollUntil(
        session,
        () => api("GET", `/projects/${projectId}/datasets/${datasetId}`).then((r) => r.body),
        (d) => d.status !== "IMPORTING" && d.status !== "REMOVING",
        (d) => {
          const li = $("dataset-list").querySelector(`[data-dataset-id="${datasetId}"]`);
          if (li) fillDataset(li, d);
        },
      );
      if (!last) return;
      await Promise.all([loadAssistant(false), loadTasks(false)]);
    } catch (err) {
      if (current(session)) $("connect-error").textContent = errorText(err);
    } finally {
      watchedDatasets.delete(key);
    }
  }

  function connectKind() {
    return document.querySelector('input[name="kind"]:checked').value;
  }

  function syncConnectKind() {
    const manifest = connectKind() === "manifest";
    $("connect-prefix-label").hidden = manifest;
    $("connect-manifest-label").hidden = !manifest;
    $("connect-format-label").hidden = !manifest;
  }

  async function connect(ev) {
    ev.preventDefault();
    $("connect-error").textContent = "";
    const bucket = $("connect-bucket").value.trim();
    if (!bucket) { $("connect-error").textContent = "bucket: give the S3 bucket that holds the images"; $("connect-bucket").focus(); return; }
    const body = { bucket };
    if (connectKind() === "manifest") {
      const key = $("connect-manifest-key").value.trim();
      if (!key) { $("connect-error").textContent = "manifest_key: give the manifest's key in the bucket"; $("connect-manifest-key").focus(); return; }
      body.manifest_key = key;
      body.manifest_format = $("connect-manifest-format").value;
    } else {
      body.prefix = $("connect-prefix").value.trim();
    }
    $("connect-button").disabled = true;
    try {
      const { body: d } = await api("POST", `/projects/${state.projectId}/datasets`, body);
      const list = $("dataset-list");
      const old = list.querySelector(`[data-dataset-id="${d.dataset_id}"]`);
      const li = datasetItem(d);
      if (old) old.replaceWith(li); else list.append(li);
      show("datasets-empty", false);
      watchDataset(d.dataset_id);
    } catch (err) {
      $("connect-error").textContent = errorText(err);
    } finally {
      $("connect-button").disabled = false;
    }
  }

  // ---------- moving tasks BACKLOG <-> WAITING ----------

  function renderMoveButtons() {
    const a = state.assistant;
    const active = runActive();
    const busy = state.moving;
    const c = a ? a.counts : null;
    $("move-all-to-waiting").disabled = busy || !c || c.backlog === 0;
    // Tasks cannot leave WAITING while a run is active (the API refuses it too).
    $("move-all-to-backlog").disabled = busy || !c || c.waiting === 0 || active;
    const checked = checkedTasks();
    const inBacklog = checked.filter((t) => t.state === "BACKLOG").length;
    const inWaiting = checked.filter((t) => t.state === "WAITING").length;
    $("move-selected-to-waiting").disabled = busy || inBacklog === 0;
    $("move-selected-to-backlog").disabled = busy || inWaiting === 0 || active;
    $("move-selected-to-waiting").textContent = `→ WAITING${inBacklog ? ` (${inBacklog})` : ""}`;
    $("move-selected-to-backlog").textContent = `→ BACKLOG${inWaiting ? ` (${inWaiting})` : ""}`;
    $("selected-count").textContent = `${checked.length} selected:`;
    const boxes = [...$("task-list").querySelectorAll('[data-testid="task-check"]')];
    $("select-all").checked = boxes.length > 0 && boxes.every((b) => b.checked);
    $("select-all").indeterminate = boxes.some((b) => b.checked) && !$("select-all").checked;
  }

  function checkedTasks() {
    return [...$("task-list").children]
      .filter((li) => state.checked.has(li.dataset.taskId))
      .map((li) => ({ id: li.dataset.taskId, state: li.dataset.state }));
  }

  async function moveSelected(from, to) {
    const ids = checkedTasks().filter((t) => t.state === from).map((t) => t.id);
    if (!ids.length) return;
    $("move-error").textContent = "";
    $("move-status").textContent = `Moving ${plural(ids.length, "task")} to ${to}…`;
    $("move-progress").hidden = true;
    state.moving = true;
    renderMoveButtons();
    let moved = 0;
    try {
      for (let i = 0; i < ids.length; i += MAX_IDS_PER_MOVE) {
        const chunk = ids.slice(i, i + MAX_IDS_PER_MOVE);
        const { body } = await api("POST", `/projects/${state.projectId}/tasks/move`, { from, to, task_ids: chunk });
        moved += body.moved;
      }
      $("move-status").textContent = `Moved ${plural(moved, "task")} from ${from} to ${to}.`;
      for (const id of ids) state.checked.delete(id);
    } catch (err) {
      $("move-status").textContent = moved ? `Moved ${plural(moved, "task")} before the error.` : "";
      $("move-error").textContent = errorText(err);
    } finally {
      state.moving = false;
      await Promise.all([loadAssistant(false), loadTasks(false)]).catch(globalError);
      renderMoveButtons();
    }
  }

  async function moveAll(from, to) {
    $("move-error").textContent = "";
    const session = state.session;
    const projectId = state.projectId;
    state.moving = true;
    renderMoveButtons();
    const progress = (job) => {
      const p = job.progress;
      const pct = p.percent !== null && p.percent !== undefined ? p.percent : 0;
      $("move-progress").hidden = false;
      $("move-progress").classList.toggle("done", job.status === "SUCCEEDED");
      setBar("move-progress-bar", "move-progress-role", job.status === "SUCCEEDED" ? 100 : pct);
      $("move-status").textContent = job.status === "RUNNING"
        ? `Moving all ${from} tasks to ${to}… ${num(p.done)}${p.total !== null ? ` of ${num(p.total)}` : ""} ${p.unit}`
        : "";
    };
    try {
      const { body: job } = await api("POST", `/projects/${projectId}/tasks/move`, { from, to, all: true });
      progress(job);
      const last = await pollUntil(
        session,
        () => api("GET", `/projects/${projectId}/jobs/${job.job_id}`).then((r) => r.body),
        (j) => j.status !== "RUNNING",
        progress,
      );
      if (!last) return;
      if (last.status === "SUCCEEDED") {
        const moved = Number(last.result.moved !== undefined ? last.result.moved : last.progress.done);
        $("move-status").textContent = `Moved ${plural(moved, "task")} from ${from} to ${to}.`;
      } else {
        $("move-error").textContent = `The move failed: ${last.error || "unknown reason"}`;
      }
    } catch (err) {
      if (current(session)) $("move-error").textContent = errorText(err);
    } finally {
      if (current(session)) {
        state.moving = false;
        await Promise.all([loadAssistant(false), loadTasks(false)]).catch(globalError);
        renderMoveButtons();
      }
    }
  }

  // ---------- tasks ----------

  function taskQuery(cursor) {
    const q = new URLSearchParams({ limit: "50" });
    // Review order lists pre-labeled tasks from the review index: no state filter (review.js).
    if ($("task-order").value) q.set("order", $("task-order").value);
    else if ($("task-state-filter").value) q.set("state", $("task-state-filter").value);
    if ($("task-prelabel-filter").value && !$("task-order").value) q.set("prelabeled", $("task-prelabel-filter").value);
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
    const present = new Set(list.map((li) => li.dataset.taskId));
    for (const id of [...state.checked]) if (!present.has(id)) state.checked.delete(id);
    const marked = list.filter((li) => li.dataset.prelabeled === "true").length;
    $("task-count").textContent = `${list.length}${cursor ? "+" : ""} tasks shown · ${marked} pre-labeled`;
    renderMoveButtons();
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
    const check = el("input", {
      type: "checkbox", testid: "task-check", "aria-label": `Select ${name}`,
      onchange: (ev) => {
        if (ev.target.checked) state.checked.add(t.task_id); else state.checked.delete(t.task_id);
        renderMoveButtons();
      },
    });
    check.checked = state.checked.has(t.task_id);
    return el("li", {
      class: `task${state.selectedTask === t.task_id ? " selected" : ""}`,
      testid: "task-row", "data-task-id": t.task_id, "data-prelabeled": String(t.prelabeled),
      "data-review": t.review_priority,
      "data-state": t.state, title: t.image_key,
      // A click anywhere on the row but the checkbox opens the preview; the name is the button
      // that keyboard users reach.
      onclick: (ev) => { if (ev.target !== check) openPreview(t.task_id); },
    },
      check,
      el("button", { type: "button", class: "name ellipsis", testid: "task-open", "aria-label": `Preview ${name}` }, name),
      el("span", { class: `state s-${t.state.toLowerCase()}` }, t.state),
      el("span", { class: "badges" }, ...badges));
  }

  // ---------- preview ----------

  function clearCanvas(canvas, lines) {
    // Nothing of the previously selected task may stay: no image, no boxes.
    const w = canvas.parentElement.clientWidth || 560;
    canvas.width = Math.round(w);
    canvas.height = 300;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#11151d";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = "#c5cee0";
    ctx.font = "600 14px system-ui, sans-serif";
    ctx.textAlign = "center";
    lines.forEach((line, i) => ctx.fillText(line, canvas.width / 2, canvas.height / 2 - 10 + i * 22, canvas.width - 40));
    canvas.dataset.drawn = "false";
    canvas.dataset.boxes = "0";
  }

  async function openPreview(taskId) {
    state.selectedTask = taskId;
    for (const li of $("task-list").children) li.classList.toggle("selected", li.dataset.taskId === taskId);
    $("preview-card").hidden = false;
    const canvas = $("preview-canvas");
    canvas.dataset.taskId = taskId;
    canvas.dataset.state = "loading";
    clearCanvas(canvas, ["Loading…"]);
    $("preview-title").textContent = "";
    $("preview-note").textContent = "Loading…";
    $("preview-reason").hidden = true;
    $("preview-labels").replaceChildren();
    let task;
    try {
      ({ body: task } = await api("GET", `/projects/${state.projectId}/tasks/${taskId}`));
    } catch (err) {
      if (state.selectedTask !== taskId) return;
      clearCanvas(canvas, ["The task could not be read."]);
      $("preview-note").textContent = errorText(err);
      return;
    }
    if (state.selectedTask !== taskId) return;
    $("preview-title").textContent = task.image_key;
    const failed = task.prelabel_state === "FAILED";
    canvas.dataset.state = failed ? "failed" : task.prelabeled ? "done" : "none";
    if (failed) {
      $("preview-reason").textContent = `Pre-labeling failed: ${task.prelabel_reason || "no reason recorded"}`;
      $("preview-reason").hidden = false;
      clearCanvas(canvas, ["Pre-labeling failed for this image", task.prelabel_reason || ""]);
      $("preview-note").textContent = "No pre-labels: this image was not charged. Loading the image…";
    }
    try {
      const { body: image } = await api("GET", `/projects/${state.projectId}/tasks/${taskId}/image`);
      if (state.selectedTask !== taskId) return;
      const img = new Image();
      img.onload = () => { if (state.selectedTask === taskId) draw(canvas, img, task); };
      img.onerror = () => {
        if (state.selectedTask !== taskId) return;
        if (!failed) clearCanvas(canvas, ["The image could not be shown."]);
        $("preview-note").textContent = "The image could not be loaded (not an image the browser reads, or unreadable).";
      };
      img.src = image.url;
    } catch (err) {
      if (state.selectedTask !== taskId) return;
      if (!failed) clearCanvas(canvas, ["The image could not be shown."]);
      $("preview-note").textContent = errorText(err);
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
    const what = task.prelabel_state === "FAILED" ? `pre-labeling failed: ${task.prelabel_reason}` :
      task.prelabeled ? `${plural(task.labels.length, "pre-label")} from ${task.labels[0] ? task.labels[0].model_name : "the detector"}` :
        "not pre-labeled yet";
    $("preview-note").textContent = `${natW}×${natH} px · ${what}`;
    $("preview-labels").replaceChildren(...task.labels.map((l) => {
      const swatch = el("span", { class: "swatch" });
      swatch.style.background = colorFor(l.entry_id);
      return el("li", { testid: "preview-label" }, swatch, `${l.entry_name}`,
        el("span", { class: "muted" }, ` ${l.detector_class} · ${l.score.toFixed(2)}`));
    }));
  }

  // ---------- export ----------

  async function exportFile(ev) {
    ev.preventDefault();
    const session = state.session;
    const projectId = state.projectId;
    const format = $("export-format").value;
    $("export-error").textContent = "";
    $("export-result").hidden = true;
    $("export-button").disabled = true;
    const path = `/projects/${projectId}/export?format=${encodeURIComponent(format)}`;
    const progress = (job) => {
      const p = job.progress;
      $("export-status").textContent = `Writing the ${format} export… ` +
        `${num(p.done)}${p.total !== null ? ` of ${num(p.total)}` : ""} ${p.unit}`;
    };
    try {
      const { body: job } = await api("GET", path);
      progress(job);
      const last = await pollUntil(
        session,
        () => api("GET", `${path}&job_id=${encodeURIComponent(job.job_id)}`),
        (r) => r.status === 200,
        (r) => { if (r.status === 202) progress(r.body); },
      );
      if (!last) return;
      const link = last.body;
      const s = link.summary;
      const a = $("export-link");
      a.href = link.url;
      a.setAttribute("download", s.filename);
      a.textContent = `Download ${s.filename}`;
      $("export-summary").textContent = ` ${plural(s.images, "image")} · ${plural(s.annotations, "annotation")}` +
        (s.skipped_images ? ` · ${s.skipped_images} images left out (size unknown)` : "") +
        ` · link valid ${Math.round(link.expires_in / 60)} min`;
      $("export-status").textContent = "";
      $("export-result").hidden = false;
      a.focus();
    } catch (err) {
      if (current(session)) {
        $("export-status").textContent = "";
        $("export-error").textContent = errorText(err);
      }
    } finally {
      if (current(session)) $("export-button").disabled = false;
    }
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
    $("mapping-form").addEventListener("submit", saveMapping);
    $("default-threshold").addEventListener("input", () => {
      for (const input of $("mapping-rows").querySelectorAll('[data-testid="chip-min"]')) {
        input.placeholder = $("default-threshold").value;
      }
      dirty();
    });
    $("start-button").addEventListener("click", () => start(false));
    $("confirm-yes").addEventListener("click", () => { $("confirm-box").hidden = true; start(true); });
    $("confirm-no").addEventListener("click", () => {
      $("confirm-box").hidden = true;
      $("run-message").textContent = "Not started.";
      renderButtons();
      $("start-button").focus();
    });
    $("stop-button").addEventListener("click", stop);
    const refilter = () => { $("task-list").replaceChildren(); loadTasks(false).catch(globalError); };
    $("task-state-filter").addEventListener("change", refilter);
    $("task-prelabel-filter").addEventListener("change", refilter);
    $("task-order").addEventListener("change", refilter);
    $("tasks-more").addEventListener("click", () => loadTasks(true).catch(globalError));
    $("select-all").addEventListener("change", (ev) => {
      for (const li of $("task-list").children) {
        const box = li.querySelector('[data-testid="task-check"]');
        box.checked = ev.target.checked;
        if (box.checked) state.checked.add(li.dataset.taskId); else state.checked.delete(li.dataset.taskId);
      }
      renderMoveButtons();
    });
    $("move-selected-to-waiting").addEventListener("click", () => moveSelected("BACKLOG", "WAITING"));
    $("move-selected-to-backlog").addEventListener("click", () => moveSelected("WAITING", "BACKLOG"));
    $("move-all-to-waiting").addEventListener("click", () => moveAll("BACKLOG", "WAITING"));
    $("move-all-to-backlog").addEventListener("click", () => moveAll("WAITING", "BACKLOG"));
    $("reason-move-all").addEventListener("click", () => moveAll("BACKLOG", "WAITING"));
    for (const radio of document.querySelectorAll('input[name="kind"]')) radio.addEventListener("change", syncConnectKind);
    $("connect-form").addEventListener("submit", connect);
    $("export-form").addEventListener("submit", exportFile);
  }

  // What the page's other panels (their own scripts, loaded after this one) build on: the API
  // call with the caller's token, DOM and wording helpers, and a hook run each time a project
  // opens (with its id and the page session, which `current` checks before a late answer lands).
  const projectHooks = [];
  window.Prelabel = Object.freeze({
    api, el, errorText, num, plural, when, pollUntil, current, globalError, colorFor,
    projectId: () => state.projectId,
    assistant: () => state.assistant,
    onProjectOpen: (hook) => { projectHooks.push(hook); },
    reloadAssistant: () => loadAssistant(true),
    reloadTasks: () => { $("task-list").replaceChildren(); return loadTasks(false); },
    setClasses: (classes) => { state.classes = classes; },
  });

  wire();
  const fromUrl = tokenFromFragment();
  if (fromUrl) sessionStorage.setItem(TOKEN_KEY, fromUrl);
  // The first project opens once every panel's script has run and registered its hook: booting
  // at once let a fast first answer open the project before a later script (review.js) was
  // loaded, and that panel then never heard of the project (its polls stopped at once).
  const firstOpen = () => { if (sessionStorage.getItem(TOKEN_KEY)) boot(); else signOut(""); };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", firstOpen);
  else firstOpen();
})();
