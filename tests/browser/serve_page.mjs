// aekit serve's page in a real browser (Debian's chromium, headless, driven
// by playwright-core; neither downloads a browser). Run by
// tests/browser/serve_page.sh with the server's URL and the number of points.
// Checks: the scatter drew every point, hovering a point shows its test image
// and reconstruction, clicking the plane decodes the point (the decoded
// image's pixels change from one click to the next), a stroke drawn on the
// canvas is encoded and its point appears, moving a latent slider changes the
// decoded image's pixels, picking two points shows the 8-image interpolation
// strip, a PNG set on the file input is encoded and its point appears, and
// (when the server has /api/neighbours) a click shows the 8 nearest test
// images. Prints the median time from a mouse move (or click) to the new
// image on screen.
// usage: node serve_page.mjs URL POINTS [SCREENSHOT.png]
import { createRequire } from "module";
const require = createRequire(process.env.AEKIT_NODE_MODULES + "/");
const { chromium } = require("playwright-core");

const [url, wantPoints, screenshot] = process.argv.slice(2);
let passed = 0, failed = 0;
function check(name, ok) {
  if (ok) { passed++; console.log("ok    " + name); } else { failed++; console.log("FAIL  " + name); }
}
// Polls fn(arg) in the page until it is true (page.waitForFunction compiles
// its function with eval, which the page's Content-Security-Policy forbids).
async function until(page, fn, arg, timeout = 10000) {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    if (await page.evaluate(fn, arg)) return true;
    await new Promise(ok => setTimeout(ok, 2));
  }
  return false;
}
const median = a => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };

const browser = await chromium.launch({
  executablePath: process.env.AEKIT_CHROMIUM || "/usr/bin/chromium", headless: true,
  args: process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : [],
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  const errors = [];
  page.on("pageerror", e => errors.push(String(e)));
  // A server without /api/neighbours answers it 404, which chromium logs; the page shows nothing then.
  page.on("console", m => { if (m.type() === "error" && !(m.location().url || "").includes("/api/neighbours"))
                              errors.push(m.text()); });
  await page.goto(url);
  check("the scatter drew " + wantPoints + " points",
        await until(page, n => document.getElementById("plot").dataset.pointsDrawn === n, wantPoints, 15000));
  const box = await page.locator("#plot").boundingBox();
  const legend = await page.locator("#legend span").count();
  check("the legend names 10 classes", legend === 10);

  // points on screen (canvas pixels = CSS pixels: the canvas is not scaled)
  const screen = await page.evaluate(() => pts.x.map((x, i) => toCanvas(x, pts.y[i])));
  const inside = screen.map((p, i) => [p, i]).filter(([p]) => p[0] > 5 && p[1] > 5 && p[0] < 635 && p[1] < 555);

  // hover: the test image and its reconstruction, timed from the move
  const hoverTimes = [];
  for (let k = 0; k < 9 && k < inside.length; k++) {
    const [p, i] = inside[Math.floor(k * inside.length / 9)];
    await page.mouse.move(box.x + 1, box.y + 1);
    const t0 = Date.now();
    await page.mouse.move(box.x + p[0], box.y + p[1]);
    await until(page, index => {
      const img = document.getElementById("hover-image"), rec = document.getElementById("hover-recon");
      return img.src.endsWith("/api/image/" + index) && img.complete && img.naturalWidth > 0 &&
             rec.src.startsWith("data:image/png") && rec.complete && rec.naturalWidth > 0;
    }, i);
    hoverTimes.push(Date.now() - t0);
  }
  const hovered = await page.evaluate(() => document.getElementById("hover-recon").naturalWidth > 0 &&
                                              document.getElementById("hover-image").naturalWidth > 0);
  check("hovering a point shows its image and reconstruction", hovered);

  // click: the decoded image changes, timed from the click
  // The preview's pixels once no decode is in flight and its image has loaded:
  // a click also decodes, so an earlier step may have left a request pending.
  const pixels = async () => {
    await until(page, () => { const img = document.getElementById("decoded");
                              return !decodeBusy && !decodeNext && img.complete && img.naturalWidth > 0; });
    return page.evaluate(() => {
      const img = document.getElementById("decoded"), c = document.createElement("canvas");
      c.width = img.naturalWidth; c.height = img.naturalHeight;
      const g = c.getContext("2d"); g.drawImage(img, 0, 0);
      return Array.from(g.getImageData(0, 0, c.width, c.height).data);
    });
  };
  const clickTimes = [];
  let images = [];
  const spots = [[60, 60], [580, 500], [320, 280], [100, 480], [560, 80], [200, 200], [450, 400]];
  for (const [x, y] of spots) {
    const before = await page.evaluate(() => document.getElementById("decoded").src);
    const t0 = Date.now();
    await page.mouse.click(box.x + x, box.y + y);
    await until(page, b => { const img = document.getElementById("decoded");
                             return img.src !== b && img.complete && img.naturalWidth > 0; }, before);
    clickTimes.push(Date.now() - t0);
    images.push(await pixels());
  }
  const differ = images.length >= 2 && images[0].length > 0 &&
                 images[0].some((v, i) => v !== images[1][i]);
  check("clicking another point of the plane changes the decoded image's pixels", differ);

  // draw a stroke: it is encoded and its point appears on the scatter
  const pad = await page.locator("#draw").boundingBox();
  await page.mouse.move(pad.x + pad.width * 0.5, pad.y + pad.height * 0.2);
  await page.mouse.down();
  for (let k = 1; k <= 8; k++)
    await page.mouse.move(pad.x + pad.width * 0.5, pad.y + pad.height * (0.2 + 0.6 * k / 8));
  await page.mouse.up();
  await until(page, () => document.getElementById("draw").dataset.encoded === "1");
  const drawnPoint = await page.evaluate(() => drawn);
  check("a drawn stroke is encoded and its point appears on the scatter",
        Array.isArray(drawnPoint) && drawnPoint.length === 2 && drawnPoint.every(Number.isFinite) &&
        (await page.evaluate(() => document.getElementById("draw-recon").naturalWidth > 0)));

  // the k nearest test images of the clicked point, if the server has the endpoint
  const hasNeighbours = await page.evaluate(async () => (await fetch("/api/neighbours?p=0,0&k=8")).status !== 404);
  if (hasNeighbours) {
    await page.mouse.click(box.x + 320, box.y + 280);
    check("a click shows the 8 nearest test images with their labels",
          await until(page, () => { const row = document.getElementById("neighbours");
            const imgs = [...row.querySelectorAll("img")];
            return row.dataset.shown === "8" && imgs.length === 8 && imgs.every(i => i.complete && i.naturalWidth > 0) &&
                   [...row.querySelectorAll("figcaption")].every(c => c.textContent !== ""); }));
  } else {
    console.log("skip  /api/neighbours answers 404: no nearest test images to check");
  }

  // a latent slider: moving it decodes the full code and changes the pixels
  const latent = await page.evaluate(() => info.latent);
  if (latent <= 16) {
    check("one slider per latent value (" + latent + ")",
          await page.locator("#sliders input[type=range]").count() === latent);
    const before = await pixels(), beforeSrc = await page.evaluate(() => document.getElementById("decoded").src);
    const askedBefore = await page.evaluate(() => neighboursAsked);
    await page.evaluate(() => {               // move the first slider three quarters along its range
      const s = document.querySelector("#sliders input");
      s.value = String(Number(s.min) + 0.75 * (Number(s.max) - Number(s.min)));
      s.dispatchEvent(new Event("input", { bubbles: true }));
    });
    await until(page, b => { const img = document.getElementById("decoded");
                             return img.src !== b && img.complete && img.naturalWidth > 0 &&
                                    document.getElementById("decoded-caption").textContent.startsWith("z ="); },
                beforeSrc);
    const after = await pixels();
    check("moving a slider changes the decoded image's pixels",
          after.length === before.length && after.some((v, i) => v !== before[i]));
    // the marker moves to the sliders' point, and its nearest test images follow
    const follows = await page.evaluate(() => {
      const p = planeOf(sliders.map(s => Number(s.input.value)));
      return clicked !== null && Math.abs(clicked[0] - p[0]) < 1e-9 && Math.abs(clicked[1] - p[1]) < 1e-9;
    });
    check("the plane's marker follows the sliders", follows);
    if (hasNeighbours)
      check("the nearest test images follow the sliders",
            await until(page, a => neighboursAsked > a && document.getElementById("neighbours").dataset.shown === "8",
                        askedBefore));
  }

  // pick two points: the strip shows 8 decoded images along the line
  await page.click("#pick");
  await page.mouse.click(box.x + 120, box.y + 120);
  await page.mouse.click(box.x + 520, box.y + 440);
  const strip = await until(page, () => { const imgs = [...document.querySelectorAll("#strip img")];
    return imgs.length === 8 && imgs.every(i => i.complete && i.naturalWidth > 0); });
  check("picking two points shows 8 interpolation images and both points on the plane",
        strip && (await page.evaluate(() => pair.length === 2)));

  // a PNG file (test image 3) set on the file input is encoded and its point appears
  const png = Buffer.from(await (await fetch(new URL("/api/image/3", url))).arrayBuffer());
  const encodedBefore = await page.evaluate(() => Number(document.getElementById("draw").dataset.encoded));
  await page.setInputFiles("#file", { name: "three.png", mimeType: "image/png", buffer: png });
  await until(page, n => Number(document.getElementById("draw").dataset.encoded) > n, encodedBefore);
  const filePoint = await page.evaluate(() => drawn);
  check("a PNG file picked on the file input is encoded and its point appears",
        Array.isArray(filePoint) && filePoint.length === 2 && filePoint.every(Number.isFinite) &&
        (filePoint[0] !== drawnPoint[0] || filePoint[1] !== drawnPoint[1]));

  check("no errors in the page", errors.length === 0);
  if (errors.length) console.log("  " + errors.join("\n  "));
  console.log("median mouse move -> hovered image and reconstruction: " + median(hoverTimes) + " ms (" +
              hoverTimes.length + " moves)");
  console.log("median click -> decoded image: " + median(clickTimes) + " ms (" + clickTimes.length + " clicks)");
  if (screenshot) { await page.screenshot({ path: screenshot }); console.log("screenshot: " + screenshot); }
} finally {
  await browser.close();
}
console.log(passed + " passed, " + failed + " failed");
process.exit(failed ? 1 : 0);
