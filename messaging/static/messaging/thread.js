// New messages appear without a reload: every 15 seconds the page asks for the messages after
// the last one it shows and appends them (the list is an aria-live region, read out politely).
(function () {
  const list = document.querySelector("ol.messages[data-updates-url]");
  if (!list || !window.fetch) return;
  const lastId = () => {
    const items = list.querySelectorAll("[data-message-id]");
    return items.length ? items[items.length - 1].dataset.messageId : "0";
  };
  async function poll() {
    if (document.hidden) return;
    try {
      const response = await fetch(`${list.dataset.updatesUrl}?after=${lastId()}`, {
        headers: { "X-Requested-With": "fetch" }, credentials: "same-origin",
      });
      if (response.ok) {
        const html = (await response.text()).trim();
        if (html) list.insertAdjacentHTML("beforeend", html);
      }
    } catch (error) {
      // offline for a moment: the next poll tries again
    }
  }
  setInterval(poll, 15000);
})();
