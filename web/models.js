// Models panel and the project's detector picker: the organization's own ONNX detectors (upload
// straight to S3 through a presigned form, with progress; each version's status and reason;
// classes) and which detector the open project pre-labels with. Built on window.Prelabel.
"use strict";

(() => {
  const P = window.Prelabel;
  const $ = (id) => document.getElementById(id);
  const FINAL = new Set(["READY", "FAILED"]);
  const state = { models: [], detector: null, uploading: false };

  const short = (sha) => (sha ? sha.slice(0, 12) : "");
  const megabytes = (n) => (n < 1 << 20 ? `${Math.max(1, Math.round(n / 1024))} KB` : `${(n / (1 << 20)).toFixed(1)} MB`);

  // ---------- the list ----------

  async function loadModels() {
    const { body } = await P.api("GET", "/models");
    state.models = body.models;
    const own = body.models.filter((m) => !m.builtin);
    $("model-list").replaceChildren(...body.models.map(modelItem),
      ...(own.length ? [] : [P.el("li", { class: "muted small", testid: "models-empty" },
        "No model of your own yet: upload an ONNX detector below.")]));
    fillPicker();
  }

  function modelItem(m) {
    const badge = m.builtin ? P.el("span", { class: "badge" }, "built-in")
      : P.el("span", { class: `badge ${m.latest_ready ? "ready" : "pending"}`, testid: "model-ready" },
        m.latest_ready ? "ready" : "no ready version");
    const facts = m.builtin ? m.description
      : `${m.family} · ${P.plural(m.class_count, "class")}` +
        (m.used_by.length ? ` · used by ${P.plural(m.used_by.length, "project")}` : "");
    const details = P.el("details", { class: "model", testid: "model-item", "data-model-id": m.model_id },
      P.el("summary", {}, P.el("span", { class: "model-name", testid: "model-title" }, m.name), " ", badge,
        P.el("span", { class: "muted small block" }, facts)),
      P.el("div", { class: "model-body", testid: "model-body" }, P.el("p", { class: "muted small" }, "Loading…")));
    details.addEventListener("toggle", () => { if (details.open) openModel(details, m.model_id); });
    return P.el("li", {}, details);
  }

  async function openModel(details, modelId) {
    const body = details.querySelector('[data-testid="model-body"]');
    try {
      const { body: m } = await P.api("GET", `/models/${encodeURIComponent(modelId)}`);
      body.replaceChildren(...modelBody(m));
    } catch (err) {
      body.replaceChildren(P.el("p", { class: "error" }, P.errorText(err)));
    }
  }

  function modelBody(m) {
    const parts = [];
    if (!m.builtin) {
      const n = m.normalisation;
      parts.push(P.el("p", { class: "small muted", testid: "model-declared" },
        `input ${m.input_size[0]}×${m.input_size[1]} · ${n.channels} · mean ${n.mean.join(", ")} · ` +
        `scale ${n.scale.map((v) => +v.toFixed(6)).join(", ")} · ${n.resize}`));
      parts.push(versionsTable(m));
    }
    const classes = P.el("ol", { class: "model-classes", testid: "model-classes-list", start: "0" },
      ...m.classes.slice(0, 200).map((c) => P.el("li", {}, c)));
    parts.push(P.el("details", { class: "classes" },
      P.el("summary", { class: "small" }, `${P.plural(m.classes.length, "class")} (id = position)`), classes,
      m.classes.length > 200 ? P.el("p", { class: "muted small" }, `and ${m.classes.length - 200} more`) : null));
    if (!m.builtin) {
      parts.push(P.el("div", { class: "row" },
        P.el("button", { type: "button", class: "danger", testid: "model-delete",
          onclick: (ev) => deleteModel(m, ev.target) }, "Delete model")));
    }
    return parts;
  }

  function versionsTable(m) {
    const rows = m.versions.map((v) => P.el("tr", { testid: "model-version", "data-version": v.version },
      P.el("td", {}, P.el("code", { title: v.version }, short(v.version))),
      P.el("td", {}, P.el("span", { class: `badge ${v.status.toLowerCase()}`, testid: "version-status" }, v.status),
        v.version === m.latest_ready ? P.el("span", { class: "muted small" }, " default") : null),
      P.el("td", { class: "n" }, megabytes(v.size_bytes)),
      P.el("td", { class: "reason-cell", testid: "version-reason" },
        v.reason || (v.validation.wall_ms ? `checked in ${Math.round(v.validation.wall_ms)} ms` : ""))));
    const failedUploads = m.uploads.filter((u) => !u.version && u.status === "FAILED")
      .map((u) => P.el("tr", { testid: "model-version", "data-upload": u.upload_id },
        P.el("td", {}, P.el("span", { class: "muted" }, "(no version)")),
        P.el("td", {}, P.el("span", { class: "badge failed", testid: "version-status" }, "FAILED")),
        P.el("td", { class: "n" }, "–"),
        P.el("td", { class: "reason-cell", testid: "version-reason" }, u.reason || "")));
    const busy = m.uploads.filter((u) => !FINAL.has(u.status) && !u.version);
    const table = P.el("table", { class: "versions", testid: "model-versions" },
      P.el("thead", {}, P.el("tr", {}, ...["Version", "Status", "Size", "Validation"].map((h) => P.el("th", { scope: "col" }, h)))),
      P.el("tbody", {}, ...rows, ...failedUploads));
    const note = busy.length ? P.el("p", { class: "small muted" }, `${P.plural(busy.length, "upload")} in progress`) : null;
    return P.el("div", {}, table, note);
  }

  async function deleteModel(m, button) {
    button.disabled = true;
    try {
      await P.api("DELETE", `/models/${encodeURIComponent(m.model_id)}`);
      await loadModels();
    } catch (err) {
      button.disabled = false;
      button.after(P.el("p", { class: "error small", testid: "model-delete-error" }, P.errorText(err)));
    }
  }

  // ---------- upload: declare, post the file to S3 (with progress), validate ----------

  function perChannel(text, field) {
    const values = text.split(/[\s,]+/).filter(Boolean).map(Number);
    if (!(values.length === 1 || values.length === 3) || values.some((v) => !Number.isFinite(v))) {
      throw new Error(`${field}: give one number or three (one per channel)`);
    }
    return values.length === 1 ? values[0] : values;
  }

  function declaration() {
    const classes = $("model-classes").value.split("\n").map((c) => c.trim()).filter(Boolean);
    const normalisation = {
      mean: perChannel($("model-mean").value, "Mean"),
      scale: perChannel($("model-scale").value, "Scale"),
      channels: $("model-channels").value,
      pad: Number($("model-pad").value),
    };
    if ($("model-resize").value) normalisation.resize = $("model-resize").value;
    return {
      name: $("model-name").value.trim(),
      family: $("model-family").value,
      input_size: [Number($("model-width").value), Number($("model-height").value)],
      normalisation,
      classes,
    };
  }

  function postForm(form, file, onProgress) {
    // XMLHttpRequest, not fetch: it reports upload progress.
    return new Promise((resolve, reject) => {
      const data = new FormData();
      for (const [k, v] of Object.entries(form.fields)) data.append(k, v);
      data.append("file", file);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.url);
      xhr.upload.addEventListener("progress", (ev) => { if (ev.lengthComputable) onProgress(ev.loaded / ev.total); });
      xhr.addEventListener("load", () => (xhr.status < 300 ? resolve() : reject(new Error(
        `the upload was refused (HTTP ${xhr.status}): ${(/<Message>(.*)<\/Message>/.exec(xhr.responseText) || [])[1] || "see S3's answer"}`))));
      xhr.addEventListener("error", () => reject(new Error("the upload did not reach S3 (network or CORS)")));
      xhr.send(data);
    });
  }

  function setProgress(fraction) {
    const pct = Math.round(fraction * 100);
    $("model-progress-bar").style.width = `${pct}%`;
    $("model-progress-role").setAttribute("aria-valuenow", String(pct));
  }

  function outcome(model, uploadId) {
    const upload = model.uploads.find((u) => u.upload_id === uploadId);
    if (!upload) return null;
    if (upload.version) {
      const v = model.versions.find((x) => x.version === upload.version);
      return v && FINAL.has(v.status) ? { status: v.status, reason: v.reason, version: v.version } : null;
    }
    return upload.status === "FAILED" ? { status: "FAILED", reason: upload.reason, version: null } : null;
  }

  async function upload(ev) {
    ev.preventDefault();
    if (state.uploading) return;
    const status = $("model-upload-status");
    $("model-upload-error").textContent = "";
    const file = $("model-file").files[0];
    let body;
    try {
      body = declaration();
      if (!file) throw new Error("choose the model's .onnx file");
    } catch (err) {
      $("model-upload-error").textContent = P.errorText(err);
      return;
    }
    state.uploading = true;
    $("model-upload-button").disabled = true;
    try {
      status.textContent = "Declaring the model…";
      const { body: created } = await P.api("POST", "/models", body);
      const modelId = created.model.model_id;
      const uploadId = created.upload.upload_id;
      $("model-upload-progress").hidden = false;
      setProgress(0);
      status.textContent = `Uploading ${megabytes(file.size)}…`;
      await postForm(created.upload.form, file, setProgress);
      setProgress(1);
      await P.api("POST", `/models/${modelId}/versions`, { upload_id: uploadId });
      status.textContent = "Validating: the file is opened in an isolated process…";
      await loadModels();
      let ended = null;
      for (;;) {
        const { body: model } = await P.api("GET", `/models/${modelId}`);
        ended = outcome(model, uploadId);
        if (ended) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      status.textContent = ended.status === "READY"
        ? `READY: version ${short(ended.version)}. Pick it in the Detector card to use it.`
        : `FAILED: ${ended.reason}`;
      status.className = ended.status === "READY" ? "small ok" : "small error";
      status.dataset.outcome = ended.status;
      await loadModels();
      const item = document.querySelector(`[data-testid="model-item"][data-model-id="${modelId}"]`);
      if (item) item.open = true;
      // The file is sent; another upload starts from a new file.
      $("model-file").value = "";
    } catch (err) {
      $("model-upload-error").textContent = P.errorText(err);
      status.textContent = "";
    } finally {
      state.uploading = false;
      $("model-upload-button").disabled = false;
      $("model-upload-progress").hidden = true;
    }
  }

  // ---------- the project's detector ----------

  function fillPicker() {
    const select = $("detector-select");
    const ready = state.models.filter((m) => m.builtin || m.latest_ready);
    select.replaceChildren(...ready.map((m) => P.el("option", { value: m.model_id },
      m.builtin ? m.name : `${m.name} (${short(m.latest_ready)})`)));
    if (state.detector) select.value = state.detector.model_id;
  }

  function showDetector(d) {
    state.detector = d;
    $("detector-current").textContent = d.builtin ? `${d.name}` : `${d.name} · version ${short(d.version)}`;
    $("detector-select").value = d.model_id;
    // The mapping editor's type-ahead offers this model's classes.
    P.setClasses(d.classes);
  }

  async function openProject(projectId, session) {
    $("detector-dropped").hidden = true;
    for (const id of ["detector-status", "detector-error"]) $(id).textContent = "";
    const { body: detector } = await P.api("GET", `/projects/${projectId}/detector`);
    if (!P.current(session)) return;
    showDetector(detector);
    await loadModels();
  }

  async function pick(ev) {
    ev.preventDefault();
    $("detector-error").textContent = "";
    $("detector-status").textContent = "";
    $("detector-dropped").hidden = true;
    const modelId = $("detector-select").value;
    $("detector-apply").disabled = true;
    try {
      const { body } = await P.api("PUT", `/projects/${P.projectId()}/detector`, { model_id: modelId });
      showDetector(body);
      await P.reloadAssistant();
      $("detector-status").textContent = body.changed
        ? `Now pre-labeling with ${body.name}: ${P.plural(body.kept, "mapping row")} kept.`
        : `Already using ${body.name}.`;
      if (body.dropped.length) {
        const names = body.dropped.map((r) => `${r.detector_class} → ${r.entry_name}`).join(", ");
        $("detector-dropped").textContent = `Dropped ${P.plural(body.dropped.length, "row")} the new model has no class for: ${names}`;
        $("detector-dropped").hidden = false;
      }
      await loadModels();
    } catch (err) {
      $("detector-error").textContent = P.errorText(err);
      if (state.detector) $("detector-select").value = state.detector.model_id;
    } finally {
      $("detector-apply").disabled = false;
    }
  }

  $("model-form").addEventListener("submit", upload);
  $("detector-form").addEventListener("submit", pick);
  P.onProjectOpen(openProject);
})();
