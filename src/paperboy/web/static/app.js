// paperboy's only script: everything works without it; it makes upvotes update in place,
// copies BibTeX, and renders LaTeX with the locally served KaTeX on paper pages.
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

async function vote(form) {
  const button = form.querySelector("button");
  const up = form.querySelector('input[name="up"]');
  button.disabled = true;
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() },
      credentials: "same-origin",
    });
    if (response.status === 401) {
      window.location = "/signin?next=" + encodeURIComponent(window.location.pathname);
      return;
    }
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      alert(body.error || "Upvote failed (" + response.status + ")");
      return;
    }
    const result = await response.json();
    form.querySelector(".count").textContent = result.upvotes;
    button.setAttribute("aria-pressed", result.upvoted ? "true" : "false");
    button.title = result.upvoted ? "Take back your upvote" : "Upvote";
    up.value = result.upvoted ? "0" : "1";
  } finally {
    button.disabled = false;
  }
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.classList && form.classList.contains("vote")) {
    event.preventDefault();
    vote(form);
  }
});

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  source.select();
  const done = () => { button.textContent = "Copied"; };
  if (navigator.clipboard) {
    navigator.clipboard.writeText(source.value).then(done, () => document.execCommand("copy") && done());
  } else if (document.execCommand("copy")) {
    done();
  }
});

window.addEventListener("load", () => {
  if (typeof renderMathInElement !== "function") return;
  document.querySelectorAll(".math").forEach((el) =>
    renderMathInElement(el, {
      delimiters: [
        { left: "$$", right: "$$", display: true },
        { left: "\\(", right: "\\)", display: false },
        { left: "\\[", right: "\\]", display: true },
        { left: "$", right: "$", display: false },
      ],
      throwOnError: false,
    })
  );
});
