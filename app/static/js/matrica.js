// Progressive enhancement only; every page works without this file.
// After an autosave swaps a question's feedback, mark the question's inputs invalid or valid
// (aria-invalid) and tie them to the error text, so screen readers hear the current state.
(function () {
  "use strict";
  function sync(feedback) {
    var question = document.getElementById(feedback.getAttribute("data-for"));
    if (!question) { return; }
    var invalid = feedback.getAttribute("data-invalid") === "true";
    var errorId = feedback.getAttribute("data-for") + "-error";
    var hintId = feedback.getAttribute("data-for") + "-hint";
    question.classList.toggle("has-error", invalid);
    question.querySelectorAll("input[name^='a:'], select[name^='a:'], textarea[name^='a:'], fieldset.choices").forEach(function (el) {
      var ids = [];
      if (document.getElementById(hintId)) { ids.push(hintId); }
      if (invalid) { ids.push(errorId); el.setAttribute("aria-invalid", "true"); } else { el.removeAttribute("aria-invalid"); }
      if (el.type === "radio" || el.type === "checkbox") { return; }
      if (ids.length) { el.setAttribute("aria-describedby", ids.join(" ")); } else { el.removeAttribute("aria-describedby"); }
    });
  }
  document.addEventListener("htmx:load", function (event) {
    var root = event.detail.elt;
    if (root.matches && root.matches(".feedback[data-for]")) { sync(root); }
  });
})();
