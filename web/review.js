// The review panel: draw a review sample (a job), follow it, download its file and read what
// each class got; and the task list's review order (pre-labeled tasks only, so its state and
// pre-label filters step aside). Built on window.Prelabel (web/app.js).
(() => {
  "use strict";
  const P = window.Prelabel;
  const $ = (id) => document.getElementById(id);
  let session = null;

  function setBar(percent) {
    const pct = Math.max(0, Math.min(100, percent));
    $("review-progress-bar").style.width = `${pct}%`;
    $("review-progress-role").setAttribute("aria-valuenow", String(Math.round(pct)));
  }

  function reset() {
    $("review-status").textContent = "";
    $("review-error").textContent = "";
    $("review-result").hidden = true;
    $("review-progress").hidden = true;
    $("review-button").disabled = false;
  }

  function progress(job) {
    const p = job.progress;
    $("review-progress").hidden = false;
    setBar(p.percent !== null && p.percent !== undefined ? p.percent : 0);
    $("review-status").textContent = `Drawing the sample… ${P.num(p.done)}` +
      `${p.total !== null ? ` of ${P.num(p.total)}` : ""} pre-labeled images read`;
  }

  function classRow(c) {
    const note = c.short ? c.why : "enough to calibrate";
    return P.el("tr", { class: c.short ? "short" : null, testid: "review-class" },
      P.el("td", {}, c.name),
      P.el("td", { class: "num" }, `${P.num(c.boxes)} / ${P.num(c.target)}`),
      P.el("td", { class: "num" }, P.num(c.tasks)),
      P.el("td", { class: "why" }, note));
  }

  function show(link) {
    const a = $("review-link");
    a.href = link.url;
    a.setAttribute("download", link.filename);
    a.textContent = `Download ${link.filename}`;
    const short = link.classes.filter((c) => c.short).length;
    $("review-summary").textContent = ` ${P.plural(link.tasks, "image")} · ` +
      `${P.plural(link.boxes, "box")} · seed ${link.seed}` +
      (short ? ` · ${P.plural(short, "class")} short` : "") +
      ` · link valid ${Math.round(link.expires_in / 60)} min`;
    $("review-class-rows").replaceChildren(...link.classes.map(classRow));
    $("review-status").textContent = "";
    $("review-progress").hidden = true;
    $("review-result").hidden = false;
    a.focus();
  }

  async function draw(ev) {
    ev.preventDefault();
    const mine = session;
    const projectId = P.projectId();
    reset();
    const body = { format: $("review-format").value };
    const boxes = $("review-boxes").value.trim();
    if (boxes) body.boxes_per_class = Number(boxes);
    $("review-button").disabled = true;
    try {
      const { body: job } = await P.api("POST", `/projects/${projectId}/review-sample`, body);
      progress(job);
      const last = await P.pollUntil(
        mine,
        () => P.api("GET", `/projects/${projectId}/review-sample/${encodeURIComponent(job.job_id)}`),
        (r) => r.status === 200,
        (r) => { if (r.status === 202) progress(r.body); },
      );
      if (last) show(last.body);
    } catch (err) {
      if (P.current(mine)) {
        $("review-status").textContent = "";
        $("review-progress").hidden = true;
        $("review-error").textContent = P.errorText(err);
      }
    } finally {
      if (P.current(mine)) $("review-button").disabled = false;
    }
  }

  // Review order reads pre-labeled tasks from the review index, which holds no states.
  function syncOrder() {
    const review = $("task-order").value === "review";
    $("task-state-filter").disabled = review;
    $("task-prelabel-filter").disabled = review;
    $("task-order").title = review
      ? "Pre-labeled tasks: boxes nearest their threshold first, then many low-score boxes, then the rest"
      : "";
  }

  // A task the review queue puts ahead of the rest says why (its priority's first digit is its
  // tier: prelabel.quality.priority's key, lowest first).
  const TIER = 100000;
  function badge(li) {
    const value = Number(li.dataset.review);
    if (li.dataset.review === undefined || !(value < 2 * TIER) || li.querySelector(".review-badge")) return;
    const near = value < TIER;
    const why = near ? "a box within 0.02 of its class threshold"
      : "3 or more boxes within 0.10 of their class thresholds";
    li.querySelector(".badges").prepend(P.el("span", {
      class: "count review-badge", testid: "review-badge",
      title: `Review first: ${why} (review priority ${value}, lower is sooner)`,
    }, near ? "near" : "unsure"));
  }
  new MutationObserver(() => { for (const li of $("task-list").children) badge(li); })
    .observe($("task-list"), { childList: true });

  $("review-form").addEventListener("submit", draw);
  $("task-order").addEventListener("change", syncOrder);
  P.onProjectOpen((projectId, s) => {
    session = s;
    reset();
    syncOrder();
  });
})();
