// The Quality panel: reviewed labels brought back from a review tool (uploaded straight to S3
// with the form the API signs, then imported by a job whose report is shown), the quality
// report per class (precision and recall with their lower bounds, AP50, the precision-recall
// curve drawn as SVG) and the calibrated thresholds next to the mapping's, applied with one
// PUT of the mapping. Built on window.Prelabel (app.js); no inline script or style (CSP).
"use strict";

(() => {
  const P = window.Prelabel;
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";
  const state = { projectId: null, session: null, report: null, busy: false };

  const pct = (v) => (v === null || v === undefined ? "–" : `${(100 * v).toFixed(1)}%`);
  const fixed = (v, d = 2) => (v === null || v === undefined ? "–" : Number(v).toFixed(d));

  // ---------- reviewed labels: upload, import, report ----------

  function uploadTo(ticket, file, onProgress) {
    // XMLHttpRequest: fetch cannot report an upload's progress.
    return new Promise((resolve, reject) => {
      const form = new FormData();
      for (const [k, v] of Object.entries(ticket.fields)) form.append(k, v);
      form.append("file", file);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", ticket.url);
      xhr.upload.addEventListener("progress", (ev) => {
        if (ev.lengthComputable) onProgress(ev.loaded / ev.total);
      });
      xhr.addEventListener("load", () => (xhr.status >= 200 && xhr.status < 300
        ? resolve()
        : reject(new Error(`The upload was refused (HTTP ${xhr.status}): ${xhr.responseText.slice(0, 200)}`))));
      xhr.addEventListener("error", () => reject(new Error("The upload could not reach S3.")));
      xhr.send(form);
    });
  }

  function setBar(wrap, bar, fraction) {
    $(wrap).hidden = false;
    $(bar).style.width = `${Math.round(100 * Math.max(0, Math.min(1, fraction)))}%`;
  }

  async function importReviewed(ev) {
    ev.preventDefault();
    const file = $("reviewed-file").files[0];
    $("reviewed-error").textContent = "";
    $("reviewed-report").replaceChildren();
    if (!file) { $("reviewed-error").textContent = "Choose a file first."; return; }
    const session = state.session;
    const pid = state.projectId;
    $("reviewed-button").disabled = true;
    try {
      $("reviewed-status").textContent = `Uploading ${file.name}…`;
      const { body: ticket } = await P.api("POST", `/projects/${pid}/reviewed-labels/uploads`, { file_name: file.name });
      if (file.size > ticket.max_bytes) throw new Error(`${file.name} is over ${P.num(ticket.max_bytes)} bytes: import it in parts.`);
      await uploadTo(ticket, file, (f) => setBar("reviewed-progress", "reviewed-progress-bar", f));
      const format = $("reviewed-format").value;
      const { body: job } = await P.api("POST", `/projects/${pid}/reviewed-labels`,
        format ? { key: ticket.key, format } : { key: ticket.key });
      const ended = await P.pollUntil(session, () => P.api("GET", `/projects/${pid}/jobs/${job.job_id}`),
        (r) => r.body.status !== "RUNNING", (r) => showImportProgress(r.body));
      if (!ended) return;
      $("reviewed-status").textContent = "";
      $("reviewed-progress").hidden = true;
      if (ended.body.status === "FAILED") throw new Error(`The import failed: ${ended.body.error}`);
      $("reviewed-report").replaceChildren(importReport(ended.body.result));
      await loadReport();
    } catch (err) {
      if (P.current(session)) {
        $("reviewed-status").textContent = "";
        $("reviewed-error").textContent = P.errorText(err);
      }
    } finally {
      if (P.current(session)) $("reviewed-button").disabled = false;
    }
  }

  function showImportProgress(job) {
    const p = job.progress;
    if (p.total) setBar("reviewed-progress", "reviewed-progress-bar", p.done / p.total);
    $("reviewed-status").textContent = `Importing… ${P.num(p.done)}${p.total ? ` of ${P.num(p.total)}` : ""} images matched`;
  }

  function examples(list, more) {
    if (!list.length) return null;
    return P.el("ul", { class: "examples" },
      ...list.slice(0, 5).map((k) => P.el("li", { testid: "reviewed-example" }, P.el("code", {}, k))),
      more > 0 ? P.el("li", { class: "muted" }, `and ${P.num(more)} more`) : null);
  }

  function importReport(r) {
    const findings = Object.entries(r.report.findings).filter(([, f]) => f.dropped);
    const labels = Object.entries(r.report.unknown_labels);
    const items = findings.map(([name, f]) => P.el("li", { testid: "reviewed-finding", "data-finding": name },
      P.el("strong", {}, P.num(f.count)), ` ${f.unit}${f.count === 1 ? "" : "s"}: ${f.description}`,
      examples(f.examples, f.count - Math.min(5, f.examples.length))));
    const unknown = labels.map(([name, t]) => P.el("li", { testid: "reviewed-unknown-label", "data-label": name },
      P.el("strong", {}, name), ` on ${P.plural(t.count, "box")}`, examples(t.examples, 0)));
    const head = P.el("summary", { testid: "reviewed-summary" },
      `${P.num(r.images_matched)} of ${P.plural(r.images_found, "image")} matched to tasks · ` +
      `${P.num(r.boxes_kept)} of ${P.plural(r.boxes_found, "box")} kept (${r.format})`);
    const details = P.el("details", { class: "report", testid: "reviewed-import-report" }, head,
      items.length ? P.el("ul", { class: "reasons" }, ...items) : P.el("p", { class: "small muted" }, "Every image and box was imported."),
      unknown.length ? P.el("p", { class: "small" }, "Labels that name no bbox entry:") : null,
      unknown.length ? P.el("ul", { class: "reasons" }, ...unknown) : null);
    details.open = items.length > 0;
    return details;
  }

  // ---------- the quality report ----------

  function target() {
    const v = Number($("quality-target").value);
    return v > 0 && v < 1 ? v : 0.9;
  }

  async function loadReport() {
    const session = state.session;
    const scope = $("quality-scope").value || "all";
    const q = `scope=${encodeURIComponent(scope)}&target_precision=${target()}`;
    const { body } = await P.api("GET", `/projects/${state.projectId}/quality?${q}`);
    if (!P.current(session)) return null;
    state.report = body;
    render(body);
    return body;
  }

  async function compute() {
    const session = state.session;
    const pid = state.projectId;
    $("quality-error").textContent = "";
    $("quality-compute").disabled = true;
    try {
      const { body: job } = await P.api("POST", `/projects/${pid}/quality`, { by_run: $("quality-by-run").checked });
      await follow(session, pid, job);
    } catch (err) {
      if (P.current(session)) $("quality-error").textContent = P.errorText(err);
    } finally {
      if (P.current(session)) $("quality-compute").disabled = false;
    }
  }

  async function follow(session, pid, job) {
    const ended = await P.pollUntil(session, () => P.api("GET", `/projects/${pid}/jobs/${job.job_id}`),
      (r) => r.body.status !== "RUNNING", (r) => {
        const p = r.body.progress;
        if (p.total) setBar("quality-progress", "quality-progress-bar", p.done / p.total);
        $("quality-status").textContent = `Computing… ${P.num(p.done)}${p.total ? ` of ${P.num(p.total)}` : ""} reviewed tasks read`;
      });
    if (!ended) return;
    $("quality-status").textContent = "";
    $("quality-progress").hidden = true;
    if (ended.body.status === "FAILED") throw new Error(`Computing quality failed: ${ended.body.error}`);
    await loadReport();
  }

  function render(r) {
    const s = r.summary;
    $("quality-message").textContent = s.computed ? r.message
      : "No quality report yet: import reviewed labels of pre-labeled tasks, then press Compute quality.";
    const scopes = s.scopes.length ? s.scopes : ["all"];
    const select = $("quality-scope");
    if ([...select.options].map((o) => o.value).join() !== scopes.join()) {
      select.replaceChildren(...scopes.map((k) => P.el("option", { value: k }, k === "all" ? "all tasks" : k)));
      select.value = scopes.includes(r.scope) ? r.scope : "all";
    }
    $("quality-computed").textContent = s.computed
      ? `Computed ${P.when(s.computed_at)} · scope ${r.scope}: ${P.plural(r.scope_tasks, "task")}`
      : "";
    $("quality-stale").hidden = !s.stale;
    $("quality-stale").textContent = s.stale ? `Stale: ${s.stale_reasons.join("; ")}. Compute again.` : "";
    $("quality-results").hidden = r.classes.length === 0;
    renderClasses(r.classes);
    renderCurve(r.classes);
    renderThresholds(r);
  }

  function bound(p) {
    if (!p.n) return P.el("span", { class: "muted" }, "no box");
    return P.el("span", {}, pct(p.value), P.el("span", { class: "muted small" }, ` ≥ ${pct(p.lower)} · n ${P.num(p.n)}`));
  }

  function renderClasses(classes) {
    $("quality-rows").replaceChildren(...classes.map((c) => P.el("tr", { testid: "quality-row", "data-entry": c.entry_id },
      P.el("th", { scope: "row" }, P.el("span", { class: "swatch", "data-entry": c.entry_id }), c.entry_name),
      P.el("td", { class: "n", testid: "q-reviewed" }, P.num(c.reviewed)),
      P.el("td", { class: "n", testid: "q-tp" }, P.num(c.true_positives)),
      P.el("td", { class: "n", testid: "q-misses" }, P.num(c.misses)),
      P.el("td", { class: "n", testid: "q-extra" }, P.num(c.extra)),
      P.el("td", { class: "n", testid: "q-wrong" }, P.num(c.wrong_class)),
      P.el("td", { testid: "q-precision" }, bound(c.precision)),
      P.el("td", { testid: "q-recall" }, bound(c.recall)),
      P.el("td", { class: "n", testid: "q-f1" }, fixed(c.f1.value)),
      P.el("td", { class: "n", testid: "q-ap50" }, fixed(c.ap50.value, 3)))));
    for (const sw of $("quality-rows").querySelectorAll(".swatch")) sw.style.background = P.colorFor(sw.dataset.entry);
  }

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    return node;
  }

  // Recall on x, precision on y, both 0-1; one line per class through its 99 thresholds.
  function renderCurve(classes) {
    const W = 360, H = 260, L = 40, B = 34, T = 10, R = 10;
    const x = (v) => L + v * (W - L - R);
    const y = (v) => T + (1 - v) * (H - T - B);
    const plot = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "Precision-recall curve per class" });
    plot.dataset.testid = "pr-curve";
    for (const t of [0, 0.25, 0.5, 0.75, 1]) {
      plot.append(svg("line", { x1: x(0), x2: x(1), y1: y(t), y2: y(t), class: "grid-line" }));
      plot.append(svg("line", { x1: x(t), x2: x(t), y1: y(0), y2: y(1), class: "grid-line" }));
      const ty = svg("text", { x: L - 6, y: y(t) + 4, class: "tick", "text-anchor": "end" }); ty.textContent = t;
      const tx = svg("text", { x: x(t), y: H - B + 16, class: "tick", "text-anchor": "middle" }); tx.textContent = t;
      plot.append(ty, tx);
    }
    const xl = svg("text", { x: x(0.5), y: H - 4, class: "axis", "text-anchor": "middle" }); xl.textContent = "recall";
    const yl = svg("text", { x: 12, y: y(0.5), class: "axis", "text-anchor": "middle", transform: `rotate(-90 12 ${y(0.5)})` });
    yl.textContent = "precision";
    plot.append(xl, yl);
    let drawn = 0;
    for (const c of classes) {
      const pts = [...new Set(c.curve.filter((p) => p.precision !== null)
        .map((p) => `${x(p.recall).toFixed(1)},${y(p.precision).toFixed(1)}`))];
      if (!pts.length) continue;
      const line = svg("polyline", { points: pts.join(" "), fill: "none", stroke: P.colorFor(c.entry_id), "stroke-width": 2 });
      line.dataset.entry = c.entry_id;
      plot.append(line);
      if (pts.length === 1) {
        // One point at every threshold (e.g. all right): a line would not show.
        const [cx, cy] = pts[0].split(",");
        plot.append(svg("circle", { cx, cy, r: 3, fill: "none", stroke: P.colorFor(c.entry_id), "stroke-width": 2 }));
      }
      drawn += 1;
      const cal = c.calibration;
      if (cal && cal.reachable) {
        const mark = svg("circle", { cx: x(cal.recall.value), cy: y(cal.precision.value), r: 4, fill: P.colorFor(c.entry_id) });
        mark.dataset.testid = "pr-suggested";
        plot.append(mark);
      }
    }
    plot.dataset.lines = String(drawn);
    $("quality-curve").replaceChildren(plot);
    $("quality-legend").replaceChildren(...classes.filter((c) => c.predicted).map((c) => {
      const sw = P.el("span", { class: "swatch" });
      sw.style.background = P.colorFor(c.entry_id);
      return P.el("li", {}, sw, c.entry_name);
    }));
  }

  function current(c) {
    const ts = c.current_thresholds.map((t) => `${t.detector_class} ${fixed(t.effective_threshold)}`);
    return ts.length ? ts.join(", ") : "not mapped";
  }

  function suggestion(c) {
    const cal = c.calibration;
    if (!cal) return P.el("span", { class: "muted" }, c.current_thresholds.length ? "no box reviewed yet" : "–");
    if (cal.reachable) {
      return P.el("span", {}, P.el("strong", { testid: "q-suggested" }, fixed(cal.threshold)),
        P.el("span", { class: "muted small" }, ` keeps recall ${pct(cal.recall.value)}`));
    }
    return P.el("span", { class: "warn small", testid: "q-not-reachable" }, cal.message);
  }

  function renderThresholds(r) {
    const mapped = r.classes.filter((c) => c.mapped);
    $("threshold-rows").replaceChildren(...mapped.map((c) => P.el("tr", { testid: "threshold-row", "data-entry": c.entry_id },
      P.el("th", { scope: "row" }, c.entry_name),
      P.el("td", { testid: "q-current" }, current(c)),
      P.el("td", {}, suggestion(c)))));
    $("quality-target-label").textContent = `at precision ≥ ${r.target_precision}`;
    $("quality-apply").disabled = r.changed_rows === 0;
    $("quality-apply").textContent = r.changed_rows
      ? `Apply suggested thresholds (${P.plural(r.changed_rows, "mapping row")})`
      : "Apply suggested thresholds";
  }

  async function apply() {
    const r = state.report;
    if (!r) return;
    $("quality-error").textContent = "";
    $("quality-apply").disabled = true;
    try {
      await P.api("PUT", `/projects/${state.projectId}/mapping`, r.suggested_mapping);
      $("quality-applied").textContent = `Mapping updated: ${P.plural(r.changed_rows, "row")} now use the suggested thresholds.`;
      await P.reloadAssistant();
      await loadReport();
    } catch (err) {
      $("quality-error").textContent = P.errorText(err);
      $("quality-apply").disabled = false;
    }
  }

  // ---------- wiring ----------

  P.onProjectOpen(async (projectId, session) => {
    state.projectId = projectId;
    state.session = session;
    state.report = null;
    $("quality-card").hidden = false;
    for (const id of ["reviewed-status", "reviewed-error", "quality-error", "quality-status", "quality-applied"]) $(id).textContent = "";
    $("reviewed-report").replaceChildren();
    $("reviewed-progress").hidden = true;
    $("quality-progress").hidden = true;
    $("quality-scope").replaceChildren(P.el("option", { value: "all" }, "all tasks"));
    try {
      const report = await loadReport();
      if (report && report.job) await follow(session, projectId, report.job);
    } catch (err) {
      if (P.current(session)) $("quality-error").textContent = P.errorText(err);
    }
  });

  $("reviewed-form").addEventListener("submit", importReviewed);
  $("quality-compute").addEventListener("click", compute);
  $("quality-apply").addEventListener("click", apply);
  $("quality-target").addEventListener("change", () => loadReport().catch((e) => { $("quality-error").textContent = P.errorText(e); }));
  $("quality-scope").addEventListener("change", () => loadReport().catch((e) => { $("quality-error").textContent = P.errorText(e); }));
})();
