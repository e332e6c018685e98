// Generates world.tsv (the country shapes used by src/web/map.rs).
//
// How to run (outside the repo; do not commit node_modules or a lockfile):
//   mkdir -p /tmp/x && cp build-world.mjs /tmp/x && cd /tmp/x \
//     && npm install world-atlas topojson-client d3-geo i18n-iso-countries \
//     && node build-world.mjs > world.tsv
//   cp world.tsv <repo>/crates/serve/assets/world.tsv
// Last generated with world-atlas 2.0.2, topojson-client 3.1.0, d3-geo 3.1.2,
// i18n-iso-countries 7.14.0. The output is deterministic for fixed versions.
//
// Source data: world-atlas (Natural Earth, public domain). The 1:110m atlas
// gives every larger country; small countries and territories missing from it
// (Singapore, Hong Kong, Bahrain, Malta, Caribbean and Pacific islands, ...)
// are taken from the 1:50m atlas.
//
// Output format, one line per country, sorted by code:
//   CODE <TAB> English short name <TAB> SVG path d [<TAB> marker x,y]
// preceded by one header line
//   #viewBox <TAB> 0 0 1000 H
// Coordinates: Natural Earth I projection fitted to 1000 units wide
// (Antarctica left out), rounded to 0.1 and written as relative moves. The
// optional 4th column is the centre of the largest polygon, present only for
// countries too small to see; map.rs draws a dot there when they are targeted.
//
// Atlas shapes without an ISO numeric id: Kosovo gets the user-assigned code
// XK (as used by the EU and most CTI feeds); N. Cyprus is merged into CY and
// Somaliland into SO (the ISO 3166 view); Indian Ocean Ter. and Siachen
// Glacier (50m only) are skipped. Antarctica (AQ) is left out. Crimea is
// drawn as part of Ukraine (see moveCrimeaToUkraine).

import { createRequire } from "node:module";
import { feature, merge } from "topojson-client";
import { geoCentroid, geoNaturalEarth1, geoPath } from "d3-geo";
import countries from "i18n-iso-countries";

const require = createRequire(import.meta.url);
const atlas110 = require("world-atlas/countries-110m.json");
const atlas50 = require("world-atlas/countries-50m.json");

const WIDTH = 1000;
const PAD = 2;
const TINY_AREA = 6; // projected square units below which a country gets a marker

// Readable English short names where the ISO-style name is long or formal.
const NAMES = {
  BN: "Brunei",
  BO: "Bolivia",
  CD: "DR Congo",
  CG: "Congo",
  CZ: "Czechia",
  FK: "Falkland Islands",
  FM: "Micronesia",
  IR: "Iran",
  KR: "South Korea",
  KP: "North Korea",
  LA: "Laos",
  MD: "Moldova",
  MF: "Saint Martin",
  MK: "North Macedonia",
  PS: "Palestine",
  RU: "Russia",
  SX: "Sint Maarten",
  SY: "Syria",
  TW: "Taiwan",
  TZ: "Tanzania",
  US: "United States",
  VA: "Vatican City",
  VE: "Venezuela",
  VG: "British Virgin Islands",
  VI: "U.S. Virgin Islands",
  XK: "Kosovo",
};

// Atlas shapes without an ISO id: name -> code to use, or null to skip.
const NO_ID = {
  Kosovo: "XK",
  "N. Cyprus": "CY",
  Somaliland: "SO",
  "Indian Ocean Ter.": null,
  "Siachen Glacier": null,
};

function codeOf(g) {
  if (!g.id) {
    const name = g.properties && g.properties.name;
    if (!(name in NO_ID)) throw new Error(`unmapped shape without id: ${name}`);
    return NO_ID[name];
  }
  const a2 = countries.numericToAlpha2(g.id);
  if (!a2) throw new Error(`no alpha-2 for numeric id ${g.id}`);
  return a2;
}

function nameOf(code) {
  if (NAMES[code]) return NAMES[code];
  const all = countries.getName(code, "en", { select: "all" }) || [];
  const plain = all.find((n) => !n.includes(",") && !n.includes("("));
  const name = plain || all[0];
  if (!name) throw new Error(`no name for ${code}`);
  return name;
}

// Natural Earth draws Crimea as part of Russia; ISO 3166 / the UN count it
// as Ukraine (UA-43), which is what CTI reporting means by "Ukraine". Move the
// Crimea polygon from RU to UA (a guard throws if the atlas changes shape).
function moveCrimeaToUkraine(topology) {
  const geoms = topology.objects.countries.geometries;
  const ru = geoms.find((g) => g.id === "643");
  const isCrimea = (arcs) => {
    const [lon, lat] = geoCentroid(feature(topology, { type: "Polygon", arcs }));
    return lon > 32.4 && lon < 36.7 && lat > 44.3 && lat < 46.3;
  };
  const crimea = ru.arcs.filter(isCrimea);
  if (ru.type !== "MultiPolygon" || crimea.length !== 1) throw new Error("Crimea not found in RU");
  const rest = ru.arcs.filter((a) => !isCrimea(a));
  geoms[geoms.indexOf(ru)] = { ...ru, arcs: rest };
  geoms.push({ type: "Polygon", id: "804", arcs: crimea[0], properties: { name: "Crimea" } });
}
moveCrimeaToUkraine(atlas110);

// code -> { topology, geometries[] }, 110m first, 50m fills the gaps.
const groups = new Map();
function collect(topology, onlyNew) {
  const seenHere = new Set();
  for (const g of topology.objects.countries.geometries) {
    const code = codeOf(g);
    if (code === null || code === "AQ") continue;
    if (onlyNew && groups.has(code) && !seenHere.has(code)) continue;
    seenHere.add(code);
    if (!groups.has(code)) groups.set(code, { topology, geoms: [] });
    groups.get(code).geoms.push(g);
  }
}
collect(atlas110, false);
collect(atlas50, true);

// One GeoJSON feature per code; several shapes are merged (shared borders go).
const features = [];
for (const [code, { topology, geoms }] of groups) {
  const geometry = geoms.length === 1 ? feature(topology, geoms[0]).geometry : merge(topology, geoms);
  features.push({ type: "Feature", id: code, properties: {}, geometry });
}
features.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

const projection = geoNaturalEarth1().fitWidth(WIDTH - 2 * PAD, { type: "FeatureCollection", features });
const [tx, ty] = projection.translate();
projection.translate([tx + PAD, ty + PAD]);
const path = geoPath(projection);
const [[, y0], [, y1]] = path.bounds({ type: "FeatureCollection", features });
const height = Math.ceil(y1 - y0 + 2 * PAD);

// Integer tenths -> shortest decimal text ("15" -> "1.5", "-3" -> "-.3").
function num(t) {
  const neg = t < 0;
  let a = Math.abs(t);
  let s = a % 10 === 0 ? String(a / 10) : (a / 10).toFixed(1);
  if (s.startsWith("0.")) s = s.slice(1);
  return (neg ? "-" : "") + s;
}
function pair(x, y) {
  const sy = num(y);
  return num(x) + (sy.startsWith("-") ? "" : " ") + sy;
}

// Path context collecting rings of rounded points.
function renderD(geometry) {
  const rings = [];
  let ring = null;
  const ctx = {
    moveTo(x, y) {
      ring = [[Math.round(x * 10), Math.round(y * 10)]];
      rings.push(ring);
    },
    lineTo(x, y) {
      const p = [Math.round(x * 10), Math.round(y * 10)];
      const last = ring[ring.length - 1];
      if (p[0] !== last[0] || p[1] !== last[1]) ring.push(p);
    },
    closePath() {
      ring.closed = true;
    },
    arc() {
      throw new Error("unexpected point geometry");
    },
  };
  geoPath(projection, ctx)(geometry);
  let d = "";
  for (const r of rings) {
    if (r.length > 1 && r[r.length - 1][0] === r[0][0] && r[r.length - 1][1] === r[0][1]) r.pop();
    if (r.length < 3) continue; // collapsed at this resolution
    d += "M" + pair(r[0][0], r[0][1]);
    let cmd = "l";
    for (let i = 1; i < r.length; i++) {
      const s = pair(r[i][0] - r[i - 1][0], r[i][1] - r[i - 1][1]);
      d += cmd + (cmd === "" && !s.startsWith("-") ? " " : "") + s;
      cmd = "";
    }
    d += "z";
  }
  return d;
}

function largestPolygon(geometry) {
  if (geometry.type === "Polygon") return geometry;
  let best = null;
  let bestArea = -1;
  for (const coordinates of geometry.coordinates) {
    const poly = { type: "Polygon", coordinates };
    const a = path.area(poly);
    if (a > bestArea) {
      best = poly;
      bestArea = a;
    }
  }
  return best;
}

const out = [`#viewBox\t0 0 ${WIDTH} ${height}`];
for (const f of features) {
  const name = nameOf(f.id);
  let d = renderD(f.geometry);
  let marker = "";
  if (path.area(f.geometry) < TINY_AREA || d === "") {
    const [cx, cy] = path.centroid(largestPolygon(f.geometry));
    const mx = Math.round(cx * 10);
    const my = Math.round(cy * 10);
    marker = `\t${num(mx)},${num(my)}`;
    // Micro-states that vanish at this scale still get a tiny visible shape.
    if (d === "") d = `M${pair(mx - 5, my)}a.5 .5 0 1 1 1 0a.5 .5 0 1 1-1 0z`;
  }
  if (/[\t\n]/.test(name)) throw new Error(`bad name ${name}`);
  out.push(`${f.id}\t${name}\t${d}${marker}`);
}
process.stdout.write(out.join("\n") + "\n");
