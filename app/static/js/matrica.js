// Progressive enhancement only; every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // The header: a phone's menu opens and closes behind its button. The language applies as it
  // is chosen from the list (without JavaScript, its Change button sends it). Stepping through
  // the closed list with the keyboard changes the choice without opening it on some systems:
  // that never reloads the page (WCAG 3.2.2); the Change button appears, and it or Enter applies.
  document.addEventListener("DOMContentLoaded", function () {
    var header = document.querySelector(".site-header");
    var button = header && header.querySelector(".menu-button");
    if (button) {
      button.addEventListener("click", function () {
        var open = header.classList.toggle("menu-open");
        button.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }
    if (window.matchMedia && window.matchMedia("(max-width: 48rem)").matches) {
      document.querySelectorAll("details.page-nav-fold").forEach(function (fold) { fold.open = false; });
    }
    var select = document.getElementById("language-select");
    if (select) {
      var stepping = false;
      select.addEventListener("pointerdown", function () { stepping = false; });
      select.addEventListener("keydown", function (event) {
        if (event.key === "Enter") {
          event.preventDefault();
          select.form.submit();
          return;
        }
        stepping = event.key.length === 1 || /^(Arrow|Home|End|Page)/.test(event.key);
      });
      select.addEventListener("change", function () {
        if (stepping) {
          select.form.classList.add("pending");
        } else {
          select.form.submit();
        }
      });
    }
  });

  // After an autosave swaps a question's feedback, mark the question's inputs invalid or valid
  // (aria-invalid) and tie them to the error text, so screen readers hear the current state.
  function sync(feedback) {
    var question = document.getElementById(feedback.getAttribute("data-for"));
    if (!question) { return; }
    var invalid = feedback.getAttribute("data-invalid") === "true";
    var errorId = feedback.getAttribute("data-for") + "-error";
    var hintId = feedback.getAttribute("data-for") + "-hint";
    question.classList.toggle("has-error", invalid);
    question.classList.remove("not-saved");
    question.querySelectorAll("input[name^='a:'], select[name^='a:'], textarea[name^='a:'], fieldset.choices").forEach(function (el) {
      var ids = [];
      if (document.getElementById(hintId)) { ids.push(hintId); }
      if (invalid) { ids.push(errorId); el.setAttribute("aria-invalid", "true"); } else { el.removeAttribute("aria-invalid"); }
      if (el.type === "radio" || el.type === "checkbox") { return; }
      if (el.type === "file" && document.getElementById(feedback.getAttribute("data-for") + "-limits")) {
        ids.push(feedback.getAttribute("data-for") + "-limits");
      }
      if (document.getElementById(feedback.getAttribute("data-for") + "-unit")) {   // an amount's currency
        ids.push(feedback.getAttribute("data-for") + "-unit");
      }
      if (ids.length) { el.setAttribute("aria-describedby", ids.join(" ")); } else { el.removeAttribute("aria-describedby"); }
    });
  }
  document.addEventListener("htmx:load", function (event) {
    var root = event.detail.elt;
    if (root.matches && root.matches(".feedback[data-for]")) { sync(root); showEvidence(root); }
  });

  // The evidence box shows where the answer asks for it (a positive answer), and always once
  // something is written in it.
  function showEvidence(feedback) {
    var box = document.getElementById(feedback.getAttribute("data-for") + "-evidence-box");
    if (!box) { return; }
    var text = box.querySelector("textarea");
    box.hidden = feedback.getAttribute("data-evidence") === "hidden" && !(text && text.value.trim());
  }

  // "Clear the answer" of a radio group: untick it and save, rather than send the whole page.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.clear-choice") : null;
    if (!button || !window.htmx) { return; }
    var radios = button.closest("fieldset").querySelectorAll("input[type=radio]");
    if (!radios.length) { return; }
    event.preventDefault();
    radios.forEach(function (radio) { radio.checked = false; });
    htmx.trigger(radios[0], "change");
  });

  // No silent loss: an autosave that does not land (no connection, the server failing, the
  // session ended, the page's token gone stale) says so on its question, keeps what was typed,
  // and is sent again — when the connection returns, when the page is looked at again, or with
  // the question's "Try again" button. Leaving the page with unsaved answers asks first.
  var form = null;
  var failed = new Map();     // question id → the element whose change was not saved
  var inFlight = 0;
  var tokenRefreshed = false;

  function words(name) { return form ? form.getAttribute("data-" + name) || "" : ""; }

  function questionOf(elt) { return elt && elt.closest ? elt.closest(".question") : null; }

  function showFailure(question, elt, kind) {
    failed.set(question.id, elt);
    question.classList.add("not-saved");
    var feedback = document.getElementById(question.id + "-feedback");
    if (!feedback) { return; }
    feedback.textContent = "";
    var message = document.createElement("p");
    message.className = "not-saved-message";
    message.setAttribute("role", "alert");
    message.appendChild(document.createTextNode(words("not-saved-" + kind) + " "));
    if (kind === "signed-out") {
      var link = document.createElement("a");
      link.href = words("sign-in-url");
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = words("sign-in");
      message.appendChild(link);
      message.appendChild(document.createTextNode(" "));
    }
    var retry = document.createElement("button");
    retry.type = "button";
    retry.className = "retry";
    retry.textContent = words("retry");
    retry.addEventListener("click", function () { send(question.id); });
    message.appendChild(retry);
    feedback.appendChild(message);
  }

  function send(id) {
    var elt = failed.get(id);
    if (!elt || !document.body.contains(elt)) { failed.delete(id); return; }
    failed.delete(id);
    htmx.trigger(elt, "change");
  }

  function retryAll() { Array.from(failed.keys()).forEach(send); }

  function refreshToken(then) {
    fetch(words("token-url"), {credentials: "same-origin", cache: "no-store"})
      .then(function (reply) { return reply.json(); })
      .then(function (data) {
        if (data.token) {
          var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
          headers["X-CSRFToken"] = data.token;
          document.body.setAttribute("hx-headers", JSON.stringify(headers));
        }
        then(Boolean(data.signed_in));
      })
      .catch(function () { then(false); });
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (form && questionOf(event.detail.elt)) { inFlight += 1; }
  });

  function settled(event) {
    var elt = event.detail.elt;
    var question = questionOf(elt);
    if (!form || !question || event.detail.settledByMatrica) { return; }
    event.detail.settledByMatrica = true;
    inFlight = Math.max(0, inFlight - 1);
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status >= 200 && status < 300 || status === 409 || status === 413 || status === 422) {
      failed.delete(question.id);
      tokenRefreshed = false;
      return;
    }
    if (status === 401) { showFailure(question, elt, "signed-out"); return; }
    if (status === 400 && !tokenRefreshed) {   // most likely a stale token: get the current one, send again
      tokenRefreshed = true;
      failed.set(question.id, elt);
      refreshToken(function (signedIn) {
        if (signedIn) { send(question.id); } else { showFailure(question, elt, "signed-out"); }
      });
      return;
    }
    showFailure(question, elt, status === 0 ? "offline" : "error");
  }
  document.addEventListener("htmx:afterRequest", settled);
  document.addEventListener("htmx:sendError", settled);

  window.addEventListener("online", retryAll);
  window.addEventListener("focus", function () {
    if (failed.size) { refreshToken(function (signedIn) { if (signedIn) { retryAll(); } }); }
  });
  window.addEventListener("beforeunload", function (event) {
    if (failed.size || inFlight) { event.preventDefault(); event.returnValue = ""; }
  });
  document.addEventListener("submit", function () { failed.clear(); inFlight = 0; });   // the page itself is being saved

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".evidence[data-asked='false']").forEach(function (box) {
      var text = box.querySelector("textarea");
      box.hidden = !(text && text.value.trim());
    });
    form = document.getElementById("page-form");
    if (form && !form.hasAttribute("data-retry")) { form = null; }   // a read-only page has nothing to save
  });
})();
