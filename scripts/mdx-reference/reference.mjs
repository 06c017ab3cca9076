// The reference side of the differential harness (scripts/mdx_harness.py): what the MDX
// compiler's own parsers see in each file. Not part of the package: the harness installs
// the npm packages it imports into a folder of its own and runs this script with Node.
//
// Input (stdin): one JSON object per line, {"path": "...", "mdx": true|false, "compile": bool}.
// Output (stdout): one JSON object per line and file, in the same order: the headings, code
// blocks, JSX elements (with their string attributes), links (reference links resolved to
// their definitions, at the place of use), images, and the parse error if any. With
// "compile", the verdict of @mdx-js/mdx's compile (the error's line and column) as well.
//
// MDX files are parsed as @mdx-js/mdx parses them: remark-parse + remark-mdx + remark-gfm +
// remark-frontmatter (YAML and TOML). Markdown files without remark-mdx (CommonMark + GFM +
// frontmatter), as @mdx-js/mdx's `format: "md"` does.

import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { unified } from "unified";
import remarkParse from "remark-parse";
import remarkMdx from "remark-mdx";
import remarkGfm from "remark-gfm";
import remarkFrontmatter from "remark-frontmatter";
import { compile } from "@mdx-js/mdx";

const mdxParser = unified().use(remarkParse).use(remarkFrontmatter, ["yaml", "toml"]).use(remarkGfm).use(remarkMdx);
const mdParser = unified().use(remarkParse).use(remarkFrontmatter, ["yaml", "toml"]).use(remarkGfm);

// Heading text as a reader sees it: text, inline code and the text inside links, emphasis
// and JSX elements; expressions, HTML and images (their alt) are not text.
function plain(node) {
  if (node.type === "text" || node.type === "inlineCode") return node.value;
  if (node.type === "break") return " ";
  if (["mdxTextExpression", "mdxFlowExpression", "html", "image", "imageReference", "mdxjsEsm"].includes(node.type)) return "";
  return (node.children || []).map(plain).join("");
}

// A JSX attribute's value when it is a string: "x", {"x"}, {'x'} or {`x`} (no ${}).
function attributeString(attr) {
  if (typeof attr.value === "string") return attr.value;
  if (!attr.value || attr.value.type !== "mdxJsxAttributeValueExpression") return null;
  const program = attr.value.data && attr.value.data.estree;
  const statement = program && program.body && program.body[0];
  const expression = statement && statement.type === "ExpressionStatement" ? statement.expression : null;
  if (!expression) return null;
  if (expression.type === "Literal" && typeof expression.value === "string") return expression.value;
  if (expression.type === "TemplateLiteral" && expression.expressions.length === 0) return expression.quasis[0].value.cooked;
  return null;
}

function extract(tree) {
  const definitions = new Map();
  const out = { headings: [], code: [], jsx: [], links: [], images: [], definitions: 0 };
  const stack = [tree];
  const visit = [];
  while (stack.length) {
    const node = stack.pop();
    visit.push(node);
    if (node.type === "definition") definitions.set(node.identifier, node.url);
    if (node.children) for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]);
  }
  out.definitions = definitions.size;
  for (const node of visit) {
    const p = node.position;
    if (!p) continue;
    const line = p.start.line;
    const column = p.start.column;
    switch (node.type) {
      case "heading":
        out.headings.push({ line, depth: node.depth, text: plain(node) });
        break;
      case "code":
        out.code.push({ line, end_line: p.end.line, lang: node.lang || "" });
        break;
      case "mdxJsxFlowElement":
      case "mdxJsxTextElement": {
        if (node.name === null) break; // a fragment
        const attributes = [];
        for (const attr of node.attributes || []) {
          if (attr.type !== "mdxJsxAttribute") continue;
          const value = attributeString(attr);
          const ap = attr.position ? attr.position.start : p.start;
          attributes.push({ name: attr.name, value, line: ap.line, column: ap.column });
        }
        out.jsx.push({ line, column, name: node.name, flow: node.type === "mdxJsxFlowElement", attributes });
        break;
      }
      case "link":
        out.links.push({ line, column, url: node.url, kind: "link" });
        break;
      case "linkReference":
        out.links.push({ line, column, url: definitions.get(node.identifier) ?? "", kind: "reference" });
        break;
      case "image":
        out.images.push({ line, column, url: node.url });
        break;
      case "imageReference":
        out.images.push({ line, column, url: definitions.get(node.identifier) ?? "" });
        break;
    }
  }
  return out;
}

function errorPlace(error) {
  // VFileMessage: line/column (1-based) or place.start / place
  const place = error.place && error.place.start ? error.place.start : error.place;
  const line = error.line ?? (place && place.line) ?? null;
  const column = error.column ?? (place && place.column) ?? null;
  const message = String(error.reason || error.message || error).split("\n")[0];
  // "Expected a closing tag for `<X>` (3:1-3:6) before the end of `paragraph`": the error's
  // place is the end of the block (or none at the end of the file), the tag it names is
  // where the author must look; the harness compares that line.
  const match = message.match(/\((\d+):(\d+)-\d+:\d+\)/);
  const named = match && (line === null || message.includes("before the end of")) ? match : null;
  return {
    line: named ? Number(named[1]) : line,
    column: named ? Number(named[2]) : column,
    place: { line, column },
    message,
  };
}

async function handle(request) {
  const result = { path: request.path };
  let text;
  try {
    text = readFileSync(request.path, "utf8");
  } catch (error) {
    result.read_error = String(error);
    return result;
  }
  const parser = request.mdx ? mdxParser : mdParser;
  try {
    Object.assign(result, extract(parser.parse(text)));
    result.ok = true;
  } catch (error) {
    result.ok = false;
    result.error = errorPlace(error);
  }
  if (request.compile) {
    try {
      await compile(text, { format: request.mdx ? "mdx" : "md", remarkPlugins: [[remarkFrontmatter, ["yaml", "toml"]], remarkGfm] });
      result.compiles = true;
    } catch (error) {
      result.compiles = false;
      result.compile_error = errorPlace(error);
    }
  }
  return result;
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  const result = await handle(JSON.parse(line));
  process.stdout.write(JSON.stringify(result) + "\n");
}
