// The reception screen of a hand-off: a scanned or typed code ticks its line at once,
// with a USB scanner (it types the code and Enter) or the phone's camera where the
// browser reads QR codes (BarcodeDetector, on HTTPS). Without JavaScript the scan
// field posts the form, and the page comes back with the line ticked.
document.addEventListener("DOMContentLoaded", () => {
  const field = document.getElementById("scan-code");
  if (!field) return;
  const status = document.getElementById("scan-status");
  const counter = document.getElementById("tick-count");
  const boxes = [...document.querySelectorAll('input[name="received"][data-gid]')];

  const say = (template, code) => { status.textContent = template.replace("{code}", code); };
  const tickAll = document.getElementById("tick-all-button");
  const head = document.getElementById("tick-all");
  const recount = () => {
    const ticked = boxes.filter((box) => box.checked).length;
    counter.textContent = counter.dataset.template.replace("{ticked}", ticked).replace("{total}", boxes.length);
    const all = boxes.length > 0 && ticked === boxes.length;
    if (head) head.checked = all;
    if (tickAll) {  // the phone's « Tick all »: it says what a tap will do
      tickAll.value = all ? "untick_all" : "tick_all";
      tickAll.textContent = all ? tickAll.dataset.untick : tickAll.dataset.tick;
    }
  };
  // What a label's QR code holds is its URL: …/i/<global id>.
  const codeOf = (text) => {
    let code = text.trim();
    const at = code.lastIndexOf("/i/");
    if (at >= 0) code = code.slice(at + 3).split(/[?#]/)[0].replace(/\/+$/, "");
    return code;
  };
  const tick = (text) => {
    const code = codeOf(text);
    if (!code) return;
    const wanted = code.toLowerCase();
    let found = boxes.filter((box) => box.dataset.gid === wanted);
    if (!found.length) found = boxes.filter((box) => box.dataset.serial === wanted || box.dataset.asset === wanted
      || JSON.parse(box.dataset.tags || "[]").includes(wanted));  // a label the item carried, the printed one last
    if (found.length === 1) {
      const box = found[0];
      say(box.checked ? field.dataset.msgAlready : field.dataset.msgTicked, code);
      box.checked = true;
      box.scrollIntoView({ block: "nearest", inline: "nearest" });
      recount();
    } else {
      say(found.length ? field.dataset.msgSeveral : field.dataset.msgUnknown, code);
    }
  };

  field.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    tick(field.value);
    field.value = "";
  });
  document.getElementById("scan-button").addEventListener("click", (event) => {
    event.preventDefault();
    tick(field.value);
    field.value = "";
    field.focus();
  });
  for (const box of boxes) box.addEventListener("change", recount);
  for (const all of document.querySelectorAll("input[data-select-all]")) all.addEventListener("change", recount);
  if (tickAll) {
    tickAll.addEventListener("click", (event) => {
      event.preventDefault();
      const tick = tickAll.value === "tick_all";
      for (const box of boxes) box.checked = tick;
      if (!tick) for (const damaged of document.querySelectorAll('input[name="damaged"]')) damaged.checked = false;
      recount();
    });
  }
  // A damaged item is an item that arrived.
  for (const damaged of document.querySelectorAll('input[name="damaged"]')) {
    damaged.addEventListener("change", () => {
      const box = boxes.find((b) => b.value === damaged.value);
      if (damaged.checked && box && !box.checked) { box.checked = true; recount(); }
    });
  }

  const camera = document.getElementById("scan-camera");
  const video = document.getElementById("scan-video");
  if (!camera || !("BarcodeDetector" in window) || !navigator.mediaDevices?.getUserMedia) return;
  camera.hidden = false;
  const startText = camera.textContent;
  let stream = null;
  let last = { code: "", at: 0 };
  const stop = () => {
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = null;
    video.hidden = true;
    camera.textContent = startText;
  };
  camera.addEventListener("click", async () => {
    if (stream) { stop(); return; }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    } catch (error) {
      status.textContent = error.message;
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    camera.textContent = camera.dataset.stop;
    await video.play();
    const detector = new BarcodeDetector({ formats: ["qr_code"] });
    const look = async () => {
      if (!stream) return;
      try {
        for (const found of await detector.detect(video)) {
          const now = Date.now();
          // The same label stays in view for a while: tick it once.
          if (found.rawValue !== last.code || now - last.at > 3000) tick(found.rawValue);
          last = { code: found.rawValue, at: now };
        }
      } catch (error) { /* a frame not ready yet */ }
      setTimeout(look, 300);
    };
    look();
  });
});
