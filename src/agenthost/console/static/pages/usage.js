// Runs and tokens per day and per agent, as stacked bar charts (plain SVG), and the totals.

import { get, query } from "../api.js";
import { h, problemBox, s, show, table } from "../dom.js";

const DAY_MS = 86_400_000;
const WIDTH = 720;
const HEIGHT = 200;
const SERIES = 6; // colours in console.css: .series-0 … .series-5

const isoDay = (date) => date.toISOString().slice(0, 10);

function days(since, until) {
  const out = [];
  for (let t = Date.parse(since); t <= Date.parse(until); t += DAY_MS) out.push(isoDay(new Date(t)));
  return out;
}

/** A stacked bar per day, one colour per agent; each bar's value is in data-value. */
function chart(id, field, lines, dayList, agents) {
  const byDay = new Map(dayList.map((day) => [day, []]));
  for (const line of lines) byDay.get(line.period)?.push(line);
  const peak = Math.max(1, ...[...byDay.values()].map((ls) => ls.reduce((sum, l) => sum + l[field], 0)));
  const slot = WIDTH / dayList.length;
  const bars = [];
  dayList.forEach((day, i) => {
    let top = HEIGHT;
    for (const line of byDay.get(day)) {
      const height = (line[field] / peak) * (HEIGHT - 10);
      top -= height;
      const series = agents.indexOf(line.agent) % SERIES;
      bars.push(
        s(
          "rect",
          { class: `bar series-${series}`, x: i * slot + 1, y: top, width: Math.max(1, slot - 2), height, "data-day": day, "data-agent": line.agent, "data-value": line[field] },
          s("title", {}, `${day} ${line.agent}: ${line[field]} ${field}`),
        ),
      );
    }
  });
  const total = lines.reduce((sum, line) => sum + line[field], 0);
  return s(
    "svg",
    { id, class: "chart", viewBox: `0 0 ${WIDTH} ${HEIGHT + 16}`, role: "img", "aria-label": `${field} per day`, "data-total": total },
    s("line", { class: "axis", x1: 0, y1: HEIGHT, x2: WIDTH, y2: HEIGHT }),
    bars,
    s("text", { class: "label", x: 0, y: HEIGHT + 14 }, dayList[0]),
    s("text", { class: "label end", x: WIDTH, y: HEIGHT + 14 }, dayList[dayList.length - 1]),
    s("text", { class: "label", x: 4, y: 12 }, `peak ${peak}`),
  );
}

function perAgent(lines) {
  const totals = new Map();
  for (const line of lines) {
    const t = totals.get(line.agent) ?? { runs: 0, succeeded: 0, failed: 0, total_tokens: 0 };
    for (const key of Object.keys(t)) t[key] += line[key];
    totals.set(line.agent, t);
  }
  return [...totals.entries()].sort();
}

export async function usagePage(main) {
  const today = new Date();
  const until = h("input", { type: "date", id: "usage-until", value: isoDay(today) });
  const since = h("input", { type: "date", id: "usage-since", value: isoDay(new Date(today.getTime() - 13 * DAY_MS)) });
  const body = h("div", { id: "usage" });

  async function load() {
    const report = await get(`/v1/usage${query({ granularity: "day", since: since.value, until: until.value })}`);
    const agents = [...new Set(report.periods.map((line) => line.agent))].sort();
    const dayList = days(report.since, report.until);
    const legend = agents.map((agent, i) => h("span", { class: `legend series-${i % SERIES}` }, agent));
    const t = report.totals;
    show(
      body,
      h("p", { id: "usage-totals" }, "Total: ", h("strong", { id: "total-runs" }, String(t.runs)), " runs (", String(t.succeeded), " succeeded, ", String(t.failed), " failed), ", h("strong", { id: "total-tokens" }, String(t.total_tokens)), " tokens"),
      h("p", { class: "legend-row" }, legend),
      h("h2", {}, "Runs per day"),
      chart("runs-chart", "runs", report.periods, dayList, agents),
      h("h2", {}, "Tokens per day"),
      chart("tokens-chart", "total_tokens", report.periods, dayList, agents),
      h("h2", {}, "Per agent"),
      table(["Agent", "Runs", "Succeeded", "Failed", "Tokens"], perAgent(report.periods).map(([agent, x]) => [agent, x.runs, x.succeeded, x.failed, x.total_tokens].map(String)), { id: "usage-agents" }),
      h("p", { class: "note" }, `Quota: ${report.quota.runs_counted} of ${report.quota.runs_per_month ?? "unlimited"} runs this month.`),
    );
  }

  const form = h(
    "form",
    {
      class: "filters",
      onsubmit: (event) => {
        event.preventDefault();
        load().catch((error) => show(body, problemBox(error)));
      },
    },
    h("label", {}, "Since ", since),
    h("label", {}, "Until ", until),
    h("button", { type: "submit" }, "Show"),
  );
  show(main, h("h1", {}, "Usage"), form, body);
  await load();
}
