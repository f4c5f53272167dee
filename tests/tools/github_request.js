// Checks HTTP requests against GitHub's own OpenAPI description (the @octokit/openapi npm
// package's api.github.com, dereferenced).
//
// Usage: node github_request.js NODE_MODULES < requests.jsonl
// Reads one request per line on standard input, {"method", "path", "query", "headers", "body"}
// with the path below the API's root (no /api/v3), and prints one line per problem,
// "<line number>: <problem>": a path or method GitHub does not have, a missing required
// parameter, header or body field, a value of the wrong type, not among its enum, or longer
// or shorter than its schema allows. Exit status 0 when every request is valid.
"use strict";

const fs = require("fs");
const path = require("path");
const readline = require("readline");

const spec = JSON.parse(
  fs.readFileSync(
    path.join(process.argv[2], "@octokit", "openapi", "generated", "api.github.com.deref.json"),
    "utf8",
  ),
);

// Path templates, most literal segments first, so /repos/{owner}/{repo}/commits/{ref} is not
// taken for a template with more placeholders.
const templates = Object.keys(spec.paths)
  .map((template) => {
    const segments = template.split("/").slice(1);
    return { template, segments, literal: segments.filter((part) => !part.startsWith("{")).length };
  })
  .sort((a, b) => b.literal - a.literal);

function match(requestPath) {
  const segments = requestPath.split("/").slice(1);
  for (const candidate of templates) {
    if (candidate.segments.length !== segments.length) continue;
    const parameters = {};
    const matches = candidate.segments.every((part, index) => {
      if (part.startsWith("{") && part.endsWith("}")) {
        if (segments[index] === "") return false;
        parameters[part.slice(1, -1)] = decodeURIComponent(segments[index]);
        return true;
      }
      return part === segments[index];
    });
    if (matches) return { template: candidate.template, parameters };
  }
  return null;
}

function typeOf(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

// Problems of `value` against `schema`, at `where`.
function check(schema, value, where, problems) {
  if (!schema || typeof schema !== "object" || schema.$ref) return;
  if (schema.anyOf || schema.oneOf) {
    const options = schema.anyOf || schema.oneOf;
    const fits = options.some((option) => {
      const found = [];
      check(option, value, where, found);
      return found.length === 0;
    });
    if (!fits) problems.push(`${where}: ${JSON.stringify(value)} fits none of its schemas`);
    return;
  }
  for (const part of schema.allOf || []) check(part, value, where, problems);
  if (value === null && schema.nullable) return;
  if (schema.type) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    const actual = typeOf(value);
    const fits = types.includes(actual) || (actual === "integer" && types.includes("number"));
    if (!fits) {
      problems.push(`${where}: ${actual}, not ${types.join(" or ")}`);
      return;
    }
  }
  if (schema.enum && !schema.enum.includes(value)) {
    problems.push(`${where}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  }
  if (typeof value === "string") {
    if (schema.maxLength !== undefined && [...value].length > schema.maxLength) {
      problems.push(`${where}: longer than ${schema.maxLength} characters`);
    }
    if (schema.minLength !== undefined && [...value].length < schema.minLength) {
      problems.push(`${where}: shorter than ${schema.minLength} characters`);
    }
  }
  if (typeOf(value) === "object") {
    for (const name of schema.required || []) {
      if (!(name in value)) problems.push(`${where}: required field ${name} is missing`);
    }
    const properties = schema.properties || {};
    for (const [name, field] of Object.entries(value)) {
      if (properties[name]) {
        check(properties[name], field, `${where}.${name}`, problems);
      } else if (schema.additionalProperties === false) {
        problems.push(`${where}: field ${name} is not in GitHub's description`);
      }
    }
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, index) => check(schema.items, item, `${where}[${index}]`, problems));
  }
}

function problemsOf(request) {
  const problems = [];
  const found = match(request.path);
  if (!found) return [`${request.method} ${request.path}: no such path in GitHub's API`];
  const operation = spec.paths[found.template][request.method.toLowerCase()];
  if (!operation) return [`${request.method} ${found.template}: no such method in GitHub's API`];
  const name = `${request.method} ${found.template}`;
  const headers = Object.fromEntries(
    Object.entries(request.headers || {}).map(([key, value]) => [key.toLowerCase(), value]),
  );
  for (const parameter of operation.parameters || []) {
    const value =
      parameter.in === "path"
        ? found.parameters[parameter.name]
        : parameter.in === "query"
          ? (request.query || {})[parameter.name]
          : parameter.in === "header"
            ? headers[parameter.name.toLowerCase()]
            : undefined;
    if (value === undefined) {
      if (parameter.required) problems.push(`${name}: required ${parameter.in} parameter ${parameter.name} is missing`);
      continue;
    }
    const schema = parameter.schema || {};
    // Path, query and header values are text: only their enum and lengths are checked.
    const textual = { ...schema, type: undefined };
    if (schema.type === "integer" && !/^-?\d+$/.test(String(value))) {
      problems.push(`${name}: ${parameter.in} parameter ${parameter.name} ${JSON.stringify(value)} is not an integer`);
    } else {
      check(textual, String(value), `${name} ${parameter.in} ${parameter.name}`, problems);
    }
  }
  const body = operation.requestBody;
  if (body) {
    const media = body.content && (body.content["application/json"] || Object.values(body.content)[0]);
    if (request.body === undefined || request.body === null) {
      if (body.required) problems.push(`${name}: the body is missing`);
    } else if (media) {
      check(media.schema, request.body, `${name} body`, problems);
    }
  } else if (request.body !== undefined && request.body !== null) {
    problems.push(`${name}: GitHub takes no body here`);
  }
  return problems;
}

const lines = readline.createInterface({ input: process.stdin });
let number = 0;
let invalid = false;
lines.on("line", (line) => {
  number += 1;
  if (!line.trim()) return;
  let problems;
  try {
    problems = problemsOf(JSON.parse(line));
  } catch (error) {
    problems = [`cannot check: ${error.message}`];
  }
  for (const problem of problems) {
    invalid = true;
    console.log(`${number}: ${problem}`);
  }
});
lines.on("close", () => process.exit(invalid ? 1 : 0));
