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
    form.querySelector(".said").textContent = (result.upvotes === 1 ? "upvote" : "upvotes") +
      (result.upvoted ? ", upvoted by you" : "");
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
  const range = document.createRange();  // select it too, so a failed copy leaves it ready
  range.selectNodeContents(source);
  window.getSelection().removeAllRanges();
  window.getSelection().addRange(range);
  const done = () => { button.textContent = "Copied"; };
  if (navigator.clipboard) {
    navigator.clipboard.writeText(source.textContent).then(done, () => document.execCommand("copy") && done());
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
      ignoredClasses: ["tex-dollar"],  // a literal \$ from the LaTeX never opens math
      throwOnError: false,
    })
  );
});
