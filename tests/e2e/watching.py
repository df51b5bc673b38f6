"""What the push test and bench/push.py watch in the browser, defined once."""

# When each finished card's picture is drawn (ms since the epoch), by job id.
WATCH_PICTURES = """() => {
  window.__shown = {};
  const look = () => {
    document.querySelectorAll('#job-list .job-card[data-state="succeeded"]').forEach(card => {
      const id = card.dataset.jobId, img = card.querySelector('.thumb img');
      if (!img || window.__shown[id]) return;
      const drawn = () => { window.__shown[id] = window.__shown[id] || Date.now(); };
      if (img.complete && img.naturalWidth) drawn();
      else img.addEventListener('load', drawn, {once: true});
    });
  };
  new MutationObserver(look).observe(document.getElementById('job-list'),
    {subtree: true, childList: true, attributes: true});
}"""
