// Events per second per stream over the last minute: counters and a small
// line chart drawn on a canvas, one color per stream (classes c0…c7, whose
// colors the style sheet sets, so that light and dark both work).

const SECONDS = 60;

export class RateChart {
  constructor(canvas, legend, rateOut) {
    this.canvas = canvas;
    this.legend = legend;
    this.rateOut = rateOut;
    this.series = new Map(); // stream → {color, counts: number[SECONDS], now, total, item}
    this.timer = null;
  }

  // reset starts over for these streams (in this order: their colors).
  reset(streams) {
    this.series.clear();
    this.legend.replaceChildren();
    streams.forEach((s, i) => this.add(s, i));
    this.draw();
  }

  add(stream, i) {
    const item = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.className = `swatch c${i % 8}`;
    swatch.setAttribute('aria-hidden', 'true');
    const text = document.createElement('span');
    item.append(swatch, text);
    this.legend.append(item);
    const s = { cls: `c${i % 8}`, counts: new Array(SECONDS).fill(0), now: 0, total: 0, item, text, name: stream };
    this.series.set(stream, s);
    this.label(s);
    return s;
  }

  // colorIndex is the position of stream in the legend (-1: none yet).
  colorIndex(stream) {
    return [...this.series.keys()].indexOf(stream);
  }

  count(stream) {
    const s = this.series.get(stream) || this.add(stream, this.series.size);
    s.now++;
    s.total++;
  }

  label(s) {
    const last = s.counts[SECONDS - 1];
    s.text.textContent = `${s.name.replace(/^mediawiki\./, '')}: ${s.total} (${last}/s)`;
  }

  // start ticks every second: the second's counts move into the chart.
  start() {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), 1000);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
  }

  tick() {
    let rate = 0;
    for (const s of this.series.values()) {
      s.counts.shift();
      s.counts.push(s.now);
      rate += s.now;
      s.now = 0;
      this.label(s);
    }
    this.rateOut.textContent = String(rate);
    this.draw();
  }

  draw() {
    const c = this.canvas;
    const w = c.clientWidth || c.width;
    const h = c.clientHeight || c.height;
    const dpr = window.devicePixelRatio || 1;
    if (c.width !== Math.round(w * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
    }
    const g = c.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    let max = 1;
    for (const s of this.series.values()) max = Math.max(max, ...s.counts);
    const css = getComputedStyle(c);
    g.strokeStyle = css.getPropertyValue('--grid').trim() || '#8884';
    g.fillStyle = css.getPropertyValue('--muted').trim() || '#888';
    g.lineWidth = 1;
    g.font = '11px system-ui, sans-serif';
    g.beginPath();
    g.moveTo(0, h - 0.5);
    g.lineTo(w, h - 0.5);
    g.stroke();
    g.fillText(`${max}/s`, 4, 12);
    g.textAlign = 'right';
    g.fillText('last 60 s', w - 4, 12);
    g.textAlign = 'left';
    g.lineWidth = 2;
    for (const s of this.series.values()) {
      g.strokeStyle = css.getPropertyValue(`--${s.cls}`).trim() || '#36c';
      g.beginPath();
      s.counts.forEach((v, i) => {
        const x = (i / (SECONDS - 1)) * (w - 2) + 1;
        const y = h - 2 - (v / max) * (h - 18);
        i ? g.lineTo(x, y) : g.moveTo(x, y);
      });
      g.stroke();
    }
  }
}
