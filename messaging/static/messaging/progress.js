// An announcement's progress updates as it happens: while deliveries are waiting, the figures
// are fetched again every 5 seconds and replace the old ones (an aria-live region, read out
// politely). When everything has been tried the server stops asking for refreshes.
(function () {
  if (!window.fetch) return;
  async function refresh() {
    const box = document.getElementById("progress");
    if (!box || !box.dataset.refreshUrl) return;
    if (!document.hidden) {
      try {
        const response = await fetch(box.dataset.refreshUrl, {
          headers: { "X-Requested-With": "fetch" }, credentials: "same-origin",
        });
        if (response.ok) box.outerHTML = (await response.text()).trim();
      } catch (error) {
        // offline for a moment: the next refresh tries again
      }
    }
    setTimeout(refresh, 5000);
  }
  setTimeout(refresh, 5000);
})();
