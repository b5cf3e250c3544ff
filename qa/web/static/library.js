// The library page: upload (picker or drag and drop), delete and rebuild through the admin API, with the
// rebuild's progress polled until its summary. The admin token is asked once and kept in sessionStorage.
(() => {
  "use strict";
  const root = document.getElementById("library");
  if (!root || root.dataset.admin !== "yes") return;
  const form = document.getElementById("upload-form");
  const picker = document.getElementById("files");
  const drop = document.getElementById("drop");
  const chosenList = document.getElementById("chosen");
  const uploadButton = document.getElementById("upload");
  const rebuildButton = document.getElementById("rebuild");
  const jobBox = document.getElementById("job");
  const bar = document.getElementById("job-progress");
  const statusLine = document.getElementById("job-status");
  const summary = document.getElementById("job-summary");
  const errorBox = document.getElementById("library-error");
  const KEY = "qa-admin-token";
  let chosen = [];

  const showError = (message) => {
    errorBox.textContent = message || "";
    errorBox.hidden = !message;
  };

  const token = (again) => {
    let value = again ? null : sessionStorage.getItem(KEY);
    if (!value) {
      value = window.prompt("Admin token (QA_ADMIN_TOKEN):") || "";
      if (value) sessionStorage.setItem(KEY, value);
    }
    return value;
  };

  // One admin request; a 401 forgets the token and asks once more.
  const admin = async (method, path, body) => {
    for (const again of [false, true]) {
      const value = token(again);
      if (!value) throw new Error("the admin token is needed to change the library");
      const response = await fetch(path, { method, body, headers: { Authorization: `Bearer ${value}` } });
      if (response.status === 401) {
        sessionStorage.removeItem(KEY);
        continue;
      }
      const data = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(data.detail || `${response.status} ${response.statusText}`);
      return data;
    }
    throw new Error("the admin token was refused");
  };

  const showChosen = () => {
    chosenList.replaceChildren(...chosen.map((file) => {
      const item = document.createElement("li");
      item.textContent = `${file.name} (${Math.max(1, Math.round(file.size / 1024))} KB)`;
      return item;
    }));
    uploadButton.disabled = chosen.length === 0;
  };

  const seconds = (value) => (value == null ? "" : ` · about ${Math.ceil(value)} s left`);

  const follow = async (job) => {
    jobBox.hidden = false;
    summary.hidden = true;
    bar.removeAttribute("value"); // indeterminate until there is a count
    for (;;) {
      const state = await admin("GET", `/admin/reindex/${job.id}`);
      if (state.total) {
        bar.max = state.total;
        bar.value = state.done;
      }
      const counted = state.total ? ` — ${state.done}/${state.total}` : "";
      statusLine.textContent = `${state.state}: ${state.stage || "waiting"}${counted}${seconds(state.eta_seconds)}`;
      if (state.state === "succeeded" || state.state === "failed") {
        bar.max = 1;
        bar.value = 1;
        if (state.state === "failed") {
          showError(`The rebuild failed: ${state.error}. The previous index keeps serving.`);
        } else {
          const r = state.report || {};
          summary.textContent =
            `Index ${r.version}: ${r.articles} articles, ${r.passages} passages\n` +
            `added ${r.added}, changed ${r.changed}, removed ${r.removed}, unchanged ${r.unchanged}\n` +
            `texts embedded ${r.embedded}, reused ${r.reused}; documents parsed ${r.parsed}` +
            (r.problems && r.problems.length ? `\nskipped: ${r.problems.map((p) => `${p[0]} (${p[1]})`).join(", ")}` : "");
          summary.hidden = false;
          statusLine.textContent = "Done. Reloading the list…";
          setTimeout(() => window.location.reload(), 1200);
        }
        return state;
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  };

  const run = async (action) => {
    showError("");
    uploadButton.disabled = rebuildButton.disabled = true;
    try {
      await action();
    } catch (error) {
      showError(error.message);
    } finally {
      rebuildButton.disabled = false;
      uploadButton.disabled = chosen.length === 0;
    }
  };

  // Files picked and dropped add up (a file of the same name replaces the one chosen before).
  const add = (files) => {
    const names = new Set(Array.from(files, (file) => file.name));
    chosen = [...chosen.filter((file) => !names.has(file.name)), ...files];
    showChosen();
  };
  picker.addEventListener("change", () => add(Array.from(picker.files)));
  for (const name of ["dragenter", "dragover"]) {
    drop.addEventListener(name, (event) => {
      event.preventDefault();
      drop.classList.add("over");
    });
  }
  for (const name of ["dragleave", "drop"]) {
    drop.addEventListener(name, () => drop.classList.remove("over"));
  }
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    add(Array.from(event.dataTransfer.files));
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(async () => {
      const body = new FormData();
      for (const file of chosen) body.append("file", file, file.name);
      const reply = await admin("POST", "/admin/articles", body);
      chosen = [];
      picker.value = "";
      showChosen();
      await follow(reply.job);
    });
  });

  rebuildButton.addEventListener("click", () => run(async () => follow(await admin("POST", "/admin/reindex"))));

  for (const button of document.querySelectorAll("button.delete")) {
    button.addEventListener("click", () => {
      if (!window.confirm(`Delete “${button.dataset.title}” from the library?`)) return;
      run(async () => follow((await admin("DELETE", `/admin/articles/${encodeURIComponent(button.dataset.id)}`)).job));
    });
  }
})();
