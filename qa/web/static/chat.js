// The chat without page reloads. The server renders each turn (the same Reply as /ask) into HTML,
// escaping all article text; this script only moves that fragment into the page.
(() => {
  "use strict";
  const form = document.getElementById("ask-form");
  if (!form) return;
  const input = document.getElementById("question");
  const send = document.getElementById("send");
  const conversation = document.getElementById("conversation");
  const intro = document.getElementById("intro");
  const errorBox = document.getElementById("form-error");
  const history = [];
  let nextIndex = 0;

  // The server accepts at most 1000 characters (code points) per history answer and no control
  // characters: an answer quoted from a long or odd article is cut so that follow-ups still work.
  const MAX_TEXT = 1000;
  const clip = (text) =>
    Array.from((text || "").replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, " "))
      .slice(0, MAX_TEXT).join("");
  const remember = (turn) => {
    history.push({ question: clip(turn.dataset.question), answer: clip(turn.dataset.answer) });
  };

  // Turns rendered by the server (the no-JavaScript path) count as history too.
  for (const turn of conversation.querySelectorAll(".turn")) {
    remember(turn);
    nextIndex += 1;
  }
  for (const hidden of form.querySelectorAll('input[name="h"]')) hidden.remove();

  const showError = (message) => {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  };

  const enableCopy = (root) => {
    for (const button of root.querySelectorAll("button.copy")) {
      if (!navigator.clipboard) continue;
      button.hidden = false;
      button.addEventListener("click", async () => {
        try {
          await navigator.clipboard.writeText(button.dataset.copy);
          button.textContent = "Copied";
        } catch {
          button.textContent = "Copy failed";
        }
        setTimeout(() => { button.textContent = "Copy answer"; }, 1500);
      });
    }
  };
  enableCopy(conversation);

  // "Helpful" / "Not helpful" (with an optional comment) under each answer: POST /feedback.
  const enableFeedback = (root) => {
    for (const box of root.querySelectorAll(".feedback")) {
      box.hidden = false;
      const done = box.querySelector(".feedback-done");
      const commentForm = box.querySelector(".feedback-comment");
      const sendVerdict = async (verdict, comment) => {
        const body = { ...JSON.parse(box.dataset.feedback), verdict };
        if (comment) body.comment = comment.slice(0, 1000);
        try {
          const response = await fetch("/feedback", {
            method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
          });
          if (!response.ok) throw new Error(String(response.status));
          for (const button of box.querySelectorAll("button")) button.disabled = true;
          commentForm.hidden = true;
          done.textContent = "Thank you: noted.";
        } catch {
          done.textContent = "Could not send the feedback.";
        }
      };
      box.querySelector('[data-verdict="up"]').addEventListener("click", () => sendVerdict("up"));
      box.querySelector('[data-verdict="down"]').addEventListener("click", () => {
        commentForm.hidden = false;
        commentForm.querySelector("textarea").focus();
      });
      commentForm.addEventListener("submit", (event) => {
        event.preventDefault();
        sendVerdict("down", commentForm.querySelector("textarea").value.trim());
      });
    }
  };
  enableFeedback(conversation);

  async function ask(question) {
    question = question.trim();
    if (!question) return;
    showError("");
    send.disabled = true;
    input.setAttribute("aria-busy", "true");
    const started = performance.now();
    try {
      const response = await fetch(`/chat/turn?index=${nextIndex}`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/html" },
        body: JSON.stringify({ question, history: history.slice(-10) }),
      });
      if (!response.ok) {
        let message = `The server answered ${response.status}.`;
        try { message = (await response.json()).detail || message; } catch { /* not JSON */ }
        showError(message);
        return;
      }
      const template = document.createElement("template");
      template.innerHTML = await response.text();
      const turn = template.content.firstElementChild;
      const timing = turn.querySelector(".timing");
      if (timing) timing.textContent = `answered in ${Math.round(performance.now() - started)} ms`;
      conversation.append(turn);
      enableCopy(turn);
      enableFeedback(turn);
      if (intro) intro.hidden = true;
      remember(turn);
      nextIndex += 1;
      input.value = "";
      const heading = turn.querySelector(".question");
      heading.focus({ preventScroll: true });
      turn.scrollIntoView({ block: "start", behavior: "smooth" });
      const url = new URL(window.location.href);
      url.searchParams.set("q", question);
      url.searchParams.delete("h");
      window.history.replaceState(null, "", url);
    } catch (error) {
      showError("Could not reach the server. Is qa serve still running?");
    } finally {
      send.disabled = false;
      input.removeAttribute("aria-busy");
      input.focus();
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ask(input.value);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ask(input.value);
    }
  });
  for (const example of document.querySelectorAll("a.example")) {
    example.addEventListener("click", (event) => {
      event.preventDefault();
      input.value = example.dataset.question;
      ask(example.dataset.question);
    });
  }
})();
