// Reads a JSON array of Mermaid diagram texts on stdin; prints a JSON array of
// {ok, diagramType, error} in the same order. Uses mermaid's real parser (no browser).
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
globalThis.DOMParser = dom.window.DOMParser;
globalThis.Element = dom.window.Element;
const mermaid = (await import("mermaid")).default;
mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });

let input = "";
for await (const chunk of process.stdin) input += chunk;
const out = [];
for (const text of JSON.parse(input)) {
  try {
    const r = await mermaid.parse(text);
    out.push({ ok: true, diagramType: r.diagramType, error: null });
  } catch (e) {
    out.push({ ok: false, diagramType: null, error: String((e && e.message) || e) });
  }
}
process.stdout.write(JSON.stringify(out));
