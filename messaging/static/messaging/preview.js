// "Preview as each family sees it": while a translation is being made, the preview asks again
// every 2 seconds (at most a minute) by posting its own form once more, and replaces itself with
// the answer (an aria-live region, read out politely). The draft travels in the request body,
// never in an address that could end up in a log.
(function () {
  if (!window.fetch || !window.FormData) return;
  let tries = 0;
  async function refresh() {
    const box = document.getElementById("preview");
    if (!box || !box.dataset.pending || tries++ > 30) return;
    const form = document.querySelector("form[data-preview-form]");
    if (!form) return;
    const data = new FormData(form);
    data.set("action", form.dataset.previewForm);
    try {
      const response = await fetch(form.action || window.location.href, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" },
      });
      if (response.ok) box.outerHTML = (await response.text()).trim();
    } catch (error) {
      // offline for a moment: try again
    }
    setTimeout(refresh, 2000);
  }
  setTimeout(refresh, 2000);
})();
