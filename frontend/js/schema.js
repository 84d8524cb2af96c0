// A JSON Schema (draft 4) checker for what the student schema uses. The form is
// checked against the very schema the API validates with (config.json), so the
// page and the API cannot disagree about what a valid student is.

import { MESSAGES } from "./messages.js";

const patterns = new Map();

function patternOf(source) {
  if (!patterns.has(source)) patterns.set(source, new RegExp(source, "u"));
  return patterns.get(source);
}

export function hasType(value, type) {
  if (Array.isArray(type)) return type.some((one) => hasType(value, one));
  switch (type) {
    case "object":
      return value !== null && typeof value === "object" && !Array.isArray(value);
    case "array":
      return Array.isArray(value);
    case "integer":
      return Number.isInteger(value);
    case "null":
      return value === null;
    default:
      return typeof value === type;
  }
}

// Adds to `problems` (field → {key, params}) the first rule `value` breaks.
export function checkSchema(schema, value, field, problems) {
  const fail = (key, params = {}) => {
    if (!problems.has(field)) problems.set(field, { key, params });
  };
  if (schema.type !== undefined && !hasType(value, schema.type)) return fail("error.type");
  if (typeof value === "string") {
    // JSON Schema counts characters as code points, not UTF-16 units.
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength) {
      return fail("error.minLength", { min: schema.minLength });
    }
    if (schema.maxLength !== undefined && length > schema.maxLength) {
      return fail("error.maxLength", { max: schema.maxLength });
    }
    if (schema.pattern !== undefined && !patternOf(schema.pattern).test(value)) {
      return fail(field && MESSAGES.en[`error.pattern.${field}`] ? `error.pattern.${field}` : "error.pattern");
    }
  }
  if (hasType(value, "object")) {
    const properties = schema.properties ?? {};
    const required = schema.required ?? [];
    for (const name of required) {
      // A form field left empty is a required property not given.
      if (!(name in value) || value[name] === "") problems.set(name, { key: "error.required", params: {} });
    }
    for (const [name, child] of Object.entries(value)) {
      if (problems.has(name)) continue;
      if (Object.hasOwn(properties, name)) {
        checkSchema(properties[name], child, name, problems);
      } else if (schema.additionalProperties === false) {
        problems.set(name, { key: "error.unknownField", params: { field: name } });
      } else if (hasType(schema.additionalProperties, "object")) {
        checkSchema(schema.additionalProperties, child, name, problems);
      }
    }
  }
  return undefined;
}
